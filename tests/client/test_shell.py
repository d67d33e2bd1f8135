"""`ewallet shell` run as a subprocess with commands piped in: friendly commands, plain-word
errors and never a traceback, passwords read from the next line, exit status 0 / 1 / 3."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

from prompt_toolkit.history import FileHistory

from tests.client.helpers import EWALLET, Finished, ewallet
from tests.money.calls import wire_time
from tests.support import PASSWORD, Running, new_account


async def shell(server: Running, *commands: str) -> Finished:
    done = await ewallet("shell", "--port", str(server.port), stdin="\n".join(commands) + "\n")
    assert "Traceback" not in done.err, done.err
    return done


async def piped_shell(port: int) -> asyncio.subprocess.Process:
    """`ewallet shell` with all three streams piped, for a test that converses with it."""
    return await asyncio.create_subprocess_exec(
        *EWALLET,
        "shell",
        "--port",
        str(port),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


ALICE = (f"register alice@example.com alice {PASSWORD}", f"login alice@example.com {PASSWORD}")
WITH_BOB = (
    f"register alice@example.com alice {PASSWORD}",
    f"register bob@example.com bob {PASSWORD}",
    f"login alice@example.com {PASSWORD}",
)


class TestAccounts:
    async def test_register_login_whoami_logout(self, server: Running) -> None:
        done = await shell(server, *ALICE, "whoami", "logout", "quit")
        assert done.status == 0, done.out
        assert done.lines == [
            "account alice@example.com created; log in with: login alice@example.com",
            "logged in as alice@example.com",
            "alice <alice@example.com> (account 1, LoggedIn)",
            "logged out alice@example.com",
        ]

    async def test_a_password_left_out_is_read_from_the_next_line(self, server: Running) -> None:
        done = await shell(server, "register alice@example.com alice", PASSWORD, "login alice", PASSWORD, "whoami")
        assert done.status == 0, done.out
        assert done.lines[1:] == ["logged in as alice@example.com", "alice <alice@example.com> (account 1, LoggedIn)"]

    async def test_a_missing_password_line_is_an_error(self, server: Running) -> None:
        done = await ewallet("shell", "--port", str(server.port), stdin="register alice@example.com alice\n")
        assert (done.status, done.out) == (1, "")
        assert done.err.splitlines() == ["error: a password was expected on the next line"]

    async def test_a_wrong_password_is_an_error_in_plain_words(self, server: Running) -> None:
        done = await shell(server, f"register alice@example.com alice {PASSWORD}", "login alice Wrong!2345word")
        assert done.status == 1
        assert done.err.splitlines()[-1].startswith("error (invalid_credentials): ")

    async def test_logout_names_the_account_that_becomes_active(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, f"login bob {PASSWORD}", "logout", "whoami")
        assert done.status == 0, done.out
        assert done.lines[-2:] == [
            "logged out bob@example.com; active: alice@example.com",
            "alice <alice@example.com> (account 1, LoggedIn)",
        ]


class TestMoney:
    async def test_supply_balance_pay_transfer_and_convert(self, server: Running) -> None:
        done = await shell(
            server,
            *WITH_BOB,
            "supply 100",
            "balance",
            "pay bob@example.com 10",
            "transfer bob@example.com 5",
            "convert credits 20",
            "convert minutes 5",
            "balance",
        )
        assert done.status == 0, done.out
        assert done.lines[3:] == [
            "supplied 100; balance 100 credits",
            "100 credits; clock: 0.00 minutes (inactive)",
            "paid 10 to bob@example.com; balance 90 credits",
            "transferred 5 to bob@example.com; balance 85 credits",
            "ewallet 65 credits; clock 20.00 minutes",
            "ewallet 70 credits; clock 15.00 minutes",
            "70 credits; clock: 15.00 minutes (inactive)",
        ]

    async def test_a_refused_command_shows_the_error_and_the_script_goes_on(self, server: Running) -> None:
        done = await shell(server, *ALICE, "supply 5", "transfer nobody@example.com 1", "convert credits 10", "balance")
        assert done.status == 1
        errors = done.err.splitlines()
        assert errors[0].startswith("error (not_found): ")
        assert errors[1].startswith("error (insufficient_credits): ")
        assert done.lines[3] == "5 credits; clock: 0.00 minutes (inactive)"

    async def test_bad_arguments_are_explained(self, server: Running) -> None:
        done = await shell(server, *ALICE, "supply lots", "pay bob@example.com", "convert hours 3", 'pay "bob 1')
        assert done.status == 1
        assert done.lines[2:] == []
        assert done.err.splitlines() == [
            "error: not a number: lots",
            "error: usage: pay NAME|EMAIL CREDITS",
            "error: usage: convert credits N | convert minutes M",
            "error: No closing quotation",
        ]


class TestTimer:
    async def test_start_status_pause_resume_stop(self, server: Running) -> None:
        done = await shell(
            server,
            *ALICE,
            "supply 30",
            "convert credits 30",
            "timer start",
            "timer status",
            "timer pause",
            "timer resume",
            "timer stop",
            "timer status",
        )
        assert done.status == 0, done.out
        runs_out = wire_time(server.clock.now() + timedelta(minutes=30))
        assert done.lines[4:] == [
            "timer started on clock 1",
            f"clock 1: active, 30.00 minutes left (0.00 active, 0.00 paused); runs out at {runs_out}",
            "timer paused on clock 1",
            "timer resumed on clock 1",
            "stopped: 0.00 minutes billed, 0.00 paused",
            "clock 1: inactive, 30.00 minutes left",
        ]

    async def test_status_prints_the_live_clock_once_through_a_pipe(self, server: Running) -> None:
        done = await shell(server, *ALICE, "supply 30", "convert credits 30", "timer start")
        assert done.status == 0, done.err
        started = server.clock.now()
        server.clock.advance(90)
        done = await shell(server, f"login alice {PASSWORD}", "timer status", "timer pause")
        server.clock.advance(30)
        later = await shell(server, f"login alice {PASSWORD}", "timer status", "timer stop", "timer status")
        assert (done.status, later.status) == (0, 0), done.err + later.err
        runs_out = wire_time(started + timedelta(minutes=30))
        assert done.lines[1] == (
            f"clock 1: active, 28.50 minutes left (1.50 active, 0.00 paused); runs out at {runs_out}"
        )
        assert later.lines[1:] == [
            "clock 1: pending, 28.50 minutes left (1.50 active, 0.50 paused)",
            "stopped: 1.50 minutes billed, 0.50 paused",
            "clock 1: inactive, 28.50 minutes left",
        ]
        assert "\r" not in done.out + later.out and "any key" not in done.out + later.out

    async def test_a_timer_in_the_wrong_state_is_refused(self, server: Running) -> None:
        done = await shell(server, *ALICE, "timer stop", "timer start", "timer fly")
        assert done.status == 1
        errors = done.err.splitlines()
        assert errors[0].startswith("error (timer_state): ")
        assert errors[1].startswith("error (insufficient_clock): ")
        assert errors[2] == "error: usage: timer start|pause|resume|stop|status"


class TestListings:
    async def test_history_is_an_aligned_table(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, "supply 100", "transfer bob@example.com 5", "history")
        assert done.status == 0, done.out
        header, rule, *rows = done.lines[5:]
        assert header.split() == ["id", "date", "type", "from", "to", "credits"]
        assert set(rule.replace(" ", "")) == {"-"}
        starts = [header.index(name) for name in ("type", "from", "to ", "credits")]
        assert [rule[i - 2 : i] for i in starts] == ["  "] * 4  # each column starts after a gap
        assert [row.split()[3:] for row in rows] == [
            ["incoming", "ewallet-system", "alice@example.com", "100"],
            ["transfer", "alice@example.com", "bob@example.com", "5"],
        ]
        for row in rows:
            for start, word in zip(starts, row[starts[0] :].split(), strict=True):
                assert row[start:].startswith(word)

    async def test_history_pages_with_n_and_more(self, server: Running) -> None:
        done = await shell(
            server, *WITH_BOB, "supply 100", "pay bob 10", "transfer bob 5", "history 1", "history --more",
            "history --more", "history --more",
        )  # fmt: skip
        assert done.status == 1, done.err
        rows = [line.split()[3:] for line in done.lines]
        assert rows[8] == ["transfer", "alice@example.com", "bob@example.com", "5"]
        assert done.lines[9] == "older records: history --more"
        assert rows[12] == ["payment", "alice@example.com", "bob@example.com", "10"]
        assert rows[16] == ["incoming", "ewallet-system", "alice@example.com", "100"]
        assert done.lines[17:] == []
        assert done.err.splitlines()[-1] == "error: no older records to show: run history first"

    async def test_history_of_other_kinds_and_filters(self, server: Running) -> None:
        done = await shell(
            server, *WITH_BOB, "supply 100", "pay bob 10", "transfer bob 5", "convert credits 20",
            "history transfer --partner bob --type payment", "history transfer --min 6 --max 100",
            "history conversion", "history invoice 1", "history time --type payment",
            "history transfer --since 01-01-3000",
        )  # fmt: skip
        assert done.status == 1, done.err
        out = done.out
        assert [line.split()[3:] for line in out.splitlines() if "payment" in line] == [
            ["payment", "alice@example.com", "bob@example.com", "10"],
            ["payment", "alice@example.com", "bob@example.com", "10"],
        ]
        assert any(line.split()[3:] == ["credits2clock", "20.00", "20"] for line in out.splitlines())
        assert "older records: history --more" in out
        assert out.splitlines()[-1] == "no transfer records"
        assert "error: --type lists transfers only" in done.err

    async def test_invoices_and_contacts(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, "supply 40", "pay bob@example.com 10", "invoices", "contacts")
        assert done.status == 0, done.out
        assert done.lines[5].split() == ["id", "date", "seller", "credits", "cost", "notes"]
        assert [line.split()[3:] for line in done.lines[7:9]] == [
            ["ewallet-system", "40", "0.00", "RON"],
            ["bob", "10", "0.00", "RON"],
        ]
        assert done.lines[9] == "no contacts"

    async def test_empty_listings_say_so(self, server: Running) -> None:
        done = await shell(server, *ALICE, "history", "invoices")
        assert done.lines[2:] == ["no transfer records", "no invoices"]


class TestRawAndHelp:
    async def test_raw_sends_json_with_the_sessions_ids(self, server: Running) -> None:
        raw = json.dumps({"controller": "client", "ctype": "action", "action": "view", "view": "account", "id": 3})
        done = await shell(server, *ALICE, f"raw {raw}")
        assert done.status == 0, done.out
        answer = json.loads(done.lines[-1])
        assert answer["failed"] is False and answer["id"] == 3 and answer["account"] == "alice@example.com"

    async def test_raw_request_routes_go_without_the_session(self, server: Running) -> None:
        raw = json.dumps({"controller": "client", "ctype": "action", "action": "request", "request": "client_id"})
        done = await shell(server, f"raw {raw}")
        assert done.status == 0, done.out
        assert json.loads(done.out)["client_id"].startswith("ewsm-uid:")

    async def test_a_failed_raw_answer_is_printed_and_counts_as_failure(self, server: Running) -> None:
        done = await shell(server, 'raw {"controller": "client", "ctype": "action", "action": "explode"}', "raw [1]")
        assert done.status == 1
        assert json.loads(done.lines[0])["code"] == "unknown_action"  # the answer itself is output
        assert done.err.splitlines() == ["error: raw takes one JSON object"]

    async def test_help_lists_the_commands(self, server: Running) -> None:
        done = await shell(server, "help", "help transfer")
        assert done.status == 0
        for command in (
            "register",
            "login",
            "logout",
            "whoami",
            "balance",
            "supply",
            "pay",
            "transfer",
            "convert",
            "timer",
            "history",
            "invoices",
            "contacts",
            "raw",
            "quit",
        ):
            assert command in done.out
        assert "Undocumented" not in done.out and "EOF" not in done.out
        assert done.lines[-3:-1] == ["usage: transfer NAME|EMAIL CREDITS", "  transfer credits to another account"]

    async def test_an_unknown_command_is_named(self, server: Running) -> None:
        done = await shell(server, "dance now")
        assert (done.status, done.out, done.err) == (1, "", "unknown command: dance (try help)\n")

    async def test_quit_ends_the_script(self, server: Running) -> None:
        done = await shell(server, "quit", "dance")
        assert (done.status, done.out) == (0, "")


class TestExitStatus:
    async def test_zero_when_every_command_succeeded(self, server: Running) -> None:
        assert (await shell(server, *ALICE, "balance")).status == 0

    async def test_one_when_a_command_failed(self, server: Running) -> None:
        done = await shell(server, "balance")
        assert done.status == 1
        assert done.out == "" and done.err.startswith("error (not_logged_in): ")

    async def test_three_with_a_message_when_the_server_is_down(self) -> None:
        done = await ewallet("shell", "--port", "1", stdin="balance\n")
        assert (done.status, done.out) == (3, "")
        assert done.err.startswith("ewallet shell: cannot connect to 127.0.0.1:1")
        assert "Traceback" not in done.err

    async def test_three_when_the_server_goes_away_midway(self, sqlite_url: str) -> None:
        from tests.support import running_server

        async with running_server(sqlite_url) as running:
            process = await piped_shell(running.port)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(b"help quit\n")
            await asyncio.wait_for(process.stdout.readline(), 30)
        out, err = await asyncio.wait_for(process.communicate(b"balance\n"), 30)
        assert out == b"  leave the shell (so does Ctrl-D)\n"  # the rest of help's answer
        assert process.returncode == 3
        assert b"ewallet shell: " in err and b"Traceback" not in err


class TestConversation:
    async def test_each_answer_is_written_before_the_next_command_arrives(self, server: Running) -> None:
        process = await piped_shell(server.port)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"register alice@example.com alice {PASSWORD}\n".encode())
        first = await asyncio.wait_for(process.stdout.readline(), 30)
        assert first.startswith(b"account alice@example.com created")
        process.stdin.write(b"balance\n")
        assert process.stderr is not None
        second = await asyncio.wait_for(process.stderr.readline(), 30)
        assert second.startswith(b"error (not_logged_in): ")
        await asyncio.wait_for(process.communicate(b"quit\n"), 30)
        assert process.returncode == 1


def read_all(fd: int) -> bytes:
    """Everything a pseudo-terminal's other side writes, until it is closed."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the last holder of the other side closed it
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


class TestOnATerminal:
    async def test_passwords_never_reach_the_history_file(self, server: Running, tmp_path: Path) -> None:
        session = await server.session()
        await new_account(session, name="alice")
        await session.close()
        history = tmp_path / "history"
        secret_raw = json.dumps(
            {"controller": "client", "ctype": "action", "action": "login", "user_name": "alice", "user_pass": PASSWORD}
        )
        main, terminal = os.openpty()
        process = await asyncio.create_subprocess_exec(
            *EWALLET,
            "shell",
            "--port",
            str(server.port),
            "--history",
            str(history),
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
        )
        os.close(terminal)
        reading = asyncio.create_task(asyncio.to_thread(read_all, main))
        for command in (f"login alice {PASSWORD}", f"raw {secret_raw}", "whoami", "quit"):
            os.write(main, command.encode() + b"\n")
        await asyncio.wait_for(process.wait(), 30)
        shown = (await asyncio.wait_for(reading, 30)).decode()
        os.close(main)
        assert process.returncode == 0, shown
        assert "ewallet [alice@example.com | 0 credits]> " in shown  # the prompt names account and balance
        kept = list(reversed(list(FileHistory(str(history)).load_history_strings())))
        assert kept == ["login alice ********", "whoami", "quit"]


class TestExpiredSession:
    async def test_a_new_session_is_opened_and_the_user_told_to_log_in_again(self, sqlite_url: str) -> None:
        from tests.support import running_server

        async with running_server(sqlite_url, session_lifetime=60) as running:
            process = await piped_shell(running.port)
            assert process.stdin is not None and process.stdout is not None and process.stderr is not None
            for line in ALICE:
                process.stdin.write(line.encode() + b"\n")
                await asyncio.wait_for(process.stdout.readline(), 30)
            running.clock.advance(120)  # the session has expired
            process.stdin.write(b"whoami\n")
            told = await asyncio.wait_for(process.stderr.readline(), 30)
            assert told.decode().startswith("the server no longer knows this shell's session")
            assert told.rstrip().endswith(b"log in again")
            refused = await asyncio.wait_for(process.stderr.readline(), 30)
            assert refused.startswith(b"error (not_logged_in): ")  # the new session, not unauthorized
            out, err = await asyncio.wait_for(
                process.communicate(f"login alice {PASSWORD}\nwhoami\nsupply 3\n".encode()), 30
            )
            assert out.decode().splitlines() == [
                "logged in as alice@example.com",
                "alice <alice@example.com> (account 1, LoggedIn)",
                "supplied 3; balance 3 credits",
            ]
            assert err == b""
            assert process.returncode == 1  # whoami failed

    async def test_a_register_on_an_expired_session_goes_through(self, sqlite_url: str) -> None:
        from tests.support import running_server

        async with running_server(sqlite_url, session_lifetime=60) as running:
            process = await piped_shell(running.port)
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(b"help quit\n")
            await asyncio.wait_for(process.stdout.readline(), 30)
            running.clock.advance(120)
            out, err = await asyncio.wait_for(process.communicate(ALICE[0].encode() + b"\n"), 30)
        assert (
            out.decode().splitlines()[-1] == "account alice@example.com created; log in with: login alice@example.com"
        )
        assert err.decode().count("log in again") == 1
        assert process.returncode == 0
