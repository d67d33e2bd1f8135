"""The race table: every instruction that changes balances, active pointers, visibility or timer
state of one account ("x"), with what its scenario must hold for it to be able to succeed alone.
Each pair of them (an instruction against itself included) is a race the harness runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any

#: What a scenario may hold besides its default shape (see scenario.py).
CREDITS, MINUTES, RUNNING, PAUSED = "credits", "minutes", "running", "paused"

Ids = dict[str, Any]
Build = Callable[[Ids], dict[str, Any]]


@dataclass(frozen=True)
class Op:
    name: str
    #: Who sends it: "x" (one of the account's two sessions), "y" (its partner) or "operator".
    actor: str
    build: Build
    needs: frozenset[str] = frozenset()


def _op(name: str, actor: str, build: Build, *needs: str) -> Op:
    return Op(name, actor, build, frozenset(needs))


def _unlink(what: str, key: str) -> Build:
    return lambda ids: {"action": "unlink", "unlink": "credit", "credit": what, f"{what}_id": ids[key]}


def _switch(what: str, key: str) -> Build:
    return lambda ids: {"action": "switch", "switch": "credit", "credit": what, f"{what}_id": ids[key]}


def _timer(verb: str) -> Build:
    return lambda ids: {"action": verb, verb: "clock_timer"}


OPS: tuple[Op, ...] = (
    # money arriving in x's active ewallet
    _op("pay_in", "y", lambda ids: {"action": "pay", "pay": ids["x_email"], "credits": 7}),
    _op(
        "transfer_in",
        "y",
        lambda ids: {"action": "transfer", "transfer": "credits", "transfer_to": ids["x_email"], "credits": 7},
    ),
    _op("supply_in", "x", lambda ids: {"action": "supply", "supply": "credits", "credits": 7}),
    _op(
        "system_supply",
        "operator",
        lambda ids: {"action": "supply", "supply": "credits", "account": ids["x_email"], "credits": 7},
    ),
    # money leaving it
    _op(
        "transfer_out",
        "x",
        lambda ids: {"action": "transfer", "transfer": "credits", "transfer_to": ids["y_email"], "credits": 3},
        CREDITS,
    ),
    _op("to_clock", "x", lambda ids: {"action": "convert", "convert": "credits2clock", "credits": 4}, CREDITS),
    _op("to_credits", "x", lambda ids: {"action": "convert", "convert": "clock2credits", "minutes": 2.0}, MINUTES),
    # active pointers and visibility
    _op("switch_ewallet", "x", _switch("ewallet", "e2")),
    _op("switch_clock", "x", _switch("clock", "c2")),
    _op(
        "switch_transfer_sheet",
        "x",
        lambda ids: {"action": "switch", "switch": "transfer_sheet", "sheet_id": ids["ts2"]},
    ),
    _op("unlink_active_ewallet", "x", _unlink("ewallet", "e1")),
    _op("unlink_other_ewallet", "x", _unlink("ewallet", "e2")),
    _op("unlink_active_clock", "x", _unlink("clock", "c1")),
    _op("unlink_other_clock", "x", _unlink("clock", "c2")),
    _op(
        "unlink_active_transfer_sheet",
        "x",
        lambda ids: {"action": "unlink", "unlink": "transfer", "transfer": "list", "list_id": ids["ts1"]},
    ),
    _op("unlink_account", "x", lambda ids: {"action": "unlink", "unlink": "account"}),
    # the timer of x's active clock
    _op("timer_start", "x", _timer("start"), MINUTES),
    _op("timer_pause", "x", _timer("pause"), RUNNING),
    _op("timer_resume", "x", _timer("resume"), PAUSED),
    _op("timer_stop", "x", _timer("stop"), RUNNING),
)

BY_NAME = {op.name: op for op in OPS}


def pairs(ops: tuple[Op, ...] = OPS) -> list[tuple[Op, Op]]:
    """Every unordered pair, an instruction against itself included (from two sessions)."""
    return list(combinations_with_replacement(ops, 2))
