"""Side-by-side: `hwbopt stress` against the ways a batch of scenarios could be solved.

One process run, so the ratios are fair. For each instance (the county, and a generated one of
about 100k variables with its integer decisions taken out so the plan is an LP), the same
sampled scenarios of the same problem — the plan's LP with its integer decisions fixed — are
solved by:

- ``naive``: apply the scenario to the instance, rebuild the Pyomo model, solve it with Pyomo's
  HiGHS interface (appsi), cold;
- ``persistent``: one Pyomo model whose stressed numbers are mutable Params, kept in Pyomo's
  persistent HiGHS interface with automatic updates off (``update_params`` per scenario);
- ``raw``: one highspy model, the scenario's changes pushed with batched calls and re-solved
  warm in sampled order — the limit: nothing but HiGHS;
- ``raw-ordered``: the same loop in hwbopt's own order and chains (the fair warm-start
  limit), with HiGHS's account: iterations a scenario, the fixed cost of a run and the cost of
  an iteration (a straight line fitted to each run's seconds against its iterations), and how
  many distinct optimal bases the scenarios have;
- ``hwbopt-1`` and ``hwbopt-2``: ``hwbopt stress`` on one worker (in process) and two (local
  worker processes, :mod:`hwbopt.batch.pool`), everything included: sampling, ordering, Parquet
  writes, the summary.

``raw``, ``persistent`` and hwbopt run HiGHS with the same warm-start options
(``hwbopt.batch.engine.WARM_OPTIONS``); ``naive`` solves cold with HiGHS's defaults.

It prints per-scenario times and ratios against the targets of the issue, checks that every
method gives the same objectives, and measures the peak memory of ``hwbopt stress`` at 1k and
50k scenarios (each in a fresh process). On the ``money`` workload (bounds only) it also runs
``hwbopt stress`` three ways, one worker, side by side (``ROUTES``): HiGHS's warm simplex alone
(the engine before the walk), the basis cache first (``hwbopt.batch.bases``), and the engine's
own walk from scenario to scenario (``hwbopt.batch.walk``, the default): ms per scenario, the
share answered each way, where the time goes, same objectives.
Run from the repository root::

    python benchmarks/stress_bench.py                          # county and 100k
    python benchmarks/stress_bench.py --sizes county --memory-scenarios 1000,5000
    python benchmarks/stress_bench.py --bases county:20000     # only HiGHS, cache and walk
    python benchmarks/stress_bench.py --scaling county:money:4000,county:money:400
    python benchmarks/stress_bench.py --setup 100k             # a stress run's set-up
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import hwbopt
from hwbopt import highs
from hwbopt.batch.engine import CHAIN, WARM_OPTIONS, Engine
from hwbopt.batch.params import apply_inputs
from hwbopt.batch.params import evaluate as evaluate_maps
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw, neighbour_order
from hwbopt.batch.setup import prepare
from hwbopt.derived import add_need_share, derive
from hwbopt.io.folder import instance_from_dict
from hwbopt.scenarios import apply_changes, instance_data
from hwbopt.schema import Change, StressSet

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"raw": 1.25, "naive": 50.0, "persistent": 5.0, "workers": 1.7, "memory_mb": 100.0,
           "certification": 0.10}


def lp_friendly(inst: hwbopt.Instance) -> hwbopt.Instance:
    """The generated instance without integer decisions: no go/no-go, no exclusive pairs or
    dependencies, sites that cannot close, concave responses (effects sorted high to low)."""
    data = instance_data(inst)
    data["exclusive"], data["dependencies"] = [], []
    for i in data["interventions"]:
        i["min_scale"], i["setup_cost"] = 0.0, 0.0
    for s in data["sites"]:
        s["can_close"] = False
    curves: dict[tuple[str, str], list[dict]] = {}
    for r in data["responses"]:
        curves.setdefault((r["intervention"], r["priority"]), []).append(r)
    for rows in curves.values():
        effects = sorted((r["effect"] for r in rows), reverse=True)
        for r, e in zip(sorted(rows, key=lambda r: r["upto_share"]), effects, strict=True):
            r["effect"] = e
    return instance_from_dict(data)


# two workloads: the finance team's money scenarios (cuts and QIPP: right-hand sides and
# bounds only), and everything a stress set may vary (need and unit costs reach bounds and
# matrix coefficients, so each scenario moves the optimum further)
WORKLOADS = {
    "money": [
        {"path": "partners[county].cut.total", "dist": "uniform", "low": 0.22, "high": 0.40},
        {"path": "partners[ccg].savings_rate", "dist": "triangular", "low": 0.03,
         "mode": 0.04, "high": 0.06},
    ],
    "full": [
        {"path": "partners[county].cut.total", "dist": "uniform", "low": 0.22, "high": 0.40},
        {"path": "partners[ccg].savings_rate", "dist": "triangular", "low": 0.03,
         "mode": 0.04, "high": 0.06},
        {"name": "demand", "path": "activity[*].need", "op": "scale", "dist": "normal",
         "mean": 1.0, "sd": 0.04, "low": 0.92, "high": 1.15},
        {"name": "inflation", "path": "interventions[*].cost_growth", "op": "add",
         "dist": "uniform", "low": 0.0, "high": 0.03},
    ],
}


def instance(size: str, cache: Path, workload: str = "full") -> hwbopt.Instance:
    if size == "county":
        inst = hwbopt.load(ROOT / "instances" / "county")
    else:
        folder = cache / f"generated-{size}"
        if not (folder / "instance.yaml").exists():
            from hwbopt.generate import parse_count, size_for_variables, write_generated

            write_generated(folder, force=True, seed=0,
                            **size_for_variables(parse_count(size)))
        inst = lp_friendly(hwbopt.load(folder))
    stress = {"id": f"bench-{workload}", "seed": 7, "samples": 1,
              "inputs": WORKLOADS[workload]}
    return inst.model_copy(update={"stress": (StressSet.model_validate(stress),)})


def scenario_instance(inst, stress, row):
    changes = [Change(path=p, **{spec.op: float(v)})
               for spec, v in zip(stress.inputs, row, strict=True) for p in spec.targets]
    return apply_changes(inst, changes, "bench", references=False)


# ---- the methods ----------------------------------------------------------------------------


def run_raw(prep, values: np.ndarray, ordered: bool = False) -> tuple[float, list[float]]:
    """highspy alone: every scenario's entries computed beforehand, pushed, re-solved warm.

    In sampled order by default, each scenario from where the last left it. ``ordered``: in
    hwbopt's own order (:func:`hwbopt.batch.sample.neighbour_order`, chains of
    :data:`hwbopt.batch.engine.CHAIN` each started from the base plan's basis, as the engine
    runs them): the fair warm-start limit, nothing but HiGHS doing what hwbopt does. Objectives
    come back in the scenarios' own order; :data:`RAW_STATS` keeps the last run's account."""
    spec = prep.spec
    derived = derive(apply_inputs(spec.fields, spec.targets, values), spec.layout)
    add_need_share(derived.values, spec.layout)
    entries = evaluate_maps(spec.prepared, derived.values)
    eng = Engine(spec)  # loads the model; the loop below is plain highspy calls
    eng.spec.own_pivots = False  # HiGHS alone: the engine's walk is not loaded at a restart
    h = eng.h
    eng._restart()
    p = spec.prepared
    cols = eng.cols_touched
    col_lo, col_hi = spec.col_lower.copy(), spec.col_upper.copy()
    rows = eng.rows_touched
    row_lo, row_hi = spec.row_lower.copy(), spec.row_upper.copy()
    fixed = eng.fixed[cols]
    order = neighbour_order(values) if ordered else np.arange(len(values))
    objectives: list[float | None] = [None] * len(values)
    run_s, iterations, bases = np.zeros(len(values)), np.zeros(len(values)), set()
    elapsed = 0.0
    for k, n in enumerate(order):
        start = time.perf_counter()
        if ordered and k % CHAIN == 0:
            eng._restart()  # a chain starts from the base plan's basis
        if "col_lower" in p:
            col_lo[p["col_lower"].position] = entries["col_lower"][n]
        if "col_upper" in p:
            col_hi[p["col_upper"].position] = entries["col_upper"][n]
        lo = np.where(fixed, spec.col_lower[cols], col_lo[cols])
        hi = np.where(fixed, spec.col_lower[cols], col_hi[cols])
        h.changeColsBounds(len(cols), cols, lo, hi)
        if "row_lower" in p:
            row_lo[p["row_lower"].position] = entries["row_lower"][n]
        if "row_upper" in p:
            row_hi[p["row_upper"].position] = entries["row_upper"][n]
        h.changeRowsBounds(len(rows), rows, row_lo[rows], row_hi[rows])
        if "A" in p:
            for j, v in enumerate(entries["A"][n]):
                h.changeCoeff(int(spec.a_rows[j]), int(spec.a_cols[j]), float(v))
        before = h.getInfo().simplex_iteration_count
        ran = time.perf_counter()
        h.run()
        run_s[k] = time.perf_counter() - ran
        optimal = h.getModelStatus() == h.getModelStatus().kOptimal
        objectives[n] = h.getInfo().objective_function_value if optimal else None
        elapsed += time.perf_counter() - start
        # outside the timed part: the account of where the time goes
        iterations[k] = h.getInfo().simplex_iteration_count - before
        if optimal:
            bases.add(np.sort(np.asarray(h.getBasicVariables()[1])).tobytes())
    # a run's seconds against its iterations: the intercept is HiGHS's fixed cost of a run
    slope, fixed_cost = np.polyfit(iterations, run_s, 1) if len(values) > 1 else (0.0, 0.0)
    RAW_STATS.clear()
    RAW_STATS.update(order="hwbopt" if ordered else "sampled", scenarios=len(values),
                     mean_iterations=float(iterations.mean()),
                     run_ms=float(run_s.mean() * 1e3), fixed_ms_per_run=float(fixed_cost * 1e3),
                     ms_per_iteration=float(slope * 1e3), distinct_optimal_bases=len(bases))
    return elapsed / len(values), objectives  # type: ignore[return-value]


RAW_STATS: dict[str, Any] = {}


def _fix_plan(model, base) -> None:
    """Fix the plan's integer decisions in a Pyomo model (by name, from the base plan)."""
    comp, x = base["compiled"], base["x"]
    for j in np.flatnonzero(comp.integer):
        getattr(model, comp.col_component[j])[comp.col_index[j]].fix(float(round(x[j])))


def run_naive(inst, stress, values, base) -> tuple[float, list[float]]:
    from pyomo.contrib.appsi.solvers import Highs

    from hwbopt.model import build_model, model_data

    objectives = []
    start = time.perf_counter()
    for row in values:
        m = build_model(model_data(scenario_instance(inst, stress, row)))
        _fix_plan(m, base)
        opt = Highs()
        opt.config.stream_solver = False
        opt.config.load_solution = False
        res = opt.solve(m)
        objectives.append(res.best_feasible_objective
                          if str(res.termination_condition).endswith("optimal") else None)
    return (time.perf_counter() - start) / len(values), objectives


def run_persistent(prep, values) -> tuple[float, list[float], float]:
    """A Pyomo model of the same LP with the stressed numbers as mutable Params."""
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs

    spec = prep.spec
    p = spec.prepared
    derived = derive(apply_inputs(spec.fields, spec.targets, values), spec.layout)
    add_need_share(derived.values, spec.layout)
    entries = evaluate_maps(spec.prepared, derived.values)
    build_start = time.perf_counter()
    m = pyo.ConcreteModel()
    n_cols, n_rows = spec.n_cols, spec.n_rows
    fixed = spec.integer & ~spec.mip

    def params(name, positions, base):
        index = list(range(len(positions)))
        return pyo.Param(index, initialize=dict(zip(index, base, strict=True)), mutable=True)

    col_lo = {int(j): k for k, j in enumerate(p["col_lower"].position)} \
        if "col_lower" in p else {}
    col_hi = {int(j): k for k, j in enumerate(p["col_upper"].position)} \
        if "col_upper" in p else {}
    row_lo = {int(r): k for k, r in enumerate(p["row_lower"].position)} \
        if "row_lower" in p else {}
    row_hi = {int(r): k for k, r in enumerate(p["row_upper"].position)} \
        if "row_upper" in p else {}
    a_at = {int(d): k for k, d in enumerate(p["A"].position)} if "A" in p else {}
    for name, table in (("col_lower", col_lo), ("col_upper", col_hi), ("row_lower", row_lo),
                        ("row_upper", row_hi), ("A", a_at)):
        if table:
            setattr(m, f"p_{name}", params(name, list(table), p[name].base))

    def num(v):
        return None if not np.isfinite(v) else float(v)

    def bounds(m, j):
        if fixed[j]:
            return (spec.col_lower[j], spec.col_lower[j])
        lo = m.p_col_lower[col_lo[j]] if j in col_lo else num(spec.col_lower[j])
        hi = m.p_col_upper[col_hi[j]] if j in col_hi else num(spec.col_upper[j])
        return (lo, hi)

    m.x = pyo.Var(range(n_cols), bounds=bounds)
    m.obj = pyo.Objective(expr=pyo.quicksum(float(spec.c[j]) * m.x[j] for j in range(n_cols)
                                            if spec.c[j]) + spec.offset,
                          sense=pyo.minimize if spec.sense == 1 else pyo.maximize)
    csr_rows: list[list[tuple[int, int]]] = [[] for _ in range(n_rows)]
    for col in range(n_cols):
        for d in range(spec.A_indptr[col], spec.A_indptr[col + 1]):
            csr_rows[spec.A_indices[d]].append((col, d))

    def row(m, r):
        body = pyo.quicksum((m.p_A[a_at[d]] if d in a_at else float(spec.A_data[d])) * m.x[c]
                            for c, d in csr_rows[r])
        lo = m.p_row_lower[row_lo[r]] if r in row_lo else num(spec.row_lower[r])
        hi = m.p_row_upper[row_hi[r]] if r in row_hi else num(spec.row_upper[r])
        if lo is None and hi is None:
            return pyo.Constraint.Skip
        if lo is None:
            return body <= hi
        if hi is None:
            return body >= lo
        if r not in row_lo and r not in row_hi and lo == hi:
            return body == lo
        return pyo.inequality(lo, body, hi)

    m.rows = pyo.Constraint(range(n_rows), rule=row)
    opt = Highs()
    opt.config.stream_solver = False
    opt.config.load_solution = False
    opt.highs_options = dict(WARM_OPTIONS)  # the same warm-start pricing as hwbopt and raw
    uc = opt.update_config
    for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective",
                 "update_constraints", "update_vars", "update_params",
                 "update_named_expressions", "update_objective"):
        setattr(uc, flag, False)
    opt.set_instance(m)
    build_seconds = time.perf_counter() - build_start
    objectives = []
    start = time.perf_counter()
    for n in range(len(values)):
        for name, table in (("col_lower", col_lo), ("col_upper", col_hi),
                            ("row_lower", row_lo), ("row_upper", row_hi), ("A", a_at)):
            if table:
                par = getattr(m, f"p_{name}")
                vals = entries[name][n]
                for k in range(len(vals)):
                    par[k].set_value(float(vals[k]))
        opt.update_params()
        res = opt.solve(m)
        objectives.append(res.best_feasible_objective
                          if str(res.termination_condition).endswith("optimal") else None)
    return (time.perf_counter() - start) / len(values), objectives, build_seconds


COLD_CHECK = {"share": 0.01}  # hwbopt's default; --cold-check changes it for every hwbopt run


def run_hwbopt(inst, n, workers, out: Path, trim: bool = True) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    return run_stress(inst, scenarios=n, out=out, workers=workers, trim=trim,
                      cold_check=COLD_CHECK["share"])


ROUTES = {  # the ways ``hwbopt stress`` can answer a bounds-only batch: (reuse_bases, own_pivots)
    "off": (False, False),  # HiGHS's warm simplex alone: the engine before the walk
    "on": (True, False),  # the basis cache first (hwbopt.batch.bases), then HiGHS
    "walk": (False, True),  # the engine's own pivots (hwbopt.batch.walk): the default
}


def bases(size: str, cache: Path, n: int, rounds: int = 2) -> dict[str, Any]:
    """The money workload answered each way of :data:`ROUTES` (one worker, one process): a
    short run first so none pays the process's first-use costs, then each in turn, ``rounds``
    times (other load on the machine then falls on all alike); the mean of each."""
    import pandas as pd

    inst = instance(size, cache, "money")
    tmp = cache / f"bases-{size}"
    run_hwbopt(inst, min(n, 64), 1, tmp / "warm-up")
    res: dict[str, Any] = {"size": size, "workload": "money", "scenarios": n, "rounds": rounds,
                           "cold_check": COLD_CHECK["share"]}
    # what a cache can gain: how many of the scenarios' optimal bases are distinct, and how
    # much of a warm solve is HiGHS's fixed cost (HiGHS alone, in hwbopt's order and chains)
    stress = inst.stress[0]
    prep = prepare(inst, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": n}), np.arange(n))
    per, _ = run_raw(prep, values, ordered=True)
    res["raw_ordered"] = {**RAW_STATS, "per_scenario_ms": per * 1e3}
    print(f"  HiGHS alone in hwbopt's order: {RAW_STATS['distinct_optimal_bases']:,} distinct "
          f"optimal bases in {n:,} scenarios; {RAW_STATS['mean_iterations']:.1f} iterations a "
          f"scenario; a run costs {RAW_STATS['fixed_ms_per_run']:.2f} ms fixed + "
          f"{RAW_STATS['ms_per_iteration'] * 1e3:.0f} us an iteration "
          f"({per * 1e3:.2f} ms a scenario)", flush=True)
    frames: dict[str, pd.DataFrame] = {}
    times: dict[str, list[float]] = {label: [] for label in ROUTES}
    for _ in range(rounds):
        for label, (reuse, own) in ROUTES.items():
            shutil.rmtree(tmp / label, ignore_errors=True)
            summary = run_stress(inst, scenarios=n, out=tmp / label, workers=1,
                                 cold_check=COLD_CHECK["share"], reuse_bases=reuse,
                                 own_pivots=own)
            times[label].append(summary["batch_seconds"] / n * 1e3)
            frames[label] = pd.read_parquet(tmp / label / "scenarios").sort_values("scenario")
    for label, df in frames.items():
        checked = df.cold_checked.to_numpy(bool)
        res[label] = {"per_scenario_ms": float(np.mean(times[label])),
                      "per_scenario_ms_each_round": times[label],
                      "hit_rate": float(df.basis_reused.mean()),
                      "walked_share": float(df.pivoted.mean()),
                      "certified": int(df.certified.sum()),
                      "mean_iterations": float(df.iterations.mean()),
                      # where the time goes (the last round): the cold checks' share, and
                      # the rest of a scenario's solve at its median
                      "cold_checks_ms_per_scenario": float(
                          df.solve_seconds[checked].sum() / n * 1e3),
                      "certify_ms": float(df.certify_seconds.mean() * 1e3),
                      "median_solve_ms_unchecked": float(
                          df.solve_seconds[~checked].median() * 1e3)}
        print(f"  {label:4}: {res[label]['per_scenario_ms']:7.2f} ms/scenario "
              f"(rounds: {', '.join(f'{t:.2f}' for t in times[label])}), "
              f"{res[label]['hit_rate']:.1%} from a cached basis, "
              f"{res[label]['walked_share']:.1%} walked, "
              f"{res[label]['mean_iterations']:.1f} iterations or pivots, "
              f"{res[label]['certified']:,} of {n:,} certified; cold checks "
              f"{res[label]['cold_checks_ms_per_scenario']:.2f} ms/scenario", flush=True)
    base = frames["off"]
    b = base.objective.to_numpy(float)
    res["statuses_equal"] = all(bool((df.status.to_numpy() == base.status.to_numpy()).all())
                                for df in frames.values())
    res["max_rel_objective_diff"] = float(max(
        np.nanmax(np.abs(df.objective.to_numpy(float) - b) / np.maximum(1.0, np.abs(b)))
        for df in frames.values()))
    res["speedup"] = res["off"]["per_scenario_ms"] / res["on"]["per_scenario_ms"]
    res["walk_speedup"] = res["off"]["per_scenario_ms"] / res["walk"]["per_scenario_ms"]
    print(f"  off / cache = {res['speedup']:.2f}x, off / walk = {res['walk_speedup']:.2f}x "
          f"(issue target >= 5x); statuses equal: {res['statuses_equal']}; largest objective "
          f"difference {res['max_rel_objective_diff']:.1e} (relative)", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def against(size: str, cache: Path, n: int, rev: str, rounds: int = 3) -> dict[str, Any]:
    """``hwbopt stress`` on the money workload as a user types it (one worker, ``--json``),
    this checkout's engine and the engine at git revision ``rev`` (the one an issue was filed
    against), each in its own process, in turn: a warm-up of each (numba's cache, the disk),
    then ``rounds`` pairs. Each run's own ``batch_seconds`` (the batch, without the set-up and
    the summary) and its wall clock; the median of each, and the ratio of the medians. The
    answers are compared scenario by scenario: statuses, objectives, outcomes and met flags
    (spend and activity may differ where the LP has several optimal plans)."""
    import pandas as pd

    from hwbopt.io.instance import write_instance

    if rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet",
                            f"{rev}^{{commit}}"], capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"--against {rev}: no such commit in {ROOT}")
    commit = found.stdout.strip()
    tree = cache / f"engine-{commit}"  # by commit: a moving name (main, HEAD~1) is resolved now
    if not (tree / "hwbopt" / "__init__.py").exists():
        partial = cache / f"engine-{commit}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "hwbopt"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        shutil.rmtree(tree, ignore_errors=True)
        partial.rename(tree)  # whole or not at all
    inst = instance(size, cache, "money")
    stress = inst.stress[0].model_copy(update={"samples": n})
    folder = cache / f"against-{size}-{n}"
    write_instance(inst.model_copy(update={"stress": (stress,)}), folder, force=True)
    engines = {"now": ROOT, rev: tree}
    share = COLD_CHECK["share"]
    res: dict[str, Any] = {"size": size, "workload": "money", "scenarios": n, "rounds": rounds,
                           "cold_check": share, "against": rev, "against_commit": commit,
                           "command": f"hwbopt stress {size}+money --set {stress.id} "
                                      f"--workers 1 --cold-check {share} --json --out OUT"}
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in engines}
    for round_ in range(rounds + 1):
        for label, path in engines.items():
            out = cache / f"against-out-{label}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-P", "-m", "hwbopt.cli", "stress", str(folder), "--set",
                   stress.id, "--workers", "1", "--cold-check", str(share), "--json",
                   "--quiet", "--out", str(out)]
            # each run starts as a new user's would: no base-plan basis kept by an earlier
            # run (hwbopt.batch.warm; the engine of the issue had none)
            with tempfile.TemporaryDirectory(prefix="hwbopt-cache-") as kept:
                env = {**os.environ, "PYTHONPATH": str(path), "HWBOPT_CACHE": kept}
                start = time.perf_counter()
                proc = subprocess.run(cmd, env=env, cwd=cache, capture_output=True, text=True)
                wall = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{label}: {' '.join(cmd)} exited {proc.returncode}:\n"
                                 f"{proc.stderr}")
            summary = json.loads(proc.stdout)
            if round_ == 0:
                continue  # the warm-up
            runs[label].append({"batch_ms_per_scenario": summary["batch_seconds"] / n * 1e3,
                                "wall_seconds": wall})
            print(f"  {label:>8}: batch {summary['batch_seconds'] / n * 1e3:.3f} ms/scenario, "
                  f"whole command {wall:.1f} s", flush=True)
    for label, rows in runs.items():
        res[label] = {"runs": rows, **{key: float(np.median([r[key] for r in rows]))
                                       for key in ("batch_ms_per_scenario", "wall_seconds")}}
    res["batch_ratio"] = res[rev]["batch_ms_per_scenario"] / res["now"]["batch_ms_per_scenario"]
    res["wall_ratio"] = res[rev]["wall_seconds"] / res["now"]["wall_seconds"]
    res["batch_ratio_each_round"] = [o["batch_ms_per_scenario"] / m["batch_ms_per_scenario"]
                                     for o, m in zip(runs[rev], runs["now"], strict=True)]
    frames = [pd.read_parquet(cache / f"against-out-{label}" / "scenarios")
              .sort_values("scenario").reset_index(drop=True) for label in engines]
    now, then = frames
    numbers = [c for c in now.columns if c == "objective" or c.startswith("outcome.")]
    met = [c for c in now.columns if c.startswith("met.")]
    scale = np.maximum(1.0, np.abs(then[numbers].to_numpy(float)))
    res["same_statuses"] = bool((now.status.to_numpy() == then.status.to_numpy()).all())
    res["same_missing_numbers"] = bool((np.isnan(now[numbers].to_numpy(float))
                                        == np.isnan(then[numbers].to_numpy(float))).all())
    res["same_met_flags"] = bool((now[met].to_numpy() == then[met].to_numpy()).all())
    res["max_rel_diff_objective_outcomes"] = float(np.nanmax(
        np.abs(now[numbers].to_numpy(float) - then[numbers].to_numpy(float)) / scale))
    res["certified"] = {label: int(df.certified.sum()) for label, df in
                        zip(engines, frames, strict=True)}
    print(f"  {rev} / now = {res['batch_ratio']:.2f}x a scenario in the batch (each round: "
          f"{', '.join(f'{r:.2f}' for r in res['batch_ratio_each_round'])}), "
          f"{res['wall_ratio']:.2f}x the whole command; statuses the same: "
          f"{res['same_statuses']}, met flags the same: {res['same_met_flags']}, numbers "
          f"missing alike: {res['same_missing_numbers']}, objectives "
          f"and outcomes within {res['max_rel_diff_objective_outcomes']:.1e} (relative)",
          flush=True)
    for label in engines:
        shutil.rmtree(cache / f"against-out-{label}", ignore_errors=True)
    return res


def agree(a: list, b: list, k: int) -> bool:
    for x, y in zip(a[:k], b[:k], strict=False):
        if (x is None) != (y is None):
            return False
        if x is not None and abs(x - y) > 1e-6 * max(1.0, abs(x)):
            return False
    return True


# ---- memory ---------------------------------------------------------------------------------


# the peak resident memory of this process image (VmHWM): ru_maxrss would carry the peak of
# the benchmark process that started it, as Linux keeps it across fork and exec
MEMORY_SCRIPT = """
import json, sys, time
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import hwbopt
sys.path.insert(0, {bench!r})
from stress_bench import instance
from hwbopt.batch.run import run_stress
from pathlib import Path
inst = instance("county", Path({cache!r}), "full")
rss0 = peak()
t = time.perf_counter()
s = run_stress(inst, scenarios={n}, out={out!r}, workers=1)
print(json.dumps({{"scenarios": {n}, "rss_start_mb": rss0, "rss_peak_mb": peak(),
                  "seconds": time.perf_counter() - t, "batch_seconds": s["batch_seconds"]}}))
"""


def memory(counts: list[int], cache: Path) -> list[dict[str, Any]]:
    rows = []
    for n in counts:
        out = Path(tempfile.mkdtemp(prefix="hwbopt-mem-"))
        shutil.rmtree(out)
        code = MEMORY_SCRIPT.format(bench=str(Path(__file__).parent), cache=str(cache), n=n,
                                    out=str(out))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        shutil.rmtree(out, ignore_errors=True)
        print(f"  memory at {n:,} scenarios: peak {rows[-1]['rss_peak_mb']:,.0f} MB "
              f"({rows[-1]['seconds']:.0f} s)", flush=True)
    return rows


# ---- main -----------------------------------------------------------------------------------


def bench_size(size: str, workload: str, cache: Path, counts: dict[str, int]) -> dict[str, Any]:
    print(f"\n== {size}, {workload} scenarios ==", flush=True)
    inst = instance(size, cache, workload)
    stress = inst.stress[0]
    n = counts["hwbopt"]
    t = time.perf_counter()
    prep = prepare(inst, stress, 0, seed=stress.seed)
    setup = time.perf_counter() - t
    comp = prep.built.compiled
    print(f"  {comp.n_cols:,} columns ({int(comp.integer.sum())} integer, fixed), "
          f"{comp.n_rows:,} rows; base plan and maps in {setup:.1f} s", flush=True)
    values = draw(stress.model_copy(update={"samples": n}), np.arange(n))
    base = {"compiled": comp, "x": prep.base.solution}
    res: dict[str, Any] = {"size": size, "workload": workload, "columns": comp.n_cols,
                           "rows": comp.n_rows, "setup_seconds": setup}
    raw_t, raw_obj = run_raw(prep, values[:counts["raw"]])
    res["raw"] = {"scenarios": counts["raw"], "per_scenario_s": raw_t, **RAW_STATS}
    print(f"  raw highspy:        {raw_t * 1e3:9.2f} ms/scenario (sampled order)", flush=True)
    # the fair warm-start limit: HiGHS alone, in hwbopt's own order and chains
    ord_t, ord_obj = run_raw(prep, values[:counts["raw"]], ordered=True)
    res["raw-ordered"] = {"scenarios": counts["raw"], "per_scenario_s": ord_t, **RAW_STATS}
    print(f"  raw, hwbopt's order:{ord_t * 1e3:9.2f} ms/scenario "
          f"({RAW_STATS['mean_iterations']:.1f} iterations; HiGHS's fixed cost "
          f"{RAW_STATS['fixed_ms_per_run']:.2f} ms a run + "
          f"{RAW_STATS['ms_per_iteration'] * 1e3:.0f} us an iteration)", flush=True)
    tmp = cache / f"run-{size}-{workload}"
    h1 = run_hwbopt(inst, n, 1, tmp / "w1")
    res["hwbopt-1"] = {"scenarios": n, "per_scenario_s": h1["batch_seconds"] / n,
                       "setup_s": h1["setup_seconds"], "total_s": h1["seconds"]}
    print(f"  hwbopt, 1 worker:   {h1['batch_seconds'] / n * 1e3:9.2f} ms/scenario "
          f"(+{h1['setup_seconds']:.1f} s set-up)", flush=True)
    h2 = run_hwbopt(inst, n, 2, tmp / "w2")
    res["hwbopt-2"] = {"scenarios": n, "per_scenario_s": h2["batch_seconds"] / n,
                       "cluster_s": h2["cluster_seconds"], "total_s": h2["seconds"]}
    print(f"  hwbopt, 2 workers:  {h2['batch_seconds'] / n * 1e3:9.2f} ms/scenario "
          f"(cluster start {h2['cluster_seconds']:.1f} s included)", flush=True)
    if counts.get("trim"):
        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers; hwbopt raises it
        h3 = run_hwbopt(inst, n, 2, tmp / "w2-trim", trim=False)
        res["hwbopt-2-nanny-trim"] = {"scenarios": n, "per_scenario_s": h3["batch_seconds"] / n,
                                      "cluster_s": h3["cluster_seconds"]}
        print(f"  ... with the nanny's MALLOC_TRIM_THRESHOLD_: "
              f"{h3['batch_seconds'] / n * 1e3:9.2f} ms/scenario", flush=True)
    pers_t, pers_obj, pers_build = run_persistent(prep, values[:counts["persistent"]])
    res["persistent"] = {"scenarios": counts["persistent"], "per_scenario_s": pers_t,
                         "build_s": pers_build}
    print(f"  Pyomo persistent:   {pers_t * 1e3:9.2f} ms/scenario (+{pers_build:.1f} s build)",
          flush=True)
    naive_t, naive_obj = run_naive(inst, stress, values[:counts["naive"]], base)
    res["naive"] = {"scenarios": counts["naive"], "per_scenario_s": naive_t}
    print(f"  naive Pyomo:        {naive_t * 1e3:9.2f} ms/scenario", flush=True)

    import pandas as pd

    ours = pd.read_parquet(tmp / "w1" / "scenarios").sort_values("scenario")
    ours_obj = [None if pd.isna(v) else float(v) for v in ours.objective]
    res["objectives_agree"] = {
        "raw": agree(ours_obj, raw_obj, counts["raw"]),
        "raw-ordered": agree(ours_obj, ord_obj, counts["raw"]),
        "persistent": agree(ours_obj, pers_obj, counts["persistent"]),
        "naive": agree(ours_obj, naive_obj, counts["naive"]),
    }
    # the optimality certificate's share of each scenario's time (timed inside the engine,
    # around the certificate alone), one worker
    certify_s = float(ours.certify_seconds.sum())
    solve_s = float(ours.solve_seconds.sum())
    res["certification"] = {"certify_s": certify_s, "solve_s": solve_s,
                            "share": certify_s / solve_s if solve_s else None,
                            "certified": int(ours.certified.sum()), "scenarios": len(ours)}
    print(f"  certification:      {certify_s / len(ours) * 1e3:9.3f} ms/scenario, "
          f"{res['certification']['share']:.1%} of solve time "
          f"(target <= {TARGETS['certification']:.0%})", flush=True)
    if workload == "money":  # bounds only: the basis cache on and off
        res["bases"] = bases(size, cache, n)
    ours_t = res["hwbopt-1"]["per_scenario_s"]
    res["ratios"] = {
        "hwbopt_vs_raw": ours_t / raw_t,
        "hwbopt_vs_raw_ordered": ours_t / ord_t,
        "naive_vs_hwbopt": naive_t / ours_t,
        "persistent_vs_hwbopt": pers_t / ours_t,
        "speedup_1_to_2_workers": h1["batch_seconds"] / h2["batch_seconds"],
    }
    r = res["ratios"]
    res["targets_met"] = {
        "raw": r["hwbopt_vs_raw"] <= TARGETS["raw"],
        "naive": r["naive_vs_hwbopt"] >= TARGETS["naive"],
        "persistent": r["persistent_vs_hwbopt"] >= TARGETS["persistent"],
        "workers": r["speedup_1_to_2_workers"] >= TARGETS["workers"],
        "certification": (res["certification"]["share"] or 0.0) <= TARGETS["certification"],
    }
    print(f"  hwbopt / raw = {r['hwbopt_vs_raw']:.2f} (target <= {TARGETS['raw']}), "
          f"/ raw in hwbopt's order = {r['hwbopt_vs_raw_ordered']:.2f}; "
          f"naive / hwbopt = {r['naive_vs_hwbopt']:.0f}x (>= {TARGETS['naive']:.0f}x); "
          f"persistent / hwbopt = {r['persistent_vs_hwbopt']:.1f}x "
          f"(>= {TARGETS['persistent']:.0f}x); 1 -> 2 workers {r['speedup_1_to_2_workers']:.2f}x "
          f"(>= {TARGETS['workers']}x); objectives agree: {res['objectives_agree']}",
          flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return res


# issue 19, part 3: two local workers against one, batch seconds (the pool's start included)
WORKER_TARGETS = {4000: 1.8, 400: 1.5}


def scaling(size: str, workload: str, cache: Path, n: int, rounds: int = 3) -> dict[str, Any]:
    """One worker against two on the same batch, each a fresh run, alternated ``rounds`` times
    (the median of each is compared); the two runs' results must be the same."""
    inst = instance(size, cache, workload)
    tmp = cache / f"scaling-{size}-{workload}"
    ones, twos, identical = [], [], True
    for _ in range(rounds):
        one = run_hwbopt(inst, n, 1, tmp / "w1")
        two = run_hwbopt(inst, n, 2, tmp / "w2")
        ones.append(one)
        twos.append(two)
        identical &= same_results(tmp / "w1", tmp / "w2")
    one_s = float(np.median([r["batch_seconds"] for r in ones]))
    two_s = float(np.median([r["batch_seconds"] for r in twos]))
    start_s = float(np.median([r["cluster_seconds"] for r in twos]))
    target = WORKER_TARGETS.get(n, TARGETS["workers"])
    res = {"size": size, "workload": workload, "scenarios": n, "rounds": rounds,
           "one_worker_batch_s": one_s, "two_workers_batch_s": two_s,
           "workers_start_s": start_s, "speedup": one_s / two_s, "target": target,
           "met": one_s / two_s >= target, "identical_results": identical,
           "one_worker_total_s": float(np.median([r["seconds"] for r in ones])),
           "two_workers_total_s": float(np.median([r["seconds"] for r in twos]))}
    print(f"  {size}, {workload}, {n:,} scenarios (median of {rounds}): 1 worker "
          f"{one_s:.2f} s, 2 workers {two_s:.2f} s (workers started in {start_s * 1e3:.0f} ms)"
          f": {res['speedup']:.2f}x (>= {target}x: {'met' if res['met'] else 'NOT met'}); "
          f"same results: {identical}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def setup_bench(size: str, cache: Path, n: int = 32) -> dict[str, Any]:
    """A stress run's set-up (issue 19, part 4), three ways in one process on the ``money``
    workload: ``before``, the former route (the base plan solved as built, a MIP wherever
    integer columns exist even when their bounds fix them, then the plan's LP solved again
    cold by dual simplex for the scenarios' warm start, every input edge built in turn);
    ``cold``, today's route with an empty basis cache (one LP solve, interior point from
    ``IPM_COLUMNS`` columns, the edges built while HiGHS solves); ``warm``, the same again
    with the kept basis and remembered check. Then ``n`` scenarios from today's route against
    the same scenarios with the LP forced to the dual simplex and no cache: same statuses and
    objectives."""
    import numpy as np

    from hwbopt.batch import warm
    from hwbopt.batch.setup import parametric, pick_stress_set
    from hwbopt.pipeline import build, solve_built

    inst = instance(size, cache, "money")
    k, stress = pick_stress_set(inst, None)
    folder = cache / f"setup-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    os.environ["HWBOPT_CACHE"] = "off"
    began = time.perf_counter()
    built = build(inst)
    build_s = time.perf_counter() - began
    t = time.perf_counter()
    base = solve_built(built)
    base_s = time.perf_counter() - t
    lp = warm.Compiled(**{**built.compiled.__dict__, "_cols": {}, "_rows": {},
                          "integer": np.zeros_like(built.compiled.integer)})
    t = time.perf_counter()
    again = highs.run(highs.load(lp, threads=1))
    lp_s = time.perf_counter() - t
    t = time.perf_counter()
    parametric(inst, stress, k, None, built)
    edges_s = time.perf_counter() - t
    before = time.perf_counter() - began
    print(f"  before: {before:.1f} s (build {build_s:.1f}, base plan {base_s:.1f}, its LP again "
          f"{lp_s:.1f}, input edges {edges_s:.1f})", flush=True)
    os.environ["HWBOPT_CACHE"] = str(folder)
    times = {}
    for label in ("cold", "warm"):
        t = time.perf_counter()
        prep = prepare(inst, stress, k, seed=7)
        times[label] = time.perf_counter() - t
        print(f"  {label}: {times[label]:.1f} s, objective {prep.base.objective:,.6f}",
              flush=True)
    out = cache / f"setup-{size}-runs"
    shutil.rmtree(out, ignore_errors=True)
    today = run_stress(inst, scenarios=n, out=out / "today", workers=1, cold_check=0.0)
    os.environ["HWBOPT_CACHE"] = "off"
    ipm_columns, warm.IPM_COLUMNS = warm.IPM_COLUMNS, 10 ** 12
    try:
        simplex = run_stress(inst, scenarios=n, out=out / "simplex", workers=1, cold_check=0.0)
    finally:
        warm.IPM_COLUMNS = ipm_columns
    from hwbopt.batch.store import read_results

    a, b = read_results(out / "today"), read_results(out / "simplex")
    agree = bool((a.status == b.status).all()) and bool(np.allclose(
        a.objective, b.objective, rtol=1e-9, atol=0.0, equal_nan=True))
    objectives = [base.objective, again.objective, prep.base.objective]
    res = {"size": size, "columns": built.compiled.n_cols, "before_s": before,
           "before": {"build_s": build_s, "base_plan_s": base_s, "lp_again_s": lp_s,
                      "input_edges_s": edges_s, "base_status": base.status},
           "cold_s": times["cold"], "warm_s": times["warm"],
           "target_s": 30.0, "met_cold": times["cold"] < 30.0, "met_warm": times["warm"] < 30.0,
           "ipm_columns": warm.IPM_COLUMNS,
           "base_objectives": objectives,
           "base_objectives_agree": bool(np.allclose(objectives, objectives[0], rtol=1e-9)),
           "scenarios": n, "setup_seconds_in_runs": {"today": today["setup_seconds"],
                                                     "simplex": simplex["setup_seconds"]},
           "scenario_answers_agree": agree}
    print(f"  {size}: set-up before {before:.1f} s, now {times['cold']:.1f} s cold and "
          f"{times['warm']:.1f} s warm (target < 30 s); base objectives agree "
          f"{res['base_objectives_agree']}; {n} scenarios' statuses and objectives agree with "
          f"the dual simplex route: {agree}", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    return res


def same_results(a: Path, b: Path) -> bool:
    """Every scenario's results the same in two runs, timings aside."""
    from hwbopt.batch.store import read_results

    x, y = read_results(a), read_results(b)
    timing = [c for c in x.columns if c.endswith("seconds")]
    try:
        import pandas as pd

        pd.testing.assert_frame_equal(x.drop(columns=timing), y.drop(columns=timing))
    except AssertionError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="county,100k")
    ap.add_argument("--workloads", default="money,full")
    ap.add_argument("--memory-scenarios", default="1000,50000")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--scaling", default=None, metavar="SIZE:WORKLOAD:N,...",
                    help="only one worker against two, e.g. county:full:20000,100k:money:64")
    ap.add_argument("--bases", default=None, metavar="SIZE:N,...",
                    help="only the money workload answered by HiGHS alone, by the basis "
                         "cache and by the engine's walk, e.g. county:5000 (in turn, twice)")
    ap.add_argument("--against", default=None, metavar="REV",
                    help="with --bases: also the whole command, this engine against the "
                         "engine at git revision REV, in turn (e.g. 58a7c50, issue 19's)")
    ap.add_argument("--rounds", type=int, default=3, help="pairs of runs for --against")
    ap.add_argument("--setup", default=None, metavar="SIZE,...",
                    help="only the set-up of a stress run, before and now, e.g. 100k")
    ap.add_argument("--out", default=None)
    ap.add_argument("--cold-check", type=float, default=0.01,
                    help="share of scenarios hwbopt re-solves cold as a check (its default)")
    ap.add_argument("--counts", default=None,
                    help="scenarios per method for every size, e.g. hwbopt=256,raw=256,"
                         "persistent=30,naive=5 (a quick look)")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "hwbopt-bench"))
    args = ap.parse_args()
    if args.against and not args.bases:
        ap.error("--against runs with --bases SIZE:N (the money workload's sizes)")
    cache = Path(args.cache)
    COLD_CHECK["share"] = args.cold_check
    cache.mkdir(parents=True, exist_ok=True)
    counts = {"county": {"hwbopt": 4000, "raw": 4000, "persistent": 300, "naive": 40,
                         "trim": 1},
              "100k": {"hwbopt": 48, "raw": 48, "persistent": 6, "naive": 2}}
    results = {"benchmark": "hwbopt stress side by side",
               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "python": platform.python_version(),
                           "highs": highs.highs_version(), "hwbopt": hwbopt.__version__},
               "targets": TARGETS, "cold_check": args.cold_check, "sizes": []}
    if args.sizes == "none" and not args.no_memory:
        mem = memory([int(x) for x in args.memory_scenarios.split(",")], cache)
        results["memory"] = mem
        results["memory_growth_mb"] = mem[-1]["rss_peak_mb"] - mem[0]["rss_peak_mb"]
        out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / "memory.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"  growth {results['memory_growth_mb']:,.0f} MB; wrote {out}")
        return
    if args.scaling:
        print("== one worker against two ==", flush=True)
        results["scaling"] = [scaling(size, workload, cache, int(n)) for size, workload, n in
                              (item.split(":") for item in args.scaling.split(","))]
        out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / "scaling.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {out}")
        return
    if args.setup:
        print("== a stress run's set-up: before, cold and warm ==", flush=True)
        results["setup"] = [setup_bench(size, cache) for size in args.setup.split(",")]
        out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / \
            "stress-setup.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {out}")
        return
    if args.bases:
        print("== HiGHS alone, the basis cache, the walk (money workload, one worker) ==",
              flush=True)
        results["bases"] = [bases(size, cache, int(n)) for size, n in
                            (item.split(":") for item in args.bases.split(","))]
        if args.against:  # (refused without --bases below)
            print(f"== the whole command: this engine against {args.against}'s ==",
                  flush=True)
            results["against"] = [against(size, cache, int(n), args.against, args.rounds)
                                  for size, n in (item.split(":")
                                                  for item in args.bases.split(","))]
        out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / \
            "stress-bases.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {out}")
        return
    override = dict(kv.split("=") for kv in args.counts.split(",")) if args.counts else {}
    for size in args.sizes.split(","):
        chosen = {**counts.get(size, counts["100k"]), **{k: int(v) for k, v in override.items()}}
        for workload in args.workloads.split(","):
            results["sizes"].append(bench_size(size, workload, cache, chosen))
    if not args.no_memory:
        print("\n== memory (county, one worker, a fresh process each) ==", flush=True)
        mem = memory([int(x) for x in args.memory_scenarios.split(",")], cache)
        results["memory"] = mem
        growth = mem[-1]["rss_peak_mb"] - mem[0]["rss_peak_mb"]
        results["memory_growth_mb"] = growth
        print(f"  growth {growth:,.0f} MB (target < {TARGETS['memory_mb']:.0f} MB)")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / "stress.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
