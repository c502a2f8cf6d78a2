"""GPU memory, tested without a GPU (lib.training.memory and the in-process executor): the estimate is an upper bound
of what autograd really keeps (measured here on the CPU), a job that could never fit is refused when submitted, one
that does not fit beside the jobs training waits and says why, and Apple's GPU gets its limit once, at start."""

import threading
import time
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from conftest import wait_for

from lib.data.mnist import MnistData
from lib.messages import Problem
from lib.models.nets import model_input
from lib.runs import local as local_module
from lib.runs.local import LocalExecutor
from lib.runs.settings import load_settings
from lib.training import memory
from lib.training.config import TrainConfig, build_model
from lib.training.memory import FLOAT, GB, estimate_bytes, optimizer_states, room
from lib.training.optim import OPTIMIZERS
from ui.i18n import catalog

GPU = TrainConfig(hidden=16, layers=1, batch_size=20, epochs=1, log_every=5, device="cuda", validation=0.0)


def kept_for_backward(cfg: TrainConfig) -> int:
    """Bytes autograd keeps for the backward pass of one batch of `cfg` on the CPU, besides the weights."""
    model = build_model(cfg)
    x = model_input(torch.randint(0, 256, (cfg.batch_size, 28, 28), dtype=torch.uint8), cfg.order,
                    steps_per_row=cfg.steps_per_row)
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:
            kept[storage.data_ptr()] = storage.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        F.cross_entropy(model(x), torch.zeros(cfg.batch_size, dtype=torch.long))
    return sum(kept.values())


@pytest.mark.parametrize("settings", [
    dict(),  # the lesson: 2×100 LSTM, batch 64
    dict(hidden=128, layers=1, batch_size=128, optimizer="adam"),  # Fast & accurate
    dict(family="gru", hidden=64, layers=2, batch_size=96),
    dict(family="rnn", hidden=64, layers=3, batch_size=96, optimizer="sgd-momentum"),
    dict(hidden=48, layers=2, batch_size=32, steps_per_row=4, bidirectional=True, keep="best", validation=0.1),
    dict(family="cnn", hidden=64, layers=2, batch_size=64),
    dict(family="transformer", hidden=64, layers=2, batch_size=64, optimizer="adamw"),
])
def test_the_estimate_covers_what_training_really_keeps(settings):
    cfg = TrainConfig(**settings)
    params = build_model(cfg).n_params
    copies = 2 + optimizer_states(cfg.optimizer) + (cfg.keep == "best")
    needed = kept_for_backward(cfg) + params * copies * FLOAT
    per_digit, _ = memory.activation_floats(cfg)
    training = memory.MARGIN * FLOAT * (params * copies + cfg.batch_size * per_digit)  # the scoring's part aside
    assert needed <= training <= 4 * needed, (needed, training)  # above it, but not absurdly
    assert estimate_bytes(cfg) >= training + memory.WORKSPACE


def test_the_largest_settings_a_class_may_pick_are_estimated_beyond_what_they_are_known_to_need():
    """The review measured roughly 12 to 15 GB for the largest classroom settings: an upper bound must not be lower."""
    largest = TrainConfig(hidden=512, layers=4, batch_size=8192)
    assert estimate_bytes(largest) > 15 * GB
    assert estimate_bytes(TrainConfig()) < 0.5 * GB  # the lesson fits any card
    bigger = [estimate_bytes(replace(largest, **change)) for change in
              (dict(batch_size=16384 // 2 + 1), dict(bidirectional=True), dict(steps_per_row=2), dict(layers=5))]
    assert all(b > estimate_bytes(largest) for b in bigger)


def test_each_optimizer_keeps_its_own_number_of_states():
    assert {name: optimizer_states(name) for name in OPTIMIZERS} == {"sgd": 0, "sgd-momentum": 1, "adam": 2,
                                                                      "adamw": 2}


def test_room_counts_what_running_jobs_may_still_grow_to():
    assert room(free=10, committed=6, in_use=2) == 6  # they hold 2 now and may reach 6: 4 more
    assert room(free=10, committed=6, in_use=8) == 10  # past their estimates (the data copy): nothing more
    assert room(free=10, committed=0, in_use=3) == 10


def test_cuda_memory_counts_the_free_blocks_pytorch_keeps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (3 * 10**9, 80 * 10**9))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda: 5 * 10**9)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda: 4 * 10**9)
    assert memory.device_memory("cuda") == (4 * 10**9, 80 * 10**9)
    assert memory.device_memory("cpu") is None


@pytest.fixture()
def gpu(monkeypatch):
    """A faked CUDA card whose free memory the test sets; training replaced by jobs that wait for their gate."""
    def is_available() -> bool:
        return True
    is_available.__wrapped__ = is_available  # as on the lru_cache'd original (torch._dynamo reads it)
    monkeypatch.setattr(torch.cuda, "is_available", is_available)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA T4")
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    monkeypatch.setattr("lib.training.devices._probed", {"cuda": None})
    card = {"free": 16 * 10**9, "total": 16 * 10**9, "allocated": 0}
    monkeypatch.setattr(local_module, "device_memory",
                        lambda kind: None if kind == "cpu" else (card["free"], card["total"]))
    monkeypatch.setattr(local_module, "allocated", lambda kind: card["allocated"])
    monkeypatch.setattr(MnistData, "to", lambda self, device: self)
    gates, started = {}, []

    def execute(job, data):
        started.append(job.name)
        gates.setdefault(job.name, threading.Event()).wait(30)
        job.state = "done"
    monkeypatch.setattr(local_module, "execute", execute)
    card["gate"] = lambda name: gates.setdefault(name, threading.Event())
    card["started"] = started
    return card


def test_a_run_bigger_than_the_card_is_refused_when_submitted(gpu, tiny):
    manager = LocalExecutor(max_running=1, max_gpu_jobs=2, threads=torch.get_num_threads())
    huge = replace(GPU, hidden=512, layers=4, batch_size=8192)
    with pytest.raises(Problem) as refused:
        manager.submit(huge, tiny, owner="o")
    message = refused.value.messages[0]
    assert message.id == "job.too_big_for_device" and manager.counts("cuda")["queued"] == 0
    text = message.render()
    assert "NVIDIA T4" in text and "16.0 GB" in text and "batch size" in text
    assert message.render(catalog("zh").gettext) != text


def test_a_run_that_does_not_fit_beside_others_waits_and_says_why(gpu, tiny):
    manager = LocalExecutor(max_running=1, max_gpu_jobs=2, threads=torch.get_num_threads())
    big = replace(GPU, hidden=256, layers=2, batch_size=1024)  # over a GB
    first = manager.submit(big, tiny, owner="a", name="first")
    wait_for(lambda: gpu["started"] == ["first"])
    gpu["free"] = first.need_bytes  # the card is shared: someone else took memory meanwhile
    second = manager.submit(big, tiny, owner="b", name="second")
    time.sleep(0.8)
    assert second.state == "queued" and manager.position(second) == 1  # second in a line of cap 2, yet waiting
    assert second.waiting is not None and second.waiting.id == "job.waiting_for_memory"
    assert "GB" in second.waiting.render() and second.waiting.render(catalog("zh").gettext) != second.waiting.render()
    gpu["gate"]("first").set()  # the first job ends and its memory is free again
    gpu["free"] = gpu["total"]
    wait_for(lambda: gpu["started"] == ["first", "second"])
    assert second.waiting is None
    gpu["gate"]("second").set()
    wait_for(lambda: second.finished)


def test_what_a_running_job_may_still_take_is_kept_for_it(gpu, tiny):
    manager = LocalExecutor(max_running=1, max_gpu_jobs=2, threads=torch.get_num_threads())
    big = replace(GPU, hidden=256, layers=2, batch_size=1024)
    first = manager.submit(big, tiny, owner="a", name="first")
    wait_for(lambda: gpu["started"] == ["first"])
    # the first job has allocated nothing yet but may grow to its estimate: only what is left of the card counts
    gpu["free"] = first.need_bytes + first.need_bytes // 2
    second = manager.submit(big, tiny, owner="b", name="second")
    time.sleep(0.8)
    assert second.state == "queued" and second.waiting is not None
    gpu["allocated"] = first.need_bytes  # it reached its peak, which the free figure already shows
    gpu["free"] = first.need_bytes + tiny.train_x.numel() * 2  # room for the second and no more
    wait_for(lambda: gpu["started"] == ["first", "second"])
    for name in ("first", "second"):
        gpu["gate"](name).set()
    wait_for(lambda: first.finished and second.finished)


def test_cpu_runs_and_measurements_never_wait_for_gpu_memory(gpu, tiny):
    gpu["free"] = 0
    manager = LocalExecutor(max_running=1, max_gpu_jobs=2, threads=torch.get_num_threads())
    cpu = manager.submit(replace(GPU, device="cpu"), tiny, owner="o", name="cpu")
    task = manager.submit_task(lambda job: None, "o", "scaling", "cuda")
    wait_for(lambda: gpu["started"] == ["cpu"] and task.finished)
    assert cpu.need_bytes == 0 and cpu.waiting is None
    gpu["gate"]("cpu").set()


def test_apples_gpu_gets_its_limit_once_and_a_hand_set_ratio_wins(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.delenv(memory.MPS_RATIO_VARIABLE, raising=False)
    monkeypatch.setattr(memory, "_mps_fraction", {})
    set_to = []
    monkeypatch.setattr(torch.mps, "set_per_process_memory_fraction", set_to.append)
    assert memory.limit_mps_memory(0.8) == 0.8  # the server's setting, at start
    assert memory.limit_mps_memory() == 0.8 and set_to == [0.8]  # a run later keeps it
    monkeypatch.setattr(memory, "_mps_fraction", {})
    assert memory.limit_mps_memory() == memory.MPS_FRACTION and set_to == [0.8, 1.0]  # the CLI: the default
    monkeypatch.setattr(memory, "_mps_fraction", {})
    monkeypatch.setenv(memory.MPS_RATIO_VARIABLE, "1.4")
    assert memory.limit_mps_memory(0.8) is None and set_to == [0.8, 1.0]  # PyTorch reads the variable itself
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.delenv(memory.MPS_RATIO_VARIABLE)
    assert memory.limit_mps_memory(0.8) is None  # no Apple GPU: nothing to limit


def test_the_server_sets_apples_limit_when_it_starts(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.delenv(memory.MPS_RATIO_VARIABLE, raising=False)
    monkeypatch.setattr(memory, "_mps_fraction", {})
    set_to = []
    monkeypatch.setattr(torch.mps, "set_per_process_memory_fraction", set_to.append)
    LocalExecutor(max_running=1, threads=torch.get_num_threads(), mps_memory_fraction=0.7)
    assert set_to == [0.7]


def test_the_gpu_settings_are_read_and_checked(tmp_path):
    s = load_settings(tmp_path / "none.toml", env={"ROW_BY_ROW_MAX_GPU_JOBS": "4",
                                                    "ROW_BY_ROW_MPS_MEMORY_FRACTION": "0.75"})
    assert (s.max_gpu_jobs, s.mps_memory_fraction, s.classroom) == (4, 0.75, True)
    assert (load_settings(tmp_path / "none.toml", env={}).max_gpu_jobs,
            load_settings(tmp_path / "none.toml", env={}).mps_memory_fraction) == (2, 1.0)
    for bad in ("2.5", "0", "-1"):
        with pytest.raises(Problem, match="mps_memory_fraction"):
            load_settings(tmp_path / "none.toml", env={"ROW_BY_ROW_MPS_MEMORY_FRACTION": bad})
    file = tmp_path / "classroom.toml"
    file.write_text("[classroom]\nmax_gpu_jobs = 3\n")
    assert load_settings(file, env={}).max_gpu_jobs == 3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_queued_gpu_run_is_shown_its_own_line_and_why_it_still_waits(monkeypatch, lang):
    """The run's place, running count and cap are its device's (the GPU's 2, not the CPU's 1), and a run whose turn
    has come but whose memory has not says so, in the visitor's language."""
    from streamlit.testing.v1 import AppTest

    from lib.messages import msg
    from lib.runs.job import Job
    from ui import resources

    def script():
        import streamlit as st

        from ui import run_status
        for job in st.session_state["jobs"]:
            run_status.status(job)

    class Line:  # the executor, as the page asks it
        def position(self, job):
            return 3

        def counts(self, device="cpu"):
            lines = {"cuda": {"running": 2, "queued": 4, "cap": 2}, "cpu": {"running": 1, "queued": 0, "cap": 1}}
            return lines[device]
    monkeypatch.setattr(resources, "jobs", lambda: Line())
    queued = Job(GPU, owner="o", name="queued", device="cuda")
    short = Job(GPU, owner="o", name="short of memory", device="cuda",
                waiting=msg("job.waiting_for_memory", need=3.2, free=1.0))
    at = AppTest.from_function(script, default_timeout=60)
    at.query_params["lang"] = lang
    at.session_state["jobs"] = [queued, short]
    at.run()
    assert not at.exception
    first, second = (i.value for i in at.info)
    if lang == "en":
        assert first == "Waiting for a free slot: place 3 in the queue (2 running, cap 2)."
        assert second.startswith("Waiting for GPU memory") and "3.2 GB" in second and "1.0 GB" in second
    else:
        assert "3" in first and "2" in first and "Waiting" not in first
        assert "3.2 GB" in second and "GPU" in second and "Waiting" not in second
