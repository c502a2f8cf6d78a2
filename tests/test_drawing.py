"""Drawings made MNIST-like (crop, fit into 20x20, centre of mass at (14, 14)) and one-digit traces."""

import numpy as np
import pytest
import torch

from lib.data.orders import get_order
from lib.experiments.drawing import preprocess, read_digit
from lib.training.config import TrainConfig, build_model


def canvas(height=280, width=280) -> np.ndarray:
    """A blank RGBA canvas like streamlit-drawable-canvas returns: opaque black."""
    img = np.zeros((height, width, 4), dtype=np.uint8)
    img[..., 3] = 255
    return img


def paint(img, top, bottom, left, right):
    img[top:bottom, left:right, :3] = 255
    return img


def ink_box(img):
    rows, cols = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(img):
    ys, xs = np.mgrid[:28, :28]
    m = img.astype(float).sum()
    return (img * ys).sum() / m, (img * xs).sum() / m


@pytest.mark.parametrize("box", [(20, 200, 30, 60), (150, 275, 160, 278), (5, 120, 5, 100), (130, 150, 10, 270)])
def test_shapes_size_and_centre(box):
    out = preprocess(paint(canvas(), *box))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    h, w = ink_box(out)
    assert max(h, w) <= 21 and max(h, w) >= 19  # the longer side is fit into 20 px (+1 for anti-aliasing)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert out.max() == 255


def test_aspect_ratio_is_kept():
    out = preprocess(paint(canvas(), 20, 200, 100, 160))  # a 180 x 60 bar: 3 to 1
    h, w = ink_box(out > 64)
    assert h == 20 and 6 <= w <= 8


def test_alpha_and_grayscale_inputs():
    transparent = np.zeros((100, 140, 4), dtype=np.uint8)
    transparent[30:70, 50:60] = 255  # white, opaque strokes on a fully transparent background
    gray = transparent[..., 0].copy()
    assert np.array_equal(preprocess(transparent), preprocess(gray))
    invisible = transparent.copy()
    invisible[..., 3] = 0  # white pixels with zero alpha are not ink
    with pytest.raises(ValueError, match="blank"):
        preprocess(invisible)


@pytest.mark.parametrize("bad", [np.zeros((280, 280, 4), np.uint8), canvas(), np.zeros((28, 28), np.uint8)])
def test_blank_canvas_raises(bad):
    with pytest.raises(ValueError, match="blank"):
        preprocess(bad)


@pytest.mark.parametrize("bad", [np.ones((10, 10, 2), np.uint8), np.ones((4, 4, 4, 4), np.uint8),
                                 np.ones((28, 28), np.float32), [[1, 2], [3, 4]], np.ones((0, 5), np.uint8)])
def test_wrong_input_raises(bad):
    with pytest.raises(ValueError):
        preprocess(bad)


def test_real_digit_survives_upscale_and_preprocess(mnist):
    for i in range(10):
        original = mnist.test_x[i].numpy()  # (28, 28) uint8
        big = np.kron(original, np.ones((10, 10), dtype=np.uint8))  # (280, 280), like a drawing
        rgba = np.dstack([big, big, big, np.full_like(big, 255)])
        out = preprocess(rgba)
        corr = np.corrcoef(out.ravel().astype(float), original.ravel().astype(float))[0, 1]
        assert corr > 0.8, (i, corr)


@pytest.mark.parametrize("order", ["forward", "random", "columns"])
def test_read_digit_matches_the_order(order):
    model = build_model(TrainConfig(hidden=8, layers=2))
    image = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    out = read_digit(model, image, order, seed=7)
    assert out["probs"].shape == (28, 10) and out["hidden"].shape == (28, 8)
    assert out["forget"].shape == (2, 28, 8)
    assert sorted(out["lines"]) == list(range(28)) and out["axis"] == get_order(order).axis
    again = read_digit(model, image, order, seed=7)
    assert out["lines"] == again["lines"] and np.allclose(out["probs"], again["probs"])
    expected = get_order(order).line_index(1, torch.Generator().manual_seed(7))[0].tolist()
    assert out["lines"] == expected
    assert abs(out["probs"].sum(-1) - 1).max() < 1e-5


def test_read_digit_summary_per_step():
    model = build_model(TrainConfig(family="gru", hidden=8, layers=1))
    out = read_digit(model, np.zeros((28, 28), np.uint8), "forward")
    assert "forget" not in out and out["lines"] == list(range(28)) and out["axis"] == 1
    assert out["predicted"] == out["probs"].argmax(-1).tolist()
    assert np.allclose(out["confidence"], out["probs"].max(-1))
    settled = out["settled"]
    assert 1 <= settled <= 28
    assert all(p == out["predicted"][-1] for p in out["predicted"][settled - 1:])
    assert settled == 1 or out["predicted"][settled - 2] != out["predicted"][-1]


def test_read_digit_of_a_cnn_answers_once_and_shows_its_feature_maps():
    model = build_model(TrainConfig(family="cnn", hidden=16, layers=1))
    image = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    out = read_digit(model, image, "columns")
    assert out["probs"].shape == (10,) and abs(out["probs"].sum() - 1) < 1e-5
    assert out["predicted"] == [int(out["probs"].argmax())] and np.isclose(out["confidence"][0], out["probs"].max())
    assert out["features"].shape == (4, 28, 28) and (out["features"] >= 0).all()  # hidden // 4 maps, after ReLU
    assert out["filters"].shape == (4, 3, 3)
    assert "settled" not in out and "hidden" not in out and "attention" not in out
    assert out["axis"] == 2 and np.array_equal(out["arranged"], image.T)  # columns become the lines


@pytest.mark.parametrize("positions", [True, False])
def test_read_digit_of_a_transformer_gives_attention_per_layer(positions):
    model = build_model(TrainConfig(family="transformer", hidden=16, layers=2, positions=positions))
    image = np.random.default_rng(2).integers(0, 256, (28, 28), dtype=np.uint8)
    out = read_digit(model, image, "random", seed=3)
    assert out["probs"].shape == (10,) and len(out["predicted"]) == len(out["confidence"]) == 1
    att = out["attention"]
    assert att.shape == (2, 28) and (att >= 0).all() and (att.sum(-1) <= 1 + 1e-5).all()  # the rest: the class token
    assert sorted(out["lines"]) == list(range(28)) and np.array_equal(out["arranged"], image[out["lines"]])
    assert "features" not in out and "hidden" not in out and "forget" not in out
    if not positions:  # a bag of rows: the same lines in another order, the same answer
        other = read_digit(model, image, "reversed")
        assert np.allclose(other["probs"], read_digit(model, image, "forward")["probs"], atol=1e-5)


def test_read_digit_of_a_recurrent_model_arranges_the_lines_too():
    model = build_model(TrainConfig(family="rnn", hidden=8, layers=1))
    image = np.random.default_rng(3).integers(0, 256, (28, 28), dtype=np.uint8)
    out = read_digit(model, image, "reversed")
    assert np.array_equal(out["arranged"], image[::-1]) and len(out["predicted"]) == 28
