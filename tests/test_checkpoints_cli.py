"""Checkpoint round trips and failures, the command line, and the shipped models against their cards."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from lib.cli import main as cli
from lib.experiments.evaluate import evaluate
from lib.storage.checkpoints import (
    CheckpointError,
    from_bytes,
    list_checkpoints,
    load_checkpoint,
    make_card,
    save_checkpoint,
    to_bytes,
)
from lib.storage.pretrained import FOLDER, SPECS
from lib.training.config import TrainConfig, build_model

ROOT = Path(__file__).resolve().parent.parent
CFG = TrainConfig(hidden=8, layers=2, device="cpu")


@pytest.fixture()
def saved(tmp_path, tiny):
    model = build_model(CFG)
    card = make_card("t", CFG, evaluate(model, tiny), tiny.describe(), {"seconds": 1.0, "device": "cpu"})
    save_checkpoint(tmp_path / "t", model, card)
    return tmp_path / "t.safetensors", model, card


def test_round_trip_rebuilds_model_from_card(saved, tiny):
    path, model, card = saved
    loaded, loaded_card = load_checkpoint(path)
    assert loaded_card["config"] == CFG.to_dict() and loaded_card["metrics"]["acc"] == card["metrics"]["acc"]
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert evaluate(loaded, tiny)["acc"] == card["metrics"]["acc"]
    assert set(card) >= {"config", "metrics", "data", "training", "versions", "date"}


def test_truncated_weights_raise(saved):
    path, _, _ = saved
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


def test_garbage_and_pickles_are_refused(saved):
    path, _, card = saved
    import pickle
    for junk in (b"", b"\x00" * 64, pickle.dumps({"x": torch.zeros(2)}), b"PK\x03\x04 not a zip"):
        with pytest.raises(CheckpointError):
            from_bytes(junk, card)


def test_mismatched_weights_raise(saved, tmp_path):
    path, _, card = saved
    bigger = build_model(replace(CFG, hidden=9))
    save_file(dict(bigger.state_dict()), str(path))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)


def test_foreign_or_bad_cards_raise(saved):
    path, model, card = saved
    weights, _ = to_bytes(model, card)
    for bad in (b"{not json", json.dumps({"config": card["config"]}), {**card, "format": "other/9"},
                {**card, "config": {**card["config"], "hidden": -3}}, {**card, "config": {"colour": "red"}}):
        with pytest.raises(CheckpointError):
            from_bytes(weights, bad)


def test_nan_weights_and_missing_files_raise(saved, tmp_path):
    path, model, card = saved
    state = {k: torch.full_like(v, float("nan")) for k, v in model.state_dict().items()}
    save_file(state, str(path))
    with pytest.raises(CheckpointError, match="not finite"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.safetensors")


def test_cli_train_json_and_evaluate(tmp_path, mnist, capsys):
    out = tmp_path / "m"
    rc = cli.main(["train", "--preset", "fast", "--subset", "500", "--test-subset", "200", "--batch-size", "25",
                   "--epochs", "1", "--max-steps", "20", "--log-every", "10", "--device", "cpu", "--out", str(out),
                   "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and lines[0]["event"] == "start" and lines[-1]["event"] == "result"
    assert [e["event"] for e in lines].count("step") == 2 and lines[-1]["n"] == 10000
    rc = cli.main(["evaluate", str(out) + ".safetensors", "--order", "reversed", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["n"] == 10000 and result["order"] == "reversed" and 0 <= result["test_acc"] <= 1


def test_settings_under_their_old_names_still_load(tmp_path, tiny, monkeypatch, capsys):
    """The model family was called `cell` until it was renamed `family`: a card, a CLI flag and a config dict written
    with the old name load under the new one (links: tests/test_page_train.py)."""
    model = build_model(TrainConfig(family="gru", hidden=8, layers=1))
    card = {"format": "row-by-row/1", "name": "old", "config": {"cell": "gru", "hidden": 8, "layers": 1}}
    weights, _ = to_bytes(model, card | {"config": {"family": "gru", "hidden": 8, "layers": 1}})
    loaded, read = from_bytes(weights, json.dumps(card))
    assert read["config"]["family"] == "gru" and "cell" not in read["config"] and loaded.family == "gru"
    assert TrainConfig.from_dict({"cell": "cnn", "hidden": 16}).family == "cnn"
    monkeypatch.setattr(cli, "load_mnist", lambda: tiny)
    rc = cli.main(["train", "--cell", "rnn", "--hidden", "8", "--epochs", "1", "--device", "cpu", "--json",
                   "--out", str(tmp_path / "rnn")])
    assert rc == 0 and json.loads((tmp_path / "rnn.json").read_text())["config"]["family"] == "rnn"


def test_cli_trains_on_all_of_a_smaller_dataset_and_its_card_says_so(tmp_path, tiny, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_mnist", lambda: tiny)  # 200 training digits, 100 test digits
    out = tmp_path / "small"
    rc = cli.main(["train", "--hidden", "8", "--epochs", "1", "--subset", "5000", "--device", "cpu",
                   "--out", str(out), "--json"])
    assert rc == 0 and "uses all of them" in capsys.readouterr().err
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["config"]["subset"] == 0 and card["data"]["n_train"] == 200


def test_cli_reports_bad_settings_and_bad_files(tmp_path, capsys):
    assert cli.main(["train", "--hidden", "0"]) == 2
    assert "hidden size" in capsys.readouterr().err
    (tmp_path / "x.safetensors").write_bytes(b"junk")
    (tmp_path / "x.json").write_text("{}")
    assert cli.main(["evaluate", str(tmp_path / "x.safetensors")]) == 2
    assert "error:" in capsys.readouterr().err
    for seed in ("-1", str(2**64)):  # refused before any data is loaded
        assert cli.main(["make-pretrained", "--seed", seed, "--out", str(tmp_path)]) == 2
        assert "seed" in capsys.readouterr().err


def test_cli_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "lib.cli", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "make-pretrained" in out.stdout


def test_every_shipped_model_is_present():
    assert set(list_checkpoints(FOLDER)) == set(SPECS)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_shipped_model_matches_its_card(name, mnist):
    """Each shipped model scores what its card says on the 10,000 test digits: the full set's, or the shipped sample's
    when MNIST_ROOT is unset, which are the same digits (tests/test_sample.py checks it), so one scoring covers both."""
    model, card = load_checkpoint(FOLDER / f"{name}.safetensors")
    assert card["data"]["source"] == "mnist" and card["data"]["n_train"] == 60000
    result = evaluate(model, mnist, card["config"]["order"])
    assert result["n"] == 10000
    assert result["acc"] == pytest.approx(card["metrics"]["acc"], abs=0.0005)
    assert result["confusion"] == card["metrics"]["confusion"] or card["config"]["order"] == "random"


def test_shipped_accuracy_targets():
    acc = {n: json.loads((FOLDER / f"{n}.json").read_text())["metrics"]["acc"] for n in SPECS}
    assert acc["lesson-forward"] >= 0.98
    assert acc["lstm-forward"] >= 0.992
    assert abs(acc["lstm-reversed"] - acc["lstm-forward"]) <= 0.003
    assert acc["cnn-forward"] >= 0.993 and acc["transformer-forward"] >= 0.985  # the Conclusion page's families


def test_every_generated_block_of_the_documents_is_what_the_cards_give():
    """README's shipped-model table and the teaching notes' tables are lib.storage.documents' output for the cards
    (`python -m lib.cli docs --write` rewrites them)."""
    from lib.storage import documents
    assert documents.stale() == []


def test_every_shipped_config_card_states_all_its_settings():
    """A card written before a setting existed must still say how it was trained (not fall back to a new default);
    every card is the config its registry entry gives, a tuned family's learning rate being the one chosen on
    validation."""
    from lib.storage.pretrained import resolved, tuning_records

    for name in SPECS:
        card = json.loads((FOLDER / f"{name}.json").read_text())
        assert set(card["config"]) == set(TrainConfig().to_dict()), name
        tuned = resolved(name, tuning_records())  # a tuned family's rate is the one its tuning chose
        assert TrainConfig.from_dict(card["config"]) == replace(tuned, device=card["config"]["device"]), name


def test_seed_cards_are_pooled_only_with_the_config_they_were_trained_with():
    """The row-order results pool seed 0 (the shipped weights) with the cards of EXTRA_SEEDS of exactly the same
    config; a seed card left from an earlier config of the same name stays out. Every seed card shipped matches."""
    import copy

    from lib.experiments.analysis import shipped_order_results
    from lib.storage.pretrained import ROW_ORDER_MODELS, parse_card, seed_cards, seed_name

    shipped = {n: parse_card((FOLDER / f"{n}.json").read_bytes()) for n in SPECS}
    for name, card in seed_cards().items():
        base = shipped[name.rsplit("-seed", 1)[0]]
        assert {k: v for k, v in card["config"].items() if k not in ("seed", "device", "log_every")} == \
            {k: v for k, v in base["config"].items() if k not in ("seed", "device", "log_every")}, name
    first = ROW_ORDER_MODELS[0]
    same = copy.deepcopy(shipped[first])
    same["config"]["seed"], same["metrics"]["acc"] = 1, 0.5
    stale = copy.deepcopy(same)
    stale["config"]["lr"], stale["config"]["seed"] = stale["config"]["lr"] * 10, 2
    results = shipped_order_results(shipped, {seed_name(first, 1): same, seed_name(first, 2): stale})
    order = shipped[first]["config"]["order"]
    assert [r["seed"] for r in results["runs"][order]] == [0, 1]
    assert results["acc"][order] == pytest.approx((shipped[first]["metrics"]["acc"] + 0.5) / 2)
    assert len(results["orders"]) == len(ROW_ORDER_MODELS)
