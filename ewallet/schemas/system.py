"""Parameters and replies of the system instructions."""

from __future__ import annotations

from pydantic import model_validator

from ewallet.domain.errors import InvalidValue
from ewallet.domain.session_views import SessionDetails
from ewallet.schemas.base import Params, Reply
from ewallet.schemas.shapes import SystemSessionData, WorkerData
from ewallet.schemas.values import RecordId, Text255, Token255


class NewSessionParams(Params):
    reference: Text255 | None = None


class SessionIdParams(Params):
    session_id: RecordId


class CleanupSessionsParams(Params):
    session_id: RecordId | None = None
    session_token: Token255 | None = None
    client_id: Token255 | None = None

    @model_validator(mode="after")
    def one_target(self) -> CleanupSessionsParams:
        given = [v for v in (self.session_id, self.session_token, self.client_id) if v is not None]
        if len(given) > 1:
            raise InvalidValue("give at most one of session_id, session_token, client_id")
        return self


class WorkerStarted(Reply):
    worker: int


class SessionInfo(Reply):
    ewallet_session: int
    session_data: SystemSessionData

    @classmethod
    def of(cls, session: SessionDetails, worker: int | None) -> SessionInfo:
        return cls(ewallet_session=session.id, session_data=SystemSessionData.of_session(session, worker))


class WorkersInfo(Reply):
    workers: dict[int, WorkerData]


class SessionsCleaned(Reply):
    sessions_cleaned: int


class WorkersCleaned(Reply):
    workers_cleaned: int
    worker_reserved: int | None
    worker_pool: list[int]


class AccountsCleaned(Reply):
    accounts_cleaned: int
