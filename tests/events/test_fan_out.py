"""The hub's fan-out (scheduling/events.py): subscriptions that wait caught up get new events from
one read for every account woken together, without a round of their own; the others (catching
up from an old `after`, joining while events flow) read page by page for themselves. Whichever
path an event takes, every subscriber gets each event of its account once, in seq order, and
nothing of another account. On a real server and socket, every backend."""

from __future__ import annotations

import asyncio

import pytest

from scripts.drills.line_client import LineClient
from tests.events.test_subscribe import Lines, subscriber, supply, transfer
from tests.support import Running

pytestmark = pytest.mark.asyncio

ACCOUNTS = 6
#: Subscribed connections per account, all caught up before the traffic starts.
WATCHERS = 4
PAYMENTS = 40


async def watcher(running: Running, owner: LineClient) -> Lines:
    """Another connection on the owner's session, subscribed from now on."""
    lines = Lines(await running.client())
    lines.client.client_id, lines.client.session_token = owner.client_id, owner.session_token
    await lines.subscribe()
    return lines


async def pay_around(payers: list[LineClient], emails: list[str], seed: int) -> None:
    """Each payer sends one credit to the next accounts in turn, all payers at once: a group
    commit then holds movements of many accounts, which one wake-up hands the hub together."""

    async def one(index: int, payer: LineClient) -> None:
        for n in range(PAYMENTS):
            await transfer(payer, emails[(index + 1 + (n + seed) % (len(emails) - 1)) % len(emails)], 1)

    await asyncio.gather(*(one(index, payer) for index, payer in enumerate(payers)))


async def test_every_subscriber_gets_its_accounts_events_once_in_order_on_either_path(any_server: Running) -> None:
    owners = [(await subscriber(any_server))[1] for _ in range(ACCOUNTS)]
    for owner in owners:
        await supply(owner, 10_000)
    emails = [owner.email for owner in owners]  # type: ignore[attr-defined]
    watchers = {
        email: [await watcher(any_server, owner) for _ in range(WATCHERS)]
        for email, owner in zip(emails, owners, strict=True)
    }

    first_half = asyncio.create_task(pay_around(owners, emails, seed=0))
    # Late joiners replay from the start of the account's events while new ones keep coming:
    # they read for themselves until they have caught up, and then join the fan-out.
    late: dict[str, Lines] = {}
    for email, owner in zip(emails, owners, strict=True):
        await asyncio.sleep(0.02)
        lines = Lines(await any_server.client())
        lines.client.client_id, lines.client.session_token = owner.client_id, owner.session_token
        await lines.subscribe(after=0, kinds=["credits_received"])
        late[email] = lines
    await first_half
    await pay_around(owners, emails, seed=1)

    # Each account received PAYMENTS from each of the others over the two rounds, and its own
    # supply before any watcher subscribed.
    received = 2 * PAYMENTS
    for email in emails:
        for lines in watchers[email]:
            events = await lines.until(received, timeout=15)
            await lines.quiet(0.3)
            seqs = [event["seq"] for event in lines.events]
            assert len(seqs) == received, f"{email}: {len(seqs)} events, {received} expected"
            assert seqs == sorted(set(seqs)), f"{email}: out of order or doubled"
            assert {event["event"] for event in events} == {"credits_received"}
        reference = [event["seq"] for event in watchers[email][0].events]
        assert all([event["seq"] for event in other.events] == reference for other in watchers[email][1:])
        replay = await late[email].until(received + 1, timeout=15)
        await late[email].quiet(0.3)
        seqs = [event["seq"] for event in late[email].events]
        assert seqs == sorted(set(seqs)) and len(seqs) == received + 1, f"{email}: the late joiner got {len(seqs)}"
        assert seqs[1:] == reference, f"{email}: the late joiner and the watchers disagree"
        balances = [event["data"]["ewallet_credits"] for event in replay]
        assert balances[0] == 10_000
    for lines in [*late.values(), *(w for ws in watchers.values() for w in ws)]:
        await lines.client.close()
