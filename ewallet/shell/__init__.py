"""`ewallet shell`: an interactive client for people. It opens a session by itself, shows the
active account and balance in its prompt, completes commands, their words and partner emails,
keeps a history (never with passwords), survives the server closing the connection (the session
is kept), and reads scripts from a pipe just as well: answers on stdout, errors on stderr."""

from ewallet.shell.main import add_arguments, run

__all__ = ["add_arguments", "run"]
