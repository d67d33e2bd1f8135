"""An unknown route says which part is unknown (controller, action, target key, target value) and
suggests the nearest valid spelling, without echoing what the client sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Running

CASES = [
    ({"controller": "client", "action": "frobnicate"}, "unknown action for controller client; valid: convert, "),
    (
        {"controller": "client", "action": "supply", "supply": "creditz"},
        'unknown target for client supply (key "supply"); did you mean "supply": "credits"?',
    ),
    (
        {"controller": "system", "action": "interrogate", "interrogate": "session"},
        'unknown action for controller system; did you mean "action": "interogate"?',
    ),
    ({"controller": "clint", "action": "view"}, 'unknown controller; did you mean "controller": "client"?'),
    (
        {"controller": "client", "action": "new", "new": "credit", "credit": "clok"},
        'unknown target value for client new=credit (key "credit"); did you mean "credit": "clock"?',
    ),
    (
        {"controller": "client", "action": "new", "new": "credit"},
        'client new=credit needs its target value "credit": one of clock, ewallet',
    ),
    ({"controller": "client", "action": "view"}, 'client view needs its target key "view": one of account, '),
]


class TestUnknownRouteMessages:
    @pytest.mark.parametrize(
        ("route", "message"),
        CASES,
        ids=["action", "target-key-typo", "system-action-typo", "controller", "target-value", "no-value", "no-key"],
    )
    async def test_names_the_unknown_part_and_the_nearest_spelling(
        self, server: Running, route: dict[str, Any], message: str
    ) -> None:
        client = await server.session()
        try:
            answer = await client.call(**route)
        finally:
            await client.close()
        assert answer["failed"] is True and answer["code"] == "unknown_action", answer
        assert answer["error"].startswith(message), answer
        for key in ("frobnicate", "creditz", "interrogate", "clint", "clok"):
            assert key not in answer["error"], "the client's value is echoed"
