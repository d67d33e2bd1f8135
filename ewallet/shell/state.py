"""The state one shell run keeps between commands, handed to every command: the link to the
server, where answers and errors go, how to ask for a password, and the partners seen so far."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TextIO

from ewallet.client import ConnectionFailed, EWalletError
from ewallet.shell.link import Link


class UsageError(ValueError):
    """The command line itself is wrong: shown as `error: ...`, nothing was sent."""


class Cancelled(Exception):
    """The user cancelled a question (Ctrl-C at a password prompt): the command does nothing."""


@dataclass
class Shell:
    link: Link
    interactive: bool
    #: Asks for a secret (a password) with this prompt; raises Cancelled or UsageError.
    ask_secret: Callable[[str], str]
    #: On a terminal: single keys, unechoed, while a command keeps redrawing (`timer status`);
    #: the context yields a function that waits up to N seconds for a key. None without one.
    keys: Callable[[], AbstractContextManager[Callable[[float], bool]]] | None = None
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    #: Partners seen in this run, name (lower case) -> email; their emails complete and names resolve.
    partners: dict[str, str] = field(default_factory=dict)
    failures: int = 0
    #: The last history listing with older records left: (kind, filters, next_cursor).
    history_next: tuple[str, dict[str, Any], str] | None = None
    leaving: bool = False

    def say(self, text: str = "") -> None:
        """An answer: stdout, flushed at once (a script reading through a pipe must see it now)."""
        self.out.write(text + "\n")
        self.out.flush()

    def warn(self, text: str) -> None:
        """A note about the shell itself (reconnected, cancelled): stderr; not a failure."""
        self.err.write(text + "\n")
        self.err.flush()

    def fail(self, text: str) -> None:
        self.failures += 1
        self.warn(text)

    def remember(self, name: Any, email: Any) -> None:
        if isinstance(email, str) and "@" in email:
            self.partners[str(name).lower() if name else email.lower()] = email

    @property
    def emails(self) -> list[str]:
        return sorted(set(self.partners.values()))

    def password(self, args: list[str], index: int, prompt: str = "password: ") -> str:
        return args[index] if len(args) > index else self.ask_secret(prompt)

    def partner(self, word: str) -> str:
        """An email for a partner given by email or by name: a name the shell has seen (register,
        login, whoami, records) or a contact of the active contact list. The server takes emails
        only (pay and transfer) and offers no lookup of other accounts by name."""
        if "@" in word:
            return word
        if word.lower() in self.partners:
            return self.partners[word.lower()]
        try:
            ids = self.link.view_contact_list()["list_data"]["records"]
            for rid in ids:
                record = self.link.view_contact_record(int(rid))["record_data"]
                self.remember(record["name"], record["email"])
        except ConnectionFailed:
            raise
        except EWalletError:
            pass  # no contact list to look in: the name stays unknown
        if word.lower() in self.partners:
            return self.partners[word.lower()]
        raise UsageError(f"no known email for {word}: give the email, or add a contact (contact add {word} EMAIL)")
