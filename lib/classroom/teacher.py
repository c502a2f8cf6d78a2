"""What only a class's teacher may do, each act behind that class's teacher token (compared in constant time, wrong
tries counted per client and per class), and the one thing the server's teacher key allows: creating a class.

The server key is ROW_BY_ROW_TEACHER_KEY (an environment variable or a Streamlit secret the app passes in); without
it the app has no teacher controls. A class's token is shown once, when the class is made or the token rotated; the
database keeps its hash. Neither ever appears in a URL.
"""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

from lib.classroom import experiment, tokens
from lib.classroom.export import class_export
from lib.classroom.schema import classes, runs, students
from lib.classroom.store import MAX_RETENTION, RETENTION_WHAT, ClassStore, delete_classes, whole
from lib.messages import Problem, msg


def server_key(env: dict | None = None) -> str:
    """The server's teacher key, or '' when none is set (then there are no teacher controls)."""
    env = os.environ if env is None else env
    return str(env.get("ROW_BY_ROW_TEACHER_KEY") or "")


def create_with_key(store: ClassStore, key_given: str, key: str, who: str, exp: dict | None = None,
                    **options) -> dict:
    """A new class, if `key_given` is the server's teacher key `key` (wrong tries from `who` are counted)."""
    if not key:
        raise Problem(msg("class.no_key"))
    store.throttle("server", who)
    if not tokens.same_key(key_given, key):
        store.missed("server", who)
        raise Problem(msg("class.wrong_key"))
    return store.create_class(exp, **options)


class Teacher:
    """A class opened with its teacher token: the constructor checks the token (a Problem if it is wrong)."""

    def __init__(self, store: ClassStore, code: str, token: str, who: str = ""):
        self.store, self.code = store, tokens.clean_code(code)
        store.throttle("teacher", who, f"class:{self.code}")
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(classes.c.teacher_hash).where(classes.c.code == self.code)).first()
        if row is None or not tokens.same_secret(token, row.teacher_hash):
            store.missed("teacher", who, f"class:{self.code}")
            raise Problem(msg("class.wrong_token", code=self.code))
        self._hash = row.teacher_hash

    def _update(self, **values) -> None:
        with self.store.engine.begin() as conn:
            done = conn.execute(classes.update().where(classes.c.code == self.code,
                                                       classes.c.teacher_hash == self._hash).values(**values))
        if done.rowcount != 1:  # the token was rotated (another tab) or the class deleted meanwhile
            raise Problem(msg("class.wrong_token", code=self.code))

    def _id(self, conn) -> int:
        found = conn.execute(sa.select(classes.c.id).where(classes.c.code == self.code,
                                                           classes.c.teacher_hash == self._hash)).scalar()
        if found is None:
            raise Problem(msg("class.wrong_token", code=self.code))
        return found

    def view(self, show_all: bool = False) -> dict:
        return self.store.view(self.code, show_all)

    def close(self, retention_days=None, now: float | None = None) -> None:
        """No more students or runs; the data is deleted `retention_days` after now (the class's own by default)."""
        extra = {} if retention_days is None else {"retention_days": whole(retention_days, RETENTION_WHAT,
                                                                          MAX_RETENTION)}
        self._update(closed_at=now or time.time(), **extra)

    def reopen(self) -> None:
        self._update(closed_at=None)

    def set_retention(self, days) -> None:
        self._update(retention_days=whole(days, RETENTION_WHAT, MAX_RETENTION))

    def set_experiment(self, exp: dict | None) -> None:
        """Change the experiment: students keep their numbers and get the new values; runs already recorded keep
        the settings they were trained with."""
        self._update(experiment=experiment.checked(exp))

    def hide_nicknames(self, hidden: bool = True) -> None:
        """Hidden: the stored nicknames are erased and new students give none; every student is "student N"."""
        with self.store.engine.begin() as conn:
            class_id = self._id(conn)
            conn.execute(classes.update().where(classes.c.id == class_id).values(hide_nicknames=bool(hidden)))
            if hidden:
                conn.execute(students.update().where(students.c.class_id == class_id).values(nickname=None))

    def reset(self) -> int:
        """Delete every recorded run (the students stay joined); how many were deleted."""
        with self.store.engine.begin() as conn:
            return conn.execute(runs.delete().where(runs.c.class_id == self._id(conn))).rowcount

    def delete(self) -> None:
        """Delete the class, its students and its runs, now."""
        with self.store.engine.begin() as conn:
            delete_classes(conn, [self._id(conn)])

    def rotate(self) -> str:
        """A new teacher token (the old one stops working at once); shown once, to the caller."""
        token = tokens.new_token()
        self._update(teacher_hash=tokens.digest(token))
        self._hash = tokens.digest(token)
        return token

    def export(self) -> dict:
        return class_export(self.store.view(self.code, show_all=True))
