"""`ewallet audit` against damage (PROTOCOL §11 "`ewallet audit`" and its structural invariants):
a healthy busy database made through a real server passes; each row of the tamper table damages
a copy of it behind the server's back and the audit must fail naming the object. Both backends.
The README's Reliability section shows this table with the lines the audit prints."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from ewallet.storage.database import create_db_engine
from scripts.drills.audit import audit_cli
from tests.conftest import PG_URL, RUN_ID, _pg_admin
from tests.money import busy
from tests.money.books import audit_of, tamper
from tests.money.damage import TABLE, Damage


@dataclass(frozen=True)
class Busy:
    """The healthy busy database of one backend, kept as a template, and the ids it holds."""

    backend: str
    #: a SQLite file, or the name of a PostgreSQL database
    template: str
    ids: dict[str, int]

    def copy(self, folder: Path) -> str:
        if self.backend == "sqlite":
            target = folder / "damaged.db"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        name = f"ewallet_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _admin(statement: str) -> None:
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def _drop(url: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def healthy(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Busy]:
    """Built once per backend (a real server, two runs of it) and copied for every test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("busy") / "busy.db"
        shutil.copyfile(sqlite_template, path)
        url, template = f"sqlite:///{path}", str(path)
    else:
        template = f"ewallet_test_{RUN_ID}_busy"
        _admin(f'CREATE DATABASE "{template}" TEMPLATE "{request.getfixturevalue("postgres_template")}"')
        url = make_url(PG_URL).set(database=template).render_as_string(hide_password=False)
    try:
        asyncio.run(busy.build(url))
        engine = create_db_engine(url, pool_size=1)
        try:
            ids = busy.ids(engine)
        finally:
            engine.dispose()
        yield Busy(request.param, template, ids)
    finally:
        if request.param == "postgresql":
            _drop(url)


@pytest.fixture
def damaged(healthy: Busy, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh copy of the healthy database, and an engine on it for tampering."""
    url = healthy.copy(tmp_path)
    engine = create_db_engine(url, pool_size=1)
    try:
        yield url, engine
    finally:
        engine.dispose()
        if healthy.backend == "postgresql":
            _drop(url)


class TestHealthyBusyDatabase:
    def test_passes_with_every_check_counted(self, healthy: Busy, damaged: tuple[str, Engine]) -> None:
        done = audit_cli(damaged[0])
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert lines[-1] == "books balance"
        assert not [line for line in lines if line.startswith("FINDING")]
        counted = dict(re.findall(r"^([a-z ]+) checked: (\d+)", done.stdout, re.MULTILINE))
        assert int(counted["accounts"]) == len(busy.NAMES)
        assert int(counted["transfer records"]) > 100
        print(f"\n{healthy.backend}:\n{done.stdout}")


def _printed(expected: str, problems: list[str]) -> str | None:
    """The finding line that matches: the same line, or one starting with a line ending in "…"."""
    if expected.endswith("…"):
        return next((problem for problem in problems if problem.startswith(expected[:-1])), None)
    return expected if expected in problems else None


class TestTamperTable:
    @pytest.mark.parametrize("damage", TABLE, ids=[d.name for d in TABLE])
    def test_names_the_damage(self, healthy: Busy, damaged: tuple[str, Engine], damage: Damage) -> None:
        engine = damaged[1]
        tamper(engine, *damage.statements, unchecked=damage.unchecked, **healthy.ids)
        report = audit_of(engine)
        assert not report.clean
        for expected in damage.findings:
            line = _printed(expected.format(**healthy.ids), report.problems)
            assert line is not None, (expected, report.problems)
            print(f"\n| {damage.name} | `{line}` |", end="")
