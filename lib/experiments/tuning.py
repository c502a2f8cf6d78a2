"""What each family's tuning cost and found: the learning rates tried on validation digits, the best epoch of each and
its validation accuracy, the time it took, and whether every family had the same budget, as plain data for the
Conclusion page and docs/teaching-notes.md (lib.storage.pretrained.tuning_records reads the records)."""

from __future__ import annotations


def budgets(records: dict[str, dict]) -> dict[str, dict]:
    """family -> {"lrs": [...], "best_val": {lr: accuracy or None}, "best_epoch": {lr: epoch}, "epochs": the epoch
    budget, "seconds": training time of all its runs, "validation": held-out digits, "chosen": the rate with the best
    validation accuracy (the smaller on a tie)}."""
    out: dict[str, dict] = {}
    for record in sorted(records.values(), key=lambda r: r["config"]["lr"]):
        family, lr = record["family"], record["config"]["lr"]
        b = out.setdefault(family, {"lrs": [], "best_val": {}, "best_epoch": {}, "epochs": record["config"]["epochs"],
                                    "seconds": 0.0, "validation": _held_out(record)})
        b["lrs"].append(lr)
        b["best_val"][lr], b["best_epoch"][lr] = record.get("best_val_acc"), record.get("best_epoch")
        b["seconds"] += record["seconds"]
    for b in out.values():
        scored = {lr: acc for lr, acc in b["best_val"].items() if acc is not None}
        b["chosen"] = max(scored, key=lambda lr: (scored[lr], -lr)) if scored else None
    return out


def _held_out(record: dict) -> int | None:
    epochs = [e for e in record.get("events", []) if e["event"] == "epoch"]
    return epochs[0].get("val_n") if epochs else None


def same_budget(found: dict[str, dict]) -> bool:
    """Whether every family tried the same learning rates with the same epoch budget."""
    shapes = {(tuple(b["lrs"]), b["epochs"]) for b in found.values()}
    return len(shapes) <= 1


def budget_table(found: dict[str, dict]) -> str:
    """Markdown: per family, each learning rate's best validation accuracy and epoch, the chosen rate and the time
    (docs/teaching-notes.md quotes it; tests/test_docs.py checks the document against this)."""
    lines = ["| family | learning rates tried (best validation accuracy, at epoch) | chosen | epochs at most | "
             "held-out digits | tuning time |", "|---|---|---:|---:|---:|---:|"]
    for family, b in found.items():
        tried = ", ".join(f"{lr:g} ({b['best_val'][lr]:.2%}, {b['best_epoch'][lr]})" if b["best_val"][lr] is not None
                          else f"{lr:g} (diverged)" for lr in b["lrs"])
        lines.append(f"| {family} | {tried} | {b['chosen']:g} | {b['epochs']} | {b['validation']:,} | "
                     f"{b['seconds'] / 60:.0f} min |")
    return "\n".join(lines)
