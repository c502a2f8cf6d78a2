"""Row order: does the order in which the network reads the rows change what it learns?"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from lib.data.orders import ORDERS
from lib.experiments.analysis import cross_order, error_bars, rows_to_reach, run_order_results, shipped_order_results
from lib.storage.pretrained import STRONG
from lib.training.presets import preset
from ui import captions, charts, readouts, resources, run_charts, run_status, runs, state
from ui.common import page
from ui.i18n import labels, t, tn

EXPERIMENT_ORDERS = ["forward", "reversed", "shuffled"]
CHECK_DIGITS = 2000  # test digits for the student's cross-order matrix (quick on a CPU)


def order_name(o: str) -> str:
    return t(ORDERS[o].title)


def comparison(results: dict, matrix: dict, key: str, matrix_n: int, matrix_runs: int = 1,
               losses: frozenset = frozenset({"last-step"})) -> None:
    """The three charts of the experiment, each with a short reading for students computed from its numbers.

    `results`: lib.experiments.analysis.run_order_results (or shipped_order_results): per order the mean accuracy
    over its seeds, its test digits, its 95% margin, its accuracy after k rows and the seeds' spread. `matrix_runs`:
    how many seeds' matrices `matrix` is the mean of. `losses`: what the models were trained to answer
    (lib.training.loop.LOSSES), which says what their accuracy after k rows means.
    """
    acc, n, by_rows = results["acc"], results["n"], results["acc_by_rows"]
    orders = list(acc)
    left, right = st.columns(2)
    bars = error_bars(results)  # the seeds' spread, or each accuracy's 95% interval with one run
    digits = captions.digit_counts(n[o] for o in orders)
    subtitle = (t("mean ± spread over {k} seeds", k=bars["runs"]) if bars["kind"] == "seeds" else
                t("± 95% interval"))
    left.plotly_chart(charts.dots([order_name(o) for o in orders], [acc[o] for o in orders], t("test accuracy"),
                                  t("Test accuracy by row order, {n} test digits", n=digits),
                                  [ORDERS[o].color for o in orders], errors=[bars["errors"][o] for o in orders],
                                  subtitle=subtitle, symbols=[ORDERS[o].marker for o in orders]),
                      key=f"{key}_bars", width="stretch")
    left.caption(captions.order_ranking(acc, n, bars["runs"],
                                        {o: s["se"] for o, s in results["seeds"].items()}))
    if not all(by_rows.get(o) for o in orders):  # a CNN or a Transformer: one answer, after all rows at once
        right.info(t("These models take in all 28 rows at once, so they have no answer after k rows to chart: "
                     "only recurrent models read one row after another."))
    else:
        rows_chart(orders, by_rows, right, key, digits, losses)
    if any(matrix.get(o) for o in orders):
        matrix_chart(matrix, key, matrix_n, matrix_runs)


def rows_chart(orders: list[str], by_rows: dict, right, key: str, digits: str, losses: frozenset) -> None:
    """Accuracy after reading k rows, one line per order, and when each reaches 90% of its final accuracy."""
    series = [{"name": order_name(o), "x": list(range(1, 29)), "y": by_rows[o], **run_charts.order_look(o)}
              for o in orders]
    title = t("Accuracy after reading k rows, {n} test digits", n=digits)
    right.plotly_chart(charts.lines(series, t("rows read"), t("test accuracy"), title,
                                    yrange=[0, 1.02], percent=True), key=f"{key}_rows", width="stretch")
    right.caption(captions.rows_read_text({o: rows_to_reach(by_rows[o]) for o in orders}, losses))


def matrix_chart(matrix: dict, key: str, n: int, runs: int = 1) -> None:
    trained = [o for o in matrix if matrix[o]]
    tested = list(next(iter(matrix[o] for o in trained)))
    z = [[matrix[a][b] for b in tested] for a in trained]
    title = (t("Trained on one order (rows), tested on another (columns), {n:,} test digits", n=n) if runs == 1 else
             t("Trained on one order (rows), tested on another (columns), {n:,} test digits, mean over {k} seeds",
               n=n, k=runs))
    st.plotly_chart(charts.heatmap(z, [order_name(o) for o in tested], [order_name(o) for o in trained],
                                   title, t("tested on"), t("trained on"), colorscale="Viridis", zmin=0, zmax=1,
                                   text_fmt="{:.0%}"),
                    key=f"{key}_matrix", width="stretch")
    st.caption(captions.matrix_reading(matrix))


def shipped_section() -> None:
    st.header(t("The experiment, from the shipped models"))
    cards = {name: card for name, (_, card) in resources.shipped().items()}
    results = shipped_order_results(cards, seed_cards=resources.shipped_seed_cards())
    if not results["orders"]:
        st.warning(t("The shipped lstm-* models are missing: run `python -m lib.cli make-pretrained`."))
        return
    runs = min(s["runs"] for s in results["seeds"].values())
    size = {"layers": STRONG.layers, "hidden": STRONG.hidden, "digits": min(results["n"].values())}
    st.caption(tn("A {layers}×{hidden} LSTM with the same settings in each row order, {n} run each: its learning "
                  "rate and the epoch it keeps chosen on {held:,} held-out training digits, then scored once on the "
                  "{digits:,} test digits.",
                  "A {layers}×{hidden} LSTM with the same settings in each row order, {n} seeds each (other initial "
                  "weights and batches): the learning rate and the epoch kept chosen on {held:,} held-out training "
                  "digits, then scored once on the {digits:,} test digits; every number below is the mean over the "
                  "seeds.", runs, held=results["held_out"], **size) if results["held_out"] else
               tn("A {layers}×{hidden} LSTM with the same settings, trained on the full MNIST in each row order with "
                  "{n} seed and scored on the {digits:,} test digits.",
                  "A {layers}×{hidden} LSTM with the same settings, trained on the full MNIST in each row order with "
                  "{n} seeds (other initial weights and batches) and scored on the {digits:,} test digits; every "
                  "number below is the mean over the seeds.", runs, **size))
    n = results["n"]  # {order: test digits}, for exactly the orders shown
    comparison(results, results["matrix"], key="shipped", matrix_n=min(n.values()), matrix_runs=runs)


def base_config():
    """The quick preset, or the Train page's last settings if the student chose so."""
    choice = st.radio(t("Settings for each run"), ["quick", "train"], horizontal=True, key="exp_base",
                      format_func={"quick": t("Quick preset ({n:,} digits, {e} epochs)", n=preset("quick").subset,
                                              e=preset("quick").epochs),
                                   "train": t("My last Train-page run")}.get)  # translated now: ui.i18n.labels
    last = state.runs()[-1].config if state.runs() else None
    if choice == "train" and last is None:
        st.caption(t("You have no run yet; using the quick preset."))
    return last if choice == "train" and last is not None else preset("quick")


def experiment_section() -> None:
    st.header(t("Train every order yourself"))
    cfg = base_config()
    left, right = st.columns([3, 1])
    picked = left.multiselect(t("Orders"), list(ORDERS), default=EXPERIMENT_ORDERS,
                              format_func=labels({o: v.title for o, v in ORDERS.items()}).get,
                              key="exp_orders", placeholder=t("Choose row orders"))
    seeds = right.radio(t("Seeds per order"), [1, 3], horizontal=True, key="exp_seeds",
                        help=t("Repeat each order with different seeds (other initial weights and batches) to see "
                               "how much of a difference is chance."))
    if st.button(t("Train every order"), type="primary", icon=":material/play_arrow:", disabled=not picked,
                 key="train_every_order"):
        runs.start("experiment", [replace(cfg, order=o, seed=cfg.seed + k)  # the run label names the order
                                  for o in picked for k in range(seeds)])
    runs.follow("experiment", experiment_live)
    experiment_results(runs.followed("experiment"))


def experiment_live(jobs: list) -> None:
    """Overlaid live curves of the experiment's runs (they wait in the queue and run in turn)."""
    if not jobs:
        st.caption(t("Queues one run per order with the same settings; the curves overlay as they train."))
        return
    for job in jobs:
        with st.container(border=True):
            st.markdown(f"**{order_name(job.config.order)}** · {state.run_label(job)}")
            run_status.status(job)
    run_charts.curves(jobs, key="exp_live", color_by_order=True)


def experiment_results(jobs: list) -> None:
    """The same three comparisons for the student's own finished runs (means over seeds when repeated)."""
    if not jobs or not all(job.finished for job in jobs):
        return
    by_order: dict[str, list] = {}
    for job in jobs:
        if job.comparable:  # a stopped run, or one that did not learn, is not pooled: the page says so
            by_order.setdefault(job.config.order, []).append(job)
    if len(by_order) < 2:
        run_status.left_out_note(jobs)
        return
    st.subheader(t("Your results"))
    run_status.left_out_note(jobs)
    first = {o: runs[0] for o, runs in by_order.items()}  # the matrix uses each order's first seed
    key = "matrix-" + "-".join(str(j.id) for j in first.values())
    cache = state.analyses().setdefault("experiment", {})
    if key not in cache:
        with st.spinner(t("Testing each of your models on every order…")):
            cache.clear()
            cache[key] = cross_order({o: j.model for o, j in first.items()}, resources.mnist(), limit=CHECK_DIGITS)
    mine = run_order_results({o: [j.result for j in runs] for o, runs in by_order.items()})
    comparison(mine, cache[key], key="yours", matrix_n=min(CHECK_DIGITS, len(resources.mnist().test_y)),
               losses=frozenset(j.config.loss for runs in by_order.values() for j in runs))


def main() -> None:
    page(t("Does row order matter?"),
         t("An RNN reads a digit one row at a time. What if the rows came bottom → top, in a scrambled "
           "order, or in a different random order for every image? With a fixed order the network gets the same "
           "pixels, only in another order. With a new random order per image it also loses which row it is "
           "reading: the order carried part of the information."))
    shipped_section()
    readouts.section()
    experiment_section()


main()
