#!/usr/bin/env python3
"""10,000 concurrent idle connections held while the mixed load runs.

Starts `ewallet serve --max-connections 11000` on a SQLite file, measures the mixed load (80 %
views, 20 % transfers, 50 connections) alone, then again while a separate process holds
--idle idle connections open, and reports the server's RSS and the load's p99 for both runs.
RLIMIT_NOFILE is raised in every process; when the hard limit is too low it says so and stops.
Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import peak_rss_mb, run_load, start_ewallet, stop


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def need_fds(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        sys.exit(f"soak: the hard RLIMIT_NOFILE is {hard}, below the {count} needed; raise it (ulimit -Hn) first")
    if soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


async def hold(port: int, count: int, ready: Path, release: Path) -> None:
    """Open `count` idle connections, say so, keep them until told to stop."""
    connections = []
    for start in range(0, count, 500):
        batch = await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(min(500, count - start)))
        )
        connections.extend(batch)
    ready.write_text(str(len(connections)))
    while not release.exists():
        await asyncio.sleep(0.2)
    for _, writer in connections:
        writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections to hold")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of mixed load per run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--hold", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.hold:
        need_fds(args.idle + 256)
        ready, release = Path(args.hold + ".ready"), Path(args.hold + ".release")
        asyncio.run(hold(args.port, args.idle, ready, release))
        return 0

    need_fds(args.idle + 1024)
    folder = tempfile.mkdtemp(prefix="ewallet-soak-")
    server, port = start_ewallet(None, folder, None, ["--max-connections", str(args.idle + 1000)])
    figures: dict[str, object] = {"idle_connections": args.idle}
    try:
        alone = run_load(port, "mixed", args.connections, args.seconds, None)
        figures["alone_per_s"] = round(alone["per_s"], 1)
        figures["alone_p99_ms"] = round(alone["p99_ms"], 2)
        figures["alone_rss_mb"] = round(rss_mb(server.pid), 1)

        marker = os.path.join(folder, "hold")
        holder = subprocess.Popen([sys.executable, __file__, "--hold", marker, "--port", str(port),
                                   "--idle", str(args.idle)])  # fmt: skip
        deadline = time.time() + 120
        while not os.path.exists(marker + ".ready"):
            if holder.poll() is not None or time.time() > deadline:
                raise SystemExit("soak: the idle connections could not be opened")
            time.sleep(0.2)
        held = int(Path(marker + ".ready").read_text())
        figures["held"] = held
        figures["idle_rss_mb"] = round(rss_mb(server.pid), 1)
        loaded = run_load(port, "mixed", args.connections, args.seconds, None)
        figures["loaded_per_s"] = round(loaded["per_s"], 1)
        figures["loaded_p99_ms"] = round(loaded["p99_ms"], 2)
        figures["loaded_rss_mb"] = round(rss_mb(server.pid), 1)
        figures["server_peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
        Path(marker + ".release").write_text("")
        holder.wait(60)
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)

    f = figures
    print(f"mixed load alone: {f['alone_per_s']} req/s, p99 {f['alone_p99_ms']} ms, server RSS {f['alone_rss_mb']} MB")
    print(
        f"with {f['held']} idle connections: {f['loaded_per_s']} req/s, p99 {f['loaded_p99_ms']} ms,"
        f" server RSS {f['loaded_rss_mb']} MB (peak {f['server_peak_rss_mb']} MB)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
