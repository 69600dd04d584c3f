"""Our own tables: SQLAlchemy 1.4 models, the async engine, Alembic migrations."""
