"""What the memory holds after k rows, measured with linear probes.

The read-out curve (the model's own classifier applied after k rows, lib.experiments.evaluate's acc_by_rows) shows
what that classifier can read from the state, not what the state holds: it was trained on the state after the last
row only. A linear probe asks the state itself: a softmax regression trained on the frozen state after k rows of
training digits and scored on test digits, for k = 1 … 28. Two probes per k: on the top layer's h (what the
classifier reads) and on every layer's state together (h, and an LSTM's cell state c). Where the probe reads more
than the classifier, the state holds more than the classifier can use; where every layer's state reads more than the
top h, the lower layers or the cell state hold what h does not show.

Plain data for the pages and `python -m lib.cli probe MODEL --json`; each accuracy with its 95% (Wilson) interval.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from lib.data.mnist import SIDE, MnistData, stratified_indices
from lib.experiments.stats import differ, interval
from lib.models.nets import N_CLASSES, RowClassifier, model_input
from lib.models.unroll import walk
from lib.storage.pretrained import EVERY_STEP_MODEL, LESSON_MODEL, ROW_ORDER_MODELS

PROBED = (LESSON_MODEL, EVERY_STEP_MODEL, *ROW_ORDER_MODELS, "lstm-long-forward")  # recorded for the pages:
# the lesson's model and the shipped LSTMs (the long one once it is shipped); any other one-way model is probed on
# demand
TRAIN_DIGITS = 10_000  # training digits the probes learn from, balanced by class (all of the shipped sample's)
TEST_DIGITS = 10_000  # test digits they are scored on: all of them
L2 = 1e-4  # a small ridge on the probe's weights: without it a separable state lets the weights grow without end
MAX_ITER = 100  # L-BFGS iterations per probe (the loss no longer moves after ~50 on these states)
PROBES_PER_ROW = 2  # after each row: one probe on the top layer's h, one on every layer's state


def planned_rows(rows=None) -> list[int]:
    """The rows k after which probes() probes, in order: every row of the digit, 1 … SIDE (28), or those of them in
    `rows`. Rows of the image, not steps: a model that reads each row in 2 or 4 steps (56 or 112 steps in all) is
    probed after each row's last step, so 28 times too, and its result's "rows" are these same k."""
    return [k for k in range(1, SIDE + 1) if rows is None or k in rows]


def states_after_rows(model: RowClassifier, images: torch.Tensor, order: str, seed: int = 0):
    """For (N, 28, 28) uint8 digits, after each row k = 1 … 28 (after its last piece, when a row is read in pieces):
    yields (k, top h (N, H), every layer's state (N, L·H, or 2·L·H with an LSTM's c), the classifier's logits
    (N, 10)). All digits step together, so only the current step's states are in memory (20 MB for 10,000 digits
    of a 2×128 LSTM), never every step's."""
    per_row = model.steps_per_row
    x = model_input(images, order, torch.Generator().manual_seed(seed), steps_per_row=per_row)  # (N, 28·p, 28/p)
    read = None  # what the classifier reads so far: the last output, or the running mean or maximum
    for t, hs, cs in walk(model.rnn, x):
        read = _read_so_far(model.readout, read, hs[-1], t)
        if (t + 1) % per_row == 0:
            yield (t + 1) // per_row, hs[-1], torch.cat(hs + (cs or []), 1), model.fc(read)


def _read_so_far(readout: str, read: torch.Tensor | None, h: torch.Tensor, t: int) -> torch.Tensor:
    """The classifier's input after step t (0-based), as RowClassifier.step_logits computes it."""
    if read is None or readout == "last":
        return h
    return torch.maximum(read, h) if readout == "max" else read + (h - read) / (t + 1)


def fit_probe(features: torch.Tensor, labels: torch.Tensor, max_iter: int = MAX_ITER) -> tuple:
    """A softmax regression on (N, D) features: standardised with the training digits' mean and spread, then
    weights (D, 10) and bias (10,) fitted by L-BFGS on the cross-entropy plus L2 · |W|². Returns (mean, std, W, b)."""
    mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
    z = (features - mean) / std
    w = torch.zeros(z.shape[1], N_CLASSES, requires_grad=True)
    b = torch.zeros(N_CLASSES, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-6)

    def loss():
        opt.zero_grad()
        value = F.cross_entropy(z @ w + b, labels) + L2 * w.pow(2).sum()
        value.backward()
        return value

    opt.step(loss)
    return mean, std, w.detach(), b.detach()


def probe_accuracy(probe: tuple, features: torch.Tensor, labels: torch.Tensor) -> float:
    mean, std, w, b = probe
    return (((features - mean) / std @ w + b).argmax(1) == labels).double().mean().item()


def _with_interval(out: dict, key: str, acc: float, n: int) -> None:
    low, high = interval(acc, n)
    for name, value in ((key, acc), (f"{key}_low", low), (f"{key}_high", high)):
        out.setdefault(name, []).append(value)


@torch.no_grad()
def _states(model, images, order, seed):
    yield from states_after_rows(model, images, order, seed)


def probes(model: RowClassifier, data: MnistData, order: str = "forward", train_digits: int = TRAIN_DIGITS,
           test_digits: int = TEST_DIGITS, seed: int = 0, rows=None, on_row=lambda k: None) -> dict:
    """The probes after every row, as plain data: {"rows": [1 … 28], "probe_acc": the top layer's h,
    "state_acc": every layer's (h, c), "readout_acc": the model's own classifier, each with "_low"/"_high" (95%
    interval), "n_train", "n_test", "state_size", "hidden", "layers", "cell_state" (whether c is in the state)}.
    `rows` limits the probes to those k (planned_rows: all 28 when None); `on_row(k)` is called as each row's probes
    are done (a progress bar: once per row of planned_rows(rows), whatever the model's steps per row)."""
    if not isinstance(model, RowClassifier) or model.rnn.bidirectional:
        raise ValueError("linear probes after k rows need a one-way recurrent model (LSTM, GRU or plain RNN)")
    model = copy.deepcopy(model).cpu().eval()  # the caller's model (maybe shared with other pages) is left as it is
    train = stratified_indices(data.train_y, train_digits, seed)
    test = stratified_indices(data.test_y, test_digits, seed)
    y_train, y_test = data.train_y[train].cpu(), data.test_y[test].cpu()
    wanted = planned_rows(rows)
    out = {"rows": [], "n_train": len(train), "n_test": len(test), "hidden": model.rnn.hidden_size,
           "layers": model.rnn.num_layers, "cell_state": model.family == "lstm", "order": order,
           "steps_per_row": model.steps_per_row, "data_source": data.source}
    train_rows = _states(model, data.train_x[train].cpu(), order, seed + 1)
    test_rows = _states(model, data.test_x[test].cpu(), order, seed)  # the random orders lib's evaluate draws
    for (k, top_tr, all_tr, _), (_, top_te, all_te, logits_te) in zip(train_rows, test_rows):
        if k not in wanted:
            continue
        out["rows"].append(k)
        with torch.enable_grad():
            top, every = fit_probe(top_tr, y_train), fit_probe(all_tr, y_train)
        _with_interval(out, "probe_acc", probe_accuracy(top, top_te, y_test), len(test))
        _with_interval(out, "state_acc", probe_accuracy(every, all_te, y_test), len(test))
        _with_interval(out, "readout_acc", (logits_te.argmax(1) == y_test).double().mean().item(), len(test))
        out["state_size"] = all_tr.shape[1]
        on_row(k)
    return out


def of_model(model: RowClassifier, config: dict, data: MnistData, **options) -> dict:
    """probes() of a saved model in the row order it was trained in (its card's `config`)."""
    return probes(model, data, config["order"], **options)


def compare_at(result: dict, k: int, a: str, b: str) -> dict:
    """Two of a result's curves (probe_acc, state_acc, readout_acc) after row k (1-based): their accuracies,
    the gap a − b, and "verdict": "more" or "less" when they differ beyond sampling noise (both scored on the same
    n_test digits; a z-test at 95%, lib.experiments.stats.differ), else "same"."""
    at = result["rows"].index(k)
    n, va, vb = result["n_test"], result[a][at], result[b][at]
    verdict = "same" if not differ(va, n, vb, n) else "more" if va > vb else "less"
    return {"row": k, "a": va, "b": vb, "gap": va - vb, "verdict": verdict}


def against_curve(result: dict, k: int, curve: list[float], n: int) -> dict:
    """The top-h probe after row k against another model's accuracy after k rows (`curve`, on `n` test digits):
    {"probe", "other", "verdict": "more", "less" or "same"}."""
    probe, other = result["probe_acc"][result["rows"].index(k)], curve[k - 1]
    verdict = "same" if not differ(probe, result["n_test"], other, n) else "more" if probe > other else "less"
    return {"row": k, "probe": probe, "other": other, "verdict": verdict}


def facts(result: dict, k: int, other: tuple[list[float], int] | None = None) -> dict:
    """Everything the pages say of a probes result, each comparison computed once: "row", the row asked about (`k`,
    or the last probed row when k was not probed); "top": compare_at(row, probe_acc, readout_acc), what the state
    holds against what the classifier reads; "every": compare_at(row, state_acc, probe_acc), what the lower layers and
    the cell state add; "beyond": the rows where the probe reads more than the classifier beyond the noise; "probed":
    how many rows were probed; "steps_per_row" and "steps": the steps the model reads per row and in all (28, 56 or
    112); "other": against_curve(row, *other) for another model's accuracy after k rows (`other`: its curve and test
    digits), else None."""
    row = k if k in result["rows"] else result["rows"][-1]
    against = {r: compare_at(result, r, "probe_acc", "readout_acc") for r in result["rows"]}  # each row compared once
    return {"row": row, "top": against[row], "every": compare_at(result, row, "state_acc", "probe_acc"),
            "beyond": [r for r, found in against.items() if found["verdict"] == "more"],
            "probed": len(result["rows"]), "steps_per_row": result.get("steps_per_row", 1),
            "steps": SIDE * result.get("steps_per_row", 1),
            "other": against_curve(result, row, *other) if other is not None else None}
