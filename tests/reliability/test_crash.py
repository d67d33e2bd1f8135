"""Crash safety (issue 8, item 1): `ewallet serve` killed with SIGKILL at random moments under
eight clients moving credits, restarted on the same database each time; see crash.py for what
is checked after every restart. Three kills on each backend."""

from __future__ import annotations

from scripts.drills.crash import crash_drill


class TestSigkill:
    async def test_loses_no_acknowledged_instruction_and_half_applies_none(self, database_url: str) -> None:
        report = await crash_drill(database_url, kills=3, clients=8, load_seconds=(0.2, 1.2))
        print("\n" + report.summary())
        assert len(report.kills) == 3
        assert all(point.acknowledged > 0 for point in report.kills)
