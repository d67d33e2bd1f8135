"""Persistence: SQLAlchemy models, engines and migrations."""
