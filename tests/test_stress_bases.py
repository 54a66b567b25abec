"""The basis cache of bounds-only stress batches (hwbopt.batch.bases).

A scenario answered from an earlier optimal basis must give what the simplex gives: the same
status and objective, certified; a basis that no longer fits must fall back to a warm solve.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import hwbopt
from hwbopt.batch import bases
from hwbopt.batch.engine import Engine
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw
from hwbopt.batch.setup import prepare
from hwbopt.schema import StressSet

TUTORIAL = Path(__file__).resolve().parents[1] / "instances" / "tutorial"
# the finance team's question: council cuts and QIPP, which move only bounds
MONEY = {"id": "money", "seed": 7, "samples": 96, "inputs": [
    {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.20, "high": 0.40},
    {"path": "partners[nhs].savings_rate", "dist": "triangular", "low": 0.03, "mode": 0.04,
     "high": 0.07}]}


@pytest.fixture(scope="module")
def money() -> hwbopt.Instance:
    inst = hwbopt.load(TUTORIAL)
    return inst.model_copy(update={"stress": (StressSet.model_validate(MONEY),)})


def _results(inst: hwbopt.Instance, out: Path, reuse: bool) -> pd.DataFrame:
    # the engine's own walk answers first when it is on: off here, so the cache is reached
    run_stress(inst, scenarios=96, out=out, workers=1, reuse_bases=reuse, own_pivots=False)
    df = pd.read_parquet(out / "scenarios").sort_values("scenario")
    return df.reset_index(drop=True)


def test_cache_on_equals_cache_off(money: hwbopt.Instance, tmp_path: Path) -> None:
    on = _results(money, tmp_path / "on", True)
    off = _results(money, tmp_path / "off", False)
    assert list(on.scenario) == list(off.scenario)
    assert list(on.status) == list(off.status)
    assert on.certified.all() and off.certified.all()
    a, b = on.objective.to_numpy(float), off.objective.to_numpy(float)
    assert np.all(np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b)))
    # the cache answers a bounds-only workload, and only when it is on
    assert on.basis_reused.mean() > 0.5
    assert not off.basis_reused.any()
    # a reused answer took no simplex iteration, and counts as a warm answer
    assert (on.iterations[on.basis_reused] == 0).all()
    assert on.warm[on.basis_reused].all()


def _engine(inst: hwbopt.Instance) -> tuple[Engine, np.ndarray]:
    stress = inst.stress[0]
    prep = prepare(inst, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 8}), np.arange(8))
    prep.spec.reuse_bases = True  # off by default (benchmarks/README.md): on here to test it
    prep.spec.own_pivots = False  # the walk would answer first
    return Engine(prep.spec), values


def test_bounds_only_batches_get_a_cache_others_do_not(money: hwbopt.Instance) -> None:
    eng, _ = _engine(money)
    assert eng.bases is not None
    costs = {**MONEY, "inputs": [{"name": "cost", "path": "interventions[*].unit_cost",
                                  "op": "scale", "dist": "uniform", "low": 0.9, "high": 1.1}]}
    inst = money.model_copy(update={"stress": (StressSet.model_validate(costs),)})
    other, _ = _engine(inst)  # unit costs reach matrix coefficients: bases do not carry over
    assert other.bases is None


def test_rejected_basis_answer_falls_back_to_warm_solve(money: hwbopt.Instance,
                                                         monkeypatch) -> None:
    """A cached basis whose answer the certificate rejects (here: corrupted) is not used."""
    eng, values = _engine(money)
    real = bases.BasisCache.solve

    def corrupt(self, *args):
        hit = real(self, *args)
        if hit is not None:
            hit = bases.Hit(hit.x * 1.5 + 1.0, hit.row_dual)
        return hit

    monkeypatch.setattr(bases.BasisCache, "solve", corrupt)
    frame = eng.solve_chains([np.arange(8)], [values])
    assert frame.certified.all()
    assert not frame.basis_reused.any()
    assert (frame.status == "optimal").all()
    monkeypatch.undo()
    clean, _ = _engine(money)
    ref = clean.solve_chains([np.arange(8)], [values])
    assert clean.bases is not None and clean.bases.hits > 0  # the corruption was reached
    np.testing.assert_allclose(frame.objective, ref.objective, rtol=1e-9)


def _tiny() -> tuple[sp.csc_array, highspy.Highs]:
    """max x + y  s.t.  x + y <= b (row 0),  x - y <= 1 (row 1),  0 <= x <= 3, 0 <= y <= 2."""
    A = sp.csc_array(np.array([[1.0, 1.0], [1.0, -1.0]]))
    h = highspy.Highs()
    h.silent()
    h.addVars(2, np.zeros(2), np.array([3.0, 2.0]))
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([-1.0, -1.0]))
    h.addRows(2, np.array([-np.inf, -np.inf]), np.array([3.0, 1.0]), 4,
              np.array([0, 2], dtype=np.int32), np.array([0, 1, 0, 1], dtype=np.int32),
              np.array([1.0, 1.0, 1.0, -1.0]))
    return A, h


def _cache_from(h: highspy.Highs, A: sp.csc_array, lower: np.ndarray, upper: np.ndarray,
                row_lower: np.ndarray, row_upper: np.ndarray) -> bases.BasisCache:
    h.run()
    sol = h.getSolution()
    x, dual = np.asarray(sol.col_value), np.asarray(sol.row_dual)
    basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)
    cache = bases.BasisCache(A)
    added = cache.add(bases.statuses(basic[basic >= 0], x, lower, upper),
                      bases.statuses(-1 - basic[basic < 0], A @ x, row_lower, row_upper), dual)
    assert added
    return cache


def test_cached_basis_gives_the_hand_solution_and_misses_when_infeasible() -> None:
    A, h = _tiny()
    lower, upper = np.zeros(2), np.array([3.0, 2.0])
    row_lower, row_upper = np.full(2, -np.inf), np.array([3.0, 1.0])
    # at b = 3: x + y = 3 and x − y = 1 bind, so x = 2, y = 1 (both inside their bounds)
    cache = _cache_from(h, A, lower, upper, row_lower, row_upper)
    # b = 2.5: the same basis gives x = (b + 1) / 2 = 1.75, y = (b − 1) / 2 = 0.75
    hit = cache.solve(lower, upper, row_lower, np.array([2.5, 1.0]))
    assert hit is not None
    np.testing.assert_allclose(hit.x, [1.75, 0.75], atol=1e-12)
    # b = 6: the basis would give x = 3.5 > 3: primal infeasible, so no answer from it
    assert cache.solve(lower, upper, row_lower, np.array([6.0, 1.0])) is None
    # b = 0.5: y = −0.25 < 0: infeasible again
    assert cache.solve(lower, upper, row_lower, np.array([0.5, 1.0])) is None
    assert (cache.hits, cache.misses) == (1, 2)
    cache.clear()
    assert cache.entries == [] and (cache.hits, cache.misses) == (0, 0)


def test_cache_gives_up_in_a_chain_it_does_not_serve() -> None:
    A, h = _tiny()
    cache = _cache_from(h, A, np.zeros(2), np.array([3.0, 2.0]), np.full(2, -np.inf),
                        np.array([3.0, 1.0]))
    far = np.array([6.0, 1.0])
    for _ in range(bases.GRACE):
        assert cache.active
        assert cache.solve(np.zeros(2), np.array([3.0, 2.0]), np.full(2, -np.inf), far) is None
    assert not cache.active
