"""Bad input over a real socket (§1, §2): each answered with the right code, nothing changes,
and the same connection keeps working."""

import pytest

from tests.probes import CLIENT_ID, counts, line, system_line
from tests.support import LineClient, Running


async def assert_usable(client: LineClient) -> None:
    answer = await client.raw(CLIENT_ID)
    assert answer is not None and answer["failed"] is False, answer


async def refused(server: Running, raw: bytes) -> dict:
    """Send one bad line; check the answer's shape, that nothing changed and that the
    connection still serves a good request."""
    client = await server.client()
    before = counts(server)
    answer = await client.raw(raw)
    assert answer is not None
    assert answer["failed"] is True
    assert set(answer) - {"id"} == {"failed", "error", "code"}
    assert counts(server) == before
    await assert_usable(client)
    await client.close()
    return answer


DEEP = b'{"controller": "client", "x": ' + b"[" * 40 + b"]" * 40 + b"}\n"


class TestInvalidJson:
    @pytest.mark.parametrize(
        "raw",
        [
            b"{\n",
            b"not json at all\n",
            b'{"controller": "client",}\n',
            b'{"a": NaN}\n',
            b'{"a": Infinity}\n',
            b'{"a": -Infinity}\n',
            b'{"controller": "client", "controller": "client"}\n',
            b'{"a": "\xff\xfe"}\n',
            b'{"a": "\\ud800"}\n',
            b"\xef\xbb\xbf{}\n",
            DEEP,
        ],
        ids=[
            "truncated",
            "text",
            "trailing-comma",
            "nan",
            "infinity",
            "minus-infinity",
            "duplicate-key",
            "invalid-utf8",
            "lone-surrogate",
            "byte-order-mark",
            "deep-nesting",
        ],
    )
    async def test_answers_invalid_json_and_stays_usable(self, server: Running, raw: bytes) -> None:
        assert (await refused(server, raw))["code"] == "invalid_json"

    async def test_the_message_never_echoes_the_line(self, server: Running) -> None:
        answer = await refused(server, b'{"user_pass": "hunter2-secret", NaN}\n')
        assert "hunter2-secret" not in answer["error"]


class TestInvalidInstruction:
    @pytest.mark.parametrize(
        "raw",
        [
            b"[]\n",
            b'"text"\n',
            b"42\n",
            b"null\n",
            b"true\n",
            b"{}\n",
            line(controller=None),
            line(controller=1, action="request", request="client_id"),
            b'{"ctype": "action", "action": "request", "request": "client_id"}\n',
            b'{"controller": "client", "action": "request", "request": "client_id"}\n',
            b'{"controller": "client", "ctype": "action", "request": "client_id"}\n',
            line(ctype=["action"], action="request", request="client_id"),
            line(action=True, request="client_id"),
            line(ctype="query", action="request", request="client_id"),
            line(ctype="Action", action="request", request="client_id"),
        ],
        ids=[
            "array",
            "string",
            "number",
            "null",
            "boolean",
            "empty",
            "null-controller",
            "int-controller",
            "no-controller",
            "no-ctype",
            "no-action",
            "list-ctype",
            "bool-action",
            "other-ctype",
            "capitalised-ctype",
        ],
    )
    async def test_answers_invalid_instruction_and_stays_usable(self, server: Running, raw: bytes) -> None:
        assert (await refused(server, raw))["code"] == "invalid_instruction"


class TestUnknownAction:
    @pytest.mark.parametrize(
        "raw",
        [
            line(controller="admin", action="request", request="client_id"),
            line(action="explode"),
            line(action="request", request="nothing"),
            line(action="request"),
            line(action="request", request=["client_id"]),
            line(action="new", new="galaxy"),
            line(action="view", view="credit", credit="galaxy"),
            system_line(action="new", new="galaxy"),
            line(action="REQUEST", request="client_id"),
        ],
        ids=[
            "controller",
            "action",
            "target",
            "no-target",
            "list-target",
            "new-galaxy",
            "sub-target",
            "system-target",
            "case",
        ],
    )
    async def test_answers_unknown_action_and_stays_usable(self, server: Running, raw: bytes) -> None:
        assert (await refused(server, raw))["code"] == "unknown_action"


class TestErrorPrecedence:
    """§2: the first failing check answers."""

    async def test_frame_too_large_beats_everything(self, server: Running) -> None:
        raw = b"\xff" + b"[" * (server.app.settings.max_frame + 10) + b"\n"
        assert (await refused(server, raw))["code"] == "frame_too_large"

    async def test_invalid_json_beats_a_bad_envelope(self, server: Running) -> None:
        assert (await refused(server, b'{"ctype": "query", "ctype": "query"}\n'))["code"] == "invalid_json"

    async def test_invalid_instruction_beats_an_unknown_route(self, server: Running) -> None:
        assert (await refused(server, line(ctype="query", action="explode")))["code"] == "invalid_instruction"

    async def test_unknown_action_beats_a_missing_system_key(self, server: Running) -> None:
        raw = line(controller="system", action="new", new="galaxy")
        assert (await refused(server, raw))["code"] == "unknown_action"

    async def test_system_key_beats_bad_parameters(self, server: Running) -> None:
        raw = line(controller="system", action="interogate", interogate="session", session_id="x", junk=1)
        assert (await refused(server, raw))["code"] == "system_key_required"

    async def test_unauthorized_beats_not_logged_in_and_bad_parameters(self, server: Running) -> None:
        raw = line(action="view", view="account", client_id="ewsm-uid:nope", session_token="ewsm-st:nope", junk=1)
        assert (await refused(server, raw))["code"] == "unauthorized"

    async def test_not_logged_in_beats_bad_parameters(self, server: Running) -> None:
        client = await server.session()
        answer = await client.call(action="view", view="account", junk=1)
        assert answer["code"] == "not_logged_in"
        await client.close()

    async def test_a_missing_field_beats_an_unknown_key(self, server: Running) -> None:
        raw = system_line(action="interogate", interogate="session", junk=1)
        assert (await refused(server, raw))["code"] == "missing_field"

    async def test_a_wrong_type_is_invalid_value(self, server: Running) -> None:
        raw = system_line(action="interogate", interogate="session", session_id="1")
        assert (await refused(server, raw))["code"] == "invalid_value"

    async def test_an_unknown_key_is_invalid_value(self, server: Running) -> None:
        assert (await refused(server, line(action="request", request="client_id", junk=1)))["code"] == "invalid_value"

    async def test_parameters_beat_domain_rules(self, server: Running) -> None:
        raw = system_line(action="interogate", interogate="session", session_id=0)
        assert (await refused(server, raw))["code"] == "invalid_value"
        raw = system_line(action="interogate", interogate="session", session_id=424242)
        assert (await refused(server, raw))["code"] == "not_found"


VALID_IDS = ["a", "", "x" * 255, 0, -1, 2**63, -(2**63), 12345678901234]
INVALID_IDS = [1.5, 1.0, True, False, None, [], {}, ["x"], "x" * 256, 2**63 + 1, -(2**63) - 1]


class TestRequestIdEcho:
    @pytest.mark.parametrize("request_id", VALID_IDS, ids=repr)
    async def test_echoes_a_valid_id_on_success(self, server: Running, request_id: object) -> None:
        client = await server.client()
        answer = await client.raw(line(action="request", request="client_id", id=request_id))
        assert answer is not None
        assert answer["failed"] is False
        assert answer["id"] == request_id
        assert type(answer["id"]) is type(request_id)
        await client.close()

    @pytest.mark.parametrize(
        "raw",
        [
            line(action="explode", id="req-7"),
            line(ctype="query", action="request", id="req-7"),
            line(controller=5, id="req-7"),
            system_line(action="new", new="worker", system_key="wrong", id="req-7"),
            line(action="view", view="account", id="req-7"),
            line(action="request", request="client_id", junk=True, id="req-7"),
        ],
        ids=["unknown_action", "invalid_instruction", "bad-controller", "system_key", "unauthorized", "invalid_value"],
    )
    async def test_echoes_the_id_on_failures_too(self, server: Running, raw: bytes) -> None:
        answer = await refused(server, raw)
        assert answer["id"] == "req-7"

    @pytest.mark.parametrize("request_id", INVALID_IDS, ids=repr)
    async def test_refuses_an_invalid_id_without_echoing_it(self, server: Running, request_id: object) -> None:
        answer = await refused(server, line(action="request", request="client_id", id=request_id))
        assert answer["code"] == "invalid_value"
        assert "id" not in answer

    async def test_an_invalid_id_is_checked_at_the_parameter_step(self, server: Running) -> None:
        answer = await refused(server, line(action="explode", id=1.5))
        assert answer["code"] == "unknown_action"
        assert "id" not in answer
        answer = await refused(server, line(action="view", view="account", id=1.5))
        assert answer["code"] == "unauthorized"

    async def test_an_invalid_id_on_a_system_route_is_invalid_value(self, server: Running) -> None:
        before = server.app.services.workers.snapshot()
        answer = await refused(server, system_line(action="new", new="worker", id=[1]))
        assert answer["code"] == "invalid_value"
        assert server.app.services.workers.snapshot() == before

    async def test_without_id_a_success_has_exactly_its_keys(self, server: Running) -> None:
        client = await server.client()
        answer = await client.raw(CLIENT_ID)
        assert set(answer or {}) == {"failed", "client_id"}
        await client.close()

    async def test_without_id_a_failure_has_exactly_its_keys(self, server: Running) -> None:
        answer = await refused(server, line(action="explode"))
        assert set(answer) == {"failed", "error", "code"}

    async def test_no_id_is_echoed_when_the_line_is_not_an_object(self, server: Running) -> None:
        answer = await refused(server, b'[{"id": "x"}]\n')
        assert "id" not in answer

    async def test_no_id_is_echoed_when_the_line_is_not_json(self, server: Running) -> None:
        answer = await refused(server, b'{"id": "x", NaN}\n')
        assert "id" not in answer


#: More digits than Python converts from text by default (sys.get_int_max_str_digits() is 4300).
HUGE = b"9" * 5000


def huge_line(action: str, **fields: bytes) -> bytes:
    """A request line carrying integers too long for json.dumps to write."""
    head = line(action=action, **{k: v for k, v in fields.items() if isinstance(v, str)})[:-2]
    raw = b", ".join(b'"%s": %s' % (k.encode(), v) for k, v in fields.items() if isinstance(v, bytes))
    return head + b", " + raw + b"}\n"


class TestIntegersBeyondTheConversionLimit:
    """Valid JSON, so never `invalid_json`: out of range (§3), checked in §2 order."""

    @pytest.mark.parametrize("digits", [HUGE, b"-" + HUGE], ids=["positive", "negative"])
    async def test_such_an_id_is_invalid_value_and_not_echoed(self, server: Running, digits: bytes) -> None:
        answer = await refused(server, huge_line("request", request="client_id", id=digits))
        assert answer["code"] == "invalid_value", answer
        assert "id" not in answer

    async def test_such_an_id_still_yields_to_an_unknown_action(self, server: Running) -> None:
        answer = await refused(server, huge_line("explode", id=HUGE))
        assert answer["code"] == "unknown_action", answer

    async def test_such_a_parameter_is_invalid_value(self, server: Running) -> None:
        user = await server.user()
        raw = huge_line(
            "supply", supply="credits", client_id=user.client_id, session_token=user.session_token, credits=HUGE
        )
        answer = await user.raw(raw)
        assert answer is not None and answer["code"] == "invalid_value", answer
        assert "credits" in answer["error"]

    async def test_such_a_parameter_yields_to_a_missing_session(self, server: Running) -> None:
        answer = await refused(server, huge_line("supply", supply="credits", credits=HUGE))
        assert answer["code"] == "unauthorized", answer
