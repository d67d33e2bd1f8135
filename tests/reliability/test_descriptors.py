"""Running out of file descriptors: the process never accepts more connections than its
descriptor limit can hold (one over the cap gets `capacity`, never a silent hang), and when
accept() fails anyway the log gets one line every few seconds, not thousands."""

from __future__ import annotations

import asyncio
import resource
import time

from scripts.drills.processes import lowest_free_descriptor, serving
from tests.probes import CLIENT_ID
from tests.support import LineClient


async def served_or_refused(client: LineClient) -> str:
    """'served' or 'capacity'; anything else (no answer at all) fails the test."""
    try:
        unsolicited = await client.recv(timeout=1.0)
    except TimeoutError:
        answer = await client.raw(CLIENT_ID)
        assert answer is not None and answer["failed"] is False, answer
        return "served"
    assert unsolicited is not None and unsolicited["code"] == "capacity", unsolicited
    return "capacity"


async def test_the_cap_is_lowered_to_what_the_descriptor_limit_allows(sqlite_url: str) -> None:
    with serving(sqlite_url, fd_limit=200) as server:
        clients = [await LineClient.connect(server.port) for _ in range(260)]
        outcomes = await asyncio.gather(*(served_or_refused(client) for client in clients))
        warnings = [line for line in server.log if "WARNING" in line and "max_connections" in line]
        assert len(warnings) == 1 and "200" in warnings[0] and "10000" in warnings[0], warnings
        assert "Too many open files" not in "".join(server.log)
    served = outcomes.count("served")
    assert 0 < served < 200 and outcomes.count("capacity") == 260 - served
    print(f"\nfd limit 200: {served} served, {260 - served} refused with capacity; {warnings[0].strip()}")


async def test_accept_failing_with_emfile_logs_one_line_every_few_seconds(sqlite_url: str) -> None:
    with serving(sqlite_url) as server:
        limits = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (lowest_free_descriptor(server.pid), limits[1]))
        try:
            before = len(server.log)
            started = time.monotonic()
            waiting = [await LineClient.connect(server.port) for _ in range(20)]
            await asyncio.sleep(3)
            lines = len(server.log) - before
        finally:
            resource.prlimit(server.pid, resource.RLIMIT_NOFILE, limits)
        seconds = time.monotonic() - started
        assert 1 <= lines <= 2 * (1 + seconds // 5), f"{lines} log lines in {seconds:.1f} s:\n" + "".join(
            server.log[-8:]
        )
        # Once descriptors are available again the waiting connections are served.
        for client in waiting:
            answer = await client.raw(CLIENT_ID)
            assert answer is not None and answer["failed"] is False, answer
    print(f"\naccept() failing with EMFILE for {seconds:.1f} s: {lines} log line(s)")
