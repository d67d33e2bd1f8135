"""History indexes (PROTOCOL 1.1 §12): one (sheet_id, hidden, id) index per record table.

`history` reads a sheet's visible records newest first from below a cursor's id: with these
indexes that is a backward range scan that stops after one page, so a page costs the same at
record 10 and at record 1,000,000. (On SQLite the sheet_id index already ends in the rowid, but
not with hidden before it; on PostgreSQL the sheet_id index keeps equal keys in no useful order.)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("transfer_records", "invoice_records", "time_records", "conversion_records")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_history", table, ["sheet_id", "hidden", "id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_history", table_name=table)
