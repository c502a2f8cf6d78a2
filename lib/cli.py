"""Command line: `python -m lib.cli train|evaluate|make-pretrained|bench`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from dataclasses import fields, replace
from pathlib import Path

from .analysis import cross_order
from .checkpoints import CheckpointError, card_from_run, load_checkpoint, save_checkpoint
from .data import DataUnavailable, MnistData, load_mnist
from .orders import ORDERS
from .pretrained import FOLDER, SPECS
from .train import (PRESETS, TrainConfig, build_model, evaluate, fit_to_data, preset, resolve_device, run_to_end,
                    train)


def fit(cfg: TrainConfig, data: MnistData, name: str, on_event=lambda e: None):
    """Train to the end, score on the full test set and return (model, card, final metrics dict)."""
    model, events, t0 = build_model(cfg), [], time.perf_counter()
    scores = run_to_end(train(cfg, data, model), lambda e: (events.append(e), on_event(e)))
    seconds = time.perf_counter() - t0  # training (with its per-epoch scoring), not a final scoring
    test = scores if scores is not None and cfg.test_subset == 0 else evaluate(model, data, cfg.order)  # all 10,000
    card = card_from_run(name, cfg, test, data.describe(), events, seconds)
    end = events[-1]
    result = {"event": "result", "name": name, "test_acc": test["acc"], "test_loss": test["loss"], "n": test["n"],
              "order": cfg.order, "seconds": card["training"]["seconds"], "end": end["event"],
              "message": end.get("message")}
    return model, card, result


def _config_from_args(args) -> TrainConfig:
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    return preset(args.preset, **overrides) if args.preset else TrainConfig(**overrides)


class _Progress:
    """A tqdm bar for humans when --json is not given."""

    def __init__(self):
        from tqdm import tqdm
        self.tqdm, self.bar = tqdm, None

    def __call__(self, e: dict) -> None:
        if e["event"] == "start":
            self.bar = self.tqdm(total=e["steps_total"], unit="step", desc=e["device"])
        elif e["event"] == "step":
            self.bar.update(e["step"] - self.bar.n)
            self.bar.set_postfix(loss=f"{e['loss']:.3f}", acc=f"{e['acc']:.3f}", sps=f"{e['samples_per_s']:.0f}")
        elif e["event"] == "epoch":
            self.bar.write(f"epoch {e['epoch']}: test acc {e['test_acc']:.4f}, test loss {e['test_loss']:.4f}")
        elif e["event"] in ("diverged", "done", "stopped"):
            self.bar.close()
            if e.get("message"):
                print(e["message"], file=sys.stderr)


def cmd_train(args) -> int:
    cfg = _config_from_args(args).validate()
    data = load_mnist()
    cfg, notes = fit_to_data(cfg, len(data.train_y), len(data.test_y))  # the card records what was used
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    on_event = (lambda e: print(json.dumps(e), flush=True)) if args.json else _Progress()
    model, card, result = fit(cfg, data, args.name or Path(args.out or "run").stem, on_event)
    if args.out:
        save_checkpoint(Path(args.out).with_suffix(""), model, card)
    print(json.dumps(result) if args.json else f"test accuracy {result['test_acc']:.4f} on {result['n']:,} digits")
    return 1 if result["end"] == "diverged" else 0


def cmd_evaluate(args) -> int:
    model, card = load_checkpoint(args.path)
    order = args.order or card["config"]["order"]
    test = evaluate(model.to(resolve_device(args.device)), load_mnist(), order)
    out = {"path": str(args.path), "test_acc": test["acc"], "test_loss": test["loss"], "n": test["n"], "order": order}
    print(json.dumps(out) if args.json else f"{args.path}: {test['acc']:.4f} on {test['n']:,} digits ({order})")
    return 0


def cmd_make_pretrained(args) -> int:
    data = load_mnist()
    if data.source != "mnist":
        print("make-pretrained needs the full MNIST: set MNIST_ROOT", file=sys.stderr)
        return 2
    for name in args.only or list(SPECS):
        description, cfg = SPECS[name]
        cfg = replace(cfg, device=args.device)
        print(f"== {name}: {description}", flush=True)
        model, card, result = fit(cfg, data, name, _Progress())
        if name.startswith("lstm-"):  # the row-order experiment: each model read in every order
            card["cross_order"] = cross_order({cfg.order: model}, data)[cfg.order]
        card["description"] = description
        save_checkpoint(Path(args.out) / name, model, card)
        print(json.dumps(result), flush=True)
    return 0


def shipped_table(folder: Path = FOLDER) -> str:
    """Markdown table of the shipped models, read from their cards."""
    lines = ["| model | cell | layers×hidden | optimizer | epochs | order | test acc | train time | device |",
             "|---|---|---|---|---:|---|---:|---:|---|"]
    total, spans = 0.0, []
    for name in SPECS:
        card_path = Path(folder) / f"{name}.json"
        if not card_path.is_file():
            lines.append(f"| {name} | missing: run make-pretrained | | | | | | | |")
            continue
        card = json.loads(card_path.read_text())
        c, tr = card["config"], card["training"]
        total += tr["seconds"]
        end = datetime.fromisoformat(card["date"]).timestamp()  # the card is written when training ends
        spans.append((end - tr["seconds"], end))
        lines.append(f"| {name} | {c['cell']} | {c['layers']}×{c['hidden']} | {c['optimizer']} lr {c['lr']:g} | "
                     f"{c['epochs']} | {c['order']} | {card['metrics']['acc']:.2%} | {tr['seconds'] / 60:.1f} min | "
                     f"{tr['device']} |")
    wall = max(e for _, e in spans) - min(b for b, _ in spans) if spans else 0.0
    lines.append(f"\nTraining time recorded in the cards: {total / 60:.0f} min in all; {wall / 60:.0f} min from the "
                 "first start to the last end (runs that overlapped count once).")
    return "\n".join(lines)


def cmd_shipped_table(args) -> int:
    print(shipped_table())
    return 0


def cmd_bench(args) -> int:
    from bench.throughput import main as bench_main  # bench/ lives beside lib/, see docs/benchmarks.md
    return bench_main(args)


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    for f in fields(TrainConfig):
        kind = {"int": int, "float": float, "str": str}[f.type]
        p.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=None,
                       help=f"default {f.default!r}")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m lib.cli", description="Row by Row: train and evaluate row RNNs.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a model (every config field is a flag)")
    p.add_argument("--preset", choices=list(PRESETS))
    _add_config_flags(p)
    p.add_argument("--out", help="save weights and card to this path (.safetensors + .json)")
    p.add_argument("--name", help="the name written into the card")
    p.add_argument("--json", action="store_true", help="one JSON object per line; the last is the result")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="score a saved model on the MNIST test set")
    p.add_argument("path")
    p.add_argument("--order", choices=list(ORDERS))
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("make-pretrained", help="retrain every shipped model into pretrained/")
    p.add_argument("--only", nargs="+", choices=list(SPECS))
    p.add_argument("--out", default=str(FOLDER))
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_make_pretrained)
    p = sub.add_parser("shipped-table", help="print the shipped models' markdown table (as in the README)")
    p.set_defaults(func=cmd_shipped_table)
    p = sub.add_parser("bench", help="data pipeline throughput vs the lesson's, and time to 98 %%")
    p.add_argument("--quick", action="store_true", help="fewer batches (a smoke run, not for the record)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--skip-time-to-98", action="store_true")
    p.set_defaults(func=cmd_bench)
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, CheckpointError, DataUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a folder we may not write to
        print(f"error: cannot write or read a file: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
