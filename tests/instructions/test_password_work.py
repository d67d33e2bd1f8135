"""Passwords are hashed off the write path (§11): hashing and verifying run before the write
transaction, never on the single SQLite writer, so other clients' writes are not delayed by them;
the write transaction re-checks under its lock that the hash it relied on is still the stored
one. And `new account` counts against the anonymous rate limit of §5.4."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update

from ewallet.domain.passwords import PasswordHasher
from ewallet.domain.validation import name_key
from ewallet.storage.database import session_factory
from ewallet.storage.models import Account
from tests.answers import ok, refused
from tests.instructions.expect import call
from tests.support import PASSWORD, LineClient, Running, new_account, running_server

#: argon2-cffi's own defaults (time cost 3, 64 MiB, 4 lanes): what production runs with.
REAL_ARGON2: dict[str, Any] = {"argon2_time_cost": 3, "argon2_memory_kib": 65536, "argon2_parallelism": 4}
PASSWORDS = ["Secret!2345word", "Second!p2", "Third!pa3", "Fourth!p4"]
_names = itertools.count(1)


async def transfer(client: LineClient, partner: str) -> dict[str, Any]:
    return await client.call(action="transfer", transfer="credits", transfer_to=partner, credits=1)


async def keep_creating(client: LineClient, stop: asyncio.Event, done: list[str]) -> None:
    while not stop.is_set():
        await new_account(client, name=f"load{next(_names)}")
        done.append("create")


async def keep_logging_in(client: LineClient, stop: asyncio.Event, done: list[str]) -> None:
    while not stop.is_set():
        answer = await client.call(action="login", user_email=client.email, user_pass=PASSWORD)  # type: ignore[attr-defined]
        ok(answer, "account", "session_data")
        done.append("login")


async def keep_changing_the_password(client: LineClient, stop: asyncio.Event, done: list[str]) -> None:
    for current, new in itertools.pairwise(itertools.cycle(PASSWORDS)):
        if stop.is_set():
            return
        answer = await call(client, "edit=account", user_pass=new, current_pass=current)
        assert answer["failed"] is False and answer["edit"]["pass"] is True, answer
        done.append("edit")


async def transfer_latencies(payer: LineClient, payee: str, *, seconds: float, most: int) -> list[float]:
    """Seconds each transfer took, one after another, for `seconds` or `most` transfers."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(latencies) < most:
        started = time.perf_counter()
        answer = await transfer(payer, payee)
        latencies.append(time.perf_counter() - started)
        assert answer["failed"] is False, answer
    return latencies


def figures(label: str, latencies: list[float]) -> tuple[float, float]:
    """(median, p99 by nearest rank), printed."""
    ordered = sorted(latencies)
    median, p99 = statistics.median(ordered), ordered[math.ceil(len(ordered) * 0.99) - 1]
    print(
        f"\ntransfers {label}: n={len(ordered)} median={median * 1000:.1f} ms p99={p99 * 1000:.1f} ms "
        f"max={ordered[-1] * 1000:.1f} ms"
    )
    return median, p99


class TestHashingDoesNotDelayOtherWrites:
    """One hash takes about half a second here; a transfer that waited behind one would show it.
    The bounds leave room for what is not hashing: the other clients' own writes share the
    writer (a new account inserts a dozen rows), and this 2-core machine is shared. Before the
    hashing left the writer, the same run measured a median of 3-5 s."""

    async def test_transfers_stay_fast_while_other_clients_create_log_in_and_change_passwords(
        self, sqlite_url: str
    ) -> None:
        async with running_server(sqlite_url, **REAL_ARGON2) as running:
            payer, payee = await running.user("payer"), await running.user("payee")
            ok(
                await payer.call(action="supply", supply="credits", credits=100_000),
                "supplied_credits",
                "ewallet_credits",
                "transfer_record",
                "invoice_record",
            )
            quiet = await transfer_latencies(payer, payee.email, seconds=1.0, most=100)  # type: ignore[attr-defined]
            workers: list[tuple[Callable[..., Awaitable[None]], LineClient]] = [
                (keep_creating, await running.session()),
                (keep_creating, await running.session()),
                (keep_logging_in, await running.user("loginloop")),
                (keep_changing_the_password, await running.user("editloop")),
            ]
            stop, done = asyncio.Event(), []
            load = [asyncio.create_task(work(client, stop, done)) for work, client in workers]
            await asyncio.sleep(0.2)  # every password client has work in flight
            try:
                busy = await transfer_latencies(payer, payee.email, seconds=6.0, most=300)  # type: ignore[attr-defined]
            finally:
                stop.set()
                await asyncio.gather(*load)
            figures("alone", quiet)
            median, p99 = figures("under password load", busy)
            print(f"password instructions done meanwhile: { {kind: done.count(kind) for kind in sorted(set(done))} }")
            assert len(done) >= 4, "the password clients did not get going"
            assert median < 0.04
            assert p99 < 0.15


class TestNewAccountIsRateLimited:
    async def test_counts_against_the_anonymous_limit_of_its_address(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, anon_rate=4) as running:
            client = await running.session()  # two anonymous requests
            await new_account(client)
            await new_account(client)
            answer = await call(client, "new=account", user_name="late", user_pass=PASSWORD, user_email="l@example.com")
            refused(answer, "rate_limited")
            other = await running.client_from("127.0.0.2")
            await other.open_session()
            await new_account(other)


def _hold_account(running: Running, name: str) -> tuple[Any, int]:
    """A write transaction holding the account row (on SQLite: the database's write lock)."""
    db = session_factory(running.app.engine)()
    db.begin()
    account_id = db.scalar(select(Account.id).where(Account.name_key == name_key(name)).with_for_update())
    assert account_id is not None
    return db, account_id


async def _change_hash_while_waiting(running: Running, name: str, request: Awaitable[dict[str, Any]]) -> Any:
    """Send a request, and while its write transaction waits for the account row, replace the
    stored hash (as a password change committed by another process would). Returns its answer."""
    db, account_id = await asyncio.to_thread(_hold_account, running, name)
    try:
        pending = asyncio.ensure_future(request)
        await asyncio.sleep(0.5)  # cheap test hashes: long enough for the preparation to finish
        assert not pending.done(), "the instruction did not wait for the account row"
        new_hash = PasswordHasher(1, 64, 1).hash("Changed!pw9")
        db.execute(update(Account).where(Account.id == account_id).values(pass_hash=new_hash))
        await asyncio.to_thread(db.commit)
    finally:
        db.close()
    return await pending


class TestThePreparationIsRecheckedUnderTheLock:
    async def test_a_login_verified_against_a_hash_replaced_meanwhile_is_a_conflict(self, any_server: Running) -> None:
        client = await any_server.session()
        await new_account(client, name="alice")
        answer = await _change_hash_while_waiting(
            any_server, "alice", client.call(action="login", user_name="alice", user_pass=PASSWORD)
        )
        refused(answer, "conflict")
        refused(await call(client, "view=account"), "not_logged_in")
        refused(await client.call(action="login", user_name="alice", user_pass=PASSWORD), "invalid_credentials")
        ok(await client.call(action="login", user_name="alice", user_pass="Changed!pw9"), "account", "session_data")

    async def test_an_edit_verified_against_a_hash_replaced_meanwhile_is_a_conflict(self, any_server: Running) -> None:
        client = await any_server.user("alice")
        before = ok(await call(client, "view=account"), "account", "account_data")["account_data"]
        answer = await _change_hash_while_waiting(
            any_server,
            "alice",
            call(client, "edit=account", user_email="new@example.com", user_alias="Al", current_pass=PASSWORD),
        )
        refused(answer, "conflict")
        assert ok(await call(client, "view=account"), "account", "account_data")["account_data"] == before

    async def test_a_failed_login_counted_under_the_lock_still_throttles(self, any_server: Running) -> None:
        """Many wrong guesses verified at once: only five are judged, the rest are refused."""
        client = await any_server.session()
        await new_account(client, name="alice")
        guessers = [await any_server.session() for _ in range(8)]
        answers = await asyncio.gather(
            *(g.call(action="login", user_name="alice", user_pass=f"Wrong!{n}pass") for n, g in enumerate(guessers))
        )
        codes = sorted(answer["code"] for answer in answers)
        assert codes == ["invalid_credentials"] * 5 + ["rate_limited"] * 3
        refused(await client.call(action="login", user_name="alice", user_pass=PASSWORD), "rate_limited")


class TestNoHashingBeforeAuthorisation:
    """With slow hashes, refusals that come before the password check answer at once."""

    async def test_unauthorised_and_throttled_requests_answer_without_hashing(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, **REAL_ARGON2) as running:
            client = await running.session()
            await new_account(client, name="alice")
            started = time.perf_counter()
            refused(
                await client.call(action="login", user_name="alice", user_pass="Wrong!pass1"), "invalid_credentials"
            )
            one_hash = time.perf_counter() - started
            for _ in range(4):
                await client.call(action="login", user_name="alice", user_pass="Wrong!pass1")
            stranger = await running.client()
            refusals: list[Awaitable[dict[str, Any]]] = [
                client.call(action="login", user_name="alice", user_pass=PASSWORD),  # throttled
                stranger.call(action="login", user_name="alice", user_pass=PASSWORD),  # no session
                client.call(action="edit", edit="account", user_pass="New!pass99", current_pass=PASSWORD),
                stranger.call(action="new", new="account", user_name="x", user_pass=PASSWORD, user_email="x@a.com"),
            ]
            for request in refusals:
                started = time.perf_counter()
                answer = await request
                assert answer["failed"] is True, answer
                assert time.perf_counter() - started < one_hash / 3, (answer, one_hash)
