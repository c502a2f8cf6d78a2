"""`make-pretrained`: tune each family on validation digits, train the shipped models, score each on the test set once.

Resumable: a tuning record or a card already written for the same config is kept, so the command continues where it
stopped (`--only` picks models; two processes may train disjoint sets side by side).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from lib import __version__
from lib.data.mnist import MnistData
from lib.experiments.analysis import cross_order
from lib.experiments.evaluate import evaluate
from lib.storage.checkpoints import CheckpointError, card_from_run, parse_card, save_card, save_checkpoint
from lib.storage.pretrained import BASES, SPECS, TUNING_LRS, resolved, seed_name, tuning_name, tuning_records
from lib.training.config import TrainConfig, build_model
from lib.training.fit import run_to_end
from lib.training.train import train

TUNING_FORMAT = "row-by-row-tuning/1"
KEPT_EVENTS = ("start", "epoch", "done", "stopped", "diverged")  # what a record keeps of a run (not every step)


def log(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)


def _progress(e: dict) -> None:
    if e["event"] == "epoch":
        split = "val" if "val_acc" in e else "test"
        log(f"  epoch {e['epoch']}: {split} acc {e[f'{split}_acc']:.4f}, train acc {e['train_acc']:.4f}, "
            f"{e['elapsed'] / 60:.1f} min")
    elif e["event"] in ("done", "stopped", "diverged"):
        log(f"  {e['event']} after {e['elapsed'] / 60:.1f} min{', kept epoch ' + str(e['kept_epoch']) if 'kept_epoch' in e else ''}")


def same_config(saved: dict, cfg: TrainConfig) -> bool:
    """Whether a saved config (a card's or a record's) is `cfg` (missing keys take their defaults, as on loading)."""
    try:
        return TrainConfig.from_dict(saved) == cfg
    except ValueError:
        return False


def _train(cfg: TrainConfig, data: MnistData):
    """Train a fresh model by `cfg` without scoring the test set: (model, kept events, seconds)."""
    model, events, t0 = build_model(cfg), [], time.perf_counter()
    run_to_end(train(cfg, data, model), lambda e: (events.append(e), _progress(e)))
    return model, [e for e in events if e["event"] in KEPT_EVENTS], time.perf_counter() - t0


def tune(family: str, data: MnistData, out: Path, device: str) -> dict[str, dict]:
    """Train every tuning run of `family` that has no record yet; the records of all of them."""
    folder, cache = out / "tuning", out / ".cache"
    for lr in TUNING_LRS:
        name, cfg = tuning_name(family, lr), replace(BASES[family], lr=lr, device=device)
        path = folder / f"{name}.json"
        if path.is_file() and same_config(json.loads(path.read_text())["config"], cfg):
            continue
        log(f"== tuning {name}")
        model, events, seconds = _train(cfg, data)
        end = events[-1]
        scored = end["event"] != "diverged"
        record = {"format": TUNING_FORMAT, "name": name, "family": family, "config": cfg.to_dict(),
                  "end": end["event"], "best_epoch": end.get("kept_epoch") if scored else None,
                  "best_val_acc": end.get("kept_val_acc") if scored else None, "seconds": round(seconds, 2),
                  "events": events, "data": data.describe(),
                  "versions": {"row_by_row": __version__, "torch": torch.__version__,
                               "python": platform.python_version()},
                  "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        cache.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
                  str(cache / f"{name}.safetensors"))
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1))
        log(f"   {name}: best validation accuracy {record['best_val_acc']} at epoch {record['best_epoch']}")
    return tuning_records(folder)


def _cached(cfg: TrainConfig, records: dict[str, dict], out: Path):
    """A tuning run of exactly `cfg` whose weights are cached: (model, its events, seconds), else None."""
    for name, record in records.items():
        weights = out / ".cache" / f"{name}.safetensors"
        if same_config(record["config"], cfg) and weights.is_file():
            model = build_model(cfg)
            model.load_state_dict(load_file(str(weights)))
            log(f"   the tuning run {name} is this very run: its weights are reused")
            return model, record["events"], record["seconds"]
    return None


def finished(stem: Path, cfg: TrainConfig, weights: bool) -> bool:
    """Whether STEM.json is a card of `cfg` (and STEM.safetensors exists, when the weights ship)."""
    try:
        card = parse_card(stem.with_suffix(".json").read_bytes())
    except (OSError, CheckpointError):
        return False
    return same_config(card["config"], cfg) and (not weights or stem.with_suffix(".safetensors").is_file())


def make(names: list[str], data: MnistData, out: Path, device: str = "auto", seed: int = 0) -> int:
    """Tune (where needed), train, score once and save every model in `names`; 0, or 1 if one failed to train."""
    for name in names:
        records = tuning_records(out / "tuning")
        spec = SPECS[name]
        if spec.family and resolved(name, records) is None:
            records = tune(spec.family, data, out, device)
        cfg = replace(resolved(name, records), device=device, seed=seed)
        stem = out / name if seed == 0 else out / "seeds" / seed_name(name, seed)
        if finished(stem, cfg, weights=seed == 0):
            log(f"== {seed_name(name, seed)}: done already")
            continue
        log(f"== {seed_name(name, seed)}: {spec.description} (lr {cfg.lr:g})")
        model, events, seconds = _cached(cfg, records, out) or _train(cfg, data)
        if events[-1]["event"] == "diverged":
            log(f"error: {name} diverged")
            return 1
        test = evaluate(model, data, cfg.order)  # the test set, scored once, after the model was chosen
        card = card_from_run(seed_name(name, seed), cfg, test, data.describe(), events, seconds)
        if cfg.loss == "last-step":  # the row-order experiment: each model read in every order
            card["cross_order"] = cross_order({cfg.order: model}, data)[cfg.order]
        card["description"] = spec.description
        if spec.family:
            card["tuning"] = {"family": spec.family, "lrs": list(TUNING_LRS), "chosen_lr": cfg.lr}
        if seed == 0:
            save_checkpoint(stem, model, card)
        else:  # another seed's run only adds to the spread: its card, not its weights, ships
            save_card(stem, card)
        log(f"   {seed_name(name, seed)}: test accuracy {test['acc']:.4f}")
    return 0
