"""The batch engine: one HiGHS instance per worker process, loaded once, re-solved warm.

An :class:`EngineSpec` holds everything a worker needs — the compiled arrays, the base plan's
basis, the parametric maps and what to read back — and nothing that needs Pyomo or the
instance. A worker builds an :class:`Engine` from it once (``engine_for`` keeps one per spec
in the process) and solves blocks of scenarios: for each scenario only the entries its inputs
reach are changed (batched numpy, then a few HiGHS calls), the model is re-solved from where
the previous scenario left it, and the summary is read back with vectorised numpy.

Scenarios run in fixed **chains** of the neighbour order; each chain starts from the base
plan's basis, so a scenario's result depends only on its chain, never on how chains are
grouped into blocks or spread over workers. A warm result that is not optimal is re-solved
cold before it is reported, and a deterministic sample is re-solved cold as a check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hwbopt import highs
from hwbopt.batch.params import Compiled1, Layout, Target, add_need_share, apply_inputs, derive
from hwbopt.batch.params import evaluate as evaluate_maps

COLD_CHECK_RATE = 0.01  # share of scenarios re-solved cold as a check on warm starts
CHAIN = 32  # scenarios per chain: each chain starts from the base basis
# HiGHS options for warm re-solves. Devex pricing: after a scenario changes coefficients the
# dual steepest-edge weights HiGHS would otherwise choose must be recomputed from scratch (a
# BTRAN per row), which costs more than the extra iterations devex takes. Measured on the
# benchmark's full workload, per scenario without it and with it: county 22 and 11 ms,
# generated 100k 5.8 and 4.2 s (same objectives).
WARM_OPTIONS: dict[str, Any] = {"simplex_dual_edge_weight_strategy": 1}


@dataclass
class EngineSpec:
    """A picklable description of the batch model (see the module docstring)."""

    key: str
    n_cols: int
    n_rows: int
    sense: int
    c: np.ndarray
    offset: float
    A_indptr: np.ndarray
    A_indices: np.ndarray
    A_data: np.ndarray
    col_lower: np.ndarray  # with the plan's integer decisions fixed, unless mip
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    mip: bool
    basis: tuple[np.ndarray, np.ndarray] | None  # base plan's (col, row) basis status
    start: np.ndarray | None  # base plan, as a MIP start
    fields: dict[str, np.ndarray]
    targets: list[Target]
    layout: Layout
    n_interventions: int
    prepared: dict[str, Compiled1]
    a_rows: np.ndarray  # row and column of each mapped A entry
    a_cols: np.ndarray
    # what to read back
    priorities: list[str]
    years: list[int]
    outcome_cols: np.ndarray  # (K, Y)
    target_at: list[tuple[int, int, int]]  # (k, t, target row index) per target
    base_targets: np.ndarray
    partners: list[str]
    spend: sp.csr_array  # (P, n_cols): money each partner puts into services and pools
    interventions: list[str]
    activity: sp.csr_array  # (I, n_cols): activity over the horizon
    binding_rows: np.ndarray  # rows whose binding is reported
    base_available: float  # all partners' available money over the horizon, base instance
    seed: int
    time_limit: float | None = None
    mip_gap: float = 1e-4
    cold_rate: float = COLD_CHECK_RATE
    die_on: dict[str, Any] = field(default_factory=dict)  # tests only: kill a worker once


_ENGINES: dict[str, Engine] = {}


def engine_for(spec: EngineSpec) -> Engine:
    """The process's engine for ``spec``, built on first use and kept."""
    eng = _ENGINES.get(spec.key)
    if eng is None:
        _ENGINES.clear()  # one batch at a time per process
        eng = _ENGINES[spec.key] = Engine(spec)
    # same model; this run's settings that the key leaves out (the cold-check share)
    eng.spec = spec
    return eng


def solve_block(spec: EngineSpec, chains: list[np.ndarray], values: list[np.ndarray]) -> bytes:
    """Solve whole chains (scenario indices and their input values); Parquet bytes back."""
    _maybe_die(spec, chains)
    frame = engine_for(spec).solve_chains(chains, values)
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


def _maybe_die(spec: EngineSpec, chains: list[np.ndarray]) -> None:
    """Tests: the first worker to reach the chosen scenario dies, once (a marker file)."""
    if not spec.die_on:
        return
    import os
    from pathlib import Path

    marker = Path(spec.die_on["marker"])
    if spec.die_on["scenario"] in np.concatenate(chains) and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)


class Engine:
    def __init__(self, spec: EngineSpec):
        self.spec = spec
        h = highs.new_highs(threads=1)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = spec.n_cols, spec.n_rows
        lp.col_cost_, lp.offset_ = spec.c, spec.offset
        lp.sense_ = highspy.ObjSense.kMinimize if spec.sense == 1 else highspy.ObjSense.kMaximize
        lp.col_lower_, lp.col_upper_ = spec.col_lower, spec.col_upper
        lp.row_lower_, lp.row_upper_ = spec.row_lower, spec.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = spec.A_indptr.astype(np.int32)
        lp.a_matrix_.index_ = spec.A_indices.astype(np.int32)
        lp.a_matrix_.value_ = spec.A_data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = spec.n_cols, spec.n_rows
        if spec.mip:
            lp.integrality_ = [highspy.HighsVarType.kInteger if f
                               else highspy.HighsVarType.kContinuous for f in spec.integer]
        h.passModel(lp)
        for option, value in WARM_OPTIONS.items():
            h.setOptionValue(option, value)
        if spec.time_limit is not None:
            h.setOptionValue("time_limit", float(spec.time_limit))
        if spec.mip:
            h.setOptionValue("mip_rel_gap", float(spec.mip_gap))
        self.h = h
        self.col_lower = spec.col_lower.copy()
        self.col_upper = spec.col_upper.copy()
        self.row_lower = spec.row_lower.copy()
        self.row_upper = spec.row_upper.copy()
        self.c = spec.c.copy()
        self.a_values = spec.A_data[spec.prepared["A"].position].copy() \
            if "A" in spec.prepared else np.zeros(0)
        self.fixed = spec.integer & ~spec.mip  # integer columns held at the plan's values
        self.incumbent: np.ndarray | None = spec.start
        self.cols_touched = np.union1d(
            spec.prepared["col_lower"].position if "col_lower" in spec.prepared else [],
            spec.prepared["col_upper"].position if "col_upper" in spec.prepared else [],
        ).astype(np.int32)
        self.rows_touched = np.union1d(
            spec.prepared["row_lower"].position if "row_lower" in spec.prepared else [],
            spec.prepared["row_upper"].position if "row_upper" in spec.prepared else [],
        ).astype(np.int32)

    # ---- one chain ---------------------------------------------------------------------

    def _restart(self) -> None:
        """Back to the base plan's basis (LP) or start (MIP): a chain's results depend on it
        alone."""
        spec = self.spec
        if spec.mip:
            self.incumbent = spec.start
            return
        basis = highspy.HighsBasis()
        basis.col_status = [highspy.HighsBasisStatus(int(s)) for s in spec.basis[0]]
        basis.row_status = [highspy.HighsBasisStatus(int(s)) for s in spec.basis[1]]
        basis.valid = True
        self.h.setBasis(basis)

    def solve_chains(self, chains: list[np.ndarray], values: list[np.ndarray]) -> pd.DataFrame:
        rows = []
        for idx, vals in zip(chains, values, strict=True):
            rows += self._solve_chain(np.asarray(idx), np.asarray(vals, dtype=float))
        return pd.DataFrame(rows)

    def _solve_chain(self, idx: np.ndarray, vals: np.ndarray) -> list[dict[str, Any]]:
        spec = self.spec
        fields = apply_inputs(spec.fields, spec.targets, vals)
        derived = derive(fields, spec.layout, spec.n_interventions)
        if "need_share" in {s for c1 in spec.prepared.values() for s in c1.gather}:
            add_need_share(derived.values, spec.layout)
        entries = evaluate_maps(spec.prepared, derived.values)
        available = derived.values["available"].sum(axis=(1, 2))
        targets = derived.values["target"] if len(spec.base_targets) else None
        self._restart()
        out = []
        for n, scenario in enumerate(idx):
            record: dict[str, Any] = {"scenario": int(scenario)}
            for col, t in enumerate(spec.targets):
                record[f"input.{t.column}"] = float(vals[n, col])
            record["cut_depth"] = 1.0 - float(available[n]) / spec.base_available \
                if spec.base_available > 0 else 0.0
            if derived.invalid[n] is not None:
                record.update(status="failed", reason=f"invalid inputs: {derived.invalid[n]}")
                out.append(self._empty(record))
                continue
            try:
                conflict = self._load(entries, n)
                if conflict:
                    record.update(status=highs.INFEASIBLE, reason=conflict)
                    out.append(self._empty(record))
                    continue
                record.update(self._solve(int(scenario)))
                if record["status"] == highs.OPTIMAL:
                    tgt = targets[n] if targets is not None else spec.base_targets
                    record.update(self._read(tgt))
                else:
                    out.append(self._empty(record))
                    continue
            except Exception as exc:  # a scenario never stops the batch
                record.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
                out.append(self._empty(record))
                continue
            out.append(record)
        return out

    def _load(self, entries: dict[str, np.ndarray], n: int) -> str | None:
        """Put scenario ``n``'s numbers into HiGHS; a conflict with the plan is returned."""
        spec, h = self.spec, self.h
        p = spec.prepared
        if "col_lower" in p:
            self.col_lower[p["col_lower"].position] = entries["col_lower"][n]
        if "col_upper" in p:
            self.col_upper[p["col_upper"].position] = entries["col_upper"][n]
        if len(self.cols_touched):
            cols = self.cols_touched
            lo, hi = self.col_lower[cols], self.col_upper[cols]
            fixed = self.fixed[cols]
            if fixed.any():
                # the plan's integer decisions stay; a scenario may only rule them out
                plan = spec.col_lower[cols]
                bad = fixed & ((plan < lo - 1e-9) | (plan > hi + 1e-9))
                if bad.any():
                    return ("the plan's decision on column "
                            f"{int(cols[np.flatnonzero(bad)[0]])} is ruled out in this "
                            "scenario (e.g. a site it keeps open is not available)")
                lo, hi = np.where(fixed, plan, lo), np.where(fixed, plan, hi)
            h.changeColsBounds(len(cols), cols, lo, hi)
        if "row_lower" in p:
            self.row_lower[p["row_lower"].position] = entries["row_lower"][n]
        if "row_upper" in p:
            self.row_upper[p["row_upper"].position] = entries["row_upper"][n]
        if len(self.rows_touched):
            rows = self.rows_touched
            h.changeRowsBounds(len(rows), rows, self.row_lower[rows], self.row_upper[rows])
        if "c" in p:
            cols = p["c"].position.astype(np.int32)
            h.changeColsCost(len(cols), cols, entries["c"][n])
        if "A" in p:
            new = entries["A"][n]
            changed = np.flatnonzero(new != self.a_values)
            for j in changed:
                h.changeCoeff(int(spec.a_rows[j]), int(spec.a_cols[j]), float(new[j]))
            self.a_values[changed] = new[changed]
        return None

    def _solve(self, scenario: int) -> dict[str, Any]:
        spec, h = self.spec, self.h
        start = time.perf_counter()
        if spec.mip and self.incumbent is not None:
            # the previous scenario's plan (the base plan at a chain's start) as a start;
            # HiGHS uses it only if it is feasible here
            sol = highspy.HighsSolution()
            sol.col_value = self.incumbent
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        status = _status(h)
        warm = True
        if status != highs.OPTIMAL:
            # a warm start must never decide a scenario's fate: settle it cold
            h.clearSolver()
            h.run()
            status = _status(h)
            warm = False
        objective = float(h.getInfo().objective_function_value) \
            if status == highs.OPTIMAL else None
        if spec.mip and status == highs.OPTIMAL:
            self.incumbent = np.asarray(h.getSolution().col_value)
        cold_checked = False
        mismatch = None
        if warm and status == highs.OPTIMAL and _sampled(scenario, spec.seed, spec.cold_rate):
            # a deterministic sample re-solved cold: the warm answer must agree
            cold = _cold_objective(h, spec)
            cold_checked = True
            # two MIP solves agree only to within the gap they were asked for
            rel = max(1e-7, spec.mip_gap) if spec.mip else 1e-7
            if cold is None or abs(cold - objective) > rel * max(1.0, abs(objective)):
                mismatch = cold
                h.clearSolver()
                h.run()
                status = _status(h)
                objective = float(h.getInfo().objective_function_value) \
                    if status == highs.OPTIMAL else None
                warm = False
        return {"status": status, "reason": "" if status == highs.OPTIMAL else
                h.modelStatusToString(h.getModelStatus()),
                "objective": objective, "warm": warm, "cold_checked": cold_checked,
                "cold_mismatch": mismatch is not None,
                "iterations": int(h.getInfo().simplex_iteration_count),
                "solve_seconds": time.perf_counter() - start}

    def _read(self, targets: np.ndarray) -> dict[str, Any]:
        spec = self.spec
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        out: dict[str, Any] = {}
        outcome = x[spec.outcome_cols]  # (K, Y)
        for k, name in enumerate(spec.priorities):
            out[f"outcome.{name}"] = float(outcome[k].sum())
        met_all = 0
        for (k, t, j) in spec.target_at:
            target = float(targets[j])
            met = bool(outcome[k, t] >= target - 1e-6 * max(1.0, abs(target)))
            out[f"met.{spec.priorities[k]}.{spec.years[t]}"] = met
            met_all += met
        out["targets_met"] = met_all
        spend = spec.spend @ x
        for p, name in enumerate(spec.partners):
            out[f"spend.{name}"] = float(spend[p])
        act = spec.activity @ x
        for i, name in enumerate(spec.interventions):
            out[f"activity.{name}"] = float(act[i])
        rows = spec.binding_rows
        if sol.dual_valid and not spec.mip:
            dual = np.asarray(sol.row_dual)[rows]
            scale = 1e-9 * max(1.0, abs(float(self.h.getInfo().objective_function_value)))
            out["binding"] = rows[np.abs(dual) > scale].astype(np.int32).tolist()
        else:
            value = np.asarray(sol.row_value)[rows]
            lo, hi = self.row_lower[rows], self.row_upper[rows]
            tol = 1e-7 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, lo)))
            at = (np.isfinite(hi) & (np.abs(value - hi) <= tol)) | \
                 (np.isfinite(lo) & (np.abs(value - lo) <= tol))
            out["binding"] = rows[at].astype(np.int32).tolist()
        return out

    def _empty(self, record: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec
        record.setdefault("objective", None)
        record.setdefault("reason", "")
        for k in ("warm", "cold_checked", "cold_mismatch"):
            record.setdefault(k, False)
        record.setdefault("iterations", 0)
        record.setdefault("solve_seconds", 0.0)
        for name in spec.priorities:
            record[f"outcome.{name}"] = None
        for (k, t, _j) in spec.target_at:
            record[f"met.{spec.priorities[k]}.{spec.years[t]}"] = False
        record["targets_met"] = 0
        for name in spec.partners:
            record[f"spend.{name}"] = None
        for name in spec.interventions:
            record[f"activity.{name}"] = None
        record["binding"] = []
        return record


def _status(h: highspy.Highs) -> str:
    status = highs._status(h)
    if status == "unbounded_or_infeasible":
        h.setOptionValue("presolve", "off")
        h.clearSolver()
        h.run()
        h.setOptionValue("presolve", "choose")
        status = highs._status(h)
        if status == "unbounded_or_infeasible":
            status = highs.ERROR
    return status


def _sampled(scenario: int, seed: int, rate: float) -> bool:
    return bool(np.random.default_rng([scenario, seed, 7]).random() < rate)


def _cold_objective(h: highspy.Highs, spec: EngineSpec) -> float | None:
    """The objective of the model as it stands, solved from scratch in a fresh instance."""
    lp = h.getLp()
    cold = highs.new_highs(threads=1)
    cold.passModel(lp)
    if spec.time_limit is not None:
        cold.setOptionValue("time_limit", float(spec.time_limit))
    if spec.mip:
        cold.setOptionValue("mip_rel_gap", float(spec.mip_gap))
    cold.run()
    return float(cold.getInfo().objective_function_value) if _status(cold) == highs.OPTIMAL \
        else None
