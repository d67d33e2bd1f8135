"""The domain tier: the synchronous domain functions called directly on a real database, each
test once on a SQLite file and once on PostgreSQL (`backend_url`, `engine` and `db` of
tests/conftest.py), with no server and no sockets. A test's session is its transaction: a refusal
is followed by a rollback, as the pipeline does, before anything is judged."""
