"""Ownership, switch, unlink and the last-resource rule: one contract, checked over a table of
every kind of resource an account owns (ewallet, clock, contact list, and each sheet kind)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain import resources, timer
from ewallet.domain.kinds import KINDS, SheetKind
from ewallet.domain.ownership import owned
from ewallet.storage.models import Account, ContactList, CreditClock, CreditEwallet
from tests.answers import refused
from tests.domain.world import START, clock_of, load_clock, minutes, new_account, supply

Scope = Callable[[Db, Account], Any]


@dataclass(frozen=True)
class Kind:
    """One kind of resource, as the contract needs it."""

    name: str
    model: Any
    create: Callable[[Db, Account, datetime], Any]
    switch: Callable[[Db, Account, int, datetime], Any]
    unlink: Callable[[Db, Account, int, datetime], Any]
    #: The object whose column names the active one of the scope (the account or a parent).
    scope: Scope
    active_column: str
    #: Whether an unlinked one stays as a hidden row (ledger objects) or is deleted (contacts).
    kept_hidden: bool = True

    def active_id(self, db: Db, account: Account) -> int:
        db.flush()
        return int(getattr(self.scope(db, account), self.active_column))

    def __str__(self) -> str:
        return self.name


def _sheet_kind(kind: SheetKind) -> Kind:
    parent = resources.active_ewallet if kind.parent is CreditEwallet else resources.active_clock
    return Kind(
        f"{kind.name} sheet",
        kind.sheet,
        lambda db, account, now: resources.create_sheet(db, kind, account, now, None),
        lambda db, account, sheet_id, now: resources.switch_sheet(db, kind, account, sheet_id, now),
        lambda db, account, sheet_id, now: resources.unlink_sheet(db, kind, account, sheet_id, now),
        parent,
        kind.active_column,
    )


def _self(db: Db, account: Account) -> Account:
    return account


RESOURCE_KINDS = [
    Kind("ewallet", CreditEwallet, lambda db, a, now: resources.create_ewallet(db, a, now, None),
         resources.switch_ewallet, resources.unlink_ewallet, _self, "active_ewallet_id"),
    Kind("clock", CreditClock, lambda db, a, now: resources.create_clock(db, a, now, None),
         resources.switch_clock, resources.unlink_clock, resources.active_ewallet, "active_clock_id"),
    Kind("contact list", ContactList, lambda db, a, now: resources.create_contact_list(db, a, now, None),
         resources.switch_contact_list, resources.unlink_contact_list, _self, "active_contact_list_id",
         kept_hidden=False),
    *(_sheet_kind(kind) for kind in KINDS),
]  # fmt: skip


def visible(db: Db, kind: Kind, object_id: int) -> bool:
    row = db.get(kind.model, object_id)
    return row is not None and not getattr(row, "hidden", False)


@pytest.mark.parametrize("kind", RESOURCE_KINDS, ids=str)
class TestResourceContract:
    def test_refuses_to_unlink_the_last_one(self, db: Db, kind: Kind) -> None:
        owner = new_account(db, "owner")
        only = kind.active_id(db, owner)
        refused(lambda: kind.unlink(db, owner, only, START), "last_resource")

    def test_a_new_one_is_not_active_until_switched_to(self, db: Db, kind: Kind) -> None:
        owner = new_account(db, "owner")
        first = kind.active_id(db, owner)
        second = kind.create(db, owner, START)
        assert kind.active_id(db, owner) == first
        assert kind.switch(db, owner, second.id, START + minutes(1)).id == second.id
        assert kind.active_id(db, owner) == second.id

    def test_unlinking_the_active_one_activates_the_remaining_one_with_the_highest_id(self, db: Db, kind: Kind) -> None:
        owner = new_account(db, "owner")
        first = kind.active_id(db, owner)
        second, third = kind.create(db, owner, START).id, kind.create(db, owner, START).id
        kind.switch(db, owner, first, START)
        kind.unlink(db, owner, first, START + minutes(1))
        assert kind.active_id(db, owner) == max(second, third)
        assert not visible(db, kind, first)
        assert (db.get(kind.model, first) is not None) == kind.kept_hidden

    def test_unlinking_another_one_keeps_the_active_one(self, db: Db, kind: Kind) -> None:
        owner = new_account(db, "owner")
        first = kind.active_id(db, owner)
        second = kind.create(db, owner, START).id
        kind.unlink(db, owner, second, START)
        assert kind.active_id(db, owner) == first
        # Only visible ones count: the first is the last again.
        refused(lambda: kind.unlink(db, owner, first, START), "last_resource")

    def test_an_unlinked_one_cannot_be_switched_to(self, db: Db, kind: Kind) -> None:
        owner = new_account(db, "owner")
        gone = kind.create(db, owner, START).id
        kind.unlink(db, owner, gone, START)
        refused(lambda: kind.switch(db, owner, gone, START), "not_found")

    def test_refuses_another_accounts_and_a_missing_one(self, db: Db, kind: Kind) -> None:
        owner, stranger = new_account(db, "owner"), new_account(db, "stranger")
        theirs = kind.create(db, stranger, START).id
        for act in (kind.switch, kind.unlink):
            refused(lambda act=act: act(db, owner, theirs, START), "forbidden")
            refused(lambda act=act: act(db, owner, 10**9, START), "not_found")
        assert kind.active_id(db, stranger) != theirs and visible(db, kind, theirs)


class TestOwnership:
    def test_owned_follows_the_chain_up_to_the_account(self, db: Db) -> None:
        owner, stranger = new_account(db, "owner"), new_account(db, "stranger")
        clock = clock_of(db, owner)
        sheet_id = clock.active_time_sheet_id
        assert sheet_id is not None
        sheet = owned(db, KINDS[2].sheet, sheet_id, owner, "time sheet")
        assert sheet.clock_id == clock.id
        refused(lambda: owned(db, KINDS[2].sheet, sheet_id, stranger, "time sheet"), "forbidden")

    def test_a_hidden_ancestor_hides_its_children(self, db: Db) -> None:
        owner = new_account(db, "owner")
        extra = resources.create_ewallet(db, owner, START, None)
        clock_id = extra.active_clock_id
        assert clock_id is not None
        resources.unlink_ewallet(db, owner, extra.id, START)
        refused(lambda: owned(db, CreditClock, clock_id, owner, "credit clock"), "not_found")


class TestWhatAnUnlinkMustNotLose:
    def test_refuses_an_ewallet_holding_credits(self, db: Db) -> None:
        owner = new_account(db, "owner")
        first = owner.active_ewallet_id
        assert first is not None
        resources.create_ewallet(db, owner, START, None)
        supply(db, owner, 1)
        refused(lambda: resources.unlink_ewallet(db, owner, first, START), "invalid_value")

    def test_refuses_a_clock_holding_minutes_and_one_whose_timer_runs(self, db: Db) -> None:
        owner = new_account(db, "owner")
        clock = load_clock(db, owner, 5)
        resources.create_clock(db, owner, START, None)
        refused(lambda: resources.unlink_clock(db, owner, clock.id, START), "invalid_value")
        timer.start(db, clock, START)
        refused(lambda: resources.unlink_clock(db, owner, clock.id, START), "timer_state")
        refused(lambda: resources.switch_clock(db, owner, _other_clock(db, clock), START), "timer_state")


def _other_clock(db: Db, clock: CreditClock) -> int:
    query = select(CreditClock.id).where(CreditClock.ewallet_id == clock.ewallet_id, CreditClock.id != clock.id)
    return int(db.scalars(query).one())
