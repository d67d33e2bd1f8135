"""/openapi.json describes every instruction of the route table: its path, its request body, its
200 response model and the statuses it can answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ewallet.handlers import build_route_table
from ewallet.http.openapi import route_path
from ewallet.http.status import STATUS_OF_CODE
from ewallet.routes import Access

#: The instructions with a typed endpoint (subscribe and unsubscribe have GET /v1/events instead).
ROUTES = [route for route in build_route_table().routes if route.typed_http]


@pytest.fixture
async def document(raw_http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await raw_http.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


class TestOpenApiDocument:
    async def test_lists_every_route_of_the_table_once_plus_the_generic_endpoint_and_health(
        self, document: dict[str, Any]
    ) -> None:
        typed = {route_path(route) for route in ROUTES}
        assert len(typed) == len(ROUTES)
        assert set(document["paths"]) == typed | {"/ewallet/instruction-set", "/health", "/v1/events"}
        for route in ROUTES:
            assert list(document["paths"][route_path(route)]) == (["post", "get"] if route.answers_get else ["post"]), (
                route.name
            )

    async def test_every_instruction_has_its_request_schema_and_its_200_model(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            operation = document["paths"][route_path(route)]["post"]
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body["additionalProperties"] is False, route.name
            assert set(route.params.model_fields) <= set(body["properties"]), route.name
            success = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
            assert "failed" in success["properties"], route.name
            assert route.reply is not None
            wire_names = {field.serialization_alias or name for name, field in route.reply.model_fields.items()}
            assert set(success["properties"]) == wire_names, route.name

    async def test_transfer_credits_is_described_in_wire_spelling(self, document: dict[str, Any]) -> None:
        operation = document["paths"]["/v1/transfer/credits"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert {"credits", "transfer_to", "client_id", "session_token", "id"} <= set(body["properties"])
        assert set(body["required"]) == {"credits", "transfer_to"}
        success = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
        assert {"transfered_to", "transfered_credits", "ewallet_credits", "transfer_record"} <= set(
            success["properties"]
        )

    async def test_the_live_clock_is_a_post_with_its_answer_keys(self, document: dict[str, Any]) -> None:
        path = document["paths"]["/v1/view/clock-timer"]
        assert list(path) == ["post"]  # it settles a run-out timer: a write, so no GET
        success = resolve(document, path["post"]["responses"]["200"]["content"]["application/json"]["schema"])
        assert set(success["properties"]) == {
            "failed", "clock", "clock_state", "credit_clock", "remaining_minutes", "elapsed_minutes",
            "pending_minutes", "start_timestamp", "expected_stop",
        }  # fmt: skip
        stop = success["properties"]["expected_stop"]
        assert {"type": "null"} in stop["anyOf"] and {"type": "string"} in [
            {"type": kind["type"]} for kind in stop["anyOf"]
        ]

    async def test_auth_keys_follow_the_permission_level(self, document: dict[str, Any]) -> None:
        for route in ROUTES:
            operation = document["paths"][route_path(route)]["post"]
            properties = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
            assert ("system_key" in properties) is (route.access is Access.SYSTEM), route.name
            needs_session = route.access in (Access.SESSION, Access.USER, Access.OWNER)
            # System cleanup takes client_id/session_token as targets; ping accepts and ignores
            # them (PROTOCOL §12).
            if route.access is not Access.SYSTEM and route.name != "client ping":
                assert ("session_token" in properties) is needs_session, route.name

    async def test_the_id_headers_are_declared_as_security_schemes(self, document: dict[str, Any]) -> None:
        schemes = document["components"]["securitySchemes"]
        assert schemes["clientId"] == {"type": "apiKey", "in": "header", "name": "X-EWallet-Client-Id"}
        assert (schemes["sessionToken"]["type"], schemes["sessionToken"]["scheme"]) == ("http", "bearer")
        assert schemes["systemKey"] == {"type": "apiKey", "in": "header", "name": "X-EWallet-System-Key"}
        by_level = {
            Access.ANONYMOUS: [],
            Access.CLIENT: [{"clientId": []}, {}],
            Access.SESSION: [{"clientId": [], "sessionToken": []}, {}],
            Access.SYSTEM: [{"systemKey": []}, {}],
        }
        by_level[Access.USER] = by_level[Access.OWNER] = by_level[Access.SESSION]
        for route in ROUTES:
            # `{}`: the alternative of sending the same keys in the body.
            assert document["paths"][route_path(route)]["post"]["security"] == by_level[route.access], route.name

    async def test_every_operation_declares_its_statuses_with_the_failure_model(self, document: dict[str, Any]) -> None:
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                statuses = {int(status) for status in operation["responses"]}
                assert 200 in statuses, (method, path)
                if path == "/health":
                    continue
                assert {400, 413, 429, 500, 503} <= statuses, path
                if path == "/v1/events":
                    continue  # its 200 is a stream, its failures JSON: see the test below
                for status in statuses - {200}:
                    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Failure"}, (path, status)

    async def test_statuses_follow_what_the_level_can_meet(self, document: dict[str, Any]) -> None:
        def declared(path: str) -> set[int]:
            return {int(status) for status in document["paths"][path]["post"]["responses"]}

        assert declared("/v1/request/client-id") == {200, 400, 413, 429, 500, 503}
        assert declared("/v1/request/session-token") == {200, 400, 401, 409, 413, 429, 500, 503}
        assert declared("/ewallet/instruction-set") == {200, *STATUS_OF_CODE.values()}
        assert declared("/v1/transfer/credits") == {200, *STATUS_OF_CODE.values()}

    async def test_get_events_is_described_as_an_event_stream_with_its_parameters(
        self, document: dict[str, Any]
    ) -> None:
        assert list(document["paths"]["/v1/events"]) == ["get"]
        operation = document["paths"]["/v1/events"]["get"]
        assert operation["responses"]["200"]["content"] == {"text/event-stream": {"schema": {"type": "string"}}}
        assert {int(status) for status in operation["responses"]} == {200, 400, 401, 403, 404, 409, 413, 429, 500, 503}
        for status, response in operation["responses"].items():
            if status != "200":
                assert response["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Failure"}}}
        parameters = {(p["in"], p["name"]): p for p in operation["parameters"]}
        assert set(parameters) == {
            ("query", "after"),
            ("query", "kinds"),
            ("query", "clock_low_minutes"),
            ("query", "id"),
            ("header", "Last-Event-ID"),
        }
        kinds = parameters[("query", "kinds")]
        assert kinds["schema"]["items"]["enum"] == ["credits_received", "login", "clock_low", "timer_stopped"]
        assert kinds["explode"] is True and "comma" in kinds["description"]
        assert operation["security"] == [{"clientId": [], "sessionToken": []}, {}]
        assert "Last-Event-ID" in operation["description"] and "event: subscribed" in operation["description"]
        # No typed endpoint for what an HTTP answer cannot carry.
        assert "/v1/subscribe/events" not in document["paths"]
        assert "/v1/unsubscribe/events" not in document["paths"]
