"""Parameters and replies of the anonymous/client session routes."""

from __future__ import annotations

from ewallet.schemas.base import Params, Reply
from ewallet.schemas.values import InputTimestamp


class SessionTokenParams(Params):
    expiration_date: InputTimestamp | None = None


class ClientIdIssued(Reply):
    client_id: str


class SessionTokenIssued(Reply):
    session_token: str
