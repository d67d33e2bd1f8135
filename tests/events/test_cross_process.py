"""Events committed by another server process reach a subscriber within 1 s (§12 Events), on
PostgreSQL (NOTIFY) and on SQLite (polling)."""

from __future__ import annotations

import asyncio

import pytest

from scripts.drills.processes import serving
from scripts.drills.wallets import open_wallet

#: The protocol's bound for an event of another process, and a margin for a loaded machine.
WITHIN = 1.0 + 1.0


class TestAnotherProcessesEvent:
    @pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
    async def test_reaches_the_first_subscriber_of_a_process_right_after_it_subscribed(self, database_url: str) -> None:
        """The process the subscriber is on had no subscriber before (on SQLite its poller has
        been idle); the event commits through the other process a moment after the subscribe
        answer, and nothing else happens afterwards."""
        with serving(database_url) as one, serving(database_url) as two:
            wallet = await open_wallet(one.port, 0, "watched", 0)
            watcher = await wallet.twin().connect(two.port)
            try:
                await asyncio.sleep(0.6)  # a poll interval and more with no subscriber on `two`
                answer = await watcher.call(action="subscribe", subscribe="events")
                assert answer is not None and answer["failed"] is False, answer
                supplied = await wallet.call(action="supply", supply="credits", credits=5)
                assert supplied is not None and supplied["failed"] is False, supplied
                try:
                    event = await watcher.conn.recv(WITHIN)  # type: ignore[union-attr]
                except TimeoutError:
                    pytest.fail(f"the supply's credits_received did not arrive within {WITHIN} s")
                assert event is not None and event["event"] == "credits_received", event
                assert event["data"]["ewallet_credits"] == 5, event
            finally:
                await wallet.close()
                await watcher.close()
            assert not one.tracebacks() and not two.tracebacks(), one.log + two.log
