#!/usr/bin/env python3
"""Throughput and latency of ewallet against the machine's ceilings, measured in one run.

Starts, each in its own process: the ewallet server (SQLite file, durable defaults, or
--database URL), a minimal asyncio line-JSON echo server (the transport ceiling) and a raw
sqlite3 loop doing a transfer's writes (the storage ceiling). A load generator in another
process (pinned to one core with taskset when available) drives N connections. Prints a table
and, as its last line, one JSON object with the figures.

    python scripts/bench.py            # 10 s per scenario
    python scripts/bench.py --quick    # under a minute in all
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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


async def drive(port: int, scenario: str, n: int, seconds: float) -> dict:
    if scenario in ("client_id", "echo"):
        conns = [Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(n)]
    else:
        conns = await prepare(port, n)
    emails = [c.email for c in conns] if scenario not in ("client_id", "echo") else []  # type: ignore[attr-defined]
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
            if kind in ("client_id", "echo"):
                request = dict(REQUEST_CLIENT_ID)
            elif kind == "view":
                request = {"action": "view", "view": "credit", "credit": "ewallet"}
            elif kind == "transfer":
                to = rnd.choice([e for e in emails if e != conn.email])  # type: ignore[attr-defined]
                request = {"action": "transfer", "transfer": "credits", "transfer_to": to, "credits": 1}
            else:  # timer: start and stop in turn
                action = "stop" if timer_running else "start"
                request = {"action": action, action: "clock_timer"}
                timer_running = not timer_running
            started = time.perf_counter()
            answer = await conn.call(**request)
            latencies.append(time.perf_counter() - started)
            if answer.get("failed") is not False:
                code = str(answer.get("code"))
                failures[code] = failures.get(code, 0) + 1

    begin = time.perf_counter()
    await asyncio.gather(*(one(c, i) for i, c in enumerate(conns)))
    elapsed = time.perf_counter() - begin
    for conn in conns:
        conn.writer.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "failures": failures,
    }


def run_load(port: int, scenario: str, n: int, seconds: float, core: int | None) -> dict:
    cmd = pinned([sys.executable, str(HERE), "--load", scenario, "--port", str(port), "--connections", str(n),
                  "--seconds", str(seconds)], core)  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds * 4 + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the orchestration --------------------------------------------------------------------------


def start_ewallet(
    database: str | None, folder: str, core: int | None, extra: list[str]
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    db = database or f"sqlite:///{folder}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    # Cheap Argon2 only speeds up creating the benchmark accounts; no scenario hashes a password.
    env.update(EWALLET_SYSTEM_KEY=SYSTEM_KEY, EWALLET_ANON_RATE="0", EWALLET_LOG_LEVEL="WARNING",
               EWALLET_UNUSED_SESSIONS_PER_PEER="0",
               EWALLET_ARGON2_TIME_COST="1", EWALLET_ARGON2_MEMORY_KIB="8192")  # fmt: skip
    cmd = [sys.executable, "-m", "ewallet", "serve", "--port", str(port), "--database", db, *extra]
    with open(f"{folder}/server.log", "w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=log)
    wait_for_port(port, proc)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (under a minute in all)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--database", default=None, help="database URL (default: a SQLite file)")
    parser.add_argument("--scenarios", default="client_id,view,transfer,mixed,timer")
    parser.add_argument("--server-arg", action="append", default=[], help="extra `ewallet serve` argument")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.load:
        result = asyncio.run(drive(args.port, args.load, args.connections, args.seconds))
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

    server, port = start_ewallet(args.database, folder, 0 if load_core else None, args.server_arg)
    try:
        for scenario in args.scenarios.split(","):
            result = run_load(port, scenario, args.connections, seconds, load_core)
            base = sqlite_per_s if scenario == "transfer" else ceiling["per_s"]
            rows.append((scenario, result, result["per_s"] / base))
            figures[f"{scenario}_per_s"] = round(result["per_s"], 1)
            figures[f"{scenario}_p50_ms"] = round(result["p50_ms"], 2)
            figures[f"{scenario}_p99_ms"] = round(result["p99_ms"], 2)
            if result["failures"]:
                figures[f"{scenario}_failures"] = result["failures"]
        figures["server_rss_mb"] = round(peak_rss_mb(server.pid), 1)
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)

    figures["transfers_per_s"] = figures.get("transfer_per_s")
    figures["transfer_p99_ms"] = figures.get("transfer_p99_ms")
    figures["views_per_s"] = figures.get("view_per_s")
    figures["mixed_per_s"] = figures.get("mixed_per_s")
    if figures.get("mixed_per_s"):
        figures["mixed_to_echo"] = round(figures["mixed_per_s"] / figures["echo_per_s"], 3)
    figures["connections"] = args.connections
    figures["seconds"] = seconds
    figures["database"] = "sqlite" if args.database is None else args.database.split(":")[0]

    print(f"{'scenario':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  ratio to ceiling")
    for name, result, ratio in rows:
        shown = "" if ratio is None else f"{ratio:.3f} (of {'sqlite loop' if name == 'transfer' else 'echo'})"
        print(f"{name:<14}{result['per_s']:>10.1f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}  {shown}")
    print(f"{'sqlite loop':<14}{sqlite_per_s:>10.1f}{'':>9}{'':>9}  (storage ceiling, transfers/s)")
    print(f"server peak RSS: {figures['server_rss_mb']} MB")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--echo":
        asyncio.run(echo_server(int(sys.argv[2])))
    else:
        sys.exit(main())
