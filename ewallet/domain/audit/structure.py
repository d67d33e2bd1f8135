"""The structural invariants: no hidden ewallet holds credits and no hidden clock
holds minutes or runs a timer; every account that is not anonymised has a visible ewallet, every
visible ewallet a visible clock, transfer sheet and invoice sheet, every visible clock a visible
time and conversion sheet; every active pointer names an object of the right owner, visible
when its holder is live; an account with a deletion order holds nothing; a timer runs only on
the active clock of its account's active ewallet.

Each is one query over the accounts, ewallets, clocks and sheets (never the ledger) that returns
only the objects breaking it. An anonymised account keeps pointers to what the cleaner hid: those
are its normal state, not findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.report import AuditReport, minutes
from ewallet.domain.audit.tables import (
    ACCOUNTS,
    CLOCKS,
    CONTACT_LISTS,
    CONVERSION_SHEETS,
    EWALLETS,
    INVOICE_SHEETS,
    NAMES,
    TIME_SHEETS,
    TRANSFER_SHEETS,
)
from ewallet.domain.timer import INACTIVE

a, w, c = ACCOUNTS.c, EWALLETS.c, CLOCKS.c


def _live(table: Table) -> ColumnElement[bool]:
    """Whose children must be visible: a visible ewallet or clock, an account not anonymised."""
    return not_(table.c.anonymised) if table is ACCOUNTS else not_(table.c.hidden)


def _hidden(table: Table) -> ColumnElement[bool]:
    return table.c.hidden if "hidden" in table.c else false()


@dataclass(frozen=True)
class Link:
    """A parent, a kind of child it owns (the child's `owner` column) and the parent's `pointer`
    to the active one. Contact lists are really deleted, never hidden: only their pointer is
    checked."""

    parent: Table
    child: Table
    owner: str
    pointer: str
    label: str
    needs_visible: bool = True


LINKS = (
    Link(ACCOUNTS, EWALLETS, "account_id", "active_ewallet_id", "ewallet"),
    Link(ACCOUNTS, CONTACT_LISTS, "account_id", "active_contact_list_id", "contact list", needs_visible=False),
    Link(EWALLETS, CLOCKS, "ewallet_id", "active_clock_id", "credit clock"),
    Link(EWALLETS, TRANSFER_SHEETS, "ewallet_id", "active_transfer_sheet_id", "transfer sheet"),
    Link(EWALLETS, INVOICE_SHEETS, "ewallet_id", "active_invoice_sheet_id", "invoice sheet"),
    Link(CLOCKS, TIME_SHEETS, "clock_id", "active_time_sheet_id", "time sheet"),
    Link(CLOCKS, CONVERSION_SHEETS, "clock_id", "active_conversion_sheet_id", "conversion sheet"),
)


def _no_visible_child(db: Db, link: Link, report: AuditReport) -> None:
    child = link.child
    visible = exists().where(child.c[link.owner] == link.parent.c.id, not_(child.c.hidden))
    query = select(link.parent.c.id).where(_live(link.parent), ~visible).order_by(link.parent.c.id)
    for (parent,) in db.execute(query):
        report.add(f"{NAMES[link.parent.name]} {parent} has no visible {link.label}")


def _pointer(db: Db, link: Link, report: AuditReport) -> None:
    parent, child, pointer = link.parent, link.child, link.parent.c[link.pointer]
    live, owner, hidden = _live(parent), child.c[link.owner], _hidden(child)
    query = (
        select(parent.c.id, pointer, owner, hidden, live)
        .select_from(parent.outerjoin(child, child.c.id == pointer))
        .where(
            or_(
                and_(live, pointer.is_(None)),
                and_(child.c.id.is_not(None), or_(owner != parent.c.id, and_(live, hidden))),
            )
        )
        .order_by(parent.c.id)
    )
    name = NAMES[parent.name]
    for holder, target, target_owner, target_hidden, _ in db.execute(query):
        if target is None:
            report.add(f"{name} {holder} has no active {link.label}")
        elif target_owner != holder:
            report.add(f"{name} {holder}: its active {link.label} {target} belongs to {name} {target_owner}")
        elif target_hidden:
            report.add(f"{name} {holder}: its active {link.label} {target} is hidden")


#: (query, line) pairs: each row the query returns is one finding.
Check = tuple[Any, Callable[..., str]]


def _pending_deletion(column: Any, joined: Any) -> Any:
    total = func.sum(column)
    return (
        select(a.id, total)
        .select_from(joined)
        .where(a.deletion_date.is_not(None))
        .group_by(a.id)
        .having(total != 0)
        .order_by(a.id)
    )


CHECKS: tuple[Check, ...] = (
    (
        select(w.id, w.credits).where(w.hidden, w.credits != 0).order_by(w.id),
        lambda ewallet, credits: f"ewallet {ewallet} is hidden but holds {credits} credits",
    ),
    (
        select(c.id, c.hundredths).where(c.hidden, c.hundredths != 0).order_by(c.id),
        lambda clock, held: f"clock {clock} is hidden but holds {minutes(held)} minutes",
    ),
    (
        select(c.id, c.state).where(c.hidden, c.state != INACTIVE).order_by(c.id),
        lambda clock, state: f"clock {clock} is hidden but runs a timer ({state})",
    ),
    (
        select(a.id, w.id).join_from(ACCOUNTS, EWALLETS, w.account_id == a.id).where(a.anonymised, not_(w.hidden)),
        lambda account, ewallet: f"account {account} is anonymised but its ewallet {ewallet} is visible",
    ),
    (
        _pending_deletion(w.credits, ACCOUNTS.join(EWALLETS, w.account_id == a.id)),
        lambda account, credits: f"account {account} has a deletion order but holds {credits} credits",
    ),
    (
        _pending_deletion(
            c.hundredths, ACCOUNTS.join(EWALLETS, w.account_id == a.id).join(CLOCKS, c.ewallet_id == w.id)
        ),
        lambda account, held: f"account {account} has a deletion order but holds {minutes(int(held))} minutes",
    ),
    (
        select(c.id, c.state)
        .select_from(CLOCKS.join(EWALLETS, w.id == c.ewallet_id).join(ACCOUNTS, a.id == w.account_id))
        .where(
            c.state != INACTIVE,
            or_(
                w.active_clock_id.is_(None),
                w.active_clock_id != c.id,
                a.active_ewallet_id.is_(None),
                a.active_ewallet_id != w.id,
            ),
        )
        .order_by(c.id),
        lambda clock, state: (
            f"clock {clock} runs a timer ({state}) but is not the active clock of its account's active ewallet"
        ),
    ),
)


def check_structure(db: Db, report: AuditReport) -> None:
    report.accounts = int(db.scalar(select(func.count()).select_from(ACCOUNTS)) or 0)
    for query, line in CHECKS:
        for row in db.execute(query):
            report.add(line(*row))
    for link in LINKS:
        if link.needs_visible:
            _no_visible_child(db, link, report)
        _pointer(db, link, report)
