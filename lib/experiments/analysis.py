"""The row-order experiment as plain data: per-order accuracy, accuracy after k rows, train × test order matrix."""

from __future__ import annotations

from statistics import fmean

import torch

from lib.data.mnist import MnistData
from lib.data.orders import ORDERS
from lib.experiments.evaluate import evaluate
from lib.experiments.stats import margin, margins, spread
from lib.models.nets import Classifier
from lib.storage.pretrained import EXTRA_SEEDS, ROW_ORDER_MODELS, seed_name
from lib.training.train import scored_on


def shipped_order_results(cards: dict[str, dict], seed_cards: dict[str, dict] | None = None,
                          names: tuple[str, ...] = ROW_ORDER_MODELS) -> dict:
    """From the shipped cards of the row-order experiment (`names`, one model per order) and the cards of the same
    configs trained with other seeds (`seed_cards`, lib.storage.pretrained.seed_cards): orders (registry order), and
    per order the mean over its runs of acc, acc_by_rows and the cross-order matrix row; `runs` = each run's seed and
    test accuracy (by seed), and `seeds` = lib.experiments.stats.spread of those accuracies."""
    wanted = {seed_name(name, seed): name for name in names for seed in (0, *EXTRA_SEEDS)}
    every = {**(seed_cards or {}), **cards}
    runs: dict[str, list[dict]] = {}
    for name, card in sorted(every.items(), key=lambda item: item[1]["config"]["seed"]):
        shipped = every.get(wanted.get(name, ""))
        if shipped is not None and _same_but_seed(card["config"], shipped["config"]):
            runs.setdefault(card["config"]["order"], []).append(card)
    orders = [o for o in ORDERS if o in runs]
    matrix = {o: _mean_dicts([c.get("cross_order", {}) for c in runs[o]]) for o in orders}
    return {"orders": orders, **run_order_results({o: [c["metrics"] for c in runs[o]] for o in orders}),
            "matrix": matrix,
            "runs": {o: [{"seed": c["config"]["seed"], "acc": c["metrics"]["acc"], "n": c["metrics"]["n"]}
                     for c in runs[o]] for o in orders},
            "held_out": min((held_out(c) for o in orders for c in runs[o]), default=0)}


def held_out(card: dict) -> int:
    """How many training digits a shipped model held out to choose its epoch (0: it was trained on all of them)."""
    return next((e.get("val_n") or 0 for e in card.get("history", []) if e["event"] == "epoch"), 0)


def _same_but_seed(config: dict, shipped: dict) -> bool:
    """Whether a seed card's config is the shipped model's but for the seed (and where it ran): a card left from an
    earlier config of the same name is not pooled with the new one."""
    ignore = {"seed", "device", "log_every"}
    return {k: v for k, v in config.items() if k not in ignore} == {k: v for k, v in shipped.items() if k not in ignore}


def run_order_results(results: dict[str, list[dict]]) -> dict:
    """The same comparison for a student's runs: {order: [lib.experiments.evaluate results of its runs, one per seed]} -> per
    order the mean test accuracy (acc), its test-digit count (n), half the 95% sampling interval of that accuracy on
    n digits (margin), the mean accuracy after k rows (acc_by_rows; None for models that answer only once) and
    lib.experiments.stats.spread of the accuracies (seeds)."""
    acc = {o: fmean(r["acc"] for r in runs) for o, runs in results.items()}
    n = {o: runs[0]["n"] for o, runs in results.items()}
    return {"acc": acc, "n": n, "margin": margins(acc, n),
            "acc_by_rows": {o: [fmean(k) for k in zip(*(r["acc_by_rows"] for r in runs))]
                            if all(r["acc_by_rows"] for r in runs) else None for o, runs in results.items()},
            "seeds": {o: spread([r["acc"] for r in runs]) for o, runs in results.items()}}


def error_bars(results: dict) -> dict:
    """What the ± of each order's accuracy is, for run_order_results' (or shipped_order_results') `results`: with
    several seeds for every order (`runs`, the fewest any order has), the seeds' standard deviation ("kind": "seeds");
    else each accuracy's 95% sampling interval on its test digits ("kind": "interval"). {"kind", "runs", "errors":
    {order: half the bar}}, in the order of results["acc"]."""
    runs = min((s["runs"] for s in results["seeds"].values()), default=1)
    if runs > 1:
        return {"kind": "seeds", "runs": runs, "errors": {o: results["seeds"][o]["sd"] for o in results["acc"]}}
    return {"kind": "interval", "runs": 1, "errors": {o: results["margin"][o] for o in results["acc"]}}


def _mean_dicts(rows: list[dict]) -> dict:
    """Key-wise mean of dicts of numbers, over the keys they all have ({} if any is empty)."""
    keys = [k for k in rows[0] if all(k in r for r in rows)] if rows and all(rows) else []
    return {k: fmean(r[k] for r in rows) for k in keys}


def cross_order(models: dict[str, Classifier], data: MnistData, limit: int = 0, seed: int = 0) -> dict:
    """Test every model (keyed by the order it was trained on) on every order: {train: {test: acc}}."""
    return {train: {test: evaluate(model, data, test, limit=limit, seed=seed)["acc"] for test in ORDERS}
            for train, model in models.items()}


def peaks(card: dict) -> dict:
    """Where a card's curves are highest: the row after which its answer is most accurate (row, row_acc) and the epoch
    with the best test accuracy (epoch, epoch_acc), beside its last epoch (last_epoch): whether reading on, or training
    on, made this run worse."""
    by_rows = card["metrics"]["acc_by_rows"]
    k = max(range(len(by_rows)), key=by_rows.__getitem__)
    scored = [h for h in card["history"] if scored_on(h) == "test"]
    best = max(scored, key=lambda h: h["test_acc"])
    return {"row": k + 1, "row_acc": by_rows[k], "epoch": best["epoch"], "epoch_acc": best["test_acc"],
            "last_epoch": scored[-1]["epoch"]}


def matrix_facts(matrix: dict[str, dict[str, float]]) -> dict:
    """What a train-order x test-order matrix ({train: {test: acc}}) shows: mean_drop, the points a model loses on
    average away from its own order (the mean over trained orders; None without off-diagonal cells), least and
    least_drop, the order that loses least and its loss, and across_axis, the best score of a model trained on rows
    when it reads columns (None when the matrix has no such cell)."""
    trained = [o for o in matrix if matrix[o] and o in matrix[o]]
    drops = {o: fmean(matrix[o][o] - acc for test, acc in matrix[o].items() if test != o)
             for o in trained if len(matrix[o]) > 1}
    least = min(drops, key=drops.get) if drops else None
    across = [acc for o in trained for test, acc in matrix[o].items()
              if ORDERS[o].axis == 1 and ORDERS[test].axis == 2]
    return {"mean_drop": fmean(drops.values()) if drops else None, "least": least, "least_drop": drops.get(least),
            "across_axis": max(across) if across else None}


def ink_by_rows(images: torch.Tensor, first: int = 14) -> dict:
    """Where the ink of (N, 28, 28) uint8 digits lies: the median share of a digit's ink in its first `first` rows,
    and for each row the share of digits with no ink in it (blank)."""
    ink = images.float().sum(2)  # (N, 28): each row's ink
    return {"median_share_first": (ink[:, :first].sum(1) / ink.sum(1)).median().item(),
            "blank": (images.amax(2) == 0).float().mean(0).tolist()}


def rows_to_reach(acc_by_rows: list[float], fraction: float = 0.9) -> int:
    """How many rows a model must read before it gets `fraction` of its final accuracy."""
    target = fraction * acc_by_rows[-1]
    return next(k for k, acc in enumerate(acc_by_rows, start=1) if acc >= target)


def reading_table(cards: dict[str, dict]) -> str:
    """Markdown: each shipped recurrent model's test accuracy with its 95% interval and its accuracy after k rows
    (the numbers docs/teaching-notes.md quotes; tests/test_docs.py checks the document against this). Families that
    take in all rows at once have no answer after k rows: lib.experiments.conclusion.family_table has them."""
    from lib.experiments.stats import margin

    lines = ["| model | order | loss on | test accuracy (10,000 digits, 95% interval) | after 7 rows | after 14 "
             "| after 20 | after 24 |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for name in sorted(n for n, card in cards.items() if card["metrics"].get("acc_by_rows")):
        card = cards[name]
        m, rows = card["metrics"], card["metrics"]["acc_by_rows"]
        loss = card["config"].get("loss", "last-step")
        score = f"{m['acc']:.2%} ± {margin(m['acc'], m['n']):.2%}"
        lines.append(f"| {name} | {card['config']['order']} | {loss} | {score} | {rows[6]:.1%} | {rows[13]:.1%} "
                     f"| {rows[19]:.1%} | {rows[23]:.1%} |")
    return "\n".join(lines)


def margin_text(run: dict) -> str:
    """A single run's test accuracy with its 95% interval, as the documents quote it."""
    return f"{run['acc']:.2%} ± {margin(run['acc'], run['n']):.2%} (95% interval)"


def seed_table(cards: dict[str, dict], seed_cards: dict[str, dict]) -> str:
    """Markdown: per row order, each seed's test accuracy and their mean ± standard deviation (the numbers the Row
    order page draws and docs/teaching-notes.md quotes; tests/test_docs.py checks the document against this)."""
    results = shipped_order_results(cards, seed_cards)
    lines = ["| order | seeds | test accuracy of each run (10,000 digits) | mean ± sd | lowest – highest | rows to 90% "
             "of the final accuracy (mean curve) |", "|---|---|---|---:|---:|---:|"]
    for o in results["orders"]:
        s, runs = results["seeds"][o], results["runs"][o]
        seeds = ", ".join(str(r["seed"]) for r in runs)
        accs = ", ".join(f"{r['acc']:.2%}" for r in runs)
        spread = f"{s['mean']:.2%} ± {s['sd']:.2%} | {s['min']:.2%} – {s['max']:.2%}" if len(runs) > 1 else \
            f"one run: {margin_text(runs[0])} | —"  # one run has no spread over seeds, only its sampling interval
        lines.append(f"| {o} | {seeds} | {accs} | {spread} | {rows_to_reach(results['acc_by_rows'][o])} |")
    return "\n".join(lines)
