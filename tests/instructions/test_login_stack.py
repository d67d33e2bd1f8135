"""Login, logout and switch account: the per-session login stack of §5.6, the login state, and
login throttling as §7 "Accounts" describes it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import ACCOUNT_DATA, SESSION_DATA, call, shaped
from tests.instructions.storage import login_state
from tests.support import PASSWORD, LineClient, Running, new_account

WRONG = "Wrong!pass123"
DAY = 86400


async def login(client: LineClient, password: str = PASSWORD, **who: Any) -> dict[str, Any]:
    return await client.call(action="login", user_pass=password, **who)


async def logged_in(client: LineClient, **who: Any) -> dict[str, Any]:
    return ok(await login(client, **who), "account", "session_data")["session_data"]


async def view_account(client: LineClient) -> dict[str, Any]:
    return ok(await call(client, "view=account"), "account", "account_data")["account_data"]


def stack_of(session_data: dict[str, Any]) -> list[str]:
    return list(session_data["session_account_archive"])


class TestLogin:
    async def test_answers_the_email_and_the_session_data_with_exact_keys(self, server: Running) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        answer = ok(await login(client, user_email="alice@example.com"), "account", "session_data")
        assert answer["account"] == "alice@example.com"
        data = shaped(answer["session_data"], SESSION_DATA)
        account = await view_account(client)
        assert data == {
            "session_user_account": "alice@example.com",
            "session_credit_ewallet": account["ewallet"],
            "session_contact_list": account["contact_list"],
            "session_account_archive": {"alice@example.com": "alice"},
        }

    @pytest.mark.parametrize(
        "who", [{"user_email": "ALICE@Example.COM"}, {"user_name": "ALICE"}, {"user_name": "Alice"}]
    )
    async def test_finds_the_account_by_email_or_by_name_ignoring_case(self, server: Running, who: dict) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        answer = ok(await login(client, **who), "account", "session_data")
        assert answer["account"] == "alice@example.com"

    async def test_makes_the_account_logged_in(self, server: Running) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        await logged_in(client, user_name="alice")
        data = shaped(await view_account(client), ACCOUNT_DATA)
        assert (data["state_code"], data["state_name"]) == (1, "LoggedIn")

    async def test_refuses_both_an_email_and_a_name(self, server: Running) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        refused(await login(client, user_email="alice@example.com", user_name="alice"), "invalid_value")

    async def test_refuses_neither_an_email_nor_a_name(self, server: Running) -> None:
        client = await server.session()
        refused(await login(client), "missing_field")

    async def test_refuses_a_missing_password(self, server: Running) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        refused(await client.call(action="login", user_name="alice"), "missing_field")

    @pytest.mark.parametrize(
        "params",
        [
            {"user_name": 1, "user_pass": PASSWORD},
            {"user_email": True, "user_pass": PASSWORD},
            {"user_name": "alice", "user_pass": 12345678},
            {"user_name": "alice", "user_pass": PASSWORD, "remember": True},
        ],
        ids=["int-name", "bool-email", "int-password", "unknown-key"],
    )
    async def test_refuses_bad_values(self, server: Running, params: dict) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        refused(await client.call(action="login", **params), "invalid_value")

    async def test_answers_invalid_credentials_for_a_wrong_password_and_an_unknown_account(
        self, server: Running
    ) -> None:
        client = await server.session()
        await new_account(client, name="alice")
        wrong = refused(await login(client, WRONG, user_name="alice"), "invalid_credentials")
        unknown = refused(await login(client, user_name="nobody"), "invalid_credentials")
        assert wrong["error"] == unknown["error"]
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_needs_a_session_token(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="request", request="client_id")
        refused(await login(client, user_name="alice", client_id=answer["client_id"]), "unauthorized")

    async def test_moves_the_account_to_the_top_without_duplicates(self, server: Running) -> None:
        client = await server.session()
        for name in ("alice", "bob", "carol"):
            await new_account(client, name=name)
            await logged_in(client, user_name=name)
        data = await logged_in(client, user_name="alice")
        assert stack_of(data) == ["bob@example.com", "carol@example.com", "alice@example.com"]
        assert data["session_user_account"] == "alice@example.com"
        assert (await view_account(client))["name"] == "alice"

    async def test_rechecks_the_password_of_an_account_already_on_the_stack(self, server: Running) -> None:
        client = await server.session()
        for name in ("alice", "bob"):
            await new_account(client, name=name)
            await logged_in(client, user_name=name)
        refused(await login(client, WRONG, user_name="alice"), "invalid_credentials")
        assert (await view_account(client))["name"] == "bob"

    async def test_moves_write_date_only_when_the_login_state_changes(self, server: Running) -> None:
        first = await server.user("alice")
        logged_in_at = (await view_account(first))["write_date"]
        server.clock.advance(5)
        second = await server.session()
        await logged_in(second, user_name="alice")  # already logged in on the first session
        assert (await view_account(second))["write_date"] == logged_in_at

    async def test_moves_write_date_when_an_account_logs_in(self, server: Running) -> None:
        client = await server.session()
        created = (await new_account(client, name="alice"))["account_data"]
        server.clock.advance(5)
        await logged_in(client, user_name="alice")
        data = await view_account(client)
        assert data["write_date"] != created["write_date"]
        assert data["create_date"] == created["create_date"]


class TestLoginThrottling:
    """Five consecutive failures of one account: refused with rate_limited for 1 s x 2^(n-5),
    capped at 15 minutes, before the password is checked; a success resets the count."""

    async def fail(self, client: LineClient, times: int, name: str = "alice") -> None:
        for _ in range(times):
            refused(await login(client, WRONG, user_name=name), "invalid_credentials")

    async def test_refuses_even_the_right_password_after_five_failures(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        refused(await login(client, user_name="alice"), "rate_limited")
        refused(await login(client, user_email="alice@example.com"), "rate_limited")
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_four_failures_do_not_throttle(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 4)
        await logged_in(client, user_name="alice")

    async def test_lets_the_right_password_in_after_one_second(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        any_server.clock.advance(0.9)
        refused(await login(client, user_name="alice"), "rate_limited")
        any_server.clock.advance(0.1)
        await logged_in(client, user_name="alice")

    async def test_doubles_the_wait_with_each_further_failure(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        for n in (6, 7, 8):
            any_server.clock.advance(2 ** (n - 6))  # the wait the previous failure set
            await self.fail(client, 1)  # failure n
            any_server.clock.advance(2 ** (n - 5) - 0.5)
            refused(await login(client, user_name="alice"), "rate_limited")
        any_server.clock.advance(0.5)
        await logged_in(client, user_name="alice")

    async def test_the_refusal_says_how_long_to_wait(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        answer = refused(await login(client, user_name="alice"), "rate_limited")
        assert answer["error"].endswith("try again in 1 s")
        any_server.clock.advance(1)
        await self.fail(client, 1)  # the sixth failure: 2 s now
        any_server.clock.advance(0.5)
        answer = refused(await login(client, user_name="alice"), "rate_limited")
        assert answer["error"].endswith("try again in 2 s")  # 1.5 s rounded up: never too early

    async def test_caps_the_wait_at_fifteen_minutes(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        for n in range(6, 16):  # failure 15 would wait 2^10 s = 1024 s without the cap
            any_server.clock.advance(min(2 ** (n - 6), 900))
            await self.fail(client, 1)
        any_server.clock.advance(899)
        refused(await login(client, user_name="alice"), "rate_limited")
        any_server.clock.advance(1)
        await logged_in(client, user_name="alice")

    async def test_attempts_while_throttled_do_not_count_as_failures(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 5)
        for _ in range(3):
            refused(await login(client, WRONG, user_name="alice"), "rate_limited")
        any_server.clock.advance(1)
        await logged_in(client, user_name="alice")

    async def test_a_success_resets_the_count(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 4)
        await logged_in(client, user_name="alice")
        await self.fail(client, 4)  # eight failures in all, but never five in a row
        await logged_in(client, user_name="alice")
        await self.fail(client, 5)
        refused(await login(client, user_name="alice"), "rate_limited")

    async def test_throttles_only_the_account_that_failed(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await new_account(client, name="bob")
        await self.fail(client, 5)
        await logged_in(client, user_name="bob")

    async def test_failed_logins_are_not_login_records(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        await self.fail(client, 3)
        await logged_in(client, user_name="alice")
        answer = ok(await call(client, "view=login"), "account", "login_records")
        assert len(answer["login_records"]) == 1


class TestLogout:
    async def test_answers_the_email_logged_out_and_the_session_data_after(self, server: Running) -> None:
        client = await server.user("alice")
        answer = ok(await call(client, "logout"), "account", "session_data")
        assert answer["account"] == "alice@example.com"
        assert shaped(answer["session_data"], SESSION_DATA) == {
            "session_user_account": None,
            "session_credit_ewallet": None,
            "session_contact_list": None,
            "session_account_archive": {},
        }
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_pops_the_top_and_the_next_one_becomes_active(self, server: Running) -> None:
        client = await server.session()
        for name in ("alice", "bob"):
            await new_account(client, name=name)
            await logged_in(client, user_name=name)
        alice = await logged_in(client, user_name="alice")
        answer = ok(await call(client, "logout"), "account", "session_data")
        assert answer["account"] == "alice@example.com"
        assert stack_of(answer["session_data"]) == ["bob@example.com"]
        assert answer["session_data"]["session_user_account"] == "bob@example.com"
        assert answer["session_data"]["session_credit_ewallet"] != alice["session_credit_ewallet"]
        assert (await view_account(client))["name"] == "bob"

    async def test_writes_a_logout_record(self, server: Running) -> None:
        client = await server.user("alice")
        ok(await call(client, "logout"), "account", "session_data")
        await logged_in(client, user_name="alice")
        assert len((await call(client, "view=logout"))["logout_records"]) == 1

    async def test_refuses_when_nobody_is_logged_in(self, server: Running) -> None:
        client = await server.user()
        ok(await call(client, "logout"), "account", "session_data")
        refused(await call(client, "logout"), "not_logged_in")

    async def test_leaves_the_account_on_other_sessions(self, server: Running) -> None:
        first = await server.user("alice")
        second = await server.session()
        await logged_in(second, user_name="alice")
        ok(await call(first, "logout"), "account", "session_data")
        data = await view_account(second)
        assert (data["state_code"], data["state_name"]) == (1, "LoggedIn")

    async def test_refuses_an_unknown_key(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, "logout", account="alice@example.com"), "invalid_value")


class TestSwitchAccount:
    async def test_makes_a_stacked_account_active(self, server: Running) -> None:
        client = await server.session()
        for name in ("alice", "bob", "carol"):
            await new_account(client, name=name)
            await logged_in(client, user_name=name)
        answer = ok(await call(client, "switch=account", account="alice@example.com"), "account", "session_data")
        assert answer["account"] == "alice@example.com"
        data = shaped(answer["session_data"], SESSION_DATA)
        assert stack_of(data) == ["bob@example.com", "carol@example.com", "alice@example.com"]
        assert data["session_user_account"] == "alice@example.com"
        assert (await view_account(client))["name"] == "alice"
        # and logout now pops alice, leaving carol on top
        answer = ok(await call(client, "logout"), "account", "session_data")
        assert answer["session_data"]["session_user_account"] == "carol@example.com"

    async def test_compares_the_email_ignoring_case(self, server: Running) -> None:
        client = await server.session()
        for name in ("alice", "bob"):
            await new_account(client, name=name)
            await logged_in(client, user_name=name)
        answer = ok(await call(client, "switch=account", account="ALICE@example.com"), "account", "session_data")
        assert answer["session_data"]["session_user_account"] == "alice@example.com"

    async def test_switching_to_the_active_account_changes_nothing(self, server: Running) -> None:
        client = await server.user("alice")
        before = await view_account(client)
        server.clock.advance(5)
        answer = ok(await call(client, "switch=account", account="alice@example.com"), "account", "session_data")
        assert stack_of(answer["session_data"]) == ["alice@example.com"]
        assert await view_account(client) == before

    async def test_refuses_an_account_not_on_this_sessions_stack(self, server: Running) -> None:
        client = await server.user("alice")
        other = await server.user("bob")
        refused(await call(client, "switch=account", account="bob@example.com"), "not_found")
        refused(await call(client, "switch=account", account="nobody@example.com"), "not_found")
        assert (await view_account(client))["name"] == "alice"
        assert (await view_account(other))["name"] == "bob"

    async def test_refuses_a_missing_account(self, server: Running) -> None:
        client = await server.user()
        refused(await call(client, "switch=account"), "missing_field")

    @pytest.mark.parametrize("value", [1, True, None, "", "   ", "x" * 256])
    async def test_refuses_bad_values(self, server: Running, value: object) -> None:
        client = await server.user()
        refused(await call(client, "switch=account", account=value), "invalid_value")

    async def test_refuses_without_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await call(client, "switch=account", account="alice@example.com"), "not_logged_in")


class TestLoginState:
    """state_code/state_name: 1/LoggedIn while the account is on a live session's stack."""

    async def test_is_logged_out_after_logout_from_every_session(self, server: Running) -> None:
        first = await server.user("alice")
        second = await server.session()
        await logged_in(second, user_name="alice")
        ok(await call(first, "logout"), "account", "session_data")
        assert login_state(server, "alice@example.com") == (1, "LoggedIn")
        ok(await call(second, "logout"), "account", "session_data")
        assert login_state(server, "alice@example.com") == (0, "LoggedOut")

    async def test_logout_from_the_last_session_moves_write_date(self, server: Running) -> None:
        first = await server.user("alice")
        second = await server.session()
        await logged_in(second, user_name="alice")
        logged_in_at = (await view_account(first))["write_date"]
        server.clock.advance(5)
        ok(await call(first, "logout"), "account", "session_data")  # still on the second stack
        assert (await view_account(second))["write_date"] == logged_in_at
        server.clock.advance(5)
        ok(await call(second, "logout"), "account", "session_data")
        server.clock.advance(5)
        await logged_in(second, user_name="alice")
        assert (await view_account(second))["write_date"] != logged_in_at

    async def test_is_logged_out_once_the_session_expires(self, server: Running) -> None:
        client = await server.user("alice")
        logged_in_at = (await view_account(client))["write_date"]
        server.clock.advance(DAY - 1)
        assert login_state(server, "alice@example.com") == (1, "LoggedIn")
        server.clock.advance(2)
        refused(await call(client, "view=account"), "unauthorized")
        assert login_state(server, "alice@example.com") == (0, "LoggedOut")
        # logging in again is a change of login state: write_date moves
        fresh = await server.session()
        await logged_in(fresh, user_name="alice")
        data = await view_account(fresh)
        assert (data["state_code"], data["state_name"]) == (1, "LoggedIn")
        assert data["write_date"] != logged_in_at

    async def test_an_expired_session_does_not_keep_the_account_logged_in(self, server: Running) -> None:
        short = await server.session()
        await new_account(short, name="alice")
        await logged_in(short, user_name="alice")
        server.clock.advance(DAY - 10)
        long = await server.session()  # created later, so it outlives the first
        await logged_in(long, user_name="alice")
        server.clock.advance(20)
        refused(await call(short, "view=account"), "unauthorized")
        assert login_state(server, "alice@example.com") == (1, "LoggedIn")
        ok(await call(long, "logout"), "account", "session_data")
        assert login_state(server, "alice@example.com") == (0, "LoggedOut")
