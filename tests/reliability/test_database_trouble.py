"""Database trouble (issue 8, item 5). PostgreSQL connections cut under load: the server
reconnects, an instruction whose connection died before COMMIT is run again (the database rolled
it back), one whose connection died during COMMIT answers `conflict` telling the client to retry
with its idempotency key (the outcome is unknown), none is half-applied and later ones succeed.
SQLite locked beyond the busy timeout, full, or read-only: `conflict`, nothing changed, and writes
work again once the trouble is gone. Never `internal_error`, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from ewallet.pipeline.policies import OUTCOME_UNKNOWN
from scripts.drills.ledger import read_ledger
from scripts.drills.outcomes import assert_exact, settle
from scripts.drills.processes import serving
from scripts.drills.wallets import Sent, keep_moving, open_wallet
from tests.conftest import PG_URL
from tests.money.books import books
from tests.support import Running, running_server

postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def terminate_backends(admin: Engine, database: str, only_pid: int | None = None) -> int:
    """pg_terminate_backend on the server's connections to `database` (or on one of them), and
    wait until they are gone."""
    query = "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
    with admin.connect() as conn:
        pids = [pid for pid in conn.execute(text(query), {"db": database}).scalars() if only_pid in (None, pid)]
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": pids})
            if alive.scalar() == 0:
                break
            time.sleep(0.01)
    return len(pids)


@contextlib.contextmanager
def admin_engine() -> Iterator[Engine]:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()


@postgres_only
class TestPostgresConnectionsCut:
    async def test_cut_under_load_fails_cleanly_and_later_instructions_succeed(self, database_url: str) -> None:
        database = make_url(database_url).database
        assert database is not None
        with serving(database_url) as server, admin_engine() as admin:
            wallets = [await open_wallet(server.port, n, f"cut{n}", 1000) for n in range(6)]
            sent: list[Sent] = []
            stop = asyncio.Event()
            rng = random.Random(5)
            movers = [
                asyncio.create_task(keep_moving(w, wallets, random.Random(rng.random()), sent, "load", stop))
                for w in wallets
            ]
            cuts = terminated = 0
            for _ in range(15):
                await asyncio.sleep(0.15)
                terminated += await asyncio.to_thread(terminate_backends, admin, database)
                cuts += 1
            stop.set()
            await asyncio.gather(*movers)
            outcomes = Counter("ok" if m.succeeded else m.answer["code"] if m.answer else "none" for m in sent)
            assert set(outcomes) <= {"ok", "insufficient_credits", "conflict"}, outcomes
            assert terminated > 0
            replays = await settle(sent, wallets, read_ledger(database_url))
            # After the cuts the server has reconnected: every wallet's next movement succeeds.
            for wallet in wallets:
                await keep_moving(wallet, wallets, random.Random(wallet.index), sent, "later", asyncio.Event(), 1)
                assert sent[-1].succeeded, sent[-1].answer
            print(f"\n{cuts} cuts ({terminated} connections) under {outcomes.total()} movements: {dict(outcomes)}")
            print(f"conflicts replayed with their keys: {dict(replays)}")
            seen = {w.index: await w.credits() for w in wallets}
            for wallet in wallets:
                await wallet.close()
            assert_exact(database_url, sent, dict.fromkeys(range(6), 1000), seen)
            assert not server.tracebacks(), "".join(server.log)

    async def test_a_connection_lost_before_commit_is_run_again_and_applied_once(self, database_url: str) -> None:
        database = make_url(database_url).database
        async with running_server(database_url) as running:
            alice, bob = await running.user(), await running.user()
            assert (await alice.call(action="supply", supply="credits", credits=10))["failed"] is False
            cut = _cut_once(running, "before_cursor_execute", database, when="INSERT INTO transfer_records")
            before = books(running)
            answer = await alice.call(action="transfer", transfer="credits", transfer_to=bob.email, credits=4)
            assert cut.is_set(), "the connection was never cut"
            assert answer["failed"] is False, answer
            after = books(running)
            assert after.rows["transfer"] == before.rows["transfer"] + 2
            assert sorted(after.credits.values()) == [4, 6]

    async def test_a_connection_lost_during_commit_tells_the_client_to_retry_with_its_key(
        self, database_url: str
    ) -> None:
        database = make_url(database_url).database
        async with running_server(database_url) as running:
            alice, bob = await running.user(), await running.user()
            assert (await alice.call(action="supply", supply="credits", credits=10))["failed"] is False
            cut = _cut_once(running, "commit", database)
            transfer = {"action": "transfer", "transfer": "credits", "transfer_to": bob.email, "credits": 4}
            answer = await alice.call(**transfer, idempotency_key="once")
            assert cut.is_set(), "the connection was never cut"
            assert answer == {"failed": True, "error": OUTCOME_UNKNOWN, "code": "conflict"}
            retried = await alice.call(**transfer, idempotency_key="once")
            assert retried["failed"] is False, retried
            assert await alice.call(**transfer, idempotency_key="once") == retried
            assert sorted(books(running).credits.values()) == [4, 6]  # applied exactly once


def _cut_once(running: Running, event_name: str, database: str | None, when: str = "") -> threading.Event:
    """Terminate the backend of the connection that fires `event_name` (for a statement
    starting with `when`), once, from another connection, before the event's work goes out."""
    done = threading.Event()

    def cut(conn: Any, *args: Any) -> None:
        statement = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        if done.is_set() or not statement.lstrip().startswith(when):
            return
        done.set()
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin_engine() as admin:
            assert terminate_backends(admin, database or "", only_pid=pid) == 1

    event.listen(running.app.engine, event_name, cut)
    return done


@sqlite_only
class TestSqliteLocked:
    async def test_a_write_lock_held_past_the_busy_timeout_answers_conflict_and_changes_nothing(
        self, database_url: str
    ) -> None:
        async with running_server(database_url, busy_timeout=0.3) as running:
            alice, bob = await running.user(), await running.user()
            assert (await alice.call(action="supply", supply="credits", credits=10))["failed"] is False
            transfer = {"action": "transfer", "transfer": "credits", "transfer_to": bob.email, "credits": 4}
            before = books(running)
            blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                answer = await alice.call(**transfer, idempotency_key="locked")
                assert answer["code"] == "conflict", answer
                view = await alice.call(action="view", view="credit", credit="ewallet")  # reads go on (WAL)
                assert view["ewallet_data"]["credits"] == 10
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            assert books(running) == before
            retried = await alice.call(**transfer, idempotency_key="locked")
            assert retried["failed"] is False and retried["ewallet_credits"] == 6, retried


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small tmpfs needs root")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")


def _chattr(flag: str, *paths: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True).returncode == 0


async def _writes_fail_cleanly_then_recover(
    database_url: str, break_it: Callable[[], None], fix_it: Callable[[], None]
):
    """Two funded wallets; the trouble starts; movements answer `conflict` (or succeed, while
    room lasts) and nothing is half-done; reads go on; the trouble ends; later movements succeed;
    the failed ones, replayed with their keys, run now; balances, ledger and audit exact."""
    with serving(database_url) as server:
        wallets = [await open_wallet(server.port, n, f"disk{n}", 1000) for n in range(2)]
        sent: list[Sent] = []
        try:
            break_it()
            for _ in range(40):
                await keep_moving(
                    wallets[0], wallets, random.Random(len(sent)), sent, f"t{len(sent)}", asyncio.Event(), 1
                )
            outcomes = Counter("ok" if m.succeeded else m.answer["code"] if m.answer else "none" for m in sent)
            assert set(outcomes) <= {"ok", "conflict"} and outcomes["conflict"] > 0, outcomes
            view = await wallets[1].call(action="view", view="credit", credit="ewallet")
            assert view is not None and view["failed"] is False, view
        finally:
            fix_it()
        during = read_ledger(database_url)
        assert not during.half_applied() and not during.audit_problems
        replays = await settle(sent, wallets, during)
        await keep_moving(wallets[1], wallets, random.Random(1), sent, "later", asyncio.Event(), 5)
        assert all(m.succeeded for m in sent[-5:]), sent[-5:]
        seen = {w.index: await w.credits() for w in wallets}
        for wallet in wallets:
            await wallet.close()
        assert_exact(database_url, sent, {0: 1000, 1: 1000}, seen)
        assert not server.tracebacks(), "".join(server.log)
        return outcomes, replays


@sqlite_only
class TestSqliteDiskErrors:
    async def test_a_full_filesystem_answers_conflict_and_nothing_is_partial(
        self, database_url: str, tmp_path: Path
    ) -> None:
        small = tmp_path / "small"
        # Room, once the filler is gone, for the WAL to grow to SQLite's automatic checkpoint
        # (1,000 pages, 4 MB): a write now touches more pages (the events table and its indexes),
        # and a 3 MB file system filled up with WAL again after the space came back.
        _mount_tmpfs(small, "16m")
        try:
            shutil.copyfile(database_url.removeprefix("sqlite:///"), small / "ewallet.db")
            url = f"sqlite:///{small / 'ewallet.db'}"
            filler = small / "filler"

            def fill() -> None:
                stats = os.statvfs(small)
                filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 16 * 1024))

            outcomes, replays = await _writes_fail_cleanly_then_recover(url, fill, lambda: filler.unlink())
            print(f"\nfull filesystem: {dict(outcomes)}; replayed once space was back: {dict(replays)}")
        finally:
            subprocess.run(["umount", "-l", str(small)], check=False)

    async def test_database_files_that_turn_read_only_answer_conflict_and_nothing_is_partial(
        self, database_url: str
    ) -> None:
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        if not _chattr("-i", path):
            pytest.skip("making a file immutable (chattr +i) needs root and an ext filesystem")
        try:
            outcomes, replays = await _writes_fail_cleanly_then_recover(
                database_url,
                lambda: _chattr("+i", *files) or pytest.fail("chattr +i failed"),
                lambda: _chattr("-i", *files),
            )
            print(f"\nread-only files: {dict(outcomes)}; replayed once writable: {dict(replays)}")
        finally:
            _chattr("-i", *files)
