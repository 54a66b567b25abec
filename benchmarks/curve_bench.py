"""A whole exact curve (``hwbopt curve``) against warm and cold re-solves, side by side.

On the county instance, for an input moved along a range (default: the county council's cut
from 0 to 0.5), one run measures:

- **curve**: the trace of :func:`hwbopt.analyses.curve.curve` — every piece found by a warm
  re-solve just past the last breakpoint, its direction and ratio test (``trace_seconds``),
  and the whole call with its base MIP (``mip_checks`` 0: the trace is what is compared);
- **warm**: the LP with the plan's integer decisions held (the curve's own model), loaded once
  and re-solved warm at 10 random values of the input, each from where the last left it, as the
  stress engine does: the per-solve time, and 10 of them (the issue's target: a whole curve
  costs no more than 10 warm re-solves);
- **cold**: a fresh HiGHS solve of the same LP at each breakpoint the curve found (what tracing
  by re-solving at known breakpoints would cost).

Every warm solve's objective is compared with the curve's at that value (they must agree to
1e-9, relative). Results go to ``benchmarks/results/curve.json``.

    python benchmarks/curve_bench.py [--instance instances/county]
        [--input "partners[county].cut.total"] [--from 0] [--to 0.5]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

import hwbopt
from hwbopt import highs
from hwbopt.analyses.curve import _bounds_at, curve
from hwbopt.compile import Compiled, with_bounds

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
    times, iterations, worst = [], [], 0.0
    for t in values:
        moved = _bounds_at(lp, line, float(t))
        start = time.perf_counter()
        h.changeColsBounds(moved.n_cols, np.arange(moved.n_cols, dtype=np.int32),
                           moved.col_lower, moved.col_upper)
        highs.change_rows_bounds(h, np.arange(moved.n_rows, dtype=np.int32),
                                 moved.row_lower, moved.row_upper)
        highs.settle(h)
        times.append(time.perf_counter() - start)
        iterations.append(int(highs.info(h, "simplex_iteration_count")))
        got = highs.info(h, "objective_function_value") + h.constant
        want = cv.objective_at(float(t))
        worst = max(worst, abs(got - want) / max(1.0, abs(want)))
    return {"seconds_each": times, "mean_seconds": float(np.mean(times)),
            "ten_seconds": float(10 * np.mean(times)), "iterations_each": iterations,
            "ten_iterations": int(sum(iterations)), "worst_relative_difference": worst}


def _cold(cv: Any, lp: Compiled) -> dict[str, Any]:
    """A fresh HiGHS solve at each breakpoint."""
    start = time.perf_counter()
    for t in cv.breakpoint_values:
        highs.solve_compiled(_bounds_at(lp, cv.line, float(t)), threads=1)
    seconds = time.perf_counter() - start
    n = len(cv.breakpoint_values)
    return {"breakpoints": n, "seconds": seconds, "mean_seconds": seconds / max(n, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instance", default=str(HERE.parent / "instances" / "county"))
    ap.add_argument("--input", default="partners[county].cut.total")
    ap.add_argument("--from", dest="start", type=float, default=0.0)
    ap.add_argument("--to", dest="end", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()

    inst = hwbopt.load(args.instance)
    began = time.perf_counter()
    cv = curve(inst, args.input, args.start, args.end, mip_checks=0)
    total = time.perf_counter() - began
    lp = _held_lp(cv)
    values = np.random.default_rng(args.seed).uniform(args.start, cv.pieces[-1].hi, 10)
    warm = _warm(cv, lp, values)
    cold = _cold(cv, lp)
    s = cv.summary()
    result = {
        "instance": args.instance, "input": args.input, "from": args.start, "to": args.end,
        "columns": lp.n_cols, "rows": lp.n_rows,
        "curve": {"pieces": len(cv.pieces), "breakpoints": len(s["breakpoints"]),
                  "exact": cv.exact, "warm_solves": cv.solves,
                  "simplex_iterations": cv.iterations, "trace_seconds": cv.trace_seconds,
                  "seconds_per_piece": cv.trace_seconds / max(len(cv.pieces), 1),
                  "call_seconds": total, "warnings": cv.warnings},
        "warm_resolves": warm,
        "cold_at_breakpoints": cold,
        "curve_over_ten_warm": cv.trace_seconds / warm["ten_seconds"],
        # the pivots the pieces took (the first solve, cold at the start, left out) against
        # the ten warm re-solves': the simplex work, apart from each HiGHS run's fixed cost
        "curve_pivots_over_ten_warm": (cv.iterations - cv.first_iterations)
        / max(warm["ten_iterations"], 1),
        "curve_over_cold_at_breakpoints": cv.trace_seconds / cold["seconds"],
        "target_met": cv.trace_seconds <= warm["ten_seconds"],
        "machine": {"python": platform.python_version(), "processor": platform.machine(),
                    "highs": highs.highs_version()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in (
        "curve", "warm_resolves", "cold_at_breakpoints", "curve_over_ten_warm",
        "curve_pivots_over_ten_warm", "curve_over_cold_at_breakpoints", "target_met")},
        indent=2))


if __name__ == "__main__":
    main()
