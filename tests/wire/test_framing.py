"""Line framing over a real socket (§1): ordering, pipelining, half-close, terminators."""

import asyncio
import json

from tests.probes import CLIENT_ID, line
from tests.support import LineClient, Running


async def read_all(client: LineClient) -> list[dict]:
    answers = []
    while (answer := await client.recv()) is not None:
        answers.append(answer)
    return answers


class TestPipelining:
    async def test_answers_pipelined_requests_in_order(self, server: Running) -> None:
        client = await server.client()
        requests = []
        for n in range(30):
            if n % 3 == 0:
                requests.append(line(action="request", request="client_id", id=n))
            elif n % 3 == 1:
                requests.append(line(action="nothing", id=n))
            else:
                requests.append(b'{"id": %d, "bad json\n' % n)
        await client.send(b"".join(requests))
        answers = [await client.recv() for _ in range(30)]
        assert [a.get("id") for a in answers[::3]] == list(range(0, 30, 3))
        assert [a["failed"] for a in answers[:3]] == [False, True, True]
        assert answers[1]["code"] == "unknown_action"
        assert answers[2]["code"] == "invalid_json"
        await client.close()

    async def test_answers_one_session_pipelined_in_order(self, server: Running) -> None:
        client = await server.session()
        auth = {"client_id": client.client_id, "session_token": client.session_token}
        batch = b"".join(line(action="view", view="account", id=n, **auth) for n in range(20))
        await client.send(batch)
        answers = [await client.recv() for _ in range(20)]
        assert [a["id"] for a in answers] == list(range(20))
        assert {a["code"] for a in answers} == {"not_logged_in"}
        await client.close()

    async def test_a_request_split_across_writes_is_one_request(self, server: Running) -> None:
        client = await server.client()
        for piece in (CLIENT_ID[:10], CLIENT_ID[10:40], CLIENT_ID[40:]):
            await client.send(piece)
            await asyncio.sleep(0.01)
        answer = await client.recv()
        assert answer is not None and answer["failed"] is False
        await client.close()


class TestTerminators:
    async def test_accepts_carriage_return_newline(self, server: Running) -> None:
        client = await server.client()
        answer = await client.raw(CLIENT_ID[:-1] + b"\r\n")
        assert answer is not None and answer["failed"] is False
        await client.close()

    async def test_ignores_blank_lines(self, server: Running) -> None:
        client = await server.client()
        await client.send(b"\n\r\n   \n\t\n" + line(action="request", request="client_id", id="only") + b"\n\n")
        assert (await client.recv())["id"] == "only"  # type: ignore[index]
        client.writer.write_eof()
        assert await client.recv() is None  # no answer was owed for the blank lines
        await client.close()

    async def test_answers_a_last_line_without_newline_at_half_close(self, server: Running) -> None:
        client = await server.client()
        await client.send(line(action="request", request="client_id", id=1) + CLIENT_ID[:-1])
        client.writer.write_eof()
        answers = await read_all(client)
        assert len(answers) == 2
        assert all(a["failed"] is False for a in answers)
        await client.close()

    async def test_answers_a_bad_last_line_at_half_close(self, server: Running) -> None:
        client = await server.client()
        await client.send(b"{not json")
        client.writer.write_eof()
        assert [a["code"] for a in await read_all(client)] == ["invalid_json"]
        await client.close()

    async def test_answers_are_single_lines_of_json(self, server: Running) -> None:
        client = await server.client()
        await client.send(CLIENT_ID)
        raw = await client.reader.readline()
        assert raw.endswith(b"\n") and raw.count(b"\n") == 1
        assert json.loads(raw)["failed"] is False
        await client.close()
