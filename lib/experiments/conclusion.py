"""The lesson's conclusion put to the test, as plain data for views/conclusion.py.

The source lesson ("Pytorch Note38 RNN 做图像分类") ends with two claims: an image has no real sequence (read its rows
in any order and it is still understood), and an RNN is slow because each step waits for the last, while a CNN
computes in parallel. Here: accuracy per row order for each family (from the shipped cards), the answers the
measurements give to the page's prediction questions, and accuracy against training time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean

from lib import ROOT
from lib.data.orders import LESSON_ORDER, get_order
from lib.experiments.compare import change
from lib.experiments.stats import differ, mcnemar, right_answers
from lib.messages import N_
from lib.models.families import FAMILIES, weight_count
from lib.models.nets import LINE
from lib.storage.pretrained import EXTRA_SEEDS, FAMILY_ORDERS, seed_name

COMPARED = FAMILY_ORDERS  # the orders compared across families: those the new families are shipped in
BASELINE = LESSON_ORDER  # each drop is measured from the lesson's order ...
PER_IMAGE = next(o for o in COMPARED if get_order(o).per_image)  # ... to a new random order for every image
SAME = 0.005  # a drop under half a point counts as "no change" when a prediction is scored
RECORDED = ROOT / "docs" / "scaling-cpu.json"  # `lib.cli scaling --json` output


@dataclass(frozen=True)
class Variant:
    """One column of the order × family table: a family, with or without position embeddings."""

    family: str  # lib.models.families name
    positions: bool = True  # only a Transformer can be without
    name: str = ""  # English source text, translated by the UI; empty: the family's own label

    @property
    def label(self) -> str:
        return self.name or FAMILIES[self.family].label


VARIANTS = {
    "lstm": Variant("lstm"),
    "cnn": Variant("cnn"),
    "transformer": Variant("transformer"),
    "transformer-bag": Variant("transformer", False, N_("Transformer without positions")),
}


def _runs(cards: dict[str, dict], variant: str, order: str) -> list[dict]:
    """The shipped cards (seed runs included) of `variant` trained in `order`: named `<variant>-<order>`."""
    v = VARIANTS[variant]
    names = {seed_name(f"{variant}-{order}", seed) for seed in (0, *EXTRA_SEEDS)}
    return [c for name, c in cards.items() if name in names
            and c["config"]["family"] == v.family and c["config"].get("positions", True) == v.positions]


def order_table(cards: dict[str, dict]) -> dict:
    """Test accuracy per variant and row order, from the shipped cards: {"acc": {variant: {order: mean acc}},
    "runs": {variant: {order: how many seeds}}, "n": test digits, "from": {variant: {order: how it was measured}},
    "size": {variant: {"layers", "hidden", "weights"}} of its top → bottom model, "metrics": {variant: {order: the
    trained runs' card metrics}} for lib.experiments.compare}.

    A variant trained in an order gives that order's cell ("trained"). A Transformer without positions is trained
    once, top → bottom: it cannot tell one order of the same rows from another, so its other cells are the same
    model scored in those orders (its card's cross-order row: "scored"). Missing cells are left out."""
    acc, runs, source, size, n, metrics = {}, {}, {}, {}, 0, {}
    for variant in VARIANTS:
        for order in COMPARED:
            trained = _runs(cards, variant, order)
            if trained:
                acc.setdefault(variant, {})[order] = fmean(c["metrics"]["acc"] for c in trained)
                runs.setdefault(variant, {})[order] = len(trained)
                source.setdefault(variant, {})[order] = "trained"
                metrics.setdefault(variant, {})[order] = [c["metrics"] for c in trained]
                n = trained[0]["metrics"]["n"]
        scored = _runs(cards, variant, BASELINE)
        if scored:
            config = scored[0]["config"]
            size[variant] = {"layers": config["layers"], "hidden": config["hidden"], "weights": _weights(config)}
        if not VARIANTS[variant].positions and scored and scored[0].get("cross_order"):
            for order in COMPARED:
                if order not in acc.get(variant, {}):
                    acc[variant][order] = scored[0]["cross_order"][order]
                    runs[variant][order], source[variant][order] = 1, "scored"
    return {"acc": acc, "runs": runs, "from": source, "size": size, "n": n, "metrics": metrics}


def fixed_order_costs(table: dict, labels: list[int], to: str = "shuffled") -> dict[str, dict]:
    """What a fixed scrambled order costs each variant trained in both the lesson's order and `to`:
    lib.experiments.compare.change from one to the other (seeds, or McNemar's test on the same digits)."""
    return {v: change(m[BASELINE], m[to], labels) for v, m in table["metrics"].items() if BASELINE in m and to in m}


def order_drops(acc: dict[str, dict[str, float]], to: str = PER_IMAGE) -> dict[str, float]:
    """Each variant's change in accuracy from the lesson's order to `to` (negative: it loses), where it has both."""
    return {v: a[to] - a[BASELINE] for v, a in acc.items() if BASELINE in a and to in a}


def biggest_drop(acc: dict[str, dict[str, float]], to: str = PER_IMAGE) -> str:
    """The variant that loses most from the lesson's order to `to`, or "none" when no variant loses SAME or more."""
    drops = order_drops(acc, to)
    if not drops or -min(drops.values()) < SAME:
        return "none"
    return min(drops, key=drops.get)


def growth(out: dict, kind: str = "train_ms") -> dict[str, float | None]:
    """Each family's time at the largest measured height over its time at the smallest (None: a gap)."""
    return {f: (v[-1] / v[0] if v and v[0] and v[-1] else None) for f, v in out[kind].items()}


def fastest_growing(out: dict | None, kind: str = "train_ms") -> list[str]:
    """What the measurement answers to "whose step grows the most": the family whose step time grows most from the
    smallest to the largest height, or [] without a measurement or when no family was measured at both ends."""
    grown = {f: g for f, g in growth(out, kind).items() if g is not None} if out else {}
    return [max(grown, key=grown.get)] if grown else []


def against(out: dict, kind: str = "train_ms") -> dict | None:
    """The lesson's second claim read from a measurement: the first measured family that reads row by row against
    the first one built for images (the LSTM against the CNN), height by height. {"recurrent", "parallel" (family
    names), "heights", "faster" (heights where the recurrent step was the faster), "first" and "last" ((recurrent ms,
    parallel ms) at the smallest and the largest height both were measured at)}; None if either is missing."""
    names = list(out[kind])
    recurrent = next((f for f in names if FAMILIES[f].recurrent), None)
    parallel = next((f for f in names if FAMILIES[f].built_for_images), None)
    if recurrent is None or parallel is None:
        return None
    pairs = [(h, a, b) for h, a, b in zip(out["heights"], out[kind][recurrent], out[kind][parallel])
             if a is not None and b is not None]
    if not pairs:
        return None
    return {"recurrent": recurrent, "parallel": parallel, "heights": [h for h, _, _ in pairs],
            "faster": [h for h, a, b in pairs if a < b], "first": pairs[0][1:], "last": pairs[-1][1:],
            "first_height": pairs[0][0], "last_height": pairs[-1][0]}


def recorded_scaling(path: Path = RECORDED) -> dict | None:
    """The measurement recorded in the repository (`python -m lib.cli scaling --json`), None if missing or bad."""
    try:
        out = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return out if isinstance(out, dict) and {"heights", "train_ms", "predict_ms"} <= set(out) else None


def _weights(config: dict) -> int:
    """The model's weight count from its card's config: both directions for a both-ways model, and the shorter
    input of a row read in pieces (28 // steps_per_row pixels per step)."""
    return weight_count(config["family"], config["hidden"], config["layers"], config.get("positions", True),
                        line=LINE // config.get("steps_per_row", 1), bidirectional=config.get("bidirectional", False))


def time_points(cards: dict[str, dict], runs: list[dict]) -> list[dict]:
    """Accuracy against training time: one point per shipped model and per finished run of the student's.

    `runs`: {"name", "config" (TrainConfig dict), "acc", "n", "seconds", "device"} each, `device` being the run's
    start event (device, device_type, threads). A point: name, family, acc, n (test digits), seconds, device (that
    dict), weights, epochs (as configured), predictions (each test digit's answer, when a card keeps them), mine (True
    for the student's own). Seed cards are left out: one point per config."""
    shipped = [{"name": name, "config": c["config"], "acc": c["metrics"]["acc"], "n": c["metrics"]["n"],
                "seconds": c["training"]["seconds"], "device": c["training"], "mine": False,
                "predictions": c["metrics"].get("predictions")}
               for name, c in sorted(cards.items()) if "-seed" not in name and c.get("training")]
    mine = [{"name": r["name"], "config": r["config"], "acc": r["acc"], "n": r["n"], "seconds": r["seconds"],
             "device": r["device"], "mine": True, "predictions": None} for r in runs]
    return [{**p, "family": p["config"]["family"],
             "weights": _weights(p["config"]), "epochs": p["config"]["epochs"]}
            for p in shipped + mine if p["config"]["family"] in FAMILIES and p["seconds"] > 0]


def most_accurate_families(points: list[dict], labels: list[int] | None = None) -> list[str]:
    """The answer to the page's third prediction: the family of the most accurate point, and every family whose best
    point ties with it, most accurate first; [] without points. Two models scored on the same test digits whose
    cards keep each digit's answer are compared by McNemar's test on the digits they disagree on (given `labels`);
    otherwise by each accuracy's sampling noise (lib.experiments.stats.differ, 95%)."""
    best = sorted(best_per_family(points).values(), key=lambda p: -p["acc"])
    return [p["family"] for p in best if not _differ(best[0], p, labels)]


def _differ(a: dict, b: dict, labels: list[int] | None) -> bool:
    if a is b:
        return False
    right = [right_answers(p, labels) for p in (a, b)] if labels is not None else [None, None]
    if all(r is not None for r in right):
        return mcnemar(*right)["differ"]
    return differ(a["acc"], a["n"], b["acc"], b["n"])


def split_by_prior(answers: list[str]) -> tuple[list[str], list[str]]:
    """The families of an answer that are built for images (lib.models.families.Family.built_for_images), and the others."""
    return ([f for f in answers if FAMILIES[f].built_for_images],
            [f for f in answers if not FAMILIES[f].built_for_images])


def best_per_family(points: list[dict]) -> dict[str, dict]:
    """family -> its most accurate point (time_points), in the order the families first appear."""
    best: dict[str, dict] = {}
    for p in points:
        if p["family"] not in best or p["acc"] > best[p["family"]]["acc"]:
            best[p["family"]] = p
    return best


def family_table(cards: dict[str, dict]) -> str:
    """Markdown: test accuracy per variant and row order, as the Conclusion page draws it (docs/teaching-notes.md
    quotes it; tests/test_docs.py checks the document against this)."""
    table, title = order_table(cards), {o: get_order(o).title for o in COMPARED}
    drops = order_drops(table["acc"])
    lines = [f"| model | {' | '.join(title.values())} | {title[PER_IMAGE]} − {title[BASELINE]} | seeds |",
             "|---|" + "---:|" * (len(COMPARED) + 1) + "---|"]
    for variant, acc in table["acc"].items():
        cells = " | ".join(f"{acc[o]:.2%}" if o in acc else "—" for o in COMPARED)
        drop = f"{drops[variant] * 100:+.2f} points" if variant in drops else "—"
        trained = sorted({table["runs"][variant][o] for o in acc if table["from"][variant][o] == "trained"})
        runs = " / ".join(map(str, trained)) + (" (top → bottom; scored in the others)" if "scored" in
                                                table["from"][variant].values() else " each")
        lines.append(f"| {variant} | {cells} | {drop} | {runs} |")
    return "\n".join(lines)
