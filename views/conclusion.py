"""The lesson's conclusion, put to the test: order across families, sequential against parallel, accuracy and time."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments.conclusion import (
    BASELINE,
    COMPARED,
    PER_IMAGE,
    VARIANTS,
    biggest_drop,
    fastest_growing,
    fixed_order_costs,
    most_accurate_families,
    order_table,
    recorded_scaling,
    time_points,
)
from lib.experiments.scaling import HEIGHTS, MEASURED, count, enlargement
from lib.experiments.tuning import untuned
from lib.training.presets import SOURCE_ACCURACY, SOURCE_LESSON, preset
from ui import captions, parallel, readouts, resources, run_status, runs, state
from ui import conclusion as parts
from ui.captions import digit_counts
from ui.common import page
from ui.i18n import sentences, t, tn


def shipped_cards() -> dict[str, dict]:
    return {**{n: card for n, (_, card) in resources.shipped().items()}, **resources.shipped_seed_cards()}


def order_part() -> None:
    st.header(t("1 · Does an image have an order?"))
    st.markdown(t("**The lesson's claim.** The source lesson, “{lesson}”, ends by saying that an image is not really "
                  "a sequence: its rows can be read in any order and the digit is still understood.",
                  lesson=SOURCE_LESSON))
    table = order_table(shipped_cards())
    choices = {v: parts.variant_name(v) for v in VARIANTS} | {"none": t("none: the order does not matter")}
    if not parts.predict("predict_order", t("Predict first: when every digit gets its own random row order, which "
                                            "model loses the most test accuracy?"), choices,
                         [biggest_drop(table["acc"])] if table["acc"] else []):
        return
    if not table["acc"]:
        st.warning(t("The shipped models for this comparison are missing: run `python -m lib.cli make-pretrained`."))
    else:
        parts.order_chart(table["acc"], "conclusion_orders",
                          t("Test accuracy by row order, {n:,} test digits", n=table["n"]))
        sizes = [t("{model}: {w:,} weights ({shape})", model=parts.variant_name(v), w=z["weights"],
                   shape=state.shape_text(VARIANTS[v].family, z["layers"], z["hidden"]))
                 for v, z in table["size"].items()]
        st.caption(sentences(t("Shipped models, each trained in its order (where one was trained with several "
                               "seeds, their mean; how each was tuned is said under the third prediction). The "
                               "Transformer without positions was trained once, top → bottom, and scored in each "
                               "order."), parts.sentence(sizes)))
    fixed = captions.fixed_order_text(fixed_order_costs(table, resources.test_labels()),
                                      parts.variant_name) if table["acc"] else ""
    st.markdown(sentences(t("**Why.** A fixed order, even a scrambled one, puts the same pixels in the same places "
                            "every time, so a network can learn it; how much it costs is measured, not assumed."),
                          fixed))
    st.markdown(t("A new random order for every image is different: the LSTM no longer knows which row it is "
                  "reading, "
                  "the CNN's filters see a different set of rows side by side in every image, so no pattern "
                  "across rows stays the same, and the Transformer's "
                  "positions no longer name the row. The Transformer without positions never knew the order: it "
                  "gives the same answer in any order, so it loses nothing, and its score top → bottom, below the "
                  "one with positions, shows what knowing the order was worth."))
    if found := sentences(readouts.early_text(read := readouts.shipped_table()), readouts.both_text(read)):
        st.markdown(sentences(t("**Reading the rows differently** (more on the Row order page)."), found))
    train_orders_yourself()


def train_orders_yourself() -> None:
    quick = preset("quick")
    with st.expander(t("Train them yourself (quick settings: {n:,} digits, {e} epochs)", n=quick.subset,
                       e=quick.epochs)):
        left, right = st.columns(2)
        # labels translated once, here: a format function is also called outside this run (AppTest's replies)
        models, titles = {v: parts.variant_name(v) for v in VARIANTS}, {o: t(ORDERS[o].title) for o in COMPARED}
        variants = left.multiselect(t("Models"), list(models), default=list(models), key="conclusion_variants",
                                    format_func=models.get, placeholder=t("Choose models"))
        orders = right.multiselect(t("Row orders"), list(titles), default=[BASELINE, PER_IMAGE],
                                   key="conclusion_orders_picked", format_func=titles.get,
                                   placeholder=t("Choose row orders"))
        if st.button(t("Train every pair"), icon=":material/play_arrow:", disabled=not (variants and orders)):
            pairs = [(v, o) for v in variants for o in orders]
            runs.start("conclusion", [replace(preset("quick"), family=VARIANTS[v].family,
                                              positions=VARIANTS[v].positions, order=o) for v, o in pairs],
                       names=[parts.variant_name(v) for v, _ in pairs], tags=[v for v, _ in pairs])
        runs.follow("conclusion", my_orders_live)


def my_orders_live(jobs: list) -> None:
    """The student's pairs: how many have finished, and their accuracies by order as they come in."""
    if not jobs:
        return
    done = [job for job in jobs if job.scored]
    st.caption(t("{done} of {n} runs finished; the others train in turn on the Train page's queue.", done=len(done),
                 n=len(jobs)) if len(done) < len(jobs) else tn("Your {n} run has finished.",
                                                               "All {n} of your runs have finished.", len(jobs)))
    acc: dict[str, dict[str, float]] = {}
    for job in (job for job in done if job.comparable):
        acc.setdefault(runs.tag("conclusion", job), {})[job.config.order] = job.result["acc"]
    run_status.left_out_note(done)
    if acc:
        parts.order_chart(acc, "conclusion_my_orders", t("Your runs: test accuracy by row order, {n} test digits",
                                                         n=digit_counts(job.result["n"] for job in done)))


def scaling_part() -> None:
    st.header(t("2 · Sequential against parallel"))
    st.markdown(t("**The lesson's claim.** A recurrent network must finish one step before it can start the next, "
                  "so it is slow on large images, while a CNN computes all its positions in parallel."))
    device = parts.server_device()
    out = resources.measurements().result(device) or recorded_scaling()
    choices = {f: parts.family_name(f) for f in MEASURED}
    if not parts.predict("predict_scaling", t("Predict first: the digits are enlarged to {side} × {side} pixels "
                                              "({times} times taller and wider, {pixels} times the pixels). Whose "
                                              "training step grows the most on this server?",
                                              **enlargement(out["heights"] if out else HEIGHTS)), choices,
                         fastest_growing(out)):
        return
    measure_controls(device, out)
    if out is None:
        return
    kinds = {"train_ms": t("training step"), "predict_ms": t("prediction")}
    kind = st.radio(t("Time per"), list(kinds), horizontal=True, key="scaling_kind", format_func=kinds.get)
    parts.scaling_charts(out, kind)
    st.markdown(parts.scaling_why(out))


def measuring_poll() -> float | None:
    """Poll every 2 s while this server measures (the fragment shows its progress), else never."""
    return 2.0 if resources.measurements().running(parts.server_device()) else None


@st.fragment(run_every=measuring_poll())
def measure_controls(device: str, out: dict | None) -> None:
    """Where the numbers come from, and a button to measure (again) on this server through the job queue."""
    store = resources.measurements()
    if store.result(device) is not None and out is not store.result(device):
        st.rerun(scope="app")  # a measurement just ended: the charts above read it
    job, total = store.running(device), count()
    if job is not None:
        done = len(job.of_kind("measured"))
        st.progress(done / total, text=t("Measuring on this server: {done} of {n} measurements done (it waits its "
                                         "turn in the training queue).", done=done, n=total))
        return
    if out is not None and store.result(device) is None:
        st.caption(t("Recorded on the development machine, {device}, with the command {command} "
                     "(docs/benchmarks.md).", device=state.device_text(out),
                     command="python -m lib.cli scaling --json"))
    elif out is not None:
        st.caption(t("Measured on this server: {device}.", device=state.device_text(out)))
    label = t("Measure again") if store.result(device) else t("Measure on this server")
    if st.button(label, icon=":material/speed:", key="measure_scaling",
                 help=t("Times every family at every size, about a minute; one measurement per server, shared by "
                        "everyone.")):
        parts.measurement_job(device)
        st.rerun(scope="app")  # the fragment polls from the next page run on


def time_part() -> None:
    st.header(t("4 · Accuracy against training time"))
    st.markdown(t("**The lesson's result.** Its LSTM reached {source:.2%} after 10 epochs: an RNN can classify images. "
                  "Is it also a good choice, for the accuracy it reaches and the time it takes?",
                  source=SOURCE_ACCURACY))
    points = time_points(shipped_cards(), parts.my_runs())
    answers = most_accurate_families([p for p in points if not p["mine"]], resources.test_labels())
    choices = {f: parts.family_name(f) for f in dict.fromkeys(p["family"] for p in points)} or \
        {f: parts.family_name(f) for f in MEASURED}
    if not parts.predict("predict_time", t("Predict first: which family reaches the highest test accuracy among the "
                                           "shipped models?"), choices, answers):
        return
    if points:
        parts.time_chart(points)
    st.markdown(parts.time_why(points, answers))
    found = resources.tuning_budgets()
    st.caption(parts.budget_text(found, untuned([p["family"] for p in points if not p["mine"]], found)))


def main() -> None:
    page(t("The lesson's conclusion, put to the test"),
         t("The source lesson ends with two claims about RNNs and images. Here each is measured against the two "
           "families normally used for images, the CNN and the Transformer. Predict first, then look."))
    order_part()
    scaling_part()
    parallel.section()
    time_part()


main()
