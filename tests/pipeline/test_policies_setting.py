"""The `transactions` setting: which policy runs a server's instructions."""

from __future__ import annotations

import pytest

from ewallet.pipeline.policies import policy_for
from ewallet.settings import Settings, SettingsError
from tests.support import running_server


@pytest.mark.parametrize(
    ("setting", "dialect", "policy"),
    [
        ("auto", "sqlite", "grouped"),
        ("auto", "postgresql", "pooled"),
        ("pooled", "sqlite", "pooled"),
        ("grouped", "postgresql", "grouped"),
    ],
)
def test_resolves(setting: str, dialect: str, policy: str) -> None:
    assert policy_for(setting, dialect) == policy


def test_refuses_an_unknown_policy() -> None:
    with pytest.raises(SettingsError, match="TRANSACTIONS"):
        Settings.load({"EWALLET_TRANSACTIONS": "parallel"})


@pytest.mark.parametrize(("setting", "threads"), [("grouped", True), ("pooled", False)])
async def test_grouped_runs_a_writer_thread_and_pooled_none(sqlite_url: str, setting: str, threads: bool) -> None:
    async with running_server(sqlite_url, transactions=setting) as server:
        scheduler = server.app.scheduler
        assert (scheduler.writer is not None) is threads
        assert len(scheduler.readers) == 1  # reads share a transaction per batch under both
        alice, bob = await server.user(), await server.user()
        assert (await alice.call(action="supply", supply="credits", credits=5))["failed"] is False
        moved = await alice.call(action="transfer", transfer="credits", transfer_to=bob.email, credits=2)
        assert moved["failed"] is False and moved["ewallet_credits"] == 3
