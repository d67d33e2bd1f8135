"""Hostile input (issue 8, item 2): a few hundred hypothesis cases against a live `ewallet serve`
process on each backend; fuzzer.py lists what every case must pass. (Both backends: the fuzzer
found a value that only PostgreSQL refused to store.)"""

from __future__ import annotations

import os

from scripts.drills.fuzzer import run_fuzz
from scripts.drills.processes import serving

MAX_FRAME = 8192  # small, so that oversized lines are cheap to send
CASES = int(os.environ.get("EWALLET_FUZZ_CASES", "300"))


class TestHostileInput:
    def test_never_fails_internally_and_failed_instructions_change_nothing(self, database_url: str) -> None:
        with serving(database_url, max_frame=MAX_FRAME, peer_login_rate=0) as server:
            report = run_fuzz(server.port, MAX_FRAME, CASES)
            print("\n" + report.summary())
            assert report.cases >= CASES
            assert server.alive
            assert not server.tracebacks(), "".join(server.log)
            assert server.stop() == 0
