"""The Conclusion's third part: which part of an LSTM's training step must wait for the step before, timed
(lib.experiments.parallel), recorded on the development machine or measured on this server through the queue."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lib.experiments import parallel
from ui import charts, state
from ui import experiment_results as results
from ui.conclusion import predict, server_device
from ui.i18n import sentences, t

PARTS = {  # bar -> (its key in the measurement, colour): the parallel parts blue, the waiting ones orange
    "projection": ("projection_ms", "#0072B2"), "projection_by_row": ("projection_by_row_ms", "#56B4E9"),
    "recurrence": ("recurrence_ms", "#D55E00"), "recurrence_one_digit": ("recurrence_one_digit_ms", "#E69F00"),
    "head": ("head_ms", "#009E73"), "fused": ("fused_ms", "#7F7F7F")}


def part_names(out: dict) -> dict[str, str]:
    return {"projection": t("input projection, all {n} rows at once", n=out["steps"]),
            "projection_by_row": t("input projection, one row after another"),
            "recurrence": t("recurrence: {n} steps that wait, {b} digits", n=out["steps"], b=out["batch_size"]),
            "recurrence_one_digit": t("the same recurrence for one digit"),
            "head": t("classifier and loss"), "fused": t("the whole step in PyTorch's fused LSTM")}


def figure(out: dict) -> go.Figure:
    names = part_names(out)
    labels = [names[p] for p in PARTS][::-1]  # the first part on top
    values = [out[key] for key, _ in PARTS.values()][::-1]
    fig = go.Figure(go.Bar(y=labels, x=values, orientation="h", marker_color=[c for _, c in PARTS.values()][::-1],
                           text=[t("{ms:,.1f} ms", ms=v) for v in values], textposition="outside", cliponaxis=False))
    fig.update_xaxes(title=t("milliseconds, forward and backward"), range=[0, max(values) * 1.3])
    return charts.style(fig, t("One training step of the lesson's LSTM, taken apart, {device}",
                               device=state.device_text(out)), 420, legend=False)


def reading(out: dict, f: dict) -> str:
    """Every figure the caption quotes, and what follows from each: `f`, lib.experiments.parallel.facts(out)."""
    parts = [t("The part that waits took {share:.0%} of the step ({low:.0%} to {high:.0%} over {r} rounds): {w:.1f} "
               "of {total:.1f} ms.", share=f["share"], low=f["low"], high=f["high"], r=out["repeats"],
               w=out["recurrence_ms"], total=f["total_ms"])]
    if f["by_row"] >= 1.2:
        parts.append(t("The input projection of all rows is one matrix multiply per layer: {a:.1f} ms; row by row it "
                       "took {x:.1f} times as long.", a=out["projection_ms"], x=f["by_row"]))
    else:
        parts.append(t("The input projection of all rows is one matrix multiply per layer: {a:.1f} ms; row by row it "
                       "took about as long here ({b:.1f} ms): on this device the small multiplies cost little more.",
                       a=out["projection_ms"], b=out["projection_by_row_ms"]))
    if f["batch_cost"] < f["batch"] / 2:
        parts.append(t("{b} digits took {x:.1f} times as long as one in the waiting part, not {b} times: the digits "
                       "of a batch go through each step together.", b=f["batch"], x=f["batch_cost"]))
    else:
        parts.append(t("{b} digits took {x:.1f} times as long as one in the waiting part: here the batch hardly "
                       "runs in parallel.", b=f["batch"], x=f["batch_cost"]))
    parts.append(t("With {n} stacked layers, {seq} steps run in sequence when a layer starts step t as soon as the "
                   "layer below has finished it (the wavefront of cuDNN's LSTM), instead of {all}.", n=out["layers"],
                   seq=out["steps_in_sequence"], all=out["steps_without_overlap"]))
    return sentences(*parts)


def controls(device: str, out: dict | None, measured: dict | None) -> None:
    """Where the numbers come from (`measured`: this server's measurement, else None and `out` is the recorded one),
    and a button that times it on this server, through the queue."""
    job = results.running(("parallel", device))
    if job is not None:
        st.fragment(_wait, run_every=2.0)(device)
        return
    if measured is None and out is not None:
        st.caption(t("Recorded on the development machine, {device}, with the command {command}.",
                     device=state.device_text(out), command="python -m lib.cli parallel --json"))
    elif measured is not None:
        st.caption(t("Measured on this server: {device}.", device=state.device_text(measured)))
    label = t("Measure again") if measured else t("Measure on this server")
    if st.button(label, icon=":material/speed:", key="measure_parallel",
                 help=t("Times each part of a training step, a few seconds; one measurement per server, shared by "
                        "everyone.")):
        results.start_parallel(device)
        st.rerun()


def _wait(device: str) -> None:
    if results.running(("parallel", device)) is None:
        st.rerun(scope="app")
    st.info(t("Measuring on this server (it waits its turn in the training queue)…"))


def section() -> None:
    st.header(t("3 · Where an RNN is parallel"))
    st.markdown(t("**What must wait.** An LSTM step computes two things: the input's part, the row times the input "
                  "weights, and the state's part, the previous h times the recurrent weights, then the gates. The "
                  "input's part needs no earlier step, so for all 28 rows it is one matrix multiply. Only the "
                  "state's part waits for the step before. And every digit of a batch goes through each step "
                  "together."))
    device = server_device()
    measured = results.parallel_result(device)  # read once per rerun, and its facts computed once
    out = measured or parallel.recorded()
    found = parallel.facts(out) if out else None
    choices = {"quarter": t("less than a quarter"), "half": t("a quarter to a half"),
               "three-quarters": t("a half to three quarters"), "most": t("more than three quarters")}
    if not predict("predict_parallel", t("Predict first: in one training step of the lesson's LSTM (batch {b}), what "
                                         "share of the time goes to the part that must wait for the step before?",
                                         b=parallel.BATCH), choices, found["answers"] if found else []):
        return
    controls(device, out, measured)
    if out is None:
        return
    st.plotly_chart(figure(out), key="conclusion_parallel", width="stretch")
    st.caption(sentences(t("Each bar: the median of {r} rounds of one part of a training step, forward and backward, "
                           "hidden {h}, {n} layers, batch {b}.", r=out["repeats"], h=out["hidden"], n=out["layers"],
                           b=out["batch_size"]), reading(out, found)))
