"""What the memory holds after k rows, measured with linear probes (lib.experiments.probes), beside what the model's
own classifier reads: on the Lesson page for the lesson's model, on Inspect for any one-way recurrent model."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lib.experiments.probes import PROBES_PER_ROW, facts, planned_rows
from lib.storage.pretrained import EVERY_STEP_MODEL, LESSON_MODEL
from ui import charts, resources
from ui import experiment_results as results
from ui.conclusion import predict
from ui.i18n import sentences, t

HALF = 14  # the row the Lesson's read-out caption quotes ("After 14 rows: …"), asked about here too
CURVES = {"probe_acc": ("#0072B2", None), "state_acc": ("#009E73", "dash"), "readout_acc": ("#D55E00", "dot")}


def curve_names() -> dict[str, str]:
    return {"probe_acc": t("linear probe on the top layer's h"),
            "state_acc": t("linear probe on every layer's state"), "readout_acc": t("the model's own classifier")}


def figure(found: dict, title: str, other: tuple[str, list[float]] | None = None) -> go.Figure:
    """Accuracy after k rows: both probes (with their 95% bands), the model's classifier, and `other` (a name and its
    accuracy after each row: the model trained on every answer)."""
    fig, names = go.Figure(), curve_names()
    for key, (color, dash) in CURVES.items():
        if key != "readout_acc":
            x = found["rows"]
            fig.add_trace(go.Scatter(x=x + x[::-1], y=found[f"{key}_high"] + found[f"{key}_low"][::-1],
                                     fill="toself", fillcolor=color, opacity=0.18, line=dict(width=0),
                                     hoverinfo="skip", showlegend=False, name=names[key]))
        fig.add_trace(go.Scatter(x=found["rows"], y=found[key], name=names[key], mode="lines+markers",
                                 line=dict(color=color, dash=dash, width=3)))
    if other is not None:
        fig.add_trace(go.Scatter(x=list(range(1, len(other[1]) + 1)), y=other[1], name=other[0], mode="lines",
                                 line=dict(color="#CC79A7", dash="dashdot", width=3)))
    fig.update_xaxes(title=t("rows read"), dtick=3)
    fig.update_yaxes(title=t("test accuracy"), tickformat=".0%", range=[0, 1.02])
    return charts.style(fig, title, 400)


def about(found: dict, said: dict) -> str:
    data = t("the full MNIST") if found.get("data_source") == "mnist" else t("the shipped MNIST sample")
    extra = t("h and the cell state c of each layer") if found["cell_state"] else t("h of each layer")
    text = t("Each probe is a softmax regression trained on the frozen state after k rows of {train:,} training "
             "digits of {data} and scored on {test:,} test digits (bands: 95% intervals). Every layer's state: {what}, "
             "{size} numbers; the top layer's h: {h}.", train=found["n_train"], data=data, test=found["n_test"],
             what=extra, size=found["state_size"], h=found["hidden"])
    if said["steps_per_row"] == 1:
        return text
    return sentences(text, t("This model reads each row in {p} steps, {steps} in all: the state after k rows is the "
                             "state after the last step of row k.", p=said["steps_per_row"],
                             steps=said["steps"]))


def _row_span(said: dict) -> str:
    rows = said["beyond"]
    if not rows:
        return t("The probe never reads more than the classifier beyond the noise.")
    return t("The probe reads more than the classifier, beyond the noise, after {n} of the {total} rows (from row "
             "{a} to row {b}).", n=len(rows), total=said["probed"], a=rows[0], b=rows[-1])


def _verdict(found: dict) -> str:
    return {"more": t("more, beyond the noise"), "less": t("less, beyond the noise"),
            "same": t("the same, within the noise")}[found["verdict"]]


def reading(said: dict, other_name: str | None = None) -> str:
    """What the curves say (`said`: lib.experiments.probes.facts): where the probe reads more than the classifier,
    and after k rows the three values, what the lower layers and the cell state add, and the other model's curve
    (named `other_name`) against the probe."""
    k, top, every, seen = said["row"], said["top"], said["every"], said["other"]
    parts = [_row_span(said),
             t("After {k} rows the probe on h reads {p:.1%}, the classifier {r:.1%}: the state holds {v}. Every "
               "layer's state reads {s:.1%}, {d:+.1f} points from h alone: {w}.", k=k, p=top["a"], r=top["b"],
               v=_verdict(top), s=every["a"], d=every["gap"] * 100, w=_verdict(every))]
    if seen is not None:
        parts.append(t("{model} reads {o:.1%} after {k} rows; against it the probe on this model's h reads {v}.",
                       model=other_name, o=seen["other"], k=k, v=_verdict(seen)))
    return sentences(*parts)


def show(found: dict, said: dict, key: str, title: str, other: tuple[str, list[float]] | None = None) -> None:
    """The chart and its caption; `said`: lib.experiments.probes.facts of `found`, computed once by the caller."""
    st.plotly_chart(figure(found, title, other), key=key, width="stretch")
    st.caption(sentences(about(found, said), reading(said, other[0] if other else None)))


def compute_button(key: str, model, config: dict, button_key: str) -> None:
    """No result yet: the running computation's progress, or a button that queues it."""
    job = results.running(results.probe_key(key))
    if job is None:
        st.info(t("The probes of this model are not recorded for these weights, so they are computed on this server: "
                  "{n} small classifiers, a few minutes on a 2-core machine, in the training queue, once for "
                  "everybody.", n=PROBES_PER_ROW * len(planned_rows())))
        if st.button(t("Compute the probes"), icon=":material/query_stats:", key=button_key):
            results.start_probes(key, model, config)
            st.rerun()
        return
    progress(key, len(planned_rows()))


def progress(key: str, total: int) -> None:
    """The queued computation's progress over its `total` rows, redrawn every 2 s (a fragment: only this part
    reruns)."""
    st.fragment(_progress, run_every=2.0)(key, total)


def _progress(key: str, total: int) -> None:
    job = results.running(results.probe_key(key))
    if job is None:  # it has just finished: the page reads the result
        st.rerun(scope="app")
    done = len(job.of_kind("probed"))  # one event per row probed (lib.experiments.probes' on_row), not per step
    st.progress(min(done / total, 1.0), text=t("Probing on this server: {done} of {n} rows done (it waits its turn in "
                                               "the training queue).", done=done, n=total))


def lesson_section() -> None:
    """Section 5 of the Lesson page: predict, then see what the lesson model's state holds after k rows."""
    st.subheader(t("5 · What does the memory hold after k rows?"))
    shipped = resources.shipped()
    if LESSON_MODEL not in shipped:
        return
    model, card = shipped[LESSON_MODEL]
    st.markdown(t("The chart above asks the lesson's classifier for an answer after k rows, but that classifier was "
                  "trained on the state after the last row only. To measure what the state itself holds, train a new "
                  "linear classifier, a **linear probe**, on the frozen state after k rows, and score it on test "
                  "digits. The network is not changed."))
    found = results.probe_result(f"shipped:{LESSON_MODEL}")
    readout = card["metrics"]["acc_by_rows"][HALF - 1]
    every = shipped.get(EVERY_STEP_MODEL, (None, None))[1]
    curve = (every["metrics"]["acc_by_rows"], every["metrics"]["n"]) if every else None
    said = facts(found, HALF, curve) if found else None  # the answer and the caption read the same comparisons
    choices = {"more": t("clearly more than the classifier"), "same": t("about as much as the classifier"),
               "less": t("less than the classifier")}
    answers = [said["top"]["verdict"]] if said else []
    if not predict("predict_probes", t("Predict first: after {k} rows the lesson's classifier is right on {r:.1%} of "
                                       "the test digits. What does a linear probe read from the top layer's state "
                                       "after {k} rows?", k=HALF, r=readout), choices, answers):
        return
    if found is None:
        compute_button(f"shipped:{LESSON_MODEL}", model, card["config"], "lesson_probes")
        return
    other = (t("another model of the same shape, trained on every row's answer"), curve[0]) if curve else None
    show(found, said, "lesson_probes", t("What the lesson model's state holds after k rows"), other)


def inspect_panel(key: str, choice: dict) -> None:
    """Inspect: the chosen one-way model's probes, or a way to compute them."""
    found = results.probe_result(key)
    if found is None:
        compute_button(key, choice["model"], choice["config"].to_dict(), "inspect_probes_start")
        return
    show(found, facts(found, HALF), "inspect_probes", t("What this model's state holds after k rows"))
