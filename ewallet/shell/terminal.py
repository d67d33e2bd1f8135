"""The shell on a terminal, with prompt_toolkit (as pgcli, litecli and mycli): a prompt naming the
account and balance, completion of commands, their words and partner emails, a history file
without passwords, Ctrl-C cancelling the line or the question and Ctrl-D leaving; the active
account's events printed above the prompt as they come (ewallet.shell.events)."""

from __future__ import annotations

import select
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import create_input
from prompt_toolkit.keys import Keys
from prompt_toolkit.patch_stdout import patch_stdout

from ewallet.client import ConnectionFailed, EWalletError
from ewallet.shell.countdown import KeyWait
from ewallet.shell.events import Watcher
from ewallet.shell.registry import COMMAND, PARTNER, Registry, Slot
from ewallet.shell.state import Cancelled, Shell
from ewallet.shell.text import redact

INTRO = "ewallet shell: type help for the commands, help COMMAND for one; Ctrl-D or quit leaves."


class RedactedHistory(FileHistory):
    """A FileHistory that keeps passwords out: masked, or the whole line left out (`redact`)."""

    def append_string(self, string: str) -> None:
        entry = redact(string)
        if entry is not None:
            super().append_string(entry)


class ShellCompleter(Completer):
    """Completes the command name, then each argument from its command's slots."""

    def __init__(self, registry: Registry, shell: Shell) -> None:
        self.registry, self.shell = registry, shell

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        words = document.text_before_cursor.split()
        if not words or document.text_before_cursor[-1:].isspace():
            words.append("")
        current = words[-1]
        for word in self._candidates(words[:-1]):
            if word.startswith(current):
                yield Completion(word, start_position=-len(current))

    def _candidates(self, before: list[str]) -> list[str]:
        if not before:
            return sorted(self.registry.commands)
        command = self.registry.commands.get(before[0])
        if command is None:
            return []
        args = before[1:]
        slots: tuple[Slot, ...] = command.slots
        if command.after and args and args[0] in command.after:
            slots, args = command.after[args[0]], args[1:]
        if len(args) >= len(slots):
            return []
        slot = slots[len(args)]
        if slot == COMMAND:
            return sorted(self.registry.commands)
        if slot == PARTNER:
            return self.shell.emails
        return list(slot)


def ask_secret(prompt: str) -> str:
    """A password, not echoed and never in any history; Ctrl-C or Ctrl-D cancels the command."""
    try:
        return PromptSession[str]().prompt(prompt, is_password=True)
    except (KeyboardInterrupt, EOFError):
        raise Cancelled from None


@contextmanager
def keys() -> Iterator[KeyWait]:
    """The terminal in raw mode while a command redraws (the countdown of `timer status`): any
    key, Ctrl-C included, is read unechoed and ends the wait for it."""
    source = create_input()
    with source.raw_mode():

        def wait(seconds: float) -> bool:
            ready, _, _ = select.select([source.fileno()], [], [], seconds)
            if not ready:
                return False
            # Consumed: the key only stops the countdown. A lone Escape waits in the parser for
            # the rest of a sequence (flushed here); a late cursor position report is no key.
            pressed = source.read_keys() + source.flush_keys()
            return any(press.key != Keys.CPRResponse for press in pressed)

        yield wait


def prompt_text(shell: Shell) -> str:
    try:
        account = shell.link.view_account()["account"]
        credits = shell.link.view_credit_ewallet()["ewallet_data"]["credits"]
    except ConnectionFailed:
        return "ewallet (disconnected)> "
    except EWalletError:
        return "ewallet> "
    return f"ewallet [{account} | {credits} credits]> "


def converse(registry: Registry, shell: Shell, history_file: str) -> int:
    """Read commands until Ctrl-D or quit. The connection may come and go; the shell stays.
    Events are printed above the prompt: patch_stdout redraws it below what the watcher prints."""
    link = shell.link
    with patch_stdout(raw=True):
        out = sys.stdout  # the proxy that prints above the prompt

        def show(line: str) -> None:
            out.write(line + "\n")
            out.flush()

        watcher = Watcher(link.host, link.port, show)
        try:
            return _converse(registry, shell, history_file, lambda: watcher.follow(*_following(shell)))
        finally:
            watcher.stop()


def _following(shell: Shell) -> tuple[str | None, str | None, str | None]:
    link = shell.link
    return link.client_id, link.session_token, link.active_account


def _converse(registry: Registry, shell: Shell, history_file: str, follow: Callable[[], None]) -> int:
    session: PromptSession[str] = PromptSession(
        history=RedactedHistory(history_file),
        completer=ShellCompleter(registry, shell),
        complete_while_typing=False,
    )
    shell.say(INTRO)
    text = "ewallet> "
    while not shell.leaving:
        follow()
        try:
            line = session.prompt(text)
        except KeyboardInterrupt:
            continue  # the line is dropped; a new prompt
        except EOFError:
            break
        try:
            registry.execute(shell, line)
            text = prompt_text(shell)
        except KeyboardInterrupt:
            shell.link.interrupted()  # its answer would arrive as the next one's: drop the connection
            shell.warn("interrupted")
        except ConnectionFailed as exc:
            shell.fail(f"ewallet shell: {exc.message}")
            text = "ewallet (disconnected)> "
    return 0
