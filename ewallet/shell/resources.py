"""Commands for the objects an account owns: ewallets, clocks, sheets, records, contact lists and
contacts; and `raw` for any instruction the commands do not cover. `new`, `switch` and `remove`
(the protocol's unlink: ledger objects are hidden, contacts deleted) read the same for each."""

from __future__ import annotations

import json
from typing import Any

from ewallet.client.instructions import SHEET_KINDS
from ewallet.shell.registry import Command, number
from ewallet.shell.state import Shell, UsageError

VERBS = ("new", "switch", "remove")


def _verb(command: Command, args: list[str]) -> tuple[str | None, list[str]]:
    """`new [REF]`, `switch ID` or `remove ID`; None: show the active one."""
    if not args:
        return None, []
    if args[0] not in VERBS or (args[0] != "new" and len(args) < 2):
        raise UsageError(f"usage: {command.usage}")
    return args[0], args[1:]


def _listing(what: str, active: Any, archive: dict[str, Any]) -> str:
    others = ", ".join(f"{key} {name}" for key, name in archive.items())
    return f"active {what}: {active}; all: {others}"


def ewallet(shell: Shell, args: list[str]) -> None:
    verb, rest = _verb(EWALLET, args)
    link = shell.link
    if verb == "new":
        data = link.new_credit_ewallet(*rest[:1])["ewallet_data"]
        shell.say(f"new ewallet {data['id']} ({data['reference']}); make it active: ewallet switch {data['id']}")
    elif verb == "switch":
        data = link.switch_credit_ewallet(number(rest[0]))["ewallet_data"]
        shell.say(f"active ewallet: {data['id']} ({data['reference']}), {data['credits']} credits")
    elif verb == "remove":
        shell.say(f"ewallet {link.unlink_credit_ewallet(number(rest[0]))['credit_ewallet']} removed")
    else:
        account = link.view_account()["account_data"]
        shell.say(_listing("ewallet", account["ewallet"], account["ewallet_archive"]))


def clock(shell: Shell, args: list[str]) -> None:
    verb, rest = _verb(CLOCK, args)
    link = shell.link
    if verb == "new":
        data = link.new_credit_clock(*rest[:1])["clock_data"]
        shell.say(f"new clock {data['id']} ({data['reference']}); make it active: clock switch {data['id']}")
    elif verb == "switch":
        data = link.switch_credit_clock(number(rest[0]))["clock_data"]
        shell.say(f"active clock: {data['id']} ({data['reference']}), {data['credit_clock']:.2f} minutes")
    elif verb == "remove":
        shell.say(f"clock {link.unlink_credit_clock(number(rest[0]))['credit_clock']} removed")
    else:
        wallet = link.view_credit_ewallet()["ewallet_data"]
        shell.say(_listing("clock", wallet["clock"], wallet["clock_archive"]))


def sheet(shell: Shell, args: list[str]) -> None:
    kind = SHEET.args(args, 1)[0]
    if kind not in SHEET_KINDS:
        raise UsageError(f"usage: {SHEET.usage}")
    verb, rest = _verb(SHEET, args[1:])
    link = shell.link
    if verb == "new":
        data = link.new_sheet(kind, *rest[:1])["sheet_data"]
        shell.say(f"new {kind} sheet {data['id']}; make it active: sheet {kind} switch {data['id']}")
    elif verb == "switch":
        data = link.switch_sheet(kind, number(rest[0]))["sheet_data"]
        shell.say(f"active {kind} sheet: {data['id']} ({data['reference']}), {len(data['records'])} records")
    elif verb == "remove":
        shell.say(f"{kind} sheet {link.unlink_sheet(kind, number(rest[0]))[f'{kind}_sheet']} removed")
    else:
        data = link.view_sheet(kind)["sheet_data"]
        ids = ", ".join(str(rid) for rid in data["records"]) or "none"
        shell.say(f"{kind} sheet {data['id']} ({data['reference']}); records: {ids}")


def record(shell: Shell, args: list[str]) -> None:
    kind, rid = RECORD.args(args, 2)[:2]
    if kind not in SHEET_KINDS or args[2:] not in ([], ["remove"]):
        raise UsageError(f"usage: {RECORD.usage}")
    if args[2:]:
        shell.link.unlink_record(kind, number(rid))
        shell.say(f"{kind} record {rid} removed")
        return
    data = shell.link.view_record(kind, number(rid))["record_data"]
    shell.say("\n".join(f"{key}: {value}" for key, value in data.items()))


def contact(shell: Shell, args: list[str]) -> None:
    verb = CONTACT.args(args, 1)[0]
    link = shell.link
    if verb == "add":
        name, *more = CONTACT.args(args[1:], 1)
        fields = dict(zip(("user_email", "user_phone"), more, strict=False))
        answer = link.new_contact_record(name, **fields)
        shell.remember(name, fields.get("user_email"))
        shell.say(f"contact {answer['contact_record']} added to list {answer['contact_list']}")
    elif verb in ("show", "remove") and len(args) == 2:
        if verb == "remove":
            link.unlink_contact_record(number(args[1]))
            shell.say(f"contact {args[1]} removed")
        else:
            data = link.view_contact_record(number(args[1]))["record_data"]
            shell.remember(data["name"], data["email"])
            shell.say("\n".join(f"{key}: {value}" for key, value in data.items()))
    elif verb == "list":
        list_verb, rest = _verb(CONTACT, args[1:])
        if list_verb == "new":
            data = link.new_contact_list(*rest[:1])["list_data"]
            shell.say(f"new contact list {data['id']}; make it active: contact list switch {data['id']}")
        elif list_verb == "switch":
            data = link.switch_contact_list(number(rest[0]))["list_data"]
            shell.say(f"active contact list: {data['id']} ({data['reference']}), {len(data['records'])} contacts")
        elif list_verb == "remove":
            shell.say(f"contact list {link.unlink_contact_list(number(rest[0]))['contact_list']} removed")
        else:
            account = link.view_account()["account_data"]
            shell.say(_listing("contact list", account["contact_list"], account["contact_list_archive"]))
    else:
        raise UsageError(f"usage: {CONTACT.usage}")


def raw(shell: Shell, args: list[str]) -> None:
    try:
        instruction = json.loads(args[0])
    except ValueError:
        raise UsageError("raw takes one JSON object") from None
    if not isinstance(instruction, dict):
        raise UsageError("raw takes one JSON object")
    # Not to the two request routes, which take no session (the ids would be unknown fields).
    addressed = instruction.get("controller", "client") == "client" and instruction.get("action") != "request"
    if addressed and shell.link.session_token:
        instruction.setdefault("client_id", shell.link.client_id)
        instruction.setdefault("session_token", shell.link.session_token)
    answer = shell.link.raw(instruction)
    if answer.get("failed") is not False:
        shell.failures += 1
    shell.say(json.dumps(answer, ensure_ascii=False))


def quit_(shell: Shell, args: list[str]) -> None:
    shell.leaving = True


MANAGE = (VERBS,)
EWALLET = Command(
    "ewallet", "ewallet [new [REF] | switch ID | remove ID]", "list, add or switch ewallets", ewallet, MANAGE
)
CLOCK = Command(
    "clock", "clock [new [REF] | switch ID | remove ID]", "list, add or switch credit clocks", clock, MANAGE
)
SHEET = Command(
    "sheet",
    "sheet transfer|invoice|time|conversion [new [REF] | switch ID | remove ID]",
    "show, add or switch sheets",
    sheet,
    slots=(SHEET_KINDS,),
    after=dict.fromkeys(SHEET_KINDS, MANAGE),
)
RECORD = Command(
    "record",
    "record transfer|invoice|time|conversion ID [remove]",
    "show a record (remove hides it; the ledger keeps it)",
    record,
    slots=(SHEET_KINDS,),
)
CONTACT = Command(
    "contact",
    "contact add NAME [EMAIL [PHONE]] | show ID | remove ID | list [new [REF] | switch ID | remove ID]",
    "add, show or remove contacts; manage contact lists",
    contact,
    slots=(("add", "show", "remove", "list"),),
    after={"list": MANAGE},
)
COMMANDS = [
    EWALLET,
    CLOCK,
    SHEET,
    RECORD,
    CONTACT,
    Command(
        "raw",
        "raw {json}",
        "send an instruction set as it is (the session's ids are added)",
        raw,
        verbatim=True,
        details='Example: raw {"controller": "client", "ctype": "action", "action": "view", "view": "account"}',
    ),
    Command("quit", "quit", "leave the shell (so does Ctrl-D)", quit_),
    Command("exit", "exit", "leave the shell (so does Ctrl-D)", quit_),
]
