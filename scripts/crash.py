#!/usr/bin/env python3
"""Crash drill, big: clients move credits (each instruction with an idempotency key) while
`ewallet serve` is killed with SIGKILL at random moments and restarted on the same database.
After every restart it checks that each acknowledged instruction is durable (its key replays
its answer), that nothing in flight was half-applied, that every balance equals the funding
plus exactly the effects that happened, and that `ewallet audit` passes (scripts/drills/
crash.py has the details). Runs on a fresh SQLite file and a fresh PostgreSQL database.

    python scripts/crash.py                       # 20 kills per backend, 16 clients
    python scripts/crash.py --kills 3 --backend sqlite

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.drills.crash import crash_drill
from scripts.drills.processes import fresh_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per backend")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--min-load", type=float, default=0.2, help="shortest load before a kill, seconds")
    parser.add_argument("--max-load", type=float, default=3.0, help="longest load before a kill, seconds")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    figures: dict[str, object] = {}
    for backend in backends:
        with (
            tempfile.TemporaryDirectory(prefix="ewallet-crash-") as folder,
            fresh_database(backend, Path(folder)) as url,
        ):
            print(f"{backend}: {args.kills} kills, {args.clients} clients", flush=True)
            report = asyncio.run(
                crash_drill(
                    url,
                    kills=args.kills,
                    clients=args.clients,
                    credits=10_000,
                    load_seconds=(args.min_load, args.max_load),
                    seed=args.seed,
                    log=lambda text: print("  " + text, flush=True),
                )
            )
            print(f"{backend}: {report.summary()}", flush=True)
            figures[backend] = {
                "kills": len(report.kills),
                "clients": report.clients,
                "sent": sum(k.sent for k in report.kills),
                "in_flight": sum(k.unanswered for k in report.kills),
                "committed_in_flight": sum(k.committed_unanswered for k in report.kills),
                "seed": report.seed,
                "seconds": round(report.seconds, 1),
            }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
