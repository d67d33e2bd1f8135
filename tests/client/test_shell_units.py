"""The shell's pieces without a server: history redaction, tables, password prompts, prompt."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ewallet import shell
from ewallet.client import EWalletError
from ewallet.shell import EwalletShell, redact, table

SECRET = "S3cret!pass"


class TestRedact:
    @pytest.mark.parametrize(
        ("line", "entry"),
        [
            (f"register a@example.com alice {SECRET}", "register a@example.com alice ********"),
            (f"login a@example.com {SECRET}", "login a@example.com ********"),
            (f"login alice '{SECRET} with spaces'", "login alice ********"),
            (f'  login alice "{SECRET}"', "login alice ********"),
        ],
    )
    def test_masks_the_password_of_register_and_login(self, line: str, entry: str) -> None:
        assert redact(line) == entry
        assert SECRET not in (redact(line) or "")

    @pytest.mark.parametrize("line", ["register a@example.com alice", "login alice", "login"])
    def test_keeps_a_command_whose_password_was_asked_for(self, line: str) -> None:
        assert redact(line) == line

    @pytest.mark.parametrize(
        "line",
        [
            f'raw {{"action": "login", "user_name": "alice", "user_pass": "{SECRET}"}}',
            f'raw {{"action": "edit", "edit": "account", "current_pass": "{SECRET}"}}',
            'raw {"controller": "system", "system_key": "0123456789abcdef0123456789abcdef"}',
            'raw {"action": "view", "view": "account", "session_token": "ewsm-st:abc"}',
        ],
    )
    def test_keeps_raw_lines_with_secrets_out_entirely(self, line: str) -> None:
        assert redact(line) is None

    def test_keeps_a_line_it_cannot_split_out(self) -> None:
        assert redact(f"login alice '{SECRET}") is None

    @pytest.mark.parametrize(
        "line", ["balance", "supply 100", "pay bob@example.com 10", 'raw {"action": "view", "view": "account"}']
    )
    def test_leaves_other_commands_as_typed(self, line: str) -> None:
        assert redact(line) == line


class TestTable:
    def test_aligns_columns_under_their_headers(self) -> None:
        text = table(["id", "name", "credits"], [[1, "alice", 100], [12, "bo", 5]])
        assert text.splitlines() == [
            "id  name   credits",
            "--  -----  -------",
            "1   alice  100",
            "12  bo     5",
        ]

    def test_shows_none_as_blank_and_strips_trailing_space(self) -> None:
        lines = table(["a", "notes"], [[1, None]]).splitlines()
        assert lines[2] == "1"
        assert all(line == line.rstrip() for line in lines)

    def test_headers_alone(self) -> None:
        assert table(["id", "date"], []) == "id  date\n--  ----"


class FakeClient:
    """Records what the shell asks of the library."""

    def __init__(self, credits: int | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.credits = credits

    def login(self, who: str, password: str) -> dict[str, Any]:
        self.calls.append(("login", (who, password)))
        return {"account": "alice@example.com"}

    def view_account(self) -> dict[str, Any]:
        return {"account": "alice@example.com"}

    def view_credit_ewallet(self) -> dict[str, Any]:
        if self.credits is None:
            raise EWalletError("not_logged_in", "no account is logged in on this session")
        return {"ewallet_data": {"credits": self.credits}}


def run_shell(client: Any, commands: str, *, interactive: bool = False) -> tuple[EwalletShell, str]:
    out = io.StringIO()
    sh = EwalletShell(client, interactive=interactive, stdin=io.StringIO(commands), stdout=out)
    sh.use_rawinput = False
    sh.cmdloop()
    return sh, out.getvalue()


class TestPasswordPrompt:
    def test_a_terminal_user_is_asked_without_echo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        asked: list[str] = []

        def fake_getpass(prompt: str = "") -> str:
            asked.append(prompt)
            return SECRET

        monkeypatch.setattr(shell.getpass, "getpass", fake_getpass)
        client = FakeClient()
        _sh, out = run_shell(client, "login alice\nquit\n", interactive=True)
        assert asked == ["password: "]
        assert client.calls == [("login", ("alice", SECRET))]
        assert SECRET not in out

    def test_a_script_gives_it_on_the_next_line(self) -> None:
        client = FakeClient()
        sh, out = run_shell(client, f"login alice\n{SECRET}\n")
        assert client.calls == [("login", ("alice", SECRET))]
        assert (sh.failures, out) == (0, "logged in as alice@example.com\n")


class TestPrompt:
    def test_shows_the_active_account_and_its_balance(self) -> None:
        sh, _ = run_shell(FakeClient(credits=42), f"login alice {SECRET}\n", interactive=True)
        assert sh.prompt == "ewallet [alice@example.com | 42 credits]> "

    def test_is_plain_when_nobody_is_logged_in(self) -> None:
        sh, _ = run_shell(FakeClient(), "help\n", interactive=True)
        assert sh.prompt == "ewallet> "

    def test_is_empty_when_a_script_pipes_commands(self) -> None:
        sh, out = run_shell(FakeClient(credits=1), "quit\n")
        assert (sh.prompt, out) == ("", "")
