"""The FastAPI application. `POST /ewallet/instruction-set` takes one instruction set as the TCP
server does; a typed endpoint per instruction (`POST /v1/<action>/<target...>`) takes its
parameters, with client id and token from the body or from `X-EWallet-Client-Id` and
`Authorization: Bearer <token>`. Both hand the instruction to the scheduler, so a session
opened over TCP works over HTTP and the other way round. `GET /v1/events` runs `subscribe=events`
the same way and answers with a stream of Server-Sent Events (ewallet.http.events).

Endpoints are module-level functions that find their collaborators in `app.state` and, for a
typed endpoint, its route in the matched API route; exception handlers are data passed to the
application, starlette style."""

from __future__ import annotations

import asyncio
import importlib.resources
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from ewallet import __version__
from ewallet.domain.errors import EwalletError, InvalidValue
from ewallet.http import events as sse
from ewallet.http.openapi import (
    SECURITY_SCHEMES,
    query_parameters,
    route_path,
    route_request_schema,
    route_security,
)
from ewallet.http.status import STATUS_OF_CODE, status_of, statuses_of
from ewallet.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ewallet.protocol import wire
from ewallet.protocol.answers import Answer, failure, internal_failure, with_id
from ewallet.protocol.envelope import instruction_for
from ewallet.protocol.errors import FrameTooLarge, InvalidInstruction, UnknownAction
from ewallet.routes import AUTH_KEYS, Route, RouteTable
from ewallet.scheduling.events import ConnectionEvents, EventHub
from ewallet.scheduling.scheduler import Scheduler
from ewallet.settings import Settings


class Failure(BaseModel):
    failed: bool = True
    error: str
    code: str


class Health(BaseModel):
    status: str
    database: str
    version: str


@dataclass(frozen=True)
class Collaborators:
    """What the endpoints need, kept in `app.state.ewallet`."""

    settings: Settings
    scheduler: Scheduler
    engine: Engine


#: Where each key a level needs may come from when the body leaves it out.
_HEADER_OF_KEY = {"client_id": "x-ewallet-client-id", "system_key": "x-ewallet-system-key"}


def _collaborators(request: Request) -> Collaborators:
    collaborators: Collaborators = request.app.state.ewallet
    return collaborators


def _peer(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _answer_response(answer: Answer) -> JSONResponse:
    return JSONResponse(answer, status_code=status_of(answer))


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused past the frame limit without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise FrameTooLarge("the request body is larger than the limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FrameTooLarge("the request body is larger than the limit")
        chunks.append(chunk)
    return b"".join(chunks)


# -- endpoints ------------------------------------------------------------------------------------


async def instruction_set(request: Request) -> JSONResponse:
    """One instruction set in the body, judged exactly as a TCP line is."""
    ewallet = _collaborators(request)
    body = await _read_body(request, ewallet.settings.max_frame)
    return _answer_response(await ewallet.scheduler.handle(body, _peer(request)))


async def typed_instruction(request: Request) -> JSONResponse:
    """The parameters in the body; the route is the one this path was declared for."""
    route = request.scope["route"]
    assert isinstance(route, InstructionRoute)
    ewallet = _collaborators(request)
    if request.method == "GET":
        body: Any = _query_parameters(request, route.instruction)
    else:
        raw = await _read_body(request, ewallet.settings.max_frame)
        body = wire.decode(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        # As on TCP: valid JSON that is not an object is not an instruction.
        raise InvalidInstruction("the body must be a JSON object of parameters")
    _ids_from_headers(request, route.instruction, body)
    instruction = instruction_for(route.instruction, body, ewallet.settings.system_key)
    answer = await ewallet.scheduler.run(instruction, _peer(request))
    return _answer_response(with_id(answer, instruction.request_id))


def _ids_from_headers(request: Request, route: Route, body: dict[str, Any]) -> None:
    """The ids the route's level needs, from the headers where the body leaves them out."""
    keys = AUTH_KEYS[route.access]
    for key in keys & _HEADER_OF_KEY.keys():
        if key not in body and (value := request.headers.get(_HEADER_OF_KEY[key])) is not None:
            body[key] = value
    if "session_token" in keys and "session_token" not in body:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            body["session_token"] = token.strip()


async def event_stream(request: Request) -> Response:
    """GET /v1/events: `subscribe=events` with the query's parameters, answered by a stream of
    Server-Sent Events (ewallet.http.events); a failure is answered as by any typed endpoint."""
    route = request.scope["route"]
    assert isinstance(route, EventsRoute)
    ewallet = _collaborators(request)
    body = _query_parameters(request, route.instruction)
    after = sse.last_event_id(request.headers.get("last-event-id"))
    if after is not None:
        body["after"] = after  # an EventSource reconnecting: the header wins over the query
    _ids_from_headers(request, route.instruction, body)
    instruction = instruction_for(route.instruction, body, ewallet.settings.system_key)
    streams: sse.EventStreams = request.app.state.event_streams
    hub: EventHub | None = request.app.state.events
    stream = streams.new()
    # Without a hub the handler refuses: this face then cannot carry events.
    channel = ConnectionEvents(hub, stream) if hub is not None else None
    answer = with_id(await ewallet.scheduler.run(instruction, _peer(request), channel), instruction.request_id)
    if answer.get("failed") is not False or channel is None:
        return _answer_response(answer)
    return sse.EventStreamResponse(streams, stream, channel, answer)


def _query_parameters(request: Request, route: Route) -> dict[str, Any]:
    """A read's parameters (a GET) from the query string, typed as its parameter model
    declares them (the query string has only strings; a list is the parameter repeated, or its
    items separated by commas); ids and tokens only from headers, never from a URL that proxies
    and logs keep."""
    properties = route.params.wire_schema().get("properties", {})
    parameters: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if properties.get(key, {}).get("type") == "array":  # repeated, comma-separated, or both
            parameters.setdefault(key, []).extend(item.strip() for item in value.split(",") if item.strip())
            continue
        if key in parameters:
            raise InvalidValue(f"{key} is given more than once")
        if key in AUTH_KEYS[route.access] | {"client_id", "session_token", "system_key"}:
            raise InvalidValue(f"{key} goes in a header, not in the query string")
        kind = "integer" if key == "id" else properties.get(key, {}).get("type")
        parameters[key] = _typed(value, kind)
    return parameters


def _typed(value: str, kind: str | None) -> Any:
    """The JSON value a query-string value stands for; left a string when it is not one (the
    parameter model then refuses it as the wrong type)."""
    text = value.strip()
    if kind in ("integer", "number") and text.lstrip("-").isdigit():
        return int(text)
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return value
        return number if number == number and abs(number) != float("inf") else value
    return value


async def health(request: Request) -> JSONResponse:
    ewallet = _collaborators(request)

    def probe() -> None:
        with ewallet.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.get_running_loop().run_in_executor(ewallet.scheduler.executor, probe)
        database, status = "ok", 200
    except Exception:
        database, status = "unreachable", 503
    body = Health(status="ok" if status == 200 else "degraded", database=database, version=__version__)
    return JSONResponse(body.model_dump(), status_code=status)


#: The Swagger UI and ReDoc assets come from the fastapi-offline package, which bundles them:
#: /docs and /redoc work without reaching a CDN.
DOCS_ASSETS_URL = "/docs-assets"


def _docs_assets() -> StaticFiles:
    return StaticFiles(directory=str(importlib.resources.files("fastapi_offline") / "static"))


async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="ewallet - Swagger UI",
        swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
    )


async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="ewallet - ReDoc",
        redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process's metrics."""
    registry = _collaborators(request).scheduler.metrics
    body = await asyncio.get_running_loop().run_in_executor(None, registry.exposition)  # it queries the database
    return Response(body, media_type=METRICS_CONTENT_TYPE)


# -- exception handlers ---------------------------------------------------------------------------


async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EwalletError)
    return JSONResponse(failure(exc), status_code=STATUS_OF_CODE.get(exc.code, 500))


def _allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (a read's GET and POST are
    two routes; starlette's own Allow names only the first that matched the path)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = "unknown_action" if exc.status_code in (404, 405) else "invalid_instruction"
    if exc.status_code == 405:
        error = "this endpoint does not answer that method (see the Allow header)"
    else:
        error = "no such endpoint or method"
    body = {"failed": True, "error": error, "code": code}
    # A 405 keeps starlette's Allow header: the methods the endpoint does answer.
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(failure(UnknownAction("the request does not fit this endpoint")), status_code=400)


async def on_disconnect(_: Request, exc: Exception) -> Response:
    # The connection went away mid-body (the client, or the frame timeout): no one to answer.
    return Response(status_code=400)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(internal_failure(exc, f"HTTP {request.method} {request.url.path}"), status_code=500)


ExceptionHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]
EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    EwalletError: on_domain_error,
    StarletteHTTPException: on_http_error,
    RequestValidationError: on_validation_error,
    ClientDisconnect: on_disconnect,
    Exception: on_unexpected,
}


# -- routes ---------------------------------------------------------------------------------------

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Failure, "description": f"failure ({status})"} for status in sorted(set(STATUS_OF_CODE.values()))
}


class InstructionRoute(APIRoute):
    """The typed endpoint of one instruction: its path, body schema and answers come from the
    route, and the endpoint finds the route here rather than parsing an envelope again."""

    def __init__(self, route: Route, method: str = "POST") -> None:
        self.instruction = route
        statuses = statuses_of(route)
        responses: dict[int | str, dict[str, Any]] = {
            status: value for status, value in _ERROR_RESPONSES.items() if status in statuses
        }
        if route.reply is not None:
            responses[200] = {"model": route.reply, "description": "success"}
        operation_id = route_path(route).strip("/").replace("/", "_").replace("-", "_")
        if method == "GET":
            operation_id += "_get"
            extra: dict[str, Any] = {"parameters": query_parameters(route), "security": route_security(route)}
        else:
            extra = {"requestBody": route_request_schema(route), "security": route_security(route)}
        super().__init__(
            route_path(route),
            typed_instruction,
            methods=[method],
            summary=route.summary or route.name,
            description=f"`{route.name}` (permission level: {route.access.value})",
            operation_id=operation_id,
            responses=responses,
            openapi_extra=extra,
            tags=[route.controller],
        )


class EventsRoute(APIRoute):
    """GET /v1/events: the `subscribe=events` instruction answered by an event stream."""

    def __init__(self, route: Route) -> None:
        self.instruction = route
        responses: dict[int | str, dict[str, Any]] = {
            status: value for status, value in _ERROR_RESPONSES.items() if status in statuses_of(route)
        }
        responses[200] = sse.STREAM_RESPONSE
        super().__init__(
            sse.PATH,
            event_stream,
            methods=["GET"],
            # No media type of its own: the errors are documented as JSON, the 200 as a stream.
            response_class=Response,
            summary=route.summary,
            description=sse.DESCRIPTION,
            operation_id="v1_events_get",
            responses=responses,
            openapi_extra={
                "parameters": sse.openapi_parameters(query_parameters(route)),
                "security": route_security(route),
            },
            tags=[route.controller],
        )


def _fixed_routes() -> list[BaseRoute]:
    return [
        APIRoute("/docs", swagger_ui, methods=["GET"], include_in_schema=False),
        APIRoute("/redoc", redoc, methods=["GET"], include_in_schema=False),
        Mount(DOCS_ASSETS_URL, app=_docs_assets(), name="docs-assets"),
        APIRoute(
            "/ewallet/instruction-set",
            instruction_set,
            methods=["POST"],
            summary="Run one instruction set",
            responses={200: {"description": "success: the instruction's keys and failed=false"}, **_ERROR_RESPONSES},
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
                }
            },
        ),
        APIRoute("/health", health, methods=["GET"], response_model=Health, responses={503: {"model": Health}}),
        APIRoute("/metrics", metrics, methods=["GET"], include_in_schema=False),
    ]


def _instruction_routes(table: RouteTable) -> list[InstructionRoute]:
    """POST for every instruction; GET too for the reads (parameters in the query). None for
    an instruction whose answer alone is useless over HTTP (`Route.typed_http`)."""
    typed = [route for route in table.routes if route.typed_http]
    routes = [InstructionRoute(route) for route in typed]
    routes += [InstructionRoute(route, "GET") for route in typed if route.answers_get]
    return routes


def _events_routes(table: RouteTable) -> list[EventsRoute]:
    subscribe = table.resolve("client", "subscribe", {"subscribe": "events"})
    return [EventsRoute(subscribe)] if subscribe is not None else []


def build_http_app(
    settings: Settings, table: RouteTable, scheduler: Scheduler, engine: Engine, hub: EventHub | None = None
) -> FastAPI:
    app = FastAPI(
        title="ewallet",
        version=__version__,
        description="The ewallet instruction set over HTTP. Every answer is the JSON object the TCP server gives.",
        routes=[*_fixed_routes(), *_instruction_routes(table), *_events_routes(table)],
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.ewallet = Collaborators(settings, scheduler, engine)
    #: Where GET /v1/events subscriptions come from.
    app.state.events = hub
    #: The open GET /v1/events streams (the face ends them when it stops).
    app.state.event_streams = sse.EventStreams()
    _declare_security_schemes(app)
    return app


def _declare_security_schemes(app: FastAPI) -> None:
    """FastAPI lists security schemes only for dependencies; the typed endpoints read their
    headers themselves, so the schemes are added to the generated document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # built once and cached by FastAPI; adding the schemes is idempotent
        document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        return document

    app.openapi = openapi  # type: ignore[method-assign]
