"""Slow and abusive clients (issue 8, item 3), each against a server on `port` and measured from
the client side only, so that the wire tests run them small against an in-process server and
`scripts/abuse.py` runs them big against `ewallet serve`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scripts.drills.line_client import PASSWORD, LineClient

REQUEST = b'{"controller": "client", "ctype": "action", "action": "request", "request": "client_id"}\n'
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_many(port: int, count: int, batch: int = 250) -> list[Streams]:
    connections: list[Streams] = []
    for start in range(0, count, batch):
        connections += await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(min(batch, count - start)))
        )
    return connections


def close_all(connections: list[Streams]) -> None:
    for _, writer in connections:
        writer.close()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server ends the stream (EOF or reset) within `seconds`; data is discarded."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            if await asyncio.wait_for(reader.read(65536), left) == b"":
                return True
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return False


@dataclass
class RoundTrips:
    """A well-behaved client's latencies while something else goes on."""

    seconds: list[float] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.seconds, default=float("inf"))

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("inf")


async def keep_asking(port: int, until: asyncio.Event, pause: float = 0.1) -> RoundTrips:
    client = await LineClient.connect(port)
    trips = RoundTrips()
    try:
        while not until.is_set():
            started = time.monotonic()
            answer = await client.raw(REQUEST)
            trips.seconds.append(time.monotonic() - started)
            assert answer is not None and answer["failed"] is False, answer
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), pause)
    finally:
        await client.close()
    return trips


# -- trickling ---------------------------------------------------------------------------------


@dataclass
class Trickled:
    connections: int
    #: seconds from each connection's first byte until the server closed it (inf: never)
    closed_after: list[float]
    answered: int
    others: RoundTrips


async def trickle(port: int, count: int, give_up: float = 60.0) -> Trickled:
    """`count` connections each send a request one byte a second; a normal client keeps asking
    meanwhile. Each trickler stops at the close (or after `give_up` seconds)."""
    connections = await open_many(port, count)
    answered = 0

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
        nonlocal answered
        started = time.monotonic()
        for byte in REQUEST[:-1]:
            if time.monotonic() - started > give_up:
                break
            with contextlib.suppress(ConnectionError):
                writer.write(bytes([byte]))
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                continue
            except ConnectionError:
                return time.monotonic() - started
            if data == b"":
                return time.monotonic() - started
            answered += 1
        return float("inf")

    done = asyncio.Event()
    asking = asyncio.create_task(keep_asking(port, done))
    try:
        closed_after = await asyncio.gather(*(drip(r, w) for r, w in connections))
    finally:
        done.set()
        others = await asking
        close_all(connections)
    return Trickled(count, list(closed_after), answered, others)


# -- idle connections --------------------------------------------------------------------------


@dataclass
class Idled:
    idle: int
    closed_after: list[float]
    active: int
    active_answers: int
    active_still_open: int


async def idle(port: int, idle_count: int, active_count: int, idle_timeout: float) -> Idled:
    """`idle_count` connections that never send; `active_count` that ask something three times
    per idle period, for at least three idle periods. Waits up to three idle periods (plus slack)
    for the idle ones to be closed."""
    started = time.monotonic()
    connections = await open_many(port, idle_count)
    active = [await LineClient.connect(port) for _ in range(active_count)]
    answers = 0

    async def watch(reader: asyncio.StreamReader) -> float:
        closed = await closed_within(reader, 3 * idle_timeout + 5)
        return time.monotonic() - started if closed else float("inf")

    async def chat(client: LineClient, until: asyncio.Event) -> None:
        nonlocal answers
        while not until.is_set():
            answer = await client.raw(REQUEST)
            assert answer is not None and answer["failed"] is False, answer
            answers += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), idle_timeout / 3)

    done = asyncio.Event()
    chatting = [asyncio.create_task(chat(client, done)) for client in active]
    # The active ones talk for at least three idle periods whatever the idle ones do: on a loaded
    # machine the idle ones may all be closed before the active ones have said much.
    talked_enough = asyncio.sleep(3 * idle_timeout)
    try:
        closed_after, _ = await asyncio.gather(
            asyncio.gather(*(watch(reader) for reader, _ in connections)), talked_enough
        )
    finally:
        done.set()
        await asyncio.gather(*chatting)
        close_all(connections)
    still_open = 0
    for client in active:
        answer = await client.raw(REQUEST)
        still_open += answer is not None and answer["failed"] is False
        await client.close()
    return Idled(idle_count, list(closed_after), active_count, answers, still_open)


# -- the connection cap ------------------------------------------------------------------------


@dataclass
class Capped:
    admitted: int
    refused: int
    #: each refused connection's lines before the server closed it
    refusals: list[list[bytes]]
    admitted_still_served: int


async def flood_cap(port: int, admitted: int, extra: int) -> Capped:
    """Fill the cap with `admitted` working connections, then open `extra` more at once."""
    inside = [await LineClient.connect(port) for _ in range(admitted)]
    for client in inside:
        answer = await client.raw(REQUEST)
        assert answer is not None and answer["failed"] is False, answer
    flood = await open_many(port, extra)

    async def lines_until_closed(reader: asyncio.StreamReader) -> list[bytes]:
        try:
            data = await asyncio.wait_for(reader.read(), 10)
        except (TimeoutError, ConnectionError):
            return [b"<not closed>"]
        return data.splitlines()

    refusals = await asyncio.gather(*(lines_until_closed(reader) for reader, _ in flood))
    close_all(flood)
    served = 0
    for client in inside:
        answer = await client.raw(REQUEST)
        served += answer is not None and answer["failed"] is False
        await client.close()
    return Capped(admitted, extra, list(refusals), served)


def is_capacity_line(lines: list[bytes]) -> bool:
    if len(lines) != 1:
        return False
    answer = json.loads(lines[0])
    return bool(answer.get("failed") is True and answer.get("code") == "capacity")


# -- pipelining without reading ----------------------------------------------------------------


@dataclass
class Pipelined:
    offered: int  # bytes the client tried to send
    accepted: int  # bytes the kernel took before the server stopped reading
    stalled: bool  # sending stopped for want of room: the server no longer read
    others: RoundTrips
    memory_mb: list[float]  # the server's memory, sampled while the client pushed
    answers: int  # answers read back at the end, in order
    requests: int  # complete request lines among the accepted bytes


async def pipeline_without_reading(
    port: int, megabytes: float, memory: Callable[[], float] | None = None, stall: float = 2.0
) -> Pipelined:
    """Push requests (each answer ~300 bytes) without reading, until `megabytes` are sent or
    the socket stays full for `stall` seconds; meanwhile a normal client keeps asking. Then read
    every answer back."""
    padding = "p" * 200
    line = json.dumps({"controller": "client", "ctype": "action", "action": "explode", "id": padding}).encode() + b"\n"
    total = int(megabytes * (1 << 20)) // len(line) * len(line)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    chunk = line * 256
    accepted, stalled, samples, pending = 0, False, [], b""
    done = asyncio.Event()
    asking = asyncio.create_task(keep_asking(port, done))
    last_progress = last_sample = time.monotonic()
    try:
        while accepted < total:
            now = time.monotonic()
            if memory is not None and now - last_sample > 0.1:
                samples.append(memory())
                last_sample = now
            pending = pending or chunk[: total - accepted]
            try:
                sent = sock.send(pending)
            except BlockingIOError:
                if now - last_progress > stall:
                    stalled = True
                    break
                await asyncio.sleep(0.01)
                continue
            pending, accepted, last_progress = pending[sent:], accepted + sent, now
            await asyncio.sleep(0)
    finally:
        done.set()
        others = await asking
    requests = accepted // len(line)
    answers = await _read_answers(sock, requests)
    sock.close()
    return Pipelined(total, accepted, stalled, others, samples, answers, requests)


async def _read_answers(sock: socket.socket, expected: int) -> int:
    loop = asyncio.get_running_loop()
    buffer, count = b"", 0
    while count < expected:
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 20)
        except TimeoutError:
            break
        if not data:
            break
        buffer += data
        count += buffer.count(b"\n")
        buffer = buffer[buffer.rfind(b"\n") + 1 :]
    return count


# -- wrong logins ------------------------------------------------------------------------------


@dataclass
class Guessed:
    attempts: int
    codes: Counter[str]
    #: attempt number (1-based) of the first rate_limited answer
    first_refusal: int | None
    failed_seconds: float  # mean time of an attempt refused for its wrong password
    throttled_seconds: float  # mean time of an attempt refused by the throttle, unchecked
    right_password_then: str  # the code the right password got once the address was throttled
    #: the untouched account whose right password was tried last
    untouched: str


async def guess_passwords(port: int, attempts: int, accounts: int = 5) -> Guessed:
    """One address guesses passwords of several accounts over several sessions, then tries the
    right password of an account it never guessed."""
    client = await LineClient.connect(port)
    try:
        await client.open_session()
        emails = []
        for n in range(accounts + 1):
            email = f"guessed{n}-{time.monotonic_ns()}@example.com"
            created = await client.call(
                action="new", new="account", user_name=email.split("@")[0], user_pass=PASSWORD, user_email=email
            )
            assert created["failed"] is False, created
            emails.append(email)
        codes: Counter[str] = Counter()
        first_refusal, times = None, {"invalid_credentials": [0.0], "rate_limited": [0.0]}
        for n in range(attempts):
            started = time.monotonic()
            answer = await client.call(action="login", user_email=emails[n % accounts], user_pass=f"Wrong!{n}pass")
            code = "ok" if answer["failed"] is False else answer["code"]
            codes[code] += 1
            times.setdefault(code, []).append(time.monotonic() - started)
            if code == "rate_limited" and first_refusal is None:
                first_refusal = n + 1
        right = await client.call(action="login", user_email=emails[accounts], user_pass=PASSWORD)
    finally:
        await client.close()
    return Guessed(
        attempts,
        codes,
        first_refusal,
        statistics.mean(times["invalid_credentials"][1:] or [0.0]),
        statistics.mean(times["rate_limited"][1:] or [0.0]),
        "ok" if right["failed"] is False else right["code"],
        emails[accounts],
    )


def summary(result: Any) -> dict[str, Any]:
    """Figures of a result for printing."""
    if isinstance(result, Trickled | Idled):
        closed = [t for t in result.closed_after if t != float("inf")]
        figures: dict[str, Any] = {
            "connections": len(result.closed_after),
            "closed": len(closed),
            "closed_after_min_s": round(min(closed, default=0), 2),
            "closed_after_max_s": round(max(closed, default=0), 2),
        }
        if isinstance(result, Trickled):
            figures |= {"others_worst_ms": round(result.others.worst * 1000, 1), "answered": result.answered}
        return figures
    return {}
