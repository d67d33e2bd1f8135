"""One decision for every exception an instruction's transaction can end with: run it again,
answer that the database failed, answer that the outcome is unknown, or treat it as a bug."""

from __future__ import annotations

import enum

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

#: Serialization failure, deadlock, lock not available (PostgreSQL).
_LOST_RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class Verdict(enum.Enum):
    #: Lost to a concurrent writer (deadlock, serialization failure, a unique race, a busy
    #: SQLite): nothing was changed, and running the instruction again is safe and will decide.
    LOST_RACE = "lost_race"
    #: The database failed or could not be reached before COMMIT: nothing changed; running
    #: again may help (a new connection), and if it does not the answer is an outage.
    OUTAGE = "outage"
    #: The connection died while COMMIT was under way: the database may or may not have
    #: committed, and only the idempotency key can tell the client which.
    OUTCOME_UNKNOWN = "outcome_unknown"
    #: Anything else is a bug: `internal_error` with a logged reference.
    INTERNAL = "internal"


def classify(exc: BaseException, *, committing: bool = False) -> Verdict:
    """`committing`: the exception came from COMMIT itself (only then can the outcome be unknown)."""
    if not isinstance(exc, DBAPIError):
        return Verdict.INTERNAL
    if committing and exc.connection_invalidated:
        return Verdict.OUTCOME_UNKNOWN
    if isinstance(exc, IntegrityError):
        # A unique race lost to a concurrent writer: run again, the handler's own check then
        # sees the winner's row and answers with the domain error.
        return Verdict.LOST_RACE
    if getattr(exc.orig, "sqlstate", None) in _LOST_RACE_SQLSTATES:
        return Verdict.LOST_RACE
    message = str(exc.orig).lower()
    if "database is locked" in message or "database is busy" in message:
        return Verdict.LOST_RACE
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return Verdict.OUTAGE
    # A statement the database refused as written (bad SQL, a value it cannot store): our bug.
    return Verdict.INTERNAL
