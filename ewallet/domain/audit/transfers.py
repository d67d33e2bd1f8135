"""The transfer ledger in one pass, in id order:
types are known and amounts positive; every movement is a pair, a source row (`supply`,
`payment`, `transfer`) and then exactly one `incoming` row with the same parties, amount and
time; a supply's source row is system-side, every other row sits in a transfer sheet of the
ewallet it names, and that ewallet belongs to the account the row names (the payer for a source
row, the receiver for an `incoming` one); the sheet, ewallet and accounts it names exist; every
supply and payment has exactly one invoice.

It also sums what each ewallet received and paid, for the books. A source row always takes its
id before its `incoming` row (one transaction writes both), so a source waits in `pending` only
until its partner comes by: the pass holds the unpaired rows, never the ledger. The invoices are
read beside it, in the order of the movement they name, so that neither is held either."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session as Db

from ewallet.domain.audit.owners import Owners, missing
from ewallet.domain.audit.report import AuditReport
from ewallet.domain.audit.tables import ACCOUNTS, EWALLETS, INVOICES, TRANSFER_SHEETS, TRANSFERS, rows
from ewallet.domain.ledger import INCOMING, PAYMENT, SUPPLY, TRANSFER_TYPE

SOURCES = (SUPPLY, PAYMENT, TRANSFER_TYPE)
INVOICED = (SUPPLY, PAYMENT)
KNOWN = frozenset((*SOURCES, INCOMING))


@dataclass
class TransferBooks:
    """What the transfer ledger says each ewallet holds, and the totals of each type."""

    #: ewallet id -> incoming - payments - transfers
    net: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    totals: Counter[str] = field(default_factory=Counter)


def _query() -> Any:
    t = TRANSFERS.c
    # The instant only pairs rows: compared as stored, it need not be parsed a million times.
    instant = type_coerce(t.create_date, String)
    return select(
        t.id, t.transfer_type, t.credits, t.from_account_id, t.to_account_id, t.transfer_from, t.transfer_to,
        instant, t.ewallet_id, t.sheet_id,
    ).order_by(t.id)  # fmt: skip


def _placement(
    record: int, kind: str, payer: Any, receiver: Any, ewallet: Any, sheet: Any, owners: Owners
) -> str | None:
    """What is wrong with where the row sits against what it names; None when that is right, or
    when the sheet or ewallet does not exist (`_references` names that)."""
    if kind == SUPPLY:
        if ewallet is not None or sheet is not None or payer is not None:
            return f"transfer record {record}: a supply row is system-side (no sheet, ewallet or payer account)"
        return None if receiver is not None else f"transfer record {record}: a supply names no buyer account"
    if kind != INCOMING and (payer is None or receiver is None or payer == receiver):
        return f"transfer record {record}: a {kind} needs two different accounts"
    if ewallet is None or sheet is None:
        return f"transfer record {record}: a {kind} row belongs in a transfer sheet of an ewallet"
    named = receiver if kind == INCOMING else payer
    owner = owners.ewallets.get(ewallet)
    if owner is not None and owner != named:
        side = "receiver" if kind == INCOMING else "payer"
        return f"transfer record {record}: in ewallet {ewallet} of account {owner}, but its {side} is account {named}"
    sheet_ewallet = owners.transfer_sheets.get(sheet)
    if sheet_ewallet is not None and sheet_ewallet != ewallet:
        return (
            f"transfer record {record}: in transfer sheet {sheet} of ewallet {sheet_ewallet}, "
            f"not of ewallet {ewallet} it names"
        )
    return None


def _references(row: Any, owners: Owners) -> Iterator[str]:
    record, payer, receiver, ewallet, sheet = row[0], row[3], row[4], row[8], row[9]
    named = (
        ("from_account_id", ACCOUNTS, payer, owners.accounts),
        ("to_account_id", ACCOUNTS, receiver, owners.accounts),
        ("ewallet_id", EWALLETS, ewallet, owners.ewallets),
        ("sheet_id", TRANSFER_SHEETS, sheet, owners.transfer_sheets),
    )
    for column, target, value, known in named:
        if value is not None and value not in known:
            yield missing(TRANSFERS, record, column, target, value)


class _Invoices:
    """The movements invoices name, ascending, read beside the pass: how many name a row."""

    def __init__(self, db: Db) -> None:
        i = INVOICES.c
        linked = select(i.transfer_record_id).where(i.transfer_record_id.is_not(None))
        self._ids = (movement for (movement,) in rows(db, linked.order_by(i.transfer_record_id)))
        self.next: int | None = next(self._ids, None)

    def of(self, record: int) -> int:
        count = 0
        while self.next is not None and self.next <= record:
            count += self.next == record
            self.next = next(self._ids, None)
        return count


def _misplaced(row: Any, owners: Owners) -> list[str]:
    """The lines for a row that is not where it should be, or names rows that do not exist."""
    record, kind, _, payer, receiver, *_, ewallet, sheet = row
    lines = list(_references(row, owners))
    problem = _placement(record, kind, payer, receiver, ewallet, sheet, owners)
    return [*lines, problem] if problem is not None else lines


def check_transfers(db: Db, owners: Owners, report: AuditReport) -> TransferBooks:
    """This loop runs once per ledger row: it keeps to local names and calls out only for what
    is wrong. A row that sits right and pairs names only rows that exist (its ewallet's owner is
    the account it names, and its twin's ewallet's owner the other one), so the references of
    the others alone are looked up."""
    books, invoices = TransferBooks(), _Invoices(db)
    pending: dict[tuple[Any, ...], deque[Any]] = {}
    owner_of, sheet_of = owners.ewallets.get, owners.transfer_sheets.get
    totals, net, add = dict.fromkeys(KNOWN, 0), books.net, report.add
    count = paired = 0
    for row in rows(db, _query()):
        record, kind, credits, payer, receiver, from_name, to_name, instant, ewallet, sheet = row
        count += 1
        invoiced = invoices.of(record) if invoices.next is not None and invoices.next <= record else 0
        if kind == INCOMING:
            right = receiver is not None and owner_of(ewallet) == receiver and sheet_of(sheet) == ewallet
        elif kind == SUPPLY:
            right = ewallet is None and sheet is None and payer is None and receiver is not None
        elif kind in SOURCES:
            right = (
                receiver is not None
                and payer != receiver
                and owner_of(ewallet) == payer is not None
                and sheet_of(sheet) == ewallet
            )
        else:
            add(f"transfer record {record}: unknown transfer type {kind!r}")
            for line in _references(row, owners):
                add(line)
            continue
        if not right:
            for line in _misplaced(row, owners):
                add(line)
        if credits <= 0:
            add(f"transfer record {record}: amount {credits} is not positive")
        if invoiced != 1 and kind in INVOICED:
            add(f"transfer record {record}: a {kind} with {invoiced or 'no'} invoice{'s' if invoiced else ''}")
        key = (payer, receiver, from_name, to_name, credits, instant)
        if kind != INCOMING:
            if (waiting := pending.get(key)) is None:
                pending[key] = waiting = deque()
            waiting.append((row, right))
        elif waiting := pending.get(key):
            waiting.popleft()
            if not waiting:
                del pending[key]
            paired += 1
        else:
            add(
                f"transfer record {record}: an incoming row with no supply, payment or transfer row "
                "of the same parties, amount and time before it"
            )
            if right:
                for line in _references(row, owners):
                    add(line)
        totals[kind] += credits
        if ewallet is not None and kind != SUPPLY:
            net[ewallet] += credits if kind == INCOMING else -credits
    for row, right in sorted((source for waiting in pending.values() for source in waiting), key=lambda s: s[0][0]):
        add(f"transfer record {row[0]}: a {row[1]} with no incoming row")
        if right:
            for line in _references(row, owners):
                add(line)
    report.transfers, report.movements = count, paired
    books.totals.update(totals)
    return books
