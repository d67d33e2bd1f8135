"""Commands about accounts: register, login, logout, whoami, switch, edit, password, logins,
close-account."""

from __future__ import annotations

from datetime import datetime

from ewallet.shell.registry import PARTNER, Command
from ewallet.shell.state import Shell, UsageError

#: How the server writes a record's time (PROTOCOL: day-month-year).
STAMP = "%d-%m-%Y %H:%M:%S"
EDITABLE = {"name": "user_name", "email": "user_email", "phone": "user_phone", "alias": "user_alias"}


def register(shell: Shell, args: list[str]) -> None:
    email, name = REGISTER.args(args, 2)[:2]
    answer = shell.link.create_account(name, shell.password(args, 2), email)
    shell.remember(name, answer["account"])
    shell.say(f"account {answer['account']} created; log in with: login {answer['account']}")


def login(shell: Shell, args: list[str]) -> None:
    who = LOGIN.args(args, 1)[0]
    answer = shell.link.login(who, shell.password(args, 1))
    shell.remember(who if "@" not in who else None, answer["account"])
    shell.say(f"logged in as {answer['account']}")


def logout(shell: Shell, args: list[str]) -> None:
    answer = shell.link.logout()
    now = answer["session_data"]["session_user_account"]
    shell.say(f"logged out {answer['account']}" + (f"; active: {now}" if now else ""))


def whoami(shell: Shell, args: list[str]) -> None:
    data = shell.link.view_account()["account_data"]
    shell.remember(data["name"], data["email"])
    shell.say(f"{data['name']} <{data['email']}> (account {data['id']}, {data['state_name']})")


def switch(shell: Shell, args: list[str]) -> None:
    answer = shell.link.switch_account(shell.partner(SWITCH.args(args, 1)[0]))
    stack = answer["session_data"]["session_account_archive"]
    shell.say(f"active: {answer['account']} (logged in here: {', '.join(stack)})")


def edit(shell: Shell, args: list[str]) -> None:
    field, *words = EDIT.args(args, 2)
    value = " ".join(words)  # edit name Alice Smith: the rest of the line is the value
    if field not in EDITABLE:
        raise UsageError(f"usage: {EDIT.usage}")
    fields = {EDITABLE[field]: value}
    if field == "email":  # the server applies a new email only with the current password
        fields["current_pass"] = shell.ask_secret("current password: ")
    answer = shell.link.edit_account(**fields)
    shell.say(f"{field} changed to {answer['account_data'][field]}")


def password(shell: Shell, args: list[str]) -> None:
    current = shell.ask_secret("current password: ")
    new = shell.ask_secret("new password: ")
    if shell.interactive and shell.ask_secret("new password again: ") != new:
        raise UsageError("the two new passwords differ; nothing changed")
    answer = shell.link.edit_account(user_pass=new, current_pass=current)
    if not answer["edit"].get("pass"):
        raise UsageError("the password was not changed (is the current password right?)")
    shell.say("password changed")


def _events(records: dict[str, str], what: str) -> list[tuple[datetime, str, str]]:
    """(time, stamp, what) in record order; stamps read as times (as text, 02-02 sorts before 30-01)."""
    return [(datetime.strptime(records[rid], STAMP), records[rid], what) for rid in sorted(records, key=int)]


def logins(shell: Shell, args: list[str]) -> None:
    """Logins and logouts merged in time order. Stamps have whole seconds: within one second a
    logout is put after the logins still open, so `login, logout, login` reads as it happened."""
    ins = _events(shell.link.view_login_records()["login_records"], "login")
    outs = _events(shell.link.view_logout_records()["logout_records"], "logout")
    rows, open_ = [], 0
    while ins or outs:
        take_out = bool(outs) and (not ins or outs[0][0] < ins[0][0] or (outs[0][0] == ins[0][0] and open_ > 0))
        _, stamp, what = (outs if take_out else ins).pop(0)
        open_ += -1 if take_out else 1
        rows.append(f"{stamp}  {what}")
    shell.say("\n".join(rows) if rows else "no logins recorded")


def close_account(shell: Shell, args: list[str]) -> None:
    email = shell.link.view_account()["account"]
    if CLOSE.args(args, 1)[0] != email:
        raise UsageError(f"to close {email}, type: close-account {email}")
    answer = shell.link.unlink_account()
    shell.say(f"account {answer['account']} will be deleted; it is logged out everywhere")


REGISTER = Command(
    "register",
    "register EMAIL NAME [PASSWORD]",
    "create an account (asks for the password if omitted)",
    register,
    details="Creating does not log in. A password has 8 or more characters with a letter, a digit and a symbol.",
)
LOGIN = Command("login", "login EMAIL|NAME [PASSWORD]", "log in (asks for the password if omitted)", login)
SWITCH = Command(
    "switch",
    "switch EMAIL|NAME",
    "make another account logged in on this session the active one",
    switch,
    slots=(PARTNER,),
)
EDIT = Command(
    "edit",
    "edit name|email|phone|alias VALUE",
    "change a detail of the active account (a new email asks for the password)",
    edit,
    slots=(tuple(EDITABLE),),
)
CLOSE = Command(
    "close-account",
    "close-account EMAIL",
    "order the deletion of the active account (type its email to confirm)",
    close_account,
    details="Refused while an ewallet holds credits, a clock holds minutes or a timer runs.",
)
COMMANDS = [
    REGISTER,
    LOGIN,
    Command("logout", "logout", "log the active account out (the one below it becomes active)", logout),
    Command("whoami", "whoami", "the active account", whoami),
    SWITCH,
    EDIT,
    Command("password", "password", "change the active account's password (asks for both)", password),
    Command("logins", "logins", "when the active account logged in and out", logins),
    CLOSE,
]
