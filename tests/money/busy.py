"""A healthy, busy database made through a real server: every kind of movement (some of them at
once), conversions at two rates across a restart, timers that ran out (settled and not), one left
running and one paused, hidden records, sheets, ewallets and clocks, an account anonymised by
the cleaner after its deletion order's grace period and one still pending deletion. The audit
must pass on it; `ids` then names the rows the tamper table damages."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from ewallet.clock import ManualClock
from tests.answers import ok
from tests.instructions.expect import call
from tests.money import calls
from tests.money.calls import PAID, SUPPLIED, TO_CLOCK, TO_CREDITS, TRANSFERRED
from tests.support import LineClient, Running, running_server

DAY = 86400.0
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "gus", "hal", "ivy", "jo")


async def _new(client: LineClient, route: str, key: str, **params: Any) -> int:
    answer = await call(client, route, **params)
    assert answer["failed"] is False, answer
    return int(answer[key])


async def _traffic(users: dict[str, LineClient], seed: int, moves: int = 12) -> None:
    """alice, bob and carol paying and transferring to each other at once."""
    names = ("alice", "bob", "carol")

    async def one(name: str, rng: random.Random) -> None:
        for _ in range(moves):
            partner = users[rng.choice([other for other in names if other != name])].email  # type: ignore[attr-defined]
            if rng.random() < 0.5:
                ok(await calls.pay(users[name], partner, rng.randint(1, 3), cost=1.25), *PAID)
            else:
                ok(await calls.transfer(users[name], partner, rng.randint(1, 3)), *TRANSFERRED)

    await asyncio.gather(*(one(name, random.Random(seed + n)) for n, name in enumerate(names)))


async def _hide_things(erin: LineClient) -> None:
    """A hidden ewallet, a hidden clock, hidden sheets (one of them the active one), hidden records."""
    ewallet = await _new(erin, "new=credit, credit=ewallet", "ewallet")
    await _new(erin, "unlink=credit, credit=ewallet", "credit_ewallet", ewallet_id=ewallet)
    clock = await _new(erin, "new=credit, credit=clock", "clock")
    await _new(erin, "unlink=credit, credit=clock", "credit_clock", clock_id=clock)
    for kind in calls.KINDS:
        sheet = await _new(erin, f"new={kind}, {kind}=list", f"{kind}_sheet")
        await _new(erin, f"switch={kind}_sheet", f"{kind}_sheet", sheet_id=sheet)
        await _new(erin, f"unlink={kind}, {kind}=list", f"{kind}_sheet", list_id=sheet)
    ok(await calls.to_clock(erin, 4), *TO_CLOCK)
    assert (await calls.timer(erin, "start"))["failed"] is False
    assert (await calls.timer(erin, "stop"))["failed"] is False
    for kind in calls.KINDS:
        first = (await calls.records(erin, kind))[0]
        ok(await calls.unlink_record(erin, kind, first), f"{kind}_sheet", f"{kind}_record")


async def _first_phase(running: Running) -> None:
    """Rate 1.00: everything but the running timers."""
    users = {name: await running.user(name) for name in NAMES}
    alice, bob, carol, dave, erin, frank, gus = (users[name] for name in NAMES[:7])
    operator = await running.client()
    ok(await calls.supply(alice, 500, cost=12.5, currency="EUR", notes="first"), *SUPPLIED)
    ok(await calls.system_supply(operator, bob.email, 200), *SUPPLIED)
    for name in ("carol", "dave", "erin", "frank", "gus", "hal", "ivy", "jo"):
        ok(await calls.supply(users[name], 100), *SUPPLIED)
    ok(await calls.pay(alice, bob.email, 40, cost=3.5), *PAID)
    ok(await calls.transfer(bob, alice.email, 15), *TRANSFERRED)
    await _traffic(users, seed=1)
    ok(await calls.to_clock(alice, 50), *TO_CLOCK)
    ok(await calls.to_credits(alice, 10), *TO_CREDITS)
    assert (await calls.timer(alice, "start"))["failed"] is False
    running.clock.advance(210.0)
    assert (await calls.timer(alice, "stop"))["failed"] is False
    ok(await calls.to_clock(bob, 1), *TO_CLOCK)
    assert (await calls.timer(bob, "start"))["failed"] is False
    running.clock.advance(300.0)  # bob's minute runs out, settled by the next view
    assert (await calls.clock(bob))["credit_clock"] == 0.0
    ok(await calls.to_clock(dave, 100), *TO_CLOCK)
    ok(await calls.to_clock(carol, 5), *TO_CLOCK)  # carol's clock holds minutes
    await _hide_things(erin)
    await _new(frank, "new=credit, credit=clock", "clock")  # a second visible clock, not active
    await _new(frank, "new=credit, credit=ewallet", "ewallet")  # a second ewallet, not active
    ok(await calls.transfer(gus, alice.email, 100), *TRANSFERRED)
    ok(await call(gus, "unlink=account"), "account")
    for kind in ("transfer", "invoice", "conversion", "time"):
        listed = await calls.records(alice, kind)
        ok(await calls.unlink_record(alice, kind, listed[-1]), f"{kind}_sheet", f"{kind}_record")


async def _second_phase(running: Running) -> None:
    """Rate 0.50 after a restart and a month: the cleaner, conversions both ways, timers left
    running, paused and run out unsettled, and a fresh deletion order."""
    operator = await running.client()
    cleaned = await operator.call(controller="system", action="cleanup", cleanup="accounts")
    assert cleaned == {"failed": False, "accounts_cleaned": 1}, cleaned
    users = {name: await calls.login_again(running, f"{name}@example.com") for name in NAMES if name != "gus"}
    alice, bob, carol, frank, hal, ivy, jo = (users[name] for name in NAMES if name not in ("dave", "erin", "gus"))
    await _traffic(users, seed=2)
    ok(await calls.to_clock(alice, 10), *TO_CLOCK)  # +5.00 minutes at 0.50; loaded at 1.00 before
    ok(await calls.to_credits(alice, 5), *TO_CREDITS)  # back at 1.00: 5 credits
    ok(await calls.to_clock(bob, 4), *TO_CLOCK)
    ok(await calls.to_credits(bob, 1), *TO_CREDITS)
    ok(await calls.to_credits(carol, 2), *TO_CREDITS)  # loaded at 1.00 only
    ok(await calls.transfer(hal, bob.email, 100), *TRANSFERRED)
    ok(await call(hal, "unlink=account"), "account")
    ok(await calls.to_clock(frank, 40), *TO_CLOCK)  # 20.00 minutes
    ok(await calls.to_clock(ivy, 10), *TO_CLOCK)
    ok(await calls.to_clock(jo, 2), *TO_CLOCK)  # 1.00 minute
    for client in (frank, ivy, jo):
        assert (await calls.timer(client, "start"))["failed"] is False
    running.clock.advance(90.0)  # jo's minute ran out; nothing settles it
    assert (await calls.timer(ivy, "pause"))["failed"] is False


async def build(database_url: str) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    async with running_server(database_url, clock) as running:
        await _first_phase(running)
    clock.advance(31 * DAY)
    async with running_server(database_url, clock, conversion_rate=Decimal("0.50")) as running:
        await _second_phase(running)


def _one(engine: Engine, query: str, **params: Any) -> int:
    with engine.connect() as conn:
        value = conn.execute(text(query), params).scalar_one()
    return int(value)


def ids(engine: Engine) -> dict[str, int]:
    """The rows the tamper table names, found by account name."""
    found: dict[str, int] = {}
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "hal", "ivy"):
        account = _one(engine, "SELECT id FROM accounts WHERE name = :name", name=name)
        ewallet = _one(engine, "SELECT active_ewallet_id FROM accounts WHERE id = :id", id=account)
        clock = _one(engine, "SELECT active_clock_id FROM credit_ewallets WHERE id = :id", id=ewallet)
        found |= {name: account, f"{name}_ewallet": ewallet, f"{name}_clock": clock}
        for kind, parent, owner in (("transfer", "ewallet", ewallet), ("invoice", "ewallet", ewallet),
                                    ("time", "clock", clock), ("conversion", "clock", clock)):  # fmt: skip
            table = "credit_ewallets" if parent == "ewallet" else "credit_clocks"
            found[f"{name}_{kind}_sheet"] = _one(
                engine, f"SELECT active_{kind}_sheet_id FROM {table} WHERE id = :id", id=owner
            )
    found["anon"] = _one(engine, "SELECT id FROM accounts WHERE anonymised")
    found["anon_ewallet"] = _one(engine, "SELECT MIN(id) FROM credit_ewallets WHERE account_id = :a", a=found["anon"])
    for kind, receiver, credits in (("supply", "alice", 500), ("payment", "bob", 40), ("transfer", "alice", 15)):
        source = _one(
            engine,
            "SELECT MIN(id) FROM transfer_records WHERE transfer_type = :kind AND to_account_id = :to AND credits = :n",
            kind=kind, to=found[receiver], n=credits,
        )  # fmt: skip
        found[kind] = source
        found[f"{kind}_in"] = _one(
            engine,
            "SELECT MIN(id) FROM transfer_records WHERE transfer_type = 'incoming' AND id > :source"
            " AND to_account_id = :to AND credits = :n",
            source=source, to=found[receiver], n=credits,
        )  # fmt: skip
        if kind != "transfer":
            found[f"{kind}_invoice"] = _one(
                engine, "SELECT id FROM invoice_records WHERE transfer_record_id = :t", t=source
            )
    found["time"] = _one(engine, "SELECT MIN(id) FROM time_records WHERE clock_id = :c", c=found["alice_clock"])
    found["time_spent"] = _one(engine, "SELECT spent_hundredths FROM time_records WHERE id = :t", t=found["time"])
    found["conversion"] = _one(
        engine, "SELECT MIN(id) FROM conversion_records WHERE clock_id = :c", c=found["alice_clock"]
    )
    found["frank_clock2"] = _one(
        engine, "SELECT MAX(id) FROM credit_clocks WHERE ewallet_id = :w", w=found["frank_ewallet"]
    )
    found["frank_ewallet2"] = _one(
        engine, "SELECT MAX(id) FROM credit_ewallets WHERE account_id = :a", a=found["frank"]
    )
    found["erin_hidden_transfer_sheet"] = _one(
        engine, "SELECT MIN(id) FROM transfer_sheets WHERE hidden AND ewallet_id = :w", w=found["erin_ewallet"]
    )
    found["frank_timer"] = _one(
        engine, "SELECT timer_record_id FROM credit_clocks WHERE id = :c", c=found["frank_clock"]
    )
    return found
