"""Where the command-line clients (`ewallet call`, `ewallet shell`) connect: a flag, else the
server's own EWALLET_HOST / EWALLET_PORT, else 127.0.0.1:8080. So a shell that exported the
variables for `ewallet serve` reaches that server with no flags at all."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class AddressError(ValueError):
    """An unusable EWALLET_HOST / EWALLET_PORT or flag; the message names it (exit status 2)."""


def add_address_arguments(parser: argparse.ArgumentParser) -> None:
    """--host and --port, left None when not given so that server_address can tell."""
    parser.add_argument("--host", default=None, help=f"server address [env EWALLET_HOST, default {DEFAULT_HOST}]")
    parser.add_argument("--port", default=None, help=f"server port [env EWALLET_PORT, default {DEFAULT_PORT}]")


def server_address(
    host: str | None = None, port: int | str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[str, int]:
    """(host, port): each from its flag when given, else its EWALLET_* variable when set and not
    empty, else the default."""
    environ = os.environ if environ is None else environ
    chosen_host = host or environ.get("EWALLET_HOST") or DEFAULT_HOST
    if port is not None:
        raw, name = str(port), "--port"
    elif environ.get("EWALLET_PORT"):
        raw, name = environ["EWALLET_PORT"], "EWALLET_PORT"
    else:
        return chosen_host, DEFAULT_PORT
    try:
        number = int(raw.strip())
    except ValueError:
        raise AddressError(f"{name} is not a port number: give one from 1 to 65535") from None
    if not 1 <= number <= 65535:
        raise AddressError(f"{name} must be a port number from 1 to 65535")
    return chosen_host, number


def address_of(args: argparse.Namespace) -> tuple[str, int]:
    """server_address for a parser set up by add_address_arguments."""
    return server_address(args.host, args.port)
