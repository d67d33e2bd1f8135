"""`Statement` (storage/statements.py): a Core statement compiled once per dialect and run on the
session's own driver connection, which must behave as `Session.execute` would for what the
domain relies on:

- values go through the column types' processors both ways, so an instant, a boolean, a JSON
  document and a decimal read back what the ORM wrote, and the ORM reads back what it wrote;
- rows are named tuples of the selected columns' keys; `first`, `scalar`, `all`, `execute`;
- it runs inside the session's transaction (the ORM sees its rows before commit, a rollback
  undoes them, a savepoint's rollback only what ran inside it);
- a driver error is SQLAlchemy's `DBAPIError` subclass (a unique race is an `IntegrityError`,
  a lost connection is invalidated), and the session recovers by rolling back;
- the engine's cursor listeners see its SQL;
- statements it cannot run as one fixed text (expanding IN, a parameter the compiler renamed)
  are refused at first use;
- one Statement object serves engines of different dialects.

Real migrated databases, once on a SQLite file and once on PostgreSQL (`backend_url`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, Table, bindparam, create_engine, event, func, select, text, union_all, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session as Db
from sqlalchemy.pool import NullPool

from ewallet.pipeline.classify import Verdict, classify
from ewallet.storage.database import create_db_engine, normalise_url, session_factory
from ewallet.storage.models import Account, CreditEwallet, Event, EwalletSession, InvoiceRecord, InvoiceSheet
from ewallet.storage.statements import Statement, insert_values

EVENTS = cast(Table, Event.__table__)
SESSIONS = cast(Table, EwalletSession.__table__)
INVOICES = cast(Table, InvoiceRecord.__table__)

#: Microseconds, and a zone that is not UTC: both must survive the trip.
INSTANT = datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=ZoneInfo("Europe/Bucharest"))
ACCOUNT = 7
DOCUMENT: dict[str, object] = {"credits": 5, "note": "café ✓", "nested": {"list": [1, 2.5, None, True, "x"]}}
COST = Decimal("123456789.07")

EVENT_COLUMNS = ("account_id", "kind", "ref_id", "once_key", "data", "create_date")
INSERT_EVENT_SQL = insert_values(EVENTS, EVENT_COLUMNS).returning(EVENTS.c.id)
INSERT_EVENT = Statement(INSERT_EVENT_SQL)
EVENT_BY_ID = Statement(
    select(EVENTS.c.id, EVENTS.c.kind.label("what"), EVENTS.c.data, EVENTS.c.create_date).where(
        EVENTS.c.id == bindparam("id")
    )
)
EVENTS_OF = Statement(
    select(EVENTS.c.id, EVENTS.c.kind).where(EVENTS.c.account_id == bindparam("account")).order_by(EVENTS.c.id)
)
LAST_KIND = Statement(
    select(EVENTS.c.kind).where(EVENTS.c.account_id == bindparam("account")).order_by(EVENTS.c.id.desc()).limit(1)
)
RENAME_KIND = Statement(
    update(EVENTS).where(EVENTS.c.account_id == bindparam("account")).values(kind=bindparam("new_kind"))
)


def event_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "kind": "credits_received",
        "ref_id": None,
        "once_key": None,
        "data": DOCUMENT,
        "create_date": INSTANT,
    }
    return values | changes


def fresh(engine: Engine) -> Db:
    """Another session, which only reads: what it sees comes from the database, not from an
    identity map, and on SQLite it does not wait for the writer's lock."""
    return session_factory(engine, read_only=True)()


def assert_same_instant_in_utc(found: object, expected: datetime) -> None:
    assert isinstance(found, datetime)
    assert found == expected
    assert found.utcoffset() == timedelta(0)
    assert found.microsecond == expected.microsecond


def invoice_sheet(db: Db) -> int:
    """An account's ewallet's invoice sheet, written through the ORM."""
    account = Account(
        name="ada",
        name_key="name-key-ada",
        email="ada@example.com",
        email_key="email-key-ada",
        pass_hash="not-checked",
        create_date=INSTANT,
        write_date=INSTANT,
    )
    db.add(account)
    db.flush()
    wallet = CreditEwallet(account_id=account.id, reference="wallet", create_date=INSTANT, write_date=INSTANT)
    db.add(wallet)
    db.flush()
    sheet = InvoiceSheet(ewallet_id=wallet.id, reference="invoices", create_date=INSTANT, write_date=INSTANT)
    db.add(sheet)
    db.flush()
    return sheet.id


def terminate(url: str, pid: int) -> None:
    """pg_terminate_backend from a connection of its own, waiting until the backend is gone (as
    `terminate_backends` of tests/reliability/test_database_trouble.py does for a server's)."""
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}) is True
    finally:
        admin.dispose()


class TestValuesBothWays:
    def test_an_instant_written_by_a_statement_is_read_by_the_orm_in_utc_with_microseconds(
        self, engine: Engine, db: Db
    ) -> None:
        seq = INSERT_EVENT.scalar(db, event_values())
        db.commit()
        with fresh(engine) as other:
            assert_same_instant_in_utc(other.get_one(Event, seq).create_date, INSTANT)

    def test_an_instant_written_by_the_orm_is_read_by_a_statement_as_an_aware_datetime(
        self, engine: Engine, db: Db
    ) -> None:
        written = Event(account_id=ACCOUNT, kind="login", data={}, create_date=INSTANT)
        db.add(written)
        db.commit()
        with fresh(engine) as other:
            assert_same_instant_in_utc(EVENT_BY_ID.first(other, {"id": written.id}).create_date, INSTANT)

    def test_an_instant_compares_as_an_instant_in_a_statements_where_clause(self, db: Db) -> None:
        for shift in (-1, 0, 1):
            INSERT_EVENT.scalar(db, event_values(ref_id=shift, create_date=INSTANT + timedelta(microseconds=shift)))
        later = Statement(
            select(EVENTS.c.ref_id)
            .where(EVENTS.c.account_id == bindparam("account"), EVENTS.c.create_date > bindparam("after"))
            .order_by(EVENTS.c.ref_id)
        )
        assert [row.ref_id for row in later.all(db, {"account": ACCOUNT, "after": INSTANT.astimezone(UTC)})] == [1]

    def test_a_boolean_is_read_as_a_bool_both_ways(self, engine: Engine, db: Db) -> None:
        columns = ("reference", "token_digest", "expiration_date", "had_login", "create_date", "write_date")
        insert_session = Statement(insert_values(SESSIONS, columns).returning(SESSIONS.c.id))
        stamps = {"reference": "session", "expiration_date": INSTANT, "create_date": INSTANT, "write_date": INSTANT}
        by_statement = insert_session.scalar(db, {"token_digest": b"\x01" * 32, "had_login": True, **stamps})
        by_orm = EwalletSession(token_digest=b"\x02" * 32, had_login=False, **stamps)
        db.add(by_orm)
        db.commit()
        read = Statement(select(SESSIONS.c.had_login, SESSIONS.c.token_digest).where(SESSIONS.c.id == bindparam("id")))
        with fresh(engine) as other:
            assert other.get_one(EwalletSession, by_statement).had_login is True
            assert tuple(read.first(other, {"id": by_statement})) == (True, b"\x01" * 32)
            assert tuple(read.first(other, {"id": by_orm.id})) == (False, b"\x02" * 32)
            assert type(read.first(other, {"id": by_orm.id}).had_login) is bool

    def test_a_json_document_round_trips_both_ways(self, engine: Engine, db: Db) -> None:
        by_statement = INSERT_EVENT.scalar(db, event_values())
        by_orm = Event(account_id=ACCOUNT, kind="login", data=DOCUMENT, create_date=INSTANT)
        db.add(by_orm)
        db.commit()
        with fresh(engine) as other:
            assert other.get_one(Event, by_statement).data == DOCUMENT
            assert EVENT_BY_ID.first(other, {"id": by_orm.id}).data == DOCUMENT
            assert EVENT_BY_ID.first(other, {"id": by_statement}).data == DOCUMENT

    def test_a_decimal_written_by_a_statement_is_read_exactly_by_the_orm(self, engine: Engine, db: Db) -> None:
        values = {
            "sheet_id": invoice_sheet(db),
            "reference": "invoice",
            "credits": 5,
            "currency": "RON",
            "cost": COST,
            "seller": "ewallet-system",
            "hidden": False,
            "create_date": INSTANT,
            "write_date": INSTANT,
        }
        insert_invoice = Statement(insert_values(INVOICES, list(values)).returning(INVOICES.c.id))
        invoice = insert_invoice.scalar(db, values)
        db.commit()
        with fresh(engine) as other:
            assert other.get_one(InvoiceRecord, invoice).cost == COST


def test_a_decimal_is_read_exactly_by_a_statement(engine: Engine, db: Db) -> None:
    invoice = InvoiceRecord(
        sheet_id=invoice_sheet(db),
        reference="invoice",
        credits=5,
        currency="RON",
        cost=COST,
        seller="ewallet-system",
        create_date=INSTANT,
        write_date=INSTANT,
    )
    db.add(invoice)
    db.commit()
    cost = Statement(select(INVOICES.c.cost).where(INVOICES.c.id == bindparam("id")))
    with fresh(engine) as other:
        found = cost.scalar(other, {"id": invoice.id})
    assert isinstance(found, Decimal)
    assert found == COST


class TestRows:
    def test_a_row_is_a_named_tuple_of_the_selected_keys_labels_included(self, db: Db) -> None:
        seq = INSERT_EVENT.scalar(db, event_values(kind="login"))
        row = EVENT_BY_ID.first(db, {"id": seq})
        assert row._fields == ("id", "what", "data", "create_date")
        assert (row.id, row.what) == (seq, "login")
        assert row == (seq, "login", DOCUMENT, INSTANT)

    def test_columns_without_a_usable_key_are_read_by_position(self, db: Db) -> None:
        seq = INSERT_EVENT.scalar(db, event_values())
        count = Statement(select(func.count()).select_from(EVENTS).where(EVENTS.c.account_id == bindparam("account")))
        assert count.scalar(db, {"account": ACCOUNT}) == 1
        same = EVENTS.alias("same")
        both = Statement(select(EVENTS.c.id, same.c.id).where(EVENTS.c.id == bindparam("id"), same.c.id == EVENTS.c.id))
        row = both.first(db, {"id": seq})
        assert tuple(row) == (seq, seq)
        assert row.id == seq

    def test_first_and_scalar_give_none_without_a_row(self, db: Db) -> None:
        assert EVENT_BY_ID.first(db, {"id": 999_999}) is None
        assert LAST_KIND.scalar(db, {"account": ACCOUNT}) is None

    def test_scalar_gives_the_first_column_of_the_first_row(self, db: Db) -> None:
        for kind in ("login", "clock_low", "timer_stopped"):
            INSERT_EVENT.scalar(db, event_values(kind=kind))
        assert LAST_KIND.scalar(db, {"account": ACCOUNT}) == "timer_stopped"

    def test_all_gives_every_row_in_order(self, db: Db) -> None:
        seqs = [INSERT_EVENT.scalar(db, event_values(kind=kind)) for kind in ("login", "clock_low")]
        INSERT_EVENT.scalar(db, event_values(account_id=ACCOUNT + 1))
        assert EVENTS_OF.all(db, {"account": ACCOUNT}) == [(seqs[0], "login"), (seqs[1], "clock_low")]
        assert EVENTS_OF.all(db, {"account": 999_999}) == []

    def test_execute_gives_the_number_of_rows_an_update_changed(self, db: Db) -> None:
        for _ in range(3):
            INSERT_EVENT.scalar(db, event_values())
        assert RENAME_KIND.execute(db, {"account": ACCOUNT, "new_kind": "login"}) == 3
        assert RENAME_KIND.execute(db, {"account": 999_999, "new_kind": "login"}) == 0
        assert {row.kind for row in EVENTS_OF.all(db, {"account": ACCOUNT})} == {"login"}

    def test_a_parameter_used_twice_is_bound_in_both_places(self, db: Db) -> None:
        INSERT_EVENT.scalar(db, event_values(kind="login", once_key="a"))
        INSERT_EVENT.scalar(db, event_values(kind="clock_low", once_key="login"))
        INSERT_EVENT.scalar(db, event_values(kind="clock_low", once_key="b"))
        either = Statement(
            union_all(
                select(EVENTS.c.once_key).where(EVENTS.c.kind == bindparam("word")),
                select(EVENTS.c.once_key).where(EVENTS.c.once_key == bindparam("word")),
            )
        )
        assert sorted(row.once_key for row in either.all(db, {"word": "login"})) == ["a", "login"]

    def test_values_the_statement_binds_itself_are_kept(self, db: Db) -> None:
        INSERT_EVENT.scalar(db, event_values(kind="login"))
        INSERT_EVENT.scalar(db, event_values(kind="clock_low"))
        first_login = Statement(
            select(EVENTS.c.kind).where(EVENTS.c.kind == "login", EVENTS.c.account_id == bindparam("account")).limit(1)
        )
        assert first_login.all(db, {"account": ACCOUNT}) == [("login",)]


class TestTransaction:
    def test_the_orm_sees_a_statements_row_before_commit_and_a_rollback_undoes_it(self, db: Db) -> None:
        seq = INSERT_EVENT.scalar(db, event_values(kind="login"))
        assert db.scalar(select(Event.kind).where(Event.id == seq)) == "login"
        db.rollback()
        assert db.scalar(select(Event.kind).where(Event.id == seq)) is None
        assert EVENT_BY_ID.first(db, {"id": seq}) is None

    def test_a_rollback_after_a_commit_undoes_only_the_new_transaction(self, db: Db) -> None:
        kept = INSERT_EVENT.scalar(db, event_values(kind="login"))
        db.commit()
        INSERT_EVENT.scalar(db, event_values(kind="clock_low"))
        db.rollback()
        assert EVENTS_OF.all(db, {"account": ACCOUNT}) == [(kept, "login")]

    def test_a_savepoints_rollback_undoes_only_what_ran_inside_it(self, db: Db) -> None:
        before = INSERT_EVENT.scalar(db, event_values(kind="login"))
        savepoint = db.begin_nested()
        INSERT_EVENT.scalar(db, event_values(kind="clock_low"))
        savepoint.rollback()
        after = INSERT_EVENT.scalar(db, event_values(kind="timer_stopped"))
        kept = db.begin_nested()
        inside = INSERT_EVENT.scalar(db, event_values(kind="clock_low"))
        kept.commit()
        db.commit()
        assert EVENTS_OF.all(db, {"account": ACCOUNT}) == [
            (before, "login"),
            (after, "timer_stopped"),
            (inside, "clock_low"),
        ]

    def test_a_statement_sees_the_orms_flushed_row_before_commit(self, db: Db) -> None:
        written = Event(account_id=ACCOUNT, kind="login", data={}, create_date=INSTANT)
        db.add(written)
        db.flush()
        assert EVENT_BY_ID.first(db, {"id": written.id}).what == "login"

    def test_a_commit_keeps_the_row_for_other_sessions(self, engine: Engine, db: Db) -> None:
        seq = INSERT_EVENT.scalar(db, event_values())
        with fresh(engine) as other:
            assert EVENT_BY_ID.first(other, {"id": seq}) is None
        db.commit()
        with fresh(engine) as other:
            assert EVENT_BY_ID.first(other, {"id": seq}).id == seq


class TestDriverErrors:
    def test_a_unique_violation_is_an_integrity_error_a_lost_race_and_the_session_recovers(self, db: Db) -> None:
        INSERT_EVENT.scalar(db, event_values(once_key="warned-once"))
        with pytest.raises(IntegrityError) as caught:
            INSERT_EVENT.scalar(db, event_values(once_key="warned-once"))
        assert classify(caught.value) is Verdict.LOST_RACE
        db.rollback()
        seq = INSERT_EVENT.scalar(db, event_values(once_key="warned-once"))
        db.commit()
        assert [row.id for row in EVENTS_OF.all(db, {"account": ACCOUNT})] == [seq]

    @pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
    def test_a_connection_lost_mid_transaction_is_invalidated(self, backend_url: str, db: Db) -> None:
        backend = Statement(select(func.pg_backend_pid().label("pid")))
        pid = backend.scalar(db)
        terminate(backend_url, pid)
        with pytest.raises(DBAPIError) as caught:
            EVENTS_OF.all(db, {"account": ACCOUNT})
        assert caught.value.connection_invalidated
        assert classify(caught.value) is Verdict.OUTAGE
        assert classify(caught.value, committing=True) is Verdict.OUTCOME_UNKNOWN
        db.rollback()
        assert backend.scalar(db) != pid
        assert EVENTS_OF.all(db, {"account": ACCOUNT}) == []


class TestRefusals:
    def test_an_expanding_in_is_refused_at_first_use(self, db: Db) -> None:
        among = Statement(select(EVENTS.c.id).where(EVENTS.c.id.in_(bindparam("ids", expanding=True))))
        with pytest.raises(TypeError, match="per execution"):
            among.all(db, {"ids": [1, 2]})

    def test_parameters_the_compiler_renamed_are_refused_at_first_use(self, db: Db) -> None:
        both = Statement(
            select(EVENTS.c.id).where(
                EVENTS.c.kind == bindparam("kind", unique=True), EVENTS.c.once_key == bindparam("kind", unique=True)
            )
        )
        with pytest.raises(TypeError, match="renamed"):
            both.all(db, {"kind": "login"})

    def test_a_literal_none_is_not_taken_for_a_renamed_parameter(self, db: Db) -> None:
        seq = INSERT_EVENT.scalar(db, event_values(ref_id=5))
        forget = Statement(update(EVENTS).where(EVENTS.c.id == bindparam("id")).values(ref_id=None))
        assert forget.execute(db, {"id": seq}) == 1
        assert db.scalar(select(Event.ref_id).where(Event.id == seq)) is None

    def test_a_missing_parameter_is_named_and_nothing_runs(self, db: Db) -> None:
        values = event_values()
        del values["create_date"]
        with pytest.raises(TypeError, match="create_date"):
            INSERT_EVENT.scalar(db, values)
        assert EVENTS_OF.all(db, {"account": ACCOUNT}) == []


def test_the_engines_cursor_listeners_see_the_statements_sql(engine: Engine, db: Db) -> None:
    seen: list[tuple[str, str]] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(("before", sql))

    def after(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(("after", sql))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        INSERT_EVENT.scalar(db, event_values())
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    sql = INSERT_EVENT_SQL.compile(dialect=engine.dialect).string
    assert ("before", sql) in seen
    assert ("after", sql) in seen
    assert seen.index(("before", sql)) < seen.index(("after", sql))


@pytest.mark.parametrize("backend_url", ["postgresql"], indirect=True)
def test_one_statement_serves_a_sqlite_engine_and_a_postgresql_engine(sqlite_url: str, backend_url: str) -> None:
    insert = Statement(INSERT_EVENT_SQL)
    by_id = Statement(EVENT_BY_ID.statement)
    last_kind = Statement(LAST_KIND.statement)
    sqlite, postgresql = create_db_engine(sqlite_url, pool_size=1), create_db_engine(backend_url, pool_size=1)
    try:
        for engine in (sqlite, postgresql, sqlite, postgresql):
            with session_factory(engine).begin() as db:
                seq = insert.scalar(db, event_values(kind=engine.dialect.name))
                row = by_id.first(db, {"id": seq})
                assert (row.what, row.data) == (engine.dialect.name, DOCUMENT)
                assert_same_instant_in_utc(row.create_date, INSTANT)
                assert last_kind.scalar(db, {"account": ACCOUNT}) == engine.dialect.name
    finally:
        sqlite.dispose()
        postgresql.dispose()
