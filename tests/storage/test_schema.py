"""The migrated schema matches the models, foreign keys included, on both backends."""

from sqlalchemy import inspect

from ewallet.storage.database import create_db_engine
from ewallet.storage.models import Base


class TestMigratedSchema:
    def test_has_every_foreign_key_of_the_models(self, database_url: str) -> None:
        engine = create_db_engine(database_url)
        try:
            inspector = inspect(engine)
            for table in Base.metadata.sorted_tables:
                wanted = {
                    (tuple(fk.parent.name for fk in constraint.elements), constraint.referred_table.name)
                    for constraint in table.foreign_key_constraints
                }
                found = {
                    (tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in inspector.get_foreign_keys(table.name)
                }
                assert wanted <= found, (table.name, wanted - found)
        finally:
            engine.dispose()

    def test_has_every_table_of_the_models(self, database_url: str) -> None:
        engine = create_db_engine(database_url)
        try:
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()
