"""The facts Inspect's captions state about one digit or one model, as plain numbers: computed here, so the UI only
translates and formats them (each caption is its chart's text alternative, docs/accessibility.md)."""

from __future__ import annotations

import numpy as np

TOP_LINES = 3  # lines named in the attention caption


def row_ink(image, step: int) -> dict:
    """The row a reader takes in at `step` (1-based) of a (28, 28) uint8 digit: how many of its pixels have ink, and
    the brightest one (0-255)."""
    row = np.asarray(image)[step - 1]
    return {"ink": int((row > 0).sum()), "top": int(row.max())}


def state_range(hidden, step: int, beyond: float = 0.5) -> dict:
    """A (28, H) hidden state after `step` (1-based): its lowest and highest value, how many of its H units are
    beyond ±`beyond` (and that bound), and H."""
    h = np.asarray(hidden)[step - 1]
    return {"low": float(h.min()), "high": float(h.max()), "n": int((np.abs(h) > beyond).sum()), "beyond": beyond,
            "h": len(h)}


def gate_means(seen: dict, layer: int, step: int) -> dict:
    """The input, forget and output gates of `layer` (0-based) after `step` (1-based), each averaged over the
    layer's units: i, f, o."""
    return {k: float(np.asarray(seen[gate][layer][step - 1]).mean())
            for k, gate in (("i", "input"), ("f", "forget"), ("o", "output"))}


def top_two(probs) -> dict:
    """The two most likely classes of a (10,) answer: top, p (its probability), second, q."""
    probs = np.asarray(probs)
    top, second = (int(c) for c in np.argsort(probs)[::-1][:2])
    return {"top": top, "p": float(probs[top]), "second": second, "q": float(probs[second])}


def most_attended(weights, lines: list[int], k: int = TOP_LINES) -> dict:
    """The class token's attention in the last layer of (L, 28) weights: the original line numbers (1-based) of the
    `k` lines it attends to most, their share together, the share it keeps on itself, and the share each line would
    get if attention were spread evenly over the 28 lines and the token."""
    last = np.asarray(weights)[-1]  # (28,): what the class token gives each line; the rest stays on itself
    top = [int(i) for i in np.argsort(last)[::-1][:k]]
    return {"lines": [lines[i] + 1 for i in top], "share": float(last[top].sum()),
            "own": max(0.0, 1.0 - float(last.sum())), "even": 1 / (len(last) + 1)}


def map_activity(maps) -> dict:
    """(C, 28, 28) feature maps after ReLU: the most active one (1-based) and its mean, and how many are zero
    everywhere on this digit, of how many."""
    flat = np.asarray(maps).reshape(len(maps), -1)
    mean = flat.mean(1)
    strongest = int(np.argmax(mean))
    return {"strongest": strongest + 1, "mean": float(mean[strongest]), "silent": int((flat.max(1) <= 0).sum()),
            "total": len(flat)}


def most_frequent_mistake(counts) -> dict:
    """From a (10, 10) confusion matrix (true × predicted): all mistakes, and the most frequent one (true, pred, n);
    total 0 when there is none."""
    off = np.asarray(counts, dtype=int).copy()
    np.fill_diagonal(off, 0)
    true, pred = np.unravel_index(off.argmax(), off.shape)
    return {"total": int(off.sum()), "true": int(true), "pred": int(pred), "n": int(off[true, pred])}


def class_extremes(accuracy: list[float]) -> dict:
    """The classes read worst and best: low, a (its accuracy), high, b."""
    low, high = int(np.argmin(accuracy)), int(np.argmax(accuracy))
    return {"low": low, "a": float(accuracy[low]), "high": high, "b": float(accuracy[high])}
