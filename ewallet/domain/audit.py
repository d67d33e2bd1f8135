"""The books (§7, issue 4): every balance must follow from the append-only ledger. Hidden rows
count: hiding changes what users see, never the books."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.conversion import CLOCK2CREDITS, CREDITS2CLOCK, rate_hundredths
from ewallet.domain.ledger import INCOMING, PAYMENT, SUPPLY, TRANSFER_TYPE
from ewallet.storage.models import ConversionRecord, CreditClock, CreditEwallet, TimeRecord, TransferRecord


@dataclass
class AuditReport:
    ewallets: int = 0
    clocks: int = 0
    conversions: int = 0
    supplied: int = 0
    credits_held: int = 0
    credits_on_clocks: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [
            f"ewallets checked: {self.ewallets}",
            f"clocks checked: {self.clocks}",
            f"conversion records checked: {self.conversions}",
            f"credits supplied: {self.supplied}",
            f"credits in ewallets: {self.credits_held}",
            f"credits converted and still on clocks or billed: {self.credits_on_clocks}",
        ]
        out += [f"DRIFT: {problem}" for problem in self.problems]
        out.append("books balance" if self.clean else f"{len(self.problems)} problem(s) found")
        return out


def _sums(db: Db, query: object) -> dict[tuple[object, object], int]:
    totals: dict[tuple[object, object], int] = defaultdict(int)
    for owner, kind, total in db.execute(query):  # type: ignore[call-overload]
        totals[(owner, kind)] = int(total or 0)
    return totals


def audit(db: Db) -> AuditReport:
    report = AuditReport()
    transfers = _sums(
        db,
        select(TransferRecord.ewallet_id, TransferRecord.transfer_type, func.sum(TransferRecord.credits)).group_by(
            TransferRecord.ewallet_id, TransferRecord.transfer_type
        ),
    )
    conversion_credits = _sums(
        db,
        select(
            ConversionRecord.ewallet_id, ConversionRecord.conversion_type, func.sum(ConversionRecord.credits)
        ).group_by(ConversionRecord.ewallet_id, ConversionRecord.conversion_type),
    )
    conversion_minutes = _sums(
        db,
        select(
            ConversionRecord.clock_id, ConversionRecord.conversion_type, func.sum(ConversionRecord.hundredths)
        ).group_by(ConversionRecord.clock_id, ConversionRecord.conversion_type),
    )
    billed = {
        clock_id: int(total or 0)
        for clock_id, total in db.execute(
            select(TimeRecord.clock_id, func.sum(TimeRecord.spent_hundredths)).group_by(TimeRecord.clock_id)
        )
    }

    for ewallet_id, credits in db.execute(select(CreditEwallet.id, CreditEwallet.credits).order_by(CreditEwallet.id)):
        report.ewallets += 1
        report.credits_held += credits
        expected = (
            transfers[(ewallet_id, INCOMING)]
            - transfers[(ewallet_id, PAYMENT)]
            - transfers[(ewallet_id, TRANSFER_TYPE)]
            - conversion_credits[(ewallet_id, CREDITS2CLOCK)]
            + conversion_credits[(ewallet_id, CLOCK2CREDITS)]
        )
        if credits < 0 or credits != expected:
            report.problems.append(f"ewallet {ewallet_id} holds {credits} credits; its records say {expected}")

    for clock_id, hundredths in db.execute(select(CreditClock.id, CreditClock.hundredths).order_by(CreditClock.id)):
        report.clocks += 1
        expected = (
            conversion_minutes[(clock_id, CREDITS2CLOCK)]
            - conversion_minutes[(clock_id, CLOCK2CREDITS)]
            - billed.get(clock_id, 0)
        )
        if hundredths < 0 or hundredths != expected:
            report.problems.append(
                f"clock {clock_id} holds {hundredths} hundredths of a minute; its records say {expected}"
            )

    rows = db.execute(
        select(ConversionRecord.id, ConversionRecord.hundredths, ConversionRecord.credits, ConversionRecord.rate)
    )
    for record_id, hundredths, credits, rate in rows:
        report.conversions += 1
        if hundredths != credits * rate_hundredths(Decimal(rate)):
            report.problems.append(f"conversion record {record_id}: minutes and credits disagree with its rate")

    def total(kind: str) -> int:
        return sum(v for (_, k), v in transfers.items() if k == kind)

    report.supplied = total(SUPPLY)
    converted = sum(v for (_, k), v in conversion_credits.items() if k == CREDITS2CLOCK)
    returned = sum(v for (_, k), v in conversion_credits.items() if k == CLOCK2CREDITS)
    report.credits_on_clocks = converted - returned
    if report.credits_held + report.credits_on_clocks != report.supplied:
        report.problems.append(
            f"system-wide: {report.credits_held} held + {report.credits_on_clocks} on clocks "
            f"!= {report.supplied} supplied"
        )
    moved = total(SUPPLY) + total(PAYMENT) + total(TRANSFER_TYPE)
    if total(INCOMING) != moved:
        report.problems.append(f"incoming rows total {total(INCOMING)}; source rows total {moved}")
    return report
