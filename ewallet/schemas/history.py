"""Parameters and replies of `history`. Transfers take four filters more than the other kinds; a
kind's parameter model leaves out what does not apply to it, so such a key is refused
(`invalid_value`) like any unknown key."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StrictInt, StrictStr, WithJsonSchema, create_model

from ewallet.domain.history import Filters, Page
from ewallet.domain.kinds import SheetKind
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.shapes import RECORD_SHAPES, record_shape
from ewallet.schemas.values import InputTimestamp, RecordId, Text255, between

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
MAX_CREDITS = 10**9


def _cursor(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 255:
        raise ValueError("must be at most 255 characters")
    return value


Limit = Annotated[
    StrictInt,
    AfterValidator(between(1, MAX_LIMIT)),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
]
CreditsBound = Annotated[
    StrictInt,
    AfterValidator(between(0, MAX_CREDITS)),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_CREDITS}),
]
Cursor = Annotated[StrictStr, AfterValidator(_cursor), WithJsonSchema({"type": "string", "minLength": 1})]
TransferType = Literal["supply", "payment", "transfer", "incoming"]


class HistoryParams(Params):
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor | None = None
    sheet_id: RecordId | None = None
    since: InputTimestamp | None = None
    until: InputTimestamp | None = None

    def filters(self) -> Filters:
        return Filters(sheet_id=self.sheet_id, since=self.since, until=self.until)


class TransferHistoryParams(HistoryParams):
    transfer_type: TransferType | None = None
    partner: Text255 | None = None
    min_credits: CreditsBound | None = None
    max_credits: CreditsBound | None = None

    def filters(self) -> Filters:
        return Filters(
            sheet_id=self.sheet_id,
            since=self.since,
            until=self.until,
            transfer_type=self.transfer_type,
            partner=self.partner,
            min_credits=self.min_credits,
            max_credits=self.max_credits,
        )


def params_of(kind: SheetKind) -> type[HistoryParams]:
    return TransferHistoryParams if kind.name == "transfer" else HistoryParams


def _history_reply(kind: str, shape: type) -> type[Reply]:
    fields: dict[str, Any] = {"history": (str, ...), "records": (list[shape], ...), "next_cursor": (str | None, ...)}  # type: ignore[valid-type]
    return create_model(f"{kind.title()}History", __base__=Reply, **fields)


#: kind -> {"history": kind, "records": [record_data, ...], "next_cursor": str | None}
HISTORY_REPLIES = {kind: _history_reply(kind, shape) for kind, shape in RECORD_SHAPES.items()}


def history_reply(kind: SheetKind, page: Page) -> Reply:
    fields: dict[str, Any] = {
        "history": kind.name,
        "records": [record_shape(record) for record in page.records],
        "next_cursor": page.next_cursor,
    }
    return HISTORY_REPLIES[kind.name](**fields)
