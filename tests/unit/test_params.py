"""Parameter validation at the edge (§2 step 8, §3)."""

import pytest

from ewallet.domain.errors import InvalidValue, MissingField
from ewallet.schemas.accounts import NewAccountParams
from ewallet.schemas.base import validate_params
from ewallet.schemas.money import TransferParams


class TestNulls:
    def test_refuses_null_for_an_optional_string(self) -> None:
        with pytest.raises(InvalidValue, match="user_phone"):
            validate_params(
                NewAccountParams,
                {"user_name": "a", "user_pass": "Secret!234", "user_email": "a@x.io", "user_phone": None},
            )

    def test_refuses_null_for_a_required_field(self) -> None:
        with pytest.raises(InvalidValue, match="credits"):
            validate_params(TransferParams, {"transfer_to": "a@x.io", "credits": None})

    def test_a_missing_field_is_named_before_a_null_one(self) -> None:
        with pytest.raises(MissingField, match="transfer_to"):
            validate_params(TransferParams, {"credits": 1, "idempotency_key": None})


class TestMissingFields:
    def test_names_the_first_missing_field_in_documented_order(self) -> None:
        with pytest.raises(MissingField, match="user_name"):
            validate_params(NewAccountParams, {"user_email": "a@x.io"})


class TestCanonicalParameters:
    def test_an_email_in_another_case_is_the_same_request(self) -> None:
        one = validate_params(TransferParams, {"transfer_to": "Bob@Example.com", "credits": 3})
        two = validate_params(TransferParams, {"transfer_to": "bob@example.com", "credits": 3})
        assert one.canonical() == two.canonical()

    def test_leaves_the_key_out_and_fills_in_defaults(self) -> None:
        params = validate_params(TransferParams, {"transfer_to": "b@x.io", "credits": 3, "idempotency_key": "k"})
        assert params.canonical() == {"transfer_to": "b@x.io", "credits": 3}
