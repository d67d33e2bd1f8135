"""Startup and configuration errors (issue 13, items 1-3): the real `ewallet` command in a
subprocess, in an empty folder. Each error is exactly one line on stderr, nothing on stdout,
exit status 2 for a setting to fix or 3 for a resource that is unavailable, and the folder is
still empty afterwards: no database file, no migration, before the settings are known good."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.client.helpers import EWALLET, Finished, closed_port

PG_URL = os.environ.get("EWALLET_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Finished:
    """`ewallet ARGS` in `cwd` with no EWALLET_* variable but those given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    done = subprocess.run(
        [*EWALLET, *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def one_line_error(done: Finished, status: int, *words: str) -> str:
    """The run wrote one line on stderr, containing `words`, nothing on stdout, and exited `status`."""
    assert (done.status, done.out) == (status, ""), done.err
    assert len(done.err.splitlines()) == 1 and done.err.endswith("\n"), done.err
    assert done.err.startswith("ewallet: ")
    for word in words:
        assert word in done.err
    return done.err


def nothing_in(folder: Path) -> None:
    assert list(folder.iterdir()) == []


@pytest.fixture
def pg_admin() -> Iterator[object]:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception:
        pytest.skip("PostgreSQL is unreachable")
    yield engine
    engine.dispose()


class TestBadConfigurationExits2AndCreatesNothing:
    @pytest.mark.parametrize(
        ("args", "env", "words"),
        [
            (["--port", "99999"], {}, ["EWALLET_PORT", "0 to 65535"]),
            (["--port", "-1"], {}, ["EWALLET_PORT"]),
            (["--http-port", "70000"], {}, ["EWALLET_HTTP_PORT"]),
            ([], {"EWALLET_PORT": "eighty"}, ["EWALLET_PORT"]),
            (["--log-level", "chatty"], {}, ["EWALLET_LOG_LEVEL", "DEBUG, INFO"]),
            (["--database", "foo://bar"], {}, ["EWALLET_DATABASE_URL", "sqlite:///"]),
            (["--database", "not a url"], {}, ["EWALLET_DATABASE_URL"]),
            (["--database", "sqlite://"], {}, ["in-memory"]),
            (["--database", "postgresql+asyncpg://u@h/d"], {}, ["EWALLET_DATABASE_URL"]),
            (["--host", "no-such-host.invalid"], {}, ["EWALLET_HOST"]),
            (["--port", "0", "--http-port", "0", "--transactions", "fast"], {}, ["EWALLET_TRANSACTIONS"]),
        ],
        ids=[
            "port-range",
            "port-negative",
            "http-port-range",
            "port-not-a-number",
            "log-level",
            "foreign-scheme",
            "not-a-url",
            "in-memory-sqlite",
            "async-driver",
            "unknown-host",
            "transactions",
        ],
    )
    def test_serve(self, tmp_path: Path, args: list[str], env: dict[str, str], words: list[str]) -> None:
        one_line_error(run("serve", *args, cwd=tmp_path, env=env), 2, *words)
        nothing_in(tmp_path)

    def test_a_sqlite_folder_that_does_not_exist_is_named_and_not_created(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path}/transcripts/ewallet.db"
        error = one_line_error(run("serve", "--database", url, cwd=tmp_path), 2, "does not exist", "mkdir -p")
        assert f"{tmp_path}/transcripts" in error
        nothing_in(tmp_path)

    def test_the_same_folder_through_the_environment(self, tmp_path: Path) -> None:
        env = {"EWALLET_DATABASE_URL": "sqlite:///missing/ewallet.db"}
        one_line_error(run("serve", cwd=tmp_path, env=env), 2, "missing")
        nothing_in(tmp_path)

    def test_http_alone_checks_the_same_way(self, tmp_path: Path) -> None:
        one_line_error(run("http", "--log-level", "loud", cwd=tmp_path), 2, "EWALLET_LOG_LEVEL")
        nothing_in(tmp_path)

    def test_a_missing_postgresql_database_is_named(self, tmp_path: Path, pg_admin: object) -> None:
        name = f"ewallet_absent_{uuid.uuid4().hex[:8]}"
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        one_line_error(run("serve", "--port", "0", "--database", url, cwd=tmp_path), 2, f'"{name}"', "createdb")
        nothing_in(tmp_path)


class TestShortSystemKey:
    def test_refuses_to_start_and_never_echoes_the_key(self, tmp_path: Path) -> None:
        key = "k" * 31
        error = one_line_error(run("serve", "--port", "0", "--system-key", key, cwd=tmp_path), 2, "EWALLET_SYSTEM_KEY")
        assert "32" in error and key not in error
        nothing_in(tmp_path)

    def test_from_the_environment_too(self, tmp_path: Path) -> None:
        one_line_error(run("serve", "--port", "0", cwd=tmp_path, env={"EWALLET_SYSTEM_KEY": "short"}), 2, "32")
        nothing_in(tmp_path)


class TestUnavailableResourceExits3:
    def test_a_port_in_use(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            one_line_error(run("serve", "--port", str(port), cwd=tmp_path), 3, f"port {port}", "in use", "--port")
        nothing_in(tmp_path)

    def test_an_http_port_in_use(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            one_line_error(run("http", "--port", str(port), cwd=tmp_path), 3, f"port {port}", "in use")
        nothing_in(tmp_path)

    def test_postgresql_down(self, tmp_path: Path) -> None:
        url = f"postgresql://postgres:secret-pw@127.0.0.1:{closed_port()}/test"
        error = one_line_error(run("serve", "--port", "0", "--database", url, cwd=tmp_path), 3, "PostgreSQL")
        assert "secret-pw" not in error
        nothing_in(tmp_path)


class TestAuditNeedsAnEwalletDatabase:
    def test_a_missing_file_is_named_and_not_created(self, tmp_path: Path) -> None:
        done = run("audit", "--database", "sqlite:///ewallet.db", cwd=tmp_path)
        one_line_error(done, 2, "no ewallet database at ewallet.db")
        nothing_in(tmp_path)

    def test_a_sqlite_file_without_the_schema_is_left_as_it_was(self, tmp_path: Path) -> None:
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as connection:
            connection.execute("CREATE TABLE notes (id INTEGER)")
        connection.close()
        before = other.read_bytes()
        one_line_error(run("audit", "--database", f"sqlite:///{other}", cwd=tmp_path), 2, "no ewallet database at")
        assert [p.name for p in tmp_path.iterdir()] == ["other.db"]
        assert other.read_bytes() == before  # not even switched to WAL

    def test_a_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        (tmp_path / "notes.txt").write_text("hello\n")
        one_line_error(run("audit", "--database", "sqlite:///notes.txt", cwd=tmp_path), 2, "no ewallet database")

    def test_a_postgresql_database_without_the_schema(self, tmp_path: Path, pg_admin: object) -> None:
        name = f"ewallet_empty_{uuid.uuid4().hex[:8]}"
        with pg_admin.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            one_line_error(run("audit", "--database", url, cwd=tmp_path), 2, "no ewallet database at", name)
        finally:
            with pg_admin.connect() as conn:  # type: ignore[attr-defined]
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def test_a_migrated_database_is_audited(self, tmp_path: Path, sqlite_url: str) -> None:
        done = run("audit", "--database", sqlite_url, cwd=tmp_path)
        assert done.status == 0, done.err
        assert done.out.splitlines()[-1] == "books balance"
