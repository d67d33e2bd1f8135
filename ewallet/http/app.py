"""The FastAPI application. `POST /ewallet/instruction-set` takes one instruction set as the TCP
server does; a typed endpoint per instruction (`POST /v1/<action>/<target...>`) takes its
parameters, with client id and token from the body or from `X-EWallet-Client-Id` and
`Authorization: Bearer <token>`. Both hand the request to the scheduler, so a session
opened over TCP works over HTTP and the other way round."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from ewallet import __version__
from ewallet.domain.errors import EwalletError
from ewallet.http.openapi import SECURITY_SCHEMES, route_path, route_request_schema, route_security
from ewallet.http.status import STATUS_OF_CODE, status_of, statuses_of
from ewallet.protocol.envelope import failure
from ewallet.protocol.errors import FrameTooLarge, InvalidInstruction, UnknownAction
from ewallet.routes import AUTH_KEYS, Route, RouteTable
from ewallet.scheduling.scheduler import Scheduler
from ewallet.settings import Settings
from ewallet.transport import wire

log = logging.getLogger(__name__)


class Failure(BaseModel):
    failed: bool = True
    error: str
    code: str


class Health(BaseModel):
    status: str
    database: str
    version: str


def _error_response(error: EwalletError) -> JSONResponse:
    return JSONResponse(failure(error), status_code=STATUS_OF_CODE.get(error.code, 500))


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


def _peer(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def build_http_app(settings: Settings, table: RouteTable, scheduler: Scheduler, engine: Engine) -> FastAPI:
    app = FastAPI(
        title="ewallet",
        version=__version__,
        description="The ewallet instruction set over HTTP. Every answer is the JSON object the TCP server gives.",
    )

    async def answer(request: Request, obj: Any) -> JSONResponse:
        result = await scheduler.handle_request(obj, _peer(request))
        return JSONResponse(result, status_code=status_of(result))

    @app.exception_handler(EwalletError)
    async def on_domain_error(_: Request, exc: EwalletError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "unknown_action" if exc.status_code in (404, 405) else "invalid_instruction"
        body = {"failed": True, "error": "no such endpoint or method", "code": code}
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(failure(UnknownAction("the request does not fit this endpoint")), status_code=400)

    @app.exception_handler(ClientDisconnect)
    async def on_disconnect(_: Request, exc: ClientDisconnect) -> Response:
        # The connection went away mid-body (the client, or the frame timeout): no one to answer.
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error in the HTTP face", exc_info=exc)
        return JSONResponse({"failed": True, "error": "internal error", "code": "internal_error"}, status_code=500)

    error_responses: dict[int | str, dict[str, Any]] = {
        status: {"model": Failure, "description": f"failure ({status})"}
        for status in sorted(set(STATUS_OF_CODE.values()))
    }

    @app.post(
        "/ewallet/instruction-set",
        summary="Run one instruction set",
        responses={200: {"description": "success: the instruction's keys and failed=false"}, **error_responses},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
            }
        },
    )
    async def instruction_set(request: Request) -> JSONResponse:
        body = await _read_body(request, settings.max_frame)
        return await answer(request, body)

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    async def health() -> JSONResponse:
        def probe() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await asyncio.get_running_loop().run_in_executor(scheduler.executor, probe)
            database, status = "ok", 200
        except Exception:
            database, status = "unreachable", 503
        body = Health(status="ok" if status == 200 else "degraded", database=database, version=__version__)
        return JSONResponse(body.model_dump(), status_code=status)

    for route in table.routes:
        _add_typed_endpoint(app, route, answer, settings, error_responses)
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


def _add_typed_endpoint(
    app: FastAPI, route: Route, answer: Any, settings: Settings, error_responses: dict[int | str, dict[str, Any]]
) -> None:
    envelope: dict[str, Any] = {"controller": route.controller, "ctype": "action", "action": route.action}
    if route.target is not None:
        head, _, tail = route.target.partition(".")
        envelope[route.action] = head
        if tail:
            envelope[head] = tail
    auth_keys = AUTH_KEYS[route.access]

    async def endpoint(request: Request) -> JSONResponse:
        raw = await _read_body(request, settings.max_frame)
        body = wire.decode(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            # As on TCP (§2 step 3): valid JSON that is not an object is not an instruction.
            raise InvalidInstruction("the body must be a JSON object of parameters")
        instruction = {**body, **envelope}
        if "client_id" in auth_keys and "client_id" not in body:
            client_id = request.headers.get("x-ewallet-client-id")
            if client_id is not None:
                instruction["client_id"] = client_id
        if "session_token" in auth_keys and "session_token" not in body:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token:
                instruction["session_token"] = token.strip()
        if "system_key" in auth_keys and "system_key" not in body:
            key = request.headers.get("x-ewallet-system-key")
            if key is not None:
                instruction["system_key"] = key
        return await answer(request, instruction)

    statuses = statuses_of(route)
    responses: dict[int | str, dict[str, Any]] = {
        status: value for status, value in error_responses.items() if status in statuses
    }
    if route.reply is not None:
        responses[200] = {"model": route.reply, "description": "success"}
    app.add_api_route(
        route_path(route),
        endpoint,
        methods=["POST"],
        summary=route.summary or route.name,
        description=f"`{route.name}` (permission level: {route.access.value})",
        operation_id=route_path(route).strip("/").replace("/", "_").replace("-", "_"),
        responses=responses,
        openapi_extra={"requestBody": route_request_schema(route), "security": route_security(route)},
        tags=[route.controller],
    )
