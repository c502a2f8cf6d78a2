"""Nothing trains differently: short float32 runs of every preset, family, optimizer and schedule against the
weights recorded before a refactor (tests/golden.py, tests/golden.json)."""

from __future__ import annotations

import json
import math

import pytest

from tests import golden

RECORDED = json.loads(golden.FILE.read_text())
RTOL = 1e-4  # a refactor's reordered float sums move a fingerprint by ~1e-7; another batch or rate moves it by >1e-2


@pytest.fixture(scope="module")
def trained():
    return golden.compute()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECORDED["runs"]))
def test_run_trains_as_recorded(trained, name):
    want, got = RECORDED["runs"][name], trained["runs"][name]
    assert (got["end"], got["steps"]) == (want["end"], want["steps"])
    scale = math.sqrt(abs(want["fingerprint"][1])) + 1.0  # the weights' norm: projections are of this size
    for a, b in zip(got["fingerprint"], want["fingerprint"]):
        assert abs(a - b) <= RTOL * max(abs(b), scale), (name, got["fingerprint"], want["fingerprint"])
    if trained["machine"] == RECORDED["machine"]:  # same instruction set, torch and threads: the very same bytes
        assert got["sha256"] == want["sha256"], name


def test_every_registry_entry_has_a_golden_run():
    """A new preset or family gets its golden run (python -m tests.golden --write) with the change that adds it."""
    assert set(golden.runs()) == set(RECORDED["runs"])
