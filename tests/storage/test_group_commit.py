"""Group commit on SQLite: a batch of write instructions shares one transaction and one commit,
each instruction under its own savepoint; reads of a batch share one read transaction."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from ewallet.pipeline.attempt import Pipeline
from ewallet.pipeline.policies import GroupCommit, OwnTransaction, SharedRead
from ewallet.protocol.envelope import parse_instruction
from ewallet.storage.database import session_factory
from tests.support import Running, running_server


def instruction(server: Running, client: Any, **fields: Any) -> Any:
    request = {"controller": "client", "ctype": "action", **fields}
    request |= {"client_id": client.client_id, "session_token": client.session_token}
    return parse_instruction(request, server.app.table, None)


def group_commit(server: Running) -> GroupCommit:
    return GroupCommit(Pipeline(server.app.services), session_factory(server.app.engine))


def shared_read(server: Running) -> SharedRead:
    pipeline, engine = Pipeline(server.app.services), server.app.engine
    read = session_factory(engine, read_only=True)
    return SharedRead(pipeline, read, OwnTransaction(pipeline, session_factory(engine), read))


def transfer(server: Running, client: Any, to: str, credits: int) -> Any:
    return instruction(server, client, action="transfer", transfer="credits", transfer_to=to, credits=credits)


def view(server: Running, client: Any) -> Any:
    return instruction(server, client, action="view", view="credit", credit="ewallet")


async def funded_pair(server: Running) -> tuple[Any, Any]:
    alice, bob = await server.user(), await server.user()
    assert (await alice.call(action="supply", supply="credits", credits=10))["failed"] is False
    return alice, bob


async def credits(client: Any) -> int:
    return int((await client.call(action="view", view="credit", credit="ewallet"))["ewallet_data"]["credits"])


def commits_during(server: Running, work: Any) -> tuple[Any, int]:
    seen = []
    listener = lambda connection: seen.append(1)  # noqa: E731
    event.listen(server.app.engine, "commit", listener)
    try:
        result = work()
    finally:
        event.remove(server.app.engine, "commit", listener)
    return result, len(seen)


class TestGroupCommit:
    async def test_commits_a_whole_batch_once(self, server: Running) -> None:
        alice, bob = await funded_pair(server)
        commit = group_commit(server)
        batch = [(transfer(server, alice, bob.email, 1), "test") for _ in range(5)]
        answers, commits = commits_during(server, lambda: commit(batch))
        assert [a["failed"] for a in answers] == [False] * 5
        assert commits == 1
        assert await credits(alice) == 5 and await credits(bob) == 5

    async def test_a_failing_instruction_rolls_back_alone(self, server: Running) -> None:
        alice, bob = await funded_pair(server)
        commit = group_commit(server)
        batch = [
            (transfer(server, alice, bob.email, 4), "test"),
            (transfer(server, alice, bob.email, 100), "test"),
            (transfer(server, alice, bob.email, 3), "test"),
        ]
        answers = commit(batch)
        assert [a.get("code") for a in answers] == [None, "insufficient_credits", None]
        assert answers[2]["ewallet_credits"] == 3
        assert await credits(alice) == 3 and await credits(bob) == 7

    async def test_a_batch_that_cannot_commit_changes_nothing_and_says_so(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, busy_timeout=0.2) as server:
            alice, bob = await funded_pair(server)
            commit = group_commit(server)
            batch = [(transfer(server, alice, bob.email, 1), "test") for _ in range(3)]
            blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                answers = commit(batch)
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            assert {a["code"] for a in answers} == {"conflict"}
            assert await credits(alice) == 10 and await credits(bob) == 0

    async def test_undoes_in_memory_reservations_of_a_batch_that_failed(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, busy_timeout=0.2) as server:
            client = await server.client()
            answer = await client.call(action="request", request="client_id")
            request = {"controller": "client", "ctype": "action", "action": "request", "request": "session_token"}
            token_request = parse_instruction(request | {"client_id": answer["client_id"]}, server.app.table, None)
            before = sum(len(w.sessions) for w in server.app.services.workers.snapshot())
            blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            try:
                answers = group_commit(server)([(token_request, "test")])
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            assert answers[0]["code"] == "conflict"
            assert sum(len(w.sessions) for w in server.app.services.workers.snapshot()) == before


class TestSharedRead:
    async def test_reads_of_a_batch_share_one_transaction(self, server: Running) -> None:
        alice, bob = await funded_pair(server)
        read = shared_read(server)
        begins = []
        listener = lambda connection: begins.append(1)  # noqa: E731
        event.listen(server.app.engine, "begin", listener)
        try:
            answers = read([(view(server, alice), "test"), (view(server, bob), "test")])
        finally:
            event.remove(server.app.engine, "begin", listener)
        assert [a["ewallet_data"]["credits"] for a in answers] == [10, 0]
        assert len(begins) == 1

    async def test_a_failing_read_answers_alone(self, server: Running) -> None:
        alice, _ = await funded_pair(server)
        read = shared_read(server)
        missing = instruction(server, alice, action="view", view="contact", contact="record", record_id=999)
        answers = read([(view(server, alice), "test"), (missing, "test"), (view(server, alice), "test")])
        assert [a.get("code") for a in answers] == [None, "not_found", None]


@pytest.mark.parametrize("readers", [1, 3])
async def test_serves_reads_and_writes_with_any_number_of_readers(sqlite_url: str, readers: int) -> None:
    async with running_server(sqlite_url, readers=readers) as server:
        alice, bob = await funded_pair(server)
        assert (await alice.call(action="transfer", transfer="credits", transfer_to=bob.email, credits=2))[
            "failed"
        ] is False
        assert await credits(alice) == 8
