"""The anonymous request routes are rate-limited per peer address (§5.4)."""

import asyncio

from tests.probes import CLIENT_ID, counts, line
from tests.support import LineClient, running_server


class TestAnonymousRateLimit:
    async def test_the_request_after_the_limit_is_rate_limited_and_changes_nothing(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=5) as running:
            client = await running.client()
            for _ in range(5):
                assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            before = counts(running)
            answer = await client.raw(line(action="request", request="client_id", id="six"))
            assert answer == {"failed": True, "error": answer["error"], "code": "rate_limited", "id": "six"}  # type: ignore[index]
            assert counts(running) == before

    async def test_session_token_requests_count_too(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=5) as running:
            client = await running.client()
            client_ids = [(await client.raw(CLIENT_ID))["client_id"] for _ in range(3)]  # type: ignore[index]
            for client_id in client_ids[:2]:
                answer = await client.raw(line(action="request", request="session_token", client_id=client_id))
                assert answer["failed"] is False  # type: ignore[index]
            before = counts(running)
            answer = await client.raw(line(action="request", request="session_token", client_id=client_ids[2]))
            assert answer["code"] == "rate_limited"  # type: ignore[index]
            assert counts(running) == before

    async def test_the_limit_is_per_connection_independent_but_per_address(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=5) as running:
            clients = [await running.client() for _ in range(6)]
            answers = [await c.raw(CLIENT_ID) for c in clients]
            assert [a["failed"] for a in answers] == [False] * 5 + [True]  # type: ignore[index]

    async def test_another_peer_address_has_its_own_allowance(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=1) as running:
            first = await running.client()
            assert (await first.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
            assert (await first.raw(CLIENT_ID))["code"] == "rate_limited"  # type: ignore[index]
            reader, writer = await asyncio.open_connection("127.0.0.1", running.port, local_addr=("127.0.0.2", 0))
            other = LineClient(reader, writer)
            running.clients.append(other)
            assert (await other.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]

    async def test_session_routes_are_not_limited(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=2) as running:
            client = await running.session()
            for _ in range(5):
                assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"

    async def test_zero_disables_the_limit(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=0) as running:
            client = await running.client()
            for _ in range(20):
                assert (await client.raw(CLIENT_ID))["failed"] is False  # type: ignore[index]
