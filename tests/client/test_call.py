"""`ewallet call` run as a subprocess against a real server: one instruction from argv or one
per stdin line, answers printed as JSON lines, exit status 0 / 1 (something failed) / 2 (usage)
/ 3 (no server) / 141 (stdout closed); `--follow` printing events until Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ewallet.client import AsyncClient
from ewallet.client.address import AddressError, server_address
from tests.client.helpers import EWALLET, closed_port, ewallet
from tests.support import PASSWORD, Running


def instruction(**fields: Any) -> str:
    return json.dumps({"controller": "client", "ctype": "action", **fields})


CLIENT_ID = instruction(action="request", request="client_id")


class TestOneInstructionInArgv:
    async def test_prints_the_answer_as_one_json_line(self, server: Running) -> None:
        done = await ewallet(
            "call", "--port", str(server.port), instruction(action="request", request="client_id", id=9)
        )
        assert done.status == 0, done.err
        (line,) = done.lines
        answer = json.loads(line)
        assert answer["failed"] is False and answer["id"] == 9
        assert answer["client_id"].startswith("ewsm-uid:")
        assert done.err == ""

    async def test_pretty_indents_the_answer(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), "--pretty", CLIENT_ID)
        assert done.status == 0
        assert done.out.startswith('{\n  "failed": false,\n  "client_id": "ewsm-uid:')
        assert json.loads(done.out)["failed"] is False

    async def test_json_pasted_over_several_lines_is_still_one_instruction(self, server: Running) -> None:
        pretty = json.dumps(json.loads(CLIENT_ID), indent=2)
        done = await ewallet("call", "--port", str(server.port), pretty)
        assert done.status == 0, done.out
        assert len(done.lines) == 1 and json.loads(done.out)["failed"] is False

    async def test_a_failed_instruction_is_printed_and_exits_1(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), instruction(action="view", view="account"))
        assert done.status == 1
        answer = json.loads(done.out)
        assert answer["failed"] is True and answer["code"] == "unauthorized"
        assert done.err == ""

    async def test_invalid_json_gets_the_servers_answer_and_exits_1(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), "{not json")
        assert done.status == 1
        assert json.loads(done.out)["code"] == "invalid_json"

    @pytest.mark.parametrize("empty", ["", "   "])
    async def test_an_empty_instruction_is_a_usage_error_not_an_unreachable_server(
        self, server: Running, empty: str
    ) -> None:
        done = await ewallet("call", "--port", str(server.port), empty)
        assert (done.status, done.out) == (2, "")
        assert done.err.splitlines() == [
            "ewallet call: the instruction is empty: give one JSON instruction set, or none to read them from stdin"
        ]


class TestLinesOnStdin:
    async def test_answers_each_line_in_order_on_one_connection(self, server: Running) -> None:
        lines = [instruction(action="request", request="client_id", id=n) for n in range(3)]
        done = await ewallet("call", "--port", str(server.port), stdin="\n".join(lines) + "\n")
        assert done.status == 0, done.err
        assert [json.loads(line)["id"] for line in done.lines] == [0, 1, 2]

    async def test_blank_lines_are_skipped_and_crlf_accepted(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), stdin=f"\n{CLIENT_ID}\r\n   \n{CLIENT_ID}")
        assert done.status == 0
        assert len(done.lines) == 2

    async def test_secrets_travel_on_stdin(self, server: Running) -> None:
        session = await server.session()
        ids = {"client_id": session.client_id, "session_token": session.session_token}
        stdin = "\n".join(
            [
                instruction(
                    action="new",
                    new="account",
                    user_name="alice",
                    user_pass=PASSWORD,
                    user_email="alice@example.com",
                    **ids,
                ),
                instruction(action="login", user_email="alice@example.com", user_pass=PASSWORD, **ids),
                instruction(action="supply", supply="credits", credits=50, **ids),
                instruction(action="view", view="credit", credit="ewallet", **ids),
            ]
        )
        done = await ewallet("call", "--port", str(server.port), stdin=stdin)
        assert done.status == 0, done.out
        answers = [json.loads(line) for line in done.lines]
        assert [a["failed"] for a in answers] == [False] * 4
        assert answers[-1]["ewallet_data"]["credits"] == 50
        await session.close()

    async def test_one_failed_line_makes_the_status_1_but_all_are_answered(self, server: Running) -> None:
        stdin = "\n".join([CLIENT_ID, "not json", instruction(action="explode"), CLIENT_ID])
        done = await ewallet("call", "--port", str(server.port), stdin=stdin)
        assert done.status == 1
        answers = [json.loads(line) for line in done.lines]
        assert [a.get("code") for a in answers] == [None, "invalid_json", "unknown_action", None]

    async def test_a_line_that_is_not_utf8_reaches_the_server(self, server: Running) -> None:
        # Even where Python would decode stdin strictly, the line is passed on as bytes.
        done = await ewallet(
            "call", "--port", str(server.port), stdin=b'{"a": "\xff"}\n', env={"PYTHONIOENCODING": "utf-8:strict"}
        )
        assert done.status == 1
        assert json.loads(done.out)["code"] == "invalid_json"
        assert "Traceback" not in done.err

    async def test_pretty_prints_each_answer_indented(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), "--pretty", stdin=f"{CLIENT_ID}\n{CLIENT_ID}\n")
        assert done.status == 0
        assert done.out.count('\n  "failed": false') == 2


class TestServerDown:
    async def test_explains_on_stderr_prints_nothing_and_exits_3(self) -> None:
        done = await ewallet("call", "--port", "1", CLIENT_ID)
        assert (done.status, done.out) == (3, "")
        assert done.err.startswith("ewallet call: cannot connect to 127.0.0.1:1")
        assert len(done.err.splitlines()) == 1

    async def test_the_same_with_lines_on_stdin(self) -> None:
        done = await ewallet("call", "--port", "1", stdin=CLIENT_ID + "\n")
        assert (done.status, done.out) == (3, "")
        assert "cannot connect" in done.err and "Traceback" not in done.err


class TestServerAddress:
    """--host/--port, else EWALLET_HOST/EWALLET_PORT (as `ewallet serve` reads them), else
    127.0.0.1:8080."""

    async def test_the_servers_variables_are_honoured(self, server: Running) -> None:
        done = await ewallet("call", CLIENT_ID, env={"EWALLET_HOST": "127.0.0.1", "EWALLET_PORT": str(server.port)})
        assert done.status == 0, done.err
        assert json.loads(done.out)["failed"] is False

    async def test_ewallet_host_is_where_it_connects(self, server: Running) -> None:
        # 127.0.0.2 is loopback too, but the server listens on 127.0.0.1 only.
        done = await ewallet("call", CLIENT_ID, env={"EWALLET_HOST": "127.0.0.2", "EWALLET_PORT": str(server.port)})
        assert done.status == 3
        assert done.err.startswith(f"ewallet call: cannot connect to 127.0.0.2:{server.port}")

    async def test_flags_win_over_the_variables(self, server: Running) -> None:
        env = {"EWALLET_HOST": "no-such-host.invalid", "EWALLET_PORT": str(closed_port())}
        done = await ewallet("call", "--host", "127.0.0.1", "--port", str(server.port), CLIENT_ID, env=env)
        assert done.status == 0, done.err

    @pytest.mark.parametrize(("args", "env"), [(["--port", "http"], {}), ([], {"EWALLET_PORT": "99999"})])
    async def test_a_bad_port_is_a_usage_error_in_one_line(self, args: list[str], env: dict[str, str]) -> None:
        done = await ewallet("call", *args, CLIENT_ID, env=env)
        assert (done.status, done.out) == (2, "")
        assert len(done.err.splitlines()) == 1 and "port" in done.err

    def test_resolution_order(self) -> None:
        env = {"EWALLET_HOST": "10.0.0.5", "EWALLET_PORT": "9000"}
        assert server_address(environ={}) == ("127.0.0.1", 8080)
        assert server_address(environ={"EWALLET_HOST": "", "EWALLET_PORT": ""}) == ("127.0.0.1", 8080)
        assert server_address(environ=env) == ("10.0.0.5", 9000)
        assert server_address("db.local", None, environ=env) == ("db.local", 9000)
        assert server_address(None, "9001", environ=env) == ("10.0.0.5", 9001)
        with pytest.raises(AddressError, match="EWALLET_PORT"):
            server_address(environ={"EWALLET_PORT": "0"})


class TestClosedStdout:
    async def test_a_reader_that_leaves_ends_it_quietly_with_status_141(self, server: Running, tmp_path: Path) -> None:
        """`ewallet call --pretty < many | head -1`: no BrokenPipeError traceback."""
        requests = tmp_path / "requests.jsonl"
        requests.write_text((CLIENT_ID + "\n") * 2000)
        read_end, write_end = os.pipe()
        with requests.open("rb") as stdin:
            process = await asyncio.create_subprocess_exec(
                *EWALLET,
                "call",
                "--pretty",
                "--port",
                str(server.port),
                stdin=stdin,
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
            )
        os.close(write_end)
        first = await asyncio.to_thread(os.read, read_end, 1)
        os.close(read_end)  # like head: one line read, then gone
        assert first == b"{"
        assert process.stderr is not None
        err = await asyncio.wait_for(process.stderr.read(), 60)
        assert await process.wait() == 141
        assert err == b""


class TestShellServerAddress:
    """`ewallet shell` finds the server the same way as `ewallet call`."""

    async def test_the_servers_variables_are_honoured(self, server: Running) -> None:
        done = await ewallet("shell", stdin="help quit\n", env={"EWALLET_PORT": str(server.port)})
        assert done.status == 0, done.err
        assert "leave the shell" in done.out

    async def test_unreachable_is_status_3_and_one_line(self) -> None:
        done = await ewallet("shell", stdin="help quit\n", env={"EWALLET_PORT": str(closed_port())})
        assert done.status == 3
        assert len(done.err.splitlines()) == 1 and done.err.startswith("ewallet shell: ")


class TestFollow:
    """`--follow`: after the answers, every event the connection carries, one JSON line each."""

    @staticmethod
    async def subscriber(server: Running) -> tuple[AsyncClient, AsyncClient]:
        """alice (logged in; her ids go to ewallet call) and bob, who pays her."""
        alice, bob = AsyncClient("127.0.0.1", server.port), AsyncClient("127.0.0.1", server.port)
        for client, name in ((alice, "alice"), (bob, "bob")):
            await client.open_session()
            await client.create_account(name, PASSWORD, f"{name}@example.com")
            await client.login(name, PASSWORD)
        await bob.supply_credits(50)
        return alice, bob

    @staticmethod
    async def follow(server: Running, *lines: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *EWALLET,
            "call",
            "--follow",
            "--port",
            str(server.port),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write("".join(line + "\n" for line in lines).encode())
        await process.stdin.drain()
        process.stdin.close()
        return process

    @staticmethod
    async def line(process: asyncio.subprocess.Process) -> dict[str, Any]:
        assert process.stdout is not None
        parsed: dict[str, Any] = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        return parsed

    async def test_prints_each_event_as_a_json_line_until_ctrl_c(self, server: Running) -> None:
        alice, bob = await self.subscriber(server)
        ids = {"client_id": alice.client_id, "session_token": alice.session_token}
        process = await self.follow(server, instruction(action="subscribe", subscribe="events", after=0, **ids))
        answer = await self.line(process)
        assert answer["failed"] is False and answer["subscribed"] == "events"
        assert (await self.line(process))["event"] == "login"  # stored: after=0
        await bob.transfer("alice@example.com", 7)
        event = await self.line(process)
        assert "failed" not in event
        assert event["event"] == "credits_received" and event["data"]["record"]["credits"] == 7
        await bob.transfer("alice@example.com", 2)
        assert (await self.line(process))["data"]["ewallet_credits"] == 9
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert process.stderr is not None
        assert await process.stderr.read() == b""  # no traceback
        await alice.close()
        await bob.close()

    async def test_the_server_closing_ends_it_with_status_3(self, server: Running) -> None:
        alice, bob = await self.subscriber(server)
        ids = {"client_id": alice.client_id, "session_token": alice.session_token}
        process = await self.follow(server, instruction(action="subscribe", subscribe="events", **ids))
        assert (await self.line(process))["subscribed"] == "events"
        for connection in list(server.app.server.connections):
            assert connection.transport is not None
            connection.transport.abort()
        assert await asyncio.wait_for(process.wait(), 30) == 3
        assert process.stderr is not None
        assert b"closed the connection" in await process.stderr.read()
        await alice.close()
        await bob.close()

    async def test_a_failed_instruction_does_not_follow(self, server: Running) -> None:
        process = await self.follow(server, instruction(action="subscribe", subscribe="events"))
        assert (await self.line(process))["code"] == "unauthorized"
        assert await asyncio.wait_for(process.wait(), 30) == 1
