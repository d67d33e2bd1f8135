"""One frozen Settings, built once from defaults < environment < command-line flags."""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "EWALLET_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: The shortest system key accepted; a shorter one refuses the start instead of being ignored.
SYSTEM_KEY_MIN = 32


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message names the setting, not its value."""


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _opt(help_text: str, **meta: Any) -> dict[str, Any]:
    return {"help": help_text, **meta}


@dataclass(frozen=True)
class Settings:
    """Every tunable of a server process. The field name upper-cased after EWALLET_ is its
    environment variable; the field name in kebab case is its `ewallet serve` flag."""

    host: str = field(default="127.0.0.1", metadata=_opt("address to listen on"))
    port: int = field(default=8080, metadata=_opt("TCP port (0 picks a free one)"))
    http_port: int | None = field(default=None, metadata=_opt("also serve the HTTP API on this port"))
    forwarded_allow_ips: str | None = field(
        default=None,
        metadata=_opt("addresses or networks, comma-separated, whose X-Forwarded-For the HTTP face trusts"),
    )
    database_url: str = field(
        default="sqlite:///./ewallet.db",
        metadata=_opt("SQLAlchemy database URL (sqlite:///file or postgresql+psycopg://...)", flag="database"),
    )
    system_key: str | None = field(
        default=None,
        metadata=_opt("key for system instructions; at least 32 characters, a shorter one refuses the start"),
    )
    system_name: str = field(default="ewallet-system", metadata=_opt("name of the built-in system side"))
    session_lifetime: float = field(default=86400.0, metadata=_opt("session lifetime in seconds"))
    unused_session_lifetime: float = field(
        default=3600.0,
        metadata=_opt("lifetime of a session that never had a login, and of an unused client id"),
    )
    unused_sessions_per_peer: int = field(
        default=20,
        metadata=_opt("live sessions that never logged in, per peer address (0 = no cap)"),
    )
    workers: int = field(
        default=1,
        metadata=_opt(
            "server processes sharing the port (SO_REUSEPORT, Linux) and the database; 1 = one process, no supervisor"
        ),
    )
    worker_limit: int = field(default=100, metadata=_opt("most workers per process"))
    session_limit: int = field(default=100, metadata=_opt("most live sessions per worker"))
    max_frame: int = field(default=65536, metadata=_opt("longest request line in bytes"))
    frame_timeout: float = field(default=30.0, metadata=_opt("seconds a started line may take to complete"))
    idle_timeout: float = field(default=300.0, metadata=_opt("seconds an idle connection is kept"))
    max_connections: int = field(default=10000, metadata=_opt("most simultaneous connections, TCP and HTTP together"))
    max_unsent: int = field(default=1 << 20, metadata=_opt("bytes of unsent answers before reading pauses"))
    shutdown_grace: float = field(default=10.0, metadata=_opt("seconds started instructions get at shutdown"))
    anon_rate: int = field(default=300, metadata=_opt("anonymous requests per minute per peer (0 = off)"))
    unlink_grace_days: float = field(default=30.0, metadata=_opt("days between an account's unlink and deletion"))
    conversion_rate: Decimal = field(default=Decimal("1.00"), metadata=_opt("minutes per credit"))
    user_supply: bool = field(default=True, metadata=_opt("whether users may supply credits themselves"))
    max_supply: int = field(default=1_000_000, metadata=_opt("most credits one supply instruction adds"))
    idempotency_hours: float = field(default=72.0, metadata=_opt("hours idempotency keys are kept"))
    event_days: float = field(default=7.0, metadata=_opt("days events are kept for subscribers resuming with after"))
    max_listed_records: int = field(default=1000, metadata=_opt("most records listed in a sheet's records"))
    timezone: str = field(default="UTC", metadata=_opt("IANA time zone of wire timestamps"))
    session_sweep: float = field(default=60.0, metadata=_opt("seconds between expired-session sweeps"))
    account_sweep: float = field(default=3600.0, metadata=_opt("seconds between account-cleaner runs"))
    timer_sweep: float = field(default=60.0, metadata=_opt("seconds between timer auto-stop sweeps"))
    argon2_time_cost: int | None = field(default=None, metadata=_opt("Argon2 time cost"))
    argon2_memory_kib: int | None = field(default=None, metadata=_opt("Argon2 memory cost in KiB"))
    argon2_parallelism: int | None = field(default=None, metadata=_opt("Argon2 parallelism"))
    login_failure_limit: int = field(default=5, metadata=_opt("consecutive failed logins before throttling"))
    peer_login_rate: int = field(default=60, metadata=_opt("failed logins per minute per peer (0 = off)"))
    transactions: str = field(
        default="auto",
        metadata=_opt(
            "transaction policy for writes: grouped (one writer thread, group commit), pooled (a transaction"
            " per instruction on the thread pool) or auto (grouped on SQLite, pooled elsewhere)"
        ),
    )
    threads: int = field(default=4, metadata=_opt("threads that run instructions under the pooled policy"))
    password_threads: int = field(
        default=2, metadata=_opt("threads that hash and verify passwords, apart from the database threads")
    )
    readers: int = field(
        default=1, metadata=_opt("threads that run read-only instructions, a batch sharing one read transaction")
    )
    pool_size: int = field(default=20, metadata=_opt("database connections kept per process"))
    busy_timeout: float = field(default=5.0, metadata=_opt("seconds SQLite waits for a lock"))
    log_level: str = field(default="INFO", metadata=_opt("logging level"))
    log_format: str = field(default="text", metadata=_opt("log line format: text, or json (one JSON object per line)"))
    metrics_port: int | None = field(
        default=None,
        metadata=_opt("serve Prometheus metrics on this port (GET /metrics; the HTTP face serves them too)"),
    )

    def __post_init__(self) -> None:
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise SettingsError("EWALLET_TIMEZONE is not a known IANA time zone") from exc
        if self.conversion_rate <= 0 or self.conversion_rate != self.conversion_rate.quantize(Decimal("0.01")):
            raise SettingsError("EWALLET_CONVERSION_RATE must be positive with at most two decimals")
        if self.transactions not in ("auto", "grouped", "pooled"):
            raise SettingsError(f"{ENV_PREFIX}TRANSACTIONS must be auto, grouped or pooled")
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"{ENV_PREFIX}LOG_FORMAT must be text or json")
        if not self.event_days > 0:  # also refuses NaN: a subscriber's `after` must reach back some
            raise SettingsError(f"{ENV_PREFIX}EVENT_DAYS must be more than 0")
        at_least_one = (
            "workers",
            "worker_limit",
            "session_limit",
            "max_frame",
            "max_connections",
            "threads",
            "readers",
        )
        for name in (*at_least_one, "password_threads"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be at least 1")
        self._check_startup_values()

    def _check_startup_values(self) -> None:
        """Values that used to surface as a traceback once the server was half started."""
        for name in ("port", "http_port"):
            port = getattr(self, name)
            if port is not None and not 0 <= port <= 65535:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be a port number from 0 to 65535")
        if self.log_level.upper() not in LOG_LEVELS:
            raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.system_key is not None and len(self.system_key) < SYSTEM_KEY_MIN:
            raise SettingsError(
                f"{ENV_PREFIX}SYSTEM_KEY must be at least {SYSTEM_KEY_MIN} characters: generate one with"
                " `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`, or leave it unset"
            )
        check_database_url(self.database_url)
        if self.workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
            raise SettingsError(f"{ENV_PREFIX}WORKERS above 1 needs SO_REUSEPORT, which this platform lacks")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def system_key_usable(self) -> bool:
        return self.system_key is not None and len(self.system_key) >= 32

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then EWALLET_* variables from environ, then the given overrides (not None)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None and f.name == "database_url":
                raw = environ.get(ENV_PREFIX + "DATABASE")
            if raw is not None and raw != "":
                values[f.name] = convert(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def check_database_url(url: str) -> None:
    """A URL naming SQLite (a file) or PostgreSQL, with a driver this installation has."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    what_to_do = "use sqlite:///PATH or postgresql://USER@HOST:PORT/NAME"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(f"{ENV_PREFIX}DATABASE_URL is not a database URL: {what_to_do}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise SettingsError(f"{ENV_PREFIX}DATABASE_URL names neither SQLite nor PostgreSQL: {what_to_do}")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise SettingsError(
            f"{ENV_PREFIX}DATABASE_URL is an in-memory SQLite database, which the server's threads"
            " cannot share: name a file, sqlite:///PATH"
        )
    if parsed.drivername not in ("postgresql", "postgres"):  # the bare name means psycopg 3 here
        try:
            dialect = parsed.get_dialect()
            dialect.import_dbapi()
        except (NoSuchModuleError, ImportError):
            raise SettingsError(f"{ENV_PREFIX}DATABASE_URL names a driver not installed: {what_to_do}") from None
        if getattr(dialect, "is_async", False):
            raise SettingsError(f"{ENV_PREFIX}DATABASE_URL names an asyncio driver: {what_to_do}")


def kind_of(f: dataclasses.Field[Any]) -> type:
    """The concrete value type of a field, unwrapping `X | None`."""
    annotation = str(f.type)
    for name, kind in (("bool", bool), ("int", int), ("float", float), ("Decimal", Decimal)):
        if annotation.split(" |")[0] == name:
            return kind
    return str


def convert(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = kind_of(f)
    try:
        if kind is bool:
            return _bool(raw)
        if kind is Decimal:
            return Decimal(raw.strip())
        return kind(raw.strip()) if kind is not str else raw
    except (ValueError, ArithmeticError) as exc:
        raise SettingsError(f"{ENV_PREFIX}{f.name.upper()} is not a valid {kind.__name__}") from exc
