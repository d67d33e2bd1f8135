"""Prometheus metrics of one server process, in a registry of its own (a test process builds
many apps). Counted where things happen: instructions and their latency in the scheduler, batch
sizes in the batch threads, database failures and retries in the transaction policies. Read at
scrape time: open connections (the connection cap), live sessions and running timers (the
database, so every process of a shared database reports the same figures).

Several processes: each serves its own metrics and Prometheus scrapes each one as a target of
its own (the `instance` label tells them apart); see the README's "Running several servers"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from ewallet.storage.models import CreditClock, EwalletSession

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds: a view takes about a millisecond, a login's hashing a few hundred.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.instructions = Counter(
            "ewallet_instructions", "Instructions answered, by route and outcome code", ["route", "code"], registry=r
        )
        self.latency = Histogram(
            "ewallet_instruction_seconds", "Time to answer an instruction", ["route"], buckets=LATENCY_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.batch_size = Histogram(
            "ewallet_batch_size", "Instructions per batch of a batch thread", ["thread"], buckets=BATCH_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.database_failures = Counter(
            "ewallet_database_failures",
            "Instructions or batches answered `conflict` because the database failed, by kind",
            ["kind"],
            registry=r,
        )
        self.database_retries = Counter(
            "ewallet_database_retries", "Attempts run again after a lost race or a lost connection", registry=r
        )

        self.events_delivered = Counter(
            "ewallet_events",
            "Events written to subscribed connections (TCP and HTTP streams)",
            registry=self.registry,
        )

    def answered(self, route: str, code: str, seconds: float) -> None:
        self.instructions.labels(route, code).inc()
        self.latency.labels(route).observe(seconds)

    def watch_connections(self, count: Callable[[], int]) -> None:
        Gauge("ewallet_open_connections", "Open client connections, TCP and HTTP", registry=self.registry).set_function(
            count
        )

    def watch_subscriptions(self, count: Callable[[], int]) -> None:
        gauge = Gauge("ewallet_event_subscriptions", "Subscribed connections of this process", registry=self.registry)
        gauge.set_function(count)

    def watch_database(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.registry.register(_DatabaseFigures(engine, now))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _DatabaseFigures(Collector):
    """Live sessions and running timers, counted in the database when scraped. With the
    database down the two are left out of the scrape and `ewallet_database_up` is 0."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.engine.connect() as connection:
                sessions = connection.scalar(
                    select(func.count()).select_from(EwalletSession).where(EwalletSession.expiration_date > self.now())
                )
                timers = connection.scalar(
                    select(func.count()).select_from(CreditClock).where(CreditClock.state == "active")
                )
        except SQLAlchemyError as exc:
            log.debug("metrics: the database did not answer (%s)", type(exc).__name__)
            yield GaugeMetricFamily("ewallet_database_up", "Whether the database answered the scrape", value=0)
            return
        yield GaugeMetricFamily("ewallet_database_up", "Whether the database answered the scrape", value=1)
        yield GaugeMetricFamily("ewallet_live_sessions", "Sessions not yet expired (whole database)", value=sessions)
        yield GaugeMetricFamily(
            "ewallet_running_timers", "Credit clocks whose timer runs (whole database)", value=timers
        )
