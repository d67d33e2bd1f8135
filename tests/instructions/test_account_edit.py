"""Edit account (§7 "Accounts"): each given field is validated and applied on its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import ACCOUNT_DATA, call, shaped
from tests.support import PASSWORD, LineClient, Running, new_account, running_server

EDIT_FLAGS = {"name", "pass", "alias", "email", "phone"}
NOTHING = dict.fromkeys(EDIT_FLAGS, False)


async def edit(client: LineClient, **fields: Any) -> dict[str, Any]:
    return await call(client, "edit=account", **fields)


async def edited(client: LineClient, **fields: Any) -> dict[str, Any]:
    answer = ok(await edit(client, **fields), "account", "edit", "account_data")
    assert set(answer["edit"]) == EDIT_FLAGS
    assert all(type(flag) is bool for flag in answer["edit"].values())
    shaped(answer["account_data"], ACCOUNT_DATA)
    return answer


async def view_account(client: LineClient) -> dict[str, Any]:
    return ok(await call(client, "view=account"), "account", "account_data")["account_data"]


async def can_login(client: LineClient, password: str, **who: Any) -> bool:
    answer = await client.call(action="login", user_pass=password, **who)
    if answer["failed"]:
        assert answer["code"] == "invalid_credentials", answer
    return not answer["failed"]


class TestEditAccount:
    async def test_answers_the_name_after_the_edit_the_flags_and_the_account_data(self, server: Running) -> None:
        client = await server.user("alice")
        answer = await edited(client, user_name="alicia")
        assert answer["account"] == "alicia"
        assert answer["edit"] == NOTHING | {"name": True}
        assert answer["account_data"]["name"] == "alicia"
        assert answer["account_data"] == await view_account(client)

    async def test_applies_name_phone_and_alias_without_the_current_password(self, server: Running) -> None:
        client = await server.user("alice")
        answer = await edited(client, user_name=" alicia ", user_phone=" 0700 ", user_alias=" Al ")
        assert answer["edit"] == NOTHING | {"name": True, "phone": True, "alias": True}
        data = await view_account(client)
        assert (data["name"], data["phone"], data["alias"]) == ("alicia", "0700", "Al")

    async def test_a_new_name_logs_in_and_frees_the_old_one(self, server: Running) -> None:
        client = await server.user("alice")
        await edited(client, user_name="alicia")
        other = await server.session()
        assert await can_login(other, PASSWORD, user_name="ALICIA")
        assert not await can_login(other, PASSWORD, user_name="alice")
        await new_account(other, name="alice", user_email="someone@example.com")

    async def test_may_change_the_case_of_its_own_name(self, server: Running) -> None:
        client = await server.user("alice")
        answer = await edited(client, user_name="Alice")
        assert answer["edit"]["name"] is True
        assert answer["account_data"]["name"] == "Alice"

    async def test_changes_the_password_with_the_current_password(self, server: Running) -> None:
        client = await server.user("alice")
        answer = await edited(client, user_pass="New!pass2", current_pass=PASSWORD)
        assert answer["edit"] == NOTHING | {"pass": True}
        other = await server.session()
        assert not await can_login(other, PASSWORD, user_name="alice")
        assert await can_login(other, "New!pass2", user_name="alice")

    async def test_changes_the_email_with_the_current_password(self, server: Running) -> None:
        client = await server.user("alice")
        answer = await edited(client, user_email=" Alicia@Example.com ", current_pass=PASSWORD)
        assert answer["edit"] == NOTHING | {"email": True}
        assert answer["account_data"]["email"] == "Alicia@Example.com"
        other = await server.session()
        assert await can_login(other, PASSWORD, user_email="alicia@example.com")
        assert not await can_login(other, PASSWORD, user_email="alice@example.com")
        await new_account(other, name="newcomer", user_email="alice@example.com")

    @pytest.mark.parametrize("field", ["user_pass", "user_email"])
    @pytest.mark.parametrize("current", [None, "Wrong!pass1"], ids=["without", "wrong"])
    async def test_does_not_apply_a_password_or_email_without_the_right_current_password(
        self, server: Running, field: str, current: str | None
    ) -> None:
        client = await server.user("alice")
        before = await view_account(client)
        value = {"user_pass": "New!pass2", "user_email": "alicia@example.com"}[field]
        extra = {} if current is None else {"current_pass": current}
        refused(await edit(client, **{field: value}, **extra), "invalid_value")
        answer = await edited(client, **{field: value}, user_alias="Al", **extra)
        assert answer["edit"] == NOTHING | {"alias": True}
        assert answer["account_data"]["email"] == before["email"]
        assert await can_login(await server.session(), PASSWORD, user_name="alice")

    async def test_a_new_password_differs_from_the_current_and_the_two_before_it(self, server: Running) -> None:
        client = await server.user("alice")
        passwords = [PASSWORD, "Second!p2", "Third!pa3", "Fourth!p4"]
        current = PASSWORD
        refused(await edit(client, user_pass=PASSWORD, current_pass=current), "invalid_value")  # the current one
        for new in passwords[1:3]:
            assert (await edited(client, user_pass=new, current_pass=current))["edit"]["pass"] is True
            current = new
        for old in passwords[:3]:  # the current one and the two before it
            refused(await edit(client, user_pass=old, current_pass=current), "invalid_value")
        assert (await edited(client, user_pass=passwords[3], current_pass=current))["edit"]["pass"] is True
        current = passwords[3]
        # the first password is now three changes back: allowed again
        assert (await edited(client, user_pass=PASSWORD, current_pass=current))["edit"]["pass"] is True
        assert await can_login(await server.session(), PASSWORD, user_name="alice")

    @pytest.mark.parametrize("weak", ["short1!", "nodigits!", "nosymbol12"])
    async def test_does_not_apply_a_weak_password(self, server: Running, weak: str) -> None:
        client = await server.user("alice")
        refused(await edit(client, user_pass=weak, current_pass=PASSWORD), "invalid_value")
        answer = await edited(client, user_pass=weak, current_pass=PASSWORD, user_phone="0700")
        assert answer["edit"] == NOTHING | {"phone": True}

    @pytest.mark.parametrize("name", ["bob", "BOB", "ewallet-system", "b@b", "tab\there"])
    async def test_does_not_apply_a_taken_reserved_or_invalid_name(self, server: Running, name: str) -> None:
        await server.user("bob")
        client = await server.user("alice")
        refused(await edit(client, user_name=name), "invalid_value")
        answer = await edited(client, user_name=name, user_alias="Al")
        assert answer["edit"] == NOTHING | {"alias": True}
        assert answer["account"] == "alice"

    @pytest.mark.parametrize("email", ["bob@example.com", "BOB@EXAMPLE.COM", "not-an-email"])
    async def test_does_not_apply_a_taken_or_invalid_email(self, server: Running, email: str) -> None:
        await server.user("bob")
        client = await server.user("alice")
        refused(await edit(client, user_email=email, current_pass=PASSWORD), "invalid_value")
        answer = await edited(client, user_email=email, current_pass=PASSWORD, user_alias="Al")
        assert answer["edit"] == NOTHING | {"alias": True}
        assert answer["account_data"]["email"] == "alice@example.com"

    async def test_moves_write_date_on_change(self, server: Running) -> None:
        client = await server.user("alice")
        before = await view_account(client)
        server.clock.advance(5)
        after = (await edited(client, user_alias="Al"))["account_data"]
        assert after["write_date"] != before["write_date"]
        assert after["create_date"] == before["create_date"]

    async def test_changes_nothing_when_nothing_is_applied(self, server: Running) -> None:
        client = await server.user("alice")
        before = await view_account(client)
        server.clock.advance(5)
        refused(await edit(client, user_pass="New!pass2", user_email="x@example.com"), "invalid_value")
        assert await view_account(client) == before

    @pytest.mark.parametrize("fields", [{}, {"current_pass": PASSWORD}], ids=["empty", "only-current-pass"])
    async def test_refuses_a_request_without_an_editable_field(self, server: Running, fields: dict) -> None:
        client = await server.user()
        refused(await edit(client, **fields), "missing_field")

    @pytest.mark.parametrize(
        "fields",
        [
            {"user_name": "n" * 256},
            {"user_alias": "a" * 256},
            {"user_phone": "1" * 33},
            {"user_email": "a" * 244 + "@example.com", "current_pass": PASSWORD},
            {"user_pass": "a1!" + "x" * 126, "current_pass": PASSWORD},
            {"user_name": "   "},
            {"user_phone": ""},
            {"user_name": 5},
            {"user_alias": True},
            {"user_phone": 700000000},
            {"user_pass": 12345678, "current_pass": PASSWORD},
            {"user_alias": "Al", "current_pass": 1},
            {"user_alias": "Al", "user_age": 30},
        ],
        ids=[
            "long-name",
            "long-alias",
            "long-phone",
            "long-email",
            "long-password",
            "blank-name",
            "empty-phone",
            "int-name",
            "bool-alias",
            "int-phone",
            "int-password",
            "int-current-pass",
            "unknown-key",
        ],
    )
    async def test_refuses_bad_values_and_applies_nothing(self, server: Running, fields: dict) -> None:
        client = await server.user("alice")
        before = await view_account(client)
        refused(await edit(client, **fields), "invalid_value")
        assert await view_account(client) == before

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await edit(client, user_alias="Al"), "not_logged_in")

    async def test_edits_the_active_account_only(self, server: Running) -> None:
        client = await server.user("alice")
        await new_account(client, name="bob")
        ok(await client.call(action="login", user_name="bob", user_pass=PASSWORD), "account", "session_data")
        await edited(client, user_alias="Bobby")
        ok(await call(client, "switch=account", account="alice@example.com"), "account", "session_data")
        assert (await view_account(client))["alias"] is None


WRONG = "Wrong!pass123"


async def login(client: LineClient, password: str = PASSWORD) -> dict[str, Any]:
    return await client.call(action="login", user_name="alice", user_pass=password)


class TestEditThrottle:
    """§11: a password or email change with a wrong current_pass counts as a failed login of the
    account; after the limit such edits are refused rate_limited before the password is checked."""

    async def guess(self, client: LineClient, times: int) -> None:
        for _ in range(times):
            refused(await edit(client, user_email="thief@example.com", current_pass=WRONG), "invalid_value")

    async def test_wrong_guesses_then_even_the_right_password_is_refused_until_the_throttle_passes(
        self, any_server: Running
    ) -> None:
        client = await any_server.user("alice")
        await self.guess(client, 5)
        for password in (WRONG, PASSWORD):
            refused(await edit(client, user_email="thief@example.com", current_pass=password), "rate_limited")
        assert (await view_account(client))["email"] == "alice@example.com"
        any_server.clock.advance(1)
        answer = await edited(client, user_email="thief@example.com", current_pass=PASSWORD)
        assert answer["edit"] == NOTHING | {"email": True}

    async def test_the_failures_are_kept_and_count_for_logins(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        await self.guess(client, 4)
        other = await any_server.session()
        refused(await login(other, WRONG), "invalid_credentials")  # the fifth failure in a row
        refused(await login(other), "rate_limited")
        refused(await edit(client, user_pass="New!pass2", current_pass=PASSWORD), "rate_limited")

    async def test_failed_logins_count_for_edits(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        other = await any_server.session()
        for _ in range(5):
            refused(await login(other, WRONG), "invalid_credentials")
        refused(await edit(client, user_pass="New!pass2", current_pass=PASSWORD), "rate_limited")

    async def test_other_fields_given_alongside_still_apply_and_the_guess_still_counts(
        self, any_server: Running
    ) -> None:
        client = await any_server.user("alice")
        for n in range(5):
            answer = await edited(client, user_pass="New!pass2", current_pass=WRONG, user_alias=f"Al{n}")
            assert answer["edit"] == NOTHING | {"alias": True}
        refused(await login(await any_server.session()), "rate_limited")

    async def test_while_throttled_a_password_edit_applies_nothing(self, server: Running) -> None:
        client = await server.user("alice")
        await self.guess(client, 5)
        before = await view_account(client)
        refused(await edit(client, user_email="a2@example.com", current_pass=PASSWORD, user_alias="Al"), "rate_limited")
        assert await view_account(client) == before

    async def test_while_throttled_edits_that_check_no_password_still_apply(self, server: Running) -> None:
        client = await server.user("alice")
        await self.guess(client, 5)
        assert (await edited(client, user_alias="Al"))["edit"] == NOTHING | {"alias": True}
        answer = refused(await edit(client, user_email="a2@example.com"), "invalid_value")
        assert answer["error"] == "user_email: current_pass is required"

    async def test_the_right_current_password_resets_the_count(self, server: Running) -> None:
        client = await server.user("alice")
        await self.guess(client, 4)
        await edited(client, user_email="alice2@example.com", current_pass=PASSWORD)
        await self.guess(client, 4)
        assert (await edited(client, user_pass="New!pass2", current_pass=PASSWORD))["edit"]["pass"] is True

    async def test_a_missing_current_password_is_not_a_failure(self, server: Running) -> None:
        client = await server.user("alice")
        for _ in range(6):
            refused(await edit(client, user_pass="New!pass2"), "invalid_value")
        ok(await login(await server.session()), "account", "session_data")

    async def test_the_wrong_guesses_count_for_the_address_too(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, peer_login_rate=3, login_failure_limit=100) as running:
            client = await running.user("alice")
            await self.guess(client, 3)
            refused(await login(await running.session()), "rate_limited")
            other = await running.client_from("127.0.0.2")
            await other.open_session()
            ok(await login(other), "account", "session_data")


class TestNothingAppliedSaysWhy:
    """When nothing at all was applied, the invalid_value message names each field and why (§11)."""

    @pytest.mark.parametrize(
        ("fields", "why"),
        [
            ({"user_name": "bob"}, "user_name: is taken"),
            ({"user_name": "EWALLET-SYSTEM"}, "user_name: is taken"),
            ({"user_name": "b@b"}, "user_name: must be printable and must not contain @"),
            ({"user_pass": "New!pass2"}, "user_pass: current_pass is required"),
            ({"user_pass": "New!pass2", "current_pass": WRONG}, "user_pass: current_pass is wrong"),
            (
                {"user_pass": "nodigits!", "current_pass": PASSWORD},
                "user_pass: needs 8 to 128 characters with a letter, a digit and a symbol",
            ),
            (
                {"user_pass": PASSWORD, "current_pass": PASSWORD},
                "user_pass: must differ from the current and the two previous passwords",
            ),
            ({"user_email": "bob@example.com", "current_pass": PASSWORD}, "user_email: is taken"),
            ({"user_email": "not-an-email", "current_pass": PASSWORD}, "user_email: is not a valid email address"),
            ({"user_email": "a2@example.com"}, "user_email: current_pass is required"),
            (
                {"user_name": "bob", "user_pass": "New!pass2", "user_email": "a2@example.com", "current_pass": WRONG},
                "user_name: is taken; user_pass: current_pass is wrong; user_email: current_pass is wrong",
            ),
            (
                {"user_email": "bob@example.com", "user_pass": "nosymbol12", "current_pass": PASSWORD},
                "user_pass: needs 8 to 128 characters with a letter, a digit and a symbol; user_email: is taken",
            ),
        ],
        ids=[
            "name-taken",
            "name-reserved",
            "name-invalid",
            "pass-without-current",
            "pass-wrong-current",
            "pass-weak",
            "pass-reused",
            "email-taken",
            "email-invalid",
            "email-without-current",
            "three-fields",
            "weak-and-taken",
        ],
    )
    async def test_names_each_field_and_the_reason(self, server: Running, fields: dict, why: str) -> None:
        await server.user("bob")
        client = await server.user("alice")
        before = await view_account(client)
        answer = refused(await edit(client, **fields), "invalid_value")
        assert answer["error"] == why
        assert await view_account(client) == before
