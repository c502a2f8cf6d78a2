"""Runs as files people keep: a CSV table of their summaries, and JSON with every setting and logged dict."""

from __future__ import annotations

import csv
import io
import json

from lib.runs.job import Job


def export_runs(jobs: list[Job]) -> tuple[str, str]:
    """(CSV text, JSON text) of runs: one summary row each; the JSON adds the config and every logged dict."""
    rows = [j.summary() for j in jobs]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["run"])
    writer.writeheader()
    writer.writerows(rows)
    full = [{"summary": j.summary(), "config": j.config.to_dict(), "message": j.message.render() if j.message else "",
             "events": j.events[:],
             "result": {k: v for k, v in (j.result or {}).items() if k not in ("indices", "predictions")}}
            for j in jobs]
    return out.getvalue(), json.dumps(full, indent=1)
