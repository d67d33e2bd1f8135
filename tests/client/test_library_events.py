"""The client library's events (PROTOCOL §12) against a real server: `subscribe` yields the
account's events in seq order while instructions go on the same client; a dropped connection or
a restarted server is resumed from the last seq, nothing lost and nothing twice; a session that
is gone ends the subscription with a reason. Client and AsyncClient run through the same tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ewallet.client import AsyncClient, Client, ConnectionFailed, EWalletError, SubscriptionLost
from tests.support import PASSWORD, SYSTEM_KEY, Running, running_server

WAIT = 10.0


class Side:
    """One client, sync or async, driven with awaits; `next_event` waits for one event."""

    def __init__(self, kind: str, port: int) -> None:
        self.kind = kind
        self.client: Any = Client("127.0.0.1", port) if kind == "sync" else AsyncClient("127.0.0.1", port)
        self.events: Any = None

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        bound = getattr(self.client, method)
        if self.kind == "sync":
            return await asyncio.to_thread(bound, *args, **kwargs)
        return await bound(*args, **kwargs)

    async def subscribe(self, **terms: Any) -> Any:
        self.events = await self.call("subscribe", **terms)
        return self.events

    async def next_event(self) -> dict[str, Any]:
        if self.kind == "sync":
            event: dict[str, Any] = await asyncio.wait_for(asyncio.to_thread(next, self.events), WAIT)
        else:
            event = await asyncio.wait_for(self.events.__anext__(), WAIT)
        return event

    async def rest(self) -> list[dict[str, Any]]:
        """What is left to iterate, once the iteration is known to end."""
        if self.kind == "sync":
            return await asyncio.wait_for(asyncio.to_thread(list, self.events), WAIT)
        return await asyncio.wait_for(_collect(self.events), WAIT)

    async def close(self) -> None:
        await self.call("close")


async def _collect(events: Any) -> list[dict[str, Any]]:
    return [event async for event in events]


async def user(kind: str, port: int, name: str, credits: int = 0) -> Side:
    side = Side(kind, port)
    await side.call("open_session")
    await side.call("create_account", name, PASSWORD, f"{name}@example.com")
    await side.call("login", f"{name}@example.com", PASSWORD)
    if credits:
        await side.call("supply_credits", credits)
    return side


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def pair(kind: str, any_server: Running) -> AsyncIterator[tuple[Side, Side]]:
    """alice (the subscriber, sync or async) and bob (who pays her, async), on each backend."""
    alice = await user(kind, any_server.port, "alice")
    bob = await user("async", any_server.port, "bob", credits=100)
    yield alice, bob
    await alice.close()
    await bob.close()


def drop_every_connection(server: Running) -> None:
    """The server side ends every TCP connection (as a crash of the connection would)."""
    for connection in list(server.app.server.connections):
        assert connection.transport is not None
        connection.transport.abort()


def credits_of(events: list[dict[str, Any]]) -> list[int]:
    return [event["data"]["record"]["credits"] for event in events]


class TestSubscribe:
    async def test_events_come_in_seq_order_while_instructions_share_the_client(self, pair: tuple[Side, Side]) -> None:
        alice, bob = pair
        subscription = await alice.subscribe(kinds=["credits_received"])
        assert subscription.last_event is not None  # her login
        seen = []
        for credits in range(1, 6):
            await bob.call("transfer", "alice@example.com", credits)
            balance = (await alice.call("view_credit_ewallet"))["ewallet_data"]["credits"]
            assert balance == sum(range(1, credits + 1))
            seen.append(await alice.next_event())
        assert credits_of(seen) == [1, 2, 3, 4, 5]
        seqs = [event["seq"] for event in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5
        last = seen[-1]
        assert last["event"] == "credits_received" and last["account"] == "alice@example.com"
        assert last["data"]["ewallet_credits"] == 15
        assert last["data"]["record"]["transfer_from"] == "bob@example.com"

    async def test_after_replays_the_stored_events(self, pair: tuple[Side, Side]) -> None:
        alice, bob = pair
        await bob.call("transfer", "alice@example.com", 1)
        await bob.call("transfer", "alice@example.com", 2)
        await alice.subscribe(after=0)
        kinds = [(await alice.next_event())["event"] for _ in range(3)]
        assert kinds == ["login", "credits_received", "credits_received"]

    async def test_unsubscribe_ends_the_iteration_after_the_events_before_it(self, pair: tuple[Side, Side]) -> None:
        alice, bob = pair
        await alice.subscribe()
        await bob.call("transfer", "alice@example.com", 3)
        first = await alice.next_event()
        assert (await alice.call("unsubscribe")) == {"unsubscribed": "events"}
        await bob.call("transfer", "alice@example.com", 4)
        assert await alice.rest() == []
        assert credits_of([first]) == [3]

    async def test_a_new_subscription_ends_the_old_ones_iteration(self, pair: tuple[Side, Side]) -> None:
        alice, bob = pair
        old = await alice.subscribe()
        await alice.subscribe(kinds=["credits_received"])
        await bob.call("transfer", "alice@example.com", 2)
        assert credits_of([await alice.next_event()]) == [2]
        alice.events = old
        assert await alice.rest() == []

    async def test_not_logged_in_raises_like_any_method(self, kind: str, server: Running) -> None:
        side = Side(kind, server.port)
        await side.call("open_session")
        with pytest.raises(EWalletError) as caught:
            await side.subscribe()
        assert caught.value.code == "not_logged_in"
        await side.close()

    async def test_unknown_kinds_are_refused_before_sending(self, kind: str, server: Running) -> None:
        side = Side(kind, server.port)
        with pytest.raises(ValueError, match="unknown event kinds"):
            await side.call("subscribe", kinds=["payday"])
        await side.close()


class TestResume:
    async def test_a_dropped_connection_resumes_from_the_last_seq(
        self, pair: tuple[Side, Side], any_server: Running
    ) -> None:
        alice, bob = pair
        await alice.subscribe(kinds=["credits_received"])
        await bob.call("transfer", "alice@example.com", 1)
        first = await alice.next_event()
        drop_every_connection(any_server)
        await asyncio.sleep(0.1)
        await bob.call("transfer", "alice@example.com", 2)  # while alice has no connection
        await bob.call("transfer", "alice@example.com", 3)
        resumed = [await alice.next_event(), await alice.next_event()]
        await bob.call("transfer", "alice@example.com", 4)
        resumed.append(await alice.next_event())
        assert credits_of([first, *resumed]) == [1, 2, 3, 4]
        seqs = [event["seq"] for event in [first, *resumed]]
        assert seqs == sorted(set(seqs))
        assert (await alice.call("view_credit_ewallet"))["ewallet_data"]["credits"] == 10

    async def test_a_restarted_server_is_waited_for(self, kind: str, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as first:
            port = first.port
            alice = await user(kind, port, "alice")
            bob = await user("async", port, "bob", credits=100)
            await alice.subscribe()
            await bob.call("transfer", "alice@example.com", 1)
            before = await alice.next_event()
            waiting = asyncio.ensure_future(alice.next_event())  # retries while nobody listens
        await asyncio.sleep(0.5)
        assert not waiting.done()
        async with running_server(sqlite_url, port=port):
            await bob.call("transfer", "alice@example.com", 2)
            after = await asyncio.wait_for(waiting, WAIT)
            await bob.call("transfer", "alice@example.com", 3)
            last = await alice.next_event()
            assert credits_of([before, after, last]) == [1, 2, 3]
            await alice.close()
            await bob.close()

    async def test_a_session_that_is_gone_ends_with_the_reason(
        self, pair: tuple[Side, Side], any_server: Running
    ) -> None:
        alice, _ = pair
        await alice.subscribe()
        system = AsyncClient("127.0.0.1", any_server.port, system_key=SYSTEM_KEY)
        await system.cleanup_sessions(session_token=alice.client.session_token)
        await system.close()
        drop_every_connection(any_server)
        with pytest.raises(SubscriptionLost) as caught:
            await alice.next_event()
        assert caught.value.code == "unauthorized"
        assert await alice.rest() == []

    async def test_giving_up_after_reconnect_for(self, kind: str, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            alice = await user(kind, running.port, "alice")
            await alice.subscribe(reconnect_for=0.5)
        with pytest.raises(ConnectionFailed) as caught:
            await alice.next_event()
        assert "could not be resumed within 0.5 s" in str(caught.value)
        await alice.close()
