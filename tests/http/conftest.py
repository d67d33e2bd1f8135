"""Fixtures for the HTTP face: a real server (TCP and HTTP on free ports, SQLite file, manual
clock) and an httpx client pointed at its HTTP address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ewallet.clock import ManualClock
from tests.http.helpers import Http
from tests.support import Running, running_server


@pytest.fixture
async def http_server(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    async with running_server(sqlite_url, clock, http_port=0) as running:
        yield running


@pytest.fixture
async def http(http_server: Running) -> AsyncIterator[Http]:
    async with Http.to(http_server) as client:
        yield client


@pytest.fixture
async def raw_http(http_server: Running) -> AsyncIterator[httpx.AsyncClient]:
    """A bare httpx client for requests the helpers would not send (broken bodies, odd paths)."""
    host, port = http_server.app.http_address  # type: ignore[misc]
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=10.0) as client:
        yield client
