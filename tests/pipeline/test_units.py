"""Units of work on a real database: exit rolls back unless committed, and a savepoint whose
flush failed leaves the enclosing transaction usable for the rest of a batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ewallet.pipeline.units import Savepoint, Transaction
from ewallet.storage.database import create_db_engine, session_factory
from ewallet.storage.models import ClientId

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def factory(backend_url: str) -> Iterator[object]:
    engine = create_db_engine(backend_url, pool_size=2)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _count(factory: object) -> int:
    with Transaction(factory) as unit:  # type: ignore[arg-type]
        return int(unit.db.scalar(select(func.count()).select_from(ClientId)) or 0)


def test_a_transaction_rolls_back_unless_committed(factory: object) -> None:
    with Transaction(factory) as unit:  # type: ignore[arg-type]
        unit.db.add(ClientId(client_id="forgotten", create_date=NOW))
        unit.db.flush()
    with pytest.raises(RuntimeError), Transaction(factory) as unit:  # type: ignore[arg-type]
        unit.db.add(ClientId(client_id="raised", create_date=NOW))
        unit.db.flush()
        raise RuntimeError
    with Transaction(factory) as unit:  # type: ignore[arg-type]
        unit.db.add(ClientId(client_id="kept", create_date=NOW))
        unit.commit()
    assert _count(factory) == 1


def test_a_savepoint_whose_flush_failed_leaves_the_batch_usable(factory: object) -> None:
    with Transaction(factory) as unit:  # type: ignore[arg-type]
        with Savepoint(unit.db) as first:
            unit.db.add(ClientId(client_id="one", create_date=NOW))
            first.commit()
        with pytest.raises(IntegrityError), Savepoint(unit.db):
            unit.db.add(ClientId(client_id="one", create_date=NOW))
            unit.db.flush()
        with Savepoint(unit.db) as third:
            unit.db.add(ClientId(client_id="two", create_date=NOW))
            third.commit()
        unit.commit()
    assert _count(factory) == 2
