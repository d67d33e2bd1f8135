"""The route table is the one source of the permission sheet: the README's table must match it,
every route documents itself, and a known action with an unknown target is `unknown_action`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ewallet.handlers import build_route_table
from ewallet.routes import Access, Route
from ewallet.schemas.base import Params
from tests.support import Running

ROOT = Path(__file__).resolve().parent.parent


def permission_sheet() -> ModuleType:
    spec = importlib.util.spec_from_file_location("permission_sheet", ROOT / "scripts" / "permission_sheet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestReadmePermissionSheet:
    def test_the_readme_table_matches_the_route_table(self) -> None:
        sheet = permission_sheet()
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        documented = sheet.readme_table(readme)
        assert documented, "README.md has no table under '## Permission sheet'"
        expected = sheet.table().splitlines()
        missing = [line for line in expected if line not in documented]
        stale = [line for line in documented if line not in expected]
        assert documented == expected, (
            "README.md's permission sheet disagrees with the route table; "
            f"run `python scripts/permission_sheet.py --write`. Missing: {missing}; stale: {stale}"
        )

    def test_lists_every_route_once_with_its_level(self) -> None:
        sheet = permission_sheet()
        routes = build_route_table().routes
        lines = sheet.table().splitlines()[2:]
        assert len(lines) == len(routes)
        assert len({sheet.instruction(route) for route in routes}) == len(routes)
        for route, line in zip(routes, lines, strict=True):
            assert f"`{sheet.instruction(route)}` | {route.access.value} |" in line

    def test_rewriting_keeps_the_rest_of_the_readme(self) -> None:
        sheet = permission_sheet()
        text = "# ewallet\n\nIntro.\n\n## Permission sheet\n\nold body\n| a | b |\n\n## Next\n\nkept\n"
        rewritten = sheet.with_table(text)
        assert rewritten.startswith("# ewallet\n\nIntro.\n\n## Permission sheet\n")
        assert rewritten.endswith("\n## Next\n\nkept\n")
        assert "old body" not in rewritten
        assert sheet.readme_table(rewritten) == sheet.table().splitlines()
        assert sheet.with_table(rewritten) == rewritten


class TestRouteTable:
    @pytest.mark.parametrize("route", build_route_table().routes, ids=lambda r: r.name)
    def test_every_route_has_a_summary_and_a_params_model(self, route: Route) -> None:
        assert route.summary.strip(), f"{route.name} has no summary"
        assert isinstance(route.params, type) and issubclass(route.params, Params), route.name
        assert route.params.model_config.get("extra") == "forbid", route.name
        assert isinstance(route.access, Access)

    def test_system_routes_are_system_level_and_client_routes_are_not(self) -> None:
        for route in build_route_table().routes:
            assert (route.controller == "system") == (route.access is Access.SYSTEM), route.name


class TestUnknownTarget:
    @pytest.mark.parametrize(
        "route",
        [
            {"action": "view", "view": "bogus"},
            {"action": "new", "new": "credit", "credit": "bogus"},
            {"action": "new", "new": "bogus"},
            {"action": "switch", "switch": "credit"},
            {"action": "unlink", "unlink": "transfer", "transfer": "sheet"},
            {"action": "view"},
        ],
        ids=[
            "view=bogus",
            "new=credit+credit=bogus",
            "new=bogus",
            "switch=credit-without-tail",
            "unlink-sheet-spelling",
            "view-without-target",
        ],
    )
    async def test_a_known_action_with_an_unknown_target_is_unknown_action(
        self, server: Running, route: dict[str, str]
    ) -> None:
        client = await server.session()
        try:
            answer = await client.call(**route)
            assert answer["failed"] is True and answer["code"] == "unknown_action", answer
            assert set(answer) == {"failed", "error", "code"}
        finally:
            await client.close()

    async def test_a_system_action_with_an_unknown_target_is_unknown_action(self, server: Running) -> None:
        client = await server.client()
        try:
            answer = await client.call(controller="system", action="cleanup", cleanup="bogus")
            assert answer["failed"] is True and answer["code"] == "unknown_action", answer
        finally:
            await client.close()
