"""Parameters and replies of supply, pay, transfer, convert and the clock timer."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, PlainValidator, StrictStr, WithJsonSchema

from ewallet.domain.timer import LiveClock
from ewallet.domain.units import minutes_of
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.shapes import TimeRecordData
from ewallet.schemas.values import Credits, Key255, Text255, Text1000, Timestamp

MAX_MINUTES_HUNDREDTHS = 10**9 * 100
MAX_COST = Decimal(10) ** 15


def _two_places(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    try:
        hundredths = exact.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the context holds: far beyond any range
        raise ValueError("is out of range") from None
    if not exact.is_finite() or exact != hundredths:
        raise ValueError("must have at most two decimals")
    return hundredths


def _minutes(value: object) -> int:
    """Minutes 0.01 ... 10^9 with at most two decimals, as integer hundredths."""
    hundredths = int(_two_places(value) * 100)
    if not 1 <= hundredths <= MAX_MINUTES_HUNDREDTHS:
        raise ValueError("must be between 0.01 and 1000000000")
    return hundredths


def _cost(value: object) -> Decimal:
    cost = _two_places(value)
    if cost < 0 or cost >= MAX_COST:
        raise ValueError("must be zero or more and below 10^15")
    return cost


def _currency(value: str) -> str:
    value = value.strip()  # strings are trimmed
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError("must be a three-letter ISO 4217 code in capitals")
    return value


#: Minutes given by a client, as exact integer hundredths.
MinutesIn = Annotated[
    int,
    PlainValidator(_minutes),
    WithJsonSchema({"type": "number", "minimum": 0.01, "maximum": 10**9, "description": "at most two decimals"}),
]
Cost = Annotated[
    Decimal,
    PlainValidator(_cost),
    PlainSerializer(lambda cost: format(cost, "f"), return_type=str),
    WithJsonSchema(
        {"type": "number", "minimum": 0, "exclusiveMaximum": 10**15, "description": "at most two decimals"},
        mode="validation",
    ),
]
Currency = Annotated[
    StrictStr, AfterValidator(_currency), WithJsonSchema({"type": "string", "pattern": r"^\s*[A-Z]{3}\s*$"})
]


class SupplyParams(Params):
    credits: Credits
    currency: Currency = "RON"
    cost: Cost = Decimal("0.00")
    notes: Text1000 | None = None
    idempotency_key: Key255 | None = None


class SystemSupplyParams(Params):
    email_fields = ("account",)

    account: Text255
    credits: Credits
    currency: Currency = "RON"
    cost: Cost = Decimal("0.00")
    notes: Text1000 | None = None
    idempotency_key: Key255 | None = None


class PayParams(Params):
    email_fields = ("pay",)

    pay: Text255
    credits: Credits
    currency: Currency = "RON"
    cost: Cost = Decimal("0.00")
    notes: Text1000 | None = None
    idempotency_key: Key255 | None = None


class TransferParams(Params):
    email_fields = ("transfer_to",)

    transfer_to: Text255
    credits: Credits
    idempotency_key: Key255 | None = None


class CreditsToClockParams(Params):
    credits: Credits
    notes: Text1000 | None = None
    idempotency_key: Key255 | None = None


class ClockToCreditsParams(Params):
    minutes: MinutesIn
    notes: Text1000 | None = None
    idempotency_key: Key255 | None = None


class Supplied(Reply):
    supplied_credits: int
    ewallet_credits: int
    transfer_record: int
    invoice_record: int


class Paid(Reply):
    paid_to: str = Field(serialization_alias="payed")
    ewallet_credits: int
    spent_credits: int
    transfer_record: int
    invoice_record: int


class Transferred(Reply):
    transferred_to: str = Field(serialization_alias="transfered_to")
    ewallet_credits: int
    transferred_credits: int = Field(serialization_alias="transfered_credits")
    transfer_record: int


class ConvertedToClock(Reply):
    conversion_record: int
    ewallet_credits: int
    credit_clock: float
    converted_credits: int


class ConvertedToCredits(Reply):
    conversion_record: int
    ewallet_credits: int
    credit_clock: float
    converted_minutes: float


class TimerStarted(Reply):
    clock: int
    start_timestamp: Timestamp


class TimerPaused(Reply):
    clock: int
    pending_time: float
    start_timestamp: Timestamp
    pause_timestamp: Timestamp
    pending_count: int


class TimerResumed(Reply):
    clock: int
    pending_time: float
    pause_timestamp: Timestamp
    resume_timestamp: Timestamp
    pending_count: int


class TimerStopped(Reply):
    clock: int
    pending_count: int
    pending_time: float
    start_timestamp: Timestamp
    stop_timestamp: Timestamp
    minutes_spent: float
    time_record: int
    record_data: TimeRecordData


class ClockTimerView(Reply):
    """view clock_timer: the active clock's timer now. `remaining_minutes` is what a stop now
    would leave; `expected_stop` the instant the balance runs out, while the timer is active."""

    clock: int
    clock_state: str
    credit_clock: float
    remaining_minutes: float
    elapsed_minutes: float
    pending_minutes: float
    start_timestamp: Timestamp | None
    expected_stop: Timestamp | None

    @classmethod
    def of(cls, live: LiveClock) -> ClockTimerView:
        return cls(
            clock=live.clock_id,
            clock_state=live.state,
            credit_clock=minutes_of(live.hundredths),
            remaining_minutes=minutes_of(live.remaining),
            elapsed_minutes=minutes_of(live.elapsed),
            pending_minutes=minutes_of(live.pending),
            start_timestamp=live.started,
            expected_stop=live.expected_stop,
        )
