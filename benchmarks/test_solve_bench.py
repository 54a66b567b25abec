"""Build and solve times of the shipped instances (pytest-benchmark; not part of `pytest`).

Run: ``pytest benchmarks --benchmark-only`` (add ``--benchmark-json out.json`` to keep
numbers for comparison with ``pytest-benchmark compare``).
"""

from __future__ import annotations

import pytest

import hwbopt
from hwbopt.pipeline import build, solve_built
from hwbopt.shipped import shipped_names

NAMES = [n for n in ("tutorial", "county") if n in shipped_names()]


@pytest.fixture(scope="module", params=NAMES)
def name(request):
    return request.param


@pytest.fixture(scope="module")
def instance(name):
    return hwbopt.load(hwbopt.shipped_instance(name))


def test_load(benchmark, name):
    benchmark(hwbopt.load, hwbopt.shipped_instance(name))


def test_build(benchmark, instance):
    built = benchmark(build, instance)
    benchmark.extra_info["variables"] = built.compiled.n_cols
    benchmark.extra_info["constraints"] = built.compiled.n_rows


def test_solve(benchmark, instance):
    built = build(instance)
    result = benchmark(solve_built, built)
    assert result.status == "optimal"
    benchmark.extra_info["objective"] = result.objective
