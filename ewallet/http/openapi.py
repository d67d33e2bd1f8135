"""Paths and request-body schemas of the typed endpoints, derived from the route table."""

from __future__ import annotations

from typing import Any

from ewallet.routes import AUTH_KEYS, Access, Route

AUTH_PROPERTIES: dict[str, dict[str, Any]] = {
    "client_id": {"type": "string", "description": "or the X-EWallet-Client-Id header"},
    "session_token": {"type": "string", "description": "or Authorization: Bearer <token>"},
    "system_key": {"type": "string", "description": "or the X-EWallet-System-Key header"},
}
REQUEST_ID = {
    "description": "echoed in the answer",
    "anyOf": [{"type": "string", "maxLength": 255}, {"type": "integer"}],
}


#: The headers a typed endpoint reads its ids from, as OpenAPI security schemes.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "clientId": {"type": "apiKey", "in": "header", "name": "X-EWallet-Client-Id"},
    "sessionToken": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <session_token>"},
    "systemKey": {"type": "apiKey", "in": "header", "name": "X-EWallet-System-Key"},
}
_SCHEMES_OF_KEY = {"client_id": "clientId", "session_token": "sessionToken", "system_key": "systemKey"}


def route_security(route: Route) -> list[dict[str, list[str]]]:
    """The headers this level reads, or (the empty alternative) the same keys in the body."""
    if route.access is Access.ANONYMOUS:
        return []
    return [{_SCHEMES_OF_KEY[key]: [] for key in sorted(AUTH_KEYS[route.access])}, {}]


def route_path(route: Route) -> str:
    """`/v1/<action>[/<head>[/<tail>]]`; system instructions under `/v1/system/`."""
    parts = ["v1"] + (["system"] if route.controller == "system" else []) + [route.action]
    if route.target is not None:
        parts += route.target.split(".")
    return "/" + "/".join(part.replace("_", "-") for part in parts)


def route_request_schema(route: Route) -> dict[str, Any]:
    """The body: the instruction's parameters plus, where its level needs them, the ids."""
    schema = route.params.wire_schema()
    schema.pop("title", None)
    properties = dict(schema.get("properties", {}))
    for key in sorted(AUTH_KEYS[route.access]):
        properties[key] = AUTH_PROPERTIES[key]
    properties["id"] = REQUEST_ID
    body = {**schema, "type": "object", "properties": properties, "additionalProperties": False}
    if "$defs" in body:
        body["$defs"] = schema["$defs"]
    return {"required": False, "content": {"application/json": {"schema": body}}}


def query_parameters(route: Route) -> list[dict[str, Any]]:
    """The query parameters of a read's GET: its parameters and the request id
    (ids and tokens come from the headers of `route_security`)."""
    schema = route.params.wire_schema()
    required = set(schema.get("required", []))
    parameters = [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]
    parameters.append(
        {"name": "id", "in": "query", "required": False, "schema": {"type": "integer"}, "description": "echoed"}
    )
    return parameters
