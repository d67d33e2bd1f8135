"""The four sheet kinds (transfer and invoice under an ewallet, time and conversion under a
clock): new, view, switch, unlink of sheets; view and unlink of records (§6, §7).

Records are written by the money instructions; until those exist, the record tests put rows
straight into the sheets (tests/instructions/storage.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import KINDS, PARENT_OF, RECORD_DATA, call, refuses_bad_ids, shaped, sheet_shape
from tests.instructions.storage import seed_records
from tests.support import LineClient, Running

pytestmark = pytest.mark.parametrize("kind", KINDS)

PARENT_VIEW = {"ewallet": "view=credit, credit=ewallet", "clock": "view=credit, credit=clock"}
PARENT_NEW = {"ewallet": "new=credit, credit=ewallet", "clock": "new=credit, credit=clock"}
PARENT_SWITCH = {
    "ewallet": ("switch=credit, credit=ewallet", "ewallet_id"),
    "clock": ("switch=credit, credit=clock", "clock_id"),
}


def routes(kind: str) -> dict[str, str]:
    return {
        "new": f"new={kind}, {kind}=list",
        "view": f"view={kind}, {kind}=list",
        "switch": f"switch={kind}_sheet",
        "unlink": f"unlink={kind}, {kind}=list",
        "view_record": f"view={kind}, {kind}=record",
        "unlink_record": f"unlink={kind}, {kind}=record",
    }


async def parent(client: LineClient, kind: str) -> dict[str, Any]:
    key = PARENT_OF[kind]
    return ok(await call(client, PARENT_VIEW[key]), key, f"{key}_data")[f"{key}_data"]


def sheet_answer(answer: dict[str, Any], kind: str) -> dict[str, Any]:
    ok(answer, f"{kind}_sheet", "sheet_data")
    assert answer[f"{kind}_sheet"] == answer["sheet_data"]["id"]
    return shaped(answer["sheet_data"], sheet_shape(kind))


async def view(client: LineClient, kind: str) -> dict[str, Any]:
    return sheet_answer(await call(client, routes(kind)["view"]), kind)


async def new(client: LineClient, kind: str, **params: Any) -> dict[str, Any]:
    return sheet_answer(await call(client, routes(kind)["new"], **params), kind)


class TestNewSheet:
    async def test_answers_the_id_and_the_sheet_data_under_the_active_parent(self, server: Running, kind: str) -> None:
        client = await server.user()
        owner = await parent(client, kind)
        data = await new(client, kind)
        assert data[PARENT_OF[kind]] == owner["id"]
        assert (data["reference"], data["records"]) == (f"{kind.title()} Sheet", {})
        assert data["create_date"] == data["write_date"]

    async def test_is_listed_but_not_active_and_moves_the_parents_write_date(self, server: Running, kind: str) -> None:
        client = await server.user()
        before = await parent(client, kind)
        server.clock.advance(5)
        data = await new(client, kind, reference=" Spare ")
        assert data["reference"] == "Spare"
        after = await parent(client, kind)
        assert after[f"{kind}_sheet"] == before[f"{kind}_sheet"]
        assert after[f"{kind}_sheet_archive"] == before[f"{kind}_sheet_archive"] | {str(data["id"]): "Spare"}
        assert after["write_date"] != before["write_date"]
        assert (await view(client, kind))["id"] == before[f"{kind}_sheet"]

    async def test_goes_under_the_active_parent_after_a_switch(self, server: Running, kind: str) -> None:
        client = await server.user()
        key = PARENT_OF[kind]
        other = ok(await call(client, PARENT_NEW[key]), key, f"{key}_data")[key]
        route, id_key = PARENT_SWITCH[key]
        ok(await call(client, route, **{id_key: other}), key, f"{key}_data")
        assert (await new(client, kind))[key] == other

    @pytest.mark.parametrize("reference", ["", "   ", "r" * 256, 7, True])
    async def test_refuses_a_bad_reference(self, server: Running, kind: str, reference: object) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["new"], reference=reference), "invalid_value")

    async def test_refuses_an_unknown_key(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["new"], sheet_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["new"]), "not_logged_in")


class TestViewSheet:
    async def test_answers_the_active_sheet_of_the_active_parent(self, server: Running, kind: str) -> None:
        client = await server.user()
        data = await view(client, kind)
        owner = await parent(client, kind)
        assert data["id"] == owner[f"{kind}_sheet"]
        assert data[PARENT_OF[kind]] == owner["id"]

    async def test_refuses_an_unknown_key(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["view"], list_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["view"]), "not_logged_in")


class TestSwitchSheet:
    async def test_makes_it_active_and_answers_its_id_and_data(self, server: Running, kind: str) -> None:
        client = await server.user()
        data = await new(client, kind)
        before = await parent(client, kind)
        server.clock.advance(5)
        switched = sheet_answer(await call(client, routes(kind)["switch"], sheet_id=data["id"]), kind)
        assert switched == data
        after = await parent(client, kind)
        assert after[f"{kind}_sheet"] == data["id"]
        assert after["write_date"] != before["write_date"]
        assert (await view(client, kind))["id"] == data["id"]

    async def test_switching_to_the_active_one_changes_nothing(self, server: Running, kind: str) -> None:
        client = await server.user()
        before = await parent(client, kind)
        server.clock.advance(5)
        data = sheet_answer(await call(client, routes(kind)["switch"], sheet_id=before[f"{kind}_sheet"]), kind)
        assert data["id"] == before[f"{kind}_sheet"]
        assert await parent(client, kind) == before

    async def test_a_sheet_of_a_parent_that_is_not_active_does_not_switch_the_parent(
        self, server: Running, kind: str
    ) -> None:
        client = await server.user()
        key = PARENT_OF[kind]
        home = await parent(client, kind)
        other = ok(await call(client, PARENT_NEW[key]), key, f"{key}_data")[f"{key}_data"]
        route, id_key = PARENT_SWITCH[key]
        ok(await call(client, route, **{id_key: other["id"]}), key, f"{key}_data")
        spare = await new(client, kind)  # under the other parent, not active there
        ok(await call(client, route, **{id_key: home["id"]}), key, f"{key}_data")
        data = sheet_answer(await call(client, routes(kind)["switch"], sheet_id=spare["id"]), kind)
        assert data[key] == other["id"]
        assert (await parent(client, kind))["id"] == home["id"]
        assert (await view(client, kind))["id"] == home[f"{kind}_sheet"]
        switched = ok(await call(client, route, **{id_key: other["id"]}), key, f"{key}_data")[f"{key}_data"]
        assert switched[f"{kind}_sheet"] == spare["id"]

    async def test_refuses_another_accounts_sheet(self, server: Running, kind: str) -> None:
        client = await server.user()
        theirs = await view(await server.user(), kind)
        refused(await call(client, routes(kind)["switch"], sheet_id=theirs["id"]), "forbidden")

    async def test_refuses_a_missing_sheet(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["switch"], sheet_id=999_999), "not_found")

    async def test_refuses_an_unlinked_sheet(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        data = await new(client, kind)
        ok(await call(client, routes(kind)["unlink"], list_id=data["id"]), f"{kind}_sheet")
        refused(await call(client, routes(kind)["switch"], sheet_id=data["id"]), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running, kind: str) -> None:
        client = await server.user()
        await refuses_bad_ids(client, routes(kind)["switch"], "sheet_id")

    async def test_refuses_a_missing_id_and_the_list_id_spelling(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["switch"]), "missing_field")
        sheet = (await view(client, kind))["id"]
        refused(await call(client, routes(kind)["switch"], list_id=sheet), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["switch"], sheet_id=1), "not_logged_in")


class TestUnlinkSheet:
    async def test_answers_the_id_and_hides_the_sheet(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        data = await new(client, kind)
        answer = ok(await call(client, routes(kind)["unlink"], list_id=data["id"]), f"{kind}_sheet")
        assert answer[f"{kind}_sheet"] == data["id"]
        assert str(data["id"]) not in (await parent(client, kind))[f"{kind}_sheet_archive"]
        refused(await call(client, routes(kind)["unlink"], list_id=data["id"]), "not_found")

    async def test_moves_the_parents_write_date(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        data = await new(client, kind)
        before = await parent(client, kind)
        any_server.clock.advance(5)
        ok(await call(client, routes(kind)["unlink"], list_id=data["id"]), f"{kind}_sheet")
        after = await parent(client, kind)
        assert after["write_date"] != before["write_date"]
        assert after[f"{kind}_sheet"] == before[f"{kind}_sheet"]

    async def test_refuses_another_accounts_sheet(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        other = await any_server.user()
        await new(other, kind)
        theirs = await parent(other, kind)
        refused(await call(client, routes(kind)["unlink"], list_id=theirs[f"{kind}_sheet"]), "forbidden")
        assert await parent(other, kind) == theirs

    async def test_refuses_a_missing_sheet(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        refused(await call(client, routes(kind)["unlink"], list_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running, kind: str) -> None:
        client = await server.user()
        await refuses_bad_ids(client, routes(kind)["unlink"], "list_id")

    async def test_refuses_a_missing_id_and_the_sheet_id_spelling(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["unlink"]), "missing_field")
        sheet = (await new(client, kind))["id"]
        refused(await call(client, routes(kind)["unlink"], sheet_id=sheet), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["unlink"], list_id=1), "not_logged_in")


async def seeded(running: Running, client: LineClient) -> dict[str, int]:
    wallet = ok(await call(client, PARENT_VIEW["ewallet"]), "ewallet", "ewallet_data")["ewallet_data"]
    clock = ok(await call(client, PARENT_VIEW["clock"]), "clock", "clock_data")["clock_data"]
    return seed_records(running, wallet, clock)


class TestViewRecord:
    async def test_answers_the_sheet_the_record_and_its_data(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        record = (await seeded(any_server, client))[kind]
        sheet = await view(client, kind)
        answer = await call(client, routes(kind)["view_record"], record_id=record)
        ok(answer, f"{kind}_sheet", f"{kind}_record", "record_data")
        assert (answer[f"{kind}_sheet"], answer[f"{kind}_record"]) == (sheet["id"], record)
        data = shaped(answer["record_data"], RECORD_DATA[kind])
        assert (data["id"], data[f"{kind}_sheet"]) == (record, sheet["id"])
        assert sheet["records"] == {str(record): f"{kind.title()} Sheet Record"}

    async def test_refuses_another_accounts_record(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        other = await any_server.user()
        record = (await seeded(any_server, other))[kind]
        refused(await call(client, routes(kind)["view_record"], record_id=record), "forbidden")

    async def test_refuses_a_missing_record(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["view_record"], record_id=999_999), "not_found")

    async def test_refuses_a_record_of_an_unlinked_sheet(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        record = (await seeded(any_server, client))[kind]
        sheet = (await view(client, kind))["id"]
        await new(client, kind)
        ok(await call(client, routes(kind)["unlink"], list_id=sheet), f"{kind}_sheet")
        refused(await call(client, routes(kind)["view_record"], record_id=record), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running, kind: str) -> None:
        client = await server.user()
        await refuses_bad_ids(client, routes(kind)["view_record"], "record_id")

    async def test_refuses_a_missing_id(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["view_record"]), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["view_record"], record_id=1), "not_logged_in")


class TestUnlinkRecord:
    async def test_answers_the_sheet_and_the_record_and_hides_the_record(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        record = (await seeded(any_server, client))[kind]
        before = await view(client, kind)
        any_server.clock.advance(5)
        answer = await call(client, routes(kind)["unlink_record"], record_id=record)
        ok(answer, f"{kind}_sheet", f"{kind}_record")
        assert (answer[f"{kind}_sheet"], answer[f"{kind}_record"]) == (before["id"], record)
        after = await view(client, kind)
        assert after["records"] == {}
        assert after["write_date"] != before["write_date"]
        refused(await call(client, routes(kind)["view_record"], record_id=record), "not_found")
        refused(await call(client, routes(kind)["unlink_record"], record_id=record), "not_found")

    async def test_refuses_another_accounts_record(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        other = await any_server.user()
        record = (await seeded(any_server, other))[kind]
        refused(await call(client, routes(kind)["unlink_record"], record_id=record), "forbidden")
        answer = await call(other, routes(kind)["view_record"], record_id=record)
        ok(answer, f"{kind}_sheet", f"{kind}_record", "record_data")

    async def test_refuses_a_missing_record(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["unlink_record"], record_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running, kind: str) -> None:
        client = await server.user()
        await refuses_bad_ids(client, routes(kind)["unlink_record"], "record_id")

    async def test_refuses_a_missing_id(self, server: Running, kind: str) -> None:
        client = await server.user()
        refused(await call(client, routes(kind)["unlink_record"]), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running, kind: str) -> None:
        client = await server.session()
        refused(await call(client, routes(kind)["unlink_record"], record_id=1), "not_logged_in")
