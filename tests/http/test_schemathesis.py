"""Schemathesis against /openapi.json of a live server: every operation, a few generated bodies
each, sent with a fresh logged-in session (and the system key) in headers. No 5xx, no status the
operation does not declare, no body that breaks its declared model.

The server runs on its own event loop in a thread: schemathesis calls it synchronously. Each
operation is a pytest case drawing from schemathesis' strategy for it (positive and negative
bodies): `schemathesis.pytest.from_fixture`, the way to load a schema from a fixture, sets
`Node._nodeid`, which pytest 9.2 no longer has. Only generated bodies run, never schemathesis'
coverage phase, which alone would send thousands of requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ewallet.app import build_app
from ewallet.handlers import build_route_table
from ewallet.http.openapi import route_path
from tests.support import PASSWORD, SYSTEM_KEY, test_settings

EXAMPLES = 10


@schemathesis.check
def accepts_what_the_document_allows(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Drift between the document and the server: data the document allows must not be refused
    for its shape. A parameter sent as null is refused as null, a declared parameter as unknown,
    or an optional one as missing, only when the document says something the server does not
    accept (generated clients would break on it)."""
    if response.status_code != 400 or case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    body = response.json()
    error = str(body.get("error", ""))
    sent = {**(case.body if isinstance(case.body, dict) else {}), **(case.query or {})}
    for name, value in sent.items():
        if value is None and error.startswith((f"{name!r} must not be null", f"{name}: ")):
            raise AssertionError(f"{case.operation.label}: the document allows {name} = null, the server refuses it")
        if error == f"unknown field {name!r}":
            raise AssertionError(f"{case.operation.label}: the document declares {name}, the server refuses it")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    accepts_what_the_document_allows,
]


class ThreadedServer:
    """An ewallet server (TCP and HTTP on free ports) on its own loop in a daemon thread."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.base_url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        try:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            app = build_app(test_settings(self.database_url, http_port=0))
            await app.start()
            assert app.http_address is not None
            self.base_url = "http://{}:{}".format(*app.http_address)
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await app.stop()

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "ewallet.db"
    with ThreadedServer(f"sqlite:///{path}") as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(live: ThreadedServer) -> Any:
    return schemathesis.openapi.from_url(f"{live.base_url}/openapi.json", config=schemathesis.Config())


class Sessions:
    """One fresh account per operation, logged in, with credits and clock minutes to spend, so
    that operations get past authentication and sometimes succeed."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10.0)
        self.by_operation: dict[str, dict[str, str]] = {}

    def headers_for(self, operation: str) -> dict[str, str]:
        if operation not in self.by_operation:
            self.by_operation[operation] = self._new_user(len(self.by_operation) + 1)
        return self.by_operation[operation]

    def _call(self, path: str, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        answer = self.http.post(path, json=body, headers=headers).json()
        assert answer["failed"] is False, (path, answer)
        return answer

    def _new_user(self, number: int) -> dict[str, str]:
        client_id = self._call("/v1/request/client-id")["client_id"]
        token = self._call("/v1/request/session-token", client_id=client_id)["session_token"]
        headers = {"X-EWallet-Client-Id": client_id, "Authorization": f"Bearer {token}"}
        email = f"fuzz{number}@example.com"
        self._call("/v1/new/account", headers, user_name=f"fuzz{number}", user_pass=PASSWORD, user_email=email)
        self._call("/v1/login", headers, user_email=email, user_pass=PASSWORD)
        self._call("/v1/supply/credits", headers, credits=1000)
        self._call("/v1/convert/credits2clock", headers, credits=100)
        return {**headers, "X-EWallet-System-Key": SYSTEM_KEY}


@pytest.fixture(scope="module")
def sessions(live: ThreadedServer) -> Iterator[Sessions]:
    keeper = Sessions(live.base_url)
    yield keeper
    keeper.http.close()


@pytest.fixture(scope="module")
def transport() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def operation_labels() -> list[str]:
    """The operations the document must hold: known at collection time from the route table."""
    routes = [route for route in build_route_table().routes if route.typed_http]
    return (
        ["POST /ewallet/instruction-set", "GET /health"]
        + [f"POST {route_path(r)}" for r in routes]
        + [f"GET {route_path(r)}" for r in routes if r.answers_get]
    )


LABELS = operation_labels()


#: An endless stream on success, which a request/response fuzzer cannot take: its answers are
#: checked by tests/http/test_events.py.
STREAMS = {"GET /v1/events"}


def test_the_run_covers_every_operation_of_the_live_document(api_schema: Any) -> None:
    live = {result.ok().label for result in api_schema.get_all_operations()}
    assert live == set(LABELS) | STREAMS


@pytest.mark.parametrize("label", LABELS)
def test_every_operation_answers_as_declared(
    label: str, api_schema: Any, sessions: Sessions, transport: requests.Session
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    headers = sessions.headers_for(label)
    # System cleanup takes client_id and session_token as parameters (whose session to remove).
    auth_keys = ("system_key",) if label.startswith("POST /v1/system/") else ("client_id", "session_token")
    modes = [GenerationMode.POSITIVE] if operation.body is None or not len(operation.body) else list(GenerationMode)
    cases = st.one_of(*(operation.as_strategy(mode) for mode in modes))

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        if isinstance(case.body, dict):
            # Random ids in the body would take precedence over the headers and end in 401 every
            # time; the status tests cover that. Here the headers' session gets in.
            for key in auth_keys:
                case.body.pop(key, None)
        case.call_and_validate(session=transport, headers=headers, checks=CHECKS)

    check()
