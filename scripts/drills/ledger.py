"""What the drills check after a fault: every credit movement whole (a source row and its
`incoming` row, or neither), the idempotency keys that were committed, and the audit. Reads
the database directly, in a read-only transaction, beside a running server."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ewallet.domain.audit import audit
from ewallet.domain.ledger import INCOMING, PAYMENT, SUPPLY, TRANSFER_TYPE
from ewallet.storage.database import create_db_engine, session_factory
from ewallet.storage.models import CreditEwallet, IdempotencyKey, InvoiceRecord, TransferRecord

Movement = tuple[Any, Any, int, Any]


@dataclass
class Ledger:
    #: idempotency key -> the stored response (the drills never reuse a key across accounts)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (from account, to account, credits, instant) of every payment and transfer row ...
    sources: Counter[Movement] = field(default_factory=Counter)
    #: ... and of every incoming row that is not a supply's
    incoming: Counter[Movement] = field(default_factory=Counter)
    supplies: Counter[Movement] = field(default_factory=Counter)
    supplied: Counter[Movement] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    invoices: int = 0
    max_transfer_record: int = 0
    balances: dict[int, int] = field(default_factory=dict)
    audit_problems: list[str] = field(default_factory=list)

    def half_applied(self) -> list[str]:
        """Movements with one side only: a source row without its incoming row or the reverse."""
        problems = []
        if self.sources != self.incoming:
            problems.append(f"movements without both rows: {_one_sided(self.sources, self.incoming)}")
        if self.supplies != self.supplied:
            problems.append(f"supplies without both rows: {_one_sided(self.supplies, self.supplied)}")
        if self.invoices != self.kinds[SUPPLY] + self.kinds[PAYMENT]:
            problems.append(
                f"{self.invoices} invoices for {self.kinds[SUPPLY]} supplies, {self.kinds[PAYMENT]} payments"
            )
        return problems


def _one_sided(first: Counter[Movement], second: Counter[Movement]) -> Counter[Movement]:
    return (first - second) + (second - first)


def read_ledger(database_url: str) -> Ledger:
    engine = create_db_engine(database_url, pool_size=1)
    ledger = Ledger()
    try:
        with session_factory(engine, read_only=True).begin() as db:
            for key, response in db.execute(select(IdempotencyKey.key, IdempotencyKey.response)):
                ledger.keys[key] = json.loads(response)
            rows = db.execute(
                select(
                    TransferRecord.id,
                    TransferRecord.transfer_type,
                    TransferRecord.from_account_id,
                    TransferRecord.to_account_id,
                    TransferRecord.credits,
                    TransferRecord.create_date,
                )
            )
            for record_id, kind, source, target, credits, instant in rows:
                ledger.max_transfer_record = max(ledger.max_transfer_record, record_id)
                ledger.kinds[kind] += 1
                movement = (source, target, credits, instant)
                if kind in (PAYMENT, TRANSFER_TYPE):
                    ledger.sources[movement] += 1
                elif kind == SUPPLY:
                    ledger.supplies[movement] += 1
                elif kind == INCOMING and source is None:
                    ledger.supplied[movement] += 1
                elif kind == INCOMING:
                    ledger.incoming[movement] += 1
            ledger.invoices = len(db.execute(select(InvoiceRecord.id)).all())
            ledger.balances = {int(i): int(c) for i, c in db.execute(select(CreditEwallet.id, CreditEwallet.credits))}
            ledger.audit_problems = audit(db).problems
    finally:
        engine.dispose()
    return ledger
