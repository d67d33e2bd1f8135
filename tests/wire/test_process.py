"""`ewallet serve` as a real process: the log line, the default database in the working
directory, `python -m ewallet`, and exit status 0 on SIGTERM and SIGINT with a client connected."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.probes import CLIENT_ID

EWALLET = Path(sys.executable).with_name("ewallet")
LISTENING = re.compile(r"listening on (\S+):(\d+)")


@contextmanager
def served(command: list[str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    """Start the server on a free port; yields (process, port, stderr lines read so far)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    process = subprocess.Popen(
        [*command, "serve", "--port", "0", "--anon-rate", "0"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        port = None
        while port is None and time.monotonic() < deadline:
            text = process.stderr.readline()
            if not text:
                break
            log.append(text)
            found = LISTENING.search(text)
            if found:
                assert found.group(1) == "127.0.0.1"
                port = int(found.group(2))
        assert port is not None, "no 'listening on HOST:PORT' line:\n" + "".join(log)
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def round_trip(port: int) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(CLIENT_ID)
        return json.loads(conn.makefile("rb").readline())


def stops_cleanly(process: subprocess.Popen[str], port: int, signum: int) -> None:
    """Send `signum` while an idle client is connected: the client sees the connection close,
    the process exits 0."""
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        time.sleep(0.1)  # let the server register the connection
        process.send_signal(signum)
        assert idle.recv(1) == b""
        assert process.wait(timeout=20) == 0
    finally:
        idle.close()


class TestServeCommand:
    def test_starts_on_sqlite_in_the_working_directory_and_stops_on_sigterm(self, tmp_path: Path) -> None:
        with served([str(EWALLET)], tmp_path) as (process, port, _):
            answer = round_trip(port)
            assert answer["failed"] is False
            assert answer["client_id"].startswith("ewsm-uid:")
            assert (tmp_path / "ewallet.db").exists()
            stops_cleanly(process, port, signal.SIGTERM)

    def test_stops_on_sigint_with_exit_status_0(self, tmp_path: Path) -> None:
        with served([str(EWALLET)], tmp_path) as (process, port, _):
            assert round_trip(port)["failed"] is False
            stops_cleanly(process, port, signal.SIGINT)

    def test_python_dash_m_ewallet_serves_too(self, tmp_path: Path) -> None:
        with served([sys.executable, "-m", "ewallet"], tmp_path) as (process, port, _):
            assert round_trip(port)["failed"] is False
            stops_cleanly(process, port, signal.SIGTERM)

    def test_a_restart_on_the_same_file_keeps_client_ids(self, tmp_path: Path) -> None:
        with served([str(EWALLET)], tmp_path) as (process, port, _):
            client_id = round_trip(port)["client_id"]
            stops_cleanly(process, port, signal.SIGTERM)
        with served([str(EWALLET)], tmp_path) as (process, port, _):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                request = {
                    "controller": "client",
                    "ctype": "action",
                    "action": "request",
                    "request": "session_token",
                    "client_id": client_id,
                }
                conn.sendall(json.dumps(request).encode() + b"\n")
                answer = json.loads(conn.makefile("rb").readline())
            assert answer["failed"] is False
            assert answer["session_token"].startswith("ewsm-st:")
            stops_cleanly(process, port, signal.SIGTERM)


class TestConsoleScript:
    def test_prints_its_version(self) -> None:
        result = subprocess.run([str(EWALLET), "--version"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0
        assert result.stdout.startswith("ewallet ")
