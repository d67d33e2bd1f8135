"""The instruction envelope: the keys that name an instruction, the request id, the system key.
A valid envelope and a known route make an `Instruction`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ewallet.domain.caller import Caller
from ewallet.domain.errors import InvalidValue
from ewallet.protocol.errors import InvalidInstruction, SystemKeyRequired, UnknownAction
from ewallet.routes import AUTH_KEYS, Access, Route, RouteTable

if TYPE_CHECKING:
    from ewallet.handlers.context import EventChannel

ENVELOPE = frozenset({"controller", "ctype", "action", "id"})
MAX_REQUEST_ID = 2**63


@dataclass
class Trace:
    """What running an instruction found out about its caller, for the access line: filled in
    by the pipeline (on a database thread), read by the scheduler once the answer is back.
    Handlers and the domain never see it."""

    caller: Caller | None = None


@dataclass(frozen=True)
class Instruction:
    """A request whose envelope is valid and whose route is known."""

    route: Route
    #: The request's keys minus envelope, route and authentication keys: the parameters.
    params: dict[str, Any]
    client_id: Any
    session_token: Any
    #: The raw "id" value when it may be echoed; None when not given (or not echoable).
    request_id: Any
    id_valid: bool
    #: The result of the route's password work (Route.prepare), once it has run.
    prepared: object = None
    #: Shared by the copies the pipeline makes (dataclasses.replace keeps the same object).
    trace: Trace = field(default_factory=Trace, compare=False, repr=False)
    #: The connection's event channel, when the face that received it can carry events.
    channel: EventChannel | None = field(default=None, compare=False, repr=False)


def request_id_of(obj: Any) -> tuple[Any, bool]:
    """(id to echo or None, whether the id is acceptable). An invalid id is never echoed."""
    if not isinstance(obj, dict) or "id" not in obj:
        return None, True
    value = obj["id"]
    if isinstance(value, str) and len(value) <= 255:
        return value, True
    if isinstance(value, int) and not isinstance(value, bool) and -MAX_REQUEST_ID <= value <= MAX_REQUEST_ID:
        return value, True
    return None, False


def parse_instruction(obj: Any, table: RouteTable, system_key: str | None) -> Instruction:
    """The instruction a decoded line asks for: envelope checked, route resolved."""
    if not isinstance(obj, dict):
        raise InvalidInstruction("an instruction set is a JSON object")
    for name in ("controller", "ctype", "action"):
        if not isinstance(obj.get(name), str):
            raise InvalidInstruction(f"{name} is required and must be a string")
    if obj["ctype"] != "action":
        raise InvalidInstruction('ctype must be "action"')
    route = table.resolve(obj["controller"], obj["action"], obj)
    if route is None:
        raise UnknownAction(table.explain_unknown(obj["controller"], obj["action"], obj))
    return instruction_for(route, obj, system_key)


def instruction_for(route: Route, obj: dict[str, Any], system_key: str | None) -> Instruction:
    """`route` asked for with the keys of `obj` (the HTTP face knows the route from the path)."""
    if route.access is Access.SYSTEM and not system_key_matches(obj.get("system_key"), system_key):
        raise SystemKeyRequired()
    taken = ENVELOPE | route.route_keys | AUTH_KEYS[route.access]
    params = {k: v for k, v in obj.items() if k not in taken}
    request_id, id_valid = request_id_of(obj)
    return Instruction(
        route=route,
        params=params,
        client_id=obj.get("client_id"),
        session_token=obj.get("session_token"),
        request_id=request_id,
        id_valid=id_valid,
    )


def system_key_matches(given: Any, configured: str | None) -> bool:
    """Constant-time comparison; a configured key shorter than 32 characters opens nothing."""
    if configured is None or len(configured) < 32 or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), configured.encode("utf-8"))


def check_request_id(instruction: Instruction) -> None:
    if not instruction.id_valid:
        raise InvalidValue("id must be a string of at most 255 characters or an integer within 2^63")
