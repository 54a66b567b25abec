"""Fault injection: a stress run whose worker, or whose driver, is killed at a seeded random
point, then resumed, gives exactly the clean run's Parquet results (none lost, none twice).
A few trials here; ``benchmarks/fault_injection.py --trials 50`` runs many."""

from __future__ import annotations

import pytest
from faults import clean_run, trial

N = 128


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return clean_run(tmp_path_factory.mktemp("clean") / "run", N)


@pytest.mark.parametrize(("mode", "seed"), [("worker", 11), ("driver-hook", 12),
                                            ("driver-hook", 13), ("driver-kill", 14),
                                            ("driver-kill", 15)])
def test_killed_and_resumed_equals_clean(tmp_path, clean, mode, seed):
    result = trial(mode, seed, tmp_path, N, clean)
    assert result["ok"], result
    assert result["rows"] == N and result["unique"] == N, result
    if mode != "driver-kill":  # a SIGKILL may come after the last part: then nothing to resume
        assert result["killed"], result
