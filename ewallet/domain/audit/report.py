"""What `ewallet audit` found: counts and totals of what it read, and one line per finding, each
naming the object it is about ("ewallet 12", "transfer record 40", ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

#: The prefix of a finding's line in the printed report.
FINDING = "FINDING: "


def minutes(hundredths: int) -> str:
    """Integer hundredths of a minute as "12.50"."""
    return str(Decimal(hundredths).scaleb(-2))


@dataclass
class AuditReport:
    accounts: int = 0
    ewallets: int = 0
    clocks: int = 0
    transfers: int = 0
    movements: int = 0
    invoices: int = 0
    conversions: int = 0
    time_records: int = 0
    billed: int = 0
    supplied: int = 0
    credits_held: int = 0
    credits_on_clocks: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def lines(self) -> list[str]:
        out = [
            f"ewallets checked: {self.ewallets}",
            f"clocks checked: {self.clocks}",
            f"conversion records checked: {self.conversions}",
            f"credits supplied: {self.supplied}",
            f"credits in ewallets: {self.credits_held}",
            f"credits converted and still on clocks or billed: {self.credits_on_clocks}",
            f"accounts checked: {self.accounts}",
            f"transfer records checked: {self.transfers} ({self.movements} movements paired)",
            f"invoice records checked: {self.invoices}",
            f"time records checked: {self.time_records} ({minutes(self.billed)} minutes billed)",
        ]
        out += [FINDING + problem for problem in self.problems]
        out.append("books balance" if self.clean else f"{len(self.problems)} problem(s) found")
        return out
