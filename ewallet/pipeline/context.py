"""What a handler gets besides its parameters: the transaction, the instant, the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session as Db

from ewallet.domain.errors import NotLoggedIn
from ewallet.domain.session_store import Lifetimes
from ewallet.settings import Settings

T = TypeVar("T")

if TYPE_CHECKING:
    from ewallet.clock import Clock
    from ewallet.domain.passwords import PasswordHasher
    from ewallet.scheduling.worker_registry import WorkerRegistry
    from ewallet.storage.models import Account, EwalletSession


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
    client_id: str | None = None
    session: EwalletSession | None = None
    account: Account | None = None
    #: The result of the route's password work, done before this transaction (Route.prepare).
    prepared: object = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    on_rollback: list[Callable[[], None]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def user(self) -> Account:
        """The active account; routes at user level always have one."""
        if self.account is None:
            raise NotLoggedIn()
        return self.account

    @property
    def live_session(self) -> EwalletSession:
        if self.session is None:
            raise RuntimeError("a session-level route ran without a session")
        return self.session

    def prepared_as(self, kind: type[T]) -> T:
        if not isinstance(self.prepared, kind):
            raise RuntimeError(f"{self.route_name} ran without its password work")
        return self.prepared
