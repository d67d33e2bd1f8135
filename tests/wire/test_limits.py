"""Transport limits (§1): frame size, frame and idle timeouts, the connection cap and output
backpressure, each on a real socket."""

import asyncio
import contextlib
import socket
import sqlite3
import time
from unittest.mock import ANY

from ewallet.transport.line_queue import MAX_QUEUED_LINES
from tests.probes import CLIENT_ID, line
from tests.support import LineClient, Running, running_server

KIB = 1024
MIB = 1024 * KIB


async def closed_by_server(client: LineClient, within: float) -> bool:
    """True when the server closes the connection (EOF) within `within` seconds."""
    try:
        data = await asyncio.wait_for(client.reader.read(), within)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b""


class TestFrameSize:
    async def test_answers_a_200_kib_line_with_frame_too_large_and_stays_usable(self, server: Running) -> None:
        client = await server.client()
        await client.send(b'{"controller": "' + b"x" * (200 * KIB) + b'"}\n' + line(action="explode", id=2) + CLIENT_ID)
        assert (await client.recv())["code"] == "frame_too_large"  # type: ignore[index]
        assert (await client.recv())["id"] == 2  # type: ignore[index]
        assert (await client.recv())["failed"] is False  # type: ignore[index]
        await client.close()

    async def test_answers_an_oversized_line_once_however_it_arrives(self, server: Running) -> None:
        client = await server.client()
        for _ in range(20):
            await client.send(b"y" * (16 * KIB))
            await asyncio.sleep(0.005)
        await client.send(b"\n" + CLIENT_ID)
        assert (await client.recv())["code"] == "frame_too_large"  # type: ignore[index]
        assert (await client.recv())["failed"] is False  # type: ignore[index]
        await client.close()

    async def test_answers_as_soon_as_a_line_passes_the_limit_before_its_newline(self, server: Running) -> None:
        client = await server.client()
        await client.send(b"y" * (server.app.settings.max_frame + 2 * KIB))
        assert (await client.recv())["code"] == "frame_too_large"  # type: ignore[index]
        await client.send(b"rest of the long line\n" + CLIENT_ID)
        assert (await client.recv())["failed"] is False  # type: ignore[index]

    async def test_accepts_a_line_of_exactly_the_limit(self, server: Running) -> None:
        client = await server.client()
        padded = CLIENT_ID[:-1].ljust(server.app.settings.max_frame, b" ")
        answer = await client.raw(padded + b"\r\n")
        assert answer is not None and answer["failed"] is False
        answer = await client.raw(padded + b" \n")
        assert answer is not None and answer["code"] == "frame_too_large"
        await client.close()

    async def test_closes_after_the_error_when_more_than_1_mib_follows_without_newline(self, server: Running) -> None:
        client = await server.client()
        blob = b"z" * (server.app.settings.max_frame + MIB + 64 * KIB)

        async def push() -> None:
            with contextlib.suppress(ConnectionError):
                await client.send(blob)

        pushing = asyncio.create_task(push())
        answer = await client.recv()
        assert answer is not None and answer["code"] == "frame_too_large"
        # The server half-closes after the error line and drains what we still send, so the close
        # is a clean end of stream, never a reset that could swallow the error line.
        assert await client.recv(timeout=5) is None
        await pushing
        await client.close()

    async def test_keeps_the_connection_when_just_under_1_mib_follows(self, server: Running) -> None:
        client = await server.client()
        await client.send(b"z" * (server.app.settings.max_frame + MIB - KIB) + b"\n" + CLIENT_ID)
        assert (await client.recv())["code"] == "frame_too_large"  # type: ignore[index]
        assert (await client.recv())["failed"] is False  # type: ignore[index]
        await client.close()


class TestTimeouts:
    async def test_closes_a_line_not_completed_in_time(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, frame_timeout=0.5, idle_timeout=30) as running:
            client = await running.client()
            await client.send(b'{"controller": "cli')
            started = time.monotonic()
            assert await closed_by_server(client, within=3)
            assert 0.4 <= time.monotonic() - started < 2.5
            await client.close()

    async def test_a_slowly_completed_line_within_the_limit_is_answered(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, frame_timeout=0.5, idle_timeout=30) as running:
            client = await running.client()
            await client.send(CLIENT_ID[:20])
            await asyncio.sleep(0.2)
            answer = await client.raw(CLIENT_ID[20:])
            assert answer is not None and answer["failed"] is False
            await client.close()

    async def test_closes_an_idle_connection(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, idle_timeout=0.5) as running:
            client = await running.client()
            started = time.monotonic()
            assert await closed_by_server(client, within=3)
            assert 0.4 <= time.monotonic() - started < 2.5
            await client.close()

    async def test_activity_keeps_a_connection_open(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, idle_timeout=0.5) as running:
            client = await running.client()
            for _ in range(5):
                await asyncio.sleep(0.25)
                answer = await client.raw(CLIENT_ID)
                assert answer is not None and answer["failed"] is False
            assert await closed_by_server(client, within=3)
            await client.close()


class TestPipelining:
    """The frame timeout applies to each line from its own first byte (§1): a client that keeps
    pipelining complete lines is never cut, however long it goes on."""

    async def test_a_client_pipelining_longer_than_the_frame_timeout_gets_every_answer(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, frame_timeout=0.5, idle_timeout=30) as running:
            client = await running.client()
            stream = b"".join(line(action="explode", id=n) for n in range(4000))
            # Every write ends inside a line, so a line is always pending; each one completes in
            # a few milliseconds, and the whole stream takes four times the frame timeout.
            chunk = len(stream) // 200 + 7

            async def push() -> None:
                for start in range(0, len(stream), chunk):
                    await client.send(stream[start : start + chunk])
                    await asyncio.sleep(0.01)

            pushing = asyncio.create_task(push())
            ids = [answer["id"] for _ in range(4000) if (answer := await client.recv(timeout=5)) is not None]
            await pushing
            assert ids == list(range(4000))

    async def test_a_pipeline_far_beyond_the_line_queue_is_answered_completely(self, sqlite_url: str) -> None:
        """20,000 lines sent at once: reading pauses and resumes many times (256 queued lines),
        with a partial line pending at each pause, for several frame timeouts. Every 20th line
        runs on the database (the connection is busy then); the rest fail fast."""
        count = 20000

        def request(n: int) -> bytes:
            return line(action="request", request="client_id", id=n) if n % 20 == 0 else line(action="explode", id=n)

        async with running_server(sqlite_url, frame_timeout=1.0, idle_timeout=30) as running:
            client = await running.client()
            client.writer.write(b"".join(request(n) for n in range(count)))
            draining = asyncio.create_task(client.writer.drain())
            answered = 0
            while answered < count:
                try:
                    answer = await client.recv(timeout=5)
                except TimeoutError:
                    raise AssertionError(f"no answer after {answered} answers") from None
                assert answer is not None, f"closed after {answered} answers"
                assert answer["id"] == answered and answer["failed"] is (answered % 20 != 0), answer
                answered += 1
            await draining

    async def test_a_frame_timeout_during_a_slow_instruction_closes_after_its_answer(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, frame_timeout=0.5, idle_timeout=30) as running:
            # Another process's write lock keeps the instruction waiting past the frame timeout.
            locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            locker.execute("BEGIN IMMEDIATE")
            try:
                client = await running.client()
                await client.send(CLIENT_ID + b'{"controller": "cli')
                await asyncio.sleep(1.5)
                assert len(running.app.server.connections) == 1
            finally:
                locker.execute("COMMIT")
                locker.close()
            assert await client.recv(timeout=5) == {"failed": False, "client_id": ANY}
            assert await closed_by_server(client, within=3)
            deadline = time.monotonic() + 3
            while running.app.server.connections and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert not running.app.server.connections


class TestConnectionCap:
    async def test_one_over_the_cap_gets_one_capacity_line_and_is_closed(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, max_connections=3) as running:
            clients = [await running.client() for _ in range(3)]
            for client in clients:
                assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            extra = await running.client()
            raw = await asyncio.wait_for(extra.reader.read(), 5)
            lines = raw.splitlines()
            assert len(lines) == 1
            assert b'"code":"capacity"' in lines[0]
            await extra.close()
            for client in clients:  # the others are untouched
                assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
                await client.close()

    async def test_a_freed_place_is_taken_again(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, max_connections=1) as running:
            first = await running.client()
            assert (await first.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            await first.close()
            deadline = time.monotonic() + 3
            while running.app.server.connections and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            second = await running.client()
            assert (await second.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            await second.close()


class TestBackpressure:
    async def test_stops_reading_while_answers_are_unsent_and_stays_bounded(self, sqlite_url: str) -> None:
        """A client pipelines thousands of requests and reads nothing. The server pauses reading
        once 64 KiB of answers are unsent; its queues stay bounded; every answer arrives, in
        order, once the client reads."""
        count = 12000
        max_unsent = 64 * KIB
        async with running_server(sqlite_url, max_unsent=max_unsent) as running:
            reader, writer = await _small_window_connection(running.port)
            while not running.app.server.connections:
                await asyncio.sleep(0.001)
            (connection,) = running.app.server.connections
            assert connection.transport is not None
            # A small kernel send buffer on the server side too: unsent answers then show up in
            # the server's own buffer instead of disappearing into an autotuned socket buffer.
            server_socket = connection.transport.get_extra_info("socket")
            server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * KIB)
            padding = "p" * 200  # echoed ids make each answer ~300 bytes
            request = [line(action="explode", id=f"{n:06d}{padding}") for n in range(count)]
            size = len(request[0])

            async def push() -> None:
                for start in range(0, count, 100):
                    writer.write(b"".join(request[start : start + 100]))
                    await writer.drain()

            pushing = asyncio.create_task(push())
            most_queued = most_unsent = 0
            paused_seen = False
            for _ in range(100):  # watch for up to a second without reading anything
                await asyncio.sleep(0.01)
                most_queued = max(most_queued, len(connection.queue))
                most_unsent = max(most_unsent, connection.transport.get_write_buffer_size())
                paused_seen = paused_seen or connection.reading_paused
            assert paused_seen, "the server never stopped reading"
            # One socket read (at most 256 KiB) may land after the pause threshold.
            assert most_queued <= MAX_QUEUED_LINES + (256 * KIB) // size + 1
            assert most_unsent <= max_unsent + 2 * KIB

            ids = []
            while len(ids) < count:
                raw = await asyncio.wait_for(reader.readline(), 10)
                assert raw, "the server closed the connection"
                ids.append(raw.split(b'"id":"', 1)[1][:6])
            await pushing
            assert ids == [f"{n:06d}".encode() for n in range(count)]
            writer.close()


async def _small_window_connection(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection whose receive window is small, so unread answers back up quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * KIB)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * KIB)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock, limit=1 << 20)
