"""Checks made before a command creates anything: the ports are free and the database answers.
Until they pass no file, table or listener exists, so a wrong setting leaves nothing behind.
Each failure is one line for stderr: what is wrong and what to do."""

from __future__ import annotations

import contextlib
import errno
import socket
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ewallet.exits import Unavailable
from ewallet.settings import Settings, SettingsError
from ewallet.storage.database import normalise_url
from ewallet.storage.migrate import head_revision

FIX_DATABASE = "--database or EWALLET_DATABASE_URL"


def check_serving(settings: Settings, *, tcp: bool = True) -> None:
    """Before `ewallet serve` / `ewallet http` build anything: ports, then the database."""
    ports = [("EWALLET_PORT", settings.port)] if tcp else []
    if settings.http_port is not None:
        ports.append(("EWALLET_HTTP_PORT", settings.http_port))
    if len(ports) == 2 and ports[0][1] == ports[1][1] != 0:
        raise SettingsError("EWALLET_PORT and EWALLET_HTTP_PORT are the same port: choose two different ones")
    for name, port in ports:
        check_port_free(settings.host, port, name)
    check_database(settings.database_url)


def check_port_free(host: str, port: int, name: str = "EWALLET_PORT") -> None:
    """Bind each address `host` resolves to, as the listener will, then let go at once."""
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise SettingsError("EWALLET_HOST does not resolve: give an IP address or a known host name") from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise _bind_error(exc, str(address[0]), port, name) from None


def _bind_error(exc: OSError, host: str, port: int, name: str) -> Exception:
    flag = "--" + name.removeprefix("EWALLET_").lower().replace("_", "-")
    if exc.errno == errno.EADDRINUSE:
        return Unavailable(
            f"port {port} on {host} is already in use (another ewallet?): stop that process or choose another {flag}"
        )
    if exc.errno == errno.EACCES:
        return SettingsError(f"no permission to listen on port {port}: choose a port from 1024 up with {flag}")
    if exc.errno == errno.EADDRNOTAVAIL:
        return SettingsError(f"{host} is not an address of this machine: fix --host or EWALLET_HOST")
    return Unavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def address_in_use(exc: OSError, settings: Settings) -> Unavailable | None:
    """The listener lost a race for its port after check_serving: the same one line."""
    if exc.errno != errno.EADDRINUSE:
        return None
    return Unavailable(
        f"a port of {settings.host} is already in use (another ewallet?): stop that process or choose another port"
    )


def shown(url: str | URL) -> str:
    """The URL without its password, for messages and logs."""
    return normalise_url(url).render_as_string(hide_password=True)


def check_database(url: str, *, existing: bool = False) -> None:
    """The database can be opened. SQLite: its folder exists (the file, when `existing`), and
    nothing is created here. PostgreSQL: a connection logs in to that database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if existing and not path.is_file():
            raise SettingsError(f"no ewallet database at {path}: check {FIX_DATABASE}")
        if not path.parent.is_dir():
            raise SettingsError(
                f"the folder {path.parent} of the SQLite database does not exist: create it"
                f" (mkdir -p {path.parent}) or fix {FIX_DATABASE}"
            )
        return
    engine = create_engine(parsed, poolclass=NullPool, hide_parameters=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise _connect_error(exc, parsed) from None
    finally:
        engine.dispose()


def _connect_error(exc: DBAPIError, url: URL) -> Exception:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    reason = reason.split("FATAL:", 1)[-1].strip()
    where = shown(url)
    if "does not exist" in reason and "database" in reason:
        return SettingsError(
            f'PostgreSQL has no database "{url.database}": create it (createdb {url.database}) or fix {FIX_DATABASE}'
        )
    if "authentication" in reason or "role" in reason or "password" in reason:
        return SettingsError(
            f"PostgreSQL refused the login to {where} ({reason}): fix the user or password in {FIX_DATABASE}"
        )
    reason = reason.rsplit("failed: ", 1)[-1]
    return Unavailable(
        f"cannot reach the database {where} ({reason}): is PostgreSQL running there? Start it or fix {FIX_DATABASE}"
    )


def check_ewallet_schema(url: str) -> None:
    """For `ewallet audit`: the database exists and holds ewallet's tables at this version's
    revision. SQLite is opened read-only, so a stray file is not even switched to WAL."""
    check_database(url, existing=True)
    parsed = normalise_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            read_only = Path(parsed.database or "").resolve().as_uri() + "?mode=ro"
            with contextlib.closing(sqlite3.connect(read_only, uri=True)) as connection:
                rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            revisions = [row[0] for row in rows]
        else:
            engine = create_engine(parsed, poolclass=NullPool, hide_parameters=True)
            try:
                with engine.connect() as connection:
                    revisions = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
            finally:
                engine.dispose()
    except (sqlite3.Error, DBAPIError):
        raise SettingsError(f"no ewallet database at {_place(parsed)}: check {FIX_DATABASE}") from None
    if revisions != [head_revision()]:
        raise SettingsError(
            f"the ewallet database at {_place(parsed)} has schema revision {', '.join(revisions) or 'none'},"
            f" this ewallet expects {head_revision()}: start this version's `ewallet serve` on it once to migrate it"
        )


def _place(url: URL) -> str:
    return str(url.database) if url.get_backend_name() == "sqlite" else shown(url)
