"""The shipped models: an explicit registry of names and configs that `python -m lib.cli make-pretrained` trains.

The list is written out, model by model: adding a row order or a family to its registry adds no shipped model (that
needs hours of training, and a decision); the pages show what is shipped and train the rest on demand.

Every family's models are chosen on validation digits, never on the test set: each family gets the same budget,
its base config at TUNING_LRS (three Adam learning rates, at most EPOCHS epochs each), trained on 54,000 training
digits with the last 6,000 of the official training file held out, keeping the epoch with the best validation
accuracy; the rate whose run scored best on validation is the family's, and only then is the test set scored, once.
The two lesson models reproduce the source lesson's way instead (all 60,000 digits, the test set scored after every
epoch). The CNN and the Transformer keep the lesson's sizes (hidden 100, 2 layers).
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
EXTRA_SEEDS = (1, 2)  # with seed 0 (the shipped weights) three runs per row order, where they are trained
TUNING_LRS = (0.001, 0.003, 0.01)  # every tuned family's grid, the same for all
EPOCHS = 12  # every tuned family's epoch budget; the epoch kept is chosen on validation
# The shared config of the row-order experiment and every family: 2x128 (hidden 100 for the CNN and the
# Transformer), Adam with a one-cycle schedule, the last 6,000 training digits held out (validation 0.1) and the best
# epoch kept. Its learning rate is the family's tuned one.
STRONG = TrainConfig(hidden=128, layers=2, lr=0.003, optimizer="adam", scheduler="one-cycle", batch_size=128,
                     epochs=EPOCHS, clip=1.0, log_every=100, validation=0.1, keep="best")
BASES = {  # family -> the config its tuning runs and shipped models start from (the CNN and the Transformer at the
    # lesson's hidden 100: 147,760 and 169,310 weights, against the lesson's LSTM's 133,810)
    "lstm": STRONG, "gru": replace(STRONG, family="gru"), "rnn": replace(STRONG, family="rnn"),
    "cnn": replace(STRONG, family="cnn", hidden=100), "transformer": replace(STRONG, family="transformer", hidden=100)}
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


def _tuned(family: str, description: str, **changes) -> Spec:
    return Spec(description, replace(BASES[family], **changes), family)


SPECS: dict[str, Spec] = {
    LESSON_MODEL: Spec("The original lesson: 2×100 LSTM, SGD lr 0.1, batch 64, 10 epochs, top → bottom.",
                       preset("lesson", log_every=100)),
    **{f"lstm-{o}": _tuned("lstm", f"2×128 LSTM with Adam, read in the '{o}' order.", order=o)
       for o in ("forward", "reversed", "shuffled", "random", "columns")},
    EVERY_STEP_MODEL: Spec("The lesson's model and training, with the loss on the answer after every row: a lower "
                           "bound on what can be read after k rows.", preset("lesson", loss="every-step",
                                                                             log_every=100)),
    # Why only the last step? The same LSTM reading the rows another way (lib.experiments.readouts), in the order
    # that carries information and in the one that does not.
    "lstm-mean-forward": _tuned("lstm", "2×128 LSTM classifying from the mean of every step's output, read in the "
                                "'forward' order.", readout="mean", order="forward"),
    "lstm-mean-random": _tuned("lstm", "2×128 LSTM classifying from the mean of every step's output, read in the "
                               "'random' order.", readout="mean", order="random"),
    "lstm-max-forward": _tuned("lstm", "2×128 LSTM classifying from the max of every step's output, read in the "
                               "'forward' order.", readout="max", order="forward"),
    "lstm-max-random": _tuned("lstm", "2×128 LSTM classifying from the max of every step's output, read in the "
                              "'random' order.", readout="max", order="random"),
    "lstm-bi-forward": _tuned("lstm", "2×128 LSTM reading the lines both ways, in the 'forward' order.",
                              bidirectional=True, order="forward"),
    "lstm-bi-random": _tuned("lstm", "2×128 LSTM reading the lines both ways, in the 'random' order.",
                             bidirectional=True, order="random"),
    "gru-forward": _tuned("gru", "2×128 GRU with Adam, top → bottom."),
    "rnn-forward": _tuned("rnn", "2×128 plain tanh RNN with Adam, top → bottom."),
    # Why gates: the same digits read as 112 steps (each row in 4 pieces of 7 pixels), where the plain RNN's gradient
    # must travel four times as far (lib.experiments.gradients.LONG)
    "lstm-long-forward": _tuned("lstm", "2×128 LSTM reading each row in 4 pieces of 7 pixels: 112 steps.",
                                steps_per_row=4),
    "rnn-long-forward": _tuned("rnn", "2×128 plain tanh RNN reading each row in 4 pieces of 7 pixels: 112 steps.",
                               steps_per_row=4),
    **{f"cnn-{o}": _tuned("cnn", f"CNN (hidden 100, 2 layers: 147,760 weights) with Adam, lines in the '{o}' order.",
                          order=o) for o in FAMILY_ORDERS},
    **{f"transformer-{o}": _tuned("transformer", f"Transformer (rows as tokens, 2 layers of 100) with Adam, lines in "
                                  f"the '{o}' order.", order=o) for o in FAMILY_ORDERS},
    "transformer-bag-forward": _tuned("transformer", "Transformer without position embeddings: a bag of rows, which "
                                      "cannot know their order.", positions=False),
}
ROW_ORDER_MODELS = ("lstm-forward", "lstm-reversed", "lstm-shuffled", "lstm-random", "lstm-columns")  # the row-order
# experiment: one config in each order, each also trained with EXTRA_SEEDS


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
