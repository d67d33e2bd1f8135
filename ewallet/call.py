"""`ewallet call`: send instruction sets as JSON lines, print each answer as a JSON line.

One instruction from the command line, or one per line on standard input (how to pass secrets:
never in argv, where other users of the machine can read them). Lines are sent as given, so the
server judges them exactly as it would judge netcat's. The server is --host/--port, else
EWALLET_HOST/EWALLET_PORT, else 127.0.0.1:8080. Exit status: 0 when every instruction
succeeded, 1 when any failed, 2 for a usage error (an empty instruction, a bad port), 3 when the
server could not be reached, 141 when standard output was closed (`| head`).

Event lines (PROTOCOL §12: after a subscribe, the connection also carries the account's events)
are printed too, in the order the server sent them, and count as neither success nor failure.
`--follow` keeps the connection open after the last answer and prints each event as it comes:
Ctrl-C ends it with status 0; the server closing the connection ends it with status 3. It follows
only when every instruction succeeded (a failed subscribe brings no events: status 1 at once)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ewallet import exits
from ewallet.client import Client, ConnectionFailed
from ewallet.client.address import add_address_arguments, address_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruction", nargs="?", help="one instruction set as JSON (default: read lines from stdin)")
    add_address_arguments(parser)
    parser.add_argument("--pretty", action="store_true", help="indent each answer")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer [30]")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="after the last answer, keep the connection and print each event as it comes (Ctrl-C ends)",
    )


def _lines(args: argparse.Namespace) -> Iterable[bytes]:
    """Request lines, blank ones left out (the server would not answer them)."""
    if args.instruction is not None:
        # One instruction, even when pasted as indented JSON over several lines: a line break is
        # JSON whitespace, but on the wire it would split the instruction into several lines.
        yield args.instruction.replace("\n", " ").encode("utf-8", "surrogateescape")
        return
    # Bytes, not text: a line that is not UTF-8 goes to the server, which answers invalid_json.
    for line in sys.stdin.buffer:
        if line.strip():
            yield line


def run(args: argparse.Namespace) -> int:
    if args.instruction is not None and not args.instruction.strip():
        print(
            "ewallet call: the instruction is empty: give one JSON instruction set, or none to read them from stdin",
            file=sys.stderr,
        )
        return exits.USAGE
    host, port = address_of(args)
    status = exits.OK

    def show(line: dict[str, Any]) -> None:
        print(json.dumps(line, indent=2 if args.pretty else None, ensure_ascii=False), flush=True)

    with Client(host, port, timeout=args.timeout) as client:
        try:
            for line in _lines(args):
                answer = client.raw_line(line)
                for event in client.take_events():  # they came before the answer
                    show(event)
                show(answer)
                if answer.get("failed") is not False:
                    status = exits.FAILED
            if args.follow and status == exits.OK:
                return _follow(client, show)
        except ConnectionFailed as exc:
            print(f"ewallet call: {exc.message}", file=sys.stderr)
            return exits.UNAVAILABLE
        except BrokenPipeError:
            # The reader left (`| head`): stop quietly, like any Unix tool, and keep Python from
            # complaining again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return exits.BROKEN_PIPE
    return status


def _follow(client: Client, show: Callable[[dict[str, Any]], None]) -> int:
    """Print events until Ctrl-C (status 0) or the server closes (ConnectionFailed: status 3)."""
    # Ctrl-C is how following ends. A process started in the background by a shell without job
    # control inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:
            show(client.read_event())
    except KeyboardInterrupt:
        return exits.OK
