"""Values the fuzzer found to answer `internal_error`, pinned on both backends: the character
U+0000, which PostgreSQL cannot store in text, is `invalid_value` in any parameter and an
unknown client id in `client_id`; minutes and costs with more digits than exact hundredths
hold are `invalid_value`. Nothing changes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.money.books import books
from tests.support import Running

NUL = "a\x00b"


@pytest.mark.parametrize(
    "request_",
    [
        {"action": "new", "new": "credit", "credit": "ewallet", "reference": NUL},
        {"action": "new", "new": "contact", "contact": "record", "user_name": "x", "notes": NUL},
        {"action": "supply", "supply": "credits", "credits": 5, "idempotency_key": NUL},
        {"action": "transfer", "transfer": "credits", "transfer_to": NUL, "credits": 5},
        {"action": "pay", "pay": NUL, "credits": 5},
        {"action": "edit", "edit": "account", "user_alias": NUL},
        {"controller": "system", "action": "cleanup", "cleanup": "sessions", "client_id": NUL},
        {"controller": "system", "action": "supply", "supply": "credits", "account": NUL, "credits": 5},
    ],
    ids=lambda request: "-".join(str(v) for v in request.values() if v != NUL)[:40],
)
async def test_u0000_in_a_parameter_is_invalid_value_and_changes_nothing(
    any_server: Running, request_: dict[str, Any]
) -> None:
    user = await any_server.user()
    assert (await user.call(action="supply", supply="credits", credits=10))["failed"] is False
    before = books(any_server)
    answer = await user.call(**request_)
    assert answer["code"] == "invalid_value", answer
    assert "U+0000" in answer["error"]
    assert books(any_server) == before


async def test_u0000_in_a_login_name_is_invalid_value(any_server: Running) -> None:
    client = await any_server.session()
    answer = await client.call(action="login", user_name=NUL, user_pass="Secret!2345word")
    assert answer["code"] == "invalid_value", answer


async def test_a_client_id_holding_u0000_is_unknown(any_server: Running) -> None:
    client = await any_server.client()
    answer = await client.call(action="request", request="session_token", client_id="ewsm-uid:\x00")
    assert answer["code"] == "unauthorized", answer


@pytest.mark.parametrize("value", [1e308, 10**30, -(10**30), 10**26 + 0.5])
@pytest.mark.parametrize("field", ["minutes", "cost"])
async def test_a_number_too_long_for_hundredths_is_invalid_value(any_server: Running, field: str, value: Any) -> None:
    """Minutes and costs are checked to two decimals in exact arithmetic; a number with more
    digits than that arithmetic holds (it answered internal_error before) is out of range."""
    user = await any_server.user()
    request = (
        {"action": "convert", "convert": "clock2credits", "minutes": value}
        if field == "minutes"
        else {"action": "supply", "supply": "credits", "credits": 5, "cost": value}
    )
    before = books(any_server)
    answer = await user.call(**request)
    assert answer["code"] == "invalid_value", answer
    assert books(any_server) == before


@pytest.mark.parametrize("field", ["minutes", "cost"])
async def test_a_number_beyond_the_int_conversion_limit_is_invalid_value(any_server: Running, field: str) -> None:
    """5,000 digits is valid JSON (it answered invalid_json before): out of range."""
    user = await any_server.user()
    request = (
        {"action": "convert", "convert": "clock2credits"}
        if field == "minutes"
        else {"action": "supply", "supply": "credits", "credits": 5}
    )
    request.update(controller="client", ctype="action", client_id=user.client_id, session_token=user.session_token)
    raw = json.dumps(request).encode()[:-1] + b', "%s": %s}\n' % (field.encode(), b"7" * 5000)
    before = books(any_server)
    answer = await user.raw(raw)
    assert answer is not None and answer["code"] == "invalid_value", answer
    assert books(any_server) == before
