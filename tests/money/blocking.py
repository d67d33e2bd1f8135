"""A synchronous way to talk to a real server, for code that cannot await (hypothesis's state
machines): the server runs on an event loop in a thread of its own, and a blocking socket client
speaks line JSON to it."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ewallet.clock import ManualClock
from tests.support import PASSWORD, Running, running_server

_names = itertools.count(1)


class BlockingClient:
    """One TCP connection; `call` sends an instruction and waits for its answer."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.lines = self.sock.makefile("rb")
        self.client_id: str | None = None
        self.session_token: str | None = None
        self.email = ""

    def call(self, **instruction: Any) -> dict[str, Any]:
        instruction.setdefault("controller", "client")
        instruction.setdefault("ctype", "action")
        if self.session_token is not None:
            instruction.setdefault("client_id", self.client_id)
            instruction.setdefault("session_token", self.session_token)
        self.sock.sendall(json.dumps(instruction).encode() + b"\n")
        line = self.lines.readline()
        assert line, "the server closed the connection"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        self.lines.close()
        self.sock.close()

    @classmethod
    def user(cls, port: int) -> BlockingClient:
        """A connection with a session and a new, logged-in account."""
        client = cls(port)
        client.client_id = client.call(action="request", request="client_id")["client_id"]
        answer = client.call(action="request", request="session_token", client_id=client.client_id)
        client.session_token = answer["session_token"]
        name = f"machine{next(_names)}"
        client.email = f"{name}@example.com"
        created = client.call(action="new", new="account", user_name=name, user_pass=PASSWORD, user_email=client.email)
        assert created["failed"] is False, created
        logged_in = client.call(action="login", user_email=client.email, user_pass=PASSWORD)
        assert logged_in["failed"] is False, logged_in
        return client


@contextmanager
def server_in_thread(database_url: str, clock: ManualClock, **overrides: Any) -> Iterator[Running]:
    """A real server on its own event loop in a thread, stopped (and its errors raised) at exit."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        async with running_server(database_url, clock, **overrides) as running:
            box["running"], box["loop"], box["stop"] = running, asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await box["stop"].wait()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:
            box["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=main, name="ewallet-test-server", daemon=True)
    thread.start()
    ready.wait(60)
    if "running" not in box:
        raise RuntimeError("the test server did not start") from box.get("error")
    try:
        yield box["running"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)
        if "error" in box:
            raise box["error"]
