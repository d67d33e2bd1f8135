"""`ewallet audit`: every balance follows from the append-only ledger, every
movement is a whole pair in the right places, conversions mint nothing, time is billed once, and
the structural invariants hold. Hidden rows count: hiding changes what users see, never the
books.

Give it a session on one consistent snapshot (`storage.database.snapshot_factory`). It reads the
ledger tables in one streamed pass each, in id order, and everything else with aggregate
queries that return only what breaks a rule, so it holds the accounts' balances in memory, never
the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.balances import check_ewallets, check_totals
from ewallet.domain.audit.clocks import check_clocks
from ewallet.domain.audit.conversions import check_conversions
from ewallet.domain.audit.events import check_events
from ewallet.domain.audit.invoices import check_invoices
from ewallet.domain.audit.owners import read_owners
from ewallet.domain.audit.references import check_references
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.structure import check_structure
from ewallet.domain.audit.tables import AUDITED, CONVERSIONS, INVOICES, TRANSFERS
from ewallet.domain.audit.transfers import check_transfers

__all__ = ["AuditReport", "audit"]


#: The ledger tables whose one pass also checks their references.
PASSED = (TRANSFERS, INVOICES, CONVERSIONS)


#: The event retention the audit assumes unless told (the server's default EWALLET_EVENT_DAYS).
EVENT_DAYS = 7.0


def audit(db: Db, *, event_days: float = EVENT_DAYS, now: datetime | None = None) -> AuditReport:
    """`event_days`: movements younger than this must have their event (the server's setting)."""
    report = AuditReport()
    owners = read_owners(db)
    transfers = check_transfers(db, owners, report)
    conversions = check_conversions(db, owners, report)
    check_ewallets(db, transfers, conversions, report)
    check_clocks(db, conversions, report)
    check_totals(transfers, conversions, report)
    check_invoices(db, owners, report)
    check_structure(db, report)
    check_references(db, [table for table in AUDITED if table not in PASSED], report)
    check_events(db, (now or datetime.now(UTC)) - timedelta(days=event_days), report)
    return report
