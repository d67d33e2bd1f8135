"""The money instructions as small async functions, and checks of their answers: exact key sets
(§7's table, `failed` aside) and the value types of §3 and §10."""

from __future__ import annotations

import re
from typing import Any

from tests.answers import ok
from tests.support import PASSWORD, LineClient, Running

TIMESTAMP = re.compile(r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$")
KINDS = ("transfer", "invoice", "conversion", "time")
SUPPLIED = ("supplied_credits", "ewallet_credits", "transfer_record", "invoice_record")
PAID = ("payed", "ewallet_credits", "spent_credits", "transfer_record", "invoice_record")
TRANSFERRED = ("transfered_to", "ewallet_credits", "transfered_credits", "transfer_record")
TO_CLOCK = ("conversion_record", "ewallet_credits", "credit_clock", "converted_credits")
TO_CREDITS = ("conversion_record", "ewallet_credits", "credit_clock", "converted_minutes")
#: Values a `credits` field refuses (§3: JSON integers 1...10^9 only).
BAD_CREDITS = [0, -1, 10**9 + 1, 5.5, True, "5", None]


def is_id(value: Any) -> bool:
    return type(value) is int and value >= 1


def is_timestamp(value: Any) -> bool:
    return type(value) is str and TIMESTAMP.match(value) is not None


def wire_time(instant: Any) -> str:
    """An instant as the wire writes it (UTC, the default zone; fractions dropped)."""
    return instant.strftime("%d-%m-%Y %H:%M:%S")


# -- instructions ----------------------------------------------------------------------------------


async def supply(client: LineClient, credits: Any, **more: Any) -> dict[str, Any]:
    return await client.call(action="supply", supply="credits", credits=credits, **more)


async def system_supply(client: LineClient, account: str, credits: Any, **more: Any) -> dict[str, Any]:
    return await client.call(
        controller="system", action="supply", supply="credits", account=account, credits=credits, **more
    )


async def pay(client: LineClient, partner: str, credits: Any, **more: Any) -> dict[str, Any]:
    return await client.call(action="pay", pay=partner, credits=credits, **more)


async def transfer(client: LineClient, partner: str, credits: Any, **more: Any) -> dict[str, Any]:
    return await client.call(action="transfer", transfer="credits", transfer_to=partner, credits=credits, **more)


async def to_clock(client: LineClient, credits: Any, **more: Any) -> dict[str, Any]:
    return await client.call(action="convert", convert="credits2clock", credits=credits, **more)


async def to_credits(client: LineClient, minutes: Any, **more: Any) -> dict[str, Any]:
    return await client.call(action="convert", convert="clock2credits", minutes=minutes, **more)


async def timer(client: LineClient, verb: str) -> dict[str, Any]:
    """start, pause, resume or stop the active clock's timer."""
    return await client.call(action=verb, **{verb: "clock_timer"})


async def view_record(client: LineClient, kind: str, record_id: int) -> dict[str, Any]:
    return await client.call(action="view", view=kind, **{kind: "record"}, record_id=record_id)


async def unlink_record(client: LineClient, kind: str, record_id: int) -> dict[str, Any]:
    return await client.call(action="unlink", unlink=kind, **{kind: "record"}, record_id=record_id)


async def record(client: LineClient, kind: str, record_id: int) -> dict[str, Any]:
    """The record_data of an owned, visible record."""
    answer = ok(await view_record(client, kind, record_id), f"{kind}_sheet", f"{kind}_record", "record_data")
    assert answer[f"{kind}_record"] == record_id
    return answer["record_data"]


async def sheet(client: LineClient, kind: str) -> dict[str, Any]:
    """The sheet_data of the active sheet of that kind."""
    answer = ok(await client.call(action="view", view=kind, **{kind: "list"}), f"{kind}_sheet", "sheet_data")
    return answer["sheet_data"]


async def records(client: LineClient, kind: str) -> list[int]:
    """The ids listed in the active sheet's `records`."""
    return [int(key) for key in (await sheet(client, kind))["records"]]


async def ewallet(client: LineClient) -> dict[str, Any]:
    return ok(await client.call(action="view", view="credit", credit="ewallet"), "ewallet", "ewallet_data")[
        "ewallet_data"
    ]


async def clock(client: LineClient) -> dict[str, Any]:
    return ok(await client.call(action="view", view="credit", credit="clock"), "clock", "clock_data")["clock_data"]


async def credits(client: LineClient) -> int:
    value = (await ewallet(client))["credits"]
    assert type(value) is int
    return int(value)


async def minutes(client: LineClient) -> float:
    value = (await clock(client))["credit_clock"]
    assert type(value) is float
    return float(value)


async def funded(running: Running, credits: int = 100, name: str | None = None) -> LineClient:
    """A logged-in user holding `credits` (supplied by the user itself)."""
    client = await running.user(name)
    if credits:
        ok(await supply(client, credits), *SUPPLIED)
    return client


async def login_again(running: Running, email: str) -> LineClient:
    """Another connection and session logged into an existing account."""
    client = await running.session()
    answer = await client.call(action="login", user_email=email, user_pass=PASSWORD)
    assert answer["failed"] is False, answer
    client.email = email  # type: ignore[attr-defined]
    return client
