"""README's HTTP API section stays true: its status table is the one the HTTP face uses."""

from __future__ import annotations

import re
from pathlib import Path

from ewallet.http.status import STATUS_OF_CODE

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def http_section() -> str:
    start = README.index("## HTTP API\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


class TestReadmeHttpSection:
    def test_the_status_table_maps_every_code_as_the_server_does(self) -> None:
        documented = {}
        for status, codes in re.findall(r"^\| (\d{3}) \| (.+) \|$", http_section(), re.MULTILINE):
            for code in re.findall(r"`([a-z_]+)`", codes):
                assert code not in documented, code
                documented[code] = int(status)
        assert documented == STATUS_OF_CODE

    def test_gives_both_ways_to_start_it(self) -> None:
        assert "ewallet serve --http-port 8081" in http_section()
        assert "ewallet http" in http_section()
