"""Direct access to a running test server's database, for the two things the wire cannot do yet:
read an account's login state while none of its sessions can view it, and put ledger records in
sheets before the money instructions exist (they write the same rows)."""

from __future__ import annotations

from decimal import Decimal

from ewallet.domain import views
from ewallet.domain.validation import find_account
from ewallet.schemas.shapes import AccountData
from ewallet.storage.database import session_factory
from ewallet.storage.models import ConversionRecord, InvoiceRecord, TimeRecord, TransferRecord
from tests.support import Running


def login_state(running: Running, email: str) -> tuple[int, str]:
    """(state_code, state_name) of the account, as its account_data would show them now."""
    with session_factory(running.app.engine).begin() as db:
        account = find_account(db, email=email)
        assert account is not None, "no such live account"
        data = AccountData.of(views.account_data(db, account, running.clock.now(), running.app.services.lifetimes))
        return data.state_code, data.state_name


def seed_records(running: Running, ewallet: dict, clock: dict) -> dict[str, int]:
    """One record of each ledger kind in the active sheets of the given ewallet_data and
    clock_data; answers {kind: record id}."""
    now = running.clock.now()
    dated = {"create_date": now, "write_date": now, "hidden": False}
    rows = {
        "transfer": TransferRecord(
            sheet_id=ewallet["transfer_sheet"],
            ewallet_id=ewallet["id"],
            reference="Transfer Sheet Record",
            transfer_type="incoming",
            transfer_from="someone@example.com",
            transfer_to="owner@example.com",
            credits=7,
            **dated,
        ),
        "invoice": InvoiceRecord(
            sheet_id=ewallet["invoice_sheet"],
            reference="Invoice Sheet Record",
            credits=7,
            currency="RON",
            cost=Decimal("3.50"),
            seller="someone",
            notes=None,
            **dated,
        ),
        "time": TimeRecord(
            sheet_id=clock["time_sheet"],
            clock_id=clock["id"],
            reference="Time Sheet Record",
            time_start=now,
            time_stop=now,
            spent_hundredths=0,
            pending_hundredths=0,
            pending_count=0,
            **dated,
        ),
        "conversion": ConversionRecord(
            sheet_id=clock["conversion_sheet"],
            clock_id=clock["id"],
            ewallet_id=ewallet["id"],
            reference="Conversion Sheet Record",
            conversion_type="credits2clock",
            hundredths=100,
            credits=1,
            rate=Decimal("1.00"),
            notes=None,
            **dated,
        ),
    }
    with session_factory(running.app.engine).begin() as db:
        db.add_all(rows.values())
        db.flush()
        return {kind: row.id for kind, row in rows.items()}
