#!/usr/bin/env python3
"""The race harness, big: every pair of the race table (scripts/drills/races/ops.py), from two sessions
through two `ewallet serve` processes on one database, N rounds each; after every round the audit
and the structural invariants must hold.

    python scripts/races.py --rounds 20                   # PostgreSQL (a fresh database)
    python scripts/races.py --rounds 20 --backend sqlite  # a SQLite file
    python scripts/races.py --pair pay_in:unlink_active_ewallet --rounds 200
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.drills.processes import fresh_database, serving
from scripts.drills.races.harness import Harness
from scripts.drills.races.ops import BY_NAME


async def main(args: argparse.Namespace) -> int:
    only = [(BY_NAME[a], BY_NAME[b]) for a, b in (pair.split(":") for pair in args.pair)] or None
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database(args.backend, Path(folder)) as url,
        serving(url) as one,
        serving(url) as two,
    ):
        report = await Harness(url, [one.port, two.port]).run(args.rounds, only)
        tracebacks = one.tracebacks() + two.tracebacks()
    print(f"{args.backend}: {report.summary()}")
    for finding in report.findings:
        print(f"  {finding}")
    for line in tracebacks:
        print(f"  server: {line.rstrip()}")
    return 1 if report.findings or tracebacks else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pair", action="append", default=[], metavar="OP:OP", help="only this pair (repeatable)")
    sys.exit(asyncio.run(main(parser.parse_args())))
