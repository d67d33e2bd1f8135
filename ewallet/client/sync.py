"""The blocking client: one TCP connection, reused across calls; and `subscribe`, an iterator of
the account's events that blocks until the next one comes.

Event lines (no `failed` key) that arrive while an answer is awaited are set aside for the
subscription, so instructions can be sent between events (from the same thread: the client is
not thread-safe, but `close()` from another thread ends a blocked iteration)."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import ewallet.client.events as events
from ewallet.client.errors import ConnectionFailed, EWalletError
from ewallet.client.instructions import Instructions


def prepare(
    instruction: dict[str, Any], session: tuple[str | None, str | None], system_key: str | None, *, with_session: bool
) -> bytes:
    """The request line: the session's ids added to client instructions, the key to system ones."""
    message = dict(instruction)
    if message.get("controller") == "system":
        if system_key is not None:
            message.setdefault("system_key", system_key)
    elif with_session and session[1] is not None:
        message.setdefault("client_id", session[0])
        message.setdefault("session_token", session[1])
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def result(answer: dict[str, Any]) -> dict[str, Any]:
    """The data of a success; EWalletError for a failure."""
    if answer.get("failed") is not False:
        raise EWalletError(str(answer.get("code", "unknown")), str(answer.get("error", "")), answer)
    return {key: value for key, value in answer.items() if key != "failed"}


class Events(events.Subscribed, Iterator[dict[str, Any]]):
    """`for event in client.subscribe()`: the events of one `subscribe`, oldest first, each once;
    each `next` blocks until one comes. It stops after `unsubscribe()`, a later `subscribe()` or
    `close()` (the events that came before yielded first); it resumes by itself after a dropped
    connection (see ewallet.client.events)."""

    def __init__(self, client: Client, terms: events.Terms) -> None:
        self._client = client
        self.terms = terms
        self._buffer: deque[dict[str, Any]] = deque()
        self.ended = False

    def _receive(self, event: dict[str, Any]) -> None:
        if self.terms.fresh(event):
            self._buffer.append(event)

    def __next__(self) -> dict[str, Any]:
        while True:
            if self._buffer:
                return self._buffer.popleft()
            if self.ended:
                raise StopIteration
            if self._client._live is not self:
                self._client._resume(self)  # the connection dropped since
                continue
            try:
                self._client._read_line(waiting=True)
            except ConnectionFailed:
                if self.ended:  # closed from another thread
                    raise StopIteration from None


class Client(Instructions):
    """`Client(host, port)`. Methods return the response data or raise EWalletError."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, system_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.host, self.port, self.system_key, self.timeout = host, port, system_key, timeout
        self.client_id: str | None = None
        self.session_token: str | None = None
        self._sock: socket.socket | None = None
        self._file: Any = None
        #: The subscription the connection carries now; the one asked for last (resumed after a drop).
        self._live: Events | None = None
        self._current: Events | None = None
        #: Events no subscription of this client claims (one subscribed through raw), for read_event.
        self._unclaimed: deque[dict[str, Any]] = deque()

    def connect(self) -> None:
        if self._sock is not None:
            return
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}") from None
        self._file = self._sock.makefile("rwb")

    def raw(self, instruction: dict[str, Any]) -> dict[str, Any]:
        """Send an instruction set as it is; return the server's JSON object unchanged."""
        return self._exchange(json.dumps(instruction, separators=(",", ":")).encode() + b"\n")

    def raw_line(self, line: bytes) -> dict[str, Any]:
        return self._exchange(line.rstrip(b"\r\n") + b"\n")

    def _exchange(self, line: bytes) -> dict[str, Any]:
        self.connect()
        try:
            self._file.write(line)
            self._file.flush()
        except OSError as exc:
            self._drop()
            raise ConnectionFailed(f"connection to {self.host}:{self.port} failed: {exc}") from None
        while True:
            answer = self._read_line()
            if answer is not None:
                return answer

    def _read_line(self, *, waiting: bool = False) -> dict[str, Any] | None:
        """Read one line: an answer is returned; an event goes to the subscription (None).
        `waiting` for an event: no timeout."""
        sock, file = self._sock, self._file
        if sock is None or file is None:
            raise ConnectionFailed(f"not connected to {self.host}:{self.port}")
        try:
            if waiting:
                sock.settimeout(None)
            try:
                line = file.readline()
            finally:
                if waiting:
                    with contextlib.suppress(OSError):
                        sock.settimeout(self.timeout)
        except (OSError, ValueError) as exc:  # ValueError: closed by another thread meanwhile
            self._drop()
            raise ConnectionFailed(f"connection to {self.host}:{self.port} failed: {exc}") from None
        if not line:
            self._drop()
            raise ConnectionFailed(f"{self.host}:{self.port} closed the connection")
        parsed: dict[str, Any] = json.loads(line)
        if not events.is_event(parsed):
            return parsed
        if self._live is not None:
            self._live._receive(parsed)
        else:
            self._unclaimed.append(parsed)
        return None

    def read_event(self) -> dict[str, Any]:
        """The next event line of a subscription sent through raw() or raw_line() (the ones that
        came while answers were awaited first), blocking until one comes. ConnectionFailed when
        the server closes the connection."""
        while not self._unclaimed:
            if self._read_line(waiting=True) is not None:
                continue  # an answer nobody asked for: nothing to do with it
        return self._unclaimed.popleft()

    def take_events(self) -> list[dict[str, Any]]:
        """The event lines of a raw subscription that came while answers were awaited, in order."""
        taken = list(self._unclaimed)
        self._unclaimed.clear()
        return taken

    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> dict[str, Any]:
        line = prepare(instruction, (self.client_id, self.session_token), self.system_key, with_session=session)
        return result(self._exchange(line))

    def history(self, kind: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record of `history` for the kind and filters (the keywords of history_page),
        newest first, fetching the next page as the iteration reaches it."""
        cursor = None
        while True:
            page = self.history_page(kind, **filters, **({"cursor": cursor} if cursor else {}))
            yield from page["records"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def open_session(self) -> tuple[str, str]:
        """Request a client id and a session token, and keep them for later calls."""
        self.client_id = self.request_client_id()["client_id"]
        self.session_token = self.request_session_token(self.client_id)["session_token"]
        return self.client_id, self.session_token

    # -- events ------------------------------------------------------------------------------------

    def subscribe(
        self,
        after: int | None = None,
        kinds: list[str] | None = None,
        clock_low_minutes: float | None = None,
        *,
        reconnect_for: float = events.RECONNECT_FOR,
    ) -> Events:
        """Subscribe to the active account's events: `for event in client.subscribe(): ...`.
        Without `after`, the events from now on; with it, also the stored ones above that seq.
        Replaces an earlier subscription of this client. Raises EWalletError as other methods do."""
        instruction = events.subscribe_instruction(after, kinds, clock_low_minutes)  # checks the kinds
        account = self.view_account()["account"]
        terms = events.Terms(list(kinds) if kinds else None, clock_low_minutes, reconnect_for, account=account)
        stream = Events(self, terms)
        answer = self._send(instruction)
        events.begun(terms, after, answer)
        self._bind(stream)
        return stream

    def unsubscribe(self) -> dict[str, Any]:
        """End the subscription; its iteration yields the events that came before, then stops."""
        if self._sock is None:
            self._bind(None)
            return {"unsubscribed": "events"}
        answer = self._send(dict(events.UNSUBSCRIBE))
        self._bind(None)
        return answer

    def _bind(self, stream: Events | None) -> None:
        for old in (self._live, self._current):
            if old is not None and old is not stream:
                old.ended = True
        self._live = self._current = stream

    def _resume(self, stream: Events) -> None:
        """Subscribe again after a dropped connection, from the last seq received."""
        terms = stream.terms
        failure: ConnectionFailed | None = None
        for pause in [0.0, *events.pauses(terms.reconnect_for)]:
            time.sleep(pause)
            if self._current is not stream:
                stream.ended = True
                return
            try:
                terms.check_account(self.view_account()["account"])
                self._send(terms.instruction())
                self._live = stream
                return
            except ConnectionFailed as exc:
                failure = exc
            except events.SubscriptionLost:
                self._forget(stream)
                raise
            except EWalletError as exc:
                self._forget(stream)
                raise events.lost(exc.code, exc.message) from None
        self._forget(stream)
        raise events.not_resumed(terms, failure)

    def _forget(self, stream: Events) -> None:
        stream.ended = True
        if self._current is stream:
            self._current = None

    def _drop(self) -> None:
        """Close the connection, keeping the subscription to resume on the next one. Safe from
        another thread: shutting the socket down first wakes a read blocked on it."""
        sock, file = self._sock, self._file
        self._sock = self._file = None
        self._live = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for closable in (file, sock):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()

    def close(self) -> None:
        """Close the connection; a subscription's iteration ends (it is not resumed)."""
        self._bind(None)
        self._drop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
