"""Domain checks on account fields: email syntax (no DNS), user names, uniqueness."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import AlreadyExists, InvalidValue
from ewallet.storage.models import Account
from ewallet.storage.statements import Statement


def check_email(email: str) -> str:
    """The email as given, when its syntax is valid; compared case-insensitively elsewhere."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidValue("user_email is not a valid email address") from None
    return email


def check_user_name(name: str) -> str:
    if "@" in name or not name.isprintable():
        raise InvalidValue("user_name must be printable and must not contain @")
    return name


def folded(text: str) -> str:
    """NFKC case folding: full-width, upper-case and plain spellings fold to one text."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def identity_key(text: str) -> str:
    """What uniqueness and look-ups compare: a digest of the folded text. Folding can make a
    text longer (`ß` -> `ss`, `ﷺ` -> 18 characters); the digest fits the column whatever it is."""
    return hashlib.sha256(folded(text).encode("utf-8", "surrogatepass")).hexdigest()


def email_key(email: str) -> str:
    return identity_key(email)


def name_key(name: str) -> str:
    return identity_key(name)


def reserved_email_key(email: str) -> str:
    """What an anonymised account keeps: the email stays reserved without being stored."""
    return "reserved:" + hashlib.sha256(folded(email).encode("utf-8", "surrogatepass")).hexdigest()


def ensure_email_free(db: Db, email: str, system_name: str, except_id: int | None = None) -> None:
    keys = (email_key(email), reserved_email_key(email))
    query = select(Account.id).where(Account.email_key.in_(keys))
    if except_id is not None:
        query = query.where(Account.id != except_id)
    if db.scalar(query) is not None or email_key(email) == name_key(system_name):
        raise AlreadyExists("an account with that user_email exists")


def ensure_name_free(db: Db, name: str, system_name: str, except_id: int | None = None) -> None:
    if name_key(name) == name_key(system_name):
        raise AlreadyExists("that user_name is reserved")
    query = select(Account.id).where(Account.name_key == name_key(name))
    if except_id is not None:
        query = query.where(Account.id != except_id)
    if db.scalar(query) is not None:
        raise AlreadyExists("an account with that user_name exists")


_ACCOUNTS = Account.__table__
ACCOUNT_BY_EMAIL_ROW = Statement(
    select(_ACCOUNTS).where(_ACCOUNTS.c.email_key == bindparam("key"), _ACCOUNTS.c.anonymised.is_(False))
)


def find_account_row(db: Db, email: str) -> Any:
    """A live account by email, as a plain row (for callers that only read it)."""
    return ACCOUNT_BY_EMAIL_ROW.first(db, {"key": email_key(email)})


def find_account(db: Db, *, email: str | None = None, name: str | None = None, lock: bool = False) -> Account | None:
    """A live (not anonymised) account by email or name, ignoring case."""
    query = select(Account).where(Account.anonymised.is_(False))
    if email is not None:
        query = query.where(Account.email_key == email_key(email))
    elif name is not None:
        query = query.where(Account.name_key == name_key(name))
    else:
        return None
    if lock:
        query = query.with_for_update()
    return db.scalars(query).first()
