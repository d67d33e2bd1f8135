"""The shell's pieces without a server: history redaction, tables, error sentences, completion,
paging, which instructions the link may send again, event sentences and the active account."""

from __future__ import annotations

import json

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ewallet.client import EWalletError
from ewallet.shell.events import describe as event_line
from ewallet.shell.link import Link, repeatable
from ewallet.shell.listings import _page, _paging
from ewallet.shell.main import registry
from ewallet.shell.state import Shell, UsageError
from ewallet.shell.terminal import ShellCompleter
from ewallet.shell.text import describe, redact, table

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


class TestDescribe:
    def test_a_refusal_names_its_code(self) -> None:
        assert describe(EWalletError("not_found", "no such account")) == "error (not_found): no such account"

    def test_a_throttled_login_gives_the_wait_when_the_answer_carries_it(self) -> None:
        exc = EWalletError("rate_limited", "too many failed logins", {"retry_after": 4})
        assert describe(exc) == "error (rate_limited): too many failed logins; try again in 4 s"

    def test_a_throttled_login_repeats_the_servers_wait(self) -> None:
        exc = EWalletError("rate_limited", "too many failed logins for this account; try again in 4 s")
        assert describe(exc) == "error (rate_limited): too many failed logins for this account; try again in 4 s"

    def test_a_refusal_without_a_wait_says_try_later(self) -> None:
        exc = EWalletError("rate_limited", "too many anonymous requests from this address")
        assert describe(exc).endswith("from this address; try again later")


def completions(text: str, partners: dict[str, str] | None = None) -> list[str]:
    shell = Shell(Link("127.0.0.1", 1), interactive=True, ask_secret=lambda _: "", partners=partners or {})
    found = ShellCompleter(registry(), shell).get_completions(Document(text), CompleteEvent(completion_requested=True))
    return [completion.text for completion in found]


class TestCompletion:
    def test_command_names(self) -> None:
        assert completions("ti") == ["timer"]
        assert "pay" in completions("")

    def test_a_commands_words(self) -> None:
        assert completions("timer s") == ["start", "stop", "status"]
        assert completions("timer pa") == ["pause"]
        assert completions("convert ") == ["credits", "minutes"]

    def test_words_after_a_subcommand(self) -> None:
        assert completions("sheet inv") == ["invoice"]
        assert completions("sheet invoice sw") == ["switch"]
        assert completions("contact list ") == ["new", "switch", "remove"]

    def test_partner_emails_seen_in_this_run(self) -> None:
        partners = {"bob": "bob@example.com", "carol": "carol@example.com"}
        assert completions("pay b", partners) == ["bob@example.com"]
        assert completions("transfer ", partners) == ["bob@example.com", "carol@example.com"]

    def test_help_completes_command_names(self) -> None:
        assert completions("help tra") == ["transfer"]

    def test_nothing_past_the_last_word(self) -> None:
        assert completions("timer start ") == []
        assert completions("dance ") == []


class TestPaging:
    def test_the_latest_page_and_whether_older_ones_remain(self) -> None:
        assert _page([5, 1, 3, 2, 4], 2, None) == ([4, 5], True)
        assert _page([1, 2], 5, None) == ([1, 2], False)

    def test_before_an_id(self) -> None:
        assert _page([1, 2, 3, 4, 5], 2, 4) == ([2, 3], True)
        assert _page([1, 2, 3, 4, 5], 2, 3) == ([1, 2], False)

    def test_arguments(self) -> None:
        assert _paging([]) == (20, None)
        assert _paging(["5", "--before", "12"]) == (5, 12)
        assert _paging(["--before", "12"]) == (20, 12)

    @pytest.mark.parametrize("args", [["0"], ["x"], ["--before"], ["--before", "x"]])
    def test_bad_arguments_are_refused(self, args: list[str]) -> None:
        with pytest.raises(UsageError):
            _paging(args)


def line(**instruction: object) -> bytes:
    return json.dumps({"controller": "client", "ctype": "action", **instruction}).encode()


class TestRepeatable:
    @pytest.mark.parametrize(
        "instruction",
        [
            {"action": "view", "view": "account"},
            {"action": "switch", "switch": "contact_list", "list_id": 2},
            {"action": "login", "user_name": "alice", "user_pass": SECRET},
            {"action": "pay", "pay": "bob@example.com", "credits": 5, "idempotency_key": "k1"},
        ],
    )
    def test_reads_and_keyed_instructions_may_be_sent_again(self, instruction: dict[str, object]) -> None:
        assert repeatable(line(**instruction))

    @pytest.mark.parametrize(
        "instruction",
        [
            {"action": "pay", "pay": "bob@example.com", "credits": 5},
            {"action": "start", "start": "clock_timer"},
            {"action": "logout"},
            {"action": "new", "new": "account"},
        ],
    )
    def test_anything_else_is_never_sent_twice(self, instruction: dict[str, object]) -> None:
        assert not repeatable(line(**instruction))


class TestEventLines:
    def test_each_shown_kind_reads_as_one_sentence(self) -> None:
        received = {
            "event": "credits_received",
            "data": {"record": {"credits": 7, "transfer_from": "bob@example.com"}, "ewallet_credits": 12},
        }
        assert event_line(received) == "+7 credits from bob@example.com (balance 12)"
        low = {
            "event": "clock_low",
            "data": {"clock": 3, "remaining_minutes": 4.98, "expected_stop": "29-11-2026 18:30:00"},
        }
        assert event_line(low) == "clock 3: 4.98 minutes left, stops at 29-11-2026 18:30:00"
        stopped = {"event": "timer_stopped", "data": {"clock": 3, "time_record": 9, "record_data": {"time_spent": 5.0}}}
        assert event_line(stopped) == "clock 3: the timer stopped by itself, the clock ran out (5.00 minutes billed)"
        assert event_line({"event": "login", "data": {}}) is None


class TestActiveAccount:
    """The link keeps the session's active account from the answers (the watcher follows it)."""

    @pytest.mark.parametrize(
        ("instruction", "answer", "active"),
        [
            ({"action": "login"}, {"failed": False, "account": "a@x.io"}, "a@x.io"),
            ({"action": "switch", "switch": "account"}, {"failed": False, "account": "b@x.io"}, "b@x.io"),
            ({"action": "switch", "switch": "credit"}, {"failed": False, "account": None}, "before@x.io"),
            ({"action": "logout"}, {"failed": False, "session_data": {"session_user_account": None}}, None),
            ({"action": "view", "view": "account"}, {"failed": True, "code": "not_logged_in"}, None),
            ({"action": "view", "view": "account"}, {"failed": True, "code": "unauthorized"}, "before@x.io"),
            ({"action": "login"}, {"failed": True, "code": "invalid_credentials"}, "before@x.io"),
            ({"action": "unlink", "unlink": "account"}, {"failed": False, "account": "before@x.io"}, None),
        ],
    )
    def test_from_the_answers(self, instruction: dict, answer: dict, active: str | None) -> None:
        link = Link("127.0.0.1", 1)
        link.active_account = "before@x.io"
        link._observe(instruction, answer)
        assert link.active_account == active
