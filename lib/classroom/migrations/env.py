"""Alembic's entry point for the class database: migrations run on the engine lib.classroom.db hands over."""

from alembic import context
from sqlalchemy import text

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # two app replicas starting at once migrate one after the other
            connection.execute(text("SELECT pg_advisory_xact_lock(2424242424)"))
        context.run_migrations()
