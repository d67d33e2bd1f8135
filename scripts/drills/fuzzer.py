"""The hostile-input fuzzer (issue 8, item 2), against a live `ewallet serve` process. Each case
is one write of one to four hostile lines on the fuzzer's connection (sometimes followed by a
half-close). For every case:

- every request line gets exactly one answer, a single JSON object on one line, in order (a
  probe request after the case must get the next answer), and never `internal_error`;
- the answer is the one the checks of §2 demand first where they can be told from the line
  alone: `frame_too_large` for an oversized line, `invalid_json` for one that is not strict
  JSON, `invalid_instruction` for a value that is not an object, and the request's valid `id`
  echoed (an invalid one never);
- when nothing in the case succeeded, nothing changed: the funded account's account, ewallet,
  clock and sheets, read through the protocol by a second session, are as they were;
- the connection keeps working (a new one after a half-close), and the process stays up with
  no traceback in its log.

A case that succeeded (some random envelopes are valid) may change the account; the fuzzer then
repairs what it relies on (logs its sessions back in, stops a started timer) and takes a new
baseline.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seeded

from ewallet.handlers import build_route_table
from ewallet.protocol import wire
from ewallet.protocol.envelope import request_id_of
from ewallet.protocol.errors import InvalidJson
from scripts.drills.fuzz_cases import Ids, payloads
from scripts.drills.line_client import PASSWORD

CODES = {
    "invalid_json",
    "frame_too_large",
    "invalid_instruction",
    "unknown_action",
    "missing_field",
    "invalid_value",
    "unauthorized",
    "system_key_required",
    "not_logged_in",
    "forbidden",
    "not_found",
    "already_exists",
    "already_mapped",
    "weak_password",
    "invalid_credentials",
    "account_pending_deletion",
    "insufficient_credits",
    "insufficient_clock",
    "timer_state",
    "last_resource",
    "conflict",
    "capacity",
    "rate_limited",
}
ROUTE_TABLE = build_route_table()
#: What the snapshot reads, all through the observing session.
VIEWS = [
    {"action": "view", "view": "account"},
    {"action": "view", "view": "credit", "credit": "ewallet"},
    {"action": "view", "view": "credit", "credit": "clock"},
    *({"action": "view", "view": kind, kind: "list"} for kind in ("transfer", "invoice", "conversion", "time")),
    {"action": "view", "view": "contact", "contact": "list"},
]


class LineSocket:
    """A blocking line-JSON connection."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def readline(self) -> bytes:
        return self.file.readline()

    def call(self, **request: Any) -> dict[str, Any]:
        self.send(json.dumps({"controller": "client", "ctype": "action", **request}).encode() + b"\n")
        raw = self.readline()
        assert raw, "the server closed the connection"
        answer: dict[str, Any] = json.loads(raw)
        return answer

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@dataclass
class Session:
    client_id: str
    session_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"client_id": self.client_id, "session_token": self.session_token}


@dataclass
class FuzzReport:
    cases: int = 0
    lines: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    unchanged_checks: int = 0
    reconnects: int = 0
    #: instructions per route, for the lines that named one
    routes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        top = ", ".join(f"{code} {n}" for code, n in self.codes.most_common(8))
        return (
            f"{self.cases} fuzz cases, {self.lines} request lines answered ({top}); "
            f"{len(self.routes)} routes reached; "
            f"{self.unchanged_checks} failed cases checked to change nothing; {self.reconnects} reconnects"
        )


def expected_lines(payload: bytes, half_close: bool, max_frame: int) -> list[bytes | None]:
    """The lines the server answers, in order, as §1 frames them: the line's bytes, or None for
    an oversized one. Blank lines get no answer; a last line without newline only counts when
    the client half-closed after it."""
    *complete, last = payload.split(b"\n")
    lines: list[bytes | None] = []
    for segment in [*complete, last] if half_close else complete:
        segment = segment.removesuffix(b"\r")
        if len(segment) > max_frame:
            lines.append(None)
        elif segment.strip():
            lines.append(segment)
    return lines


def check_answer(line: bytes | None, raw: bytes) -> dict[str, Any]:
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1, raw
    answer = json.loads(raw)
    assert isinstance(answer, dict) and isinstance(answer.get("failed"), bool), answer
    if answer["failed"]:
        assert answer["code"] in CODES, answer
        assert set(answer) <= {"failed", "error", "code", "id"}, answer
        assert isinstance(answer["error"], str) and "Traceback" not in answer["error"], answer
    if line is None:
        assert answer.get("code") == "frame_too_large", answer
        return answer
    try:
        request = wire.decode(line)
    except InvalidJson:
        assert answer.get("code") == "invalid_json", (line[:200], answer)
        return answer
    if not isinstance(request, dict):
        assert answer.get("code") == "invalid_instruction", (line[:200], answer)
        return answer
    request_id, _ = request_id_of(request)
    if request_id is None:
        assert "id" not in answer, (line[:200], answer)
    else:
        assert answer.get("id") == request_id, (line[:200], answer)
    return answer


class Fuzzer:
    """Owns the accounts the cases aim at and the checks each case must pass."""

    def __init__(self, port: int, max_frame: int) -> None:
        self.port = port
        self.max_frame = max_frame
        self.report = FuzzReport()
        self.side = LineSocket(port)
        self.conn = LineSocket(port)
        self.victims = 0
        self.partner = self._account("fuzzpartner")
        self.victim = ""
        self.actor = self.observer = Session("", "")
        self._new_victim()
        self.baseline = self.snapshot()

    # -- accounts and sessions -------------------------------------------------------------------

    def _session(self) -> Session:
        client_id = self.side.call(action="request", request="client_id")["client_id"]
        token = self.side.call(action="request", request="session_token", client_id=client_id)["session_token"]
        return Session(client_id, token)

    def _account(self, name: str) -> str:
        email = f"{name}@example.com"
        created = self.side.call(
            action="new", new="account", user_name=name, user_pass=PASSWORD, user_email=email, **self._session().auth
        )
        assert created["failed"] is False, created
        return email

    def _login(self, session: Session) -> dict[str, Any]:
        return self.side.call(action="login", user_email=self.victim, user_pass=PASSWORD, **session.auth)

    def _new_victim(self) -> None:
        """A funded account with minutes on its clock, and two sessions logged into it."""
        self.victims += 1
        self.victim = self._account(f"fuzzvictim{self.victims}")
        self.actor, self.observer = self._session(), self._session()
        for session in (self.actor, self.observer):
            assert self._login(session)["failed"] is False
        for request in (
            {"action": "supply", "supply": "credits", "credits": 1000},
            {"action": "convert", "convert": "credits2clock", "credits": 100},
        ):
            answer = self.side.call(**request, **self.observer.auth)
            assert answer["failed"] is False, answer

    def _usable(self, session: Session) -> Session | None:
        """The session, logged into the victim again if needed; None when the victim is gone."""
        answer = self.side.call(action="view", view="account", **session.auth)
        if answer["failed"] is False and answer["account"] == self.victim:
            return session
        if answer["failed"] is False or answer["code"] == "not_logged_in":
            login = self._login(session)
        else:  # the session was removed (a system cleanup among the cases)
            session = self._session()
            login = self._login(session)
        if login["failed"] is False:
            return session
        assert login["code"] in ("account_pending_deletion", "invalid_credentials"), login
        return None

    def repair(self) -> None:
        """After a case that succeeded: sessions logged into the victim, no timer running."""
        actor, observer = self._usable(self.actor), self._usable(self.observer)
        if actor is None or observer is None:
            self._new_victim()
        else:
            self.actor, self.observer = actor, observer
        clock = self.side.call(action="view", view="credit", credit="clock", **self.observer.auth)
        if clock["failed"] is False and clock["clock_data"]["clock_state"] != "inactive":
            stopped = self.side.call(action="stop", stop="clock_timer", **self.observer.auth)
            assert stopped["failed"] is False, stopped

    def snapshot(self) -> list[dict[str, Any]]:
        lines = [
            json.dumps({"controller": "client", "ctype": "action", **view, **self.observer.auth}).encode() + b"\n"
            for view in VIEWS
        ]
        self.side.send(b"".join(lines))
        return [json.loads(self.side.readline()) for _ in VIEWS]

    # -- one case --------------------------------------------------------------------------------

    def substitute(self, payload: bytes) -> bytes:
        for placeholder, value in (
            (Ids.client_id, self.actor.client_id),
            (Ids.session_token, self.actor.session_token),
            (Ids.victim, self.victim),
            (Ids.partner_upper, self.partner.upper()),
            (Ids.partner, self.partner),
        ):
            payload = payload.replace(placeholder.encode(), value.encode())
        return payload

    def check(self, payload: bytes, half_close: bool) -> None:
        try:
            self._check(payload, half_close)
        except Exception:
            # Start the next case (hypothesis replays and shrinks) from a clean slate: unread
            # answers would otherwise be taken for the next case's.
            self.conn.close()
            self.conn = LineSocket(self.port)
            self.repair()
            self.baseline = self.snapshot()
            raise

    def _check(self, payload: bytes, half_close: bool) -> None:
        payload = self.substitute(payload)
        expected = expected_lines(payload, half_close, self.max_frame)
        self.conn.send(payload)
        if half_close:
            self.conn.sock.shutdown(socket.SHUT_WR)
        answers = []
        for line in expected:
            raw = self.conn.readline()
            assert raw, f"the server closed the connection before answering {line!r:.200}"
            answers.append(check_answer(line, raw))
            self._count_route(line)
        if half_close:
            assert self.conn.readline() == b"", "more answers than request lines"
            self.conn.close()
            self.conn = LineSocket(self.port)
            self.report.reconnects += 1
        probe = self.conn.call(action="request", request="client_id", id="probe")
        assert probe["failed"] is False and probe["id"] == "probe", f"more answers than request lines: {probe}"
        self.report.cases += 1
        self.report.lines += len(answers)
        self.report.codes.update("ok" if a["failed"] is False else a["code"] for a in answers)
        if all(answer["failed"] for answer in answers):
            after = self.snapshot()
            assert after == self.baseline, _difference(self.baseline, after, payload)
            self.report.unchanged_checks += 1
        else:
            self.repair()
            self.baseline = self.snapshot()

    def _count_route(self, line: bytes | None) -> None:
        try:
            request = wire.decode(line) if line is not None else None
        except InvalidJson:
            return
        if not isinstance(request, dict):
            return
        controller, action = request.get("controller"), request.get("action")
        if isinstance(controller, str) and isinstance(action, str):
            route = ROUTE_TABLE.resolve(controller, action, request)
            if route is not None:
                self.report.routes[route.name] += 1

    def close(self) -> None:
        self.conn.close()
        self.side.close()


def _difference(before: list[dict[str, Any]], after: list[dict[str, Any]], payload: bytes) -> str:
    changed = [(view, b, a) for view, b, a in zip(VIEWS, before, after, strict=True) if a != b]
    return f"a failed case changed the account: {changed} after {payload[:500]!r}"


def run_fuzz(port: int, max_frame: int, cases: int, seed: int | None = None) -> FuzzReport:
    """Runs `cases` hypothesis examples against the server on `port`; raises on the first case
    that breaks a rule (after hypothesis shrank it)."""
    fuzzer = Fuzzer(port, max_frame)

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=payloads(Ids(), max_frame))
    def one(case: tuple[bytes, bool]) -> None:
        fuzzer.check(*case)

    if seed is not None:
        one = seeded(seed)(one)
    try:
        one()
    finally:
        fuzzer.close()
    return fuzzer.report
