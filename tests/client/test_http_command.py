"""`ewallet http --port P` serves the HTTP API on P, as `uvicorn --port P` would (the flag was
once accepted and ignored: the API went to 8081)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.client.helpers import EWALLET, closed_port


def test_port_is_the_http_port(tmp_path: Path, sqlite_url: str) -> None:
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EWALLET_")}
    process = subprocess.Popen(
        [*EWALLET, "http", "--port", str(port), "--database", sqlite_url],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # the log's wording is not this test's business: poll the port itself
            assert process.poll() is None, "ewallet http exited before listening"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
                    assert json.loads(answer.read())["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, f"nothing answers HTTP on {port}"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
