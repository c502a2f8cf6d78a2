"""Sequential against parallel (lib.experiments.scaling, `lib.cli scaling`): the measurement's shape, the families it builds,
and its failures. Nothing here checks a speed: the numbers are a benchmark (docs/benchmarks.md)."""

import json

import torch

from lib.cli import main as cli
from lib.experiments import scaling
from lib.models.nets import ConvClassifier, RowClassifier, RowTransformer

N = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731


def test_the_cnn_has_about_as_many_weights_as_the_lesson_lstm():
    lesson = N(RowClassifier("lstm", 100, 2))
    assert 0.8 * lesson <= N(ConvClassifier(100, 2)) <= 1.2 * lesson  # the issue's ±20 %


def test_without_positions_the_transformer_sees_a_bag_of_rows():
    x, perm = torch.randn(3, 28, 28), torch.randperm(28)
    bag, ordered = RowTransformer(32, 1, positions=False).eval(), RowTransformer(32, 1).eval()
    with torch.no_grad():
        torch.nn.init.normal_(ordered.pos)  # learned positions (zeros at initialisation would hide them)
        assert torch.allclose(bag(x), bag(x[:, perm]), atol=1e-5)  # any order of the rows: the same answer
        assert not torch.allclose(ordered(x), ordered(x[:, perm]), atol=1e-5)


def test_every_family_reads_every_height_and_building_draws_nothing_shared():
    state = torch.get_rng_state()
    for family in scaling.MEASURED:
        for height in (28, 56):
            x, _ = scaling.upsampled(height, batch=2)
            assert x.shape == (2, height, height)
            assert scaling.build(family, height)(x).shape == (2, 10)
    assert torch.equal(torch.get_rng_state(), state)


def test_scaling_reports_one_entry_per_height_and_what_runs_in_sequence():
    out = scaling.scaling("cpu", heights=(28, 56), repeats=1, batch=4)
    assert out["heights"] == [28, 56] and set(out["train_ms"]) == set(scaling.MEASURED) == set(out["predict_ms"])
    assert all(len(v) == 2 and all(ms > 0 for ms in v) for v in (*out["train_ms"].values(),
                                                                   *out["predict_ms"].values()))
    steps = out["sequential_steps"]
    assert steps["lstm"] == [56, 112] and steps["cnn"][0] == steps["cnn"][1] and steps["transformer"] == [2, 2]
    assert scaling.sequential_steps("lstm", 224, "cuda") == 225  # cuDNN overlaps the 2 layers as a wavefront


def test_a_height_the_device_cannot_hold_is_none_and_the_rest_goes_on(monkeypatch):
    def oom(*_):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")
    monkeypatch.setattr(scaling, "_median_ms", oom)
    assert scaling.measure("cnn", 28, torch.device("cpu"), 1, 2) == {"error": "out_of_memory"}  # caught, freed
    monkeypatch.undo()
    real = scaling.measure
    monkeypatch.setattr(scaling, "measure", lambda family, height, *a: {"error": "out_of_memory"}
                        if (family, height) == ("transformer", 56) else real(family, height, *a))
    out = scaling.scaling("cpu", heights=(28, 56), repeats=1, batch=2)
    assert out["train_ms"]["transformer"][1] is None and out["predict_ms"]["transformer"][1] is None
    assert all(v is not None for f in scaling.MEASURED if f != "transformer" for v in out["train_ms"][f])


def test_cli_scaling_json_is_its_last_line(capsys):
    assert cli.main(["scaling", "--json", "--heights", "28", "--repeats", "1", "--batch-size", "2"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["heights"] == [28] and out["device"].startswith("CPU")
    assert set(out["train_ms"]) == set(scaling.MEASURED) == set(out["predict_ms"])
    assert cli.main(["scaling", "--repeats", "0"]) == 2 and "between 1 and" in capsys.readouterr().err


def test_the_table_shows_a_gap_where_memory_ran_out():
    out = {"heights": [28, 56], "train_ms": {"cnn": [2.0, None]}, "predict_ms": {"cnn": [1.0, 3.0]},
           "sequential_steps": {"cnn": [4, 4]}, "params": {"cnn": 147760}}
    text = scaling.table(out)
    assert "| cnn (147,760) | training step | 2.0 | out of memory |  | 4 → 4 |" in text
    assert "| prediction | 1.0 | 3.0 | 3.0× |" in text


def test_enlargement_is_read_from_the_measured_heights():
    assert scaling.enlargement((28, 56, 112, 224)) == {"side": 224, "times": 8, "pixels": 64}
    assert scaling.enlargement([28, 84]) == {"side": 84, "times": 3, "pixels": 9}


def test_a_gpu_measurement_is_float32_without_tf32_even_in_a_fresh_process(monkeypatch):
    """The first measurement of a fresh server ran with cuDNN's TF32 on (PyTorch's default) and later ones, after a
    training run had turned it off, without: every measurement now sets the documented float32 itself."""
    flags = (torch.backends.cuda.matmul, torch.backends.cudnn)
    saved, seen = [f.allow_tf32 for f in flags], []
    monkeypatch.setattr(scaling, "resolve_device", lambda name: torch.device("cuda"))  # a GPU, faked
    monkeypatch.setattr(scaling, "device_label", lambda device: "GPU: NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(scaling, "measure", lambda family, height, device, repeats, batch: (
        seen.append([f.allow_tf32 for f in flags]), {"train_ms": 1.0, "predict_ms": 0.5})[1])
    try:
        for f in flags:
            f.allow_tf32 = True  # a fresh process: cuDNN's default
        out = scaling.scaling("cuda", heights=(28,), families=("lstm", "cnn"))
        assert seen == [[False, False], [False, False]]  # already off for the first measurement
        assert out["precision"] == "fp32" and out["device_type"] == "cuda" and out["threads"] == 0
    finally:
        for f, value in zip(flags, saved):
            f.allow_tf32 = value
