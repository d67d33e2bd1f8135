"""Random sequences of supply, pay, transfer and both conversions for a few accounts, checked
step by step against a model that is just a few integers: every answer (success or refusal)
and every balance must be what the model says."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ewallet.clock import ManualClock
from tests.money.blocking import BlockingClient, server_in_thread
from tests.money.books import audit_of
from tests.support import Running

ACCOUNTS = 4
RATE = Decimal("2.50")
#: Hundredths of a minute one credit buys at RATE.
PER_CREDIT = int(RATE * 100)

who = st.integers(0, ACCOUNTS - 1)
#: Mostly whole credits' worth of minutes, sometimes not (which must be refused).
hundredths = st.one_of(st.integers(1, 40).map(lambda n: n * PER_CREDIT), st.integers(1, 6000))


def wire_minutes(value: int) -> int | float:
    """Hundredths as a client writes minutes: an integer when whole, else two decimals."""
    return value // 100 if value % 100 == 0 else float(Decimal(value) / 100)


class MoneyModel(RuleBasedStateMachine):
    """Subclassed per test with `running` set to the server under test."""

    running: ClassVar[Running]

    def __init__(self) -> None:
        super().__init__()
        self.clients = [BlockingClient.user(self.running.port) for _ in range(ACCOUNTS)]
        self.credits = [0] * ACCOUNTS
        self.hundredths = [0] * ACCOUNTS

    def expect(self, answer: dict[str, Any], refusal: str | None) -> bool:
        """The answer is the refusal the model predicts, or a success when it predicts none."""
        if refusal is None:
            assert answer["failed"] is False, answer
            return True
        assert answer["failed"] is True and answer["code"] == refusal, (refusal, answer)
        return False

    @rule(buyer=who, credits=st.integers(1, 500))
    def supply(self, buyer: int, credits: int) -> None:
        answer = self.clients[buyer].call(action="supply", supply="credits", credits=credits)
        self.expect(answer, None)
        self.credits[buyer] += credits
        assert answer["ewallet_credits"] == self.credits[buyer]

    @rule(buyer=who, credits=st.sampled_from([0, -5, 10**9 + 1, 2.0, "3", True, None]))
    def supply_refused(self, buyer: int, credits: Any) -> None:
        self.expect(self.clients[buyer].call(action="supply", supply="credits", credits=credits), "invalid_value")

    @rule(payer=who, partner=who, credits=st.integers(1, 400), kind=st.sampled_from(["pay", "transfer"]))
    def move(self, payer: int, partner: int, credits: int, kind: str) -> None:
        email = self.clients[partner].email
        route = {"pay": email} if kind == "pay" else {"transfer": "credits", "transfer_to": email}
        answer = self.clients[payer].call(action=kind, credits=credits, **route)
        if payer == partner:
            refusal: str | None = "invalid_value"
        elif credits > self.credits[payer]:
            refusal = "insufficient_credits"
        else:
            refusal = None
        if self.expect(answer, refusal):
            self.credits[payer] -= credits
            self.credits[partner] += credits
            assert answer["ewallet_credits"] == self.credits[payer]

    @rule(owner=who, credits=st.integers(1, 300))
    def credits_to_clock(self, owner: int, credits: int) -> None:
        answer = self.clients[owner].call(action="convert", convert="credits2clock", credits=credits)
        if self.expect(answer, "insufficient_credits" if credits > self.credits[owner] else None):
            self.credits[owner] -= credits
            self.hundredths[owner] += credits * PER_CREDIT
            assert (answer["ewallet_credits"], answer["credit_clock"]) == (
                self.credits[owner], self.hundredths[owner] / 100,
            )  # fmt: skip

    @rule(owner=who, value=hundredths)
    def clock_to_credits(self, owner: int, value: int) -> None:
        answer = self.clients[owner].call(action="convert", convert="clock2credits", minutes=wire_minutes(value))
        if value % PER_CREDIT:
            refusal: str | None = "invalid_value"
        elif value > self.hundredths[owner]:
            refusal = "insufficient_clock"
        else:
            refusal = None
        if self.expect(answer, refusal):
            self.hundredths[owner] -= value
            self.credits[owner] += value // PER_CREDIT
            assert answer["converted_minutes"] == value / 100
            assert (answer["ewallet_credits"], answer["credit_clock"]) == (
                self.credits[owner], self.hundredths[owner] / 100,
            )  # fmt: skip

    @invariant()
    def balances_match_the_model(self) -> None:
        for n, client in enumerate(self.clients):
            ewallet = client.call(action="view", view="credit", credit="ewallet")["ewallet_data"]
            clock = client.call(action="view", view="credit", credit="clock")["clock_data"]
            assert (ewallet["credits"], clock["credit_clock"]) == (self.credits[n], self.hundredths[n] / 100)
            assert type(clock["credit_clock"]) is float

    def teardown(self) -> None:
        for client in self.clients:
            client.close()
        report = audit_of(self.running.app.engine)
        assert report.clean, report.lines()


class TestMoneyModel:
    def test_random_sequences_keep_every_balance_where_the_model_says(
        self, sqlite_url: str, clock: ManualClock
    ) -> None:
        with server_in_thread(sqlite_url, clock, conversion_rate=RATE) as running:
            machine = type("BoundMoneyModel", (MoneyModel,), {"running": running})
            run_state_machine_as_test(
                machine,
                settings=settings(
                    max_examples=15,
                    stateful_step_count=15,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
