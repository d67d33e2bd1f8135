"""Engines from a URL. SQLite is made durable and serialised for writers: WAL, synchronous=FULL
(an acknowledged instruction is on disk), a busy timeout, foreign keys, and BEGIN IMMEDIATE so
that two writers never both read before either writes."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ewallet.storage.statements import run_on_driver

log = logging.getLogger(__name__)

#: Execution option marking a connection whose transactions only read.
READ_ONLY = "ewallet_read_only"


def normalise_url(url: str | URL) -> URL:
    """postgresql:// means psycopg 3 here, never the psycopg2 default."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_db_engine(url: str | URL, *, busy_timeout: float = 5.0, pool_size: int = 20) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database cannot be shared by the server's threads: use a file")
        engine = create_engine(
            parsed,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=pool_size,
            hide_parameters=True,
        )
        _make_sqlite_durable(engine, busy_timeout)
        _send_savepoints_directly(engine)
        return engine
    kwargs: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_pre_ping": True,
        # an exception's text (and so a logged traceback) never carries statement
        # parameters: password hashes, emails, phones.
        "hide_parameters": True,
    }
    engine = create_engine(parsed, **kwargs)
    _send_savepoints_directly(engine)
    return engine


def _send_savepoints_directly(engine: Engine) -> None:
    """Group commit wraps every instruction in a savepoint. SQLAlchemy builds and compiles a new
    SAVEPOINT clause each time (about a sixth of a transfer's CPU); the text is fixed, so it
    goes to the driver as text, with errors raised as SQLAlchemy raises them."""
    dialect: Any = engine.dialect
    dialect.do_savepoint = _as_text("SAVEPOINT {}")
    dialect.do_release_savepoint = _as_text("RELEASE SAVEPOINT {}")
    dialect.do_rollback_to_savepoint = _as_text("ROLLBACK TO SAVEPOINT {}")


def _as_text(template: str) -> Callable[[Connection, str], None]:
    def send(connection: Connection, name: str) -> None:
        run_on_driver(connection, template.format(name)).close()

    return send


def _make_sqlite_durable(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" event below then decides how a
        # transaction starts, instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor, busy_timeout)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        # A loaded database must not fall out of the page cache on every instruction: a larger
        # cache per connection, and reads through a memory map instead of read() calls.
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Readers take a snapshot (WAL lets them run beside the writer); writers take the
        # write lock up front, so no two writers both read before either writes.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch to WAL. On a new file two processes connecting at once may both try: SQLite then
    answers one of them "database is locked" at once, without consulting its busy handler, so
    the wait the busy timeout promises is done here."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions whose transactions write (the default) or only read."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False, autoflush=True)


def snapshot_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that read one consistent snapshot and never delay a writer (`ewallet audit`):
    PostgreSQL `REPEATABLE READ, READ ONLY`; SQLite a deferred `BEGIN`, whose
    first read fixes the snapshot that WAL keeps for it while writers go on committing."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False, autoflush=False)


def database_answers(bind: Engine | Connection) -> bool:
    """Whether the database answers a trivial query, on a connection of its own (never the
    caller's transaction, which a failure would leave unusable)."""
    engine = bind.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
