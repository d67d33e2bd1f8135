"""Every error code the API can produce, answered with its HTTP status (issue 6's table) and a
body of exactly {failed, error, code} (+ id when given): no stack trace, no HTML."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ewallet import __version__
from tests.http.helpers import Http, ok, refused
from tests.support import PASSWORD, Running, running_server

ONE_DAY = 24 * 3600


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent chunked, with no Content-Length to refuse it by."""
    yield b'{"pad": "'
    for _ in range(size // 4096 + 1):
        yield b"x" * 4096
    yield b'"}'


class TestRequestErrors:
    async def test_invalid_json_is_400(self, http: Http, raw_http: httpx.AsyncClient) -> None:
        refused(await raw_http.post("/ewallet/instruction-set", content=b'{"controller": '), 400, "invalid_json")
        refused(await raw_http.post("/v1/request/client-id", content=b"{nope"), 400, "invalid_json")
        refused(await raw_http.post("/v1/request/client-id", content=b'{"a": NaN}'), 400, "invalid_json")

    async def test_invalid_instruction_is_400(self, http: Http, raw_http: httpx.AsyncClient) -> None:
        refused(await raw_http.post("/ewallet/instruction-set", json=[1, 2]), 400, "invalid_instruction")
        refused(await http.instruction(ctype="question", action="view"), 400, "invalid_instruction")
        refused(await raw_http.post("/v1/request/client-id", json=["a"]), 400, "invalid_instruction")

    async def test_unknown_action_is_400(self, http: Http) -> None:
        refused(await http.instruction(action="fly", id=3), 400, "unknown_action", id=3)
        refused(await http.instruction(action="view", view="spaceship"), 400, "unknown_action")

    async def test_missing_field_and_invalid_value_are_400(self, http: Http) -> None:
        await http.new_user()
        refused(await http.typed("/v1/supply/credits"), 400, "missing_field")
        refused(await http.typed("/v1/supply/credits", credits=0), 400, "invalid_value")
        refused(await http.typed("/v1/supply/credits", credits="5"), 400, "invalid_value")
        refused(await http.typed("/v1/supply/credits", credits=5, surprise=1), 400, "invalid_value")

    async def test_weak_password_is_400(self, http: Http) -> None:
        await http.open_session()
        answer = await http.typed("/v1/new/account", user_name="weak", user_pass="password", user_email="w@example.com")
        refused(answer, 400, "weak_password")

    async def test_frame_too_large_is_413_by_content_length_and_by_stream(self, raw_http: httpx.AsyncClient) -> None:
        big = json.dumps({"controller": "client", "pad": "x" * 70_000}).encode()
        refused(await raw_http.post("/ewallet/instruction-set", content=big), 413, "frame_too_large")
        refused(await raw_http.post("/v1/request/client-id", content=big), 413, "frame_too_large")
        streamed = await raw_http.post("/ewallet/instruction-set", content=chunks(70_000))
        assert "content-length" not in streamed.request.headers
        refused(streamed, 413, "frame_too_large")
        # The server is still fine after refusing.
        ok(await raw_http.post("/v1/request/client-id"))


class TestAuthErrors:
    async def test_unauthorized_is_401(self, http: Http) -> None:
        refused(await http.typed("/v1/view/account"), 401, "unauthorized")
        refused(
            await http.typed("/v1/request/session-token", {"X-EWallet-Client-Id": "ewsm-uid:nope"}), 401, "unauthorized"
        )
        await http.open_session()
        refused(await http.typed("/v1/view/account", {"Authorization": "Bearer ewsm-st:forged"}), 401, "unauthorized")

    async def test_system_key_required_is_401(self, http: Http) -> None:
        refused(
            await http.typed("/v1/system/new/worker", {"X-EWallet-System-Key": "wrong"}), 401, "system_key_required"
        )
        refused(await http.client.post("/v1/system/interogate/workers"), 401, "system_key_required")

    async def test_not_logged_in_is_401(self, http: Http) -> None:
        await http.open_session()
        refused(await http.typed("/v1/view/credit/ewallet"), 401, "not_logged_in")

    async def test_invalid_credentials_is_401(self, http: Http) -> None:
        email = await http.new_user()
        refused(await http.typed("/v1/login", user_email=email, user_pass=PASSWORD + "x"), 401, "invalid_credentials")


class TestAccessErrors:
    async def test_forbidden_is_403_and_not_found_is_404(self, http_server: Running) -> None:
        async with Http.to(http_server) as ana, Http.to(http_server) as bob:
            await ana.new_user()
            await bob.new_user()
            record = ok(await ana.typed("/v1/supply/credits", credits=3))["transfer_record"]
            refused(await bob.typed("/v1/view/transfer/record", record_id=record), 403, "forbidden")
            refused(await ana.typed("/v1/view/transfer/record", record_id=10**9), 404, "not_found")
            refused(
                await ana.typed("/v1/transfer/credits", transfer_to="nobody@example.com", credits=1), 404, "not_found"
            )
            refused(await bob.typed("/v1/system/interogate/session", session_id=10**9), 404, "not_found")

    async def test_account_pending_deletion_is_403(self, http: Http) -> None:
        email = await http.new_user()
        ok(await http.typed("/v1/unlink/account"), "account")
        refused(await http.typed("/v1/login", user_email=email, user_pass=PASSWORD), 403, "account_pending_deletion")


class TestConflicts:
    async def test_already_exists_and_already_mapped_are_409(self, http: Http) -> None:
        email = await http.new_user("taken")
        again = await http.typed("/v1/new/account", user_name="other", user_pass=PASSWORD, user_email=email)
        refused(again, 409, "already_exists")
        refused(await http.typed("/v1/request/session-token"), 409, "already_mapped")

    async def test_a_reused_idempotency_key_is_409_conflict(self, http: Http) -> None:
        await http.new_user()
        ok(await http.typed("/v1/supply/credits", credits=5, idempotency_key="k1"))
        refused(await http.typed("/v1/supply/credits", credits=6, idempotency_key="k1"), 409, "conflict")

    async def test_balance_timer_and_last_resource_rules_are_409(self, http: Http) -> None:
        await http.new_user()
        refused(await http.typed("/v1/convert/credits2clock", credits=1), 409, "insufficient_credits")
        refused(await http.typed("/v1/convert/clock2credits", minutes=1), 409, "insufficient_clock")
        refused(await http.typed("/v1/start/clock-timer"), 409, "insufficient_clock")
        refused(await http.typed("/v1/stop/clock-timer"), 409, "timer_state")
        only = ok(await http.typed("/v1/view/contact/list"))["contact_list"]
        refused(await http.typed("/v1/unlink/contact/list", list_id=only), 409, "last_resource")


class TestLimits:
    async def test_rate_limited_is_429(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0, anon_rate=2) as running, Http.to(running) as http:
            for _ in range(2):
                ok(await http.typed("/v1/request/client-id"))
            refused(await http.typed("/v1/request/client-id"), 429, "rate_limited")

    async def test_the_anonymous_limit_counts_tcp_and_http_requests_of_one_address_together(
        self, sqlite_url: str
    ) -> None:
        async with running_server(sqlite_url, http_port=0, anon_rate=2) as running, Http.to(running) as http:
            tcp = await running.client()
            assert (await tcp.call(action="request", request="client_id"))["failed"] is False
            ok(await http.typed("/v1/request/client-id"))
            refused(await http.typed("/v1/request/client-id"), 429, "rate_limited")

    async def test_capacity_is_503(self, sqlite_url: str) -> None:
        limits = {"http_port": 0, "session_limit": 1, "worker_limit": 1}
        async with (
            running_server(sqlite_url, **limits) as running,
            Http.to(running) as first,
            Http.to(running) as second,
        ):
            await first.open_session()
            second.client_id = ok(await second.typed("/v1/request/client-id"))["client_id"]
            refused(await second.typed("/v1/request/session-token"), 503, "capacity")


class TestInternalErrors:
    async def test_an_unexpected_error_in_an_instruction_is_500_with_a_reference_only(
        self, http: Http, http_server: Running, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await http.new_user()

        def broken() -> None:
            raise RuntimeError("secret detail")

        monkeypatch.setattr(http_server.clock, "now", broken)
        body = refused(await http.typed("/v1/view/account"), 500, "internal_error")
        assert "secret" not in body["error"] and "reference" in body["error"]

    async def test_an_unexpected_error_in_the_http_face_is_500_without_details(
        self, http: Http, http_server: Running, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def broken(*_: object) -> None:
            raise RuntimeError("secret detail")

        monkeypatch.setattr(http_server.app.scheduler, "run", broken)
        body = refused(await http.typed("/v1/request/client-id"), 500, "internal_error")
        assert "secret" not in body["error"] and "reference" in body["error"]


class TestHttpShape:
    async def test_unknown_paths_and_wrong_methods_answer_json(self, raw_http: httpx.AsyncClient) -> None:
        refused(await raw_http.get("/nowhere"), 404, "unknown_action")
        refused(await raw_http.post("/v1/fly/away", json={}), 404, "unknown_action")
        refused(await raw_http.get("/v1/supply/credits"), 405, "unknown_action")
        refused(await raw_http.put("/ewallet/instruction-set", json={}), 405, "unknown_action")
        refused(await raw_http.post("/health"), 405, "unknown_action")

    async def test_keep_alive_answers_do_not_wait_for_a_delayed_ack(self, raw_http: httpx.AsyncClient) -> None:
        # Without TCP_NODELAY each answer on a kept-alive connection (headers and body written
        # separately) waited ~40 ms for the client's delayed ACK: 20 requests took 0.8 s or more.
        # The median, not the total: a busy machine may stall one request, never most of them.
        took = []
        for _ in range(20):
            started = time.perf_counter()
            assert (await raw_http.get("/health")).status_code == 200
            took.append(time.perf_counter() - started)
        assert statistics.median(took) < 0.025, took

    async def test_health_reports_the_version_and_the_database(self, raw_http: httpx.AsyncClient) -> None:
        answer = await raw_http.get("/health")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": "ok", "version": __version__}

    async def test_health_is_503_when_the_database_is_unreachable(
        self, raw_http: httpx.AsyncClient, http_server: Running, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def unreachable() -> None:
            raise OSError("down")

        monkeypatch.setattr(http_server.app.engine, "connect", unreachable)
        answer = await raw_http.get("/health")
        assert (answer.status_code, answer.json()["database"]) == (503, "unreachable")
