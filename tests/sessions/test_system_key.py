"""The system key (§8): compared in constant time; missing or wrong, every system instruction
is refused and nothing changes. A configured key shorter than 32 characters refuses the start."""

import pytest

from ewallet.settings import Settings, SettingsError
from tests.probes import counts, line, system_line, workers
from tests.support import SYSTEM_KEY, Running, running_server

NEW_WORKER = {"action": "new", "new": "worker"}


class TestSystemKey:
    @pytest.mark.parametrize(
        "key",
        [None, "", "wrong", SYSTEM_KEY[:-1], SYSTEM_KEY + "x", SYSTEM_KEY.upper(), 12345, [SYSTEM_KEY], True],
        ids=["missing", "empty", "wrong", "prefix", "longer", "case", "number", "list", "boolean"],
    )
    async def test_refuses_a_missing_or_wrong_key_and_changes_nothing(self, server: Running, key: object) -> None:
        client = await server.client()
        given = {} if key is None else {"system_key": key}
        answer = await client.raw(line(controller="system", **given, **NEW_WORKER))
        assert answer is not None and answer["code"] == "system_key_required"
        assert SYSTEM_KEY not in answer["error"]
        assert workers(server) == {}
        assert (await client.raw(system_line(**NEW_WORKER)))["worker"] == 1  # type: ignore[index]

    @pytest.mark.parametrize(
        "instruction",
        [
            {"action": "new", "new": "session"},
            {"action": "interogate", "interogate": "session", "session_id": 1},
            {"action": "interogate", "interogate": "workers"},
            {"action": "cleanup", "cleanup": "sessions"},
            {"action": "cleanup", "cleanup": "workers"},
        ],
        ids=lambda i: "-".join(str(v) for v in list(i.values())[:2]),
    )
    async def test_guards_every_system_instruction(self, server: Running, instruction: dict) -> None:
        client = await server.session()
        before = counts(server)
        answer = await client.raw(system_line(system_key="wrong", **instruction))
        assert answer["code"] == "system_key_required"
        assert counts(server) == before

    def test_a_configured_key_shorter_than_32_characters_refuses_the_start(self) -> None:
        # Once silently ignored (every system instruction refused); the CLI now says so in one
        # line (tests/client/test_startup_errors.py).
        with pytest.raises(SettingsError, match="at least 32 characters"):
            Settings(system_key="k" * 31)

    async def test_no_configured_key_opens_nothing(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, system_key=None) as running:
            client = await running.client()
            for key in ("", "None", "null", SYSTEM_KEY):
                assert (await client.raw(system_line(system_key=key, **NEW_WORKER)))["code"] == "system_key_required"  # type: ignore[index]

    async def test_a_configured_key_of_32_characters_works(self, sqlite_url: str) -> None:
        key = "k" * 32
        async with running_server(sqlite_url, system_key=key) as running:
            client = await running.client()
            assert (await client.raw(system_line(system_key=key, **NEW_WORKER)))["worker"] == 1  # type: ignore[index]

    async def test_the_key_is_not_taken_on_client_routes(self, server: Running) -> None:
        client = await server.client()
        answer = await client.raw(line(action="request", request="client_id", system_key=SYSTEM_KEY))
        assert answer["code"] == "invalid_value"
