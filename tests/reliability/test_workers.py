"""`ewallet serve --workers 2` (issue 15, "more cores"): two worker processes on one port, on
SQLite and PostgreSQL. Which worker served a connection is read from the log: with --workers
every line names its process (`ewallet.access[pid]:`), and each connection here comes from a
loopback address of its own (127.0.0.2, 127.0.0.3, ...), which its access line names."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

from scripts.drills.line_client import LineClient
from scripts.drills.processes import ServerProcess, serving
from scripts.drills.wallets import Wallet, open_wallet

WORKERS = 2
STARTED = re.compile(r"worker \d+ of \d+ started: pid (\d+)")
#: The kernel spreads connections by a hash of addresses and ports: 30 from distinct addresses
#: all landing on one worker of two has a chance of 2**-29.
CONNECTIONS = 30


def wait_for_workers(server: ServerProcess) -> list[int]:
    """The workers' pids, once every one has logged that it started."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [int(m.group(1)) for line in server.log if (m := STARTED.search(line))]
        ready = sum("ewallet 0." in line and " started: " in line for line in server.log)
        if len(pids) == WORKERS and ready == WORKERS:
            return pids
        assert server.alive, "".join(server.log)
        time.sleep(0.05)
    raise AssertionError("workers did not start:\n" + "".join(server.log))


async def connect_from(port: int, n: int) -> LineClient:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(f"127.0.0.{n}", 0))
    return LineClient(reader, writer)


async def served_by(server: ServerProcess, n: int) -> int:
    """The pid whose access line names peer 127.0.0.n."""
    access = re.compile(rf"ewallet\.access\[(\d+)\]: 127\.0\.0\.{n} ")
    for _ in range(200):
        pids = {int(m.group(1)) for line in server.log if (m := access.search(line))}
        if pids:
            assert len(pids) == 1, pids
            return pids.pop()
        await asyncio.sleep(0.02)
    raise AssertionError(f"no access line from 127.0.0.{n}")


async def test_connections_are_spread_over_both_workers(database_url: str) -> None:
    with serving(database_url, workers=WORKERS) as server:
        pids = wait_for_workers(server)
        clients = [await connect_from(server.port, n) for n in range(2, 2 + CONNECTIONS)]
        try:
            for client in clients:
                pong = await client.call(action="ping")
                assert pong["pong"] is True, pong
            served = [await served_by(server, n) for n in range(2, 2 + CONNECTIONS)]
        finally:
            for client in clients:
                await client.close()
        assert set(served) == set(pids), (served, pids)
        assert not server.tracebacks(), "".join(server.log)


async def test_a_session_made_through_one_worker_works_through_the_other(database_url: str) -> None:
    with serving(database_url, workers=WORKERS) as server:
        wait_for_workers(server)
        alice = await open_wallet(server.port, 0, "alice", 50)
        bob = await open_wallet(server.port, 1, "bob", 0)
        # The same session on connections of their own until two are on different workers.
        twins: dict[int, Wallet] = {}
        try:
            for n in range(2, 2 + CONNECTIONS):
                twin = alice.twin()
                twin.conn = await connect_from(server.port, n)
                assert await twin.credits() == 50
                pid = await served_by(server, n)
                if pid in twins:
                    await twin.close()
                    continue
                twins[pid] = twin
                if len(twins) == WORKERS:
                    break
            assert len(twins) == WORKERS, twins
            here, there = twins.values()
            moved = await here.call(action="transfer", transfer="credits", transfer_to=bob.email, credits=20)
            assert moved is not None and moved["ewallet_credits"] == 30, moved
            assert await there.credits() == 30 and await bob.credits() == 20
            logged_out = await there.call(action="logout")
            assert logged_out is not None and logged_out["failed"] is False, logged_out
            answer = await here.call(action="view", view="account")
            assert answer is not None and answer["code"] == "not_logged_in", answer
        finally:
            for wallet in (alice, bob, *twins.values()):
                await wallet.close()
        assert not server.tracebacks(), "".join(server.log)


def test_sigterm_drains_both_workers_and_exits_0(database_url: str) -> None:
    with serving(database_url, workers=WORKERS) as server:
        pids = wait_for_workers(server)
        assert server.stop() == 0, "".join(server.log)
        for pid in pids:
            assert any(f"ewallet[{pid}]: shutting down" in line for line in server.log), "".join(server.log)
            assert not _exists(pid)
        assert not server.tracebacks(), "".join(server.log)


def test_a_killed_worker_is_reported_and_the_others_stopped(database_url: str) -> None:
    with serving(database_url, workers=WORKERS) as server:
        killed, other = wait_for_workers(server)
        os.kill(killed, signal.SIGKILL)
        assert server.process.wait(60) == 1, "".join(server.log)
        server.stop()
        log = "".join(server.log)
        assert f"worker pid {killed} was killed by signal 9 unexpectedly: stopping the other workers" in log, log
        assert f"ewallet[{other}]: shutting down" in log, log
        assert not _exists(other)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
