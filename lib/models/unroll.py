"""A recurrent layer taken apart: nn.LSTM, nn.GRU and nn.RNN recomputed step by step from their own weights.

PyTorch's recurrent modules run all steps inside one fused kernel and return only the top layer's outputs and the
last state. The experiments need what happens in between: the state of every layer after every step, kept in the
autograd graph (the gradient with respect to the hidden state at step t, lib.experiments.gradients), read out after
k rows (linear probes, lib.experiments.probes), and the two parts of a step timed apart (lib.experiments.parallel):

- the input projection, `x_t @ W_ih^T + b_ih` for every step t at once: one matrix multiply over all rows, since no
  row's projection needs another's;
- the recurrence, `h_{t-1} @ W_hh^T` and the cell's update: step t must wait for step t-1.

The formulas are PyTorch's own (torch.nn.LSTM / GRU / RNN documentation; gate order i, f, g, o for the LSTM and
r, z, n for the GRU); tests/test_unroll.py checks them against the modules. One-way models only, in eval mode (no
dropout between layers).
"""

from __future__ import annotations

import torch
from torch import nn


def kind(rnn: nn.RNNBase) -> str:
    """'lstm', 'gru' or 'rnn' (a tanh RNN); a ValueError for what cannot be taken apart here."""
    if rnn.bidirectional:
        raise ValueError("only a one-way recurrent model can be unrolled step by step")
    if isinstance(rnn, nn.LSTM):
        return "lstm"
    if isinstance(rnn, nn.GRU):
        return "gru"
    if isinstance(rnn, nn.RNN) and rnn.nonlinearity == "tanh":
        return "rnn"
    raise ValueError(f"cannot unroll {type(rnn).__name__}")


def weights(rnn: nn.RNNBase, layer: int) -> dict[str, torch.Tensor]:
    """One layer's w_ih (G·H, in), w_hh (G·H, H), b_ih and b_hh (G·H,), G = 4 (LSTM), 3 (GRU) or 1 (RNN)."""
    return {short: getattr(rnn, f"{name}_l{layer}") for short, name in
            (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}


def input_projection(w: dict[str, torch.Tensor], layer_in: torch.Tensor) -> torch.Tensor:
    """(B, T, in) -> (B, T, G·H): the input's part of every step, all steps at once (nothing here waits)."""
    return layer_in @ w["w_ih"].T + w["b_ih"]


def step(cell: str, w: dict[str, torch.Tensor], pre_t: torch.Tensor, h: torch.Tensor,
         c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One step of the recurrence: the input's part `pre_t` (B, G·H) and the previous state h (B, H) (and an
    LSTM's c) -> the new h (and c). This is the part that waits for the step before."""
    rec = h @ w["w_hh"].T + w["b_hh"]  # (B, G·H)
    if cell == "lstm":
        i, f, g, o = (pre_t + rec).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()  # the additive path: c_t = f ⊙ c_{t-1} + i ⊙ g
        return o.sigmoid() * c.tanh(), c
    if cell == "gru":
        x_r, x_z, x_n = pre_t.chunk(3, dim=1)
        h_r, h_z, h_n = rec.chunk(3, dim=1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return (1 - z) * n + z * h, None
    return (pre_t + rec).tanh(), None


def walk(rnn: nn.RNNBase, x: torch.Tensor):
    """Step after step over (B, T, line) inputs, yielding (t, hs, cs) after each step t (0-based): hs every layer's
    h (B, H), bottom first; cs an LSTM's cell states likewise, else None. Only the current state is kept, so a
    caller that reads each step and lets it go (the probes, over 10,000 digits at once) holds one step in memory:
    the input projection is taken step by step here too (all steps at once would be a (B, T, G·H) tensor)."""
    cell, hidden = kind(rnn), rnn.hidden_size
    w = [weights(rnn, layer) for layer in range(rnn.num_layers)]
    hs = [x.new_zeros(len(x), hidden) for _ in w]
    cs = [x.new_zeros(len(x), hidden) for _ in w] if cell == "lstm" else None
    for t in range(x.shape[1]):
        below = x[:, t]  # (B, line): the bottom layer reads the step's pixels
        for layer, wl in enumerate(w):
            pre_t = input_projection(wl, below)  # (B, G·H)
            hs[layer], c = step(cell, wl, pre_t, hs[layer], cs[layer] if cs else None)
            if cs is not None:
                cs[layer] = c
            below = hs[layer]  # the layer above reads this step's output (no dropout: eval mode)
        yield t, list(hs), list(cs) if cs is not None else None


def unroll(rnn: nn.RNNBase, x: torch.Tensor) -> dict[str, list]:
    """Every layer's state after every step of (B, T, line) inputs.

    {"h": [layer][t] -> (B, H), "c": the same for an LSTM's cell state, else None}; each tensor is a node of the
    autograd graph, so torch.autograd.grad can take the loss's gradient with respect to it. It computes in the
    module's own dtype (the gradients use a float64 copy: in a plain RNN they shrink past float32's range).
    """
    hs, cs = [[] for _ in range(rnn.num_layers)], None
    for _, h_t, c_t in walk(rnn, x):
        for layer, h in enumerate(h_t):
            hs[layer].append(h)
        if c_t is not None:
            cs = cs or [[] for _ in range(rnn.num_layers)]
            for layer, c in enumerate(c_t):
                cs[layer].append(c)
    return {"h": hs, "c": cs}
