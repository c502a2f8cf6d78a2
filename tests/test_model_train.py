"""The row classifier, its trace, training as a generator, evaluation and configs."""

import json
import threading
from dataclasses import replace

import pytest
import torch

from lib.data.mnist import normalize
from lib.experiments.evaluate import evaluate
from lib.experiments.internals import lstm_internals, trace
from lib.messages import Message
from lib.models.families import FAMILIES
from lib.models.nets import RowClassifier
from lib.training.config import TrainConfig, build_model, sized_to_data
from lib.training.devices import use_bf16
from lib.training.fit import fit, run_to_end
from lib.training.optim import SCHEDULES
from lib.training.presets import PRESETS, preset
from lib.training.train import train

TINY = TrainConfig(hidden=16, layers=1, lr=0.01, optimizer="adam", batch_size=20, epochs=2, log_every=5,
                   device="cpu", validation=0.0)  # the test set after each epoch: these tests compare with it


def run(cfg, data, stop=None):
    model = build_model(cfg)
    return model, list(train(cfg, data, model, stop=stop))


RECURRENT = [name for name, f in FAMILIES.items() if f.recurrent]  # every family that reads row by row


@pytest.mark.parametrize("cell", RECURRENT)
def test_model_shapes(cell):
    model = RowClassifier(cell, hidden=12, layers=2)
    x = torch.randn(5, 28, 28)
    assert model(x).shape == (5, 10)
    assert model.step_logits(x).shape == (5, 28, 10)
    assert torch.allclose(model.step_logits(x)[:, -1], model(x))


def test_lstm_recomputation_matches_nn_lstm():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(28, 20, num_layers=3, batch_first=True)
    x = torch.randn(4, 28, 28)
    out, (h_n, c_n) = lstm(x)
    inside = lstm_internals(lstm, x)
    assert inside["hidden"].shape == (3, 4, 28, 20)
    assert (inside["hidden"][-1] - out).abs().max() <= 1e-5
    assert (inside["hidden"][:, :, -1] - h_n).abs().max() <= 1e-5
    assert (inside["cell"][:, :, -1] - c_n).abs().max() <= 1e-5
    for gate in ("input", "forget", "output"):
        assert ((inside[gate] >= 0) & (inside[gate] <= 1)).all()


@pytest.mark.parametrize("cell", RECURRENT)
def test_trace_last_step_matches_forward(cell, tiny):
    model = build_model(replace(TINY, family=cell, layers=2))
    x = normalize(tiny.test_x[:3])
    t = trace(model, x)
    assert t["probs"].shape == (3, 28, 10) and t["hidden"].shape == (3, 28, 16)
    expected = model.eval()(x).softmax(-1).detach().numpy()
    assert abs(t["probs"][:, -1] - expected).max() <= 1e-5
    assert ("forget" in t) == ("gates" in FAMILIES[cell].panels)
    if "gates" in FAMILIES[cell].panels:
        assert t["forget"].shape == (2, 3, 28, 16) and t["cell"].shape == (2, 3, 28, 16)


def test_training_yields_flat_dicts_in_order(tiny):
    _, events = run(TINY, tiny)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("epoch") == 2 and kinds.count("step") == 4  # 10 steps an epoch, logged every 5
    step = next(e for e in events if e["event"] == "step")
    assert {"epoch", "step", "loss", "acc", "lr", "samples_per_s", "elapsed", "progress"} <= set(step)
    assert all(isinstance(v, (int, float, str)) for e in events for k, v in e.items() if k != "message")
    assert all(json.loads(json.dumps(e["message"])) == e["message"] for e in events if "message" in e)  # plain data


def test_learns_synthetic_rows(tiny):
    model, events = run(replace(TINY, epochs=15, lr=0.02), tiny)
    assert events[-2]["test_acc"] > 0.9
    assert evaluate(model, tiny)["acc"] == pytest.approx(events[-2]["test_acc"])


@pytest.mark.slow
def test_learns_real_digits(mnist):
    cfg = replace(preset("fast"), subset=2000, test_subset=1000, epochs=20, max_steps=300, batch_size=64,
                  device="cpu", log_every=100)
    _, events = run(cfg, mnist)
    assert events[-1]["step"] == 300
    assert max(e["test_acc"] for e in events if e["event"] == "epoch") > 0.6  # chance is 0.1


def test_same_seed_same_result(tiny):
    m1, e1 = run(TINY, tiny)
    m2, e2 = run(TINY, tiny)
    assert [e.get("loss") for e in e1] == [e.get("loss") for e in e2]
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    _, e3 = run(replace(TINY, seed=1), tiny)
    assert [e.get("loss") for e in e1] != [e.get("loss") for e in e3]


def test_huge_learning_rate_diverges_with_advice(tiny):
    _, events = run(replace(TINY, optimizer="sgd", lr=50.0, layers=2, hidden=32, epochs=3, log_every=1), tiny)
    assert events[-1]["event"] == "diverged"
    assert "lower it" in Message.from_dict(events[-1]["message"]).render()


def test_lr_50_diverges_on_real_digits(mnist):
    cfg = preset("too-high-lr", device="cpu")
    _, events = run(cfg, mnist)
    assert events[-1]["event"] == "diverged"


def test_stop_event_keeps_partial_model(tiny):
    stop = threading.Event()
    model = build_model(TINY)
    before = [p.clone() for p in model.parameters()]
    events = []
    for e in train(replace(TINY, epochs=50, log_every=1), tiny, model, stop=stop):
        events.append(e)
        if e["event"] == "step" and e["step"] == 3:
            stop.set()
    assert events[-1]["event"] == "stopped" and events[-1]["step"] == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_max_steps_ends_with_an_epoch_score(tiny):
    _, events = run(replace(TINY, max_steps=7), tiny)
    assert events[-1] == {**events[-1], "event": "done", "step": 7}
    assert events[-2]["event"] == "epoch"


@pytest.mark.parametrize("bad, word", [
    ({"hidden": 0}, "hidden"), ({"layers": 99}, "layers"), ({"lr": -1.0}, "learning rate"),
    ({"lr": float("nan")}, "finite"), ({"optimizer": "rmsprop"}, "optimizer"), ({"family": "mamba"}, "family"),
    ({"batch_size": 0}, "batch"), ({"epochs": 0}, "epochs"), ({"subset": 5}, "training digits"),
    ({"order": "diagonal"}, "row order"), ({"dropout": 1.0}, "dropout"), ({"device": "tpu"}, "device"),
])
def test_invalid_configs_raise_readable_errors(bad, word, tiny):
    cfg = replace(TINY, **bad)
    with pytest.raises(ValueError, match=word):
        cfg.validate()
    with pytest.raises(ValueError):
        next(train(cfg, tiny, RowClassifier()))


def test_from_dict_rejects_unknown_and_mistyped():
    assert TrainConfig.from_dict({"hidden": "64", "lr": 1}) == TrainConfig(hidden=64, lr=1.0)
    for bad in ({"colour": 1}, {"hidden": "many"}, {"hidden": 1.5}, {"lr": [1]}, {"epochs": True}):
        with pytest.raises(ValueError):
            TrainConfig.from_dict(bad)


def test_unavailable_device_is_a_value_error(tiny):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="not available"):
        next(train(replace(TINY, device="cuda"), tiny, RowClassifier()))


def test_presets_are_valid_and_lesson_matches_the_write_up():
    for _, _, cfg in PRESETS.values():
        cfg.validate()
    lesson = preset("lesson")
    assert (lesson.family, lesson.hidden, lesson.layers, lesson.optimizer, lesson.lr, lesson.batch_size,
            lesson.epochs) == ("lstm", 100, 2, "sgd", 0.1, 64, 10)


def test_schedules_shape():
    factor = {name: s.factor for name, s in SCHEDULES.items()}
    assert factor["none"](0.7) == 1.0
    assert factor["step"](0.6) == pytest.approx(0.1)
    assert factor["cosine"](0.0) == 1.0 and factor["cosine"](1.0) < 1e-9
    assert factor["one-cycle"](0.0) < 0.1 and factor["one-cycle"](0.3) == pytest.approx(1.0, abs=1e-3)


def test_evaluate_reports_plain_data(tiny):
    model, _ = run(TINY, tiny)
    r = evaluate(model, tiny, "reversed")
    assert r["n"] == 100 and len(r["acc_by_rows"]) == 28 and len(r["per_class_acc"]) == 10
    assert sum(map(sum, r["confusion"])) == 100
    assert r["acc_by_rows"][-1] == pytest.approx(r["acc"])
    assert sum(r["confusion"][i][i] for i in range(10)) / 100 == pytest.approx(r["acc"])


def test_bf16_autocast_trains_and_auto_follows_the_hardware(tiny):
    native = torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    model, events = run(replace(TINY, precision="bf16", epochs=15, lr=0.02), tiny)
    assert events[0]["precision"] == ("bf16" if native else "fp32") and events[-2]["test_acc"] > 0.9
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast keeps float32 weights
    assert use_bf16("fp32", torch.device("cpu")) is False
    assert use_bf16("bf16", torch.device("cpu")) == use_bf16("auto", torch.device("cpu")) == native


def test_explicit_bf16_on_a_cpu_without_it_trains_in_float32_and_says_so(tiny, monkeypatch):
    from lib.training import devices
    monkeypatch.setattr(devices, "native_bf16_cpu", lambda: False)
    _, events = run(replace(TINY, precision="bf16", epochs=1), tiny)
    assert events[0]["precision"] == "fp32" and events[-1]["event"] == "done"


def test_fit_to_data_asks_for_no_more_digits_than_are_loaded():
    quick = preset("quick")  # 5,000 training and 2,000 test digits
    assert sized_to_data(quick, 60000, 10000) == (quick, [])
    fitted, notes = sized_to_data(quick, 4000, 1000)
    assert (fitted.subset, fitted.test_subset) == (0, 0) and replace(fitted, subset=5000, test_subset=2000) == quick
    assert [str(n) for n in notes] == ["the loaded data has 4,000 training digits, so this run uses all of them",
                                       "the loaded data has 1,000 test digits, so this run scores all of them"]
    assert sized_to_data(replace(quick, subset=4000), 4000, 1000)[0].subset == 0  # exactly all: no note needed
    assert len(sized_to_data(replace(quick, subset=4000), 4000, 1000)[1]) == 1


def test_run_to_end_returns_the_final_scores_only_for_a_finished_run(tiny):
    cfg = TrainConfig(hidden=8, layers=1, epochs=1, batch_size=50, device="cpu", log_every=2, validation=0.0)
    events = []
    scores = run_to_end(train(cfg, tiny, build_model(cfg)), events.append)
    assert events[-1]["event"] == "done" and scores["acc"] == events[-2]["test_acc"] and scores["n"] == 100
    stop = threading.Event()
    stop.set()
    assert run_to_end(train(cfg, tiny, build_model(cfg), stop=stop)) is None  # stopped: nothing final to hand back


def test_fit_scores_every_test_digit_at_the_end_whatever_the_per_epoch_subset(tiny):
    cfg = TrainConfig(hidden=8, layers=1, epochs=1, batch_size=50, device="cpu", log_every=2, test_subset=20)
    fitted = fit(cfg, tiny)
    assert fitted.events[-2]["event"] == "epoch" and fitted.scores["n"] == len(tiny.test_y) == 100
    assert fitted.scores["split"] == "test"


def test_fit_keeps_a_stopped_model_scored_and_a_diverged_one_unscored(tiny):
    cfg = TrainConfig(hidden=8, layers=1, epochs=3, batch_size=10, device="cpu", log_every=1)
    stop, seen = threading.Event(), []

    def stop_after_three_steps(event):
        seen.append(event)
        if sum(e["event"] == "step" for e in seen) == 3:
            stop.set()

    stopped = fit(cfg, tiny, stop=stop, on_event=stop_after_three_steps)
    assert stopped.end["event"] == "stopped" and stopped.scores["n"] == 100
    never = threading.Event()
    never.set()
    assert fit(cfg, tiny, stop=never).scores is None  # stopped before any step: nothing to score
    diverged = fit(replace(cfg, lr=1000.0, optimizer="sgd"), tiny)
    assert diverged.end["event"] == "diverged" and diverged.scores is None


def test_a_stalled_adam_run_is_reported_as_not_learning(mnist):
    cfg = TrainConfig(hidden=32, layers=1, lr=1.0, optimizer="adam", epochs=1, subset=1000, test_subset=500,
                      batch_size=32, device="cpu", log_every=10)
    _, events = run(cfg, mnist)
    assert events[-1]["event"] == "done" and events[-1]["verdict"] == "not_learning"
    text = Message.from_dict(events[-1]["message"]).render()
    assert "did not learn" in text and "at 1 the steps are too large" in text and "between 0.001 and 0.01" in text


def test_a_run_that_learns_gets_no_verdict_and_sgd_gets_sgd_advice(tiny):
    _, events = run(replace(TINY, epochs=15, lr=0.02), tiny)
    assert "verdict" not in events[-1]
    _, stalled = run(replace(TINY, optimizer="sgd", lr=0.0001, epochs=1), tiny)
    assert stalled[-1]["verdict"] == "not_learning"
    assert "try 0.1, the lesson's rate" in Message.from_dict(stalled[-1]["message"]).render()


@pytest.mark.parametrize("optimizer, lr, steps, advice", [
    ("sgd", 0.01, 5000, "advice.sgd_low"),  # below the lesson's rate: try it
    ("sgd", 0.1, 16, "advice.sgd_short"),  # at the lesson's rate but cut short (1,000 digits, one epoch)
    ("sgd", 0.1, 5000, "advice.sgd_stuck"),
    ("sgd", 5.0, 16, "advice.sgd_high"),  # above it: lower it, however few the steps
    ("sgd-momentum", 0.3, 100, "advice.sgd_high"),
    ("adam", 1.0, 100, "advice.adaptive_high"), ("adamw", 0.0001, 100, "advice.adaptive_low"),
    ("adam", 0.003, 16, "advice.adaptive_short"), ("adam", 0.01, 15, "advice.adaptive_short"),
])
def test_not_learning_advice_follows_the_rate_and_the_steps_taken(optimizer, lr, steps, advice):
    from lib.training.train import SGD_STEPS_TO_LEAVE_CHANCE, not_learning_advice
    assert not_learning_advice(optimizer, lr, steps) == advice
    assert 16 < SGD_STEPS_TO_LEAVE_CHANCE < 5000  # measured: 330-370 steps (bench/sgd_start.py)


def test_not_learning_at_the_lessons_rate_after_few_steps_says_the_run_was_short(mnist):
    cfg = TrainConfig(subset=1000, epochs=1, validation=0.0, test_subset=500, device="cpu", log_every=4)
    _, events = run(cfg, mnist)  # the lesson's SGD at 0.1 for 16 steps
    assert events[-1]["verdict"] == "not_learning"
    text = Message.from_dict(events[-1]["message"]).render()
    assert "It trained for 16 steps" in text and "cut short" in text


def test_divergence_advice_fits_the_optimizer(tiny):
    _, sgd = run(replace(TINY, optimizer="sgd", lr=50.0, layers=2, hidden=32, epochs=3, log_every=1), tiny)
    _, adam = run(replace(TINY, optimizer="adam", lr=500.0, layers=2, hidden=32, epochs=3, log_every=1), tiny)
    assert sgd[-1]["event"] == adam[-1]["event"] == "diverged"
    assert "gradient clipping" in Message.from_dict(sgd[-1]["message"]).render()
    assert "between 0.001 and 0.005" in Message.from_dict(adam[-1]["message"]).render()


def test_a_validation_split_is_held_out_of_training_and_scored_each_epoch(tiny):
    from lib.data.mnist import stratified_indices
    from lib.training.train import split_validation
    pool = stratified_indices(tiny.train_y, 0, 0)
    kept, held = split_validation(pool, 0.1)
    assert len(held) == 20 and len(kept) == 180 and not set(kept.tolist()) & set(held.tolist())
    cfg = replace(TINY, validation=0.1, epochs=2)
    fitted = fit(cfg, tiny)
    epochs = [e for e in fitted.events if e["event"] == "epoch"]
    assert fitted.events[0]["n_train"] == 180 and fitted.events[0]["n_validation"] == 20
    assert all(e["val_n"] == 20 and "test_acc" not in e and 0 <= e["train_acc"] <= 1 for e in epochs)
    assert fitted.scores["split"] == "test" and fitted.scores["n"] == len(tiny.test_y)  # the test set, at the end


def test_the_lesson_preset_scores_the_test_set_each_epoch_as_the_lesson_did():
    assert preset("lesson").validation == 0.0 and preset("quick").validation > 0


def test_dropout_runs_side_by_side_train_bit_for_bit_as_alone(tiny):
    """Dropout draws from each run's own stream (lib.training.loop.PrivateStream): two dropout runs training at once, in two
    threads as the job queue runs them, end with exactly the weights each gets alone; the process-wide generator is
    left where it was."""
    a = replace(TINY, layers=2, dropout=0.5, max_steps=12, epochs=1)
    b = replace(a, seed=3, hidden=12)

    def weights(cfg, out):
        model, _ = run(cfg, tiny)
        out[cfg.seed] = [p.detach().clone() for p in model.parameters()]

    def alone_in_a_thread(cfg, out):  # as the queue runs a job: in its own thread, whose OpenMP thread count is
        th = threading.Thread(target=weights, args=(cfg, out))  # the process default, whatever the main thread set
        th.start()
        th.join()

    alone: dict = {}
    for cfg in (a, b):
        alone_in_a_thread(cfg, alone)
    before = torch.get_rng_state()
    together: dict = {}
    threads = [threading.Thread(target=weights, args=(cfg, together)) for cfg in (a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert torch.equal(torch.get_rng_state(), before)
    for seed in (a.seed, b.seed):
        assert all(torch.equal(x, y) for x, y in zip(alone[seed], together[seed]))
    without: dict = {}
    alone_in_a_thread(replace(a, dropout=0.0), without)  # the dropout did something: the masks are in the weights
    assert not all(torch.equal(x, y) for x, y in zip(alone[a.seed], without[a.seed]))
