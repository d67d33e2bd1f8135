"""HTTP status codes for the protocol's error codes."""

from __future__ import annotations

from ewallet.routes import Access, Route

STATUS_OF_CODE: dict[str, int] = {
    "invalid_json": 400,
    "invalid_instruction": 400,
    "unknown_action": 400,
    "missing_field": 400,
    "invalid_value": 400,
    "weak_password": 400,
    "unauthorized": 401,
    "system_key_required": 401,
    "not_logged_in": 401,
    "invalid_credentials": 401,
    "forbidden": 403,
    "account_pending_deletion": 403,
    "not_found": 404,
    "already_exists": 409,
    "already_mapped": 409,
    "conflict": 409,
    "insufficient_credits": 409,
    "insufficient_clock": 409,
    "timer_state": 409,
    "last_resource": 409,
    "frame_too_large": 413,
    "rate_limited": 429,
    "capacity": 503,
    "internal_error": 500,
}

#: Every instruction may meet these (bad input, limits, server trouble).
COMMON = {400, 413, 429, 500, 503}


def status_of(answer: dict[str, object]) -> int:
    if answer.get("failed") is False:
        return 200
    return STATUS_OF_CODE.get(str(answer.get("code")), 500)


def statuses_of(route: Route) -> set[int]:
    """The statuses an instruction can answer, from its access level and kind."""
    statuses = {200, *COMMON}
    if route.access is not Access.ANONYMOUS:
        statuses.add(401)
    if route.access in (Access.SESSION, Access.USER, Access.OWNER, Access.SYSTEM):
        statuses |= {403, 404, 409}
    if route.access is Access.CLIENT:
        statuses.add(409)
    return statuses
