"""make-pretrained: each tuned family's learning rate chosen on validation digits, the test set scored once per shipped
model, and the command resumable (what was written for the same config is kept)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lib.storage import pretrained, shipping
from lib.training.config import TrainConfig

SMALL = TrainConfig(hidden=8, layers=1, epochs=2, batch_size=50, optimizer="adam", validation=0.2, keep="best",
                    log_every=5, device="cpu")


@pytest.fixture()
def registry(monkeypatch):
    """Two tiny shipped models of a tuned family and one complete config, in place of the real registry."""
    monkeypatch.setitem(pretrained.BASES, "gru", replace(SMALL, family="gru"))
    specs = {"gru-forward": pretrained.Spec("tiny GRU", replace(SMALL, family="gru"), "gru"),
             "gru-reversed": pretrained.Spec("tiny GRU, reversed", replace(SMALL, family="gru", order="reversed"), "gru"),
             "plain": pretrained.Spec("a complete config", replace(SMALL, validation=0.0, keep="last"))}
    monkeypatch.setattr(pretrained, "SPECS", specs)
    monkeypatch.setattr(shipping, "SPECS", specs)
    return specs


def test_a_family_is_tuned_on_validation_then_shipped_and_scored_once(registry, tiny, tmp_path, capsys):
    assert shipping.make(["gru-forward", "gru-reversed", "plain"], tiny, tmp_path, "cpu") == 0
    records = pretrained.tuning_records(tmp_path / "tuning")
    assert sorted(records) == [pretrained.tuning_name("gru", lr) for lr in sorted(pretrained.TUNING_LRS)]
    assert all("test_acc" not in json.dumps(r) for r in records.values())  # tuning never looks at the test set
    chosen = pretrained.tuned_lr("gru", records)
    best = max(records.values(), key=lambda r: (r["best_val_acc"], -r["config"]["lr"]))
    assert chosen == best["config"]["lr"]
    for name in ("gru-forward", "gru-reversed"):
        card = json.loads((tmp_path / f"{name}.json").read_text())
        assert card["config"]["lr"] == chosen and card["tuning"]["chosen_lr"] == chosen
        assert card["metrics"]["n"] == len(tiny.test_y) and (tmp_path / f"{name}.safetensors").is_file()
    assert "is this very run: its weights are reused" in capsys.readouterr().err  # the forward model was a tuning run


def test_make_pretrained_continues_where_it_stopped(registry, tiny, tmp_path, capsys):
    assert shipping.make(["plain"], tiny, tmp_path, "cpu") == 0
    first = (tmp_path / "plain.json").read_text()
    assert shipping.make(["plain"], tiny, tmp_path, "cpu") == 0
    assert "plain: done already" in capsys.readouterr().err and (tmp_path / "plain.json").read_text() == first
    assert shipping.make(["plain"], tiny, tmp_path, "cpu", seed=1) == 0  # another seed: its card only
    assert (tmp_path / "seeds" / "plain-seed1.json").is_file() and not list(tmp_path.glob("seeds/*.safetensors"))
