"""The parts of README.md and docs/*.md that are generated from the shipped cards and records: one registry of
blocks, each between `<!-- name -->` and `<!-- /name -->` in its file, rewritten by `python -m lib.cli docs --write`
and checked by tests/test_docs.py, so a number quoted in the documentation is the number in the cards."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from lib import ROOT
from lib.experiments.analysis import reading_table, seed_table
from lib.experiments.conclusion import family_table
from lib.experiments.readouts import readout_markdown, readout_table
from lib.experiments.tuning import budget_table, budgets
from lib.storage.checkpoints import parse_card
from lib.storage.pretrained import FOLDER, SPECS, seed_cards, tuning_records


def shipped_cards(folder: Path = FOLDER) -> dict[str, dict]:
    """name -> card of every shipped model (its file's config read under today's setting names)."""
    return {p.stem: parse_card(p.read_bytes()) for p in sorted(Path(folder).glob("*.json"))}


def shipped_table(folder: Path = FOLDER) -> str:
    """Markdown table of the shipped models, read from their cards, in the registry's order."""
    lines = ["| model | family | layers×hidden | optimizer | epochs | weights kept | order | test acc | train time | "
             "device |", "|---|---|---|---|---:|---|---|---:|---:|---|"]
    total, spans = 0.0, []
    for name in SPECS:
        card_path = Path(folder) / f"{name}.json"
        if not card_path.is_file():
            lines.append(f"| {name} | missing: run make-pretrained | | | | | | | | |")
            continue
        card = parse_card(card_path.read_bytes())
        c, tr = card["config"], card["training"]
        total += tr["seconds"]
        end = datetime.fromisoformat(card["date"]).timestamp()  # the card is written when training ends
        spans.append((end - tr["seconds"], end))
        device = tr["device"] if tr.get("device_type") != "cpu" else \
            f"CPU ({tr['threads']} thread{'s' if tr['threads'] > 1 else ''})"
        family = c["family"] + (f" ({', '.join(reading(c))})" if reading(c) else "")
        lines.append(f"| {name} | {family} | {c['layers']}×{c['hidden']} | {c['optimizer']} lr {c['lr']:g} | "
                     f"{c['epochs']} | {kept(card)} | {c['order']} | {card['metrics']['acc']:.2%} | {tr['seconds'] / 60:.1f} min | "
                     f"{device} |")
    wall = _covered(spans)
    lines.append(f"\nTraining time recorded in the cards: {total / 60:.0f} min in all; {wall / 60:.0f} min of wall time "
                 "(runs that overlapped count once).")
    return "\n".join(lines)


def reading(c: dict) -> list[str]:
    """How a shipped model reads the digit where it differs from the lesson's way (one step per row, answer after the
    last step, one direction, a Transformer that knows the rows' positions)."""
    return [what for what, differs in (
        ("no positions", not c.get("positions", True)), (f"{c.get('readout')} read-out", c.get("readout", "last") != "last"),
        ("both ways", bool(c.get("bidirectional"))), (f"{c.get('steps_per_row')} steps per row",
                                                      c.get("steps_per_row", 1) > 1)) if differs]


def kept(card: dict) -> str:
    """Which epoch's weights a shipped model keeps, and what chose it: the best on its validation digits (the first
    epoch that reached it, as training keeps it), or the last epoch with the test set scored after every one."""
    c = card["config"]
    if c.get("validation", 0) > 0 and c.get("keep") == "best":
        epochs = [e for e in card["history"] if e["event"] == "epoch" and e.get("val_acc") is not None]
        best = max(epochs, key=lambda e: (e["val_acc"], -e["epoch"]))
        return f"epoch {best['epoch']}, best on {best['val_n']:,} validation digits"
    return "the last (test set scored every epoch)"


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of (start, end) spans: runs that overlapped count once, gaps not at all."""
    total, reach = 0.0, float("-inf")
    for begin, end in sorted(spans):
        total += max(0.0, end - max(begin, reach))
        reach = max(reach, end)
    return total


BLOCKS: dict[tuple[str, str], Callable[[], str]] = {  # (file under the app's folder, block name) -> its text
    ("README.md", "shipped-table"): shipped_table,
    ("docs/teaching-notes.md", "reading-table"): lambda: reading_table(shipped_cards()),
    ("docs/teaching-notes.md", "seed-table"): lambda: seed_table(shipped_cards(), seed_cards()),
    ("docs/teaching-notes.md", "family-table"): lambda: family_table({**shipped_cards(), **seed_cards()}),
    ("docs/teaching-notes.md", "tuning-table"): lambda: budget_table(budgets(tuning_records())),
    ("docs/teaching-notes.md", "readout-table"): lambda: readout_markdown(readout_table(shipped_cards())),
}


def _split(text: str, name: str) -> tuple[str, str, str] | None:
    """(everything up to the block's first line, the block, from its end marker on); None without both markers."""
    start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    if start not in text or end not in text.split(start, 1)[-1]:
        return None
    head, rest = text.split(start, 1)
    body, tail = rest.split(end, 1)
    return head + start, body, end + tail


def stale(root: Path = ROOT) -> list[str]:
    """The blocks whose text differs from what the cards give (or that are missing from their file)."""
    out = []
    for (file, name), make in BLOCKS.items():
        parts = _split((root / file).read_text(), name)
        if parts is None or parts[1].strip() != make().strip():
            out.append(f"{file}: {name}")
    return out


def write(root: Path = ROOT) -> list[str]:
    """Rewrite every block that is stale; the ones rewritten."""
    changed = []
    for (file, name), make in BLOCKS.items():
        path = root / file
        parts = _split(path.read_text(), name)
        if parts is not None and parts[1].strip() != make().strip():
            path.write_text(parts[0] + make().strip() + "\n" + parts[2])
            changed.append(f"{file}: {name}")
    return changed
