"""Hypothesis strategies for hostile input: JSON values at the edges, envelopes for every route
of the route table with random parameters, and raw bytes (garbage, truncated and oversized
frames, invalid UTF-8, NaN and Infinity literals, numbers too long to parse, deep nesting,
duplicate keys, several lines at once)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ewallet.handlers import build_route_table
from ewallet.routes import Access, Route
from scripts.drills.line_client import PASSWORD, SYSTEM_KEY

EDGE_INTS = [0, -1, 1, 2, 10**9, 10**9 + 1, 2**31, 2**53 - 1, 2**53, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64]
EDGE_INTS += [10**30, -(10**30), 10**4000]
EDGE_FLOATS = [0.0, -0.0, 0.005, 0.01, 0.1, 1.5, 1e-9, 5e-324, 1e308, -1e308, 1e9, 1e9 + 0.01, 2.0**53, 1e15]
EDGE_FLOATS += [float("nan"), float("inf"), float("-inf")]
EDGE_TEXT = [
    "",
    " ",
    "\t\n",
    "a" * 256,
    "b" * 1001,
    "\x00",
    "\u202e\u200b",
    "\U0001f4b8",
    "\ud800",  # a lone surrogate: json.dumps writes it as an escape
    "' OR '1'='1",
    "%s%n",
    "ewallet-system",
    "EWALLET-SYSTEM@example.com",
    "a@b",
    "@",
    "x@example.com",
    "01-01-2024 00:00:00",
    "31-02-2024 10:00:00",
    "29-02-2023 10:00:00",
    "1-1-2024 0:0:0",
    "01-01-0999 00:00:00",
    "\u0660\u0661-\u0660\u0661-\u0662\u0660\u0662\u0664 \u0660\u0660:\u0660\u0660:\u0660\u0660",  # Arabic-Indic digits
    "RON",
    "ron",
    "EURO",
    "credits",
    "__proto__",
    "ewsm-uid:" + "A" * 32,
    "ewsm-st:" + "A" * 43,
]
#: The route keys and parameter names of the table, and the envelope and authentication keys.
KNOWN_KEYS = sorted(
    {"controller", "ctype", "action", "id", "client_id", "session_token", "system_key"}
    | {name for route in build_route_table().routes for name in route.params.model_fields}
    | {route.action for route in build_route_table().routes}
)
ROUTES = build_route_table().routes
#: What a raw line is: mostly envelopes that reach the handlers, the rest broken on the way.
RAW_KINDS = ["envelope"] * 6 + [
    "garbage",
    "truncated",
    "invalid utf-8",
    "deep",
    "number",
    "duplicate",
    "oversized",
    "not an object",
]


@dataclass(frozen=True)
class Ids:
    """Who the fuzzer acts as (its session) and the emails worth aiming at. Placeholders by
    default: the fuzzer puts the real values into each payload as it sends it, so a session
    rebuilt after a `cleanup sessions` is used from then on."""

    client_id: str = "@@CLIENT_ID@@"
    session_token: str = "@@SESSION_TOKEN@@"
    victim: str = "@@VICTIM@@"
    partner: str = "@@PARTNER@@"
    partner_upper: str = "@@PARTNER_UPPER@@"


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(EDGE_INTS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(EDGE_FLOATS),  # NaN and the infinities among them
        st.text(max_size=40),
        st.sampled_from(EDGE_TEXT),
    )


def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )


def plausible(name: str, ids: Ids) -> st.SearchStrategy[Any]:
    """Values that get past the type check often enough to reach the handlers."""
    emails = st.sampled_from([ids.victim, ids.partner, ids.partner_upper, "nobody@example.com", "ewallet-system"])
    if name == "credits":
        return st.integers(-5, 2_000_000) | st.sampled_from(EDGE_INTS)
    if name in ("minutes", "cost"):
        return st.floats(-10, 2e9) | st.sampled_from(EDGE_FLOATS[:-3]) | st.integers(-2, 100)
    if (name.endswith("_id") and name != "client_id") or name == "contact_list":
        return st.integers(-3, 60) | st.sampled_from(EDGE_INTS)
    if name in ("pay", "transfer_to", "account", "user_email"):
        return emails | st.emails() | st.sampled_from(EDGE_TEXT)
    if name in ("user_pass", "current_pass"):
        # Never the fuzzer's own password: a changed password would lock the fuzzer out.
        return st.sampled_from(["Another!2345pw", "short", "a" * 129, PASSWORD + "x"]) | st.text(max_size=20)
    if name == "expiration_date":
        return st.from_regex(r"\A\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}\Z") | st.sampled_from(EDGE_TEXT)
    if name == "idempotency_key":
        return st.sampled_from(["k1", "k2", "K1", "a" * 255, "a" * 256]) | st.text(max_size=10)
    if name == "currency":
        return st.sampled_from(["RON", "EUR", "ron", "XXXX", "", "€"]) | st.text(max_size=4)
    return st.text(max_size=30) | st.sampled_from(EDGE_TEXT)


@st.composite
def envelopes(draw: st.DrawFn, ids: Ids) -> dict[str, Any]:
    """A well-formed instruction for a random route, with random parameters, sometimes a
    broken envelope, a wrong or missing authentication, extra keys or an odd id."""
    route: Route = draw(st.sampled_from(ROUTES))
    request: dict[str, Any] = route.envelope
    if route.access is Access.SYSTEM:
        request["system_key"] = draw(st.sampled_from([SYSTEM_KEY, SYSTEM_KEY, SYSTEM_KEY[:-1], ""]) | json_values())
    elif route.access is Access.CLIENT:
        request["client_id"] = draw(st.sampled_from([ids.client_id, "ewsm-uid:nope"]) | json_values())
    elif route.access is not Access.ANONYMOUS:
        if draw(st.integers(0, 9)):
            request |= {"client_id": ids.client_id, "session_token": ids.session_token}
        else:
            request |= draw(st.dictionaries(st.sampled_from(["client_id", "session_token"]), json_values()))
    for name in route.params.model_fields:
        choice = draw(st.integers(0, 9))
        if choice < 6:
            request[name] = draw(plausible(name, ids))
        elif choice < 8:
            request[name] = draw(json_values())
    if draw(st.integers(0, 4)) == 0:
        request["id"] = draw(json_values())
    if draw(st.integers(0, 5)) == 0:
        request |= draw(st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), json_values(), max_size=3))
    if draw(st.integers(0, 7)) == 0:
        victim = draw(st.sampled_from(sorted(request)))
        if draw(st.booleans()):
            del request[victim]
        else:
            request[victim] = draw(json_values())
    return request


def dumps(value: Any) -> bytes:
    """JSON as Python writes it: NaN and Infinity become their (invalid) literals."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def raw_lines(draw: st.DrawFn, ids: Ids, max_frame: int) -> bytes:
    """One request line's bytes (no newline), usually hostile."""
    kind = draw(st.sampled_from(RAW_KINDS))
    envelope = dumps(draw(envelopes(ids)))
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        return envelope[: draw(st.integers(0, max(len(envelope) - 1, 0)))]
    if kind == "invalid utf-8":
        at = draw(st.integers(0, len(envelope)))
        return (
            envelope[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
            + envelope[at:]
        )
    if kind == "deep":  # alone or inside an envelope
        depth = draw(st.sampled_from([31, 32, 33, 100, 2000]))
        nested = b"[" * depth + b"]" * depth
        return nested if draw(st.booleans()) else envelope[:-1] + b', "credits": ' + nested + b"}"
    if kind == "number":  # valid JSON out of any range, or not JSON at all
        literal = draw(
            st.sampled_from([b"1" + b"0" * 5000, b"1e999", b"-1e999", b"1e-999", b"-0", b"NaN", b"-Infinity", b"01"])
        )
        return envelope[:-1] + b', "credits": ' + literal + b"}"
    if kind == "duplicate":
        return envelope[:-1] + b', "ctype": "action"}'
    if kind == "oversized":
        return envelope + b" " * (max_frame + draw(st.integers(1, 3000)))
    if kind == "not an object":
        return dumps(draw(json_values()))
    return envelope


@st.composite
def payloads(draw: st.DrawFn, ids: Ids, max_frame: int) -> tuple[bytes, bool]:
    """One write: one to four lines (with \\r\\n or \\n, blank lines between), and whether the
    client then half-closes (its last line sent without a newline)."""
    lines = draw(st.lists(raw_lines(ids, max_frame), min_size=1, max_size=4))
    parts = []
    for line in lines:
        parts.append(line.replace(b"\n", b" ") if draw(st.integers(0, 3)) else line)
        parts.append(draw(st.sampled_from([b"\n", b"\r\n", b"\n\n", b"\n \t\r\n"])))
    half_close = draw(st.sampled_from([False] * 15 + [True]))
    if half_close:
        parts.pop()
        if len(parts[-1]) > max_frame:
            parts[-1] = parts[-1][:max_frame]
    return b"".join(parts), half_close
