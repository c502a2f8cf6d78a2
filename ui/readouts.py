"""The Row order page's section on read-outs: why only the last step? The shipped LSTMs that classify from the mean
or the maximum of every step's output, or read the rows both ways, beside the lesson's last step, with what they show
computed from their numbers (lib.experiments.readouts)."""

from __future__ import annotations

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments.readouts import READOUT_ORDERS, both_ways, early_answers, readout_table
from lib.messages import N_
from ui import charts, resources
from ui.i18n import sentences, t

NAMES = {"last": "the last step's output (the lesson)", "mean": "the mean of every step's output",
         "max": "the maximum of every step's output"}  # lib.models.nets.READOUTS' labels, plus reading both ways
SYMBOLS = {"last": "circle", "mean": "square", "max": "diamond", "both": "triangle-up"}


def variant_name(variant: str) -> str:
    return t("both ways, last outputs of each direction") if variant == "both" else t(NAMES[variant])


def shipped_table() -> dict:
    """lib.experiments.readouts.readout_table of the shipped models."""
    return readout_table({name: card for name, (_, card) in resources.shipped().items()})


def section() -> None:
    st.header(t("Why only the last step? Reading the rows differently"))
    st.markdown(t("The lesson classifies from the output after the last row. The same LSTM can instead classify from "
                  "the mean or the maximum of its outputs after every row, or read the rows both ways, from the top "
                  "and from the bottom. These shipped models were trained like the row-order models, top → bottom "
                  "and in a new random order for every image."))
    table = shipped_table()
    if len(table["acc"]) < 2:
        st.info(t("The models for this comparison are not shipped yet: run `python -m lib.cli make-pretrained`."))
        return
    orders = [o for o in READOUT_ORDERS if any(o in a for a in table["acc"].values())]
    series = [{"name": variant_name(v), "y": [acc.get(o) for o in orders], "symbol": SYMBOLS[v],
               "errors": [table["margin"][v].get(o, 0) for o in orders]}  # lib's 95% margins, 0 where not shipped
              for v, acc in table["acc"].items()]
    digits = table["digits"]
    st.plotly_chart(charts.grouped_dots([t(ORDERS[o].title) for o in orders], series, t("test accuracy"),
                                        t("Test accuracy by read-out, {n:,} test digits, one run each (± 95% "
                                          "confidence interval)", n=digits)), key="readouts", width="stretch")
    st.caption(sentences(early_text(table), both_text(table)))
    curves = [{"name": variant_name(v), "x": list(range(1, 29)), "y": m["forward"]["acc_by_rows"]}
              for v, m in table["metrics"].items() if "forward" in m and m["forward"].get("acc_by_rows")]
    if len(curves) > 1:
        st.plotly_chart(charts.lines(curves, t("rows read"), t("test accuracy"), t("Accuracy after reading k rows, "
                                     "top → bottom, by read-out, {n:,} test digits", n=digits), yrange=[0, 1.02],
                                     percent=True), key="readouts_rows", width="stretch")
        st.caption(t("Reading both ways has no curve: at every step it has read every row."))


def early_text(table: dict) -> str:
    found = {v: f for v in ("mean", "max") if (f := early_answers(table, v)) is not None}
    clauses = [t("{variant} gets {a:.1%} after {k} rows against the last step's {b:.1%}, {verdict}",
                 variant=variant_name(v), a=f["variant"], b=f["last"], k=f["rows"], verdict=_verdict(f))
               for v, f in found.items()]
    return t("Does a read-out over every step keep what the early rows said? Top → bottom, {clauses}.",
             clauses=t("; ").join(clauses)) if clauses else ""


def _verdict(found: dict) -> str:
    if not found["differ"]:
        return t("within the noise of the test score")
    if found["higher"]:
        return t("a higher score beyond the noise of the test score")
    return t("a lower score beyond the noise of the test score")


# What reading both ways did to the errors (lib.experiments.compare.change's verdict), in a random order per image
# and top → bottom: one sentence per outcome, each translated whole.
RANDOM_ORDER = {
    "same": N_("Does reading both ways help where the order carries no information? In a random order per image its "
               "errors are {e1:.2%} against {e0:.2%} one way: the same within chance on these test digits."),
    "fewer": N_("Does reading both ways help where the order carries no information? Yes: in a random order per image "
                "its errors fall from {e0:.2%} one way to {e1:.2%}, beyond chance on the same test digits."),
    "more": N_("Does reading both ways help where the order carries no information? No: in a random order per image "
               "its errors rise from {e0:.2%} one way to {e1:.2%}, beyond chance on the same test digits.")}
TOP_TO_BOTTOM = {
    "same": N_("Top → bottom, where the order does carry information, its errors are {e1:.2%} against {e0:.2%} one "
               "way: the same within chance."),
    "fewer": N_("Top → bottom, where the order does carry information, it helps too: its errors fall from {e0:.2%} "
                "one way to {e1:.2%}, beyond chance."),
    "more": N_("Top → bottom, where the order does carry information, it does worse: its errors rise from {e0:.2%} "
               "one way to {e1:.2%}, beyond chance.")}


def both_text(table: dict, labels: list[int] | None = None) -> str:
    """Does reading both ways help where the order carries no information (random per image)? And top → bottom,
    where it does? Each answer a test on the same digits (lib.experiments.readouts.both_ways); "" without the
    random-order models. `labels` defaults to the server's test digits'."""
    labels = resources.test_labels() if labels is None else labels
    found = {order: both_ways(table, labels, order) for order in ("random", "forward")}
    if found["random"] is None:
        return ""
    return sentences(*(t(texts[f["verdict"]], e0=f["errors"][0], e1=f["errors"][1])
                       for texts, f in ((RANDOM_ORDER, found["random"]), (TOP_TO_BOTTOM, found["forward"]))
                       if f is not None))
