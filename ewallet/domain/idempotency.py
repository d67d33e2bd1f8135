"""Idempotency keys: a key belongs to one account and is stored, in the effect's own
transaction, with the route, the canonical parameters and the response. The same request again
gets the stored response; anything else under the key is `conflict`. Two concurrent requests
with one key: the second one's insert meets the unique constraint, its transaction is rolled
back and run again by the dispatcher, and then it finds the first one's response."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import Conflict
from ewallet.storage.models import IdempotencyKey


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: Key namespaces: an operator's key never blocks a user's, nor the other way round.
USER, SYSTEM = "user", "system"


def replay(
    db: Db,
    scope: str,
    account_id: int,
    key: str,
    route: str,
    params: dict[str, Any],
    now: datetime,
    keep: timedelta,
) -> dict[str, Any] | None:
    """The stored response for this exact request, None when the key is new (or expired)."""
    row = db.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.scope == scope, IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
        )
    ).first()
    if row is None:
        return None
    if row.create_date <= now - keep:
        db.delete(row)
        db.flush()
        return None
    if row.route != route or row.params != canonical(params):
        raise Conflict("that idempotency_key was used for a different request")
    stored: dict[str, Any] = json.loads(row.response)
    return stored


def remember(
    db: Db,
    scope: str,
    account_id: int,
    key: str,
    route: str,
    params: dict[str, Any],
    response: dict[str, Any],
    now: datetime,
) -> None:
    db.add(
        IdempotencyKey(
            scope=scope,
            account_id=account_id,
            key=key,
            route=route,
            params=canonical(params),
            response=json.dumps(response, separators=(",", ":")),
            create_date=now,
        )
    )
    db.flush()


def purge(db: Db, now: datetime, keep: timedelta) -> int:
    result = db.execute(delete(IdempotencyKey).where(IdempotencyKey.create_date <= now - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
