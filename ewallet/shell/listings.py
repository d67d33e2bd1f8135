"""Commands that list records: history (pages over the active transfer sheet's records, newest
page first), invoices, contacts. The protocol's history instruction does not exist yet; once it
does, `history` should page with its cursor instead of viewing record by record."""

from __future__ import annotations

from typing import Any

from ewallet.shell.registry import Command, number
from ewallet.shell.state import Shell, UsageError
from ewallet.shell.text import table

PAGE = 20


def _page(ids: list[int], size: int, before: int | None) -> tuple[list[int], bool]:
    """The `size` highest ids below `before`, ascending, and whether older ones remain."""
    kept = sorted(i for i in ids if before is None or i < before)
    return kept[-size:], len(kept) > size


def _paging(args: list[str]) -> tuple[int, int | None]:
    size, before = PAGE, None
    words = list(args)
    while words:
        word = words.pop(0)
        if word == "--before" and words:
            before = number(words.pop(0))
        elif word.isdigit() and int(word) > 0:
            size = int(word)
        else:
            raise UsageError(f"usage: {HISTORY.usage}")
    return size, before


def _records(shell: Shell, kind: str, ids: list[int]) -> list[dict[str, Any]]:
    return [shell.link.view_record(kind, rid)["record_data"] for rid in ids]


def history(shell: Shell, args: list[str]) -> None:
    size, before = _paging(args)
    ids = [int(rid) for rid in shell.link.view_sheet("transfer")["sheet_data"]["records"]]
    page, more = _page(ids, size, before)
    rows = []
    for r in _records(shell, "transfer", page):
        rows.append([r["id"], r["create_date"], r["transfer_type"], r["transfer_from"], r["transfer_to"], r["credits"]])
        for email in (r["transfer_from"], r["transfer_to"]):
            shell.remember(None, email)
    if not rows:
        shell.say("no transfer records" + (f" before {before}" if before is not None else ""))
        return
    shell.say(table(["id", "date", "type", "from", "to", "credits"], rows))
    if more:
        shell.say(f"older records: history {size} --before {page[0]}")


def invoices(shell: Shell, args: list[str]) -> None:
    ids = [int(rid) for rid in shell.link.view_sheet("invoice")["sheet_data"]["records"]]
    page, _ = _page(ids, PAGE, None)
    rows = [
        [r["id"], r["create_date"], r["seller"], r["credits"], f"{r['cost']:.2f} {r['currency']}", r["notes"]]
        for r in _records(shell, "invoice", page)
    ]
    shell.say(table(["id", "date", "seller", "credits", "cost", "notes"], rows) if rows else "no invoices")


def contacts(shell: Shell, args: list[str]) -> None:
    ids = [int(rid) for rid in shell.link.view_contact_list()["list_data"]["records"]]
    rows = []
    for rid in sorted(ids):
        r = shell.link.view_contact_record(rid)["record_data"]
        shell.remember(r["name"], r["email"])
        rows.append([r["id"], r["name"], r["email"], r["phone"], r["notes"]])
    shell.say(table(["id", "name", "email", "phone", "notes"], rows) if rows else "no contacts")


HISTORY = Command(
    "history",
    "history [N] [--before ID]",
    "the latest N (20) records of the active transfer sheet",
    history,
    slots=(("--before",),),
    details="A page ends with the command that shows the page before it. Previous command lines: the Up key.",
)
COMMANDS = [
    HISTORY,
    Command("invoices", "invoices", "the latest invoice records of the active invoice sheet", invoices),
    Command("contacts", "contacts", "the records of the active contact list", contacts),
]
