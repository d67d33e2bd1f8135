"""Graceful shutdown (§1), in process: stop accepting, finish what started, close."""

import asyncio
import logging
import sqlite3

import httpx
import pytest

from tests.probes import CLIENT_ID, line
from tests.support import running_server


class TestGracefulStop:
    async def test_closes_idle_connections(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            client = await running.client()
            assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
        assert await client.recv() is None
        await client.close()

    async def test_answers_a_prefix_of_the_pipeline_in_order_then_closes(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            client = await running.client()
            await client.send(b"".join(line(action="request", request="client_id", id=n) for n in range(200)))
            first = await client.recv()
            assert first is not None and first["id"] == 0
            stopping = asyncio.create_task(running.app.stop())
            ids = [0]
            while (answer := await client.recv()) is not None:
                assert answer["failed"] is False
                ids.append(answer["id"])
            await stopping
        # Lines received but not started get no answer; those answered are in order.
        assert ids == list(range(len(ids)))
        assert len(ids) < 200
        await client.close()

    async def test_both_faces_stop_accepting_at_once(self, sqlite_url: str) -> None:
        """While an HTTP instruction finishes, TCP takes no new connection (and the other way
        round): one grace period for the whole process."""
        async with running_server(sqlite_url, http_port=0) as running:
            host, http_port = running.app.http_address  # type: ignore[misc]
            locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            locker.execute("BEGIN IMMEDIATE")  # the HTTP instruction waits for this lock
            try:
                async with httpx.AsyncClient(base_url=f"http://{host}:{http_port}", timeout=10) as http:
                    pending = asyncio.create_task(http.post("/v1/request/client-id"))
                    await asyncio.sleep(0.3)
                    stopping = asyncio.create_task(running.app.stop())
                    await asyncio.sleep(0.3)
                    with pytest.raises(OSError):
                        await asyncio.open_connection("127.0.0.1", running.port)
                    locker.execute("COMMIT")
                    assert (await pending).status_code == 200
            finally:
                locker.close()
            await stopping

    async def test_refuses_connections_once_stopping(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            port = running.port
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)


class TestStartupLog:
    async def test_logs_the_listening_address(self, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="ewallet")
        async with running_server(sqlite_url) as running:
            assert f"listening on 127.0.0.1:{running.port}" in caplog.text

    async def test_warns_when_bound_beyond_loopback(self, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.INFO, logger="ewallet")
        async with running_server(sqlite_url, host="0.0.0.0"):
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert any("TLS" in r.getMessage() for r in warnings)
