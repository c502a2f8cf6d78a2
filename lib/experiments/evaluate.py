"""Scoring a model on the test set, as plain data for cards, charts and the row-order experiment."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lib.data.mnist import MnistData, stratified_indices
from lib.models.nets import model_input


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: MnistData, order: str = "forward", batch_size: int = 1000,
             limit: int = 0, seed: int = 0, indices: torch.Tensor | None = None) -> dict:
    """Metrics as plain data: acc, loss, confusion, per-class acc and accuracy after reading k rows (None for a
    family that reads all rows at once: it has no answer after k rows).

    On the test set (`limit` digits balanced by class, 0 = all), or on the training digits at `indices` (a validation
    split held out of training); "split" in the result says which.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    split = "test" if indices is None else "validation"
    images, labels = (data.test_x, data.test_y) if indices is None else (data.train_x, data.train_y)
    idx = stratified_indices(labels, limit, seed) if indices is None else indices.cpu()
    gen = torch.Generator().manual_seed(seed)
    recurrent = getattr(model, "answers_each_step", False)  # a one-way recurrent model answers after every step
    per_row = getattr(model, "steps_per_row", 1)  # steps per line: the answer after k rows is after step k * per_row
    step_correct = torch.zeros(28, dtype=torch.long)
    loss_sum, preds = 0.0, []
    for start in range(0, len(idx), batch_size):
        chunk = idx[start:start + batch_size]
        x = model_input(images[chunk.to(images.device)].to(device), order, gen,  # (B, 28 * per_row, 28 / per_row)
                        steps_per_row=per_row)
        y = labels[chunk.to(labels.device)].to(device)
        steps = model.step_logits(x)[:, per_row - 1::per_row] if recurrent else None  # (B, 28, 10): after each row
        logits = steps[:, -1] if recurrent else model(x)  # (B, 10)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        if recurrent:
            step_correct += (steps.argmax(-1) == y[:, None]).sum(0).cpu()
        preds.append(logits.argmax(-1).cpu())
    model.train(was_training)
    pred, true = torch.cat(preds), labels.cpu()[idx]
    confusion = torch.bincount(true * 10 + pred, minlength=100).view(10, 10)
    per_class = confusion.diag().float() / confusion.sum(1).clamp(min=1).float()
    n = len(idx)
    return {"order": order, "split": split, "n": n, "acc": (pred == true).float().mean().item(), "loss": loss_sum / n,
            "confusion": confusion.tolist(), "per_class_acc": per_class.tolist(),
            "acc_by_rows": (step_correct.float() / n).tolist() if recurrent else None, "indices": idx.tolist(),
            "predictions": pred.tolist()}
