"""The answer objects every edge sends: a success is the reply's fields with `"failed": false`;
a failure is `{"failed": true, "error": message, "code": code}`. `internal_failure` is the one
place an unexpected exception becomes an answer: logged in full under a short reference that
the answer carries, so an operator can find the traceback a client reports."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from ewallet.domain.errors import EwalletError

log = logging.getLogger("ewallet.internal")

Answer = dict[str, Any]


def failure(error: EwalletError) -> Answer:
    return {"failed": True, "error": error.message, "code": error.code}


def internal_failure(exc: BaseException, where: str) -> Answer:
    """Log `exc` with its traceback under a new reference; the answer names the reference only
    (never the exception's text, which may hold values)."""
    reference = secrets.token_hex(4)
    log.error("internal error ref=%s in %s", reference, where, exc_info=exc)
    return {"failed": True, "error": f"internal error (reference {reference})", "code": "internal_error"}


def with_id(answer: Answer, request_id: Any) -> Answer:
    if request_id is not None:
        answer["id"] = request_id
    return answer
