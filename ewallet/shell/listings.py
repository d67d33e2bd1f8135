"""Commands that list records: history (one kind, newest page first, filtered, paged with the
history instruction's cursor), invoices, contacts."""

from __future__ import annotations

import re
from typing import Any

from ewallet.shell.registry import Command, number
from ewallet.shell.state import Shell, UsageError
from ewallet.shell.text import table

PAGE = 20
KINDS = ("transfer", "invoice", "time", "conversion")
TYPES = ("supply", "payment", "transfer", "incoming")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}")
#: transfer-only option -> the history parameter it sets
_OPTIONS = {"--type": "transfer_type", "--partner": "partner", "--min": "min_credits", "--max": "max_credits"}


def _row(kind: str, r: dict[str, Any]) -> list[Any]:
    if kind == "transfer":
        return [r["id"], r["create_date"], r["transfer_type"], r["transfer_from"], r["transfer_to"], r["credits"]]
    if kind == "invoice":
        return [r["id"], r["create_date"], r["seller"], r["credits"], f"{r['cost']:.2f} {r['currency']}", r["notes"]]
    if kind == "time":
        return [r["id"], r["time_start"], r["time_stop"] or "running", f"{r['time_spent']:.2f}", r["pending_count"]]
    return [r["id"], r["create_date"], r["conversion_type"], f"{r['minutes']:.2f}", r["credits"]]


HEADERS = {
    "transfer": ["id", "date", "type", "from", "to", "credits"],
    "invoice": ["id", "date", "seller", "credits", "cost", "notes"],
    "time": ["id", "start", "stop", "minutes", "pauses"],
    "conversion": ["id", "date", "type", "minutes", "credits"],
}


def _stamp(words: list[str]) -> str:
    """`DD-MM-YYYY [HH:MM:SS]`: a date alone means its midnight."""
    if not words:
        raise UsageError(f"usage: {HISTORY.usage}")
    day = words.pop(0)
    clock = words.pop(0) if words and _TIME.fullmatch(words[0]) else "00:00:00"
    return f"{day} {clock}"


def _query(shell: Shell, args: list[str]) -> tuple[str, int, dict[str, Any]]:
    """(kind, page size, filters) from `history [KIND] [N] [--option VALUE]...`."""
    words = list(args)
    kind, size, filters = "transfer", PAGE, dict[str, Any]()
    if words and words[0] in KINDS:
        kind = words.pop(0)
    while words:
        word = words.pop(0)
        if word.isdigit() and int(word) > 0:
            size = min(int(word), 500)
        elif word in _OPTIONS and words:
            if kind != "transfer":
                raise UsageError(f"{word} lists transfers only")
            value = words.pop(0)
            if word == "--partner":
                filters["partner"] = _partner(shell, value)
            elif word == "--type":
                filters["transfer_type"] = value
            else:
                filters[_OPTIONS[word]] = number(value)
        elif word in ("--since", "--until"):
            filters[word[2:]] = _stamp(words)
        elif word == "--sheet" and words:
            filters["sheet_id"] = number(words.pop(0))
        else:
            raise UsageError(f"usage: {HISTORY.usage}")
    return kind, size, filters


def _partner(shell: Shell, word: str) -> str:
    """An email for a name the shell knows; anything else (the system's name) as it is."""
    try:
        return shell.partner(word)
    except UsageError:
        return word


def history(shell: Shell, args: list[str]) -> None:
    if args == ["--more"]:
        if shell.history_next is None:
            raise UsageError("no older records to show: run history first")
        kind, kept, cursor = shell.history_next
        filters = {key: value for key, value in kept.items() if key != "limit"}
        size = int(kept["limit"])
    else:
        kind, size, filters = _query(shell, args)
        cursor = None
    shell.history_next = None
    given: dict[str, Any] = {**filters, "cursor": cursor} if cursor else filters
    page = shell.link.history_page(kind, limit=size, **given)
    records = page["records"]
    if not records:
        shell.say(f"no {kind} records")
        return
    for r in records:
        if kind == "transfer":
            for email in (r["transfer_from"], r["transfer_to"]):
                shell.remember(None, email)
    # A page reads like a statement, oldest at the top; pages go back in time.
    shell.say(table(HEADERS[kind], [_row(kind, r) for r in reversed(records)]))
    if page["next_cursor"] is not None:
        shell.history_next = (kind, {**filters, "limit": size}, page["next_cursor"])
        shell.say("older records: history --more")


def invoices(shell: Shell, args: list[str]) -> None:
    records = shell.link.history_page("invoice", limit=PAGE)["records"]
    rows = [_row("invoice", r) for r in reversed(records)]
    shell.say(table(HEADERS["invoice"], rows) if rows else "no invoices")


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
    "history [transfer|invoice|time|conversion] [N] [--since DATE [TIME]] [--until DATE [TIME]] [--sheet ID] "
    "[--type T] [--partner NAME|EMAIL] [--min N] [--max N] | history --more",
    "the latest N (20) records of one kind (transfer by default) across your sheets",
    history,
    slots=((*KINDS, "--more", "--since", "--until", "--type", "--partner"),),
    after={"transfer": (("--type", "--partner", "--min", "--max", "--since", "--until", "--sheet"),)},
    details="Each page shows the oldest of its records first; `history --more` shows the page before it, with the "
    "same kind and filters. DATE is DD-MM-YYYY, TIME HH:MM:SS (default 00:00:00); --since is inclusive, --until "
    f"exclusive. --type is one of {', '.join(TYPES)}; --type, --partner, --min and --max (credits, inclusive) "
    "apply to transfers only. Previous command lines: the Up key.",
)
COMMANDS = [
    HISTORY,
    Command("invoices", "invoices", "the latest invoice records across your invoice sheets", invoices),
    Command("contacts", "contacts", "the records of the active contact list", contacts),
]
