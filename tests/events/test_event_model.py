"""Events against a model (§12 Events): random programs of supplies, payments, transfers, logins
and self-stopping timer runs, with subscribers that come, drop their connection and resume with
`after`, or subscribe again on the same connection, spread over two `ewallet serve` processes on
one database (PostgreSQL: NOTIFY between them; SQLite: polling). At the end every subscriber has
received exactly its account's events, in seq order, each once, with data matching the effect
(tests/events/model.py says precisely what is checked). A lost or doubled event fails it.

EWALLET_EVENT_EXAMPLES sets how many programs run (a handful by default, for CI)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ewallet.domain.events import KINDS
from ewallet.storage.database import create_db_engine
from scripts.drills.processes import serving
from tests.events.model import (
    SERVER_FLAGS,
    Burst,
    Login,
    Move,
    Pause,
    Reconnect,
    Resubscribe,
    Step,
    Subscribe,
    Supply,
    Timer,
    World,
    judge,
)

ACCOUNTS, SERVERS = 3, 2
EXAMPLES = int(os.environ.get("EWALLET_EVENT_EXAMPLES", "4"))
#: Shrinking reruns programs against real servers for minutes; the failing program is printed
#: whole without it. EWALLET_EVENT_SHRINK=1 shrinks.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("EWALLET_EVENT_SHRINK") == "1" else []
)

who = st.integers(0, ACCOUNTS - 1)
via = st.integers(0, SERVERS - 1)
kinds = st.lists(st.sampled_from(KINDS), min_size=1, max_size=len(KINDS), unique=True).map(
    lambda chosen: tuple(kind for kind in KINDS if kind in chosen)
)
steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(Supply, who, via, st.integers(1, 40)),
    st.builds(Burst, who, via, st.integers(2, 120)),
    st.builds(Move, who, st.integers(0, ACCOUNTS - 2), via, st.sampled_from(["pay", "transfer"]), st.integers(1, 50)),
    st.builds(Login, who, via),
    st.builds(Timer, who, via),
    st.builds(Subscribe, who, via, kinds),
    st.builds(Reconnect, st.integers(0, 9), via),
    st.builds(Resubscribe, st.integers(0, 9)),
    st.builds(Pause, st.sampled_from([0.05, 0.3, 0.7])),
)
programs = st.lists(steps, min_size=3, max_size=30)


async def run_program(ports: list[int], engine: Engine, program: list[Step]) -> str:
    """One program from fresh accounts, each watched from the start by a subscriber of every kind
    on the server its session was not opened through."""
    world = World(ports, ACCOUNTS)
    try:
        await world.open()
        for number in range(ACCOUNTS):
            await world.apply(Subscribe(number, number + 1, KINDS))
        for step in program:
            await world.apply(step)
        await world.finish()
        table = await world.catch_up(engine)
        return judge(world, table)
    finally:
        await world.close()


class TestEventsAgainstTheModel:
    @pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
    async def test_every_subscriber_sees_each_event_of_its_account_once_and_in_order(self, database_url: str) -> None:
        loop = asyncio.get_running_loop()
        engine = create_db_engine(database_url, pool_size=1)
        reports: list[str] = []
        started = time.monotonic()
        with serving(database_url, **SERVER_FLAGS) as one, serving(database_url, **SERVER_FLAGS) as two:

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(program=programs)
            def every_program(program: list[Step]) -> None:
                work = run_program([one.port, two.port], engine, program)
                reports.append(asyncio.run_coroutine_threadsafe(work, loop).result(timeout=120))

            try:
                await asyncio.to_thread(every_program)
            finally:
                engine.dispose()
            print(f"\n{len(reports)} programs in {time.monotonic() - started:.1f} s; last: {reports[-1]}")
            assert not one.tracebacks() and not two.tracebacks(), one.log + two.log
