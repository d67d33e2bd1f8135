"""What a handler gets besides its parameters: the transaction, the instant, the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy.orm import Session as Db

from ewallet.domain.caller import AccountSnapshot, Caller
from ewallet.domain.errors import NotLoggedIn
from ewallet.domain.events import SubscriptionTerms
from ewallet.domain.session_store import Lifetimes
from ewallet.settings import Settings
from ewallet.storage.models import Account, EwalletSession

T = TypeVar("T")

if TYPE_CHECKING:
    from ewallet.clock import Clock
    from ewallet.domain.passwords import PasswordHasher
    from ewallet.scheduling.worker_registry import WorkerRegistry


class EventChannel(Protocol):
    """A connection that can carry events (TCP, or the HTTP event stream). Called on a database
    thread; what is offered takes effect once the answer has been written, if it succeeded."""

    def offer(self, terms: SubscriptionTerms) -> None: ...

    def withdraw(self) -> None: ...


@dataclass(frozen=True)
class Services:
    """Long-lived collaborators, built once by build_app."""

    settings: Settings
    clock: Clock
    workers: WorkerRegistry
    hasher: PasswordHasher
    lifetimes: Lifetimes


@dataclass
class Context:
    db: Db
    now: datetime
    services: Services
    peer: str
    route_name: str
    #: Set on routes at client level (a session request).
    client_id: str | None = None
    #: Set on routes at session level and above.
    caller: Caller | None = None
    #: The result of the route's password work, done before this transaction (Route.prepare).
    prepared: object = None
    #: The connection's event channel, where the face has one.
    channel: EventChannel | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    on_rollback: list[Callable[[], None]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def user(self) -> AccountSnapshot:
        """The active account as the instruction found it; routes at user level always have one."""
        if self.caller is None or self.caller.account is None:
            raise NotLoggedIn()
        return self.caller.account

    @property
    def session_id(self) -> int:
        if self.caller is None:
            raise RuntimeError(f"{self.route_name} ran without a session")
        return self.caller.session_id

    def load_account(self) -> Account:
        """The active account as a mapped row, for handlers that change it."""
        account = self.db.get(Account, self.user.id)
        if account is None:  # the caller's own session row lock keeps its stack in place
            raise RuntimeError(f"{self.route_name}: the active account vanished")
        return account

    def load_session(self) -> EwalletSession:
        """The caller's session as a mapped row (already locked by authentication on writes)."""
        session = self.db.get(EwalletSession, self.session_id)
        if session is None:
            raise RuntimeError(f"{self.route_name}: the session vanished")
        return session

    def prepared_as(self, kind: type[T]) -> T:
        if not isinstance(self.prepared, kind):
            raise RuntimeError(f"{self.route_name} ran without its password work")
        return self.prepared
