"""`GET /v1/events`: the account's events as Server-Sent Events (PROTOCOL §12).

The endpoint (ewallet.http.app.event_stream) runs `subscribe=events` through the scheduler like
any typed endpoint, with an event channel whose sink is an `EventStream`. A failure is the
usual JSON answer and status. On success the response is `text/event-stream`: first the answer
as an `event: subscribed` message, then, once it is written, the subscription starts and every
event becomes one message (`id:` its seq, `event:` its kind, `data:` the event object as one
JSON line), with a comment line every `keepalive` seconds of silence.

Backpressure: the stream holds at most one page of events (what the hub read in one round, at
most scheduling.events.PAGE) that the response has not yet handed to the transport. `ready()`,
which the hub awaits before it reads the next page from the table, returns only once that page
is out, and handing it out waits while the connection's write buffer is full (uvicorn drains
before each write). So a client that does not read holds the hub at `ready()` and memory stays
bounded; nothing is lost, since the events wait in the table. The stream ends when the client
goes away (the subscription is stopped and leaves the hub), when the subscription ends (logout
of the account on that session, session expiry), or when the HTTP face stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ewallet.domain.errors import InvalidValue
from ewallet.protocol import wire
from ewallet.protocol.answers import Answer
from ewallet.scheduling.events import ConnectionEvents
from ewallet.schemas.values import MAX_ID

PATH = "/v1/events"
#: Seconds of silence after which a comment is sent, so proxies do not cut an idle stream.
KEEPALIVE_SECONDS = 15.0
KEEPALIVE = b": keep-alive\n\n"
#: Headers of the stream: not cached, not buffered by a proxy (nginx reads X-Accel-Buffering).
STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}

DESCRIPTION = f"""\
The active account's events as Server-Sent Events: the `subscribe=events` instruction, carried
by this response (there is no typed endpoint for `subscribe` or `unsubscribe`: close the stream
to unsubscribe).

Authentication as for every typed endpoint: `X-EWallet-Client-Id` and `Authorization: Bearer`.
A failure (bad ids, not logged in, a bad parameter) is the usual JSON answer and status, before
any stream. On success (200, `text/event-stream`):

- first `event: subscribed` with `data:` the subscribe answer (`{{"failed": false, "subscribed":
  "events", "last_event": ..., "oldest_event": ...}}`, plus `id` when the query gave one); it has
  no `id:` line, so it does not move an EventSource's last event id;
- then one message per event, oldest first: `id: <seq>`, `event: <kind>`, `data: <the event
  object, one JSON line>`, exactly the line a TCP subscriber receives;
- `: keep-alive` comment lines after {KEEPALIVE_SECONDS:.0f} s of silence.

`after` (query) or the `Last-Event-ID` header (what an EventSource sends when it reconnects)
also delivers the stored events with a higher seq; when both are given the header wins. `kinds`
may be repeated (`kinds=login&kinds=clock_low`) or comma-separated (`kinds=login,clock_low`).
The stream ends when the account logs out on that session or the session expires; a client
that stops reading is held by TCP backpressure and loses nothing."""


def last_event_id(header: str | None) -> int | None:
    """The seq a `Last-Event-ID` header names; None when absent or empty (the SSE spec sends an
    empty one for "no last event id")."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if not text.isdigit() or int(text) > MAX_ID:
        raise InvalidValue("Last-Event-ID must be the seq of an event (an integer)")
    return int(text)


def sse_message(data: bytes, *, event: str, seq: int | None = None) -> bytes:
    """One message; `data` is one JSON line (orjson escapes every newline inside strings)."""
    head = b"" if seq is None else b"id: %d\n" % seq
    return head + b"event: " + event.encode("ascii") + b"\ndata: " + data.rstrip(b"\n") + b"\n\n"


def event_messages(events: list[tuple[int, bytes]]) -> bytes:
    return b"".join(sse_message(line, event=str(wire.decode(line)["event"]), seq=seq) for seq, line in events)


class EventStream:
    """The EventSink of one `GET /v1/events` response (see the module's docstring)."""

    def __init__(self, keepalive: float = KEEPALIVE_SECONDS) -> None:
        self.keepalive = keepalive
        #: Events written by the hub and not yet handed to the response.
        self._page: list[tuple[int, bytes]] = []
        self._arrived = asyncio.Event()
        self._taken = asyncio.Event()
        self._taken.set()
        self.ended = False

    # -- scheduling.events.EventSink --------------------------------------------------------------

    def send_events(self, events: list[tuple[int, bytes]]) -> None:
        if self.ended:
            return
        self._page.extend(events)
        self._taken.clear()
        self._arrived.set()

    async def ready(self) -> None:
        await self._taken.wait()

    def has_room(self) -> bool:
        return self._taken.is_set()

    def closing(self) -> bool:
        return self.ended

    # -- the response's side ---------------------------------------------------------------------

    def end(self) -> None:
        """No more events: the response ends once what was written is out."""
        self.ended = True
        self._arrived.set()
        self._taken.set()  # a delivery waiting for room finds the stream closing

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._page:
                page, self._page = self._page, []
                yield event_messages(page)
                # The page went to the transport, which had room (uvicorn waits for it before
                # each write): the hub may read the next one.
                self._taken.set()
            elif self.ended:
                return
            else:
                try:
                    await asyncio.wait_for(self._arrived.wait(), self.keepalive)
                except TimeoutError:
                    yield KEEPALIVE
                    continue
                self._arrived.clear()


class EventStreams:
    """The HTTP face's open event streams, ended together when the face stops (otherwise each
    would hold the shutdown for its whole grace period)."""

    def __init__(self, keepalive: float = KEEPALIVE_SECONDS) -> None:
        self.keepalive = keepalive
        self.open: set[EventStream] = set()
        self.stopping = False

    def new(self) -> EventStream:
        return EventStream(self.keepalive)

    def add(self, stream: EventStream) -> None:
        self.open.add(stream)
        if self.stopping:
            stream.end()

    def discard(self, stream: EventStream) -> None:
        self.open.discard(stream)

    def end_all(self) -> None:
        self.stopping = True
        for stream in list(self.open):
            stream.end()

    @property
    def count(self) -> int:
        return len(self.open)


class EventStreamResponse(StreamingResponse):
    """The stream of a successful subscribe. The subscription starts only once the answer is
    written (the headers are committed before the body's first chunk is asked for), and is
    stopped however the response ends: the client gone, the subscription over, the face
    stopping, or the request task cancelled."""

    media_type = "text/event-stream"

    def __init__(self, streams: EventStreams, stream: EventStream, channel: ConnectionEvents, answer: Answer) -> None:
        self.streams = streams
        self.stream = stream
        self.channel = channel
        self.answer = answer
        super().__init__(self._body(), headers=STREAM_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.streams.add(self.stream)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.stream.end()
            self.channel.close()
            self.streams.discard(self.stream)

    async def _body(self) -> AsyncIterator[bytes]:
        yield sse_message(wire.encode(self.answer), event="subscribed")
        if self.stream.ended:
            return
        self.channel.after_answer()
        subscription = self.channel.subscription
        if subscription is None:
            return
        subscription.on_end(self.stream.end)
        async for chunk in self.stream.chunks():
            yield chunk


def openapi_parameters(parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The subscribe parameters as the query string takes them, and the Last-Event-ID header."""
    described = []
    for parameter in parameters:
        if parameter["name"] == "kinds":
            parameter = {
                **parameter,
                "style": "form",
                "explode": True,
                "description": "repeat the parameter, or separate kinds with commas; all kinds when left out",
            }
        elif parameter["name"] == "after":
            parameter = {**parameter, "description": "also the stored events with a higher seq"}
        elif parameter["name"] == "id":
            parameter = {**parameter, "description": "echoed in the subscribed message"}
        described.append(parameter)
    described.append(
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "description": "as `after` (an EventSource sends it when it reconnects); wins over `after`",
        }
    )
    return described


#: The 200 response of the OpenAPI document.
STREAM_RESPONSE: dict[str, Any] = {
    "description": "the event stream (Server-Sent Events); see the operation's description",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
