"""The README stays true: its configuration table matches Settings, and the commands it gives a
newcomer are the ones CI runs."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import fields
from pathlib import Path

from ewallet.cli import build_parser
from ewallet.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_flags() -> dict[str, str]:
    """{field name: flag} as `ewallet serve` actually parses them."""
    parser = build_parser()
    serve = next(a for a in parser._actions if a.dest == "command").choices["serve"]  # type: ignore[union-attr]
    return {action.dest: action.option_strings[0] for action in serve._actions if action.option_strings[0] != "-h"}


class TestConfigurationTable:
    def test_the_readme_table_is_the_generated_one(self) -> None:
        generator = _generator()
        assert generator.readme_table(README) == generator.settings_table(), (
            "README.md's configuration table is stale: run `python scripts/settings_table.py --write`"
        )

    def test_every_setting_appears_once_with_its_variable_and_flag(self) -> None:
        rows = re.findall(r"^\| `(EWALLET_[A-Z0-9_]+)` \| `(--[a-z0-9-]+)` \|", README, re.MULTILINE)
        expected = {ENV_PREFIX + f.name.upper(): flag for f in fields(Settings) for flag in [serve_flags()[f.name]]}
        assert len(rows) == len(expected)
        assert dict(rows) == expected

    def test_every_default_matches(self) -> None:
        rows = re.findall(r"^\| `(EWALLET_[A-Z0-9_]+)` \| `--[a-z0-9-]+` \| `([^`]*)` \|", README, re.MULTILINE)
        documented = dict(rows)
        for f in fields(Settings):
            shown = documented[ENV_PREFIX + f.name.upper()]
            if f.default is None:
                assert shown == "unset", f.name
            elif isinstance(f.default, bool):
                assert shown.startswith("1" if f.default else "0"), f.name
            else:
                assert shown == str(f.default), f.name


class TestCommands:
    def test_gives_the_install_and_serve_command(self) -> None:
        assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/ewallet serve" in README

    def test_ci_runs_the_readmes_test_command(self) -> None:
        assert "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest" in README
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        assert re.search(r"python\"? -m pytest", ci)
        assert "ruff check ." in ci

    def test_gives_the_netcat_example(self) -> None:
        assert (
            """printf '{"controller":"client","ctype":"action","action":"request","request":"client_id"}\\n'"""
            """ | nc -q1 127.0.0.1 8080"""
        ) in README

    def test_keeps_the_permission_sheet_section(self) -> None:
        assert "\n## Permission sheet\n" in README
