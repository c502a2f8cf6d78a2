"""A class as one experiment: classes, students and their recorded runs in a real database (SQLAlchemy 2).

The store (lib.classroom.store.ClassStore) is the one interface the pages, the CLI and the tests use, whatever the
database: a SQLite file by default, any SQLAlchemy URL in ROW_BY_ROW_DB (PostgreSQL for several app replicas). The
class experiment's logic (which value a student gets, pooled figures per value, a "best" only beyond noise) is plain
data in lib.classroom.experiment. The training path (lib.training, lib.runs, lib.models, lib.data) never imports this
package: a class reads finished runs, training never needs the database.
"""

from lib.classroom import texts  # noqa: E402,F401 - the class's messages, in lib.messages.TEXT from here on
