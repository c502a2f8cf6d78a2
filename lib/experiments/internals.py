"""What happens inside a model as it reads one digit, per family, as numpy arrays for Inspect's charts.

A recurrent model has an answer and a hidden state after every row (an LSTM also its gates and cell state); a
Transformer has its attention, from the class token to each row, in every layer; a CNN its first layer's feature
maps. `trace` returns what the model's family has: its registry entry (lib.models.families) says whether it reads row by
row and which panels it has, and PANEL_ARRAYS says what each panel needs computed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lib.models.families import family
from lib.models.nets import ConvClassifier, RowClassifier, RowTransformer


def lstm_internals(lstm: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Recompute an nn.LSTM step by step from its own weights; each value is (L, B, T, H)."""
    hidden = lstm.hidden_size
    layer_in, result = x, {k: [] for k in ("input", "forget", "output", "candidate", "cell", "hidden")}
    for layer in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        h = x.new_zeros(len(x), hidden)
        c = x.new_zeros(len(x), hidden)
        steps = {k: [] for k in result}
        pre_in = layer_in @ w_ih.T + bias  # (B, T, 4H): the input part of every step at once
        for t in range(layer_in.shape[1]):
            i, f, g, o = (pre_in[:, t] + h @ w_hh.T).chunk(4, dim=1)  # PyTorch's gate order: i, f, g, o
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
            for k, v in zip(steps, (i, f, o, g, c, h)):
                steps[k].append(v)
        for k in result:
            result[k].append(torch.stack(steps[k], dim=1))  # (B, T, H)
        layer_in = result["hidden"][-1]  # no dropout: traces are taken in eval mode
    return {k: torch.stack(v) for k, v in result.items()}


@torch.no_grad()
def attention(model: RowTransformer, x: torch.Tensor) -> torch.Tensor:
    """(B, T, line) -> (L, B, T): how much the class token attends to each row in each layer (mean over heads)."""
    return encode(model, x)[1]


def encode(model: RowTransformer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder recomputed layer by layer from its own weights (pre-norm, as RowTransformer builds it, in eval
    mode): the top layer's tokens (B, 1 + T, H) and the class token's attention to each line in each layer (L, B, T).
    nn.TransformerEncoder's own forward does not return attention weights."""
    h, maps = model.tokens(x), []  # (B, 1 + T, H)
    for layer in model.encoder.layers:
        normed = layer.norm1(h)
        out, weights = layer.self_attn(normed, normed, normed, need_weights=True)  # weights (B, 1 + T, 1 + T)
        h = h + out
        h = h + layer.linear2(layer.activation(layer.linear1(layer.norm2(h))))
        maps.append(weights[:, 0, 1:])  # the class token's row -> each line (its attention to itself left out)
    return h, torch.stack(maps)


@torch.no_grad()
def feature_maps(model: ConvClassifier, x: torch.Tensor) -> torch.Tensor:
    """(B, 28, 28) -> (B, C, 28, 28): the first convolution's filters applied to the image, after ReLU."""
    return model.features[1](model.features[0](x.unsqueeze(1)))


def _gates(model: RowClassifier, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gates and cell state after each row (L, B, 28, H): with several steps per row, the row's last step."""
    inside, per_row = lstm_internals(model.rnn, x), model.steps_per_row
    return {k: inside[k][:, :, per_row - 1::per_row] for k in ("input", "forget", "output", "cell")}


PANEL_ARRAYS = {  # an Inspect panel (lib.models.families.Family.panels) -> the arrays it draws, beyond the answer
    "gates": _gates,  # input/forget/output gates and cell state, each (L, B, 28, H)
    "attention": lambda model, x: {"attention": attention(model, x)},  # (L, B, 28)
    "features": lambda model, x: {"features": feature_maps(model, x),  # (B, C, 28, 28)
                                  "filters": model.features[0].weight[:, 0]},  # (C, 3, 3)
}


@torch.no_grad()
def trace(model: nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """What the model's family shows of (B, 28, 28) normalised lines, as numpy arrays for plotting.

    Every family: probs (B, 10), its answer. A recurrent model that reads one way: probs (B, 28, 10) instead, the
    answer after each row (what its read-out says from the steps so far; with several steps per row, after the
    row's last one), and hidden (B, 28, H), the top layer's output there. One that reads both ways has no answer
    after k rows (it has read them all at every step): its one answer alone. Then what each of the family's panels
    draws (PANEL_ARRAYS). `model` comes from lib.models.families.make_model, which names its family.
    """
    entry, was_training = family(model.family), model.training
    model.eval()
    x = x.to(next(model.parameters()).device)
    per_row, panels = getattr(model, "steps_per_row", 1), entry.panels
    if entry.recurrent and model.answers_each_step:
        rows = slice(per_row - 1, None, per_row)  # the last step of each row
        result = {"probs": model.step_logits(x)[:, rows].softmax(-1), "hidden": model.outputs(x)[:, rows]}
    else:
        result, panels = {"probs": model(x).softmax(-1)}, () if entry.recurrent else panels
    for panel in panels:
        result.update(PANEL_ARRAYS[panel](model, x) if panel in PANEL_ARRAYS else {})
    model.train(was_training)
    return {k: v.float().cpu().numpy() for k, v in result.items()}
