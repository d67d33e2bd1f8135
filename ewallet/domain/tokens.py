"""Client ids and session tokens. Both come from `secrets`; tokens are stored and looked up only
as SHA-256 digests, so a copy of the database holds no usable token."""

from __future__ import annotations

import hashlib
import secrets

CLIENT_ID_PREFIX = "ewsm-uid:"
TOKEN_PREFIX = "ewsm-st:"


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_urlsafe(24)  # 192 bits


def new_session_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def looks_like_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX) and len(value) <= 128


def looks_like_client_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith(CLIENT_ID_PREFIX) and len(value) <= 64
