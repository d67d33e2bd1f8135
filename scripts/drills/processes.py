"""`ewallet serve` as a real process, for the drills that kill, restart or double it, and fresh
databases for the scripts (the tests take theirs from the conftest fixtures)."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scripts.drills.line_client import SYSTEM_KEY

EWALLET = Path(sys.executable).with_name("ewallet")
LISTENING = re.compile(r"listening on (\S+):(\d+)")
#: Flags every drill server gets: cheap hashing (the drills log in a lot), the test system key,
#: no anonymous rate limit (one address opens every session), sweeps off (nothing runs by itself).
#: The transaction policy of the servers the drills start (`ewallet serve --transactions`); the
#: test suite's `database_url` fixture sets it for the policy it is running under.
TRANSACTIONS = {"policy": "auto"}
DRILL_FLAGS = {
    "--system-key": SYSTEM_KEY,
    "--argon2-time-cost": "1",
    "--argon2-memory-kib": "64",
    "--argon2-parallelism": "1",
    "--anon-rate": "0",
    "--unused-sessions-per-peer": "0",
    "--session-sweep": "0",
    "--account-sweep": "0",
    "--timer-sweep": "0",
}


class ServerProcess:
    """One `ewallet serve` on a free port. Its stderr is collected by a thread, so the process
    never blocks on a full pipe and the log can be searched for tracebacks afterwards."""

    def __init__(self, database_url: str, *, fd_limit: int | None = None, **flags: object) -> None:
        """`fd_limit` caps the process's open files (soft and hard RLIMIT_NOFILE) from the start."""
        options = dict(DRILL_FLAGS)
        options["--transactions"] = TRANSACTIONS["policy"]
        options.update({"--" + name.replace("_", "-"): str(value) for name, value in flags.items()})
        command = [str(EWALLET), "serve", "--port", "0", "--database", database_url]
        for flag, value in options.items():
            command += [flag, value]
        env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=None if fd_limit is None else lambda: _limit_files(fd_limit),
        )
        self.log: list[str] = []
        self._listening = threading.Event()
        self.port = 0
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._listening.wait(60):
            self.kill()
            raise RuntimeError("ewallet serve did not start:\n" + "".join(self.log))

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            found = LISTENING.search(line)
            if found and not self._listening.is_set():
                self.port = int(found.group(2))
                self._listening.set()
        self._listening.set()  # ended before listening: the waiter then reports the log

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when the machine loses power under the process."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._finish()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and the exit status."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout)
        self._finish()
        return status

    def _finish(self) -> None:
        self._reader.join(5)
        if self.process.stderr is not None and not self._reader.is_alive():
            self.process.stderr.close()

    def tracebacks(self) -> list[str]:
        """Log lines that show an unexpected exception."""
        return [line for line in self.log if "Traceback" in line or "internal error" in line]


def _limit_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def lowest_free_descriptor(pid: int) -> int:
    """With RLIMIT_NOFILE lowered to this, the process can open nothing more."""
    taken = {int(name) for name in os.listdir(f"/proc/{pid}/fd")}
    return next(n for n in range(len(taken) + 1) if n not in taken)


@contextmanager
def serving(database_url: str, *, fd_limit: int | None = None, **flags: object) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, fd_limit=fd_limit, **flags)
    try:
        yield server
    finally:
        server.kill()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


PG_ADMIN_URL = os.environ.get("EWALLET_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_database(name: str, template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database created now (a copy of `template`, or empty) and dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """An empty database for a script (the server migrates it when it starts): a SQLite file in
    `folder`, or a PostgreSQL database created now and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'ewallet.db'}"
        return
    with postgres_database(f"ewallet_drill_{uuid.uuid4().hex[:8]}") as url:
        yield url
