"""Data loading, sources, batching and row orders."""

from pathlib import Path

import pytest
import torch

from lib.data import mnist as data_mod
from lib.data.mnist import batch_indices, load_mnist, normalize, read_idx, stratified_indices
from lib.data.orders import ORDERS, get_order

LIB = Path(__file__).resolve().parent.parent / "lib"


def test_real_mnist_shapes_and_counts(full_mnist):
    assert full_mnist.train_x.shape == (60000, 28, 28) and full_mnist.train_x.dtype == torch.uint8
    assert full_mnist.test_x.shape == (10000, 28, 28)
    assert torch.bincount(full_mnist.test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert full_mnist.full and full_mnist.describe()["source"] == "mnist"
    assert abs(full_mnist.train_x.float().mean().item() / 255 - 0.1307) < 1e-3


def test_sample_fallback_when_root_unset_and_download_fails(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_ROOT", raising=False)
    monkeypatch.delenv("ROW_BY_ROW_OFFLINE", raising=False)  # the download is tried, and fails
    calls = []

    def no_network(cache_dir):
        calls.append(cache_dir)
        raise OSError("no network")

    monkeypatch.setattr(data_mod, "download_mnist", no_network)
    d = load_mnist(cache_dir=tmp_path)
    assert calls == [tmp_path]
    assert d.source == "sample" and not d.full and d.total == 20000
    assert len(d.train_y) == 10000 and len(d.test_y) == 10000
    assert torch.bincount(d.train_y).tolist() == [1000] * 10
    assert torch.bincount(d.test_y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # real digits: dark background, bright strokes, MNIST-like mean ink
    assert d.train_x.dtype == torch.uint8 and d.train_x.max() == 255
    assert 0.09 < d.train_x.float().mean().item() / 255 < 0.17


def test_missing_everything_raises_helpful_error(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_ROOT", raising=False)
    monkeypatch.setattr(data_mod, "download_mnist", lambda c: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setattr(data_mod, "load_sample", lambda: (_ for _ in ()).throw(OSError("sample deleted")))
    with pytest.raises(data_mod.DataUnavailable, match="Set MNIST_ROOT") as caught:
        load_mnist(cache_dir=tmp_path)
    assert caught.value.messages[0].id == "data.nothing" and "sample deleted" in str(caught.value)


@pytest.mark.parametrize("damage, words", [
    (None, "no MNIST train files"),
    ("truncate", "is truncated"),
    ("magic", "is not an unsigned-byte IDX file"),
    ("labels", "labels outside 0 to 9"),
    ("count", "images and labels disagree"),
])
def test_an_explicit_mnist_root_that_cannot_be_used_is_an_error_not_a_fallback(monkeypatch, tmp_path, damage,
                                                                                 words):
    raw = tmp_path / "MNIST" / "raw"
    if damage:
        import numpy as np

        from lib.data.sample import idx_bytes
        raw.mkdir(parents=True)
        images, labels = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
        if damage == "labels":
            labels[3] = 12
        files = {"train-images-idx3-ubyte": idx_bytes(images), "train-labels-idx1-ubyte": idx_bytes(labels),
                 "t10k-images-idx3-ubyte": idx_bytes(images), "t10k-labels-idx1-ubyte": idx_bytes(labels)}
        if damage == "truncate":
            files["t10k-images-idx3-ubyte"] = files["t10k-images-idx3-ubyte"][:-100]
        if damage == "magic":
            files["train-labels-idx1-ubyte"] = b"\x01" + files["train-labels-idx1-ubyte"][1:]
        if damage == "count":
            files["t10k-labels-idx1-ubyte"] = idx_bytes(labels[:19])
        for name, content in files.items():
            (raw / name).write_bytes(content)
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))
    with pytest.raises(data_mod.DataUnavailable, match="MNIST_ROOT is set to") as caught:
        load_mnist(cache_dir=tmp_path / "cache")
    assert words in str(caught.value) and caught.value.messages[0].id == "data.root_unusable"


def test_truncated_idx_is_rejected(tmp_path):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + b"\x00" * 100)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_normalize_uses_mnist_statistics():
    x = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    out = normalize(x)
    assert out.dtype == torch.float32
    assert torch.allclose(out, torch.tensor([[[-0.1307 / 0.3081, (1 - 0.1307) / 0.3081]]]))


def test_stratified_subset_is_balanced_and_seeded(tiny):
    idx = stratified_indices(tiny.train_y, 50, seed=3)
    assert torch.bincount(tiny.train_y[idx], minlength=10).tolist() == [5] * 10
    assert idx.equal(stratified_indices(tiny.train_y, 50, seed=3))
    assert not idx.equal(stratified_indices(tiny.train_y, 50, seed=4))
    assert len(stratified_indices(tiny.train_y, 0, 0)) == len(tiny.train_y)


def test_batches_cover_every_index_once():
    batches = list(batch_indices(103, 10, torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert torch.cat(batches).sort().values.equal(torch.arange(103))


@pytest.mark.parametrize("name", list(ORDERS))
def test_every_order_is_a_permutation(name):
    order = get_order(name)
    idx = order.line_index(16, torch.Generator().manual_seed(0))
    assert idx.shape[1] == 28
    assert (idx.sort(dim=1).values == torch.arange(28)).all()
    x = torch.randint(0, 256, (16, 28, 28), dtype=torch.uint8)
    out = order.apply(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert out.flatten(1).sort(dim=1).values.equal(x.flatten(1).sort(dim=1).values)  # same pixels, moved


def test_reversed_twice_is_identity_and_reads_bottom_first():
    x = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    rev = get_order("reversed")
    assert rev.apply(x)[:, 0].equal(x[:, 27])
    assert rev.apply(rev.apply(x)).equal(x)


def test_columns_reads_columns_and_shuffled_is_fixed():
    x = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    assert get_order("columns").apply(x)[:, 5].equal(x[:, :, 5])
    shuffled = get_order("shuffled")
    assert shuffled.apply(x).equal(shuffled.apply(x))
    assert not shuffled.apply(x).equal(x)


def test_random_order_differs_per_image():
    x = torch.arange(28, dtype=torch.uint8).view(1, 28, 1).expand(8, 28, 28).contiguous()
    out = get_order("random").apply(x, torch.Generator().manual_seed(1))
    firsts = out[:, :, 0]  # the row numbers each image was read in
    assert len({tuple(r.tolist()) for r in firsts}) == 8


def test_unknown_order_names_the_choices():
    with pytest.raises(ValueError, match="forward"):
        get_order("diagonal")


def test_an_epoch_of_per_image_orders_drawn_at_once_equals_a_draw_per_batch():
    """Training draws the random order's lines for a whole epoch in one go (one copy to the device, not one a
    step): the numbers are those a draw per batch gave, so random-order runs train as before."""
    import torch

    from lib.data.orders import ORDERS
    from lib.models.nets import model_input

    order, images = ORDERS["random"], torch.randint(0, 256, (150, 28, 28), dtype=torch.uint8)
    per_batch_gen, epoch_gen = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    lines = order.line_index(len(images), epoch_gen)
    for first in range(0, len(images), 64):
        batch = images[first:first + 64]
        assert torch.equal(model_input(batch, "random", per_batch_gen),
                           model_input(batch, "random", index=lines[first:first + 64]))
