"""The shipped models: one registry of names and configs that `python -m lib.cli make-pretrained` trains."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .orders import ORDERS
from .train import TrainConfig, preset

FOLDER = Path(__file__).resolve().parent.parent / "pretrained"
# One stronger shared config for the row-order experiment: 2x128 LSTM, Adam with a one-cycle schedule.
STRONG = TrainConfig(hidden=128, layers=2, lr=0.003, optimizer="adam", scheduler="one-cycle", batch_size=128,
                     epochs=12, clip=1.0, log_every=100)

SPECS: dict[str, tuple[str, TrainConfig]] = {  # name -> (description, config)
    "lesson-forward": ("The original lesson: 2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs, top → bottom.",
                       preset("lesson", log_every=100)),
    **{f"lstm-{order}": (f"2×128 LSTM with Adam, read in the '{order}' order.", replace(STRONG, order=order))
       for order in ORDERS},
    "lesson-every-step": ("The lesson's model and training, with the loss on the answer after every row: what can "
                          "be known after k rows.", preset("lesson", loss="every-step", log_every=100)),
    "gru-forward": ("2×128 GRU with Adam, top → bottom.", replace(STRONG, cell="gru")),
    "rnn-forward": ("2×128 plain tanh RNN with Adam, top → bottom.", replace(STRONG, cell="rnn", lr=0.001)),
}
