"""The row classifier: a recurrent network reads 28 lines of 28 pixels and classifies from its last output."""

from __future__ import annotations

import math

import torch
from torch import nn

from lib.data.mnist import normalize
from lib.data.orders import get_order
from lib.messages import N_
from lib.models.seeding import PrivateStream, draw_uniform

N_CLASSES = 10
LINE = 28  # pixels per line: every step reads one row (or column) of a 28 x 28 digit
RECURRENT = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # cell name -> torch module (see lib.models.families)
READOUTS = {"last": N_("the last step's output (the lesson)"), "mean": N_("the mean of every step's output"),
            "max": N_("the maximum of every step's output")}  # what a recurrent model classifies from


def model_input(images: torch.Tensor, order: str, gen: torch.Generator | None = None,
                index: torch.Tensor | None = None, steps_per_row: int = 1) -> torch.Tensor:
    """Every model's input contract: (B, 28, 28) uint8 digits -> lines in `order` -> normalised float32 (B, 28, 28).

    Training, evaluation and drawing all go through here, so a model sees its digits the same way everywhere.
    `gen` draws the per-image orders (the "random" order), or `index` (B, 28) gives them drawn ahead; the other
    orders ignore both. `steps_per_row` > 1 cuts each line into that many pieces, read one per step:
    (B, 28, 28) -> (B, 28 * p, 28 / p), the same pixels in the same order as a longer sequence.
    """
    lines = normalize(get_order(order).apply(images, gen, index))
    return lines if steps_per_row == 1 else lines.reshape(len(lines), -1, lines.shape[2] // steps_per_row)


class Classifier(nn.Module):
    """What every family's model has: a weight count and a seeded re-draw of its weights."""

    family = ""  # its lib.models.families registry name (what lib.experiments.internals.trace looks up), named by each class
    steps_per_row = 1  # steps it reads per line of the image (lib.models.nets.model_input)
    answers_each_step = False  # it has an answer after every step (step_logits): a one-way recurrent model

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def reset_parameters(self, seed: int) -> None:
        """PyTorch's default initialisation of every layer, drawn from the run's private stream seeded with `seed`
        (never from the process-wide stream other jobs' dropout draws from). It also un-ties the stacked encoder
        layers, which nn.TransformerEncoder creates as copies of one layer."""
        with PrivateStream(seed).active():
            for module in self.modules():
                reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
                if module is not self and reset is not None:
                    reset()
            for p in self.extra_parameters():
                nn.init.trunc_normal_(p, std=0.02)  # as ViT's class token and positions

    def extra_parameters(self) -> list[nn.Parameter]:
        """Parameters outside any layer (a class token, position embeddings)."""
        return []


class RowClassifier(Classifier):
    """Recurrent cell over the steps, then Linear(hidden -> 10) on the last step's output (the lesson's design).

    `readout` "mean" or "max" classifies from the mean or the maximum of every step's output instead; a
    `bidirectional` model also reads the lines from the last to the first, and its "last" output joins each
    direction's final one (the forward one after the last line, the backward one after the first).
    """

    def __init__(self, cell: str = "lstm", hidden: int = 100, layers: int = 2, dropout: float = 0.0, line: int = LINE,
                 readout: str = "last", bidirectional: bool = False):
        super().__init__()
        if cell not in RECURRENT:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(RECURRENT)}")
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; choose one of {', '.join(READOUTS)}")
        self.cell = self.family = cell  # each recurrent cell is a family of its own
        self.readout, self.steps_per_row = readout, LINE // line
        self.answers_each_step = not bidirectional  # a backward pass has read every line at every step
        self.rnn = RECURRENT[cell](line, hidden, num_layers=layers, batch_first=True,
                                  dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), N_CLASSES)

    def reset_parameters(self, seed: int) -> None:
        """Re-draw every weight from PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) with a private seeded generator."""
        draw_uniform(self, seed, 1.0 / math.sqrt(self.rnn.hidden_size))  # also Linear's default, its fan-in is H

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 28, 28) normalised lines -> (B, 28, H) top-layer outputs at every step."""
        out, _ = self.rnn(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, line) -> (B, 10) logits from the read-out of every step's output (the last one's, in the lesson)."""
        return self.read_out(self.outputs(x))

    def read_out(self, out: torch.Tensor) -> torch.Tensor:
        """(B, T, D) outputs of every step (D = H, or 2H both ways) -> (B, 10) logits, as the readout says."""
        if self.readout == "mean":
            return self.fc(out.mean(1))
        if self.readout == "max":
            return self.fc(out.amax(1))
        if self.rnn.bidirectional:  # forward direction after the last line, backward after the first: (B, 2H)
            hidden = self.rnn.hidden_size
            return self.fc(torch.cat([out[:, -1, :hidden], out[:, 0, hidden:]], 1))
        return self.fc(out[:, -1])

    def step_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, line) -> (B, T, 10): the answer after each step, what the read-out would say having read only the
        steps so far (the last step's output, or the running mean or maximum). One-way models only."""
        out = self.outputs(x)  # (B, T, H)
        if self.readout == "mean":
            out = out.cumsum(1) / torch.arange(1, out.shape[1] + 1, device=out.device, dtype=out.dtype)[:, None]
        elif self.readout == "max":
            out = out.cummax(1).values
        return self.fc(out)


class ConvClassifier(Classifier):
    """A small CNN over the whole image at once: two 3×3 conv + 2×2 pool stages (hidden/4 and hidden/2 channels),
    then `layers` 3×3 convs of `hidden` channels, the mean over positions and Linear(hidden -> 10). With the lesson's
    hidden 100 and 2 layers it has 147,760 weights, 10% more than the lesson's 2×100 LSTM (133,810). Every conv of a
    stage runs over all positions at once; nothing waits for the previous row. Any image size (the mean pools)."""

    family = "cnn"

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


class RowTransformer(Classifier):
    """Rows as tokens: each line of pixels embedded by one Linear(line -> hidden), a class token in front, a learned
    position embedding added (unless `positions` is False: then it sees a bag of rows and cannot know their order),
    `layers` pre-norm encoder layers with `heads` attention heads, and Linear(hidden -> 10) on the class token. All
    rows are read at once: a layer attends from every row to every other in one step."""

    family = "transformer"

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

    def extra_parameters(self) -> list[nn.Parameter]:
        return [self.cls] + ([self.pos] if self.pos is not None else [])

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, line) normalised lines -> (B, 1 + T, H): the class token, then each line embedded, plus positions."""
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), self.embed(x)], 1)
        return tokens + self.pos[:, :tokens.shape[1]] if self.pos is not None else tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, line) normalised lines -> (B, 10) logits."""
        return self.fc(self.norm(self.encoder(self.tokens(x))[:, 0]))  # the class token's output
