"""Typed protocol values: timestamps, minutes, money, trimmed text, ids.

Timestamps are printed as `DD-MM-YYYY HH:MM:SS` in the configured zone, which reaches the
serializer through pydantic's serialization context (key "zone"), and parsed with a fixed
format (never a guessing parser)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from dateutil import tz as dateutil_tz
from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    WithJsonSchema,
)

WIRE_FORMAT = "%d-%m-%Y %H:%M:%S"
#: strptime alone also takes one-digit fields ("1-1-2030 0:0:0"); the protocol wants the format exactly.
_WIRE_SHAPE = re.compile(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", re.ASCII)
MAX_ID = 2**63 - 1


def format_timestamp(instant: datetime, zone: tzinfo | None = None) -> str:
    # The wire shows whole seconds, and a reply's instants are mostly the same few (now, the
    # rows' write dates): each second is formatted once.
    return _format_second(instant.replace(microsecond=0), zone or UTC)


@functools.lru_cache(maxsize=4096)
def _format_second(instant: datetime, zone: tzinfo) -> str:
    return instant.astimezone(zone).strftime(WIRE_FORMAT)


def _serialize_timestamp(instant: datetime, info: SerializationInfo) -> str:
    context = info.context or {}
    return format_timestamp(instant, context.get("zone"))


def parse_timestamp(text: str, zone: tzinfo) -> datetime:
    """A wire timestamp in `zone`. An ambiguous local time means its first occurrence; a
    nonexistent one (skipped by a DST change) is a ValueError."""
    if not _WIRE_SHAPE.fullmatch(text):
        raise ValueError("not in the format DD-MM-YYYY HH:MM:SS")
    naive = datetime.strptime(text, WIRE_FORMAT)
    local = naive.replace(tzinfo=zone, fold=0)
    try:
        if not dateutil_tz.datetime_exists(local):
            raise ValueError("that local time does not exist in the configured time zone")
        return local.astimezone(UTC)
    except OverflowError:
        # Within a day of year 1 or 9999 the zone's offset leaves datetime's range: the
        # instant is before or after every instant the server can store, so take the bound.
        return (datetime.min if naive.year == 1 else datetime.max).replace(tzinfo=UTC)


def _parse_input_timestamp(value: object, info: ValidationInfo) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a string DD-MM-YYYY HH:MM:SS")
    zone = (info.context or {}).get("zone", UTC)
    try:
        return parse_timestamp(value, zone)
    except ValueError as exc:
        raise ValueError("must be a timestamp DD-MM-YYYY HH:MM:SS that exists in the server's time zone") from exc


#: A wire timestamp given by a client, as an aware UTC instant.
InputTimestamp = Annotated[
    datetime,
    PlainValidator(_parse_input_timestamp),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$"}),
]

#: An instant printed in the wire format.
Timestamp = Annotated[datetime, PlainSerializer(_serialize_timestamp, return_type=str)]


Minutes = Annotated[float, Field(strict=True)]


def _trimmed(limit: int) -> Any:
    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value

    return check


def _untrimmed(minimum: int, limit: int) -> Any:
    def check(value: str) -> str:
        if len(value) < minimum:
            raise ValueError("must not be empty")
        if len(value) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return value

    return check


def between(low: int, high: int) -> Any:
    """An AfterValidator's check: an integer from `low` to `high`, both included."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return check


def _text_schema(limit: int) -> WithJsonSchema:
    # Trimmed before the checks: not empty once trimmed, at most `limit` characters once trimmed.
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S"})


# Every limit is checked by one of the validators above, so that every field states its limit in
# one style ("must be at most 255 characters", "must be between 1 and 1000000000"); the JSON schema
# each type carries says exactly the same (the HTTP face's OpenAPI document and docs/protocol.md
# are generated from it).

#: Trimmed, non-empty strings with their length limits (refused when too long, never cut).
Text255 = Annotated[StrictStr, AfterValidator(_trimmed(255)), _text_schema(255)]
Text32 = Annotated[StrictStr, AfterValidator(_trimmed(32)), _text_schema(32)]
Text1000 = Annotated[StrictStr, AfterValidator(_trimmed(1000)), _text_schema(1000)]
#: Untrimmed secrets: passwords are checked for strength by the domain, keys only for length.
Password = Annotated[
    StrictStr, AfterValidator(_untrimmed(0, 128)), WithJsonSchema({"type": "string", "maxLength": 128})
]
Key255 = Annotated[
    StrictStr, AfterValidator(_untrimmed(1, 255)), WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 255})
]
#: An id or token given as a parameter (untrimmed, at most 255 characters).
Token255 = Annotated[
    StrictStr, AfterValidator(_untrimmed(0, 255)), WithJsonSchema({"type": "string", "maxLength": 255})
]
RecordId = Annotated[
    StrictInt,
    AfterValidator(between(1, MAX_ID)),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
]
Credits = Annotated[
    StrictInt, AfterValidator(between(1, 10**9)), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 10**9})
]
Number = StrictInt | StrictFloat
