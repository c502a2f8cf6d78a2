"""The gradient through the steps (lib.experiments.gradients), checked against torch.autograd on PyTorch's own modules,
on a plain RNN whose decay is known in closed form, and the page's statements in both outcomes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lib.experiments import gradients as G
from lib.models.nets import RowClassifier

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny operations, one thread

CELLS = ["lstm", "gru", "rnn"]


def tiny_model(cell: str, seed: int = 0, layers: int = 2, line: int = 28) -> RowClassifier:
    torch.manual_seed(seed)
    return RowClassifier(cell, 6, layers, line=line).eval()


@pytest.mark.parametrize("cell", CELLS)
def test_input_gradients_match_autograd_through_the_fused_module(cell):
    model = tiny_model(cell)
    x, y = torch.randn(5, 28, 28), torch.arange(5)
    direct = x.double().requires_grad_(True)
    double = tiny_model(cell).double()
    (grad,) = torch.autograd.grad(F.cross_entropy(double(direct), y, reduction="sum"), direct)  # nn.LSTM/GRU/RNN
    ours = G.step_gradients(model, x, y)
    torch.testing.assert_close(ours["input"], grad.norm(dim=2), rtol=1e-6, atol=1e-12)
    assert ours["input"].shape == ours["hidden"].shape == (5, 28)


@pytest.mark.parametrize("cell", CELLS)
def test_state_gradients_match_autograd_on_a_run_continued_from_that_state(cell):
    """dL/dh_t of the top layer: PyTorch's module run to step t, its state made a leaf, then run on over the
    remaining steps; autograd's gradient with respect to that leaf is the one through the later steps. An LSTM's
    dL/dc_t also flows into h_t = o_t ⊙ tanh(c_t) at step t itself (backpropagation through time adds both):
    o_t = h_t / tanh(c_t), read from the module's own state."""
    model, x, y = tiny_model(cell).double(), torch.randn(3, 28, 28, dtype=torch.float64), torch.tensor([1, 4, 7])
    ours = G.step_gradients(tiny_model(cell), x, y)
    for t in (0, 9, 26, 27):
        _, state = model.rnn(x[:, :t + 1])
        leaves = [s.detach().requires_grad_(True) for s in (state if cell == "lstm" else (state,))]
        start = tuple(leaves) if cell == "lstm" else leaves[0]
        rest, _ = model.rnn(x[:, t + 1:], start) if t < 27 else (None, None)
        last = rest[:, -1] if rest is not None else leaves[0][-1]
        grads = torch.autograd.grad(F.cross_entropy(model.fc(last), y, reduction="sum"), leaves, allow_unused=True)
        d_h = grads[0][-1]  # (B, H): the top layer's
        torch.testing.assert_close(ours["hidden"][:, t], d_h.norm(dim=1), rtol=1e-6, atol=1e-12)
        if cell == "lstm":
            h, c = state[0][-1].detach(), state[1][-1].detach()
            through_c = grads[1][-1] if grads[1] is not None else torch.zeros_like(c)  # unused after the last step
            total = through_c + d_h * (h / c.tanh()) * (1 - c.tanh() ** 2)
            torch.testing.assert_close(ours["cell"][:, t], total.norm(dim=1), rtol=1e-6, atol=1e-12)


def linear_rnn(a: float) -> RowClassifier:
    """One tanh unit with recurrent weight `a`, reading nothing (input weights 0): h stays at 0, where tanh' = 1, so
    the gradient with respect to h_t is the last step's times a^(T − t), exactly."""
    model = RowClassifier("rnn", 1, 1).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.rnn.weight_hh_l0.fill_(a)
        model.fc.weight.fill_(1.0)
    return model


@pytest.mark.parametrize("a, vanishes", [(0.5, True), (1.0, False)])
def test_a_known_decay_and_both_outcomes_of_the_vanishing_statement(a, vanishes, tiny):
    x, y = torch.zeros(4, 28, 28), torch.zeros(4, dtype=torch.long)
    norms = G.step_gradients(linear_rnn(a), x, y)["hidden"]  # (B, 28)
    expected = norms[:, -1:] * a ** torch.arange(27, -1, -1, dtype=torch.float64)
    torch.testing.assert_close(norms, expected)
    result = G.summarise(norms, "hidden") | {"grad_rel": [1.0]}
    found = G.reach(result, "hidden")
    assert math.isclose(found["share"], a ** 27, rel_tol=1e-9) and found["vanishes"] is vanishes


def fake(first: float, spread: float, name: str = "grad") -> dict:
    """A result whose first step keeps `first` of the last step's gradient, its interval ± `spread` (×)."""
    return {f"{name}_rel": [first], f"{name}_rel_low": [first / spread], f"{name}_rel_high": [first * spread]}


def test_too_close_to_call_is_neither():
    assert G.reach(fake(0.01, 2.0))["vanishes"] is None
    assert G.reach(fake(0.001, 2.0))["vanishes"] is True and G.reach(fake(0.5, 2.0))["vanishes"] is False


def test_comparisons_name_a_tie_when_intervals_overlap():
    more = G.compare_reach(fake(1e-2, 1.5, "cell"), "cell", fake(1e-5, 1.5, "hidden"), "hidden")
    assert more["verdict"] == "more" and math.isclose(more["times"], 1000)
    assert G.compare_reach(fake(1e-5, 1.5), "grad", fake(1e-2, 1.5), "grad")["verdict"] == "less"
    assert G.compare_reach(fake(1e-2, 3.0), "grad", fake(2e-2, 3.0), "grad")["verdict"] == "tie"
    results = {"rnn": fake(1e-7, 2.0), "gru": fake(3e-7, 2.0), "lstm": fake(1e-3, 2.0)}
    assert G.least_reached(results) == ["rnn", "gru"] and G.least_reached({}) == []
    assert G.least_reached({"rnn": fake(1e-7, 1.1), "lstm": fake(1e-3, 1.1)}) == ["rnn"]


def test_a_whole_result_on_digits(tiny):
    model = tiny_model("lstm")
    out = G.gradients(model, tiny, digits=40, batch_size=20)
    assert out["steps"] == list(range(1, 29)) and out["n"] == 40 and out["family"] == "lstm"
    for name in ("grad", "hidden", "cell"):
        low, mid, high = out[f"{name}_low"], out[f"{name}_norm"], out[f"{name}_high"]
        assert len(mid) == 28 and all(a <= b <= c for a, b, c in zip(low, mid, high))
        assert math.isclose(out[f"{name}_rel"][-1], 1.0)  # each digit's last step over itself
    clip = G.clip_facts(out)
    assert clip["batches"] == G.CLIP_BATCHES and clip["threshold"] == G.CLIP_DEFAULT and clip["ratio"] >= 1
    assert 0 <= clip["over"] <= clip["batches"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), tiny_model("lstm").state_dict().values()))


@pytest.mark.slow  # 112 steps in float64, then 20 batches for the clipping figures
def test_a_longer_reading_has_four_steps_per_row(tiny):
    out = G.gradients(tiny_model("rnn", line=7), tiny, digits=20, batch_size=10)
    assert out["steps"] == list(range(1, 113)) and out["steps_per_row"] == 4 and "cell_norm" not in out


def test_models_that_read_all_at_once_or_both_ways_are_refused(tiny):
    with pytest.raises(ValueError, match="one-way"):
        G.gradients(RowClassifier("lstm", 4, 1, bidirectional=True), tiny)


def test_a_long_model_differing_from_its_twin_beyond_the_reading_is_named():
    from lib.experiments.gradients import long_setting_differences

    base = {"family": "lstm", "lr": 0.003, "epochs": 12, "steps_per_row": 1}
    cards = {"rnn-forward": {"config": {**base, "family": "rnn"}}, "lstm-forward": {"config": base},
             "rnn-long-forward": {"config": {**base, "family": "rnn", "steps_per_row": 4}},
             "lstm-long-forward": {"config": {**base, "steps_per_row": 4}}}
    assert long_setting_differences(cards) == []  # only the reading differs
    cards["lstm-long-forward"]["config"] |= {"lr": 0.001, "epochs": 8}
    assert long_setting_differences(cards) == ["epochs", "lr"]
    assert long_setting_differences({"rnn-forward": cards["rnn-forward"]}) == []  # no long model shipped
