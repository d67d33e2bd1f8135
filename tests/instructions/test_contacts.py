"""Contact lists and contact records: new, view, switch, unlink. Unlike ledger objects they are
really deleted (§6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import ACCOUNT_DATA, CONTACT_RECORD_DATA, LIST_DATA, call, ids, refuses_bad_ids, shaped
from tests.support import LineClient, Running

NEW_LIST = "new=contact, contact=list"
VIEW_LIST = "view=contact, contact=list"
SWITCH_LIST = "switch=contact_list"
UNLINK_LIST = "unlink=contact, contact=list"
NEW_RECORD = "new=contact, contact=record"
VIEW_RECORD = "view=contact, contact=record"
UNLINK_RECORD = "unlink=contact, contact=record"


async def account(client: LineClient) -> dict[str, Any]:
    return shaped(ok(await call(client, "view=account"), "account", "account_data")["account_data"], ACCOUNT_DATA)


def list_answer(answer: dict[str, Any]) -> dict[str, Any]:
    ok(answer, "contact_list", "list_data")
    assert answer["contact_list"] == answer["list_data"]["id"]
    return shaped(answer["list_data"], LIST_DATA)


async def active_list(client: LineClient) -> dict[str, Any]:
    return list_answer(await call(client, VIEW_LIST))


async def new_list(client: LineClient, **params: Any) -> dict[str, Any]:
    return list_answer(await call(client, NEW_LIST, **params))


async def new_record(client: LineClient, **params: Any) -> dict[str, Any]:
    answer = ok(await call(client, NEW_RECORD, **({"user_name": "Bob"} | params)), "contact_record", "contact_list")
    assert type(answer["contact_record"]) is int and type(answer["contact_list"]) is int
    return answer


async def view_record(client: LineClient, record: int) -> dict[str, Any]:
    answer = ok(await call(client, VIEW_RECORD, record_id=record), "contact_list", "contact_record", "record_data")
    data = shaped(answer["record_data"], CONTACT_RECORD_DATA)
    assert (answer["contact_record"], answer["contact_list"]) == (data["id"], data["contact_list"])
    return data


class TestNewContactList:
    async def test_answers_the_id_and_the_list_data(self, server: Running) -> None:
        client = await server.user()
        owner = await account(client)
        data = await new_list(client)
        assert (data["user"], data["reference"], data["records"]) == (owner["id"], "Contact List", {})
        assert data["create_date"] == data["write_date"]

    async def test_is_listed_but_not_active_and_moves_the_accounts_write_date(self, server: Running) -> None:
        client = await server.user()
        before = await account(client)
        server.clock.advance(5)
        data = await new_list(client, reference=" Friends ")
        assert data["reference"] == "Friends"
        after = await account(client)
        assert after["contact_list"] == before["contact_list"]
        assert after["contact_list_archive"] == before["contact_list_archive"] | {str(data["id"]): "Friends"}
        assert after["write_date"] != before["write_date"]
        assert (await active_list(client))["id"] == before["contact_list"]

    @pytest.mark.parametrize("reference", ["", "   ", "r" * 256, 3, True])
    async def test_refuses_a_bad_reference(self, server: Running, reference: object) -> None:
        client = await server.user()
        refused(await call(client, NEW_LIST, reference=reference), "invalid_value")

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, NEW_LIST, list_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, NEW_LIST), "not_logged_in")


class TestViewContactList:
    async def test_answers_the_active_list_and_its_records(self, server: Running) -> None:
        client = await server.user()
        first = await new_record(client, user_reference="Plumber")
        second = await new_record(client)
        data = await active_list(client)
        assert data["id"] == (await account(client))["contact_list"]
        assert data["records"] == {
            str(first["contact_record"]): "Plumber",
            str(second["contact_record"]): "Contact List Record",
        }

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, VIEW_LIST, list_id=1), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, VIEW_LIST), "not_logged_in")


class TestSwitchContactList:
    async def test_makes_it_active_and_answers_its_id_and_data(self, server: Running) -> None:
        client = await server.user()
        data = await new_list(client)
        before = await account(client)
        server.clock.advance(5)
        assert list_answer(await call(client, SWITCH_LIST, list_id=data["id"])) == data
        after = await account(client)
        assert after["contact_list"] == data["id"]
        assert after["write_date"] != before["write_date"]
        assert (await active_list(client))["id"] == data["id"]
        answer = ok(await call(client, "switch=account", account=client.email), "account", "session_data")  # type: ignore[attr-defined]
        assert answer["session_data"]["session_contact_list"] == data["id"]

    async def test_switching_to_the_active_one_changes_nothing(self, server: Running) -> None:
        client = await server.user()
        before = await account(client)
        server.clock.advance(5)
        assert (
            list_answer(await call(client, SWITCH_LIST, list_id=before["contact_list"]))["id"] == before["contact_list"]
        )
        assert await account(client) == before

    async def test_refuses_another_accounts_list(self, server: Running) -> None:
        client = await server.user()
        theirs = await active_list(await server.user())
        refused(await call(client, SWITCH_LIST, list_id=theirs["id"]), "forbidden")

    async def test_refuses_a_missing_or_deleted_list(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_LIST, list_id=999_999), "not_found")
        data = await new_list(client)
        ok(await call(client, UNLINK_LIST, list_id=data["id"]), "contact_list")
        refused(await call(client, SWITCH_LIST, list_id=data["id"]), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, SWITCH_LIST, "list_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, SWITCH_LIST), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, SWITCH_LIST, list_id=1), "not_logged_in")


class TestUnlinkContactList:
    async def test_answers_the_id_and_deletes_the_list_with_its_records(self, any_server: Running) -> None:
        client = await any_server.user()
        data = await new_list(client)
        record = (await new_record(client, contact_list=data["id"]))["contact_record"]
        answer = ok(await call(client, UNLINK_LIST, list_id=data["id"]), "contact_list")
        assert answer["contact_list"] == data["id"]
        assert str(data["id"]) not in (await account(client))["contact_list_archive"]
        refused(await call(client, UNLINK_LIST, list_id=data["id"]), "not_found")
        refused(await call(client, VIEW_RECORD, record_id=record), "not_found")

    async def test_moves_the_accounts_write_date(self, any_server: Running) -> None:
        client = await any_server.user()
        data = await new_list(client)
        before = await account(client)
        any_server.clock.advance(5)
        ok(await call(client, UNLINK_LIST, list_id=data["id"]), "contact_list")
        after = await account(client)
        assert after["write_date"] != before["write_date"]
        assert after["contact_list"] == before["contact_list"]

    async def test_refuses_another_accounts_list(self, any_server: Running) -> None:
        client = await any_server.user()
        other = await any_server.user()
        await new_list(other)
        theirs = await account(other)
        refused(await call(client, UNLINK_LIST, list_id=theirs["contact_list"]), "forbidden")
        assert await account(other) == theirs

    async def test_refuses_a_missing_list(self, any_server: Running) -> None:
        client = await any_server.user()
        refused(await call(client, UNLINK_LIST, list_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, UNLINK_LIST, "list_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, UNLINK_LIST), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, UNLINK_LIST, list_id=1), "not_logged_in")


class TestNewContactRecord:
    async def test_answers_the_record_and_the_active_list_that_received_it(self, server: Running) -> None:
        client = await server.user()
        before = await active_list(client)
        server.clock.advance(5)
        answer = await new_record(
            client, user_name=" Bob ", user_email="bob@example.com", user_phone=" 0700 ", notes=" pays late "
        )
        assert answer["contact_list"] == before["id"]
        data = await view_record(client, answer["contact_record"])
        assert (data["name"], data["email"], data["phone"], data["notes"], data["reference"]) == (
            "Bob",
            "bob@example.com",
            "0700",
            "pays late",
            "Contact List Record",
        )
        assert data["create_date"] == data["write_date"]
        after = await active_list(client)
        assert after["records"] == {str(answer["contact_record"]): "Contact List Record"}
        assert after["write_date"] != before["write_date"]

    async def test_optional_fields_default_to_null(self, server: Running) -> None:
        client = await server.user()
        data = await view_record(client, (await new_record(client))["contact_record"])
        assert (data["email"], data["phone"], data["notes"]) == (None, None, None)

    async def test_user_reference_sets_the_reference(self, server: Running) -> None:
        client = await server.user()
        data = await view_record(client, (await new_record(client, user_reference="Plumber"))["contact_record"])
        assert data["reference"] == "Plumber"

    async def test_goes_into_the_given_owned_list(self, server: Running) -> None:
        client = await server.user()
        other = await new_list(client)
        answer = await new_record(client, contact_list=other["id"])
        assert answer["contact_list"] == other["id"]
        assert (await active_list(client))["records"] == {}
        switched = list_answer(await call(client, SWITCH_LIST, list_id=other["id"]))
        assert ids(switched["records"]) == [answer["contact_record"]]

    async def test_refuses_another_accounts_list(self, server: Running) -> None:
        client = await server.user()
        theirs = await active_list(await server.user())
        refused(await call(client, NEW_RECORD, user_name="Bob", contact_list=theirs["id"]), "forbidden")

    async def test_refuses_a_missing_or_deleted_list(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, NEW_RECORD, user_name="Bob", contact_list=999_999), "not_found")
        data = await new_list(client)
        ok(await call(client, UNLINK_LIST, list_id=data["id"]), "contact_list")
        refused(await call(client, NEW_RECORD, user_name="Bob", contact_list=data["id"]), "not_found")

    async def test_refuses_a_missing_name(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, NEW_RECORD, user_email="bob@example.com"), "missing_field")

    @pytest.mark.parametrize(
        "params",
        [
            {"user_name": "   "},
            {"user_name": "n" * 256},
            {"user_name": 5},
            {"user_name": None},
            {"user_email": "e" * 256},
            {"user_phone": "1" * 33},
            {"user_reference": "r" * 256},
            {"notes": "n" * 1001},
            {"notes": 1},
            {"contact_list": "1"},
            {"contact_list": True},
            {"contact_list": 1.0},
            {"contact_list": 0},
            {"list_id": 1},
        ],
        ids=[
            "blank-name",
            "long-name",
            "int-name",
            "null-name",
            "long-email",
            "long-phone",
            "long-reference",
            "long-notes",
            "int-notes",
            "str-list",
            "bool-list",
            "float-list",
            "zero-list",
            "unknown-key",
        ],
    )
    async def test_refuses_bad_values(self, server: Running, params: dict) -> None:
        client = await server.user()
        refused(await call(client, NEW_RECORD, **({"user_name": "Bob"} | params)), "invalid_value")
        assert (await active_list(client))["records"] == {}

    async def test_accepts_notes_of_exactly_1000_characters(self, server: Running) -> None:
        client = await server.user()
        data = await view_record(client, (await new_record(client, notes="n" * 1000))["contact_record"])
        assert data["notes"] == "n" * 1000

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, NEW_RECORD, user_name="Bob"), "not_logged_in")


class TestViewContactRecord:
    async def test_answers_the_list_the_record_and_its_data(self, server: Running) -> None:
        client = await server.user()
        created = await new_record(client)
        data = await view_record(client, created["contact_record"])
        assert (data["id"], data["contact_list"]) == (created["contact_record"], created["contact_list"])

    async def test_refuses_another_accounts_record(self, server: Running) -> None:
        client = await server.user()
        theirs = await new_record(await server.user())
        refused(await call(client, VIEW_RECORD, record_id=theirs["contact_record"]), "forbidden")

    async def test_refuses_a_missing_record(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, VIEW_RECORD, record_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, VIEW_RECORD, "record_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, VIEW_RECORD), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, VIEW_RECORD, record_id=1), "not_logged_in")


class TestUnlinkContactRecord:
    async def test_answers_the_list_and_the_record_and_deletes_it(self, server: Running) -> None:
        client = await server.user()
        created = await new_record(client)
        before = await active_list(client)
        server.clock.advance(5)
        answer = await call(client, UNLINK_RECORD, record_id=created["contact_record"])
        ok(answer, "contact_list", "contact_record")
        assert answer == {"failed": False} | {k: created[k] for k in ("contact_list", "contact_record")}
        after = await active_list(client)
        assert after["records"] == {}
        assert after["write_date"] != before["write_date"]
        refused(await call(client, VIEW_RECORD, record_id=created["contact_record"]), "not_found")
        refused(await call(client, UNLINK_RECORD, record_id=created["contact_record"]), "not_found")

    async def test_refuses_another_accounts_record(self, server: Running) -> None:
        client = await server.user()
        other = await server.user()
        theirs = await new_record(other)
        refused(await call(client, UNLINK_RECORD, record_id=theirs["contact_record"]), "forbidden")
        await view_record(other, theirs["contact_record"])

    async def test_refuses_a_missing_record(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, UNLINK_RECORD, record_id=999_999), "not_found")

    async def test_refuses_an_id_that_is_not_a_positive_integer(self, server: Running) -> None:
        client = await server.user()
        await refuses_bad_ids(client, UNLINK_RECORD, "record_id")

    async def test_refuses_a_missing_id(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, UNLINK_RECORD), "missing_field")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, UNLINK_RECORD, record_id=1), "not_logged_in")
