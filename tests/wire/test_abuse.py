"""Slow and abusive clients at scale (issue 8, item 3; the one-connection cases are in
test_limits.py and test_concurrency.py): a thousand connections trickling a byte a second, hundreds
left idle, a flood over the connection cap, a client pipelining tens of megabytes without reading
(against a real process, to watch its memory), and an address guessing passwords. The scenarios
live in tests/reliability/abuse.py; scripts/abuse.py runs them big."""

from __future__ import annotations

import asyncio

from ewallet.transport.limits import raise_fd_limit
from scripts.drills.abuse import (
    flood_cap,
    guess_passwords,
    idle,
    is_capacity_line,
    pipeline_without_reading,
    summary,
    trickle,
)
from scripts.drills.processes import rss_mb, serving
from tests.support import PASSWORD, LineClient, Running, running_server

MIB = 1 << 20


async def all_closed(running: Running, seconds: float) -> bool:
    for _ in range(int(seconds * 20)):
        if not running.app.server.connections:
            return True
        await asyncio.sleep(0.05)
    return not running.app.server.connections


class TestTricklers:
    async def test_a_thousand_connections_dripping_a_byte_a_second_delay_nobody_and_time_out(
        self, sqlite_url: str
    ) -> None:
        raise_fd_limit(4096)  # both ends of every connection live in this process
        async with running_server(sqlite_url, frame_timeout=2.0, idle_timeout=60, max_connections=2000) as running:
            result = await trickle(running.port, 1000)
            print(f"\ntricklers: {summary(result)}")
            assert result.answered == 0
            assert min(result.closed_after) >= 1.9, "closed before the frame timeout"
            assert max(result.closed_after) <= 5.0, "a trickler outlived the frame timeout"
            assert result.others.worst < 0.5, result.others.seconds
            assert await all_closed(running, 5)


class TestIdleConnections:
    async def test_hundreds_of_idle_connections_are_closed_and_active_ones_stay(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, idle_timeout=1.0) as running:
            result = await idle(running.port, 300, 5, idle_timeout=1.0)
            print(f"\nidle: {summary(result)}")
            assert min(result.closed_after) >= 0.9
            assert max(result.closed_after) <= 3.5
            assert result.active_answers >= 5 * 3
            assert result.active_still_open == 5


class TestConnectionCap:
    async def test_every_connection_over_the_cap_gets_one_capacity_line_and_the_others_keep_working(
        self, sqlite_url: str
    ) -> None:
        async with running_server(sqlite_url, max_connections=50) as running:
            result = await flood_cap(running.port, admitted=50, extra=300)
            print(f"\ncap: {sum(map(is_capacity_line, result.refusals))} of {result.refused} got one capacity line")
            assert all(is_capacity_line(lines) for lines in result.refusals)
            assert result.admitted_still_served == 50
            assert await all_closed(running, 5)
            again = await flood_cap(running.port, admitted=50, extra=1)  # the places are free again
            assert again.admitted_still_served == 50


class TestPipeliningWithoutReading:
    async def test_is_stopped_by_backpressure_and_the_servers_memory_stays_bounded(self, sqlite_url: str) -> None:
        with serving(sqlite_url, max_unsent=64 * 1024) as server:
            before = rss_mb(server.pid)
            result = await pipeline_without_reading(server.port, 64, memory=lambda: rss_mb(server.pid))
            print(
                f"\npipeliner: {result.offered / MIB:.0f} MiB offered, {result.accepted / MIB:.1f} MiB taken, RSS "
                f"{before:.0f} -> {max(result.memory_mb):.0f} MB, others' worst {result.others.worst * 1000:.0f} ms"
            )
            assert result.stalled, "the server kept reading"
            assert result.accepted < 16 * MIB, result.accepted
            assert max(result.memory_mb) - before < 40, (before, max(result.memory_mb))
            assert result.others.worst < 1.0, result.others.seconds
            assert result.answers == result.requests
            assert not server.tracebacks()


class TestWrongLogins:
    async def test_an_address_guessing_passwords_is_refused_after_the_peer_limit_for_a_minute(
        self, sqlite_url: str
    ) -> None:
        async with running_server(sqlite_url, peer_login_rate=10) as running:
            result = await guess_passwords(running.port, attempts=30, accounts=5)
            print(f"\nguesses: {dict(result.codes)}, first refused: {result.first_refusal}")
            # Five accounts in turn: two failures each, so only the address limit applies.
            assert result.codes == {"invalid_credentials": 10, "rate_limited": 20}
            assert result.first_refusal == 11
            assert result.right_password_then == "rate_limited"
            elsewhere = await _client_from(running.port, "127.0.0.2")
            await elsewhere.open_session()
            assert (await elsewhere.call(action="login", user_email=result.untouched, user_pass=PASSWORD))[
                "failed"
            ] is False
            running.clock.advance(61)
            client = await running.session()
            assert (await client.call(action="login", user_email=result.untouched, user_pass=PASSWORD))[
                "failed"
            ] is False
            await elsewhere.close()


async def _client_from(port: int, address: str) -> LineClient:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    return LineClient(reader, writer)
