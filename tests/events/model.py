"""The model the event tests hold the servers to: what a test caused, per account, and what every
subscriber must therefore have seen.

A program of steps (supplies, payments, transfers, logins, timer runs, subscribers that come,
reconnect and resubscribe) runs one step after another against two `ewallet serve` processes on
one database, each step through either process. Every effect a step causes is an expected event of
one account, in order: `credits_received` with the balance after it, `login`. A timer run is
started on a clock of 0.02 minutes and stops itself (the sweep, or the next look at the clock):
its `timer_stopped` comes at a moment the test does not choose, so it is expected once per run,
somewhere after the run began. `clock_low` is recorded by a subscriber's process, once per run.

At the end the events table is the truth: its rows of an account must be exactly the model's
effects (in order) and runs (once each), and every subscriber must have received, across its
reconnects, exactly the rows of its account and kinds above the `after` it began with, in seq
order, each once, with data matching the effect."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ewallet.domain import events as kinds_of
from ewallet.storage.models import Account as AccountRow
from ewallet.storage.models import Event
from scripts.drills.line_client import PASSWORD, LineClient
from scripts.drills.wallets import new_logged_in

#: Credits one timer run converts: 2 credits at 0.01 minutes per credit is 0.02 minutes (1.2 s).
RUN_CREDITS = 2
RUN_SECONDS = 1.2
RUN_MINUTES = 0.02
#: Flags of the servers the model runs against: a tiny clock per run and a quick timer sweep.
SERVER_FLAGS = {"conversion_rate": "0.01", "timer_sweep": "0.3"}
#: How long a step waits for an answer, and the run for the subscribers to catch up.
ANSWER_SECONDS = 30.0
CATCH_UP_SECONDS = 15.0
#: After everyone has caught up: long enough for a doubled event from the other process to arrive.
QUIET_SECONDS = 1.2
SEEN_KINDS = (kinds_of.CREDITS_RECEIVED, kinds_of.LOGIN, kinds_of.TIMER_STOPPED, kinds_of.CLOCK_LOW)
_tags = itertools.count(1)


# -- the steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Supply:
    who: int
    via: int
    credits: int


@dataclass(frozen=True)
class Burst:
    """`count` supplies of one credit sent at once on one connection (answers come in order):
    events commit faster than one at a time, so subscribers read them in pages."""

    who: int
    via: int
    count: int


@dataclass(frozen=True)
class Move:
    payer: int
    #: The partner is the payer's `1 + partner`-th neighbour: never the payer itself.
    partner: int
    via: int
    kind: str  # "pay" or "transfer"
    credits: int


@dataclass(frozen=True)
class Login:
    """A login of the account on a new session (a `login` event)."""

    who: int
    via: int


@dataclass(frozen=True)
class Timer:
    """Look at the clock (which settles a run that ran out); if it is not running, convert a
    tiny clock and start a run that stops itself 1.2 s later."""

    who: int
    via: int


@dataclass(frozen=True)
class Subscribe:
    who: int
    via: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Reconnect:
    """A subscriber drops its connection (unread events and all) and subscribes again on a new
    one, through `via`, with `after` = the last seq it saw."""

    subscriber: int
    via: int


@dataclass(frozen=True)
class Resubscribe:
    """A subscriber subscribes again on the same connection (the new subscription replaces the
    old one) with `after` = the last seq it saw."""

    subscriber: int


@dataclass(frozen=True)
class Pause:
    seconds: float


Step = Supply | Burst | Move | Login | Timer | Subscribe | Reconnect | Resubscribe | Pause


# -- the connections ------------------------------------------------------------------------------


def instruction(**fields: Any) -> bytes:
    return json.dumps({"controller": "client", "ctype": "action", **fields}).encode() + b"\n"


@dataclass
class Effect:
    """An event the model expects, of one account."""

    kind: str
    #: credits_received: the credits, who sent them, the balance after.
    credits: int = 0
    sender: str = ""
    balance: int = 0


@dataclass
class Run:
    """One timer run: started at `started` (monotonic), its start as the server answered it."""

    start_timestamp: str
    started: float
    clock: int
    #: Seen stopped (the clock inactive again).
    ended: bool = False


@dataclass
class Wallet:
    """An account with one session, and a connection to each server on that session."""

    index: int
    email: str
    client_id: str
    session_token: str
    conns: list[LineClient]
    credits: int = 0
    effects: list[Effect] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    async def call(self, via: int, **fields: Any) -> dict[str, Any]:
        conn = self.conns[via % len(self.conns)]
        await conn.send(instruction(client_id=self.client_id, session_token=self.session_token, **fields))
        answer = await conn.recv(ANSWER_SECONDS)
        assert answer is not None, f"server {via} closed {self.email}'s connection"
        return answer

    @property
    def running(self) -> Run | None:
        return self.runs[-1] if self.runs and not self.runs[-1].ended else None


@dataclass
class Segment:
    """What one subscription delivered: the `after` it began from and its events, in arrival order."""

    after: int
    via: int
    #: Which of the subscriber's connections it came on (they are numbered from 1).
    conn: int
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Replaced by a subscription on the same connection (which may deliver some events again).
    replaced: bool = False


class Subscriber:
    """A subscriber of one account, across its connections and subscriptions."""

    def __init__(self, wallet: Wallet, kinds: tuple[str, ...], ports: list[int]) -> None:
        self.wallet = wallet
        self.kinds = kinds
        self.ports = ports
        self.segments: list[Segment] = []
        #: The model's effects of the account before the first subscription, and its runs.
        self.effects_before = len(wallet.effects)
        self.runs_before = len(wallet.runs)
        self.ended_runs_before = sum(run.ended for run in wallet.runs)
        self.stray: list[dict[str, Any]] = []
        self._conn: LineClient | None = None
        self._reader: asyncio.Task[None] | None = None
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pending: list[tuple[int | None, int]] = []
        self._connections = 0

    @property
    def last_seen(self) -> int:
        for segment in reversed(self.segments):
            if segment.events:
                return int(segment.events[-1]["seq"])
        return self.segments[0].after if self.segments else 0

    @property
    def received(self) -> int:
        return len({event["seq"] for segment in self.segments for event in segment.events})

    async def connect(self, via: int, after: int | None) -> None:
        await self.disconnect()
        self._conn = await LineClient.connect(self.ports[via % len(self.ports)])
        self._connections += 1
        self._reader = asyncio.create_task(self._read(self._conn, self._connections))
        await self.subscribe(via, after)

    async def subscribe(self, via: int, after: int | None) -> None:
        assert self._conn is not None
        fields: dict[str, Any] = {"subscribe": "events", "kinds": list(self.kinds)}
        if after is not None:
            fields["after"] = after
        self._pending.append((after, via % len(self.ports)))
        w = self.wallet
        await self._conn.send(
            instruction(action="subscribe", client_id=w.client_id, session_token=w.session_token, **fields)
        )
        answer = await asyncio.wait_for(self._answers.get(), ANSWER_SECONDS)
        assert answer.get("failed") is False and answer["subscribed"] == "events", answer

    async def _read(self, conn: LineClient, number: int) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while line := await conn.reader.readline():
                message = json.loads(line)
                if "failed" in message:  # an answer: a subscription (re)starts after it
                    after, via = self._pending.pop(0)
                    if message.get("failed") is False:
                        if self.segments and self.segments[-1].conn == number:
                            self.segments[-1].replaced = True
                        start = after if after is not None else (message["last_event"] or 0)
                        self.segments.append(Segment(start, via, number))
                    self._answers.put_nowait(message)
                elif self.segments:
                    self.segments[-1].events.append(message)
                else:
                    self.stray.append(message)

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


# -- running a program ----------------------------------------------------------------------------


async def open_wallet(ports: list[int], index: int, name: str) -> Wallet:
    """A new account logged in on a new session, opened through server `index` (of those there are)."""
    conns = [await LineClient.connect(port) for port in ports]
    client_id, token, email = await new_logged_in(conns[index % len(conns)], name)
    wallet = Wallet(index, email, client_id, token, conns)
    wallet.effects.append(Effect(kinds_of.LOGIN))
    return wallet


class World:
    """One program's accounts and subscribers on the servers at `ports`."""

    def __init__(self, ports: list[int], accounts: int) -> None:
        self.ports = ports
        self.accounts = accounts
        self.wallets: list[Wallet] = []
        self.subscribers: list[Subscriber] = []

    async def open(self) -> None:
        tag = f"ev{time.monotonic_ns() % 10**9}x{next(_tags)}"
        self.wallets = [await open_wallet(self.ports, n, f"{tag}n{n}") for n in range(self.accounts)]

    async def close(self) -> None:
        for subscriber in self.subscribers:
            await subscriber.disconnect()
        for wallet in self.wallets:
            for conn in wallet.conns:
                await conn.close()

    async def apply(self, step: Step) -> None:
        if isinstance(step, Supply):
            await self.supply(self.wallets[step.who], step.via, step.credits)
        elif isinstance(step, Burst):
            await self.burst(self.wallets[step.who], step.via, step.count)
        elif isinstance(step, Move):
            await self.move(step)
        elif isinstance(step, Login):
            await self.login(self.wallets[step.who], step.via)
        elif isinstance(step, Timer):
            await self.timer(self.wallets[step.who], step.via)
        elif isinstance(step, Subscribe):
            subscriber = Subscriber(self.wallets[step.who], step.kinds, self.ports)
            self.subscribers.append(subscriber)
            await subscriber.connect(step.via, None)
        elif isinstance(step, Reconnect):
            if self.subscribers:
                subscriber = self.subscribers[step.subscriber % len(self.subscribers)]
                await subscriber.connect(step.via, subscriber.last_seen)
        elif isinstance(step, Resubscribe):
            if self.subscribers:
                subscriber = self.subscribers[step.subscriber % len(self.subscribers)]
                await subscriber.subscribe(subscriber.segments[-1].via, subscriber.last_seen)
        else:
            await asyncio.sleep(step.seconds)

    async def supply(self, wallet: Wallet, via: int, credits: int) -> None:
        answer = await wallet.call(via, action="supply", supply="credits", credits=credits)
        assert answer["failed"] is False, answer
        wallet.credits += credits
        assert answer["ewallet_credits"] == wallet.credits, answer
        wallet.effects.append(Effect(kinds_of.CREDITS_RECEIVED, credits, "", wallet.credits))

    async def burst(self, wallet: Wallet, via: int, count: int) -> None:
        conn = wallet.conns[via % len(wallet.conns)]
        line = instruction(
            action="supply", supply="credits", credits=1, client_id=wallet.client_id, session_token=wallet.session_token
        )
        await conn.send(line * count)
        for _ in range(count):
            answer = await conn.recv(ANSWER_SECONDS)
            assert answer is not None and answer["failed"] is False, answer
        # One credit each: whatever order they committed in, the balances after them are these.
        for _ in range(count):
            wallet.credits += 1
            wallet.effects.append(Effect(kinds_of.CREDITS_RECEIVED, 1, "", wallet.credits))

    async def move(self, step: Move) -> None:
        payer = self.wallets[step.payer]
        partner = self.wallets[(step.payer + 1 + step.partner) % len(self.wallets)]
        route = {"pay": partner.email} if step.kind == "pay" else {"transfer": "credits", "transfer_to": partner.email}
        answer = await payer.call(step.via, action=step.kind, credits=step.credits, **route)
        if step.credits > payer.credits:
            assert answer["failed"] is True and answer["code"] == "insufficient_credits", answer
            return
        assert answer["failed"] is False, answer
        payer.credits -= step.credits
        partner.credits += step.credits
        assert answer["ewallet_credits"] == payer.credits, answer
        partner.effects.append(Effect(kinds_of.CREDITS_RECEIVED, step.credits, payer.email, partner.credits))

    async def login(self, wallet: Wallet, via: int) -> None:
        conn = await LineClient.connect(self.ports[via % len(self.ports)])
        try:
            await conn.open_session()
            answer = await conn.call(action="login", user_email=wallet.email, user_pass=PASSWORD)
            assert answer["failed"] is False, answer
        finally:
            await conn.close()
        wallet.effects.append(Effect(kinds_of.LOGIN))

    async def clock_state(self, wallet: Wallet, via: int) -> str:
        """The clock's state; looking settles a run that ran out."""
        answer = await wallet.call(via, action="view", view="credit", credit="clock")
        assert answer["failed"] is False, answer
        state = str(answer["clock_data"]["clock_state"])
        run = wallet.running
        if run is not None and state == "inactive":
            assert time.monotonic() - run.started >= RUN_SECONDS - 0.05, ("stopped early", run, answer)
            run.ended = True
        return state

    async def timer(self, wallet: Wallet, via: int) -> None:
        if await self.clock_state(wallet, via) != "inactive":
            return
        if wallet.credits < RUN_CREDITS:
            await self.supply(wallet, via, RUN_CREDITS)
        answer = await wallet.call(via, action="convert", convert="credits2clock", credits=RUN_CREDITS)
        assert answer["failed"] is False and answer["credit_clock"] == RUN_MINUTES, answer
        wallet.credits -= RUN_CREDITS
        started = time.monotonic()
        answer = await wallet.call(via, action="start", start="clock_timer")
        assert answer["failed"] is False, answer
        wallet.runs.append(Run(answer["start_timestamp"], started, int(answer["clock"])))

    async def finish(self) -> None:
        """Every run stopped (by the sweep or by looking), every subscriber caught up with the
        table, then a quiet period in which nothing more may arrive."""
        for number, wallet in enumerate(self.wallets):
            run = wallet.running
            if run is not None:
                await asyncio.sleep(max(run.started + RUN_SECONDS + 0.05 - time.monotonic(), 0))
            deadline = time.monotonic() + ANSWER_SECONDS
            while wallet.running is not None:
                assert time.monotonic() < deadline, f"{wallet.email}'s timer never stopped"
                if await self.clock_state(wallet, number) != "inactive":
                    await asyncio.sleep(0.1)

    async def catch_up(self, engine: Engine) -> dict[int, list[Event]]:
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            table = read_table(engine, self.wallets)
            behind = [s for s in self.subscribers if s.received < len(due(s, table[s.wallet.index]))]
            if not behind or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(QUIET_SECONDS)
        return read_table(engine, self.wallets)


def read_table(engine: Engine, wallets: list[Wallet]) -> dict[int, list[Event]]:
    """Each account's events of the kinds subscribers see, by seq."""
    with Session(engine) as db:
        ids = {
            email: number
            for email, number in db.execute(select(AccountRow.email, AccountRow.id)).all()
            if email in {w.email for w in wallets}
        }
        rows = db.scalars(
            select(Event).where(Event.account_id.in_(ids.values()), Event.kind.in_(SEEN_KINDS)).order_by(Event.id)
        ).all()
        db.expunge_all()
    by_account = {ids[w.email]: w.index for w in wallets}
    table: dict[int, list[Event]] = {w.index: [] for w in wallets}
    for row in rows:
        table[by_account[int(row.account_id or 0)]].append(row)
    return table


def due(subscriber: Subscriber, rows: list[Event]) -> list[Event]:
    """The rows a subscriber must have received: its account's, of its kinds, above where it began."""
    if not subscriber.segments:
        return []
    start = subscriber.segments[0].after
    return [row for row in rows if row.id > start and row.kind in subscriber.kinds]


# -- the judgement --------------------------------------------------------------------------------


def check_table(wallet: Wallet, rows: list[Event]) -> dict[int, Effect | Run | None]:
    """The table's rows of the account are the model's effects, in order, and one timer_stopped
    per run, one clock_low at most per run. Returns what each seq stands for."""
    meaning: dict[int, Effect | Run | None] = {}
    effects = [row for row in rows if row.kind in (kinds_of.CREDITS_RECEIVED, kinds_of.LOGIN)]
    assert [row.kind for row in effects] == [e.kind for e in wallet.effects], (wallet.email, effects, wallet.effects)
    for row, effect in zip(effects, wallet.effects, strict=True):
        if effect.kind == kinds_of.CREDITS_RECEIVED:
            assert row.data["ewallet_credits"] == effect.balance, (wallet.email, row.id, row.data, effect)
        meaning[row.id] = effect
    stops = [row for row in rows if row.kind == kinds_of.TIMER_STOPPED]
    assert len(stops) == len(wallet.runs), (wallet.email, "timer_stopped rows", stops, wallet.runs)
    for row, run in zip(stops, wallet.runs, strict=True):
        assert row.data["clock"] == run.clock, (row.data, run)
        meaning[row.id] = run
    lows = [row for row in rows if row.kind == kinds_of.CLOCK_LOW]
    assert len(lows) <= len(wallet.runs), (wallet.email, "clock_low rows", lows, wallet.runs)
    assert len({row.ref_id for row in lows}) == len(lows), (wallet.email, "two clock_low of one run", lows)
    for row in lows:
        meaning[row.id] = None
    return meaning


def check_subscriber(number: int, subscriber: Subscriber, rows: list[Event], meaning: dict) -> None:
    """Across its subscriptions the subscriber received exactly the rows due to it, in seq order,
    each once; each subscription delivered the rows above its `after` without a gap."""
    wallet = subscriber.wallet
    label = f"subscriber {number} of {wallet.email} (kinds {','.join(subscriber.kinds)})"
    assert not subscriber.stray, (label, "events before any answer", subscriber.stray)
    assert subscriber.segments, label
    # Where it began: after every effect before the subscription, before every one after it.
    start = subscriber.segments[0].after
    effects = [row for row in rows if row.kind in (kinds_of.CREDITS_RECEIVED, kinds_of.LOGIN)]
    assert sum(row.id <= start for row in effects) == subscriber.effects_before, (label, start, effects)
    stops = [row for row in rows if row.kind == kinds_of.TIMER_STOPPED]
    assert all(row.id > start for row in stops[subscriber.runs_before :]), (label, "a later run's stop", start)
    assert all(row.id <= start for row in stops[: subscriber.ended_runs_before]), (label, "an earlier stop", start)
    wanted = [row for row in rows if row.kind in subscriber.kinds]
    received: list[int] = []
    for index, segment in enumerate(subscriber.segments):
        seqs = [int(event["seq"]) for event in segment.events]
        expected = [row.id for row in wanted if row.id > segment.after]
        last = index == len(subscriber.segments) - 1
        shown = (label, f"subscription {index} after {segment.after} via server {segment.via}", seqs, expected)
        if last:
            assert seqs == expected, shown
        else:
            assert seqs == expected[: len(seqs)], shown
        if index and not subscriber.segments[index - 1].replaced:
            assert segment.after == (received[-1] if received else start), shown
        received.extend(seq for seq in seqs if not received or seq > received[-1])
    assert received == [row.id for row in wanted if row.id > start], (label, received)
    by_seq = {row.id: row for row in rows}
    for segment in subscriber.segments:
        for event in segment.events:
            check_event(label, event, by_seq[int(event["seq"])], meaning.get(int(event["seq"])), wallet)


def check_event(label: str, event: dict[str, Any], row: Event, meant: Effect | Run | None, wallet: Wallet) -> None:
    assert set(event) == {"event", "seq", "at", "account", "data"}, (label, event)
    assert event["event"] == row.kind and event["account"] == wallet.email, (label, event, row.kind)
    data = event["data"]
    if isinstance(meant, Effect) and meant.kind == kinds_of.CREDITS_RECEIVED:
        record = data["record"]
        assert data["ewallet_credits"] == meant.balance, (label, event, meant)
        assert record["id"] == row.ref_id and record["transfer_type"] == "incoming", (label, event)
        assert record["credits"] == meant.credits and record["transfer_to"] == wallet.email, (label, event, meant)
        if meant.sender:
            assert record["transfer_from"] == meant.sender, (label, event, meant)
        else:
            assert record["transfer_from"] != wallet.email, (label, event, meant)
    elif isinstance(meant, Effect):
        assert set(data) == {"login_record", "session"}, (label, event)
        assert data == {"login_record": row.data["login_record"], "session": row.data["session"]}, (label, event)
    elif isinstance(meant, Run):
        record = data["record_data"]
        assert data["clock"] == meant.clock and data["time_record"] == row.ref_id == record["id"], (label, event)
        assert record["time_start"] == meant.start_timestamp, (label, event, meant)
        assert record["time_spent"] == RUN_MINUTES and record["time_stop"] is not None, (label, event, meant)
    else:
        assert row.kind == kinds_of.CLOCK_LOW, (label, event)
        assert data["clock"] in {run.clock for run in wallet.runs}, (label, event)
        assert 0 <= data["remaining_minutes"] <= RUN_MINUTES, (label, event)


def judge(world: World, table: dict[int, list[Event]]) -> str:
    meanings = {w.index: check_table(w, table[w.index]) for w in world.wallets}
    for number, subscriber in enumerate(world.subscribers):
        index = subscriber.wallet.index
        check_subscriber(number, subscriber, table[index], meanings[index])
    delivered = sum(len(segment.events) for s in world.subscribers for segment in s.segments)
    stored = sum(len(rows) for rows in table.values())
    return f"{len(world.subscribers)} subscribers received {delivered} events of {stored} stored"
