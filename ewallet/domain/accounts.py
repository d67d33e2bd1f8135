"""Accounts: create, log in and out, switch, edit, and the deletion order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session as Db

from ewallet.domain import events, session_store, timer
from ewallet.domain.errors import (
    AccountPendingDeletion,
    FailedLogin,
    InvalidValue,
    NotFound,
    RateLimited,
    ThrottledLogin,
    TimerState,
)
from ewallet.domain.locks import lock_account
from ewallet.domain.password_work import HashedPassword, LoginCheck, LoginVerdict, NewHash, ensure_unchanged
from ewallet.domain.passwords import check_strength
from ewallet.domain.tree import new_contact_list, new_ewallet
from ewallet.domain.validation import (
    check_email,
    check_user_name,
    email_key,
    ensure_email_free,
    ensure_name_free,
    find_account,
    name_key,
)
from ewallet.storage.models import (
    Account,
    CreditClock,
    CreditEwallet,
    EwalletSession,
    LoginFailure,
    LoginRecord,
    LogoutRecord,
    PasswordHistory,
)

#: A new password must differ from the current one and this many before it.
PASSWORD_HISTORY = 2
MAX_THROTTLE = timedelta(minutes=15)


@dataclass(frozen=True)
class NewAccount:
    name: str
    password: str
    email: str
    phone: str | None = None
    alias: str | None = None


def prepare_account(db: Db, spec: NewAccount, system_name: str) -> NewHash:
    """A new account's checks, then the hashing to do: a refused account costs no hash."""
    _check_new_account(db, spec, system_name)
    return NewHash(spec.password)


def create_account(db: Db, spec: NewAccount, hashed: HashedPassword, now: datetime, system_name: str) -> Account:
    # Checked again: another account may have taken the name or email since the preparation.
    _check_new_account(db, spec, system_name)
    pass_hash = hashed.pass_hash
    account = Account(
        name=spec.name,
        name_key=name_key(spec.name),
        email=spec.email,
        email_key=email_key(spec.email),
        phone=spec.phone,
        alias=spec.alias,
        pass_hash=pass_hash,
        create_date=now,
        write_date=now,
        anonymised=False,
        failed_logins=0,
    )
    db.add(account)
    db.flush()
    db.add(PasswordHistory(account_id=account.id, pass_hash=pass_hash, create_date=now))
    account.active_ewallet_id = new_ewallet(db, account, now).id
    account.active_contact_list_id = new_contact_list(db, account, now).id
    db.flush()
    return account


def _check_new_account(db: Db, spec: NewAccount, system_name: str) -> None:
    check_user_name(spec.name)
    check_email(spec.email)
    check_strength(spec.password)
    ensure_email_free(db, spec.email, system_name)
    ensure_name_free(db, spec.name, system_name)


@dataclass(frozen=True)
class LoginAttempt:
    password: str
    peer: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class LoginLimits:
    failure_limit: int
    peer_rate: int


def prepare_login(db: Db, attempt: LoginAttempt, now: datetime, limits: LoginLimits) -> LoginCheck:
    """The refusals that come before the password check, then the check to run. Read without
    a lock: login() judges again under the account lock."""
    check_peer(db, attempt.peer, now, limits.peer_rate)
    account = find_account(db, email=attempt.email, name=attempt.name)
    check_throttle(account, now)
    return LoginCheck(account.id if account else None, account.pass_hash if account else None, attempt.password)


def login(
    db: Db,
    session: EwalletSession,
    attempt: LoginAttempt,
    verdict: LoginVerdict,
    now: datetime,
    lifetimes: session_store.Lifetimes,
    limits: LoginLimits,
) -> Account:
    check_peer(db, attempt.peer, now, limits.peer_rate)
    account = find_account(db, email=attempt.email, name=attempt.name, lock=True)
    check_throttle(account, now)
    # The verdict counts only for the account and hash it was reached against.
    found = (account.id, account.pass_hash) if account else (None, None)
    ensure_unchanged((verdict.account_id, verdict.stored_hash), found)
    if account is None or not verdict.correct:
        record_failure(db, account, attempt.peer, now, limits.failure_limit)
        raise FailedLogin()
    if account.deletion_date is not None:
        raise AccountPendingDeletion()
    account.failed_logins = 0
    account.throttled_until = None
    was_logged_in = session_store.is_logged_in(db, account.id, now, lifetimes)
    session_store.push(db, session, account.id, now, lifetimes)
    login_record = LoginRecord(account_id=account.id, session_id=session.id, create_date=now)
    db.add(login_record)
    if not was_logged_in:
        account.write_date = now
    db.flush()
    events.record(db, account.id, events.LOGIN, {"login_record": login_record.id, "session": session.id}, now)
    return account


def check_peer(db: Db, peer: str, now: datetime, peer_rate: int) -> None:
    if peer_rate <= 0:
        return
    recent = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.peer == peer[:64], LoginFailure.create_date > now - timedelta(minutes=1))
    )
    if recent is not None and recent >= peer_rate:
        raise RateLimited("too many failed logins from this address; wait a minute")


def check_throttle(account: Account | None, now: datetime) -> None:
    if account is not None and account.throttled_until is not None and account.throttled_until > now:
        wait = math.ceil((account.throttled_until - now).total_seconds())
        raise ThrottledLogin(f"too many failed logins for this account; try again in {wait} s")


def record_failure(db: Db, account: Account | None, peer: str, now: datetime, failure_limit: int) -> None:
    db.add(LoginFailure(account_id=account.id if account else None, peer=peer[:64], create_date=now))
    if account is None:
        return
    account.failed_logins += 1
    if account.failed_logins >= failure_limit:
        delay = timedelta(seconds=2 ** (account.failed_logins - failure_limit))
        account.throttled_until = now + min(delay, MAX_THROTTLE)


def logout(db: Db, session: EwalletSession, now: datetime, lifetimes: session_store.Lifetimes) -> Account:
    account = session_store.pop(db, session, now)
    if account is None:  # the user-level check already refused an empty stack
        raise NotFound("no account is logged in")
    db.add(LogoutRecord(account_id=account.id, session_id=session.id, create_date=now))
    if not session_store.is_logged_in(db, account.id, now, lifetimes):
        account.write_date = now
    db.flush()
    # Wakes this account's subscribers: the one bound through this session ends.
    events.record(db, account.id, events.LOGGED_OUT, {"session": session.id}, now)
    return account


def switch_account(
    db: Db, session: EwalletSession, email: str, now: datetime, lifetimes: session_store.Lifetimes
) -> Account:
    for account in session_store.stack(db, session.id):
        if email_key(account.email) == email_key(email):
            session_store.push(db, session, account.id, now, lifetimes)
            return account
    raise NotFound("that account is not logged in on this session")


def settle_all(db: Db, account_id: int, now: datetime) -> None:
    """Settle run-out timers of every clock of the account before judging its holdings."""
    running = select(CreditClock.id).join(CreditEwallet, CreditEwallet.id == CreditClock.ewallet_id)
    running = running.where(CreditEwallet.account_id == account_id, CreditClock.state == timer.ACTIVE)
    for clock_id in db.scalars(running.order_by(CreditClock.id)).all():
        timer.settle_clock(db, clock_id, now)


def holdings(db: Db, account_id: int) -> tuple[int, int, bool]:
    """(credits in its ewallets, hundredths on its clocks, whether any of its timers runs)."""
    credits = db.scalar(
        select(func.coalesce(func.sum(CreditEwallet.credits), 0)).where(CreditEwallet.account_id == account_id)
    )
    clocks = select(CreditClock.hundredths, CreditClock.state).join(
        CreditEwallet, CreditEwallet.id == CreditClock.ewallet_id
    )
    rows = db.execute(clocks.where(CreditEwallet.account_id == account_id)).all()
    minutes = sum(row.hundredths for row in rows)
    running = any(row.state != "inactive" for row in rows)
    return int(credits or 0), minutes, running


def order_deletion(db: Db, account: Account, now: datetime, grace: timedelta) -> None:
    """The deletion order: refused while anything is held; off every stack; deleted later.
    The account lock keeps any credits from arriving between the check and the order."""
    account = lock_account(db, account.id)
    settle_all(db, account.id, now)
    credits, minutes, running = holdings(db, account.id)
    if running:
        raise TimerState("a credit clock timer is running")
    if credits or minutes:
        raise InvalidValue("the account still holds credits or clock minutes")
    account.deletion_date = now + grace
    account.write_date = now
    session_store.remove_from_all_stacks(db, account.id)
    db.flush()
