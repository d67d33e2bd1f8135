"""`ewallet shell`: an interactive client for people. It opens a session by itself, shows the
active account and balance in its prompt, keeps a history (never with passwords), completes
commands with tab, and reads scripts from a pipe just as well."""

from __future__ import annotations

import argparse
import cmd
import contextlib
import getpass
import json
import os
import shlex
import sys
from collections.abc import Callable
from typing import Any

from ewallet.client import Client, ConnectionFailed, EWalletError

SECRET_COMMANDS = {"register": 3, "login": 2}  # command -> index of its password argument
RAW_SECRETS = ("pass", "key", "token")  # a raw line naming one of these stays out of the history
TIMER_ACTIONS = ("start", "pause", "resume", "stop", "status")
PAST = {"start": "started", "pause": "paused", "resume": "resumed"}
LISTED = 20


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Rows aligned under their headers."""
    cells = [headers, *[[("" if v is None else str(v)) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


class EwalletShell(cmd.Cmd):
    intro = "ewallet shell: type help for the commands, quit to leave."
    #: The readline module when the history is kept (interactive sessions only).
    readline: Any = None

    def __init__(self, client: Client, *, interactive: bool, stdin: Any = None, stdout: Any = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.client = client
        self.interactive = interactive
        self.use_rawinput = interactive
        self.failures = 0
        if not interactive:
            self.intro = ""  # a script's output is its answers only
        self.prompt = "ewallet> " if interactive else ""

    # -- plumbing --------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except EWalletError as exc:
            if isinstance(exc, ConnectionFailed):
                raise
            self.failures += 1
            self.say(f"error ({exc.code}): {exc.message}")
        except (ValueError, IndexError) as exc:
            self.failures += 1
            self.say(f"error: {exc}")
        return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        self.failures += 1
        self.say(f"unknown command: {line.split()[0]} (try help)")

    def postcmd(self, stop: bool, line: str) -> bool:
        self.stdout.flush()  # a script reading the answers through a pipe must see each one now
        if self.interactive and not stop:
            self.prompt = self._prompt()
        return stop

    def _prompt(self) -> str:
        try:
            account = self.client.view_account()
            credits = self.client.view_credit_ewallet()["ewallet_data"]["credits"]
        except EWalletError:
            return "ewallet> "
        return f"ewallet [{account['account']} | {credits} credits]> "

    def _password(self, args: list[str], index: int) -> str:
        if len(args) > index:
            return args[index]
        if self.interactive:
            return getpass.getpass("password: ")
        line = self.stdin.readline()
        if not line:
            raise ValueError("a password was expected on the next line")
        return line.rstrip("\r\n")

    @staticmethod
    def _args(line: str, at_least: int, usage: str) -> list[str]:
        args = shlex.split(line)
        if len(args) < at_least:
            raise ValueError(f"usage: {usage}")
        return args

    @staticmethod
    def _number(text: str, convert: Callable[[str], Any] = int) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise ValueError(f"not a number: {text}") from None

    # -- accounts --------------------------------------------------------------------------------

    def do_register(self, line: str) -> None:
        """register EMAIL NAME [PASSWORD]: create an account (asks for the password if omitted)."""
        args = self._args(line, 2, "register EMAIL NAME [PASSWORD]")
        answer = self.client.create_account(args[1], self._password(args, 2), args[0])
        self.say(f"account {answer['account']} created; log in with: login {answer['account']}")

    def do_login(self, line: str) -> None:
        """login EMAIL|NAME [PASSWORD]: log in (asks for the password if omitted)."""
        args = self._args(line, 1, "login EMAIL|NAME [PASSWORD]")
        answer = self.client.login(args[0], self._password(args, 1))
        self.say(f"logged in as {answer['account']}")

    def do_logout(self, line: str) -> None:
        """logout: log the active account out (the one below it becomes active)."""
        answer = self.client.logout()
        now = answer["session_data"]["session_user_account"]
        self.say(f"logged out {answer['account']}" + (f"; active: {now}" if now else ""))

    def do_whoami(self, line: str) -> None:
        """whoami: the active account."""
        data = self.client.view_account()["account_data"]
        self.say(f"{data['name']} <{data['email']}> (account {data['id']}, {data['state_name']})")

    # -- money -----------------------------------------------------------------------------------

    def do_balance(self, line: str) -> None:
        """balance: credits in the active ewallet and minutes on the active clock."""
        credits = self.client.view_credit_ewallet()["ewallet_data"]["credits"]
        clock = self.client.view_credit_clock()["clock_data"]
        self.say(f"{credits} credits; clock: {clock['credit_clock']:.2f} minutes ({clock['clock_state']})")

    def do_supply(self, line: str) -> None:
        """supply CREDITS: buy credits."""
        args = self._args(line, 1, "supply CREDITS")
        answer = self.client.supply_credits(self._number(args[0]))
        self.say(f"supplied {answer['supplied_credits']}; balance {answer['ewallet_credits']} credits")

    def do_pay(self, line: str) -> None:
        """pay EMAIL CREDITS: pay a partner (an invoice is recorded)."""
        args = self._args(line, 2, "pay EMAIL CREDITS")
        answer = self.client.pay(args[0], self._number(args[1]))
        self.say(f"paid {answer['spent_credits']} to {answer['payed']}; balance {answer['ewallet_credits']} credits")

    def do_transfer(self, line: str) -> None:
        """transfer EMAIL CREDITS: transfer credits to another account."""
        args = self._args(line, 2, "transfer EMAIL CREDITS")
        answer = self.client.transfer(args[0], self._number(args[1]))
        self.say(
            f"transferred {answer['transfered_credits']} to {answer['transfered_to']}; "
            f"balance {answer['ewallet_credits']} credits"
        )

    def do_convert(self, line: str) -> None:
        """convert credits N | convert minutes M: move value between the ewallet and the clock."""
        args = self._args(line, 2, "convert credits N | convert minutes M")
        if args[0] == "credits":
            answer = self.client.convert_credits_to_clock(self._number(args[1]))
        elif args[0] == "minutes":
            answer = self.client.convert_clock_to_credits(self._number(args[1], float))
        else:
            raise ValueError("usage: convert credits N | convert minutes M")
        self.say(f"ewallet {answer['ewallet_credits']} credits; clock {answer['credit_clock']:.2f} minutes")

    def complete_convert(self, text: str, *_: Any) -> list[str]:
        return [word for word in ("credits", "minutes") if word.startswith(text)]

    def do_timer(self, line: str) -> None:
        """timer start|pause|resume|stop|status: drive the active clock's timer."""
        args = self._args(line, 1, "timer start|pause|resume|stop|status")
        action = args[0]
        if action == "status":
            clock = self.client.view_credit_clock()["clock_data"]
            self.say(f"clock {clock['id']}: {clock['clock_state']}, {clock['credit_clock']:.2f} minutes left")
            return
        calls = {
            "start": self.client.start_timer,
            "pause": self.client.pause_timer,
            "resume": self.client.resume_timer,
            "stop": self.client.stop_timer,
        }
        if action not in calls:
            raise ValueError("usage: timer start|pause|resume|stop|status")
        answer = calls[action]()
        if action == "stop":
            self.say(f"stopped: {answer['minutes_spent']:.2f} minutes billed, {answer['pending_time']:.2f} paused")
        else:
            self.say(f"timer {PAST[action]} on clock {answer['clock']}")

    def complete_timer(self, text: str, *_: Any) -> list[str]:
        return [word for word in TIMER_ACTIONS if word.startswith(text)]

    # -- listings --------------------------------------------------------------------------------

    def _records(self, kind: str) -> list[dict[str, Any]]:
        ids = list(self.client.view_sheet(kind)["sheet_data"]["records"])[-LISTED:]
        return [self.client.view_record(kind, int(rid))["record_data"] for rid in ids]

    def do_history(self, line: str) -> None:
        """history: the latest transfer records of the active transfer sheet."""
        rows = [
            [r["id"], r["create_date"], r["transfer_type"], r["transfer_from"], r["transfer_to"], r["credits"]]
            for r in self._records("transfer")
        ]
        self.say(table(["id", "date", "type", "from", "to", "credits"], rows) if rows else "no transfer records")

    def do_invoices(self, line: str) -> None:
        """invoices: the latest invoice records of the active invoice sheet."""
        rows = [
            [r["id"], r["create_date"], r["seller"], r["credits"], f"{r['cost']:.2f} {r['currency']}", r["notes"]]
            for r in self._records("invoice")
        ]
        self.say(table(["id", "date", "seller", "credits", "cost", "notes"], rows) if rows else "no invoices")

    def do_contacts(self, line: str) -> None:
        """contacts: the records of the active contact list."""
        ids = list(self.client.view_contact_list()["list_data"]["records"])[-LISTED:]
        rows = []
        for rid in ids:
            r = self.client.view_contact_record(int(rid))["record_data"]
            rows.append([r["id"], r["name"], r["email"], r["phone"], r["notes"]])
        self.say(table(["id", "name", "email", "phone", "notes"], rows) if rows else "no contacts")

    # -- the rest --------------------------------------------------------------------------------

    def do_raw(self, line: str) -> None:
        """raw {json}: send an instruction set as it is (the session's ids are added)."""
        try:
            instruction = json.loads(line)
        except ValueError:
            raise ValueError("raw takes one JSON object") from None
        if not isinstance(instruction, dict):
            raise ValueError("raw takes one JSON object")
        # Not to the two request routes, which take no session (the ids would be unknown fields).
        addressed = instruction.get("controller", "client") == "client" and instruction.get("action") != "request"
        if addressed and self.client.session_token:
            instruction.setdefault("client_id", self.client.client_id)
            instruction.setdefault("session_token", self.client.session_token)
        answer = self.client.raw(instruction)
        if answer.get("failed") is not False:
            self.failures += 1
        self.say(json.dumps(answer, ensure_ascii=False))

    def do_quit(self, line: str) -> bool:
        """quit: leave the shell."""
        return True

    do_exit = do_quit

    def do_EOF(self, line: str) -> bool:
        if self.interactive:
            self.say()
        return True


def redact(line: str) -> str | None:
    """The history entry for a command line: passwords masked; None to keep it out."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if words and words[0] in SECRET_COMMANDS and len(words) > SECRET_COMMANDS[words[0]]:
        words[SECRET_COMMANDS[words[0]]] = "********"
        return " ".join(words)
    if words and words[0] == "raw" and any(secret in line for secret in RAW_SECRETS):
        return None
    return line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="server address [127.0.0.1]")
    parser.add_argument("--port", type=int, default=8080, help="server port [8080]")
    parser.add_argument(
        "--history", default=os.path.join(os.path.expanduser("~"), ".ewallet_history"), help="history file"
    )


def _setup_history(path: str) -> Any:
    try:
        import readline
    except ImportError:  # no readline on this platform: no history, no completion
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)
    return readline


class InteractiveShell(EwalletShell):
    """Keeps passwords out of the readline history."""

    readline: Any = None

    def precmd(self, line: str) -> str:
        rl = self.readline
        if rl is not None and line:
            last = rl.get_current_history_length()
            entry = redact(line)
            if last:
                if entry is None:
                    rl.remove_history_item(last - 1)
                elif entry != line:
                    rl.replace_history_item(last - 1, entry)
        return line


def run(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty()
    client = Client(args.host, args.port)
    try:
        client.open_session()
    except ConnectionFailed as exc:
        print(f"ewallet shell: {exc.message}", file=sys.stderr)
        return 2
    shell: EwalletShell
    if interactive:
        shell = InteractiveShell(client, interactive=True)
        shell.readline = _setup_history(args.history)
    else:
        shell = EwalletShell(client, interactive=False)
    try:
        shell.cmdloop()
    except ConnectionFailed as exc:
        print(f"ewallet shell: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        client.close()
        if interactive and shell.readline is not None:
            with contextlib.suppress(OSError):
                shell.readline.write_history_file(args.history)
    return 1 if shell.failures and not interactive else 0
