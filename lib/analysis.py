"""The row-order experiment as plain data: per-order accuracy, accuracy after k rows, train × test order matrix."""

from __future__ import annotations

from .data import MnistData
from .model import RowClassifier
from .orders import ORDERS
from .evaluate import evaluate


def shipped_order_results(cards: dict[str, dict], cell: str = "lstm") -> dict:
    """From the shipped `<cell>-<order>` cards: orders (registry order), acc, acc_by_rows and matrix."""
    by_order = {c["config"]["order"]: c for name, c in cards.items() if name.startswith(f"{cell}-")
                and c["config"]["cell"] == cell}
    orders = [o for o in ORDERS if o in by_order]
    return {"orders": orders,
            "acc": {o: by_order[o]["metrics"]["acc"] for o in orders},
            "n": {o: by_order[o]["metrics"]["n"] for o in orders},
            "acc_by_rows": {o: by_order[o]["metrics"]["acc_by_rows"] for o in orders},
            "matrix": {o: by_order[o].get("cross_order", {}) for o in orders}}


def cross_order(models: dict[str, RowClassifier], data: MnistData, limit: int = 0, seed: int = 0) -> dict:
    """Test every model (keyed by the order it was trained on) on every order: {train: {test: acc}}."""
    return {train: {test: evaluate(model, data, test, limit=limit, seed=seed)["acc"] for test in ORDERS}
            for train, model in models.items()}


def rows_to_reach(acc_by_rows: list[float], fraction: float = 0.9) -> int:
    """How many rows a model must read before it gets `fraction` of its final accuracy."""
    target = fraction * acc_by_rows[-1]
    return next(k for k, acc in enumerate(acc_by_rows, start=1) if acc >= target)


def reading_table(cards: dict[str, dict]) -> str:
    """Markdown: each shipped model's test accuracy with its 95 % interval and its accuracy after k rows (the
    numbers docs/teaching-notes.md quotes; tests/test_docs.py checks the document against this)."""
    from .stats import margin

    lines = ["| model | order | loss on | test accuracy (10,000 digits, 95 % interval) | after 7 rows | after 14 "
             "| after 20 | after 24 |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for name in sorted(cards):
        card = cards[name]
        m, rows = card["metrics"], card["metrics"]["acc_by_rows"]
        loss = card["config"].get("loss", "last-step")
        score = f"{m['acc']:.2%} ± {margin(m['acc'], m['n']):.2%}"
        lines.append(f"| {name} | {card['config']['order']} | {loss} | {score} | {rows[6]:.1%} | {rows[13]:.1%} "
                     f"| {rows[19]:.1%} | {rows[23]:.1%} |")
    return "\n".join(lines)
