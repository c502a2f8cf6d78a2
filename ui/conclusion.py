"""The Conclusion page's pieces: a prediction asked before its chart, the measurements' charts and their readings."""

from __future__ import annotations

import streamlit as st

from lib.conclusion import ORDERS as COMPARED, VARIANTS, best_per_family, growth
from lib.families import FAMILIES
from lib.messages import LIST_SEPARATOR
from lib.orders import ORDERS
from ui import charts, resources, state
from ui.i18n import t

MARKERS = {False: "circle", True: "diamond"}  # shipped models, the student's own runs (a cue beyond colour)


def sentence(parts: list[str]) -> str:
    """Computed clauses joined into one sentence, with the visitor's language's punctuation."""
    return t("{clauses}.", clauses=t("; ").join(parts))


def family_name(name: str) -> str:
    return t(FAMILIES[name].label)


def variant_name(name: str) -> str:
    return t(VARIANTS[name].label)


def predict(key: str, question: str, choices: dict[str, str], answer: str | None) -> bool:
    """Ask first: a choice with nothing picked; once picked, say whether the measurement agrees. True when the
    student has answered (the page then shows the chart)."""
    guess = st.radio(question, list(choices), format_func=choices.get, index=None, key=key, horizontal=True)
    if guess is None:
        st.caption(t("Pick an answer to see the measurement."))
        return False
    if answer is None:
        st.info(t("You predicted: {guess}. There is no measurement to compare with yet.", guess=choices[guess]))
    elif guess == answer:
        st.success(t("You predicted: {guess}. The measurement agrees.", guess=choices[guess]))
    else:
        st.warning(t("You predicted: {guess}. The measurement says: {answer}.", guess=choices[guess],
                     answer=choices[answer]))
    return True


def order_chart(acc: dict[str, dict[str, float]], key: str, title: str) -> None:
    """Grouped bars: for each variant, its test accuracy in each compared order; a caption reads the drops."""
    variants = list(acc)
    series = [{"name": t(ORDERS[o].title), "color": ORDERS[o].color, "y": [acc[v].get(o) for v in variants]}
              for o in COMPARED if any(o in acc[v] for v in variants)]  # no legend entry for an order not run
    low = min(a for v in acc.values() for a in v.values())
    st.plotly_chart(charts.grouped_bars([variant_name(v) for v in variants], series, title,
                                        yrange=[max(0.0, low - 0.05), 1.02]), key=key, width="stretch")
    parts = [t("{model}: {a:.2%} top → bottom, {b:.2%} random per image ({d:+.1f} points)", model=variant_name(v),
               a=acc[v]["forward"], b=acc[v]["random"], d=(acc[v]["random"] - acc[v]["forward"]) * 100)
             for v in variants if {"forward", "random"} <= set(acc[v])]
    st.caption(" ".join([t("Test accuracy of each model in each row order.")] + ([sentence(parts)] if parts else [])))


def scaling_charts(out: dict, kind: str) -> None:
    """Time per step against the image's height (log axes), and the steps that must run one after another."""
    heights = out["heights"]
    series = [{"name": family_name(f), "x": heights, "y": out[kind][f], "color": FAMILIES[f].color}
              for f in out[kind]]
    what = t("ms per training step") if kind == "train_ms" else t("ms per prediction")
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.log_lines(series, t("image height and width (pixels)"), what,
                                       t("{what} at batch {b}, {device}", what=what, b=out["batch_size"],
                                         device=out["device"])), key=f"scaling_{kind}", width="stretch")
    grown = growth(out, kind)
    left.caption(t("Time for one batch of {b} digits as the image grows, both axes logarithmic.", b=out["batch_size"])
                 + " " + sentence([t("{model} {g:.1f}× from {a} to {z} pixels", model=family_name(f), g=g,
                                     a=heights[0], z=heights[-1]) for f, g in grown.items() if g]) + " " +
                 t("Weights at hidden {h} and {n} layers: {list}.", h=out["hidden"], n=out["layers"],
                   list=t(LIST_SEPARATOR).join(f"{family_name(f)} {p:,}" for f, p in out["params"].items())))
    steps = [{"name": family_name(f), "x": heights, "y": out["sequential_steps"][f], "color": FAMILIES[f].color,
              "dash": "dot" if k % 2 else None}  # a dotted line stays visible where two families' counts agree
             for k, f in enumerate(out["sequential_steps"])]
    right.plotly_chart(charts.log_lines(steps, t("image height and width (pixels)"), t("steps in sequence"),
                                        t("Steps that must wait for the one before")),
                       key=f"scaling_steps_{kind}", width="stretch")
    right.caption(t("How many computations must run one after another in a forward pass: a recurrent layer's "
                    "steps each wait for the previous row, a CNN's and a Transformer's layers each process every "
                    "position at once.") + " " +
                  sentence([f"{family_name(f)} {v[0]} → {v[-1]}" for f, v in out["sequential_steps"].items()]))
    gaps = [(f, h) for f, values in out[kind].items() for h, v in zip(heights, values) if v is None]
    for f, h in gaps:
        st.warning(t("At {h} × {h} pixels the {model} did not fit in the memory of {device}: that point is left "
                     "out, the others are measured.", h=h, model=family_name(f), device=out["device"]))


def time_chart(points: list[dict]) -> None:
    """Accuracy against training time, shipped models and the student's runs; a caption names each family's best."""
    marks = [{"group": t("yours: {model}", model=family_name(p["family"])) if p["mine"] else
              t("shipped: {model}", model=family_name(p["family"])),
              "x": p["seconds"], "y": p["acc"], "color": FAMILIES[p["family"]].color, "symbol": MARKERS[p["mine"]],
              "label": f"{p['name']}: {p['acc']:.2%}, {p['seconds']:.0f} s"} for p in points]
    st.plotly_chart(charts.scatter(marks, t("training time (seconds, log scale)"), t("test accuracy"),
                                   t("Test accuracy against training time")), key="conclusion_time",
                    width="stretch")
    best = best_per_family(points)
    st.caption(t("Each point is one model: diamonds are your runs, circles the shipped models, each timed on the "
                 "machine that trained it.") + " " +
               sentence([t("best {model}: {acc:.2%} in {s:,.0f} s ({name})", model=family_name(f), acc=p["acc"],
                           s=p["seconds"], name=p["name"]) for f, p in best.items()]))


def my_runs() -> list[dict]:
    """The student's finished runs scored on the test set, as lib.conclusion.time_points wants them."""
    return [{"name": state.run_label(j), "config": j.config.to_dict(), "acc": j.result["acc"], "n": j.result["n"],
             "seconds": j.seconds, "device": (j.last("start") or {}).get("device", "")}
            for j in state.runs() if j.finished and j.result is not None and j.result.get("split") == "test"]


def measurement_job(device: str):
    """Start (or join) the server's measurement on `device` through the job queue."""
    return resources.measurements().start(
        device, lambda task: resources.jobs().submit_task(task, state.owner(), "scaling", device))
