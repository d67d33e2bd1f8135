"""The HTTP face as a transport: whose address a request counts against, the connection cap it
shares with TCP, and the timeouts that close trickling and idle connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from unittest.mock import ANY

import httpx
import pytest

from tests.http.helpers import base_url, refused
from tests.probes import CLIENT_ID
from tests.support import Running, running_server


async def client_id_statuses(url: str, forwarded_for: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
        return [
            (await client.post("/v1/request/client-id", headers={"X-Forwarded-For": address})).status_code
            for address in forwarded_for
        ]


FORGED = [f"203.0.113.{n}" for n in range(1, 6)]


class TestForwardedFor:
    async def test_is_ignored_by_default_so_forged_addresses_share_one_limit(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, anon_rate=3) as running:
            assert await client_id_statuses(base_url(running), FORGED) == [200, 200, 200, 429, 429]

    async def test_is_trusted_from_the_configured_proxy_addresses(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, anon_rate=3, forwarded_allow_ips="127.0.0.1") as running:
            assert await client_id_statuses(base_url(running), FORGED) == [200] * 5

    async def test_is_ignored_from_an_address_not_configured(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, anon_rate=3, forwarded_allow_ips="192.0.2.1") as running:
            assert await client_id_statuses(base_url(running), FORGED) == [200, 200, 200, 429, 429]


async def open_http(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A bare connection to the HTTP face that sends nothing until told to."""
    host, port = running.app.http_address  # type: ignore[misc]
    return await asyncio.open_connection(host, port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float | None:
    """Seconds until the server closed the connection (anything it sent is read and dropped), or
    None when it is still open after `seconds`."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return None
    except ConnectionError:
        pass
    return time.monotonic() - started


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines if line)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 5)
    return int(status_line.split()[1]), headers, body


def request_bytes(path: str = "/v1/request/client-id", body: bytes = b"", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return f"POST {path} HTTP/1.1\r\nhost: ewallet\r\ncontent-length: {size}\r\n\r\n".encode() + body


async def close_all(*writers: asyncio.StreamWriter) -> None:
    for writer in writers:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


class TestConnectionCap:
    """One count for TCP and HTTP connections against max_connections (§1)."""

    async def test_held_http_connections_count_against_the_cap_tcp_clients_share(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, max_connections=4) as running:
            held = [await open_http(running) for _ in range(3)]
            tcp = await running.client()  # the fourth place
            assert (await tcp.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            over = await running.client()
            answer = await over.recv()
            assert answer is not None and answer["code"] == "capacity", answer
            assert await over.recv() is None
            async with httpx.AsyncClient(base_url=base_url(running), timeout=10.0) as client:
                refused(await client.post("/v1/request/client-id"), 503, "capacity")
            assert (await tcp.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            await close_all(*(writer for _, writer in held))
            await wait_until(lambda: running.app.server.cap.open == 1)
            async with httpx.AsyncClient(base_url=base_url(running), timeout=10.0) as client:
                assert (await client.post("/v1/request/client-id")).status_code == 200

    async def test_over_the_cap_an_http_client_gets_json_and_is_closed(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, max_connections=2) as running:
            held = [await open_http(running) for _ in range(2)]
            reader, writer = await open_http(running)
            writer.write(request_bytes())
            status, headers, body = await read_response(reader)
            assert (status, headers["content-type"], headers["connection"]) == (503, "application/json", "close")
            assert json.loads(body) == {"failed": True, "error": ANY, "code": "capacity"}
            assert await closed_within(reader, 3) is not None
            await close_all(writer, *(w for _, w in held))

    async def test_a_tcp_client_is_served_while_http_connections_are_held(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, max_connections=50) as running:
            held = [await open_http(running) for _ in range(40)]
            client = await running.client()
            assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            assert running.app.server.cap.open == 41
            await close_all(*(writer for _, writer in held))


class TestTimeouts:
    async def test_a_request_trickling_its_headers_is_closed_after_the_frame_timeout(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, frame_timeout=0.5, idle_timeout=30) as running:
            reader, writer = await open_http(running)
            trickling = asyncio.create_task(trickle(writer, request_bytes(), every=0.05))
            assert 0.4 <= (await closed_within(reader, 3) or 99) < 1.5
            trickling.cancel()
            await close_all(writer)

    async def test_a_request_trickling_its_body_is_closed_after_the_frame_timeout(
        self, sqlite_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with running_server(sqlite_url, http_port=0, frame_timeout=0.5, idle_timeout=30) as running:
            reader, writer = await open_http(running)
            writer.write(request_bytes("/ewallet/instruction-set", length=len(CLIENT_ID)))
            trickling = asyncio.create_task(trickle(writer, CLIENT_ID, every=0.1))
            assert 0.4 <= (await closed_within(reader, 3) or 99) < 1.5
            trickling.cancel()
            await close_all(writer)
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    async def test_a_request_completed_within_the_frame_timeout_is_answered(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, frame_timeout=1.0, idle_timeout=30) as running:
            reader, writer = await open_http(running)
            # Each request on the keep-alive connection has its own timeout: three of them take
            # far longer than one timeout. Half a timeout of slack per request: a loaded machine
            # delays a few pieces, never half a second.
            for _ in range(3):
                await trickle_within(writer, request_bytes(), seconds=0.5)
                status, _, _ = await read_response(reader)
                assert status == 200
                await asyncio.sleep(0.6)
            await close_all(writer)

    async def test_a_connection_that_never_sends_a_request_is_closed_after_the_idle_timeout(
        self, sqlite_url: str
    ) -> None:
        async with running_server(sqlite_url, http_port=0, idle_timeout=0.5) as running:
            reader, writer = await open_http(running)
            assert 0.4 <= (await closed_within(reader, 3) or 99) < 1.5
            await close_all(writer)
            await wait_until(lambda: running.app.server.cap.open == 0)

    async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, idle_timeout=0.5) as running:
            reader, writer = await open_http(running)
            writer.write(request_bytes())
            status, headers, _ = await read_response(reader)
            assert status == 200 and headers.get("connection") != "close"
            assert 0.4 <= (await closed_within(reader, 3) or 99) < 1.5
            await close_all(writer)


async def trickle(writer: asyncio.StreamWriter, data: bytes, every: float) -> None:
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)


async def trickle_within(writer: asyncio.StreamWriter, data: bytes, seconds: float, pieces: int = 8) -> None:
    """`data` in `pieces` spread over `seconds` of wall-clock time (each piece sent at its own
    deadline, so late wake-ups do not add up)."""
    start, size = time.monotonic(), -(-len(data) // pieces)
    for n, offset in enumerate(range(0, len(data), size)):
        await asyncio.sleep(max(0.0, start + n * seconds / pieces - time.monotonic()))
        writer.write(data[offset : offset + size])
        await writer.drain()


async def wait_until(condition: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)
