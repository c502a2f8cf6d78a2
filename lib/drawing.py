"""One digit at a time: a canvas drawing made MNIST-like, and what the network sees and does while reading it."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .messages import Problem, msg
from .model import RowClassifier, model_input, trace
from .orders import SIDE, get_order

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


def read_digit(model: RowClassifier, image: np.ndarray, order: str, seed: int = 0) -> dict:
    """Feed one (28, 28) uint8 digit to `model` in `order`; the trace for that one digit plus which line each step read.

    Returns numpy arrays without the batch axis: probs (28, 10), hidden (28, H), for LSTMs input/forget/output/cell
    (L, 28, H); and plain data: lines (28 ints, the original row or column read at each step), axis (1 rows,
    2 columns), predicted and confidence (the top class and its probability after each step), settled (the first
    step from which the prediction stays the final one). The "random" order is seeded with `seed`, so it is stable.
    """
    rows = get_order(order)
    x = torch.as_tensor(np.asarray(image, dtype=np.uint8))[None]  # (1, 28, 28) uint8
    seq = model_input(x, order, torch.Generator().manual_seed(seed))  # (1, 28, 28) float, step-major
    lines = rows.line_index(1, torch.Generator().manual_seed(seed))[0].tolist()  # same draw as apply's
    result = {k: (v[0] if k in ("probs", "hidden") else v[:, 0]) for k, v in trace(model, seq).items()}
    predicted = result["probs"].argmax(-1).tolist()  # (28,) top class after each step
    changed = [k for k in range(1, SIDE) if predicted[k] != predicted[k - 1]]
    return result | {"lines": lines, "axis": rows.axis, "predicted": predicted,
                     "confidence": result["probs"].max(-1).tolist(), "settled": changed[-1] + 1 if changed else 1}
