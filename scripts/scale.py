#!/usr/bin/env python3
"""Transfer throughput on a loaded database against an empty one, in one run.

Bulk-loads --accounts accounts (each with the default tree of ewallet, clock, sheets and contact
list, all sharing one precomputed password hash) and --records transfer records straight into a
fresh database, reporting the load time apart (with --audit, also the time `ewallet audit` takes
on it); then runs the transfer scenario of bench.py against a server on the loaded database and
on an empty one, and prints the ratio.
Last line: one JSON object with the figures.

    python scripts/scale.py                       # 100,000 accounts, 1,000,000 records, SQLite
    python scripts/scale.py --database postgresql+psycopg://postgres@127.0.0.1/scale
    python scripts/scale.py --audit --seconds 1   # and how long the audit takes on the million
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import run_load, start_ewallet, stop

from ewallet.storage.database import create_db_engine
from ewallet.storage.migrate import upgrade
from ewallet.storage.models import (
    Account,
    ContactList,
    ConversionSheet,
    CreditClock,
    CreditEwallet,
    InvoiceSheet,
    TimeSheet,
    TransferRecord,
    TransferSheet,
)

BATCH = 20_000
START_CREDITS = 1_000


def chunks(rows: list[dict], size: int = BATCH):  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def load(engine: Engine, accounts: int, records: int) -> dict[str, float]:
    now = datetime.now(UTC)
    pass_hash = PasswordHasher().hash("Scale!2345word")  # one hash for every account
    stamp = {"create_date": now, "write_date": now}
    started = time.perf_counter()
    ids = range(1, accounts + 1)
    tables = [
        (Account, [
            {"id": i, "name": f"scale{i}", "name_key": f"scale{i}", "email": f"scale{i}@example.com",
             "email_key": f"scale{i}@example.com", "pass_hash": pass_hash, "anonymised": False,
             "failed_logins": 0, **stamp} for i in ids]),
        (CreditEwallet, [{"id": i, "account_id": i, "reference": "Credit EWallet", "credits": 0, "hidden": False,
                          **stamp} for i in ids]),
        (CreditClock, [{"id": i, "ewallet_id": i, "reference": "Credit Clock", "hundredths": 0, "state": "inactive",
                        "hidden": False, "timer_active_us": 0, "timer_pending_us": 0, "timer_pending_count": 0,
                        **stamp} for i in ids]),
        (TransferSheet, [{"id": i, "ewallet_id": i, "reference": "Transfer Sheet", "hidden": False, **stamp}
                         for i in ids]),
        (InvoiceSheet, [{"id": i, "ewallet_id": i, "reference": "Invoice Sheet", "hidden": False, **stamp}
                        for i in ids]),
        (TimeSheet, [{"id": i, "clock_id": i, "reference": "Time Sheet", "hidden": False, **stamp} for i in ids]),
        (ConversionSheet, [{"id": i, "clock_id": i, "reference": "Conversion Sheet", "hidden": False, **stamp}
                           for i in ids]),
        (ContactList, [{"id": i, "account_id": i, "reference": "Contact List", **stamp} for i in ids]),
    ]  # fmt: skip
    balances = dict.fromkeys(ids, START_CREDITS)
    rng = random.Random(7)
    rows: list[dict] = []
    record = {"reference": "Transfer Sheet Record", "hidden": False, **stamp}
    for i in ids:  # each account is supplied first: the books balance
        email = f"scale{i}@example.com"
        rows.append({**record, "sheet_id": None, "ewallet_id": None, "transfer_type": "supply",
                     "transfer_from": "ewallet-system", "transfer_to": email, "from_account_id": None,
                     "to_account_id": i, "credits": START_CREDITS})  # fmt: skip
        rows.append({**record, "sheet_id": i, "ewallet_id": i, "transfer_type": "incoming",
                     "transfer_from": "ewallet-system", "transfer_to": email, "from_account_id": None,
                     "to_account_id": i, "credits": START_CREDITS})  # fmt: skip
    while len(rows) < records:
        a, b = rng.randrange(1, accounts + 1), rng.randrange(1, accounts + 1)
        if a == b or balances[a] == 0:
            continue
        balances[a] -= 1
        balances[b] += 1
        pair = {"from_account_id": a, "to_account_id": b, "credits": 1,
                "transfer_from": f"scale{a}@example.com", "transfer_to": f"scale{b}@example.com"}  # fmt: skip
        rows.append({**record, **pair, "sheet_id": a, "ewallet_id": a, "transfer_type": "transfer"})
        rows.append({**record, **pair, "sheet_id": b, "ewallet_id": b, "transfer_type": "incoming"})
    for row in tables[1][1]:
        row["credits"] = balances[row["id"]]
    with engine.begin() as connection:
        for model, data in tables:
            for chunk in chunks(data):
                connection.execute(insert(model.__table__), chunk)
        for chunk in chunks(rows):
            connection.execute(insert(TransferRecord.__table__), chunk)
        # Every supply has its invoice (ewallet audit checks it), in the buyer's invoice sheet.
        connection.execute(text(
            "INSERT INTO invoice_records (sheet_id, transfer_record_id, reference, credits, currency, cost, seller,"
            " create_date, write_date, hidden) SELECT to_account_id, id, 'Invoice Sheet Record', credits, 'RON', 0,"
            " transfer_from, create_date, write_date, false FROM transfer_records WHERE transfer_type = 'supply'"
        ))  # fmt: skip
        connection.execute(text(
            "UPDATE accounts SET active_ewallet_id = id, active_contact_list_id = id"))  # fmt: skip
        connection.execute(text(
            "UPDATE credit_ewallets SET active_clock_id = id, active_transfer_sheet_id = id,"
            " active_invoice_sheet_id = id"))  # fmt: skip
        connection.execute(text(
            "UPDATE credit_clocks SET active_time_sheet_id = id, active_conversion_sheet_id = id"))  # fmt: skip
        if engine.dialect.name == "postgresql":
            for table in ("accounts", "credit_ewallets", "credit_clocks", "transfer_sheets", "invoice_sheets",
                          "time_sheets", "conversion_sheets", "contact_lists", "transfer_records",
                          "invoice_records"):  # fmt: skip
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}")
                )
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return {"load_seconds": round(time.perf_counter() - started, 1), "transfer_records": len(rows)}


def audit(url: str) -> dict[str, object]:
    """`ewallet audit` on the loaded database, timed, as its own process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ewallet", "audit", "--database", url], capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    print(f"ewallet audit: exit {done.returncode} in {seconds} s; {done.stdout.strip().splitlines()[-1]}")
    return {"audit_seconds": seconds, "audit_exit": done.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of transfer load per run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--database", help="an empty database URL to load (default: a SQLite file)")
    parser.add_argument("--audit", action="store_true", help="time `ewallet audit` on the loaded database too")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="ewallet-scale-")
    loaded_url = args.database or f"sqlite:///{folder}/loaded.db"
    engine = create_db_engine(loaded_url)
    upgrade(engine)
    figures: dict[str, object] = {"accounts": args.accounts}
    figures.update(load(engine, args.accounts, args.records))
    engine.dispose()
    if args.audit:
        figures.update(audit(loaded_url))
    try:
        results = {}
        for name, url in (("empty", None), ("loaded", loaded_url)):
            run_folder = tempfile.mkdtemp(dir=folder)
            server, port = start_ewallet(url, run_folder, None, [])
            try:
                results[name] = run_load(port, "transfer", args.connections, args.seconds, None)
            finally:
                stop(server)
        for name, result in results.items():
            figures[f"{name}_transfers_per_s"] = round(result["per_s"], 1)
            figures[f"{name}_transfer_p99_ms"] = round(result["p99_ms"], 2)
        figures["loaded_to_empty"] = round(results["loaded"]["per_s"] / results["empty"]["per_s"], 3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"bulk load: {figures['accounts']} accounts, {figures['transfer_records']} transfer records"
          f" in {figures['load_seconds']} s")  # fmt: skip
    print(f"transfers/s empty {figures['empty_transfers_per_s']}, loaded {figures['loaded_transfers_per_s']}"
          f" (ratio {figures['loaded_to_empty']})")  # fmt: skip
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
