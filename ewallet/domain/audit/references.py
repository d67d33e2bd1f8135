"""Every reference names a row that exists: a record's sheet, ewallet, clock, accounts and
movement, a sheet's or clock's parent, an active pointer. The schema's foreign keys promise it,
but a database restored in pieces, or written with its checks off (SQLite enforces them only
per connection), need not keep the promise. One query per table, which returns only the rows
naming something missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Table, and_, or_, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.owners import missing
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import NAMES, rows


def _references(table: Table) -> list[ForeignKey]:
    """The table's references to audited tables, in column order."""
    keys = [key for key in table.foreign_keys if key.column.table.name in NAMES]
    return sorted(keys, key=lambda key: list(table.c).index(key.parent))


def _check_table(db: Db, table: Table, report: AuditReport) -> None:
    keys = _references(table)
    if not keys:
        return
    joined: Any = table
    dangling, selected = [], [table.c.id]
    for n, key in enumerate(keys):
        target = key.column.table.alias(f"target_{n}")
        column = key.parent
        joined = joined.outerjoin(target, target.c.id == column)
        dangling.append(and_(column.is_not(None), target.c.id.is_(None)))
        selected += [column, target.c.id]
    query = select(*selected).select_from(joined).where(or_(*dangling)).order_by(table.c.id)
    for row in rows(db, query):
        for n, key in enumerate(keys):
            value, found = row[1 + 2 * n], row[2 + 2 * n]
            if value is not None and found is None:
                report.add(missing(table, row[0], key.parent.name, key.column.table, value))


def check_references(db: Db, tables: list[Table], report: AuditReport) -> None:
    for table in tables:
        _check_table(db, table, report)
