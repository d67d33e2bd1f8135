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


class Dated(Shape):
    id: int
    reference: str
    create_date: Timestamp
    write_date: Timestamp


class EwalletData(Dated):
    user: int
    credits: int
    clock: int | None
    clock_archive: dict[int, str]
    transfer_sheet: int | None
    transfer_sheet_archive: dict[int, str]
    invoice_sheet: int | None
    invoice_sheet_archive: dict[int, str]


class ClockData(Dated):
    ewallet: int
    credit_clock: float
    clock_state: str
    time_sheet: int | None
    time_sheet_archive: dict[int, str]
    conversion_sheet: int | None
    conversion_sheet_archive: dict[int, str]


class EwalletSheetData(Dated):
    ewallet: int
    records: dict[int, str]


class ClockSheetData(Dated):
    clock: int
    records: dict[int, str]


class ListData(Dated):
    user: int
    records: dict[int, str]


class TransferRecordData(Dated):
    transfer_sheet: int | None
    transfer_type: str
    transfer_from: str
    transfer_to: str
    credits: int


class InvoiceRecordData(Dated):
    invoice_sheet: int
    credits: int
    currency: str
    cost: float
    seller: str
    notes: str | None


class ConversionRecordData(Dated):
    conversion_sheet: int
    conversion_type: str
    minutes: float
    credits: int


class TimeRecordData(Dated):
    time_sheet: int
    time_start: Timestamp
    time_stop: Timestamp | None
    time_spent: float
    time_pending: float
    pending_count: int


class ContactRecordData(Dated):
    contact_list: int
    name: str
    email: str | None
    phone: str | None
    notes: str | None


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
