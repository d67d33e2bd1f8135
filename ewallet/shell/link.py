"""The shell's connection: a Client that survives the server closing the connection (idle timeout,
restart). It reconnects and keeps the same client id and session token, because the session lives
in the database and is still valid; it re-sends an instruction only when that cannot apply it
twice."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Callable
from typing import Any

from ewallet.client import Client, ConnectionFailed
from ewallet.client.sync import prepare, result

#: What the shell says when the server no longer knows its session and it opened another one.
NEW_SESSION = (
    "the server no longer knows this shell's session (it expired, or the server's database was reset); "
    "a new session is open: log in again"
)

#: Actions that change nothing when they run twice: reads, switching to an object (switching to
#: the already active one changes nothing) and login (moves the account to the top).
REPEATABLE_ACTIONS = frozenset({"view", "switch", "login", "history"})


class AnswerLost(ConnectionFailed):
    """The instruction was sent, the connection dropped before its answer, and re-sending it could
    apply it twice: whether it was applied is unknown."""


def repeatable(line: bytes) -> bool:
    """Whether re-sending this request line is safe: a read, or an instruction whose
    idempotency_key makes the server answer a repeat with the stored response."""
    try:
        instruction = json.loads(line)
    except ValueError:
        return False
    if not isinstance(instruction, dict):
        return False
    return instruction.get("action") in REPEATABLE_ACTIONS or "idempotency_key" in instruction


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server already closed this idle connection (EOF or reset waiting to be read)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Link(Client):
    """`Link(host, port, on_reconnect=...)`: the blocking Client, reconnecting as described above.
    `on_reconnect` is told (with a sentence) each time a new connection replaced a lost one, and
    each time a new session replaced one the server no longer knows (see `_send`)."""

    def __init__(self, host: str, port: int, *, on_reconnect: Callable[[str], None] = lambda _: None) -> None:
        super().__init__(host, port)
        self.on_reconnect = on_reconnect
        self._had_connection = False
        #: The session's active account as the answers seen so far tell it (None: nobody, or unknown).
        self.active_account: str | None = None

    def connect(self) -> None:
        if self._sock is not None:
            return
        super().connect()
        if self._had_connection:
            kept = "session kept" if self.session_token else "no session yet"
            self.on_reconnect(f"reconnected to {self.host}:{self.port} ({kept})")
        self._had_connection = True

    def _exchange(self, line: bytes) -> dict[str, Any]:
        if self._sock is not None and closed_by_peer(self._sock):
            self.close()  # closed while we were idle: nothing was sent on it, so nothing is lost
        self.connect()  # a failure here sent nothing
        try:
            return super()._exchange(line)
        except ConnectionFailed as exc:
            if not repeatable(line):
                raise AnswerLost(
                    f"{exc.message} before the answer arrived; the instruction may or may not have been applied"
                ) from None
        self.connect()
        return super()._exchange(line)

    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> dict[str, Any]:
        """As Client's; but when the server answers `unauthorized` to the session's ids (the session
        expired, or the server's database no longer holds it), a new session is opened and the
        instruction sent once more on it. That is safe: an unauthorized instruction was applied
        to nothing. The login cannot be kept (it belonged to the old session): the user is told."""
        addressed = session and self.session_token is not None and instruction.get("controller") != "system"
        answer = self._exchange(self._line(instruction, session))
        if addressed and answer.get("failed") is True and answer.get("code") == "unauthorized":
            self.open_session()
            self.on_reconnect(NEW_SESSION)
            answer = self._exchange(self._line(instruction, session))
        self._observe(instruction, answer)
        return result(answer)

    def _observe(self, instruction: dict[str, Any], answer: dict[str, Any]) -> None:
        """Keep `active_account` from the answers that tell it."""
        action, ok = instruction.get("action"), answer.get("failed") is False
        if action == "view" and instruction.get("view") == "account":
            if ok or answer.get("code") == "not_logged_in":
                self.active_account = answer.get("account") if ok else None
        elif ok and action in ("login", "switch") and instruction.get(action, "account") == "account":
            self.active_account = answer.get("account")
        elif ok and action == "logout":
            self.active_account = (answer.get("session_data") or {}).get("session_user_account")
        elif ok and action == "unlink" and instruction.get("unlink") == "account":
            self.active_account = None  # logged out everywhere; `view account` tells who is active now

    def _line(self, instruction: dict[str, Any], session: bool) -> bytes:
        return prepare(instruction, (self.client_id, self.session_token), self.system_key, with_session=session)

    def interrupted(self) -> None:
        """The user interrupted a call: the answer may still arrive on this connection, so drop it."""
        self.close()

    def open_session(self) -> tuple[str, str]:
        self.session_token = None  # a new session: requests go without the old ids
        self.active_account = None
        return super().open_session()
