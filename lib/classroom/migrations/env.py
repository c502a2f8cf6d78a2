"""Alembic's entry point for the class database: migrations run on the engine lib.classroom.db hands over."""

from alembic import context
from sqlalchemy import text

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # SQLite alters a table by copying it: with foreign keys on, dropping the old copy would cascade
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # the pragma only takes effect outside a transaction
    context.configure(connection=connection, render_as_batch=sqlite)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # two app replicas starting at once migrate one after the other
            connection.execute(text("SELECT pg_advisory_xact_lock(2424242424)"))
        context.run_migrations()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
