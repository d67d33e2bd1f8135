#!/usr/bin/env python3
"""Request round-trips per second against `ewallet serve`, with the transport ceiling measured in
the same run.

Starts `ewallet serve` (its own process; SQLite file in a temporary directory, a free port,
`--anon-rate 0`), then a minimal asyncio line-echo server (its own process too). This process is
the load: C concurrent connections (default 50), each sending one `request client_id` line and
waiting for its answer, in a loop, for S seconds (default 5) -- nothing is pipelined. Prints
round-trips per second and p50/p99 latency for both servers and their ratio; the last line is
one JSON object with the figures.

    python scripts/bench_roundtrips.py [--seconds 5] [--connections 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REQUEST = b'{"controller":"client","ctype":"action","action":"request","request":"client_id"}\n'
LISTENING = re.compile(rb"listening on (\S+):(\d+)")


# -- the transport ceiling ----------------------------------------------------------------------


async def echo_server() -> None:
    """Echo each line back: what asyncio and the loopback cost with no work at all."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(line)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


# -- servers in their own processes -------------------------------------------------------------


def start(command: list[str], cwd: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server process and wait for its `listening on HOST:PORT` line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        found = LISTENING.search(line)
        if found:
            # Keep draining stderr so that a chatty server never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, int(found.group(2))
    process.kill()
    raise SystemExit(f"{command[0]}: the server did not start")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    return code


# -- the load -----------------------------------------------------------------------------------


async def one_connection(port: int, until: float, latencies: list[float], check: bool) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failures = 0
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(REQUEST)
            answer = await reader.readline()
            latencies.append(time.perf_counter() - started)
            if not answer:
                raise ConnectionError("the server closed the connection")
            if check and not answer.startswith(b'{"failed":false'):
                failures += 1
    finally:
        writer.close()
    return failures


async def load(port: int, connections: int, seconds: float, check: bool) -> dict[str, float]:
    # A short warm-up (connections, caches, the first pages of the database), not counted.
    await asyncio.gather(*(one_connection(port, time.perf_counter() + 0.3, [], False) for _ in range(connections)))
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    failures = await asyncio.gather(*(one_connection(port, until, latencies, check) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "round_trips": len(latencies),
        "failures": sum(failures),
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="ewallet request round-trips per second, with the echo ceiling")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of load per server (default 5)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        asyncio.run(echo_server())
        return 0

    with tempfile.TemporaryDirectory(prefix="ewallet-bench-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'bench.db'}"
        serve = ["serve", "--port", "0", "--database", database, "--anon-rate", "0", "--unused-sessions-per-peer", "0"]
        ewallet, port = start([sys.executable, "-m", "ewallet", *serve], tmp)
        try:
            served = asyncio.run(load(port, args.connections, args.seconds, check=True))
        finally:
            ewallet_exit = stop(ewallet)
        echo, echo_port = start([sys.executable, str(Path(__file__).resolve()), "--echo-server"], tmp)
        try:
            ceiling = asyncio.run(load(echo_port, args.connections, args.seconds, check=False))
        finally:
            stop(echo)

    ratio = served["per_second"] / ceiling["per_second"]
    print(f"{args.connections} connections, {args.seconds:g} s each, one request in flight per connection")
    print(f"{'':14}{'round-trips/s':>14}{'p50 ms':>10}{'p99 ms':>10}{'total':>10}")
    for name, figures in (("ewallet", served), ("echo ceiling", ceiling)):
        print(
            f"{name:14}{figures['per_second']:>14.0f}{figures['p50_ms']:>10.2f}{figures['p99_ms']:>10.2f}"
            f"{figures['round_trips']:>10.0f}"
        )
    print(
        f"ewallet reaches {ratio:.1%} of the transport ceiling; failed answers: {served['failures']:.0f}; "
        f"server exit status {ewallet_exit}"
    )
    print(
        json.dumps(
            {
                "connections": args.connections,
                "seconds": args.seconds,
                "request": "request client_id",
                "round_trips_per_second": round(served["per_second"], 1),
                "p50_ms": round(served["p50_ms"], 3),
                "p99_ms": round(served["p99_ms"], 3),
                "failures": int(served["failures"]),
                "echo_round_trips_per_second": round(ceiling["per_second"], 1),
                "echo_p50_ms": round(ceiling["p50_ms"], 3),
                "echo_p99_ms": round(ceiling["p99_ms"], 3),
                "ratio_to_echo": round(ratio, 4),
                "server_exit_status": ewallet_exit,
            }
        )
    )
    return 0 if served["failures"] == 0 and ewallet_exit == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
