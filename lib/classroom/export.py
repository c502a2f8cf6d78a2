"""A class's results as files a teacher keeps: one JSON object (the class, its experiment, its runs) and a CSV
table, whose text cells are escaped so that a spreadsheet never runs one as a formula (a nickname "=HYPERLINK(…)")."""

from __future__ import annotations

import csv
import io
import json

from lib.training.config import DEFAULTS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")  # what spreadsheets read as the start of a formula
COLUMNS = ["number", "nickname", "kind", "outcome", "value", "test_acc", "acc_low", "acc_high", "test_n", "seconds",
           "device", "recorded_at"]


def class_export(view: dict) -> dict:
    """One JSON-ready object from ClassStore.view(): the class, its experiment and its runs (each with its config,
    test accuracy and interval), plus how many stored rows could not be read."""
    info = view["class"]
    return {"class": {k: info[k] for k in ("code", "open", "created_at", "closed_at", "retention_days",
                                            "max_students", "students")},
            "experiment": info["experiment"],
            "runs": [{"number": r["number"], "nickname": r["nickname"], "kind": r["kind"], "outcome": r["outcome"],
                      "value": r["value"], "config": r["config"], "test_acc": r["test_acc"], "acc_low": r["low"],
                      "acc_high": r["high"], "test_n": r["test_n"], "seconds": r["seconds"], "device": r["device"],
                      "recorded_at": r["recorded_at"], "curves": r["curves"]} for r in view["runs"]],
            "unreadable": view["unreadable"]}


def to_json(exported: dict) -> str:
    return json.dumps(exported, indent=1, ensure_ascii=False)


def safe_cell(value):
    """A cell a spreadsheet shows as text: a string that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(exported: dict) -> str:
    """One row per run: who, how it ended, its value and accuracy with interval, then every setting."""
    out = io.StringIO()
    settings = list(DEFAULTS)
    writer = csv.writer(out)
    writer.writerow(COLUMNS + settings)
    for run in exported["runs"]:
        cells = [run[c] for c in COLUMNS] + [run["config"].get(s) for s in settings]
        writer.writerow([safe_cell("" if c is None else c) for c in cells])
    return out.getvalue()
