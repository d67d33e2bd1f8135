"""UTCDateTime (§3): instants stored in UTC with microseconds, read back aware and equal, and
ordered correctly in SQL, on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from ewallet.storage.database import create_db_engine
from ewallet.storage.types import UTCDateTime

metadata = MetaData()
stamps = Table("utc_probe", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))

INSTANTS = [
    datetime(2020, 7, 10, 0, 48, 15, 123456, tzinfo=UTC),
    datetime(2020, 7, 10, 3, 48, 15, 999999, tzinfo=ZoneInfo("Europe/Bucharest")),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-11, minutes=-30))),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=timezone(timedelta(hours=14))),
    datetime(1, 1, 2, 0, 0, tzinfo=UTC),
]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def store(engine: Engine, *instants: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(insert(stamps), [{"id": n, "at": at} for n, at in enumerate(instants, 1)])


class TestRoundTrip:
    def test_reads_back_the_same_instant_in_utc_with_microseconds(self, engine: Engine) -> None:
        store(engine, *INSTANTS)
        with engine.connect() as connection:
            found = connection.execute(select(stamps.c.at).order_by(stamps.c.id)).scalars().all()
        assert found == INSTANTS
        for instant in found:
            assert instant.utcoffset() == timedelta(0)
            assert instant.tzinfo is not None

    def test_keeps_none(self, engine: Engine) -> None:
        with engine.begin() as connection:
            connection.execute(insert(stamps), [{"id": 1, "at": None}])
            assert connection.scalar(select(stamps.c.at)) is None

    def test_refuses_a_naive_datetime(self, engine: Engine) -> None:
        with pytest.raises(StatementError, match="naive"):
            store(engine, datetime(2020, 1, 1, 12, 0))


class TestComparisons:
    def test_sql_comparisons_follow_the_instants_not_the_local_text(self, engine: Engine) -> None:
        base = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        # Written in different zones, so their local wall-clock texts sort differently.
        early = (base - timedelta(minutes=1)).astimezone(timezone(timedelta(hours=10)))
        late = (base + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=-10)))
        store(engine, early, late)
        with engine.connect() as connection:
            after = connection.execute(select(stamps.c.id).where(stamps.c.at > base)).scalars().all()
            ordered = connection.execute(select(stamps.c.id).order_by(stamps.c.at)).scalars().all()
        assert after == [2]
        assert ordered == [1, 2]

    def test_microseconds_decide_the_order(self, engine: Engine) -> None:
        base = datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC)
        store(engine, base, base - timedelta(microseconds=1))
        with engine.connect() as connection:
            assert connection.execute(select(stamps.c.id).order_by(stamps.c.at)).scalars().all() == [2, 1]
