"""What a session looks like from outside: its active account and login stack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.storage.models import EwalletSession


@dataclass(frozen=True)
class SessionSummary:
    #: The active (top) account's email, ewallet and contact list; None with nobody logged in.
    active_email: str | None
    active_ewallet_id: int | None
    active_contact_list_id: int | None
    #: {email: name} of the logged-in accounts, bottom to top.
    stack: dict[str, str]


@dataclass(frozen=True)
class SessionDetails:
    """A session as the system instructions show it."""

    id: int
    reference: str
    create_date: datetime
    write_date: datetime
    expiration_date: datetime
    summary: SessionSummary


def summarise(db: Db, session: EwalletSession) -> SessionSummary:
    accounts = session_store.stack(db, session.id)
    top = accounts[-1] if accounts else None
    return SessionSummary(
        active_email=top.email if top else None,
        active_ewallet_id=top.active_ewallet_id if top else None,
        active_contact_list_id=top.active_contact_list_id if top else None,
        stack={account.email: account.name for account in accounts},
    )


def describe(db: Db, session: EwalletSession) -> SessionDetails:
    return SessionDetails(
        id=session.id,
        reference=session.reference,
        create_date=session.create_date,
        write_date=session.write_date,
        expiration_date=session.expiration_date,
        summary=summarise(db, session),
    )
