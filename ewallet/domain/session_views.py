"""What a session looks like from outside: its active account and login stack."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session as Db

from ewallet.domain import session_store
from ewallet.storage.models import EwalletSession


@dataclass(frozen=True)
class SessionSummary:
    user_account: str | None
    credit_ewallet: int | None
    contact_list: int | None
    account_archive: dict[str, str]


def summarise(db: Db, session: EwalletSession) -> SessionSummary:
    accounts = session_store.stack(db, session.id)
    top = accounts[-1] if accounts else None
    return SessionSummary(
        user_account=top.email if top else None,
        credit_ewallet=top.active_ewallet_id if top else None,
        contact_list=top.active_contact_list_id if top else None,
        account_archive={account.email: account.name for account in accounts},
    )
