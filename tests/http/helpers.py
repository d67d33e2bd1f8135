"""An HTTP client for the tests: the generic endpoint, the typed endpoints with the session's
ids in headers, and checks of status code and body together."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.support import PASSWORD, SYSTEM_KEY, Running

_names = itertools.count(1)


def base_url(running: Running) -> str:
    assert running.app.http_address is not None, "the server was started without http_port"
    host, port = running.app.http_address
    return f"http://{host}:{port}"


class Http:
    """One HTTP client holding (optionally) one ewallet session."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.client_id: str | None = None
        self.session_token: str | None = None

    @classmethod
    @asynccontextmanager
    async def to(cls, running: Running) -> AsyncIterator[Http]:
        async with httpx.AsyncClient(base_url=base_url(running), timeout=10.0) as client:
            yield cls(client)

    @property
    def session_headers(self) -> dict[str, str]:
        headers = {}
        if self.client_id is not None:
            headers["X-EWallet-Client-Id"] = self.client_id
        if self.session_token is not None:
            headers["Authorization"] = f"Bearer {self.session_token}"
        return headers

    async def instruction(self, **instruction: Any) -> httpx.Response:
        """POST /ewallet/instruction-set: the TCP line as a body, the session's ids in it."""
        instruction.setdefault("controller", "client")
        instruction.setdefault("ctype", "action")
        if instruction["controller"] == "system":
            instruction.setdefault("system_key", SYSTEM_KEY)
        else:
            if self.client_id is not None:
                instruction.setdefault("client_id", self.client_id)
            if self.session_token is not None:
                instruction.setdefault("session_token", self.session_token)
        return await self.client.post("/ewallet/instruction-set", json=instruction)

    async def typed(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        """POST a typed endpoint; the session's ids (or the system key) go in headers."""
        sent = {"X-EWallet-System-Key": SYSTEM_KEY} if path.startswith("/v1/system/") else self.session_headers
        return await self.client.post(path, json=params, headers={**sent, **(headers or {})})

    async def open_session(self) -> None:
        self.client_id = ok(await self.typed("/v1/request/client-id"), "client_id")["client_id"]
        self.session_token = ok(await self.typed("/v1/request/session-token"), "session_token")["session_token"]

    async def new_user(self, name: str | None = None) -> str:
        """Open a session, create an account and log it in; its email."""
        if self.session_token is None:
            await self.open_session()
        name = name or f"webuser{next(_names)}"
        email = f"{name}@example.com"
        ok(
            await self.typed("/v1/new/account", user_name=name, user_pass=PASSWORD, user_email=email),
            "account",
            "account_data",
        )
        ok(await self.typed("/v1/login", user_email=email, user_pass=PASSWORD), "account", "session_data")
        return email


def ok(response: httpx.Response, *keys: str) -> dict[str, Any]:
    """200, JSON, `failed: false` and exactly these keys besides `failed` (when keys are given)."""
    body = response.json()
    assert response.status_code == 200, (response.status_code, body)
    assert response.headers["content-type"] == "application/json", response.headers
    assert body["failed"] is False, body
    if keys:
        assert set(body) == {"failed", *keys}, sorted(body)
    return body


def refused(response: httpx.Response, status: int, code: str, **extra: Any) -> dict[str, Any]:
    """This status, and a body of exactly {failed, error, code} (plus `extra`, e.g. the id)."""
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert set(body) == {"failed", "error", "code", *extra}, body
    assert body["failed"] is True
    assert isinstance(body["error"], str)
    assert "Traceback" not in body["error"]
    for key, value in extra.items():
        assert body[key] == value, body
    return body
