"""subscribe=events over TCP, on a real server and socket, on every backend: the answer comes
first, then the account's events, each once, in seq order, filtered by kind; answers keep their
order between events; unsubscribe, a new subscribe and a logout end what came before."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from scripts.drills.line_client import PASSWORD, LineClient
from tests.support import Running, new_account, running_server

pytestmark = pytest.mark.asyncio


class Lines:
    """A subscribed connection's lines, sorted into answers and events as they arrive."""

    def __init__(self, client: LineClient) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.order: list[str] = []

    async def _read(self, timeout: float) -> bool:
        line = await asyncio.wait_for(self.client.reader.readline(), timeout)
        if not line:
            return False
        obj = json.loads(line)
        if "failed" in obj:
            self.answers.append(obj)
            self.order.append("answer")
        else:
            self.events.append(obj)
            self.order.append(f"event {obj['seq']}")
        return True

    async def call(self, **instruction: Any) -> dict[str, Any]:
        """Send an instruction and return its answer; events before it are kept."""
        instruction.setdefault("controller", "client")
        instruction.setdefault("ctype", "action")
        instruction.setdefault("client_id", self.client.client_id)
        instruction.setdefault("session_token", self.client.session_token)
        await self.client.send(json.dumps(instruction).encode() + b"\n")
        seen = len(self.answers)
        while len(self.answers) == seen:
            assert await self._read(10.0), "the server closed the connection"
        return self.answers[-1]

    async def subscribe(self, **params: Any) -> dict[str, Any]:
        answer = await self.call(action="subscribe", subscribe="events", **params)
        assert answer["failed"] is False, answer
        return answer

    async def until(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` events have arrived in all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.events) < count:
            left = deadline - loop.time()
            assert left > 0, f"only {len(self.events)} of {count} events: {self.events}"
            try:
                await self._read(left)
            except TimeoutError:
                continue
        return self.events

    async def quiet(self, seconds: float = 0.7) -> None:
        """Nothing more arrives for a while (cross-process delivery takes up to 0.5 s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                await self._read(left)
            except TimeoutError:
                return


async def subscriber(running: Running) -> tuple[Lines, LineClient]:
    """A logged-in account's connection wrapped for events."""
    client = await running.user()
    return Lines(client), client


async def supply(client: LineClient | Lines, credits: int) -> dict[str, Any]:
    answer = await client.call(action="supply", supply="credits", credits=credits, currency="EUR", cost=1)
    assert answer["failed"] is False, answer
    return answer


async def transfer(client: LineClient, to: str, credits: int) -> dict[str, Any]:
    answer = await client.call(action="transfer", transfer="credits", transfer_to=to, credits=credits)
    assert answer["failed"] is False, answer
    return answer


class TestSubscribe:
    async def test_the_answer_comes_first_then_a_payment_as_it_commits(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        answer = await lines.subscribe()
        assert answer["subscribed"] == "events"
        assert answer["last_event"] is not None  # alice's own login
        assert answer["oldest_event"] == answer["last_event"]
        bob = await any_server.user()
        await supply(bob, 50)
        await transfer(bob, alice.email, 7)  # type: ignore[attr-defined]
        [event] = await lines.until(1)
        assert set(event) == {"event", "seq", "at", "account", "data"}
        assert event["event"] == "credits_received"
        assert event["account"] == alice.email  # type: ignore[attr-defined]
        assert event["seq"] > answer["last_event"]
        assert event["data"]["ewallet_credits"] == 7
        record = event["data"]["record"]
        view = await lines.call(action="view", view="transfer", transfer="record", record_id=record["id"])
        assert view["record_data"] == record
        assert record["transfer_type"] == "incoming"
        assert record["transfer_from"] == bob.email  # type: ignore[attr-defined]
        assert lines.order[:2] == ["answer", f"event {event['seq']}"]

    async def test_a_supply_is_announced_to_the_buyer_with_the_balance_after(self, any_server: Running) -> None:
        lines, _alice = await subscriber(any_server)
        await lines.subscribe()
        await supply(lines, 30)
        await supply(lines, 12)
        events = await lines.until(2)
        assert [e["data"]["ewallet_credits"] for e in events] == [30, 42]
        assert [e["data"]["record"]["credits"] for e in events] == [30, 12]
        assert events[0]["seq"] < events[1]["seq"]

    async def test_after_replays_stored_events_oldest_first_then_new_ones(self, any_server: Running) -> None:
        _, alice = await subscriber(any_server)
        await supply(alice, 1)
        await supply(alice, 2)
        lines = Lines(await any_server.client())
        lines.client.client_id, lines.client.session_token = alice.client_id, alice.session_token
        first = await lines.subscribe(after=0)
        await supply(alice, 3)
        events = await lines.until(4)
        assert [e["event"] for e in events] == ["login", "credits_received", "credits_received", "credits_received"]
        assert [e["data"].get("ewallet_credits") for e in events[1:]] == [1, 3, 6]
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == 4
        assert first["oldest_event"] == seqs[0]
        assert first["last_event"] == seqs[2]
        # Resuming after the second event: the rest, once.
        again = Lines(await any_server.client())
        again.client.client_id, again.client.session_token = alice.client_id, alice.session_token
        await again.subscribe(after=seqs[1])
        assert [e["seq"] for e in await again.until(2)] == seqs[2:]
        await again.quiet(0.3)
        assert len(again.events) == 2

    async def test_without_after_only_what_commits_later(self, any_server: Running) -> None:
        lines, _alice = await subscriber(any_server)
        await supply(lines, 5)
        await lines.subscribe()
        await lines.quiet(0.3)
        assert lines.events == []
        await supply(lines, 6)
        [event] = await lines.until(1)
        assert event["data"]["ewallet_credits"] == 11

    async def test_kinds_filters(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        await lines.subscribe(after=0, kinds=["credits_received"])
        await supply(lines, 5)
        [event] = await lines.until(1)
        assert event["event"] == "credits_received"  # the stored login was left out
        logins = Lines(await any_server.client())
        logins.client.client_id, logins.client.session_token = alice.client_id, alice.session_token
        await logins.subscribe(after=0, kinds=["login"])
        [login] = await logins.until(1)
        assert login["event"] == "login"
        assert set(login["data"]) == {"login_record", "session"}
        await supply(lines, 1)
        await logins.quiet(0.3)
        assert len(logins.events) == 1

    async def test_an_event_of_another_account_never_arrives(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        await lines.subscribe()
        bob = await any_server.user()
        carol = await any_server.user()
        await supply(bob, 10)
        await transfer(bob, carol.email, 4)  # type: ignore[attr-defined]
        await transfer(bob, alice.email, 1)  # type: ignore[attr-defined]
        [event] = await lines.until(1)
        assert event["data"]["ewallet_credits"] == 1
        await lines.quiet(0.3)
        assert len(lines.events) == 1

    @pytest.mark.parametrize(
        "params",
        [
            {"kinds": ["credits_received", "nonsense"]},
            {"kinds": []},
            {"kinds": "login"},
            {"after": -1},
            {"after": "5"},
            {"clock_low_minutes": 0},
            {"clock_low_minutes": 1.234},
            {"unknown": 1},
        ],
    )
    async def test_bad_parameters_are_invalid_value_and_subscribe_nothing(
        self, server: Running, params: dict[str, Any]
    ) -> None:
        lines, _alice = await subscriber(server)
        answer = await lines.call(action="subscribe", subscribe="events", **params)
        assert answer["failed"] is True and answer["code"] == "invalid_value", answer
        await supply(lines, 5)
        await lines.quiet(0.3)
        assert lines.events == []

    async def test_not_logged_in_is_refused(self, server: Running) -> None:
        client = await server.session()
        answer = await client.call(action="subscribe", subscribe="events")
        assert answer["code"] == "not_logged_in"


class TestEndsAndReplacements:
    async def test_unsubscribe_stops_delivery_after_its_answer(self, any_server: Running) -> None:
        lines, _alice = await subscriber(any_server)
        await lines.subscribe()
        await supply(lines, 1)
        await lines.until(1)
        answer = await lines.call(action="unsubscribe", unsubscribe="events")
        assert answer == {"failed": False, "unsubscribed": "events"}
        await supply(lines, 1)
        await lines.quiet(0.3)
        assert len(lines.events) == 1

    async def test_a_new_subscription_replaces_the_old_one_no_event_twice(self, any_server: Running) -> None:
        lines, _alice = await subscriber(any_server)
        await lines.subscribe()
        await lines.subscribe()
        await supply(lines, 1)
        await lines.until(1)
        await lines.quiet(0.3)
        assert len(lines.events) == 1

    async def test_logout_of_the_account_on_that_session_ends_it(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        await lines.subscribe()
        bob = await any_server.user()
        await supply(bob, 10)
        assert (await lines.call(action="logout"))["failed"] is False
        await transfer(bob, alice.email, 2)  # type: ignore[attr-defined]
        await lines.quiet(0.7)
        assert lines.events == []

    async def test_the_connection_closing_frees_the_subscription(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        await lines.subscribe()
        assert any_server.app.hub.count == 1
        await alice.close()
        for _ in range(100):
            if any_server.app.hub.count == 0:
                break
            await asyncio.sleep(0.02)
        assert any_server.app.hub.count == 0

    async def test_a_subscribed_connection_is_not_closed_as_idle(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, idle_timeout=0.3) as running:
            lines, alice = await subscriber(running)
            await lines.subscribe()
            await asyncio.sleep(0.8)
            bob = await running.user()
            await supply(bob, 3)
            await transfer(bob, alice.email, 3)  # type: ignore[attr-defined]
            [event] = await lines.until(1)
            assert event["data"]["ewallet_credits"] == 3


class TestInterleaving:
    async def test_pipelined_answers_keep_their_order_among_events(self, any_server: Running) -> None:
        lines, alice = await subscriber(any_server)
        await lines.subscribe()
        bob = await any_server.user()
        await supply(bob, 1000)

        async def pay() -> None:
            for _ in range(40):
                await transfer(bob, alice.email, 1)  # type: ignore[attr-defined]

        payer = asyncio.create_task(pay())
        base = {"client_id": alice.client_id, "session_token": alice.session_token}
        requests = [
            {"controller": "client", "ctype": "action", "action": "view", "view": "credit", "credit": "ewallet",
             "id": n, **base}
            for n in range(60)
        ]  # fmt: skip
        await alice.send(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        while len(lines.answers) < 61:  # the subscribe answer and 60 views
            assert await lines._read(10.0)
        await payer
        events = await lines.until(40)
        assert [a["id"] for a in lines.answers[1:]] == list(range(60))
        assert [e["data"]["ewallet_credits"] for e in events] == list(range(1, 41))


class TestAcrossProcesses:
    async def test_an_event_committed_by_another_server_arrives_within_a_second(self, database_url: str) -> None:
        async with running_server(database_url) as first, running_server(database_url) as second:
            lines, alice = await subscriber(first)
            await lines.subscribe()
            bob = await second.user()
            await supply(bob, 5)
            loop = asyncio.get_running_loop()
            await transfer(bob, alice.email, 5)  # type: ignore[attr-defined]
            paid = loop.time()
            [event] = await lines.until(1, timeout=1.0)
            assert loop.time() - paid < 1.0
            assert event["data"]["ewallet_credits"] == 5


class TestSessionExpiry:
    async def test_the_subscription_ends_when_its_session_expires(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="request", request="client_id")
        client.client_id = answer["client_id"]
        ends = (server.clock.now() + timedelta(seconds=2)).strftime("%d-%m-%Y %H:%M:%S")
        answer = await client.call(
            action="request", request="session_token", client_id=client.client_id, expiration_date=ends
        )
        assert answer["failed"] is False, answer
        client.session_token = answer["session_token"]
        await new_account(client)
        assert (await client.call(action="login", user_email=client.email, user_pass=PASSWORD))["failed"] is False  # type: ignore[attr-defined]
        lines = Lines(client)
        await lines.subscribe()
        assert server.app.hub.count == 1
        server.clock.advance(seconds=5)  # the server's clock passes the expiry; real time follows
        for _ in range(150):
            if server.app.hub.count == 0:
                break
            await asyncio.sleep(0.02)
        assert server.app.hub.count == 0
