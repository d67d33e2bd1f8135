"""Many clients at once (§1): 200 concurrent connections, and slow or idle clients never delay
anyone else."""

import asyncio
import contextlib
import time

from tests.probes import CLIENT_ID, counts, line
from tests.support import Running


async def timed_round_trip(server: Running) -> float:
    client = await server.client()
    started = time.monotonic()
    answer = await client.raw(CLIENT_ID)
    elapsed = time.monotonic() - started
    assert answer is not None and answer["failed"] is False
    await client.close()
    return elapsed


class TestManyConnections:
    async def test_serves_200_concurrent_connections(self, server: Running) -> None:
        clients = await asyncio.gather(*(server.client() for _ in range(200)))
        answers = await asyncio.gather(
            *(c.raw(line(action="request", request="client_id", id=n)) for n, c in enumerate(clients))
        )
        assert [a["id"] for a in answers] == list(range(200))  # type: ignore[index]
        assert all(a["failed"] is False for a in answers)  # type: ignore[index]
        assert len({a["client_id"] for a in answers}) == 200  # type: ignore[index]
        assert counts(server)["client_ids"] == 200
        await asyncio.gather(*(c.close() for c in clients))

    async def test_serves_200_concurrent_sessions(self, server: Running) -> None:
        clients = await asyncio.gather(*(server.session() for _ in range(200)))
        answers = await asyncio.gather(*(c.call(action="view", view="account") for c in clients))
        assert {a["code"] for a in answers} == {"not_logged_in"}
        assert counts(server)["sessions"] == 200
        await asyncio.gather(*(c.close() for c in clients))


class TestSlowClients:
    async def test_a_half_sent_line_does_not_delay_others(self, server: Running) -> None:
        slow = await server.client()
        await slow.send(b'{"controller": "client", "ctype": "act')
        assert await timed_round_trip(server) < 1.0
        await slow.close()

    async def test_a_client_that_never_reads_does_not_delay_others(self, server: Running) -> None:
        hog = await server.client()
        flood = line(action="explode", id="x" * 200) * 5000

        async def push() -> None:
            with contextlib.suppress(ConnectionError):
                await hog.send(flood)

        pushing = asyncio.create_task(push())
        await asyncio.sleep(0.2)
        assert await timed_round_trip(server) < 1.0
        pushing.cancel()
        await hog.close()

    async def test_idle_connections_do_not_delay_others(self, server: Running) -> None:
        idle = await asyncio.gather(*(server.client() for _ in range(100)))
        assert await timed_round_trip(server) < 1.0
        await asyncio.gather(*(c.close() for c in idle))

    async def test_one_busy_session_does_not_delay_another(self, server: Running) -> None:
        busy = await server.session()
        auth = {"client_id": busy.client_id, "session_token": busy.session_token}
        await busy.send(line(action="view", view="account", **auth) * 300)
        other = await server.session()
        started = time.monotonic()
        answer = await other.call(action="view", view="account")
        assert answer["code"] == "not_logged_in"
        assert time.monotonic() - started < 1.0
        await busy.close()
        await other.close()
