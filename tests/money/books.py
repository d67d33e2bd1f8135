"""The books as the database holds them: row counts of every ledger table (system rows and
hidden rows included), balances, and the audit, both in-process and as `ewallet audit`."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text

from ewallet.domain.audit import AuditReport, audit
from ewallet.storage.database import session_factory, snapshot_factory
from ewallet.storage.models import (
    ConversionRecord,
    CreditClock,
    CreditEwallet,
    IdempotencyKey,
    InvoiceRecord,
    TimeRecord,
    TransferRecord,
)
from tests.money import calls
from tests.support import LineClient, Running

TABLES = {
    "transfer": TransferRecord,
    "invoice": InvoiceRecord,
    "conversion": ConversionRecord,
    "time": TimeRecord,
    "idempotency": IdempotencyKey,
}


@dataclass(frozen=True)
class Books:
    rows: dict[str, int]
    #: ewallet id -> credits
    credits: dict[int, int]
    #: clock id -> (hundredths of a minute, timer state)
    clocks: dict[int, tuple[int, str]]


def books(running: Running) -> Books:
    with session_factory(running.app.engine).begin() as db:
        rows = {name: int(db.scalar(select(func.count()).select_from(model)) or 0) for name, model in TABLES.items()}
        held = {int(i): int(c) for i, c in db.execute(select(CreditEwallet.id, CreditEwallet.credits))}
        clocks = {
            int(i): (int(h), str(s))
            for i, h, s in db.execute(select(CreditClock.id, CreditClock.hundredths, CreditClock.state))
        }
    return Books(rows=rows, credits=held, clocks=clocks)


def audit_of(engine: Engine) -> AuditReport:
    """The audit in-process, on the snapshot `ewallet audit` reads."""
    with snapshot_factory(engine).begin() as db:
        return audit(db)


def assert_clean(running: Running) -> AuditReport:
    report = audit_of(running.app.engine)
    assert report.clean, report.lines()
    return report


def tamper(engine: Engine, *statements: str, unchecked: bool = False, **params: object) -> None:
    """Change the database behind the server's back, as a careless operator would: the
    statements in one transaction. `unchecked` turns the foreign key checks off for it, so that
    a row can name one that does not exist (SQLite: a connection of its own with
    `foreign_keys=OFF`; PostgreSQL: `session_replication_role = replica`)."""
    if unchecked and engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database is not None
        conn = sqlite3.connect(database, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("BEGIN IMMEDIATE")
            for statement in statements:
                conn.execute(statement, params)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    with engine.begin() as conn:
        if unchecked:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement), params)


async def visible(client: LineClient) -> tuple[int, float, dict[str, list[int]]]:
    """What the account sees of its money: credits, minutes and the records of its active sheets."""
    listed = {kind: await calls.records(client, kind) for kind in calls.KINDS}
    return await calls.credits(client), await calls.minutes(client), listed


@asynccontextmanager
async def changes_nothing(running: Running, *clients: LineClient) -> AsyncIterator[None]:
    """The block leaves every balance and every ledger row count as it was, in the database and
    as the given clients see them."""
    before, seen = books(running), [await visible(client) for client in clients]
    yield
    assert books(running) == before
    assert [await visible(client) for client in clients] == seen
