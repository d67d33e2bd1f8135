"""The README's documentation claims stay true: every module has a row in the architecture table,
the PostgreSQL skip says what the tests need, and the netcat examples give a portable form."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.exc import OperationalError

from tests.conftest import postgres_skip_reason

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def architecture_rows() -> list[str]:
    section = README.split("\n## Architecture\n", 1)[1].split("\n### ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `ewallet/")]


def modules() -> list[Path]:
    package = ROOT / "ewallet"
    return sorted(
        path for path in package.rglob("*.py") if path.name != "__init__.py" and "migrations" not in path.parts
    )


class TestArchitectureTable:
    def test_every_module_has_a_row(self) -> None:
        rows = architecture_rows()
        missing = []
        for path in modules():
            relative = path.relative_to(ROOT).as_posix()
            package = path.parent.relative_to(ROOT).as_posix() + "/"
            own_row = any(f"`{relative}`" in row for row in rows)
            # A package's row covers its modules: by name when it names any module, else as a whole.
            package_rows = [row for row in rows if row.startswith(f"| `{package}`")]
            in_package_row = any(
                path.name in row or not re.search(r"\b[a-z_]+\.py\b", row.split("|")[2]) for row in package_rows
            )
            if not own_row and not in_package_row:
                missing.append(relative)
        assert not missing, f"modules without a row in the README's architecture table: {missing}"


class TestPostgresSkip:
    def test_names_the_missing_test_database_and_how_to_create_it(self) -> None:
        exc = OperationalError("connect", {}, Exception('FATAL:  database "test" does not exist'))
        reason = postgres_skip_reason("postgresql+psycopg://postgres:pw@127.0.0.1:5432/test", exc)
        assert "no database named 'test'" in reason
        assert "createdb test" in reason and "EWALLET_TEST_POSTGRES" in reason
        assert "pw" not in reason

    def test_an_unreachable_server_still_says_what_the_tests_need(self) -> None:
        exc = OperationalError("connect", {}, Exception("connection refused"))
        reason = postgres_skip_reason("postgresql+psycopg://postgres@127.0.0.1:5432/test", exc)
        assert "is not usable" in reason and "database named 'test'" in reason


class TestDocErrors:
    def test_gives_a_portable_netcat_form(self) -> None:
        assert "nc -w1 127.0.0.1 8080" in README

    def test_defines_overrun(self) -> None:
        assert "an overrun — a line over the frame limit" in README

    def test_says_the_request_id_selects_nothing(self) -> None:
        assert '`"id":1` is not ewallet 1' in README

    def test_lists_every_dev_extra(self) -> None:
        extra = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("dev = [", 1)[1].split("]", 1)[0]
        names = re.findall(r'"([A-Za-z0-9_-]+)', extra)
        paragraph = README.split("Test extra (`.[dev]`)", 1)[1].split("\n\n", 1)[0]
        for name in names:
            assert name.lower() in paragraph.lower(), name
