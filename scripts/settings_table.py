#!/usr/bin/env python3
"""Print the README's configuration table, generated from ewallet.settings.Settings: one row per
field with its EWALLET_* variable, its `ewallet serve` flag, its default and its help text.

    python scripts/settings_table.py           # print the table
    python scripts/settings_table.py --write   # replace the table in README.md

tests/test_readme.py fails when README.md and Settings disagree.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import MISSING, fields
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def _default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "1 (on)" if value else "0 (off)"
    return str(value)


def settings_table() -> str:
    from ewallet.settings import ENV_PREFIX, Settings

    rows = ["| Variable | Flag | Default | Meaning |", "|---|---|---|---|"]
    for f in fields(Settings):
        flag = "--" + f.metadata.get("flag", f.name.replace("_", "-"))
        default = "" if f.default is MISSING else _default(f.default)
        meaning = f.metadata.get("help", "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{f.name.upper()}` | `{flag}` | `{default}` | {meaning} |")
    return "\n".join(rows)


def readme_table(text: str) -> str:
    """The table between the markers in the README text."""
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip()


def write() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    README.write_text(text[:start] + "\n" + settings_table() + "\n" + text[end:], encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    if parser.parse_args().write:
        write()
    else:
        print(settings_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
