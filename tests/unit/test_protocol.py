"""The envelope, the request id and the system key check (§1, §2 steps 3-5, §8), without a
server."""

import pytest

from ewallet.handlers import build_route_table
from ewallet.protocol.envelope import parse_instruction, request_id_of, system_key_matches
from ewallet.protocol.errors import InvalidInstruction, SystemKeyRequired, UnknownAction

KEY = "k" * 40
TABLE = build_route_table()


class TestRequestId:
    @pytest.mark.parametrize("value", ["", "x" * 255, 0, 2**63, -(2**63)])
    def test_accepts_strings_up_to_255_and_integers_within_2_to_the_63(self, value: object) -> None:
        assert request_id_of({"id": value}) == (value, True)

    @pytest.mark.parametrize("value", ["x" * 256, 2**63 + 1, -(2**63) - 1, 1.0, True, None, [], {}])
    def test_refuses_other_ids_and_never_offers_them_for_echo(self, value: object) -> None:
        assert request_id_of({"id": value}) == (None, False)

    def test_no_id_is_fine(self) -> None:
        assert request_id_of({}) == (None, True)
        assert request_id_of(["not", "an", "object"]) == (None, True)


class TestSystemKey:
    def test_matches_the_configured_key(self) -> None:
        assert system_key_matches(KEY, KEY)

    @pytest.mark.parametrize("given", [None, "", KEY[:-1], KEY + "k", 5, [KEY]])
    def test_refuses_anything_else(self, given: object) -> None:
        assert not system_key_matches(given, KEY)

    def test_a_short_or_missing_configured_key_opens_nothing(self) -> None:
        assert not system_key_matches("k" * 31, "k" * 31)
        assert not system_key_matches("", None)
        assert not system_key_matches(None, None)

    def test_takes_any_unicode_without_failing(self) -> None:
        assert not system_key_matches("\ud800" * 40, KEY)
        assert system_key_matches("ключ" * 10, "ключ" * 10)


class TestEnvelope:
    def test_resolves_a_route_and_keeps_only_its_parameters(self) -> None:
        instruction = parse_instruction(
            {
                "controller": "client",
                "ctype": "action",
                "action": "request",
                "request": "session_token",
                "client_id": "ewsm-uid:x",
                "expiration_date": "01-01-2030 00:00:00",
                "id": 4,
            },
            TABLE,
            KEY,
        )
        assert instruction.route.name == "client request=session_token"
        assert instruction.params == {"expiration_date": "01-01-2030 00:00:00"}
        assert instruction.client_id == "ewsm-uid:x"
        assert (instruction.request_id, instruction.id_valid) == (4, True)

    @pytest.mark.parametrize(
        ("obj", "error"),
        [
            ([], InvalidInstruction),
            ({"controller": "client", "action": "request"}, InvalidInstruction),
            ({"controller": "client", "ctype": "query", "action": "nothing"}, InvalidInstruction),
            ({"controller": "client", "ctype": "action", "action": "nothing"}, UnknownAction),
            ({"controller": "system", "ctype": "action", "action": "nothing"}, UnknownAction),
            ({"controller": "system", "ctype": "action", "action": "new", "new": "worker"}, SystemKeyRequired),
        ],
    )
    def test_checks_in_the_order_of_section_2(self, obj: object, error: type[Exception]) -> None:
        with pytest.raises(error):
            parse_instruction(obj, TABLE, KEY)

    def test_the_most_specific_target_wins(self) -> None:
        request = {"controller": "client", "ctype": "action", "action": "view", "view": "credit", "credit": "clock"}
        assert parse_instruction(request, TABLE, KEY).route.name == "client view=credit, credit=clock"
