"""`ewallet serve|...`: flags override EWALLET_* variables, which override defaults."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ewallet import __version__
from ewallet.settings import ENV_PREFIX, Settings, SettingsError, convert, kind_of
from ewallet.transport.limits import usable_connections


def add_settings_flags(parser: argparse.ArgumentParser, only: Sequence[str] | None = None) -> None:
    """One --kebab-case flag per Settings field (all of them, or those named)."""
    for f in fields(Settings):
        if only is not None and f.name not in only:
            continue
        flag = "--" + f.metadata.get("flag", f.name.replace("_", "-"))
        env = ENV_PREFIX + f.name.upper()
        default = "unset" if f.default is None else f.default
        parser.add_argument(
            flag,
            dest=f.name,
            default=None,
            metavar=kind_of(f).__name__.upper(),
            help=f"{f.metadata.get('help', '')} [env {env}, default {default}]",
        )


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for f in fields(Settings):
        raw = getattr(args, f.name, None)
        if raw is not None:
            overrides[f.name] = convert(f, raw)
    return Settings.load(**overrides)


def configure_logging(level: str, log_format: str = "text") -> None:
    from ewallet import logs

    logs.configure(level, log_format)


def cmd_serve(args: argparse.Namespace) -> int:
    from ewallet.app import build_app

    settings = settings_from(args)
    configure_logging(settings.log_level, settings.log_format)
    settings = settings.replace(max_connections=usable_connections(settings.max_connections))
    app = build_app(settings)
    asyncio.run(app.serve_until_signalled())
    return 0


def cmd_http(args: argparse.Namespace) -> int:
    from ewallet.app import build_app

    settings = settings_from(args)
    if settings.http_port is None:
        settings = settings.replace(http_port=8081)
    configure_logging(settings.log_level, settings.log_format)
    settings = settings.replace(max_connections=usable_connections(settings.max_connections))
    app = build_app(settings)
    asyncio.run(app.serve_until_signalled(tcp=False))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from ewallet.domain.audit import audit
    from ewallet.storage.database import create_db_engine, snapshot_factory

    settings = settings_from(args)
    engine = create_db_engine(settings.database_url, busy_timeout=settings.busy_timeout, pool_size=1)
    try:
        # One snapshot for every query, and no lock a writer of the live server would wait for.
        with snapshot_factory(engine).begin() as db:
            report = audit(db)
    finally:
        engine.dispose()
    print("\n".join(report.lines()))
    return 0 if report.clean else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ewallet", description="EWallet Credit Clock server and tools")
    parser.add_argument("--version", action="version", version=f"ewallet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server", description="Run the ewallet server.")
    add_settings_flags(serve)
    serve.set_defaults(run=cmd_serve)
    http = commands.add_parser("http", help="serve only the HTTP API", description="Serve the HTTP API alone.")
    add_settings_flags(http)
    http.set_defaults(run=cmd_http)
    audit = commands.add_parser("audit", help="check the books", description="Check that balances match the ledger.")
    add_settings_flags(audit, only=("database_url",))
    audit.set_defaults(run=cmd_audit)

    from ewallet import call, shell

    call_parser = commands.add_parser(
        "call", help="send instruction sets", description=call.__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    call.add_arguments(call_parser)
    call_parser.set_defaults(run=call.run)
    shell_parser = commands.add_parser("shell", help="interactive client", description=shell.__doc__)
    shell.add_arguments(shell_parser)
    shell_parser.set_defaults(run=shell.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"ewallet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
