"""Foreign keys of the "active" columns on PostgreSQL.

The initial migration declared them with use_alter, which op.create_table silently skips on
PostgreSQL (SQLite got them inline). They are added here; SQLite already has them.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (constraint, table, column, referred table)
ACTIVE_KEYS = (
    ("fk_accounts_active_ewallet", "accounts", "active_ewallet_id", "credit_ewallets"),
    ("fk_accounts_active_contact_list", "accounts", "active_contact_list_id", "contact_lists"),
    ("fk_credit_ewallets_active_clock", "credit_ewallets", "active_clock_id", "credit_clocks"),
    ("fk_credit_ewallets_active_transfer_sheet", "credit_ewallets", "active_transfer_sheet_id", "transfer_sheets"),
    ("fk_credit_ewallets_active_invoice_sheet", "credit_ewallets", "active_invoice_sheet_id", "invoice_sheets"),
    ("fk_credit_clocks_active_time_sheet", "credit_clocks", "active_time_sheet_id", "time_sheets"),
    ("fk_credit_clocks_active_conversion_sheet", "credit_clocks", "active_conversion_sheet_id", "conversion_sheets"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column, referred in ACTIVE_KEYS:
        op.create_foreign_key(name, table, referred, [column], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _, _ in ACTIVE_KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
