"""Integrity (PROTOCOL 1.1 §11): the columns the rules and the audit need.

- accounts: name_key and email_key become SHA-256 digests of the NFKC case-folded value, so that
  Unicode-equivalent names collide and a folded form longer than the column still fits; the
  cleaner's placeholder names gain an "@", which user names refuse, so nobody can squat them.
- ewallet_sessions.peer: sessions that never logged in are capped per address.
- credit_clocks: the expected stop of a running timer (the sweep finds due timers by index), the
  billing carry, every hundredth ever billed (the audit's check on time records), and the highest
  conversion rate the clock was loaded at (converting back never pays more than was paid).
- invoice_records.transfer_record_id: the movement each invoice belongs to.
- idempotency_keys.scope: an operator's keys and a user's keys are separate namespaces.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import ewallet.storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STAMP = ewallet.storage.types.UTCDateTime(timezone=True)


def _key(value: str) -> str:
    # Frozen copy of ewallet.domain.identity.identity_key as of this revision.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("ewallet_sessions") as batch:
        batch.add_column(sa.Column("peer", sa.String(length=64), nullable=True))
        batch.create_index("ix_ewallet_sessions_peer", ["peer"], unique=False)

    with op.batch_alter_table("credit_clocks") as batch:
        batch.add_column(sa.Column("timer_expected_stop", STAMP, nullable=True))
        batch.add_column(sa.Column("timer_carry_us", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("billed_hundredths", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("loaded_rate", sa.Numeric(12, 2), nullable=True))
        batch.create_index("ix_credit_clocks_expected_stop", ["timer_expected_stop"], unique=False)

    with op.batch_alter_table("invoice_records") as batch:
        batch.add_column(sa.Column("transfer_record_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            "fk_invoice_records_transfer_record_id_transfer_records", "transfer_records", ["transfer_record_id"], ["id"]
        )
        batch.create_unique_constraint("uq_invoice_records_transfer_record_id", ["transfer_record_id"])

    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=8), nullable=False, server_default="user"))
        batch.drop_constraint("uq_idempotency_keys_account_id", type_="unique")
        batch.create_unique_constraint("uq_idempotency_keys_scope", ["scope", "account_id", "key"])

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE idempotency_keys SET scope = 'system' WHERE route LIKE 'system %'"))
    _backfill_clocks(bind)
    _link_invoices(bind)
    _rekey_accounts(bind)


def _backfill_clocks(bind: sa.Connection) -> None:
    bind.execute(
        sa.text(
            "UPDATE credit_clocks SET billed_hundredths = COALESCE("
            "(SELECT SUM(spent_hundredths) FROM time_records WHERE time_records.clock_id = credit_clocks.id), 0)"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE credit_clocks SET loaded_rate = (SELECT MAX(rate) FROM conversion_records "
            "WHERE conversion_records.clock_id = credit_clocks.id AND conversion_type = 'credits2clock')"
        )
    )
    # A running timer's expected stop: its segment start plus the balance not yet used.
    clocks = sa.table(
        "credit_clocks",
        sa.column("id"),
        sa.column("state"),
        sa.column("hundredths"),
        sa.column("timer_active_us"),
        sa.column("timer_segment_start", STAMP),
        sa.column("timer_expected_stop", STAMP),
    )
    running = bind.execute(
        sa.select(clocks.c.id, clocks.c.hundredths, clocks.c.timer_active_us, clocks.c.timer_segment_start).where(
            clocks.c.state == "active", clocks.c.timer_segment_start.is_not(None)
        )
    ).all()
    for clock_id, hundredths, active_us, segment_start in running:
        ends = segment_start + timedelta(microseconds=max(hundredths * 600_000 - active_us, 0))
        bind.execute(sa.update(clocks).where(clocks.c.id == clock_id).values(timer_expected_stop=ends))


def _link_invoices(bind: sa.Connection) -> None:
    """Each invoice to its movement's source row: the supply or payment of the same account
    (the buyer, the payer) at the same instant for the same credits; first unused match."""
    invoices = bind.execute(
        sa.text(
            "SELECT i.id, w.account_id, i.create_date, i.credits FROM invoice_records i "
            "JOIN invoice_sheets s ON s.id = i.sheet_id JOIN credit_ewallets w ON w.id = s.ewallet_id ORDER BY i.id"
        )
    ).all()
    sources = bind.execute(
        sa.text(
            "SELECT id, CASE WHEN transfer_type = 'supply' THEN to_account_id ELSE from_account_id END, "
            "create_date, credits FROM transfer_records WHERE transfer_type IN ('supply', 'payment') ORDER BY id"
        )
    ).all()
    candidates: dict[tuple[object, str, int], list[int]] = {}
    for source_id, account_id, created, credits in sources:
        candidates.setdefault((account_id, str(created), credits), []).append(source_id)
    links = sa.table("invoice_records", sa.column("id"), sa.column("transfer_record_id"))
    unmatched = 0
    for invoice_id, account_id, created, credits in invoices:
        found = candidates.get((account_id, str(created), credits))
        if not found:
            unmatched += 1
            continue
        bind.execute(sa.update(links).where(links.c.id == invoice_id).values(transfer_record_id=found.pop(0)))
    if unmatched:
        log.warning("%d invoice records match no movement; ewallet audit will name them", unmatched)


def _rekey_accounts(bind: sa.Connection) -> None:
    table = sa.table(
        "accounts",
        sa.column("id"),
        sa.column("name"),
        sa.column("email"),
        sa.column("name_key", sa.String),
        sa.column("email_key", sa.String),
        sa.column("anonymised"),
    )
    accounts = bind.execute(
        sa.select(table.c.id, table.c.name, table.c.email, table.c.anonymised).order_by(table.c.id)
    ).all()
    # Park the old keys first so that a new key never meets an old one under the unique index.
    parked = sa.literal("old:").concat(sa.cast(table.c.id, sa.String))
    bind.execute(sa.update(table).values(name_key=parked))
    bind.execute(sa.update(table).where(~table.c.email_key.startswith("reserved:")).values(email_key=parked))
    taken: set[str] = set()
    for account_id, name, email, anonymised in accounts:
        values: dict[str, str]
        if anonymised:
            placeholder = f"@deleted-account-{account_id}"
            values = {"name": placeholder, "email": placeholder, "name_key": _key(placeholder)}
        else:
            values = {"name_key": _key(name), "email_key": _key(email)}
        for column in ("name_key", "email_key"):
            if column not in values:
                continue
            if values[column] in taken:
                # Unicode-equivalent twins registered before this rule: the older account keeps
                # the key; the newer one gets a key of its own and is reported.
                log.warning("account %d: its %s is equivalent to an older account's", account_id, column[:-4])
                values[column] = f"{values[column][:40]}#{account_id}"
            taken.add(values[column])
        bind.execute(sa.update(table).where(table.c.id == account_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_constraint("uq_idempotency_keys_scope", type_="unique")
        batch.create_unique_constraint("uq_idempotency_keys_account_id", ["account_id", "key"])
        batch.drop_column("scope")
    with op.batch_alter_table("invoice_records") as batch:
        batch.drop_constraint("uq_invoice_records_transfer_record_id", type_="unique")
        batch.drop_constraint("fk_invoice_records_transfer_record_id_transfer_records", type_="foreignkey")
        batch.drop_column("transfer_record_id")
    with op.batch_alter_table("credit_clocks") as batch:
        batch.drop_index("ix_credit_clocks_expected_stop")
        for column in ("loaded_rate", "billed_hundredths", "timer_carry_us", "timer_expected_stop"):
            batch.drop_column(column)
    with op.batch_alter_table("ewallet_sessions") as batch:
        batch.drop_index("ix_ewallet_sessions_peer")
        batch.drop_column("peer")
