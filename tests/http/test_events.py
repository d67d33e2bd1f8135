"""GET /v1/events: the account's events as Server-Sent Events, on a real server and socket, on
each backend: the subscribe answer first, then one message per event (id = seq, event = kind,
data = the TCP event line); Last-Event-ID resumes without a duplicate; kinds filter; failures
are the usual JSON answers; the subscription is freed when the client goes, ended by logout and
by the face stopping; a client that does not read holds the hub (nothing piles up in memory)
and then gets every event in order."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from ewallet.clock import ManualClock
from ewallet.domain import events
from ewallet.http.events import EventStreams
from ewallet.scheduling.events import PAGE, EventHub
from tests.http.helpers import Http, ok, refused
from tests.http.sse import Message, SseReader
from tests.support import Running, running_server

EVENTS = "/v1/events"


@pytest.fixture
async def events_server(database_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    async with running_server(database_url, clock, http_port=0) as running:
        yield running


@pytest.fixture
async def user(events_server: Running) -> AsyncIterator[Http]:
    async with Http.to(events_server) as http:
        await http.new_user()
        yield http


def hub_of(running: Running) -> EventHub:
    return running.app.hub


def streams_of(running: Running) -> EventStreams:
    assert running.app.http is not None
    streams: EventStreams = running.app.http.asgi.state.event_streams
    return streams


@asynccontextmanager
async def stream(
    http: Http, params: Any = None, headers: dict[str, str] | None = None, client: httpx.AsyncClient | None = None
) -> AsyncIterator[SseReader]:
    """An open event stream whose subscribed message has been read (in `reader.subscribed`)."""
    sent = {**http.session_headers, **(headers or {})}
    async with (client or http.client).stream("GET", EVENTS, params=params, headers=sent) as response:
        reader = SseReader(response)
        subscribed = await reader.next()
        assert subscribed is not None and subscribed.event == "subscribed", subscribed
        assert subscribed.id is None  # it does not move an EventSource's last event id
        reader.subscribed = subscribed.json  # type: ignore[attr-defined]
        yield reader


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def supply(http: Http, credits: int) -> dict[str, Any]:
    return ok(await http.typed("/v1/supply/credits", credits=credits))


def check_event(message: Message, kind: str) -> dict[str, Any]:
    """The message carries the event line exactly: its id is the seq, its event the kind."""
    event = message.json
    assert message.event == kind == event["event"], message
    assert message.id == str(event["seq"]), message
    assert set(event) == {"event", "seq", "at", "account", "data"}
    return event


class TestDelivery:
    async def test_events_arrive_as_sse_messages_after_the_subscribed_message(
        self, user: Http, events_server: Running
    ) -> None:
        async with stream(user, params={"id": 7}) as reader:
            subscribed = reader.subscribed  # type: ignore[attr-defined]
            assert subscribed["failed"] is False and subscribed["subscribed"] == "events"
            assert subscribed["id"] == 7
            login_seq = subscribed["last_event"]  # the login event, stored before the stream
            assert isinstance(login_seq, int)
            assert reader.response.headers["cache-control"] == "no-cache"
            await supply(user, 5)
            await supply(user, 7)
            first, second = [check_event(m, "credits_received") for m in await reader.events(2)]
            assert first["seq"] > login_seq and second["seq"] > first["seq"]
            assert (first["data"]["ewallet_credits"], second["data"]["ewallet_credits"]) == (5, 12)
            assert first["data"]["record"]["transfer_type"] == "incoming"
            assert hub_of(events_server).count == 1

    async def test_after_delivers_the_stored_events_first(self, user: Http) -> None:
        async with stream(user, params={"after": 0}) as reader:
            login = check_event((await reader.events(1))[0], "login")
            assert login["seq"] == reader.subscribed["last_event"]  # type: ignore[attr-defined]

    async def test_last_event_id_resumes_without_a_duplicate_and_wins_over_after(self, user: Http) -> None:
        async with stream(user) as reader:
            for credits in (1, 2, 3):
                await supply(user, credits)
            seen = [check_event(m, "credits_received") for m in await reader.events(3)]
        # Reconnecting as an EventSource does: the same URL (here with after=0), and the last id.
        async with stream(user, params={"after": 0}, headers={"Last-Event-ID": str(seen[0]["seq"])}) as reader:
            await supply(user, 4)
            resumed = [check_event(m, "credits_received") for m in await reader.events(3)]
        assert [e["seq"] for e in resumed[:2]] == [e["seq"] for e in seen[1:]]
        assert [e["data"]["ewallet_credits"] for e in resumed] == [3, 6, 10]

    @pytest.mark.parametrize(
        "kinds",
        [
            [("kinds", "login"), ("kinds", "credits_received")],
            [("kinds", "login,credits_received")],
            [("kinds", "credits_received , login")],
        ],
        ids=["repeated", "comma-separated", "spaces"],
    )
    async def test_kinds_may_be_repeated_or_comma_separated(self, user: Http, kinds: list[tuple[str, str]]) -> None:
        await supply(user, 1)
        async with stream(user, params=[("after", "0"), *kinds]) as reader:
            received = [m.event for m in await reader.events(2)]
        assert received == ["login", "credits_received"]

    async def test_kinds_filter_out_the_others(self, user: Http) -> None:
        async with stream(user, params={"after": 0, "kinds": "credits_received"}) as reader:
            await supply(user, 9)
            event = check_event((await reader.events(1))[0], "credits_received")  # the login skipped
            assert event["data"]["ewallet_credits"] == 9

    async def test_a_keep_alive_comment_is_sent_while_nothing_happens(self, user: Http, events_server: Running) -> None:
        streams_of(events_server).keepalive = 0.1
        async with stream(user) as reader:
            await asyncio.sleep(0.35)
            await supply(user, 1)
            message = (await reader.events(1))[0]
            check_event(message, "credits_received")
            assert message.comments and set(message.comments) == {"keep-alive"}


class TestRefusals:
    async def test_no_ids_is_401_json(self, raw_http: httpx.AsyncClient) -> None:
        refused(await raw_http.get(EVENTS), 401, "unauthorized")

    async def test_a_session_without_a_login_is_401_not_logged_in(self, http: Http) -> None:
        await http.open_session()
        refused(await http.client.get(EVENTS, headers=http.session_headers), 401, "not_logged_in")

    async def test_a_wrong_token_is_401(self, http: Http) -> None:
        await http.new_user()
        headers = {**http.session_headers, "Authorization": "Bearer ewsm-st:nope"}
        refused(await http.client.get(EVENTS, headers=headers), 401, "unauthorized")

    @pytest.mark.parametrize(
        ("params", "headers"),
        [
            ({"kinds": "birthday"}, {}),
            ({"kinds": ""}, {}),
            ({"after": "-1"}, {}),
            ({"after": "soon"}, {}),
            ({"clock_low_minutes": "0"}, {}),
            ({"colour": "blue"}, {}),
            ({}, {"Last-Event-ID": "seven"}),
            ({}, {"Last-Event-ID": "-3"}),
        ],
    )
    async def test_a_bad_parameter_is_400_invalid_value_and_nothing_subscribes(
        self, http: Http, http_server: Running, params: dict[str, str], headers: dict[str, str]
    ) -> None:
        await http.new_user()
        answer = await http.client.get(EVENTS, params=params, headers={**http.session_headers, **headers})
        refused(answer, 400, "invalid_value")
        assert hub_of(http_server).count == 0

    async def test_the_token_in_the_query_string_is_refused(self, http: Http) -> None:
        await http.new_user()
        assert http.session_token is not None
        answer = await http.client.get(
            EVENTS, params={"session_token": http.session_token}, headers=http.session_headers
        )
        body = refused(answer, 400, "invalid_value")
        assert http.session_token not in body["error"]

    async def test_post_is_405(self, http: Http) -> None:
        answer = await http.client.post(EVENTS)
        refused(answer, 405, "unknown_action")
        assert answer.headers["allow"] == "GET"

    async def test_subscribe_has_no_typed_endpoint_and_the_generic_one_points_to_get_events(self, http: Http) -> None:
        await http.new_user()
        for path in ("/v1/subscribe/events", "/v1/unsubscribe/events"):
            refused(await http.typed(path), 404, "unknown_action")
            refused(await http.client.get(path, headers=http.session_headers), 404, "unknown_action")
        body = refused(await http.instruction(action="subscribe", subscribe="events"), 400, "invalid_value")
        assert "GET /v1/events" in body["error"]


class TestEnd:
    async def test_closing_the_stream_frees_the_subscription(self, user: Http, events_server: Running) -> None:
        async with stream(user):
            assert hub_of(events_server).count == 1
            assert streams_of(events_server).count == 1
        await eventually(lambda: hub_of(events_server).count == 0 and streams_of(events_server).count == 0)

    async def test_a_dropped_connection_frees_the_subscription(self, user: Http, events_server: Running) -> None:
        """The client vanishes without reading or writing anything more (no keep-alive due)."""
        host, port = events_server.app.http_address  # type: ignore[misc]
        reader, writer = await asyncio.open_connection(host, port)
        head = "".join(f"{name}: {value}\r\n" for name, value in user.session_headers.items())
        writer.write(f"GET {EVENTS} HTTP/1.1\r\nhost: {host}\r\n{head}\r\n".encode())
        await reader.readuntil(b"event: subscribed")
        await eventually(lambda: hub_of(events_server).count == 1)
        writer.close()
        await eventually(lambda: hub_of(events_server).count == 0 and streams_of(events_server).count == 0)

    async def test_logout_ends_the_stream(self, user: Http, events_server: Running) -> None:
        async with stream(user) as reader:
            ok(await user.typed("/v1/logout"))
            assert await reader.next() is None
        assert hub_of(events_server).count == 0

    async def test_session_expiry_ends_the_stream(self, user: Http, events_server: Running, clock: ManualClock) -> None:
        async with stream(user) as reader:
            clock.advance(days=2)
            for subscriptions in list(hub_of(events_server).subscriptions.values()):
                for subscription in list(subscriptions):
                    subscription.check_session()  # as its expiry timer does, on the real clock
            assert await reader.next() is None
        assert hub_of(events_server).count == 0

    async def test_the_face_stopping_ends_the_stream_at_once(self, user: Http, events_server: Running) -> None:
        assert events_server.app.http is not None
        async with stream(user) as reader:
            started = time.monotonic()
            await asyncio.wait_for(events_server.app.http.stop(), 3.0)
            assert await reader.next() is None
        assert time.monotonic() - started < 3.0
        assert hub_of(events_server).count == 0


class TestTransportLimits:
    async def test_an_idle_stream_outlives_the_idle_and_frame_timeouts(
        self, sqlite_url: str, clock: ManualClock
    ) -> None:
        """Those timeouts close connections the client leaves idle; a stream waits on the server."""
        short = {"idle_timeout": 0.3, "frame_timeout": 0.3}
        async with running_server(sqlite_url, clock, http_port=0, **short) as running, Http.to(running) as http:
            await http.new_user()
            async with stream(http) as reader:
                await asyncio.sleep(1.0)
                await supply(http, 3)
                check_event((await reader.events(1))[0], "credits_received")


def _insert_logins(hub: EventHub, account_id: int, count: int) -> int:
    """`count` login events of the account in one transaction (faster than that many logins);
    the seq of the last."""
    with hub.write.begin() as db:
        now = hub.clock.now()
        last = 0
        for number in range(count):
            last = events.record(db, account_id, events.LOGIN, {"login_record": number, "session": 1}, now)
    return last


def _stream_transport(running: Running) -> asyncio.Transport:
    """The server's side of the one open GET /v1/events connection."""
    assert running.app.http is not None and running.app.http._server is not None
    connections = running.app.http._server.server_state.connections
    (connection,) = [c for c in connections if getattr(c, "scope", {}).get("path") == EVENTS]
    transport: asyncio.Transport = connection.transport  # type: ignore[attr-defined]
    return transport


class TestBackpressure:
    async def test_a_client_that_does_not_read_holds_the_hub_then_gets_everything_in_order(
        self, user: Http, events_server: Running
    ) -> None:
        hub = hub_of(events_server)
        count = 5000
        async with stream(user) as reader:
            # A small send buffer in the server's kernel (on loopback it would grow to megabytes):
            # what the client leaves unread soon reaches the server's own buffers. (The client's
            # kernel takes its initial window, ~1000 events here.)
            server_side = _stream_transport(events_server)
            server_side.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
            (account_id,) = hub.accounts()
            (subscription,) = hub.subscriptions[account_id]
            (sink,) = streams_of(events_server).open
            first = subscription.after
            loop = asyncio.get_running_loop()
            last = await loop.run_in_executor(None, _insert_logins, hub, account_id, count)
            # The hub reads while the buffers take more, then waits for the client.
            previous = -1
            while subscription.after != previous:
                previous = subscription.after
                await asyncio.sleep(0.3)
            held = subscription.after - first
            assert held < count // 2, f"{held} of {count} events read although the client read none"
            # In memory: the transport's buffer up to its high-water mark, one page beyond it
            # (uvicorn writes a chunk, then waits), and the page the stream holds.
            assert server_side.get_write_buffer_size() < 64 * 1024 + PAGE * 400
            assert len(sink._page) <= PAGE
            # Reading now (at loopback speed again) gets every event, once each, in order.
            server_side.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            received = await reader.events(count, timeout=30.0)
        seqs = [int(m.id or 0) for m in received]
        assert seqs == sorted(set(seqs)) and seqs[-1] == last
        assert [m.json["data"]["login_record"] for m in received] == list(range(count))
