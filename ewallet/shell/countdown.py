"""`timer status` on a terminal: the live clock (view clock_timer) on one line, asked for again
and redrawn in place every second while the timer runs, so the minutes left count down; it ends
when a key is pressed, when the timer no longer runs (paused, stopped or run out, here or from
another session) or after a bounded time. How keys are read is handed in (`terminal.keys` on a
terminal), so the loop runs in tests without one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

#: Waits up to that many seconds for a key: True when one was pressed (and consumed).
KeyWait = Callable[[float], bool]
Answer = dict[str, Any]

#: Seconds between two redraws (each asks the server again).
EVERY = 1.0
#: Seconds after which the countdown ends by itself.
LIMIT = 60.0
HINT = "  (any key stops)"
#: Carriage return and erase to the end of the line: the next drawing replaces the last.
REDRAW, ERASE = "\r", "\x1b[K"


def watch(
    fetch: Callable[[], Answer],
    render: Callable[[Answer], str],
    out: TextIO,
    wait_key: KeyWait,
    *,
    every: float = EVERY,
    limit: float = LIMIT,
    clock: Callable[[], float] = time.monotonic,
) -> Answer:
    """Draw `render(fetch())` and, while the timer is active, draw it again every `every`
    seconds until a key, an inactive or paused timer, or `limit` seconds; the last drawing stays,
    without the hint, on a line of its own. Returns the last answer."""
    deadline = clock() + limit
    answer = fetch()
    try:
        while answer["clock_state"] == "active":
            _draw(out, render(answer) + HINT)
            left = deadline - clock()
            if left <= 0 or wait_key(min(every, left)):
                break
            answer = fetch()
        _draw(out, render(answer))
    finally:
        out.write("\n")  # an error (the connection lost) is told on a line of its own
        out.flush()
    return answer


def _draw(out: TextIO, text: str) -> None:
    out.write(REDRAW + text + ERASE)
    out.flush()
