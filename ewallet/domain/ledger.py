"""Credit movements. Every movement writes one transfer record on each
side in the transaction of the balance change: first the source row carrying the movement type,
then the receiver's `incoming` row. The system side's rows live in no sheet and no ewallet.

This is the hottest write path, so it speaks SQLAlchemy Core with statements built once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session as Db

from ewallet.domain import balances, events
from ewallet.domain.errors import AccountPendingDeletion, InvalidValue, NotFound
from ewallet.domain.kinds import INVOICE, TRANSFER
from ewallet.domain.locks import share_accounts
from ewallet.domain.validation import email_key, find_account_row, name_key
from ewallet.storage.models import CreditEwallet, InvoiceRecord, TransferRecord
from ewallet.storage.statements import Statement, insert_values
from ewallet.storage.types import UTCDateTime

SUPPLY, PAYMENT, TRANSFER_TYPE, INCOMING = "supply", "payment", "transfer", "incoming"

_EWALLETS = CreditEwallet.__table__
_WALLET = Statement(
    select(_EWALLETS.c.id, _EWALLETS.c.active_transfer_sheet_id, _EWALLETS.c.active_invoice_sheet_id).where(
        _EWALLETS.c.id == bindparam("id"), _EWALLETS.c.hidden.is_(False)
    )
)
_TRANSFERS = cast(Table, TransferRecord.__table__)
_INVOICES = cast(Table, InvoiceRecord.__table__)
_INSERT_TRANSFER = Statement(insert_values(_TRANSFERS).returning(_TRANSFERS.c.id))
_INSERT_INVOICE = Statement(insert_values(_INVOICES).returning(_INVOICES.c.id))


def _touch(table: Any) -> Statement:
    return Statement(
        update(table)
        .where(table.c.id == bindparam("sheet_id"))
        .values(write_date=bindparam("now", type_=UTCDateTime()))
    )


_TOUCH_TRANSFER_SHEET = _touch(TRANSFER.sheet.__table__)
_TOUCH_INVOICE_SHEET = _touch(INVOICE.sheet.__table__)


@dataclass(frozen=True)
class InvoiceTerms:
    """What the buyer agreed to pay for the credits; written into the invoice record."""

    currency: str
    cost: Decimal
    notes: str | None


@dataclass(frozen=True)
class Movement:
    """What a movement answers: the caller's row, its new balance, the invoice if any."""

    record_id: int
    balance: int
    invoice_id: int | None = None


@dataclass(frozen=True)
class _Wallet:
    id: int
    transfer_sheet: int | None
    invoice_sheet: int | None


def _wallet(db: Db, account: Any) -> _Wallet:
    """The account's active ewallet, which must be visible (re-checked under the lock)."""
    row = _WALLET.first(db, {"id": account.active_ewallet_id}) if account.active_ewallet_id else None
    if row is None:
        raise NotFound("the account has no active credit ewallet")
    return _Wallet(int(row[0]), row[1], row[2])


def _receiver(rows: dict[int, Any], account_id: int) -> Any:
    """A partner that can receive credits: live and not pending deletion, as seen under the lock."""
    account = rows.get(account_id)
    if account is None or account.anonymised or account.deletion_date is not None:
        raise NotFound("no account with that email")
    return account


def _sender(rows: dict[int, Any], account_id: int) -> Any:
    """The caller, as seen under the lock: a deletion order that won the race refuses it."""
    account = rows.get(account_id)
    if account is None or account.anonymised or account.deletion_date is not None:
        raise AccountPendingDeletion()
    return account


def _row(
    db: Db,
    wallet: _Wallet | None,
    kind: str,
    source: tuple[str, int | None],
    target: tuple[str, int | None],
    credits: int,
    now: datetime,
) -> int:
    sheet_id = wallet.transfer_sheet if wallet is not None else None
    values = {
        "sheet_id": sheet_id,
        "ewallet_id": wallet.id if wallet is not None else None,
        "reference": TRANSFER.record_reference,
        "transfer_type": kind,
        "transfer_from": source[0],
        "transfer_to": target[0],
        "from_account_id": source[1],
        "to_account_id": target[1],
        "credits": credits,
        "create_date": now,
        "write_date": now,
        "hidden": False,
    }
    record_id = int(_INSERT_TRANSFER.scalar(db, values))
    if sheet_id is not None:
        _TOUCH_TRANSFER_SHEET.execute(db, {"sheet_id": sheet_id, "now": now})
    return record_id


def _record_invoice(
    db: Db, wallet: _Wallet, movement_id: int, credits: int, seller: str, terms: InvoiceTerms, now: datetime
) -> int:
    values = {
        "sheet_id": wallet.invoice_sheet,
        "transfer_record_id": movement_id,
        "reference": INVOICE.record_reference,
        "credits": credits,
        "currency": terms.currency,
        "cost": terms.cost,
        "seller": seller,
        "notes": terms.notes,
        "create_date": now,
        "write_date": now,
        "hidden": False,
    }
    invoice_id = int(_INSERT_INVOICE.scalar(db, values))
    _TOUCH_INVOICE_SHEET.execute(db, {"sheet_id": wallet.invoice_sheet, "now": now})
    return invoice_id


def supply(db: Db, buyer_id: int, credits: int, terms: InvoiceTerms, system_name: str, now: datetime) -> Movement:
    """System -> buyer's active ewallet, with an invoice whose seller is the system."""
    buyer = _sender(share_accounts(db, buyer_id), buyer_id)
    wallet = _wallet(db, buyer)
    balance = balances.credit_credits(db, wallet.id, credits, now)
    system, receiver = (system_name, None), (buyer.email, buyer.id)
    source = _row(db, None, SUPPLY, system, receiver, credits, now)  # the system row takes its id first
    incoming = _row(db, wallet, INCOMING, system, receiver, credits, now)
    invoice_id = _record_invoice(db, wallet, source, credits, system_name, terms, now)
    _received(db, buyer.id, incoming, balance, now)
    return Movement(record_id=incoming, balance=balance, invoice_id=invoice_id)


def _received(db: Db, account_id: int, incoming: int, balance: int, now: datetime) -> None:
    """The receiver's event, written last: its lock (see events) is the last one taken."""
    events.record(db, account_id, events.CREDITS_RECEIVED, {"ewallet_credits": balance}, now, ref_id=incoming)


def find_partner(db: Db, payer_email: str, email: str, system_name: str) -> int:
    """The partner's account id. Looked up without a lock: `move` checks it again under one."""
    if email_key(email) == email_key(payer_email):
        raise InvalidValue("credits cannot be moved to the same account")
    partner = None if name_key(email) == name_key(system_name) else find_account_row(db, email)
    if partner is None or partner.deletion_date is not None:
        raise NotFound("no account with that email")
    return int(partner.id)


@dataclass(frozen=True)
class Moved(Movement):
    """A payment or transfer: also the partner as it was when the credits arrived."""

    partner_email: str = ""
    partner_name: str = ""


def move(
    db: Db,
    payer_id: int,
    partner_id: int,
    credits: int,
    now: datetime,
    *,
    kind: str,
    terms: InvoiceTerms | None = None,
) -> Moved:
    """Payer -> partner (payment or transfer). Both accounts are held and both balance
    rows updated in ascending id order, so two opposite movements lock in the same order and
    never deadlock."""
    held = share_accounts(db, payer_id, partner_id)
    payer, partner = _sender(held, payer_id), _receiver(held, partner_id)
    source_wallet, target_wallet = _wallet(db, payer), _wallet(db, partner)
    if source_wallet.id < target_wallet.id:
        balance = balances.debit_credits(db, source_wallet.id, credits, now)
        received = balances.credit_credits(db, target_wallet.id, credits, now)
    else:
        received = balances.credit_credits(db, target_wallet.id, credits, now)
        balance = balances.debit_credits(db, source_wallet.id, credits, now)
    source, target = (payer.email, payer.id), (partner.email, partner.id)
    record_id = _row(db, source_wallet, kind, source, target, credits, now)
    incoming = _row(db, target_wallet, INCOMING, source, target, credits, now)
    invoice_id = None
    if terms is not None:
        invoice_id = _record_invoice(db, source_wallet, record_id, credits, partner.name, terms, now)
    _received(db, partner.id, incoming, received, now)
    return Moved(record_id, balance, invoice_id, partner_email=partner.email, partner_name=partner.name)
