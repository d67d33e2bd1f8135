"""Money tests: a clock on a whole second (so that wire timestamps, which drop fractions, can be
compared exactly), and every client a test opens closed at its end (an unclosed stream is a
warning, and warnings are errors here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from ewallet.clock import ManualClock
from tests.support import LineClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(autouse=True)
async def close_clients(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    opened: list[LineClient] = []
    connect = LineClient.connect.__func__  # type: ignore[attr-defined]

    async def tracked(cls: type[LineClient], port: int, host: str = "127.0.0.1") -> LineClient:
        client = await connect(cls, port, host)
        opened.append(client)
        return client

    monkeypatch.setattr(LineClient, "connect", classmethod(tracked))
    yield
    for client in opened:
        await client.close()
