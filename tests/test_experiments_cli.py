"""`python -m lib.cli gradients|probe|parallel|record-experiments`: the JSON each prints, MODEL as a path or a shipped
name (and a shipped name not there yet), bad input; the records read back only while they fit the weights; the
parallel timing's answers."""

from __future__ import annotations

import json

import pytest

from lib.cli import experiments as commands
from lib.cli import main as cli
from lib.experiments import parallel, recorded
from lib.experiments.evaluate import evaluate
from lib.storage.checkpoints import make_card, save_checkpoint
from lib.training.config import TrainConfig, build_model

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny operations, one thread

CFG = TrainConfig(family="gru", hidden=8, layers=2, device="cpu", clip=0.5, batch_size=20)


@pytest.fixture()
def shelf(tmp_path, tiny, monkeypatch):
    """A folder standing in for pretrained/ with one small model, "small", the synthetic digits as the data, and
    record files of its own."""
    model = build_model(CFG)
    card = make_card("small", CFG, evaluate(model, tiny), tiny.describe(), {"seconds": 1.0, "device": "cpu"})
    save_checkpoint(tmp_path / "small", model, card)
    monkeypatch.setattr(commands, "FOLDER", tmp_path)
    monkeypatch.setattr(commands, "load_mnist", lambda: tiny)
    monkeypatch.setattr(commands, "RECORDED_MODELS", ("small", "not-yet"))
    monkeypatch.setattr(commands, "GRADIENT_MODELS", ("small", "not-yet"))
    monkeypatch.setattr(commands.probes, "PROBED", ("small",))
    monkeypatch.setitem(recorded.FILES, "gradients", tmp_path / "gradients.json")
    monkeypatch.setitem(recorded.FILES, "probes", tmp_path / "probes.json")
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_gradients_json_by_name_and_by_path(shelf, capsys):
    rc, out, _ = run(capsys, "gradients", "small", "--json", "--digits", "20")
    found = json.loads(out)
    assert rc == 0 and found["steps"] == list(range(1, 29)) and len(found["grad_norm"]) == 28
    assert len(found["hidden_norm"]) == 28 and found["init"] is False and found["n"] == 20
    assert found["clip"]["threshold"] == 0.5 and found["clip"]["batch_size"] == 20  # the model's own settings
    rc, out, _ = run(capsys, "gradients", str(shelf / "small.safetensors"), "--json", "--digits", "20", "--init")
    fresh = json.loads(out)
    assert rc == 0 and fresh["init"] is True
    assert fresh["grad_norm"] == found["grad_norm"]  # never trained: its initial weights are its weights
    rc, out, _ = run(capsys, "gradients", str(shelf / "small"), "--digits", "20")
    assert rc == 0 and out.count("step ") == 28 and "geometric means" in out


def test_probe_json(shelf, capsys, monkeypatch):
    rc, out, _ = run(capsys, "probe", "small", "--json", "--train-digits", "60", "--test-digits", "40")
    found = json.loads(out)
    assert rc == 0 and found["rows"] == list(range(1, 29))
    for key in ("probe_acc", "readout_acc", "state_acc", "probe_acc_low", "probe_acc_high"):
        assert len(found[key]) == 28 and all(0 <= v <= 1 for v in found[key]), key
    assert found["n_train"] == 60 and found["n_test"] == 40 and found["state_size"] == 16


def test_parallel_json(capsys):
    rc, out, _ = run(capsys, "parallel", "--json", "--repeats", "1", "--batch-size", "4", "--device", "cpu")
    found = json.loads(out)
    assert rc == 0 and found["batch_size"] == 4 and found["repeats"] == 1 and found["steps"] == 28
    assert 0 < found["share"] < 1 and found["share_low"] <= found["share"] <= found["share_high"]
    assert found["steps_in_sequence"] == 29 and found["steps_without_overlap"] == 56
    assert parallel.facts(found)["answers"]


def test_bad_input_says_what_is_wrong(shelf, capsys):
    rc, _, err = run(capsys, "gradients", "not-yet")
    assert rc == 2 and "not-yet is not shipped yet" in err and "not-yet.safetensors does not exist" in err
    rc, _, err = run(capsys, "probe", "no/such/model")
    assert rc == 2 and "does not exist" in err
    cnn = TrainConfig(family="cnn", hidden=8, layers=1, device="cpu")
    save_checkpoint(shelf / "flat", build_model(cnn), make_card("flat", cnn, {"acc": 0, "loss": 0, "n": 0,
                    "confusion": [], "per_class_acc": [], "acc_by_rows": None, "order": "forward"}, {}, {}))
    rc, _, err = run(capsys, "gradients", "flat")
    assert rc == 2 and "one-way recurrent model" in err
    rc, _, err = run(capsys, "gradients", "small", "--digits", "0")
    assert rc == 2 and "not between 1 and 60,000" in err


def test_records_are_read_back_only_while_they_fit_the_weights(shelf, capsys):
    rc, out, _ = run(capsys, "record-experiments")
    assert rc == 0 and "not-yet: not shipped yet" in out
    assert recorded.lookup("gradients", "small", False, folder=shelf)["steps"][-1] == 28
    assert recorded.lookup("gradients", "small", True, folder=shelf)["init"] is True
    probed = recorded.lookup("probes", "small", folder=shelf)
    assert probed["rows"] == list(range(1, 29))
    entry = recorded.read("probes")["small"]
    assert entry["data"]["source"] == "synthetic" and entry["weights"] == recorded.fingerprint(shelf /
                                                                                             "small.safetensors")
    rc, out, _ = run(capsys, "record-experiments")
    assert rc == 0 and out.count("recorded already") == 3  # both gradients and the probes fit: nothing redone
    other = build_model(TrainConfig(**(CFG.to_dict() | {"seed": 1})))  # retrained: other weights, same name
    save_checkpoint(shelf / "small", other, json.loads((shelf / "small.json").read_text()))
    assert recorded.lookup("probes", "small", folder=shelf) is None
    assert recorded.lookup("gradients", "missing", folder=shelf) is None


@pytest.mark.parametrize("low, high, answers", [(0.1, 0.2, ["quarter"]), (0.2, 0.3, ["quarter", "half"]),
                                                (0.8, 0.9, ["most"]), (0.74, 0.76, ["three-quarters", "most"]),
                                                (0.5, 0.5, ["three-quarters"])])
def test_the_parallel_answer_is_every_bin_the_measured_range_touches(low, high, answers):
    assert parallel.share_bins(low, high) == answers
