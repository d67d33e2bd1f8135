"""The client's methods and the server's route table cannot drift apart: every method builds an
instruction the server resolves and accepts, and every route has a method. The client never
imports the server."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from typing import Any

import pytest

from ewallet.client import AsyncClient, Client
from ewallet.client.instructions import Instructions
from ewallet.client.sync import prepare
from ewallet.handlers import build_route_table
from ewallet.protocol.envelope import ENVELOPE
from ewallet.routes import AUTH_KEYS, Access, Route
from ewallet.schemas.base import validate_params

CLIENT_ID = "ewsm-uid:abcdefghijklmnopqrstuvwxyz012345"
TOKEN = "ewsm-st:abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"
KEY = "k" * 40
KINDS = ("transfer", "invoice", "time", "conversion")

#: How each method is called here: every positional and keyword variant it offers, with values
#: the server's parameter models accept.
CALLS: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "ping": [((), {})],
    "request_client_id": [((), {})],
    "request_session_token": [((CLIENT_ID,), {}), ((CLIENT_ID, "01-01-2030 00:00:00"), {})],
    "create_account": [
        (("alice", "Secret!2345", "alice@example.com"), {}),
        (("alice", "Secret!2345", "alice@example.com", "+40700000000", "Al"), {}),
    ],
    "login": [(("alice@example.com", "Secret!2345"), {}), (("alice", "Secret!2345"), {})],
    "logout": [((), {})],
    "switch_account": [(("bob@example.com",), {})],
    "view_account": [((), {})],
    "edit_account": [
        (
            (),
            {
                "user_name": "al",
                "user_pass": "Other!2345",
                "user_email": "al@example.com",
                "user_phone": "1",
                "user_alias": "A",
                "current_pass": "Secret!2345",
            },
        )
    ],
    "unlink_account": [((), {})],
    "view_login_records": [((), {})],
    "view_logout_records": [((), {})],
    "supply_credits": [
        ((10,), {}),
        ((10,), {"currency": "EUR", "cost": 2.5, "notes": "n", "idempotency_key": "k1"}),
    ],
    "pay": [
        (("bob@example.com", 5), {}),
        (("bob@example.com", 5), {"currency": "EUR", "cost": 1.0, "notes": "n", "idempotency_key": "k2"}),
    ],
    "transfer": [(("bob@example.com", 5), {}), (("bob@example.com", 5, "k3"), {})],
    "convert_credits_to_clock": [((5,), {}), ((5,), {"notes": "n", "idempotency_key": "k4"})],
    "convert_clock_to_credits": [((2.5,), {}), ((2.5,), {"notes": "n", "idempotency_key": "k5"})],
    "start_timer": [((), {})],
    "pause_timer": [((), {})],
    "resume_timer": [((), {})],
    "stop_timer": [((), {})],
    "view_timer": [((), {})],
    "new_credit_ewallet": [((), {}), (("holiday",), {})],
    "new_credit_clock": [((), {}), (("spare",), {})],
    "view_credit_ewallet": [((), {})],
    "view_credit_clock": [((), {})],
    "switch_credit_ewallet": [((1,), {})],
    "switch_credit_clock": [((1,), {})],
    "unlink_credit_ewallet": [((1,), {})],
    "unlink_credit_clock": [((1,), {})],
    "new_sheet": [((kind,), {}) for kind in KINDS] + [((kind, "ref"), {}) for kind in KINDS],
    "view_sheet": [((kind,), {}) for kind in KINDS],
    "switch_sheet": [((kind, 1), {}) for kind in KINDS],
    "unlink_sheet": [((kind, 1), {}) for kind in KINDS],
    "view_record": [((kind, 1), {}) for kind in KINDS],
    "unlink_record": [((kind, 1), {}) for kind in KINDS],
    "history_page": [((kind,), {}) for kind in KINDS]
    + [
        (
            (kind,),
            {"limit": 5, "cursor": "c", "sheet_id": 1, "since": "01-01-2030 00:00:00", "until": "02-01-2030 00:00:00"},
        )
        for kind in KINDS
    ]
    + [(("transfer",), {"transfer_type": "payment", "partner": "bob@example.com", "min_credits": 1, "max_credits": 9})],
    "new_contact_list": [((), {}), (("friends",), {})],
    "new_contact_record": [
        (("Carol",), {}),
        (
            ("Carol",),
            {
                "user_email": "carol@example.com",
                "user_phone": "1",
                "user_reference": "r",
                "notes": "n",
                "contact_list": 1,
            },
        ),
    ],
    "view_contact_list": [((), {})],
    "view_contact_record": [((1,), {})],
    "switch_contact_list": [((1,), {})],
    "unlink_contact_list": [((1,), {})],
    "unlink_contact_record": [((1,), {})],
    "subscribe": [
        ((), {}),
        ((5, ["credits_received", "clock_low"], 2.5), {}),
        ((), {"after": 0, "kinds": ["login"], "clock_low_minutes": 1.0}),
    ],
    "unsubscribe": [((), {})],
    "new_worker": [((), {})],
    "new_session": [((), {}), (("ops",), {})],
    "interrogate_session": [((1,), {})],
    "interrogate_workers": [((), {})],
    "cleanup_sessions": [
        ((), {}),
        ((), {"session_id": 1}),
        ((), {"session_token": TOKEN}),
        ((), {"client_id": CLIENT_ID}),
    ],
    "cleanup_workers": [((), {})],
    "cleanup_accounts": [((), {})],
    "system_supply": [
        (("alice@example.com", 10), {}),
        (("alice@example.com", 10), {"currency": "EUR", "cost": 1.0, "notes": "n", "idempotency_key": "k6"}),
    ],
}


class Recorder(Instructions):
    """Builds each instruction line exactly as Client would send it, with a session and a system
    key in hand, and keeps it instead of sending it."""

    def __init__(self) -> None:
        self.sent: dict[str, Any] | None = None

    def _send(self, instruction: dict[str, Any], *, session: bool = True, system: bool = False) -> Any:
        self.sent = json.loads(prepare(instruction, (CLIENT_ID, TOKEN), KEY, with_session=session))
        return {}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def recorded(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    recorder = Recorder()
    getattr(recorder, method)(*args, **kwargs)
    assert recorder.sent is not None
    return recorder.sent


def all_calls() -> list[Any]:
    return [
        pytest.param(method, args, kwargs, id=f"{method}-{n}")
        for method, variants in CALLS.items()
        for n, (args, kwargs) in enumerate(variants)
    ]


def route_of(instruction: dict[str, Any]) -> Route:
    route = build_route_table().resolve(instruction["controller"], instruction["action"], instruction)
    assert route is not None, f"no route for {instruction}"
    return route


def parameter_names(route: Route) -> set[str]:
    fields = route.params.model_fields
    return {f.validation_alias if isinstance(f.validation_alias, str) else name for name, f in fields.items()}


class TestEveryMethodHasARoute:
    def test_every_public_method_is_exercised_here(self) -> None:
        assert public_methods(Instructions) == set(CALLS)

    def test_both_clients_offer_exactly_the_shared_methods(self) -> None:
        extras = {"raw", "raw_line", "connect", "close", "open_session", "history", "read_event", "take_events"}
        assert public_methods(Client) - public_methods(Instructions) <= extras
        assert public_methods(AsyncClient) - public_methods(Instructions) <= extras

    @pytest.mark.parametrize(("method", "args", "kwargs"), all_calls())
    def test_the_instruction_resolves_and_its_keys_are_accepted(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        instruction = recorded(method, args, kwargs)
        assert instruction["ctype"] == "action"
        route = route_of(instruction)
        auth = AUTH_KEYS[route.access]
        allowed = ENVELOPE | route.route_keys | auth | parameter_names(route)
        assert set(instruction) <= allowed, f"{method} sends keys {set(instruction) - allowed} to {route.name}"
        given = set(kwargs) - {"session"}
        assert given <= set(instruction), "an optional parameter was dropped"
        if route.access is Access.SYSTEM:
            assert instruction["system_key"] == KEY
        elif route.access is not Access.ANONYMOUS:
            assert auth <= set(instruction), f"{method} does not carry {auth - set(instruction)}"
        taken = ENVELOPE | route.route_keys | auth
        validate_params(route.params, {k: v for k, v in instruction.items() if k not in taken})


class TestEveryRouteHasAMethod:
    def test_every_server_route_is_reachable_through_the_client(self) -> None:
        reached = {route_of(recorded(method, args, kwargs)).key for method, args, kwargs in _flat_calls()}
        missing = [route.name for route in build_route_table().routes if route.key not in reached]
        assert missing == []


def _flat_calls() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [(method, args, kwargs) for method, variants in CALLS.items() for args, kwargs in variants]


class TestTheClientStandsAlone:
    def test_importing_the_client_loads_no_server_module(self) -> None:
        probe = (
            "import json, sys\n"
            "import ewallet.client, ewallet.call, ewallet.shell\n"
            "print(json.dumps(sorted(sys.modules)))\n"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
        loaded = set(json.loads(done.stdout))
        assert "ewallet.client" in loaded
        forbidden = (
            "ewallet.transport.server",
            "ewallet.pipeline.attempt",
            "ewallet.storage",
            "ewallet.routes",
            "sqlalchemy",
            "pydantic",
        )
        assert (
            sorted(m for m in loaded if m.split(".")[0] in {"sqlalchemy", "pydantic"} or m.startswith(forbidden)) == []
        )
