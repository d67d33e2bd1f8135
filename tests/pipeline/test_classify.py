"""classify(): the one decision on how an instruction's transaction ended."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError

from ewallet.pipeline.classify import Verdict, classify


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("pg")
        self.sqlstate = sqlstate


CASES = [
    (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False, Verdict.LOST_RACE),
    (OperationalError("UPDATE", {}, _PgError("40001")), False, Verdict.LOST_RACE),
    (OperationalError("UPDATE", {}, _PgError("40P01")), False, Verdict.LOST_RACE),
    (OperationalError("SELECT", {}, _PgError("55P03")), False, Verdict.LOST_RACE),
    (OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")), False, Verdict.LOST_RACE),
    (OperationalError("SELECT", {}, sqlite3.OperationalError("disk I/O error")), False, Verdict.OUTAGE),
    (OperationalError("SELECT", {}, _PgError("57P01")), False, Verdict.OUTAGE),
    (OperationalError("COMMIT", {}, _PgError("08006"), connection_invalidated=True), True, Verdict.OUTCOME_UNKNOWN),
    (OperationalError("SELECT", {}, _PgError("08006"), connection_invalidated=True), False, Verdict.OUTAGE),
    (InterfaceError("SELECT", {}, Exception("closed"), connection_invalidated=True), False, Verdict.OUTAGE),
    (ProgrammingError("SELEC", {}, _PgError("42601")), False, Verdict.INTERNAL),
    (DataError("INSERT", {}, _PgError("22003")), False, Verdict.INTERNAL),
    (KeyError("credits"), False, Verdict.INTERNAL),
    (KeyError("credits"), True, Verdict.INTERNAL),
]


@pytest.mark.parametrize(("exc", "committing", "verdict"), CASES, ids=lambda v: getattr(v, "name", None))
def test_classifies(exc: BaseException, committing: bool, verdict: Verdict) -> None:
    assert classify(exc, committing=committing) is verdict


def test_a_lost_race_at_commit_is_still_a_lost_race_when_the_connection_lives() -> None:
    exc = OperationalError("COMMIT", {}, _PgError("40001"))
    assert classify(exc, committing=True) is Verdict.LOST_RACE
