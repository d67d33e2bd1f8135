"""History cursors: an opaque base64url token holding the last id a page showed and a digest
that binds it to the account, the kind and the filters it was given for.

The digest is not a secret (no key is involved): it tells a cursor of another account, kind or
set of filters, and a cursor that was changed or cut, from a good one, so that such a cursor is
refused (`invalid_value`) instead of quietly starting a different listing. Nothing depends on
it for safety: a page only ever reads the caller's own records."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct

from ewallet.domain.errors import InvalidValue

#: (account id, kind, normalised filters as (name, value) pairs)
Binding = tuple[int, str, tuple[tuple[str, str], ...]]

_VERSION = b"h1"
_DIGEST_BYTES = 16
_ID = struct.Struct(">Q")
_LENGTH = _ID.size + _DIGEST_BYTES
MAX_ID = 2**63 - 1
_CHARS = -(-_LENGTH * 4 // 3)
_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{{_CHARS}}}")


def _digest(last_id: int, binding: Binding) -> bytes:
    account_id, kind, filters = binding
    text = "\x1f".join([str(account_id), kind, str(last_id), *(f"{name}={value}" for name, value in filters)])
    return hashlib.sha256(_VERSION + text.encode()).digest()[:_DIGEST_BYTES]


def encode(last_id: int, binding: Binding) -> str:
    token = _ID.pack(last_id) + _digest(last_id, binding)
    return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=")


def decode(cursor: str, binding: Binding) -> int:
    """The last id the cursor's page showed; InvalidValue unless the cursor was made by `encode`
    for this very binding."""
    refused = InvalidValue("cursor: not a cursor of this history (same account, kind and filters)")
    if not _SHAPE.fullmatch(cursor):
        raise refused
    try:
        token = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise refused from None
    if len(token) != _LENGTH:
        raise refused
    (last_id,) = _ID.unpack(token[: _ID.size])
    if not 1 <= last_id <= MAX_ID or token[_ID.size :] != _digest(last_id, binding):
        raise refused
    return int(last_id)
