"""Helpers for the client tests: the library driven from the event loop the server runs on,
and the command-line tools run as subprocesses."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ewallet.client import Client

_SCRIPT = Path(sys.executable).with_name("ewallet")
EWALLET = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "ewallet"]


class OffLoop:
    """A blocking Client used from the event loop that also runs the server: each call runs in a
    thread, so the same awaited test code drives Client and AsyncClient."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if not callable(value):
            return value

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(value, *args, **kwargs)

        return call


@dataclass
class Finished:
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


async def ewallet(*args: str, stdin: str | bytes = b"", env: dict[str, str] | None = None) -> Finished:
    """Run `ewallet ARGS` with `stdin` piped in. Asynchronously, so that the in-process server on
    this event loop keeps answering meanwhile."""
    process = await asyncio.create_subprocess_exec(
        *EWALLET,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    data = stdin.encode() if isinstance(stdin, str) else stdin
    out, err = await asyncio.wait_for(process.communicate(data), 60)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
