"""A user's whole day over HTTP, once through the generic endpoint and once through the typed
ones with the session's ids in headers; and one session used over TCP and HTTP in turn."""

from __future__ import annotations

from ewallet.clock import ManualClock
from tests.http.helpers import Http, ok, refused
from tests.support import PASSWORD, Running


class TestGenericEndpoint:
    async def test_runs_a_user_flow_with_the_same_answers_as_tcp(self, http: Http, http_server: Running) -> None:
        client_id = ok(await http.instruction(action="request", request="client_id"), "client_id")["client_id"]
        assert client_id.startswith("ewsm-uid:")
        http.client_id = client_id
        token = ok(await http.instruction(action="request", request="session_token"), "session_token")
        http.session_token = token["session_token"]
        assert http.session_token.startswith("ewsm-st:")

        created = await http.instruction(
            action="new", new="account", user_name="Ana", user_pass=PASSWORD, user_email="ana@example.com"
        )
        assert ok(created, "account", "account_data")["account"] == "ana@example.com"
        login = ok(await http.instruction(action="login", user_email="ana@example.com", user_pass=PASSWORD))
        assert login["session_data"]["session_user_account"] == "ana@example.com"

        supplied = ok(await http.instruction(action="supply", supply="credits", credits=100, id="s-1"))
        assert (supplied["supplied_credits"], supplied["ewallet_credits"], supplied["id"]) == (100, 100, "s-1")
        converted = ok(await http.instruction(action="convert", convert="credits2clock", credits=40))
        assert (converted["ewallet_credits"], converted["credit_clock"]) == (60, 40.0)

        started = ok(await http.instruction(action="start", start="clock_timer"), "clock", "start_timestamp")
        http_server.clock.advance(90)
        stopped = ok(await http.instruction(action="stop", stop="clock_timer"))
        assert (stopped["clock"], stopped["minutes_spent"]) == (started["clock"], 1.5)

        clock = ok(await http.instruction(action="view", view="credit", credit="clock"), "clock", "clock_data")
        assert clock["clock_data"]["credit_clock"] == 38.5
        view = ok(await http.instruction(action="view", view="account"), "account", "account_data")
        assert view["account_data"]["state_name"] == "LoggedIn"
        logout = ok(await http.instruction(action="logout"), "account", "session_data")
        assert logout["session_data"]["session_user_account"] is None
        refused(await http.instruction(action="view", view="account"), 401, "not_logged_in")

    async def test_echoes_the_request_id_on_success_and_failure(self, http: Http) -> None:
        assert ok(await http.instruction(action="request", request="client_id", id=7))["id"] == 7
        refused(await http.instruction(action="view", view="account", id="x"), 401, "unauthorized", id="x")


class TestTypedEndpoints:
    async def test_run_a_user_flow_with_credentials_in_headers(self, http_server: Running, clock: ManualClock) -> None:
        async with Http.to(http_server) as ana, Http.to(http_server) as bob:
            ana_email = await ana.new_user("ana")
            bob_email = await bob.new_user("bob")

            supplied = ok(
                await ana.typed("/v1/supply/credits", credits=100, cost=2.5, currency="EUR"),
                "supplied_credits",
                "ewallet_credits",
                "transfer_record",
                "invoice_record",
            )
            assert supplied["ewallet_credits"] == 100

            sent = ok(
                await ana.typed("/v1/transfer/credits", transfer_to=bob_email, credits=30),
                "transfered_to",
                "ewallet_credits",
                "transfered_credits",
                "transfer_record",
            )
            assert (sent["transfered_to"], sent["ewallet_credits"], sent["transfered_credits"]) == (bob_email, 70, 30)
            paid = ok(await ana.typed("/v1/pay", pay=bob_email, credits=5))
            assert (paid["payed"], paid["spent_credits"], paid["ewallet_credits"]) == (bob_email, 5, 65)

            record = ok(await ana.typed("/v1/view/transfer/record", record_id=sent["transfer_record"]))
            assert record["record_data"]["transfer_type"] == "transfer"
            assert (record["record_data"]["transfer_from"], record["record_data"]["transfer_to"]) == (
                ana_email,
                bob_email,
            )
            bob_wallet = ok(await bob.typed("/v1/view/credit/ewallet"), "ewallet", "ewallet_data")
            assert bob_wallet["ewallet_data"]["credits"] == 35

            converted = ok(await bob.typed("/v1/convert/credits2clock", credits=20))
            assert converted["credit_clock"] == 20.0
            ok(await bob.typed("/v1/start/clock-timer"), "clock", "start_timestamp")
            clock.advance(60)
            paused = ok(await bob.typed("/v1/pause/clock-timer"))
            assert paused["pending_count"] == 1
            clock.advance(600)
            live = ok(await bob.typed("/v1/view/clock-timer"))
            assert (live["clock_state"], live["remaining_minutes"], live["pending_minutes"]) == ("pending", 19.0, 10.0)
            ok(await bob.typed("/v1/resume/clock-timer"))
            clock.advance(30)
            stopped = ok(await bob.typed("/v1/stop/clock-timer"))
            assert (stopped["minutes_spent"], stopped["pending_time"]) == (1.5, 10.0)
            time_record = ok(await bob.typed("/v1/view/time/record", record_id=stopped["time_record"]))
            assert time_record["record_data"]["time_spent"] == 1.5

            back = ok(await bob.typed("/v1/convert/clock2credits", minutes=18))
            assert (back["ewallet_credits"], back["credit_clock"]) == (33, 0.5)
            sheet = ok(await bob.typed("/v1/view/conversion/list"), "conversion_sheet", "sheet_data")
            assert len(sheet["sheet_data"]["records"]) == 2
            logins = ok(await bob.typed("/v1/view/login"), "account", "login_records")
            assert len(logins["login_records"]) == 1

            contact = ok(await ana.typed("/v1/new/contact/record", user_name="Bob", user_email=bob_email))
            seen = ok(await ana.typed("/v1/view/contact/record", record_id=contact["contact_record"]))
            assert seen["record_data"]["email"] == bob_email

    async def test_take_ids_from_the_body_when_given_there(self, http: Http) -> None:
        await http.new_user()
        ids = {"client_id": http.client_id, "session_token": http.session_token}
        answer = await http.client.post("/v1/view/account", json=ids)
        assert ok(answer, "account", "account_data")["account_data"]["state_code"] == 1

    async def test_take_the_system_key_from_a_header(self, http: Http) -> None:
        email = await http.new_user()
        supplied = ok(await http.typed("/v1/system/supply/credits", account=email, credits=9))
        assert supplied["ewallet_credits"] == 9
        workers = ok(await http.typed("/v1/system/interogate/workers"), "workers")
        assert len(workers["workers"]) == 1


class TestSessionAcrossTransports:
    async def test_a_session_opened_over_tcp_works_over_http_and_back(self, http_server: Running, http: Http) -> None:
        tcp = await http_server.user()
        http.client_id, http.session_token = tcp.client_id, tcp.session_token

        view = ok(await http.typed("/v1/view/account"), "account", "account_data")
        assert view["account"] == tcp.email  # type: ignore[attr-defined]
        ok(await http.typed("/v1/supply/credits", credits=50))
        ok(await http.instruction(action="new", new="credit", credit="clock", reference="Web Clock"))

        answer = await tcp.call(action="view", view="credit", credit="ewallet")
        assert answer["ewallet_data"]["credits"] == 50
        assert "Web Clock" in answer["ewallet_data"]["clock_archive"].values()
        assert (await tcp.call(action="logout"))["failed"] is False
        refused(await http.typed("/v1/view/account"), 401, "not_logged_in")

    async def test_a_session_opened_over_http_works_over_tcp(self, http_server: Running, http: Http) -> None:
        email = await http.new_user()
        tcp = await http_server.client()
        tcp.client_id, tcp.session_token = http.client_id, http.session_token
        answer = await tcp.call(action="view", view="account")
        assert (answer["failed"], answer["account"]) == (False, email)
        again = await http_server.client()
        answer = await again.call(action="request", request="session_token", client_id=http.client_id)
        assert answer["code"] == "already_mapped"
