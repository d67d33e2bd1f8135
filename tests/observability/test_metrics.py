"""Prometheus metrics scraped as Prometheus would, over HTTP, and parsed with prometheus_client's
own parser: the HTTP face's `GET /metrics`, and `--metrics-port` on a server without HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ewallet.client import Client
from tests.observability.served import served
from tests.observability.test_ping import refusing_connections
from tests.support import running_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    return parse(httpx.get(url))


async def scrape_async(url: str) -> Samples:
    """From a test running the server in its own event loop, which a blocking call would stall."""
    async with httpx.AsyncClient() as http:
        return parse(await http.get(url))


def parse(response: httpx.Response) -> Samples:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestHttpMetrics:
    async def test_counters_move_with_instructions_and_the_gauges_read_the_database(self, sqlite_url: str) -> None:
        async with running_server(sqlite_url, http_port=0) as running:
            assert running.app.http_address is not None
            url = f"http://127.0.0.1:{running.app.http_address[1]}/metrics"
            before = await scrape_async(url)
            client = await running.session()
            await client.call(action="ping")
            await client.call(action="ping")
            watcher = await running.user()
            assert (await watcher.call(action="subscribe", subscribe="events"))["failed"] is False
            supplied = await watcher.call(action="supply", supply="credits", credits=3, currency="EUR", cost=1)
            event = await watcher.recv()  # the event and the answer, in either order
            assert supplied is not None and event is not None and {"event", "failed"} <= {*supplied, *event}
            after = await scrape_async(url)
        ping = {"route": "client ping", "code": "ok"}
        assert (
            value(after, "ewallet_instructions_total", **ping)
            == value(before, "ewallet_instructions_total", **ping) + 2
        )
        opened = {"route": "client request=session_token", "code": "ok"}
        assert value(after, "ewallet_instructions_total", **opened) == 2
        assert value(after, "ewallet_event_subscriptions") == 1
        assert value(after, "ewallet_events_total") == 1
        assert value(after, "ewallet_instruction_seconds_count", route="client ping") == 2
        assert value(after, "ewallet_open_connections") >= 1
        assert value(after, "ewallet_live_sessions") == 2
        assert value(after, "ewallet_running_timers") == 0
        assert value(after, "ewallet_database_up") == 1
        # SQLite groups writes: opening the session went through the writer thread in a batch.
        assert value(after, "ewallet_batch_size_count", thread="writer") >= 2

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    async def test_database_failures_and_retries_are_counted(self, database_url: str) -> None:
        async with running_server(database_url, http_port=0) as running:
            assert running.app.http_address is not None
            url = f"http://127.0.0.1:{running.app.http_address[1]}/metrics"
            client = await running.client()
            with refusing_connections(database_url):
                answer = await client.call(action="request", request="client_id")
                assert answer["code"] == "conflict"
                down = await scrape_async(url)
            assert value(down, "ewallet_database_failures_total", kind="outage") == 1
            assert value(down, "ewallet_database_retries_total") >= 1
            assert value(down, "ewallet_database_up") == 0
            assert value(await scrape_async(url), "ewallet_database_up") == 1


class TestMetricsPort:
    def test_a_server_without_http_serves_metrics_on_its_metrics_port(self, tmp_path: Path) -> None:
        with served(tmp_path, "--metrics-port", "0") as server:
            assert "HTTP" not in server.ports
            url = f"http://127.0.0.1:{server.ports['metrics']}/metrics"
            before = scrape(url)
            with Client("127.0.0.1", server.port) as client:
                client.ping()
                client.request_client_id()
                during = scrape(url)
            after = scrape(url)
        route = {"route": "client request=client_id", "code": "ok"}
        assert value(before, "ewallet_instructions_total", **route) == 0
        assert value(after, "ewallet_instructions_total", **route) == 1
        assert value(during, "ewallet_open_connections") == 1
