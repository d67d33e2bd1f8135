"""The tables. Ownership (the *_id owner column) and "active" (the owner's active_*_id) are
separate columns, so switching never moves an object to another owner. Ledger rows (ewallets,
clocks, sheets, records) are hidden, never deleted."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ewallet.storage.types import Id, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def pk() -> Mapped[int]:
    # sqlite_autoincrement keeps SQLite from reusing the ids of deleted rows.
    return mapped_column(Id, primary_key=True, autoincrement=True)


def stamp(nullable: bool = False) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=nullable)


class Dated:
    create_date: Mapped[datetime] = stamp()
    write_date: Mapped[datetime] = stamp()


AUTOINC = {"sqlite_autoincrement": True}

# --- sessions ----------------------------------------------------------------------------------


class ClientId(Base):
    __tablename__ = "client_ids"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    create_date: Mapped[datetime] = stamp()
    #: Only a client id that never obtained a token expires; None once it has one.
    expiration_date: Mapped[datetime | None] = stamp(nullable=True)


class EwalletSession(Base, Dated):
    __tablename__ = "ewallet_sessions"
    __table_args__ = (
        Index("ix_ewallet_sessions_expiration", "expiration_date"),
        Index("ix_ewallet_sessions_peer", "peer"),
        AUTOINC,
    )
    id: Mapped[int] = pk()
    reference: Mapped[str] = mapped_column(String(255), default="EWallet Session")
    client_ref: Mapped[int | None] = mapped_column(ForeignKey("client_ids.id"), index=True)
    #: SHA-256 of the session token; the token itself is never stored.
    token_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    expiration_date: Mapped[datetime] = stamp()
    had_login: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The address that requested the token: sessions that never logged in are capped per address.
    peer: Mapped[str | None] = mapped_column(String(64))


class StackEntry(Base):
    """One account on one session's login stack; the highest position is the active account."""

    __tablename__ = "session_stack"
    __table_args__ = (UniqueConstraint("session_id", "account_id"), AUTOINC)
    id: Mapped[int] = pk()
    session_id: Mapped[int] = mapped_column(ForeignKey("ewallet_sessions.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    position: Mapped[int] = mapped_column(BigInteger)


# --- accounts ----------------------------------------------------------------------------------


class Account(Base, Dated):
    __tablename__ = "accounts"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    name: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the NFKC case-folded name and email: uniqueness and look-ups ignore case and
    #: Unicode compatibility forms, and a digest fits the column whatever the folding expands to.
    name_key: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    email_key: Mapped[str] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    alias: Mapped[str | None] = mapped_column(String(255))
    pass_hash: Mapped[str] = mapped_column(String(255))
    active_ewallet_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_ewallets.id", use_alter=True, name="fk_accounts_active_ewallet")
    )
    active_contact_list_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_lists.id", use_alter=True, name="fk_accounts_active_contact_list")
    )
    deletion_date: Mapped[datetime | None] = stamp(nullable=True)
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    throttled_until: Mapped[datetime | None] = stamp(nullable=True)


class PasswordHistory(Base):
    __tablename__ = "password_history"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    pass_hash: Mapped[str] = mapped_column(String(255))
    create_date: Mapped[datetime] = stamp()


class LoginRecord(Base):
    __tablename__ = "login_records"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    create_date: Mapped[datetime] = stamp()


class LogoutRecord(Base):
    __tablename__ = "logout_records"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    create_date: Mapped[datetime] = stamp()


class LoginFailure(Base):
    """A failed login, kept server-side for throttling and audit; never shown to users."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_peer_date", "peer", "create_date"), AUTOINC)
    id: Mapped[int] = pk()
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    peer: Mapped[str] = mapped_column(String(64))
    create_date: Mapped[datetime] = stamp()


# --- credit ewallets and their sheets ------------------------------------------------------------


class Hideable:
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class CreditEwallet(Base, Dated, Hideable):
    __tablename__ = "credit_ewallets"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    active_clock_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_clocks.id", use_alter=True, name="fk_credit_ewallets_active_clock")
    )
    active_transfer_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfer_sheets.id", use_alter=True, name="fk_credit_ewallets_active_transfer_sheet")
    )
    active_invoice_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice_sheets.id", use_alter=True, name="fk_credit_ewallets_active_invoice_sheet")
    )


class CreditClock(Base, Dated, Hideable):
    __tablename__ = "credit_clocks"
    __table_args__ = (
        Index("ix_credit_clocks_state", "state"),
        Index("ix_credit_clocks_expected_stop", "timer_expected_stop"),
        AUTOINC,
    )
    id: Mapped[int] = pk()
    ewallet_id: Mapped[int] = mapped_column(ForeignKey("credit_ewallets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    #: Minutes in integer hundredths: stored exactly.
    hundredths: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16), default="inactive")
    active_time_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("time_sheets.id", use_alter=True, name="fk_credit_clocks_active_time_sheet")
    )
    active_conversion_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversion_sheets.id", use_alter=True, name="fk_credit_clocks_active_conversion_sheet")
    )
    # The running timer, persisted at every transition so any process can settle it.
    timer_record_id: Mapped[int | None] = mapped_column(BigInteger)
    timer_started: Mapped[datetime | None] = stamp(nullable=True)
    timer_segment_start: Mapped[datetime | None] = stamp(nullable=True)
    timer_paused_at: Mapped[datetime | None] = stamp(nullable=True)
    timer_active_us: Mapped[int] = mapped_column(BigInteger, default=0)
    timer_pending_us: Mapped[int] = mapped_column(BigInteger, default=0)
    timer_pending_count: Mapped[int] = mapped_column(Integer, default=0)
    #: While active: the instant the balance runs out (the sweep and the live clock read it).
    timer_expected_stop: Mapped[datetime | None] = stamp(nullable=True)
    #: Exact active time minus what was billed, in microseconds (possibly negative), carried
    #: into the next bill so that short runs are not free.
    timer_carry_us: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Every hundredth ever billed on this clock: the audit holds the time records against it.
    billed_hundredths: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The highest rate its minutes were ever bought at: converting back never pays more.
    loaded_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


class TransferSheet(Base, Dated, Hideable):
    __tablename__ = "transfer_sheets"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    ewallet_id: Mapped[int] = mapped_column(ForeignKey("credit_ewallets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))


class InvoiceSheet(Base, Dated, Hideable):
    __tablename__ = "invoice_sheets"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    ewallet_id: Mapped[int] = mapped_column(ForeignKey("credit_ewallets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))


class TimeSheet(Base, Dated, Hideable):
    __tablename__ = "time_sheets"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    clock_id: Mapped[int] = mapped_column(ForeignKey("credit_clocks.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))


class ConversionSheet(Base, Dated, Hideable):
    __tablename__ = "conversion_sheets"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    clock_id: Mapped[int] = mapped_column(ForeignKey("credit_clocks.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))


# --- ledger records ------------------------------------------------------------------------------


class TransferRecord(Base, Dated, Hideable):
    """One side of a credit movement. The system side's rows have no sheet and no ewallet."""

    __tablename__ = "transfer_records"
    #: history: a sheet's visible records newest first, from below a cursor (migration 0005).
    __table_args__ = (Index("ix_transfer_records_history", "sheet_id", "hidden", "id"), AUTOINC)
    id: Mapped[int] = pk()
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_sheets.id"), index=True)
    ewallet_id: Mapped[int | None] = mapped_column(ForeignKey("credit_ewallets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    transfer_type: Mapped[str] = mapped_column(String(16))
    transfer_from: Mapped[str] = mapped_column(String(255))
    transfer_to: Mapped[str] = mapped_column(String(255))
    from_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    to_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    credits: Mapped[int] = mapped_column(BigInteger)


class InvoiceRecord(Base, Dated, Hideable):
    __tablename__ = "invoice_records"
    #: history: a sheet's visible records newest first, from below a cursor (migration 0005).
    __table_args__ = (Index("ix_invoice_records_history", "sheet_id", "hidden", "id"), AUTOINC)
    id: Mapped[int] = pk()
    sheet_id: Mapped[int] = mapped_column(ForeignKey("invoice_sheets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    credits: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    cost: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    seller: Mapped[str] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    #: The movement it invoices: the `supply` or `payment` row (one invoice per movement).
    transfer_record_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_records.id"), unique=True)


class ConversionRecord(Base, Dated, Hideable):
    __tablename__ = "conversion_records"
    #: history: a sheet's visible records newest first, from below a cursor (migration 0005).
    __table_args__ = (Index("ix_conversion_records_history", "sheet_id", "hidden", "id"), AUTOINC)
    id: Mapped[int] = pk()
    sheet_id: Mapped[int] = mapped_column(ForeignKey("conversion_sheets.id"), index=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("credit_clocks.id"), index=True)
    ewallet_id: Mapped[int] = mapped_column(ForeignKey("credit_ewallets.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    conversion_type: Mapped[str] = mapped_column(String(16))
    hundredths: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger)
    #: The rate in force, so the audit can check minutes against credits after a rate change.
    rate: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    notes: Mapped[str | None] = mapped_column(Text)


class TimeRecord(Base, Dated, Hideable):
    __tablename__ = "time_records"
    #: history: a sheet's visible records newest first, from below a cursor (migration 0005).
    __table_args__ = (Index("ix_time_records_history", "sheet_id", "hidden", "id"), AUTOINC)
    id: Mapped[int] = pk()
    sheet_id: Mapped[int] = mapped_column(ForeignKey("time_sheets.id"), index=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("credit_clocks.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    time_start: Mapped[datetime] = stamp()
    time_stop: Mapped[datetime | None] = stamp(nullable=True)
    spent_hundredths: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_hundredths: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)


# --- contacts (really deleted on unlink) --------------------------------------------------------


class ContactList(Base, Dated):
    __tablename__ = "contact_lists"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255))


class ContactRecord(Base, Dated):
    __tablename__ = "contact_records"
    __table_args__ = AUTOINC
    id: Mapped[int] = pk()
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)


# --- idempotency ----------------------------------------------------------------------------------


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "account_id", "key"),
        Index("ix_idempotency_keys_date", "create_date"),
        AUTOINC,
    )
    id: Mapped[int] = pk()
    #: "user" or "system": an operator's key and a user's key never meet.
    scope: Mapped[str] = mapped_column(String(8), default="user")
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    key: Mapped[str] = mapped_column(String(255))
    route: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    create_date: Mapped[datetime] = stamp()


# --- events (the outbox) ------------------------------------------------------------------------


class Event(Base):
    """Something that happened to an account, written in the transaction of the effect and
    delivered to its subscribers after commit. The id is the event's `seq`. Internal kinds only
    wake subscribers (another process's timer change, a logout) and are never delivered; the
    one row without an account marks when the database began keeping events."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_seq", "account_id", "id"),
        Index("ix_events_date", "create_date"),
        Index("ix_events_ref", "ref_id"),
        AUTOINC,
    )
    id: Mapped[int] = pk()
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    #: The row the event is about (the incoming transfer record, the time record): the audit
    #: holds movements against their events by it.
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Set where an event may be recorded at most once (one clock warning per run and threshold).
    once_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    create_date: Mapped[datetime] = stamp()
