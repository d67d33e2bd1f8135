#!/usr/bin/env python3
"""Slow and abusive clients, big, each against its own `ewallet serve` on a fresh SQLite file:

- trickle: N connections each sending a request one byte a second (frame timeout 2 s); a
  normal client's worst round trip meanwhile, and when each trickler was closed;
- idle: N idle connections beside 10 active ones (idle timeout 5 s): when each idle one was
  closed, whether the active ones survived;
- cap: the cap filled (1,000), then N more connections at once: each must get one `capacity`
  line and be closed, the admitted ones keep working;
- pipeline: a client pushes --pipeline-mb of requests without reading (1 MiB of unsent answers
  allowed): how much the server took before it stopped reading, its memory, others' latency;
- logins: one address guesses passwords --guesses times with the default Argon2 cost: when it
  is refused, and what a refused attempt costs against a checked one.

    python scripts/abuse.py                     # 5,000 tricklers, 10,000 idle, 5,000 over the cap
    python scripts/abuse.py --trickle 1000 --idle 1000 --flood 1000

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.drills.abuse import (
    flood_cap,
    guess_passwords,
    idle,
    is_capacity_line,
    pipeline_without_reading,
    summary,
    trickle,
)
from scripts.drills.processes import fresh_database, rss_mb, serving


def need_fds(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        sys.exit(f"abuse: the hard RLIMIT_NOFILE is {hard}, below the {count} needed; raise it (ulimit -Hn) first")
    if soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


async def run(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    figures: dict[str, object] = {}
    with fresh_database("sqlite", folder) as url:
        big = args.trickle + args.idle + args.flood + 2000
        with serving(url, frame_timeout=2, max_connections=big) as server:
            started = time.monotonic()
            trickled = await trickle(server.port, args.trickle)
            figures["trickle"] = summary(trickled) | {
                "others_median_ms": round(trickled.others.median * 1000, 1),
                "server_rss_mb": round(rss_mb(server.pid)),
                "seconds": round(time.monotonic() - started, 1),
            }
            print("trickle:", figures["trickle"], flush=True)
        with serving(url, idle_timeout=5, max_connections=big) as server:
            idled = await idle(server.port, args.idle, 10, idle_timeout=5)
            figures["idle"] = summary(idled) | {
                "active_answers": idled.active_answers,
                "active_still_open": idled.active_still_open,
            }
            print("idle:", figures["idle"], flush=True)
        with serving(url, max_connections=1000) as server:
            capped = await flood_cap(server.port, 1000, args.flood)
            figures["cap"] = {
                "admitted": capped.admitted,
                "over_the_cap": capped.refused,
                "one_capacity_line_each": sum(is_capacity_line(lines) for lines in capped.refusals),
                "admitted_still_served": capped.admitted_still_served,
            }
            print("cap:", figures["cap"], flush=True)
        with serving(url) as server:
            before = rss_mb(server.pid)
            piped = await pipeline_without_reading(server.port, args.pipeline_mb, memory=lambda: rss_mb(server.pid))
            figures["pipeline"] = {
                "offered_mb": round(piped.offered / (1 << 20), 1),
                "accepted_mb": round(piped.accepted / (1 << 20), 2),
                "stalled": piped.stalled,
                "rss_before_mb": round(before, 1),
                "rss_peak_mb": round(max(piped.memory_mb, default=before), 1),
                "others_worst_ms": round(piped.others.worst * 1000, 1),
                "answers_read_back": piped.answers,
                "requests_taken": piped.requests,
            }
            print("pipeline:", figures["pipeline"], flush=True)
        # The default Argon2 cost, so that the price of a checked guess is the real one.
        with serving(url, argon2_time_cost=3, argon2_memory_kib=65536, argon2_parallelism=4) as server:
            guessed = await guess_passwords(server.port, args.guesses, accounts=20)
            figures["logins"] = {
                "attempts": guessed.attempts,
                "codes": dict(guessed.codes),
                "first_refusal": guessed.first_refusal,
                "checked_ms": round(guessed.failed_seconds * 1000, 1),
                "refused_ms": round(guessed.throttled_seconds * 1000, 2),
                "right_password_after": guessed.right_password_then,
            }
            print("logins:", figures["logins"], flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trickle", type=int, default=5000)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--flood", type=int, default=5000)
    parser.add_argument("--pipeline-mb", type=float, default=1024)
    parser.add_argument("--guesses", type=int, default=300)
    args = parser.parse_args()
    need_fds(max(args.trickle, args.idle, args.flood) + 2000)
    with tempfile.TemporaryDirectory(prefix="ewallet-abuse-") as folder:
        figures = asyncio.run(run(args, Path(folder)))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
