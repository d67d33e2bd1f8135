"""System instructions on sessions (§8): new, interrogate, cleanup by target or sweep, and the
periodic sweep."""

import asyncio
import time
from datetime import timedelta

from ewallet.schemas.values import format_timestamp
from tests.probes import counts, session_id_of, system_line, workers
from tests.support import LineClient, Running, running_server

SESSION_DATA = {
    "id",
    "reference",
    "create_date",
    "write_date",
    "expiration_date",
    "worker",
    "session_user_account",
    "session_credit_ewallet",
    "session_contact_list",
    "session_account_archive",
}


async def system(client: LineClient, **instruction: object) -> dict:
    answer = await client.raw(system_line(**instruction))
    assert answer is not None
    return answer


class TestNewSession:
    async def test_creates_an_empty_session_on_a_worker(self, server: Running) -> None:
        client = await server.client()
        now = server.clock.now()
        answer = await system(client, action="new", new="session")
        assert set(answer) == {"failed", "ewallet_session", "session_data"}
        data = answer["session_data"]
        assert set(data) == SESSION_DATA
        assert data["id"] == answer["ewallet_session"] == 1
        assert data["worker"] == 1
        assert data["create_date"] == data["write_date"] == format_timestamp(now)
        assert data["expiration_date"] == format_timestamp(now + timedelta(hours=24))
        assert (data["session_user_account"], data["session_credit_ewallet"], data["session_contact_list"]) == (
            None,
            None,
            None,
        )
        assert data["session_account_archive"] == {}
        assert workers(server) == {1: ("in_use", [1])}

    async def test_takes_a_reference(self, server: Running) -> None:
        client = await server.client()
        answer = await system(client, action="new", new="session", reference="  night shift  ")
        assert answer["session_data"]["reference"] == "night shift"

    async def test_refuses_a_bad_reference_and_creates_nothing(self, server: Running) -> None:
        client = await server.client()
        for reference in ("", "   ", "r" * 256, 5):
            assert (await system(client, action="new", new="session", reference=reference))["code"] == "invalid_value"
        assert counts(server)["sessions"] == 0
        assert workers(server) == {}


class TestInterrogateSession:
    async def test_shows_a_client_session(self, server: Running) -> None:
        client = await server.session()
        session_id = session_id_of(server, client.session_token)  # type: ignore[arg-type]
        answer = await system(client, action="interogate", interogate="session", session_id=session_id)
        assert answer["ewallet_session"] == session_id
        assert set(answer["session_data"]) == SESSION_DATA
        assert answer["session_data"]["worker"] == 1
        assert answer["session_data"]["session_user_account"] is None

    async def test_shows_the_login_stack(self, server: Running) -> None:
        client = await server.user(name="Stacked")
        session_id = session_id_of(server, client.session_token)  # type: ignore[arg-type]
        data = (await system(client, action="interogate", interogate="session", session_id=session_id))["session_data"]
        assert data["session_user_account"] == "stacked@example.com"
        assert data["session_account_archive"] == {"stacked@example.com": "Stacked"}
        assert isinstance(data["session_credit_ewallet"], int)
        assert isinstance(data["session_contact_list"], int)

    async def test_a_missing_session_is_not_found(self, server: Running) -> None:
        client = await server.client()
        assert (await system(client, action="interogate", interogate="session", session_id=99))["code"] == "not_found"

    async def test_refuses_a_missing_or_wrongly_typed_session_id(self, server: Running) -> None:
        client = await server.client()
        assert (await system(client, action="interogate", interogate="session"))["code"] == "missing_field"
        for bad in ("1", 1.0, True, 0, -1, 2**63):
            answer = await system(client, action="interogate", interogate="session", session_id=bad)
            assert answer["code"] == "invalid_value", bad


class TestCleanupSessions:
    async def test_removes_a_session_by_id(self, server: Running) -> None:
        target = await server.session()
        other = await server.session()
        session_id = session_id_of(server, target.session_token)  # type: ignore[arg-type]
        answer = await system(other, action="cleanup", cleanup="sessions", session_id=session_id)
        assert answer == {"failed": False, "sessions_cleaned": 1}
        assert (await target.call(action="view", view="account"))["code"] == "unauthorized"
        assert (await other.call(action="view", view="account"))["code"] == "not_logged_in"

    async def test_removes_a_session_by_token(self, server: Running) -> None:
        target = await server.session()
        answer = await system(target, action="cleanup", cleanup="sessions", session_token=target.session_token)
        assert answer == {"failed": False, "sessions_cleaned": 1}
        assert (await target.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_removes_the_sessions_of_a_client_id(self, server: Running) -> None:
        target = await server.session()
        answer = await system(target, action="cleanup", cleanup="sessions", client_id=target.client_id)
        assert answer == {"failed": False, "sessions_cleaned": 1}
        assert (await target.call(action="view", view="account"))["code"] == "unauthorized"

    async def test_a_removed_session_frees_its_client_id(self, server: Running) -> None:
        target = await server.session()
        await system(target, action="cleanup", cleanup="sessions", client_id=target.client_id)
        target.session_token = None
        answer = await target.call(action="request", request="session_token", client_id=target.client_id)
        assert answer["failed"] is False

    async def test_drops_the_login_stack_with_the_session(self, server: Running) -> None:
        user = await server.user()
        assert counts(server)["stack"] == 1
        await system(user, action="cleanup", cleanup="sessions", session_token=user.session_token)
        assert counts(server)["stack"] == 0

    async def test_the_emptied_worker_goes_back_to_vacant(self, server: Running) -> None:
        client = await server.session()
        assert workers(server) == {1: ("in_use", [1])}
        await system(client, action="cleanup", cleanup="sessions", session_id=1)
        answer = await system(client, action="interogate", interogate="workers")
        assert answer["workers"]["1"]["state_label"] == "vacant"
        assert answer["workers"]["1"]["state_code"] == 0
        assert answer["workers"]["1"]["sessions"] == []

    async def test_a_target_that_matches_nothing_cleans_nothing(self, server: Running) -> None:
        client = await server.session()
        before = counts(server)
        for target in ({"session_id": 999}, {"session_token": "ewsm-st:nothing"}, {"client_id": "ewsm-uid:nobody"}):
            answer = await system(client, action="cleanup", cleanup="sessions", **target)
            assert answer == {"failed": False, "sessions_cleaned": 0}, target
        assert counts(server) == before

    async def test_refuses_more_than_one_target(self, server: Running) -> None:
        client = await server.session()
        before = counts(server)
        answer = await system(client, action="cleanup", cleanup="sessions", session_id=1, client_id=client.client_id)
        assert answer["code"] == "invalid_value"
        assert counts(server) == before

    async def test_without_a_target_removes_only_expired_sessions(self, server: Running) -> None:
        unused = [await server.session() for _ in range(3)]
        user = await server.user()
        server.clock.advance(3601)  # the sessions that never logged in are now dead
        answer = await system(user, action="cleanup", cleanup="sessions")
        assert answer == {"failed": False, "sessions_cleaned": 3}
        assert counts(server)["sessions"] == 1
        assert (await user.call(action="view", view="account"))["failed"] is False
        assert (await unused[0].call(action="view", view="account"))["code"] == "unauthorized"
        assert (await system(user, action="cleanup", cleanup="sessions"))["sessions_cleaned"] == 0


class TestPeriodicSweep:
    async def test_removes_expired_sessions_by_itself(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, session_sweep=0.1) as running:
            for _ in range(3):
                await running.session()
            await asyncio.sleep(0.3)
            assert counts(running)["sessions"] == 3  # alive: nothing swept
            running.clock.advance(3601)
            deadline = time.monotonic() + 5
            while counts(running)["sessions"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert counts(running)["sessions"] == 0
            assert [state for state, _ in workers(running).values()] == ["vacant"]

    async def test_removes_expired_unused_client_ids(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, session_sweep=0.1) as running:
            client = await running.client()
            for _ in range(3):
                await client.call(action="request", request="client_id")
            running.clock.advance(3601)
            deadline = time.monotonic() + 5
            while counts(running)["client_ids"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert counts(running)["client_ids"] == 0
