"""The permission sheet (PROTOCOL §4): every route of the route table with its access level and
summary, as the Markdown table under the README's "## Permission sheet" heading.

    python scripts/permission_sheet.py            # print the table
    python scripts/permission_sheet.py --write    # put it into README.md (replacing the old one)

tests/test_readme_permission_sheet.py fails when the README's table and the route table disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ewallet.handlers import build_route_table
from ewallet.routes import Route

HEADING = "## Permission sheet"
README = Path(__file__).resolve().parent.parent / "README.md"
INTRO = (
    "Every instruction and the level (PROTOCOL §4) checked before its handler runs; generated from the\n"
    "route table by `python scripts/permission_sheet.py --write` (a test fails when they disagree).\n"
)


def instruction(route: Route) -> str:
    """The route as written on the wire: `client new=credit, credit=clock`; a route whose action
    key carries a free value (`pay=<partner email>`) shows it as `<value>`."""
    if route.target is None and route.action in route.params.model_fields:
        return f"{route.controller} {route.action}=<value>"
    return route.name


def rows(routes: list[Route]) -> list[str]:
    lines = ["| Instruction | Access | Summary |", "|---|---|---|"]
    for route in routes:
        summary = route.summary.replace("|", "\\|")
        lines.append(f"| `{instruction(route)}` | {route.access.value} | {summary} |")
    return lines


def table() -> str:
    return "\n".join(rows(build_route_table().routes)) + "\n"


def section_bounds(lines: list[str]) -> tuple[int, int] | None:
    """[start, end) of the section's body (after its heading, up to the next heading of level
    two or less), or None without the heading."""
    for start, line in enumerate(lines):
        if line.strip() == HEADING:
            end = start + 1
            while end < len(lines) and not lines[end].startswith(("## ", "# ")):
                end += 1
            return start + 1, end
    return None


def readme_table(text: str) -> list[str]:
    """The table lines of the README's permission sheet section ([] when absent)."""
    lines = text.splitlines()
    bounds = section_bounds(lines)
    if bounds is None:
        return []
    return [line for line in lines[bounds[0] : bounds[1]] if line.startswith("|")]


def with_table(text: str) -> str:
    """The README text with its permission sheet section's body regenerated."""
    lines = text.splitlines()
    body = ["", *INTRO.splitlines(), "", *rows(build_route_table().routes), ""]
    bounds = section_bounds(lines)
    if bounds is None:
        if lines and lines[-1].strip():
            lines.append("")
        return "\n".join([*lines, HEADING, *body]).rstrip("\n") + "\n"
    start, end = bounds
    return "\n".join([*lines[:start], *body, *lines[end:]]).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="replace the section in README.md")
    args = parser.parse_args(argv)
    if not args.write:
        sys.stdout.write(table())
        return 0
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    README.write_text(with_table(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
