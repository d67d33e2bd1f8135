"""Bytes <-> JSON objects for the line protocol. Decoding is strict: invalid UTF-8,
NaN/Infinity, duplicate keys, lone surrogates and nesting deeper than MAX_DEPTH are refused.
Encoding uses orjson for speed; it never emits NaN and always emits UTF-8."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import orjson

from ewallet.protocol.errors import InvalidJson

MAX_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidJson("an object repeats a key")
    return obj


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise InvalidJson("a number is too large to represent")
    return value


def _integer(text: str) -> int:
    """Python refuses to convert an integer of more digits than sys.get_int_max_str_digits()
    (the conversion is quadratic), yet such a number is valid JSON. It stands in as
    ±10^(limit-1): beyond every range of the protocol, so validation refuses it as out of range,
    and never larger than the real value, so any bound below it compares the same. Lifting the
    limit instead would let one line cost seconds of CPU."""
    limit = sys.get_int_max_str_digits()
    digits = len(text) - text.startswith("-")
    if limit and digits > limit:
        return -(10 ** (limit - 1)) if text.startswith("-") else 10 ** (limit - 1)
    return int(text)


_decoder = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_integer
)


def decode(line: bytes) -> Any:
    """Parse one request line, raising InvalidJson for anything that is not strict JSON."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("the line is not valid UTF-8") from None
    try:
        value = _decoder.decode(text)
    except RecursionError:
        raise InvalidJson(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise InvalidJson("the line is not a valid JSON document") from None
    _check_tree(value)
    return value


def _check_tree(value: Any) -> None:
    """Depth and lone surrogates, iteratively (a hostile document must not exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidJson(f"JSON nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("a string holds a lone surrogate escape") from None


def encode(obj: dict[str, Any]) -> bytes:
    """One response line, newline included."""
    return orjson.dumps(obj) + b"\n"
