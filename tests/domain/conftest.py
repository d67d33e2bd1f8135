"""The domain tier: the synchronous domain functions called directly on a real database, each
test once on a SQLite file and once on PostgreSQL (`backend_url` of tests/conftest.py), with no
server and no sockets. A test's session is its transaction: a refusal is followed by a rollback,
as the pipeline does, before anything is judged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session as Db

from ewallet.storage.database import create_db_engine, session_factory


@pytest.fixture
def engine(backend_url: str) -> Iterator[Engine]:
    engine = create_db_engine(backend_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Db]:
    with session_factory(engine)() as session:
        yield session
