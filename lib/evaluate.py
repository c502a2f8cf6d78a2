"""Scoring a model on the test set, as plain data for cards, charts and the row-order experiment."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .data import MnistData, stratified_indices
from .model import RowClassifier, model_input


@torch.no_grad()
def evaluate(model: RowClassifier, data: MnistData, order: str = "forward", batch_size: int = 1000,
             limit: int = 0, seed: int = 0) -> dict:
    """Test metrics as plain data: acc, loss, confusion, per-class acc and accuracy after reading k rows."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    idx = stratified_indices(data.test_y, limit, seed)
    gen = torch.Generator().manual_seed(seed)
    step_correct = torch.zeros(28, dtype=torch.long)
    loss_sum, preds = 0.0, []
    for start in range(0, len(idx), batch_size):
        chunk = idx[start:start + batch_size]
        x = model_input(data.test_x[chunk].to(device), order, gen)  # (B, 28, 28) float, step-major
        y = data.test_y[chunk].to(device)
        logits = model.step_logits(x)  # (B, 28, 10)
        loss_sum += F.cross_entropy(logits[:, -1], y, reduction="sum").item()
        step_correct += (logits.argmax(-1) == y[:, None]).sum(0).cpu()
        preds.append(logits[:, -1].argmax(-1).cpu())
    model.train(was_training)
    pred, true = torch.cat(preds), data.test_y[idx].cpu()
    confusion = torch.bincount(true * 10 + pred, minlength=100).view(10, 10)
    per_class = confusion.diag().float() / confusion.sum(1).clamp(min=1).float()
    n = len(idx)
    return {"order": order, "split": "test", "n": n, "acc": (pred == true).float().mean().item(), "loss": loss_sum / n,
            "confusion": confusion.tolist(), "per_class_acc": per_class.tolist(),
            "acc_by_rows": (step_correct.float() / n).tolist(), "indices": idx.tolist(),
            "predictions": pred.tolist()}
