"""Row orders: which line of the image the network reads at each of its 28 steps, as named index permutations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from lib.messages import N_

SIDE = 28  # MNIST images are 28 x 28: 28 steps of 28 pixels
# The one "shuffled" order, written out so it never depends on a random generator's version.
SHUFFLED = [13, 2, 25, 7, 19, 0, 22, 10, 4, 27, 16, 8, 21, 1, 12, 24, 6, 18, 3, 26, 11, 15, 9, 23, 5, 20, 14, 17]


def _fixed(perm: torch.Tensor) -> Callable[[int, torch.Generator | None], torch.Tensor]:
    return lambda n, gen: perm.view(1, SIDE)


def _per_image(n: int, gen: torch.Generator | None) -> torch.Tensor:
    # (n, 28): an independent random permutation of the 28 lines for every image
    return torch.argsort(torch.rand(n, SIDE, generator=gen), dim=1)


@dataclass(frozen=True)
class RowOrder:
    """A named way of turning an image into a sequence of 28 lines: everything about it lives in this one entry."""

    name: str
    title: str  # short label for widgets and legends (English source text, translated by the UI)
    explanation: str  # one sentence for students (likewise)
    axis: int  # 1: read rows, 2: read columns
    _index: Callable[[int, torch.Generator | None], torch.Tensor]
    color: str  # the order's colour in every chart (Okabe-Ito, safe for colour-blind readers)
    dash: str  # plotly line dash: a second cue beside the colour
    marker: str  # plotly marker symbol: a third cue, for bars and points

    @property
    def per_image(self) -> bool:
        """Whether every image gets its own order (the same image then reads differently each time)."""
        return self._index is _per_image

    def line_index(self, n: int = 1, gen: torch.Generator | None = None) -> torch.Tensor:
        """(1 or n, 28) long: the source row (or column) read at each step."""
        return self._index(n, gen)

    def apply(self, x: torch.Tensor, gen: torch.Generator | None = None,
              index: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 28, 28) images -> (B, 28, 28) sequences, step t holding the line this order reads at t.

        A per-image order draws its (B, 28) index from `gen`, or takes `index`, drawn ahead (training draws a
        whole epoch's at once and puts it on the device once: the same numbers, no host-to-device copy a step).
        """
        lines = x.transpose(1, 2) if self.axis == 2 else x
        if not self.per_image:
            return lines[:, self._fixed_index(x.device)]
        idx = (self.line_index(len(x), gen) if index is None else index).to(x.device)
        return lines[torch.arange(len(x), device=x.device)[:, None], idx]

    def _fixed_index(self, device: torch.device) -> torch.Tensor:
        """(28,) long: a fixed order's index on `device`, copied there once (not once per training step)."""
        key = (self.name, self.axis, self._index, str(device))
        if key not in _ON_DEVICE:
            _ON_DEVICE[key] = self.line_index(1)[0].to(device)
        return _ON_DEVICE[key]


_ON_DEVICE: dict[tuple, torch.Tensor] = {}  # (order, device) -> a fixed order's index there; 28 numbers each
_IDENTITY = torch.arange(SIDE)
ORDERS: dict[str, RowOrder] = {o.name: o for o in [
    RowOrder("forward", N_("top → bottom"),
             N_("Rows are read from the top of the digit to the bottom, as in the original lesson."),
             1, _fixed(_IDENTITY), "#0072B2", "solid", "circle"),
    RowOrder("reversed", N_("bottom → top"),
             N_("Rows are read from the bottom up: the same information, met in the opposite order."),
             1, _fixed(_IDENTITY.flip(0)), "#D55E00", "dash", "square"),
    RowOrder("shuffled", N_("shuffled (fixed)"),
             N_("Rows are read in one scrambled order, the same for every image, in training and testing."),
             1, _fixed(torch.tensor(SHUFFLED)), "#009E73", "dot", "diamond"),
    RowOrder("random", N_("random per image"),
             N_("Every image gets its own random row order, so the position of a row tells the network nothing."),
             1, _per_image, "#CC79A7", "dashdot", "triangle-up"),
    RowOrder("columns", N_("columns left → right"),
             N_("The digit is read one column per step, from left to right, instead of row by row."),
             2, _fixed(_IDENTITY), "#E69F00", "longdash", "x"),
]}


LESSON_ORDER = "forward"  # the lesson's order: the baseline the others are compared with


def get_order(name: str) -> RowOrder:
    """The registered order called `name`, or a ValueError listing the valid names."""
    try:
        return ORDERS[name]
    except KeyError:
        raise ValueError(f"unknown row order {name!r}; choose one of {', '.join(ORDERS)}") from None
