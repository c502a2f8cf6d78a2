"""The recurrence taken apart (lib.models.unroll) is PyTorch's own: every layer's state after every step matches what
nn.LSTM / nn.GRU / nn.RNN return, the input projection of all rows at once is the one of each row, and the longer
reading (a row in 2 or 4 pieces) is the 28-row input reshaped."""

from __future__ import annotations

import pytest
import torch

from lib.data.orders import ORDERS
from lib.models.nets import RowClassifier, model_input
from lib.models.unroll import input_projection, kind, unroll, walk, weights

CELLS = ["lstm", "gru", "rnn"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers, line", [(1, 28), (3, 28), (2, 7)])
def test_every_layers_state_after_every_step_is_the_modules(cell, layers, line):
    torch.manual_seed(0)
    model = RowClassifier(cell, 9, layers, line=line).eval()
    x = torch.randn(4, 28 * 28 // line, line)
    out, last = model.rnn(x)  # out (B, T, H): the top layer; last: h_n (L, B, H) (and c_n for an LSTM)
    states = unroll(model.rnn, x)
    assert len(states["h"]) == layers and all(len(h) == x.shape[1] for h in states["h"])
    torch.testing.assert_close(torch.stack(states["h"][-1], 1), out, atol=1e-5, rtol=1e-5)
    h_n = last[0] if cell == "lstm" else last
    torch.testing.assert_close(torch.stack([h[-1] for h in states["h"]]), h_n, atol=1e-5, rtol=1e-5)
    if cell == "lstm":
        torch.testing.assert_close(torch.stack([c[-1] for c in states["c"]]), last[1], atol=1e-5, rtol=1e-5)
    else:
        assert states["c"] is None


def test_walk_yields_each_step_once_with_every_layer():
    model = RowClassifier("lstm", 5, 2).eval()
    seen = list(walk(model.rnn, torch.randn(3, 28, 28)))
    assert [t for t, _, _ in seen] == list(range(28))
    assert all(len(hs) == 2 and len(cs) == 2 and hs[0].shape == (3, 5) for _, hs, cs in seen)


def test_the_input_projection_of_all_rows_at_once_is_each_rows():
    """The part of a step that waits for nothing: one matrix multiply over every row gives what each row alone does."""
    model = RowClassifier("lstm", 6, 1).eval()
    x = torch.randn(2, 28, 28)
    w = weights(model.rnn, 0)
    at_once = input_projection(w, x)  # (B, 28, 4H)
    by_row = torch.stack([input_projection(w, x[:, t]) for t in range(28)], 1)
    torch.testing.assert_close(at_once, by_row)
    assert at_once.shape == (2, 28, 24)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("pieces", [2, 4])
def test_the_longer_reading_is_the_28_row_input_reshaped(order, pieces):
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    rows = model_input(images, order, torch.Generator().manual_seed(3))  # (B, 28, 28)
    long = model_input(images, order, torch.Generator().manual_seed(3), steps_per_row=pieces)  # (B, 28·p, 28/p)
    assert long.shape == (5, 28 * pieces, 28 // pieces)
    assert torch.equal(long, rows.reshape(5, 28 * pieces, 28 // pieces))
    assert torch.equal(long[:, :pieces].reshape(5, 28), rows[:, 0])  # the first row's pieces, in order


def test_what_cannot_be_unrolled_is_refused():
    assert kind(RowClassifier("gru", 3, 1).rnn) == "gru"
    with pytest.raises(ValueError, match="one-way"):
        kind(RowClassifier("lstm", 3, 1, bidirectional=True).rnn)
    with pytest.raises(ValueError, match="cannot unroll"):
        kind(torch.nn.RNN(3, 3, nonlinearity="relu"))
