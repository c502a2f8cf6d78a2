"""`python -m lib.cli class create|export|list`: classes administered on the server itself (no key: whoever runs
commands there owns the database). All read ROW_BY_ROW_DB (else the app's default SQLite file), like the app."""

from __future__ import annotations

import json
import sys

from lib.classroom import experiment
from lib.classroom.export import class_export, to_csv, to_json
from lib.classroom.recorder import UNREACHABLE
from lib.classroom.store import MAX_STUDENTS, RETENTION_DAYS, ClassStore
from lib.runs.settings import load_settings
from lib.training.presets import PRESETS


def _experiment(text: str | None, preset: str):
    """'lr=0.001,0.003' -> (the experiment, notes); no text: a class without one (free runs only)."""
    if not text:
        return experiment.make(None, "", preset, load_settings())
    setting, _, values = text.partition("=")
    if not values:
        raise ValueError("--experiment takes SETTING=V1,V2,… (for example lr=0.001,0.003,0.01)")
    return experiment.make(setting.strip(), values, preset, load_settings())


def cmd_create(args) -> int:
    exp, notes = _experiment(args.experiment, args.preset)
    made = ClassStore().create_class(exp, retention_days=args.retention_days, max_students=args.max_students)
    for note in notes:
        print(f"note: {note.render()}", file=sys.stderr)
    if args.json:
        print(json.dumps(made))
    else:
        print(f"class {made['code']} created; its teacher token (shown only now): {made['teacher_token']}")
    return 0


def cmd_export(args) -> int:
    exported = class_export(ClassStore().view(args.code, show_all=True))
    print(to_csv(exported) if args.csv else to_json(exported) if not args.json else json.dumps(exported))
    return 0


def cmd_list(args) -> int:
    classes = ClassStore().list_classes()
    if args.json:
        print(json.dumps(classes))
    for c in [] if args.json else classes:
        varied = c["experiment"]["setting"] if c["experiment"] else "no experiment"
        print(f"{c['code']}  {'open' if c['open'] else 'closed'}  {c['students']} students  {varied}")
    return 0


def _guarded(command):
    """The command, with an unreachable database as an `error: …` line and exit code 2 instead of a traceback."""
    def run(args) -> int:
        try:
            return command(args)
        except UNREACHABLE as exc:
            print(f"error: the class database cannot be reached: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
            return 2
    return run


def add_commands(sub) -> None:
    """The `class` command and its subcommands, on lib.cli.main's parser."""
    p = sub.add_parser("class", help="classes: create one, export its results, list them (reads ROW_BY_ROW_DB)")
    cmds = p.add_subparsers(dest="class_command", required=True)
    c = cmds.add_parser("create", help="a new class; prints its code and, only here, its teacher token")
    c.add_argument("--experiment", metavar="SETTING=V1,V2,…",
                   help=f"the setting that varies and its values; one of: {', '.join(experiment.VARIED)}")
    c.add_argument("--preset", default=experiment.DEFAULT_PRESET, choices=list(PRESETS),
                   help="the base setup (kept within the classroom limits)")
    c.add_argument("--retention-days", type=int, default=RETENTION_DAYS,
                   help="days a closed class's data is kept (1-365)")
    c.add_argument("--max-students", type=int, default=MAX_STUDENTS, help="the class size cap (1-500)")
    c.add_argument("--json", action="store_true", help="one JSON object, with `code` and `teacher_token`")
    c.set_defaults(func=_guarded(cmd_create))
    e = cmds.add_parser("export", help="one JSON object: the class, its experiment and its runs")
    e.add_argument("code")
    e.add_argument("--json", action="store_true", help="compact JSON on one line (the default is indented)")
    e.add_argument("--csv", action="store_true", help="a CSV table instead, formulas escaped")
    e.set_defaults(func=_guarded(cmd_export))
    li = cmds.add_parser("list", help="every class on this server")
    li.add_argument("--json", action="store_true")
    li.set_defaults(func=_guarded(cmd_list))
