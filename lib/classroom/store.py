"""The one store of classes, students and recorded runs: the pages, the CLI and the tests use this interface, and
none of them knows whether SQLite or PostgreSQL is behind it. Every query is built by SQLAlchemy with bound
parameters; every row read back is checked (lib.classroom.rows.checked) before anyone sees it.

Who may do what is decided here: joining needs a class's code; a student acts with their own token; changing,
closing, resetting, deleting or exporting a class needs that class's teacher token (lib.classroom.teacher). Wrong
guesses are counted (table attempts) and slow the guesser down.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lib.classroom import db, experiment, rows, tokens
from lib.classroom.schema import attempts, classes, runs, students
from lib.messages import N_, Problem, Term, msg

RETENTION_DAYS = 30  # a closed class's data is deleted this long after closing (the teacher may choose 1-365)
OPEN_DAYS = 90  # a class never closed is deleted this long after it was created
MAX_STUDENTS = 60
MAX_RETENTION, MAX_CLASS_SIZE = 365, 500
TRIES, TRY_WINDOW_S = 20, 600  # wrong codes, tokens or keys allowed per client (and per class) in ten minutes
DAY = 86_400.0
RETENTION_WHAT = Term(N_("number of days a closed class is kept"))
SIZE_WHAT = Term(N_("class size"))


class ClassStore:
    """Classes in the database at `url` (ROW_BY_ROW_DB or the default SQLite file); the schema is migrated to the
    newest version on first use."""

    def __init__(self, url: str | None = None):
        self.url = url or db.database_url()
        self.engine = db.make_engine(self.url)
        db.ensure_schema(self.engine)
        self.purge_expired()  # each process's first use deletes what is past its retention (and the recorder, hourly)

    def close(self) -> None:
        self.engine.dispose()

    # -- guessing is slowed down ------------------------------------------------------------------------------
    def throttle(self, scope: str, *who: str, now: float | None = None) -> None:
        """A Problem if any of `who` (a client, a class) has had TRIES wrong guesses in `scope` within the window."""
        now = now or time.time()
        keys = [tokens.digest(str(w)) for w in who if w]
        with self.engine.connect() as conn:
            for key in keys:
                recent = conn.execute(sa.select(sa.func.count()).select_from(attempts).where(
                    attempts.c.scope == scope, attempts.c.who == key, attempts.c.at > now - TRY_WINDOW_S)).scalar_one()
                if recent >= TRIES:
                    raise Problem(msg("class.too_many_tries", minutes=TRY_WINDOW_S // 60))

    def missed(self, scope: str, *who: str, now: float | None = None) -> None:
        """Count one wrong guess against each of `who`."""
        with self.engine.begin() as conn:
            conn.execute(attempts.insert(), [{"scope": scope, "who": tokens.digest(str(w)), "at": now or time.time()}
                                             for w in who if w])

    # -- classes ---------------------------------------------------------------------------------------------
    def create_class(self, exp: dict | None = None, retention_days: int = RETENTION_DAYS,
                     max_students: int = MAX_STUDENTS, now: float | None = None) -> dict:
        """A new class with a fresh code; its teacher token is in the answer and nowhere else, ever."""
        retention_days = whole(retention_days, RETENTION_WHAT, MAX_RETENTION)
        max_students = whole(max_students, SIZE_WHAT, MAX_CLASS_SIZE)
        exp = experiment.checked(exp)
        token = tokens.new_token()
        for _ in range(20):  # a code already taken is drawn again
            code = tokens.new_code()
            try:
                with self.engine.begin() as conn:
                    conn.execute(classes.insert().values(
                        code=code, teacher_hash=tokens.digest(token), created_at=now or time.time(),
                        closed_at=None, retention_days=retention_days, max_students=max_students, experiment=exp,
                        hide_nicknames=False))
            except sa.exc.IntegrityError:
                continue
            return self.info(code) | {"teacher_token": token}
        raise RuntimeError("no free class code after 20 tries")

    def _class(self, conn, code: str):
        row = conn.execute(sa.select(classes).where(classes.c.code == tokens.clean_code(code))).first()
        if row is None:
            raise Problem(msg("class.unknown_code", code=tokens.clean_code(code)))
        return row

    def info(self, code: str) -> dict:
        """What anyone with the code may know of a class: its code, whether it is open, its experiment, its size."""
        with self.engine.connect() as conn:
            row = self._class(conn, code)
            joined = conn.execute(sa.select(sa.func.count()).select_from(students).where(
                students.c.class_id == row.id)).scalar_one()
        return _described(row, joined)

    def list_classes(self) -> list[dict]:
        """Every class on this server as info() describes it, oldest first (administration: the CLI on the server
        itself), in one query: each class with its students counted by a grouped subquery, not a query per class."""
        joined = sa.select(students.c.class_id, sa.func.count().label("joined")).group_by(
            students.c.class_id).subquery()
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(classes, sa.func.coalesce(joined.c.joined, 0).label("joined")).outerjoin(
                joined, joined.c.class_id == classes.c.id).order_by(classes.c.created_at, classes.c.id)).all()
        return [_described(row, row.joined) for row in found]

    # -- students --------------------------------------------------------------------------------------------
    def join(self, code: str, token: str | None = None, nickname: str | None = None,
             now: float | None = None) -> dict:
        """Join a class (a new student with a new token), or come back as the student whose token is given (a
        reload, a second tab): the same number, the same assigned value."""
        nickname = tokens.clean_nickname(nickname)
        with self.engine.begin() as conn:
            row = self._class(conn, code)
            token = tokens.clean_token(token)
            if token is not None:
                found = conn.execute(sa.select(students).where(
                    students.c.class_id == row.id, students.c.token_hash == tokens.digest(token))).first()
                if found is not None:
                    if nickname is not None:
                        conn.execute(students.update().where(students.c.id == found.id).values(nickname=nickname))
                    return self._student(row, found.number, token, nickname or found.nickname)
            if row.closed_at is not None:
                raise Problem(msg("class.closed", code=row.code))
            if row.hide_nicknames:
                nickname = None
            return self._new_student(conn, row, nickname, now)

    def _new_student(self, conn, row, nickname, now) -> dict:
        token = tokens.new_token()
        for _ in range(50):  # two students joining at once may draw the same number: the unique index says so
            number = conn.execute(sa.select(sa.func.coalesce(sa.func.max(students.c.number), 0)).where(
                students.c.class_id == row.id)).scalar_one() + 1
            if number > row.max_students:
                raise Problem(msg("class.full", code=row.code, n=row.max_students))
            try:
                with conn.begin_nested():
                    conn.execute(students.insert().values(class_id=row.id, number=number, nickname=nickname,
                                                          token_hash=tokens.digest(token),
                                                          joined_at=now or time.time()))
            except sa.exc.IntegrityError:
                continue
            return self._student(row, number, token, nickname)
        raise RuntimeError("could not give the student a number")

    def _student(self, row, number: int, token: str, nickname) -> dict:
        assigned = experiment.assignment(_experiment(row.experiment), number)
        return {"code": row.code, "number": number, "token": token, "nickname": nickname, "assigned": assigned}

    def _find_student(self, conn, code: str, token: str | None, token_hash: str | None = None):
        """The class and the student whose token (or, from the server's own spool, its hash) is given."""
        row = self._class(conn, code)
        token = tokens.clean_token(token)
        token_hash = tokens.digest(token) if token is not None else token_hash
        found = None if not token_hash else conn.execute(sa.select(students).where(
            students.c.class_id == row.id, students.c.token_hash == token_hash)).first()
        if found is None:
            raise Problem(msg("class.not_student", code=row.code))
        return row, found

    def leave(self, code: str, token: str) -> None:
        """Leaving removes the nickname (the runs stay, as "student N", until the student deletes them)."""
        with self.engine.begin() as conn:
            _, student = self._find_student(conn, code, token)
            conn.execute(students.update().where(students.c.id == student.id).values(nickname=None))

    def delete_my_runs(self, code: str, token: str) -> int:
        with self.engine.begin() as conn:
            _, student = self._find_student(conn, code, token)
            return conn.execute(runs.delete().where(runs.c.student_id == student.id)).rowcount

    # -- runs ------------------------------------------------------------------------------------------------
    def record(self, code: str, token: str | None, row: dict, now: float | None = None,
               token_hash: str | None = None) -> bool:
        """Record one finished run of a student (lib.classroom.rows.from_record); True if it is new, False if it was
        already recorded (the same run sent twice is stored once). A closed class records nothing. The server's
        recorder passes the token's hash instead of the token (its spool keeps no tokens)."""
        with self.engine.begin() as conn:
            cls, student = self._find_student(conn, code, token, token_hash)
            if cls.closed_at is not None:
                raise Problem(msg("class.closed", code=cls.code))
            values = {k: row[k] for k in ("run_key", "kind", "outcome", "config", "test_acc", "test_n", "seconds",
                                          "device", "curves", "value")}
            values |= {"class_id": cls.id, "student_id": student.id, "recorded_at": now or time.time()}
            rows.checked(values | {"setting": (cls.experiment or {}).get("setting")})  # what is stored reads back
            insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(conn.dialect.name)
            if insert is None:
                exists = conn.execute(sa.select(runs.c.id).where(runs.c.class_id == cls.id,
                                                                 runs.c.run_key == row["run_key"])).first()
                return exists is None and conn.execute(runs.insert().values(**values)).rowcount == 1
            done = conn.execute(insert(runs).values(**values).on_conflict_do_nothing(
                index_elements=["class_id", "run_key"]).returning(runs.c.id))  # a row back only if it was new
            return done.first() is not None

    def class_rows(self, code: str, names: bool = True) -> tuple[list[dict], int]:
        """Every recorded run of a class, checked, with the student's number (and nickname unless hidden), oldest
        first; and how many stored rows failed the checks and were left out."""
        with self.engine.connect() as conn:
            cls = self._class(conn, code)
            found = conn.execute(sa.select(runs, students.c.number, students.c.nickname).join(
                students, students.c.id == runs.c.student_id).where(runs.c.class_id == cls.id).order_by(
                runs.c.recorded_at, runs.c.id)).mappings().all()
        out, bad = [], 0
        setting = (cls.experiment or {}).get("setting") if isinstance(cls.experiment, dict) else None
        for r in found:
            try:
                checked = rows.checked(dict(r) | {"setting": setting})
            except (ValueError, TypeError, KeyError):
                bad += 1
                continue
            out.append(checked | {"number": r["number"],
                                  "nickname": _nickname(r["nickname"]) if names and not cls.hide_nicknames else None})
        return out, bad

    def view(self, code: str, show_all: bool = False) -> dict:
        """The class view's data: the class, its students' count, the experiment's figures (lib.classroom
        .experiment.figures) and how many stored rows could not be read."""
        info = self.info(code)
        found, bad = self.class_rows(code)
        return {"class": info, "figures": experiment.figures(found, info["experiment"], show_all),
                "runs": found, "unreadable": bad}

    def purge_expired(self, now: float | None = None) -> list[str]:
        """Delete the classes past their retention (closed ones after their own, never-closed ones after OPEN_DAYS)
        and stale guess counts; the deleted codes."""
        now = now or time.time()
        expired = sa.or_(sa.and_(classes.c.closed_at.is_not(None),
                                 classes.c.closed_at + classes.c.retention_days * DAY < now),
                         sa.and_(classes.c.closed_at.is_(None), classes.c.created_at + OPEN_DAYS * DAY < now))
        with self.engine.begin() as conn:
            gone = conn.execute(sa.select(classes.c.id, classes.c.code).where(expired)).all()
            delete_classes(conn, [g.id for g in gone])
            conn.execute(attempts.delete().where(attempts.c.at < now - TRY_WINDOW_S))
        return [g.code for g in gone]


def delete_classes(conn, ids: list[int]) -> None:
    """Delete classes with their students and runs (explicitly: SQLite may not cascade)."""
    if ids:
        conn.execute(runs.delete().where(runs.c.class_id.in_(ids)))
        conn.execute(students.delete().where(students.c.class_id.in_(ids)))
        conn.execute(classes.delete().where(classes.c.id.in_(ids)))


def _described(row, joined: int) -> dict:
    """A class row (and how many students joined it) as info() and list_classes() give it."""
    return {"code": row.code, "open": row.closed_at is None, "created_at": row.created_at,
            "closed_at": row.closed_at, "retention_days": row.retention_days, "max_students": row.max_students,
            "experiment": _experiment(row.experiment), "students": joined, "hide_nicknames": bool(row.hide_nicknames)}


def _nickname(stored) -> str | None:
    """A stored nickname as it may be shown: checked again (one changed behind the app's back shows as none)."""
    try:
        return tokens.clean_nickname(stored) if isinstance(stored, str) else None
    except Problem:
        return None


def _experiment(stored) -> dict | None:
    """A stored experiment, checked; one that is not ours any more (changed behind the app's back) reads as none."""
    try:
        return experiment.checked(stored)
    except (ValueError, TypeError, KeyError):
        return None


def whole(value, what: Term, high: int) -> int:
    """A whole number from 1 to `high` from a form, a flag or a call; a Problem names `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Problem(msg("class.bad_number", what=what, high=high))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Problem(msg("class.bad_number", what=what, high=high)) from None
    if not 1 <= number <= high:
        raise Problem(msg("class.bad_number", what=what, high=high))
    return number
