"""The log an operator reads, from a real `ewallet serve`: one access line per instruction over
TCP and HTTP with no value or secret in it, security events at WARNING, connections at DEBUG,
JSON lines that parse, uvicorn's lines in the same format, and a startup line naming the
database, the addresses and the version."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from ewallet import __version__
from ewallet.client import Client, EWalletError
from tests.observability.served import served

PASSWORD = "Obs!2345word"
WRONG = "Wrong!2345word"
EMAIL = "olga@example.com"


def some_work(port: int) -> tuple[str, str]:
    """A session, an account, a failed and a good login, a view with a request id; returns the
    client id and token, which must never be logged."""
    with Client("127.0.0.1", port) as client:
        client_id, token = client.open_session()
        client.create_account("olga", PASSWORD, EMAIL)
        try:
            client.login(EMAIL, WRONG)
        except EWalletError as error:
            assert error.code == "invalid_credentials"
        client.login(EMAIL, PASSWORD)
        answer = client.raw(
            {"controller": "client", "ctype": "action", "action": "view", "view": "account", "id": "req-7",
             "client_id": client_id, "session_token": token}
        )  # fmt: skip
        assert answer["failed"] is False
    return client_id, token


def assert_no_secrets(log: str, *secrets: str) -> None:
    for secret in (PASSWORD, WRONG, EMAIL, *secrets):
        assert secret not in log


class TestTextLog:
    def test_every_instruction_leaves_one_access_line_without_values(self, tmp_path: Path) -> None:
        with served(tmp_path) as server:
            client_id, token = some_work(server.port)
            server.wait_for('"client view=account"')
        log = "".join(server.lines)
        access = [line for line in server.lines if " ewallet.access: " in line]
        assert len(access) == 6, log  # client id, session token, new account, 2 logins, view
        view = next(line for line in access if "view=account" in line)
        assert " INFO ewallet.access: 127.0.0.1 " in view
        assert " ok " in view and 'id="req-7"' in view
        assert "session=1 account=1" in view
        failed = next(line for line in access if "invalid_credentials" in line)
        assert " WARNING ewallet.access: " in failed  # a security event
        assert "session=1 account=-" in failed
        assert_no_secrets(log, client_id, token)

    def test_the_startup_line_names_version_database_and_addresses(self, tmp_path: Path) -> None:
        with served(tmp_path, "--http-port", "0") as server:
            pass
        started = next(line for line in server.lines if " started: " in line)
        assert f"ewallet {__version__} started: database sqlite file {tmp_path}/ewallet.db" in started
        assert f"TCP 127.0.0.1:{server.ports['TCP']}, HTTP 127.0.0.1:{server.ports['HTTP']}" in started

    def test_warning_level_keeps_the_security_events_only(self, tmp_path: Path) -> None:
        with served(tmp_path, "--log-level", "WARNING", quiet=True) as server:
            some_work(server.port)
            server.wait_for("invalid_credentials")
        access = [line for line in server.lines if "ewallet.access" in line]
        assert len(access) == 1 and "invalid_credentials" in access[0]

    def test_connections_are_logged_at_debug(self, tmp_path: Path) -> None:
        with served(tmp_path, "--log-level", "DEBUG") as server:
            with Client("127.0.0.1", server.port) as client:
                client.request_client_id()
            server.wait_for("TCP connection from 127.0.0.1 closed")
        assert any("DEBUG" in line and "TCP connection from 127.0.0.1 opened" in line for line in server.lines)


class TestJsonLog:
    def test_every_line_is_one_json_object_uvicorn_included(self, tmp_path: Path) -> None:
        with served(tmp_path, "--log-format", "json", "--http-port", "0", "--log-level", "DEBUG") as server:
            client_id, token = some_work(server.port)
            http = f"http://127.0.0.1:{server.ports['HTTP']}"
            answer = httpx.post(f"{http}/v1/request/client-id", json={}).json()
            assert answer["failed"] is False
            server.wait_for('"route": "client request=client_id", "code": "ok"')
            server.wait_for("HTTP connection from 127.0.0.1 closed")
        records = [json.loads(line) for line in server.lines]  # every line parses
        assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
        access = [r for r in records if r["logger"] == "ewallet.access"]
        assert len(access) == 7
        view = next(r for r in access if r["route"] == "client view=account")
        assert view["level"] == "INFO" and view["code"] == "ok" and view["peer"] == "127.0.0.1"
        assert view["request_id"] == "req-7" and view["session"] == 1 and view["account"] == 1
        assert isinstance(view["ms"], float)
        assert any(r["logger"].startswith("uvicorn") for r in records), "uvicorn's lines are missing"
        assert any(r["message"].startswith(f"ewallet {__version__} started: ") for r in records)
        assert_no_secrets("".join(server.lines), client_id, token)
