"""The reply of `ping` (docs/protocol.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ewallet.schemas.base import Params, Reply


class PingParams(Params):
    """None of its own. The protocol lets every new instruction carry the session's `client_id` and
    `session_token`; ping, being anonymous, accepts them from a client that always sends them
    and looks at neither."""

    client_id: str | None = Field(default=None, description="accepted and ignored")
    session_token: str | None = Field(default=None, description="accepted and ignored")


class Pong(Reply):
    pong: bool = True
    database: Literal["ok", "unreachable"]
    version: str
