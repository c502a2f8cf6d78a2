"""The MNIST sample shipped in mnist-sample/: intact, the real test set, real training digits, and rebuildable."""

import hashlib

import numpy as np
import pytest
import torch

from lib.data import sample
from lib.data.mnist import DataUnavailable, load_mnist, load_sample, read_idx


def test_sample_files_match_their_manifest():
    assert sample.check_sample() == []
    assert sorted(sample.manifest()["sha256"]) == sorted(f"{name}.gz" for name in sample.OFFICIAL_MD5)


def test_sample_holds_all_test_digits_and_a_balanced_training_slice():
    data = load_sample()
    assert data.source == "sample" and data.test_x.shape == (10000, 28, 28)
    assert torch.bincount(data.train_y).tolist() == [sample.TRAIN_PER_CLASS] * 10
    assert len(sample.manifest()["train_indices"]) == len(data.train_y)


def test_sample_test_files_are_the_official_files_byte_for_byte():
    raw = sample.FOLDER / "MNIST" / "raw"
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        digest = hashlib.md5(sample.idx_bytes(read_idx(raw / f"{name}.gz"))).hexdigest()
        assert digest == sample.OFFICIAL_MD5[name]  # the standard checksum of the official test file


def test_a_damaged_sample_is_refused(tmp_path, monkeypatch):
    import shutil
    copy = tmp_path / "sample"
    shutil.copytree(sample.FOLDER, copy)
    target = copy / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    body = target.read_bytes()
    target.write_bytes(body[:-1] + bytes([body[-1] ^ 0xFF]))
    assert sample.check_sample(copy) == ["train-labels-idx1-ubyte.gz"]
    with pytest.raises(ValueError, match="checksum differs"):
        load_sample(copy)
    monkeypatch.delenv("MNIST_ROOT", raising=False)
    monkeypatch.setenv("ROW_BY_ROW_OFFLINE", "1")
    monkeypatch.setattr("lib.data.mnist.load_sample", lambda: load_sample(copy))
    with pytest.raises(DataUnavailable, match="checksum differs"):
        load_mnist(cache_dir=tmp_path / "no-cache")


def test_sample_digits_are_official_test_digits_and_none_is_a_training_digit(full_mnist):
    data = load_sample()
    assert torch.equal(data.test_x, full_mnist.test_x) and torch.equal(data.test_y, full_mnist.test_y)
    keep = torch.tensor(sample.manifest()["train_indices"])
    assert torch.equal(data.train_x, full_mnist.train_x[keep]) and torch.equal(data.train_y, full_mnist.train_y[keep])
    training = {image.numpy().tobytes() for image in full_mnist.train_x}
    assert not any(image.numpy().tobytes() in training for image in data.test_x)


@pytest.mark.slow
def test_make_sample_rebuilds_the_same_bytes(full_mnist, tmp_path):
    made = sample.make_sample(__import__("pathlib").Path(full_mnist.origin), tmp_path)
    assert made["sha256"] == sample.manifest()["sha256"]
    assert (tmp_path / "manifest.json").read_bytes() == (sample.FOLDER / "manifest.json").read_bytes()


def test_train_slice_takes_the_first_of_each_class_in_file_order():
    labels = np.array([3, 1, 3, 0, 1, 3, 2])
    assert sample.train_slice(labels, per_class=2).tolist() == [0, 1, 2, 3, 4, 6]
