"""The race harness in CI (§11, issue 11): every pair of the race table, from two sessions
through two `ewallet serve` processes on one database, at the same moment; after every round the
audit and the structural invariants hold, and no answer is `internal_error` or `conflict`.
`python scripts/races.py --rounds N` runs it big."""

from __future__ import annotations

import os

from scripts.drills.processes import serving
from scripts.drills.races.harness import Harness
from scripts.drills.races.ops import pairs

#: One round per pair keeps CI short; the script runs as many as asked.
ROUNDS = int(os.environ.get("EWALLET_RACE_ROUNDS", "1"))


class TestRaces:
    async def test_no_pair_of_instructions_breaks_a_rule_when_they_race(self, database_url: str) -> None:
        with serving(database_url) as one, serving(database_url) as two:
            report = await Harness(database_url, [one.port, two.port]).run(ROUNDS)
            print(f"\n{report.summary()}")
            assert report.rounds == len(pairs()) * ROUNDS
            assert not report.findings, "\n".join(report.findings)
            assert not one.tracebacks() and not two.tracebacks(), one.log + two.log
