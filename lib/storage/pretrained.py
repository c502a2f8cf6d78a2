"""The shipped models: an explicit registry of names and configs that `python -m lib.cli make-pretrained` trains.

The list is written out, model by model: adding a row order or a family to its registry adds no shipped model (that
needs hours of training, and a decision); the pages show what is shipped and train the rest on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from lib import ROOT
from lib.storage.checkpoints import CheckpointError, parse_card
from lib.training.config import TrainConfig
from lib.training.presets import preset

FOLDER = ROOT / "pretrained"
SEED_FOLDER = FOLDER / "seeds"  # cards (no weights) of the same configs trained with other seeds: the spread
TUNING_FOLDER = FOLDER / "tuning"  # one record per tuning run: its config and validation history, no test score
CACHE_FOLDER = FOLDER / ".cache"  # git-ignored: a tuning run's weights, reused when its config is the one shipped
EXTRA_SEEDS = (1, 2)  # with seed 0 (the shipped weights) three runs per row order
TUNING_LRS = (0.001, 0.003, 0.01)  # every tuned family's grid, the same for all
# One stronger shared config for the row-order experiment: 2x128 LSTM, Adam with a one-cycle schedule.
# validation=0.0: these were trained on all 60,000 digits, the test set scored after each epoch (as the lesson did).
STRONG = TrainConfig(hidden=128, layers=2, lr=0.003, optimizer="adam", scheduler="one-cycle", batch_size=128,
                     epochs=12, clip=1.0, log_every=100, validation=0.0)
# The lesson's conclusion across families (views/conclusion.py): the lesson's sizes (hidden 100, 2 layers) for the
# CNN and the Transformer, trained like STRONG; a Transformer learns slower, so it gets more epochs.
CNN = replace(STRONG, family="cnn", hidden=100, lr=0.003, epochs=8)
TRANSFORMER = replace(STRONG, family="transformer", hidden=100, lr=0.002, epochs=15)
FAMILY_ORDERS = ("forward", "shuffled", "random")  # the orders each family of the Conclusion's table is shipped in
LESSON_MODEL = "lesson-forward"  # its model, retrained here
EVERY_STEP_MODEL = "lesson-every-step"  # the same, trained with a loss on the answer after every row


@dataclass(frozen=True)
class Spec:
    """One shipped model: a sentence saying what it is, and its config; `family` set means its learning rate is the
    family's tuned one (tuned_lr), `config` being its base."""

    description: str
    config: TrainConfig
    family: str = ""  # "" = the config is complete as it is


SPECS: dict[str, Spec] = {
    LESSON_MODEL: Spec("The original lesson: 2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs, top → bottom.",
                       preset("lesson", log_every=100)),
    "lstm-forward": Spec("2×128 LSTM with Adam, read in the 'forward' order.", STRONG),
    "lstm-reversed": Spec("2×128 LSTM with Adam, read in the 'reversed' order.", replace(STRONG, order="reversed")),
    "lstm-shuffled": Spec("2×128 LSTM with Adam, read in the 'shuffled' order.", replace(STRONG, order="shuffled")),
    "lstm-random": Spec("2×128 LSTM with Adam, read in the 'random' order.", replace(STRONG, order="random")),
    "lstm-columns": Spec("2×128 LSTM with Adam, read in the 'columns' order.", replace(STRONG, order="columns")),
    EVERY_STEP_MODEL: Spec("The lesson's model and training, with the loss on the answer after every row: a lower "
                           "bound on what can be read after k rows.", preset("lesson", loss="every-step",
                                                                             log_every=100)),
    "gru-forward": Spec("2×128 GRU with Adam, top → bottom.", replace(STRONG, family="gru")),
    "rnn-forward": Spec("2×128 plain tanh RNN with Adam, top → bottom.", replace(STRONG, family="rnn", lr=0.001)),
    "cnn-forward": Spec("CNN (hidden 100, 2 layers: 147,760 weights) with Adam, lines in the 'forward' order.", CNN),
    "cnn-shuffled": Spec("CNN (hidden 100, 2 layers: 147,760 weights) with Adam, lines in the 'shuffled' order.",
                         replace(CNN, order="shuffled")),
    "cnn-random": Spec("CNN (hidden 100, 2 layers: 147,760 weights) with Adam, lines in the 'random' order.",
                       replace(CNN, order="random")),
    "transformer-forward": Spec("Transformer (rows as tokens, 2 layers of 100) with Adam, lines in the 'forward' "
                                "order.", TRANSFORMER),
    "transformer-shuffled": Spec("Transformer (rows as tokens, 2 layers of 100) with Adam, lines in the 'shuffled' "
                                 "order.", replace(TRANSFORMER, order="shuffled")),
    "transformer-random": Spec("Transformer (rows as tokens, 2 layers of 100) with Adam, lines in the 'random' "
                               "order.", replace(TRANSFORMER, order="random")),
    "transformer-bag-forward": Spec("Transformer without position embeddings: a bag of rows, which cannot know their "
                                    "order.", replace(TRANSFORMER, positions=False)),
}
ROW_ORDER_MODELS = ("lstm-forward", "lstm-reversed", "lstm-shuffled", "lstm-random", "lstm-columns")  # the row-order
# experiment: one config in each order, each also trained with EXTRA_SEEDS


BASES: dict[str, TrainConfig] = {}  # family -> the config its tuning runs start from (none tuned yet)


def tuning_name(family: str, lr: float) -> str:
    """A tuning run's name: lstm, 0.003 -> lstm-lr0.003."""
    return f"{family}-lr{lr:g}"


def tuning_records(folder: Path = TUNING_FOLDER) -> dict[str, dict]:
    """name -> the record of every finished tuning run in `folder` (lib.storage.shipping writes them)."""
    records = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return records


def tuned_lr(family: str, records: dict[str, dict]) -> float | None:
    """The learning rate of `family`'s tuning run with the best validation accuracy (the smaller rate on a tie), or
    None while one of its runs is missing."""
    runs = [records.get(tuning_name(family, lr)) for lr in TUNING_LRS]
    if any(r is None for r in runs):
        return None
    best = max(runs, key=lambda r: (r.get("best_val_acc") or -1.0, -r["config"]["lr"]))
    return best["config"]["lr"]


def resolved(name: str, records: dict[str, dict]) -> TrainConfig | None:
    """A shipped model's complete config, its family's tuned learning rate filled in (None until it is tuned)."""
    spec = SPECS[name]
    if not spec.family:
        return spec.config
    lr = tuned_lr(spec.family, records)
    return None if lr is None else replace(spec.config, lr=lr)


def seed_name(name: str, seed: int) -> str:
    """The card name of a shipped config trained with another seed: lstm-forward, 1 -> lstm-forward-seed1."""
    return name if seed == 0 else f"{name}-seed{seed}"


def seed_cards(folder: Path = SEED_FOLDER) -> dict[str, dict]:
    """name -> card of every run in pretrained/seeds/ (same configs as the shipped ones, other seeds); a file that
    is not a valid card is skipped, as a broken shipped model is."""
    cards = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            cards[path.stem] = parse_card(path.read_bytes())
        except (CheckpointError, ValueError, OSError):
            continue
    return cards
