#!/usr/bin/env python3
"""Hostile-input fuzzer, big: hypothesis cases (random keys, types, nesting, sizes, unicode,
numbers at the edges, NaN/Infinity literals, truncated and oversized frames, binary garbage, and
envelopes with random parameters for every route of the route table) against a live
`ewallet serve` on a fresh SQLite file (or --database URL). Every case must get one JSON answer
per request line, never `internal_error`, change nothing when it failed, and leave the
connection usable; scripts/drills/fuzzer.py has the details. Stops at the first broken rule
with hypothesis's shrunk example.

    python scripts/fuzz.py --cases 20000
    python scripts/fuzz.py --cases 5000 --seed 7 --database postgresql://postgres@127.0.0.1/mydb

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.drills.fuzzer import run_fuzz
from scripts.drills.processes import fresh_database, rss_mb, serving

MAX_FRAME = 8192


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="ewallet-fuzz-") as folder,
        fresh_database(args.backend, Path(folder)) as url,
        serving(url, max_frame=MAX_FRAME, peer_login_rate=0) as server,
    ):
        started = time.monotonic()
        try:
            report = run_fuzz(server.port, MAX_FRAME, args.cases, args.seed)
        finally:
            if server.tracebacks():
                print("the server's log:\n" + "".join(server.log[-200:]), file=sys.stderr)
        seconds = time.monotonic() - started
        alive, rss = server.alive, rss_mb(server.pid)
        tracebacks = server.tracebacks()
        status = server.stop()
    print(report.summary())
    print(
        f"{seconds:.1f} s; server alive {alive}, RSS {rss:.0f} MB, exit status {status}, {len(tracebacks)} tracebacks"
    )
    figures = {
        "backend": args.backend,
        "cases": report.cases,
        "lines": report.lines,
        "routes": len(report.routes),
        "unchanged_checks": report.unchanged_checks,
        "codes": dict(report.codes),
        "seconds": round(seconds, 1),
        "tracebacks": len(tracebacks),
        "exit_status": status,
    }
    print(json.dumps(figures))
    return 0 if alive and not tracebacks and status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
