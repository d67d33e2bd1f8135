"""Objects addressed by id: absent, hidden (itself or an ancestor) or system-side
→ not_found; another account's → forbidden. One helper instead of a check in every handler."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session as Db

from ewallet.domain.caller import AccountPointers
from ewallet.domain.errors import Forbidden, NotFound
from ewallet.domain.kinds import KINDS
from ewallet.storage.models import ContactList, ContactRecord, CreditClock, CreditEwallet

T = TypeVar("T")

#: model -> (column naming the parent, parent model); roots carry account_id instead.
PARENTS: dict[Any, tuple[str, Any]] = {
    CreditClock: ("ewallet_id", CreditEwallet),
    ContactRecord: ("list_id", ContactList),
}
for _kind in KINDS:
    PARENTS[_kind.sheet] = (_kind.parent_column, _kind.parent)
    PARENTS[_kind.record] = ("sheet_id", _kind.sheet)


def owner_of(db: Db, obj: Any) -> int | None:
    """The owning account's id, or None when the object or an ancestor is hidden or the
    object belongs to the system side."""
    current = obj
    while True:
        if getattr(current, "hidden", False):
            return None
        link = PARENTS.get(type(current))
        if link is None:
            return int(current.account_id)
        column, parent_model = link
        parent_id = getattr(current, column)
        if parent_id is None:
            return None
        current = db.get(parent_model, parent_id)
        if current is None:
            return None


def owned(db: Db, model: type[T], object_id: int, account: AccountPointers, what: str = "object") -> T:
    obj = db.get(model, object_id)
    if obj is None:
        raise NotFound(f"no such {what}")
    owner = owner_of(db, obj)
    if owner is None:
        raise NotFound(f"no such {what}")
    if owner != account.id:
        raise Forbidden(f"that {what} belongs to another account")
    return obj
