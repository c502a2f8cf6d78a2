"""What the memory holds after k rows, measured with linear probes (lib.experiments.probes), beside what the model's
own classifier reads: on the Lesson page for the lesson's model, on Inspect for any one-way recurrent model."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lib.experiments.probes import against_curve, compare_at, rows_beyond
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
    """Accuracy after k rows: both probes (with their 95% bands), the model's classifier, and `other` (a name and a
    28-value curve: the model trained on every answer)."""
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
        fig.add_trace(go.Scatter(x=list(range(1, 29)), y=other[1], name=other[0], mode="lines",
                                 line=dict(color="#CC79A7", dash="dashdot", width=3)))
    fig.update_xaxes(title=t("rows read"), dtick=3)
    fig.update_yaxes(title=t("test accuracy"), tickformat=".0%", range=[0, 1.02])
    return charts.style(fig, title, 400)


def about(found: dict) -> str:
    data = t("the full MNIST") if found.get("data_source") == "mnist" else t("the shipped MNIST sample")
    extra = t("h and the cell state c of each layer") if found["cell_state"] else t("h of each layer")
    return t("Each probe is a softmax regression trained on the frozen state after k rows of {train:,} training "
             "digits of {data} and scored on {test:,} test digits (bands: 95% intervals). Every layer's state: {what}, "
             "{size} numbers; the top layer's h: {h}.", train=found["n_train"], data=data, test=found["n_test"],
             what=extra, size=found["state_size"], h=found["hidden"])


def _row_span(rows: list[int]) -> str:
    if not rows:
        return t("The probe never reads more than the classifier beyond the noise.")
    return t("The probe reads more than the classifier, beyond the noise, after {n} of the {total} rows (from row "
             "{a} to row {b}).", n=len(rows), total=28, a=rows[0], b=rows[-1])


def _verdict(found: dict) -> str:
    return {"more": t("more, beyond the noise"), "less": t("less, beyond the noise"),
            "same": t("the same, within the noise")}[found["verdict"]]


def reading(found: dict, k: int = HALF, other: tuple[str, list[float], int] | None = None) -> str:
    """What the curves say, computed from them: where the probe reads more than the classifier, and after k rows
    the three values, what the lower layers and the cell state add, and the other model's curve against the probe."""
    top = compare_at(found, k, "probe_acc", "readout_acc")
    every = compare_at(found, k, "state_acc", "probe_acc")
    parts = [_row_span(rows_beyond(found, "probe_acc", "readout_acc")),
             t("After {k} rows the probe on h reads {p:.1%}, the classifier {r:.1%}: the state holds {v}. Every "
               "layer's state reads {s:.1%}, {d:+.1f} points from h alone: {w}.", k=k, p=top["a"], r=top["b"],
               v=_verdict(top), s=every["a"], d=every["gap"] * 100, w=_verdict(every))]
    if other is not None:
        seen = against_curve(found, k, other[1], other[2])
        parts.append(t("{model} reads {o:.1%} after {k} rows; against it the probe on this model's h reads {v}.",
                       model=other[0], o=seen["other"], k=k, v=_verdict(seen)))
    return sentences(*parts)


def show(found: dict, key: str, title: str, other=None) -> None:
    st.plotly_chart(figure(found, title, other[:2] if other else None), key=key, width="stretch")
    st.caption(sentences(about(found), reading(found, HALF if HALF in found["rows"] else found["rows"][-1], other)))


def compute_button(key: str, model, config: dict, button_key: str) -> None:
    """No result yet: the running computation's progress, or a button that queues it."""
    job = results.running(results.probe_key(key))
    if job is None:
        st.info(t("The probes of this model are not recorded for these weights, so they are computed on this server: "
                  "56 small classifiers, a few minutes on a 2-core machine, in the training queue, once for "
                  "everybody."))
        if st.button(t("Compute the probes"), icon=":material/query_stats:", key=button_key):
            results.start_probes(key, model, config)
            st.rerun()
        return
    progress(key)


def progress(key: str) -> None:
    """The queued computation's progress, redrawn every 2 s (a fragment: only this part reruns)."""
    st.fragment(_progress, run_every=2.0)(key)


def _progress(key: str) -> None:
    job = results.running(results.probe_key(key))
    if job is None:  # it has just finished: the page reads the result
        st.rerun(scope="app")
    done = len(job.of_kind("probed"))
    st.progress(done / 28, text=t("Probing on this server: {done} of {n} rows done (it waits its turn in the training "
                                  "queue).", done=done, n=28))


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
    choices = {"more": t("clearly more than the classifier"), "same": t("about as much as the classifier"),
               "less": t("less than the classifier")}
    answers = [compare_at(found, HALF, "probe_acc", "readout_acc")["verdict"]] if found else []
    if not predict("predict_probes", t("Predict first: after {k} rows the lesson's classifier is right on {r:.1%} of "
                                       "the test digits. What does a linear probe read from the top layer's state "
                                       "after {k} rows?", k=HALF, r=readout), choices, answers):
        return
    if found is None:
        compute_button(f"shipped:{LESSON_MODEL}", model, card["config"], "lesson_probes")
        return
    every = shipped.get(EVERY_STEP_MODEL, (None, None))[1]
    other = (t("another model of the same shape, trained on every row's answer"), every["metrics"]["acc_by_rows"],
             every["metrics"]["n"]) if every else None
    show(found, "lesson_probes", t("What the lesson model's state holds after k rows"), other)


def inspect_panel(key: str, choice: dict) -> None:
    """Inspect: the chosen one-way model's probes, or a way to compute them."""
    found = results.probe_result(key)
    if found is None:
        compute_button(key, choice["model"], choice["config"].to_dict(), "inspect_probes_start")
        return
    show(found, "inspect_probes", t("What this model's state holds after k rows"))
