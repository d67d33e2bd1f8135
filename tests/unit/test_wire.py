"""wire.decode: strict JSON (§2 step 2); wire.encode: one line out."""

import json

import pytest

from ewallet.protocol import wire
from ewallet.protocol.errors import InvalidJson


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class TestStrictDecoding:
    def test_decodes_an_object(self) -> None:
        assert wire.decode(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}

    @pytest.mark.parametrize(
        "line",
        [
            b"{",
            b'{"a":1,}',
            b"{'a': 1}",
            b'{"a": 1} trailing',
            b"",
            b'{"a": NaN}',
            b'{"a": Infinity}',
            b'{"a": -Infinity}',
            b'{"a": 1e999}',
            b'{"a": 1, "a": 2}',
            b'{"o": {"k": 1, "k": 1}}',
            b'{"a": "\xff"}',
            b'{"a": "\xc3"}',
            b'{"a": "\\ud800"}',
            b'{"\\udfff": 1}',
        ],
        ids=lambda line: repr(line)[:40],
    )
    def test_refuses_anything_that_is_not_strict_json(self, line: bytes) -> None:
        with pytest.raises(InvalidJson):
            wire.decode(line)

    def test_accepts_nesting_of_exactly_the_limit(self) -> None:
        assert wire.decode(nested(wire.MAX_DEPTH)) is not None

    def test_refuses_nesting_deeper_than_the_limit(self) -> None:
        with pytest.raises(InvalidJson):
            wire.decode(nested(wire.MAX_DEPTH + 1))

    def test_refuses_hostile_nesting_without_exhausting_the_stack(self) -> None:
        with pytest.raises(InvalidJson):
            wire.decode(nested(100_000))

    def test_accepts_non_ascii_text_and_escaped_pairs(self) -> None:
        assert wire.decode('{"n": "Zoë ✓ \\ud83d\\ude00"}'.encode()) == {"n": "Zoë ✓ \U0001f600"}

    def test_error_messages_never_echo_the_input(self) -> None:
        with pytest.raises(InvalidJson) as caught:
            wire.decode(b'{"secret-password": NaN}')
        assert "secret-password" not in caught.value.message


class TestEncoding:
    def test_encodes_one_line_of_utf8_json(self) -> None:
        line = wire.encode({"failed": False, "name": "Zoë"})
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line) == {"failed": False, "name": "Zoë"}
