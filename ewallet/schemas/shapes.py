"""Data shapes that several replies share, built by named constructors from the domain's
read models: the constructors are where the protocol's names and units are spelled."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from ewallet.domain.kinds import EWALLET_KINDS
from ewallet.domain.session_views import SessionDetails, SessionSummary
from ewallet.domain.units import minutes_of
from ewallet.domain.views import (
    AccountInfo,
    ClockInfo,
    ContactListInfo,
    ContactRecordInfo,
    ConversionRecordInfo,
    EwalletInfo,
    InvoiceRecordInfo,
    RecordInfo,
    SheetInfo,
    Stamped,
    TimeRecordInfo,
    TransferRecordInfo,
)
from ewallet.schemas.values import Timestamp


class Shape(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


class SessionData(Shape):
    session_user_account: str | None
    session_credit_ewallet: int | None
    session_contact_list: int | None
    session_account_archive: dict[str, str]

    @classmethod
    def of(cls, summary: SessionSummary) -> SessionData:
        return SessionData(**_session_fields(summary))


class SystemSessionData(SessionData):
    id: int
    reference: str
    create_date: Timestamp
    write_date: Timestamp
    expiration_date: Timestamp
    worker: int | None

    @classmethod
    def of_session(cls, session: SessionDetails, worker: int | None) -> SystemSessionData:
        return cls(
            id=session.id,
            reference=session.reference,
            create_date=session.create_date,
            write_date=session.write_date,
            expiration_date=session.expiration_date,
            worker=worker,
            **_session_fields(session.summary),
        )


def _session_fields(summary: SessionSummary) -> dict[str, Any]:
    return {
        "session_user_account": summary.active_email,
        "session_credit_ewallet": summary.active_ewallet_id,
        "session_contact_list": summary.active_contact_list_id,
        "session_account_archive": summary.stack,
    }


class WorkerData(Shape):
    create_date: Timestamp
    state_code: int
    state_label: str
    state_timestamp: Timestamp
    sessions: list[int]


class AccountData(Shape):
    id: int
    name: str
    create_date: Timestamp
    write_date: Timestamp
    ewallet: int | None
    contact_list: int | None
    email: str
    phone: str | None
    alias: str | None
    state_code: int
    state_name: str
    ewallet_archive: dict[int, str]
    contact_list_archive: dict[int, str]

    @classmethod
    def of(cls, account: AccountInfo) -> AccountData:
        return cls(
            id=account.id,
            name=account.name,
            create_date=account.create_date,
            write_date=account.write_date,
            ewallet=account.ewallets.active_id,
            contact_list=account.contact_lists.active_id,
            email=account.email,
            phone=account.phone,
            alias=account.alias,
            state_code=1 if account.logged_in else 0,
            state_name="LoggedIn" if account.logged_in else "LoggedOut",
            ewallet_archive=account.ewallets.archive,
            contact_list_archive=account.contact_lists.archive,
        )


class Dated(Shape):
    id: int
    reference: str
    create_date: Timestamp
    write_date: Timestamp

    @classmethod
    def _stamped(cls, info: Stamped, **fields: Any) -> Self:
        return cls(
            id=info.id, reference=info.reference, create_date=info.create_date, write_date=info.write_date, **fields
        )


class EwalletData(Dated):
    user: int
    credits: int
    clock: int | None
    clock_archive: dict[int, str]
    transfer_sheet: int | None
    transfer_sheet_archive: dict[int, str]
    invoice_sheet: int | None
    invoice_sheet_archive: dict[int, str]

    @classmethod
    def of(cls, ewallet: EwalletInfo) -> EwalletData:
        return cls._stamped(
            ewallet,
            user=ewallet.account_id,
            credits=ewallet.credits,
            clock=ewallet.clocks.active_id,
            clock_archive=ewallet.clocks.archive,
            transfer_sheet=ewallet.transfer_sheets.active_id,
            transfer_sheet_archive=ewallet.transfer_sheets.archive,
            invoice_sheet=ewallet.invoice_sheets.active_id,
            invoice_sheet_archive=ewallet.invoice_sheets.archive,
        )


class ClockData(Dated):
    ewallet: int
    credit_clock: float
    clock_state: str
    time_sheet: int | None
    time_sheet_archive: dict[int, str]
    conversion_sheet: int | None
    conversion_sheet_archive: dict[int, str]

    @classmethod
    def of(cls, clock: ClockInfo) -> ClockData:
        return cls._stamped(
            clock,
            ewallet=clock.ewallet_id,
            credit_clock=minutes_of(clock.hundredths),
            clock_state=clock.state,
            time_sheet=clock.time_sheets.active_id,
            time_sheet_archive=clock.time_sheets.archive,
            conversion_sheet=clock.conversion_sheets.active_id,
            conversion_sheet_archive=clock.conversion_sheets.archive,
        )


class EwalletSheetData(Dated):
    ewallet: int
    records: dict[int, str]

    @classmethod
    def of(cls, sheet: SheetInfo) -> EwalletSheetData:
        return cls._stamped(sheet, ewallet=sheet.parent_id, records=sheet.records)


class ClockSheetData(Dated):
    clock: int
    records: dict[int, str]

    @classmethod
    def of(cls, sheet: SheetInfo) -> ClockSheetData:
        return cls._stamped(sheet, clock=sheet.parent_id, records=sheet.records)


class ListData(Dated):
    user: int
    records: dict[int, str]

    @classmethod
    def of(cls, contact_list: ContactListInfo) -> ListData:
        return cls._stamped(contact_list, user=contact_list.account_id, records=contact_list.records)


class TransferRecordData(Dated):
    transfer_sheet: int | None
    transfer_type: str
    transfer_from: str
    transfer_to: str
    credits: int

    @classmethod
    def of(cls, record: TransferRecordInfo) -> TransferRecordData:
        return cls._stamped(
            record,
            transfer_sheet=record.sheet_id,
            transfer_type=record.transfer_type,
            transfer_from=record.transfer_from,
            transfer_to=record.transfer_to,
            credits=record.credits,
        )


class InvoiceRecordData(Dated):
    invoice_sheet: int
    credits: int
    currency: str
    cost: float
    seller: str
    notes: str | None

    @classmethod
    def of(cls, record: InvoiceRecordInfo) -> InvoiceRecordData:
        return cls._stamped(
            record,
            invoice_sheet=record.sheet_id,
            credits=record.credits,
            currency=record.currency,
            cost=float(record.cost),
            seller=record.seller,
            notes=record.notes,
        )


class ConversionRecordData(Dated):
    conversion_sheet: int
    conversion_type: str
    minutes: float
    credits: int

    @classmethod
    def of(cls, record: ConversionRecordInfo) -> ConversionRecordData:
        return cls._stamped(
            record,
            conversion_sheet=record.sheet_id,
            conversion_type=record.conversion_type,
            minutes=minutes_of(record.hundredths),
            credits=record.credits,
        )


class TimeRecordData(Dated):
    time_sheet: int
    time_start: Timestamp
    time_stop: Timestamp | None
    time_spent: float
    time_pending: float
    pending_count: int

    @classmethod
    def of(cls, record: TimeRecordInfo) -> TimeRecordData:
        return cls._stamped(
            record,
            time_sheet=record.sheet_id,
            time_start=record.time_start,
            time_stop=record.time_stop,
            time_spent=minutes_of(record.spent_hundredths),
            time_pending=minutes_of(record.pending_hundredths),
            pending_count=record.pending_count,
        )


class ContactRecordData(Dated):
    contact_list: int
    name: str
    email: str | None
    phone: str | None
    notes: str | None

    @classmethod
    def of(cls, record: ContactRecordInfo) -> ContactRecordData:
        return cls._stamped(
            record, contact_list=record.list_id, name=record.name, email=record.email, phone=record.phone,
            notes=record.notes,
        )  # fmt: skip


RECORD_SHAPES: dict[str, type[Dated]] = {
    "transfer": TransferRecordData,
    "invoice": InvoiceRecordData,
    "conversion": ConversionRecordData,
    "time": TimeRecordData,
}
SHEET_SHAPES: dict[str, type[Dated]] = {
    "transfer": EwalletSheetData,
    "invoice": EwalletSheetData,
    "time": ClockSheetData,
    "conversion": ClockSheetData,
}


def sheet_shape(sheet: SheetInfo) -> EwalletSheetData | ClockSheetData:
    """A sheet's data, its parent named as the kind's parent is ("ewallet" or "clock")."""
    return EwalletSheetData.of(sheet) if sheet.kind in EWALLET_KINDS else ClockSheetData.of(sheet)


def record_shape(record: RecordInfo) -> Dated:
    match record:
        case TransferRecordInfo():
            return TransferRecordData.of(record)
        case InvoiceRecordInfo():
            return InvoiceRecordData.of(record)
        case ConversionRecordInfo():
            return ConversionRecordData.of(record)
        case TimeRecordInfo():
            return TimeRecordData.of(record)
