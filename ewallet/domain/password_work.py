"""Password work as data (hashing never holds a write lock or the SQLite writer). A route's
preparation reads what the work needs in a read transaction and returns a job; the job runs with
no transaction open; its result travels to the handler, which re-checks under its lock that the
stored hash the job used is still the stored hash (`Stale` otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ewallet.domain.errors import Conflict, WeakPassword
from ewallet.domain.passwords import PasswordHasher, check_strength


class PasswordJob(Protocol):
    def run(self, hasher: PasswordHasher) -> object: ...


class Stale(Conflict):
    """The stored hash changed between the password check and the lock (a password change
    committed meanwhile). Answering `conflict` rather than checking again keeps Argon2 off the
    write path; the client retries and is then judged against the new hash."""

    default_message = "the account's password changed while this instruction was checked; nothing changed, retry"


def ensure_unchanged(checked: object, stored: object) -> None:
    """What a job relied on (a stored hash, the account it belongs to) against what the lock
    shows now."""
    if checked != stored:
        raise Stale()


@dataclass(frozen=True)
class NewHash:
    """Hash a new account's password."""

    password: str

    def run(self, hasher: PasswordHasher) -> HashedPassword:
        return HashedPassword(hasher.hash(self.password))


@dataclass(frozen=True)
class HashedPassword:
    pass_hash: str


@dataclass(frozen=True)
class LoginCheck:
    """Verify a login's password against the account's hash; an unknown account (no hash) is
    verified against the decoy, so it costs the same work as a wrong password."""

    account_id: int | None
    stored_hash: str | None
    password: str

    def run(self, hasher: PasswordHasher) -> LoginVerdict:
        correct = hasher.verify(self.stored_hash, self.password)
        return LoginVerdict(self.account_id, self.stored_hash, correct)


@dataclass(frozen=True)
class LoginVerdict:
    account_id: int | None
    stored_hash: str | None
    correct: bool


@dataclass(frozen=True)
class EditCheck:
    """An edit's password work: the current password (when a field needs it), then whether a new
    password reuses the current one or the ones before it, then its hash. Work whose answer
    cannot matter is skipped (no reuse check behind a wrong current password or a weak one)."""

    stored_hash: str
    #: The newest hashes of the password history (the current one among them).
    history: tuple[str, ...]
    current_password: str | None
    new_password: str | None

    def run(self, hasher: PasswordHasher) -> EditVerdict:
        if self.current_password is None:
            return EditVerdict(self.stored_hash, current_ok=None)
        current_ok = hasher.verify(self.stored_hash, self.current_password)
        if not current_ok or self.new_password is None or not _strong(self.new_password):
            return EditVerdict(self.stored_hash, current_ok=current_ok)
        earlier = dict.fromkeys((self.stored_hash, *self.history))
        if any(hasher.verify(old, self.new_password) for old in earlier):
            return EditVerdict(self.stored_hash, current_ok=True, reused=True)
        return EditVerdict(self.stored_hash, current_ok=True, new_hash=hasher.hash(self.new_password))


@dataclass(frozen=True)
class EditVerdict:
    stored_hash: str
    #: None when no given field needed the current password, or none was given.
    current_ok: bool | None
    reused: bool = False
    new_hash: str | None = None


def _strong(password: str) -> bool:
    try:
        check_strength(password)
    except WeakPassword:
        return False
    return True
