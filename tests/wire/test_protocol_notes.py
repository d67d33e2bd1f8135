"""Decisions the README's protocol notes record where PROTOCOL.md is silent (the others are
pinned next to the behaviour they refine: persistence, errors, rate limit, expiry, limits)."""

from tests.probes import counts, line
from tests.support import Running


class TestOverlongPassword:
    async def test_a_user_pass_over_128_characters_is_invalid_value_not_weak_password(self, server: Running) -> None:
        client = await server.session()
        before = counts(server)
        answer = await client.call(
            action="new",
            new="account",
            user_name="Longpass",
            user_pass="Aa1!" * 33,
            user_email="longpass@example.com",
        )
        assert answer["code"] == "invalid_value"
        assert "user_pass" in answer["error"]
        assert "Aa1!" not in answer["error"]
        assert counts(server) == before


class TestOnlyListedKeys:
    async def test_a_session_token_on_request_session_token_is_an_unknown_key(self, server: Running) -> None:
        client = await server.client()
        client_id = (await client.call(action="request", request="client_id"))["client_id"]
        before = counts(server)
        request = line(action="request", request="session_token", client_id=client_id, session_token="ewsm-st:x")
        answer = await client.raw(request)
        assert answer is not None and answer["code"] == "invalid_value"
        assert counts(server) == before
