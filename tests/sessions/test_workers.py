"""Workers through the server (§5.5, §8): vacant/in_use/full, limits, and the system
instructions that start, show and clean them."""

import re

from tests.probes import counts, line, session_id_of, system_line, workers
from tests.support import LineClient, Running, running_server

WIRE_TIME = re.compile(r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$")


async def system(client: LineClient, **instruction: object) -> dict:
    answer = await client.raw(system_line(**instruction))
    assert answer is not None
    return answer


class TestWorkerStates:
    async def test_fills_workers_up_to_the_limits_then_refuses_with_capacity(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, session_limit=2, worker_limit=2) as running:
            sessions = []
            expected_states = [
                {1: "in_use"},
                {1: "full"},
                {1: "full", 2: "in_use"},
                {1: "full", 2: "full"},
            ]
            for expected in expected_states:
                sessions.append(await running.session())
                assert {wid: state for wid, (state, _) in workers(running).items()} == expected
            client = await running.client()
            client_id = (await client.call(action="request", request="client_id"))["client_id"]
            before = counts(running)
            answer = await client.raw(line(action="request", request="session_token", client_id=client_id))
            assert answer is not None and answer["code"] == "capacity"
            assert counts(running) == before
            assert len(workers(running)) == 2
            # The refused client id holds nothing: once a place frees up it gets a token.
            await system(client, action="cleanup", cleanup="sessions", session_token=sessions[0].session_token)
            answer = await client.raw(line(action="request", request="session_token", client_id=client_id))
            assert answer is not None and answer["failed"] is False

    async def test_expired_sessions_do_not_hold_places(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, session_limit=1, worker_limit=1) as running:
            await running.session()
            running.clock.advance(3601)
            client = await running.session()  # would be capacity if the expired one counted
            assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"

    async def test_sessions_of_one_worker_all_answer(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, session_limit=3, worker_limit=1) as running:
            clients = [await running.session() for _ in range(3)]
            for client in clients:
                assert (await client.call(action="view", view="account"))["code"] == "not_logged_in"
            assert workers(running) == {1: ("full", [1, 2, 3])}


class TestInterrogateWorkers:
    async def test_shows_no_workers_before_any_session(self, server: Running) -> None:
        client = await server.client()
        assert await system(client, action="interogate", interogate="workers") == {"failed": False, "workers": {}}

    async def test_shows_each_worker_with_its_state_and_sessions(self, server: Running) -> None:
        user = await server.session()
        session_id = session_id_of(server, user.session_token)  # type: ignore[arg-type]
        answer = await system(user, action="interogate", interogate="workers", id=3)
        assert set(answer) == {"failed", "workers", "id"}
        assert list(answer["workers"]) == ["1"]
        worker = answer["workers"]["1"]
        assert set(worker) == {"create_date", "state_code", "state_label", "state_timestamp", "sessions"}
        assert (worker["state_code"], worker["state_label"], worker["sessions"]) == (1, "in_use", [session_id])
        assert WIRE_TIME.match(worker["create_date"])
        assert WIRE_TIME.match(worker["state_timestamp"])


class TestNewWorker:
    async def test_starts_a_vacant_worker(self, server: Running) -> None:
        client = await server.client()
        assert await system(client, action="new", new="worker") == {"failed": False, "worker": 1}
        assert await system(client, action="new", new="worker") == {"failed": False, "worker": 2}
        answer = await system(client, action="interogate", interogate="workers")
        assert {k: (w["state_code"], w["state_label"]) for k, w in answer["workers"].items()} == {
            "1": (0, "vacant"),
            "2": (0, "vacant"),
        }

    async def test_refuses_a_worker_beyond_the_limit(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, worker_limit=1) as running:
            client = await running.client()
            assert (await system(client, action="new", new="worker"))["worker"] == 1
            assert (await system(client, action="new", new="worker"))["code"] == "capacity"
            assert list(workers(running)) == [1]

    async def test_a_new_session_goes_to_the_first_worker_that_is_not_full(self, server: Running) -> None:
        client = await server.client()
        for _ in range(3):
            await system(client, action="new", new="worker")
        await server.session()
        assert [state for state, _ in workers(server).values()] == ["in_use", "vacant", "vacant"]


class TestCleanupWorkers:
    async def test_keeps_the_lowest_vacant_worker_as_reserved(self, server: Running) -> None:
        client = await server.client()
        for _ in range(3):
            await system(client, action="new", new="worker")
        answer = await system(client, action="cleanup", cleanup="workers")
        assert answer == {"failed": False, "workers_cleaned": 2, "worker_reserved": 1, "worker_pool": [1]}
        assert list(workers(server)) == [1]

    async def test_keeps_workers_in_use(self, server: Running) -> None:
        client = await server.client()
        for _ in range(3):
            await system(client, action="new", new="worker")
        await server.session()  # on worker 1
        answer = await system(client, action="cleanup", cleanup="workers")
        assert answer == {"failed": False, "workers_cleaned": 1, "worker_reserved": 2, "worker_pool": [1, 2]}

    async def test_reserves_nothing_when_no_worker_is_vacant(self, server: Running) -> None:
        await server.session()
        client = await server.client()
        answer = await system(client, action="cleanup", cleanup="workers")
        assert answer == {"failed": False, "workers_cleaned": 0, "worker_reserved": None, "worker_pool": [1]}

    async def test_with_no_workers_there_is_nothing_to_clean(self, server: Running) -> None:
        client = await server.client()
        answer = await system(client, action="cleanup", cleanup="workers")
        assert answer == {"failed": False, "workers_cleaned": 0, "worker_reserved": None, "worker_pool": []}

    async def test_forgets_expired_sessions_first(self, server: Running) -> None:
        client = await server.client()
        await server.session()  # on worker 1; never logs in, so it dies after an hour
        await system(client, action="new", new="worker")
        server.clock.advance(3601)
        answer = await system(client, action="cleanup", cleanup="workers")
        assert answer == {"failed": False, "workers_cleaned": 1, "worker_reserved": 1, "worker_pool": [1]}

    async def test_refuses_parameters(self, server: Running) -> None:
        client = await server.client()
        await system(client, action="new", new="worker")
        await system(client, action="new", new="worker")
        assert (await system(client, action="cleanup", cleanup="workers", keep=5))["code"] == "invalid_value"
        assert list(workers(server)) == [1, 2]
