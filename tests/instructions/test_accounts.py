"""Create account, view account, view login records, view logout records (§7, §10)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import (
    ACCOUNT_DATA,
    CLOCK_DATA,
    EWALLET_DATA,
    LIST_DATA,
    call,
    ids,
    is_timestamp,
    shaped,
    sheet_shape,
)
from tests.support import PASSWORD, LineClient, Running, new_account


def create(client: LineClient, **params: Any) -> Awaitable[dict[str, Any]]:
    base = {"user_name": "alice", "user_pass": PASSWORD, "user_email": "alice@example.com"}
    return call(client, "new=account", **(base | params))


class TestCreateAccount:
    async def test_answers_the_email_and_the_account_data_with_exact_keys(self, server: Running) -> None:
        client = await server.session()
        answer = ok(await create(client), "account", "account_data")
        assert answer["account"] == "alice@example.com"
        data = shaped(answer["account_data"], ACCOUNT_DATA)
        assert data["name"] == "alice"
        assert data["email"] == "alice@example.com"
        assert data["phone"] is None and data["alias"] is None
        assert data["create_date"] == data["write_date"]
        assert data["ewallet_archive"] == {str(data["ewallet"]): "Credit EWallet"}
        assert data["contact_list_archive"] == {str(data["contact_list"]): "Contact List"}

    async def test_does_not_log_in(self, server: Running) -> None:
        client = await server.session()
        data = ok(await create(client), "account", "account_data")["account_data"]
        assert (data["state_code"], data["state_name"]) == (0, "LoggedOut")
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_stores_phone_and_alias_and_trims_strings_but_not_the_password(self, server: Running) -> None:
        client = await server.session()
        answer = await create(
            client,
            user_name="  alice  ",
            user_email=" alice@example.com ",
            user_phone=" +40 700 000 000 ",
            user_alias=" Al ",
            user_pass=" " + PASSWORD,
        )
        data = ok(answer, "account", "account_data")["account_data"]
        assert (data["name"], data["email"], data["phone"], data["alias"]) == (
            "alice",
            "alice@example.com",
            "+40 700 000 000",
            "Al",
        )
        refused(await client.call(action="login", user_name="alice", user_pass=PASSWORD), "invalid_credentials")
        ok(await client.call(action="login", user_name="alice", user_pass=" " + PASSWORD), "account", "session_data")

    async def test_creates_the_default_tree_seen_through_the_views(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        account = shaped(
            ok(await call(client, "view=account"), "account", "account_data")["account_data"], ACCOUNT_DATA
        )

        ewallet = ok(await call(client, "view=credit, credit=ewallet"), "ewallet", "ewallet_data")
        data = shaped(ewallet["ewallet_data"], EWALLET_DATA)
        assert ewallet["ewallet"] == data["id"] == account["ewallet"]
        assert (data["user"], data["reference"], data["credits"]) == (account["id"], "Credit EWallet", 0)
        assert data["clock_archive"] == {str(data["clock"]): "Credit Clock"}
        assert data["transfer_sheet_archive"] == {str(data["transfer_sheet"]): "Transfer Sheet"}
        assert data["invoice_sheet_archive"] == {str(data["invoice_sheet"]): "Invoice Sheet"}

        clock = ok(await call(client, "view=credit, credit=clock"), "clock", "clock_data")
        clock_data = shaped(clock["clock_data"], CLOCK_DATA)
        assert clock["clock"] == clock_data["id"] == data["clock"]
        assert clock_data["ewallet"] == data["id"]
        assert (clock_data["reference"], clock_data["credit_clock"], clock_data["clock_state"]) == (
            "Credit Clock",
            0.0,
            "inactive",
        )
        assert clock_data["time_sheet_archive"] == {str(clock_data["time_sheet"]): "Time Sheet"}
        assert clock_data["conversion_sheet_archive"] == {str(clock_data["conversion_sheet"]): "Conversion Sheet"}

        parents = {"transfer": data, "invoice": data, "time": clock_data, "conversion": clock_data}
        for kind, parent in parents.items():
            sheet = ok(await call(client, f"view={kind}, {kind}=list"), f"{kind}_sheet", "sheet_data")
            sheet_data = shaped(sheet["sheet_data"], sheet_shape(kind))
            assert sheet[f"{kind}_sheet"] == sheet_data["id"] == parent[f"{kind}_sheet"]
            assert sheet_data["reference"] == f"{kind.title()} Sheet"
            assert sheet_data["records"] == {}

        contacts = ok(await call(client, "view=contact, contact=list"), "contact_list", "list_data")
        list_data = shaped(contacts["list_data"], LIST_DATA)
        assert contacts["contact_list"] == list_data["id"] == account["contact_list"]
        assert (list_data["user"], list_data["reference"], list_data["records"]) == (
            account["id"],
            "Contact List",
            {},
        )

    async def test_two_accounts_get_their_own_trees(self, any_server: Running) -> None:
        client = await any_server.session()
        first = (await new_account(client))["account_data"]
        second = (await new_account(client))["account_data"]
        assert second["id"] != first["id"]
        assert set(ids(second["ewallet_archive"])).isdisjoint(ids(first["ewallet_archive"]))
        assert set(ids(second["contact_list_archive"])).isdisjoint(ids(first["contact_list_archive"]))

    @pytest.mark.parametrize(
        "password",
        ["Sh0rt!x", "lettersonly!", "12345678!", "letters1234", "    1a    ", "ÄÖÜäöüß1"],
        ids=["seven-chars", "no-digit", "no-letter", "no-symbol", "spaces-are-no-symbol", "no-symbol-unicode"],
    )
    async def test_refuses_a_weak_password(self, server: Running, password: str) -> None:
        client = await server.session()
        refused(await create(client, user_pass=password), "weak_password")
        ok(await create(client), "account", "account_data")  # nothing was kept of the refused one

    async def test_accepts_the_shortest_and_the_longest_strong_password(self, server: Running) -> None:
        client = await server.session()
        ok(await create(client, user_pass="abcdef1!"), "account", "account_data")
        ok(
            await create(client, user_name="bob", user_email="b@example.com", user_pass="a1!" + "x" * 125),
            "account",
            "account_data",
        )

    async def test_refuses_a_password_longer_than_128_characters(self, server: Running) -> None:
        client = await server.session()
        refused(await create(client, user_pass="a1!" + "x" * 126), "invalid_value")

    @pytest.mark.parametrize("email", ["ALICE@EXAMPLE.COM", "Alice@Example.com"])
    async def test_refuses_a_taken_email_in_any_case(self, server: Running, email: str) -> None:
        client = await server.session()
        ok(await create(client), "account", "account_data")
        refused(await create(client, user_name="other", user_email=email), "already_exists")

    @pytest.mark.parametrize("name", ["alice", "ALICE", "  Alice "])
    async def test_refuses_a_taken_name_in_any_case(self, server: Running, name: str) -> None:
        client = await server.session()
        ok(await create(client), "account", "account_data")
        refused(await create(client, user_name=name, user_email="other@example.com"), "already_exists")

    @pytest.mark.parametrize("name", ["ewallet-system", "EWallet-System"])
    async def test_refuses_the_system_name(self, server: Running, name: str) -> None:
        client = await server.session()
        refused(await create(client, user_name=name), "already_exists")

    @pytest.mark.parametrize("email", ["alice", "alice@", "@example.com", "al ice@example.com", "alice@@example.com"])
    async def test_refuses_an_invalid_email(self, server: Running, email: str) -> None:
        client = await server.session()
        refused(await create(client, user_email=email), "invalid_value")

    async def test_refuses_a_name_with_an_at_sign(self, server: Running) -> None:
        client = await server.session()
        refused(await create(client, user_name="al@ce"), "invalid_value")

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("user_name", "n" * 256),
            ("user_email", "a" * 244 + "@example.com"),
            ("user_alias", "a" * 256),
            ("user_phone", "1" * 33),
        ],
    )
    async def test_refuses_a_too_long_value_instead_of_cutting_it(
        self, server: Running, field: str, value: str
    ) -> None:
        client = await server.session()
        refused(await create(client, **{field: value}), "invalid_value")

    async def test_accepts_a_name_of_exactly_255_characters(self, server: Running) -> None:
        client = await server.session()
        answer = ok(await create(client, user_name="n" * 255), "account", "account_data")
        assert answer["account_data"]["name"] == "n" * 255

    @pytest.mark.parametrize("field", ["user_name", "user_email", "user_alias", "user_phone"])
    async def test_refuses_a_string_empty_after_trimming(self, server: Running, field: str) -> None:
        client = await server.session()
        refused(await create(client, **{field: "   "}), "invalid_value")

    @pytest.mark.parametrize("field", ["user_name", "user_pass", "user_email", "user_phone", "user_alias"])
    async def test_refuses_a_value_that_is_not_a_string(self, server: Running, field: str) -> None:
        client = await server.session()
        for value in (1, 1.5, True, ["x"], {"x": 1}):
            answer = await create(client, **{field: value})
            assert answer.get("code") == "invalid_value", (value, answer)

    @pytest.mark.parametrize("field", ["user_name", "user_pass", "user_email"])
    async def test_refuses_null_for_a_required_string(self, server: Running, field: str) -> None:
        client = await server.session()
        refused(await create(client, **{field: None}), "invalid_value")

    @pytest.mark.parametrize("missing", ["user_name", "user_pass", "user_email"])
    async def test_names_the_missing_required_field(self, server: Running, missing: str) -> None:
        client = await server.session()
        params = {"user_name": "alice", "user_pass": PASSWORD, "user_email": "alice@example.com"}
        del params[missing]
        answer = refused(await call(client, "new=account", **params), "missing_field")
        assert missing in answer["error"]

    async def test_names_the_first_missing_field_in_documented_order(self, server: Running) -> None:
        client = await server.session()
        answer = refused(await call(client, "new=account", user_pass=PASSWORD), "missing_field")
        assert "user_name" in answer["error"]

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.session()
        refused(await create(client, user_age=30), "invalid_value")

    async def test_needs_a_session_token(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="request", request="client_id")
        refused(await create(client, client_id=answer["client_id"]), "unauthorized")


class TestViewAccount:
    async def test_answers_the_email_and_the_account_data_with_exact_keys(self, server: Running) -> None:
        client = await server.user("alice")
        answer = ok(await call(client, "view=account"), "account", "account_data")
        assert answer["account"] == client.email  # type: ignore[attr-defined]
        data = shaped(answer["account_data"], ACCOUNT_DATA)
        assert (data["name"], data["state_code"], data["state_name"]) == ("alice", 1, "LoggedIn")

    async def test_shows_the_active_account_of_this_session(self, server: Running) -> None:
        client = await server.user("alice")
        await new_account(client, name="bob")
        ok(await client.call(action="login", user_name="bob", user_pass=PASSWORD), "account", "session_data")
        assert (await call(client, "view=account"))["account_data"]["name"] == "bob"

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, "view=account", account_id=1), "invalid_value")


class TestViewLoginRecords:
    async def test_answers_the_email_and_one_timestamp_per_successful_login(self, server: Running) -> None:
        client = await server.user("alice")
        server.clock.advance(5)
        refused(await client.call(action="login", user_name="alice", user_pass="Wrong!2345"), "invalid_credentials")
        ok(await client.call(action="login", user_name="alice", user_pass=PASSWORD), "account", "session_data")
        answer = ok(await call(client, "view=login"), "account", "login_records")
        assert answer["account"] == client.email  # type: ignore[attr-defined]
        records = answer["login_records"]
        assert len(records) == 2
        assert all(key.isdigit() for key in records)
        assert all(is_timestamp(value) for value in records.values())
        first, second = records.values()
        assert first != second  # five seconds apart

    async def test_lists_only_the_active_accounts_logins(self, server: Running) -> None:
        client = await server.user("alice")
        await new_account(client, name="bob")
        ok(await client.call(action="login", user_name="bob", user_pass=PASSWORD), "account", "session_data")
        ok(await client.call(action="login", user_name="bob", user_pass=PASSWORD), "account", "session_data")
        assert len((await call(client, "view=login"))["login_records"]) == 2
        ok(await client.call(action="switch", switch="account", account="alice@example.com"), "account", "session_data")
        assert len((await call(client, "view=login"))["login_records"]) == 1

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, "view=login"), "not_logged_in")

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, "view=login", limit=5), "invalid_value")


class TestViewLogoutRecords:
    async def test_starts_empty(self, server: Running) -> None:
        client = await server.user()
        answer = ok(await call(client, "view=logout"), "account", "logout_records")
        assert answer["logout_records"] == {}

    async def test_lists_one_timestamp_per_logout(self, server: Running) -> None:
        client = await server.user("alice")
        for _ in range(2):
            ok(await call(client, "logout"), "account", "session_data")
            server.clock.advance(5)
            ok(await client.call(action="login", user_name="alice", user_pass=PASSWORD), "account", "session_data")
        answer = ok(await call(client, "view=logout"), "account", "logout_records")
        assert answer["account"] == client.email  # type: ignore[attr-defined]
        assert len(answer["logout_records"]) == 2
        assert all(key.isdigit() and is_timestamp(value) for key, value in answer["logout_records"].items())

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, "view=logout"), "not_logged_in")
