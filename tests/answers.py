"""The one way the tests judge an outcome: `ok` for a success, `refused` for a refusal with its
code. A refusal is judged alike whether it came over the wire (an answer) or straight from the
domain (a call that raises): both reach the client as `{failed, error, code}`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ewallet.domain.errors import EwalletError

Answer = dict[str, Any]


def ok(answer: Answer, *keys: str) -> Answer:
    """A success with exactly these keys besides `failed`."""
    assert answer.get("failed") is False, answer
    assert set(answer) == {"failed", *keys}, f"keys differ: {sorted(answer)} != {sorted({'failed', *keys})}"
    return answer


def refused(outcome: Answer | Callable[[], object], code: str, given: Any = None) -> Answer:
    """A failure with this code and a message. `outcome` is a wire answer, or a domain call
    that must raise the error the wire would answer; `given` (the value tried) is named when
    the check fails."""
    answer = outcome if isinstance(outcome, dict) else _answer_of(outcome)
    assert answer.get("failed") is True, (given, answer)
    assert answer["code"] == code, (given, answer)
    assert set(answer) == {"failed", "error", "code"}, (given, answer)
    assert type(answer["error"]) is str and answer["error"], (given, answer)
    return answer


def _answer_of(call: Callable[[], object]) -> Answer:
    try:
        result = call()
    except EwalletError as exc:
        return {"failed": True, "error": exc.message, "code": exc.code}
    return {"failed": False, "result": result}
