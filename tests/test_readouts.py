"""Read-outs, reading both ways, longer sequences and the best validation epoch: settings of the recurrent families
(lib.models.nets.RowClassifier, lib.training.config), refused where they mean nothing, and the same model as the
lesson's when left at their defaults."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from lib.data.mnist import normalize
from lib.experiments.evaluate import evaluate
from lib.messages import Problem
from lib.models.families import FAMILIES
from lib.models.nets import RowClassifier, model_input
from lib.storage.checkpoints import from_bytes, to_bytes
from lib.training.config import TrainConfig, build_model
from lib.training.fit import fit
from lib.training.train import split_validation

TINY = TrainConfig(hidden=8, layers=2, epochs=2, batch_size=50, device="cpu", optimizer="adam", lr=0.01)
ONE_WAY = [name for name, f in FAMILIES.items() if f.recurrent]
WHOLE = [name for name, f in FAMILIES.items() if not f.recurrent]


@pytest.mark.parametrize("readout", ["last", "mean", "max"])
@pytest.mark.parametrize("both_ways", [False, True])
def test_every_read_out_answers_with_ten_logits(readout, both_ways):
    model = RowClassifier("lstm", 12, 2, readout=readout, bidirectional=both_ways)
    x = torch.randn(5, 28, 28)
    assert model(x).shape == (5, 10)
    assert model.answers_each_step is not both_ways  # a backward pass has read every row at every step
    if not both_ways:
        steps = model.step_logits(x)  # (B, 28, 10): what the read-out says having read k rows
        assert steps.shape == (5, 28, 10) and torch.allclose(steps[:, -1], model(x), atol=1e-6)


def test_the_default_read_out_is_the_lessons_model():
    """readout=last, one way: the classifier reads the last step's output, exactly as before these settings."""
    model = build_model(TrainConfig(hidden=16, seed=3))
    x = torch.randn(4, 28, 28)
    out, _ = model.rnn(x)
    assert torch.equal(model(x), model.fc(out[:, -1]))
    assert model.fc.in_features == 16 and not model.rnn.bidirectional


def test_mean_and_max_read_the_steps_so_far():
    model = RowClassifier("gru", 6, 1, readout="mean")
    x = torch.randn(2, 28, 28)
    out, _ = model.rnn(x)
    assert torch.allclose(model.step_logits(x)[:, 9], model.fc(out[:, :10].mean(1)), atol=1e-6)
    model.readout = "max"
    assert torch.allclose(model.step_logits(x)[:, 9], model.fc(out[:, :10].amax(1)), atol=1e-6)


def test_both_ways_joins_each_directions_final_output():
    model = RowClassifier("lstm", 5, 1, bidirectional=True)
    x = torch.randn(3, 28, 28)
    out, (h_n, _) = model.rnn(x)  # h_n (2, B, H): forward after the last line, backward after the first
    assert torch.allclose(model(x), model.fc(torch.cat([h_n[0], h_n[1]], 1)), atol=1e-6)


@pytest.mark.parametrize("per_row", [2, 4])
def test_a_longer_reading_is_the_same_pixels_reshaped(per_row):
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    rows = model_input(images, "reversed")
    longer = model_input(images, "reversed", steps_per_row=per_row)
    assert longer.shape == (6, 28 * per_row, 28 // per_row)
    assert torch.equal(longer.reshape(6, 28, 28), rows) and torch.equal(rows, normalize(images.flip(1)))


@pytest.mark.parametrize("per_row", [2, 4])
def test_a_longer_reading_trains_and_reports_the_answer_after_each_row(tiny, per_row):
    cfg = replace(TINY, steps_per_row=per_row, layers=1).validate()
    fitted = fit(cfg, tiny)
    assert fitted.model.rnn.input_size == 28 // per_row and len(fitted.scores["acc_by_rows"]) == 28


@pytest.mark.parametrize("family", WHOLE)
@pytest.mark.parametrize("setting", [{"readout": "mean"}, {"bidirectional": True}, {"steps_per_row": 2}])
def test_families_that_read_all_rows_at_once_refuse_them(family, setting):
    with pytest.raises(Problem, match="does not apply"):
        TrainConfig(family=family, hidden=16, **setting).validate()


def test_combinations_that_cannot_work_are_refused():
    with pytest.raises(Problem, match="needs validation digits"):
        TrainConfig(keep="best", validation=0.0).validate()
    with pytest.raises(Problem, match="reads one way"):
        TrainConfig(bidirectional=True, loss="every-step").validate()
    with pytest.raises(Problem, match="steps per row"):
        TrainConfig(steps_per_row=3).validate()


def test_old_cards_and_links_load_as_the_lessons_read_out():
    old = {"family": "lstm", "hidden": 8, "layers": 1}  # written before these settings existed
    cfg = TrainConfig.from_dict(old)
    assert (cfg.readout, cfg.bidirectional, cfg.steps_per_row, cfg.keep) == ("last", False, 1, "last")


@pytest.mark.parametrize("family", ONE_WAY)
def test_a_both_ways_model_saves_and_loads(family, tiny):
    cfg = replace(TINY, family=family, bidirectional=True, readout="max", epochs=1).validate()
    fitted = fit(cfg, tiny)
    assert fitted.scores["acc_by_rows"] is None  # no answer after k rows: it has read them all
    model, card = from_bytes(*to_bytes(fitted.model, {"format": "row-by-row/1", "config": cfg.to_dict()}))
    x = model_input(tiny.test_x[:4], "forward")
    assert torch.equal(model(x), fitted.model.eval()(x)) and card["config"]["bidirectional"]


def test_keeping_the_best_validation_epoch_restores_its_weights(tiny):
    """Early stopping: with keep=best the run ends with the weights of its best validation epoch, which scores on
    the held-out digits exactly what that epoch scored."""
    cfg = replace(TINY, epochs=4, lr=0.05, validation=0.2, keep="best").validate()
    fitted = fit(cfg, tiny)
    epochs, end = [e for e in fitted.events if e["event"] == "epoch"], fitted.end
    best = max(epochs, key=lambda e: e["val_acc"])
    assert end["kept_epoch"] == best["epoch"] and end["kept_val_acc"] == best["val_acc"]
    from lib.data.mnist import stratified_indices
    _, held = split_validation(stratified_indices(tiny.train_y, cfg.subset, cfg.seed), cfg.validation)
    again = evaluate(fitted.model, tiny, cfg.order, seed=cfg.seed, indices=held)
    assert again["acc"] == pytest.approx(best["val_acc"])


def test_a_card_keeps_each_test_digits_answer(tiny):
    cfg = replace(TINY, epochs=1, validation=0.0)
    fitted = fit(cfg, tiny)
    from lib.storage.checkpoints import card_from_run
    card = card_from_run("t", cfg, fitted.scores, tiny.describe(), fitted.events, fitted.seconds)
    answers = card["metrics"]["predictions"]
    assert len(answers) == len(tiny.test_y) and set(answers) <= set("0123456789")
    assert sum(int(a) == y for a, y in zip(answers, tiny.test_y.tolist())) / len(answers) == \
        pytest.approx(card["metrics"]["acc"])


def _metrics(acc, by_rows=None, predictions=None):
    return {"acc": acc, "n": 10000, "acc_by_rows": by_rows, **({"predictions": predictions} if predictions else {})}


def test_whether_the_mean_keeps_the_early_rows_is_a_test_either_way():
    from lib.experiments.readouts import early_answers, readout_table
    rows_last, rows_mean = [0.1] * 13 + [0.60] + [0.99] * 14, [0.1] * 13 + [0.80] + [0.99] * 14
    cards = {"lstm-forward": {"metrics": _metrics(0.993, rows_last)},
             "lstm-mean-forward": {"metrics": _metrics(0.992, rows_mean)}}
    found = early_answers(readout_table(cards))
    assert found == {"variant": 0.80, "last": 0.60, "rows": 14, "differ": True, "higher": True}
    cards["lstm-mean-forward"]["metrics"]["acc_by_rows"] = [0.1] * 13 + [0.605] + [0.99] * 14
    assert not early_answers(readout_table(cards))["differ"]
    assert early_answers(readout_table({"lstm-forward": cards["lstm-forward"]})) is None  # not shipped yet
    assert readout_table({})["digits"] == 0  # nothing shipped: no count to draw
    cards["lstm-mean-forward"]["metrics"]["n"] = 2000  # scored on fewer digits: the chart says the fewest
    assert readout_table(cards)["digits"] == 2000


def test_whether_reading_both_ways_helps_is_judged_on_the_same_digits():
    from lib.experiments.readouts import both_ways, readout_table
    labels = [k % 10 for k in range(1000)]
    right = "".join(str(y) for y in labels)
    worse = "".join(str((y + 1) % 10) if k < 60 else str(y) for k, y in enumerate(labels))
    cards = {"lstm-random": {"metrics": _metrics(0.94, predictions=worse) | {"n": 1000}},
             "lstm-bi-random": {"metrics": _metrics(1.0, predictions=right) | {"n": 1000}}}
    helped = both_ways(readout_table(cards), labels)
    assert helped["test"] == "mcnemar" and helped["differ"] and helped["errors"][1] < helped["errors"][0]
    cards["lstm-bi-random"]["metrics"] = _metrics(0.94, predictions=worse) | {"n": 1000}
    assert not both_ways(readout_table(cards), labels)["differ"]


def test_the_tuning_budget_is_read_from_the_records():
    from lib.experiments.tuning import budget_table, budgets, same_budget

    def record(family, lr, acc, epoch):
        return {"family": family, "config": {"lr": lr, "epochs": 12}, "best_val_acc": acc, "best_epoch": epoch,
                "seconds": 600.0, "events": [{"event": "epoch", "val_n": 6000}]}
    records = {f"lstm-lr{lr:g}": record("lstm", lr, acc, 11) for lr, acc in ((0.001, 0.992), (0.003, 0.993),
                                                                           (0.01, 0.990))}
    records["rnn-lr0.01"] = record("rnn", 0.01, None, None)
    found = budgets(records)
    assert found["lstm"]["chosen"] == 0.003 and found["lstm"]["seconds"] == 1800 and found["rnn"]["chosen"] is None
    assert not same_budget(found) and same_budget({"lstm": found["lstm"]})
    assert "| lstm | 0.001 (99.20%, 11), 0.003 (99.30%, 11), 0.01 (99.00%, 11) | 0.003 | 12 | 6,000 | 30 min |" in \
        budget_table({"lstm": found["lstm"]})
