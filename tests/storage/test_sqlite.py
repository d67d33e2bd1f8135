"""SQLite is made durable and serialised (issue 2, §2): every pooled connection runs in WAL mode
with synchronous=FULL, foreign keys on and a busy timeout; a transaction takes the write lock
at BEGIN."""

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from ewallet.storage.database import create_db_engine
from tests.support import running_server


def pragmas(connection: Connection) -> dict[str, object]:
    found = {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("synchronous", "journal_mode", "foreign_keys", "busy_timeout")
    }
    connection.rollback()  # every transaction takes the write lock: give it back
    return found


class TestPragmas:
    def test_every_connection_of_the_pool_is_durable(self, sqlite_url: str) -> None:
        engine = create_db_engine(sqlite_url, pool_size=3, busy_timeout=2.5)
        connections = [engine.connect() for _ in range(6)]  # the pool and its overflow
        try:
            for connection in connections:
                assert pragmas(connection) == {
                    "synchronous": 2,
                    "journal_mode": "wal",
                    "foreign_keys": 1,
                    "busy_timeout": 2500,
                }
        finally:
            for connection in connections:
                connection.close()
            engine.dispose()

    def test_a_recycled_connection_keeps_its_settings(self, sqlite_url: str) -> None:
        engine = create_db_engine(sqlite_url, pool_size=1)
        try:
            for _ in range(3):
                with engine.connect() as connection:
                    assert pragmas(connection)["synchronous"] == 2
                engine.dispose()  # the next checkout opens a brand-new connection
        finally:
            engine.dispose()

    async def test_the_servers_own_engine_is_durable(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url) as running:
            with running.app.engine.connect() as connection:
                found = pragmas(connection)
            assert (found["synchronous"], found["journal_mode"]) == (2, "wal")

    def test_refuses_an_in_memory_database(self) -> None:
        with pytest.raises(ValueError):
            create_db_engine("sqlite://")


class TestWriteLock:
    def test_a_transaction_holds_the_write_lock_from_its_start(self, sqlite_url: str) -> None:
        first = create_db_engine(sqlite_url, busy_timeout=0.1)
        second = create_db_engine(sqlite_url, busy_timeout=0.1)
        try:
            with first.begin() as holder:
                holder.execute(text("SELECT 1"))  # reads only, yet the write lock is taken
                with pytest.raises(OperationalError, match="locked"), second.begin() as other:
                    other.execute(text("SELECT 1"))
            with second.begin() as other:  # released at commit
                other.execute(text("SELECT 1"))
        finally:
            first.dispose()
            second.dispose()

    def test_foreign_keys_are_enforced(self, sqlite_url: str) -> None:
        engine = create_db_engine(sqlite_url)
        try:
            with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO session_stack (session_id, account_id, position) VALUES (999, 999, 1)")
                )
        finally:
            engine.dispose()
