"""Errors that carry their protocol code. Raised anywhere below the pipeline, answered as
`{"failed": true, "error": message, "code": code}`. Messages name fields, never their values."""

from __future__ import annotations


class EwalletError(Exception):
    code = "internal_error"
    default_message = "the instruction failed"
    #: True when the work done before the error must still be committed (a failed login
    #: records its failure and throttle counter).
    commit = False

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class MissingField(EwalletError):
    code = "missing_field"
    default_message = "a required field is missing"


class InvalidValue(EwalletError):
    code = "invalid_value"
    default_message = "a field has an invalid value"


class Unauthorized(EwalletError):
    code = "unauthorized"
    default_message = "client id or session token is missing, unknown or expired"


class NotLoggedIn(EwalletError):
    code = "not_logged_in"
    default_message = "no account is logged in on this session"


class Forbidden(EwalletError):
    code = "forbidden"
    default_message = "that object belongs to another account"


class NotFound(EwalletError):
    code = "not_found"
    default_message = "no such object"


class AlreadyExists(EwalletError):
    code = "already_exists"
    default_message = "that already exists"


class AlreadyMapped(EwalletError):
    code = "already_mapped"
    default_message = "this client id already holds a live session token"


class WeakPassword(EwalletError):
    code = "weak_password"
    default_message = "user_pass needs 8 to 128 characters with a letter, a digit and a symbol"


class InvalidCredentials(EwalletError):
    code = "invalid_credentials"
    default_message = "wrong account or password"


class AccountPendingDeletion(EwalletError):
    code = "account_pending_deletion"
    default_message = "the account is scheduled for deletion"


class InsufficientCredits(EwalletError):
    code = "insufficient_credits"
    default_message = "not enough credits"


class InsufficientClock(EwalletError):
    code = "insufficient_clock"
    default_message = "not enough minutes on the credit clock"


class TimerState(EwalletError):
    code = "timer_state"
    default_message = "the clock timer is not in a state that allows this"


class LastResource(EwalletError):
    code = "last_resource"
    default_message = "the last one of its kind cannot be unlinked"


class Conflict(EwalletError):
    code = "conflict"
    default_message = "the instruction conflicted with another one; nothing changed, retry"


class RateLimited(EwalletError):
    code = "rate_limited"
    default_message = "too many requests; slow down"


class FailedLogin(InvalidCredentials):
    """A wrong password: its failure record and throttle counter are committed."""

    commit = True


class ThrottledLogin(RateLimited):
    commit = True


class FailedEdit(InvalidValue):
    """An edit that applied nothing and whose wrong current_pass counted as a failed login: the
    failure record and throttle counter are committed."""

    commit = True
