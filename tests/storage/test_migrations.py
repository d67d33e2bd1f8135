"""Migrations at start (issue 2, §8): applied under a lock, so two processes migrating one fresh
database at once both succeed and the schema is created exactly once. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from ewallet.storage.database import create_db_engine
from ewallet.storage.migrate import alembic_config, upgrade
from ewallet.storage.models import Base
from tests.conftest import IN_CI, PG_URL

MIGRATE = textwrap.dedent(
    """
    import os, sys, time
    from sqlalchemy import event
    from ewallet.storage.database import create_db_engine
    from ewallet.storage.migrate import upgrade

    url, go = sys.argv[1], sys.argv[2]
    engine = create_db_engine(url, busy_timeout=60)
    created = []

    @event.listens_for(engine, "before_cursor_execute")
    def count_tables(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)

    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.002)
    upgrade(engine)
    print(len(created), flush=True)
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the migrations."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"ewallet_test_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but unusable: {type(exc).__name__}")
        pytest.skip("PostgreSQL is unreachable")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


class TestMigrationLock:
    def test_two_processes_migrating_at_once_both_succeed_and_migrate_once(
        self, empty_database_url: str, tmp_path: Path
    ) -> None:
        go = tmp_path / "go"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE, empty_database_url, str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for process in processes:
                assert process.stdout is not None
                assert process.stdout.readline().strip() == "ready"
            go.touch()
            results = [process.communicate(timeout=120) for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        assert [p.returncode for p in processes] == [0, 0], [err for _, err in results]
        # One process created every table (the models' and alembic_version); the other, none.
        tables_created = sorted(int(out.strip()) for out, _ in results)
        assert tables_created[0] == 0
        assert tables_created[1] >= len(Base.metadata.tables) + 1
        engine = create_db_engine(empty_database_url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                    head_revision()
                ]
                assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
        finally:
            engine.dispose()

    def test_migrating_an_up_to_date_database_changes_nothing(self, empty_database_url: str) -> None:
        engine = create_db_engine(empty_database_url)
        try:
            upgrade(engine)
            with engine.connect() as conn:
                before = sorted(inspect(conn).get_table_names())
            upgrade(engine)
            with engine.connect() as conn:
                assert sorted(inspect(conn).get_table_names()) == before
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        finally:
            engine.dispose()
