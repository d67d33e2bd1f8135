"""`ewallet shell` on a pseudo-terminal (pexpect) against a real `ewallet serve` process: Ctrl-C
cancels the line or the password prompt, Ctrl-D leaves, the session survives a server restart,
tab completes a command's words, help COMMAND, pay to a name and history pages (N, then --more),
an incoming payment printed above the prompt."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pexpect
import pytest

from ewallet.client import Client
from scripts.drills.processes import ServerProcess
from tests.client.helpers import EWALLET
from tests.support import PASSWORD

#: The prompt as drawn (prompt_toolkit draws its last space as a cursor move).
PROMPT = r"ewallet( \[[^\]\r\n]*\]| \(disconnected\))?>"


@pytest.fixture
def server(sqlite_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(sqlite_url)
    yield process
    process.kill()


def spawn(port: int, history: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    command, *args = EWALLET
    child = pexpect.spawn(
        command,
        [*args, "shell", "--port", str(port), "--history", history],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    child.expect_exact("ewallet>")
    return child


def run(child: pexpect.spawn, line: str, *expected: str) -> None:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect(PROMPT)


def leave(child: pexpect.spawn) -> int:
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


@pytest.fixture
def history(tmp_path: os.PathLike[str]) -> str:
    return os.path.join(str(tmp_path), "history")


def register_and_login(child: pexpect.spawn) -> None:
    run(child, f"register alice@example.com alice {PASSWORD}", "account alice@example.com created")
    run(child, f"register bob@example.com bob {PASSWORD}", "account bob@example.com created")
    run(child, f"login alice {PASSWORD}", "logged in as alice@example.com")


class TestKeys:
    def test_ctrl_c_drops_a_half_typed_line_and_ctrl_d_leaves_with_status_0(
        self, server: ServerProcess, history: str
    ) -> None:
        child = spawn(server.port, history)
        child.send("supply 100")
        child.sendcontrol("c")
        child.expect_exact("ewallet>")
        run(child, "help pay", "usage: pay NAME|EMAIL CREDITS", "pay a partner")
        assert leave(child) == 0

    def test_ctrl_c_at_the_password_prompt_cancels_only_that_command(self, server: ServerProcess, history: str) -> None:
        child = spawn(server.port, history)
        run(child, f"register alice@example.com alice {PASSWORD}", "created")
        child.sendline("login alice")
        child.expect_exact("password:")
        child.sendcontrol("c")
        child.expect_exact("cancelled")
        child.expect_exact("ewallet>")
        run(child, "whoami", "error (not_logged_in)")
        child.sendline("login alice")
        child.expect_exact("password:")
        child.sendline(PASSWORD)
        child.expect_exact("logged in as alice@example.com")
        child.expect_exact("ewallet [alice@example.com | 0 credits]>")
        assert leave(child) == 0

    def test_tab_completes_a_commands_words(self, server: ServerProcess, history: str) -> None:
        child = spawn(server.port, history)
        child.send("timer pa\t")
        child.expect_exact("use")  # drawn after "timer pa"
        child.send("\r")
        child.expect_exact("error (not_logged_in)")  # the completed command ran
        child.expect(PROMPT)
        child.send("timer s\t")
        for word in ("start", "stop", "status"):  # several fit: they are offered
            child.expect_exact(word)
        child.sendcontrol("c")
        assert leave(child) == 0


class TestSession:
    def test_a_server_restart_keeps_the_login(self, sqlite_url: str, history: str) -> None:
        first = ServerProcess(sqlite_url)
        try:
            child = spawn(first.port, history)
            register_and_login(child)
        finally:
            first.stop()
        again = ServerProcess(sqlite_url, port=first.port)
        try:
            run(child, "whoami", "reconnected to 127.0.0.1", "session kept", "alice <alice@example.com>")
            assert leave(child) == 0
        finally:
            again.kill()


class TestMoney:
    def test_pay_to_a_name_and_history_n(self, server: ServerProcess, history: str) -> None:
        child = spawn(server.port, history)
        register_and_login(child)
        run(child, "supply 100", "supplied 100")
        run(child, "pay bob 10", "paid 10 to bob@example.com; balance 90 credits")
        run(child, "transfer bob 5", "transferred 5 to bob@example.com; balance 85 credits")
        child.sendline("history 1")
        child.expect(r"transfer\s+alice@example\.com\s+bob@example\.com\s+5")
        child.expect(r"older records: history --more")
        child.expect(PROMPT)
        child.sendline("history --more")
        child.expect(r"payment\s+alice@example\.com\s+bob@example\.com\s+10")
        child.expect(PROMPT)
        assert leave(child) == 0


#: One drawing of the live clock while the countdown runs: the minutes left are group 1.
COUNTING = r"active, (\d+\.\d\d) minutes left \([\d.]+ active, [\d.]+ paused\); runs out at [\d: -]+  \(any key stops\)"


class TestTimerStatus:
    def test_counts_the_minutes_down_until_a_key_is_pressed(self, server: ServerProcess, history: str) -> None:
        child = spawn(server.port, history)
        register_and_login(child)
        run(child, "supply 30", "supplied 30")
        run(child, "convert credits 30", "clock 30.00 minutes")
        run(child, "timer start", "timer started")
        child.sendline("timer status")
        child.expect(COUNTING)
        first = float(child.match.group(1))
        for _ in range(10):  # a hundredth of a minute passes every 0.6 s; a redraw comes every second
            child.expect(COUNTING)
            if float(child.match.group(1)) < first:
                break
        else:
            raise AssertionError(f"the minutes left stayed at {first}")
        child.send("x")  # any key: the countdown ends and the key is not taken as input
        child.expect(r"minutes left \([\d.]+ active, [\d.]+ paused\); runs out at [\d: -]+\x1b\[K\r?\n")
        child.expect(PROMPT)
        child.sendline("timer status")
        child.expect(COUNTING)
        child.sendcontrol("c")  # Ctrl-C ends it too, and the shell goes on
        child.expect(PROMPT)
        run(child, "timer stop", "stopped: ")
        run(child, "timer status", "clock 1: inactive, ")


class TestEvents:
    def test_an_incoming_payment_is_printed_above_the_prompt(self, server: ServerProcess, history: str) -> None:
        child = spawn(server.port, history)
        register_and_login(child)  # the prompt is back once the shell's subscription holds
        with Client("127.0.0.1", server.port) as bob:
            bob.open_session()
            bob.login("bob", PASSWORD)
            bob.supply_credits(20)
            bob.transfer("alice@example.com", 7)
        child.expect_exact("+7 credits from bob@example.com (balance 7)")
        child.expect(PROMPT)  # drawn again below it
        run(child, "balance", "7 credits")  # the shell goes on as before
        run(child, "logout", "logged out alice@example.com")
        assert leave(child) == 0
