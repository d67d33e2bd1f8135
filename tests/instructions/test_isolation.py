"""Two clients with two accounts cannot see or touch each other's objects: every owner-level
route of the route table answers `forbidden` for the other account's id and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ewallet.handlers import build_route_table
from ewallet.routes import Access, Route
from tests.answers import ok, refused
from tests.instructions.expect import KINDS, call, ids
from tests.instructions.storage import seed_records
from tests.support import LineClient, Running

OWNER_ROUTES = [r for r in build_route_table().routes if r.controller == "client" and r.access is Access.OWNER]
ID_PARAMS = {"ewallet_id", "clock_id", "sheet_id", "list_id", "record_id"}


def addressed(route: Route) -> tuple[str, str]:
    """(the id parameter, the key of the object it names in `objects()`)."""
    (param,) = [name for name in route.params.model_fields if name in ID_PARAMS]
    assert route.target is not None
    head = route.target.split(".")[0].removesuffix("_sheet").removesuffix("_list")
    if param in ("ewallet_id", "clock_id"):
        return param, param.removesuffix("_id")
    if param == "record_id":
        return param, f"{head}.record"
    return param, f"{head}.sheet" if head in KINDS else f"{head}.list"


async def objects(running: Running, client: LineClient) -> dict[str, int]:
    """One object of every addressable kind, owned by the client's account."""
    wallet = ok(await call(client, "view=credit, credit=ewallet"), "ewallet", "ewallet_data")["ewallet_data"]
    clock = ok(await call(client, "view=credit, credit=clock"), "clock", "clock_data")["clock_data"]
    found = {"ewallet": wallet["id"], "clock": clock["id"]}
    for kind in KINDS:
        found[f"{kind}.sheet"] = (wallet if kind in ("transfer", "invoice") else clock)[f"{kind}_sheet"]
    for kind, record in seed_records(running, wallet, clock).items():
        found[f"{kind}.record"] = record
    contacts = ok(await call(client, "view=contact, contact=list"), "contact_list", "list_data")
    found["contact.list"] = contacts["contact_list"]
    record = ok(await call(client, "new=contact, contact=record", user_name="Carol"), "contact_record", "contact_list")
    found["contact.record"] = record["contact_record"]
    return found


async def everything(client: LineClient, found: dict[str, int]) -> list[dict[str, Any]]:
    """Every view of the account and of each of its objects."""
    views = [
        await call(client, "view=account"),
        await call(client, "view=credit, credit=ewallet"),
        await call(client, "view=credit, credit=clock"),
        await call(client, "view=contact, contact=list"),
        await call(client, "view=contact, contact=record", record_id=found["contact.record"]),
    ]
    for kind in KINDS:
        views.append(await call(client, f"view={kind}, {kind}=list"))
        views.append(await call(client, f"view={kind}, {kind}=record", record_id=found[f"{kind}.record"]))
    assert not any(answer["failed"] for answer in views), views
    return views


def test_the_owner_routes_cover_every_addressable_kind() -> None:
    covered = {addressed(route)[1] for route in OWNER_ROUTES}
    kinds = {"ewallet", "clock", "contact.list", "contact.record"}
    kinds |= {f"{kind}.{what}" for kind in KINDS for what in ("sheet", "record")}
    assert covered == kinds


class TestOwnerRoutes:
    @pytest.mark.parametrize("route", OWNER_ROUTES, ids=lambda r: r.name)
    async def test_refuse_the_other_accounts_object(self, any_server: Running, route: Route) -> None:
        alice = await any_server.user("alice")
        bob = await any_server.user("bob")
        theirs = await objects(any_server, bob)
        before = await everything(bob, theirs)
        param, key = addressed(route)
        refused(await alice.call(**route.envelope, **{param: theirs[key]}), "forbidden")
        assert await everything(bob, theirs) == before

    async def test_each_account_may_use_its_own_objects(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        mine = await objects(any_server, alice)
        for route in OWNER_ROUTES:
            if route.action == "unlink":
                continue  # the unlinks are exercised per area; here the objects must stay
            param, key = addressed(route)
            answer = await alice.call(**route.envelope, **{param: mine[key]})
            assert answer["failed"] is False, (route.name, answer)


class TestTwoAccounts:
    async def test_views_list_only_the_accounts_own_objects(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        bob = await any_server.user("bob")
        mine, theirs = await objects(any_server, alice), await objects(any_server, bob)
        assert all(mine[key] != theirs[key] for key in mine)
        views = await everything(alice, mine)
        account, wallet = views[0]["account_data"], views[1]["ewallet_data"]
        clock, contacts = views[2]["clock_data"], views[3]["list_data"]
        assert theirs["ewallet"] not in ids(account["ewallet_archive"])
        assert theirs["contact.list"] not in ids(account["contact_list_archive"])
        assert theirs["clock"] not in ids(wallet["clock_archive"])
        assert theirs["contact.record"] not in ids(contacts["records"])
        for kind, parent in (("transfer", wallet), ("invoice", wallet), ("time", clock), ("conversion", clock)):
            assert theirs[f"{kind}.sheet"] not in ids(parent[f"{kind}_sheet_archive"])

    async def test_a_contact_record_cannot_go_into_the_other_accounts_list(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        bob = await any_server.user("bob")
        theirs = ok(await call(bob, "view=contact, contact=list"), "contact_list", "list_data")
        answer = await call(
            alice, "new=contact, contact=record", user_name="Mallory", contact_list=theirs["contact_list"]
        )
        refused(answer, "forbidden")
        assert ok(await call(bob, "view=contact, contact=list"), "contact_list", "list_data") == theirs

    async def test_the_other_account_cannot_be_switched_to(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        await any_server.user("bob")
        refused(await call(alice, "switch=account", account="bob@example.com"), "not_found")
        assert ok(await call(alice, "view=account"), "account", "account_data")["account"] == "alice@example.com"

    async def test_a_new_object_lands_in_the_callers_account_only(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        bob = await any_server.user("bob")
        before = ok(await call(bob, "view=account"), "account", "account_data")
        for route in ("new=credit, credit=ewallet", "new=contact, contact=list"):
            assert (await call(alice, route))["failed"] is False
        assert ok(await call(bob, "view=account"), "account", "account_data") == before
