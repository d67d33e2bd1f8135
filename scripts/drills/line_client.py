"""A line-JSON client over a real socket, as the drills and the tests speak to a server, and
the system key and password they use."""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from typing import Any

SYSTEM_KEY = "test-system-key-0123456789abcdef-0123456789"
PASSWORD = "Secret!2345word"


class LineClient:
    """One TCP connection speaking line JSON."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.client_id: str | None = None
        self.session_token: str | None = None

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> LineClient:
        reader, writer = await asyncio.open_connection(host, port, limit=16 << 20)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next answer, or None when the server closed the connection."""
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        return json.loads(line) if line else None

    async def raw(self, data: bytes) -> dict[str, Any] | None:
        await self.send(data)
        return await self.recv()

    async def call(self, **instruction: Any) -> dict[str, Any]:
        """Send an instruction (controller/ctype defaulted, the session's ids added)."""
        instruction.setdefault("controller", "client")
        instruction.setdefault("ctype", "action")
        if instruction["controller"] == "system":
            instruction.setdefault("system_key", SYSTEM_KEY)
        elif self.session_token is not None:
            instruction.setdefault("client_id", self.client_id)
            instruction.setdefault("session_token", self.session_token)
        answer = await self.raw(json.dumps(instruction).encode() + b"\n")
        assert answer is not None, "the server closed the connection"
        return answer

    async def open_session(self) -> tuple[str, str]:
        answer = await self.call(action="request", request="client_id")
        assert answer["failed"] is False, answer
        self.client_id = answer["client_id"]
        answer = await self.call(action="request", request="session_token", client_id=self.client_id)
        assert answer["failed"] is False, answer
        self.session_token = answer["session_token"]
        return self.client_id, self.session_token  # type: ignore[return-value]

    async def close(self) -> None:
        self.writer.close()
        with suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
