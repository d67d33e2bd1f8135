"""The HTTP face's API docs work offline (assets served from the fastapi-offline package, never a
CDN), a 405 says which methods the endpoint answers, read-only instructions also answer GET, and
the OpenAPI document declares nothing the server refuses (no null where null is refused)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ewallet.handlers import build_route_table
from ewallet.http.openapi import route_path
from tests.http.helpers import Http, ok, refused

ROUTES = [route for route in build_route_table().routes if route.typed_http]


class TestOfflineDocs:
    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    async def test_the_page_loads_every_asset_from_this_server(self, raw_http: httpx.AsyncClient, page: str) -> None:
        answer = await raw_http.get(page)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", answer.text)
        scripts = [url for url in assets if url.endswith((".js", ".css"))]
        assert scripts, answer.text
        for url in assets:
            assert url.startswith("/"), f"{page} loads {url} from another host"
            asset = await raw_http.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert "cdn" not in answer.text.lower() and "fonts.googleapis" not in answer.text


class TestMethods:
    async def test_a_405_names_the_methods_the_endpoint_answers(self, raw_http: httpx.AsyncClient) -> None:
        answer = await raw_http.get("/v1/pay")
        refused(answer, 405, "unknown_action")
        assert answer.headers["allow"] == "POST"
        answer = await raw_http.delete("/v1/view/account")
        assert answer.status_code == 405
        assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}

    async def test_a_read_only_instruction_answers_get_with_ids_from_headers(self, http: Http) -> None:
        email = await http.new_user()
        by_post = ok(await http.typed("/v1/view/account"), "account", "account_data")
        by_get = ok(await http.client.get("/v1/view/account", headers=http.session_headers), "account", "account_data")
        assert by_get == by_post and by_get["account"] == email

    async def test_get_takes_parameters_from_the_query_string_typed(self, http: Http) -> None:
        await http.new_user()
        supplied = ok(await http.typed("/v1/supply/credits", credits=5))
        record = supplied["transfer_record"]
        answer = await http.client.get(
            "/v1/view/transfer/record", params={"record_id": str(record), "id": "7"}, headers=http.session_headers
        )
        body = ok(answer)
        assert body["transfer_record"] == record and body["id"] == 7
        answer = await http.client.get(
            "/v1/view/transfer/record", params={"record_id": "seven"}, headers=http.session_headers
        )
        refused(answer, 400, "invalid_value")
        answer = await http.client.get("/v1/view/transfer/record", headers=http.session_headers)
        refused(answer, 400, "missing_field")

    async def test_get_refuses_tokens_in_the_url(self, http: Http) -> None:
        await http.new_user()
        assert http.session_token is not None
        answer = await http.client.get(
            "/v1/view/account", params={"session_token": http.session_token}, headers=http.session_headers
        )
        body = refused(answer, 400, "invalid_value")
        assert http.session_token not in body["error"]

    async def test_only_reads_answer_get(self, raw_http: httpx.AsyncClient) -> None:
        document = (await raw_http.get("/openapi.json")).json()
        for route in ROUTES:
            methods = set(document["paths"][route_path(route)])
            assert methods == ({"post", "get"} if route.answers_get else {"post"}), route.name


def admits_null(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null" or schema.get("nullable") is True:
        return True
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        return True
    return any(admits_null(branch) for key in ("anyOf", "oneOf") for branch in schema.get(key, []))


def declared_parameters(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, name, schema) of every request parameter the document declares."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for name, schema in body.get("properties", {}).items():
                found.append((method, path, name, schema))
            for parameter in operation.get("parameters", []):
                found.append((method, path, parameter["name"], parameter["schema"]))
    return found


class TestTheDocumentSaysWhatTheServerAccepts:
    async def test_declares_no_parameter_nullable(self, raw_http: httpx.AsyncClient) -> None:
        document = (await raw_http.get("/openapi.json")).json()
        parameters = declared_parameters(document)
        assert len(parameters) > 100
        nullable = [
            f"{method.upper()} {path} {name}" for method, path, name, schema in parameters if admits_null(schema)
        ]
        assert not nullable, f"declared nullable, refused as null by the server: {nullable}"

    async def test_every_parameter_the_document_allows_as_null_is_taken_as_null(self, http: Http) -> None:
        """Drift check against the live server: wherever the document admits null, sending null
        must not be refused as null (today it admits none; a model change that adds one fails)."""
        await http.new_user()
        document = (await http.client.get("/openapi.json")).json()
        for method, path, name, schema in declared_parameters(document):
            if method != "post" or not admits_null(schema) or path == "/ewallet/instruction-set":
                continue
            answer = (await http.typed(path, **{name: None})).json()
            assert "must not be null" not in answer.get("error", ""), (path, name, answer)

    async def test_a_parameter_given_as_null_is_refused_as_the_document_says(self, http: Http) -> None:
        await http.new_user()
        answer = await http.typed("/v1/new/credit/ewallet", reference=None)
        refused(answer, 400, "invalid_value")
