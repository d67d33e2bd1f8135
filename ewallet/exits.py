"""Exit statuses shared by every `ewallet` command (the README's table). 2 is argparse's own
status for a usage error, so a bad setting or argument shares it; "could not reach something
that is correctly configured" has its own, so a supervisor or script can retry on 3 alone."""

OK = 0
#: An instruction or command failed (`call`, `shell`), or the books do not balance (`audit`), or
#: a worker of `ewallet serve --workers` died unasked.
FAILED = 1
#: A usage or configuration error: fix the command line or the EWALLET_* variables.
USAGE = 2
#: A resource is unavailable: the server (call, shell), the database, a port already in use.
UNAVAILABLE = 3
#: The reader of standard output went away (`ewallet call | head`): 128 + SIGPIPE, as the shell
#: reports for any Unix tool ended by a closed pipe.
BROKEN_PIPE = 141


class Unavailable(Exception):
    """A correctly configured resource that cannot be used now: exit status UNAVAILABLE."""
