"""Migration 0003 on a database that holds data (both backends): identity keys become digests of
the NFKC case-folded values (an equivalent twin registered earlier keeps a key of its own), the
cleaner's old placeholders gain their "@", invoices are linked to their movements, clocks get
their billed total, loaded rate and expected stop, and operator keys their own namespace."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, select

from ewallet.domain.validation import identity_key
from ewallet.storage.database import create_db_engine
from ewallet.storage.migrate import upgrade
from ewallet.storage.types import UTCDateTime
from tests.storage.test_migrations import empty_database_url  # noqa: F401  (the fixture)

T0 = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


@pytest.fixture
def at_0002(empty_database_url: str) -> Iterator[Engine]:  # noqa: F811
    engine = create_db_engine(empty_database_url)
    upgrade(engine, "0002")
    yield engine
    engine.dispose()


def stamp(engine: Engine, instant: datetime) -> Any:
    return UTCDateTime().process_bind_param(instant, engine.dialect)


def seed(engine: Engine) -> None:
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    t0, t1, t2 = (stamp(engine, T0 + timedelta(seconds=n)) for n in range(3))
    dates = {"create_date": t0, "write_date": t0}
    account = {"failed_logins": 0, "pass_hash": "x", **dates}
    with engine.begin() as conn:
        conn.execute(
            insert(t["accounts"]),
            [
                {"id": 1, "name": "ALICE", "name_key": "alice", "email": "Alice@Example.com",
                 "email_key": "alice@example.com", "anonymised": False, **account},
                {"id": 2, "name": "\uff41\uff4c\uff49\uff43\uff45", "name_key": "\uff41\uff4c\uff49\uff43\uff45",
                 "email": "twin@example.com", "email_key": "twin@example.com", "anonymised": False, **account},
                {"id": 3, "name": "deleted-account-3", "name_key": "deleted-account-3", "email": "deleted-account-3",
                 "email_key": "reserved:abc", "anonymised": True, **account},
            ],
        )  # fmt: skip
        conn.execute(
            insert(t["credit_ewallets"]).values(id=1, account_id=1, reference="W", credits=6, hidden=False, **dates)
        )
        conn.execute(insert(t["invoice_sheets"]).values(id=1, ewallet_id=1, reference="I", hidden=False, **dates))
        conn.execute(insert(t["transfer_sheets"]).values(id=1, ewallet_id=1, reference="T", hidden=False, **dates))
        movement = {"reference": "R", "hidden": False, "write_date": t0}
        conn.execute(
            insert(t["transfer_records"]),
            [
                {"id": 1, "sheet_id": None, "ewallet_id": None, "transfer_type": "supply", "transfer_from": "sys",
                 "transfer_to": "a", "from_account_id": None, "to_account_id": 1, "credits": 10, "create_date": t0,
                 **movement},
                {"id": 2, "sheet_id": 1, "ewallet_id": 1, "transfer_type": "incoming", "transfer_from": "sys",
                 "transfer_to": "a", "from_account_id": None, "to_account_id": 1, "credits": 10, "create_date": t0,
                 **movement},
                {"id": 3, "sheet_id": 1, "ewallet_id": 1, "transfer_type": "payment", "transfer_from": "a",
                 "transfer_to": "b", "from_account_id": 1, "to_account_id": 2, "credits": 4, "create_date": t1,
                 **movement},
            ],
        )  # fmt: skip
        invoice = {"reference": "V", "currency": "RON", "cost": Decimal("0.00"), "notes": None, "hidden": False}
        invoice |= {"sheet_id": 1}
        conn.execute(
            insert(t["invoice_records"]),
            [
                {"id": 1, "credits": 10, "seller": "sys", "create_date": t0, "write_date": t0, **invoice},
                {"id": 2, "credits": 4, "seller": "b", "create_date": t1, "write_date": t1, **invoice},
            ],
        )  # fmt: skip
        conn.execute(
            insert(t["credit_clocks"]).values(
                id=1, ewallet_id=1, reference="C", hundredths=500, state="active", hidden=False,
                timer_segment_start=t2, timer_active_us=0, timer_pending_us=0, timer_pending_count=0, **dates,
            )
        )  # fmt: skip
        conn.execute(insert(t["time_sheets"]).values(id=1, clock_id=1, reference="TS", hidden=False, **dates))
        conn.execute(insert(t["conversion_sheets"]).values(id=1, clock_id=1, reference="CS", hidden=False, **dates))
        spent = {"sheet_id": 1, "clock_id": 1, "reference": "TR", "hidden": False, "pending_hundredths": 0,
                 "pending_count": 0, "time_start": t0, "time_stop": t1, **dates}  # fmt: skip
        conn.execute(insert(t["time_records"]), [{"spent_hundredths": 30, **spent}, {"spent_hundredths": 20, **spent}])
        conversion = {"sheet_id": 1, "clock_id": 1, "ewallet_id": 1, "reference": "CR", "hidden": False, "notes": None,
                      "conversion_type": "credits2clock", **dates}  # fmt: skip
        conn.execute(
            insert(t["conversion_records"]),
            [
                {"hundredths": 300, "credits": 3, "rate": Decimal("1.00"), **conversion},
                {"hundredths": 400, "credits": 2, "rate": Decimal("2.00"), **conversion},
            ],
        )
        key = {"account_id": 1, "params": "{}", "response": "{}", "create_date": t0}
        conn.execute(
            insert(t["idempotency_keys"]),
            [{"key": "k", "route": "system supply=credits", **key}, {"key": "k2", "route": "client pay", **key}],
        )


class TestMigration0003:
    def test_rekeys_links_and_backfills(self, at_0002: Engine) -> None:
        seed(at_0002)
        upgrade(at_0002)
        tables = MetaData()
        tables.reflect(at_0002)
        t = tables.tables
        with at_0002.connect() as conn:
            accounts = {row.id: row for row in conn.execute(select(t["accounts"]))}
            assert accounts[1].name_key == identity_key("alice")
            assert accounts[1].email_key == identity_key("alice@example.com")
            # The full-width twin of an older account keeps a key of its own.
            assert accounts[2].name_key.endswith("#2") and accounts[2].name_key != accounts[1].name_key
            assert (accounts[3].name, accounts[3].email) == ("@deleted-account-3", "@deleted-account-3")
            assert accounts[3].email_key == "reserved:abc"
            invoices = t["invoice_records"]
            links = {row[0]: row[1] for row in conn.execute(select(invoices.c.id, invoices.c.transfer_record_id))}
            assert links == {1: 1, 2: 3}
            clock = conn.execute(select(t["credit_clocks"])).one()
            assert (clock.billed_hundredths, Decimal(clock.loaded_rate), clock.timer_carry_us) == (
                50,
                Decimal("2.00"),
                0,
            )
            expected_stop = T0 + timedelta(seconds=2) + timedelta(minutes=5)
            assert UTCDateTime().process_result_value(clock.timer_expected_stop, at_0002.dialect) == expected_stop
            keys = t["idempotency_keys"]
            scopes = {row[0]: row[1] for row in conn.execute(select(keys.c.key, keys.c.scope))}
            assert scopes == {"k": "system", "k2": "user"}
