"""Argon2id password hashes (argon2-cffi) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from ewallet.domain.errors import WeakPassword

MIN_LENGTH, MAX_LENGTH = 8, 128


class PasswordHasher:
    def __init__(self, time_cost: int | None = None, memory_kib: int | None = None, parallelism: int | None = None):
        defaults = Argon2Hasher()
        self._argon2 = Argon2Hasher(
            time_cost=defaults.time_cost if time_cost is None else time_cost,
            memory_cost=defaults.memory_cost if memory_kib is None else memory_kib,
            parallelism=defaults.parallelism if parallelism is None else parallelism,
        )
        # Verified against when the account does not exist, so that an unknown account costs
        # the same hashing work as a wrong password.
        self._decoy = self._argon2.hash("decoy password for unknown accounts")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash or self._decoy, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def check_strength(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword()
    has_letter = any(ch.isalpha() for ch in password)
    has_digit = any(ch.isdigit() for ch in password)
    has_symbol = any(not ch.isalnum() and not ch.isspace() for ch in password)
    if not (has_letter and has_digit and has_symbol):
        raise WeakPassword()
