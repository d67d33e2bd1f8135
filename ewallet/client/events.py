"""What both clients share about events (PROTOCOL §12): telling an event line from an answer, the
subscribe instruction, and how a subscription resumes after the connection dropped.

A subscription resumes on a new connection with the same client id and session token (the
session lives in the database, not in the connection) and `after` = the highest seq it received,
so the server sends exactly the events it missed; a seq at or below that is dropped should it
come twice. It tries again with a growing pause (0.1 s doubling up to 2 s) for `reconnect_for`
seconds, then raises ConnectionFailed. It does not resume, and raises SubscriptionLost, when the
server refuses the subscription on the new connection (the session expired or is unknown:
`unauthorized`; the account was logged out: `not_logged_in`) or when another account is now the
session's active one (`account_changed`): it holds no password, and a subscription always binds
to the session's active account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ewallet.client.errors import ConnectionFailed, EWalletError

#: The kinds of event a subscriber can ask for, as the protocol lists them.
KINDS = ("credits_received", "login", "clock_low", "timer_stopped")
#: Seconds a subscription keeps trying to reconnect, by default.
RECONNECT_FOR = 30.0


class SubscriptionLost(EWalletError):
    """The subscription could not be resumed after the connection dropped; `code` says why."""


def is_event(line: Any) -> bool:
    """An event line has no `failed` key; every answer has one."""
    return isinstance(line, dict) and "failed" not in line


def subscribe_instruction(
    after: int | None = None, kinds: list[str] | tuple[str, ...] | None = None, clock_low_minutes: float | None = None
) -> dict[str, Any]:
    instruction: dict[str, Any] = {"controller": "client", "ctype": "action", "action": "subscribe"}
    instruction["subscribe"] = "events"
    if after is not None:
        instruction["after"] = after
    if kinds is not None:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown event kinds {unknown}; the kinds are {', '.join(KINDS)}")
        instruction["kinds"] = list(kinds)
    if clock_low_minutes is not None:
        instruction["clock_low_minutes"] = clock_low_minutes
    return instruction


UNSUBSCRIBE = {"controller": "client", "ctype": "action", "action": "unsubscribe", "unsubscribe": "events"}


def pauses(total: float, first: float = 0.1, longest: float = 2.0) -> Iterator[float]:
    """The pauses before each attempt to reconnect, adding up to about `total` seconds."""
    spent, pause = 0.0, first
    while spent < total:
        pause = min(pause, total - spent)
        yield pause
        spent += pause
        pause = min(pause * 2, longest)


@dataclass
class Terms:
    """What a subscription asked for and how far it got: enough to ask again on a new connection."""

    kinds: list[str] | None
    clock_low_minutes: float | None
    reconnect_for: float
    #: The active account when it subscribed (a resumed subscription must be for the same one).
    account: str | None = None
    #: The highest seq received (or the `after` it began from): resumed with `after` = this.
    last_seq: int = 0
    #: The subscribe answer: last_event, oldest_event.
    answer: dict[str, Any] = field(default_factory=dict)

    def instruction(self) -> dict[str, Any]:
        return subscribe_instruction(self.last_seq, self.kinds, self.clock_low_minutes)

    def fresh(self, event: dict[str, Any]) -> bool:
        """Whether the event is new (not a repeat of one received); counts it as received."""
        seq = event.get("seq")
        if not isinstance(seq, int):
            return True
        if seq <= self.last_seq:
            return False
        self.last_seq = seq
        return True

    def check_account(self, account: str) -> None:
        if self.account is not None and account != self.account:
            raise SubscriptionLost(
                "account_changed",
                f"the session's active account is now {account}, not {self.account}: not resubscribed",
            )


def begun(terms: Terms, after: int | None, answer: dict[str, Any]) -> None:
    """A subscribe answer arrived: where a resumed subscription begins, if nothing arrives first."""
    terms.answer = answer
    if after is not None:
        terms.last_seq = after
    else:
        terms.last_seq = int(answer.get("last_event") or 0)


def lost(code: str, message: str) -> SubscriptionLost:
    return SubscriptionLost(code, f"the subscription could not be resumed: {message}")


class Subscribed:
    """What both libraries' subscriptions tell of their subscribe answer."""

    terms: Terms

    @property
    def last_event(self) -> int | None:
        """The account's newest kept event when it subscribed (the subscribe answer's)."""
        value: int | None = self.terms.answer.get("last_event")
        return value

    @property
    def oldest_event(self) -> int | None:
        """The account's oldest kept event: an `after` below it may have missed events."""
        value: int | None = self.terms.answer.get("oldest_event")
        return value


def not_resumed(terms: Terms, failure: ConnectionFailed | None) -> ConnectionFailed:
    """What a subscription that could not be resumed in time raises."""
    reason = failure.message if failure else "no attempt"
    return ConnectionFailed(f"the subscription could not be resumed within {terms.reconnect_for:g} s: {reason}")
