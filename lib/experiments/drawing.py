"""One digit at a time: a canvas drawing made MNIST-like, and what the network sees and does while reading it."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.data.orders import SIDE, get_order
from lib.experiments.internals import trace
from lib.messages import Problem, msg
from lib.models.nets import model_input

BOX = 20  # MNIST fits each digit's longer side into 20 pixels...
CENTRE = 14.0  # ...and moves its centre of mass here (the real test set averages (14.0, 14.0))
INK_LEVEL = 0.05 * 255  # a pixel brighter than this counts as ink when cropping


class BlankDrawing(Problem):
    """The drawing holds no ink: nothing to classify yet."""


def to_gray(canvas: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3|4) uint8 -> (H, W) float32 ink in 0..255 (brightest channel, weighted by alpha)."""
    if not isinstance(canvas, np.ndarray):
        raise Problem(msg("drawing.not_image", kind=type(canvas).__name__))
    if canvas.dtype != np.uint8:
        raise Problem(msg("drawing.not_uint8", dtype=str(canvas.dtype)))
    if canvas.ndim == 2:
        gray = canvas.astype(np.float32)
    elif canvas.ndim == 3 and canvas.shape[2] in (3, 4):
        gray = canvas[..., :3].max(axis=2).astype(np.float32)  # (H, W): white strokes are bright
        if canvas.shape[2] == 4:
            gray *= canvas[..., 3].astype(np.float32) / 255.0  # transparent pixels hold no ink
    else:
        raise Problem(msg("drawing.bad_shape", shape=tuple(canvas.shape)))
    if min(gray.shape) < 1:
        raise Problem(msg("drawing.empty", shape=tuple(canvas.shape)))
    return gray


def _crop(gray: np.ndarray) -> np.ndarray:
    """(H, W) -> (h, w) bounding box of the ink; ValueError if there is none."""
    ink = gray > INK_LEVEL
    if not ink.any():
        raise BlankDrawing(msg("drawing.blank"))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(crop: np.ndarray) -> np.ndarray:
    """(h, w) -> anti-aliased (h', w') with the longer side BOX pixels, aspect ratio kept, brightest pixel 255."""
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    x = torch.from_numpy(np.ascontiguousarray(crop))[None, None]  # (1, 1, h, w)
    mode = "area" if scale < 1 else "bilinear"  # area = box filter when shrinking; smooth when enlarging
    small = F.interpolate(x, size=size, mode=mode, **({} if mode == "area" else {"align_corners": False}))
    small = small[0, 0].numpy()  # (h', w')
    return small * (255.0 / max(float(small.max()), 1e-6))


def _centre(img: np.ndarray) -> np.ndarray:
    """(28, 28) -> the same shifted by whole pixels so its centre of mass is nearest (14, 14), ink kept inside."""
    ys, xs = np.mgrid[:SIDE, :SIDE]
    mass = img.sum()
    shifts = []
    for coords, axis in ((ys, 1), (xs, 0)):
        com = float((img * coords).sum() / mass)
        occupied = np.flatnonzero(img.any(axis=axis))
        lo, hi = -int(occupied[0]), SIDE - 1 - int(occupied[-1])  # the shifts that keep the ink inside
        shifts.append(int(np.clip(round(CENTRE - com), lo, hi)))
    return np.roll(img, shifts, axis=(0, 1))  # only empty margin wraps around


def preprocess(canvas: np.ndarray) -> np.ndarray:
    """A drawing (RGBA canvas or grayscale, light ink on dark) -> an MNIST-style (28, 28) uint8 digit."""
    small = _fit(_crop(to_gray(canvas)))  # (h', w'), max(h', w') == 20
    img = np.zeros((SIDE, SIDE), dtype=np.float32)
    h, w = small.shape
    top, left = (SIDE - h) // 2, (SIDE - w) // 2
    img[top:top + h, left:left + w] = small
    return np.clip(np.rint(_centre(img)), 0, 255).astype(np.uint8)


def read_digit(model: nn.Module, image: np.ndarray, order: str, seed: int = 0) -> dict:
    """Feed one (28, 28) uint8 digit to `model` (any family) in `order`: what its family shows of that one digit.

    Every family: lines (28 ints, the original row or column at each input line), axis (1 rows, 2 columns), arranged
    ((28, 28) uint8, the digit as the model receives it: line k is original line lines[k]; the row order rearranges
    the pixels before any family sees them), and predicted and confidence, lists with one entry per answer the model
    gives (the top class and its probability), so [-1] is always its final answer.
    Recurrent: 28 answers, one after each step; probs (28, 10), hidden (28, H), for LSTMs input/forget/output/cell
    (L, 28, H), and settled (the first step from which the prediction stays the final one).
    Others answer once, having seen all lines together: probs (10,), predicted and confidence of length 1; a
    Transformer also attention (L, 28), the class token's attention to each input line per layer (mean over heads);
    a CNN features (C, 28, 28), its first convolution's maps after ReLU, and filters (C, 3, 3).
    Arrays are numpy, without the batch axis. The "random" order is seeded with `seed`, so it is stable.
    """
    rows = get_order(order)
    x = torch.as_tensor(np.asarray(image, dtype=np.uint8))[None]  # (1, 28, 28) uint8
    seq = model_input(x, order, torch.Generator().manual_seed(seed),  # (1, 28 * per row, 28 / per row) float
                      steps_per_row=getattr(model, "steps_per_row", 1))
    arranged = rows.apply(x, torch.Generator().manual_seed(seed))[0].numpy()  # the same draw, before normalising
    lines = rows.line_index(1, torch.Generator().manual_seed(seed))[0].tolist()  # same draw as apply's
    per_layer = ("input", "forget", "output", "cell", "attention")  # (L, B, ...): the batch is the second axis
    result = {k: v if k == "filters" else v[:, 0] if k in per_layer else v[0] for k, v in trace(model, seq).items()}
    answers = np.atleast_2d(result["probs"])  # (28, 10) recurrent, (1, 10) otherwise
    predicted = answers.argmax(-1).tolist()  # the top class after each answer
    common = {"lines": lines, "axis": rows.axis, "arranged": arranged, "predicted": predicted,
              "confidence": answers.max(-1).tolist()}
    if result["probs"].ndim == 1:
        return result | common
    changed = [k for k in range(1, SIDE) if predicted[k] != predicted[k - 1]]
    return result | common | {"settled": changed[-1] + 1 if changed else 1}
