"""Every edge answers every request: a domain error with its code, anything else with
`internal_error` and a logged reference, and the connection or thread goes on serving."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from ewallet.pipeline.policies import Work
from ewallet.protocol.answers import Answer
from ewallet.scheduling import scheduler as scheduler_module
from ewallet.scheduling.batching import BatchThread
from tests.support import Running

REFERENCE = re.compile(r"internal error \(reference ([0-9a-f]{8})\)")


async def test_an_unexpected_error_while_reading_an_envelope_is_answered_and_logged(
    server: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret detail")

    client = await server.client()
    monkeypatch.setattr(scheduler_module, "parse_instruction", broken)
    answer = await client.raw(b'{"controller": "client", "ctype": "action", "action": "request", "id": 7}\n')
    assert answer is not None and answer["code"] == "internal_error" and answer["id"] == 7
    found = REFERENCE.fullmatch(answer["error"])
    assert found is not None and "secret" not in answer["error"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(found.group(1) in r.getMessage() and r.exc_info for r in logged)
    monkeypatch.undo()
    again = await client.raw(
        b'{"controller": "client", "ctype": "action", "action": "request", "request": "client_id"}\n'
    )
    assert again is not None and again["failed"] is False  # the same connection goes on


async def test_a_batch_thread_answers_every_waiter_when_its_work_fails() -> None:
    calls = []

    def process(batch: list[Work]) -> list[Answer]:
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("secret detail")
        return [{"failed": False} for _ in batch][:-1]  # one answer short

    thread = BatchThread("test-batch", process)
    try:
        first = await asyncio.wait_for(thread.submit(None, "peer"), 5)  # type: ignore[arg-type]
        second = await asyncio.wait_for(thread.submit(None, "peer"), 5)  # type: ignore[arg-type]
    finally:
        thread.close()
    for answer in (first, second):
        assert answer["code"] == "internal_error" and REFERENCE.fullmatch(answer["error"])
