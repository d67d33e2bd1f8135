"""history (§12): one kind of the active account's records, newest first, across its visible
sheets or one of them, filtered, a page at a time with a cursor bound to the account, the kind
and the filters; walking the cursors while records are added shows every earlier record once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import BAD_IDS, KINDS, RECORD_DATA, call, shaped
from tests.money.calls import pay, supply, timer, to_clock, to_credits, transfer, wire_time
from tests.support import PASSWORD, LineClient, Running

SYSTEM = "ewallet-system"
TRANSFER_ONLY = {"transfer_type": "payment", "partner": "bob@example.com", "min_credits": 1, "max_credits": 5}


async def history(client: LineClient, kind: str, **params: Any) -> dict[str, Any]:
    return await client.call(action="history", history=kind, **params)


async def listed(client: LineClient, kind: str, **params: Any) -> dict[str, Any]:
    answer = ok(await history(client, kind, **params), "history", "records", "next_cursor")
    assert answer["history"] == kind
    for record in answer["records"]:
        shaped(record, RECORD_DATA[kind])
    ids = [record["id"] for record in answer["records"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), ids
    return answer


def ids_of(answer: dict[str, Any]) -> list[int]:
    return [record["id"] for record in answer["records"]]


async def walk(client: LineClient, kind: str, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Every page from the first to next_cursor null, each record once; the pages' records."""
    answer = await listed(client, kind, limit=limit, **filters)
    records = list(answer["records"])
    while answer["next_cursor"] is not None:
        assert len(answer["records"]) == limit
        answer = await listed(client, kind, limit=limit, cursor=answer["next_cursor"], **filters)
        records += answer["records"]
    return records


async def partners(server: Running) -> tuple[LineClient, LineClient]:
    """alice (with 100 credits) and bob, both logged in on their own sessions."""
    alice, bob = await server.user(), await server.user()
    ok(await supply(alice, 100), "supplied_credits", "ewallet_credits", "transfer_record", "invoice_record")
    return alice, bob


async def one_of_each(server: Running, client: LineClient) -> None:
    """At least one record of every kind in the client's active sheets."""
    assert (await supply(client, 50))["failed"] is False
    assert (await to_clock(client, 10))["failed"] is False
    assert (await timer(client, "start"))["failed"] is False
    server.clock.advance(30)
    assert (await timer(client, "stop"))["failed"] is False


class TestAnswer:
    @pytest.mark.parametrize("kind", KINDS)
    async def test_lists_each_record_exactly_as_view_shows_it(self, any_server: Running, kind: str) -> None:
        client = await any_server.user()
        for _ in range(2):
            await one_of_each(any_server, client)
        answer = await listed(client, kind)
        assert answer["next_cursor"] is None and len(answer["records"]) >= 2
        for record in answer["records"]:
            viewed = await call(client, f"view={kind}, {kind}=record", record_id=record["id"])
            assert viewed["record_data"] == record

    @pytest.mark.parametrize("kind", KINDS)
    async def test_a_new_account_has_an_empty_history(self, server: Running, kind: str) -> None:
        client = await server.user()
        answer = await listed(client, kind)
        assert (answer["records"], answer["next_cursor"]) == ([], None)

    async def test_needs_a_logged_in_account(self, server: Running) -> None:
        client = await server.session()
        refused(await history(client, "transfer"), "not_logged_in")

    async def test_an_unknown_kind_is_an_unknown_action(self, server: Running) -> None:
        client = await server.user()
        refused(await history(client, "contact"), "unknown_action")

    async def test_an_unknown_key_is_invalid(self, server: Running) -> None:
        client = await server.user()
        refused(await history(client, "transfer", offset=10), "invalid_value")


class TestPaging:
    async def test_pages_follow_each_other_to_a_null_cursor_without_an_empty_last_page(
        self, any_server: Running
    ) -> None:
        client = await any_server.user()
        for credits in range(1, 7):
            assert (await supply(client, credits))["failed"] is False
        every = ids_of(await listed(client, "transfer"))
        assert len(every) == 6
        pages = []
        answer = await listed(client, "transfer", limit=2)
        pages.append(ids_of(answer))
        while answer["next_cursor"] is not None:
            answer = await listed(client, "transfer", limit=2, cursor=answer["next_cursor"])
            pages.append(ids_of(answer))
        assert pages == [every[0:2], every[2:4], every[4:6]]

    async def test_the_default_limit_is_50(self, server: Running) -> None:
        client = await server.user()
        for _ in range(51):
            assert (await supply(client, 1))["failed"] is False
        answer = await listed(client, "transfer")
        assert len(answer["records"]) == 50 and answer["next_cursor"] is not None
        rest = await listed(client, "transfer", cursor=answer["next_cursor"])
        assert len(rest["records"]) == 1 and rest["next_cursor"] is None

    async def test_the_limit_may_change_from_page_to_page(self, server: Running) -> None:
        client = await server.user()
        for _ in range(5):
            assert (await supply(client, 1))["failed"] is False
        first = await listed(client, "invoice", limit=1)
        rest = await listed(client, "invoice", limit=500, cursor=first["next_cursor"])
        assert len(rest["records"]) == 4 and rest["next_cursor"] is None

    @pytest.mark.parametrize("limit", [0, -1, 501, 10**20, 1.0, 1.5, True, "5", None, [5]])
    async def test_refuses_a_limit_outside_1_to_500(self, server: Running, limit: Any) -> None:
        client = await server.user()
        refused(await history(client, "transfer", limit=limit), "invalid_value", limit)

    @pytest.mark.parametrize("limit", [1, 500])
    async def test_takes_the_limits_bounds(self, server: Running, limit: int) -> None:
        client = await server.user()
        await listed(client, "transfer", limit=limit)


class TestCursor:
    async def cursor(self, client: LineClient, kind: str = "transfer", **filters: Any) -> str:
        for _ in range(3):
            assert (await supply(client, 1))["failed"] is False
        answer = await listed(client, kind, limit=1, **filters)
        assert answer["next_cursor"] is not None
        return str(answer["next_cursor"])

    @pytest.mark.parametrize(
        "garbage",
        ["", "abc", "A" * 32, "-" * 32, "A" * 31 + "=", "+" * 32, "é" * 32, "A" * 300, 5, True, None, ["A"]],
    )
    async def test_garbage_is_invalid_never_an_internal_error(self, server: Running, garbage: Any) -> None:
        client = await server.user()
        refused(await history(client, "transfer", cursor=garbage), "invalid_value", garbage)

    async def test_a_changed_character_makes_it_invalid(self, server: Running) -> None:
        client = await server.user()
        cursor = await self.cursor(client)
        for at in (0, len(cursor) // 2, len(cursor) - 1):
            changed = cursor[:at] + ("B" if cursor[at] != "B" else "C") + cursor[at + 1 :]
            refused(await history(client, "transfer", limit=1, cursor=changed), "invalid_value", changed)
        for cut in (cursor[:-1], cursor + "A", cursor + "="):
            refused(await history(client, "transfer", limit=1, cursor=cut), "invalid_value", cut)

    async def test_another_accounts_cursor_is_invalid(self, any_server: Running) -> None:
        alice, bob = await any_server.user(), await any_server.user()
        cursor = await self.cursor(alice)
        await self.cursor(bob)
        refused(await history(bob, "transfer", limit=1, cursor=cursor), "invalid_value")

    async def test_a_cursor_of_another_kind_is_invalid(self, server: Running) -> None:
        client = await server.user()
        cursor = await self.cursor(client)
        refused(await history(client, "invoice", limit=1, cursor=cursor), "invalid_value")

    async def test_a_cursor_of_other_filters_is_invalid(self, server: Running) -> None:
        client = await server.user()
        cursor = await self.cursor(client, partner=SYSTEM)
        for other in ({}, {"partner": "bob@example.com"}, {"partner": SYSTEM, "min_credits": 1}):
            refused(await history(client, "transfer", limit=1, cursor=cursor, **other), "invalid_value", other)
        # The filters as given are normalised: the partner's letter case does not matter.
        await listed(client, "transfer", limit=1, cursor=cursor, partner=SYSTEM.upper())

    async def test_a_cursor_of_another_sheet_is_invalid(self, server: Running) -> None:
        client = await server.user()
        sheet = (await call(client, "view=credit, credit=ewallet"))["ewallet_data"]["transfer_sheet"]
        cursor = await self.cursor(client, sheet_id=sheet)
        refused(await history(client, "transfer", limit=1, cursor=cursor), "invalid_value")
        await listed(client, "transfer", limit=1, cursor=cursor, sheet_id=sheet)


class TestSheets:
    async def test_lists_every_visible_sheet_merged_by_id(self, any_server: Running) -> None:
        client = await any_server.user()
        assert (await supply(client, 1))["failed"] is False
        spare = (await call(client, "new=transfer, transfer=list"))["sheet_data"]["id"]
        assert (await call(client, "switch=transfer_sheet", sheet_id=spare))["failed"] is False
        assert (await supply(client, 2))["failed"] is False
        first = (await call(client, "view=credit, credit=ewallet"))["ewallet_data"]["transfer_sheet_archive"]
        assert len(first) == 2
        records = await walk(client, "transfer", 1)
        assert [r["credits"] for r in records] == [2, 1]
        assert {r["transfer_sheet"] for r in records} == {int(sheet) for sheet in first}
        only = await listed(client, "transfer", sheet_id=spare)
        assert [r["credits"] for r in only["records"]] == [2]

    async def test_leaves_out_hidden_records_and_the_records_of_hidden_sheets(self, any_server: Running) -> None:
        client = await any_server.user()
        kept = (await supply(client, 1))["transfer_record"]
        hidden = (await supply(client, 2))["transfer_record"]
        assert (await call(client, "unlink=transfer, transfer=record", record_id=hidden))["failed"] is False
        old = (await call(client, "view=credit, credit=ewallet"))["ewallet_data"]["transfer_sheet"]
        spare = (await call(client, "new=transfer, transfer=list"))["sheet_data"]["id"]
        assert (await call(client, "switch=transfer_sheet", sheet_id=spare))["failed"] is False
        newer = (await supply(client, 3))["transfer_record"]
        assert ids_of(await listed(client, "transfer")) == [newer, kept]
        assert (await call(client, "unlink=transfer, transfer=list", list_id=old))["failed"] is False
        assert ids_of(await listed(client, "transfer")) == [newer]
        refused(await history(client, "transfer", sheet_id=old), "not_found")

    async def test_leaves_out_the_sheets_of_a_hidden_clock(self, any_server: Running) -> None:
        client = await any_server.user()
        assert (await supply(client, 50))["failed"] is False
        first = (await call(client, "view=credit, credit=clock"))["clock_data"]["id"]
        assert (await to_clock(client, 5))["failed"] is False
        assert (await to_credits(client, 5.0))["failed"] is False  # the clock is empty again
        spare = (await call(client, "new=credit, credit=clock"))["clock_data"]["id"]
        assert (await call(client, "switch=credit, credit=clock", clock_id=spare))["failed"] is False
        kept = (await to_clock(client, 3))["conversion_record"]
        assert len(ids_of(await listed(client, "conversion"))) == 3
        assert (await call(client, "unlink=credit, credit=clock", clock_id=first))["failed"] is False
        assert ids_of(await listed(client, "conversion")) == [kept]

    async def test_a_sheet_that_does_not_exist_is_not_found(self, server: Running) -> None:
        client = await server.user()
        refused(await history(client, "invoice", sheet_id=10**6), "not_found")

    async def test_another_accounts_sheet_is_forbidden(self, any_server: Running) -> None:
        alice, bob = await any_server.user(), await any_server.user()
        for kind in KINDS:
            parent = "credit=ewallet" if kind in ("transfer", "invoice") else "credit=clock"
            data = await call(bob, f"view=credit, {parent}")
            sheet = data["ewallet_data" if "ewallet" in parent else "clock_data"][f"{kind}_sheet"]
            refused(await history(alice, kind, sheet_id=sheet), "forbidden", kind)

    @pytest.mark.parametrize("bad", BAD_IDS)
    async def test_refuses_a_sheet_id_that_is_not_an_id(self, server: Running, bad: Any) -> None:
        client = await server.user()
        refused(await history(client, "time", sheet_id=bad), "invalid_value", bad)


class TestFilters:
    async def test_since_is_inclusive_and_until_exclusive_on_create_date(self, any_server: Running) -> None:
        client = await any_server.user()
        any_server.clock.advance(0.5)  # a fraction of a second: the wire shows it truncated
        stamps = []
        for credits in (1, 2, 3):
            stamps.append(wire_time(any_server.clock.now()))
            assert (await supply(client, credits))["failed"] is False
            any_server.clock.advance(10)

        async def credits(**bounds: str) -> list[int]:
            return [r["credits"] for r in (await listed(client, "invoice", **bounds))["records"]]

        assert [r["create_date"] for r in (await listed(client, "invoice"))["records"]] == stamps[::-1]
        assert await credits(since=stamps[1]) == [3, 2]
        assert await credits(until=stamps[1]) == [1]
        assert await credits(since=stamps[1], until=stamps[2]) == [2]
        assert await credits(since=stamps[2], until=stamps[1]) == []

    @pytest.mark.parametrize("bad", ["2030-01-01 00:00:00", "1-1-2030 00:00:00", "31-02-2030 00:00:00", "", 5, None])
    async def test_refuses_a_bound_that_is_not_a_timestamp(self, server: Running, bad: Any) -> None:
        client = await server.user()
        for key in ("since", "until"):
            refused(await history(client, "conversion", **{key: bad}), "invalid_value", (key, bad))

    async def test_transfer_type_keeps_that_type(self, any_server: Running) -> None:
        alice, bob = await partners(any_server)
        assert (await pay(alice, bob.email, 5))["failed"] is False  # type: ignore[attr-defined]
        assert (await transfer(alice, bob.email, 7))["failed"] is False  # type: ignore[attr-defined]
        assert (await transfer(bob, alice.email, 2))["failed"] is False  # type: ignore[attr-defined]
        every = (await listed(alice, "transfer"))["records"]
        for kind in ("supply", "payment", "transfer", "incoming"):
            kept = (await listed(alice, "transfer", transfer_type=kind))["records"]
            assert kept == [r for r in every if r["transfer_type"] == kind], kind
        assert [r["credits"] for r in (await listed(alice, "transfer", transfer_type="payment"))["records"]] == [5]

    @pytest.mark.parametrize("bad", ["Payment", "outgoing", "", 1, None])
    async def test_refuses_an_unknown_transfer_type(self, server: Running, bad: Any) -> None:
        client = await server.user()
        refused(await history(client, "transfer", transfer_type=bad), "invalid_value", bad)

    async def test_partner_matches_either_side_ignoring_case(self, any_server: Running) -> None:
        alice, bob = await partners(any_server)
        carol = await any_server.user()
        assert (await pay(alice, bob.email, 5))["failed"] is False  # type: ignore[attr-defined]
        assert (await transfer(bob, alice.email, 2))["failed"] is False  # type: ignore[attr-defined]
        assert (await transfer(alice, carol.email, 1))["failed"] is False  # type: ignore[attr-defined]
        with_bob = (await listed(alice, "transfer", partner=bob.email.upper()))["records"]  # type: ignore[attr-defined]
        assert [(r["transfer_type"], r["credits"]) for r in with_bob] == [("incoming", 2), ("payment", 5)]
        with_system = (await listed(alice, "transfer", partner=SYSTEM))["records"]
        assert [(r["transfer_from"], r["credits"]) for r in with_system] == [(SYSTEM, 100)]
        # alice herself is on every record of hers.
        mine = (await listed(alice, "transfer", partner=f" {alice.email} "))["records"]  # type: ignore[attr-defined]
        assert len(mine) == 4
        assert (await listed(alice, "transfer", partner="nobody@example.com"))["records"] == []

    async def test_min_and_max_credits_are_inclusive(self, any_server: Running) -> None:
        client = await any_server.user()
        for credits in (1, 5, 9):
            assert (await supply(client, credits))["failed"] is False

        async def credits(**bounds: int) -> list[int]:
            return [r["credits"] for r in (await listed(client, "transfer", **bounds))["records"]]

        assert await credits(min_credits=5) == [9, 5]
        assert await credits(max_credits=5) == [5, 1]
        assert await credits(min_credits=5, max_credits=5) == [5]
        assert await credits(min_credits=6, max_credits=8) == []
        assert await credits(min_credits=0, max_credits=10**9) == [9, 5, 1]

    @pytest.mark.parametrize("bad", [-1, 10**9 + 1, 1.0, "1", True, None])
    async def test_refuses_credit_bounds_that_are_not_credits(self, server: Running, bad: Any) -> None:
        client = await server.user()
        for key in ("min_credits", "max_credits"):
            refused(await history(client, "transfer", **{key: bad}), "invalid_value", (key, bad))

    async def test_filters_combine(self, any_server: Running) -> None:
        alice, bob = await partners(any_server)
        for credits in (1, 2, 3):
            assert (await pay(alice, bob.email, credits))["failed"] is False  # type: ignore[attr-defined]
            assert (await transfer(alice, bob.email, credits))["failed"] is False  # type: ignore[attr-defined]
        kept = await walk(alice, "transfer", 1, transfer_type="payment", partner=bob.email, min_credits=2)  # type: ignore[attr-defined]
        assert [(r["transfer_type"], r["credits"]) for r in kept] == [("payment", 3), ("payment", 2)]

    @pytest.mark.parametrize("kind", ["invoice", "time", "conversion"])
    @pytest.mark.parametrize("key", sorted(TRANSFER_ONLY))
    async def test_a_transfer_only_filter_on_another_kind_is_invalid(
        self, server: Running, kind: str, key: str
    ) -> None:
        client = await server.user()
        refused(await history(client, kind, **{key: TRANSFER_ONLY[key]}), "invalid_value")


class TestTimeRecords:
    async def test_an_open_record_shows_as_running_and_a_run_out_one_as_stopped_when_it_ran_out(
        self, any_server: Running
    ) -> None:
        client = await any_server.user()
        assert (await supply(client, 10))["failed"] is False
        assert (await to_clock(client, 1))["failed"] is False  # one minute on the clock
        started = (await timer(client, "start"))["start_timestamp"]
        any_server.clock.advance(20)
        (running,) = (await listed(client, "time"))["records"]
        assert (running["time_start"], running["time_stop"], running["time_spent"]) == (started, None, 0.0)
        ran_out = wire_time(any_server.clock.advance(40))
        any_server.clock.advance(3600)
        (stopped,) = (await listed(client, "time"))["records"]
        assert (stopped["time_stop"], stopped["time_spent"]) == (ran_out, 1.0)
        clock = (await call(client, "view=credit, credit=clock"))["clock_data"]
        assert (clock["clock_state"], clock["credit_clock"]) == ("inactive", 0.0)
        viewed = await call(client, "view=time, time=record", record_id=stopped["id"])
        assert viewed["record_data"] == stopped


class TestWhileRecordsAreAdded:
    async def test_a_walk_shows_every_record_of_its_first_page_time_once_in_order(self, any_server: Running) -> None:
        alice, bob = await partners(any_server)
        for _ in range(24):
            assert (await transfer(alice, bob.email, 1))["failed"] is False  # type: ignore[attr-defined]
        alice_too = await any_server.session()
        login = await alice_too.call(action="login", user_email=alice.email, user_pass=PASSWORD)  # type: ignore[attr-defined]
        assert login["failed"] is False, login
        done = asyncio.Event()
        added: list[int] = []

        async def add_records() -> None:
            # bob pays alice (an incoming record in her sheet) and alice, on another session,
            # transfers to bob (an outgoing one), until her walk ends.
            while not done.is_set():
                paid = await transfer(bob, alice.email, 1)  # type: ignore[attr-defined]
                moved = await transfer(alice_too, bob.email, 1)  # type: ignore[attr-defined]
                assert not paid["failed"] and not moved["failed"], (paid, moved)
                added.append(moved["transfer_record"])  # bob's payment adds an incoming record too

        first = await listed(alice, "transfer", limit=3)
        writer = asyncio.create_task(add_records())
        try:
            walked, answer = ids_of(first), first
            while answer["next_cursor"] is not None:
                mark = len(added)
                while len(added) < mark + 1:  # records arrive between every two pages
                    await asyncio.sleep(0.005)
                answer = await listed(alice, "transfer", limit=3, cursor=answer["next_cursor"])
                walked += ids_of(answer)
        finally:
            done.set()
            await writer
        assert len(added) >= 8
        assert len(walked) == 25 and walked == sorted(set(walked), reverse=True)
        fresh = ids_of(await listed(alice, "transfer", limit=500))
        assert len(fresh) >= 25 + 2 * len(added) and set(added) <= set(fresh)
        assert fresh[-25:] == walked, "records added during the walk only show on a new first page"
