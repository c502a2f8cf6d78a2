"""Command line: `python -m lib.cli train|evaluate|make-pretrained|make-sample|shipped-table|scaling|class` (and
gradients|probe|parallel|record-experiments, from lib.cli.experiments)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import fields
from pathlib import Path

from lib.cli import experiments as experiment_commands
from lib.cli.classroom import add_commands as add_class_commands
from lib.cli.remote import train_elsewhere
from lib.data.mnist import DataUnavailable, MnistData, load_mnist
from lib.data.orders import ORDERS
from lib.data.sample import FOLDER as SAMPLE_FOLDER
from lib.data.sample import make_sample
from lib.experiments import scaling
from lib.experiments.evaluate import evaluate
from lib.messages import Message
from lib.models.families import FAMILIES
from lib.runs.choice import EXECUTORS, open_executor
from lib.storage import documents
from lib.storage.checkpoints import CheckpointError, card_from_run, load_checkpoint, save_checkpoint
from lib.storage.pretrained import FOLDER, SPECS
from lib.storage.shipping import make
from lib.training.config import LEGACY_NAMES, TrainConfig, sized_to_data
from lib.training.devices import DEVICES, resolve_device
from lib.training.fit import fit
from lib.training.limits import setting_help
from lib.training.presets import PRESETS, preset
from lib.training.train import held_out


def fit_and_card(cfg: TrainConfig, data: MnistData, name: str, on_event=lambda e: None):
    """Train through lib.training.fit and return (model, card, final result dict); a diverged run has no card."""
    fitted = fit(cfg, data, on_event=on_event)
    end = fitted.end
    message = Message.from_dict(end["message"]).render() if end.get("message") else None
    result = {"event": "result", "name": name, "end": end["event"], "message": message,
              "order": cfg.order, "seconds": round(fitted.seconds, 2)}
    if fitted.scores is None:
        return fitted.model, None, result | {"test_acc": None, "test_loss": None, "n": 0}
    test = fitted.scores
    card = card_from_run(name, cfg, test, data.describe(), fitted.events, fitted.seconds)
    return fitted.model, card, result | {"test_acc": test["acc"], "test_loss": test["loss"], "n": test["n"]}


def _config_from_args(args) -> TrainConfig:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    checked = TrainConfig.from_dict(given)  # the type checks of cards, links and classroom files (a seed of 2**64 …)
    overrides = {name: getattr(checked, name) for name in given}
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
            held = held_out(e)
            digits = "held-out training digits" if held["split"] == "val" else "test digits"
            self.bar.write(f"epoch {e['epoch']}: {held['split']} acc {held['acc']:.4f}, {held['split']} loss "
                           f"{held['loss']:.4f} ({held['n']:,} {digits})")
        elif e["event"] in ("diverged", "done", "stopped"):
            self.bar.close()
            if e.get("message"):
                print(Message.from_dict(e["message"]).render(), file=sys.stderr)


def cmd_train(args) -> int:
    cfg = _config_from_args(args).validate()
    data = load_mnist()
    cfg, notes = sized_to_data(cfg, len(data.train_y), len(data.test_y))  # the card records what was used
    for note in notes:
        print(f"note: {note.render()}", file=sys.stderr)
    on_event = (lambda e: print(json.dumps(e), flush=True)) if args.json else _Progress()
    executor, notice = open_executor(lambda: None, flag=args.executor)  # None: train in this process, as ever
    if notice is not None:
        print(f"note: {notice.render()}", file=sys.stderr)
    if executor is not None:
        return train_elsewhere(executor, cfg, data, args, on_event, _test_digits(data))
    model, card, result = fit_and_card(cfg, data, args.name or Path(args.out or "run").stem, on_event)
    if args.out and card is not None:  # trained here: the card says so, as a Ray run's names its worker
        card |= {"executor": "local", "worker": f"{socket.gethostname()} pid {os.getpid()}"}
        save_checkpoint(Path(args.out).with_suffix(""), model, card)
    if args.json:
        print(json.dumps(result))
    elif card is not None:
        print(f"test accuracy {result['test_acc']:.4f} on the {result['n']:,} {_test_digits(data)}")
    return 1 if result["end"] == "diverged" else 0


def _test_digits(data: MnistData) -> str:
    """Which digits a score was measured on, in words: always the official MNIST test digits (full set or sample)."""
    return "MNIST test digits" + (" (from the shipped sample)" if data.source == "sample" else "")


def cmd_evaluate(args) -> int:
    model, card = load_checkpoint(args.path)
    order = args.order or card["config"]["order"]
    data = load_mnist()
    test = evaluate(model.to(resolve_device(args.device)), data, order)
    out = {"path": str(args.path), "test_acc": test["acc"], "test_loss": test["loss"], "n": test["n"], "order": order,
           "split": test["split"], "data": data.source}
    print(json.dumps(out) if args.json else
          f"{args.path}: {test['acc']:.4f} on the {test['n']:,} {_test_digits(data)} ({order})")
    return 0


def cmd_make_pretrained(args) -> int:
    """Tune (where a model's family is tuned), train, score once and save every shipped model asked for; resumable."""
    seed = TrainConfig.from_dict({"seed": args.seed}).validate().seed  # the checks of every other way in
    data = load_mnist()
    if not data.full:
        print("error: make-pretrained needs the full MNIST: set MNIST_ROOT", file=sys.stderr)
        return 2
    return make(args.only or list(SPECS), data, Path(args.out), args.device, seed)


def cmd_shipped_table(args) -> int:
    print(documents.shipped_table())
    return 0


def cmd_docs(args) -> int:
    """Check (or with --write rewrite) the documents' blocks generated from the cards; 1 when some are stale."""
    if args.write:
        for block in documents.write():
            print(f"rewrote {block}")
        return 0
    stale = documents.stale()
    for block in stale:
        print(f"stale: {block} (python -m lib.cli docs --write)")
    return 1 if stale else 0


def _positive(text: str) -> int:
    """A whole number from 1 to 100,000, for argparse (which then prints `error: …` with the usage)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 100,000")
    return value


def cmd_scaling(args) -> int:
    """Time per training step and per prediction as the image grows, for each family; --json: the last line."""
    def progress(family, height, result):
        if not args.json:
            shown = ("out of memory" if "error" in result else
                     f"train {result['train_ms']:8.1f} ms/step, predict {result['predict_ms']:8.1f} ms")
            print(f"{height:>4} × {height:<4} {family:<12} {shown}", flush=True)

    out = scaling.scaling(args.device, tuple(args.heights), tuple(args.families), args.repeats, args.batch_size, progress)
    print(json.dumps(out) if args.json else f"{out['device']}, batch {out['batch_size']}, medians of {args.repeats}")
    return 0


def cmd_make_sample(args) -> int:
    root = args.root or os.environ.get("MNIST_ROOT")
    if not root:
        print("error: make-sample needs the official MNIST files: set MNIST_ROOT or pass --root", file=sys.stderr)
        return 2
    made = make_sample(Path(root), Path(args.out))
    print(f"wrote {args.out}: {len(made['train_indices']):,} training digits and all 10,000 test digits")
    return 0


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    """One flag per setting (--batch-size for batch_size), its help from the setting's declaration; the old names of
    renamed settings (--cell for --family) still work."""
    old_names = {new: old for old, new in LEGACY_NAMES.items()}
    for f in fields(TrainConfig):
        kind = {"int": int, "float": float, "str": str, "bool": str}[f.type]  # "false": TrainConfig.from_dict reads it
        flags = ["--" + f.name.replace("_", "-")] + (["--" + old_names[f.name]] if f.name in old_names else [])
        p.add_argument(*flags, dest=f.name, type=kind, default=None, help=setting_help(f.name, f.default))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m lib.cli", description="Row by Row: train and evaluate row RNNs.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a model (every config field is a flag)")
    p.add_argument("--preset", choices=list(PRESETS))
    _add_config_flags(p)
    p.add_argument("--out", help="save weights and card to this path (.safetensors + .json)")
    p.add_argument("--name", help="the name written into the card")
    p.add_argument("--json", action="store_true", help="one JSON object per line; the last is the result")
    p.add_argument("--executor", choices=EXECUTORS, help="where to train: local (this process, the default) or ray "
                   "(the cluster at RAY_ADDRESS, else a local Ray); default: $ROW_BY_ROW_EXECUTOR, else local")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="score a saved model on the MNIST test set")
    p.add_argument("path")
    p.add_argument("--order", choices=list(ORDERS))
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("make-pretrained", help="retrain every shipped model into pretrained/")
    p.add_argument("--only", nargs="+", choices=list(SPECS))
    p.add_argument("--out", default=str(FOLDER))
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--seed", type=int, default=0,
                   help="0 (default): the shipped weights; another seed writes only the card, into OUT/seeds/")
    p.set_defaults(func=cmd_make_pretrained)
    p = sub.add_parser("scaling", help="sequential against parallel: ms per training step and per prediction as "
                                       "the image grows (heights 28-224), for each model family")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--heights", nargs="+", type=int, default=list(scaling.HEIGHTS), choices=scaling.HEIGHTS)
    p.add_argument("--families", nargs="+", default=list(scaling.MEASURED), choices=list(FAMILIES))
    p.add_argument("--repeats", type=_positive, default=5, help="timed steps per measurement (their median is reported)")
    p.add_argument("--batch-size", type=_positive, default=64)
    p.add_argument("--json", action="store_true", help="one JSON object on the last line")
    p.set_defaults(func=cmd_scaling)
    experiment_commands.add_commands(sub)  # gradients, probe, parallel, record-experiments
    p = sub.add_parser("shipped-table", help="print the shipped models' markdown table (as in the README)")
    p.set_defaults(func=cmd_shipped_table)
    p = sub.add_parser("docs", help="check the documents' tables generated from the cards (--write rewrites them)")
    p.add_argument("--write", action="store_true")
    p.set_defaults(func=cmd_docs)
    p = sub.add_parser("make-sample", help="rebuild mnist-sample/ (the shipped offline digits) from the official files")
    p.add_argument("--root", help="the official MNIST in torchvision's layout (default: $MNIST_ROOT)")
    p.add_argument("--out", default=str(SAMPLE_FOLDER))
    p.set_defaults(func=cmd_make_sample)
    add_class_commands(sub)
    return ap


def main(argv=None) -> int:
    """Run one command; returns its exit code (2 for bad input, with an `error: …` line) and never raises."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and `error: …` (or the help, with code 0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return args.func(args)
    except (ValueError, CheckpointError, DataUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk or a folder we may not write to
        print(f"error: cannot write or read a file: {exc}", file=sys.stderr)
        return 2

