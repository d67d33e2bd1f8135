"""Lifetimes (§5.1-§5.3), driven by the ManualClock: an unused client id and a session that
never logged in live one hour, a session 24 hours; expiration_date only shortens."""

from datetime import timedelta

from ewallet.schemas.values import format_timestamp
from tests.probes import counts, line, session_id_of, system_line
from tests.support import LineClient, Running, running_server

HOUR = 3600


async def token_for(client: LineClient, client_id: str, **extra: object) -> dict:
    answer = await client.raw(line(action="request", request="session_token", client_id=client_id, **extra))
    assert answer is not None
    return answer


async def new_client_id(client: LineClient) -> str:
    return (await client.call(action="request", request="client_id"))["client_id"]


async def stored_expiry(server: Running, client: LineClient, token: str) -> str:
    answer = await client.raw(
        system_line(action="interogate", interogate="session", session_id=session_id_of(server, token))
    )
    assert answer is not None and answer["failed"] is False, answer
    return answer["session_data"]["expiration_date"]


class TestUnusedClientIds:
    async def test_an_unused_client_id_lives_just_under_an_hour(self, server: Running) -> None:
        client = await server.client()
        client_id = await new_client_id(client)
        server.clock.advance(HOUR - 1)
        assert (await token_for(client, client_id))["failed"] is False

    async def test_an_unused_client_id_expires_after_an_hour(self, server: Running) -> None:
        client = await server.client()
        client_id = await new_client_id(client)
        server.clock.advance(HOUR + 1)
        before = counts(server)
        assert (await token_for(client, client_id))["code"] == "unauthorized"
        assert counts(server) == before


class TestSessionLifetime:
    async def test_a_session_never_logged_in_expires_after_an_hour(self, server: Running) -> None:
        client = await server.session()
        server.clock.advance(HOUR - 1)
        assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
        server.clock.advance(2)
        assert (await client.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_a_logged_in_session_lives_24_hours(self, server: Running) -> None:
        client = await server.user()
        server.clock.advance(24 * HOUR - 60)
        assert (await client.call(action="view", view="account"))["failed"] is False
        server.clock.advance(61)
        assert (await client.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_after_expiry_the_client_id_gets_a_new_empty_session(self, server: Running) -> None:
        client = await server.user()
        old_token = client.session_token
        server.clock.advance(24 * HOUR + 1)
        answer = await token_for(client, client.client_id)  # type: ignore[arg-type]
        assert answer["failed"] is False
        assert answer["session_token"] != old_token
        client.session_token = answer["session_token"]
        assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
        assert (await client.call(action="view", view="account", session_token=old_token))["code"] == "unauthorized"

    async def test_a_dead_token_frees_its_client_id_for_another(self, server: Running) -> None:
        client = await server.session()
        server.clock.advance(HOUR + 1)
        assert (await token_for(client, client.client_id))["failed"] is False  # type: ignore[arg-type]
        assert (await token_for(client, client.client_id))["code"] == "already_mapped"  # type: ignore[arg-type]


class TestExpirationDate:
    async def test_a_later_date_is_clamped_to_the_default_lifetime(self, server: Running) -> None:
        client = await server.client()
        answer = await token_for(client, await new_client_id(client), expiration_date="01-01-2100 00:00:00")
        assert answer["failed"] is False
        expected = format_timestamp(server.clock.now() + timedelta(hours=24))
        assert await stored_expiry(server, client, answer["session_token"]) == expected

    async def test_an_earlier_date_shortens_the_session(self, server: Running) -> None:
        client = await server.client()
        client_id = await new_client_id(client)
        soon = format_timestamp(server.clock.now() + timedelta(minutes=30))
        answer = await token_for(client, client_id, expiration_date=soon)
        assert answer["failed"] is False
        assert await stored_expiry(server, client, answer["session_token"]) == soon
        client.client_id, client.session_token = client_id, answer["session_token"]
        server.clock.advance(29 * 60)
        assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
        server.clock.advance(2 * 60)
        assert (await client.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_a_past_date_gives_an_already_expired_session(self, server: Running) -> None:
        client = await server.client()
        client_id = await new_client_id(client)
        past = format_timestamp(server.clock.now() - timedelta(minutes=1))
        answer = await token_for(client, client_id, expiration_date=past)
        assert answer["failed"] is False
        client.client_id, client.session_token = client_id, answer["session_token"]
        assert (await client.call(action="view", view="account"))["code"] == "unauthorized"
        # The dead token does not hold the client id.
        assert (await token_for(client, client_id))["failed"] is False

    async def test_a_date_before_the_year_1000_is_past_too(self, any_server: Running) -> None:
        client = await any_server.client()
        client_id = await new_client_id(client)
        answer = await token_for(client, client_id, expiration_date="01-01-0999 00:00:00")
        assert answer["failed"] is False
        client.client_id, client.session_token = client_id, answer["session_token"]
        assert (await client.call(action="view", view="account"))["code"] == "unauthorized"
        assert (await token_for(client, client_id))["failed"] is False


class TestExpirationDateAtTheEndsOfTime:
    """In a zone east of UTC, 01-01-0001 00:00 is before the year 1 in UTC; west of it,
    31-12-9999 23:00 is after the year 9999: both used to answer internal_error."""

    async def test_the_first_day_of_year_one_gives_an_already_expired_session(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, timezone="Asia/Tokyo") as running:
            client = await running.client()
            client_id = await new_client_id(client)
            answer = await token_for(client, client_id, expiration_date="01-01-0001 00:00:00")
            assert answer["failed"] is False, answer
            client.client_id, client.session_token = client_id, answer["session_token"]
            assert (await client.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_the_last_day_of_year_9999_is_clamped_to_the_default_lifetime(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, timezone="America/New_York") as running:
            client = await running.client()
            answer = await token_for(client, await new_client_id(client), expiration_date="31-12-9999 23:00:00")
            assert answer["failed"] is False, answer
            expected = format_timestamp(running.clock.now() + timedelta(hours=24), running.app.settings.zone)
            assert await stored_expiry(running, client, answer["session_token"]) == expected
