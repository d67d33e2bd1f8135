"""Migration 0004 on a database that already holds payments (both backends): the events table
starts with its marker naming the last transfer record made before it, so the audit asks for
events only of payments made since; a payment after the upgrade has its event."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from ewallet.domain import events
from ewallet.storage.database import create_db_engine, snapshot_factory
from ewallet.storage.migrate import alembic_config, upgrade
from ewallet.storage.models import Event, TransferRecord
from tests.money.books import audit_of
from tests.storage.test_migrations import empty_database_url  # noqa: F401  (the fixture)
from tests.support import running_server


async def _pay(url: str) -> None:
    async with running_server(url) as running:
        alice, bob = await running.user(), await running.user()
        answer = await bob.call(action="supply", supply="credits", credits=9, currency="EUR", cost=1)
        assert answer["failed"] is False, answer
        answer = await bob.call(action="transfer", transfer="credits", transfer_to=alice.email, credits=4)  # type: ignore[attr-defined]
        assert answer["failed"] is False, answer


def _downgrade(url: str, revision: str) -> None:
    config = alembic_config()
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


async def test_the_marker_names_the_last_record_before_and_the_audit_asks_only_for_later_events(
    empty_database_url: str,  # noqa: F811
) -> None:
    await _pay(empty_database_url)
    _downgrade(empty_database_url, "0003")  # as a database from before events
    engine = create_db_engine(empty_database_url)
    try:
        upgrade(engine)
        with snapshot_factory(engine).begin() as db:
            last = db.scalar(select(TransferRecord.id).order_by(TransferRecord.id.desc()).limit(1))
            assert events.kept_after(db) == last
            assert db.scalar(select(Event.id).where(Event.kind == events.CREDITS_RECEIVED)) is None
        assert audit_of(engine).clean, audit_of(engine).lines()
    finally:
        engine.dispose()
    await _pay(empty_database_url)
    engine = create_db_engine(empty_database_url)
    try:
        report = audit_of(engine)
        assert report.clean, report.lines()
        with snapshot_factory(engine).begin() as db:
            assert len(db.scalars(select(Event.id).where(Event.kind == events.CREDITS_RECEIVED)).all()) == 2
    finally:
        engine.dispose()
