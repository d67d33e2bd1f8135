"""`ewallet serve|...`: flags override EWALLET_* variables, which override defaults."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ewallet import __version__, exits
from ewallet.client.address import AddressError
from ewallet.exits import Unavailable
from ewallet.settings import ENV_PREFIX, Settings, SettingsError, convert, kind_of


def add_settings_flags(
    parser: argparse.ArgumentParser, only: Sequence[str] | None = None, skip: Sequence[str] = ()
) -> None:
    """One --kebab-case flag per Settings field (all of them, or those named, less those skipped)."""
    for f in fields(Settings):
        if (only is not None and f.name not in only) or f.name in skip:
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


def configure_logging(level: str, log_format: str = "text", *, pid: bool = False) -> None:
    from ewallet import logs

    logs.configure(level, log_format, pid=pid)


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(settings_from(args), tcp=True)


def cmd_http(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.http_port is None:
        settings = settings.replace(http_port=HTTP_ONLY_PORT)
    return _serve(settings, tcp=False)


def _serve(settings: Settings, *, tcp: bool) -> int:
    from ewallet.startup import check_serving

    # Settings are valid (settings_from), the ports free and the database reachable before the
    # database is created or migrated: a wrong setting leaves nothing behind.
    check_serving(settings, tcp=tcp)
    if settings.workers > 1:
        from ewallet.supervisor import supervise

        configure_logging(settings.log_level, settings.log_format, pid=True)
        return supervise(settings, tcp=tcp)
    configure_logging(settings.log_level, settings.log_format)
    from ewallet.supervisor import run_server

    return run_server(settings, tcp=tcp)


#: `ewallet http` listens here unless --port or EWALLET_HTTP_PORT says otherwise.
HTTP_ONLY_PORT = 8081


def cmd_audit(args: argparse.Namespace) -> int:
    from ewallet.domain.audit import audit
    from ewallet.startup import check_ewallet_schema
    from ewallet.storage.database import create_db_engine, snapshot_factory

    settings = settings_from(args)
    check_ewallet_schema(settings.database_url)
    engine = create_db_engine(settings.database_url, busy_timeout=settings.busy_timeout, pool_size=1)
    try:
        # One snapshot for every query, and no lock a writer of the live server would wait for.
        with snapshot_factory(engine).begin() as db:
            report = audit(db, event_days=settings.event_days)
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
    http = commands.add_parser(
        "http",
        help="serve only the HTTP API",
        description="Serve the HTTP API alone (no TCP listener). --port is the HTTP port, as for uvicorn.",
    )
    http.add_argument(
        "--port",
        "--http-port",
        dest="http_port",
        default=None,
        metavar="INT",
        help=f"HTTP port (0 picks a free one) [env EWALLET_HTTP_PORT, default {HTTP_ONLY_PORT}]",
    )
    add_settings_flags(http, skip=("port", "http_port"))
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
    except (SettingsError, AddressError) as exc:
        print(f"ewallet: {exc}", file=sys.stderr)
        return exits.USAGE
    except Unavailable as exc:
        print(f"ewallet: {exc}", file=sys.stderr)
        return exits.UNAVAILABLE
    except KeyboardInterrupt:
        return 130
