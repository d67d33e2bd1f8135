"""The dispatcher runs one instruction: access check, parameters, handler, all inside one
transaction that it owns (handlers never commit). It runs in a database thread. Routes with
password work have a step before that transaction (`prepare`): access check, parameters and
the reads the work needs in a read transaction, then the hashing with no transaction open."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.domain import idempotency, session_store
from ewallet.domain.errors import Conflict, EwalletError, NotLoggedIn, Unauthorized
from ewallet.pipeline.context import Context, Services
from ewallet.protocol.envelope import Instruction, check_request_id, failure
from ewallet.routes import Access
from ewallet.schemas.base import Reply, validate_params

log = logging.getLogger(__name__)

#: A deadlock, serialization failure or busy database is retried this many times, then `conflict`.
RETRIES = 3
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}
#: Answers when the database, not the instruction, failed.
DATABASE_FAILED = "the database failed or could not be reached; nothing changed, retry later"
OUTCOME_UNKNOWN = (
    "the database connection was lost while committing, so the instruction may or may not have taken "
    "effect: retry it with the same idempotency_key, which answers the stored result if it did"
)


@dataclass
class Outcome:
    """One instruction's answer and the hooks to run once its transaction's fate is known."""

    answer: dict[str, Any]
    ctx: Context | None = None

    def committed(self) -> None:
        if self.ctx is not None:
            for hook in self.ctx.after_commit:
                hook()

    def rolled_back(self) -> None:
        if self.ctx is not None:
            for undo in self.ctx.on_rollback:
                undo()


class Dispatcher:
    """Runs instructions: `run` in a transaction of its own (with retries), `run_in` inside a
    caller's transaction under a savepoint of its own (group commit)."""

    def __init__(self, services: Services, factory: sessionmaker[Db], read_factory: sessionmaker[Db] | None = None):
        self.services = services
        self.factory = factory
        self.read_factory = read_factory or factory

    def run(self, instruction: Instruction, peer: str) -> dict[str, Any]:
        """The answer object (without the request id)."""
        factory = self.read_factory if instruction.route.read_only else self.factory
        failed: OperationalError | IntegrityError | None = None
        for _ in range(RETRIES + 1):
            outcome: Outcome | None = None
            committing = False
            try:
                with factory.begin() as db:
                    outcome = self._attempt(db, instruction, peer)
                    db.flush()
                    # From here on only COMMIT is left to send: should the connection die now,
                    # the database may or may not have committed.
                    committing = True
            except EwalletError as error:
                return failure(error)
            except (OperationalError, IntegrityError) as exc:
                if outcome is not None:
                    outcome.rolled_back()
                if committing and _disconnected(exc) and not instruction.route.read_only:
                    log.warning("connection lost while committing %s: outcome unknown", instruction.route.name)
                    return failure(Conflict(OUTCOME_UNKNOWN))
                # Before COMMIT the database rolls the transaction back by itself (a lost
                # connection included), so running the instruction again is safe.
                log.debug("retrying %s after %s", instruction.route.name, type(exc).__name__)
                failed = exc
                continue
            except Exception as exc:
                if outcome is not None:
                    outcome.rolled_back()
                return self._internal(exc, instruction)
            outcome.committed()
            return outcome.answer
        if failed is not None and not _retryable(failed):
            return self._database_failed(failed, instruction)
        return failure(Conflict())

    def prepare(self, instruction: Instruction, peer: str) -> Instruction | dict[str, Any]:
        """The route's password work, before its write transaction: the instruction carrying the
        result, or the answer when it is refused first (unauthorised, bad parameters, throttled:
        such requests cost no hashing). Runs on a thread of its own, never on the SQLite writer."""
        route = instruction.route
        if route.prepare is None:
            return instruction
        try:
            with self.read_factory.begin() as db:
                ctx = self._context(db, instruction, peer)
                self._authorise(instruction, ctx, reading=True)
                check_request_id(instruction)
                params = validate_params(route.params, instruction.params, zone=self.services.settings.zone)
                job = route.prepare(params, ctx)
            # The read transaction is over: the hashing holds no snapshot, lock or connection.
            result = None if job is None else job.run(self.services.hasher)
        except EwalletError as error:
            return failure(error)
        except DBAPIError as exc:
            return self._database_failed(exc, instruction)
        except Exception as exc:
            return self._internal(exc, instruction)
        return replace(instruction, prepared=result)

    def read_in(self, db: Db, instruction: Instruction, peer: str) -> dict[str, Any]:
        """A read-only instruction inside the caller's read transaction. A domain failure is
        its answer; a database failure propagates (the caller's transaction is then unusable)."""
        try:
            return self._attempt(db, instruction, peer).answer
        except EwalletError as error:
            return failure(error)
        except DBAPIError:
            raise
        except Exception as exc:
            return self._internal(exc, instruction)

    def run_in(self, db: Db, instruction: Instruction, peer: str) -> Outcome:
        """Run inside the caller's open transaction, under a savepoint: a failing instruction
        rolls back alone. The caller commits and then calls `committed()` on the outcome."""
        # Objects loaded by earlier instructions of the batch are reloaded when touched: each
        # instruction sees the rows as they are now, not as an earlier one left them in memory.
        db.expire_all()
        for _ in range(RETRIES + 1):
            savepoint = db.begin_nested()
            outcome: Outcome | None = None
            try:
                outcome = self._attempt(db, instruction, peer)
            except EwalletError as error:
                savepoint.rollback()
                return Outcome(failure(error))
            except (OperationalError, IntegrityError) as exc:
                savepoint.rollback()
                if not _retryable(exc):
                    return Outcome(self._database_failed(exc, instruction))
                continue
            except Exception as exc:
                savepoint.rollback()
                return Outcome(self._internal(exc, instruction))
            savepoint.commit()
            return outcome
        return Outcome(failure(Conflict()))

    def _attempt(self, db: Db, instruction: Instruction, peer: str) -> Outcome:
        """The pipeline inside an open transaction. A domain error whose work must still be
        committed (a failed login) comes back as an answer instead of being raised."""
        ctx = self._context(db, instruction, peer)
        ctx.prepared = instruction.prepared
        outcome = Outcome({}, ctx)
        try:
            outcome.answer = self._execute(instruction, ctx)
        except EwalletError as error:
            if not error.commit:
                outcome.rolled_back()
                raise
            outcome.answer = failure(error)
        except BaseException:
            outcome.rolled_back()
            raise
        return outcome

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
        scope = idempotency.SYSTEM if route.access is Access.SYSTEM else idempotency.USER
        canonical = params.canonical()
        keep = timedelta(hours=self.services.settings.idempotency_hours)
        stored = idempotency.replay(ctx.db, scope, owner, key, route.name, canonical, ctx.now, keep)
        if stored is not None:
            return stored
        answer = self._answer(route.handler(params, ctx))
        idempotency.remember(ctx.db, scope, owner, key, route.name, canonical, answer, ctx.now)
        return answer

    def _context(self, db: Db, instruction: Instruction, peer: str) -> Context:
        return Context(
            db=db, now=self.services.clock.now(), services=self.services, peer=peer, route_name=instruction.route.name
        )

    def _answer(self, reply: Reply) -> dict[str, Any]:
        return reply.model_dump(mode="json", context={"zone": self.services.settings.zone})

    def _authorise(self, instruction: Instruction, ctx: Context, *, reading: bool = False) -> None:
        """§2 steps 6-7. System and anonymous routes carry no session. `reading`: inside a
        read transaction (a preparation), where the caller is looked at, not locked or placed."""
        access = instruction.route.access
        if access is Access.CLIENT:
            ctx.client_id = _text(instruction.client_id)
            session_store.check_client_id(ctx.db, ctx.client_id, ctx.now)
        elif access in (Access.SESSION, Access.USER, Access.OWNER):
            route, lifetimes = instruction.route, self.services.lifetimes
            if route.read_only or route.plain_caller or reading:
                session, ctx.account = session_store.authenticate_rows(
                    ctx.db,
                    instruction.client_id,
                    instruction.session_token,
                    ctx.now,
                    lifetimes,
                    lock=not (route.read_only or reading),
                )
            else:
                session, ctx.account = session_store.authenticate(
                    ctx.db, instruction.client_id, instruction.session_token, ctx.now, lifetimes
                )
            ctx.session = session
            if not reading:
                self.services.workers.adopt(session.id, session_store.effective_expiry(session, lifetimes))
            if access is not Access.SESSION and ctx.account is None:
                raise NotLoggedIn()

    def _database_failed(self, exc: DBAPIError, instruction: Instruction) -> dict[str, Any]:
        """The database itself failed (unreachable, full, read-only, I/O error): an outage, not
        a bug, so `conflict` rather than `internal_error`. Logged without the statement, whose
        parameters may hold values."""
        log.warning("database failure in %s: %s", instruction.route.name, type(exc.orig).__name__)
        return failure(Conflict(DATABASE_FAILED))

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


def _disconnected(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated)


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
