"""`ewallet shell` commands for accounts and the objects an account owns, each run as a piped
script against a real server: what the user reads on stdout, and that the server state changed
(checked with the Python client library on a session of its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from ewallet.client import AsyncClient, EWalletError
from tests.client.test_shell import ALICE, WITH_BOB, shell
from tests.support import PASSWORD, Running

NEW_PASSWORD = "Fresh!2345word"


@asynccontextmanager
async def logged_in(
    server: Running, who: str = "alice@example.com", password: str = PASSWORD
) -> AsyncIterator[AsyncClient]:
    """The library, on its own session, logged in as `who`: to see what the shell changed."""
    async with AsyncClient("127.0.0.1", server.port) as client:
        await client.open_session()
        await client.login(who, password)
        yield client


class TestEdit:
    async def test_name_phone_and_alias(self, server: Running) -> None:
        done = await shell(server, *ALICE, "edit name Alice Smith", "edit phone +40 712 345 678", "edit alias ali")
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            "name changed to Alice Smith",
            "phone changed to +40 712 345 678",
            "alias changed to ali",
        ]
        async with logged_in(server) as client:
            data = (await client.view_account())["account_data"]
        assert (data["name"], data["phone"], data["alias"]) == ("Alice Smith", "+40 712 345 678", "ali")

    async def test_email_asks_for_the_current_password(self, server: Running) -> None:
        done = await shell(server, *ALICE, "edit email alice@example.org", PASSWORD, "whoami")
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            "email changed to alice@example.org",
            "alice <alice@example.org> (account 1, LoggedIn)",
        ]
        async with logged_in(server, "alice@example.org") as client:
            assert (await client.view_account())["account"] == "alice@example.org"

    async def test_email_with_a_wrong_password_changes_nothing(self, server: Running) -> None:
        done = await shell(server, *ALICE, "edit email alice@example.org", "Wrong!2345word", "whoami")
        assert done.status == 1
        assert done.err.splitlines() == ["error (invalid_value): user_email: current_pass is wrong"]
        assert done.lines[-1] == "alice <alice@example.com> (account 1, LoggedIn)"

    async def test_an_unknown_field_is_a_usage_error(self, server: Running) -> None:
        done = await shell(server, *ALICE, "edit age 30", "edit name")
        assert done.status == 1
        assert done.err.splitlines() == ["error: usage: edit name|email|phone|alias VALUE"] * 2


class TestPassword:
    async def test_password_changes_it(self, server: Running) -> None:
        done = await shell(server, *ALICE, "password", PASSWORD, NEW_PASSWORD, "logout", f"login alice {NEW_PASSWORD}")
        assert done.status == 0, done.err
        assert done.lines[2:] == ["password changed", "logged out alice@example.com", "logged in as alice@example.com"]
        async with logged_in(server, password=NEW_PASSWORD) as client:
            assert (await client.view_account())["account"] == "alice@example.com"

    async def test_a_wrong_current_password_changes_nothing(self, server: Running) -> None:
        done = await shell(server, *ALICE, "password", "Wrong!2345word", NEW_PASSWORD)
        assert done.status == 1
        assert done.lines[2:] == []
        assert done.err.splitlines() == ["error (invalid_value): user_pass: current_pass is wrong"]
        async with logged_in(server) as client:  # the old password still works
            assert (await client.view_account())["account"] == "alice@example.com"


class TestSwitchAndLogins:
    async def test_switch_by_name_and_email(self, server: Running) -> None:
        done = await shell(
            server, *WITH_BOB, f"login bob {PASSWORD}", "switch alice", "whoami", "switch bob@example.com"
        )
        assert done.status == 0, done.err
        assert done.lines[4:] == [
            "active: alice@example.com (logged in here: bob@example.com, alice@example.com)",
            "alice <alice@example.com> (account 1, LoggedIn)",
            "active: bob@example.com (logged in here: alice@example.com, bob@example.com)",
        ]

    async def test_switch_to_an_account_not_logged_in_here_is_refused(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, "switch bob", "whoami")
        assert done.status == 1
        assert done.err.splitlines()[0].startswith("error (not_found): ")
        assert done.lines[-1] == "alice <alice@example.com> (account 1, LoggedIn)"

    async def test_logins_lists_logins_and_logouts_in_order(self, server: Running) -> None:
        done = await shell(server, *ALICE, "logout", f"login alice {PASSWORD}", "logins")
        assert done.status == 0, done.err
        assert [line.split()[-1] for line in done.lines[4:]] == ["login", "logout", "login"]

    async def test_logins_are_in_time_order_across_months(self, server: Running) -> None:
        server.clock.set(datetime(2026, 1, 30, 12, tzinfo=UTC))
        await shell(server, *ALICE)
        server.clock.set(datetime(2026, 2, 2, 12, tzinfo=UTC))  # "02-02-2026" sorts before "30-01-2026" as text
        done = await shell(server, f"login alice {PASSWORD}", "logins")
        assert done.status == 0, done.err
        assert [line.split()[0] for line in done.lines[1:]] == ["30-01-2026", "02-02-2026"]


class TestCloseAccount:
    async def test_close_account_needs_the_email_typed(self, server: Running) -> None:
        done = await shell(server, *ALICE, "close-account alice", "close-account alice@example.com", "whoami")
        assert done.status == 1
        assert done.lines[2:] == ["account alice@example.com will be deleted; it is logged out everywhere"]
        assert done.err.splitlines()[0] == "error: to close alice@example.com, type: close-account alice@example.com"
        assert done.err.splitlines()[1].startswith("error (not_logged_in): ")
        async with AsyncClient("127.0.0.1", server.port) as client:
            await client.open_session()
            with pytest.raises(EWalletError):
                await client.login("alice@example.com", PASSWORD)

    async def test_an_account_holding_credits_is_not_closed(self, server: Running) -> None:
        done = await shell(server, *ALICE, "supply 5", "close-account alice@example.com", "whoami")
        assert done.status == 1
        assert done.err.splitlines() == ["error (invalid_value): the account still holds credits or clock minutes"]
        assert done.lines[-1] == "alice <alice@example.com> (account 1, LoggedIn)"


class TestEwalletsAndClocks:
    async def test_ewallet_list_new_switch_remove(self, server: Running) -> None:
        done = await shell(server, *ALICE, "ewallet", "ewallet new Savings", "ewallet switch 2", "supply 7", "ewallet")
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            "active ewallet: 1; all: 1 Credit EWallet",
            "new ewallet 2 (Savings); make it active: ewallet switch 2",
            "active ewallet: 2 (Savings), 0 credits",
            "supplied 7; balance 7 credits",
            "active ewallet: 2; all: 1 Credit EWallet, 2 Savings",
        ]
        async with logged_in(server) as client:
            data = (await client.view_credit_ewallet())["ewallet_data"]
            assert (data["id"], data["credits"]) == (2, 7)
        done = await shell(server, f"login alice {PASSWORD}", "ewallet remove 1", "ewallet")
        assert done.status == 0, done.err
        assert done.lines[1:] == ["ewallet 1 removed", "active ewallet: 2; all: 2 Savings"]

    async def test_an_ewallet_of_another_account_is_refused(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, "ewallet switch 2", "ewallet remove 2", "ewallet switch two")
        assert done.status == 1
        assert done.err.splitlines() == [
            "error (forbidden): that credit ewallet belongs to another account",
            "error (forbidden): that credit ewallet belongs to another account",
            "error: not a number: two",
        ]

    async def test_clock_list_new_switch_remove(self, server: Running) -> None:
        done = await shell(server, *ALICE, "clock", "clock new Work", "clock switch 2", "clock remove 1", "clock")
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            "active clock: 1; all: 1 Credit Clock",
            "new clock 2 (Work); make it active: clock switch 2",
            "active clock: 2 (Work), 0.00 minutes",
            "clock 1 removed",
            "active clock: 2; all: 2 Work",
        ]
        async with logged_in(server) as client:
            assert (await client.view_credit_clock())["clock_data"]["id"] == 2

    async def test_a_bad_verb_is_a_usage_error(self, server: Running) -> None:
        done = await shell(server, *ALICE, "clock fly", "ewallet switch")
        assert done.status == 1
        assert done.err.splitlines() == [
            "error: usage: clock [new [REF] | switch ID | remove ID]",
            "error: usage: ewallet [new [REF] | switch ID | remove ID]",
        ]


class TestSheetsAndRecords:
    @pytest.mark.parametrize("kind", ["transfer", "invoice", "time", "conversion"])
    async def test_sheet_show_new_switch_remove(self, server: Running, kind: str) -> None:
        title = kind.capitalize()
        done = await shell(
            server, *ALICE, f"sheet {kind}", f"sheet {kind} new Q3", f"sheet {kind} switch 2", f"sheet {kind} remove 1"
        )
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            f"{kind} sheet 1 ({title} Sheet); records: none",
            f"new {kind} sheet 2; make it active: sheet {kind} switch 2",
            f"active {kind} sheet: 2 (Q3), 0 records",
            f"{kind} sheet 1 removed",
        ]
        async with logged_in(server) as client:
            assert (await client.view_sheet(kind))["sheet_data"]["id"] == 2

    async def test_records_show_and_remove(self, server: Running) -> None:
        done = await shell(server, *ALICE, "supply 10", "sheet transfer", "sheet invoice", "record invoice 1")
        assert done.status == 0, done.err
        transfer_id = int(done.lines[3].rsplit(" ", 1)[1])
        assert done.lines[4] == "invoice sheet 1 (Invoice Sheet); records: 1"
        shown = dict(line.split(": ", 1) for line in done.lines[5:])
        assert (shown["id"], shown["credits"], shown["seller"]) == ("1", "10", "ewallet-system")
        done = await shell(
            server,
            f"login alice {PASSWORD}",
            f"record transfer {transfer_id}",
            f"record transfer {transfer_id} remove",
            "sheet transfer",
        )
        assert done.status == 0, done.err
        assert f"id: {transfer_id}" in done.lines and "credits: 10" in done.lines
        assert done.lines[-2:] == [
            f"transfer record {transfer_id} removed",
            "transfer sheet 1 (Transfer Sheet); records: none",
        ]
        async with logged_in(server) as client:
            assert (await client.view_sheet("transfer"))["sheet_data"]["records"] == {}

    async def test_bad_sheet_and_record_lines(self, server: Running) -> None:
        done = await shell(server, *ALICE, "sheet ledger", "record transfer", "record time 1 delete", "record time 99")
        assert done.status == 1
        errors = done.err.splitlines()
        assert errors[:3] == [
            "error: usage: sheet transfer|invoice|time|conversion [new [REF] | switch ID | remove ID]",
            "error: usage: record transfer|invoice|time|conversion ID [remove]",
            "error: usage: record transfer|invoice|time|conversion ID [remove]",
        ]
        assert errors[3].startswith("error (not_found): ")


class TestContacts:
    async def test_add_show_list_and_remove(self, server: Running) -> None:
        done = await shell(
            server,
            *ALICE,
            "contact add carol carol@example.com 0711",
            "contact add dan",
            "contact show 1",
            "contact remove 2",
            "contacts",
        )
        assert done.status == 0, done.err
        assert done.lines[2:5] == ["contact 1 added to list 1", "contact 2 added to list 1", "id: 1"]
        shown = dict(line.split(": ", 1) for line in done.lines[4:13])
        assert (shown["name"], shown["email"], shown["phone"]) == ("carol", "carol@example.com", "0711")
        assert done.lines[13] == "contact 2 removed"
        assert [line.split() for line in done.lines[16:]] == [["1", "carol", "carol@example.com", "0711"]]
        async with logged_in(server) as client:
            assert list((await client.view_contact_list())["list_data"]["records"]) == ["1"]

    async def test_a_contacts_name_pays_and_switches(self, server: Running) -> None:
        done = await shell(server, *WITH_BOB, "contact add robert bob@example.com", "supply 5", "pay robert 2")
        assert done.status == 0, done.err
        assert done.lines[-1] == "paid 2 to bob@example.com; balance 3 credits"

    async def test_contact_lists(self, server: Running) -> None:
        done = await shell(
            server, *ALICE, "contact list", "contact list new Work", "contact list switch 2", "contact list remove 1"
        )
        assert done.status == 0, done.err
        assert done.lines[2:] == [
            "active contact list: 1; all: 1 Contact List",
            "new contact list 2; make it active: contact list switch 2",
            "active contact list: 2 (Work), 0 contacts",
            "contact list 1 removed",
        ]
        async with logged_in(server) as client:
            assert (await client.view_contact_list())["list_data"]["id"] == 2

    async def test_bad_contact_lines(self, server: Running) -> None:
        done = await shell(server, *ALICE, "contact", "contact add", "contact show", "contact show x", "contact show 9")
        assert done.status == 1
        usage = "error: usage: " + (
            "contact add NAME [EMAIL [PHONE]] | show ID | remove ID | list [new [REF] | switch ID | remove ID]"
        )
        errors = done.err.splitlines()
        assert errors[:4] == [usage, usage, usage, "error: not a number: x"]
        assert errors[4].startswith("error (not_found): ")
