"""Events: the outbox table subscribers read.

Effects write their events in their own transaction; subscribers read them after commit. The
first row marks where the database began keeping events (its ref_id: the last transfer record
before), so the audit asks for an event only of movements made since.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import ewallet.storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STAMP = ewallet.storage.types.UTCDateTime(timezone=True)
#: The kind of the marker row (also in ewallet.domain.events).
EVENTS_BEGAN = "events_began"


def upgrade() -> None:
    events = op.create_table(
        "events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.BigInteger(), nullable=True),
        sa.Column("once_key", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("create_date", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("once_key", name=op.f("uq_events_once_key")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_account_seq", "events", ["account_id", "id"], unique=False)
    op.create_index("ix_events_date", "events", ["create_date"], unique=False)
    op.create_index("ix_events_ref", "events", ["ref_id"], unique=False)
    last_record = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM transfer_records")).scalar_one()
    marker = {"kind": EVENTS_BEGAN, "ref_id": int(last_record), "data": {}, "create_date": datetime.now(UTC)}
    op.bulk_insert(events, [marker])


def downgrade() -> None:
    op.drop_index("ix_events_ref", table_name="events")
    op.drop_index("ix_events_date", table_name="events")
    op.drop_index("ix_events_account_seq", table_name="events")
    op.drop_table("events")
