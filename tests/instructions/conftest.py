"""Every client a test opens is closed at its end (an unclosed stream is a warning, and
warnings are errors here)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support import LineClient


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
