"""The HTTP face as a transport: whose address a request counts against, the connection cap it
shares with TCP, and the timeouts that close trickling and idle connections."""

from __future__ import annotations

import httpx

from tests.http.helpers import base_url
from tests.support import running_server


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
