"""Reading a Server-Sent Events stream in the tests, as an EventSource would (the fields a
message may have, comment lines kept apart so that keep-alives can be seen)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Message:
    event: str = "message"
    data: str = ""
    id: str | None = None
    #: Comment lines (`: ...`) received before this message.
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self.data)
        return obj


class SseReader:
    """Messages of one streaming response, one at a time; None once the stream has ended."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream"), response.headers
        self.response = response
        self._lines: AsyncIterator[str] = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self, timeout: float = 5.0) -> Message | None:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> Message | None:
        message, data, seen = Message(), list[str](), False
        async for line in self._lines:
            if line == "":
                if seen:
                    message.data = "\n".join(data)
                    return message
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                self.comments.append(value)
                message.comments.append(value)
                continue
            seen = True
            if name == "data":
                data.append(value)
            elif name == "event":
                message.event = value
            elif name == "id":
                message.id = value
        return None

    async def events(self, count: int, timeout: float = 10.0) -> list[Message]:
        """The next `count` messages, none of them the end of the stream."""
        messages = []
        for _ in range(count):
            message = await self.next(timeout)
            assert message is not None, f"the stream ended after {len(messages)} of {count} messages"
            messages.append(message)
        return messages
