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


class TestLimitsAreStatedOneWay:
    """Every limit reads "must be at most N characters" or "must be between A and B", whichever
    type carries it (no pydantic wording such as "String should have at most")."""

    @pytest.mark.parametrize(
        ("model", "data", "message"),
        [
            ("SupplyParams", {"credits": 0}, "credits: must be between 1 and 1000000000"),
            ("SupplyParams", {"credits": 10**9 + 1}, "credits: must be between 1 and 1000000000"),
            ("ClockToCreditsParams", {"minutes": 0}, "minutes: must be between 0.01 and 1000000000"),
            ("LoginParams", {"user_name": "a", "user_pass": "x" * 129}, "user_pass: must be at most 128 characters"),
            ("NewContactRecordParams", {"user_name": "x" * 256}, "user_name: must be at most 255 characters"),
            ("SupplyParams", {"credits": 1, "idempotency_key": ""}, "idempotency_key: must not be empty"),
            (
                "SupplyParams",
                {"credits": 1, "idempotency_key": "k" * 256},
                "idempotency_key: must be at most 255 characters",
            ),
            ("CleanupSessionsParams", {"client_id": "c" * 256}, "client_id: must be at most 255 characters"),
            ("RecordIdParams", {"record_id": 0}, f"record_id: must be between 1 and {2**63 - 1}"),
        ],
    )
    def test_one_style_for_every_limit(self, model: str, data: dict, message: str) -> None:
        from ewallet.domain.errors import InvalidValue
        from ewallet.schemas import accounts, money, resources, system
        from ewallet.schemas.base import validate_params

        found = next(getattr(m, model) for m in (accounts, money, resources, system) if hasattr(m, model))
        with pytest.raises(InvalidValue) as caught:
            validate_params(found, data)
        assert str(caught.value) == message
