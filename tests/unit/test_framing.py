"""LineFramer: splitting a byte stream into request lines (§1)."""

from ewallet.transport.framing import Line, LineFramer, TooLarge


def lines(events: list) -> list[bytes]:
    return [e.data for e in events if isinstance(e, Line)]


class TestSplittingLines:
    def test_yields_each_newline_terminated_line(self) -> None:
        framer = LineFramer(100)
        assert lines(framer.feed(b"a\nbb\nccc\n")) == [b"a", b"bb", b"ccc"]
        assert not framer.partial

    def test_strips_a_carriage_return_before_the_newline(self) -> None:
        assert lines(LineFramer(100).feed(b"one\r\ntwo\n")) == [b"one", b"two"]

    def test_ignores_blank_and_whitespace_only_lines(self) -> None:
        assert lines(LineFramer(100).feed(b"\n\r\n   \n\t\nx\n")) == [b"x"]

    def test_joins_a_line_that_arrives_in_pieces(self) -> None:
        framer = LineFramer(100)
        assert framer.feed(b'{"a"') == []
        assert framer.partial
        assert framer.feed(b":1") == []
        assert lines(framer.feed(b"}\n")) == [b'{"a":1}']
        assert not framer.partial

    def test_joins_a_carriage_return_split_from_its_newline(self) -> None:
        framer = LineFramer(100)
        assert framer.feed(b"abc\r") == []
        assert lines(framer.feed(b"\n")) == [b"abc"]


class TestEndOfInput:
    def test_answers_a_last_line_without_newline(self) -> None:
        framer = LineFramer(100)
        framer.feed(b"first\nlast")
        assert lines(framer.finish()) == [b"last"]

    def test_drops_a_trailing_carriage_return_at_the_end(self) -> None:
        framer = LineFramer(100)
        framer.feed(b"last\r")
        assert lines(framer.finish()) == [b"last"]

    def test_yields_nothing_for_trailing_whitespace(self) -> None:
        framer = LineFramer(100)
        framer.feed(b"x\n  ")
        assert framer.finish() == []

    def test_yields_nothing_when_an_oversized_line_was_being_skipped(self) -> None:
        framer = LineFramer(10)
        framer.feed(b"y" * 50)
        assert framer.finish() == []


class TestOversizedLines:
    def test_accepts_a_line_exactly_at_the_limit(self) -> None:
        assert lines(LineFramer(10).feed(b"x" * 10 + b"\n")) == [b"x" * 10]

    def test_the_limit_excludes_the_terminator(self) -> None:
        assert lines(LineFramer(10).feed(b"x" * 10 + b"\r\n")) == [b"x" * 10]

    def test_reports_a_complete_line_over_the_limit_once_and_goes_on(self) -> None:
        events = LineFramer(10).feed(b"x" * 11 + b"\nok\n")
        assert events == [TooLarge(), Line(b"ok")]

    def test_reports_a_growing_line_as_soon_as_it_passes_the_limit(self) -> None:
        framer = LineFramer(10)
        assert framer.feed(b"x" * 12) == [TooLarge()]
        assert framer.partial
        assert framer.feed(b"x" * 100) == []
        assert framer.feed(b"xx\nnext\n") == [Line(b"next")]
        assert not framer.partial

    def test_gives_up_when_more_than_the_overrun_follows_without_a_newline(self) -> None:
        framer = LineFramer(10, max_overrun=100)
        assert framer.feed(b"x" * 50) == [TooLarge()]
        assert framer.feed(b"x" * 50) == []
        assert framer.feed(b"x" * 20) == [TooLarge(fatal=True, answered=True)]

    def test_a_single_huge_chunk_is_fatal_at_once(self) -> None:
        assert LineFramer(10, max_overrun=100).feed(b"x" * 500) == [TooLarge(fatal=True)]

    def test_the_lines_before_an_overrun_come_first_and_nothing_after_it(self) -> None:
        """The connection relies on it: it queues a feed's events whole and stops at a fatal last."""
        assert LineFramer(10, max_overrun=100).feed(b"one\ntwo\n" + b"x" * 500) == [
            Line(b"one"),
            Line(b"two"),
            TooLarge(fatal=True),
        ]
        framer = LineFramer(10, max_overrun=100)
        framer.feed(b"x" * 50)
        assert framer.feed(b"x" * 200) == [TooLarge(fatal=True, answered=True)]
