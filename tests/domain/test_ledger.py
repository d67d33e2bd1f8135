"""Supply, payments and transfers: credits move by guarded updates, whole or not at all."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as Db

from ewallet.domain import ledger
from ewallet.domain.balances import MAX_BALANCE
from ewallet.storage.database import session_factory
from ewallet.storage.models import CreditEwallet, InvoiceRecord, TransferRecord
from tests.answers import refused
from tests.domain.world import START, SYSTEM, ewallet_of, new_account, supply


def balances(db: Db, *accounts: object) -> list[int]:
    return [ewallet_of(db, account).credits for account in accounts]  # type: ignore[arg-type]


class TestSupply:
    def test_credits_the_buyer_and_writes_the_system_row_the_incoming_row_and_the_invoice(self, db: Db) -> None:
        buyer = new_account(db, "buyer")
        movement = supply(db, buyer, 40)
        assert movement.balance == 40 == ewallet_of(db, buyer).credits
        rows = db.scalars(select(TransferRecord).order_by(TransferRecord.id)).all()
        assert [(row.transfer_type, row.credits, row.sheet_id is None) for row in rows] == [
            (ledger.SUPPLY, 40, True),
            (ledger.INCOMING, 40, False),
        ]
        assert movement.record_id == rows[1].id
        invoice = db.get_one(InvoiceRecord, movement.invoice_id)
        assert (invoice.seller, invoice.credits, invoice.transfer_record_id) == (SYSTEM, 40, rows[0].id)

    def test_refuses_a_balance_past_its_limit(self, db: Db) -> None:
        buyer = new_account(db, "buyer")
        supply(db, buyer, MAX_BALANCE)
        refused(lambda: supply(db, buyer, 1), "invalid_value")


class TestMove:
    @pytest.mark.parametrize("kind", [ledger.PAYMENT, ledger.TRANSFER_TYPE])
    def test_moves_credits_from_payer_to_partner(self, db: Db, kind: str) -> None:
        payer, partner = new_account(db, "payer"), new_account(db, "partner")
        supply(db, payer, 50)
        invoice = ledger.InvoiceTerms("RON", Decimal("2.50"), None) if kind == ledger.PAYMENT else None
        moved = ledger.move(db, payer.id, partner.id, 30, START, kind=kind, terms=invoice)
        assert (moved.balance, moved.partner_email) == (20, partner.email)
        assert balances(db, payer, partner) == [20, 30]
        assert (moved.invoice_id is not None) == (kind == ledger.PAYMENT)

    @pytest.mark.parametrize("payer_first", [True, False], ids=["payer-lower-id", "payer-higher-id"])
    def test_refuses_to_overdraw_and_changes_nothing(self, db: Db, payer_first: bool) -> None:
        # Both id orders: the partner's row is credited first when its id is lower, and the
        # refusal must still leave nothing behind once the transaction rolls back.
        first, second = new_account(db, "first"), new_account(db, "second")
        payer, partner = (first, second) if payer_first else (second, first)
        supply(db, payer, 10)
        db.commit()
        records = db.scalar(select(TransferRecord.id).order_by(TransferRecord.id.desc()).limit(1))
        refused(lambda: ledger.move(db, payer.id, partner.id, 11, START, kind=ledger.TRANSFER_TYPE),
                "insufficient_credits")  # fmt: skip
        db.rollback()
        assert balances(db, payer, partner) == [10, 0]
        assert db.scalar(select(TransferRecord.id).order_by(TransferRecord.id.desc()).limit(1)) == records

    def test_refuses_the_payers_own_account_and_an_unknown_one(self, db: Db) -> None:
        payer = new_account(db, "payer")
        refused(lambda: ledger.find_partner(db, payer.email, payer.email.upper(), SYSTEM), "invalid_value")
        refused(lambda: ledger.find_partner(db, payer.email, "nobody@example.com", SYSTEM), "not_found")
        refused(lambda: ledger.find_partner(db, payer.email, SYSTEM, SYSTEM), "not_found")


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_moves_update_balances_in_ascending_id_order(engine: Engine) -> None:
    """With the higher-id wallet held by another transaction, a movement from it must already
    hold the lower-id wallet while it waits: two opposite movements then always lock in the same
    order and cannot deadlock. (PostgreSQL only: SQLite locks the whole database.)"""
    factory = session_factory(engine)
    with factory.begin() as db:
        low, high = new_account(db, "low"), new_account(db, "high")
        supply(db, high, 5)
        low_wallet, high_wallet = low.active_ewallet_id, high.active_ewallet_id
        low_id, high_id = low.id, high.id
    assert low_wallet is not None and high_wallet is not None and low_wallet < high_wallet
    failures: list[BaseException] = []

    def move_high_to_low() -> None:
        try:
            with factory.begin() as db:
                ledger.move(db, high_id, low_id, 5, START, kind=ledger.TRANSFER_TYPE)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    with factory() as holder, factory() as probe:
        holder.execute(select(CreditEwallet.id).where(CreditEwallet.id == high_wallet).with_for_update())
        mover = threading.Thread(target=move_high_to_low)
        mover.start()
        try:
            assert _locked_soon(probe, low_wallet), "the lower-id wallet was not taken before the higher one"
        finally:
            holder.rollback()
            mover.join(10)
    assert not failures, failures
    with factory() as db:
        assert [db.get_one(CreditEwallet, w).credits for w in (low_wallet, high_wallet)] == [5, 0]


def _locked_soon(probe: Db, wallet_id: int, tries: int = 100) -> bool:
    query = select(CreditEwallet.id).where(CreditEwallet.id == wallet_id).with_for_update(nowait=True)
    for _ in range(tries):
        try:
            probe.execute(query)
        except OperationalError:  # LockNotAvailable: another transaction holds the row
            probe.rollback()
            return True
        probe.rollback()
        threading.Event().wait(0.05)
    return False
