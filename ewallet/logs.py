"""The process's logging: one handler on stderr in the chosen format (text, or one JSON object
a line via python-json-logger) that uvicorn's loggers share, and the access line each
instruction leaves, whichever face it came through.

The access line names the peer, the route, the outcome code, the milliseconds, the request id
and the session and account ids: never a parameter value, a token or a key. Outcomes that are
security events (a failed login, throttling, a rate limit, a refused system key) are logged at
WARNING, everything else at INFO."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from ewallet.domain.caller import Caller

#: The access lines' logger: `EWALLET_LOG_LEVEL=WARNING` keeps only the security events.
access_log = logging.getLogger("ewallet.access")

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The fields every JSON line starts with; an access line adds its own (peer, route, code, ...).
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: Outcome codes that are security events.
SECURITY_CODES = frozenset({"invalid_credentials", "rate_limited", "system_key_required"})
#: uvicorn's loggers: their records go to our handler in our format (uvicorn is started with
#: log_config=None, so it installs no handler of its own).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


#: With --workers, every line names its process: `logger[pid]:` in text, `pid` in JSON.
TEXT_FORMAT_PID = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
JSON_FIELDS_PID = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def formatter(log_format: str, *, pid: bool = False) -> logging.Formatter:
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        renamed = {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}
        return JsonFormatter(JSON_FIELDS_PID if pid else JSON_FIELDS, rename_fields=renamed)
    return logging.Formatter(TEXT_FORMAT_PID if pid else TEXT_FORMAT)


def configure(level: str, log_format: str = "text", *, pid: bool = False) -> None:
    """One stderr handler on the root logger, replacing any there; uvicorn's loggers propagate
    to it. `pid`: each line names the process (the supervisor and workers of --workers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format, pid=pid))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def log_access(
    peer: str, route: str, code: str, seconds: float, request_id: Any = None, caller: Caller | None = None
) -> None:
    """The access line of one answered instruction. Nothing is formatted when its level is off."""
    level = logging.WARNING if code in SECURITY_CODES else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    session = caller.session_id if caller is not None else None
    account = caller.account.id if caller is not None and caller.account is not None else None
    # A string id is the client's: quoted, so it cannot forge a line or a field.
    shown_id = json.dumps(request_id) if isinstance(request_id, str) else request_id
    access_log.log(
        level,
        "%s %s %s %.1fms id=%s session=%s account=%s",
        peer,
        json.dumps(route),
        code,
        seconds * 1000,
        "-" if shown_id is None else shown_id,
        "-" if session is None else session,
        "-" if account is None else account,
        extra={
            "peer": peer,
            "route": route,
            "code": code,
            "ms": round(seconds * 1000, 3),
            "request_id": request_id,
            "session": session,
            "account": account,
        },
    )
