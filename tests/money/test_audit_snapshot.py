"""`ewallet audit` on a live database (PROTOCOL §11 "`ewallet audit`"): it reads one consistent
snapshot (PostgreSQL REPEATABLE READ, READ ONLY; SQLite a deferred read transaction) and never
delays the server's writers. Both backends."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session as Db

import ewallet.domain.audit as audit_package
from ewallet import cli
from ewallet.clock import ManualClock
from ewallet.domain.audit import AuditReport
from scripts.drills.audit import audit_cli
from tests.answers import ok
from tests.money import calls
from tests.money.calls import TRANSFERRED
from tests.support import LineClient, running_server

ACCOUNTS, AUDITS = 6, 4


async def _move_until(stop: asyncio.Event, client: LineClient, partners: list[str], moved: list[int]) -> None:
    n = 0
    while not stop.is_set():
        partner = partners[n % len(partners)]
        answer = await (calls.pay if n % 2 else calls.transfer)(client, partner, 1 + n % 3)
        assert answer["failed"] is False, answer
        moved.append(1)
        n += 1


class TestAuditUnderLoad:
    async def test_passes_every_time_while_credits_move(self, database_url: str, clock: ManualClock) -> None:
        async with running_server(database_url, clock) as running:
            owners = [await calls.funded(running, 10_000) for _ in range(ACCOUNTS)]
            emails = [owner.email for owner in owners]  # type: ignore[attr-defined]
            stop, moved = asyncio.Event(), []
            movers = [
                asyncio.create_task(_move_until(stop, owner, [e for e in emails if e != email], moved))
                for owner, email in zip(owners, emails, strict=True)
            ]
            try:
                # The movers under way before the first audit: in CI a cold start (the server's
                # pool opening connections, the load of the other workers) once outlasted an audit.
                async with asyncio.timeout(30):
                    while len(moved) < 2 * ACCOUNTS:
                        await asyncio.sleep(0.01)
                runs = []
                for _ in range(AUDITS):
                    before = len(moved)
                    done = await asyncio.to_thread(audit_cli, database_url)
                    runs.append((len(moved) - before, done))
            finally:
                stop.set()
                await asyncio.gather(*movers)
        print(f"\nmovements during each audit: {[during for during, _ in runs]}")
        for during, done in runs:
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.splitlines()[-1] == "books balance"
            assert during > 0, "no credits moved while the audit ran"


@pytest.fixture
def held_audit(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event, list[AuditReport]]]:
    """`ewallet audit` made to pause inside its transaction after a first full audit, then to
    audit again in the same transaction once released."""
    real = audit_package.audit
    inside, release, reports = threading.Event(), threading.Event(), []

    def held(db: Db, **options: Any) -> AuditReport:
        reports.append(real(db, **options))
        inside.set()
        release.wait(30)
        reports.append(real(db, **options))
        return reports[0]

    monkeypatch.setattr(audit_package, "audit", held)
    yield inside, release, reports
    release.set()


class TestAuditSnapshot:
    async def test_a_write_goes_through_while_the_audit_reads_and_the_audit_does_not_see_it(
        self, database_url: str, clock: ManualClock, held_audit: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        inside, release, reports = held_audit
        # A short busy timeout: on the old code (BEGIN IMMEDIATE) the write would wait for it.
        async with running_server(database_url, clock, busy_timeout=1.0) as running:
            alice, bob = await calls.funded(running, 100), await running.user()
            audit = asyncio.create_task(asyncio.to_thread(cli.main, ["audit", "--database", database_url]))
            try:
                assert await asyncio.to_thread(inside.wait, 30)
                started = time.perf_counter()
                answer = await calls.transfer(alice, bob.email, 5)  # type: ignore[attr-defined]
                waited = time.perf_counter() - started
            finally:
                release.set()
                status = await audit
        printed = capsys.readouterr().out.splitlines()
        print(f"\na transfer during the audit took {waited * 1000:.1f} ms")
        ok(answer, *TRANSFERRED)
        assert waited < 0.5, f"the transfer waited {waited:.2f} s for the audit"
        first, second = reports
        assert (first.transfers, first.credits_held) == (second.transfers, second.credits_held) == (2, 100)
        assert status == 0 and printed[-1] == "books balance"
