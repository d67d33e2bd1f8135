"""Test helpers: a line-JSON client over a real socket, a running in-process server, factories."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ewallet.app import App, build_app
from ewallet.clock import ManualClock
from ewallet.settings import Settings
from scripts.drills.line_client import PASSWORD, SYSTEM_KEY, LineClient
from scripts.drills.processes import TRANSACTIONS

_counter = itertools.count(1)


def test_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an in-process test server: cheap Argon2, sweeps off, port 0."""
    base: dict[str, Any] = {
        "database_url": database_url,
        "host": "127.0.0.1",
        "port": 0,
        "system_key": SYSTEM_KEY,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "argon2_parallelism": 1,
        "session_sweep": 0,
        "account_sweep": 0,
        "timer_sweep": 0,
        "anon_rate": 0,
        "unused_sessions_per_peer": 0,
        "shutdown_grace": 5.0,
        "threads": 8,
        "pool_size": 10,
        "transactions": TRANSACTIONS["policy"],
    }
    base.update(overrides)
    return Settings(**base)


test_settings.__test__ = False  # type: ignore[attr-defined]


@dataclass
class Running:
    app: App
    port: int
    clock: ManualClock
    database_url: str
    #: Every client opened through this server; closed when it stops, even after a failure.
    clients: list[LineClient] = field(default_factory=list)

    async def client(self) -> LineClient:
        client = await LineClient.connect(self.port)
        self.clients.append(client)
        return client

    async def client_from(self, address: str) -> LineClient:
        """A client whose connection comes from another loopback address (Linux routes all of
        127/8 to the loopback interface): a second peer, as the server sees it."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(address, 0))
        client = LineClient(reader, writer)
        self.clients.append(client)
        return client

    async def session(self) -> LineClient:
        client = await self.client()
        await client.open_session()
        return client

    async def user(self, name: str | None = None, password: str = PASSWORD) -> LineClient:
        """A connected client with a session and a freshly created, logged-in account."""
        client = await self.session()
        await new_account(client, name=name, password=password)
        answer = await client.call(action="login", user_email=client.email, user_pass=password)  # type: ignore[attr-defined]
        assert answer["failed"] is False, answer
        return client


async def new_account(client: LineClient, name: str | None = None, password: str = PASSWORD, **more: Any) -> dict:
    """Create an account through `client`; remembers its email on the client."""
    name = name or f"user{next(_counter)}"
    email = more.pop("user_email", f"{name.lower()}@example.com")
    answer = await client.call(
        action="new", new="account", user_name=name, user_pass=password, user_email=email, **more
    )
    assert answer["failed"] is False, answer
    client.email = email  # type: ignore[attr-defined]
    client.name = name  # type: ignore[attr-defined]
    return answer


@asynccontextmanager
async def running_server(
    database_url: str, clock: ManualClock | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    clock = clock or ManualClock()
    app = build_app(test_settings(database_url, **overrides), clock=clock)
    _, port = await app.start()
    running = Running(app=app, port=port, clock=clock, database_url=database_url)
    try:
        yield running
    finally:
        for client in running.clients:
            await client.close()
        await app.stop()
