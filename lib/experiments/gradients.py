"""Why the LSTM has gates, measured: how much the loss at the last step depends on each step, through the steps.

For a recurrent model and a fixed set of test digits, the loss at the last step (cross-entropy of the model's own
read-out) is differentiated with respect to each step's input x_t and to the top layer's hidden state h_t (and an
LSTM's cell state c_t), digit by digit, through lib.models.unroll. A plain RNN multiplies the gradient by its
recurrent weights and tanh's slope at every step back, so it can shrink by orders of magnitude over 28 steps, and
more over 112; an LSTM's cell state passes it back through the forget gate alone (c_t = f ⊙ c_{t-1} + i ⊙ g).
Freshly initialised, the decay is the cell's own; trained, a model may also have learned to forget rows that carry
nothing (the blank top rows). Plain data for the pages and `python -m lib.cli gradients MODEL --json`.

Each curve is the geometric mean over the digits of the per-digit gradient norm (the gradients span orders of
magnitude, so a log scale and its mean), with the 95% interval of that mean.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from lib.data.mnist import MnistData, stratified_indices
from lib.models.nets import RowClassifier, model_input
from lib.models.unroll import unroll
from lib.training.config import TrainConfig, build_model

DIGITS = 300  # test digits, balanced by class (30 each): the interval of a mean of log norms is then ~±0.05 decades
CLIP_BATCHES = 20  # training batches whose weight-gradient norm is compared with the clipping threshold
CLIP_DEFAULT = 1.0  # the threshold the shipped 2×128 models train with, used for a model trained without clipping
VANISH = 0.01  # the first step's gradient below 1% of the last step's: that step barely moves the weights
Z95 = 1.96
TINY = 1e-300  # an exact zero (underflow) counted as this, so its logarithm is finite
# The shipped models the pages compare: the three cells trained alike (2×128, Adam) reading 28 steps, and the plain
# RNN and the LSTM reading each row in 4 pieces of 7 pixels (112 steps), trained alike too (pretrained/ once shipped).
COMPARED = {"rnn": "rnn-forward", "gru": "gru-forward", "lstm": "lstm-forward"}
LONG = {"rnn": "rnn-long-forward", "lstm": "lstm-long-forward"}


def _mean_and_interval(logs: torch.Tensor) -> tuple[list[float], list[float], list[float]]:
    """(B, T) base-10 logarithms -> per step 10 ** their mean over digits, and its 95% interval (low, high)."""
    mean, half = logs.mean(0), Z95 * logs.std(0) / math.sqrt(len(logs))
    return [(10 ** v).tolist() for v in (mean, mean - half, mean + half)]


def summarise(norms: torch.Tensor, name: str) -> dict[str, list[float]]:
    """(B, T) per-digit norms -> per step their geometric mean over digits ("NAME_norm") and its 95% interval
    ("NAME_low", "NAME_high"), and the same of each digit's norm divided by its own norm at the last step
    ("NAME_rel", "NAME_rel_low", "NAME_rel_high"): how much of the last step's gradient reaches step t, paired
    digit by digit, so its interval is narrow even where digits' gradients differ a thousandfold."""
    logs = norms.clamp_min(TINY).log10()  # (B, T)
    out = dict(zip((f"{name}_norm", f"{name}_low", f"{name}_high"), _mean_and_interval(logs)))
    return out | dict(zip((f"{name}_rel", f"{name}_rel_low", f"{name}_rel_high"),
                          _mean_and_interval(logs - logs[:, -1:])))


def _gradient_digits(data: MnistData, digits: int, seed: int) -> torch.Tensor:
    return stratified_indices(data.test_y, digits, seed)


def step_gradients(model: RowClassifier, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-digit gradient norms of the loss at the last step, (B, T) each: "input" with respect to each step's input
    x_t, "hidden" to the top layer's h_t (which reaches the loss only through the later steps, and the read-out),
    and for an LSTM "cell" to its c_t (through c_{t+1} and through h_t = o_t ⊙ tanh(c_t): backpropagation through
    time adds both); and "logits" (B, 10), the answers.

    The model is copied to float64 (a plain RNN's gradients shrink past float32's range); the loss is summed over
    the digits, so each digit's gradient is its own loss's (no digit's loss depends on another's input or state)."""
    model = copy.deepcopy(model).cpu().double().eval()  # the caller's model (maybe shared) is left as it is
    x = x.double().requires_grad_(True)  # (B, T, line)
    states = unroll(model.rnn, x)
    top_h = states["h"][-1]  # T tensors (B, H)
    top_c = states["c"][-1] if states["c"] is not None else []
    logits = model.read_out(torch.stack(top_h, 1))  # (B, 10)
    grads = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), [x, *top_h, *top_c])
    out = {"logits": logits.detach(), "input": grads[0].norm(dim=2),  # (B, T): one norm per digit and step
           "hidden": torch.stack([g.norm(dim=1) for g in grads[1:1 + len(top_h)]], 1)}
    if top_c:
        out["cell"] = torch.stack([g.norm(dim=1) for g in grads[1 + len(top_h):]], 1)
    return out


def clipping(model: RowClassifier, data: MnistData, order: str, threshold: float, batch_size: int,
             batches: int | None = None, seed: int = 0) -> dict:
    """The norm of the weights' gradient (the mean loss over a batch of training digits, as training takes it) for
    `batches` batches, against the clipping threshold: how often clipping would act, and by how much at most."""
    batches = batches or CLIP_BATCHES  # read at the call, so a test can make it small
    model = copy.deepcopy(model).cpu().float().eval()  # eval: no dropout, so every batch is measured alike
    idx = stratified_indices(data.train_y, batches * batch_size, seed)
    norms = []
    for start in range(0, batches * batch_size, batch_size):
        chunk = idx[start:start + batch_size]
        x = model_input(data.train_x[chunk], order, torch.Generator().manual_seed(seed + start),
                        steps_per_row=model.steps_per_row)
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), data.train_y[chunk]).backward()
        norms.append(math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters()
                                   if p.grad is not None)))
    norms.sort()
    return {"threshold": threshold, "batch_size": batch_size, "batches": len(norms),
            "over": sum(v > threshold for v in norms), "median": norms[len(norms) // 2], "max": norms[-1]}


def gradients(model: RowClassifier, data: MnistData, order: str = "forward", digits: int = DIGITS, seed: int = 0,
              clip: float = 0.0, batch_size: int = 128) -> dict:
    """The gradient through the steps for `digits` test digits read in `order`, as plain data:
    {"steps": [1..T], "grad_norm": [...] (input, one per step), "grad_low"/"grad_high" (its 95% interval),
    "hidden_norm" (+ low/high), "cell_norm" (+ low/high, LSTM only), "steps_per_row", "n", "loss", "acc",
    "clip": clipping()}. `clip` is the model's own threshold (0: it trained without; CLIP_DEFAULT is shown then)."""
    if not isinstance(model, RowClassifier) or model.rnn.bidirectional:
        raise ValueError("gradients through the steps need a one-way recurrent model (LSTM, GRU or plain RNN)")
    idx = _gradient_digits(data, digits, seed)
    per_row = model.steps_per_row
    x = model_input(data.test_x[idx], order, torch.Generator().manual_seed(seed), steps_per_row=per_row)
    y = data.test_y[idx]
    norms = step_gradients(model, x, y)
    logits = norms["logits"]
    out = {"family": model.family, "steps": list(range(1, x.shape[1] + 1)), "steps_per_row": per_row,
           "n": len(idx), "order": order, "loss": F.cross_entropy(logits, y).item(), "init": False,
           "acc": (logits.argmax(1) == y).double().mean().item()}
    for key, name in (("input", "grad"), ("hidden", "hidden"), ("cell", "cell")):
        if key in norms:
            out |= summarise(norms[key], name)
    out["clip"] = clipping(model, data, order, clip or CLIP_DEFAULT, batch_size, seed=seed)
    return out


def of_model(model: RowClassifier, config: dict, data: MnistData, init: bool = False, digits: int = DIGITS) -> dict:
    """gradients() of a saved model as it was trained (its card's `config`: order, clipping, batch size), or with
    `init` of its initial weights: a fresh model of the same config and seed, the weights its training began from."""
    cfg = TrainConfig.from_dict(config)
    net = build_model(cfg).eval() if init else model
    return gradients(net, data, cfg.order, digits, clip=cfg.clip, batch_size=cfg.batch_size) | {"init": init}


def reach(result: dict, name: str = "grad") -> dict:
    """How much of the last step's gradient reaches the first step (`name`: grad, hidden or cell): "share", its 95%
    interval "low"/"high", and "vanishes": True when even the interval's top is below VANISH, False when its bottom
    is at or above it, None when VANISH lies inside the interval (too close to call)."""
    share, low, high = (result[f"{name}_rel{suffix}"][0] for suffix in ("", "_low", "_high"))
    return {"share": share, "low": low, "high": high,
            "vanishes": True if high < VANISH else False if low >= VANISH else None}


def compare_reach(a: dict, name_a: str, b: dict, name_b: str) -> dict:
    """Whether `a`'s `name_a` gradient keeps more of itself back to the first step than `b`'s `name_b`:
    {"times": a's share over b's, "verdict": "more", "less", or "tie" when their 95% intervals overlap}."""
    ra, rb = reach(a, name_a), reach(b, name_b)
    verdict = "more" if ra["low"] > rb["high"] else "less" if ra["high"] < rb["low"] else "tie"
    return {"times": ra["share"] / rb["share"], "verdict": verdict, "a": ra["share"], "b": rb["share"]}


def least_reached(results: dict[str, dict], name: str = "grad") -> list[str]:
    """The names (keys of `results`) whose first step gets the smallest share of the last step's gradient, with every
    one whose 95% interval overlaps the smallest's (a tie); [] without results."""
    if not results:
        return []
    found = {k: reach(r, name) for k, r in results.items()}
    lowest = min(found, key=lambda k: found[k]["share"])
    return [k for k, f in found.items() if f["low"] <= found[lowest]["high"]]


def clip_facts(result: dict) -> dict:
    """The clipping figures of a result: threshold, batches, over (how many exceeded it), max, median, and
    "ratio", the largest norm over the median one (how unevenly the batches pull)."""
    clip = result["clip"]
    return clip | {"ratio": clip["max"] / clip["median"] if clip["median"] else float("inf")}


def long_setting_differences(cards: dict[str, dict]) -> list[str]:
    """The training settings, beyond the reading itself (steps_per_row), in which a shipped long model's card differs
    from its 28-step twin's (both in `cards`, name -> card), sorted: what else could explain their difference."""
    return sorted({k for f, long in LONG.items() if COMPARED[f] in cards and long in cards
                   for k, v in cards[long]["config"].items()
                   if k != "steps_per_row" and cards[COMPARED[f]]["config"].get(k) != v})
