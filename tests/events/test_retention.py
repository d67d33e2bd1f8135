"""Events are kept EWALLET_EVENT_DAYS: the maintenance job forgets older ones (never the marker
of where events began), `oldest_event` moves up, `after` replays only what is kept, and the
audit does not ask for the events of payments older than the retention."""

from __future__ import annotations

import asyncio

import pytest

from ewallet.domain.audit import audit
from ewallet.settings import Settings, SettingsError
from ewallet.storage.database import snapshot_factory
from tests.events.test_subscribe import Lines, subscriber, supply
from tests.support import Running, running_server


async def purge(running: Running) -> int:
    job = next(job for job in running.app.maintenance.jobs if job.name == "event purge")
    return await asyncio.get_running_loop().run_in_executor(None, running.app.maintenance.run_once, job)


@pytest.mark.asyncio
async def test_events_older_than_the_retention_are_forgotten(database_url: str) -> None:
    # Sessions outlive the test's days, so one subscriber sees the whole story.
    async with running_server(database_url, event_days=2.0, session_lifetime=10 * 86400) as running:
        lines, alice = await subscriber(running)
        await supply(lines, 5)
        first = await lines.subscribe(after=0)
        old = await lines.until(2)  # the login and the supply
        running.clock.advance(days=1)
        assert await purge(running) == 0  # a day old: kept
        running.clock.advance(days=1, seconds=1)
        await supply(lines, 6)
        [new] = (await lines.until(3))[2:]
        assert await purge(running) == 2  # the login and the first supply, two days and a second old
        assert await purge(running) == 0
        again = Lines(await running.client())
        again.client.client_id, again.client.session_token = alice.client_id, alice.session_token
        answer = await again.subscribe(after=0)
        assert answer["oldest_event"] == new["seq"] > first["oldest_event"] == old[0]["seq"]
        assert [e["seq"] for e in await again.until(1)] == [new["seq"]]
        await again.quiet(0.3)
        assert len(again.events) == 1
        with snapshot_factory(running.app.engine).begin() as db:
            report = audit(db, event_days=2.0, now=running.clock.now())
        assert report.clean, report.lines()  # the forgotten payment is past the retention


@pytest.mark.parametrize("days", [0, -1, float("nan")])
def test_the_retention_must_be_more_than_nothing(days: float) -> None:
    with pytest.raises(SettingsError, match="EVENT_DAYS"):
        Settings(event_days=days)
