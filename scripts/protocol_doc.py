#!/usr/bin/env python3
"""docs/protocol.md, the protocol reference, generated from the route table
(`ewallet.handlers.build_route_table()`) and the parameter and reply models: every instruction with
its route, its parameters (type, range, required or optional, in documented order), its answer's
keys, the errors it can answer and an example; the prose sections are kept here.

    python scripts/protocol_doc.py           # print the document
    python scripts/protocol_doc.py --write   # write docs/protocol.md

tests/test_protocol_doc.py fails when docs/protocol.md is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ewallet.handlers import build_route_table
from ewallet.http.openapi import route_path
from ewallet.routes import AUTH_KEYS, Access, Route
from ewallet.schemas.base import Reply

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

#: Errors an instruction answers from its own rules (PROTOCOL §2 step 11 and §5-§8), by route
#: name. The errors every instruction of a level can answer are added by `errors_of`. A route
#: missing here stops the generation: a new instruction must say what it can answer.
DOMAIN_ERRORS: dict[str, tuple[str, ...]] = {
    "client ping": (),
    "client request=client_id": ("rate_limited",),
    "client request=session_token": ("already_mapped", "capacity", "rate_limited"),
    "client new=account": ("weak_password", "already_exists", "rate_limited"),
    "client login": ("invalid_credentials", "account_pending_deletion", "rate_limited"),
    "client logout": ("not_found",),
    "client switch=account": ("not_found",),
    "client view=account": (),
    "client edit=account": ("rate_limited",),
    "client unlink=account": ("timer_state",),
    "client view=login": (),
    "client view=logout": (),
    "system cleanup=accounts": (),
    "client new=credit, credit=ewallet": (),
    "client new=credit, credit=clock": ("not_found",),
    "client view=credit, credit=ewallet": ("not_found",),
    "client view=credit, credit=clock": ("not_found",),
    "client switch=credit, credit=ewallet": ("timer_state",),
    "client switch=credit, credit=clock": ("timer_state",),
    "client unlink=credit, credit=ewallet": ("last_resource", "timer_state"),
    "client unlink=credit, credit=clock": ("last_resource", "timer_state"),
    "client new=transfer, transfer=list": ("not_found",),
    "client view=transfer, transfer=list": ("not_found",),
    "client switch=transfer_sheet": (),
    "client unlink=transfer, transfer=list": ("last_resource",),
    "client view=transfer, transfer=record": (),
    "client unlink=transfer, transfer=record": (),
    "client new=invoice, invoice=list": ("not_found",),
    "client view=invoice, invoice=list": ("not_found",),
    "client switch=invoice_sheet": (),
    "client unlink=invoice, invoice=list": ("last_resource",),
    "client view=invoice, invoice=record": (),
    "client unlink=invoice, invoice=record": (),
    "client new=time, time=list": ("not_found",),
    "client view=time, time=list": ("not_found",),
    "client switch=time_sheet": (),
    "client unlink=time, time=list": ("last_resource", "timer_state"),
    "client view=time, time=record": (),
    "client unlink=time, time=record": ("timer_state",),
    "client new=conversion, conversion=list": ("not_found",),
    "client view=conversion, conversion=list": ("not_found",),
    "client switch=conversion_sheet": (),
    "client unlink=conversion, conversion=list": ("last_resource",),
    "client view=conversion, conversion=record": (),
    "client unlink=conversion, conversion=record": (),
    "client history=transfer": ("not_found", "forbidden"),
    "client history=invoice": ("not_found", "forbidden"),
    "client history=time": ("not_found", "forbidden"),
    "client history=conversion": ("not_found", "forbidden"),
    "client new=contact, contact=list": (),
    "client view=contact, contact=list": ("not_found",),
    "client switch=contact_list": (),
    "client unlink=contact, contact=list": ("last_resource",),
    "client new=contact, contact=record": ("not_found", "forbidden"),
    "client view=contact, contact=record": (),
    "client unlink=contact, contact=record": (),
    "client supply=credits": ("forbidden", "not_found"),
    "client pay": ("not_found", "insufficient_credits", "account_pending_deletion"),
    "client transfer=credits": ("not_found", "insufficient_credits", "account_pending_deletion"),
    "client convert=credits2clock": ("not_found", "insufficient_credits"),
    "client convert=clock2credits": ("not_found", "insufficient_clock", "timer_state"),
    "system supply=credits": ("not_found",),
    "client start=clock_timer": ("not_found", "timer_state", "insufficient_clock"),
    "client pause=clock_timer": ("not_found", "timer_state"),
    "client resume=clock_timer": ("not_found", "timer_state"),
    "client stop=clock_timer": ("not_found", "timer_state"),
    "client subscribe=events": (),
    "client unsubscribe=events": (),
    "client view=clock_timer": ("not_found",),
    "system new=worker": ("capacity",),
    "system new=session": ("capacity",),
    "system interogate=session": ("not_found",),
    "system interogate=workers": (),
    "system cleanup=sessions": (),
    "system cleanup=workers": (),
}

#: What a parameter table cannot say, by route name.
NOTES: dict[str, str] = {
    "client login": "Give exactly one of `user_email` and `user_name` (a name is matched ignoring case).",
    "client edit=account": "See [current_pass](#current_pass): changing `user_pass` or `user_email` needs it.",
    "client new=contact, contact=record": "See [Contact fields](#contact-fields).",
    "client supply=credits": "See [Invoice fields](#invoice-fields).",
    **{
        f"client history={kind}": "Newest first (descending id), across every visible sheet of the kind the account "
        "owns, or of the one `sheet_id` names. `since` (inclusive) and `until` (exclusive) bound `create_date`. "
        "Follow `next_cursor` (null on the last page) with the same filters; see [History](#history)."
        + (
            " `partner` matches `transfer_from` or `transfer_to` ignoring case; `min_credits` and `max_credits` "
            "are inclusive."
            if kind == "transfer"
            else " The transfer filters (`transfer_type`, `partner`, `min_credits`, `max_credits`) are refused here."
        )
        for kind in ("transfer", "invoice", "time", "conversion")
    },
    "client pay": 'The partner\'s email is the value of the action key: `"pay": "bob@example.com"`. '
    "See [Invoice fields](#invoice-fields).",
    "client view=clock_timer": "The active clock's timer now. `credit_clock` is the settled balance; "
    "`remaining_minutes` what a stop now would leave (the balance less the active time not yet billed, "
    "rounded and capped as a stop bills; never negative); `elapsed_minutes` and `pending_minutes` the "
    "run's active and paused time so far (0.0 when inactive); `start_timestamp` the run's start or null; "
    "`expected_stop` the instant the balance runs out while the timer is `active`, else null. A timer "
    "that ran out is settled first.",
    "client subscribe=events": "Over HTTP, `GET /v1/events` runs this instruction and answers with Server-Sent "
    "Events (`text/event-stream`): the ids in the usual headers, the parameters in the query string (`kinds` "
    "repeated or comma-separated: `?kinds=login,credits_received`), and `Last-Event-ID` as `after` (the "
    "header wins when both are given). A failure is the usual JSON answer and status. The stream begins "
    "with `event: subscribed` (its `data:` is this answer, and it has no `id:`), then one message per "
    "event: `id:` its `seq`, `event:` its kind, `data:` the event line. A `: keep-alive` comment follows "
    "15 s of silence. The stream ends on logout or session expiry; closing it unsubscribes. "
    "`POST /ewallet/instruction-set` answers `subscribe` and `unsubscribe` with `invalid_value`: an HTTP "
    "answer cannot carry events.",
}

#: Example values of parameters, by name (every parameter of every route needs one).
SAMPLES: dict[str, Any] = {
    "expiration_date": "31-12-2030 23:59:59",
    "user_name": "alice",
    "user_pass": "s3cret!pass",
    "user_email": "alice@example.com",
    "user_phone": "+40 700 000 000",
    "user_alias": "Al",
    "current_pass": "0ld!password",
    "account": "alice@example.com",
    "reference": "Holidays",
    "ewallet_id": 2,
    "clock_id": 2,
    "sheet_id": 2,
    "list_id": 2,
    "record_id": 7,
    "user_reference": "Bob at work",
    "notes": "lunch",
    "contact_list": 1,
    "credits": 100,
    "currency": "RON",
    "cost": 25.5,
    "idempotency_key": "4f1c2a9e-order-1",
    "pay": "bob@example.com",
    "transfer_to": "bob@example.com",
    "minutes": 30.0,
    "session_id": 3,
    "session_token": "ewsm-st:...",
    "client_id": "ewsm-uid:...",
    "after": 41,
    "kinds": ["credits_received", "clock_low"],
    "clock_low_minutes": 5.0,
    "limit": 20,
    "cursor": "AAAAAAAAAGQ2yW0ZbzXzdp5h2Xo5bq-e",
    "since": "01-01-2030 00:00:00",
    "until": "01-02-2030 00:00:00",
    "transfer_type": "payment",
    "partner": "bob@example.com",
    "min_credits": 10,
    "max_credits": 500,
}
#: What stands over HTTP for an instruction without a typed endpoint (`Route.typed_http`), by
#: route name. A route missing here stops the generation.
HTTP_INSTEAD: dict[str, str] = {
    "client subscribe=events": "HTTP: `GET /v1/events` (Server-Sent Events, see below)",
    "client unsubscribe=events": "HTTP: close the `GET /v1/events` stream",
}

AUTH_SAMPLES = {"client_id": "ewsm-uid:...", "session_token": "ewsm-st:...", "system_key": "<the system key>"}

#: Errors each level can answer before the instruction's own rules (PROTOCOL §2 steps 1-7).
LEVEL_ERRORS: dict[Access, tuple[str, ...]] = {
    Access.ANONYMOUS: (),
    Access.CLIENT: ("unauthorized",),
    Access.SESSION: ("unauthorized",),
    Access.USER: ("unauthorized", "not_logged_in"),
    Access.OWNER: ("unauthorized", "not_logged_in", "not_found", "forbidden"),
    Access.SYSTEM: ("system_key_required",),
}
#: Any instruction may answer these (a malformed line, server trouble, overload).
ANY_ERRORS = ("invalid_json", "frame_too_large", "invalid_instruction", "conflict", "internal_error")

HEADER = """\
# The ewallet protocol reference

<!-- Generated by `python scripts/protocol_doc.py --write` from the route table and the parameter
and reply models; tests/test_protocol_doc.py fails when it is stale. Edit the script, not this
file. -->

Every instruction the server answers, over TCP (one JSON object per line) and over HTTP (the
typed endpoint named under each instruction, or `POST /ewallet/instruction-set` with the same
object). The normative contract is the ewallet protocol (version 1.1); this reference is generated
from the code that implements it, so it says exactly what this server accepts.

Contents: [Requests and answers](#requests-and-answers) · [Values](#values) ·
[Idempotency keys](#idempotency-keys) · [current_pass](#current_pass) ·
[Contact fields](#contact-fields) · [Invoice fields](#invoice-fields) ·
[Errors](#errors) · [Instructions](#instructions) · [Data shapes](#data-shapes)

## Requests and answers

A request is one JSON object: the envelope `"controller"` (`"client"` or `"system"`),
`"ctype": "action"` and `"action"`; the route keys that select the target (`"new": "credit",
"credit": "clock"`); the keys the instruction's level needs (`client_id`, `session_token`, or
`system_key`); and the instruction's parameters. Any other key is `invalid_value`.

A request may also carry `"id"` (a string of at most 255 characters, or an integer within ±2^63):
it is only a label the client chooses to match answers to requests, echoed in the answer. It
selects nothing: `"id": 1` does not mean ewallet 1 or record 1.

An answer is `{"failed": false, ...}` with the keys listed for the instruction, or
`{"failed": true, "error": "<sentence>", "code": "<code>"}`. Each instruction is atomic: all its
effects commit, or none do.

Levels: `anonymous` (nothing), `client` (a `client_id`), `session` (`client_id` and its
`session_token`), `user` (a session with a logged-in account; the active account is the one the
instruction acts for), `owner` (user, and the object addressed by id belongs to that account),
`system` (`"controller": "system"` and the configured `system_key`).

Over HTTP, `client_id` may come in the `X-EWallet-Client-Id` header, `session_token` as
`Authorization: Bearer <token>` and `system_key` in `X-EWallet-System-Key`. Instructions marked
read-only also answer `GET`, with their parameters in the query string.

## Values

- Integers accept only JSON integers (never booleans, floats or strings); numbers accept integers
  or floats; strings accept only strings. JSON `null` is never accepted: leave an optional
  parameter out instead.
- Strings are trimmed (except passwords, tokens and keys); a required string empty after trimming
  is refused. Too long values are refused, never cut.
- `credits` are whole numbers; `minutes` and `cost` have at most two decimals.
- Timestamps are strings `DD-MM-YYYY HH:MM:SS` in the server's time zone (default UTC).
- Ids are integers 1 … 2^63-1; archives and `records` are objects `{"<id>": "<reference>"}`.

## Idempotency keys

`supply`, `pay`, `transfer` and `convert` take an optional `idempotency_key` (1 to 255
characters, chosen by the client, e.g. a UUID per payment). Send it when an answer may be lost (a
dropped connection, a timeout, a server restart) and you need to retry without paying twice:

- The first success under a key is stored with the route, the parameters (defaults filled in,
  emails compared case-insensitively) and the answer.
- A retry with the same key, route and parameters does not run again: it gets the stored answer
  (with the new request's `id`).
- The same key with another route or other parameters is `conflict`; nothing changes.
- A failure is not stored: a retry of a failed instruction runs again.
- A retry sent while the first is still running waits for it and gets its result.
- A key belongs to one account (a user's keys and the operator's keys of `system supply` are
  separate); keys are kept 72 hours (`EWALLET_IDEMPOTENCY_HOURS`), after which the key is free.

## History

`history` lists one kind of the active account's records (`transfer`, `invoice`, `time`,
`conversion`), newest first, `limit` (1 to 500, default 50) a page. Each element of `records` is
the record's `record_data` exactly as `view` of the record gives it; hidden records and the
records of hidden sheets (or of sheets under a hidden ewallet or clock) are left out. A time
record whose timer ran out shows as stopped at the instant it ran out; one that still runs shows
`time_stop` null and nothing spent yet.

- `next_cursor` is null on the last page; otherwise send it as `cursor` with the same filters
  (`limit` may change) for the next page. Walking to the null cursor shows every record that
  matched when the first page was read, each once and in order; records added meanwhile show up
  only on a new first page.
- A cursor is opaque and belongs to the account, the kind and the filters it came with: another
  account's, another kind's, one of other filters, or a changed one is `invalid_value`.
- Filters: `sheet_id` (one owned sheet; `not_found` when absent or hidden, `forbidden` when
  another account's), `since` (inclusive) and `until` (exclusive) on `create_date`; for transfers
  also `transfer_type`, `partner` (matches `transfer_from` or `transfer_to`, ignoring case) and
  `min_credits`/`max_credits` (inclusive).
- A page costs the same however deep it lies: the server reads it from an index from the
  cursor's position on, never by skipping the records before it.

## current_pass

`edit account` changes each given field on its own. Changing `user_pass` or `user_email` also
needs `current_pass`, the account's password now: without it, or with a wrong one, that field is
not applied (the others still are), and a wrong `current_pass` counts as a failed login of the
account, so after repeated failures such edits answer `rate_limited` before the password is
checked. The answer's `edit` object says which fields were applied (`name`, `pass`, `alias`,
`email`, `phone`: true or false). When no field at all was applied the answer is
`invalid_value`, and its message gives the reason for each field, for example
`user_pass: current_pass is required; user_email: current_pass is wrong`. A new password needs 8
to 128 characters with a letter, a digit and a symbol, and must differ from the current one and
the two before it.

## Contact fields

`new contact record` stores a person in a contact list: `user_name` (required, the contact's
name, not an account's), `user_email`, `user_phone`, `notes` (all optional and free: a contact
need not have an account) and `user_reference`, which sets the record's `reference` (default
"Contact List Record"). `contact_list` is the id of one of your lists to add it to (default: the
active list); the answer's `contact_list` is the list that received it. In the record's data the
fields appear as `name`, `email`, `phone`, `notes`.

## Invoice fields

`supply` and `pay` write an invoice record in the caller's active invoice sheet with: `credits`
(the amount moved), `currency` (three capital letters, ISO 4217, default `RON`), `cost` (what the
credits cost in that currency: a number ≥ 0 with at most two decimals, default 0.00; the server
records it, it does not convert money), `notes` (free text, up to 1000 characters) and `seller`
(set by the server: the system name for a supply, the partner's user name at payment time for a
pay). A transfer writes no invoice.

## Errors

| Code | Meaning |
|---|---|
| `invalid_json` | not JSON, invalid UTF-8, `NaN`/`Infinity`, duplicate keys or nesting deeper than 32 |
| `frame_too_large` | the line (or HTTP body) is over the size limit |
| `invalid_instruction` | not an object; `controller`, `ctype` or `action` missing or not strings |
| `unknown_action` | no instruction has that controller, action and target (the message says which part) |
| `system_key_required` | a system instruction without the configured system key |
| `unauthorized` | `client_id` or `session_token` missing, unknown, expired or not belonging together |
| `not_logged_in` | a user instruction on a session with no logged-in account |
| `missing_field` | a required parameter is missing (the first in documented order is named) |
| `invalid_value` | an unknown key, a wrong type, a value out of range, or a rule on a value |
| `conflict` | an idempotency key reused for other parameters, or a database conflict after retries (retry) |
| `not_found` / `forbidden` | the object addressed is absent or hidden / belongs to another account |
| `rate_limited` | too many requests or failed logins; wait and retry |
| `internal_error` | a server fault, answered with a reference to the log |

The errors listed under each instruction are the ones it can answer besides `invalid_json`,
`frame_too_large`, `invalid_instruction`, `conflict` and `internal_error`, which any instruction
can answer.
"""


def instruction(route: Route) -> str:
    """The route as written on the wire (`client pay=<value>` for a free-valued action key)."""
    if route.target is None and route.action in route.params.model_fields:
        return f"{route.controller} {route.action}=<value>"
    return route.name


def anchor(route: Route) -> str:
    return route_path(route).strip("/").replace("/", "-")


def describe(schema: dict[str, Any]) -> tuple[str, str]:
    """(type, range) of a parameter's JSON schema."""
    kind = schema.get("type", "any")
    parts: list[str] = []
    if kind == "string":
        low, high = schema.get("minLength"), schema.get("maxLength")
        if high is not None:
            parts.append(f"{low or 0}…{high} characters")
        if schema.get("pattern") == r"\S":
            parts.append("trimmed, not blank")
        elif "pattern" in schema:
            parts.append(f"matches `{schema['pattern']}`")
        if "enum" in schema:
            parts.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    elif kind in ("integer", "number"):
        low = schema.get("minimum")
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        below = "<" if "exclusiveMaximum" in schema else "≤"
        if low is not None and high is not None:
            parts.append(f"{_num(low)} ≤ value {below} {_num(high)}")
    elif kind == "array" and "enum" in schema.get("items", {}):
        names = ", ".join(f"`{name}`" for name in schema["items"]["enum"])
        parts.append(f"at least {schema.get('minItems', 0)} of {names}")
    if "description" in schema:
        parts.append(schema["description"])
    return kind, "; ".join(parts) or "-"


def _num(value: float) -> str:
    if isinstance(value, int) and value >= 10**6:
        exponent = len(str(value)) - 1
        if value == 10**exponent:
            return f"10^{exponent}"
        if value == 2**63 - 1:
            return "2^63-1"
    return str(value)


def parameter_rows(route: Route) -> list[str]:
    schema = route.params.wire_schema()
    required = set(schema.get("required", []))
    rows = ["| Parameter | Type | Range | Required | Default |", "|---|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        kind, limits = describe(prop)
        needed = "required" if name in required else "optional"
        if name in route.params.at_least_one:
            needed = "at least one of " + ", ".join(route.params.at_least_one)
        if route.target is None and name == route.action:
            needed += " (the value of the action key)"
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else "-"
        rows.append(f"| `{name}` | {kind} | {limits} | {needed} | {default} |")
    return rows if len(rows) > 2 else []


def type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        return " or ".join(type_of(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "object" and "additionalProperties" in prop:
        return "object {id: " + type_of(prop["additionalProperties"]) + "}"
    if kind == "array":
        return "list of " + type_of(prop.get("items", {}))
    return str(kind)


def reply_schema(reply: type[Reply]) -> dict[str, Any]:
    return reply.model_json_schema(mode="serialization", by_alias=True)


def response_rows(route: Route) -> list[str]:
    if route.reply is None:
        raise SystemExit(f"{route.name}: the route has no reply model")
    rows = ["| Key | Type |", "|---|---|"]
    for key, prop in reply_schema(route.reply)["properties"].items():
        if key != "failed":
            rows.append(f"| `{key}` | {type_of(prop)} |")
    return rows


def errors_of(route: Route) -> list[str]:
    if route.name not in DOMAIN_ERRORS:
        raise SystemExit(f"{route.name}: add the errors it can answer to DOMAIN_ERRORS in {__file__}")
    codes = ["unknown_action", *LEVEL_ERRORS[route.access]]
    fields = route.params.model_fields
    if any(f.is_required() for f in fields.values()) or route.params.at_least_one:
        codes.append("missing_field")
    codes.append("invalid_value")
    codes += DOMAIN_ERRORS[route.name]
    if route.idempotency_owner is not None:
        codes.append("conflict")
    if (route.access is Access.ANONYMOUS and route.rate_limited) or route.counts_as_anonymous:
        codes.append("rate_limited")
    return list(dict.fromkeys(codes))


def example(route: Route) -> str:
    request: dict[str, Any] = route.envelope
    for key in sorted(AUTH_KEYS[route.access]):
        request[key] = AUTH_SAMPLES[key]
    for name, field in route.params.model_fields.items():
        if name not in SAMPLES:
            raise SystemExit(f"{route.name}: add an example value of {name} to SAMPLES in {__file__}")
        if field.is_required() or name in route.params.at_least_one[:1] or name == "idempotency_key":
            request[name] = SAMPLES[name]
    return json.dumps(request, ensure_ascii=False)


def section(route: Route) -> list[str]:
    lines = [f"### `{instruction(route)}`", "", f'<a id="{anchor(route)}"></a>{route.summary}', ""]
    facts = [f"Level: `{route.access.value}`", f"HTTP: `POST {route_path(route)}`"]
    if route.answers_get:
        facts[-1] = f"HTTP: `POST` or `GET {route_path(route)}`"
    if route.read_only:
        facts.append("read-only")
    if not route.typed_http:
        if route.name not in HTTP_INSTEAD:
            raise SystemExit(f"{route.name}: say what stands for it over HTTP in HTTP_INSTEAD in {__file__}")
        facts[1] = HTTP_INSTEAD[route.name]
    if route.idempotency_owner is not None:
        facts.append("takes an [idempotency key](#idempotency-keys)")
    lines += [" · ".join(facts), ""]
    params = parameter_rows(route)
    lines += ["Parameters, in documented order:", "", *params, ""] if params else ["No parameters.", ""]
    if route.name in NOTES:
        lines += [NOTES[route.name], ""]
    lines += ["Answer:", "", *response_rows(route), ""]
    lines += ["Errors: " + ", ".join(f"`{code}`" for code in errors_of(route)) + ".", ""]
    lines += ["Example:", "", "    " + example(route), ""]
    return lines


def shapes(routes: list[Route]) -> list[str]:
    defs: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.reply is not None:
            defs.update(reply_schema(route.reply).get("$defs", {}))
    lines = ["## Data shapes", "", "The objects that answers nest (timestamps are strings in the wire format).", ""]
    for name in sorted(defs):
        lines += [f"### {name}", "", "| Key | Type |", "|---|---|"]
        for key, prop in defs[name].get("properties", {}).items():
            lines.append(f"| `{key}` | {type_of(prop)} |")
        lines.append("")
    return lines


def document() -> str:
    routes = build_route_table().routes
    lines = [HEADER, "## Instructions", ""]
    lines += ["| Instruction | Level | Summary |", "|---|---|---|"]
    for route in routes:
        summary = route.summary.replace("|", "\\|")
        lines.append(f"| [`{instruction(route)}`](#{anchor(route)}) | {route.access.value} | {summary} |")
    lines.append("")
    for route in routes:
        lines += section(route)
    lines += shapes(routes)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write docs/protocol.md")
    args = parser.parse_args(argv)
    text = document()
    if args.write:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
