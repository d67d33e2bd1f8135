"""Data shapes of §10 that several replies share, built by named constructors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ewallet.schemas.values import Timestamp


class Shape(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


class SessionData(Shape):
    session_user_account: str | None
    session_credit_ewallet: int | None
    session_contact_list: int | None
    session_account_archive: dict[str, str]


class SystemSessionData(SessionData):
    id: int
    reference: str
    create_date: Timestamp
    write_date: Timestamp
    expiration_date: Timestamp
    worker: int | None


class WorkerData(Shape):
    create_date: Timestamp
    state_code: int
    state_label: str
    state_timestamp: Timestamp
    sessions: list[int]
