"""Where an RNN is parallel, measured: which part of an LSTM's training step must wait for the step before.

An LSTM step computes `x_t @ W_ih^T` (the input projection) and `h_{t-1} @ W_hh^T` plus the gates (the recurrence).
The input projection needs no earlier step, so for all 28 rows it is one matrix multiply of (B·28, in) by (in, 4H);
only the recurrence waits, 28 times in a row. Every digit of a batch goes through each step together, and a stacked
layer can start its step t as soon as the layer below has finished its step t (cuDNN's wavefront: 28 + layers − 1
steps in sequence instead of 28 · layers). Here both parts of a training step (forward and backward) of the lesson's
LSTM (hidden 100, 2 layers, batch 64) are timed apart on one device, through lib.models.unroll, beside PyTorch's
fused nn.LSTM doing the whole step; plus the input projection done row by row instead of at once, and the waiting
part with one digit instead of 64. Plain data for the Conclusion page and `python -m lib.cli parallel --json`.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from lib import ROOT
from lib.models.families import FAMILIES, seeded
from lib.models.unroll import input_projection, step, unroll, weights
from lib.training.devices import device_label, resolve_device, synchronize

BATCH, HIDDEN, LAYERS, STEPS = 64, 100, 2, 28  # the lesson's batch and sizes; one step per row
REPEATS, WARMUP = 15, 2
RECORDED = ROOT / "docs" / "parallel-cpu.json"  # `python -m lib.cli parallel --json` on the development machine
SHARE_BINS = (0.25, 0.5, 0.75)  # the page's answers: under a quarter, to half, to three quarters, above


def _times_ms(fns: dict, device: torch.device, repeats: int) -> dict[str, list[float]]:
    """Milliseconds of each closure in `fns`, `repeats` times, taken in turn (one of each per round), so that a
    machine busy with other work slows every part alike instead of whichever happened to run then."""
    for fn in fns.values():
        for _ in range(WARMUP):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)  # queued GPU work is part of it
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def _parts(model, x: torch.Tensor, y: torch.Tensor):
    """Closures that each run one part of a training step forward and backward: the input projections of every
    layer (all steps at once, or one row at a time), the recurrences given those projections, the classifier."""
    rnn, gen = model.rnn, torch.Generator().manual_seed(0)
    w = [weights(rnn, layer) for layer in range(rnn.num_layers)]
    sizes = [x.shape[2]] + [rnn.hidden_size] * (rnn.num_layers - 1)
    batch, steps, gates = len(x), x.shape[1], 4 * rnn.hidden_size

    def noise(*shape):  # stand-ins for the values and gradients the other parts would pass on (same shapes)
        return torch.randn(*shape, generator=gen).to(x.device)

    ins = [noise(batch, steps, n).requires_grad_(True) for n in sizes]
    pres = [noise(batch, steps, gates).requires_grad_(True) for _ in w]
    up_pre, up_h = noise(batch, steps, gates), noise(batch, steps, rnn.hidden_size)
    top = noise(batch, rnn.hidden_size).requires_grad_(True)

    def projection():  # (B, T, in) -> (B, T, 4H), every row at once: one matrix multiply per layer
        for wl, layer_in in zip(w, ins):
            input_projection(wl, layer_in).backward(up_pre)

    def projection_by_row():  # the same numbers, one row after another
        for wl, layer_in in zip(w, ins):
            torch.stack([input_projection(wl, layer_in[:, t]) for t in range(steps)], 1).backward(up_pre)

    def recurrence():  # the part that waits: step t needs h_{t-1}
        for wl, pre in zip(w, pres):
            h = c = pre.new_zeros(batch, rnn.hidden_size)
            out = []
            for t in range(steps):
                h, c = step("lstm", wl, pre[:, t], h, c)
                out.append(h)
            torch.stack(out, 1).backward(up_h)

    def head():
        F.cross_entropy(model.fc(top), y).backward()

    return {"projection": projection, "projection_by_row": projection_by_row, "recurrence": recurrence,
            "head": head}


def measure(device: str = "auto", batch: int = BATCH, repeats: int = REPEATS) -> dict:
    """Milliseconds (medians of `repeats`) for each part of one training step, forward and backward, and the share
    the waiting part takes; "share_low"/"share_high": the lowest and highest share over the repeats."""
    dev = resolve_device(device)
    model = seeded("lstm", HIDDEN, LAYERS, 0.0, True, 0).to(dev).train()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch, STEPS, 28, generator=gen).to(dev)
    y = torch.randint(0, 10, (batch,), generator=gen).to(dev)
    parts = _parts(model, x, y)
    parts["recurrence_one_digit"] = _parts(model, x[:1], y[:1])["recurrence"]

    def unrolled():
        states = unroll(model.rnn, x)
        F.cross_entropy(model.read_out(torch.stack(states["h"][-1], 1)), y).backward()

    def fused():  # PyTorch's own nn.LSTM (cuDNN on a GPU, oneDNN on a CPU): the whole step in one kernel per layer
        F.cross_entropy(model(x), y).backward()

    times = _times_ms(parts | {"unrolled": unrolled, "fused": fused}, dev, repeats)
    shares = [r / (p + r + h) for p, r, h in zip(times["projection"], times["recurrence"], times["head"])]
    ms = {f"{name}_ms": statistics.median(values) for name, values in times.items()}
    total = ms["projection_ms"] + ms["recurrence_ms"] + ms["head_ms"]
    return {"device": device_label(dev), "device_type": dev.type,
            "threads": torch.get_num_threads() if dev.type == "cpu" else 0, "batch_size": batch, "hidden": HIDDEN,
            "layers": LAYERS, "steps": STEPS, "repeats": repeats, **ms,
            "share": ms["recurrence_ms"] / total, "share_low": min(shares), "share_high": max(shares),
            "steps_in_sequence": FAMILIES["lstm"].sequential(STEPS, LAYERS, "cuda"),  # the wavefront
            "steps_without_overlap": STEPS * LAYERS}


def facts(out: dict) -> dict:
    """What the page says from a measurement: the waiting part's share and its range over the repeats; how many
    times longer the input projection takes row by row than at once; how many times longer the waiting part takes
    for 64 digits than for one (far less than 64 when the digits of a batch go through each step together)."""
    return {"share": out["share"], "low": out["share_low"], "high": out["share_high"],
            "total_ms": out["projection_ms"] + out["recurrence_ms"] + out["head_ms"],
            "by_row": out["projection_by_row_ms"] / out["projection_ms"],
            "batch_cost": out["recurrence_ms"] / out["recurrence_one_digit_ms"], "batch": out["batch_size"],
            "answers": share_bins(out["share_low"], out["share_high"])}


def share_bins(low: float, high: float) -> list[str]:
    """The prediction choices ("quarter", "half", "three-quarters", "most") that the measured range [low, high]
    falls in: more than one when it straddles a boundary."""
    names, edges = ("quarter", "half", "three-quarters", "most"), (0.0, *SHARE_BINS, float("inf"))
    return [name for name, a, b in zip(names, edges, edges[1:]) if low < b and high >= a]


def recorded(path: Path = RECORDED) -> dict | None:
    """The measurement recorded on the development machine (`python -m lib.cli parallel --json`), or None."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
