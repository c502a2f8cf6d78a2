"""The model families: one registry entry carries everything about a family, so adding one touches this file.

Every family reads the same input (lib.models.nets.model_input: 28 lines of 28 pixels, in the run's row order) and
answers with 10 logits; the entry says how it is built, which settings mean something for it, what Inspect can show
of it, and how it computes (one row after another, or all at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import torch
from torch import nn

from lib.messages import N_, NN_
from lib.models.nets import LINE, ConvClassifier, RowClassifier, RowTransformer

HEADS = 4  # a Transformer's attention heads: its hidden size must divide by this


@dataclass(frozen=True)
class Family:
    """One kind of model. Labels and summaries are English source text, translated by the UI."""

    label: str  # the family's name on widgets and charts
    summary: str  # how it reads a digit, in one sentence
    make: Callable[..., nn.Module]  # (hidden, layers, dropout, positions, line, steps) -> the model
    recurrent: bool  # reads one row after another: an answer after every row and a hidden state (its model has
    # outputs(x): (B, 28, line) -> (B, 28, H) and fc: H -> 10, which lib.experiments.internals.trace reads)
    options: tuple[str, ...] = ()  # settings beyond the shared ones that mean something for it (TrainConfig fields)
    panels: tuple[str, ...] = ()  # what Inspect shows of it: steps, hidden, gates, attention, features
    heads: int = 0  # attention heads; the hidden size must divide by it (0: no attention)
    mps_native: bool = True  # Apple's GPU has native kernels for it (GRU and plain RNN have none)
    color: str = "#0072B2"  # its colour on charts across pages (Okabe-Ito, told apart without colour vision too)
    # its shape in words, singular and plural by layers; {cell} its label, {n} layers, {hidden} the hidden size
    shape: tuple[str, str] = NN_("{cell} with {n} layer of {hidden} units", "{cell} with {n} layers of {hidden} units")
    size: tuple[str, str] = (N_("Hidden size"), N_("Hidden units per layer: the size of the memory passed from "
                                                    "one step to the next."))  # what its `hidden` setting is called,
    # and what it is, on the form
    built_for_images: bool = False  # its structure assumes what images are: nearby pixels belong together, and a
    # pattern means the same wherever it is (the Conclusion page's "why" says so when it wins or ties)
    measured: bool = True  # timed by the Conclusion page's sequential-against-parallel measurement (lib.experiments.scaling)
    # computations that must run one after another in a forward pass, for (image height, layers): lib.experiments.scaling
    sequential: Callable[[int, int, str], int] = lambda height, layers, device: layers  # (height, layers, device
    # type): layers that each see every position at once


def _waits_for_each_row(height: int, layers: int, device: str) -> int:
    """A recurrent layer's H steps each wait for the one before. On a CUDA GPU cuDNN overlaps stacked layers as a
    wavefront (layer 2 starts row 1 while layer 1 reads row 2): H + layers - 1; elsewhere (PyTorch's CPU and MPS
    kernels) each layer runs all its steps before the next layer starts: H × layers."""
    return height + layers - 1 if device == "cuda" else height * layers


def _recurrent(cell: str) -> Callable[..., nn.Module]:
    return lambda hidden, layers, dropout, positions, line=LINE, steps=LINE, readout="last", bidirectional=False: \
        RowClassifier(cell, hidden, layers, dropout, line, readout, bidirectional)


RECURRENT_OPTIONS = ("dropout", "loss", "readout", "bidirectional", "steps_per_row")  # what only a recurrent model has

FAMILIES: dict[str, Family] = {
    "lstm": Family(N_("LSTM"), N_("reads one row after another; gates decide what its memory keeps"),
                   _recurrent("lstm"), True, RECURRENT_OPTIONS, ("steps", "hidden", "gates"), color="#0072B2",
                   sequential=_waits_for_each_row),
    "gru": Family(N_("GRU"), N_("reads one row after another, with two gates instead of the LSTM's three"),
                  _recurrent("gru"), True, RECURRENT_OPTIONS, ("steps", "hidden"), mps_native=False,
                  color="#56B4E9", sequential=_waits_for_each_row),
    "rnn": Family(N_("plain RNN (tanh)"),
                  N_("reads one row after another; each step is one tanh update, with no gates"),
                  _recurrent("rnn"), True, RECURRENT_OPTIONS, ("steps", "hidden"), mps_native=False,
                  color="#009E73", sequential=_waits_for_each_row, measured=False),  # times like a GRU: left out
    "cnn": Family(N_("CNN"), N_("applies small 3×3 filters at every position of the image at once, then pools"),
                  lambda hidden, layers, dropout, positions, line=LINE, steps=LINE, **_: ConvClassifier(hidden, layers),
                  False, (), ("features",), color="#D55E00",
                  sequential=lambda height, layers, device: 2 + layers,  # two conv + pool stages, then `layers` convs
                  shape=NN_("{cell} with two convolution and pooling stages, then {n} convolution layer of {hidden} "
                            "channels",
                            "{cell} with two convolution and pooling stages, then {n} convolution layers of {hidden} "
                            "channels"),
                  built_for_images=True,
                  size=(N_("Channels"), N_("Channels of its last convolution layers; the two stages before them have "
                                           "a quarter and a half as many."))),
    "transformer": Family(N_("Transformer"), N_("reads all 28 rows at once; attention lets every row look at "
                                                "every other"),
                          lambda hidden, layers, dropout, positions, line=LINE, steps=LINE, **_: RowTransformer(
                              hidden, layers, dropout, positions, line, steps, HEADS),
                          False, ("dropout", "positions"), ("attention",), heads=HEADS, color="#CC79A7",
                          size=(N_("Model width"), N_("The length of every row's vector inside the model, shared by "
                                                      "its 4 attention heads (a multiple of 4)."))),
}


OPTIONAL = tuple(dict.fromkeys(o for f in FAMILIES.values() for o in f.options))  # settings only some families have


def family(name: str) -> Family:
    """The registry entry of `name` (a TrainConfig's `family`); a ValueError names the choices."""
    if name not in FAMILIES:
        raise ValueError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def make_model(name: str, hidden: int, layers: int, dropout: float = 0.0, positions: bool = True,
               line: int = LINE, steps: int = LINE, readout: str = "last", bidirectional: bool = False) -> nn.Module:
    """A family's model with PyTorch's own initial weights (build on the meta device when only shapes matter). Its
    class names its family (`model.family`), so what reads it (lib.internals.trace) asks the registry."""
    return family(name).make(hidden, layers, dropout, positions, line, steps, readout=readout,
                             bidirectional=bidirectional)


@lru_cache(maxsize=None)
def weight_count(name: str, hidden: int, layers: int, positions: bool = True, line: int = LINE,
                 bidirectional: bool = False) -> int:
    """How many weights a model of the family and size has (built once on the meta device: nothing is allocated)."""
    with torch.device("meta"):
        return make_model(name, hidden, layers, 0.0, positions, line, bidirectional=bidirectional).n_params


def uses(name: str, option: str) -> bool:
    """Whether a setting that only some families have (dropout, loss, positions) means something for `name`."""
    return option in family(name).options


def seeded(name: str, hidden: int, layers: int, dropout: float, positions: bool, seed: int, **shape) -> nn.Module:
    """A fresh model of the family, its weights fixed by `seed` and drawn from a private stream: built on the meta
    device first, so PyTorch's own initialisation draws nothing from the process-wide generator. `shape`: line,
    readout, bidirectional (lib.families.make_model)."""
    with torch.device("meta"):
        model = make_model(name, hidden, layers, dropout, positions, **shape)
    model = model.to_empty(device="cpu")
    model.reset_parameters(seed)
    return model
