"""Device memory: what a training run needs at most (an estimate from its settings), what a GPU has free now, whether
a run fits beside the runs already training, and Apple's GPU's limit for this process.

The estimate is an upper bound, not a measurement: the weights with their gradients and optimizer state, plus what
autograd keeps for the backward pass of one batch (or the end-of-epoch scoring's larger batch), times a margin for
the allocator. The per-step factors were measured on the CPU, where PyTorch keeps more per step than cuDNN's reserve
space does (tests/test_memory.py checks the estimate covers what autograd really keeps there); on a GPU the figure is
high rather than low, so a run is never started beside others in memory it will not find. bench/device_check.py
compares the estimate with the peak a card really reached.
"""

from __future__ import annotations

import os
from functools import lru_cache

import torch

from lib.models.families import FAMILIES, HEADS, weight_count
from lib.training.config import TrainConfig, model_shape
from lib.training.optim import make_optimizer

FLOAT = 4  # bytes: every run trains in float32 on an accelerator
GB = 1e9  # what messages call a gigabyte
EVAL_BATCH = 1000  # lib.experiments.evaluate's batch: the end-of-epoch scoring runs it without gradients
# floats autograd keeps per layer, step, digit, hidden unit and direction for a recurrent layer's backward pass,
# measured on the CPU (PyTorch 2.14: LSTM 17.5, GRU 8.1, plain RNN 2.1) and rounded up
SAVED_PER_UNIT_STEP = {"lstm": 18, "gru": 9, "rnn": 3}
WORKSPACE = 64 * 2**20  # cuDNN's and cuBLAS's scratch space, the batch's indices, the loss
MARGIN = 1.25  # the caching allocator rounds and splits blocks; gradients of the activations exist for a moment
MPS_FRACTION = 1.0  # of Apple's recommended working set (PyTorch's default, 1.7, lets a big run swap the machine)
MPS_RATIO_VARIABLE = "PYTORCH_MPS_HIGH_WATERMARK_RATIO"  # set by hand, it wins over the setting
_mps_fraction: dict[str, float] = {}  # the fraction this process set on MPS, once it has


def estimate_bytes(cfg: TrainConfig) -> int:
    """The most device memory one training run of `cfg` should take at once, in bytes (an upper bound)."""
    shape = model_shape(cfg)
    params = weight_count(cfg.family, cfg.hidden, cfg.layers, cfg.positions, shape["line"], cfg.bidirectional)
    copies = 2 + optimizer_states(cfg.optimizer) + (cfg.keep == "best")  # weights, gradients, state, best epoch
    per_digit, per_digit_scoring = activation_floats(cfg)
    batch = max(cfg.batch_size * per_digit, EVAL_BATCH * per_digit_scoring)
    return int(MARGIN * FLOAT * (params * copies + batch) + WORKSPACE)


def activation_floats(cfg: TrainConfig) -> tuple[float, float]:
    """Floats kept per digit while training one batch (for the backward pass), and while scoring without gradients
    (one layer's output at a time)."""
    hidden, layers = cfg.hidden, cfg.layers
    if FAMILIES[cfg.family].recurrent:
        steps, line = 28 * cfg.steps_per_row, 28 // cfg.steps_per_row
        width = hidden * (2 if cfg.bidirectional else 1)  # both directions' outputs side by side
        kept = layers * steps * width * SAVED_PER_UNIT_STEP[cfg.family]
        answers = steps * 10 * 3 if cfg.loss == "every-step" else 10  # the logits, softmax and gradient
        training = kept + 2 * steps * width + 2 * steps * line + answers  # + top output and its gradient, input
        return training, 3 * steps * width + 2 * steps * line
    if cfg.family == "cnn":  # (B, C, H, W) maps: two conv + ReLU + 2×2 pool stages, then `layers` conv + ReLU
        quarter, half = max(hidden // 4, 1), max(hidden // 2, 1)
        maps = quarter * 784 * 2 + quarter * 196 * 2 + half * 196 * 2 + half * 49 * 2 + layers * hidden * 49 * 2
        return maps + 784 * 2, 2 * max(quarter * 784, half * 196, hidden * 49) + 784  # scoring: a stage at a time
    tokens = 29  # the Transformer's class token and 28 rows
    per_layer = tokens * (12 * hidden + 3 * HEADS * tokens)  # attention's q, k, v, scores; the MLP; norms
    return layers * per_layer + 3 * tokens * hidden + 784 * 2, 2 * per_layer + 784


@lru_cache(maxsize=None)
def optimizer_states(name: str) -> int:
    """How many tensors the size of the weights the optimizer keeps (Adam 2, SGD with momentum 1, SGD 0): found by
    letting it take one step on one weight, so a new registry entry needs no table here."""
    weight = torch.nn.Parameter(torch.zeros(3))
    weight.grad = torch.ones(3)
    opt = make_optimizer(name, [weight], 0.01, 0.9, 0.0)
    opt.step()
    return sum(isinstance(v, torch.Tensor) and v.shape == weight.shape for v in opt.state[weight].values())


def data_bytes(data) -> int:
    """Bytes the digits take on a device (lib.data.mnist.MnistData: images as uint8, labels as int64)."""
    return sum(t.numel() * t.element_size() for t in (data.train_x, data.train_y, data.test_x, data.test_y))


def device_memory(kind: str) -> tuple[int, int] | None:
    """(bytes this process could allocate on the device now, the device's total for this process); None for the
    CPU, whose memory the operating system shares out (a run out of it is reported, not foreseen)."""
    if kind == "cuda":
        free, total = torch.cuda.mem_get_info()
        cached = torch.cuda.memory_reserved() - torch.cuda.memory_allocated()  # freed blocks PyTorch keeps: ours
        return free + cached, total
    if kind == "mps" and hasattr(torch.mps, "recommended_max_memory"):  # PyTorch 2.5 and newer
        limit = int(torch.mps.recommended_max_memory() * _mps_fraction.get("mps", MPS_FRACTION))
        return max(0, limit - torch.mps.current_allocated_memory()), limit
    return None


def allocated(kind: str) -> int:
    """Bytes this process's tensors hold on the device now."""
    if kind == "cuda":
        return torch.cuda.memory_allocated()
    return torch.mps.current_allocated_memory() if kind == "mps" else 0


def room(free: int, committed: int, in_use: int) -> int:
    """Bytes a new run may count on: what is free now, less what the runs already training may still take. Their
    estimates (`committed`) are what they may grow to; `in_use` is what the process holds now (theirs, mostly)."""
    return free - max(0, committed - in_use)


def limit_mps_memory(fraction: float | None = None) -> float | None:
    """Cap this process's memory on Apple's GPU at `fraction` of its recommended working set (MPS_FRACTION when
    None), once, before a run allocates there; the fraction in force, or None when there is no MPS or when
    PYTORCH_MPS_HIGH_WATERMARK_RATIO was set by hand (then PyTorch's own reading of it applies)."""
    if os.environ.get(MPS_RATIO_VARIABLE) or not torch.backends.mps.is_available():
        return None
    wanted = MPS_FRACTION if fraction is None else fraction
    if fraction is not None or "mps" not in _mps_fraction:  # a setting replaces the default, the default fills in
        torch.mps.set_per_process_memory_fraction(wanted)
        _mps_fraction["mps"] = wanted
    return _mps_fraction["mps"]
