"""What the shell prints and keeps: aligned tables, error sentences, history entries without
passwords."""

from __future__ import annotations

import shlex
from typing import Any

from ewallet.client import EWalletError

#: command -> index of its password argument (a line naming it is masked in the history)
SECRET_ARGUMENTS = {"register": 3, "login": 2}
RAW_SECRETS = ("pass", "key", "token")  # a raw line naming one of these stays out of the history


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Rows aligned under their headers."""
    cells = [headers, *[[("" if v is None else str(v)) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def describe(exc: EWalletError) -> str:
    """One line for a refused instruction. A throttled login says how long to wait when the answer
    carries it (`retry_after`, seconds) or the message says it (the server's own "try again in N
    s"); otherwise it says to try later."""
    text = f"error ({exc.code}): {exc.message}"
    if exc.code == "rate_limited":
        wait = exc.response.get("retry_after")
        if isinstance(wait, int | float) and not isinstance(wait, bool):
            text += f"; try again in {wait:g} s"
        elif "try again" not in exc.message and "wait" not in exc.message:
            text += "; try again later"
    return text


def redact(line: str) -> str | None:
    """The history entry for a command line: passwords masked; None to keep it out."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if words and words[0] in SECRET_ARGUMENTS and len(words) > SECRET_ARGUMENTS[words[0]]:
        words[SECRET_ARGUMENTS[words[0]]] = "********"
        return " ".join(words)
    if words and words[0] == "raw" and any(secret in line for secret in RAW_SECRETS):
        return None
    return line
