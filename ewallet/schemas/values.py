"""Typed protocol values: timestamps, minutes, money, trimmed text, ids.

Timestamps are printed as `DD-MM-YYYY HH:MM:SS` in the configured zone, which reaches the
serializer through pydantic's serialization context (key "zone"), and parsed with a fixed
format (never a guessing parser)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Any

from dateutil import tz as dateutil_tz
from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    SerializationInfo,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
)

WIRE_FORMAT = "%d-%m-%Y %H:%M:%S"
MAX_ID = 2**63 - 1


def format_timestamp(instant: datetime, zone: tzinfo | None = None) -> str:
    return instant.astimezone(zone or UTC).strftime(WIRE_FORMAT)


def _serialize_timestamp(instant: datetime, info: SerializationInfo) -> str:
    context = info.context or {}
    return format_timestamp(instant, context.get("zone"))


def parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """A wire timestamp in `zone`. An ambiguous local time means its first occurrence; a
    nonexistent one (skipped by a DST change) is a ValueError."""
    naive = datetime.strptime(text, WIRE_FORMAT)
    local = naive.replace(tzinfo=zone, fold=0)
    if not dateutil_tz.datetime_exists(local):
        raise ValueError("that local time does not exist in the configured time zone")
    return local.astimezone(UTC)


def _parse_input_timestamp(value: str, info: ValidationInfo) -> datetime:
    zone = (info.context or {}).get("zone", UTC)
    try:
        return parse_timestamp(value, zone)
    except ValueError as exc:
        raise ValueError("must be a timestamp DD-MM-YYYY HH:MM:SS that exists in the server's time zone") from exc


#: A wire timestamp given by a client, as an aware UTC instant.
InputTimestamp = Annotated[StrictStr, AfterValidator(_parse_input_timestamp)]

#: An instant printed in the wire format.
Timestamp = Annotated[datetime, PlainSerializer(_serialize_timestamp, return_type=str)]


def minutes_of(hundredths: int) -> float:
    """Exact integer hundredths of a minute as the wire's two-decimal float."""
    return float(Decimal(hundredths).scaleb(-2))


Minutes = Annotated[float, Field(strict=True)]


def _strip(text: str) -> str:
    return text.strip()


def _not_blank(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


def text(max_length: int, *, required: bool = True) -> Any:
    """A trimmed string of at most max_length characters (empty refused when required)."""
    checks = [AfterValidator(_strip)]
    if required:
        checks.append(AfterValidator(_not_blank))
    return Annotated[StrictStr, *checks, AfterValidator(_max_length(max_length))]


def _max_length(limit: int) -> Any:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value

    return check


def secret(min_length: int, max_length: int) -> Any:
    """An untrimmed string (passwords, keys)."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length)]


RecordId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Credits = Annotated[StrictInt, Field(ge=1, le=10**9)]
Number = StrictInt | StrictFloat
