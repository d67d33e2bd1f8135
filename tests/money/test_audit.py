"""`ewallet audit` (issue 4): clean books after a mixed run on SQLite and PostgreSQL, and a
non-zero exit naming the ewallet, clock or record when the database was changed behind the
ledger's back."""

from __future__ import annotations

from datetime import timedelta

from scripts.drills.audit import audit_cli
from tests.answers import ok
from tests.money import calls
from tests.money.books import audit_of, tamper
from tests.money.calls import PAID, SUPPLIED, TO_CLOCK, TO_CREDITS, TRANSFERRED
from tests.support import Running


async def mixed_run(running: Running) -> dict[str, int]:
    """Every kind of movement, a timer that runs out, hidden records; returns some ids."""
    alice, bob = await running.user(), await running.user()
    operator = await running.client()
    ok(await calls.supply(alice, 300), *SUPPLIED)
    ok(await calls.system_supply(operator, bob.email, 50), *SUPPLIED)
    ok(await calls.pay(alice, bob.email, 40, cost=3.5), *PAID)
    ok(await calls.transfer(bob, alice.email, 15), *TRANSFERRED)
    converted = ok(await calls.to_clock(alice, 20), *TO_CLOCK)
    ok(await calls.to_credits(alice, 5), *TO_CREDITS)
    assert (await calls.timer(alice, "start"))["failed"] is False
    running.clock.advance(timedelta(minutes=3, seconds=30).total_seconds())
    assert (await calls.timer(alice, "stop"))["failed"] is False
    ok(await calls.to_clock(bob, 1), *TO_CLOCK)
    assert (await calls.timer(bob, "start"))["failed"] is False
    running.clock.advance(300)  # bob's minute runs out
    assert (await calls.clock(bob))["credit_clock"] == 0.0
    for kind in ("transfer", "invoice", "conversion", "time"):
        first = (await calls.records(alice, kind))[0]
        ok(await calls.unlink_record(alice, kind, first), f"{kind}_sheet", f"{kind}_record")
    return {
        "alice_ewallet": (await calls.ewallet(alice))["id"],
        "alice_clock": (await calls.clock(alice))["id"],
        "conversion": converted["conversion_record"],
    }


class TestAuditCommand:
    async def test_finds_the_books_balanced_after_a_mixed_run(self, any_server: Running) -> None:
        await mixed_run(any_server)
        done = audit_cli(any_server.database_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines() == [
            "ewallets checked: 2",
            "clocks checked: 2",
            "conversion records checked: 3",
            "credits supplied: 350",
            "credits in ewallets: 334",
            "credits converted and still on clocks or billed: 16",
            "accounts checked: 2",
            "transfer records checked: 8 (4 movements paired)",
            "invoice records checked: 3",
            "time records checked: 2 (4.50 minutes billed)",
            "books balance",
        ]

    async def test_passes_on_an_empty_database(self, any_server: Running) -> None:
        done = audit_cli(any_server.database_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ewallets checked: 0" in done.stdout and "books balance" in done.stdout

    async def test_names_an_ewallet_whose_balance_was_changed_directly(self, any_server: Running) -> None:
        ids = await mixed_run(any_server)
        tamper(
            any_server.app.engine,
            "UPDATE credit_ewallets SET credits = credits + 1 WHERE id = :id",
            id=ids["alice_ewallet"],
        )
        done = audit_cli(any_server.database_url)
        assert done.returncode != 0
        drift = [line for line in done.stdout.splitlines() if line.startswith("FINDING: ")]
        assert any(f"ewallet {ids['alice_ewallet']} " in line for line in drift), done.stdout
        assert any("system-wide" in line for line in drift), done.stdout
        assert "books balance" not in done.stdout

    async def test_names_a_clock_whose_minutes_were_changed_directly(self, any_server: Running) -> None:
        ids = await mixed_run(any_server)
        tamper(
            any_server.app.engine,
            "UPDATE credit_clocks SET hundredths = hundredths + 1 WHERE id = :id",
            id=ids["alice_clock"],
        )
        done = audit_cli(any_server.database_url)
        assert done.returncode != 0
        assert f"FINDING: clock {ids['alice_clock']} holds " in done.stdout
        assert "1 problem(s) found" in done.stdout


class TestAuditReport:
    async def test_names_a_conversion_record_that_disagrees_with_its_rate(self, server: Running) -> None:
        ids = await mixed_run(server)
        tamper(server.app.engine, "UPDATE conversion_records SET hundredths = hundredths + 100 WHERE id = :id",
               id=ids["conversion"])  # fmt: skip
        report = audit_of(server.app.engine)
        assert not report.clean
        assert any(f"conversion record {ids['conversion']}:" in problem for problem in report.problems)

    async def test_notices_a_lost_incoming_row(self, server: Running) -> None:
        alice = await server.user()
        answer = ok(await calls.supply(alice, 10), *SUPPLIED)
        tamper(server.app.engine, "DELETE FROM transfer_records WHERE id = :id", id=answer["transfer_record"])
        problems = audit_of(server.app.engine).problems
        assert any("incoming rows total 0" in problem for problem in problems), problems
        assert any(problem.startswith("ewallet ") for problem in problems), problems
