"""The row classifier: a recurrent network reads 28 lines of 28 pixels and classifies from its last output."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .data import normalize
from .messages import N_
from .orders import get_order

N_CLASSES = 10
LINE = 28  # pixels per line: every step reads one row (or column) of a 28 x 28 digit
CELLS = {  # registry: name -> (torch module, label for widgets: English source text, translated by the UI)
    "lstm": (nn.LSTM, N_("LSTM")),
    "gru": (nn.GRU, N_("GRU")),
    "rnn": (nn.RNN, N_("plain RNN (tanh)")),
}


def model_input(images: torch.Tensor, order: str, gen: torch.Generator | None = None,
                index: torch.Tensor | None = None) -> torch.Tensor:
    """Every model's input contract: (B, 28, 28) uint8 digits -> lines in `order` -> normalised float32 (B, 28, 28).

    Training, evaluation and drawing all go through here, so a model sees its digits the same way everywhere.
    `gen` draws the per-image orders (the "random" order), or `index` (B, 28) gives them drawn ahead; the other
    orders ignore both.
    """
    return normalize(get_order(order).apply(images, gen, index))


def draw_uniform(module: nn.Module, seed: int, bound: float) -> None:
    """Every parameter from U(-bound, bound), drawn from a private generator seeded with `seed` (never from the
    process-wide one that other jobs' dropout draws from)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)


class RowClassifier(nn.Module):
    """Recurrent cell over the 28 steps, then Linear(hidden -> 10) on the last step's output (the lesson's design)."""

    def __init__(self, cell: str = "lstm", hidden: int = 100, layers: int = 2, dropout: float = 0.0, line: int = LINE):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        self.cell = cell
        self.rnn = CELLS[cell][0](line, hidden, num_layers=layers, batch_first=True,
                                  dropout=dropout if layers > 1 else 0.0)
        self.fc = nn.Linear(hidden, N_CLASSES)

    def reset_parameters(self, seed: int) -> None:
        """Re-draw every weight from PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) with a private seeded generator."""
        draw_uniform(self, seed, 1.0 / math.sqrt(self.rnn.hidden_size))  # also Linear's default, its fan-in is H

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) normalised lines -> (B, 28, H) top-layer outputs at every step."""
        out, _ = self.rnn(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) -> (B, 10) logits from the last step only."""
        return self.fc(self.outputs(x)[:, -1])

    def step_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) -> (B, 28, 10): the classifier applied after each step (what it would say after k rows)."""
        return self.fc(self.outputs(x))

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class ConvClassifier(nn.Module):
    """A small CNN over the whole image at once: two 3×3 conv + 2×2 pool stages (hidden/4 and hidden/2 channels),
    then `layers` 3×3 convs of `hidden` channels, the mean over positions and Linear(hidden -> 10). With the lesson's
    hidden 100 and 2 layers it has 147,760 weights, 10 % more than the lesson's 2×100 LSTM (133,810). Every conv of a
    stage runs over all positions at once; nothing waits for the previous row. Any image size (the mean pools)."""

    def __init__(self, hidden: int = 100, layers: int = 2):
        super().__init__()
        widths, blocks, channels = [max(hidden // 4, 1), max(hidden // 2, 1)] + [hidden] * layers, [], 1
        for i, width in enumerate(widths):
            blocks += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()] + ([nn.MaxPool2d(2)] if i < 2 else [])
            channels = width
        self.features = nn.Sequential(*blocks)
        self.fc = nn.Linear(hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W) normalised lines, in the row order's arrangement -> (B, 10) logits."""
        return self.fc(self.features(x.unsqueeze(1)).mean((2, 3)))  # (B, 1, H, W) -> (B, C, H/4, W/4) -> (B, C)


class RowTransformer(nn.Module):
    """Rows as tokens: each line of pixels embedded by one Linear(line -> hidden), a class token in front, a learned
    position embedding added (unless `positions` is False: then it sees a bag of rows and cannot know their order),
    `layers` pre-norm encoder layers with `heads` attention heads, and Linear(hidden -> 10) on the class token. All
    rows are read at once: a layer attends from every row to every other in one step."""

    def __init__(self, hidden: int = 100, layers: int = 2, dropout: float = 0.0, positions: bool = True,
                 line: int = LINE, steps: int = LINE, heads: int = 4):
        super().__init__()
        self.embed = nn.Linear(line, hidden)
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden))
        self.pos = nn.Parameter(torch.zeros(1, steps + 1, hidden)) if positions else None
        layer = nn.TransformerEncoderLayer(hidden, heads, 2 * hidden, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)
        self.fc = nn.Linear(hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, line) normalised lines -> (B, 10) logits."""
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), self.embed(x)], 1)  # (B, 1 + T, H)
        if self.pos is not None:
            tokens = tokens + self.pos[:, :tokens.shape[1]]
        return self.fc(self.norm(self.encoder(tokens)[:, 0]))  # the class token's output


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
def trace(model: RowClassifier, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-step internals for (B, 28, 28) normalised sequences, as numpy arrays for plotting.

    probs (B, 28, 10): class probabilities after each step; hidden (B, 28, H): top layer's output;
    for LSTMs also input/forget/output gates and cell state, each (L, B, 28, H).
    """
    was_training = model.training
    model.eval()
    x = x.to(next(model.parameters()).device)
    out = model.outputs(x)
    result = {"probs": model.fc(out).softmax(-1), "hidden": out}
    if model.cell == "lstm":
        inside = lstm_internals(model.rnn, x)
        result.update({k: inside[k] for k in ("input", "forget", "output", "cell")})
    model.train(was_training)
    return {k: v.float().cpu().numpy() for k, v in result.items()}
