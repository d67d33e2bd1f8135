"""Alembic migrations, applied at start under a lock so that two processes starting together
never both migrate: a transaction-scoped advisory lock on PostgreSQL, the write lock that
BEGIN IMMEDIATE takes on SQLite. The second process waits, then finds nothing to do."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
#: Any constant shared by every ewallet process; "ewallet" in ASCII.
ADVISORY_LOCK_KEY = 0x657761_6C6C6574


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
