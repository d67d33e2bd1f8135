"""Helpers shared by the wire, session and storage tests: raw request lines and read-only looks
into a server's database (to assert what changed, or that nothing did)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, text

from ewallet.domain.tokens import token_digest
from ewallet.storage.models import ClientId, EwalletSession
from tests.support import SYSTEM_KEY, Running


def line(**instruction: Any) -> bytes:
    """One request line; controller/ctype default to a client action."""
    instruction.setdefault("controller", "client")
    instruction.setdefault("ctype", "action")
    return json.dumps(instruction).encode() + b"\n"


def system_line(**instruction: Any) -> bytes:
    instruction.setdefault("system_key", SYSTEM_KEY)
    return line(controller="system", **instruction)


CLIENT_ID = line(action="request", request="client_id")


def counts(running: Running) -> dict[str, int]:
    """Rows in the session tables: compare before and after a refused instruction."""
    with running.app.engine.connect() as conn:
        return {
            "client_ids": conn.scalar(select(func.count()).select_from(ClientId)) or 0,
            "sessions": conn.scalar(select(func.count()).select_from(EwalletSession)) or 0,
            "stack": conn.scalar(text("SELECT count(*) FROM session_stack")) or 0,
        }


def session_id_of(running: Running, token: str) -> int:
    with running.app.engine.connect() as conn:
        found = conn.scalar(select(EwalletSession.id).where(EwalletSession.token_digest == token_digest(token)))
    assert found is not None, "no session holds that token"
    return int(found)


def workers(running: Running) -> dict[int, tuple[str, list[int]]]:
    """{worker id: (state label, live session ids)} from the pool itself."""
    return {w.id: (w.state_label, list(w.sessions)) for w in running.app.services.workers.snapshot()}
