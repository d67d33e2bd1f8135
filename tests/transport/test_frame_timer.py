"""The frame timer alone, on a real event loop: each request gets the whole timeout from its own
first byte, and time spent paused does not count."""

from __future__ import annotations

import asyncio

from ewallet.transport.timers import FrameTimer


class Expiries:
    def __init__(self) -> None:
        self.at: list[float] = []
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()

    def __call__(self) -> None:
        self.at.append(self.loop.time() - self.started)


class TestFrameTimer:
    async def test_expires_once_after_the_timeout(self) -> None:
        expiries = Expiries()
        timer = FrameTimer(expiries.loop, 0.1, expiries)
        timer.start()
        await asyncio.sleep(0.4)
        assert len(expiries.at) == 1 and 0.09 <= expiries.at[0] < 0.35
        assert not timer.running

    async def test_a_new_request_gets_the_whole_timeout_again(self) -> None:
        expiries = Expiries()
        timer = FrameTimer(expiries.loop, 0.2, expiries)
        for _ in range(5):  # a second of back-to-back requests, each well within its timeout
            timer.start()
            await asyncio.sleep(0.15)
            assert expiries.at == []
        timer.stop()
        await asyncio.sleep(0.3)
        assert expiries.at == []

    async def test_time_spent_paused_does_not_count(self) -> None:
        expiries = Expiries()
        timer = FrameTimer(expiries.loop, 0.3, expiries)
        timer.start()
        await asyncio.sleep(0.2)
        timer.pause()
        timer.pause()  # idempotent
        await asyncio.sleep(0.5)
        assert expiries.at == []
        timer.resume()
        await asyncio.sleep(0.5)
        assert len(expiries.at) == 1 and 0.78 <= expiries.at[0] < 1.1

    async def test_a_request_started_while_paused_waits_for_the_resume(self) -> None:
        expiries = Expiries()
        timer = FrameTimer(expiries.loop, 0.1, expiries)
        timer.pause()
        timer.start()
        await asyncio.sleep(0.3)
        assert expiries.at == [] and not timer.running
        timer.resume()
        await asyncio.sleep(0.2)
        assert len(expiries.at) == 1
