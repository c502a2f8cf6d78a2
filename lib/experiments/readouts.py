"""Why only the last step? The shipped models that read the rows differently (the mean or the maximum of every step's
output, or both ways) beside the last step's, in the lesson's order and in a random order per image, as plain data
for the Row order and Conclusion pages. Each statement is a test's verdict, never a bare difference."""

from __future__ import annotations

from lib.experiments.compare import change
from lib.experiments.stats import differ, margins

READOUT_ORDERS = ("forward", "random")  # top → bottom, and the order that carries no information
VARIANTS = {  # a way of reading -> the shipped model's name in each order ({order} filled in)
    "last": "lstm-{order}", "mean": "lstm-mean-{order}", "max": "lstm-max-{order}", "both": "lstm-bi-{order}"}
EARLY_ROWS = 14  # "what the early rows said": the answer after half the digit


def readout_table(cards: dict[str, dict]) -> dict:
    """{"acc": {variant: {order: test accuracy}}, "n": {variant: {order: test digits}}, "margin": {variant: {order:
    half the 95% interval of its test accuracy}}, "metrics": {variant: {order: the card's metrics}}, "digits": the
    fewest test digits any of them was scored on (0 when none is shipped)} for every shipped model of VARIANTS;
    missing ones left out."""
    acc, n, metrics = {}, {}, {}
    for variant, pattern in VARIANTS.items():
        for order in READOUT_ORDERS:
            card = cards.get(pattern.format(order=order))
            if card is not None:
                acc.setdefault(variant, {})[order] = card["metrics"]["acc"]
                n.setdefault(variant, {})[order] = card["metrics"]["n"]
                metrics.setdefault(variant, {})[order] = card["metrics"]
    return {"acc": acc, "n": n, "margin": {v: margins(acc[v], n[v]) for v in acc}, "metrics": metrics,
            "digits": min((k for ns in n.values() for k in ns.values()), default=0)}


def early_answers(table: dict, variant: str = "mean", order: str = "forward", rows: int = EARLY_ROWS) -> dict | None:
    """Does a read-out keep what the early rows said? Its accuracy after `rows` rows against the last step's
    read-out's, on the same test digits: {"variant", "last", "rows", "differ", "higher"}, None without both."""
    m = table["metrics"]
    if order not in m.get(variant, {}) or order not in m.get("last", {}):
        return None
    a, b = m[variant][order]["acc_by_rows"], m["last"][order]["acc_by_rows"]
    if not a or not b:
        return None
    va, vb, na, nb = a[rows - 1], b[rows - 1], m[variant][order]["n"], m["last"][order]["n"]
    return {"variant": va, "last": vb, "rows": rows, "differ": differ(va, na, vb, nb), "higher": va > vb}


def both_ways(table: dict, labels: list[int] | None, order: str = "random") -> dict | None:
    """Does reading both ways help where `order` gives the rows no fixed places? lib.experiments.compare.change from
    the last step's one-way model to the both-ways one (McNemar's test on the same digits when the cards keep their
    answers), or None without both."""
    m = table["metrics"]
    if order not in m.get("both", {}) or order not in m.get("last", {}):
        return None
    return change([m["last"][order]], [m["both"][order]], labels)


def readout_markdown(table: dict) -> str:
    """docs/teaching-notes.md's table: each shipped read-out's test accuracy per order, with its 95% interval, and
    its accuracy after EARLY_ROWS rows top → bottom (— where a model has no such answer or is not shipped)."""
    def cell(variant: str, order: str) -> str:
        acc = table["acc"].get(variant, {}).get(order)
        return "not shipped" if acc is None else f"{acc:.2%} ± {table['margin'][variant][order]:.2%}"

    def early(variant: str) -> str:
        rows = table["metrics"].get(variant, {}).get("forward", {}).get("acc_by_rows")
        return f"{rows[EARLY_ROWS - 1]:.1%}" if rows else "—"

    lines = [f"| read-out | top → bottom | random per image | after {EARLY_ROWS} rows, top → bottom |",
             "|---|---:|---:|---:|"]
    lines += [f"| {variant} | {cell(variant, 'forward')} | {cell(variant, 'random')} | {early(variant)} |"
              for variant in VARIANTS]
    return "\n".join(lines)
