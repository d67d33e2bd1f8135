"""Alembic migrations, applied at start under a lock so that two processes starting together
never both migrate: a transaction-scoped advisory lock on PostgreSQL, the write lock that
BEGIN IMMEDIATE takes on SQLite. The second process waits, then finds nothing to do."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).with_name("migrations")
#: Any constant shared by every ewallet process; "ewallet" in ASCII.
ADVISORY_LOCK_KEY = 0x657761_6C6C6574


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def up_to_date(engine: Engine) -> bool:
    """Whether the database is already at the head revision: a start then skips Alembic's
    environment (loading every migration script) altogether."""
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no version table yet: a new database
        return False
    return current == [head_revision()]


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and up_to_date(engine):
        return
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
