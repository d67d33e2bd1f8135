"""A history page is an index range scan that stops after the page, on both backends: the
statement `history.page` sends for a deep page, read back with EXPLAIN (PostgreSQL) and EXPLAIN
QUERY PLAN (SQLite), walks ix_<table>_history backwards and sorts nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session as Db

from ewallet.domain import cursors, history
from ewallet.domain.kinds import TRANSFER
from ewallet.storage.models import Account, TransferRecord
from tests.domain.world import START, new_account

RECORDS = 3_000
#: Other accounts with as many records each, so that one sheet is a small part of the table.
OTHERS = 10


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM transfer_records" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    yield seen
    event.remove(engine, "before_cursor_execute", keep)


def loaded(db: Db) -> tuple[int, int]:
    """(account id, sheet id) of an account with RECORDS transfer records, among others'."""
    mine = new_account(db, "heavy")
    others = [new_account(db, f"other{n}") for n in range(OTHERS)]
    db.flush()
    rows = []
    for n in range(RECORDS):
        for account in (mine, *others):
            rows.append({
                "sheet_id": account.active_ewallet_id, "ewallet_id": account.active_ewallet_id,
                "reference": "Transfer Sheet Record", "transfer_type": ("transfer", "incoming")[n % 2],
                "transfer_from": "heavy@example.com", "transfer_to": f"p{n % 7}@example.com",
                "credits": 1 + n % 10, "hidden": n % 11 == 0, "create_date": START + timedelta(seconds=n),
                "write_date": START,
            })  # fmt: skip
    db.execute(insert(TransferRecord), rows)
    db.commit()
    sheet = history.visible_sheets(db, TRANSFER, mine.id)
    assert len(sheet) == 1
    return mine.id, sheet[0]


def plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE transfer_records")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            return "\n".join(row[0] for row in rows)
        conn.exec_driver_sql("ANALYZE")
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    "filters",
    # A common filter (half the records): the page still comes straight off the index. A rare
    # one costs the rows it must pass over whatever the plan (PostgreSQL may then read them all
    # through a bitmap and sort the few that match).
    [history.Filters(), history.Filters(transfer_type="incoming", min_credits=2, since=START)],
    ids=["plain", "filtered"],
)
def test_a_deep_page_walks_the_history_index_backwards_and_sorts_nothing(
    engine: Engine, db: Db, statements: list[tuple[str, Any]], filters: history.Filters
) -> None:
    account_id, _ = loaded(db)
    account = db.get(Account, account_id)
    binding = (account_id, "transfer", filters.normalised())
    middle = RECORDS * (OTHERS + 1) // 2
    deep = cursors.encode(middle, binding)  # an id about half way down
    statements.clear()
    page = history.page(db, TRANSFER, account, filters, 20, deep, START)
    db.rollback()
    assert page.records and all(record.id < middle for record in page.records)
    (statement, parameters) = statements[-1]
    shown = plan(engine, statement, parameters)
    assert "ix_transfer_records_history" in shown, shown
    if engine.dialect.name == "postgresql":
        assert "Index Scan Backward" in shown and "Sort" not in shown, shown
    else:
        assert "TEMP B-TREE" not in shown, shown
