"""Accounts for the drills: each a session (which lives in the database, so it outlives a
connection, a server process and a restart) and a connection to whichever server is up; and
credit movements that carry an idempotency key and remember their answer, if one came."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from scripts.drills.line_client import PASSWORD, LineClient

#: Connection trouble a drill expects while a server dies under its clients.
LOST = (ConnectionError, OSError, asyncio.IncompleteReadError, TimeoutError)


@dataclass
class Wallet:
    index: int
    email: str
    client_id: str
    session_token: str
    conn: LineClient | None = None

    def twin(self) -> Wallet:
        """The same account and session, on a connection of its own (to another server, say)."""
        return Wallet(self.index, self.email, self.client_id, self.session_token)

    async def connect(self, port: int) -> Wallet:
        if self.conn is not None:
            await self.conn.close()
        self.conn = await LineClient.connect(port)
        return self

    async def call(self, timeout: float = 30, **instruction: Any) -> dict[str, Any] | None:
        """The answer, or None when the server closed the connection first."""
        assert self.conn is not None
        instruction = {"controller": "client", "ctype": "action", **instruction}
        instruction |= {"client_id": self.client_id, "session_token": self.session_token}
        await self.conn.send(json.dumps(instruction).encode() + b"\n")
        return await self.conn.recv(timeout)

    async def credits(self) -> int:
        answer = await self.call(action="view", view="credit", credit="ewallet")
        assert answer is not None and answer["failed"] is False, answer
        return int(answer["ewallet_data"]["credits"])

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
            self.conn = None


async def new_logged_in(client: LineClient, name: str) -> tuple[str, str, str]:
    """(client id, session token, email) of a new account logged in on a new session of `client`."""
    client_id, token = await client.open_session()
    email = f"{name}@example.com"
    for request in (
        {"action": "new", "new": "account", "user_name": name, "user_pass": PASSWORD, "user_email": email},
        {"action": "login", "user_email": email, "user_pass": PASSWORD},
    ):
        answer = await client.call(**request)
        assert answer["failed"] is False, answer
    return client_id, token, email


async def open_wallet(port: int, index: int, name: str, credits: int) -> Wallet:
    """A new account, logged in on a new session, holding `credits` (supplied with a key)."""
    client = await LineClient.connect(port)
    client_id, token, email = await new_logged_in(client, name)
    wallet = Wallet(index, email, client_id, token, client)
    if credits:
        answer = await wallet.call(action="supply", supply="credits", credits=credits, idempotency_key=f"fund-{name}")
        assert answer is not None and answer["failed"] is False, answer
    return wallet


@dataclass
class Sent:
    """One movement as a client sent it; `answer` stays None when none came back."""

    payer: int
    partner: int
    kind: str  # "pay" or "transfer"
    credits: int
    key: str
    answer: dict[str, Any] | None = None
    sent_at: float = 0.0  # time.monotonic() when it was sent ...
    answered_at: float = 0.0  # ... and when its answer came

    def request(self, wallets: list[Wallet]) -> dict[str, Any]:
        partner = wallets[self.partner].email
        request: dict[str, Any] = {"credits": self.credits, "idempotency_key": self.key}
        if self.kind == "pay":
            return request | {"action": "pay", "pay": partner}
        return request | {"action": "transfer", "transfer": "credits", "transfer_to": partner}

    @property
    def succeeded(self) -> bool:
        return self.answer is not None and self.answer["failed"] is False


def random_movement(rng: random.Random, payer: int, wallets: int, key: str, most: int = 30) -> Sent:
    partner = rng.choice([n for n in range(wallets) if n != payer])
    return Sent(payer, partner, rng.choice(("pay", "transfer")), rng.randint(1, most), key)


async def keep_moving(
    wallet: Wallet,
    wallets: list[Wallet],
    rng: random.Random,
    sent: list[Sent],
    prefix: str,
    until: asyncio.Event,
    limit: int | None = None,
) -> None:
    """Movements one after another until the server goes away, `until` is set or `limit`
    movements were sent."""
    number = 0
    while not until.is_set() and (limit is None or number < limit):
        number += 1
        movement = random_movement(rng, wallet.index, len(wallets), f"{prefix}-{wallet.index}-{number}")
        sent.append(movement)
        movement.sent_at = time.monotonic()
        try:
            movement.answer = await wallet.call(**movement.request(wallets))
        except LOST:
            return
        if movement.answer is None:
            return
        movement.answered_at = time.monotonic()


def expected_balances(start: dict[int, int], moves: list[Sent]) -> dict[int, int]:
    balances = dict(start)
    for move in moves:
        if move.succeeded:
            balances[move.payer] -= move.credits
            balances[move.partner] += move.credits
    return balances
