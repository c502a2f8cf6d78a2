"""Hostile input, generated (issue 12): every surface where outside data enters, fuzzed with Hypothesis.

Each surface has a strategy (what an attacker or a clumsy user could hand it) and a check, the property: for any
input, the documented result, or that surface's own error (Problem, CheckpointError, DataUnavailable, exit code 2)
whose messages read as sentences in English and in Chinese; no other exception; bounded time and Python memory per
input. The tests run each property with a fixed, deterministic budget (SURFACES[…].examples); `python -m bench.fuzz`
runs the same checks on the same strategies with a large one and counts what escaped (docs/bad-inputs.md).
The plain tests at the end are the cases the issue reported, kept as regression tests.
"""

from __future__ import annotations

import gzip
import io
import json
import string
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from conftest import synthetic
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from lib.cli import main as cli
from lib.data.mnist import FILES, DataUnavailable, load_mnist
from lib.data.orders import ORDERS
from lib.data.sample import idx_bytes
from lib.experiments.drawing import preprocess
from lib.messages import TEXT, Problem
from lib.models.families import FAMILIES
from lib.runs.settings import Settings, load_settings
from lib.storage.checkpoints import FORMAT, MAX_CARD_BYTES, CheckpointError, from_bytes
from lib.storage.pretrained import SPECS
from lib.storage.share import APP_KEYS, SHARED_FIELDS, config_from_query
from lib.training.config import TrainConfig
from lib.training.devices import PRECISIONS
from lib.training.optim import OPTIMIZERS, SCHEDULES
from lib.training.presets import preset
from ui import i18n

ROOT = Path(__file__).resolve().parent.parent
ZH = i18n.catalog("zh")
MB = 2**20
# CI's budget: fixed examples (derandomize), no example database, no per-example deadline (bounded() times each).
FIXED = {"deadline": None, "derandomize": True, "database": None,
         "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]}


# ------------------------------------------------------------------------------------------------ what must hold


def explained(problem: Exception, kind: type) -> None:
    """`problem` is the surface's own error type, and each of its messages is a sentence in English and Chinese."""
    assert isinstance(problem, kind), f"{type(problem).__name__} escaped: {problem!r}"[:500]
    assert problem.messages and str(problem).strip()
    for message in problem.messages:
        for text in (message.render(), message.render(ZH.gettext)):
            assert isinstance(text, str) and text.strip()


@contextmanager
def bounded(seconds: float, megabytes: float | None = None):
    """The block takes less than `seconds`, and its Python and numpy allocations peak below `megabytes` (tracemalloc;
    None: not measured, where tracing would slow a whole Streamlit run). Checked when the block ends normally: an
    escaping exception goes up as it is.
    """
    tracing = megabytes is not None and not tracemalloc.is_tracing()
    if tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = (tracemalloc.get_traced_memory()[1] - before) / MB
        if tracing:
            tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    assert megabytes is None or peak < megabytes, f"allocated {peak:.0f} MB (bound {megabytes} MB)"


# ------------------------------------------------------------------------------------- shared value strategies

HUGE_INTS = st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**18, 10**30, 10**300, 10**4000]) | \
    st.integers(min_value=2**60, max_value=2**200)
NUMBERS = st.integers() | HUGE_INTS | st.floats() | st.sampled_from([0, -1, 1, 0.5, -0.0, 1e308, 5e-324])
SCALARS = st.none() | st.booleans() | NUMBERS | st.text(max_size=20)
JSON_VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3) |
                           st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)
CHOICES = [*FAMILIES, *OPTIMIZERS, *SCHEDULES, *ORDERS, *PRECISIONS, "auto", "cpu", "cuda", "mps"]
TEXTS = st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "9" * 30, "9" * 500,
                         "9" * 5000, str(2**64), "0x10", "1_000", " 64 ", "٦٤", "1.5", "-1", "0", "true", "yes",
                         "<script>alert(1)</script>", "[x](http://evil)", "**bold**", "{x}", "{0}", "%s", "\x00",
                         "a\nb", "😀", "中文", *CHOICES])


# ------------------------------------------------------------------------------ uploaded weights and model cards

SHIPPED = sorted(p.stem for p in (ROOT / "pretrained").glob("*.json"))
CARDS = {name: json.loads((ROOT / "pretrained" / f"{name}.json").read_text()) for name in SHIPPED}
WEIGHTS = {name: (ROOT / "pretrained" / f"{name}.safetensors").read_bytes() for name in SHIPPED}
PARENTS = [(), ("config",), ("config",), ("config",), ("config",), ("metrics",), ("training",), ("data",),
           ("versions",)]


def _nested(depth: int, opener: str) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value] if opener == "[" else {"a": value}
    return value


@st.composite
def mutated_cards(draw) -> tuple[bytes, object]:
    """(weights, card): a shipped card with fields removed, of the wrong type, huge or deeply nested, then sent as
    JSON, cut short, flipped, padded to the size cap, as bracket bombs or random bytes; mostly with its own weights."""
    name = draw(st.sampled_from(SHIPPED))
    card = json.loads(json.dumps(CARDS[name]))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PARENTS))
        parent = card
        for step in path:
            parent = parent.get(step) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        known = parent and draw(st.integers(0, 4))  # mostly a field the card has, sometimes a new one
        key = draw(st.sampled_from(sorted(parent))) if known else draw(st.text(max_size=8))
        op = draw(st.sampled_from(["drop", "set", "huge", "huge", "nest"]))
        if op == "drop":
            parent.pop(key, None)
        elif op == "set":
            parent[key] = draw(JSON_VALUES)
        elif op == "huge":
            parent[key] = draw(HUGE_INTS | st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308]))
        else:
            parent[key] = _nested(draw(st.integers(1, 40)), draw(st.sampled_from("[{")))
    text = json.dumps(card).encode()
    form = draw(st.sampled_from(["json"] * 6 + ["dict", "str", "flip", "cut", "junk", "bomb", "big"]))
    if form == "dict":
        sent: object = card
    elif form == "str":
        sent = text.decode()
    elif form == "flip":
        data = bytearray(text)
        for _ in range(draw(st.integers(1, 5))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        sent = bytes(data)
    elif form == "cut":
        sent = text[:draw(st.integers(0, len(text)))]
    elif form == "junk":
        sent = draw(st.binary(max_size=400))
    elif form == "bomb":
        depth = draw(st.sampled_from([19, 20, 21, 1000, 100_000]) | st.integers(0, 300))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        sent = opener * depth + draw(st.sampled_from([b"", b"1", b"]" * depth]))
    else:
        sent = text + b" " * (MAX_CARD_BYTES - len(text) + draw(st.integers(-2, 2)))
    weights = WEIGHTS[name]
    kind = draw(st.sampled_from(["own"] * 6 + ["other", "cut", "flip", "junk", "empty", "nan"]))
    if kind == "other":
        weights = WEIGHTS[draw(st.sampled_from(SHIPPED))]
    elif kind == "cut":
        weights = weights[:draw(st.integers(0, len(weights)))]
    elif kind == "flip":
        data = bytearray(weights)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, min(len(data) - 1, 600)))] = draw(st.integers(0, 255))  # mostly the header
        weights = bytes(data)
    elif kind == "junk":
        weights = draw(st.binary(max_size=200))
    elif kind == "empty":
        weights = b""
    elif kind == "nan":
        state = load_safetensors_bytes(weights)
        first = next(iter(state))
        state[first] = torch.full_like(state[first], float("nan"))
        weights = save_safetensors_bytes(state)
    return weights, sent


def check_card(case: tuple[bytes, object]) -> None:
    """A model rebuilt exactly from the weights, with a valid config in the card; or a CheckpointError."""
    weights, card = case
    with bounded(10, 64):
        try:
            model, parsed = from_bytes(weights, card)
        except CheckpointError as exc:
            explained(exc, CheckpointError)
            return
    assert parsed["format"] == FORMAT and not model.training
    TrainConfig.from_dict(parsed["config"]).validate()
    state = load_safetensors_bytes(weights)
    assert all(torch.equal(value, state[key]) for key, value in model.state_dict().items())


# ----------------------------------------------------------------------------------------------- query strings

BASE = preset("quick")
NEAR_RANGES = st.floats(-1, 2).map(lambda x: f"{x:.3g}") | st.integers(-10, 3000).map(str) | \
    st.sampled_from([str(2**31), str(2**40), "100", "0.995", "0.99", "0.5", "0.51", "1e-9"])  # near the form's ends
QUERY_TEXT = NEAR_RANGES | TEXTS | st.text(max_size=45) | st.integers(-(10**25), 10**25).map(str) | \
    st.floats().map(repr) | st.floats().map(lambda x: f"{x:g}")
QUERIES = st.dictionaries(st.sampled_from([*SHARED_FIELDS, "lang", "max_steps"]) | st.text(max_size=12),
                          QUERY_TEXT | st.lists(QUERY_TEXT, max_size=3), max_size=6)


def check_query(params: dict) -> None:
    """A valid config: each setting of the link applied, or skipped with one notice that echoes no markup."""
    with bounded(2, 16):
        cfg, notices = config_from_query(params, BASE)
    cfg.validate()
    keys = [k for k in params if k not in APP_KEYS]
    assert len(notices) <= len(keys)
    assert sum(n.id == "link.unknown" for n in notices) == sum(k not in SHARED_FIELDS for k in keys)
    rejected = {n.values["key"] for n in notices if n.id != "link.unknown"}
    for key in set(keys) & set(SHARED_FIELDS) - rejected:
        raw = params[key]
        value = raw[-1] if isinstance(raw, list) else raw
        assert getattr(cfg, key) == getattr(TrainConfig.from_dict({key: value}), key)
    for notice in notices:
        for text in (notice.render(), notice.render(ZH.gettext)):
            assert text.strip() and "<" not in text and "](" not in text


PAGE_QUERIES = st.dictionaries(st.sampled_from([*SHARED_FIELDS, "lang"]) | st.text(max_size=8),
                               QUERY_TEXT, max_size=5)


def check_train_page(params: dict) -> None:
    """The Train page opened with this query: no exception, and one warning per value the link could not use."""
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "views" / "train.py"), default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    shown = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")  # the exception's own words, not the redacted notice
    try:
        with bounded(60):
            at.run()
    finally:
        config.set_option("client.showErrorDetails", shown)
    assert not at.exception, [e.value for e in at.exception]
    _, notices = config_from_query(params, preset("quick"))
    assert len(at.warning) >= len(notices)


# ------------------------------------------------------------------------- classroom file and environment settings

SETTING_NAMES = [f.name for f in fields(Settings)]
TOML_SCALARS = st.integers(-(10**20), 10**20) | HUGE_INTS.filter(lambda n: n < 10**100) | st.floats() | \
    st.booleans() | st.text(max_size=10) | st.just("1979-05-27T07:32:00Z")


def _toml(value) -> str:
    """A value written as TOML (or as something close to it: a string that is not valid TOML is fine here)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else "inf" if value == float("inf") else "-inf" if value == -float("inf") \
            else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if value == "1979-05-27T07:32:00Z":
        return value
    return json.dumps(value)


@st.composite
def classrooms(draw) -> tuple[bytes | None, dict]:
    """(classroom.toml's bytes or None, environment): tables with wrong types, unknown keys, NaN, huge numbers, a
    `classroom` that is not a table, broken TOML, binary junk; ROW_BY_ROW_* variables with any text."""
    form = draw(st.sampled_from(["none", "table", "table", "table", "scalar", "nested", "junk", "bytes", "digits"]))
    if form == "table":
        keys = st.sampled_from(SETTING_NAMES) | st.text(max_size=8)
        table = draw(st.dictionaries(keys, TOML_SCALARS | st.lists(TOML_SCALARS, max_size=2), max_size=5))
        file = "[classroom]\n" + "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in table.items())
    elif form == "scalar":
        file = f"classroom = {_toml(draw(TOML_SCALARS | st.lists(TOML_SCALARS, max_size=2)))}\n"
    elif form == "nested":
        file = "[classroom.limits]\nmax_hidden = 64\n"
    elif form == "junk":
        file = draw(st.text(max_size=80))
    elif form == "digits":
        file = "[classroom]\nmax_hidden = " + "9" * draw(st.sampled_from([18, 19, 300, 5000])) + "\n"
    content = None if form == "none" else draw(st.binary(max_size=80)) if form == "bytes" else file.encode()
    names = st.sampled_from([f"ROW_BY_ROW_{n.upper()}" for n in SETTING_NAMES] + ["ROW_BY_ROW_CLASSROOM_FILE"])
    env = draw(st.dictionaries(names, QUERY_TEXT, max_size=4))
    if "ROW_BY_ROW_CLASSROOM_FILE" in env:
        env["ROW_BY_ROW_CLASSROOM_FILE"] = draw(st.sampled_from(["{tmp}/classroom.toml", "{tmp}", "{tmp}/none.toml",
                                                                 "x" * 5000, "a\x00b", ""]) | st.text(max_size=20))
    return content, env


def check_settings(case: tuple[bytes | None, dict]) -> None:
    """Settings whose every limit is a positive number of its type; or a Problem."""
    content, env = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "classroom.toml"
        if content is not None:
            path.write_bytes(content)
        env = {k: v.replace("{tmp}", tmp) for k, v in env.items()}
        with bounded(2, 16):
            try:
                loaded = load_settings(path=path, env=env)
            except Problem as exc:
                explained(exc, Problem)
                return
    for f in fields(Settings):
        value = getattr(loaded, f.name)
        assert type(value).__name__ == f.type, (f.name, value)
        assert f.type == "bool" or value > 0, (f.name, value)


# --------------------------------------------------------------------------------------------- CLI arguments

TINY = synthetic()
NUMBER_ARGS = TEXTS | st.integers(-(10**20), 10**20).map(str) | st.floats().map(repr)
SMALL = {  # flags whose valid values could make one training step slow: only small valid values, and invalid ones
    "--hidden": ["1", "4", "8", "16", "0", "-1", "1025", "1e3", "nan", "", "x", "9" * 30, "9" * 5000],
    "--layers": ["1", "2", "0", "9", "-3", "x", ""],
    "--batch-size": ["1", "16", "64", "0", "8193", "-5", "y"],
}
TRAIN_FLAGS = ["--dropout", "--lr", "--momentum", "--weight-decay", "--epochs", "--subset", "--validation",
               "--test-subset", "--seed", "--clip", "--log-every", "--max-steps"]
OUT = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=12) | \
    st.sampled_from(["/proc/row-by-row/x", "/dev/null/x", "", "a\x00b", "x" * 300, "{tmp}/deep/er/run"])
PATHS = st.sampled_from([str(ROOT / "pretrained" / "rnn-forward.safetensors"), str(ROOT / "pretrained" / "rnn-forward"),
                         "{tmp}/junk.safetensors", "{tmp}/missing.safetensors", "{tmp}", "", "x" * 5000, "a\x00b",
                         "/dev/null"])
JUNK_ARGS = st.sampled_from(["--help", "-h", "--colour", "red", "--", "-x", "--json", "--out"]) | st.text(max_size=8)


@st.composite
def argvs(draw) -> list[str]:
    """Command lines: each command with its flags given good, bad, empty, huge or missing values, and junk words."""
    command = draw(st.sampled_from(["train"] * 4 + ["evaluate"] * 2 + ["make-pretrained", "shipped-table",
                                                                        "make-sample", "none", "junk"]))
    argv = [] if command == "none" else [draw(st.text(max_size=8))] if command == "junk" else [command]
    options = []
    if command == "train":
        for flag in draw(st.lists(st.sampled_from([*SMALL, *TRAIN_FLAGS, "--cell", "--optimizer", "--scheduler",
                                                   "--order", "--device", "--precision", "--loss", "--preset",
                                                   "--out", "--name"]), max_size=6)):
            value = st.sampled_from(SMALL[flag]) if flag in SMALL else OUT if flag == "--out" else \
                NUMBER_ARGS if flag in TRAIN_FLAGS else TEXTS
            options += [flag, draw(value)]
        options += draw(st.sampled_from([[], ["--json"]]))
    elif command == "evaluate":
        options += [draw(PATHS)] + draw(st.sampled_from([[], ["--json"]]))
        options += draw(st.sampled_from([[], ["--order", draw(TEXTS)], ["--device", draw(TEXTS)]]))
    elif command == "make-pretrained":
        options += draw(st.sampled_from([[], ["--only", draw(st.sampled_from([*SPECS, "nope"]))],
                                         ["--out", draw(OUT)], ["--device", draw(TEXTS)]]))
    elif command == "make-sample":
        options += draw(st.sampled_from([[], ["--root", draw(st.sampled_from(["{tmp}", "nowhere", "", "a\x00b"]))],
                                         ["--out", draw(OUT)]]))
    argv += options + draw(st.lists(JUNK_ARGS, max_size=2))
    if command == "train":
        argv += ["--max-steps", "1"]  # the last one counts: whatever was asked for, nothing heavy trains
    return argv


def check_cli(argv: list[str]) -> None:
    """An exit code: 0 (done), 1 (a run diverged) or 2 with an `error: …` line (bad input); it never raises."""
    torch.optim.SGD([torch.zeros(1, requires_grad=True)])  # a first optimizer imports torch._dynamo: not the CLI's time
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        argv = [a.replace("{tmp}", tmp) for a in argv]
        (Path(tmp) / "junk.safetensors").write_bytes(b"junk")
        (Path(tmp) / "junk.json").write_text("{}")
        mp.chdir(tmp)  # a generated --out lands here
        mp.delenv("MNIST_ROOT", raising=False)  # make-sample never rebuilds the shipped sample from the real MNIST
        mp.setattr(cli, "load_mnist", lambda: TINY)  # tiny synthetic digits: nothing heavy trains or scores
        mp.setattr(cli, "SAMPLE_FOLDER", Path(tmp) / "sample")
        mp.setattr(cli, "FOLDER", Path(tmp) / "pretrained")
        with bounded(60, 256), redirect_stdout(out), redirect_stderr(err):
            code = cli.main(argv)
    assert isinstance(code, int) and code in (0, 1, 2), code
    assert code != 1 or argv[0] == "train"
    assert code != 2 or "error:" in err.getvalue(), err.getvalue()[-500:]


# --------------------------------------------------------------------------------------------- canvas images

SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40)
ODD_DTYPES = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.int8, np.uint16, np.bool_,
                              np.complex64])


def _special(kind: str, h: int, w: int, channels: int, seed: int) -> np.ndarray:
    shape = (h, w) if channels == 0 else (h, w, channels)
    rng = np.random.default_rng(seed)
    if kind == "all-ink":
        return np.full(shape, 255, np.uint8)
    if kind == "noise":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    canvas = np.zeros(shape, np.uint8)
    if kind == "one-pixel" and h and w:
        canvas[rng.integers(h), rng.integers(w)] = 255
    elif kind == "line" and h and w:
        canvas[rng.integers(h)] = 255
    elif kind == "faint":
        canvas[...] = 12  # just below the ink level
    return canvas


CANVASES = st.one_of(
    hnp.arrays(np.uint8, SHAPES),
    hnp.arrays(ODD_DTYPES, SHAPES),
    st.builds(_special, st.sampled_from(["all-ink", "noise", "one-pixel", "line", "faint"]), st.integers(0, 600),
              st.integers(0, 600), st.sampled_from([0, 0, 1, 2, 3, 4, 4, 5]), st.integers(0, 2**32 - 1)),
    st.builds(lambda a: a[::-1, ::2], hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=60))),
    st.builds(np.asmatrix, hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=30))),
    st.none() | st.integers() | st.text(max_size=5) | st.lists(st.lists(st.integers(0, 255), max_size=4), max_size=4),
)


def check_drawing(canvas) -> None:
    """An MNIST-style (28, 28) uint8 digit whose brightest pixel is 255, the drawing itself unchanged; or a Problem."""
    before = np.array(canvas, copy=True) if isinstance(canvas, np.ndarray) else None
    with bounded(5, 64):
        try:
            digit = preprocess(canvas)
        except Problem as exc:
            explained(exc, Problem)
            digit = None
    if before is not None:
        np.testing.assert_array_equal(canvas, before)
    if digit is not None:
        assert type(digit) is np.ndarray and digit.shape == (28, 28) and digit.dtype == np.uint8 and digit.max() == 255


# ------------------------------------------------------------------------------------- MNIST files under a root

DAMAGES = ["none"] * 8 + ["magic", "ndim", "dims", "cut", "extra", "shape", "labels", "count", "empty-set",
                          "missing", "folder", "zero-bytes", "junk", "gz", "gz-cut", "gz-junk", "gz-flip",
                          "gz-folder"]


@st.composite
def mnist_folders(draw) -> tuple[str, dict[str, bytes | None]]:
    """(the root's form, the four IDX files: name -> bytes, None = a folder in its place), each file maybe damaged:
    wrong magic, truncated, counts that disagree, labels out of range, empty, missing, gzip cut short or corrupt."""
    form = draw(st.sampled_from(["folder"] * 12 + ["root is a file", "no raw folder", "raw is a file"]))
    files: dict[str, bytes | None] = {}
    for split, (image_name, label_name) in FILES.items():
        n = draw(st.integers(1, 12))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)
        for name, array in ((image_name, images), (label_name, labels)):
            damage = draw(st.sampled_from(DAMAGES))
            content = idx_bytes(array)
            if damage == "magic":
                content = bytes([draw(st.integers(0, 255))]) + content[1:] if draw(st.booleans()) else \
                    content[:2] + bytes([draw(st.integers(0, 255))]) + content[3:]
            elif damage == "ndim":
                content = content[:3] + bytes([draw(st.sampled_from([0, 4, 9, 255]))]) + content[4:]
            elif damage == "dims":
                at = 4 + 4 * draw(st.integers(0, array.ndim - 1))
                content = content[:at] + draw(st.binary(min_size=4, max_size=4)) + content[at + 4:]
            elif damage == "cut":
                content = content[:draw(st.integers(0, len(content) - 1))]
            elif damage == "extra":
                content += draw(st.binary(min_size=1, max_size=50))
            elif damage == "shape":
                content = idx_bytes(array.reshape(len(array), -1) if array.ndim == 3 else array.reshape(-1, 1))
            elif damage == "labels" and array.ndim == 1:
                bad = array.copy()
                bad[draw(st.integers(0, n - 1))] = draw(st.integers(10, 255))
                content = idx_bytes(bad)
            elif damage == "count":
                content = idx_bytes(array[:draw(st.integers(0, n - 1))] if draw(st.booleans())
                                    else np.concatenate([array, array[:1]]))
            elif damage == "empty-set":
                content = idx_bytes(array[:0])
            elif damage == "zero-bytes":
                content = b""
            elif damage == "junk":
                content = draw(st.binary(max_size=64))
            elif damage.startswith("gz"):
                packed = gzip.compress(content, mtime=0)
                if damage == "gz-cut":
                    packed = packed[:draw(st.integers(0, len(packed) - 1))]
                elif damage == "gz-junk":
                    packed = b"\x1f\x8b" + draw(st.binary(max_size=64))
                elif damage == "gz-flip":
                    data = bytearray(packed)
                    data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
                    packed = bytes(data)
                files[name + ".gz"] = None if damage == "gz-folder" else packed
                continue
            if damage == "missing":
                continue
            files[name] = None if damage == "folder" else content
    return form, files


def check_mnist(case: tuple[str, dict[str, bytes | None]]) -> None:
    """load_mnist(root): the digits, every one a 28 × 28 uint8 image with a label 0 to 9, from that folder only;
    or DataUnavailable saying MNIST_ROOT cannot be used, and why. Never a fallback to other digits."""
    form, files = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        raw = root / "MNIST" / "raw"
        if form == "root is a file":
            root.write_bytes(b"not a folder")
        elif form == "raw is a file":
            raw.parent.mkdir(parents=True)
            raw.write_bytes(b"not a folder")
        elif form == "folder":
            raw.mkdir(parents=True)
            for name, content in files.items():
                if content is None:
                    (raw / name).mkdir()
                else:
                    (raw / name).write_bytes(content)
        else:
            root.mkdir()
        with bounded(5, 64):
            try:
                data = load_mnist(root, cache_dir=Path(tmp) / "cache")
            except DataUnavailable as exc:
                explained(exc, DataUnavailable)
                assert exc.messages[0].id == "data.root_unusable" and str(root) in str(exc)
                return
    assert data.source == "mnist" and data.origin == str(root)
    for x, y in ((data.train_x, data.train_y), (data.test_x, data.test_y)):
        assert x.dtype == torch.uint8 and x.shape[1:] == (28, 28) and y.dtype == torch.int64
        assert len(x) == len(y) > 0 and 0 <= int(y.min()) and int(y.max()) <= 9


# ---------------------------------------------------------------------------------------- translation catalogs


def _fields(text: str) -> dict[str, set[str]]:
    """{placeholder: its format specs} in a format string."""
    found: dict[str, set[str]] = {}
    for _, name, spec, _ in string.Formatter().parse(text):
        if name is not None:
            found.setdefault(name, set()).add(spec or "")
    return found


def catalog_pairs() -> list[tuple[str, str]]:
    """Every (English source, Chinese translation) in the zh catalog (plural forms and contexts too), and every lib
    message's source text with its translation."""
    pairs = set()
    for key, translated in ZH._catalog.items():
        source = key[0] if isinstance(key, tuple) else key.split("\x04", 1)[-1]
        if source:
            pairs.add((source, translated))
    pairs |= {(text, ZH.gettext(text)) for text in TEXT.values()}
    return sorted(pairs)


PAIRS = catalog_pairs()
FLOAT_SPEC, INT_SPEC = tuple("%fFgGeE"), tuple("d,n")


def _values_for(specs: set[str]):
    """Values of the kind a placeholder's format specs ask for: a float for {:.1%}, an int for {:,}, else anything."""
    if any(s.endswith(FLOAT_SPEC) for s in specs if s):
        return st.floats() | st.integers(-(10**30), 10**30)
    if any(s.endswith(INT_SPEC) or "," in s for s in specs if s):
        return st.integers(-(10**100), 10**100)
    return st.text(max_size=20) | st.integers(-(10**100), 10**100) | st.floats()


@st.composite
def catalog_cases(draw) -> tuple[str, str, dict]:
    source, translated = draw(st.sampled_from(PAIRS))
    specs = _fields(source)
    for name, more in _fields(translated).items():
        specs.setdefault(name, set()).update(more)
    values = {name: draw(_values_for(kinds)) for name, kinds in specs.items()}
    return source, translated, values


def check_catalog(case: tuple[str, str, dict]) -> None:
    """The English source and its Chinese translation both format with these values; the translation uses only the
    source's placeholders, by name, and is not empty."""
    source, translated, values = case
    assert set(_fields(translated)) <= set(_fields(source)), (source, translated)
    assert all(name.isidentifier() for name in _fields(source)), source
    with bounded(1, 4):
        english, chinese = source.format(**values), translated.format(**values)
    assert english.strip() and chinese.strip()


# -------------------------------------------------------------------------------------- the surfaces, budgets


@dataclass(frozen=True)
class Surface:
    """One place where outside data enters: its strategy, its property, and how many examples CI runs."""

    strategy: st.SearchStrategy
    check: Callable
    examples: int  # CI's fixed budget of generated inputs (bench.fuzz runs many more)
    explicit: tuple = ()  # inputs always tried first: the cases the generator rarely reaches by chance


SURFACES = {
    "cards": Surface(mutated_cards(), check_card, 150),
    "query strings": Surface(QUERIES, check_query, 200),
    "train page": Surface(PAGE_QUERIES, check_train_page, 4, (
        {"dropout": "0.95"}, {"momentum": "0.995"}, {"seed": str(2**40)}, {"clip": "500"}, {"log_every": "5000"},
        {"lang": "zh", "hidden": "<b>64</b>", "layers": "8", "dropout": "0.9"})),  # past the widgets' ends
    "classroom settings": Surface(classrooms(), check_settings, 150),
    "cli": Surface(argvs(), check_cli, 25, (  # found by the campaign: torch's RuntimeError for an unknown device
        ["evaluate", str(ROOT / "pretrained" / "rnn-forward.safetensors"), "--device", "sgd"],
        ["make-pretrained", "--device", "😀"])),
    "canvas": Surface(CANVASES, check_drawing, 200),
    "mnist files": Surface(mnist_folders(), check_mnist, 100),
    "catalogs": Surface(catalog_cases(), check_catalog, 200),
}


def fuzz(surface: str):
    """The test runs SURFACES[surface]'s property on its explicit inputs, then on its CI budget of generated ones."""
    s = SURFACES[surface]

    def decorate(test):
        test = given(s.strategy)(test)
        for case in reversed(s.explicit):
            test = example(case)(test)
        return settings(max_examples=s.examples, **FIXED)(test)
    return decorate


@fuzz("cards")
def test_uploaded_weights_and_cards(case):
    check_card(case)


@fuzz("query strings")
def test_query_strings(params):
    check_query(params)


@fuzz("train page")
def test_train_page_query_strings(params):
    check_train_page(params)


@fuzz("classroom settings")
def test_classroom_file_and_environment(case):
    check_settings(case)


@fuzz("cli")
def test_cli_arguments(argv):
    check_cli(argv)


@fuzz("canvas")
def test_canvas_images(canvas):
    check_drawing(canvas)


@fuzz("mnist files")
def test_mnist_files_under_an_explicit_root(files):
    check_mnist(files)


@fuzz("catalogs")
def test_translation_catalogs(case):
    check_catalog(case)


# ------------------------------------------------------------------------------------------ regression cases

LESSON_WEIGHTS, LESSON_CARD = WEIGHTS["lesson-forward"], CARDS["lesson-forward"]


def _card(**config) -> dict:
    return {**LESSON_CARD, "config": {**LESSON_CARD["config"], **config}}


def test_a_card_100000_brackets_deep_is_refused_before_parsing():
    for bomb in (b"[" * 100_000, b'{"a":' * 100_000, b"[" * 100_000 + b"]" * 100_000):
        with bounded(2, 16), pytest.raises(CheckpointError) as caught:
            from_bytes(LESSON_WEIGHTS, bomb)
        assert caught.value.messages[0].id == "card.too_big"


def test_a_card_without_config_is_refused():
    card = {k: v for k, v in LESSON_CARD.items() if k != "config"}
    with pytest.raises(CheckpointError, match="it has no settings") as caught:
        from_bytes(LESSON_WEIGHTS, json.dumps(card))
    explained(caught.value, CheckpointError)


@pytest.mark.parametrize("config", ["lstm", ["cell", "lstm"], [["hidden", 100]], 7, None])
def test_a_card_whose_config_is_a_string_or_a_list_is_refused(config):
    with pytest.raises(CheckpointError, match="it has no settings"):
        from_bytes(LESSON_WEIGHTS, json.dumps({**LESSON_CARD, "config": config}))


@pytest.mark.parametrize("field, value", [("seed", 2**64), ("seed", 10**30), ("max_steps", 2**70), ("hidden", 10**40),
                                          ("subset", 10**4000), ("lr", 10**400)],
                         ids=["seed-2**64", "seed-10**30", "max_steps-2**70", "hidden-10**40", "subset-10**4000",
                              "lr-10**400"])
def test_a_card_with_a_huge_integer_is_refused(field, value):
    with pytest.raises(CheckpointError, match="settings are invalid") as caught:
        from_bytes(LESSON_WEIGHTS, json.dumps(_card(**{field: value})))
    explained(caught.value, CheckpointError)
    assert len(str(caught.value)) < 300


def test_a_card_describing_a_far_bigger_model_is_refused_without_building_it():
    """A 1 KB card for a 2 × 1024 … 8 × 1024 LSTM with small weights: refused from the shapes, in milliseconds."""
    with bounded(0.5, 8), pytest.raises(CheckpointError, match="do not fit"):
        from_bytes(LESSON_WEIGHTS, json.dumps(_card(hidden=1024, layers=8)))


def test_a_truncated_test_file_under_an_explicit_mnist_root_is_an_error_not_a_fallback(tmp_path, monkeypatch,
                                                                                        capsys):
    """The issue's case: t10k-images-idx3-ubyte cut short; the CLI's evaluate must not score the shipped sample."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
    for split, (image_name, label_name) in FILES.items():
        (raw / image_name).write_bytes(idx_bytes(images))
        (raw / label_name).write_bytes(idx_bytes(labels))
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images)[:-100])
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))
    with pytest.raises(DataUnavailable, match="t10k-images-idx3-ubyte is truncated") as caught:
        load_mnist(cache_dir=tmp_path / "cache")
    explained(caught.value, DataUnavailable)
    code = cli.main(["evaluate", str(ROOT / "pretrained" / "lesson-forward.safetensors")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "error: MNIST_ROOT is set to" in err and "is truncated" in err


@pytest.mark.parametrize("damage", ["gz-cut", "gz-junk", "empty-set"])
def test_a_damaged_gzip_or_an_empty_file_under_mnist_root_is_explained(tmp_path, damage):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = np.zeros((20, 28, 28), np.uint8), np.arange(20, dtype=np.uint8) % 10
    for image_name, label_name in FILES.values():
        (raw / image_name).write_bytes(idx_bytes(images))
        (raw / label_name).write_bytes(idx_bytes(labels))
    (raw / "train-labels-idx1-ubyte").unlink()
    packed = gzip.compress(idx_bytes(labels))
    broken = {"gz-cut": packed[:-12], "gz-junk": b"\x1f\x8b" + b"\x08\x00junk" * 3}
    if damage == "empty-set":
        (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:0]))
        (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(images[:0]))
    else:
        (raw / "train-labels-idx1-ubyte.gz").write_bytes(broken[damage])
    with pytest.raises(DataUnavailable, match="MNIST_ROOT is set to") as caught:
        load_mnist(tmp_path, cache_dir=tmp_path / "cache")
    explained(caught.value, DataUnavailable)
    assert "train-labels-idx1-ubyte" in str(caught.value)


def test_a_gzip_bomb_under_mnist_root_stops_at_the_size_cap(tmp_path):
    """64 KB of gzip that would decompress to 65 MB: refused at the cap, not read to the end."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    header = bytes([0, 0, 8, 3]) + (90_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(90_000, np.uint8)))
    with gzip.open(raw / "train-images-idx3-ubyte.gz", "wb", compresslevel=1) as fh:
        fh.write(header)
        for _ in range(65):
            fh.write(bytes(2**20))
    with bounded(10, 80), pytest.raises(DataUnavailable, match="is larger than 64 MB") as caught:
        load_mnist(tmp_path, cache_dir=tmp_path / "cache")
    explained(caught.value, DataUnavailable)


@pytest.mark.parametrize("argv", [["train", "--hidden", "lots"], ["train", "--seed", str(2**64)], ["fly"], [],
                                  ["evaluate"], ["train", "--hidden", "9" * 5000]],
                         ids=["not-a-number", "seed-2**64", "unknown-command", "nothing", "no-path", "5000-digits"])
def test_cli_bad_arguments_return_2_with_an_error_line(argv, capsys):
    assert cli.main(argv) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("toml, words", [("classroom = 5\n", "must be a table"),
                                         ("[classroom]\nheartbeat_s = nan\n", "must be positive"),
                                         ("[classroom]\nmax_hidden = " + "9" * 5000 + "\n", "not valid TOML"),
                                         ("[classroom]\nmax_jobs = 10000000000000000000\n", "at most 18 digits")],
                         ids=["not-a-table", "nan", "5000-digits", "20-digits"])
def test_a_classroom_file_of_the_wrong_shape_is_explained(tmp_path, toml, words):
    path = tmp_path / "classroom.toml"
    path.write_text(toml)
    with pytest.raises(Problem, match=words) as caught:
        load_settings(path=path, env={})
    explained(caught.value, Problem)


def test_every_catalog_entry_formats_in_both_languages():
    """The property above samples the catalog; this goes through every entry once, with plain values."""
    for source, translated in PAIRS:
        values = {name: 1234.5 if any(s.endswith(FLOAT_SPEC) for s in specs if s) else 1234
                  for name, specs in (_fields(source) | _fields(translated)).items()}
        check_catalog((source, translated, values))
