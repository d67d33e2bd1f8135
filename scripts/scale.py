#!/usr/bin/env python3
"""Transfer throughput on a loaded database against an empty one, and history pages at depth, in
one run.

Bulk-loads --accounts accounts (each with the default tree of ewallet, clock, sheets and contact
list, all sharing one precomputed password hash) and --records transfer records straight into a
fresh database, plus --history-records records in the transfer sheet of account 1 (`scale1`, each
one side of a transfer with one of ten partners, so the books still balance), reporting the load
time apart (with --audit, also the time `ewallet audit` takes on it). Then, on a server on the
loaded database, it times `history` for account 1 (median of 20 requests over one connection):
the first page, a page a million records deep, and a filtered page at the top and at depth. Then
it runs the transfer scenario of bench.py against a server on the loaded database and on an
empty one, and prints the ratio (--no-transfers leaves that out).
Last line: one JSON object with the figures.

    python scripts/scale.py                       # 100,000 accounts, 1,000,000 + 1,000,100 records, SQLite
    python scripts/scale.py --database postgresql+psycopg://postgres@127.0.0.1/scale
    python scripts/scale.py --audit --seconds 1   # and how long the audit takes on the million
    python scripts/scale.py --no-transfers        # the load and the history pages only
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine, insert, text

from ewallet.client import Client
from ewallet.domain import cursors
from ewallet.domain.history import Filters
from ewallet.domain.validation import email_key, name_key

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
PASSWORD = "Scale!2345word"
#: The heavy account's partners: accounts 2 to 11.
PARTNERS = range(2, 12)
DEPTH = 1_000_000


def chunks(rows: list[dict], size: int = BATCH):  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def heavy_rows(history_records: int, record: dict) -> Iterator[dict]:
    """Account 1's history: pairs of records (its own and its partner's side), alternately out of
    and into account 1, 1 or 2 credits a pair, so that every balance ends where it began."""
    me = "scale1@example.com"
    for n in range(history_records):
        partner = PARTNERS[n % len(PARTNERS)]
        other = f"scale{partner}@example.com"
        credits = 1 + (n // 2) % 2
        if n % 2 == 0:  # account 1 sends
            pair = {"from_account_id": 1, "to_account_id": partner, "credits": credits, "transfer_from": me,
                    "transfer_to": other}  # fmt: skip
            yield {**record, **pair, "sheet_id": 1, "ewallet_id": 1, "transfer_type": "transfer"}
            yield {**record, **pair, "sheet_id": partner, "ewallet_id": partner, "transfer_type": "incoming"}
        else:  # the same partner sends it back
            pair = {"from_account_id": partner, "to_account_id": 1, "credits": credits, "transfer_from": other,
                    "transfer_to": me}  # fmt: skip
            yield {**record, **pair, "sheet_id": partner, "ewallet_id": partner, "transfer_type": "transfer"}
            yield {**record, **pair, "sheet_id": 1, "ewallet_id": 1, "transfer_type": "incoming"}


def load(engine: Engine, accounts: int, records: int, history_records: int = 0) -> dict[str, float]:
    now = datetime.now(UTC)
    pass_hash = PasswordHasher().hash(PASSWORD)  # one hash for every account
    stamp = {"create_date": now, "write_date": now}
    started = time.perf_counter()
    ids = range(1, accounts + 1)
    tables = [
        (Account, [
            {"id": i, "name": f"scale{i}", "name_key": name_key(f"scale{i}"), "email": f"scale{i}@example.com",
             "email_key": email_key(f"scale{i}@example.com"), "pass_hash": pass_hash, "anonymised": False,
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
        # Account 1's long history comes last (the newest records), streamed in batches.
        heavy = heavy_rows(history_records, record)
        while batch := list(itertools.islice(heavy, BATCH)):
            connection.execute(insert(TransferRecord.__table__), batch)
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
    return {"load_seconds": round(time.perf_counter() - started, 1),
            "transfer_records": len(rows) + 2 * history_records}  # fmt: skip


def deep_cursor(engine: Engine, depth: int, filters: Filters, where: str = "") -> str:
    """The cursor a walk of account 1's history (these filters) holds after `depth` records."""
    with engine.connect() as connection:
        last = connection.execute(
            text(f"SELECT id FROM transfer_records WHERE sheet_id = 1 AND hidden = false {where}"
                 " ORDER BY id DESC LIMIT 1 OFFSET :skip"), {"skip": depth - 1}
        ).scalar_one()  # fmt: skip
    return cursors.encode(int(last), (1, "transfer", filters.normalised()))


def history_pages(url: str, folder: str, history_records: int) -> dict[str, float]:
    """Median milliseconds of `history` pages of account 1 on a server on the loaded database."""
    engine = create_db_engine(url)
    depth = min(DEPTH, history_records - 50)
    kept = {"transfer_type": "incoming", "min_credits": 2}
    where = "AND transfer_type = 'incoming' AND credits >= 2"
    filtered = Filters(transfer_type="incoming", min_credits=2)
    # incoming records of 2 credits are every fourth record of account 1: the filtered deep page
    # lies as deep among those as it can (a quarter of a million), a million records down
    pages: dict[str, dict[str, object]] = {
        "first_page": {},
        "deep_page": {"cursor": deep_cursor(engine, depth, Filters())},
        "filtered_first_page": kept,
        "filtered_deep_page": {
            **kept,
            "cursor": deep_cursor(engine, min(depth, history_records // 4 - 50), filtered, where),
        },
    }
    engine.dispose()
    server, port = start_ewallet(url, tempfile.mkdtemp(dir=folder), None, [])
    figures: dict[str, float] = {"history_depth": depth}
    try:
        with Client("127.0.0.1", port, timeout=120) as client:
            client.open_session()
            client.login("scale1", PASSWORD)
            for name, params in pages.items():
                times = []
                for _ in range(20):
                    started = time.perf_counter()
                    page = client.history_page("transfer", limit=50, **params)  # type: ignore[arg-type]
                    times.append((time.perf_counter() - started) * 1000)
                    assert len(page["records"]) == 50, name
                figures[f"history_{name}_ms"] = round(statistics.median(times), 2)
    finally:
        stop(server)
    return figures


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
    parser.add_argument(
        "--history-records",
        type=int,
        default=DEPTH + 100,
        help="records in account 1's transfer sheet (history pages are timed at depth 1,000,000)",
    )
    parser.add_argument("--no-transfers", action="store_true", help="leave out the transfer throughput runs")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="ewallet-scale-")
    loaded_url = args.database or f"sqlite:///{folder}/loaded.db"
    engine = create_db_engine(loaded_url)
    upgrade(engine)
    figures: dict[str, object] = {"accounts": args.accounts}
    figures.update(load(engine, args.accounts, args.records, args.history_records))
    engine.dispose()
    if args.audit:
        figures.update(audit(loaded_url))
    try:
        if args.history_records > 100:
            figures.update(history_pages(loaded_url, folder, args.history_records))
            print(f"history (account 1, {args.history_records} records, 50 a page, median ms): first page"
                  f" {figures['history_first_page_ms']}, {figures['history_depth']} deep"
                  f" {figures['history_deep_page_ms']}, filtered first {figures['history_filtered_first_page_ms']},"
                  f" filtered deep {figures['history_filtered_deep_page_ms']}", flush=True)  # fmt: skip
        if args.no_transfers:
            print(json.dumps(figures))
            return 0
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
