"""Parameters and replies of the account instructions."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from ewallet.domain.errors import InvalidValue, MissingField
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.shapes import AccountData, SessionData
from ewallet.schemas.values import Password, Text32, Text255, Timestamp


class NewAccountParams(Params):
    user_name: Text255
    user_pass: Password
    user_email: Text255
    user_phone: Text32 | None = None
    user_alias: Text255 | None = None


class LoginParams(Params):
    user_email: Text255 | None = None
    user_name: Text255 | None = None
    user_pass: Password

    @model_validator(mode="before")
    @classmethod
    def exactly_one_identity(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [key for key in ("user_email", "user_name") if key in data]
            if not given:
                raise MissingField("user_email or user_name is required")
            if len(given) > 1:
                raise InvalidValue("give exactly one of user_email and user_name")
        return data


class SwitchAccountParams(Params):
    account: Text255


class EditAccountParams(Params):
    user_name: Text255 | None = None
    user_pass: Password | None = None
    user_email: Text255 | None = None
    user_phone: Text32 | None = None
    user_alias: Text255 | None = None
    current_pass: Password | None = None

    at_least_one = ("user_name", "user_pass", "user_email", "user_phone", "user_alias")


class AccountCreated(Reply):
    account: str
    account_data: AccountData


class AccountSession(Reply):
    """Login, logout and switch: the account concerned and this session's stack after it."""

    account: str | None
    session_data: SessionData


class AccountView(Reply):
    account: str
    account_data: AccountData


class AccountEdited(Reply):
    account: str
    edit: dict[str, bool]
    account_data: AccountData


class AccountUnlinked(Reply):
    account: str


class LoginRecords(Reply):
    account: str
    login_records: dict[int, Timestamp]


class LogoutRecords(Reply):
    account: str
    logout_records: dict[int, Timestamp]
