"""GPUs and Apple Silicon, correct by design, tested without one: the accelerator is faked (availability and device
names monkeypatched, a tiny op that raises "no kernel image is available", an op that raises torch.OutOfMemoryError,
the device copy of the data replaced by a marked copy on the CPU), so every branch runs on a CPU-only machine."""

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import wait_for

from lib.data.mnist import MnistData
from lib.data.orders import ORDERS, get_order
from lib.messages import Message, Problem
from lib.runs import local as local_module
from lib.runs.local import LocalExecutor
from lib.training import devices
from lib.training.config import TrainConfig, build_model
from lib.training.devices import choose_device, exact_fp32, is_out_of_memory, probe, resolve_device, use_bf16
from lib.training.train import train
from ui.i18n import catalog

ROOT = Path(__file__).resolve().parent.parent
TINY = TrainConfig(hidden=16, layers=1, lr=0.01, optimizer="adam", batch_size=20, epochs=1, log_every=5,
                   device="cpu", validation=0.0)
SGD = replace(TINY, optimizer="sgd", lr=0.1)  # trains on the CPU while CUDA is faked: Adam asks the (absent) GPU
# whether a CUDA graph is being captured
NO_KERNELS = "CUDA error: no kernel image is available for execution on the device\nCUDA kernel errors might be " \
             "asynchronously reported at some other API call"


def answer(value: bool):
    """A stand-in for an is_available(); __wrapped__ as on the lru_cache'd original (torch._dynamo reads it)."""
    def is_available() -> bool:
        return value
    is_available.__wrapped__ = is_available
    return is_available


@pytest.fixture()
def fake(monkeypatch):
    """fake(cuda=…, mps=…, op=…, nvidia=…): which accelerators this machine 'has', what the tiny probe op does
    there, and how many NVIDIA cards its PCI bus lists (a card CUDA cannot use still shows there).

    Emptying a device's cache is recorded in `fake.emptied` instead of reaching a backend that is not there."""
    monkeypatch.setattr(devices, "_probed", {})
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA GeForce GTX 780")
    emptied = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append("cuda"))
    monkeypatch.setattr(torch.mps, "empty_cache", lambda: emptied.append("mps"))
    # a roomy card with nothing allocated (tests/test_memory.py fakes tight ones), and Apple's limit recorded
    monkeypatch.setattr(local_module, "device_memory", lambda kind: None if kind == "cpu" else (80 * 10**9,) * 2)
    monkeypatch.setattr(local_module, "allocated", lambda kind: 0)
    monkeypatch.setattr(torch.mps, "set_per_process_memory_fraction", lambda fraction: None)
    calls = []

    def setup(cuda=False, mps=False, op=None, nvidia=0):
        monkeypatch.setattr(torch.cuda, "is_available", answer(cuda))
        monkeypatch.setattr(torch.backends.mps, "is_available", answer(mps))
        monkeypatch.setattr(devices, "nvidia_gpus", lambda: nvidia)  # cards on the PCI bus, usable or not

        def tiny_op(kind):
            calls.append(kind)
            if op is not None:
                op(kind)
        monkeypatch.setattr(devices, "_tiny_op", tiny_op)
        return calls
    setup.emptied = emptied
    return setup


def settled(manager) -> bool:
    """Every job has ended and cleaned up after itself (model back, cache emptied, lock and copy let go)."""
    return all(manager.counts(d)["running"] + manager.counts(d)["queued"] == 0 for d in ("cpu", "cuda", "mps"))


def no_kernels(kind):
    raise RuntimeError(NO_KERNELS)


@pytest.fixture()
def copies(monkeypatch):
    """The 'device copy' of the data: a marked MnistData sharing the CPU tensors; every copy made is listed."""
    made = []

    def to(self, device):
        copy = replace(self, origin=f"on {device}")
        made.append(copy)
        return copy
    monkeypatch.setattr(MnistData, "to", to)
    return made


# ---------------------------------------------------------------- 1. choosing the device

def test_auto_without_an_accelerator_is_the_cpu_without_a_note(fake):
    calls = fake()
    assert choose_device("auto", "lstm", 64) == (torch.device("cpu"), None) and calls == []


def test_auto_takes_a_cuda_gpu_only_when_a_tiny_op_runs_there(fake):
    calls = fake(cuda=True)
    assert choose_device("auto", "gru", 8) == (torch.device("cuda"), None)  # CUDA has native kernels for all cells
    assert resolve_device("auto") == torch.device("cuda") and calls == ["cuda"]  # probed once, then cached


def test_a_wheel_without_kernels_for_the_card_falls_back_to_the_cpu_and_says_why(fake):
    fake(cuda=True, op=no_kernels)
    device, note = choose_device("auto", "lstm", 64)
    assert device == torch.device("cpu") and note.id == "device.no_kernels"
    text = note.render()
    assert "NVIDIA GeForce GTX 780" in text and "no kernel image is available" in text and "CPU" in text
    assert "asynchronously" not in text  # the error's first line only
    with pytest.raises(Problem, match="cannot run PyTorch") as explicit:  # an explicit choice is refused up front
        resolve_device("cuda")
    assert explicit.value.messages[0].id == "device.broken"


def test_an_explicit_missing_accelerator_is_refused(fake):
    fake()
    for name in ("cuda", "mps"):
        with pytest.raises(Problem) as refused:
            resolve_device(name)
        assert refused.value.messages[0].id == "device.unavailable"


@pytest.mark.parametrize("cell, batch, dropout, expected, note", [
    ("lstm", 512, False, "mps", None),
    ("lstm", 256, False, "mps", None),
    (None, None, False, "mps", None),  # nothing known about the run (evaluation): the GPU
    ("gru", 512, False, "cpu", "device.mps_cell"),
    ("rnn", 1024, False, "cpu", "device.mps_cell"),
    ("lstm", 64, False, "cpu", "device.mps_small_batch"),
    ("lstm", 512, True, "cpu", "device.mps_dropout"),
])
def test_auto_on_a_mac_keeps_what_mps_runs_slower_or_wrongly_on_the_cpu(fake, cell, batch, dropout, expected, note):
    fake(mps=True)
    device, why = choose_device("auto", cell, batch, dropout)
    assert device.type == expected and (why.id if why else None) == note
    if why:
        assert "MPS" in why.render()


def test_an_explicit_mps_choice_is_obeyed_unless_it_would_train_wrongly(fake):
    fake(mps=True)
    assert resolve_device("mps", "gru", 8, True) == torch.device("mps")  # slower there, but sound
    assert resolve_device("mps", "lstm", 8, False) == torch.device("mps")
    with pytest.raises(Problem) as refused:  # the LSTM's dropout gradients are wrong on MPS
        resolve_device("mps", "lstm", 512, True)
    assert refused.value.messages[0].id == "device.mps_dropout_refused"
    assert "dropout" in refused.value.messages[0].render()
    assert resolve_device("mps", "transformer", 512, True) == torch.device("mps")  # standard dropout: fine
    assert choose_device("auto", "transformer", 512, True) == (torch.device("mps"), None)


def test_a_stacked_dropout_lstm_submitted_for_mps_is_refused_before_it_is_queued(fake, tiny):
    fake(mps=True)
    manager = LocalExecutor(max_running=1, threads=torch.get_num_threads())
    with pytest.raises(Problem, match="dropout"):
        manager.submit(replace(TINY, device="mps", layers=2, dropout=0.3), tiny, owner="o")
    assert manager.counts("mps") == {"running": 0, "queued": 0, "cap": 1}


def test_one_failed_probe_that_may_pass_is_tried_again(fake):
    """An out-of-memory on a shared GPU is not kept: the next run probes again and takes the GPU."""
    failures = [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 MiB")]

    def once(kind):
        if failures:
            raise failures.pop()
    calls = fake(cuda=True, op=once)
    device, note = choose_device("auto", "lstm", 64)
    assert device.type == "cpu" and note.id == "device.busy" and "out of memory" in note.render()
    assert "next run tries the GPU again" in note.render()
    assert choose_device("auto", "lstm", 64) == (torch.device("cuda"), None)
    assert choose_device("auto", "lstm", 64) == (torch.device("cuda"), None) and calls == ["cuda", "cuda"]


def test_an_explicit_gpu_busy_just_now_is_refused_with_a_retry_hint(fake):
    def busy(kind):
        raise RuntimeError("CUDA error: CUDA-capable device(s) is/are busy or unavailable")
    calls = fake(cuda=True, op=busy)
    for _ in range(2):
        with pytest.raises(Problem) as refused:
            resolve_device("cuda")
        assert refused.value.messages[0].id == "device.busy_explicit"
        assert "try again" in refused.value.messages[0].render()
    assert calls == ["cuda", "cuda"]  # not kept


@pytest.mark.parametrize("error", [NO_KERNELS, "CUDA driver version is insufficient for CUDA runtime version",
                                   "CUDA error: no kernel image is available for execution on the device"])
def test_a_failure_that_always_recurs_is_kept_for_the_process(fake, error):
    def fails(kind):
        raise RuntimeError(error)
    calls = fake(cuda=True, op=fails)
    for _ in range(3):
        assert choose_device("auto", "lstm", 64)[1].id == "device.no_kernels"
    assert calls == ["cuda"]
    assert devices.recurs(devices._probed["cuda"])


def test_a_gpu_this_pytorch_cannot_use_is_named_instead_of_a_silent_cpu(fake, monkeypatch):
    fake(cuda=False, nvidia=1)  # a card on the bus, but is_available() is False: the driver is too old for the wheel
    too_old = ("The NVIDIA driver on your system is too old (found version 11040). Please update your GPU driver by "
               "downloading and installing a new version from the URL: …\nAlternatively, go to: …")

    def init():
        raise RuntimeError(too_old)
    monkeypatch.setattr(torch.cuda, "init", init)
    device, note = choose_device("auto", "lstm", 64)
    assert device.type == "cpu" and note.id == "device.gpu_unusable"
    text = note.render()
    assert "NVIDIA GPU" in text and "too old (found version 11040)" in text and "README.md" in text
    assert "Alternatively" not in text  # the first line only
    zh = note.render(catalog("zh").gettext)
    assert zh != text and "README.md" in zh
    with pytest.raises(Problem) as refused:  # asked for by name: the same reason, not "not available"
        resolve_device("cuda")
    assert refused.value.messages[0].id == "device.broken" and "too old" in str(refused.value)
    fake(cuda=False, nvidia=0)  # no NVIDIA card at all: the CPU without a note
    assert choose_device("auto", "lstm", 64) == (torch.device("cpu"), None)


def test_nvidia_cards_are_counted_from_the_pci_bus(tmp_path):
    for name, vendor, kind in (("0000:00:02.0", "0x8086", "0x030000"),  # Intel graphics
                               ("0000:01:00.0", "0x10de", "0x030000"),  # an NVIDIA VGA card
                               ("0000:01:00.1", "0x10de", "0x040300"),  # its HDMI audio
                               ("0000:02:00.0", "0x10de", "0x030200")):  # an NVIDIA 3D controller (a data-centre GPU)
        entry = tmp_path / name
        entry.mkdir()
        (entry / "vendor").write_text(vendor + "\n")
        (entry / "class").write_text(kind + "\n")
    (tmp_path / "broken").mkdir()  # unreadable entries are skipped
    assert devices.nvidia_gpus(tmp_path) == 2
    assert devices.nvidia_gpus(tmp_path / "missing") == 0


def test_the_start_event_says_why_auto_chose_the_cpu(fake, tiny):
    fake(cuda=True, op=no_kernels)
    events = list(train(replace(SGD, device="auto"), tiny, build_model(SGD)))
    start = events[0]
    assert start["device_type"] == "cpu" and events[-1]["event"] == "done"
    assert json.loads(json.dumps(start["message"])) == start["message"]  # plain data, like every event
    assert Message.from_dict(start["message"]).id == "device.no_kernels"
    fake(mps=True)  # a GRU on a Mac: the CPU, with the reason
    start = next(train(replace(TINY, device="auto", family="gru", batch_size=512), tiny, build_model(TINY)))
    assert start["device_type"] == "cpu" and "GRU" in Message.from_dict(start["message"]).render()
    fake()
    assert "message" not in next(train(replace(TINY, device="auto"), tiny, build_model(TINY)))


def test_the_real_probe_runs_on_the_cpu_without_touching_the_global_generator(monkeypatch):
    monkeypatch.setattr(devices, "_probed", {})
    state = torch.get_rng_state()
    assert probe("cpu") is None and torch.equal(torch.get_rng_state(), state)


# ---------------------------------------------------------------- 2. precision that is what it says

@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_an_accelerator_always_trains_in_float32(kind, monkeypatch):
    monkeypatch.setattr(devices, "native_bf16_cpu", lambda: True)  # even beside a CPU with native bfloat16
    assert not any(use_bf16(p, torch.device(kind)) for p in ("fp32", "bf16", "auto"))
    assert use_bf16("bf16", torch.device("cpu")) and use_bf16("auto", torch.device("cpu"))


def test_float32_on_cuda_turns_tf32_off(monkeypatch):
    flags = (torch.backends.cuda.matmul, torch.backends.cudnn)
    saved = [f.allow_tf32 for f in flags]
    try:
        for f in flags:
            f.allow_tf32 = True
        exact_fp32(torch.device("cpu"))
        assert all(f.allow_tf32 for f in flags)  # a CPU run leaves the GPU flags alone
        exact_fp32(torch.device("cuda"))
        assert not any(f.allow_tf32 for f in flags)
        rnn = getattr(torch.backends.cudnn, "rnn", None)
        assert rnn is None or getattr(rnn, "fp32_precision", "ieee") != "tf32"
    finally:
        for f, value in zip(flags, saved):
            f.allow_tf32 = value


# ---------------------------------------------------------------- 3. one job at a time on MPS; a GPU cap

def gated_execute(monkeypatch, log):
    """Replace training with a job that records when it runs, on which data, and waits for its gate."""
    gates = {}

    def execute(job, data):
        log.append(("start", job.name, data.origin))
        gates.setdefault(job.name, threading.Event()).wait(30)
        log.append(("end", job.name, data.origin))
        job.state = "done"
    monkeypatch.setattr(local_module, "execute", execute)
    return lambda name: gates.setdefault(name, threading.Event())


def running(log):
    started = [name for kind, name, _ in log if kind == "start"]
    ended = {name for kind, name, _ in log if kind == "end"}
    return [name for name in started if name not in ended]


def test_mps_jobs_train_one_at_a_time_and_wait_in_line(fake, copies, monkeypatch, tiny):
    fake(mps=True)
    log = []
    gate = gated_execute(monkeypatch, log)
    manager = LocalExecutor(max_running=4, max_gpu_jobs=2, threads=torch.get_num_threads())
    cfg = replace(TINY, device="mps")
    a, b, c = (manager.submit(cfg, tiny, owner="o", name=n) for n in "abc")
    assert a.device == b.device == c.device == "mps" and manager.cap("mps") == 1
    wait_for(lambda: running(log) == ["a"])
    time.sleep(0.3)
    assert running(log) == ["a"] and (b.state, c.state) == ("queued", "queued")
    assert (manager.position(b), manager.position(c)) == (1, 2)
    for name, nxt in (("a", "b"), ("b", "c")):
        gate(name).set()
        wait_for(lambda: running(log) == [nxt])
    gate("c").set()
    wait_for(lambda: settled(manager))
    assert [name for kind, name, _ in log if kind == "start"] == ["a", "b", "c"]  # in submission order


def test_an_mps_job_stays_queued_until_it_gets_the_device_lock(fake, copies, monkeypatch, tiny):
    fake(mps=True)
    log = []
    gate = gated_execute(monkeypatch, log)
    manager = LocalExecutor(max_running=2, threads=torch.get_num_threads())
    lock = LocalExecutor.device_locks["mps"]
    assert lock.acquire(timeout=5)  # someone else (another manager, a benchmark) trains on MPS now
    try:
        job = manager.submit(replace(TINY, device="mps"), tiny, owner="o", name="late")
        time.sleep(0.6)
        assert job.state == "queued" and manager.position(job) == 1 and log == []
    finally:
        lock.release()
    wait_for(lambda: job.state == "running")
    gate("late").set()
    wait_for(lambda: settled(manager))
    assert not lock.locked() and fake.emptied == ["mps"]  # handed back, the device's cache emptied first


def test_cuda_jobs_have_their_own_cap_and_line_beside_the_cpu(fake, copies, monkeypatch, tiny):
    fake(cuda=True)
    log = []
    gate = gated_execute(monkeypatch, log)
    freed = []
    monkeypatch.setattr(local_module, "free_memory", freed.append)
    manager = LocalExecutor(max_running=1, max_gpu_jobs=2, threads=torch.get_num_threads())
    g1, g2, g3 = (manager.submit(replace(TINY, device="cuda"), tiny, owner="o", name=f"g{i}") for i in (1, 2, 3))
    cpu = manager.submit(TINY, tiny, owner="o", name="cpu")
    wait_for(lambda: sorted(running(log)) == ["cpu", "g1", "g2"])  # the CPU job does not wait behind the GPU's
    time.sleep(0.3)
    assert g3.state == "queued" and manager.position(g3) == 1 and manager.position(cpu) == 0
    gate("g1").set()
    wait_for(lambda: "g3" in running(log))
    for name in ("g2", "g3", "cpu"):
        gate(name).set()
    wait_for(lambda: settled(manager))
    # 4. one device copy of the data for the three GPU jobs (g3 started while g2 still used it), none for the CPU's
    origins = {name: origin for kind, name, origin in log if kind == "start"}
    assert len(copies) == 1 and {origins[g] for g in ("g1", "g2", "g3")} == {"on cuda"}
    assert origins["cpu"] == "tests" and manager._copies._copies == {}
    assert freed == ["cuda"]  # the copy let go, and the cache emptied, when the last GPU job ended


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_a_measurement_runs_alone_on_its_device(fake, copies, monkeypatch, tiny, device):
    """The Conclusion's scaling measurement (a task) waits for the runs on its device to end though the cap would
    allow one more, and nothing starts beside it: it never times itself against a run training at once."""
    fake(cuda=True)
    log = []
    gate = gated_execute(monkeypatch, log)
    manager = LocalExecutor(max_running=2, max_gpu_jobs=2, threads=torch.get_num_threads())
    cfg = replace(TINY, device=device)
    manager.submit(cfg, tiny, owner="o", name="first")
    wait_for(lambda: running(log) == ["first"])

    def measure(job):
        log.append(("start", "task", ""))
        gate("task").wait(30)
        log.append(("end", "task", ""))
    task = manager.submit_task(measure, "o", "scaling", device)
    later = manager.submit(cfg, tiny, owner="o", name="later")
    time.sleep(0.6)
    assert running(log) == ["first"] and (task.state, later.state) == ("queued", "queued")  # cap 2, one running
    assert (manager.position(task), manager.position(later)) == (1, 2)
    gate("first").set()
    wait_for(lambda: running(log) == ["task"])
    time.sleep(0.6)
    assert later.state == "queued" and manager.counts(device)["running"] == 1  # nothing beside the measurement
    gate("task").set()
    wait_for(lambda: running(log) == ["later"])
    gate("later").set()
    wait_for(lambda: settled(manager))
    assert task.state == "done" and [n for kind, n, _ in log if kind == "start"] == ["first", "task", "later"]


def test_a_device_that_cannot_run_is_refused_before_anything_is_queued(fake, tiny):
    fake(cuda=True, op=no_kernels)
    manager = LocalExecutor(max_running=1, threads=torch.get_num_threads())
    with pytest.raises(ValueError, match="no kernel image"):
        manager.submit(replace(TINY, device="cuda"), tiny, owner="o")
    assert manager.counts()["queued"] == 0
    job = manager.submit(replace(SGD, device="auto"), tiny, owner="o")  # auto: the CPU
    assert job.device == "cpu"
    wait_for(lambda: settled(manager))
    assert job.state == "done"


# ---------------------------------------------------------------- 4. index tensors on the device once per epoch

def test_no_host_to_device_copy_per_step(tiny, monkeypatch):
    calls = [0]
    original = torch.Tensor.to

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    def copies_in_a_run(batch_size):
        cfg = replace(TINY, batch_size=batch_size, order="reversed", epochs=2)
        calls[0] = 0
        monkeypatch.setattr(torch.Tensor, "to", counting)
        events = list(train(cfg, tiny, build_model(cfg)))
        monkeypatch.setattr(torch.Tensor, "to", original)
        return calls[0], events[0]["steps_total"]

    copies_in_a_run(50)  # fills the order's index cache
    (few, steps_few), (many, steps_many) = copies_in_a_run(50), copies_in_a_run(10)
    assert (steps_few, steps_many) == (8, 40) and few == many  # 5 times the steps, not one copy more


def test_a_fixed_order_keeps_its_index_per_device_and_reads_the_same_lines(tiny):
    x = tiny.train_x[:4]
    for name, order in ORDERS.items():
        if order.per_image:
            continue
        lines = x.transpose(1, 2) if order.axis == 2 else x
        assert torch.equal(order.apply(x), lines[:, order.line_index()[0]])
        assert order._fixed_index(x.device) is order._fixed_index(x.device)  # copied once, then reused
    random = get_order("random")
    assert torch.equal(random.apply(x, torch.Generator().manual_seed(3)), random.apply(x, torch.Generator()
                                                                                         .manual_seed(3)))


# ---------------------------------------------------------------- 5. out of memory

def test_is_out_of_memory_recognises_cuda_mps_and_cudnn_wording():
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 9.05 GB)"))
    assert is_out_of_memory(RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"))
    with pytest.raises(RuntimeError) as refused:  # the CPU allocator's own error, raised for real
        torch.empty(2**62, dtype=torch.uint8)
    assert is_out_of_memory(refused.value), str(refused.value)
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 8 GB"))  # Windows
    assert not is_out_of_memory(RuntimeError("boom")) and not is_out_of_memory(ValueError("out of memory"))


def test_a_job_out_of_memory_ends_alone_with_advice_and_its_model_on_the_cpu(tiny, monkeypatch):
    import lib.training.train as train_module
    real_step, steps = train_module.optimisation_step, {"victim": 0}

    def step(model, *args, **kwargs):
        if model.rnn.hidden_size == 24:  # the victim's marker
            steps["victim"] += 1
            if steps["victim"] == 3:  # the CPU allocator's words (torch 2.14 on Linux)
                raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                                   "allocate memory: you tried to allocate 2147483648 bytes.")
        return real_step(model, *args, **kwargs)
    monkeypatch.setattr(train_module, "optimisation_step", step)
    manager = LocalExecutor(max_running=2, threads=torch.get_num_threads())
    bystander = manager.submit(replace(TINY, epochs=3), tiny, owner="a")
    victim = manager.submit(replace(TINY, hidden=24, epochs=3), tiny, owner="b")
    wait_for(lambda: settled(manager))
    assert victim.state == "error" and victim.message.id == "job.out_of_memory_cpu" and victim.result is None
    text = victim.message.render()
    assert text.startswith("The server's memory ran out") and "smaller batch size" in text and "hidden size" in text
    zh = victim.message.render(catalog("zh").gettext)
    assert zh != text and "CPU (" not in zh and "thread" not in zh  # no English device label inside the Chinese
    assert all(p.device.type == "cpu" for p in victim.model.parameters())
    assert bystander.state == "done" and bystander.result["n"] == 100  # untouched


def spied_model(cfg, moved):
    model = build_model(cfg)
    real_to = model.to
    model.to = lambda *args, **kwargs: (moved.append(args[0] if args else kwargs.get("device")),
                                        real_to(*args, **kwargs))[1]
    return model


@pytest.mark.parametrize("error, message_id", [
    (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"), "job.out_of_memory"),
    (RuntimeError("cuDNN error: CUDNN_STATUS_EXECUTION_FAILED"), "job.failed"),
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8589934592 bytes."),
     "job.out_of_memory_cpu"),  # the server's memory ran out during a GPU run: not the GPU's
])
def test_a_failed_gpu_job_moves_its_model_back_and_empties_the_cache(fake, copies, monkeypatch, tiny, error,
                                                                      message_id):
    fake(cuda=True)
    moved = []

    def execute(job, data):
        job.model = spied_model(job.config, moved)
        job.events.append({"event": "start", "device": "GPU: NVIDIA H100 80GB HBM3", "device_type": "cuda"})
        raise error
    monkeypatch.setattr(local_module, "execute", execute)
    manager = LocalExecutor(max_running=1, threads=torch.get_num_threads())
    job = manager.submit(replace(TINY, device="cuda"), tiny, owner="o")
    wait_for(lambda: settled(manager))
    assert job.state == "error" and job.message.id == message_id
    assert moved == ["cpu"] and fake.emptied == ["cuda"] and manager._copies._copies == {}
    if message_id == "job.out_of_memory":
        assert job.message.render().startswith("GPU: NVIDIA H100 80GB HBM3 ran out of memory")


# ---------------------------------------------------------------- 6. per-job randomness

def test_no_cpu_run_reseeds_the_process_wide_generator(tiny, monkeypatch):
    """On a CPU no run calls torch.manual_seed (which would move every other job's stream); a dropout run draws its
    masks from its own stream (tests/test_model_train.py checks it bit for bit beside another run)."""
    seeded = []
    real_seed = torch.manual_seed
    monkeypatch.setattr(torch, "manual_seed", lambda seed: (seeded.append(seed), real_seed(seed))[1])
    state = torch.get_rng_state()
    for cfg in (replace(TINY, layers=2, seed=5), replace(TINY, layers=2, seed=5, dropout=0.3)):
        first = [e.get("loss") for e in train(cfg, tiny, build_model(cfg))]
        again = [e.get("loss") for e in train(cfg, tiny, build_model(cfg))]
        assert first == again  # reproducible alone
    assert seeded == [] and torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("kind", ["cuda", "mps"])
def test_a_gpu_dropout_run_seeds_only_the_accelerator_under_the_generators_lock(kind, monkeypatch):
    from lib.models import seeding
    from lib.training.train import dropout_randomness

    seeded, cpu_seeded = [], []
    backend = torch.cuda if kind == "cuda" else torch.mps
    monkeypatch.setattr(backend, "manual_seed", lambda seed: seeded.append((seed, seeding._GLOBAL_GENERATOR.locked())))
    monkeypatch.setattr(torch, "manual_seed", cpu_seeded.append)
    state = torch.get_rng_state()
    cfg = replace(TINY, layers=2, dropout=0.3, seed=7)
    assert dropout_randomness(cfg, torch.device(kind)) is None  # cuDNN / MPS draw from the device's generator
    assert seeded == [(7, True)] and cpu_seeded == []  # the accelerator's alone, while holding the lock
    assert torch.equal(torch.get_rng_state(), state) and not seeding._GLOBAL_GENERATOR.locked()
    assert dropout_randomness(replace(cfg, dropout=0.0), torch.device(kind)) is None and len(seeded) == 1
    stream = dropout_randomness(cfg, torch.device("cpu"))  # the CPU's: the run's private stream
    assert stream is not None and len(seeded) == 1


# ---------------------------------------------------------------- 7. the first step is left out of the speed

def test_the_first_progress_reading_leaves_out_the_setup_step(tiny, monkeypatch):
    import lib.training.train as train_module
    real_step, calls, synced = train_module.optimisation_step, [0], []

    def slow_first(*args, **kwargs):  # a first step that pays for cuDNN setup or MPS graph compilation
        calls[0] += 1
        if calls[0] == 1:
            time.sleep(1.0)
        return real_step(*args, **kwargs)
    monkeypatch.setattr(train_module, "optimisation_step", slow_first)
    monkeypatch.setattr(train_module, "synchronize", synced.append)
    events = list(train(replace(TINY, epochs=2), tiny, build_model(TINY)))
    first = next(e for e in events if e["event"] == "step")
    assert first["step"] == 5 and first["elapsed"] >= 1.0
    assert first["samples_per_s"] > 200  # 100 samples in over 1 s would read under 100
    assert first["left_s"] < 1.0  # 15 fast steps left, not 3 × the first window's 1 s
    assert synced == [torch.device("cpu")]  # one wait for the device, after the first step only


# ---------------------------------------------------------------- 8. benchmarks compare like with like

def test_the_throughput_benchmark_runs_every_contender_on_one_device(fake, monkeypatch):
    """On a Mac, "auto" put the lesson's loop on MPS and ours (an LSTM at batch 64) on the CPU: every child is now
    told the one device type a run of ours resolves to, and a sample from another device stops the comparison."""
    from bench import throughput

    fake(mps=True)
    assert throughput.contender_device("auto", 64) == "cpu"  # MPS is slower than the CPU at batch 64
    assert throughput.contender_device("auto", 512) == "mps" and throughput.contender_device("cpu", 512) == "cpu"
    told = []

    def sample(name, args, extra_env):
        told.append((name, args.device))
        return {"train_sps": 1000.0, "eval_sps": 2000.0, "faults_per_step": 1.0, "process_wall_s": 1.0,
                "others_cores": 0.0, "maxrss_mb": 1.0, "precision": "fp32", "malloc_tuned": True,
                "device_type": "mps" if name == "lesson" and args.device == "auto" else args.device}
    monkeypatch.setattr(throughput, "sample", sample)
    args = throughput.parser().parse_args(["--rounds", "1", "--only", "lesson", "ours_fp32", "--skip-time-to-98"])
    result = throughput.run(args)
    assert sorted(told) == [("lesson", "cpu"), ("ours_fp32", "cpu")] and result["device"].startswith("CPU")
    args = throughput.parser().parse_args(["--rounds", "1", "--only", "lesson", "--skip-time-to-98",
                                           "--device", "mps"])
    monkeypatch.setattr(throughput, "sample", lambda name, a, env: {**sample(name, a, env), "device_type": "cpu"})
    with pytest.raises(RuntimeError, match="not all on mps"):
        throughput.run(args)
