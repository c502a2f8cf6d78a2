"""Our in-memory pipeline against the lesson's torchvision DataLoader, same model and batch; then time to 98 %."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from lib.data import MEAN, STD, load_mnist
from lib.train import build_model, device_label, evaluate, preset, resolve_device, train, use_bf16


def lesson_loaders(root: str, batch_size: int):
    """The original lesson's input pipeline: per-sample ToTensor + Normalize in a DataLoader."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    train_set = datasets.MNIST(root, train=True, download=False, transform=tf)
    test_set = datasets.MNIST(root, train=False, download=False, transform=tf)
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True),
            torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=False))


def time_lesson_train(model, loader, steps: int, device) -> float:
    """Samples/s of the lesson's loop: (B, 1, 28, 28) -> view (B, 28, 28) -> LSTM -> SGD step."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    seen, t0 = 0, None
    for i, (x, y) in enumerate(loader):
        if i == 5:  # warm-up steps excluded
            _sync(device)
            seen, t0 = 0, time.perf_counter()
        x, y = x.view(-1, 28, 28).to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
        if i == steps + 5:
            break
    _sync(device)
    return seen / (time.perf_counter() - t0)


@torch.no_grad()
def time_lesson_eval(model, loader, device) -> float:
    model.eval()
    seen, t0 = 0, time.perf_counter()
    for x, y in loader:
        model(x.view(-1, 28, 28).to(device)).argmax(1).cpu()
        seen += len(y)
    _sync(device)
    return seen / (time.perf_counter() - t0)


def time_ours_train(cfg, data, steps: int) -> float:
    """Samples/s reported by lib.train over `steps` steps after 5 warm-up steps."""
    model = build_model(cfg)
    events = list(train(replace(cfg, max_steps=steps + 5, log_every=5, epochs=50), data, model))
    rates = [e["samples_per_s"] for e in events if e["event"] == "step"][1:]  # drop the warm-up window
    return sum(rates) / len(rates)


def time_ours_eval(cfg, data, device) -> float:
    model = build_model(cfg).to(device)
    on_device = data.to(device)
    _sync(device)
    t0 = time.perf_counter()
    n = evaluate(model, on_device, cfg.order, batch_size=cfg.batch_size)["n"]
    _sync(device)
    return n / (time.perf_counter() - t0)


def time_to_98(data, device_name: str) -> dict:
    """Wall seconds from model creation until the `fast` preset's test accuracy first reaches 98 %."""
    cfg = preset("fast", device=device_name)
    t0 = time.perf_counter()
    for e in train(cfg, data, build_model(cfg)):
        if e["event"] == "epoch" and e["test_acc"] >= 0.98:
            return {"seconds": round(time.perf_counter() - t0, 1), "epoch": e["epoch"], "test_acc": e["test_acc"]}
    return {"seconds": None, "epoch": None, "test_acc": e.get("test_acc")}


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(args) -> int:
    root = os.environ.get("MNIST_ROOT")
    data = load_mnist()
    if not root or data.source != "mnist":
        print("bench needs the full MNIST in torchvision's layout: set MNIST_ROOT")
        return 2
    device = resolve_device(args.device)
    cfg = preset("lesson", batch_size=args.batch_size, device=args.device)
    steps = 40 if args.quick else 300
    train_loader, test_loader = lesson_loaders(root, args.batch_size)
    lesson = build_model(cfg).to(device)
    row = {"machine": f"{platform.node()} {device_label(device)}", "torch": torch.__version__,
           "batch_size": args.batch_size, "steps": steps,
           "lesson_train_sps": time_lesson_train(lesson, train_loader, steps, device),
           "ours_train_sps": time_ours_train(cfg, data, steps),
           "ours_auto_train_sps": time_ours_train(replace(cfg, precision="auto"), data, steps),
           "auto_precision": "bf16" if use_bf16("auto", device) else "fp32",
           "lesson_eval_sps": time_lesson_eval(lesson, test_loader, device),
           "ours_eval_sps": time_ours_eval(cfg, data, device)}
    row["train_ratio"] = row["ours_train_sps"] / row["lesson_train_sps"]
    row["auto_train_ratio"] = row["ours_auto_train_sps"] / row["lesson_train_sps"]
    row["eval_ratio"] = row["ours_eval_sps"] / row["lesson_eval_sps"]
    row["epoch_s_ours"] = len(data.train_y) / max(row["ours_train_sps"], row["ours_auto_train_sps"])
    if not args.skip_time_to_98:
        row["time_to_98"] = time_to_98(data, args.device)
    print(table(row))
    print(json.dumps(row))
    return 0


def table(r: dict) -> str:
    """The result as a markdown table."""
    lines = ["| pipeline | train samples/s | eval samples/s |", "|---|---:|---:|",
             f"| lesson (torchvision DataLoader, per-sample transforms) | {r['lesson_train_sps']:,.0f} | "
             f"{r['lesson_eval_sps']:,.0f} |",
             f"| Row by Row (uint8 tensors in memory, batches by index), float32 | {r['ours_train_sps']:,.0f} | "
             f"{r['ours_eval_sps']:,.0f} |",
             f"| Row by Row, precision auto ({r['auto_precision']}) | {r['ours_auto_train_sps']:,.0f} | (float32) |",
             f"| **ratio, float32 / lesson** | **{r['train_ratio']:.2f}×** | **{r['eval_ratio']:.2f}×** |",
             f"| **ratio, precision auto / lesson** | **{r['auto_train_ratio']:.2f}×** | |"]
    lines.append(f"\n{r['machine']}, torch {r['torch']}, LSTM 2×100, batch {r['batch_size']}, {r['steps']} steps; "
                 f"a 60,000-digit epoch of ours takes {r['epoch_s_ours']:.1f} s.")
    if "time_to_98" in r:
        t = r["time_to_98"]
        lines.append(f"Time to 98 % (fast preset): {t['seconds']} s (epoch {t['epoch']}, "
                     f"test acc {t['test_acc']:.4f}).")
    return "\n".join(lines)
