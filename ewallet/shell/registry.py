"""The command table: each command is data (name, usage, summary, the words it completes, the
function that runs it), concatenated from the command modules; `execute` runs one line."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ewallet.client import ConnectionFailed, EWalletError
from ewallet.shell.state import Cancelled, Shell, UsageError
from ewallet.shell.text import describe

#: A completion slot that stands for the partner emails seen in this run.
PARTNER = "<partner>"
#: A completion slot that stands for the command names.
COMMAND = "<command>"

Slot = tuple[str, ...] | str


@dataclass(frozen=True)
class Command:
    """`usage` is the syntax (`pay NAME|EMAIL CREDITS`); `summary` one sentence; `details` more
    lines for `help NAME`. `slots[i]` lists the words argument i completes to (or PARTNER);
    `after` maps a first word to the slots of the words after it (`sheet transfer <switch|new>`)."""

    name: str
    usage: str
    summary: str
    run: Callable[[Shell, list[str]], None]
    slots: tuple[Slot, ...] = ()
    after: dict[str, tuple[Slot, ...]] | None = None
    details: str = ""
    #: The command takes the rest of its line as one argument, unsplit (raw's JSON).
    verbatim: bool = False

    def args(self, args: list[str], at_least: int) -> list[str]:
        if len(args) < at_least:
            raise UsageError(f"usage: {self.usage}")
        return args


def number(text: str, convert: Callable[[str], object] = int) -> int:
    try:
        return convert(text)  # type: ignore[return-value]
    except ValueError:
        raise UsageError(f"not a number: {text}") from None


class Registry:
    def __init__(self, commands: list[Command]) -> None:
        self.commands = {command.name: command for command in commands}
        self.commands["help"] = Command(
            "help", "help [COMMAND]", "list the commands, or show how to use one", self._help, slots=(COMMAND,)
        )

    def usage(self, name: str) -> str:
        return f"usage: {self.commands[name].usage}"

    def execute(self, shell: Shell, line: str) -> None:
        """Run one command line. Refusals and usage errors go to stderr and count as failures;
        a connection that cannot be restored is raised (the caller decides whether to go on)."""
        head, _, rest = line.strip().partition(" ")
        if not head:
            return
        command = self.commands.get(head)
        if command is None:
            shell.fail(f"unknown command: {head} (try help)")
            return
        try:
            command.run(shell, [rest.strip()] if command.verbatim else shlex.split(rest))
        except ConnectionFailed:
            raise
        except EWalletError as exc:
            shell.fail(describe(exc))
        except ValueError as exc:  # UsageError, or a line shlex cannot split
            shell.fail(f"error: {exc}")
        except Cancelled:
            shell.warn("cancelled")

    def _help(self, shell: Shell, args: list[str]) -> None:
        if args:
            command = self.commands.get(args[0])
            if command is None:
                raise UsageError(f"no command {args[0]} (try help)")
            shell.say(f"usage: {command.usage}")
            shell.say(f"  {command.summary}")
            for line in command.details.splitlines():
                shell.say(f"  {line}")
            return
        width = max(len(name) for name in self.commands)
        for name in sorted(self.commands):
            shell.say(f"{name.ljust(width)}  {self.commands[name].summary}")
        shell.say("help COMMAND shows its usage; Ctrl-C cancels a line, Ctrl-D (or quit) leaves.")
