"""The asyncio client: the same methods as Client, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ewallet.client.errors import ConnectionFailed
from ewallet.client.instructions import Instructions
from ewallet.client.sync import prepare, result


class AsyncClient(Instructions):
    """`AsyncClient(host, port)`; `await client.view_credit_clock()`. One connection; calls on
    one client are serialised, so answers never cross."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, system_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.host, self.port, self.system_key, self.timeout = host, port, system_key, timeout
        self.client_id: str | None = None
        self.session_token: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        if self._writer is not None:
            return
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=16 << 20), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from None

    async def raw(self, instruction: dict[str, Any]) -> dict[str, Any]:
        return await self._exchange(json.dumps(instruction, separators=(",", ":")).encode() + b"\n")

    async def _exchange(self, line: bytes) -> dict[str, Any]:
        async with self._lock:
            await self.connect()
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(line)
                await self._writer.drain()
                answer = await asyncio.wait_for(self._reader.readline(), self.timeout)
            except (OSError, TimeoutError) as exc:
                await self.close()
                raise ConnectionFailed(f"connection to {self.host}:{self.port} failed: {exc}") from None
            if not answer:
                await self.close()
                raise ConnectionFailed(f"{self.host}:{self.port} closed the connection")
            parsed: dict[str, Any] = json.loads(answer)
            return parsed

    async def _call(self, line: bytes) -> dict[str, Any]:
        return result(await self._exchange(line))

    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> Any:
        line = prepare(instruction, (self.client_id, self.session_token), self.system_key, with_session=session)
        return self._call(line)

    async def history(self, kind: str, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every record of `history` for the kind and filters, newest first:
        `async for record in client.history("transfer", partner="bob@example.com")`."""
        cursor = None
        while True:
            page = await self.history_page(kind, **filters, **({"cursor": cursor} if cursor else {}))
            for record in page["records"]:
                yield record
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def open_session(self) -> tuple[str, str]:
        self.client_id = (await self.request_client_id())["client_id"]
        self.session_token = (await self.request_session_token(self.client_id))["session_token"]
        return self.client_id, self.session_token

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
