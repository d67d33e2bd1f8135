"""The transfer ledger in one pass, in id order (§7 "Credit operations", §11 `ewallet audit`):
types are known and amounts positive; every movement is a pair, a source row (`supply`,
`payment`, `transfer`) and then exactly one `incoming` row with the same parties, amount and
time; a supply's source row is system-side, every other row sits in a transfer sheet of the
ewallet it names, and that ewallet belongs to the account the row names (the payer for a source
row, the receiver for an `incoming` one); every supply and payment has an invoice.

It also sums what each ewallet received and paid, for the books. A source row always takes its
id before its `incoming` row (one transaction writes both), so a source waits in `pending` only
until its partner comes by: the pass holds the unpaired rows, never the ledger."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import EWALLETS, INVOICES, TRANSFER_SHEETS, TRANSFERS, rows
from ewallet.domain.ledger import INCOMING, PAYMENT, SUPPLY, TRANSFER_TYPE

SOURCES = (SUPPLY, PAYMENT, TRANSFER_TYPE)
INVOICED = (SUPPLY, PAYMENT)
KNOWN = (*SOURCES, INCOMING)


@dataclass
class TransferBooks:
    """What the transfer ledger says each ewallet holds, and the totals of each type."""

    #: ewallet id -> incoming - payments - transfers
    net: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    totals: Counter[str] = field(default_factory=Counter)


def _query() -> Any:
    t, s, w, i = TRANSFERS.c, TRANSFER_SHEETS.c, EWALLETS.c, INVOICES.c
    joined = (
        TRANSFERS.outerjoin(TRANSFER_SHEETS, s.id == t.sheet_id)
        .outerjoin(EWALLETS, w.id == t.ewallet_id)
        .outerjoin(INVOICES, i.transfer_record_id == t.id)
    )
    # The instant only pairs rows: compared as stored, it need not be parsed a million times.
    instant = type_coerce(t.create_date, String)
    return (
        select(
            t.id, t.transfer_type, t.credits, t.from_account_id, t.to_account_id, t.transfer_from,
            t.transfer_to, instant, t.ewallet_id, t.sheet_id, s.ewallet_id, w.id, w.account_id, i.id,
        )
        .select_from(joined)
        .order_by(t.id)
    )  # fmt: skip


def _placement(row: Any) -> str | None:
    """Where the row sits against what it names; None when that is right (or, for a sheet or
    ewallet that does not exist, left to the references check)."""
    (record, kind, _, payer, receiver, *_, ewallet, sheet, sheet_ewallet, found, owner, _) = row
    if kind == SUPPLY:
        if ewallet is not None or sheet is not None or payer is not None:
            return f"transfer record {record}: a supply row is system-side (no sheet, ewallet or payer account)"
        return None if receiver is not None else f"transfer record {record}: a supply names no buyer account"
    if kind != INCOMING and (payer is None or receiver is None or payer == receiver):
        return f"transfer record {record}: a {kind} needs two different accounts"
    if ewallet is None or sheet is None:
        return f"transfer record {record}: a {kind} row belongs in a transfer sheet of an ewallet"
    named = receiver if kind == INCOMING else payer
    if found is not None and owner != named:
        side = "receiver" if kind == INCOMING else "payer"
        return f"transfer record {record}: in ewallet {ewallet} of account {owner}, but its {side} is account {named}"
    if sheet_ewallet is not None and sheet_ewallet != ewallet:
        return (
            f"transfer record {record}: in transfer sheet {sheet} of ewallet {sheet_ewallet}, "
            f"not of ewallet {ewallet} it names"
        )
    return None


class _Pairs:
    """Sources waiting for their incoming row, by what a pair shares."""

    def __init__(self, report: AuditReport) -> None:
        self.pending: dict[tuple[Any, ...], deque[tuple[int, str]]] = {}
        self.report = report

    def source(self, key: tuple[Any, ...], record: int, kind: str) -> None:
        self.pending.setdefault(key, deque()).append((record, kind))

    def incoming(self, key: tuple[Any, ...], record: int) -> None:
        waiting = self.pending.get(key)
        if not waiting:
            self.report.add(
                f"transfer record {record}: an incoming row with no supply, payment or transfer row "
                "of the same parties, amount and time before it"
            )
            return
        waiting.popleft()
        if not waiting:
            del self.pending[key]
        self.report.movements += 1

    def finish(self) -> None:
        unpaired = sorted(source for waiting in self.pending.values() for source in waiting)
        for record, kind in unpaired:
            self.report.add(f"transfer record {record}: a {kind} with no incoming row")


def check_transfers(db: Db, report: AuditReport) -> TransferBooks:
    books, pairs = TransferBooks(), _Pairs(report)
    add: Callable[[str], None] = report.add
    previous = None
    for row in rows(db, _query()):
        record, kind, credits, payer, receiver, from_name, to_name, instant, ewallet = row[:9]
        invoice = row[13]
        if record == previous:  # one more invoice joined to the same movement
            add(f"transfer record {record}: a {kind} with more than one invoice (invoice record {invoice})")
            continue
        previous = record
        report.transfers += 1
        if kind not in KNOWN:
            add(f"transfer record {record}: unknown transfer type {kind!r}")
            continue
        if credits <= 0:
            add(f"transfer record {record}: amount {credits} is not positive")
        problem = _placement(row)
        if problem is not None:
            add(problem)
        if kind in INVOICED and invoice is None:
            add(f"transfer record {record}: a {kind} with no invoice")
        key = (payer, receiver, from_name, to_name, credits, instant)
        if kind == INCOMING:
            pairs.incoming(key, record)
        else:
            pairs.source(key, record, kind)
        books.totals[kind] += credits
        if ewallet is not None and kind != SUPPLY:
            books.net[ewallet] += credits if kind == INCOMING else -credits
    pairs.finish()
    return books
