"""history over HTTP: `GET /v1/history/<kind>` with the parameters in the query string (ids in
headers), paging with next_cursor, and the same refusals as over TCP."""

from __future__ import annotations

from typing import Any

import pytest

from ewallet.clock import ManualClock
from tests.http.helpers import Http, ok, refused
from tests.support import Running


async def page(http: Http, kind: str, **params: Any) -> dict[str, Any]:
    answer = await http.client.get(f"/v1/history/{kind}", params=params, headers=http.session_headers)
    return ok(answer, "history", "records", "next_cursor")


class TestHistoryOverHttp:
    async def test_get_pages_with_the_cursor_in_the_query_string(self, http_server: Running) -> None:
        async with Http.to(http_server) as ana:
            await ana.new_user("ana")
            for credits in (1, 2, 3):
                ok(await ana.typed("/v1/supply/credits", credits=credits))
            first = await page(ana, "transfer", limit=2)
            assert [r["credits"] for r in first["records"]] == [3, 2]
            rest = await page(ana, "transfer", limit=2, cursor=first["next_cursor"])
            assert ([r["credits"] for r in rest["records"]], rest["next_cursor"]) == ([1], None)
            by_post = ok(await ana.typed("/v1/history/transfer", limit=2))
            assert by_post["records"] == first["records"]

    async def test_filters_are_typed_from_the_query_string(self, http_server: Running) -> None:
        async with Http.to(http_server) as ana:
            await ana.new_user("ana")
            for credits in (1, 5, 9):
                ok(await ana.typed("/v1/supply/credits", credits=credits))
            kept = await page(ana, "transfer", min_credits="2", max_credits="5", transfer_type="incoming")
            assert [r["credits"] for r in kept["records"]] == [5]
            refused(
                await ana.client.get("/v1/history/transfer", params={"limit": "many"}, headers=ana.session_headers),
                400,
                "invalid_value",
            )

    @pytest.mark.parametrize("key", ["partner", "min_credits"])
    async def test_a_transfer_filter_on_another_kind_is_a_400(self, http_server: Running, key: str) -> None:
        async with Http.to(http_server) as ana:
            await ana.new_user("ana")
            answer = await ana.client.get("/v1/history/invoice", params={key: "1"}, headers=ana.session_headers)
            refused(answer, 400, "invalid_value")

    async def test_the_time_history_answers_get_and_settles_a_timer_that_ran_out(
        self, http_server: Running, clock: ManualClock
    ) -> None:
        async with Http.to(http_server) as ana:
            await ana.new_user("ana")
            ok(await ana.typed("/v1/supply/credits", credits=5))
            ok(await ana.typed("/v1/convert/credits2clock", credits=1))
            ok(await ana.typed("/v1/start/clock-timer"))
            clock.advance(600)
            (record,) = (await page(ana, "time"))["records"]
            assert (record["time_spent"], record["time_stop"] is not None) == (1.0, True)

    async def test_another_accounts_sheet_is_a_403_and_no_session_a_401(self, http_server: Running) -> None:
        async with Http.to(http_server) as ana, Http.to(http_server) as bob:
            await ana.new_user("ana")
            await bob.new_user("bob")
            sheet = ok(await bob.typed("/v1/view/credit/ewallet"))["ewallet_data"]["invoice_sheet"]
            params = {"sheet_id": sheet}
            answer = await ana.client.get("/v1/history/invoice", params=params, headers=ana.session_headers)
            refused(answer, 403, "forbidden")
            refused(await ana.client.get("/v1/history/invoice"), 401, "unauthorized")
