"""Anonymous clients cannot fill the worker pool (§5.5): live sessions that never logged in are
capped per peer address (`EWALLET_UNUSED_SESSIONS_PER_PEER`), counted in the database so that
every server process on it agrees. A request over the cap is `rate_limited`."""

from __future__ import annotations

import asyncio

from ewallet.clock import ManualClock
from ewallet.schemas.values import format_timestamp
from ewallet.settings import Settings
from tests.probes import counts, line
from tests.support import PASSWORD, LineClient, Running, new_account, running_server

HOUR = 3600
CAP = 3


async def session_token(client: LineClient, **extra: object) -> dict:
    """A fresh client id, then a session token for it (the answer of the second request)."""
    client_id = (await client.call(action="request", request="client_id"))["client_id"]
    answer = await client.raw(line(action="request", request="session_token", client_id=client_id, **extra))
    assert answer is not None
    if answer["failed"] is False:
        client.client_id, client.session_token = client_id, answer["session_token"]
    return answer


async def fill(running: Running, times: int = CAP) -> list[LineClient]:
    return [await running.session() for _ in range(times)]


class TestUnusedSessionsPerAddress:
    async def test_an_address_over_the_cap_is_refused_while_another_still_gets_a_session(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, unused_sessions_per_peer=CAP) as running:
            await fill(running)
            client = await running.client()
            client_id = (await client.call(action="request", request="client_id"))["client_id"]
            before = counts(running)
            answer = await client.raw(line(action="request", request="session_token", client_id=client_id))
            assert answer == {"failed": True, "error": answer["error"], "code": "rate_limited"}  # type: ignore[index]
            assert counts(running) == before
            other = await running.client_from("127.0.0.2")
            assert (await session_token(other))["failed"] is False

    async def test_logging_in_frees_the_place(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, unused_sessions_per_peer=CAP) as running:
            first, *_ = await fill(running)
            await new_account(first, name="alice")
            assert (await session_token(await running.client()))["code"] == "rate_limited"
            answer = await first.call(action="login", user_name="alice", user_pass=PASSWORD)
            assert answer["failed"] is False, answer
            assert (await session_token(await running.client()))["failed"] is False
            assert (await session_token(await running.client()))["code"] == "rate_limited"

    async def test_expired_sessions_do_not_count(self, sqlite_url: str) -> None:
        clock = ManualClock()
        async with running_server(sqlite_url, clock, unused_sessions_per_peer=CAP) as running:
            await fill(running, CAP - 1)
            past = format_timestamp(clock.now().replace(year=clock.now().year - 1), running.app.settings.zone)
            assert (await session_token(await running.client(), expiration_date=past))["failed"] is False
            assert (await session_token(await running.client()))["failed"] is False  # the dead one is not counted
            assert (await session_token(await running.client()))["code"] == "rate_limited"
            clock.advance(HOUR)  # a session that never logged in lives an hour
            for _ in range(CAP):
                assert (await session_token(await running.client()))["failed"] is False

    async def test_zero_turns_the_cap_off(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, unused_sessions_per_peer=0) as running:
            await fill(running, 2 * CAP)

    def test_the_default_leaves_room_for_many_addresses(self) -> None:
        settings = Settings()
        assert settings.unused_sessions_per_peer == 20
        # 500 addresses are needed to fill the default pool with sessions that never log in
        assert settings.worker_limit * settings.session_limit // settings.unused_sessions_per_peer == 500


class TestAcrossProcesses:
    """Two servers on one database (a second process, as far as the database can tell)."""

    async def test_sessions_opened_through_either_server_count_alike(self, database_url: str) -> None:
        clock = ManualClock()
        async with (
            running_server(database_url, clock, unused_sessions_per_peer=CAP) as first,
            running_server(database_url, clock, unused_sessions_per_peer=CAP) as second,
        ):
            await fill(first, CAP - 1)
            await fill(second, 1)
            assert (await session_token(await first.client()))["code"] == "rate_limited"
            assert (await session_token(await second.client()))["code"] == "rate_limited"

    async def test_simultaneous_requests_through_both_servers_never_pass_the_cap(self, database_url: str) -> None:
        clock = ManualClock()
        async with (
            running_server(database_url, clock, unused_sessions_per_peer=CAP) as first,
            running_server(database_url, clock, unused_sessions_per_peer=CAP) as second,
        ):
            clients = [await (first if n % 2 else second).client() for n in range(10)]
            client_ids = [(await c.call(action="request", request="client_id"))["client_id"] for c in clients]
            requests = [
                c.raw(line(action="request", request="session_token", client_id=cid))
                for c, cid in zip(clients, client_ids, strict=True)
            ]
            answers = await asyncio.gather(*requests)
            codes = sorted("ok" if a["failed"] is False else a["code"] for a in answers)  # type: ignore[index]
            assert codes == ["ok"] * CAP + ["rate_limited"] * (10 - CAP)
