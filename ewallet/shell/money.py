"""Commands that move value: balance, supply, pay, transfer, convert, timer. Every money
instruction carries a fresh idempotency key, so the link may re-send it after a lost answer and
the server applies it once (docs/protocol.md, idempotency keys)."""

from __future__ import annotations

import uuid
from typing import Any

import ewallet.shell.countdown as countdown
from ewallet.shell.registry import PARTNER, Command, number
from ewallet.shell.state import Shell, UsageError

TIMER_ACTIONS = ("start", "pause", "resume", "stop", "status")
PAST = {"start": "started", "pause": "paused", "resume": "resumed"}


def _key() -> str:
    return f"shell-{uuid.uuid4()}"


def balance(shell: Shell, args: list[str]) -> None:
    credits = shell.link.view_credit_ewallet()["ewallet_data"]["credits"]
    clock = shell.link.view_credit_clock()["clock_data"]
    shell.say(f"{credits} credits; clock: {clock['credit_clock']:.2f} minutes ({clock['clock_state']})")


def supply(shell: Shell, args: list[str]) -> None:
    credits = number(SUPPLY.args(args, 1)[0])
    answer = shell.link.supply_credits(credits, idempotency_key=_key())
    shell.say(f"supplied {answer['supplied_credits']}; balance {answer['ewallet_credits']} credits")


def pay(shell: Shell, args: list[str]) -> None:
    who, credits = PAY.args(args, 2)[:2]
    answer = shell.link.pay(shell.partner(who), number(credits), idempotency_key=_key())
    shell.remember(who if "@" not in who else None, answer["payed"])
    shell.say(f"paid {answer['spent_credits']} to {answer['payed']}; balance {answer['ewallet_credits']} credits")


def transfer(shell: Shell, args: list[str]) -> None:
    who, credits = TRANSFER.args(args, 2)[:2]
    answer = shell.link.transfer(shell.partner(who), number(credits), idempotency_key=_key())
    shell.remember(who if "@" not in who else None, answer["transfered_to"])
    shell.say(
        f"transferred {answer['transfered_credits']} to {answer['transfered_to']}; "
        f"balance {answer['ewallet_credits']} credits"
    )


def convert(shell: Shell, args: list[str]) -> None:
    unit, amount = CONVERT.args(args, 2)[:2]
    if unit == "credits":
        answer = shell.link.convert_credits_to_clock(number(amount), idempotency_key=_key())
    elif unit == "minutes":
        answer = shell.link.convert_clock_to_credits(number(amount, float), idempotency_key=_key())
    else:
        raise UsageError(f"usage: {CONVERT.usage}")
    shell.say(f"ewallet {answer['ewallet_credits']} credits; clock {answer['credit_clock']:.2f} minutes")


def live_line(answer: dict[str, Any]) -> str:
    """The live clock in a line: what is left now, and for a run its active and paused minutes
    and, while it runs, when the balance runs out."""
    line = f"clock {answer['clock']}: {answer['clock_state']}, {answer['remaining_minutes']:.2f} minutes left"
    if answer["clock_state"] != "inactive":
        line += f" ({answer['elapsed_minutes']:.2f} active, {answer['pending_minutes']:.2f} paused)"
    if answer["expected_stop"] is not None:
        line += f"; runs out at {answer['expected_stop']}"
    return line


def status(shell: Shell) -> None:
    """Once through a pipe; on a terminal the minutes left count down (countdown.watch)."""
    if shell.keys is None:
        shell.say(live_line(shell.link.view_timer()))
        return
    with shell.keys() as wait_key:
        countdown.watch(shell.link.view_timer, live_line, shell.out, wait_key)


def timer(shell: Shell, args: list[str]) -> None:
    action = TIMER.args(args, 1)[0]
    if action == "status":
        status(shell)
        return
    calls = {
        "start": shell.link.start_timer,
        "pause": shell.link.pause_timer,
        "resume": shell.link.resume_timer,
        "stop": shell.link.stop_timer,
    }
    if action not in calls:
        raise UsageError(f"usage: {TIMER.usage}")
    answer = calls[action]()
    if action == "stop":
        shell.say(f"stopped: {answer['minutes_spent']:.2f} minutes billed, {answer['pending_time']:.2f} paused")
    else:
        shell.say(f"timer {PAST[action]} on clock {answer['clock']}")


SUPPLY = Command("supply", "supply CREDITS", "buy credits", supply)
PAY = Command(
    "pay",
    "pay NAME|EMAIL CREDITS",
    "pay a partner (an invoice is recorded)",
    pay,
    slots=(PARTNER,),
    details="A name is one seen in this shell (register, login, whoami) or a contact's name.",
)
TRANSFER = Command(
    "transfer",
    "transfer NAME|EMAIL CREDITS",
    "transfer credits to another account",
    transfer,
    slots=(PARTNER,),
    details="A name is one seen in this shell (register, login, whoami) or a contact's name.",
)
CONVERT = Command(
    "convert",
    "convert credits N | convert minutes M",
    "move value between the ewallet and the clock",
    convert,
    slots=(("credits", "minutes"),),
)
TIMER = Command(
    "timer",
    "timer start|pause|resume|stop|status",
    "drive the active clock's timer",
    timer,
    slots=(TIMER_ACTIONS,),
    details="Only active time is billed; a paused timer costs nothing.\n"
    "status shows the minutes left now; on a terminal it counts them down until a key is pressed\n"
    "(for at most a minute).",
)
COMMANDS = [
    Command("balance", "balance", "credits in the active ewallet and minutes on the active clock", balance),
    SUPPLY,
    PAY,
    TRANSFER,
    CONVERT,
    TIMER,
]
