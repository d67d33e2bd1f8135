"""One round's world, built through a real server: account x logged in on two sessions (one per
server process), with a second ewallet (e2), a second clock (c2) and a second transfer sheet (ts2)
beside its active ones (e1, c1, ts1), and whatever the race's instructions need to be able to
succeed alone; its partner y (funded once) and the operator."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from scripts.drills.line_client import PASSWORD, SYSTEM_KEY, LineClient
from scripts.drills.races.ops import CREDITS, MINUTES, PAUSED, RUNNING

_numbers = itertools.count(1)


class SetupFailed(AssertionError):
    pass


@dataclass
class Session:
    """One login session reachable through a connection to each server process."""

    client_id: str
    token: str
    conns: list[LineClient] = field(default_factory=list)

    async def call(self, where: int, **instruction: Any) -> dict[str, Any]:
        instruction = {"controller": "client", "ctype": "action", **instruction}
        instruction |= {"client_id": self.client_id, "session_token": self.token}
        return await call_on(self.conns[where], instruction)


async def call_on(conn: LineClient, instruction: dict[str, Any]) -> dict[str, Any]:
    answer = await conn.raw(json.dumps(instruction).encode() + b"\n")
    assert answer is not None, "the server closed the connection"
    return answer


def line_of(session: Session | None, instruction: dict[str, Any]) -> bytes:
    """The request line an actor sends: a session's ids, or the system key for the operator."""
    if session is None:
        instruction = {"controller": "system", "ctype": "action", "system_key": SYSTEM_KEY, **instruction}
    else:
        instruction = {"controller": "client", "ctype": "action", **instruction}
        instruction |= {"client_id": session.client_id, "session_token": session.token}
    return json.dumps(instruction).encode() + b"\n"


async def ok(session: Session, **instruction: Any) -> dict[str, Any]:
    answer = await session.call(0, **instruction)
    if answer.get("failed") is not False:
        raise SetupFailed(f"{instruction.get('action')}: {answer}")
    return answer


async def open_session(ports: list[int]) -> Session:
    first = await LineClient.connect(ports[0])
    client_id, token = await first.open_session()
    session = Session(client_id, token, [first])
    for port in ports[1:]:
        session.conns.append(await LineClient.connect(port))
    return session


async def new_user(session: Session, prefix: str) -> str:
    name = f"{prefix}{next(_numbers)}"
    email = f"{name}@example.com"
    await ok(session, action="new", new="account", user_name=name, user_pass=PASSWORD, user_email=email)
    await ok(session, action="login", user_email=email, user_pass=PASSWORD)
    return email


@dataclass
class World:
    """The long-lived parts: x's two sessions, y (funded) and the operator's connections."""

    x_sessions: list[Session]
    y: Session
    y_email: str
    operator: list[LineClient]

    @classmethod
    async def open(cls, ports: list[int], tag: str) -> World:
        x_sessions = [await open_session(ports), await open_session(ports)]
        y = await open_session(ports)
        y_email = await new_user(y, f"y{tag}")
        await ok(y, action="supply", supply="credits", credits=1_000_000)
        return cls(x_sessions, y, y_email, [await LineClient.connect(port) for port in ports])

    async def round(self, needs: frozenset[str]) -> dict[str, Any]:
        """A fresh x in the shape the race needs; returns the ids the instructions name."""
        one, two = self.x_sessions
        for session in self.x_sessions:
            # The last round's x leaves both stacks, so nothing of this round can reach it.
            await session.call(0, action="logout")
        email = await new_user(one, "x")
        await ok(two, action="login", user_email=email, user_pass=PASSWORD)
        view = await ok(one, action="view", view="credit", credit="ewallet")
        ids: dict[str, Any] = {
            "x_email": email,
            "y_email": self.y_email,
            "e1": view["ewallet"],
            "c1": view["ewallet_data"]["clock"],
            "ts1": view["ewallet_data"]["transfer_sheet"],
        }
        ids["e2"] = (await ok(one, action="new", new="credit", credit="ewallet"))["ewallet"]
        ids["c2"] = (await ok(one, action="new", new="credit", credit="clock"))["clock"]
        ids["ts2"] = (await ok(one, action="new", new="transfer", transfer="list"))["transfer_sheet"]
        if needs & {CREDITS, MINUTES, RUNNING, PAUSED}:
            await ok(one, action="supply", supply="credits", credits=100)
        if needs & {MINUTES, RUNNING, PAUSED}:
            await ok(one, action="convert", convert="credits2clock", credits=50)
        if needs & {RUNNING, PAUSED}:
            await ok(one, action="start", start="clock_timer")
        if PAUSED in needs:
            await ok(one, action="pause", pause="clock_timer")
        return ids

    async def close(self) -> None:
        for session in [*self.x_sessions, self.y]:
            for conn in session.conns:
                await conn.close()
        for conn in self.operator:
            await conn.close()
