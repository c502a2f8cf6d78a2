"""Chart building cost: the app's trimmed plotly template (ui.charts.LOOK) against the full named 'plotly_white'.

Run: python -m bench.charts [--repeats 30]
Builds the Lesson page's three kinds of chart (line, bar, digit heatmap) with each template and prints the mean
milliseconds and JSON bytes per figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np

from ui import charts


def figures() -> list:
    """One line chart, one bar chart and one digit heatmap, as the Lesson and Train pages draw them."""
    rng = np.random.default_rng(0)
    return [charts.lines([{"name": "run 1", "x": list(range(50)), "y": rng.random(50).tolist()}], "step", "loss"),
            charts.bars([str(c) for c in range(10)], rng.random(10).tolist(), "guess"),
            charts.digit(rng.integers(0, 256, (28, 28)).astype(np.uint8), line=3, read=[0, 1, 2], title="digit")]


def measure(template, repeats: int) -> dict:
    """Mean build time and JSON size per figure with `template` in place of charts.LOOK."""
    charts.LOOK, saved = template, charts.LOOK
    try:
        figures()  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeats):
            built = figures()
        ms = (time.perf_counter() - t0) / repeats / len(built) * 1000
        return {"ms_per_figure": round(ms, 2), "json_bytes_per_figure": round(sum(len(f.to_json()) for f in built)
                                                                              / len(built))}
    finally:
        charts.LOOK = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # the charts' t() runs outside a page: no session
    trimmed, full = measure(charts.LOOK, args.repeats), measure("plotly_white", args.repeats)
    print(json.dumps({"trimmed (ui.charts.LOOK)": trimmed, "full 'plotly_white'": full,
                      "full / trimmed time": round(full["ms_per_figure"] / trimmed["ms_per_figure"], 2),
                      "full / trimmed bytes": round(full["json_bytes_per_figure"] /
                                                    trimmed["json_bytes_per_figure"], 2)}, indent=1))


if __name__ == "__main__":
    main()
