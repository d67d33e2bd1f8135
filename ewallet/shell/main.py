"""`ewallet shell`: its flags, and the run that picks the terminal or the script conversation."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TextIO

import ewallet.shell.accounts as accounts
import ewallet.shell.listings as listings
import ewallet.shell.money as money
import ewallet.shell.resources as resources
from ewallet.client import ConnectionFailed
from ewallet.client.address import add_address_arguments, address_of
from ewallet.exits import UNAVAILABLE
from ewallet.shell.link import Link
from ewallet.shell.registry import Registry
from ewallet.shell.state import Shell, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_address_arguments(parser)
    parser.add_argument(
        "--history", default=os.path.join(os.path.expanduser("~"), ".ewallet_history"), help="history file"
    )


def address(args: argparse.Namespace) -> tuple[str, int]:
    """The server's address: a flag, else EWALLET_HOST / EWALLET_PORT, as for `ewallet call`."""
    return address_of(args)


def registry() -> Registry:
    return Registry(accounts.COMMANDS + money.COMMANDS + listings.COMMANDS + resources.COMMANDS)


def line_reader(stdin: TextIO) -> Callable[[str], str]:
    """Passwords left out of a script's command are read from its next line."""

    def ask(prompt: str) -> str:
        line = stdin.readline()
        if not line:
            raise UsageError("a password was expected on the next line")
        return line.rstrip("\r\n")

    return ask


def run_script(commands: Registry, shell: Shell, stdin: TextIO) -> int:
    """Commands from a pipe: answers on stdout, errors on stderr; status 0 when every command
    succeeded, 1 when one failed, 3 when the server could not be reached (even after reconnecting)."""
    while not shell.leaving:
        line = stdin.readline()
        if not line:
            break
        try:
            commands.execute(shell, line)
        except ConnectionFailed as exc:
            shell.warn(f"ewallet shell: {exc.message}")
            return UNAVAILABLE
    return 1 if shell.failures else 0


def run(args: argparse.Namespace) -> int:
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    host, port = address(args)
    link = Link(host, port, on_reconnect=lambda note: print(note, file=sys.stderr, flush=True))
    try:
        link.open_session()
    except ConnectionFailed as exc:
        print(f"ewallet shell: {exc.message}", file=sys.stderr)
        return UNAVAILABLE
    try:
        if interactive:
            import ewallet.shell.terminal as terminal

            shell = Shell(link, interactive=True, ask_secret=terminal.ask_secret, keys=terminal.keys)
            return terminal.converse(registry(), shell, args.history)
        shell = Shell(link, interactive=False, ask_secret=line_reader(sys.stdin))
        return run_script(registry(), shell, sys.stdin)
    finally:
        link.close()
