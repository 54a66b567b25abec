"""The base plan's LP of a stress batch (hwbopt.batch.warm): one solve when no integer
decision is free, by the method its size suits, its basis kept beside the model's hash so a
second run starts warm, and the input-range check remembered; every answer the same as the
cold route's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hwbopt
from hwbopt import highs
from hwbopt.batch import setup as setup_mod
from hwbopt.batch import warm
from hwbopt.batch.run import run_stress
from hwbopt.batch.store import read_results
from hwbopt.pipeline import build

SET = "cuts_and_pressures"
TIMING = ["solve_seconds", "certify_seconds"]


def lp_tutorial() -> hwbopt.Instance:
    """The tutorial with its integer decisions taken out (every integer column fixed by its
    bounds), as the benchmark's generated 100k instance is."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from stress_bench import lp_friendly
    finally:
        sys.path.pop(0)
    shipped = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    return lp_friendly(shipped).model_copy(update={"stress": shipped.stress})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HWBOPT_CACHE", str(folder))
    return folder


def runs(inst: hwbopt.Instance, out: Path, n: int = 64) -> pd.DataFrame:
    run_stress(inst, set_name=SET, scenarios=n, out=out, workers=1)
    return read_results(out).drop(columns=TIMING)


def test_no_free_integer_means_one_lp_solve_equal_to_solve(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    inst = lp_tutorial()
    comp = build(inst).compiled
    assert comp.integer.any() and not (comp.integer & (comp.col_lower < comp.col_upper)).any()
    calls: list[str] = []
    real = warm.solve_lp

    def counted(c, time_limit=None):  # type: ignore[no-untyped-def]
        raw, basis, how = real(c, time_limit)
        calls.append(how)
        return raw, basis, how

    monkeypatch.setattr(warm, "solve_lp", counted)
    k, stress = setup_mod.pick_stress_set(inst, SET)
    prep = setup_mod.prepare(inst, stress, k, seed=1)
    assert calls == ["simplex"]  # the plan and the warm start from one solve
    solved = hwbopt.solve(inst)  # the MIP route, integers at their bounds
    assert prep.base.status == "optimal" and prep.base.checked
    assert prep.base.objective == pytest.approx(solved.objective, rel=1e-9)
    assert prep.spec.basis is not None


def test_interior_point_route_gives_the_simplex_answers(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    inst = lp_tutorial()
    simplex = runs(inst, tmp_path / "simplex")
    hows: list[str] = []
    real = warm.solve_lp
    monkeypatch.setattr(warm, "IPM_COLUMNS", 0)
    monkeypatch.setattr(warm, "solve_lp", lambda c, t=None: hows.append("x") or real(c, t))
    ipm = runs(inst, tmp_path / "ipm")
    assert hows
    assert (ipm.status == simplex.status).all()
    np.testing.assert_allclose(ipm.objective, simplex.objective, rtol=1e-9)


def test_a_second_run_starts_from_the_kept_basis_with_the_same_results(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inst = lp_tutorial()
    first = runs(inst, tmp_path / "first")
    kept = sorted(p.suffix for p in cache.iterdir())
    assert kept == [".npz", ".passed"]  # the basis, and the input ranges tried
    built = build(inst).compiled
    lp = warm.Compiled(**{**built.__dict__, "integer": np.zeros_like(built.integer),
                          "_cols": {}, "_rows": {}})
    basis = warm.kept_basis(lp)
    assert basis is not None and warm.solve_lp(built)[2] == "warm"
    h = highs.load(lp, threads=1)
    highs.set_basis(h, basis)
    h.run()
    assert highs.info(h, "simplex_iteration_count") == 0  # optimal as handed over
    builds: list[int] = []
    real_build = setup_mod.build
    monkeypatch.setattr(setup_mod, "build",
                        lambda *a, **k: builds.append(1) or real_build(*a, **k))
    second = runs(inst, tmp_path / "second")
    assert builds == [1]  # the base model only: the edges' builds were remembered
    pd.testing.assert_frame_equal(first, second)
    monkeypatch.setenv("HWBOPT_CACHE", "off")
    pd.testing.assert_frame_equal(first, runs(inst, tmp_path / "off"))


@pytest.mark.parametrize("damage", ["garbage", "shape", "status"])
def test_a_damaged_kept_basis_is_ignored(damage: str, cache: Path, tmp_path: Path) -> None:
    inst = lp_tutorial()
    comp = build(inst).compiled
    raw, basis, how = warm.solve_lp(comp)
    assert how == "simplex" and basis is not None
    path = next(cache.glob("*.npz"))
    if damage == "garbage":
        path.write_bytes(b"not a basis")
    elif damage == "shape":
        np.savez(path, cols=basis[0][:-1], rows=basis[1])
    else:
        np.savez(path, cols=np.full_like(basis[0], 9), rows=basis[1])
    assert warm.kept_basis(comp) is None
    again, _, how = warm.solve_lp(comp)
    assert how == "simplex" and again.objective == pytest.approx(raw.objective, rel=1e-12)


def test_a_kept_basis_is_offered_only_to_its_own_lp(cache: Path) -> None:
    comp = build(lp_tutorial()).compiled
    warm.solve_lp(comp)
    moved = warm.Compiled(**{**comp.__dict__, "row_upper": comp.row_upper * 1.01,
                             "_cols": {}, "_rows": {}})
    assert warm.kept_basis(comp) is not None and warm.kept_basis(moved) is None


def test_the_cache_can_be_turned_off_and_is_kept_small(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWBOPT_CACHE", "off")
    assert warm.cache_dir() is None
    comp = build(lp_tutorial()).compiled
    assert warm.solve_lp(comp)[2] == "simplex"
    monkeypatch.setenv("HWBOPT_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(warm, "KEEP", 3)
    for k in range(5):
        warm.remember(f"check{k}")
    assert len(list((tmp_path / "c").iterdir())) == 3
    assert warm.remembered("check4") and not warm.remembered("check0")
    monkeypatch.delenv("HWBOPT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert warm.cache_dir() == tmp_path / "xdg" / "hwbopt" / "bases"
