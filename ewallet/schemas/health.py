"""The reply of `ping` (PROTOCOL §12)."""

from __future__ import annotations

from typing import Literal

from ewallet.schemas.base import Reply


class Pong(Reply):
    pong: bool = True
    database: Literal["ok", "unreachable"]
    version: str
