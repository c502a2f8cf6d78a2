"""Guesses slowed down (failed attempts per scope and client), nicknames a teacher can hide, and a run's place in
the experiment (its value) kept with it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("who", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_attempts_scope_who_at", "attempts", ["scope", "who", "at"])
    with op.batch_alter_table("classes") as batch:
        batch.add_column(sa.Column("hide_nicknames", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("value", sa.JSON, nullable=True))
    _fill_values()


def _fill_values() -> None:
    """A class run recorded under the first schema gets its value: the varied setting read from its config."""
    bind = op.get_bind()
    classes = sa.table("classes", sa.column("id", sa.Integer), sa.column("experiment", sa.JSON))
    runs = sa.table("runs", sa.column("id", sa.Integer), sa.column("class_id", sa.Integer),
                    sa.column("kind", sa.String), sa.column("config", sa.JSON), sa.column("value", sa.JSON))
    varied = {row.id: (row.experiment or {}).get("setting") for row in bind.execute(sa.select(classes))}
    for row in bind.execute(sa.select(runs.c.id, runs.c.class_id, runs.c.config).where(runs.c.kind == "class")):
        setting = varied.get(row.class_id)
        if setting and isinstance(row.config, dict) and setting in row.config:
            bind.execute(sa.update(runs).where(runs.c.id == row.id).values(value=row.config[setting]))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("value")
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("hide_nicknames")
    op.drop_index("ix_attempts_scope_who_at", "attempts")
    op.drop_table("attempts")
