"""request client_id and request session_token (§5.1, §5.2)."""

import asyncio
import hashlib
import re
from pathlib import Path

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from ewallet.storage.models import EwalletSession
from tests.probes import counts, line, session_id_of
from tests.support import LineClient, Running

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


class TestClientIds:
    async def test_issues_a_prefixed_url_safe_id_of_at_least_128_bits(self, server: Running) -> None:
        client = await server.client()
        answer = await client.call(action="request", request="client_id")
        assert set(answer) == {"failed", "client_id"}
        prefix, _, body = answer["client_id"].partition(":")
        assert prefix == "ewsm-uid"
        assert URL_SAFE.match(body)
        assert len(body) * 6 >= 128
        await client.close()

    async def test_every_id_is_new(self, server: Running) -> None:
        client = await server.client()
        ids = {(await client.call(action="request", request="client_id"))["client_id"] for _ in range(50)}
        assert len(ids) == 50
        await client.close()


class TestSessionTokens:
    async def test_issues_a_prefixed_token_of_at_least_256_bits(self, server: Running) -> None:
        client = await server.client()
        client_id = (await client.call(action="request", request="client_id"))["client_id"]
        answer = await client.call(action="request", request="session_token", client_id=client_id)
        assert set(answer) == {"failed", "session_token"}
        prefix, _, body = answer["session_token"].partition(":")
        assert prefix == "ewsm-st"
        assert URL_SAFE.match(body)
        assert len(body) * 6 >= 256
        await client.close()

    async def test_the_token_opens_its_session(self, server: Running) -> None:
        client = await server.session()
        assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
        await client.close()

    async def test_refuses_a_second_token_while_the_first_lives(self, server: Running) -> None:
        client = await server.session()
        before = counts(server)
        answer = await client.raw(line(action="request", request="session_token", client_id=client.client_id))
        assert answer is not None and answer["code"] == "already_mapped"
        assert set(answer) == {"failed", "error", "code"}
        assert counts(server) == before
        assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
        await client.close()

    async def test_refuses_a_missing_or_unknown_client_id(self, server: Running) -> None:
        client = await server.client()
        before = counts(server)
        for client_id in (None, "", "ewsm-uid:unknown", 12, ["ewsm-uid:x"]):
            extra = {} if client_id is None else {"client_id": client_id}
            answer = await client.call(action="request", request="session_token", **extra)
            assert answer["code"] == "unauthorized", client_id
        assert counts(server) == before
        await client.close()

    async def test_refuses_an_unknown_parameter_and_maps_nothing(self, server: Running) -> None:
        client = await server.client()
        client_id = (await client.call(action="request", request="client_id"))["client_id"]
        before = counts(server)
        answer = await client.call(action="request", request="session_token", client_id=client_id, user_pass="x")
        assert answer["code"] == "invalid_value"
        assert "user_pass" in answer["error"]
        assert counts(server) == before
        assert (await client.call(action="request", request="session_token", client_id=client_id))["failed"] is False
        await client.close()

    async def test_refuses_a_badly_formatted_expiration_date(self, server: Running) -> None:
        client = await server.client()
        client_id = (await client.call(action="request", request="client_id"))["client_id"]
        before = counts(server)
        for value in ("2030-01-01 00:00:00", "31-02-2030 00:00:00", "1-1-2030 00:00:00", 1700000000):
            answer = await client.call(
                action="request", request="session_token", client_id=client_id, expiration_date=value
            )
            assert answer["code"] == "invalid_value", value
        assert counts(server) == before
        await client.close()


class TestTokenStorage:
    async def test_stores_only_the_sha256_digest_of_the_token(self, any_server: Running) -> None:
        client = await any_server.session()
        token = client.session_token
        assert token is not None
        digest = hashlib.sha256(token.encode()).digest()
        secret = token.split(":", 1)[1]
        engine = any_server.app.engine
        with engine.connect() as conn:
            stored = conn.scalar(
                select(EwalletSession.token_digest).where(EwalletSession.id == session_id_of(any_server, token))
            )
            assert bytes(stored) == digest
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        as_text = value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                        assert secret not in as_text, f"the token appears in {table}"
        url = make_url(any_server.database_url)
        if url.get_backend_name() == "sqlite":
            for path in Path(url.database).parent.glob(Path(url.database).name + "*"):  # the file, -wal, -shm
                assert secret.encode() not in path.read_bytes(), path.name
        await client.close()


class TestTokenBinding:
    async def test_a_token_with_another_client_id_is_unauthorized(self, server: Running) -> None:
        owner = await server.session()
        other = await server.session()
        answer = await other.call(action="view", view="account", session_token=owner.session_token)
        assert answer["code"] == "unauthorized"
        # Both sessions still work with their own pair.
        assert (await owner.call(action="view", view="account"))["code"] == "not_logged_in"
        assert (await other.call(action="view", view="account"))["code"] == "not_logged_in"
        await owner.close()
        await other.close()

    async def test_a_token_with_an_unmapped_client_id_is_unauthorized(self, server: Running) -> None:
        owner = await server.session()
        stranger = await server.client()
        stranger_id = (await stranger.call(action="request", request="client_id"))["client_id"]
        answer = await stranger.call(
            action="view", view="account", client_id=stranger_id, session_token=owner.session_token
        )
        assert answer["code"] == "unauthorized"
        await owner.close()
        await stranger.close()

    async def test_unknown_or_malformed_credentials_are_unauthorized(self, server: Running) -> None:
        client = await server.session()
        cases = [
            {"session_token": "ewsm-st:unknown"},
            {"session_token": client.session_token + "x"},  # type: ignore[operator]
            {"client_id": "ewsm-uid:unknown"},
            {"session_token": 5},
            {"client_id": None},
        ]
        for case in cases:
            assert (await client.call(action="view", view="account", **case))["code"] == "unauthorized", case
        raw = line(action="view", view="account", client_id=client.client_id)  # no token at all
        assert (await client.raw(raw))["code"] == "unauthorized"  # type: ignore[index]
        await client.close()


class TestConcurrentTokenRequests:
    async def test_ten_concurrent_requests_give_exactly_one_token(self, any_server: Running) -> None:
        first = await any_server.client()
        client_id = (await first.call(action="request", request="client_id"))["client_id"]
        clients = [await any_server.client() for _ in range(10)]
        request = line(action="request", request="session_token", client_id=client_id)
        answers = await asyncio.gather(*(c.raw(request) for c in clients))
        winners = [a for a in answers if a and a["failed"] is False]
        assert len(winners) == 1
        assert sorted(a["code"] for a in answers if a and a["failed"]) == ["already_mapped"] * 9
        assert counts(any_server)["sessions"] == 1
        assert sum(len(w.sessions) for w in any_server.app.services.workers.snapshot()) == 1
        await asyncio.gather(first.close(), *(c.close() for c in clients))

    async def test_concurrent_requests_for_different_ids_all_succeed(self, any_server: Running) -> None:
        clients: list[LineClient] = [await any_server.client() for _ in range(10)]
        await asyncio.gather(*(c.open_session() for c in clients))
        assert counts(any_server)["sessions"] == 10
        await asyncio.gather(*(c.close() for c in clients))
