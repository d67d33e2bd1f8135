"""Parameters and replies of the account instructions."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from ewallet.domain.account_edit import EditOutcome
from ewallet.domain.errors import InvalidValue, MissingField
from ewallet.domain.session_views import SessionSummary
from ewallet.domain.views import AccountInfo
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


#: The edit reply's {field: applied} keys, in their wire order, and the edit's field each names.
EDITED_FIELDS = {"name": "name", "pass": "password", "alias": "alias", "email": "email", "phone": "phone"}


class AccountCreated(Reply):
    account: str
    account_data: AccountData

    @classmethod
    def of(cls, account: AccountInfo) -> AccountCreated:
        return cls(account=account.email, account_data=AccountData.of(account))


class AccountSession(Reply):
    """Login, logout and switch: the account concerned and this session's stack after it."""

    account: str | None
    session_data: SessionData

    @classmethod
    def of(cls, email: str | None, summary: SessionSummary) -> AccountSession:
        return cls(account=email, session_data=SessionData.of(summary))


class AccountView(Reply):
    account: str
    account_data: AccountData

    @classmethod
    def of(cls, account: AccountInfo) -> AccountView:
        return cls(account=account.email, account_data=AccountData.of(account))


class AccountEdited(Reply):
    account: str
    edit: dict[str, bool]
    account_data: AccountData

    @classmethod
    def of(cls, outcome: EditOutcome, account: AccountInfo) -> AccountEdited:
        edit = {key: field in outcome.applied for key, field in EDITED_FIELDS.items()}
        return cls(account=account.name, edit=edit, account_data=AccountData.of(account))


class AccountUnlinked(Reply):
    account: str


class LoginRecords(Reply):
    account: str
    login_records: dict[int, Timestamp]


class LogoutRecords(Reply):
    account: str
    logout_records: dict[int, Timestamp]
