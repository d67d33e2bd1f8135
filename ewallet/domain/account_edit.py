"""Edit account (§7): each given field is validated and applied on its own. Password and email
changes need the current password; a new password differs from the current one and the two
before it. A field that fails its check is reported as not applied, never half-applied. The
password work (verifying, the reuse check, the new hash) is done before the write transaction
(prepare_edit and EditCheck); the edit only uses its verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.accounts import PASSWORD_HISTORY
from ewallet.domain.errors import EwalletError, InvalidValue
from ewallet.domain.locks import lock_account
from ewallet.domain.password_work import EditCheck, EditVerdict, ensure_unchanged
from ewallet.domain.passwords import check_strength
from ewallet.domain.validation import (
    check_email,
    check_user_name,
    email_key,
    ensure_email_free,
    ensure_name_free,
    name_key,
)
from ewallet.storage.models import Account, PasswordHistory

FIELDS = ("name", "pass", "alias", "email", "phone")


@dataclass(frozen=True)
class AccountChanges:
    """The fields a request gave (None: not given)."""

    name: str | None = None
    password: str | None = None
    email: str | None = None
    phone: str | None = None
    alias: str | None = None
    current_password: str | None = None


@dataclass
class EditOutcome:
    applied: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(FIELDS, False))

    @property
    def any_applied(self) -> bool:
        return any(self.applied.values())


def prepare_edit(db: Db, account_id: int, changes: AccountChanges) -> EditCheck:
    """The password work an edit needs, read without a lock: edit_account() checks under the
    account lock that the stored hash is still the one this work used."""
    account = db.get_one(Account, account_id)
    needs_current = changes.password is not None or changes.email is not None
    history: tuple[str, ...] = ()
    if changes.password is not None and changes.current_password is not None:
        history = tuple(
            db.scalars(
                select(PasswordHistory.pass_hash)
                .where(PasswordHistory.account_id == account_id)
                .order_by(PasswordHistory.id.desc())
                .limit(PASSWORD_HISTORY + 1)
            )
        )
    return EditCheck(
        stored_hash=account.pass_hash,
        history=history,
        current_password=changes.current_password if needs_current else None,
        new_password=changes.password,
    )


def edit_account(
    db: Db, account: Account, changes: AccountChanges, verdict: EditVerdict, now: datetime, system_name: str
) -> EditOutcome:
    account = lock_account(db, account.id)
    if verdict.current_ok is not None:
        # The history only grows with a new hash, so an unchanged hash means an unchanged history.
        ensure_unchanged(verdict.stored_hash, account.pass_hash)
    outcome = EditOutcome()
    if changes.name is not None and _try(lambda: _set_name(db, account, changes.name or "", system_name)):
        outcome.applied["name"] = True
    if changes.phone is not None:
        account.phone = changes.phone
        outcome.applied["phone"] = True
    if changes.alias is not None:
        account.alias = changes.alias
        outcome.applied["alias"] = True
    if (
        changes.email is not None
        and verdict.current_ok
        and _try(lambda: _set_email(db, account, changes.email or "", system_name))
    ):
        outcome.applied["email"] = True
    if (
        changes.password is not None
        and verdict.current_ok
        and _try(lambda: _set_password(db, account, changes.password or "", verdict, now))
    ):
        outcome.applied["pass"] = True
    if not outcome.any_applied:
        raise InvalidValue("no given field could be applied")
    account.write_date = now
    db.flush()
    return outcome


def _try(apply: Callable[[], None]) -> bool:
    try:
        apply()
    except EwalletError:
        return False
    return True


def _set_name(db: Db, account: Account, name: str, system_name: str) -> None:
    check_user_name(name)
    ensure_name_free(db, name, system_name, except_id=account.id)
    account.name = name
    account.name_key = name_key(name)


def _set_email(db: Db, account: Account, email: str, system_name: str) -> None:
    check_email(email)
    ensure_email_free(db, email, system_name, except_id=account.id)
    account.email = email
    account.email_key = email_key(email)


def _set_password(db: Db, account: Account, password: str, verdict: EditVerdict, now: datetime) -> None:
    check_strength(password)
    if verdict.reused or verdict.new_hash is None:
        raise InvalidValue("user_pass must differ from the current and the two previous passwords")
    account.pass_hash = verdict.new_hash
    db.add(PasswordHistory(account_id=account.id, pass_hash=account.pass_hash, create_date=now))
