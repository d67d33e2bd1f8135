"""The client library (Client and AsyncClient, run through the same tests) against a real server:
one connection reused, the session kept, response data returned, failures raised with the
server's code, raw answers unchanged, and a whole user's day through its methods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ewallet.client import AsyncClient, Client, ConnectionFailed, EWalletError
from tests.client.helpers import OffLoop, closed_port
from tests.support import PASSWORD, SYSTEM_KEY, Running, running_server

Connect = Callable[..., Any]


def make(kind: str, port: int, **options: Any) -> Any:
    if kind == "sync":
        return OffLoop(Client("127.0.0.1", port, **options))
    return AsyncClient("127.0.0.1", port, **options)


@pytest.fixture(params=["sync", "async"])
async def connect(request: pytest.FixtureRequest, server: Running) -> AsyncIterator[Connect]:
    """Opens Client or AsyncClient objects on the test server; closes them all at the end."""
    opened: list[Any] = []

    def open_client(**options: Any) -> Any:
        client = make(request.param, server.port, **options)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        await client.close()


async def registered(client: Any, name: str) -> str:
    """Create an account `name` through `client`; its email."""
    email = f"{name}@example.com"
    await client.create_account(name, PASSWORD, email)
    return email


async def logged_in(connect: Connect, name: str) -> Any:
    client = connect()
    await client.open_session()
    email = await registered(client, name)
    await client.login(email, PASSWORD)
    return client


class TestOneConnection:
    async def test_reuses_one_connection_across_calls(self, connect: Connect, server: Running) -> None:
        client = connect()
        await client.open_session()
        connections = set(server.app.server.connections)
        assert len(connections) == 1
        for _ in range(5):
            await client.request_client_id()
        await registered(client, "alice")
        await client.login("alice", PASSWORD)
        await client.view_account()
        assert set(server.app.server.connections) == connections

    async def test_does_not_connect_before_the_first_call(self, connect: Connect, server: Running) -> None:
        client = connect()
        assert server.app.server.connections == set()
        await client.request_client_id()
        assert len(server.app.server.connections) == 1

    async def test_close_ends_the_connection_and_a_later_call_reconnects(
        self, connect: Connect, server: Running
    ) -> None:
        client = connect()
        await client.request_client_id()
        await client.close()
        for _ in range(100):
            if not server.app.server.connections:
                break
            await asyncio.sleep(0.01)
        assert server.app.server.connections == set()
        assert (await client.request_client_id())["client_id"].startswith("ewsm-uid:")
        assert len(server.app.server.connections) == 1

    async def test_async_calls_on_one_client_never_cross(self, server: Running) -> None:
        async with AsyncClient("127.0.0.1", server.port) as client:
            answers = await asyncio.gather(
                *(
                    client.raw(
                        {
                            "controller": "client",
                            "ctype": "action",
                            "action": "request",
                            "request": "client_id",
                            "id": n,
                        }
                    )
                    for n in range(20)
                )
            )
        assert [answer["id"] for answer in answers] == list(range(20))

    async def test_works_as_a_context_manager(self, server: Running) -> None:
        def blocking() -> str:
            with Client("127.0.0.1", server.port) as client:
                return str(client.request_client_id()["client_id"])

        assert (await asyncio.to_thread(blocking)).startswith("ewsm-uid:")


class TestSession:
    async def test_open_session_keeps_the_client_id_and_token(self, connect: Connect) -> None:
        client = connect()
        assert client.client_id is None and client.session_token is None
        client_id, token = await client.open_session()
        assert client_id.startswith("ewsm-uid:") and token.startswith("ewsm-st:")
        assert (client.client_id, client.session_token) == (client_id, token)

    async def test_later_calls_carry_the_session(self, connect: Connect) -> None:
        client = connect()
        await client.open_session()
        with pytest.raises(EWalletError) as caught:
            await client.view_account()
        assert caught.value.code == "not_logged_in"  # not unauthorized: the ids were sent

    async def test_without_a_session_user_calls_are_unauthorized(self, connect: Connect) -> None:
        with pytest.raises(EWalletError) as caught:
            await connect().view_account()
        assert caught.value.code == "unauthorized"


class TestAnswers:
    async def test_methods_return_the_response_data_without_failed(self, connect: Connect) -> None:
        client = connect()
        await client.open_session()
        created = await client.create_account("alice", PASSWORD, "alice@example.com")
        assert "failed" not in created
        assert created["account"] == "alice@example.com"
        assert created["account_data"]["name"] == "alice"
        login = await client.login("alice@example.com", PASSWORD)
        assert set(login) == {"account", "session_data"}

    async def test_login_by_name_as_well_as_by_email(self, connect: Connect) -> None:
        client = connect()
        await client.open_session()
        await registered(client, "alice")
        assert (await client.login("Alice", PASSWORD))["account"] == "alice@example.com"

    async def test_a_failure_raises_with_the_servers_code_and_message(self, connect: Connect) -> None:
        client = connect()
        await client.open_session()
        email = await registered(client, "alice")
        with pytest.raises(EWalletError) as caught:
            await client.login(email, "Wrong!2345word")
        error = caught.value
        assert error.code == "invalid_credentials"
        assert error.message == error.response["error"] and error.message
        assert error.response["failed"] is True
        assert str(error) == f"invalid_credentials: {error.message}"
        assert "Wrong!2345word" not in str(error)

    async def test_a_domain_failure_changes_nothing_and_the_client_stays_usable(self, connect: Connect) -> None:
        client = await logged_in(connect, "alice")
        await client.supply_credits(10)
        with pytest.raises(EWalletError) as caught:
            await client.convert_credits_to_clock(11)
        assert caught.value.code == "insufficient_credits"
        assert (await client.view_credit_ewallet())["ewallet_data"]["credits"] == 10

    async def test_sheet_kinds_are_checked_before_sending(self, connect: Connect) -> None:
        with pytest.raises(ValueError, match="kind must be one of"):
            await connect().view_sheet("receipts")


class TestRaw:
    async def test_returns_the_servers_object_unchanged(self, connect: Connect) -> None:
        answer = await connect().raw(
            {"controller": "client", "ctype": "action", "action": "request", "request": "client_id", "id": "r-1"}
        )
        assert set(answer) == {"failed", "client_id", "id"}
        assert answer["failed"] is False and answer["id"] == "r-1"

    async def test_returns_a_failure_instead_of_raising(self, connect: Connect) -> None:
        answer = await connect().raw({"controller": "client", "ctype": "action", "action": "explode", "id": 7})
        assert answer == {"failed": True, "error": answer["error"], "code": "unknown_action", "id": 7}

    async def test_adds_nothing_to_the_instruction(self, connect: Connect) -> None:
        client = connect()
        await client.open_session()
        answer = await client.raw({"controller": "client", "ctype": "action", "action": "view", "view": "account"})
        assert answer["code"] == "unauthorized"  # the session's ids were not added

    async def test_shares_the_connection_with_the_methods(self, connect: Connect, server: Running) -> None:
        client = connect()
        await client.open_session()
        await client.raw({"controller": "client", "ctype": "action", "action": "request", "request": "client_id"})
        assert len(server.app.server.connections) == 1


class TestServerDown:
    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_nothing_listening_raises_connection_failed(self, kind: str) -> None:
        port = closed_port()
        client = make(kind, port)
        with pytest.raises(ConnectionFailed) as caught:
            await client.request_client_id()
        assert caught.value.code == "connection_failed"
        assert f"cannot connect to 127.0.0.1:{port}" in caught.value.message
        await client.close()

    @pytest.mark.parametrize("kind", ["sync", "async"])
    async def test_a_server_that_goes_away_raises_connection_failed(self, kind: str, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            client = make(kind, running.port)
            await client.request_client_id()
        with pytest.raises(ConnectionFailed) as caught:
            await client.request_client_id()
        assert f"127.0.0.1:{running.port}" in caught.value.message
        with pytest.raises(ConnectionFailed, match="cannot connect"):
            await client.request_client_id()  # reconnects, finds nobody
        await client.close()

    async def test_connection_failed_is_an_ewallet_error(self) -> None:
        assert issubclass(ConnectionFailed, EWalletError)


class TestAUsersDay:
    async def test_accounts_money_clock_and_views(self, connect: Connect, server: Running) -> None:
        alice = await logged_in(connect, "alice")
        bob = await logged_in(connect, "bob")

        supplied = await alice.supply_credits(100, currency="EUR", cost=12.5, notes="top-up")
        assert supplied["supplied_credits"] == 100 and supplied["ewallet_credits"] == 100
        moved = await alice.transfer("bob@example.com", 30)
        assert moved["transfered_to"] == "bob@example.com" and moved["ewallet_credits"] == 70
        paid = await alice.pay("bob@example.com", 10, notes="lunch")
        assert paid["payed"] == "bob@example.com" and paid["spent_credits"] == 10

        converted = await alice.convert_credits_to_clock(20)
        assert (converted["ewallet_credits"], converted["credit_clock"]) == (40, 20.0)
        back = await alice.convert_clock_to_credits(5.0)
        assert (back["ewallet_credits"], back["credit_clock"]) == (45, 15.0)

        started = await alice.start_timer()
        assert started["clock"] == (await alice.view_credit_clock())["clock"]
        assert (await alice.view_credit_clock())["clock_data"]["clock_state"] == "active"
        server.clock.advance(seconds=60)
        paused = await alice.pause_timer()
        assert paused["pending_count"] == 1
        server.clock.advance(seconds=30)
        live = await alice.view_timer()
        assert (live["clock_state"], live["remaining_minutes"], live["pending_minutes"]) == ("pending", 14.0, 0.5)
        await alice.resume_timer()
        server.clock.advance(seconds=30)
        stopped = await alice.stop_timer()
        assert stopped["minutes_spent"] == 1.5 and stopped["pending_time"] == 0.5
        clock = (await alice.view_credit_clock())["clock_data"]
        assert (clock["credit_clock"], clock["clock_state"]) == (13.5, "inactive")

        sheet = (await alice.view_sheet("transfer"))["sheet_data"]
        records = [(await alice.view_record("transfer", int(rid)))["record_data"] for rid in sheet["records"]]
        assert [(r["transfer_type"], r["credits"]) for r in records] == [
            ("incoming", 100),
            ("transfer", 30),
            ("payment", 10),
        ]
        invoices = (await alice.view_sheet("invoice"))["sheet_data"]["records"]
        assert len(invoices) == 2
        time_records = (await alice.view_sheet("time"))["sheet_data"]["records"]
        (time_id,) = time_records
        assert (await alice.view_record("time", int(time_id)))["record_data"]["time_spent"] == 1.5
        assert len((await alice.view_sheet("conversion"))["sheet_data"]["records"]) == 2

        assert (await bob.view_credit_ewallet())["ewallet_data"]["credits"] == 40
        assert (await alice.view_account())["account_data"]["state_name"] == "LoggedIn"
        assert list((await alice.view_login_records())["login_records"])

    async def test_resources_and_contacts(self, connect: Connect) -> None:
        alice = await logged_in(connect, "alice")
        clock = await alice.new_credit_clock("spare")
        switched = await alice.switch_credit_clock(clock["clock"])
        assert switched["clock_data"]["reference"] == "spare"
        ewallet = await alice.new_credit_ewallet("holiday")
        await alice.switch_credit_ewallet(ewallet["ewallet"])
        first = (await alice.view_account())["account_data"]["ewallet_archive"]
        assert len(first) == 2

        sheet = await alice.new_sheet("invoice", "2026")
        assert (await alice.switch_sheet("invoice", sheet["invoice_sheet"]))["sheet_data"]["reference"] == "2026"

        contact = await alice.new_contact_record("Carol", user_email="carol@example.com", notes="met in Cluj")
        record = (await alice.view_contact_record(contact["contact_record"]))["record_data"]
        assert (record["name"], record["email"], record["notes"]) == ("Carol", "carol@example.com", "met in Cluj")
        listed = (await alice.view_contact_list())["list_data"]["records"]
        assert list(listed) == [str(contact["contact_record"])]
        await alice.unlink_contact_record(contact["contact_record"])
        assert (await alice.view_contact_list())["list_data"]["records"] == {}

        out = await alice.logout()
        assert out["account"] == "alice@example.com"
        assert out["session_data"]["session_user_account"] is None

    async def test_system_methods_with_the_system_key(self, connect: Connect) -> None:
        user = await logged_in(connect, "alice")
        system = connect(system_key=SYSTEM_KEY)
        workers = (await system.interrogate_workers())["workers"]
        assert workers
        session = await system.new_session("ops")
        looked_up = await system.interrogate_session(session["ewallet_session"])
        assert looked_up["ewallet_session"] == session["ewallet_session"]
        supplied = await system.system_supply("alice@example.com", 25, notes="refund")
        assert supplied["ewallet_credits"] == 25
        assert (await user.view_credit_ewallet())["ewallet_data"]["credits"] == 25
        assert (await system.new_worker())["worker"]
        assert "workers_cleaned" in await system.cleanup_workers()
        assert (await system.cleanup_sessions(session_id=session["ewallet_session"]))["sessions_cleaned"] == 1
        assert (await system.cleanup_accounts())["accounts_cleaned"] == 0

    async def test_system_methods_without_the_key_are_refused(self, connect: Connect) -> None:
        with pytest.raises(EWalletError) as caught:
            await connect().interrogate_workers()
        assert caught.value.code == "system_key_required"


class TestHistory:
    async def test_history_follows_the_cursors_to_the_last_page(self, server: Running) -> None:
        with Client("127.0.0.1", server.port) as client:
            await asyncio.to_thread(client.open_session)
            await asyncio.to_thread(client.create_account, "hana", PASSWORD, "hana@example.com")
            await asyncio.to_thread(client.login, "hana", PASSWORD)
            for credits in range(1, 6):
                await asyncio.to_thread(client.supply_credits, credits)
            walked = await asyncio.to_thread(lambda: [r["credits"] for r in client.history("transfer", limit=2)])
            assert walked == [5, 4, 3, 2, 1]
            some = await asyncio.to_thread(lambda: list(client.history("transfer", limit=2, min_credits=4)))
            assert [r["credits"] for r in some] == [5, 4]
            page = await asyncio.to_thread(client.history_page, "invoice", limit=3)
            assert len(page["records"]) == 3 and page["next_cursor"] is not None
            with pytest.raises(EWalletError) as refused:
                await asyncio.to_thread(lambda: list(client.history("invoice", partner="x@example.com")))
            assert refused.value.code == "invalid_value"

    async def test_the_async_history_is_an_async_iterator(self, server: Running) -> None:
        async with AsyncClient("127.0.0.1", server.port) as client:
            await client.open_session()
            await client.create_account("ivo", PASSWORD, "ivo@example.com")
            await client.login("ivo", PASSWORD)
            for credits in range(1, 6):
                await client.supply_credits(credits)
            walked = [record["credits"] async for record in client.history("transfer", limit=2)]
            assert walked == [5, 4, 3, 2, 1]
            assert [record["id"] async for record in client.history("conversion")] == []
