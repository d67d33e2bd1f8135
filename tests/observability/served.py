"""`ewallet serve` as a real process whose stderr a test reads: the log as an operator sees it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

EWALLET = Path(sys.executable).with_name("ewallet")
STARTED = re.compile(r"ewallet \S+ started: ")
ADDRESS = re.compile(r"\b(TCP|HTTP|metrics) 127\.0\.0\.1:(\d+)")


@dataclass
class Served:
    process: subprocess.Popen[str]
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.ports["TCP"]

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        """Until a log line holds `text` (a line may be written just after its answer is sent)."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in list(self.lines)):
            assert time.monotonic() < deadline, f"no log line with {text!r}:\n" + "".join(self.lines)
            time.sleep(0.02)


def _read(process: subprocess.Popen[str], into: list[str]) -> None:
    assert process.stderr is not None
    into.extend(iter(process.stderr.readline, ""))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def served(folder: Path, *flags: str, quiet: bool = False) -> Iterator[Served]:
    """A server on free ports with cheap hashing; stopped with SIGTERM, its whole log kept.
    `quiet`: the log will not show the startup line (a level above INFO), so the TCP port is
    chosen here and the server is ready once it accepts."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    port = _free_port() if quiet else 0
    command = [str(EWALLET), "serve", "--port", str(port), "--database", f"sqlite:///{folder}/ewallet.db"]
    command += ["--argon2-time-cost", "1", "--argon2-memory-kib", "8192", *flags]
    process = subprocess.Popen(
        command, cwd=folder, env=environ, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    running = Served(process, {})
    # A reader thread, so a chatty log never fills the pipe and blocks the server.
    reader = threading.Thread(target=_read, args=(process, running.lines), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while quiet and not running.ports:
            assert process.poll() is None and time.monotonic() < deadline, "no start:\n" + "".join(running.lines)
            if _accepts(port):
                running.ports = {"TCP": port}
            time.sleep(0.05)
        while not running.ports:
            assert process.poll() is None and time.monotonic() < deadline, "no start:\n" + "".join(running.lines)
            for line in list(running.lines):
                if STARTED.search(line):
                    running.ports = {face: int(port) for face, port in ADDRESS.findall(line)}
            time.sleep(0.02)
        yield running
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
