"""Splitting a byte stream into request lines: `\n` or `\r\n` terminated, blank lines
ignored, lines longer than the limit reported once and skipped up to their newline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    data: bytes


@dataclass(frozen=True)
class TooLarge:
    """A line exceeded the limit. `fatal` when so much followed it that the connection closes;
    `answered` when an earlier event already reported this line."""

    fatal: bool = False
    answered: bool = False


Event = Line | TooLarge


class LineFramer:
    def __init__(self, max_line: int, max_overrun: int = 1 << 20) -> None:
        self.max_line = max_line
        self.max_overrun = max_overrun
        self._buffer = bytearray()
        self._discarding = False
        self._discarded = 0
        #: Newlines seen so far: a change tells the caller that a line ended and the partial one
        #: now pending (if any) started afresh.
        self.lines_ended = 0

    @property
    def partial(self) -> bool:
        """True while a line has started but not ended (the frame timeout runs)."""
        return bool(self._buffer) or self._discarding

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        start = 0
        if self._discarding:
            newline = data.find(b"\n")
            if newline < 0:
                self._discarded += len(data)
                if self._discarded > self.max_overrun:
                    events.append(TooLarge(fatal=True, answered=True))
                return events
            self._discarding = False
            self.lines_ended += 1
            start = newline + 1
        buffer = self._buffer
        buffer += memoryview(data)[start:]
        begin = 0
        while True:
            newline = buffer.find(b"\n", begin)
            if newline < 0:
                break
            end = newline - 1 if newline > begin and buffer[newline - 1] == 0x0D else newline
            if end - begin > self.max_line:
                events.append(TooLarge())
            elif buffer[begin:end].strip():
                events.append(Line(bytes(buffer[begin:end])))
            self.lines_ended += 1
            begin = newline + 1
        del buffer[:begin]
        # A partial line may hold a trailing \r that the newline will drop, hence +1.
        if len(buffer) > self.max_line + 1:
            self._discarding = True
            self._discarded = len(buffer) - self.max_line
            buffer.clear()
            events.append(TooLarge(fatal=self._discarded > self.max_overrun))
        return events

    def finish(self) -> list[Event]:
        """At end of input: a last line without newline is still a line."""
        if self._discarding:
            self._discarding = False
            return []
        rest, self._buffer = bytes(self._buffer), bytearray()
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        return [Line(rest)] if rest.strip() else []
