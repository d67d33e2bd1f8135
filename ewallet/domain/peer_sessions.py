"""Sessions that never logged in, capped per peer address: without a cap, a few
addresses could fill every worker with sessions that do nothing for an hour. Counted in the
database, so every server process on it enforces one cap per address."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import RateLimited
from ewallet.domain.session_store import Lifetimes, live_condition
from ewallet.storage.models import EwalletSession

#: The first key of the PostgreSQL advisory lock that serialises one address's requests ("ew").
_LOCK_SPACE = 0x6577


def stored_peer(peer: str) -> str:
    return peer[:64]


def ensure_room(db: Db, peer: str, now: datetime, lifetimes: Lifetimes, cap: int) -> None:
    """RateLimited when the address already holds `cap` live sessions without a login."""
    if cap <= 0:
        return
    peer = stored_peer(peer)
    if db.get_bind().dialect.name == "postgresql":
        # Two processes counting at once would both see room: one address's requests take turns
        # (until their transactions end). SQLite's single writer already serialises them.
        key = int.from_bytes(hashlib.sha256(peer.encode()).digest()[:4], "big", signed=True)
        db.execute(select(func.pg_advisory_xact_lock(_LOCK_SPACE, key)))
    unused = db.scalar(
        select(func.count())
        .select_from(EwalletSession)
        .where(EwalletSession.peer == peer, EwalletSession.had_login.is_(False), live_condition(now, lifetimes))
    )
    if unused is not None and unused >= cap:
        raise RateLimited(
            "too many sessions that never logged in from this address: log in with one, or wait until they expire"
        )
