"""The class database's tables as the newest migration leaves them (lib/classroom/migrations), for the store's
queries. Changing a table means a new migration as well: tests/test_classroom_store.py checks they agree."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

classes = sa.Table(
    "classes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),  # what students type or scan: 6 letters
    sa.Column("teacher_hash", sa.String(64), nullable=False),  # SHA-256 of the class's teacher token, never the token
    sa.Column("created_at", sa.Float, nullable=False),  # seconds since the epoch (UTC)
    sa.Column("closed_at", sa.Float, nullable=True),  # set when the teacher closes it: joining and recording stop
    sa.Column("retention_days", sa.Integer, nullable=False),  # a closed class is deleted this long after closing
    sa.Column("max_students", sa.Integer, nullable=False),
    sa.Column("experiment", sa.JSON, nullable=True),  # {"setting", "values", "base"} or None (free runs only)
    sa.Column("hide_nicknames", sa.Boolean, nullable=False, server_default=sa.false()),
)

students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),  # 1, 2, 3 … in the order they joined: "student 7"
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the student's token
    sa.Column("nickname", sa.String(80), nullable=True),
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.UniqueConstraint("class_id", "number", name="uq_students_class_number"),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    sa.Column("run_key", sa.String(64), nullable=False),  # one run recorded once, however often it is sent
    sa.Column("kind", sa.String(8), nullable=False),  # class (the assigned setup) | free (the student's own)
    sa.Column("outcome", sa.String(16), nullable=False),  # done | not_learning | stopped | diverged | error
    sa.Column("config", sa.JSON, nullable=False),  # TrainConfig.to_dict()
    sa.Column("test_acc", sa.Float, nullable=True),
    sa.Column("test_n", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("device", sa.String(80), nullable=False),
    sa.Column("curves", sa.JSON, nullable=False),  # lib.classroom.record.curve_summary
    sa.Column("recorded_at", sa.Float, nullable=False),
    sa.Column("value", sa.JSON, nullable=True),  # a class run's value of the varied setting
    sa.UniqueConstraint("class_id", "run_key", name="uq_runs_class_key"),
    sa.Index("ix_runs_class", "class_id"),
)

attempts = sa.Table(  # failed guesses of a code, key or token, to slow guessing down
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(16), nullable=False),  # join | teacher | server
    sa.Column("who", sa.String(64), nullable=False),  # a hash of the client (its address or session) or of the class
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_attempts_scope_who_at", "scope", "who", "at"),
)
