"""§11: the database layer never puts statement parameters into an exception's text, so a
logged traceback cannot leak a password hash, an email or a phone (SQLAlchemy
`hide_parameters`). Both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ewallet.storage.database import create_db_engine

SECRET = "argon2-hash-that-must-never-be-logged"


class TestExceptionText:
    def test_a_failed_statement_does_not_show_its_parameters(self, database_url: str) -> None:
        engine = create_db_engine(database_url)
        try:
            with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
                # No account 999999: the foreign key refuses the row.
                conn.execute(
                    text(
                        "INSERT INTO password_history (account_id, pass_hash, create_date) "
                        "VALUES (:account, :hash, :now)"
                    ),
                    {"account": 999_999, "hash": SECRET, "now": "2026-01-01T00:00:00.000000+00:00"},
                )
            assert SECRET not in str(caught.value)
            assert "hidden due to hide_parameters" in str(caught.value)
        finally:
            engine.dispose()
