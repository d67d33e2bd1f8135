"""The shell's pieces without a server: history redaction, tables, error sentences, completion,
paging, which instructions the link may send again, event sentences and the active account."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ewallet.client import ConnectionFailed, EWalletError
from ewallet.shell import countdown
from ewallet.shell.events import describe as event_line
from ewallet.shell.link import Link, repeatable
from ewallet.shell.listings import _query
from ewallet.shell.main import registry
from ewallet.shell.money import live_line
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


class TestHistoryArguments:
    def query(self, *args: str) -> tuple[str, int, dict[str, object]]:
        shell = Shell(Link("127.0.0.1", 1), interactive=True, ask_secret=lambda _: "", partners={"bob": "b@x.org"})
        return _query(shell, list(args))

    def test_transfers_20_a_page_by_default(self) -> None:
        assert self.query() == ("transfer", 20, {})

    def test_a_kind_a_size_and_filters(self) -> None:
        assert self.query("invoice", "5", "--since", "01-02-2030") == ("invoice", 5, {"since": "01-02-2030 00:00:00"})
        assert self.query("--until", "01-02-2030", "10:11:12", "--sheet", "4") == (
            "transfer", 20, {"until": "01-02-2030 10:11:12", "sheet_id": 4},
        )  # fmt: skip
        assert self.query("transfer", "--partner", "bob", "--type", "payment", "--min", "2", "--max", "9") == (
            "transfer", 20, {"partner": "b@x.org", "transfer_type": "payment", "min_credits": 2, "max_credits": 9},
        )  # fmt: skip

    @pytest.mark.parametrize("args", [["0"], ["x"], ["--since"], ["--min", "x"], ["--sheet"]])
    def test_bad_arguments_are_refused(self, args: list[str]) -> None:
        with pytest.raises(UsageError):
            self.query(*args)

    @pytest.mark.parametrize("args", [["time", "--type", "payment"], ["invoice", "--max", "1"]])
    def test_transfer_filters_on_another_kind_are_refused(self, args: list[str]) -> None:
        with pytest.raises(UsageError):
            self.query(*args)


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


class FakeTime:
    """Monotonic seconds that move only when the countdown waits for a key."""

    def __init__(self, keys_at: float | None = None) -> None:
        self.now, self.keys_at = 0.0, keys_at
        self.waits: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        if self.keys_at is not None and self.now + seconds >= self.keys_at:
            self.now = self.keys_at
            return True
        self.now += seconds
        return False


def answers(*states: str) -> Iterator[dict[str, Any]]:
    """Live clock answers counting down by 0.01 a fetch, in these states, the last repeated."""
    remaining = 10.0
    for state in (*states, *[states[-1]] * 1000):
        yield {
            "clock": 1, "clock_state": state, "remaining_minutes": remaining, "elapsed_minutes": 0.0,
            "pending_minutes": 0.0, "expected_stop": None,
        }  # fmt: skip
        remaining = round(remaining - 0.01, 2)


def drawings(out: io.StringIO) -> list[str]:
    """What each redraw put on the line, erase codes left out."""
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 1
    return [part.replace(countdown.ERASE, "") for part in out.getvalue().rstrip("\n").split("\r")[1:]]


class TestCountdown:
    def watch(self, fake: FakeTime, *states: str, **options: float) -> tuple[list[str], int]:
        out, fetched = io.StringIO(), answers(*states)
        calls: list[float] = []

        def fetch() -> dict[str, Any]:
            calls.append(fake.now)
            return next(fetched)

        countdown.watch(
            fetch, lambda a: f"{a['clock_state']} {a['remaining_minutes']:.2f}", out, fake.wait,
            clock=lambda: fake.now, **options,
        )  # fmt: skip
        return drawings(out), len(calls)

    def test_redraws_every_second_until_a_key_and_leaves_the_last_drawing(self) -> None:
        fake = FakeTime(keys_at=3.5)
        drawn, fetches = self.watch(fake, "active")
        assert drawn == [
            "active 10.00  (any key stops)",
            "active 9.99  (any key stops)",
            "active 9.98  (any key stops)",
            "active 9.97  (any key stops)",
            "active 9.97",
        ]
        assert (fetches, fake.waits) == (4, [1.0, 1.0, 1.0, 1.0])

    def test_ends_by_itself_after_the_limit(self) -> None:
        fake = FakeTime()
        drawn, fetches = self.watch(fake, "active", every=1.0, limit=2.5)
        assert fake.waits == [1.0, 1.0, 0.5]
        assert drawn[-1] == "active 9.97" and fetches == 4
        assert fake.now == 2.5

    def test_ends_when_the_timer_stops_running(self) -> None:
        drawn, fetches = self.watch(FakeTime(), "active", "active", "inactive")
        assert drawn == ["active 10.00  (any key stops)", "active 9.99  (any key stops)", "inactive 9.98"]
        assert fetches == 3

    @pytest.mark.parametrize("state", ["inactive", "pending"])
    def test_a_timer_that_does_not_run_is_drawn_once(self, state: str) -> None:
        fake = FakeTime()
        assert self.watch(fake, state) == ([f"{state} 10.00"], 1)
        assert fake.waits == []

    def test_a_failure_mid_countdown_ends_the_line_first(self) -> None:
        out = io.StringIO()
        fetched = iter([{"clock_state": "active", "remaining_minutes": 1.0}])

        def fetch() -> dict[str, Any]:
            answer = next(fetched, None)
            if answer is None:
                raise ConnectionFailed("the connection was lost")
            return answer

        with pytest.raises(ConnectionFailed):
            countdown.watch(fetch, lambda a: str(a["remaining_minutes"]), out, lambda _: False, clock=lambda: 0.0)
        assert out.getvalue().endswith("\n")


class TestLiveLine:
    def test_says_what_is_left_and_for_a_run_its_minutes_and_end(self) -> None:
        answer = {
            "clock": 3, "clock_state": "active", "credit_clock": 10.0, "remaining_minutes": 8.5,
            "elapsed_minutes": 1.5, "pending_minutes": 2.0, "start_timestamp": "01-01-2030 12:00:00",
            "expected_stop": "01-01-2030 12:13:30",
        }  # fmt: skip
        assert live_line(answer) == (
            "clock 3: active, 8.50 minutes left (1.50 active, 2.00 paused); runs out at 01-01-2030 12:13:30"
        )
        paused = answer | {"clock_state": "pending", "expected_stop": None}
        assert live_line(paused) == "clock 3: pending, 8.50 minutes left (1.50 active, 2.00 paused)"
        idle = answer | {"clock_state": "inactive", "elapsed_minutes": 0.0, "pending_minutes": 0.0}
        idle["expected_stop"] = None
        assert live_line(idle) == "clock 3: inactive, 8.50 minutes left"


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
