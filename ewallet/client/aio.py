"""The asyncio client: the same methods as Client, awaited; and `subscribe`, an async iterator of
the account's events on the same connection.

One task reads the connection: a line without `failed` is an event and goes to the subscription;
any other line is the answer to the oldest request still waiting (the server answers in request
order). So instructions can be sent while events are being iterated."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import ewallet.client.events as events
from ewallet.client.errors import ConnectionFailed, EWalletError
from ewallet.client.instructions import Instructions
from ewallet.client.sync import prepare, result

#: Called with an answer by the reading task, before any later line is read: a subscribe's answer
#: decides where the events after it go.
AnswerHook = Callable[[dict[str, Any]], None]

_END, _LOST = object(), object()


class Subscription(events.Subscribed):
    """`async for event in subscription`: the events of one `subscribe`, oldest first, each once.
    The iteration ends after `unsubscribe()`, a later `subscribe()` or `close()` (the events that
    arrived before yielded first); it resumes by itself after a dropped connection (see
    ewallet.client.events). Events not yet iterated wait in memory."""

    def __init__(self, client: AsyncClient, terms: events.Terms) -> None:
        self._client = client
        self.terms = terms
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.ended = False

    def _receive(self, event: dict[str, Any]) -> None:
        if self.terms.fresh(event):
            self._queue.put_nowait(event)

    def _lost(self) -> None:
        if not self.ended:
            self._queue.put_nowait(_LOST)

    def _end(self) -> None:
        if not self.ended:
            self.ended = True
            self._queue.put_nowait(_END)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            item = await self._queue.get()
            if item is _END:
                self._queue.put_nowait(_END)  # it stays ended
                raise StopAsyncIteration
            if item is _LOST:
                await self._client._resume(self)
                continue
            event: dict[str, Any] = item
            return event

    async def aclose(self) -> None:
        """Unsubscribe, if this is still the client's subscription."""
        if self._client._current is self:
            await self._client.unsubscribe()
        self._end()


class AsyncClient(Instructions):
    """`AsyncClient(host, port)`; `await client.view_credit_clock()`. One connection; calls on
    one client are serialised, so answers never cross."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, system_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.host, self.port, self.system_key, self.timeout = host, port, system_key, timeout
        self.client_id: str | None = None
        self.session_token: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        #: The requests sent and not yet answered, oldest first, each with its hook.
        self._waiting: deque[tuple[asyncio.Future[dict[str, Any]], AnswerHook | None]] = deque()
        #: The subscription the connection carries now; the one asked for last (resumed after a drop).
        self._live: Subscription | None = None
        self._current: Subscription | None = None

    async def connect(self) -> None:
        if self._writer is not None:
            return
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=16 << 20), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        self._reader, self._writer = reader, writer
        self._reading = asyncio.get_running_loop().create_task(self._read(reader, writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Route each line the server sends until it closes the connection."""
        why = "closed the connection"
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    parsed = json.loads(line)
                except ValueError as exc:
                    self._answer(exc)
                    continue
                if events.is_event(parsed):
                    if self._live is not None:
                        self._live._receive(parsed)
                else:
                    self._answer(parsed)
        except (OSError, ValueError) as exc:  # ValueError: a line over the reader's limit
            why = f"connection failed: {exc}"
        self._dropped(writer, f"{self.host}:{self.port} {why}")

    def _answer(self, answer: dict[str, Any] | Exception) -> None:
        if not self._waiting:
            return  # nobody asked (a server that answers a line it was never sent)
        future, hook = self._waiting.popleft()
        if isinstance(answer, Exception):
            if not future.done():
                future.set_exception(answer)
            return
        if hook is not None:
            hook(answer)
        if not future.done():  # a caller that gave up (cancelled) leaves its answer unread
            future.set_result(answer)

    def _dropped(self, writer: asyncio.StreamWriter, message: str) -> None:
        """The connection `writer` is gone: what waited on it fails, the subscription it carried
        is told (it resumes when next iterated)."""
        if writer is not self._writer:
            return  # already replaced or closed
        self._reader, self._writer, self._reading = None, None, None
        writer.close()
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionFailed(message))
        live, self._live = self._live, None
        if live is not None:
            live._lost()

    async def raw(self, instruction: dict[str, Any]) -> dict[str, Any]:
        return await self._exchange(json.dumps(instruction, separators=(",", ":")).encode() + b"\n")

    async def _exchange(
        self, line: bytes, hook: AnswerHook | None = None, wanted: Callable[[], bool] | None = None
    ) -> dict[str, Any]:
        """Send one line and wait for its answer. `wanted` is asked once the line's turn has come:
        False sends nothing and answers an empty dict."""
        async with self._lock:
            if wanted is not None and not wanted():
                return {}
            await self.connect()
            assert self._writer is not None
            writer = self._writer
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting.append((future, hook))
            try:
                writer.write(line)
                await writer.drain()
                return await asyncio.wait_for(future, self.timeout)
            except (OSError, TimeoutError) as exc:
                message = f"connection to {self.host}:{self.port} failed: {str(exc) or 'timed out'}"
                self._dropped(writer, message)
                raise ConnectionFailed(message) from None

    async def _call(self, line: bytes, hook: AnswerHook | None = None) -> dict[str, Any]:
        return result(await self._exchange(line, hook))

    def _line(self, instruction: dict[str, Any], session: bool = True) -> bytes:
        return prepare(instruction, (self.client_id, self.session_token), self.system_key, with_session=session)

    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> Any:
        return self._call(self._line(instruction, session))

    async def history(self, kind: str, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every record of `history` for the kind and filters, newest first:
        `async for record in client.history("transfer", partner="bob@example.com")`."""
        cursor = None
        while True:
            page = await self.history_page(kind, **filters, **({"cursor": cursor} if cursor else {}))
            for record in page["records"]:
                yield record
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def open_session(self) -> tuple[str, str]:
        self.client_id = (await self.request_client_id())["client_id"]
        self.session_token = (await self.request_session_token(self.client_id))["session_token"]
        return self.client_id, self.session_token

    # -- events ------------------------------------------------------------------------------------

    async def subscribe(
        self,
        after: int | None = None,
        kinds: list[str] | None = None,
        clock_low_minutes: float | None = None,
        *,
        reconnect_for: float = events.RECONNECT_FOR,
    ) -> Subscription:
        """Subscribe to the active account's events: `async for event in await
        client.subscribe()`. Without `after`, the events from now on; with it, also the stored
        ones above that seq. Replaces an earlier subscription of this client (its iteration
        ends). Raises EWalletError as other methods do (not_logged_in, ...)."""
        instruction = events.subscribe_instruction(after, kinds, clock_low_minutes)  # checks the kinds
        account = (await self.view_account())["account"]
        terms = events.Terms(list(kinds) if kinds else None, clock_low_minutes, reconnect_for, account=account)
        subscription = Subscription(self, terms)

        def hook(answer: dict[str, Any]) -> None:
            if answer.get("failed") is False:
                events.begun(terms, after, answer)
                self._bind(subscription)

        await self._call(self._line(instruction), hook)
        return subscription

    async def unsubscribe(self) -> dict[str, Any]:
        """End the subscription; its iteration yields the events that came before the answer, then
        stops."""
        if self._writer is None:  # no connection, so none carries a subscription
            self._bind(None)
            return {"unsubscribed": "events"}

        def hook(answer: dict[str, Any]) -> None:
            if answer.get("failed") is False:
                self._bind(None)

        return await self._call(self._line(dict(events.UNSUBSCRIBE)), hook)

    def _bind(self, subscription: Subscription | None) -> None:
        for old in (self._live, self._current):
            if old is not None and old is not subscription:
                old._end()
        self._live = self._current = subscription

    async def _resume(self, subscription: Subscription) -> None:
        """Subscribe again after a dropped connection, from the last seq received."""
        terms = subscription.terms
        failure: ConnectionFailed | None = None
        for pause in itertools.chain([0.0], events.pauses(terms.reconnect_for)):
            await asyncio.sleep(pause)
            if self._current is not subscription:
                return  # unsubscribed or replaced meanwhile: its end is queued
            try:
                terms.check_account((await self.view_account())["account"])

                def hook(answer: dict[str, Any]) -> None:
                    if answer.get("failed") is False:
                        self._live = subscription

                line = self._line(terms.instruction())
                result(await self._exchange(line, hook, wanted=lambda: self._current is subscription))
                return
            except ConnectionFailed as exc:
                failure = exc
            except events.SubscriptionLost:
                self._forget(subscription)
                raise
            except EWalletError as exc:
                self._forget(subscription)
                raise events.lost(exc.code, exc.message) from None
        self._forget(subscription)
        raise events.not_resumed(terms, failure)

    def _forget(self, subscription: Subscription) -> None:
        subscription._end()
        if self._current is subscription:
            self._current = None

    async def close(self) -> None:
        """Close the connection; a subscription's iteration ends (it is not resumed)."""
        self._bind(None)
        writer, reading = self._writer, self._reading
        if writer is not None:
            self._dropped(writer, f"{self.host}:{self.port}: the client closed the connection")
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        if reading is not None and reading is not asyncio.current_task():
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
