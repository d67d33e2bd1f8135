"""Credit movements (§7 "Credit operations"). Every movement writes one transfer record on each
side in the transaction of the balance change: first the source row carrying the movement type,
then the receiver's `incoming` row. The system side's rows live in no sheet and no ewallet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session as Db

from ewallet.domain import balances
from ewallet.domain.errors import InvalidValue, NotFound
from ewallet.domain.kinds import INVOICE, TRANSFER
from ewallet.domain.resources import active_ewallet
from ewallet.domain.validation import email_key, find_account, name_key
from ewallet.storage.models import Account, CreditEwallet, InvoiceRecord, TransferRecord

SUPPLY, PAYMENT, TRANSFER_TYPE, INCOMING = "supply", "payment", "transfer", "incoming"


@dataclass(frozen=True)
class Invoice:
    currency: str
    cost: Decimal
    notes: str | None


@dataclass(frozen=True)
class Movement:
    """What a movement answers: the caller's row, its new balance, the invoice if any."""

    record: TransferRecord
    balance: int
    invoice: InvoiceRecord | None = None


def _sheet_row(
    db: Db,
    ewallet: CreditEwallet | None,
    kind: str,
    source: tuple[str, int | None],
    target: tuple[str, int | None],
    credits: int,
    now: datetime,
) -> TransferRecord:
    sheet_id = ewallet.active_transfer_sheet_id if ewallet is not None else None
    row = TransferRecord(
        sheet_id=sheet_id,
        ewallet_id=ewallet.id if ewallet is not None else None,
        reference=TRANSFER.record_reference,
        transfer_type=kind,
        transfer_from=source[0],
        transfer_to=target[0],
        from_account_id=source[1],
        to_account_id=target[1],
        credits=credits,
        create_date=now,
        write_date=now,
    )
    db.add(row)
    if sheet_id is not None:
        sheet = db.get(TRANSFER.sheet, sheet_id)
        if sheet is not None:
            sheet.write_date = now
    return row


def _invoice(
    db: Db, ewallet: CreditEwallet, credits: int, seller: str, invoice: Invoice, now: datetime
) -> InvoiceRecord:
    record = InvoiceRecord(
        sheet_id=ewallet.active_invoice_sheet_id,
        reference=INVOICE.record_reference,
        credits=credits,
        currency=invoice.currency,
        cost=invoice.cost,
        seller=seller,
        notes=invoice.notes,
        create_date=now,
        write_date=now,
    )
    db.add(record)
    sheet = db.get(INVOICE.sheet, ewallet.active_invoice_sheet_id)
    if sheet is not None:
        sheet.write_date = now
    return record


def supply(db: Db, buyer: Account, credits: int, invoice: Invoice, system_name: str, now: datetime) -> Movement:
    """System -> buyer's active ewallet, with an invoice whose seller is the system."""
    ewallet = active_ewallet(db, buyer)
    balance = balances.credit_credits(db, ewallet.id, credits, now)
    system, receiver = (system_name, None), (buyer.email, buyer.id)
    _sheet_row(db, None, SUPPLY, system, receiver, credits, now)
    db.flush()  # the system row takes its id first
    incoming = _sheet_row(db, ewallet, INCOMING, system, receiver, credits, now)
    record = _invoice(db, ewallet, credits, system_name, invoice, now)
    db.flush()
    return Movement(record=incoming, balance=balance, invoice=record)


def find_partner(db: Db, payer: Account, email: str, system_name: str) -> Account:
    if email_key(email) == email_key(payer.email):
        raise InvalidValue("credits cannot be moved to the same account")
    partner = None if name_key(email) == name_key(system_name) else find_account(db, email=email)
    if partner is None or partner.deletion_date is not None:
        raise NotFound("no account with that email")
    return partner


def move(
    db: Db,
    payer: Account,
    partner: Account,
    credits: int,
    now: datetime,
    *,
    kind: str,
    invoice: Invoice | None = None,
) -> Movement:
    """Payer -> partner (payment or transfer). Both balance rows are updated in ascending id
    order, so two opposite movements lock in the same order and never deadlock."""
    source_wallet = active_ewallet(db, payer)
    target_wallet = active_ewallet(db, partner)
    if source_wallet.id < target_wallet.id:
        balance = balances.debit_credits(db, source_wallet.id, credits, now)
        balances.credit_credits(db, target_wallet.id, credits, now)
    else:
        balances.credit_credits(db, target_wallet.id, credits, now)
        balance = balances.debit_credits(db, source_wallet.id, credits, now)
    source, target = (payer.email, payer.id), (partner.email, partner.id)
    row = _sheet_row(db, source_wallet, kind, source, target, credits, now)
    db.flush()
    _sheet_row(db, target_wallet, INCOMING, source, target, credits, now)
    record = _invoice(db, source_wallet, credits, partner.name, invoice, now) if invoice is not None else None
    db.flush()
    return Movement(record=row, balance=balance, invoice=record)
