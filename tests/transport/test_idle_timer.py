"""The idle timer alone, on a real event loop with short timeouts: it fires once the connection has
been quiet for the whole timeout and is idle, activity postpones it, and a connection that is
quiet but busy is looked at again until it is idle."""

from __future__ import annotations

import asyncio

from ewallet.transport.timers import IdleTimer


class Idleness:
    """Whether the connection is idle, as the test says, and when the timer fired."""

    def __init__(self) -> None:
        self.idle = True
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()
        self.fired: list[float] = []

    def __call__(self) -> bool:
        return self.idle

    def expired(self) -> None:
        self.fired.append(self.loop.time() - self.started)


def idle_timer(idleness: Idleness, timeout: float) -> IdleTimer:
    return IdleTimer(idleness.loop, timeout, idleness, idleness.expired)


class TestIdleTimer:
    async def test_fires_once_after_the_timeout(self) -> None:
        idleness = Idleness()
        timer = idle_timer(idleness, 0.1)
        timer.start()
        await asyncio.sleep(0.4)
        assert len(idleness.fired) == 1 and 0.09 <= idleness.fired[0] < 0.35
        assert not timer.running

    async def test_activity_postpones_it_to_a_timeout_after_the_last_activity(self) -> None:
        idleness = Idleness()
        timer = idle_timer(idleness, 0.2)
        timer.start()
        for _ in range(6):  # 0.6 s of activity, never 0.2 s apart
            await asyncio.sleep(0.1)
            timer.activity()
        last_activity = timer.last_activity - idleness.started
        assert idleness.fired == []
        await asyncio.sleep(0.5)
        assert len(idleness.fired) == 1
        assert 0.19 <= idleness.fired[0] - last_activity < 0.4

    async def test_a_quiet_connection_that_is_not_idle_is_kept_until_it_is(self) -> None:
        idleness = Idleness()
        idleness.idle = False  # say, a slow instruction is running
        timer = idle_timer(idleness, 0.1)
        timer.start()
        await asyncio.sleep(0.4)
        assert idleness.fired == [] and timer.running
        idleness.idle = True
        became_idle = idleness.loop.time() - idleness.started
        await asyncio.sleep(0.2)
        # Quiet long enough already: it goes soon after it is idle, not a whole timeout later.
        assert len(idleness.fired) == 1 and idleness.fired[0] - became_idle < 0.09

    async def test_stopped_it_never_fires(self) -> None:
        idleness = Idleness()
        timer = idle_timer(idleness, 0.1)
        timer.start()
        timer.stop()
        timer.stop()  # idempotent
        await asyncio.sleep(0.3)
        assert idleness.fired == [] and not timer.running
