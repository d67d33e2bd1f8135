"""The last-resource rule and what an unlink leaves active, over the wire, once for every kind
of resource (ewallet, clock, contact list, each sheet kind) from one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import KINDS, PARENT_OF, call, ids
from tests.support import LineClient, Running

#: Where the active one of each scope is shown: route, and the key of its data.
HOLDERS = {
    "account": ("view=account", "account_data"),
    "ewallet": ("view=credit, credit=ewallet", "ewallet_data"),
    "clock": ("view=credit, credit=clock", "clock_data"),
}


@dataclass(frozen=True)
class WireKind:
    name: str
    #: The key naming it in answers and in its holder's data ("<key>", "<key>_archive").
    key: str
    new: str
    view: str
    unlink: str
    id_param: str
    unlinked_key: str
    holder: str
    #: Creates another scope whose own one must not count as a remaining one.
    other_scope: str | None = None

    def __str__(self) -> str:
        return self.name


def _sheet(kind: str) -> WireKind:
    parent = PARENT_OF[kind]
    return WireKind(
        f"{kind} sheet", f"{kind}_sheet", f"new={kind}, {kind}=list", f"view={kind}, {kind}=list",
        f"unlink={kind}, {kind}=list", "list_id", f"{kind}_sheet", parent, f"new=credit, credit={parent}",
    )  # fmt: skip


WIRE_KINDS = [
    WireKind("ewallet", "ewallet", "new=credit, credit=ewallet", "view=credit, credit=ewallet",
             "unlink=credit, credit=ewallet", "ewallet_id", "credit_ewallet", "account"),
    WireKind("clock", "clock", "new=credit, credit=clock", "view=credit, credit=clock",
             "unlink=credit, credit=clock", "clock_id", "credit_clock", "ewallet", "new=credit, credit=ewallet"),
    WireKind("contact list", "contact_list", "new=contact, contact=list", "view=contact, contact=list",
             "unlink=contact, contact=list", "list_id", "contact_list", "account"),
    *(_sheet(kind) for kind in KINDS),
]  # fmt: skip

pytestmark = pytest.mark.parametrize("kind", WIRE_KINDS, ids=str)


async def holder(client: LineClient, kind: WireKind) -> dict[str, Any]:
    route, data = HOLDERS[kind.holder]
    answer = await call(client, route)
    assert answer["failed"] is False, answer
    return dict(answer[data])


async def new(client: LineClient, kind: WireKind) -> int:
    answer = await call(client, kind.new)
    assert answer["failed"] is False, answer
    return int(answer[kind.key])


async def test_refuses_the_last_one_of_its_scope(any_server: Running, kind: WireKind) -> None:
    client = await any_server.user()
    if kind.other_scope is not None:
        assert (await call(client, kind.other_scope))["failed"] is False
    before = await holder(client, kind)
    refused(await call(client, kind.unlink, **{kind.id_param: before[kind.key]}), "last_resource")
    assert await holder(client, kind) == before


async def test_unlinking_the_active_one_activates_the_remaining_one_with_the_highest_id(
    any_server: Running, kind: WireKind
) -> None:
    client = await any_server.user()
    first = (await holder(client, kind))[kind.key]
    second, third = await new(client, kind), await new(client, kind)
    ok(await call(client, kind.unlink, **{kind.id_param: first}), kind.unlinked_key)
    after = await holder(client, kind)
    assert after[kind.key] == third
    assert ids(after[f"{kind.key}_archive"]) == [second, third]
    shown = await call(client, kind.view)
    assert shown[kind.key] == third, shown
