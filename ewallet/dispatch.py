"""The dispatcher runs one instruction: access check, parameters, handler, all inside one
transaction that it owns (handlers never commit). It runs in a database thread."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.context import Context, Services
from ewallet.domain import idempotency
from ewallet.domain import sessions as session_store
from ewallet.domain.errors import Conflict, EwalletError, NotLoggedIn, Unauthorized
from ewallet.protocol import Instruction, check_request_id, failure
from ewallet.routes import Access
from ewallet.schemas.base import Reply, validate_params

log = logging.getLogger(__name__)

#: A deadlock, serialization failure or busy database is retried this many times, then `conflict`.
RETRIES = 3
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class Dispatcher:
    def __init__(self, services: Services, factory: sessionmaker[Db]) -> None:
        self.services = services
        self.factory = factory

    def run(self, instruction: Instruction, peer: str) -> dict[str, Any]:
        """The answer object (without the request id)."""
        for attempt in range(RETRIES + 1):
            try:
                return self._attempt(instruction, peer)
            except EwalletError as error:
                return failure(error)
            except (OperationalError, IntegrityError) as exc:
                if not _retryable(exc) or attempt == RETRIES:
                    if _retryable(exc):
                        return failure(Conflict())
                    return self._internal(exc, instruction)
                log.debug("retrying %s after %s", instruction.route.name, type(exc).__name__)
            except Exception as exc:
                return self._internal(exc, instruction)
        return failure(Conflict())

    def _attempt(self, instruction: Instruction, peer: str) -> dict[str, Any]:
        services = self.services
        kept_error: EwalletError | None = None
        ctx: Context | None = None
        try:
            with self.factory.begin() as db:
                ctx = Context(
                    db=db,
                    now=services.clock.now(),
                    services=services,
                    peer=peer,
                    route_name=instruction.route.name,
                )
                try:
                    answer = self._execute(instruction, ctx)
                except EwalletError as error:
                    if not error.commit:
                        raise
                    kept_error = error
        except BaseException:
            if ctx is not None:
                for undo in ctx.on_rollback:
                    undo()
            raise
        for hook in ctx.after_commit:
            hook()
        if kept_error is not None:
            return failure(kept_error)
        return answer

    def _execute(self, instruction: Instruction, ctx: Context) -> dict[str, Any]:
        route = instruction.route
        self._authorise(instruction, ctx)
        check_request_id(instruction)
        params = validate_params(route.params, instruction.params, zone=self.services.settings.zone)
        key = getattr(params, "idempotency_key", None)
        if route.idempotency_owner is None or key is None:
            return self._answer(route.handler(params, ctx))
        # Replay or run-and-remember, inside this instruction's own transaction.
        owner = route.idempotency_owner(params, ctx)
        canonical = params.model_dump(mode="json", exclude={"idempotency_key"})
        keep = timedelta(hours=self.services.settings.idempotency_hours)
        stored = idempotency.replay(ctx.db, owner, key, route.name, canonical, ctx.now, keep)
        if stored is not None:
            return stored
        answer = self._answer(route.handler(params, ctx))
        idempotency.remember(ctx.db, owner, key, route.name, canonical, answer, ctx.now)
        return answer

    def _answer(self, reply: Reply) -> dict[str, Any]:
        return reply.model_dump(mode="json", context={"zone": self.services.settings.zone})

    def _authorise(self, instruction: Instruction, ctx: Context) -> None:
        """§2 steps 6-7. System and anonymous routes carry no session."""
        access = instruction.route.access
        if access is Access.CLIENT:
            ctx.client_id = _text(instruction.client_id)
            session_store.check_client_id(ctx.db, ctx.client_id, ctx.now)
        elif access in (Access.SESSION, Access.USER, Access.OWNER):
            session = session_store.authenticate(
                ctx.db, instruction.client_id, instruction.session_token, ctx.now, self.services.lifetimes
            )
            ctx.session = session
            self.services.pool.adopt(session.id, session_store.effective_expiry(session, self.services.lifetimes))
            ctx.account = session_store.active_account(ctx.db, session.id)
            if access is not Access.SESSION and ctx.account is None:
                raise NotLoggedIn()

    def _internal(self, exc: BaseException, instruction: Instruction) -> dict[str, Any]:
        reference = secrets.token_hex(4)
        log.error("internal error ref=%s in %s", reference, instruction.route.name, exc_info=exc)
        return {
            "failed": True,
            "error": f"internal error (reference {reference})",
            "code": "internal_error",
        }


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Unauthorized("client_id is required")
    return value


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        # A unique race lost to a concurrent writer: run again, the handler's own check then
        # sees the winner's row and answers with the domain error.
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message
