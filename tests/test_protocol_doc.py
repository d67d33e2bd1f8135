"""docs/protocol.md is the reference a user of the package reads: it is generated from the route
table and the parameter and reply models, and this test fails when it is stale or incomplete."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from ewallet.handlers import build_route_table
from ewallet.routes import Route

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protocol_doc", ROOT / "scripts" / "protocol_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section_of(text: str, route: Route) -> str:
    heading = f"### `{generator().instruction(route)}`\n"
    start = text.index(heading)
    end = text.find("\n### ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


class TestProtocolDoc:
    def test_docs_protocol_md_is_the_generated_one(self) -> None:
        assert DOC.read_text(encoding="utf-8") == generator().document(), (
            "docs/protocol.md is stale: run `python scripts/protocol_doc.py --write`"
        )

    @pytest.mark.parametrize("route", build_route_table().routes, ids=lambda r: r.name)
    def test_documents_every_instruction_with_its_parameters_in_order(self, route: Route) -> None:
        section = section_of(DOC.read_text(encoding="utf-8"), route)
        parameters = section.split("\nAnswer:\n")[0]
        documented = re.findall(r"^\| `([a-z_0-9]+)` \| (?:string|integer|number|array)", parameters, re.MULTILINE)
        assert documented == list(route.params.model_fields), route.name
        assert route.reply is not None
        for key, field in route.reply.model_fields.items():
            if key != "failed":
                assert f"| `{field.serialization_alias or key}` |" in section, (route.name, key)
        assert "Errors: `unknown_action`" in section
        assert "Example:" in section

    def test_explains_what_a_user_reads_nowhere_else(self) -> None:
        text = DOC.read_text(encoding="utf-8")
        for heading in ("## Idempotency keys", "## current_pass", "## Contact fields", "## Invoice fields"):
            assert f"\n{heading}\n" in text

    def test_the_readme_links_it_and_no_document_outside_the_repository(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert "(docs/protocol.md)" in readme
        assert "../" not in readme
