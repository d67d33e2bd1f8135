"""The blocking client: one TCP connection, reused across calls."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

from ewallet.client.errors import ConnectionFailed, EWalletError
from ewallet.client.instructions import Instructions


def prepare(
    instruction: dict[str, Any], session: tuple[str | None, str | None], system_key: str | None, *, with_session: bool
) -> bytes:
    """The request line: the session's ids added to client instructions, the key to system ones."""
    message = dict(instruction)
    if message.get("controller") == "system":
        if system_key is not None:
            message.setdefault("system_key", system_key)
    elif with_session and session[1] is not None:
        message.setdefault("client_id", session[0])
        message.setdefault("session_token", session[1])
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def result(answer: dict[str, Any]) -> dict[str, Any]:
    """The data of a success; EWalletError for a failure."""
    if answer.get("failed") is not False:
        raise EWalletError(str(answer.get("code", "unknown")), str(answer.get("error", "")), answer)
    return {key: value for key, value in answer.items() if key != "failed"}


class Client(Instructions):
    """`Client(host, port)`. Methods return the response data or raise EWalletError."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8080, *, system_key: str | None = None, timeout: float = 30.0
    ) -> None:
        self.host, self.port, self.system_key, self.timeout = host, port, system_key, timeout
        self.client_id: str | None = None
        self.session_token: str | None = None
        self._sock: socket.socket | None = None
        self._file: Any = None

    def connect(self) -> None:
        if self._sock is not None:
            return
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc.strerror or exc}") from None
        self._file = self._sock.makefile("rwb")

    def raw(self, instruction: dict[str, Any]) -> dict[str, Any]:
        """Send an instruction set as it is; return the server's JSON object unchanged."""
        return self._exchange(json.dumps(instruction, separators=(",", ":")).encode() + b"\n")

    def raw_line(self, line: bytes) -> dict[str, Any]:
        return self._exchange(line.rstrip(b"\r\n") + b"\n")

    def _exchange(self, line: bytes) -> dict[str, Any]:
        self.connect()
        try:
            self._file.write(line)
            self._file.flush()
            answer = self._file.readline()
        except OSError as exc:
            self.close()
            raise ConnectionFailed(f"connection to {self.host}:{self.port} failed: {exc}") from None
        if not answer:
            self.close()
            raise ConnectionFailed(f"{self.host}:{self.port} closed the connection")
        parsed: dict[str, Any] = json.loads(answer)
        return parsed

    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> dict[str, Any]:
        line = prepare(instruction, (self.client_id, self.session_token), self.system_key, with_session=session)
        return result(self._exchange(line))

    def history(self, kind: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every record of `history` for the kind and filters (the keywords of history_page),
        newest first, fetching the next page as the iteration reaches it."""
        cursor = None
        while True:
            page = self.history_page(kind, **filters, **({"cursor": cursor} if cursor else {}))
            yield from page["records"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def open_session(self) -> tuple[str, str]:
        """Request a client id and a session token, and keep them for later calls."""
        self.client_id = self.request_client_id()["client_id"]
        self.session_token = self.request_session_token(self.client_id)["session_token"]
        return self.client_id, self.session_token

    def close(self) -> None:
        for closable in (self._file, self._sock):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()
        self._sock = self._file = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
