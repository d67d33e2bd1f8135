"""The ledger through views (§6, §10): every record kind viewed by its owner only, hidden by
`unlink` (gone from `records`, then not_found) while it stays in the books, so hiding moves no
credits and the audit stays clean."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ewallet.clock import ManualClock
from scripts.drills.audit import audit_cli
from tests.answers import ok, refused
from tests.money import calls
from tests.money.books import assert_clean, books, changes_nothing
from tests.money.calls import KINDS, PAID, SUPPLIED, TO_CLOCK, wire_time
from tests.support import LineClient, Running, running_server


@dataclass
class Ledger:
    alice: LineClient
    bob: LineClient
    #: kind -> ids of alice's visible records, in order
    mine: dict[str, list[int]]


async def ledger(running: Running) -> Ledger:
    """Alice supplies, pays Bob, converts and runs her timer: a record of every kind."""
    alice, bob = await running.user(), await running.user()
    ok(await calls.supply(alice, 100), *SUPPLIED)
    ok(await calls.pay(alice, bob.email, 10), *PAID)
    ok(await calls.to_clock(alice, 20), *TO_CLOCK)
    assert (await calls.timer(alice, "start"))["failed"] is False
    running.clock.advance(90)
    assert (await calls.timer(alice, "stop"))["failed"] is False
    mine = {kind: await calls.records(alice, kind) for kind in KINDS}
    assert [len(mine[kind]) for kind in KINDS] == [2, 2, 1, 1]
    return Ledger(alice, bob, mine)


async def balances(book: Ledger) -> tuple[int, float, int]:
    return await calls.credits(book.alice), await calls.minutes(book.alice), await calls.credits(book.bob)


class TestRecordViews:
    @pytest.mark.parametrize("kind", KINDS)
    async def test_shows_each_record_in_the_sheet_it_was_written_to(self, server: Running, kind: str) -> None:
        book = await ledger(server)
        sheet = await calls.sheet(book.alice, kind)
        assert set(sheet) == {"id", "reference", "create_date", "write_date", "records", _parent(kind)}
        assert all(reference == f"{kind.title()} Sheet Record" for reference in sheet["records"].values())
        for record_id in book.mine[kind]:
            answer = ok(await calls.view_record(book.alice, kind, record_id), f"{kind}_sheet", f"{kind}_record",
                        "record_data")  # fmt: skip
            assert answer[f"{kind}_sheet"] == sheet["id"] == answer["record_data"][f"{kind}_sheet"]
            assert answer["record_data"]["id"] == record_id

    @pytest.mark.parametrize("kind", KINDS)
    async def test_refuses_another_account_as_forbidden_and_changes_nothing(self, server: Running, kind: str) -> None:
        book = await ledger(server)
        async with changes_nothing(server, book.alice, book.bob):
            for record_id in book.mine[kind]:
                refused(await calls.view_record(book.bob, kind, record_id), "forbidden")
                refused(await calls.unlink_record(book.bob, kind, record_id), "forbidden")

    @pytest.mark.parametrize("kind", KINDS)
    async def test_answers_not_found_for_ids_never_written(self, server: Running, kind: str) -> None:
        book = await ledger(server)
        refused(await calls.view_record(book.alice, kind, 10_000), "not_found")
        refused(await calls.unlink_record(book.alice, kind, 10_000), "not_found")

    async def test_numbers_each_kind_in_one_sequence_shared_by_all_accounts(self, server: Running) -> None:
        alice, bob = await server.user(), await server.user()
        first = ok(await calls.supply(alice, 1), *SUPPLIED)
        second = ok(await calls.supply(bob, 1), *SUPPLIED)
        third = ok(await calls.supply(alice, 1), *SUPPLIED)
        assert [first["transfer_record"], second["transfer_record"], third["transfer_record"]] == [2, 4, 6]
        assert [first["invoice_record"], second["invoice_record"], third["invoice_record"]] == [1, 2, 3]
        assert await calls.records(alice, "transfer") == [2, 6]

    async def test_lists_only_the_newest_records_up_to_the_limit_and_keeps_older_ones_viewable(
        self, sqlite_url: str, clock: ManualClock
    ) -> None:
        async with running_server(sqlite_url, clock, max_listed_records=3) as running:
            alice = await running.user()
            ids = [ok(await calls.supply(alice, 1), *SUPPLIED)["transfer_record"] for _ in range(5)]
            assert await calls.records(alice, "transfer") == ids[-3:]
            assert (await calls.record(alice, "transfer", ids[0]))["credits"] == 1


class TestHidingRecords:
    @pytest.mark.parametrize("kind", KINDS)
    async def test_hides_a_record_from_the_sheet_and_from_view_and_moves_nothing(
        self, server: Running, kind: str
    ) -> None:
        book = await ledger(server)
        record_id = book.mine[kind][0]
        sheet_id = (await calls.sheet(book.alice, kind))["id"]
        before = books(server)
        money = await balances(book)
        server.clock.advance(5)
        answer = ok(await calls.unlink_record(book.alice, kind, record_id), f"{kind}_sheet", f"{kind}_record")
        assert (answer[f"{kind}_sheet"], answer[f"{kind}_record"]) == (sheet_id, record_id)
        sheet = await calls.sheet(book.alice, kind)
        assert [int(key) for key in sheet["records"]] == book.mine[kind][1:]
        assert sheet["write_date"] == wire_time(server.clock.now())
        refused(await calls.view_record(book.alice, kind, record_id), "not_found")
        refused(await calls.unlink_record(book.alice, kind, record_id), "not_found")
        assert books(server) == before
        assert await balances(book) == money
        assert_clean(server)

    async def test_hides_one_side_of_a_payment_without_touching_the_other(self, server: Running) -> None:
        book = await ledger(server)
        [incoming] = await calls.records(book.bob, "transfer")
        ok(await calls.unlink_record(book.bob, "transfer", incoming), "transfer_sheet", "transfer_record")
        assert await calls.records(book.bob, "transfer") == []
        assert await calls.records(book.alice, "transfer") == book.mine["transfer"]
        payment = await calls.record(book.alice, "transfer", incoming - 1)
        assert (payment["transfer_type"], payment["credits"]) == ("payment", 10)
        assert await calls.credits(book.bob) == 10
        assert_clean(server)

    async def test_keeps_the_books_clean_for_the_audit_command_after_everything_is_hidden(
        self, server: Running
    ) -> None:
        book = await ledger(server)
        for kind in KINDS:
            for record_id in book.mine[kind]:
                ok(await calls.unlink_record(book.alice, kind, record_id), f"{kind}_sheet", f"{kind}_record")
            assert await calls.records(book.alice, kind) == []
        for record_id in await calls.records(book.bob, "transfer"):
            ok(await calls.unlink_record(book.bob, "transfer", record_id), "transfer_sheet", "transfer_record")
        assert (await calls.credits(book.alice), await calls.minutes(book.alice)) == (70, 18.5)
        done = audit_cli(server.database_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "books balance" in done.stdout
        assert "credits supplied: 100" in done.stdout

    async def test_hides_the_records_of_a_hidden_sheet(self, server: Running) -> None:
        book = await ledger(server)
        old = await calls.sheet(book.alice, "transfer")
        fresh = ok(await book.alice.call(action="new", new="transfer", transfer="list"), "transfer_sheet", "sheet_data")
        before = books(server)
        ok(await book.alice.call(action="unlink", unlink="transfer", transfer="list", list_id=old["id"]),
           "transfer_sheet")  # fmt: skip
        assert (await calls.sheet(book.alice, "transfer"))["id"] == fresh["transfer_sheet"]
        for record_id in book.mine["transfer"]:
            refused(await calls.view_record(book.alice, "transfer", record_id), "not_found")
        assert books(server) == before
        assert await calls.credits(book.alice) == 70
        ok(await calls.supply(book.alice, 1), *SUPPLIED)
        assert len(await calls.records(book.alice, "transfer")) == 1
        assert_clean(server)


def _parent(kind: str) -> str:
    return "ewallet" if kind in ("transfer", "invoice") else "clock"
