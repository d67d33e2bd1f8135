"""Base classes for request parameters and replies."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ewallet.domain.errors import EwalletError, InvalidValue, MissingField
from ewallet.domain.validation import folded


class Params(BaseModel):
    """Parameters of one instruction: strict types, unknown keys refused. Field order is the
    documented order, which decides which missing field is named first."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=False)

    #: Parameters that may not all be absent (e.g. edit account): missing_field when none is given.
    at_least_one: ClassVar[tuple[str, ...]] = ()
    #: Email parameters: compared case-insensitively everywhere, so also in idempotency records.
    email_fields: ClassVar[tuple[str, ...]] = ()

    def canonical(self) -> dict[str, Any]:
        """The parameters as an idempotency record compares them: defaults filled in, emails
        folded as account look-ups fold them, the key itself left out."""
        data = self.model_dump(mode="json", exclude={"idempotency_key"})
        for name in self.email_fields:
            if isinstance(data.get(name), str):
                data[name] = folded(data[name])
        return data

    @classmethod
    def wire_schema(cls) -> dict[str, Any]:
        """The JSON schema of what the server accepts: a parameter may be left out but is never
        null (validate_params refuses JSON null for every key), so optional parameters carry no
        null alternative and no null default."""
        return cls.model_json_schema(mode="validation", schema_generator=_NeverNull)


class _NeverNull(GenerateJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        default = generated.get("default", ...)
        if default is None:
            del generated["default"]
        elif generated.get("type") == "number" and isinstance(default, str):
            generated["default"] = float(default)  # a Decimal default, printed as its string
        return generated


class NoParams(Params):
    pass


class Reply(BaseModel):
    """A success. Python names are spelled right; the protocol's spellings are aliases."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)

    failed: bool = False


def validate_params(model: type[Params], data: dict[str, Any], zone: tzinfo | None = None) -> Params:
    """The model's instance, or the protocol error for the first problem."""
    try:
        params = model.model_validate(data, context={"zone": zone or UTC})
    except ValidationError as exc:
        raise params_error(model, exc) from None
    # A string field takes only strings. JSON null is not "absent": it is a wrong type.
    for key, value in data.items():
        if value is None:
            raise InvalidValue(f"{_printable(key)} must not be null (leave the key out instead)")
        # PostgreSQL cannot store U+0000 in text: refused on both backends alike.
        if isinstance(value, str) and "\x00" in value:
            raise InvalidValue(f"{_printable(key)} must not contain the character U+0000")
    if model.at_least_one and not any(name in data for name in model.at_least_one):
        raise MissingField("give at least one of: " + ", ".join(model.at_least_one))
    return params


def params_error(model: type[Params], exc: ValidationError) -> EwalletError:
    errors = exc.errors(include_input=False, include_url=False)
    missing = {str(e["loc"][0]) for e in errors if e["type"] == "missing" and e["loc"]}
    # Parameter names are the wire names (no aliases), in documented order.
    for name in model.model_fields:
        if name in missing:
            return MissingField(f"{name} is required")
    first = errors[0]
    where = str(first["loc"][0]) if first["loc"] else "parameters"
    if first["type"] == "extra_forbidden":
        return InvalidValue(f"unknown field {_printable(where)}")
    reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return InvalidValue(f"{where}: {reason}")


def _printable(name: str) -> str:
    """An unknown key is named (it is a field, not a value) but shortened and made safe."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in name[:64])
    return repr(shown) + ("..." if len(name) > 64 else "")
