"""What the instruction tests expect of an answer: exact key sets, value types per data shape
(§10), and small builders for requests ("new=credit, credit=clock" as written in the
permission sheet)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.answers import refused
from tests.support import LineClient

TIMESTAMP = re.compile(r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$")
KINDS = ("transfer", "invoice", "time", "conversion")
PARENT_OF = {"transfer": "ewallet", "invoice": "ewallet", "time": "clock", "conversion": "clock"}
#: A wrong-typed id of each sort the protocol refuses (§3: integers only, 1...2^63-1).
BAD_IDS = [True, 1.0, "1", None, 0, -1, 2**63, [1], {"id": 1}]

Check = Callable[[Any], bool]


def is_id(value: Any) -> bool:
    return type(value) is int and value >= 1


def is_int(value: Any) -> bool:
    return type(value) is int


def is_text(value: Any) -> bool:
    return type(value) is str


def is_optional_text(value: Any) -> bool:
    return value is None or type(value) is str


def is_optional_id(value: Any) -> bool:
    return value is None or is_id(value)


def is_timestamp(value: Any) -> bool:
    return type(value) is str and TIMESTAMP.match(value) is not None


def is_minutes(value: Any) -> bool:
    return type(value) is float


def is_archive(value: Any) -> bool:
    """{"<id>": "<reference>"} ordered by id: JSON objects have string keys on the wire."""
    if type(value) is not dict:
        return False
    if not all(type(k) is str and k.isdigit() and type(v) is str for k, v in value.items()):
        return False
    ids = [int(k) for k in value]
    return ids == sorted(ids)


DATED: dict[str, Check] = {
    "id": is_id,
    "reference": is_text,
    "create_date": is_timestamp,
    "write_date": is_timestamp,
}
ACCOUNT_DATA: dict[str, Check] = {
    "id": is_id,
    "name": is_text,
    "create_date": is_timestamp,
    "write_date": is_timestamp,
    "ewallet": is_id,
    "contact_list": is_id,
    "email": is_text,
    "phone": is_optional_text,
    "alias": is_optional_text,
    "state_code": lambda v: v in (0, 1) and type(v) is int,
    "state_name": lambda v: v in ("LoggedOut", "LoggedIn"),
    "ewallet_archive": is_archive,
    "contact_list_archive": is_archive,
}
SESSION_DATA: dict[str, Check] = {
    "session_user_account": is_optional_text,
    "session_credit_ewallet": is_optional_id,
    "session_contact_list": is_optional_id,
    "session_account_archive": lambda v: type(v) is dict and all(is_text(k) and is_text(n) for k, n in v.items()),
}
EWALLET_DATA: dict[str, Check] = DATED | {
    "user": is_id,
    "credits": is_int,
    "clock": is_id,
    "clock_archive": is_archive,
    "transfer_sheet": is_id,
    "transfer_sheet_archive": is_archive,
    "invoice_sheet": is_id,
    "invoice_sheet_archive": is_archive,
}
CLOCK_DATA: dict[str, Check] = DATED | {
    "ewallet": is_id,
    "credit_clock": is_minutes,
    "clock_state": lambda v: v in ("inactive", "active", "pending"),
    "time_sheet": is_id,
    "time_sheet_archive": is_archive,
    "conversion_sheet": is_id,
    "conversion_sheet_archive": is_archive,
}
LIST_DATA: dict[str, Check] = DATED | {"user": is_id, "records": is_archive}
CONTACT_RECORD_DATA: dict[str, Check] = DATED | {
    "contact_list": is_id,
    "name": is_text,
    "email": is_optional_text,
    "phone": is_optional_text,
    "notes": is_optional_text,
}
RECORD_DATA: dict[str, dict[str, Check]] = {
    "transfer": DATED
    | {
        "transfer_sheet": is_id,
        "transfer_type": is_text,
        "transfer_from": is_text,
        "transfer_to": is_text,
        "credits": is_int,
    },
    "invoice": DATED
    | {
        "invoice_sheet": is_id,
        "credits": is_int,
        "currency": is_text,
        "cost": lambda v: type(v) is float,
        "seller": is_text,
        "notes": is_optional_text,
    },
    "conversion": DATED
    | {"conversion_sheet": is_id, "conversion_type": is_text, "minutes": is_minutes, "credits": is_int},
    "time": DATED
    | {
        "time_sheet": is_id,
        "time_start": is_timestamp,
        "time_stop": lambda v: v is None or is_timestamp(v),
        "time_spent": is_minutes,
        "time_pending": is_minutes,
        "pending_count": is_int,
    },
}


def sheet_shape(kind: str) -> dict[str, Check]:
    return DATED | {PARENT_OF[kind]: is_id, "records": is_archive}


def shaped(data: Any, shape: dict[str, Check]) -> dict[str, Any]:
    """data has exactly the shape's keys and each value passes its check."""
    assert type(data) is dict, data
    assert set(data) == set(shape), f"keys differ: extra {set(data) - set(shape)}, missing {set(shape) - set(data)}"
    wrong = {key: data[key] for key, check in shape.items() if not check(data[key])}
    assert not wrong, f"values of the wrong type or form: {wrong}"
    return data


def wire(route: str) -> dict[str, str]:
    """The route keys of a request, from the route as the permission sheet writes it:
    "new=credit, credit=clock" -> {"action": "new", "new": "credit", "credit": "clock"};
    "login" -> {"action": "login"}."""
    first, *rest = (part.strip() for part in route.split(","))
    if "=" not in first:
        return {"action": first}
    action, head = first.split("=")
    keys = {"action": action, action: head}
    for part in rest:
        key, value = part.split("=")
        keys[key] = value
    return keys


async def call(client: LineClient, route: str, **params: Any) -> dict[str, Any]:
    """Send one client instruction named as in the permission sheet."""
    return await client.call(**wire(route), **params)


def ids(archive: dict[str, str]) -> list[int]:
    return [int(key) for key in archive]


async def refuses_bad_ids(client: LineClient, route: str, param: str) -> None:
    """Each of BAD_IDS given as `param` is invalid_value."""
    for bad in BAD_IDS:
        answer = await call(client, route, **{param: bad})
        assert answer.get("code") == "invalid_value", (bad, answer)
        refused(answer, "invalid_value")
