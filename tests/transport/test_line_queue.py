"""The line queue alone: lines come out in the order they went in, the high and low water marks
that pause and resume reading, and closing (what is queued is still handed out, then None)."""

from __future__ import annotations

import asyncio

from ewallet.transport.framing import Line, TooLarge
from ewallet.transport.line_queue import MAX_QUEUED_LINES, LineQueue


def line(n: int) -> Line:
    return Line(f"line {n}".encode())


class TestOrder:
    async def test_hands_out_lines_oldest_first(self) -> None:
        queue = LineQueue()
        for n in range(5):
            queue.put(line(n))
        queue.put(TooLarge())
        assert [await queue.get() for _ in range(6)] == [*(line(n) for n in range(5)), TooLarge()]
        assert len(queue) == 0

    async def test_a_batch_keeps_its_order_after_what_was_queued(self) -> None:
        queue = LineQueue()
        queue.put(line(0))
        queue.extend([line(1), line(2)])
        queue.extend([])
        assert [await queue.get() for _ in range(3)] == [line(0), line(1), line(2)]

    async def test_a_waiting_reader_gets_the_line_put_later(self) -> None:
        queue = LineQueue()
        reader = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        assert not reader.done()
        queue.put(line(1))
        assert await asyncio.wait_for(reader, 1) == line(1)

    async def test_a_reader_keeps_waiting_after_the_queue_is_emptied(self) -> None:
        queue = LineQueue()
        queue.put(line(1))
        assert await queue.get() == line(1)
        reader = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        assert not reader.done()
        queue.put(line(2))
        assert await asyncio.wait_for(reader, 1) == line(2)


class TestWaterMarks:
    def test_full_at_the_limit(self) -> None:
        queue = LineQueue(limit=4)
        for n in range(3):
            queue.put(line(n))
        assert not queue.full
        queue.put(line(3))
        assert queue.full

    async def test_has_room_again_only_below_half_the_limit(self) -> None:
        queue = LineQueue(limit=4)
        for n in range(4):
            queue.put(line(n))
        await queue.get()
        assert not queue.full and not queue.has_room  # 3 left: not yet worth reading again
        await queue.get()
        assert not queue.has_room  # 2 left
        await queue.get()
        assert queue.has_room  # 1 left

    def test_the_default_limit_is_the_servers(self) -> None:
        assert LineQueue().limit == MAX_QUEUED_LINES


class TestClosing:
    async def test_what_was_queued_is_still_handed_out_then_none(self) -> None:
        queue = LineQueue()
        queue.put(line(1))
        queue.put(line(2))
        queue.close()
        assert [await queue.get(), await queue.get(), await queue.get()] == [line(1), line(2), None]

    async def test_takes_no_line_once_closed(self) -> None:
        queue = LineQueue()
        queue.close()
        queue.put(line(1))
        assert len(queue) == 0 and await queue.get() is None

    async def test_closing_wakes_a_waiting_reader(self) -> None:
        queue = LineQueue()
        reader = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        queue.close()
        assert await asyncio.wait_for(reader, 1) is None

    async def test_clear_drops_the_lines_not_started(self) -> None:
        queue = LineQueue()
        for n in range(3):
            queue.put(line(n))
        queue.close()
        queue.clear()
        assert len(queue) == 0 and await queue.get() is None

    async def test_cleared_but_open_the_reader_waits_for_more(self) -> None:
        queue = LineQueue()
        queue.put(line(1))
        queue.clear()
        reader = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        assert not reader.done()
        queue.put(line(2))
        assert await asyncio.wait_for(reader, 1) == line(2)
