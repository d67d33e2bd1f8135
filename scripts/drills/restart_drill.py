"""The PostgreSQL restart drill behind scripts/pg_restart_drill.sh: clients move credits through
`ewallet serve` while the whole database cluster is restarted under them. Instructions in flight
and those sent while the database is down answer `conflict`; once it is back the server
reconnects by itself and instructions succeed again. Afterwards the conflicted ones are replayed
with their idempotency keys, and every balance, ledger row and `ewallet audit` must be exact.

Restarting the cluster cuts every other user of it, so the drill refuses to run while other
clients are connected unless told otherwise (--force)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from ewallet.pipeline.policies import OUTCOME_UNKNOWN
from scripts.drills.ledger import read_ledger
from scripts.drills.outcomes import assert_exact, settle
from scripts.drills.processes import PG_ADMIN_URL, fresh_database, serving
from scripts.drills.wallets import Sent, keep_moving, open_wallet


def other_clients() -> int:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                        " AND datname IS NOT NULL AND backend_type = 'client backend'"
                    )
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


async def drill(url: str, restart: list[str], clients: int, seconds: float) -> dict[str, object]:
    with serving(url) as server:
        wallets = [await open_wallet(server.port, n, f"restart{n}", 10_000) for n in range(clients)]
        sent: list[Sent] = []
        stop = asyncio.Event()
        rng = random.Random(11)
        movers = [
            asyncio.create_task(keep_moving(w, wallets, random.Random(rng.random()), sent, "drill", stop))
            for w in wallets
        ]
        await asyncio.sleep(seconds / 2)
        restarted_at = time.monotonic()
        done = await asyncio.to_thread(subprocess.run, restart, capture_output=True, text=True)
        restart_seconds = time.monotonic() - restarted_at
        if done.returncode != 0:
            stop.set()
            await asyncio.gather(*movers)
            raise SystemExit(f"the restart command failed: {done.stderr.strip()}")
        marker = len(sent)
        await asyncio.sleep(seconds / 2)
        stop.set()
        await asyncio.gather(*movers)
        outcomes = Counter("ok" if m.succeeded else m.answer["code"] if m.answer else "none" for m in sent)
        assert set(outcomes) <= {"ok", "insufficient_credits", "conflict"}, outcomes
        assert any(m.succeeded for m in sent[marker:]), "nothing succeeded after the restart"
        conflicts = [m for m in sent if m.answer is not None and m.answer.get("code") == "conflict"]
        unknown = sum(m.answer is not None and m.answer["error"] == OUTCOME_UNKNOWN for m in conflicts)
        outage = max((m.answered_at for m in conflicts), default=0) - min((m.answered_at for m in conflicts), default=0)
        replays = await settle(sent, wallets, read_ledger(url))
        seen = {w.index: await w.credits() for w in wallets}
        for wallet in wallets:
            await wallet.close()
        assert_exact(url, sent, dict.fromkeys(range(clients), 10_000), seen)
        assert not server.tracebacks(), "".join(server.log)
    return {
        "movements": len(sent),
        "outcomes": dict(outcomes),
        "restart_command_seconds": round(restart_seconds, 1),
        "conflicts_outcome_unknown": unknown,
        "conflicts_nothing_changed": len(conflicts) - unknown,
        "seconds_from_first_to_last_conflict": round(outage, 2),
        "slowest_answer_seconds": round(max(m.answered_at - m.sent_at for m in sent if m.answer), 2),
        "conflicts_replayed": dict(replays),
        "audit": "books balance",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restart", required=True, help="the command that restarts the cluster")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="load in all; the restart comes half-way")
    parser.add_argument("--force", action="store_true", help="restart even while other clients are connected")
    args = parser.parse_args()
    others = other_clients()
    if others and not args.force:
        print(f"pg_restart_drill: {others} other client(s) are connected; a restart would cut them (--force)")
        return 2
    with tempfile.TemporaryDirectory() as folder, fresh_database("postgresql", Path(folder)) as url:
        figures = asyncio.run(drill(url, shlex.split(args.restart), args.clients, args.seconds))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
