"""`ewallet audit` run as its own process, as an operator would after a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("ewallet")


def audit_cli(database_url: str) -> subprocess.CompletedProcess[str]:
    """`ewallet audit --database URL` as a separate process (no EWALLET_* variables leak in)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EWALLET_")}
    command = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "ewallet"]
    return subprocess.run(
        [*command, "audit", "--database", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
