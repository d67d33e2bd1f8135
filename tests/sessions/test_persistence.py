"""Sessions live in the database (§5.3): a restart, or a second server process on the same
database, keeps them. Runs on SQLite and on PostgreSQL."""

from tests.probes import line, session_id_of, system_line
from tests.support import running_server


class TestRestart:
    async def test_a_token_still_authenticates_after_a_restart(self, database_url: str) -> None:
        async with running_server(database_url) as first:
            client = await first.session()
            client_id, token = client.client_id, client.session_token
        async with running_server(database_url) as second:
            client = await second.client()
            answer = await client.raw(line(action="view", view="account", client_id=client_id, session_token=token))
            assert answer is not None and answer["code"] == "not_logged_in"

    async def test_the_client_id_stays_mapped_after_a_restart(self, database_url: str) -> None:
        async with running_server(database_url) as first:
            client = await first.session()
            client_id = client.client_id
        async with running_server(database_url) as second:
            client = await second.client()
            answer = await client.raw(line(action="request", request="session_token", client_id=client_id))
            assert answer is not None and answer["code"] == "already_mapped"

    async def test_the_login_stack_survives_a_restart(self, database_url: str) -> None:
        async with running_server(database_url) as first:
            user = await first.user(name="Survivor")
            client_id, token = user.client_id, user.session_token
        async with running_server(database_url) as second:
            client = await second.client()
            client.client_id, client.session_token = client_id, token
            answer = await client.call(action="view", view="account")
            assert answer["failed"] is False
            assert answer["account"] == "survivor@example.com"

    async def test_an_adopted_session_joins_a_worker_and_is_never_refused(self, database_url: str) -> None:
        async with running_server(database_url) as first:
            clients = [await first.session() for _ in range(2)]
            pairs = [(c.client_id, c.session_token) for c in clients]
        async with running_server(database_url, session_limit=1, worker_limit=1) as second:
            client = await second.client()
            for client_id, token in pairs:  # two adopted sessions, room for one: both are served
                answer = await client.raw(line(action="view", view="account", client_id=client_id, session_token=token))
                assert answer is not None and answer["code"] == "not_logged_in"
            session_id = session_id_of(second, pairs[0][1])  # type: ignore[arg-type]
            answer = await client.raw(system_line(action="interogate", interogate="session", session_id=session_id))
            assert answer is not None and answer["session_data"]["worker"] == 1

    async def test_an_expired_session_stays_expired_after_a_restart(self, database_url: str) -> None:
        async with running_server(database_url) as first:
            client = await first.session()
            pair = (client.client_id, client.session_token)
            first.clock.advance(3601)
            clock = first.clock
        async with running_server(database_url, clock) as second:
            client = await second.client()
            answer = await client.raw(line(action="view", view="account", client_id=pair[0], session_token=pair[1]))
            assert answer is not None and answer["code"] == "unauthorized"


class TestTwoProcesses:
    async def test_a_session_made_on_one_server_works_on_another(self, database_url: str) -> None:
        async with running_server(database_url) as one, running_server(database_url) as two:
            made = await one.session()
            elsewhere = await two.client()
            elsewhere.client_id, elsewhere.session_token = made.client_id, made.session_token
            assert (await elsewhere.call(action="view", view="account"))["code"] == "not_logged_in"
            answer = await elsewhere.raw(line(action="request", request="session_token", client_id=made.client_id))
            assert answer is not None and answer["code"] == "already_mapped"

    async def test_a_session_removed_on_one_server_is_gone_on_the_other(self, database_url: str) -> None:
        async with running_server(database_url) as one, running_server(database_url) as two:
            made = await one.session()
            other = await two.client()
            other.client_id, other.session_token = made.client_id, made.session_token
            assert (await other.call(action="view", view="account"))["code"] == "not_logged_in"
            removed = await made.raw(
                system_line(action="cleanup", cleanup="sessions", session_token=made.session_token)
            )
            assert removed is not None and removed["sessions_cleaned"] == 1
            assert (await other.call(action="view", view="account"))["code"] == "unauthorized"
