"""Edit account: each given field is validated and applied on its own. Password and
email changes need the current password; a new password differs from the current one and the two
before it. A field that fails its check is reported as not applied, never half-applied, and when
nothing at all applies the answer says why for each field. A wrong current password counts as a
failed login of the account, and a throttled account's password checks are refused first. The
password work (verifying, the reuse check, the new hash) is done before the write transaction
(prepare_edit and EditCheck); the edit only uses its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as Db

from ewallet.domain.accounts import PASSWORD_HISTORY, check_throttle, record_failure
from ewallet.domain.errors import AlreadyExists, FailedEdit, InvalidValue, WeakPassword
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

#: The fields an edit can change, in the order they are tried.
FIELDS = ("name", "phone", "alias", "email", "password")
#: The parameter each refusable field is given as, in the protocol's parameter order: the order in which
#: the refusal of a wholly unapplied edit names them.
NAMED = {"name": "user_name", "password": "user_pass", "email": "user_email"}


class Unapplied(Exception):
    """Why one field is not applied (said in the answer when no field is)."""


@dataclass(frozen=True)
class AccountChanges:
    """The fields a request gave (None: not given)."""

    name: str | None = None
    password: str | None = None
    email: str | None = None
    phone: str | None = None
    alias: str | None = None
    current_password: str | None = None

    @property
    def checks_password(self) -> bool:
        """Whether the current password will be verified: a field needs it and it is given."""
        return self.current_password is not None and (self.password is not None or self.email is not None)


@dataclass
class EditOutcome:
    """Which fields (FIELDS' names) were applied, and why each refused one was not."""

    applied: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def any_applied(self) -> bool:
        return bool(self.applied)

    def explain(self) -> str:
        reasons = [f"{NAMED[name]}: {self.refused[name]}" for name in NAMED if name in self.refused]
        # The protocol's rule: the message gives the reason for each field, e.g.
        # "user_pass: current_pass is required; user_email: current_pass is wrong".
        return "; ".join(reasons)


def prepare_edit(db: Db, account_id: int, changes: AccountChanges, now: datetime) -> EditCheck:
    """The password work an edit needs, read without a lock: edit_account() checks under the
    account lock that the stored hash is still the one this work used. A throttled account's
    password is not checked at all."""
    account = db.get_one(Account, account_id)
    if changes.checks_password:
        check_throttle(account, now)
    history: tuple[str, ...] = ()
    if changes.password is not None and changes.checks_password:
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
        current_password=changes.current_password if changes.checks_password else None,
        new_password=changes.password,
    )


@dataclass(frozen=True)
class Editor:
    """Who edits: the peer is recorded with a wrong current password, as with a failed login."""

    peer: str
    failure_limit: int
    system_name: str


def edit_account(
    db: Db, account: Account, changes: AccountChanges, verdict: EditVerdict, now: datetime, editor: Editor
) -> EditOutcome:
    account = lock_account(db, account.id)
    failed = False
    if verdict.current_ok is not None:
        # Judged again under the lock: concurrent guesses may have throttled it meanwhile.
        check_throttle(account, now)
        # The history only grows with a new hash, so an unchanged hash means an unchanged history.
        ensure_unchanged(verdict.stored_hash, account.pass_hash)
        if verdict.current_ok:
            account.failed_logins = 0
            account.throttled_until = None
        else:
            record_failure(db, account, editor.peer, now, editor.failure_limit)
            failed = True
    outcome = EditOutcome()
    steps = [
        ("name", changes.name, lambda name: _set_name(db, account, name, editor.system_name)),
        ("phone", changes.phone, lambda phone: _set_phone(account, phone)),
        ("alias", changes.alias, lambda alias: _set_alias(account, alias)),
        ("email", changes.email, lambda email: _set_email(db, account, email, changes, verdict, editor.system_name)),
        ("password", changes.password, lambda password: _set_password(db, account, password, changes, verdict, now)),
    ]
    for name, value, apply in steps:
        if value is None:
            continue
        try:
            apply(value)
        except Unapplied as why:
            outcome.refused[name] = str(why)
        else:
            outcome.applied.add(name)
    if not outcome.any_applied:
        # A wrong current password is still a failed login: its record and counter are kept.
        raise FailedEdit(outcome.explain()) if failed else InvalidValue(outcome.explain())
    account.write_date = now
    db.flush()
    return outcome


def _set_name(db: Db, account: Account, name: str, system_name: str) -> None:
    try:
        check_user_name(name)
        ensure_name_free(db, name, system_name, except_id=account.id)
    except InvalidValue:
        raise Unapplied("must be printable and must not contain @") from None
    except AlreadyExists:
        raise Unapplied("is taken") from None
    account.name = name
    account.name_key = name_key(name)


def _set_phone(account: Account, phone: str) -> None:
    account.phone = phone


def _set_alias(account: Account, alias: str) -> None:
    account.alias = alias


def _require_current(changes: AccountChanges, verdict: EditVerdict) -> None:
    if changes.current_password is None:
        raise Unapplied("current_pass is required")
    if not verdict.current_ok:
        raise Unapplied("current_pass is wrong")


def _set_email(
    db: Db, account: Account, email: str, changes: AccountChanges, verdict: EditVerdict, system_name: str
) -> None:
    _require_current(changes, verdict)
    try:
        check_email(email)
        ensure_email_free(db, email, system_name, except_id=account.id)
    except InvalidValue:
        raise Unapplied("is not a valid email address") from None
    except AlreadyExists:
        raise Unapplied("is taken") from None
    account.email = email
    account.email_key = email_key(email)


def _set_password(
    db: Db, account: Account, password: str, changes: AccountChanges, verdict: EditVerdict, now: datetime
) -> None:
    _require_current(changes, verdict)
    try:
        check_strength(password)
    except WeakPassword:
        raise Unapplied("needs 8 to 128 characters with a letter, a digit and a symbol") from None
    if verdict.reused or verdict.new_hash is None:
        raise Unapplied("must differ from the current and the two previous passwords")
    account.pass_hash = verdict.new_hash
    db.add(PasswordHistory(account_id=account.id, pass_hash=account.pass_hash, create_date=now))
