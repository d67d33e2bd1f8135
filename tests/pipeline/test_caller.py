"""The caller a handler sees is a frozen value read in one statement; changing the account takes
loading it (a write through the snapshot would otherwise fail only at run time)."""

from __future__ import annotations

import dataclasses

import pytest

from ewallet.domain.caller import authenticate
from ewallet.domain.errors import Unauthorized
from ewallet.storage.database import create_db_engine, session_factory
from tests.support import Running


async def test_authenticate_reads_the_caller_and_its_active_account(any_server: Running) -> None:
    alice = await any_server.user()
    engine = create_db_engine(any_server.database_url, pool_size=1)
    try:
        with session_factory(engine).begin() as db:
            now = any_server.clock.now()
            caller = authenticate(
                db, alice.client_id, alice.session_token, now, any_server.app.services.lifetimes, lock=True
            )
            assert caller.client_id == alice.client_id and caller.expires > now
            assert caller.account is not None and caller.account.email == alice.email
            assert caller.account.active_ewallet_id is not None
            with pytest.raises(dataclasses.FrozenInstanceError):
                caller.account.active_ewallet_id = 1  # type: ignore[misc]
            with pytest.raises(Unauthorized):
                authenticate(
                    db, "ewsm-uid:other", alice.session_token, now, any_server.app.services.lifetimes, lock=False
                )
    finally:
        engine.dispose()


async def test_a_session_without_login_has_no_account(any_server: Running) -> None:
    client = await any_server.session()
    engine = create_db_engine(any_server.database_url, pool_size=1)
    try:
        with session_factory(engine).begin() as db:
            lifetimes = any_server.app.services.lifetimes
            caller = authenticate(
                db, client.client_id, client.session_token, any_server.clock.now(), lifetimes, lock=False
            )
            assert caller.account is None
    finally:
        engine.dispose()
