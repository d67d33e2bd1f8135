"""SIGTERM under load (§1): instructions already started complete *and are answered* within the
grace period. Clients pipeline keyed supplies and read nothing until just after the signal, so
answers wait in the server (their receive windows are tiny and each answer is padded to ~360
bytes by its id), and keep sending (blank lines, which cost nothing and need no retry) while the
server stops reading them. Then every answer is read to the end of the stream. Whatever the
server committed must have been answered: after a restart, replaying each unanswered key runs it
for the first time, never returns a stored result."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from scripts.drills.ledger import read_ledger
from scripts.drills.processes import ServerProcess
from scripts.drills.wallets import Wallet, open_wallet

CLIENTS = 8
#: Supplies a client sends ahead of its answers: more than the server commits before the signal.
WINDOW = 40
PADDING = "." * 249


@dataclass
class Pipeliner:
    """One connection pipelining supplies keyed `term-<client>-<n>`, reading only once `reading`
    is set."""

    wallet: Wallet
    sock: socket.socket
    sent: int = 0
    answers: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False

    @classmethod
    async def connect(cls, wallet: Wallet, port: int) -> Pipeliner:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the smallest the kernel allows
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        return cls(wallet, sock)

    def key(self, n: int) -> str:
        return f"term-{self.wallet.index}-{n}"

    def line(self, n: int) -> bytes:
        instruction = {
            "controller": "client",
            "ctype": "action",
            "action": "supply",
            "supply": "credits",
            "credits": 1,
            "idempotency_key": self.key(n),
            "client_id": self.wallet.client_id,
            "session_token": self.wallet.session_token,
            "id": f"{n:06d}{PADDING}",
        }
        return json.dumps(instruction).encode() + b"\n"

    async def run(self, reading: asyncio.Event) -> None:
        try:
            await asyncio.gather(self._write(), self._read(reading))
        finally:
            self.sock.close()

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.ended:
                if self.sent < WINDOW:
                    await loop.sock_sendall(self.sock, self.line(self.sent))
                    self.sent += 1
                else:
                    await loop.sock_sendall(self.sock, b"\n" * 64)
                    await asyncio.sleep(0.01)
        except OSError:
            pass

    async def _read(self, reading: asyncio.Event) -> None:
        loop, pending = asyncio.get_running_loop(), b""
        await reading.wait()
        try:
            while data := await loop.sock_recv(self.sock, 4096):
                *lines, pending = (pending + data).split(b"\n")
                self.answers.extend(json.loads(raw) for raw in lines)
        except OSError:
            pass  # a reset: whatever arrived before it has been read
        finally:
            self.ended = True


async def test_every_committed_instruction_is_answered_when_sigterm_arrives_under_load(database_url: str) -> None:
    started = time.monotonic()
    server = ServerProcess(database_url, shutdown_grace=10)
    wallets = [await open_wallet(server.port, n, f"term{n}", 0) for n in range(CLIENTS)]
    for wallet in wallets:
        await wallet.close()
    clients = [await Pipeliner.connect(wallet, server.port) for wallet in wallets]
    reading = asyncio.Event()
    running = [asyncio.create_task(client.run(reading)) for client in clients]
    try:
        await asyncio.sleep(1.5)
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        reading.set()
        await asyncio.wait_for(asyncio.gather(*running), 30)
        assert await asyncio.to_thread(server.process.wait, 30) == 0, "".join(server.log)
    finally:
        server.kill()
    assert not server.tracebacks(), "".join(server.log)

    for client in clients:
        ids = [int(answer["id"][:6]) for answer in client.answers]
        assert ids == list(range(len(ids))), "answers out of order or with gaps"
        assert all(answer["failed"] is False for answer in client.answers), client.answers[-1]
    ledger = read_ledger(database_url)
    answered = {c.key(n) for c in clients for n in range(len(c.answers))}
    committed = {key for key in ledger.keys if key.startswith("term-")}
    unanswered = {c.key(n) for c in clients for n in range(len(c.answers), c.sent)}
    assert answered <= committed
    lost = committed & unanswered
    assert not lost, f"{len(committed)} committed, {len(answered)} answered: {len(lost)} committed, never answered"

    # The clients' retry: every unanswered key runs now, for the first time.
    restarted = ServerProcess(database_url)
    try:
        for client in clients:
            numbers = range(len(client.answers), client.sent)
            await client.wallet.connect(restarted.port)
            assert client.wallet.conn is not None
            await client.wallet.conn.send(b"".join(client.line(n) for n in numbers))
            for n in numbers:
                replay = await client.wallet.conn.recv()
                assert replay is not None and replay["failed"] is False and replay["id"] == f"{n:06d}{PADDING}", replay
                assert replay["transfer_record"] > ledger.max_transfer_record, f"{client.key(n)} had committed"
            await client.wallet.close()
        assert restarted.stop() == 0
    finally:
        restarted.kill()
    print(
        f"\n{len(committed)} supplies committed before SIGTERM, all answered; {len(unanswered)} sent but not"
        f" started, all run once replayed; {time.monotonic() - started:.1f} s"
    )


@pytest.mark.parametrize("http", [False, True], ids=["tcp", "tcp+http"])
def test_sigterm_right_after_the_listening_line_still_stops_gracefully(sqlite_url: str, http: bool) -> None:
    # Supervisors send SIGTERM whenever they like, also while the server is still starting:
    # the handler must be in place before anything is announced.
    flags = {"http_port": 0} if http else {}
    for _ in range(5):
        server = ServerProcess(sqlite_url, **flags)
        try:
            assert server.stop() == 0, "".join(server.log)
        finally:
            server.kill()
