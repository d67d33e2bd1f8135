"""A subscriber that does not read loses nothing (§12 Events, §1 backpressure): thousands of
events are produced through two server processes while the subscriber's socket has a small
receive buffer and is not read; when it reads, it gets every one of them, in seq order, once.

EWALLET_EVENT_BACKLOG sets how many events are produced."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ewallet.storage.database import create_db_engine
from ewallet.storage.models import Account, Event
from scripts.drills.processes import serving
from scripts.drills.wallets import Wallet, open_wallet
from tests.events.model import instruction

BACKLOG = int(os.environ.get("EWALLET_EVENT_BACKLOG", "2000"))
#: Supplies sent at once on one connection before their answers are read, and the producing
#: connections (a connection runs its instructions one after another: several commit together).
CHUNK = 250
PRODUCERS = 8
RECEIVE_BUFFER = 4096


def subscriber_socket(port: int, wallet: Wallet) -> tuple[socket.socket, dict[str, Any]]:
    """A blocking socket with a small receive buffer (set before connecting, so the window stays
    small), subscribed to the wallet's account; and the subscribe answer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        instruction(
            action="subscribe", subscribe="events", client_id=wallet.client_id, session_token=wallet.session_token
        )
    )
    reader = sock.makefile("rb")
    answer = json.loads(reader.readline())
    return sock, answer


def read_events(sock: socket.socket, count: int, seconds: float) -> list[dict[str, Any]]:
    """`count` event lines (or what came before a quiet second after the deadline)."""
    reader = sock.makefile("rb")
    sock.settimeout(1.0)
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while len(events) < count or time.monotonic() < deadline:
        try:
            line = reader.readline()
        except TimeoutError:
            if len(events) >= count or time.monotonic() > deadline:
                break
            continue
        if not line:
            break
        events.append(json.loads(line))
        if len(events) >= count:
            deadline = min(deadline, time.monotonic() + 1.2)  # a quiet period: nothing more may come
    return events


async def produce(wallet: Wallet, count: int) -> int:
    """`count` supplies of one credit, pipelined in chunks; the number that succeeded."""
    line = instruction(
        action="supply", supply="credits", credits=1, client_id=wallet.client_id, session_token=wallet.session_token
    )
    conn = wallet.conn
    assert conn is not None
    done = 0
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        await conn.send(line * size)
        for _ in range(size):
            answer = await conn.recv(60)
            assert answer is not None, "the server closed the producer's connection"
            assert answer["failed"] is False or answer["code"] == "conflict", answer
            done += answer["failed"] is False
    return done


class TestASubscriberThatDoesNotRead:
    @pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
    async def test_gets_every_event_in_order_once_it_reads(self, database_url: str) -> None:
        with serving(database_url) as one, serving(database_url) as two:
            wallet = await open_wallet(one.port, 0, "backlog", 0)
            producers = [await wallet.twin().connect((one.port, two.port)[n % 2]) for n in range(PRODUCERS)]
            sock, answer = await asyncio.to_thread(subscriber_socket, one.port, wallet)
            try:
                assert answer["failed"] is False, answer
                started = time.monotonic()
                shares = [BACKLOG // PRODUCERS + (n < BACKLOG % PRODUCERS) for n in range(PRODUCERS)]
                work = (produce(producer, share) for producer, share in zip(producers, shares, strict=True))
                made = sum(await asyncio.gather(*work))
                produced = time.monotonic() - started
                assert made >= BACKLOG * 0.9, made
                events = await asyncio.to_thread(read_events, sock, made, 60.0)
            finally:
                sock.close()
                for each in (wallet, *producers):
                    await each.close()
            print(f"\n{made} events produced in {produced:.1f} s while unread; {len(events)} read")
            engine = create_db_engine(database_url, pool_size=1)
            try:
                with Session(engine) as db:
                    account = db.scalars(select(Account.id).where(Account.email == wallet.email)).one()
                    stored = list(
                        db.scalars(
                            select(Event.id)
                            .where(Event.account_id == account, Event.kind == "credits_received")
                            .order_by(Event.id)
                        )
                    )
            finally:
                engine.dispose()
            seqs = [event["seq"] for event in events]
            assert len(stored) == made
            assert seqs == stored, (len(seqs), len(stored), sorted(set(stored) - set(seqs))[:10])
            balances = [event["data"]["ewallet_credits"] for event in events]
            assert balances == list(range(1, made + 1)), balances[:10]
            assert all(event["account"] == wallet.email and "failed" not in event for event in events)
            assert not one.tracebacks() and not two.tracebacks(), one.log + two.log
