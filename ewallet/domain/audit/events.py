"""Every movement has its event: each `incoming` transfer record made since the database began
keeping events, and younger than the event retention, has exactly one `credits_received` event of
the receiving account naming it. A subscriber relies on that to learn of every payment; a
movement written past the domain (or an event deleted) would go unannounced.

Two queries, each returning only what breaks the rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session as Db

from ewallet.domain import events
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import TRANSFERS, rows
from ewallet.domain.ledger import INCOMING
from ewallet.storage.models import Event

t = TRANSFERS.c


def check_events(db: Db, since: datetime, report: AuditReport) -> None:
    """`since`: the oldest instant whose events are still kept."""
    after = events.kept_after(db)
    if after is None:
        report.add("events: the marker of when events began to be kept is missing")
        return
    announced = select(Event.id).where(
        Event.kind == events.CREDITS_RECEIVED, Event.ref_id == t.id, Event.account_id == t.to_account_id
    )
    unannounced = (
        select(t.id, t.to_account_id)
        .where(t.transfer_type == INCOMING, t.id > after, t.create_date >= since, ~announced.exists())
        .order_by(t.id)
    )
    for record_id, account_id in rows(db, unannounced):
        report.add(f"transfer record {record_id}: no credits_received event for account {account_id}")
    doubled = (
        select(Event.ref_id, func.count())
        .where(Event.kind == events.CREDITS_RECEIVED)
        .group_by(Event.ref_id)
        .having(func.count() > 1)
        .order_by(Event.ref_id)
    )
    for record_id, count in rows(db, doubled):
        report.add(f"transfer record {record_id}: {count} credits_received events (one expected)")
    stray = (
        select(Event.id, Event.ref_id)
        .outerjoin(
            TRANSFERS, and_(t.id == Event.ref_id, t.transfer_type == INCOMING, t.to_account_id == Event.account_id)
        )
        .where(Event.kind == events.CREDITS_RECEIVED, t.id.is_(None))
        .order_by(Event.id)
    )
    for event_id, record_id in rows(db, stray):
        report.add(f"event {event_id}: credits_received names transfer record {record_id}, no payment to its account")
