"""Command line for the lesson's measurements inside a recurrent model:
`python -m lib.cli gradients|probe|parallel|record-experiments` (hooked into lib.cli.main by add_commands).

MODEL is a checkpoint path (PATH.safetensors with its PATH.json card) or a shipped model's name (pretrained/NAME);
a shipped name whose files are not there yet (the longer-sequence models while they train) is a clear error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lib.data.mnist import load_mnist
from lib.experiments import gradients as grads
from lib.experiments import parallel, probes, recorded
from lib.messages import msg
from lib.storage.checkpoints import CheckpointError, load_checkpoint
from lib.storage.pretrained import FOLDER, SPECS
from lib.training.devices import DEVICES

GRADIENT_MODELS = tuple(dict.fromkeys([*grads.COMPARED.values(), *grads.LONG.values()]))  # drawn by the Lesson
RECORDED_MODELS = tuple(dict.fromkeys([*GRADIENT_MODELS, *probes.PROBED]))


def resolve(model: str) -> Path:
    """The weights file of MODEL: an existing checkpoint path (with or without its suffix), else pretrained/MODEL;
    a shipped model whose files are not there yet (the longer-sequence models while they train) says so."""
    path = Path(model).with_suffix(".safetensors") if Path(model).suffix in ("", ".json", ".safetensors") \
        else Path(model)
    if path.is_file():
        return path
    shipped = FOLDER / f"{model}.safetensors"
    if shipped.is_file():
        return shipped
    if model in SPECS or model in RECORDED_MODELS:
        raise CheckpointError(msg("model.not_shipped", name=model, path=str(shipped)))
    raise CheckpointError(msg("file.missing", path=str(path)))


def _count(text: str) -> int:
    """A whole number of digits from 1 to 60,000, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 60_000:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 60,000")
    return value


def _load(model: str):
    """(model, card) of MODEL: a one-way recurrent model, or a clear error."""
    trained, card = load_checkpoint(resolve(model))
    if not getattr(trained, "answers_each_step", False):  # a CNN, a Transformer or a two-way reader
        raise CheckpointError(msg("model.not_one_way", name=model))
    return trained, card


def compute_gradients(model: str, init: bool = False, data=None, digits: int = grads.DIGITS) -> dict:
    net, card = _load(model)
    return grads.of_model(net, card["config"], data or load_mnist(), init, digits)


def compute_probes(model: str, data=None, **options) -> dict:
    net, card = _load(model)
    return probes.of_model(net, card["config"], data or load_mnist(), **options)


def cmd_gradients(args) -> int:
    out = compute_gradients(args.model, args.init, digits=args.digits)
    if args.json:
        print(json.dumps(out))
    else:
        for k, g, h in zip(out["steps"], out["grad_norm"], out["hidden_norm"]):
            print(f"step {k:>3}: |dL/dx| {g:9.2e}   |dL/dh| {h:9.2e}")
        print(f"{'initial' if args.init else 'trained'} weights, {out['n']} test digits (geometric means)")
    return 0


def cmd_probe(args) -> int:
    progress = (lambda k: None) if args.json else (lambda k: print(f"row {k} probed", file=sys.stderr, flush=True))
    out = compute_probes(args.model, train_digits=args.train_digits, test_digits=args.test_digits, on_row=progress)
    if args.json:
        print(json.dumps(out))
    else:
        for k, p, s, r in zip(out["rows"], out["probe_acc"], out["state_acc"], out["readout_acc"]):
            print(f"after row {k:>2}: probe on h {p:.2%}   on every state {s:.2%}   classifier {r:.2%}")
    return 0


def cmd_parallel(args) -> int:
    out = parallel.measure(args.device, args.batch_size, args.repeats)
    print(json.dumps(out) if args.json else
          f"{out['device']}: the waiting part takes {out['share']:.0%} of a training step "
          f"({out['share_low']:.0%}-{out['share_high']:.0%} over {out['repeats']} repeats)")
    return 0


def cmd_record(args) -> int:
    """Record the gradients (trained and initial weights) and the probes of the models the pages draw, skipping
    those already recorded for the weights now in pretrained/ (unless --force) and those not shipped yet."""
    data = load_mnist()
    for name in args.only or RECORDED_MODELS:
        if not (FOLDER / f"{name}.safetensors").is_file():
            print(f"{name}: not shipped yet, skipped", flush=True)
            continue
        jobs = [("gradients", False), ("gradients", True)] * (name in GRADIENT_MODELS)
        jobs += [("probes", False)] * (name in probes.PROBED)
        for kind, init in jobs:
            if not args.force and recorded.lookup(kind, name, init, folder=FOLDER) is not None:
                print(f"{name} {kind}{' (initial weights)' if init else ''}: recorded already", flush=True)
                continue
            start = time.perf_counter()
            result = compute_gradients(name, init, data) if kind == "gradients" else compute_probes(name, data)
            seconds = time.perf_counter() - start
            path = recorded.store(kind, name, result, data.describe(), seconds, init, folder=FOLDER)
            print(f"{name} {kind}{' (initial weights)' if init else ''}: {seconds:.0f} s -> {path}", flush=True)
    return 0


def add_commands(sub) -> None:
    """The subcommands, added to lib.cli.main's parser."""
    p = sub.add_parser("gradients", help="gradient of the last step's loss with respect to each step's input and "
                                         "hidden state (one-way recurrent models)")
    p.add_argument("model", help="a checkpoint path or a shipped model's name")
    p.add_argument("--init", action="store_true", help="a freshly initialised model of the same config instead")
    p.add_argument("--digits", type=_count, default=grads.DIGITS, help="test digits, balanced by class")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_gradients)
    p = sub.add_parser("probe", help="linear probes on the state after each row, beside the classifier's read-out")
    p.add_argument("model", help="a checkpoint path or a shipped model's name")
    p.add_argument("--train-digits", type=_count, default=probes.TRAIN_DIGITS)
    p.add_argument("--test-digits", type=_count, default=probes.TEST_DIGITS)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_probe)
    p = sub.add_parser("parallel", help="which part of an LSTM's training step waits for the step before: timed")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--batch-size", type=_count, default=parallel.BATCH)
    p.add_argument("--repeats", type=_count, default=parallel.REPEATS, help="timed rounds (medians reported)")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_parallel)
    p = sub.add_parser("record-experiments", help="record the gradients and probes of the shipped models the pages "
                                                  "draw into docs/gradients.json and docs/probes.json")
    p.add_argument("--only", nargs="+", choices=list(RECORDED_MODELS))
    p.add_argument("--force", action="store_true", help="record again even where the record fits the weights")
    p.set_defaults(func=cmd_record)
