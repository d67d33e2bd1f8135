"""Units of work: a transaction of its own, or a savepoint inside someone else's. Each is a small
context manager whose exit rolls back unless `commit()` was called (cosmicpython's unit of
work), so an exception anywhere inside leaves nothing behind."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import SessionTransaction, sessionmaker


class Transaction:
    """A transaction of its own on a new session from `factory`."""

    def __init__(self, factory: sessionmaker[Db]) -> None:
        self.db = factory()
        self._committed = False

    def __enter__(self) -> Transaction:
        self.db.begin()
        return self

    def commit(self) -> None:
        self.db.commit()
        self._committed = True

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if not self._committed:
                self.db.rollback()
        finally:
            self.db.close()


class Savepoint:
    """A savepoint inside a transaction someone else commits (group commit): rolling it back
    undoes this instruction alone. Objects loaded by earlier instructions are reloaded when
    touched, so each instruction sees the rows as they are now, not as an earlier one left them
    in memory."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._savepoint: SessionTransaction | None = None
        self._released = False

    def __enter__(self) -> Savepoint:
        self.db.expire_all()
        self._savepoint = self.db.begin_nested()
        return self

    def commit(self) -> None:
        assert self._savepoint is not None
        self._savepoint.commit()
        self._released = True

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        # Also when the savepoint is no longer active (a failed flush deactivates it): until it is
        # rolled back, the enclosing transaction refuses every later instruction of the batch.
        if self._savepoint is not None and not self._released:
            self._savepoint.rollback()
