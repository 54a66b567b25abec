"""A whole exact curve (``hwbopt curve``) against warm and cold re-solves, side by side.

On the county instance, for an input moved along a range (default: the county council's cut
from 0 to 0.5), one run measures:

- **curve**: the trace of :func:`hwbopt.analyses.curve.curve` as it runs by default (the fast
  path: after one HiGHS solve at the start, the pivots at each breakpoint done by the curve
  itself on the basis, :mod:`hwbopt.simplex.pivots`; a HiGHS re-solve for any step they
  decline) — ``trace_seconds``, with how many steps took the fast path and how many fell
  back, the pivots, the factorisations' share and the certificates' time (after the trace);
  and the whole call with its base MIP (``mip_checks`` 0: the trace is what is compared);
- **curve_highs_only**: the same curve traced as before the fast path (``fast=False``: a warm
  HiGHS re-solve just past each breakpoint), in the same run, and the two curves' objectives
  compared at 200 random values (they must agree to 1e-9, relative: where the LP has many
  optimal plans the two routes may follow different ones, with breakpoints of their own, but
  never a different objective);
- **warm**: the LP with the plan's integer decisions held (the curve's own model), loaded once
  and re-solved warm at 10 random values of the input, each from where the last left it, as
  the stress engine does — measured after each of the two curves (the machine is shared: the
  mean of the two is the baseline), the per-solve time and 10 of them (the issue's target: a
  whole curve costs no more than 10 warm re-solves);
- **cold**: a fresh HiGHS solve of the same LP at each breakpoint the curve found (what tracing
  by re-solving at known breakpoints would cost);
- **solve floor**: how many solves with the basis the fast trace made, and one solve's time
  (compiled, with the final basis's factors and eta file; SciPy's SuperLU solve beside it):
  what the solves alone cost against the ten warm re-solves;
- **interleaved**: the two traces alone (as ``curve()`` runs them, without its base MIP and
  certificates) and the 10 warm re-solves, repeated ``--rounds`` times in turn, in wall and in
  processor time: the shared machine's load moves from minute to minute, so the target is
  judged on these medians (``target_met``), the single timings above being what one call of
  each took.

Every warm solve's objective is compared with the curve's at that value (they must agree to
1e-9, relative). Results go to ``benchmarks/results/curve.json``.

    python benchmarks/curve_bench.py [--instance instances/county]
        [--input "partners[county].cut.total"] [--from 0] [--to 0.5] [--rounds 5] [--no-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import hwbopt
from hwbopt import highs
from hwbopt.analyses.curve import _bounds_at, _merge, _trace, _Tracer, curve
from hwbopt.compile import Compiled, with_bounds
from hwbopt.simplex import kernels

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "curve.json"


def _held_lp(cv: Any) -> Compiled:
    """The curve's LP: the plan's integer decisions held at their values at the start."""
    comp = cv.readers.comp
    x0 = cv.x_at(cv.lo)
    lower = np.where(comp.integer, np.round(x0), comp.col_lower)
    upper = np.where(comp.integer, np.round(x0), comp.col_upper)
    lp = with_bounds(comp, col_lower=lower, col_upper=upper)
    return Compiled(**{**lp.__dict__, "integer": np.zeros(comp.n_cols, dtype=bool)})


def _warm(cv: Any, lp: Compiled, values: np.ndarray) -> dict[str, Any]:
    """One HiGHS instance, solved at the start, then re-solved warm at each value in turn."""
    line = cv.line
    h = highs.load(_bounds_at(lp, line, cv.lo), threads=1)
    highs.settle(h)
    times, cpu, iterations, worst = [], [], [], 0.0
    for t in values:
        moved = _bounds_at(lp, line, float(t))
        start, start_cpu = time.perf_counter(), time.process_time()
        h.changeColsBounds(moved.n_cols, np.arange(moved.n_cols, dtype=np.int32),
                           moved.col_lower, moved.col_upper)
        highs.change_rows_bounds(h, np.arange(moved.n_rows, dtype=np.int32),
                                 moved.row_lower, moved.row_upper)
        highs.settle(h)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        iterations.append(int(highs.info(h, "simplex_iteration_count")))
        got = highs.info(h, "objective_function_value") + h.constant
        want = cv.objective_at(float(t))
        worst = max(worst, abs(got - want) / max(1.0, abs(want)))
    return {"seconds_each": times, "mean_seconds": float(np.mean(times)),
            "ten_seconds": float(10 * np.mean(times)),
            "ten_cpu_seconds": float(10 * np.mean(cpu)), "iterations_each": iterations,
            "ten_iterations": int(sum(iterations)), "worst_relative_difference": worst}


def _retrace(cv: Any, lp: Compiled, fast: bool) -> dict[str, Any]:
    """The curve's trace alone (no base MIP, no certificates), as ``curve()`` runs it: wall
    and processor seconds, pieces, and the fast path's account."""
    tr = _Tracer(_bounds_at(lp, cv.line, cv.lo), cv.line, cv.start_plan)
    if fast:
        tr.use_pivots()
    start, start_cpu = time.perf_counter(), time.process_time()
    raw, _, _ = _trace(tr, [])
    pieces = _merge(raw)
    return {"seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - start_cpu,
            "first_solve_seconds": tr.first_seconds, "pieces": len(pieces),
            "fast_steps": tr.fast_steps, "fallback_steps": tr.fallback_steps,
            "pivots": tr.pivoter.pivots if tr.pivoter is not None else 0,
            "solves": tr.pivoter.solves if tr.pivoter is not None else 0}


def _solve_floor(cv: Any, lp: Compiled, ten: float) -> dict[str, Any]:
    """What the fast path's solves with the basis cost: a fast trace's count of them (two a
    pivot, a few more at each factorisation) times one solve's time with the final basis's
    factors and eta file (the mean of 2,000 compiled solves each way, a transposed solve of
    a unit vector as each pivot's row needs, and a column of the LP from its nonzeros, as a
    pivot solves it: ``kernels._ftran_sparse``), against the ten warm
    re-solves; and SciPy's SuperLU solve of the same basis (factorised whole, as the pivots
    did before hwbopt.simplex.factor), which the solves were before they were compiled."""
    tr = _Tracer(_bounds_at(lp, cv.line, cv.lo), cv.line, cv.start_plan)
    tr.use_pivots()
    _trace(tr, [])
    pv = tr.pivoter
    assert pv is not None
    if pv._lu is None:
        return {"solves": pv.solves, "solve_us": None}
    m = pv.m
    # SuperLU on the whole basis, as before the triangular peel (hwbopt.simplex.factor)
    lu = spla.splu(sp.csc_array(pv.M[:, pv.basic]), permc_spec="COLAMD", diag_pivot_thresh=0.1)
    rho, aq, work, tmp, _ = (v.copy() for v in pv._scratch)
    _, _, nz, _, heap, done, mark = (v.copy() for v in pv._support)
    unit = np.zeros(m)
    unit[m // 2] = 1.0
    # the column's solve as a pivot does it: from its nonzeros, hypersparse
    col = sp.csc_array(pv.M[:, [int(np.flatnonzero(pv.basic < pv.n)[0])]])
    idx, val = col.indices.astype(np.int64), col.data.astype(float)

    def solves() -> None:
        kernels.btran(pv._factors, pv._etas, unit, rho, work, tmp)
        kernels._ftran_sparse(pv._factors, pv._etas, idx, val, aq, work, nz, heap, done, mark)

    solves()  # loaded before timing
    start = time.perf_counter()
    for _ in range(2000):
        solves()
    each = (time.perf_counter() - start) / 4000
    b = np.random.default_rng(0).standard_normal(m)
    start = time.perf_counter()
    for _ in range(200):
        lu.solve(b)
        lu.solve(b, trans="T")
    superlu = (time.perf_counter() - start) / 400
    return {"solves": pv.solves, "pivots": pv.pivots, "basis_rows": m,
            "factor_nonzeros": pv._lu.nnz,
            "superlu_factor_nonzeros": int(lu.L.nnz + lu.U.nnz),
            "eta_nonzeros": int(pv._etas[5][1]),
            "etas": int(pv._etas[5][0]), "solve_us": each * 1e6,
            "superlu_dense_solve_us": superlu * 1e6, "solves_seconds": pv.solves * each,
            "solves_over_ten_warm": pv.solves * each / ten}


def _rounds(cv: Any, lp: Compiled, values: np.ndarray, rounds: int) -> dict[str, Any]:
    """The fast trace, the HiGHS-only trace and the 10 warm re-solves, interleaved ``rounds``
    times (the machine is shared and its load moves: each ratio is of medians, in wall and
    in processor time, which the load moves less)."""
    runs: dict[str, list[dict[str, Any]]] = {"fast": [], "highs_only": [], "warm": []}
    for _ in range(rounds):
        runs["warm"].append(_warm(cv, lp, values))
        runs["fast"].append(_retrace(cv, lp, True))
        runs["highs_only"].append(_retrace(cv, lp, False))

    def median(name: str, key: str) -> float:
        return float(np.median([r[key] for r in runs[name]]))

    ten, ten_cpu = median("warm", "ten_seconds"), median("warm", "ten_cpu_seconds")
    out: dict[str, Any] = {"rounds": rounds}
    for name in ("fast", "highs_only"):
        wall, cpu = median(name, "seconds"), median(name, "cpu_seconds")
        first = median(name, "first_solve_seconds")
        out[name] = {"seconds": wall, "cpu_seconds": cpu, "first_solve_seconds": first,
                     "pieces": runs[name][0]["pieces"],
                     "fast_steps": runs[name][0]["fast_steps"],
                     "fallback_steps": runs[name][0]["fallback_steps"],
                     "pivots": runs[name][0]["pivots"],
                     "over_ten_warm": wall / ten, "cpu_over_ten_warm_cpu": cpu / ten_cpu,
                     "steps_over_ten_warm": (wall - first) / ten,
                     "seconds_runs": [r["seconds"] for r in runs[name]]}
    out["ten_warm_seconds"], out["ten_warm_cpu_seconds"] = ten, ten_cpu
    out["ten_warm_seconds_runs"] = [r["ten_seconds"] for r in runs["warm"]]
    out["fast_path_speedup"] = out["highs_only"]["seconds"] / out["fast"]["seconds"]
    out["fast_path_cpu_speedup"] = out["highs_only"]["cpu_seconds"] / out["fast"]["cpu_seconds"]
    return out


def _cold(cv: Any, lp: Compiled) -> dict[str, Any]:
    """A fresh HiGHS solve at each breakpoint."""
    start = time.perf_counter()
    for t in cv.breakpoint_values:
        highs.solve_compiled(_bounds_at(lp, cv.line, float(t)), threads=1)
    seconds = time.perf_counter() - start
    n = len(cv.breakpoint_values)
    return {"breakpoints": n, "seconds": seconds, "mean_seconds": seconds / max(n, 1)}


def _row(cv: Any, total: float) -> dict[str, Any]:
    """One trace's numbers: its pieces, HiGHS's part and the fast path's."""
    pieces = max(len(cv.pieces), 1)
    steps = cv.trace_seconds - cv.first_solve_seconds
    return {"pieces": len(cv.pieces), "breakpoints": len(cv.breakpoint_values),
            "exact": cv.exact, "warm_solves": cv.solves,
            "simplex_iterations": cv.iterations,
            "first_solve_iterations": cv.first_iterations,
            "fast_steps": cv.fast_steps, "fallback_steps": cv.fallback_steps,
            "pivots": cv.pivots, "repaired_pieces": cv.repaired,
            "trace_seconds": cv.trace_seconds,
            "first_solve_seconds": cv.first_solve_seconds, "steps_seconds": steps,
            "seconds_per_piece": cv.trace_seconds / pieces,
            "steps_seconds_per_piece": steps / max(len(cv.pieces) - 1, 1),
            "certify_seconds": cv.certify_seconds,
            "call_seconds": total, "warnings": cv.warnings}


def _load() -> list[float] | None:
    """The machine's load average (1, 5, 15 minutes): it is shared, and timings move with it."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(HERE.parent / "instances" / "county"))
    ap.add_argument("--input", default="partners[county].cut.total")
    ap.add_argument("--from", dest="start", type=float, default=0.0)
    ap.add_argument("--to", dest="end", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved repeats of the traces and the warm re-solves")
    ap.add_argument("--no-cold", dest="cold", action="store_false",
                    help="leave out the cold solve at every breakpoint (two minutes)")
    args = ap.parse_args()

    inst = hwbopt.load(args.instance)
    # the compiled kernels are loaded from numba's cache in each new process (compiled the
    # first time after an install): a curve of the tutorial first, so that load is measured
    # apart (its trace alone is about 10 ms) and the county's single timings below are not
    # charged with it
    loading = curve(hwbopt.load(HERE.parent / "instances" / "tutorial"),
                    "partners[council].cut.total", 0.0, 0.5, mip_checks=0)
    began = time.perf_counter()
    cv = curve(inst, args.input, args.start, args.end, mip_checks=0)
    total = time.perf_counter() - began
    lp = _held_lp(cv)
    values = np.random.default_rng(args.seed).uniform(args.start, cv.pieces[-1].hi, 10)
    warm_after_fast = _warm(cv, lp, values)
    began = time.perf_counter()
    slow = curve(inst, args.input, args.start, args.end, mip_checks=0, fast=False)
    total_slow = time.perf_counter() - began
    warm_after_highs = _warm(cv, lp, values)
    ten = (warm_after_fast["ten_seconds"] + warm_after_highs["ten_seconds"]) / 2.0
    warm = {**warm_after_fast, "ten_seconds_runs": [warm_after_fast["ten_seconds"],
                                                    warm_after_highs["ten_seconds"]],
            "ten_seconds": ten, "mean_seconds": ten / 10.0}
    rounds = _rounds(cv, lp, values, args.rounds)
    floor = _solve_floor(cv, lp, rounds["ten_warm_seconds"])
    cold = _cold(cv, lp) if args.cold else None
    checks = np.random.default_rng(args.seed + 1).uniform(args.start, cv.pieces[-1].hi, 200)
    differ = max(abs(cv.objective_at(float(t)) - slow.objective_at(float(t)))
                 / max(1.0, abs(slow.objective_at(float(t)))) for t in checks)
    fast_row, slow_row = _row(cv, total), _row(slow, total_slow)
    result = {
        "instance": args.instance, "input": args.input, "from": args.start, "to": args.end,
        "columns": lp.n_cols, "rows": lp.n_rows,
        "kernels_loading": {"first_trace_in_process_seconds": loading.trace_seconds,
                            "pieces": len(loading.pieces)},
        "curve": fast_row,
        "curve_highs_only": slow_row,
        "fast_vs_highs_only_worst_objective_difference": differ,
        "warm_resolves": warm,
        "interleaved": rounds,
        "solve_floor": floor,
        "cold_at_breakpoints": cold,
        "curve_over_ten_warm": cv.trace_seconds / ten,
        # the steps between pieces alone (the first solve, cold at the start, left out): what
        # the fast path changes
        "curve_steps_over_ten_warm": fast_row["steps_seconds"] / ten,
        "highs_only_over_ten_warm": slow.trace_seconds / ten,
        "fast_path_speedup": slow.trace_seconds / cv.trace_seconds,
        # the HiGHS pivots the pieces took before the fast path (the first solve left out)
        # against the ten warm re-solves': the simplex work, apart from each run's fixed cost
        "curve_pivots_over_ten_warm": (slow.iterations - slow.first_iterations)
        / max(warm["ten_iterations"], 1),
        "curve_over_cold_at_breakpoints": cv.trace_seconds / cold["seconds"] if cold else None,
        "target_met": rounds["fast"]["seconds"] <= rounds["ten_warm_seconds"],
        "machine": {"python": platform.python_version(), "processor": platform.machine(),
                    "highs": highs.highs_version(), "load_average": _load()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    shown = {k: v for k, v in result["warm_resolves"].items() if not k.endswith("_each")}
    print(json.dumps({**{k: result[k] for k in (
        "kernels_loading", "curve", "curve_highs_only",
        "fast_vs_highs_only_worst_objective_difference",
        "cold_at_breakpoints", "curve_over_ten_warm", "curve_steps_over_ten_warm",
        "highs_only_over_ten_warm", "fast_path_speedup", "curve_over_cold_at_breakpoints",
        "interleaved", "solve_floor", "target_met")}, "warm_resolves": shown}, indent=2))


if __name__ == "__main__":
    main()
