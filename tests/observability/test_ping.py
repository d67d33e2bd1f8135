"""`ping` (PROTOCOL §12) over TCP: anonymous, never rate-limited, says whether the database
answers, and still answers (database "unreachable") when it does not, which is what a load
balancer's TCP check needs. The README's HAProxy check matches these exact bytes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ewallet import __version__
from tests.conftest import PG_URL
from tests.support import Running, running_server

PING = b'{"controller":"client","ctype":"action","action":"ping"}\n'
#: What the README's `tcp-check expect string` looks for.
HEALTHY = b'"database":"ok"'


@contextlib.contextmanager
def refusing_connections(database_url: str) -> Iterator[None]:
    """PostgreSQL really refusing the server: new connections to its database are not allowed
    and the open ones are ended; allowed again on exit."""
    database = make_url(database_url).database
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"), {"db": database}
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()


async def raw_ping(running: Running) -> bytes:
    client = await running.client()
    client.writer.write(PING)
    await client.writer.drain()
    return await client.reader.readline()


class TestPing:
    async def test_answers_pong_database_ok_and_the_version(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="ping")
        assert answer == {"failed": False, "pong": True, "database": "ok", "version": __version__}

    async def test_the_balancer_check_finds_its_string_in_the_raw_answer(self, server: Running) -> None:
        assert HEALTHY in await raw_ping(server)

    async def test_takes_no_parameters(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="ping", verbose=True)
        assert answer["failed"] is True and answer["code"] == "invalid_value"

    async def test_is_not_rate_limited_while_other_anonymous_requests_are(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=2) as running:
            client = await running.client()
            for _ in range(5):
                assert (await client.call(action="ping"))["pong"] is True
            codes = [(await client.call(action="request", request="client_id")).get("code") for _ in range(3)]
            assert codes[-1] == "rate_limited"
            assert (await client.call(action="ping"))["database"] == "ok"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
class TestPingWithTheDatabaseDown:
    async def test_answers_unreachable_then_ok_once_the_database_is_back(self, database_url: str) -> None:
        async with running_server(database_url) as running:
            assert HEALTHY in await raw_ping(running)
            with refusing_connections(database_url):
                answer = await (await running.client()).call(action="ping")
                assert answer == {"failed": False, "pong": True, "database": "unreachable", "version": __version__}
                assert HEALTHY not in await raw_ping(running)
            assert HEALTHY in await raw_ping(running)


class TestPingFromASession:
    async def test_a_client_that_always_sends_its_session_keys_may_ping(self, server: Running) -> None:
        client = await server.session()
        answer = await client.call(action="ping")
        assert answer["pong"] is True and answer["database"] == "ok"
