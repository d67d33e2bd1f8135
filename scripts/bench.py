#!/usr/bin/env python3
"""Throughput and latency of ewallet against the machine's ceilings, measured in one run.

Starts, each in its own process: the ewallet server (SQLite file, durable defaults, or
--database URL), a minimal asyncio line-JSON echo server (the transport ceiling) and a raw
sqlite3 loop doing a transfer's writes (the storage ceiling). A load generator in another
process (pinned to one core with taskset when available) drives N connections. Prints a table
and, as its last line, one JSON object with the figures.

When --database is a PostgreSQL URL (an existing database: `createdb NAME` first), the run also
measures PostgreSQL's ceiling there: a raw psycopg 3 loop doing a transfer's statements in one
transaction (debit the payer's balance, guarded so it stays >= 0, credit the receiver's, insert
the outgoing and the incoming ledger rows, COMMIT; the balances in ascending id order, as the
server does, so that none deadlock) on scratch tables of its own, created and dropped in the run,
on 1 connection and on 8 (`pg loop x1`, `pg loop x8`; pg_loop_1_per_s, pg_loop_8_per_s). Each
connection is driven by its own process (multiprocessing, spawn), so that the figure is
PostgreSQL's and not one Python process's GIL. The transfer scenario's ratio is then to
`pg loop x8`; the sqlite loop stays in the table.

    python scripts/bench.py            # 10 s per scenario
    python scripts/bench.py --quick    # under a minute in all
    python scripts/bench.py --quick --scenarios events --subscribers 0,100,1000

The `events` scenario runs the transfer load once per subscriber count (each subscriber an
extra connection subscribed to one of the accounts' credits_received); it reports the transfer
rate as a ratio to the run with no subscribers, and the latency from a transfer's answer to the
receiver's event (its first subscriber's). The memory figure (`--memory N`) is the server's RSS
with N idle subscribed connections against N idle unsubscribed ones and the bare server. With
`--idle M` as well, M more idle connections are then opened beside the N subscribed ones, and
the server's RSS with all of them open is memory_idle_subscribed_mb (the issue's target:
`--memory 1000 --idle 10000`, at most 300 MB). Each idle connection, as for --memory, ran one
instruction (a view in one logged-in session that they share) and stays open. That server runs
with EWALLET_MAX_CONNECTIONS at N + M + 101, above its default cap of 10,000, and this process
raises its own descriptor limit (RLIMIT_NOFILE) to the hard limit to hold them all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import random
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
SYSTEM_KEY = "bench-system-key-0123456789abcdef-0123456789"
PASSWORD = "Bench!2345word"
REQUEST_CLIENT_ID = {"controller": "client", "ctype": "action", "action": "request", "request": "client_id"}


# -- helpers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def listeners(port: int) -> int:
    """Sockets listening on `port` (Linux /proc): one per worker of `ewallet serve --workers`."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def wait_for_workers(port: int, proc: subprocess.Popen, workers: int, seconds: float = 60) -> None:
    """Until every worker listens: connections opened before would all go to the first."""
    deadline = time.time() + seconds
    while listeners(port) < workers:
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{workers} workers did not all start")
        time.sleep(0.05)


def tree(pid: int) -> list[int]:
    """The process and its children (a --workers supervisor's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(int(child) for child in children)]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pinned(cmd: list[str], core: int | None) -> list[str]:
    if core is not None and shutil.which("taskset"):
        return ["taskset", "-c", str(core), *cmd]
    return cmd


# -- the echo ceiling ---------------------------------------------------------------------------


async def echo_server(port: int) -> None:
    answer = b'{"failed":false,"client_id":"ewsm-uid:0123456789abcdef0123456789abcdef"}\n'

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():
                writer.write(answer)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


# -- the storage ceiling ------------------------------------------------------------------------


def sqlite_ceiling(seconds: float) -> float:
    """Transfers per second of a bare sqlite3 loop doing a transfer's writes durably."""
    folder = tempfile.mkdtemp(prefix="ewallet-bench-sqlite-")
    db = sqlite3.connect(os.path.join(folder, "ceiling.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE wallet (id INTEGER PRIMARY KEY, credits INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE record (id INTEGER PRIMARY KEY AUTOINCREMENT, wallet INTEGER, kind TEXT, credits INTEGER,"
        " created TEXT)"
    )
    db.executemany("INSERT INTO wallet VALUES (?, ?)", [(i, 10**9) for i in range(1, 101)])
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        a, b = random.sample(range(1, 101), 2)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE wallet SET credits = credits - 1 WHERE id = ? AND credits >= 1", (a,))
        db.execute("UPDATE wallet SET credits = credits + 1 WHERE id = ?", (b,))
        db.execute("INSERT INTO record (wallet, kind, credits, created) VALUES (?, 'transfer', 1, 'now')", (a,))
        db.execute("INSERT INTO record (wallet, kind, credits, created) VALUES (?, 'incoming', 1, 'now')", (b,))
        db.execute("COMMIT")
        done += 1
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
    return done / seconds


#: Wallets of the PostgreSQL loop, shared by all its connections (as the sqlite loop's 100).
PG_WALLETS = 100
#: Connections (each in its own process) of the wider PostgreSQL loop.
PG_LOOP_WIDE = 8


def libpq_url(database: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as the plain postgresql:// that libpq takes."""
    from sqlalchemy.engine import make_url

    return make_url(database).set(drivername="postgresql").render_as_string(hide_password=False)


def is_postgres(database: str | None) -> bool:
    return database is not None and database.split(":")[0].split("+")[0] in ("postgresql", "postgres")


def pg_loop_worker(url: str, tables: tuple[str, str], seconds: float, seed: int, barrier: Any, results: Any) -> None:
    """One connection's share of the PostgreSQL loop: a transfer's four statements and COMMIT,
    as fast as they go for `seconds` from when every worker is connected; puts its count."""
    import psycopg
    from psycopg import sql

    wallet, record = (sql.Identifier(name) for name in tables)
    # The server's order: both balances in ascending id order (two opposite transfers then take
    # their row locks in the same order and never deadlock), then the two ledger rows.
    debit = sql.SQL("UPDATE {} SET credits = credits - 1 WHERE id = %s AND credits >= 1 RETURNING credits").format(
        wallet
    )
    credit = sql.SQL("UPDATE {} SET credits = credits + 1 WHERE id = %s RETURNING credits").format(wallet)
    ledger = sql.SQL("INSERT INTO {} (wallet, kind, credits, created) VALUES (%s, %s, 1, now())").format(record)
    rnd = random.Random(seed)
    with psycopg.connect(url) as db:
        barrier.wait(60)
        done, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            a, b = rnd.sample(range(1, PG_WALLETS + 1), 2)
            for row_id, change in sorted(((a, debit), (b, credit)), key=lambda pair: pair[0]):
                if db.execute(change, (row_id,)).fetchone() is None:
                    raise RuntimeError(f"wallet {row_id} of the PostgreSQL loop would go below 0")
            db.execute(ledger, (a, "transfer"))
            db.execute(ledger, (b, "incoming"))
            db.commit()
            done += 1
    results.put(done)


def collect(results: Any, workers: list[Any], seconds: float) -> list[int]:
    """One count from each worker, or an error as soon as one of them has died without it."""
    counts: list[int] = []
    deadline = time.perf_counter() + seconds
    while len(counts) < len(workers):
        try:
            counts.append(results.get(timeout=0.5))
        except queue.Empty:
            if any(worker.exitcode not in (None, 0) for worker in workers) or time.perf_counter() > deadline:
                raise RuntimeError("a worker of the PostgreSQL loop failed (its error is above)") from None
    return counts


def pg_ceiling(database: str, seconds: float) -> dict[str, float]:
    """Transfers per second of a bare psycopg loop doing a transfer's writes (two balance UPDATEs,
    the debit guarded so it stays >= 0, two ledger INSERTs, COMMIT: the server's statements,
    durable as the server's, one round trip each) on scratch tables of `database`, on 1 and on
    PG_LOOP_WIDE connections. Each connection is driven by its own process, so that what is
    measured is PostgreSQL and not one Python process's GIL."""
    import multiprocessing

    import psycopg
    from psycopg import sql

    url = libpq_url(database)
    # Named after this run: a concurrent bench on the same database keeps its own.
    tables = (f"bench_pg_loop_wallet_{os.getpid()}", f"bench_pg_loop_record_{os.getpid()}")
    wallet, record = (sql.Identifier(name) for name in tables)
    try:
        admin = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"bench.py: cannot connect to {database}: {exc}".strip()) from None
    with admin:
        admin.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, credits bigint NOT NULL)").format(wallet))
        admin.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, wallet integer NOT NULL,"
                " kind text NOT NULL, credits bigint NOT NULL, created timestamptz NOT NULL)"
            ).format(record)
        )
        try:
            admin.execute(
                sql.SQL("INSERT INTO {} SELECT id, 1000000000 FROM generate_series(1, %s) AS id").format(wallet),
                (PG_WALLETS,),
            )
            # spawn, not fork: a clean interpreter per worker, whatever threads this one has.
            context = multiprocessing.get_context("spawn")
            figures = {}
            for width in (1, PG_LOOP_WIDE):
                barrier, results = context.Barrier(width), context.Queue()
                workers = [
                    context.Process(target=pg_loop_worker, args=(url, tables, seconds, seed, barrier, results))
                    for seed in range(width)
                ]
                for worker in workers:
                    worker.start()
                try:
                    done = sum(collect(results, workers, seconds + 120))
                finally:
                    for worker in workers:
                        worker.join(30)
                        if worker.is_alive():
                            worker.kill()
                figures[f"pg_loop_{width}_per_s"] = done / seconds
        finally:
            admin.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(wallet, record))
    return figures


# -- the load generator (runs in its own process) -----------------------------------------------


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ids: dict[str, str] = {}

    async def call(self, **instruction: object) -> dict:
        instruction.setdefault("controller", "client")
        instruction.setdefault("ctype", "action")
        if instruction["controller"] == "client":
            for key, value in self.ids.items():
                instruction.setdefault(key, value)
        self.writer.write(json.dumps(instruction).encode() + b"\n")
        return json.loads(await self.reader.readline())


async def prepare(port: int, n: int) -> list[Conn]:
    """n connections, each with a session and its own funded, logged-in account."""
    conns = []
    for i in range(n):
        conn = Conn(*await asyncio.open_connection("127.0.0.1", port))
        cid = (await conn.call(action="request", request="client_id"))["client_id"]
        token = (await conn.call(action="request", request="session_token", client_id=cid))["session_token"]
        conn.ids = {"client_id": cid, "session_token": token}
        email = f"bench{i}-{os.getpid()}@example.com"
        answer = await conn.call(action="new", new="account", user_name=f"bench{i}-{os.getpid()}",
                                 user_pass=PASSWORD, user_email=email)  # fmt: skip
        assert answer["failed"] is False, answer
        assert (await conn.call(action="login", user_email=email, user_pass=PASSWORD))["failed"] is False
        assert (await conn.call(action="supply", supply="credits", credits=1_000_000))["failed"] is False
        assert (await conn.call(action="convert", convert="credits2clock", credits=100_000))["failed"] is False
        conn.email = email  # type: ignore[attr-defined]
        conns.append(conn)
    return conns


class Watch:
    """Subscribers of the accounts' credits_received: the first of each account times the
    events, keyed by (payer, receiver) in order; the others only read."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], list[float]] = {}
        self.answers: dict[tuple[str, str], list[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.conns: list[Conn] = []

    async def subscribe(self, port: int, accounts: list[Conn], count: int) -> None:
        for index in range(count):
            account = accounts[index % len(accounts)]
            conn = Conn(*await asyncio.open_connection("127.0.0.1", port, limit=1 << 20))
            conn.ids = dict(account.ids)
            answer = await conn.call(action="subscribe", subscribe="events", kinds=["credits_received"])
            assert answer["failed"] is False, answer
            self.conns.append(conn)
            self.tasks.append(asyncio.create_task(self._read(conn, timed=index < len(accounts))))

    async def _read(self, conn: Conn, timed: bool) -> None:
        try:
            while line := await conn.reader.readline():
                if not timed:
                    continue
                now = time.perf_counter()
                record = json.loads(line)["data"]["record"]
                self.events.setdefault((record["transfer_from"], record["transfer_to"]), []).append(now)
        except (ConnectionError, asyncio.CancelledError):
            pass

    def answered(self, payer: str, receiver: str) -> None:
        self.answers.setdefault((payer, receiver), []).append(time.perf_counter())

    async def latencies(self, grace: float = 2.0) -> tuple[list[float], int]:
        """Event time minus answer time for every timed transfer, and how many events had not
        come `grace` seconds after the load ended (late, not necessarily lost)."""
        deadline = time.perf_counter() + grace
        while time.perf_counter() < deadline and any(
            len(self.events.get(pair, ())) < len(times) for pair, times in self.answers.items()
        ):
            await asyncio.sleep(0.05)
        for task in self.tasks:
            task.cancel()
        for conn in self.conns:
            conn.writer.close()
        found: list[float] = []
        missing = 0
        for pair, times in self.answers.items():
            seen = self.events.get(pair, [])
            missing += max(len(times) - len(seen), 0)
            found.extend(event - answer for answer, event in zip(times, seen, strict=False))
        return sorted(found), missing


def percentile(values: list[float], share: float) -> float:
    return values[max(int(len(values) * share) - 1, 0)] if values else float("nan")


async def drive(port: int, scenario: str, n: int, seconds: float, subscribers: int = 0) -> dict:
    if scenario in ("client_id", "echo"):
        conns = [Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(n)]
    else:
        conns = await prepare(port, n)
    emails = [c.email for c in conns] if scenario not in ("client_id", "echo") else []  # type: ignore[attr-defined]
    watch = Watch()
    if scenario == "events":
        await watch.subscribe(port, conns, subscribers)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds

    async def one(conn: Conn, index: int) -> None:
        rnd = random.Random(index)
        timer_running = False
        while time.perf_counter() < stop_at:
            kind = scenario
            if scenario == "mixed":
                kind = "transfer" if rnd.random() < 0.2 else "view"
            request: dict[str, Any]
            if kind in ("client_id", "echo"):
                request = dict(REQUEST_CLIENT_ID)
            elif kind == "view":
                request = {"action": "view", "view": "credit", "credit": "ewallet"}
            elif kind in ("transfer", "events"):
                to = rnd.choice([e for e in emails if e != conn.email])  # type: ignore[attr-defined]
                request = {"action": "transfer", "transfer": "credits", "transfer_to": to, "credits": 1}
            else:  # timer: start and stop in turn
                action = "stop" if timer_running else "start"
                request = {"action": action, action: "clock_timer"}
                timer_running = not timer_running
            started = time.perf_counter()
            answer = await conn.call(**request)
            latencies.append(time.perf_counter() - started)
            if kind == "events" and answer.get("failed") is False and subscribers:
                watch.answered(conn.email, request["transfer_to"])  # type: ignore[attr-defined]
            if answer.get("failed") is not False:
                code = str(answer.get("code"))
                failures[code] = failures.get(code, 0) + 1

    begin = time.perf_counter()
    await asyncio.gather(*(one(c, i) for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - begin
    for conn in conns:
        conn.writer.close()
    latencies.sort()
    result: dict[str, object] = {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "failures": failures,
    }
    if scenario == "events" and subscribers:
        delays, missing = await watch.latencies()
        result |= {
            "event_p50_ms": percentile(delays, 0.5) * 1000,
            "event_p99_ms": percentile(delays, 0.99) * 1000,
            "events_timed": len(delays),
            "events_late": missing,
        }
    return result


def run_load(port: int, scenario: str, n: int, seconds: float, core: int | None, subscribers: int = 0) -> dict:
    cmd = pinned([sys.executable, str(HERE), "--load", scenario, "--port", str(port), "--connections", str(n),
                  "--seconds", str(seconds), "--subscribers", str(subscribers)], core)  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds * 4 + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the orchestration --------------------------------------------------------------------------


def start_ewallet(
    database: str | None,
    folder: str,
    core: int | None,
    extra: list[str],
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, int]:
    """The server on a free port, once it (every worker) listens; `settings`: more EWALLET_*
    variables for it."""
    port = free_port()
    db = database or f"sqlite:///{folder}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    # Cheap Argon2 only speeds up creating the benchmark accounts; no scenario hashes a password.
    env.update(EWALLET_SYSTEM_KEY=SYSTEM_KEY, EWALLET_ANON_RATE="0", EWALLET_LOG_LEVEL="WARNING",
               EWALLET_UNUSED_SESSIONS_PER_PEER="0",
               EWALLET_ARGON2_TIME_COST="1", EWALLET_ARGON2_MEMORY_KIB="8192")  # fmt: skip
    env.update(settings or {})
    cmd = [sys.executable, "-m", "ewallet", "serve", "--port", str(port), "--database", db, *extra]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    with open(f"{folder}/server.log", "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=log)
    wait_for_port(port, proc)
    wait_for_workers(port, proc, workers)
    return proc, port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def idle_connections(port: int, account: Conn, count: int) -> list[Conn]:
    """`count` connections that each ran one instruction (a view, in `account`'s session) and
    stay open, idle."""
    conns: list[Conn] = []
    for _ in range(count):
        conn = Conn(*await asyncio.open_connection("127.0.0.1", port))
        conn.ids = dict(account.ids)
        answer = await conn.call(action="view", view="credit", credit="ewallet")
        assert answer["failed"] is False, f"connection {len(conns) + 1}: {answer}"
        conns.append(conn)
    return conns


async def idle_memory(port: int, pid: int, count: int, idle: int = 0) -> dict:
    """The server's RSS bare (one account), with `count` idle connections that each ran one
    instruction, with the same connections subscribed, and (`idle`) with that many more idle
    connections opened beside the subscribed ones (RSS seldom shrinks: each figure includes the
    one before)."""
    (account,) = await prepare(port, 1)
    await asyncio.sleep(0.5)
    figures = {"bare_rss_mb": rss_mb(pid)}
    conns = await idle_connections(port, account, count)
    await asyncio.sleep(0.5)
    figures["idle_rss_mb"] = rss_mb(pid)
    for conn in conns:
        assert (await conn.call(action="subscribe", subscribe="events"))["failed"] is False
    await asyncio.sleep(0.5)
    figures["subscribed_rss_mb"] = rss_mb(pid)
    if idle:
        conns += await idle_connections(port, account, idle)
        await asyncio.sleep(0.5)
        figures["idle_subscribed_mb"] = rss_mb(pid)
    for conn in [*conns, account]:
        conn.writer.close()
    figures["idle_kib_each"] = (figures["idle_rss_mb"] - figures["bare_rss_mb"]) * 1024 / count
    figures["subscribed_kib_each"] = (figures["subscribed_rss_mb"] - figures["idle_rss_mb"]) * 1024 / count
    return figures


#: Descriptors over the memory run's connections, for the server's cap and this process's limit.
MEMORY_MARGIN = 100


def raise_descriptor_limit(wanted: int) -> None:
    """This process holds every connection of the memory run: its soft RLIMIT_NOFILE goes up to
    the hard limit (1,024 is a common soft one), and a hard limit below `wanted` stops the run."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise SystemExit(f"bench.py: the memory run needs {wanted} descriptors, the hard limit is {hard}: lower it")
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else hard, hard))


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def events_rows(
    port: int, args: argparse.Namespace, seconds: float, core: int | None, rows: list, figures: dict
) -> None:
    """The transfer load once per subscriber count; rates as ratios to the run without any."""
    base = None
    for count in (int(c) for c in args.subscribers.split(",")):
        result = run_load(port, "events", args.connections, seconds, core, count)
        base = base or result["per_s"]
        rows.append((f"events/{count}", result, result["per_s"] / base))
        figures[f"events_{count}_per_s"] = round(result["per_s"], 1)
        figures[f"events_{count}_to_none"] = round(result["per_s"] / base, 3)
        figures[f"events_{count}_transfer_p99_ms"] = round(result["p99_ms"], 2)
        if count:
            figures[f"events_{count}_event_p50_ms"] = round(result["event_p50_ms"], 2)
            figures[f"events_{count}_event_p99_ms"] = round(result["event_p99_ms"], 2)
            figures[f"events_{count}_late"] = result["events_late"]
        if result["failures"]:
            figures[f"events_{count}_failures"] = result["failures"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (under a minute in all)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--database",
        default=None,
        help="database URL (default: a SQLite file); PostgreSQL: an existing database, which also gets the pg loops",
    )
    parser.add_argument("--scenarios", default="client_id,view,transfer,mixed,timer")
    parser.add_argument("--server-arg", action="append", default=[], help="extra `ewallet serve` argument")
    parser.add_argument("--subscribers", default="0,100,1000", help="the events scenario's subscriber counts")
    parser.add_argument(
        "--workers",
        default="1",
        help="`ewallet serve --workers` counts, comma-separated: the scenarios run once per count (e.g. 1,2)",
    )
    parser.add_argument("--memory", type=int, default=0, help="idle connections for the memory figure (0: none)")
    parser.add_argument(
        "--idle",
        type=int,
        default=0,
        metavar="M",
        help="with --memory N: then open M more idle connections beside the N subscribed ones and report"
        " the server's RSS with all of them open (memory_idle_subscribed_mb; the issue's target, 10,000 idle plus"
        " 1,000 subscribers <= 300 MB: --memory 1000 --idle 10000). That server gets EWALLET_MAX_CONNECTIONS="
        f"N+M+{1 + MEMORY_MARGIN} (its default cap, 10,000, would refuse the last ones); this process raises its"
        " descriptor limit to the hard one",
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.idle and not args.memory:
        parser.error("--idle needs --memory N (the subscribed connections beside the idle ones)")

    if args.load:
        result = asyncio.run(drive(args.port, args.load, args.connections, args.seconds, int(args.subscribers)))
        print(json.dumps(result))
        return 0

    seconds = args.seconds or (4.0 if args.quick else 10.0)
    cores = os.cpu_count() or 1
    load_core = cores - 1 if cores > 1 else None
    folder = tempfile.mkdtemp(prefix="ewallet-bench-")
    rows, figures = [], {}

    echo_port = free_port()
    echo = subprocess.Popen(pinned([sys.executable, str(HERE), "--echo", str(echo_port)], 0 if load_core else None))
    try:
        wait_for_port(echo_port, echo)
        ceiling = run_load(echo_port, "echo", args.connections, seconds, load_core)
    finally:
        echo.kill()
    rows.append(("echo ceiling", ceiling, None))
    figures["echo_per_s"] = round(ceiling["per_s"], 1)

    sqlite_per_s = sqlite_ceiling(seconds)
    figures["sqlite_transfers_per_s"] = round(sqlite_per_s, 1)
    # On PostgreSQL the transfers are held against PostgreSQL's own loop on 8 connections (the
    # server runs several transactions at once there); the sqlite loop stays in the table.
    pg_loops = pg_ceiling(args.database, seconds) if is_postgres(args.database) else {}
    figures |= {key: round(value, 1) for key, value in pg_loops.items()}
    storage_per_s, storage = sqlite_per_s, "sqlite loop"
    if pg_loops:
        storage_per_s, storage = pg_loops[f"pg_loop_{PG_LOOP_WIDE}_per_s"], f"pg loop x{PG_LOOP_WIDE}"

    counts = [int(n) for n in args.workers.split(",")]
    for workers in counts:
        # Figures of the first count keep their plain names; the others carry `_w<count>`.
        suffix = "" if workers == counts[0] else f"_w{workers}"
        label = "" if len(counts) == 1 else f" w{workers}"
        # A SQLite file is made afresh per count; a --database keeps the earlier counts' rows.
        server, port = start_ewallet(args.database, folder, 0 if load_core else None, args.server_arg, workers)
        try:
            for scenario in args.scenarios.split(","):
                if scenario == "events":
                    events_rows(port, args, seconds, load_core, rows, figures)
                    continue
                result = run_load(port, scenario, args.connections, seconds, load_core)
                base = storage_per_s if scenario == "transfer" else ceiling["per_s"]
                rows.append((scenario + label, result, result["per_s"] / base))
                figures[f"{scenario}{suffix}_per_s"] = round(result["per_s"], 1)
                figures[f"{scenario}{suffix}_p50_ms"] = round(result["p50_ms"], 2)
                figures[f"{scenario}{suffix}_p99_ms"] = round(result["p99_ms"], 2)
                if result["failures"]:
                    figures[f"{scenario}{suffix}_failures"] = result["failures"]
            figures[f"server{suffix}_rss_mb"] = round(sum(peak_rss_mb(pid) for pid in tree(server.pid)), 1)
        finally:
            stop(server)
            if args.database is None:
                for leftover in Path(folder).glob("bench.db*"):
                    leftover.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    if args.memory:
        memory_folder = tempfile.mkdtemp(prefix="ewallet-bench-memory-")
        # Every connection of the run at once, the account's own too, and a margin: the server's
        # default cap (10,000) would refuse the last of --idle 10000 --memory 1000.
        wanted = args.memory + args.idle + 1
        settings = {"EWALLET_MAX_CONNECTIONS": str(wanted + MEMORY_MARGIN)} if args.idle else {}
        server, port = start_ewallet(args.database, memory_folder, None, args.server_arg, settings=settings)
        try:
            raise_descriptor_limit(wanted + MEMORY_MARGIN)
            memory = asyncio.run(idle_memory(port, server.pid, args.memory, args.idle))
        finally:
            stop(server)
            shutil.rmtree(memory_folder, ignore_errors=True)
        figures |= {f"memory_{key}": round(value, 1) for key, value in memory.items()}
        figures["memory_connections"] = args.memory
        if args.idle:
            figures["memory_idle_connections"] = args.idle

    figures["transfers_per_s"] = figures.get("transfer_per_s")
    figures["transfer_p99_ms"] = figures.get("transfer_p99_ms")
    figures["views_per_s"] = figures.get("view_per_s")
    figures["mixed_per_s"] = figures.get("mixed_per_s")
    if figures.get("mixed_per_s"):
        figures["mixed_to_echo"] = round(figures["mixed_per_s"] / figures["echo_per_s"], 3)
    figures["workers"] = args.workers
    figures["connections"] = args.connections
    figures["seconds"] = seconds
    figures["database"] = "sqlite" if args.database is None else args.database.split(":")[0]

    print(f"{'scenario':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  ratio to ceiling")
    for name, result, ratio in rows:
        of = "events/0" if name.startswith("events") else storage if name.startswith("transfer") else "echo"
        shown = "" if ratio is None else f"{ratio:.3f} (of {of})"
        print(f"{name:<14}{result['per_s']:>10.1f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}  {shown}")
    print(f"{'sqlite loop':<14}{sqlite_per_s:>10.1f}{'':>9}{'':>9}  (storage ceiling, transfers/s)")
    for width in (1, PG_LOOP_WIDE) if pg_loops else ():
        per_s, each = pg_loops[f"pg_loop_{width}_per_s"], "connection" if width == 1 else "connections, 1 process each"
        print(f"{f'pg loop x{width}':<14}{per_s:>10.1f}{'':>9}{'':>9}  (PostgreSQL ceiling, {width} {each})")
    print(f"server peak RSS: {figures['server_rss_mb']} MB")
    if args.idle:
        print(f"server RSS, {args.idle} idle + {args.memory} subscribed connections open:"
              f" {figures['memory_idle_subscribed_mb']} MB")  # fmt: skip
    printed = {"memory_idle_subscribed_mb", "memory_idle_connections"}
    for key in sorted(k for k in figures if k.startswith(("events_", "memory_")) and k not in printed):
        print(f"{key}: {figures[key]}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--echo":
        asyncio.run(echo_server(int(sys.argv[2])))
    else:
        sys.exit(main())
