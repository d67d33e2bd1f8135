"""Exact units: minutes as integer hundredths, money as two-place decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def minutes_of(hundredths: int) -> float:
    """Integer hundredths of a minute as the wire's two-decimal float."""
    return float(Decimal(hundredths).scaleb(-2))


def hundredths_of(minutes: Decimal) -> int:
    """Minutes (at most two decimals, checked at the edge) as integer hundredths."""
    return int((minutes * HUNDRED).to_integral_value())


def round_half_up_hundredths(minutes: Decimal) -> int:
    """Minutes rounded half-up to 0.01, as hundredths."""
    return int((minutes * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))
