"""The one path of an instruction inside a unit of work: authorise → parameters → idempotency →
handler → reply. `Pipeline.attempt` knows nothing of transactions (policies.py owns them) and
never commits; routes with password work get a step before their transaction (`prepare`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as Db
from sqlalchemy.orm import sessionmaker

from ewallet.domain import idempotency, session_store
from ewallet.domain.caller import authenticate
from ewallet.domain.errors import Conflict, EwalletError, NotLoggedIn, Unauthorized
from ewallet.handlers.context import Context, Services
from ewallet.pipeline.classify import Verdict, classify
from ewallet.protocol.answers import Answer, failure, internal_failure
from ewallet.protocol.envelope import Instruction, check_request_id
from ewallet.routes import Access
from ewallet.schemas.base import Reply, validate_params

log = logging.getLogger(__name__)

DATABASE_FAILED = "the database failed or could not be reached; nothing changed, retry later"


@dataclass
class Outcome:
    """One instruction's answer and the hooks to run once its transaction's fate is known."""

    answer: Answer
    ctx: Context | None = None

    def committed(self) -> None:
        if self.ctx is not None:
            for hook in self.ctx.after_commit:
                hook()

    def rolled_back(self) -> None:
        if self.ctx is not None:
            for undo in self.ctx.on_rollback:
                undo()


class Pipeline:
    def __init__(self, services: Services) -> None:
        self.services = services

    def attempt(self, db: Db, instruction: Instruction, peer: str) -> Outcome:
        """Run the instruction in `db`'s open transaction. A domain error is raised, except one
        whose work must still be committed (a failed login), which comes back as the answer.
        Whatever is raised, the instruction's rollback hooks have run."""
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
        finally:
            instruction.trace.caller = ctx.caller
        return outcome

    def prepare(self, read: sessionmaker[Db], instruction: Instruction, peer: str) -> Instruction | Answer:
        """The route's password work, before its write transaction: the instruction carrying the
        result, or the answer when it is refused first (unauthorised, bad parameters, throttled:
        such requests cost no hashing). `read` opens the read transaction the work's inputs are
        read in; the hashing itself holds no snapshot, lock or connection."""
        route = instruction.route
        if route.prepare is None:
            return instruction
        try:
            with read.begin() as db:
                ctx = self._context(db, instruction, peer)
                self._authorise(instruction, ctx, lock=False, place=False)
                instruction.trace.caller = ctx.caller
                check_request_id(instruction)
                params = validate_params(route.params, instruction.params, zone=self.services.settings.zone)
                job = route.prepare(params, ctx)
            result = None if job is None else job.run(self.services.hasher)
        except EwalletError as error:
            return failure(error)
        except Exception as exc:
            if classify(exc) is Verdict.INTERNAL:
                return internal_failure(exc, route.name)
            return database_failed(exc, route.name)
        return replace(instruction, prepared=result)

    def _execute(self, instruction: Instruction, ctx: Context) -> Answer:
        route = instruction.route
        self._authorise(instruction, ctx, lock=not route.read_only, place=True)
        check_request_id(instruction)
        params = validate_params(route.params, instruction.params, zone=self.services.settings.zone)
        # Asked of the class: a missing attribute goes through pydantic's __getattr__ and an
        # AttributeError on every instruction without the field.
        key = params.idempotency_key if "idempotency_key" in type(params).model_fields else None  # type: ignore[attr-defined]
        if route.idempotency_owner is None or key is None:
            return self._answer(route.handler(params, ctx))
        # Replay or run-and-remember, inside this instruction's own unit of work.
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
            db=db,
            now=self.services.clock.now(),
            services=self.services,
            peer=peer,
            route_name=instruction.route.name,
            channel=instruction.channel,
        )

    def _answer(self, reply: Reply) -> Answer:
        return reply.model_dump(mode="json", context={"zone": self.services.settings.zone})

    def _authorise(self, instruction: Instruction, ctx: Context, *, lock: bool, place: bool) -> None:
        """The caller must be who the route's access level asks for. System and anonymous
        routes carry no session. `place`: the session takes (or keeps) its place in this
        process's worker registry; a preparation only looks."""
        access = instruction.route.access
        if access is Access.CLIENT:
            if not isinstance(instruction.client_id, str):
                raise Unauthorized("client_id is required")
            ctx.client_id = instruction.client_id
            session_store.check_client_id(ctx.db, ctx.client_id, ctx.now)
        elif access in (Access.SESSION, Access.USER, Access.OWNER):
            ctx.caller = authenticate(
                ctx.db, instruction.client_id, instruction.session_token, ctx.now, self.services.lifetimes, lock=lock
            )
            if place:
                self.services.workers.adopt(ctx.caller.session_id, ctx.caller.expires)
            if access is not Access.SESSION and ctx.caller.account is None:
                raise NotLoggedIn()


def database_failed(exc: BaseException, where: str) -> Answer:
    """The database itself failed (unreachable, full, read-only, I/O error): an outage, not a
    bug, so `conflict` rather than `internal_error`. Logged without the statement, whose
    parameters may hold values."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    log.warning("database failure in %s: %s", where, type(cause).__name__)
    return failure(Conflict(DATABASE_FAILED))
