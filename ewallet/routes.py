"""Routes and the route table: what an instruction is (controller, action, target), who may ask
for it, its parameters and handler, and how a request resolves to one. The table itself is
built from the handlers' ROUTES (ewallet.handlers.build_route_table)."""

from __future__ import annotations

import difflib
import enum
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ewallet.domain.password_work import PasswordJob
from ewallet.schemas.base import NoParams, Params, Reply

if TYPE_CHECKING:
    from ewallet.handlers.context import Context


class Access(enum.Enum):
    """Permission levels, in increasing order of what a request must carry."""

    ANONYMOUS = "anonymous"
    CLIENT = "client"
    SESSION = "session"
    USER = "user"
    OWNER = "owner"
    SYSTEM = "system"


#: Keys each access level takes besides the envelope, the route keys and the parameters.
AUTH_KEYS: dict[Access, frozenset[str]] = {
    Access.ANONYMOUS: frozenset(),
    Access.CLIENT: frozenset({"client_id"}),
    Access.SESSION: frozenset({"client_id", "session_token"}),
    Access.USER: frozenset({"client_id", "session_token"}),
    Access.OWNER: frozenset({"client_id", "session_token"}),
    Access.SYSTEM: frozenset({"system_key"}),
}

#: (validated parameters, context) -> reply. The parameters' type is the route's own Params class.
Handler = Callable[[Any, "Context"], Reply]
Preparation = Callable[[Any, "Context"], PasswordJob | None]
IdempotencyOwner = Callable[[Any, "Context"], int]


@dataclass(frozen=True)
class Route:
    """One instruction: `{"controller": controller, "action": action, action: head, head: tail}`
    where target is "head.tail", "head" or None (the action key is then a parameter, as in
    `pay=<email>`). The handler gets validated params and a dispatch Context and returns a Reply;
    it never sees raw dicts, sockets or the request id."""

    controller: str
    action: str
    target: str | None
    handler: Handler
    access: Access
    params: type[Params] = NoParams
    summary: str = ""
    #: Changes nothing: runs in a read transaction, concurrently with others (never batched).
    read_only: bool = False
    #: A read that may write only what time already decided (a timer whose balance ran out is
    #: settled on the way): it needs a write transaction, yet to a client it is a read, so it
    #: answers HTTP GET like the read-only instructions.
    settles: bool = False
    #: Password work (Argon2) that must not run inside the write transaction. Called with
    #: the parameters and a Context whose `db` is a read transaction (caller authorised, no
    #: locks); returns a PasswordJob that then runs with no transaction open, off the SQLite
    #: writer. The handler finds the job's result in `ctx.prepared` and must re-check, under
    #: its lock, whatever the job relied on.
    prepare: Preparation | None = None
    #: Counts against the anonymous per-peer rate limit although it carries a session.
    counts_as_anonymous: bool = False
    #: Takes an `idempotency_key`; the function names the account the key belongs to.
    idempotency_owner: IdempotencyOwner | None = None
    #: False exempts an anonymous route from the per-peer rate limit (ping: a balancer's health
    #: check must not be refused, and it costs no hashing and no transaction).
    rate_limited: bool = True
    #: The success reply's model (for the HTTP face's OpenAPI document); by default the
    #: handler's return annotation.
    reply: type[Reply] | None = None
    #: False: the HTTP face has no typed endpoint for it (`/v1/...`), since its answer alone is
    #: useless there (subscribe and unsubscribe need a connection that carries events; over HTTP
    #: that is `GET /v1/events`). `POST /ewallet/instruction-set` still takes it, and refuses it.
    typed_http: bool = True

    def __post_init__(self) -> None:
        if self.reply is None:
            try:
                hinted = typing.get_type_hints(self.handler).get("return")
            except (TypeError, NameError):
                hinted = None
            if isinstance(hinted, type) and issubclass(hinted, Reply) and hinted is not Reply:
                object.__setattr__(self, "reply", hinted)

    @property
    def answers_get(self) -> bool:
        """Served by HTTP GET too (parameters in the query string)."""
        return self.read_only or self.settles

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.controller, self.action, self.target)

    @property
    def route_keys(self) -> frozenset[str]:
        """The request keys that name this route (consumed before parameters are validated)."""
        if self.target is None:
            return frozenset()
        head = self.target.split(".")[0]
        return frozenset({self.action, head} if "." in self.target else {self.action})

    @property
    def envelope(self) -> dict[str, str]:
        """The keys of a request for this route, parameters and authentication left out."""
        keys = {"controller": self.controller, "ctype": "action", "action": self.action}
        if self.target is not None:
            head, _, tail = self.target.partition(".")
            keys[self.action] = head
            if tail:
                keys[head] = tail
        return keys

    @property
    def name(self) -> str:
        if self.target is None:
            return f"{self.controller} {self.action}"
        head, _, tail = self.target.partition(".")
        return f"{self.controller} {self.action}={head}" + (f", {head}={tail}" if tail else "")


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: list[Route] = []
        self._by_key: dict[tuple[str, str, str | None], Route] = {}
        for route in routes:
            if route.key in self._by_key:
                raise ValueError(f"duplicate route {route.name}")
            self._by_key[route.key] = route
            self.routes.append(route)

    def resolve(self, controller: str, action: str, request: dict[str, Any]) -> Route | None:
        """Target tried as "head.tail", then "head", then none."""
        head = request.get(action)
        if isinstance(head, str):
            tail = request.get(head) if head != action else None
            if isinstance(tail, str):
                route = self._by_key.get((controller, action, f"{head}.{tail}"))
                if route is not None:
                    return route
            route = self._by_key.get((controller, action, head))
            if route is not None:
                return route
        return self._by_key.get((controller, action, None))

    def explain_unknown(self, controller: str, action: str, request: dict[str, Any]) -> str:
        """Why `resolve` found nothing: which part is unknown (controller, action, target key or
        target value) and the nearest valid spelling. The client's value is never echoed."""
        controllers = sorted({route.controller for route in self.routes})
        if controller not in controllers:
            return "unknown controller" + _suggest(controller, controllers, "controller")
        routes = [route for route in self.routes if route.controller == controller]
        actions = sorted({route.action for route in routes})
        if action not in actions:
            return f"unknown action for controller {controller}" + _suggest(action, actions, "action")
        targets = [route.target for route in routes if route.action == action and route.target is not None]
        heads = sorted({target.split(".")[0] for target in targets})
        head = request.get(action)
        if not isinstance(head, str):
            return f'{controller} {action} needs its target key "{action}": one of ' + ", ".join(heads)
        if head not in heads:
            return f'unknown target for {controller} {action} (key "{action}")' + _suggest(head, heads, action)
        tails = sorted(target.split(".")[1] for target in targets if target.startswith(f"{head}."))
        tail = request.get(head)
        if not isinstance(tail, str):
            return f'{controller} {action}={head} needs its target value "{head}": one of ' + ", ".join(tails)
        return f'unknown target value for {controller} {action}={head} (key "{head}")' + _suggest(tail, tails, head)


def _suggest(given: str, valid: list[str], key: str) -> str:
    close = difflib.get_close_matches(given, valid, n=1, cutoff=0.6)
    if close:
        return f'; did you mean "{key}": "{close[0]}"?'
    return "; valid: " + ", ".join(valid)


def client_route(
    action: str,
    target: str | None,
    handler: Handler,
    access: Access,
    params: type[Params] = NoParams,
    summary: str = "",
    *,
    read_only: bool = False,
    settles: bool = False,
    prepare: Preparation | None = None,
    counts_as_anonymous: bool = False,
    idempotency_owner: IdempotencyOwner | None = None,
    reply: type[Reply] | None = None,
    rate_limited: bool = True,
    typed_http: bool = True,
) -> Route:
    return Route(
        "client",
        action,
        target,
        handler,
        access,
        params,
        summary=summary,
        read_only=read_only,
        settles=settles,
        prepare=prepare,
        counts_as_anonymous=counts_as_anonymous,
        idempotency_owner=idempotency_owner,
        reply=reply,
        rate_limited=rate_limited,
        typed_http=typed_http,
    )


def system_route(
    action: str,
    target: str,
    handler: Handler,
    params: type[Params] = NoParams,
    summary: str = "",
    *,
    read_only: bool = False,
    idempotency_owner: IdempotencyOwner | None = None,
) -> Route:
    return Route(
        "system",
        action,
        target,
        handler,
        Access.SYSTEM,
        params,
        summary=summary,
        read_only=read_only,
        idempotency_owner=idempotency_owner,
    )
