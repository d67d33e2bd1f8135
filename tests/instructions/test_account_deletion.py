"""Unlink account: a deletion order (§7 "Accounts"), refused while the account holds credits,
minutes or a running timer; and the account cleaner (`cleanup=accounts`) that anonymises the
account 30 days later."""

from __future__ import annotations

from typing import Any

from tests.answers import ok, refused
from tests.instructions.expect import call
from tests.money.books import tamper
from tests.support import PASSWORD, LineClient, Running, new_account

DAY = 86400.0


async def login(client: LineClient, password: str = PASSWORD, **who: Any) -> dict[str, Any]:
    return await client.call(action="login", user_pass=password, **who)


async def cleanup(client: LineClient) -> int:
    answer = ok(await client.call(controller="system", action="cleanup", cleanup="accounts"), "accounts_cleaned")
    assert type(answer["accounts_cleaned"]) is int
    return answer["accounts_cleaned"]


class TestUnlinkAccount:
    async def test_answers_the_email(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        answer = ok(await call(client, "unlink=account"), "account")
        assert answer["account"] == "alice@example.com"

    async def test_the_account_leaves_every_sessions_stack(self, any_server: Running) -> None:
        first = await any_server.user("alice")
        second = await any_server.session()
        await new_account(second, name="bob")
        ok(await login(second, user_name="bob"), "account", "session_data")
        ok(await login(second, user_name="alice"), "account", "session_data")
        ok(await call(first, "unlink=account"), "account")
        refused(await call(first, "view=account"), "not_logged_in")
        data = ok(await call(second, "view=account"), "account", "account_data")["account_data"]
        assert data["name"] == "bob"
        answer = ok(await call(second, "switch=account", account="bob@example.com"), "account", "session_data")
        assert answer["session_data"]["session_account_archive"] == {"bob@example.com": "bob"}

    async def test_login_answers_pending_deletion_only_after_a_correct_password(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "unlink=account"), "account")
        refused(await login(client, "Wrong!pass1", user_name="alice"), "invalid_credentials")
        refused(await login(client, user_name="alice"), "account_pending_deletion")
        refused(await login(client, user_email="ALICE@example.com"), "account_pending_deletion")
        refused(await call(client, "view=account"), "not_logged_in")

    async def test_keeps_name_and_email_taken_until_the_cleaner_runs(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "unlink=account"), "account")
        same_name = {"user_name": "ALICE", "user_email": "x@example.com"}
        same_email = {"user_name": "other", "user_email": "Alice@example.com"}
        for taken in (same_name, same_email):
            refused(await call(client, "new=account", user_pass=PASSWORD, **taken), "already_exists")

    async def test_refuses_while_an_ewallet_holds_credits(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "new=credit, credit=ewallet"), "ewallet", "ewallet_data")  # the credits are elsewhere
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        before = ok(await call(client, "view=account"), "account", "account_data")
        refused(await call(client, "unlink=account"), "invalid_value")
        assert ok(await call(client, "view=account"), "account", "account_data") == before
        probe = await any_server.session()
        ok(await login(probe, user_name="alice"), "account", "session_data")

    async def test_refuses_while_a_clock_holds_minutes(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        assert (await call(client, "convert=credits2clock", credits=5))["failed"] is False
        refused(await call(client, "unlink=account"), "invalid_value")
        ok(await call(client, "view=account"), "account", "account_data")

    async def test_refuses_while_a_timer_runs(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        assert (await call(client, "supply=credits", credits=5))["failed"] is False
        assert (await call(client, "convert=credits2clock", credits=5))["failed"] is False
        assert (await call(client, "start=clock_timer"))["failed"] is False
        refused(await call(client, "unlink=account"), "timer_state")
        ok(await call(client, "view=account"), "account", "account_data")

    async def test_refuses_without_a_logged_in_account(self, any_server: Running) -> None:
        client = await any_server.session()
        refused(await call(client, "unlink=account"), "not_logged_in")

    async def test_refuses_an_unknown_key(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        refused(await call(client, "unlink=account", account="alice@example.com"), "invalid_value")
        ok(await call(client, "view=account"), "account", "account_data")


class TestAccountCleaner:
    async def test_leaves_the_account_alone_before_thirty_days(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "unlink=account"), "account")
        any_server.clock.advance(29 * DAY)
        system = await any_server.client()
        assert await cleanup(system) == 0
        probe = await any_server.session()
        refused(await login(probe, user_name="alice"), "account_pending_deletion")

    async def test_anonymises_the_account_after_thirty_days(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "unlink=account"), "account")
        any_server.clock.advance(31 * DAY)
        system = await any_server.client()
        assert await cleanup(system) == 1
        assert await cleanup(system) == 0

        probe = await any_server.session()
        refused(await login(probe, user_name="alice"), "invalid_credentials")
        refused(await login(probe, user_email="alice@example.com"), "invalid_credentials")

    async def test_keeps_the_email_reserved_and_frees_the_name(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        ok(await call(client, "unlink=account"), "account")
        any_server.clock.advance(31 * DAY)
        assert await cleanup(await any_server.client()) == 1

        probe = await any_server.session()
        for email in ("alice@example.com", "ALICE@Example.com"):
            answer = await call(probe, "new=account", user_name="newcomer", user_pass=PASSWORD, user_email=email)
            refused(answer, "already_exists")
        created = await new_account(probe, name="alice", password="Other!pass9", user_email="alice2@example.com")
        assert created["account_data"]["name"] == "alice"
        # the old password opens nothing; the new account's does
        refused(await login(probe, user_name="alice"), "invalid_credentials")
        ok(await login(probe, "Other!pass9", user_name="alice"), "account", "session_data")

    async def test_hides_everything_the_account_owned(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        account = ok(await call(alice, "view=account"), "account", "account_data")["account_data"]
        clock = ok(await call(alice, "view=credit, credit=clock"), "clock", "clock_data")["clock"]
        bob = await any_server.user("bob")
        refused(await call(bob, "switch=credit, credit=ewallet", ewallet_id=account["ewallet"]), "forbidden")
        ok(await call(alice, "unlink=account"), "account")
        any_server.clock.advance(31 * DAY)
        assert await cleanup(await any_server.client()) == 1

        probe = await any_server.session()
        await new_account(probe, name="carol")
        ok(await login(probe, user_name="carol"), "account", "session_data")
        refused(await call(probe, "switch=credit, credit=ewallet", ewallet_id=account["ewallet"]), "not_found")
        refused(await call(probe, "switch=credit, credit=clock", clock_id=clock), "not_found")
        refused(await call(probe, "switch=contact_list", list_id=account["contact_list"]), "not_found")

    async def test_needs_the_system_key(self, any_server: Running) -> None:
        client = await any_server.client()
        answer = await client.call(controller="system", action="cleanup", cleanup="accounts", system_key="x" * 40)
        refused(answer, "system_key_required")


class TestCleanerCannotBeBlocked:
    """§11: the anonymised name cannot be registered first, and one account that cannot be
    cleaned never blocks the others (before: `conflict` on every run, for good)."""

    async def test_cleans_an_account_whose_old_placeholder_name_was_registered_first(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        alice_id = ok(await call(alice, "view=account"), "account", "account_data")["account_data"]["id"]
        ok(await call(alice, "unlink=account"), "account")
        squatter = await any_server.session()
        await new_account(squatter, name=f"deleted-account-{alice_id}", user_email="squat@example.com")
        refused(
            await call(
                squatter,
                "new=account",
                user_name=f"@deleted-account-{alice_id}",
                user_pass=PASSWORD,
                user_email="squat2@example.com",
            ),
            "invalid_value",
        )
        any_server.clock.advance(31 * DAY)
        system = await any_server.client()
        assert await cleanup(system) == 1
        assert await cleanup(system) == 0
        probe = await any_server.session()
        ok(await login(probe, user_name=f"deleted-account-{alice_id}"), "account", "session_data")

    async def test_cleans_the_others_when_one_account_cannot_be_cleaned(self, any_server: Running) -> None:
        doomed = [await any_server.user(name) for name in ("first", "second", "third")]
        views = [await call(client, "view=credit, credit=ewallet") for client in doomed]
        wallets = [ok(view, "ewallet", "ewallet_data")["ewallet"] for view in views]
        for client in doomed:
            ok(await call(client, "unlink=account"), "account")
        # Damage: credits that arrived on the second account after its deletion order. Hiding
        # them would lose them, so the cleaner must pass that account over, not fail the run.
        tamper(any_server.app.engine, "UPDATE credit_ewallets SET credits = 5 WHERE id = :id", id=wallets[1])
        any_server.clock.advance(31 * DAY)
        system = await any_server.client()
        assert await cleanup(system) == 2
        assert await cleanup(system) == 0
        probe = await any_server.session()
        refused(await login(probe, user_name="second"), "account_pending_deletion")
        for name in ("first", "third"):
            refused(await login(probe, user_name=name), "invalid_credentials")
