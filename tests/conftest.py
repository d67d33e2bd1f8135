"""Fixtures: fresh databases (a SQLite file, and a PostgreSQL database created for each test
from a migrated template), and real servers on a free port."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as Db
from sqlalchemy.pool import NullPool

from ewallet.clock import ManualClock
from ewallet.domain.events import EVENTS_BEGAN
from ewallet.storage.database import create_db_engine, session_factory
from ewallet.storage.migrate import upgrade
from ewallet.storage.models import Base, Event
from scripts.drills.processes import PG_ADMIN_URL, TRANSACTIONS, postgres_database
from tests.support import LineClient, Running, running_server

#: The server the PostgreSQL tests use (EWALLET_TEST_POSTGRES); the drills read the same.
PG_URL = PG_ADMIN_URL
IN_CI = os.environ.get("CI", "").lower() == "true"
RUN_ID = uuid.uuid4().hex[:8]


def _pg_admin():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def postgres_skip_reason(url: str, exc: BaseException) -> str:
    """Why the PostgreSQL tests are skipped, and what to do: they need a server at `url` with the
    database `url` names (by default `test`), which they use only to create their own."""
    shown = make_url(url)
    where = shown.render_as_string(hide_password=True)
    name = shown.database or "test"
    if f'database "{name}" does not exist' in str(exc):
        problem = f"has no database named {name!r}"
    elif "password authentication failed" in str(exc) or "no password supplied" in str(exc):
        problem = "refused the credentials"
    elif isinstance(exc, ImportError):
        problem = "cannot be used without its driver"
    else:
        problem = f"is not usable ({type(exc).__name__})"
    return (
        f"PostgreSQL tests skipped: PostgreSQL at {where} {problem}; they need a server there with a database "
        f"named {name!r} (`createdb {name}`), or EWALLET_TEST_POSTGRES naming another"
    )


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated database to clone; created once per run, dropped at its end."""
    name = f"ewallet_test_{RUN_ID}_template"
    try:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server, missing driver, no permission
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unusable: {type(exc).__name__}")
        pytest.skip(postgres_skip_reason(PG_URL, exc))
    url = make_url(PG_URL).set(database=name)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "ewallet.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def postgres_scratch(postgres_template: str) -> Iterator[str]:
    """One migrated database per test process, cloned once. Each test empties it instead of
    cloning a database of its own: a clone costs about half a second here, emptying a few
    milliseconds, and a PostgreSQL test would otherwise spend most of its time on it."""
    with postgres_database(f"ewallet_test_{RUN_ID}_scratch", template=postgres_template) as url:
        yield url


_TABLES = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)


def _empty(url: str) -> None:
    """As freshly migrated: every row gone, every id sequence back at 1. Connections left by an
    earlier test (a killed server's, say) are ended first, so nothing holds a lock."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
            # The migration's marker of where events began to be kept: before every record.
            conn.execute(insert(Event).values(kind=EVENTS_BEGAN, ref_id=0, data={}, create_date=datetime.now(UTC)))
    finally:
        engine.dispose()


def _fresh_database(request: pytest.FixtureRequest, backend: str, sqlite_template: Path, tmp_path: Path) -> str:
    if backend == "sqlite":
        return _fresh_sqlite(sqlite_template, tmp_path)
    url: str = request.getfixturevalue("postgres_scratch")
    _empty(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated database on each backend, for tests that run no server."""
    return _fresh_database(request, request.param, sqlite_template, tmp_path)


@pytest.fixture
def engine(backend_url: str) -> Iterator[Engine]:
    """An engine on `backend_url` (the domain and storage tiers' tests)."""
    engine = create_db_engine(backend_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Db]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture(params=["sqlite", "sqlite-pooled", "postgresql"])
def database_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each backend, served under each transaction policy the
    backend may run (PostgreSQL pools; SQLite groups by default and may pool): storage-sensitive
    tests run on all three."""
    backend, _, policy = request.param.partition("-")
    TRANSACTIONS["policy"] = policy or "auto"
    try:
        yield _fresh_database(request, backend, sqlite_template, tmp_path)
    finally:
        TRANSACTIONS["policy"] = "auto"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def server(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    """A real server on a free port, SQLite file, controllable clock."""
    async with running_server(sqlite_url, clock) as running:
        yield running


@pytest.fixture
async def any_server(database_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    """The same, once on SQLite and once on PostgreSQL."""
    async with running_server(database_url, clock) as running:
        yield running


@pytest.fixture(autouse=True)
async def close_clients(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Every client a test opens is closed at its end (an unclosed stream is a warning, and
    warnings are errors here)."""
    opened: list[LineClient] = []
    connect = LineClient.connect.__func__  # type: ignore[attr-defined]

    async def tracked(cls: type[LineClient], port: int, host: str = "127.0.0.1") -> LineClient:
        client = await connect(cls, port, host)
        opened.append(client)
        return client

    monkeypatch.setattr(LineClient, "connect", classmethod(tracked))
    yield
    for client in opened:
        await client.close()
