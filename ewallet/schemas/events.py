"""Events on the wire: the subscribe and unsubscribe instructions, and the event line
`{"event", "seq", "at", "account", "data"}`, which has no `failed` key (that is how a client
tells an event from an answer)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from ewallet.domain import events
from ewallet.domain.units import minutes_of
from ewallet.domain.views import RecordInfo, TimeRecordInfo, TransferRecordInfo
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.money import MinutesIn
from ewallet.schemas.shapes import TimeRecordData, TransferRecordData
from ewallet.schemas.values import MAX_ID, format_timestamp

DEFAULT_CLOCK_LOW_HUNDREDTHS = 500


def _known_kinds(kinds: list[str]) -> list[str]:
    unknown = sorted(set(kinds) - set(events.KINDS))
    if unknown:
        raise ValueError(f"has unknown event kinds {unknown}; the kinds are {', '.join(events.KINDS)}")
    if not kinds:
        raise ValueError("must name at least one kind (leave it out for all)")
    return kinds


class SubscribeParams(Params):
    #: Also every stored event of the account with a higher seq, oldest first.
    after: Annotated[int, Field(ge=0, le=MAX_ID)] | None = None
    kinds: (
        Annotated[
            list[str],
            AfterValidator(_known_kinds),
            Field(max_length=len(events.KINDS) * 4),
            WithJsonSchema({"type": "array", "items": {"type": "string", "enum": list(events.KINDS)}, "minItems": 1}),
        ]
        | None
    ) = None
    #: The clock warning's threshold, in minutes (two decimals at most); 5.0 when left out.
    clock_low_minutes: MinutesIn | None = None

    @property
    def clock_low(self) -> int:
        """The threshold in hundredths of a minute."""
        return self.clock_low_minutes if self.clock_low_minutes is not None else DEFAULT_CLOCK_LOW_HUNDREDTHS


class Subscribed(Reply):
    subscribed: Literal["events"] = "events"
    #: The seq of the account's newest kept event, or null when it has none.
    last_event: int | None
    #: The seq of the account's oldest kept event: an `after` below it may have missed events.
    oldest_event: int | None


class Unsubscribed(Reply):
    unsubscribed: Literal["events"] = "events"


def _iso(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


def event_line(
    stored: events.StoredEvent,
    account: str,
    record: RecordInfo | None = None,
    zone: tzinfo | None = None,
) -> dict[str, Any]:
    """The wire form of a stored event. The record an event names is read at delivery (the
    incoming transfer record of credits_received, the time record of timer_stopped)."""
    stored_data, data = stored.data, dict[str, Any]()
    context = {"zone": zone}
    if stored.kind == events.CREDITS_RECEIVED and isinstance(record, TransferRecordInfo):
        data = {
            "record": TransferRecordData.of(record).model_dump(mode="json", context=context, by_alias=True),
            "ewallet_credits": stored_data["ewallet_credits"],
        }
    elif stored.kind == events.LOGIN:
        data = {"login_record": stored_data["login_record"], "session": stored_data["session"]}
    elif stored.kind == events.CLOCK_LOW:
        data = {
            "clock": stored_data["clock"],
            "remaining_minutes": minutes_of(int(stored_data["remaining_hundredths"])),
            "expected_stop": format_timestamp(_iso(stored_data["expected_stop"]), zone),
        }
    elif stored.kind == events.TIMER_STOPPED and isinstance(record, TimeRecordInfo):
        data = {
            "clock": stored_data["clock"],
            "time_record": stored_data["time_record"],
            "record_data": TimeRecordData.of(record).model_dump(mode="json", context=context, by_alias=True),
        }
    at = format_timestamp(stored.create_date, zone)
    return {"event": stored.kind, "seq": stored.seq, "at": at, "account": account, "data": data}
