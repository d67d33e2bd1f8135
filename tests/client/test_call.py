"""`ewallet call` run as a subprocess against a real server: one instruction from argv or one
per stdin line, answers printed as JSON lines, exit status 0 / 1 (something failed) / 2 (no
server)."""

from __future__ import annotations

import json
from typing import Any

from tests.client.helpers import ewallet
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

    async def test_an_empty_instruction_is_a_usage_error(self, server: Running) -> None:
        done = await ewallet("call", "--port", str(server.port), "   ")
        assert (done.status, done.out) == (2, "")
        assert "empty" in done.err


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
    async def test_explains_on_stderr_prints_nothing_and_exits_2(self) -> None:
        done = await ewallet("call", "--port", "1", CLIENT_ID)
        assert (done.status, done.out) == (2, "")
        assert done.err.startswith("ewallet call: cannot connect to 127.0.0.1:1")
        assert "Traceback" not in done.err

    async def test_the_same_with_lines_on_stdin(self) -> None:
        done = await ewallet("call", "--port", "1", stdin=CLIENT_ID + "\n")
        assert (done.status, done.out) == (2, "")
        assert "cannot connect" in done.err and "Traceback" not in done.err
