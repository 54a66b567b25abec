"""The batch engine: one HiGHS instance per worker process, loaded once, re-solved warm.

An :class:`EngineSpec` holds everything a worker needs — the compiled arrays, the base plan's
basis, the parametric maps and what to read back — and nothing that needs Pyomo or the
instance. A worker builds an :class:`Engine` from it once (``engine_for`` keeps one per spec
in the process) and solves blocks of scenarios: for each scenario only the entries its inputs
reach are changed (batched numpy, then a few HiGHS calls), the model is re-solved from where
the previous scenario left it, and the summary is read back with vectorised numpy.

Scenarios run in fixed **chains** of the neighbour order; each chain starts from the base
plan's basis (walking, from its anchor: :data:`SPAN`), so a scenario's result depends only on
its chain, never on how chains are grouped into blocks or spread over workers. A warm result
that is not optimal is re-solved cold before it is reported, and a deterministic sample is
re-solved cold as a check.

When scenarios move only bounds (an LP, no cost or coefficient changed), the engine walks from
one scenario's bounds to the next by its own pivots (:mod:`hwbopt.batch.walk`, ``pivoted``),
certified like any warm solve, with HiGHS's warm simplex for any scenario the walk declines.
Off (``own_pivots``), each chain may instead keep a few of its optimal bases
(:mod:`hwbopt.batch.bases`): a scenario one of them still fits is answered from that basis
without a simplex (``basis_reused``).
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
from hwbopt.batch import bases, certify, walk
from hwbopt.batch.bases import BasisCache
from hwbopt.batch.inputs import Target
from hwbopt.batch.params import Compiled1, apply_inputs, needs_share
from hwbopt.batch.params import evaluate as evaluate_maps
from hwbopt.batch.readback import Response, Spend
from hwbopt.batch.walk import Walker
from hwbopt.compile import Compiled
from hwbopt.derived import Layout, derive_block
from hwbopt.status import Status

COLD_CHECK_RATE = 0.01  # share of scenarios re-solved cold as a check on warm starts
CHAIN = 32  # scenarios per chain: each chain starts from the base basis (or anchor)
# A walking engine starts each chain from an anchor instead: the base plan walked to the
# middle scenario of the SPAN chains around it, once for them all. From the base plan a walk
# to a chain's first scenario took 81 pivots on the county (money), against 1.4 for each
# scenario after it: 58% of all the pivots. With anchors it is a short walk from the anchor.
SPAN = 8
# What shapes a run's answers beyond its options, recorded in run.json so that --resume never
# mixes parts solved differently: 1, chains along a Z-order curve from the base plan, the
# cold-check sample by a numpy generator; 2, chains along a Hilbert curve, walked from their
# anchors, the sample by SplitMix64 (_sampled); 3, the walk's basis factorised triangular
# part first (hwbopt.simplex.factor): the same objectives, but where a scenario's LP has several
# optimal plans the walk may end at another of them (other rounding, other ties); 4, LPs of
# up to 120,000 rows walked (25,000 before: walk.MAX_ROWS), so a larger LP's plans may differ
# where it has several optima.
ENGINE = 4
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
    constant: float  # the objective's part no decision moves (see hwbopt.compile.Compiled)
    A_indptr: np.ndarray
    A_indices: np.ndarray
    A_data: np.ndarray
    col_lower: np.ndarray  # with the plan's integer decisions fixed, unless mip
    col_upper: np.ndarray
    free_lower: np.ndarray  # the instance's own bounds (integer decisions free)
    free_upper: np.ndarray
    free_start: np.ndarray  # the base plan: the start when a scenario frees its decisions
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray
    mip: bool
    basis: tuple[np.ndarray, np.ndarray] | None  # base plan's (col, row) basis status
    start: np.ndarray | None  # base plan, as a MIP start
    fields: dict[str, np.ndarray]
    targets: list[Target]
    layout: Layout
    prepared: dict[str, Compiled1]
    a_rows: np.ndarray  # row and column of each mapped A entry
    a_cols: np.ndarray
    # what to read back
    priorities: list[str]
    years: list[int]
    response: Response  # outcomes from activity through the response curves
    target_at: list[tuple[int, int, int]]  # (k, t, target row index) per target
    base_targets: np.ndarray
    partners: list[str]
    spend: Spend  # money each partner puts into services and pools (settled)
    interventions: list[str]
    activity: sp.csr_array  # (I, n_cols): activity over the horizon
    binding_rows: np.ndarray  # rows whose binding is reported
    base_available: float  # all partners' available money over the horizon, base instance
    seed: int
    time_limit: float | None = None
    mip_gap: float = 1e-4
    cold_rate: float = COLD_CHECK_RATE
    die_on: dict[str, Any] = field(default_factory=dict)  # tests only: kill a worker once
    run_id: str = ""  # the run's id, written into each part's Parquet metadata
    # the instance's own derived numbers when every scenario keeps the first year
    # (hwbopt.derived.hold_first_year: stress --hold-first-year, or a plan's commitments)
    known: dict[str, np.ndarray] | None = None
    # the columns held at col_lower in every scenario; None: the integer columns unless mip.
    # A saved plan (stress --plan) holds its first stage too, continuous columns included.
    fixed: np.ndarray | None = None
    # (columns,) bool, with a saved plan (stress --plan): fixed columns a scenario may take
    # away (hwbopt.plan.stages.TAKEN_AWAY: a lost site), held at the plan's value clipped into
    # the scenario's bounds (closed by force) instead of ruling the plan out
    clip: np.ndarray | None = None
    # try the chain's earlier optimal bases before any simplex when scenarios move only
    # bounds (hwbopt.batch.bases); off only to measure what it saves (the benchmark)
    # off: measured, the cache gains nothing on the county (benchmarks/README.md)
    reuse_bases: bool = False
    # walk from scenario to scenario by the engine's own pivots when scenarios move only
    # bounds (hwbopt.batch.walk); off only to measure what it saves (the benchmark)
    own_pivots: bool = True


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


def solve_block(spec: EngineSpec, chains: list[np.ndarray], values: list[np.ndarray],
                anchors: list[tuple[int, np.ndarray]] | None = None) -> bytes:
    """Solve whole chains (scenario indices and their input values, and each chain's anchor:
    see :data:`SPAN`); Parquet bytes back."""
    _maybe_die(spec, chains)
    columns = engine_for(spec).solve_columns(chains, values, anchors)
    import io

    import pyarrow.parquet as pq

    table = _table(columns)
    if spec.run_id:  # hwbopt.batch.store.RUN_KEY: --resume reads which run a part is of
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"hwbopt.run": spec.run_id.encode()})
    buf = io.BytesIO()
    # dictionary encoding only where values repeat (the texts); no column statistics (nothing
    # reads them): half the time of the defaults, the same size (a county block: 3.6 against
    # 7.4 ms, 93 against 95 kB)
    texts = [name for name in ("status", "reason", "certificate") if name in columns]
    pq.write_table(table, buf, use_dictionary=texts, write_statistics=False)
    return buf.getvalue()


# the columns that hold a list per scenario, and their values' type
_LISTS = {"binding": "int32", "changed": "int64"}


def rehearse() -> bool:
    """Walk a two-column LP once, certify it and read it back, so that numba loads every
    compiled kernel a walking batch calls (from its cache: 0.26 s on the county, most of a
    fresh worker's first chain), with the argument types the batch gives them. A local
    worker does this when it starts, while the run's set-up still solves the base plan
    (:mod:`hwbopt.batch.run`); True if the walk answered the LP (it must: tests)."""
    # minimise x0 + 2 x1, x0 + x1 >= 1, x0 <= 5: x0 = 1 is basic at the start; moving its
    # bound to 0.5 takes one pivot (x1 enters), so the walk runs every kernel it has
    comp = Compiled(sense=1, c=np.array([1.0, 2.0]), offset=0.0,
                    A=sp.csc_array(np.array([[1.0, 1.0]])), row_lower=np.array([1.0]),
                    row_upper=np.array([np.inf]), col_lower=np.zeros(2),
                    col_upper=np.array([5.0, 10.0]), integer=np.zeros(2, dtype=bool),
                    col_component=["x", "x"], col_index=[0, 1], row_component=["r"],
                    row_index=[0])
    walker = Walker(comp, np.array([0]), np.array([0]))
    # HiGHS's statuses: x0 basic (1), x1 and the row at their lower bounds (0)
    if not walker.start((np.array([1, 0], dtype=np.int8), np.array([0], dtype=np.int8))):
        return False
    walker.restart()
    bounds = {"col_lower": comp.col_lower, "col_upper": np.array([0.5, 10.0]),
              "row_lower": comp.row_lower, "row_upper": comp.row_upper}
    walked = walker.to(bounds)
    if walked is None or walked.pivots < 1:
        return False
    prob = certify.Problem(comp.A, comp.c, 0.0, 1, bounds["col_lower"], bounds["col_upper"],
                           comp.row_lower, comp.row_upper, comp.integer)
    response = Response(baseline=np.zeros(1), years=1, col=np.zeros(1, dtype=np.int64),
                        out=np.zeros(1, dtype=np.int64), need=np.zeros(1, dtype=np.int64),
                        start=np.zeros(1), width=np.full(1, np.inf), effect=np.ones(1))
    response.outcomes(walked.x[None, :], np.ones((1, 1)))
    return certify.lp_optimal(prob, walked.x, walked.row_dual) is None


def _table(columns: dict[str, Any]) -> Any:
    """A block's columns (:meth:`Engine.solve_columns`) as an Arrow table, without pandas:
    numbers as they are, texts as large strings (as pandas gave them), the list columns built
    from their values end to end (Arrow's conversion of Python lists, and pandas' frame on the
    way, cost a third of a walked scenario's time)."""
    import pyarrow as pa

    arrays = []
    for name, col in columns.items():
        if name in _LISTS:
            kind = np.dtype(_LISTS[name])
            lengths = np.fromiter(map(len, col), dtype=np.int64, count=len(col))
            offsets = np.zeros(len(col) + 1, dtype=np.int32)
            np.cumsum(lengths, out=offsets[1:])
            values = np.concatenate([np.asarray(c, dtype=kind) for c in col]) if col \
                else np.zeros(0, dtype=kind)
            arrays.append(pa.ListArray.from_arrays(pa.array(offsets), pa.array(values)))
        elif isinstance(col, np.ndarray):  # NaN (no answer) as null, as pandas gave it
            arrays.append(pa.array(col, from_pandas=True))
        elif col and isinstance(col[0], str):
            arrays.append(pa.array(col, type=pa.large_string()))
        else:
            arrays.append(pa.array(col))
    return pa.Table.from_arrays(arrays, names=list(columns))


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


@dataclass
class Solved:
    """One solve of a scenario: HiGHS's answer, read back and certified."""

    status: Status
    reason: str = ""
    objective: float | None = None
    bound: float | None = None
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    iterations: int = 0


class Engine:
    def __init__(self, spec: EngineSpec):
        self.spec = spec
        # the scenario's numbers as the engine holds them: the certificate reads these, never
        # HiGHS's copy. Integer decisions are free here; the LP gets them fixed at the plan.
        self.col_lower = spec.free_lower.copy()
        self.col_upper = spec.free_upper.copy()
        self.row_lower = spec.row_lower.copy()
        self.row_upper = spec.row_upper.copy()
        self.c = spec.c.copy()
        self.a_data = spec.A_data.astype(float)
        self.A = sp.csc_array((self.a_data, spec.A_indices, spec.A_indptr),
                              shape=(spec.n_rows, spec.n_cols), copy=False)
        self.a_pos = spec.prepared["A"].position if "A" in spec.prepared \
            else np.zeros(0, dtype=np.int64)
        # the columns held at the plan's values: its integer decisions (and a saved plan's
        # first stage)
        self.fixed = (spec.integer & (not spec.mip)) if spec.fixed is None else spec.fixed
        self.certify_seconds = 0.0  # this scenario's time in the certificate
        self.plan = np.where(self.fixed, spec.col_lower, 0.0)
        self.h = self._highs(spec.col_lower, spec.col_upper, integer=spec.mip)
        self.incumbent: np.ndarray | None = spec.start
        self.cols_touched = np.union1d(
            spec.prepared["col_lower"].position if "col_lower" in spec.prepared else [],
            spec.prepared["col_upper"].position if "col_upper" in spec.prepared else [],
        ).astype(np.int32)
        self.rows_touched = np.union1d(
            spec.prepared["row_lower"].position if "row_lower" in spec.prepared else [],
            spec.prepared["row_upper"].position if "row_upper" in spec.prepared else [],
        ).astype(np.int32)
        # what every scenario asks and does not change, found once
        self._no_integer = np.zeros(spec.n_cols, dtype=bool)
        self._any_fixed = bool(self.fixed.any())
        self._fixed_touched = self.fixed[self.cols_touched]
        self._any_fixed_touched = bool(self._fixed_touched.any())
        # the LP's column bounds (the plan's decisions held): only the columns a scenario
        # touches change, and _load changes them (_lp_bounds)
        held = self._held()
        self._lp = (np.where(self.fixed, held, self.col_lower),
                    np.where(self.fixed, held, self.col_upper))
        # only bounds move (no cost, no coefficient) and the LP is solved: a basis optimal for
        # one scenario stays dual feasible for every other, so the chain's bases are worth keeping
        bounds_only = not spec.mip and "c" not in spec.prepared and "A" not in spec.prepared
        self.bases = BasisCache(self.A) if bounds_only else None
        # the walk by the engine's own pivots (built at the first chain, when asked for)
        self.bounds_only = bounds_only
        self.walker: Walker | None = None
        self._walk_started = False
        self._good: np.ndarray | None = None  # the last basis the walk proved optimal
        self._columns: dict[str, list[str]] | None = None  # see _names
        # the scenario's bounds not yet in HiGHS (_load, _to_highs), and its columns' there
        self._stale = False
        self._col_bounds = (np.zeros(0), np.zeros(0))
        self._fresh = False  # a chain began: HiGHS to be cleared before it solves

    def _highs(self, col_lower: np.ndarray, col_upper: np.ndarray,
               integer: bool) -> highs.Loaded:
        """A HiGHS instance holding the engine's current numbers (its objective less the
        constant, as :func:`hwbopt.highs.to_highs_lp` gives every solve)."""
        spec = self.spec
        comp = Compiled(
            sense=spec.sense, c=self.c, offset=spec.offset, A=self.A,
            row_lower=self.row_lower, row_upper=self.row_upper, col_lower=col_lower,
            col_upper=col_upper,
            integer=spec.integer if integer else np.zeros(spec.n_cols, dtype=bool),
            col_component=[], col_index=[], row_component=[], row_index=[],
            constant=spec.constant)
        h = highs.load(comp, threads=1)
        if not integer:  # devex pays off on warm LP re-solves only (see WARM_OPTIONS)
            for option, value in WARM_OPTIONS.items():
                h.setOptionValue(option, value)
        highs.limit(h, spec.time_limit, spec.mip_gap if integer else None, is_mip=integer)
        return h

    def problem(self, col_lower: np.ndarray, col_upper: np.ndarray,
                integer: bool) -> certify.Problem:
        spec = self.spec
        return certify.Problem(
            A=self.A, c=self.c, offset=spec.offset, sense=spec.sense, col_lower=col_lower,
            col_upper=col_upper, row_lower=self.row_lower, row_upper=self.row_upper,
            integer=spec.integer if integer else self._no_integer)

    # ---- one chain ---------------------------------------------------------------------

    def _restart(self, anchor: tuple[int, np.ndarray] | None = None) -> None:
        """Back to the base plan's basis (LP) or start (MIP), or, walking, to the base plan
        walked to the chain's ``anchor`` scenario (:data:`SPAN`): a chain's results depend
        on these alone."""
        spec = self.spec
        if self.bases is not None:  # a chain's bases are its own, like its start
            self.bases.clear()
        if spec.mip:
            self.incumbent = spec.start
            return
        if spec.basis is None:
            raise ValueError("an LP batch restarts from the base plan's basis, and has none")
        # HiGHS keeps state between runs (its random perturbation): cleared, every chain
        # starts from the very same solver whatever ran before it, from the base plan's basis;
        # both when HiGHS next solves (_highs_start), which a walked chain may never need
        self._fresh = True
        self._good = None
        walker = self._walker()
        if walker is not None:
            # the anchor by its scenario and values (another run in this process may
            # draw other values for the same scenario)
            key = None if anchor is None else (int(anchor[0]), np.asarray(anchor[1]).tobytes())
            vals = None if anchor is None else anchor[1]
            try:
                anchored = walker.restart(key, lambda: self._anchor_bounds(vals))
            except Exception:  # no anchor stops a batch: its chains start from the base
                anchored = walker.restart()
            if anchored:
                # HiGHS, if the walk declines the chain's first scenario, starts here too
                self._good = walker.pv.status.copy()

    def _anchor_bounds(self, vals: np.ndarray | None) -> dict[str, np.ndarray] | None:
        """The LP's bounds in the scenario of input values ``vals`` (a chain's anchor), or
        None where that scenario has none (invalid inputs, a plan decision ruled out)."""
        if vals is None:
            return None
        spec = self.spec
        fields = apply_inputs(spec.fields, spec.targets, np.asarray(vals, dtype=float)[None])
        derived = derive_block(fields, spec.layout, need_share=needs_share(spec.prepared),
                               known=spec.known)
        if derived.invalid[0] is not None:
            return None
        # into the engine's arrays: the chain's first scenario overwrites them
        if self._load(evaluate_maps(spec.prepared, derived.values), 0) is not None:
            return None
        return self._bounds(self.problem(*self._lp_bounds(), integer=False))

    def _walker(self) -> Walker | None:
        """The walk by the engine's own pivots, if this batch takes it: built and loaded
        with the base plan's basis once (None if that basis is not optimal to the walk's
        tolerances: HiGHS then solves every scenario)."""
        spec = self.spec
        if not (spec.own_pivots and self.bounds_only) or spec.basis is None \
                or spec.n_rows > walk.MAX_ROWS:  # a large LP: HiGHS is faster (walk.py)
            return None
        if not self._walk_started:
            self._walk_started = True
            comp = Compiled(
                sense=spec.sense, c=self.c, offset=spec.offset, A=self.A,
                row_lower=spec.row_lower, row_upper=spec.row_upper,
                col_lower=spec.col_lower, col_upper=spec.col_upper,
                integer=np.zeros(spec.n_cols, dtype=bool), col_component=[], col_index=[],
                row_component=[], row_index=[], constant=spec.constant)
            walker = Walker(comp, self.cols_touched, self.rows_touched)
            self.walker = walker if walker.start(spec.basis) else None
        return self.walker

    def solve_chains(self, chains: list[np.ndarray], values: list[np.ndarray],
                     anchors: list[tuple[int, np.ndarray]] | None = None) -> pd.DataFrame:
        """Whole chains (scenario indices, their input values, their anchors: see
        :data:`SPAN`) solved, a row per scenario."""
        return pd.DataFrame(self.solve_columns(chains, values, anchors))

    def solve_columns(self, chains: list[np.ndarray], values: list[np.ndarray],
                      anchors: list[tuple[int, np.ndarray]] | None = None) -> dict[str, Any]:
        """:meth:`solve_chains` as columns (name to array or list), for Arrow directly."""
        # the scenarios' numbers derived for the whole block at once (each scenario's its
        # own: the same as chain by chain), then each chain solved from its rows
        vals = [np.asarray(v, dtype=float) for v in values]
        block = self._derive(np.concatenate(vals)) if vals else None
        parts, at = [], 0
        for n, (idx, v) in enumerate(zip(chains, vals, strict=True)):
            assert block is not None
            parts.append(self._solve_chain(np.asarray(idx), v,
                                           None if anchors is None else anchors[n],
                                           block.rows(at, at + len(v))))
            at += len(v)
        # each chain's columns end to end: the scenarios' own fields, then what they report
        columns: dict[str, Any] = {}
        for name in (parts[0] if parts else ()):
            pieces = [part[name] for part in parts]
            columns[name] = np.concatenate(pieces) if isinstance(pieces[0], np.ndarray) \
                else [v for piece in pieces for v in piece]
        return columns

    def _derive(self, vals: np.ndarray) -> _Block:
        """The numbers of the scenarios of input values ``vals`` (scenarios x inputs)."""
        spec = self.spec
        fields = apply_inputs(spec.fields, spec.targets, vals)
        derived = derive_block(fields, spec.layout, need_share=needs_share(spec.prepared),
                               known=spec.known)
        return _Block(
            entries=evaluate_maps(spec.prepared, derived.values),
            available=derived.values["available"].sum(axis=(1, 2)),
            targets=derived.values["target"] if len(spec.base_targets) else None,
            need=derived.values["need"].reshape(len(vals), -1),
            invalid=list(derived.invalid))

    def _solve_chain(self, idx: np.ndarray, vals: np.ndarray,
                     anchor: tuple[int, np.ndarray] | None = None,
                     block: _Block | None = None) -> dict[str, Any]:
        """A chain's scenarios solved in turn, as columns: each scenario's own fields
        (:data:`FIELDS`), then what it reports (:meth:`_read`). ``block``: their numbers,
        if derived already."""
        spec = self.spec
        block = self._derive(vals) if block is None else block
        entries, available, targets, need = (block.entries, block.available, block.targets,
                                             block.need)
        self._restart(anchor)
        out = []
        solved_now: list[_Done] = []  # read back together once the chain is through
        for n, scenario in enumerate(idx):
            record: dict[str, Any] = {"scenario": int(scenario)}
            for col, t in enumerate(spec.targets):
                record[f"input.{t.column}"] = float(vals[n, col])
            record["cut_depth"] = 1.0 - float(available[n]) / spec.base_available \
                if spec.base_available > 0 else 0.0
            out.append(record)
            if block.invalid[n] is not None:
                record.update(status=Status.FAILED,
                              reason=f"invalid inputs: {block.invalid[n]}")
                continue
            try:
                solved = self._scenario(int(scenario), entries, n, record)
                if solved.x is None or solved.objective is None:
                    record.update(status=solved.status, reason=solved.reason)
                    continue
                # its minimum contributions copied (the next scenario changes the engine's); the
                # rows its duals price are found with the chain's, and with no duals (a
                # MIP), those at a bound of this scenario's, now
                solved_now.append(_Done(
                    record, solved.x, n, self.col_lower[spec.spend.contribution],
                    solved.objective,
                    solved.row_dual, None if solved.row_dual is not None
                    else self._binding(solved.x)))
            except Exception as exc:  # a scenario never stops the batch
                record.update(status=Status.FAILED, reason=f"{type(exc).__name__}: {exc}")
        report = self._unread(len(idx))
        try:
            self._read(solved_now, targets, need, report)
        except Exception:  # one at a time, so that a scenario's failure stays its own
            report = self._unread(len(idx))
            blank = self._unread(1)
            for done in solved_now:
                try:
                    self._read([done], targets, need, report)
                except Exception as exc:
                    done.record.update(status=Status.FAILED,
                                       reason=f"{type(exc).__name__}: {exc}")
                    for name, column in report.items():  # nothing of it half written
                        column[done.n] = blank[name][0]
        columns: dict[str, Any] = {name: [self._field(r, name) for r in out]
                                   for name in self._fields()}
        columns.update(report)
        return columns

    def _fields(self) -> list[str]:
        """A scenario's own fields, in the order its columns take (:data:`FIELDS` after its
        id, inputs and cut depth)."""
        spec = self.spec
        return ["scenario", *(f"input.{t.column}" for t in spec.targets), "cut_depth",
                *FIELDS]

    @staticmethod
    def _field(record: dict[str, Any], name: str) -> Any:
        """A scenario's field, or the value a scenario with no answer reports for it."""
        if name not in FIELDS:
            return record[name]
        value = record.get(name, FIELDS[name])
        return list(value) if isinstance(value, list) else value  # no cell shares a list

    def _scenario(self, scenario: int, entries: dict[str, np.ndarray], n: int,
                  record: dict[str, Any]) -> Solved:
        """Solve scenario ``n``: the plan's decisions fixed (or the MIP, with ``mip``); a plan
        that cannot hold is re-solved with its integer decisions free."""
        start = time.perf_counter()
        record.update(warm=False, cold_checked=False, cold_mismatch=False, certified=False,
                      certificate="", changed=[], basis_reused=False, pivoted=False)
        self.certify_seconds = 0.0
        # a plan decision the scenario rules out (only a held plan has one) is not solved
        solved = None if self._load(entries, n) is not None else self._solve(scenario, record)
        # the plan cannot hold (or HiGHS cannot settle the LP with it held: status unknown)
        if solved is None or (self._any_fixed and solved.status in (Status.INFEASIBLE,
                                                                      Status.ERROR)):
            solved = self._solve_free(record)
        record["solve_seconds"] = time.perf_counter() - start
        record["certify_seconds"] = self.certify_seconds
        record["iterations"] = solved.iterations
        record["objective"] = solved.objective
        record["status"] = solved.status
        record["reason"] = solved.reason
        return solved

    def _load(self, entries: dict[str, np.ndarray], n: int) -> str | None:
        """Put scenario ``n``'s numbers into the engine's arrays and the LP; a plan decision
        the scenario rules out is returned (its columns are then left as they were)."""
        spec, h = self.spec, self.h
        p = spec.prepared
        if "col_lower" in p:
            self.col_lower[p["col_lower"].position] = entries["col_lower"][n]
        if "col_upper" in p:
            self.col_upper[p["col_upper"].position] = entries["col_upper"][n]
        if "row_lower" in p:
            self.row_lower[p["row_lower"].position] = entries["row_lower"][n]
        if "row_upper" in p:
            self.row_upper[p["row_upper"].position] = entries["row_upper"][n]
        self._stale = True  # HiGHS gets the bounds when it next solves (_to_highs)
        if "c" in p:
            cols = p["c"].position.astype(np.int32)
            self.c[cols] = entries["c"][n]
            h.changeColsCost(len(cols), cols, self.c[cols])
        if "A" in p:
            new = entries["A"][n]
            changed = np.flatnonzero(new != self.a_data[self.a_pos])
            for j in changed:
                h.changeCoeff(int(spec.a_rows[j]), int(spec.a_cols[j]), float(new[j]))
            self.a_data[self.a_pos[changed]] = new[changed]
        if len(self.cols_touched):
            cols = self.cols_touched
            lo, hi = self.col_lower[cols], self.col_upper[cols]
            fixed = self._fixed_touched
            if self._any_fixed_touched:
                # the plan's integer decisions stay; a scenario may only rule them out, or,
                # for a saved plan's sites, close one it takes away
                plan = self._held()[cols]
                tol = 1e-9 * np.maximum(1.0, np.abs(plan))
                bad = fixed & ((plan < lo - tol) | (plan > hi + tol))
                if bad.any():  # (self._lp is left as it was: _solve_free solves this
                    # scenario from the engine's own bounds, and the next _load rewrites
                    # every touched column)
                    return ("the plan's decision on column "
                            f"{int(cols[np.flatnonzero(bad)[0]])} is ruled out in this "
                            "scenario (e.g. a site it keeps open is not available)")
                lo, hi = np.where(fixed, plan, lo), np.where(fixed, plan, hi)
            self._col_bounds = (lo, hi)
            self._lp[0][cols], self._lp[1][cols] = lo, hi
        return None

    def _highs_start(self) -> None:
        """Where HiGHS starts its next solve: cleared at a chain's start; from the last basis
        the walk proved optimal if it answered last (once: then HiGHS's own last basis is the
        newer), else at a chain's start from the base plan's; else where it left off."""
        h, spec = self.h, self.spec
        if self._fresh:
            h.clearSolver()
        if self._good is not None:
            highs.set_basis(h, (self._good[: spec.n_cols], self._good[spec.n_cols:]))
        elif self._fresh and spec.basis is not None:
            highs.set_basis(h, spec.basis)
        self._fresh = False
        self._good = None

    def _to_highs(self) -> None:
        """The scenario's bounds into HiGHS, before it solves: a walked scenario never needs
        them (two HiGHS calls a scenario saved)."""
        if not self._stale:
            return
        h = self.h
        if len(self.rows_touched):
            rows = self.rows_touched
            highs.change_rows_bounds(h, rows, self.row_lower[rows], self.row_upper[rows])
        if len(self.cols_touched):
            lo, hi = self._col_bounds
            h.changeColsBounds(len(self.cols_touched), self.cols_touched, lo, hi)
        self._stale = False

    def _held(self) -> np.ndarray:
        """The plan's values as this scenario holds them: a saved plan's site the scenario
        takes away (``spec.clip``) closed by force, clipped into the scenario's bounds."""
        if self.spec.clip is None:
            return self.plan
        held: np.ndarray = np.where(self.spec.clip,
                                    np.clip(self.plan, self.col_lower, self.col_upper),
                                    self.plan)
        return held

    def _lp_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds as the main model holds them: the plan's decisions fixed (LP path).
        The engine's own arrays, as the last :meth:`_load` left them: read them before the
        next scenario's."""
        return self._lp

    def _solve(self, scenario: int, record: dict[str, Any]) -> Solved:
        spec, h = self.spec, self.h
        if spec.mip and self.incumbent is not None:
            # the previous scenario's plan (the base plan at a chain's start) as a start,
            # given after the bounds (changing them may drop it)
            self._to_highs()
            highs.start_from(h, self.incumbent)
        prob = self.problem(*self._lp_bounds(), integer=spec.mip)
        cache = self.bases if spec.reuse_bases and self.bases is not None \
            and self.bases.active else None
        walker = self.walker if spec.own_pivots and self.walker is not None \
            and self.walker.ready and self.walker.active else None
        solved = self._walked(walker, prob) if walker is not None else None
        if solved is not None:
            record["pivoted"] = True
        elif cache is not None and (solved := self._reused(cache, prob)) is not None:
            record["basis_reused"] = True
        else:
            self._highs_start()
            self._to_highs()
            highs.settle(h)
            solved = self._certified(h, prob)
            if cache is not None and solved.status == Status.OPTIMAL \
                    and solved.row_dual is not None:
                self._keep(cache, h, prob, solved)
            if spec.own_pivots and self.walker is not None and self.walker.active \
                    and solved.status == Status.OPTIMAL and solved.x is not None:
                self._good = None
                # the walk goes on from HiGHS's optimal basis
                basic = np.asarray(h.getBasicVariables()[1],  # type: ignore[attr-defined]
                                   dtype=np.int64)
                self.walker.reload(basic, solved.x, self._bounds(prob))
        record["warm"] = True  # answered from the chain's earlier work (a basis or a start)
        if solved.status != Status.OPTIMAL:
            # a warm start must never decide a scenario's fate, nor give an answer the
            # certificate rejects: settle it cold, from the engine's own numbers
            cold = self._cold(prob)
            record["warm"] = False
            if solved.status == Status.UNCERTIFIED:
                record["certificate"] = solved.reason
            solved = cold
        elif _sampled(scenario, spec.seed, spec.cold_rate):
            # a deterministic sample re-solved cold: the warm answer must agree
            cold = self._cold(prob)
            record["cold_checked"] = True
            # two MIP solves agree only to within the gap they were asked for
            rel = max(1e-7, spec.mip_gap) if spec.mip else 1e-7
            warm = solved.objective
            if cold.objective is None or warm is None or abs(cold.objective - warm) > \
                    rel * max(1.0, abs(warm)):
                record["cold_mismatch"] = True
                record["warm"] = False
                record["basis_reused"] = False
                record["pivoted"] = False
                solved = cold
        if solved.status == Status.UNCERTIFIED:
            solved = _failed(solved)
        if solved.status == Status.OPTIMAL:
            record["certified"] = True
            if spec.mip:
                self.incumbent = solved.x
        return solved

    @staticmethod
    def _bounds(prob: certify.Problem) -> dict[str, np.ndarray]:
        return {"col_lower": prob.col_lower, "col_upper": prob.col_upper,
                "row_lower": prob.row_lower, "row_upper": prob.row_upper}

    def _walked(self, walker: Walker, prob: certify.Problem) -> Solved | None:
        """The scenario answered by the walk from the last one (:mod:`hwbopt.batch.walk`),
        certified against the engine's own numbers; None when the walk declines or the
        certificate rejects its answer (HiGHS's warm simplex then decides)."""
        walked = walker.to(self._bounds(prob))
        if walked is None:
            return None
        solved = self._proven(prob, walked.x, walked.row_dual, walked.pivots)
        if solved is None:
            walker.decline()  # HiGHS solves it, and the walk goes on from its basis
            return None
        self._good = walker.pv.status.copy()
        return solved

    def _reused(self, cache: BasisCache, prob: certify.Problem) -> Solved | None:
        """The scenario answered from one of the chain's optimal bases, certified; None when
        no basis fits or the certificate rejects the answer (the simplex then decides)."""
        hit = cache.solve(prob.col_lower, prob.col_upper, prob.row_lower, prob.row_upper)
        return None if hit is None else self._proven(prob, hit.x, hit.row_dual, 0)

    def _proven(self, prob: certify.Problem, x: np.ndarray, row_dual: np.ndarray,
                iterations: int) -> Solved | None:
        """An answer found without HiGHS (a walk, a cached basis) as an optimal ``Solved``
        if the certificate proves it, else None."""
        start = time.perf_counter()
        why = certify.lp_optimal(prob, x, row_dual)
        self.certify_seconds += time.perf_counter() - start
        if why is not None:
            return None
        value = certify.objective(prob, x)
        return Solved(Status.OPTIMAL, "", value, value, x, row_dual, iterations)

    def _keep(self, cache: BasisCache, h: highspy.Highs, prob: certify.Problem,
              solved: Solved) -> None:
        """Add the basis HiGHS just solved to optimality to the chain's cache."""
        if solved.x is None or solved.row_dual is None:
            return
        # which variables are basic, in one call (getBasis builds a Python object per status:
        # 3 ms on the county, half a warm solve); where the others sit is read from the answer
        # (highspy's stubs leave it out; it exists at run time)
        basic = np.asarray(h.getBasicVariables()[1],  # type: ignore[attr-defined]
                           dtype=np.int64)
        cols = bases.statuses(basic[basic >= 0], solved.x, prob.col_lower, prob.col_upper)
        rows = bases.statuses(-1 - basic[basic < 0], self.A @ solved.x, prob.row_lower,
                              prob.row_upper)
        cache.add(cols, rows, solved.row_dual)

    def _solve_free(self, record: dict[str, Any]) -> Solved:
        """The scenario with the plan's integer decisions free, from the plan: what the board
        would do if the scenario came. ``plan_infeasible`` when it finds a plan."""
        spec = self.spec
        h = self._highs(self.col_lower, self.col_upper, integer=True)
        highs.start_from(h, spec.free_start)  # the base plan
        highs.settle(h)
        record["warm"] = False
        prob = self.problem(self.col_lower, self.col_upper, integer=True)
        solved = self._certified(h, prob, is_mip=True)
        if solved.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            # HiGHS could not settle it (status unknown): once more from nothing, presolve off
            h = self._highs(self.col_lower, self.col_upper, integer=True)
            h.setOptionValue("presolve", "off")
            highs.settle(h)
            solved = self._certified(h, prob, is_mip=True)
        if solved.status == Status.OPTIMAL and solved.x is not None:
            record["certified"] = True
            record["changed"] = self._changes(solved.x)
            # solved, with another plan: its outcomes are the re-solved plan's
            solved.status = Status.PLAN_INFEASIBLE
            solved.reason = ("the plan's decisions cannot hold here: re-solved with them free"
                             f" ({len(record['changed'])} changed)")
        elif solved.status == Status.UNCERTIFIED:
            solved = _failed(solved)
        return solved

    def _changes(self, x: np.ndarray) -> list[int]:
        """The plan's held decisions (columns) a re-solved scenario changed."""
        cols = np.flatnonzero(self.fixed)
        integer = self.spec.integer[cols]
        plan = self._held()[cols]
        value = np.where(integer, np.round(x[cols]), x[cols])
        # a saved plan's continuous commitments (this year's money and activity) move when
        # they differ by more than the certificate's tolerance
        moved = np.abs(value - plan) > np.where(integer, 0.5,
                                                1e-6 * np.maximum(1.0, np.abs(plan)))
        return [int(j) for j in cols[moved]]

    def _cold(self, prob: certify.Problem) -> Solved:
        """The scenario solved from scratch in a fresh HiGHS built from the engine's arrays."""
        h = self._highs(prob.col_lower, prob.col_upper, integer=bool(prob.integer.any()))
        highs.settle(h)
        return self._certified(h, prob)

    def _certified(self, h: highs.Loaded, prob: certify.Problem,
                   is_mip: bool | None = None) -> Solved:
        """HiGHS's settled answer (:func:`hwbopt.highs.outcome`) read back and certified
        (status ``uncertified`` if it fails)."""
        spec = self.spec
        mip = bool(prob.integer.any()) if is_mip is None else is_mip
        end = highs.outcome(h, time_limit=spec.time_limit, is_mip=mip)
        iterations = int(highs.info(h, "simplex_iteration_count"))
        if end.status != Status.OPTIMAL or end.objective is None or end.bound is None:
            return Solved(end.status, end.detail, iterations=iterations)
        x, dual = self.solution(h)
        start = time.perf_counter()
        if mip:
            why = certify.mip_optimal(prob, x, end.objective, end.bound, spec.mip_gap,
                                      spec.constant)
        else:
            why = certify.lp_optimal(prob, x, dual)
            if why is None and highs.info(h, "primal_solution_status") != 2:
                why = "HiGHS does not report its solution as primal feasible"
        self.certify_seconds += time.perf_counter() - start
        if why is not None:
            return Solved(Status.UNCERTIFIED, why, iterations=iterations)
        return Solved(Status.OPTIMAL, "", certify.objective(prob, x), end.bound, x,
                      None if mip else dual, iterations)

    def solution(self, h: highspy.Highs) -> tuple[np.ndarray, np.ndarray | None]:
        """HiGHS's primal values and row duals (a seam tests use to corrupt a result)."""
        sol = h.getSolution()
        dual = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
        return np.asarray(sol.col_value, dtype=float), dual

    def _unread(self, rows: int) -> dict[str, Any]:
        """What ``rows`` scenarios report before any is read back: what a scenario with no
        answer reports (no outcome, spend or activity, no target met, nothing binding)."""
        names = self._names()
        report: dict[str, Any] = {}
        for name in names["outcome"]:
            report[name] = np.full(rows, np.nan)
        for name in names["met"]:
            report[name] = np.zeros(rows, dtype=bool)
        report["targets_met"] = np.zeros(rows, dtype=np.int64)
        for name in (*names["spend"], *names["activity"]):
            report[name] = np.full(rows, np.nan)
        report["binding"] = [_NONE_BINDING] * rows
        return report

    def _read(self, solved: list[_Done], targets: np.ndarray | None,
              need: np.ndarray, report: dict[str, Any]) -> None:
        """What each solved scenario of a chain reports, into the chain's columns
        (``report``, :meth:`_unread`), computed from the plan's decisions (never from
        variables the objective leaves free) for the chain at once: outcomes through the
        response curves, spend, activity; the rows that bind. Written only once all is
        computed, so a failure leaves the columns as they were."""
        if not solved:
            return
        spec = self.spec
        x = np.stack([d.x for d in solved])
        rows = np.array([d.n for d in solved])
        outcome = spec.response.outcomes(x, need[rows])  # (S, K, Y)
        spend = spec.spend.settled(x, np.stack([d.minimum for d in solved]))
        act = (spec.activity @ x.T).T
        # each target's outcome against its own number in each scenario
        at = spec.target_at
        k_t = (np.array([k for k, _, _ in at], dtype=np.int64),
               np.array([t for _, t, _ in at], dtype=np.int64))
        goal = (targets[rows] if targets is not None
                else np.broadcast_to(spec.base_targets, (len(rows), len(spec.base_targets))))
        goal = goal[:, [j for _, _, j in at]]
        met = outcome[:, k_t[0], k_t[1]] >= goal - 1e-6 * np.maximum(1.0, np.abs(goal))
        total = outcome.sum(axis=2)
        rows_b = spec.binding_rows
        binding = [d.binding for d in solved]
        priced = [s for s, d in enumerate(solved) if d.row_dual is not None]
        if priced:  # the rows whose dual is not 0 (relative to the objective)
            dual = np.stack([solved[s].row_dual[rows_b] for s in priced])  # type: ignore[index]
            scale = 1e-9 * np.maximum(1.0, np.abs([solved[s].objective for s in priced]))
            for s, hit in zip(priced, np.abs(dual) > scale[:, None], strict=True):
                binding[s] = rows_b[hit].astype(np.int32)
        names = self._names()
        for block, kind in ((total, "outcome"), (met, "met"), (spend, "spend"),
                            (act, "activity")):
            for c, name in enumerate(names[kind]):
                report[name][rows] = block[:, c]
        report["targets_met"][rows] = met.sum(axis=1)
        for r, b in zip(rows.tolist(), binding, strict=True):
            report["binding"][r] = b

    def _names(self) -> dict[str, list[str]]:
        """The columns of what a scenario reports, by kind (made once)."""
        if self._columns is None:
            spec = self.spec
            self._columns = {
                "outcome": [f"outcome.{name}" for name in spec.priorities],
                "met": [f"met.{spec.priorities[k]}.{spec.years[t]}"
                        for (k, t, _) in spec.target_at],
                "spend": [f"spend.{name}" for name in spec.partners],
                "activity": [f"activity.{name}" for name in spec.interventions]}
        return self._columns

    def _binding(self, x: np.ndarray) -> np.ndarray:
        """The reported rows at a bound of this scenario's (for an answer with no duals: a
        MIP's)."""
        rows = self.spec.binding_rows
        value = (self.A @ x)[rows]
        lo, hi = self.row_lower[rows], self.row_upper[rows]
        tol = 1e-7 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, lo)))
        at = (np.isfinite(hi) & (np.abs(value - hi) <= tol)) | \
             (np.isfinite(lo) & (np.abs(value - lo) <= tol))
        bound: np.ndarray = rows[at].astype(np.int32)
        return bound


@dataclass
class _Block:
    """Scenarios' derived numbers, a row each (:meth:`Engine._derive`): the mapped entries'
    new values, the money available, the targets, the need, and why a scenario's inputs are
    invalid (None: valid)."""

    entries: dict[str, np.ndarray]
    available: np.ndarray
    targets: np.ndarray | None
    need: np.ndarray
    invalid: list[str | None]

    def rows(self, start: int, stop: int) -> _Block:
        return _Block({k: v[start:stop] for k, v in self.entries.items()},
                      self.available[start:stop],
                      None if self.targets is None else self.targets[start:stop],
                      self.need[start:stop], self.invalid[start:stop])


@dataclass
class _Done:
    """A solved scenario of a chain, waiting for the chain's read-back (:meth:`Engine._read`):
    its record, plan, row in the chain, minimum contributions (its column lower bounds at
    the contribution columns: :meth:`hwbopt.batch.readback.Spend.settled`), objective, duals
    and binding rows."""

    record: dict[str, Any]
    x: np.ndarray
    n: int
    minimum: np.ndarray
    objective: float
    row_dual: np.ndarray | None
    binding: np.ndarray | None  # found now if it has no duals, else with the chain's


def _failed(solved: Solved) -> Solved:
    """A scenario with no certified answer, warm or cold."""
    return Solved(Status.FAILED, f"no certified solution: {solved.reason}",
                  iterations=solved.iterations)


# A scenario's own fields after its id, inputs and cut depth, and what one that was not
# solved (or not answered) reports for each: the columns of the batch's parts in this order
FIELDS: dict[str, Any] = {
    "warm": False, "cold_checked": False, "cold_mismatch": False, "certified": False,
    "certificate": "", "changed": [], "basis_reused": False, "pivoted": False,
    "solve_seconds": 0.0, "certify_seconds": 0.0, "iterations": 0, "objective": None,
    "status": Status.FAILED, "reason": ""}

_NONE_BINDING = np.zeros(0, dtype=np.int32)  # a scenario with no answer binds no row
_NONE_BINDING.flags.writeable = False  # shared by every such scenario

_MASK = (1 << 64) - 1


def _sampled(scenario: int, seed: int, rate: float) -> bool:
    """Whether the cold check takes this scenario: a share ``rate`` of scenarios, chosen by
    index and seed alone (SplitMix64's finaliser on both, to a uniform number in [0, 1): a
    few integer operations, where a numpy generator per scenario cost 50 µs)."""
    if rate <= 0.0:
        return False
    z = (scenario * 0x9E3779B97F4A7C15 + (seed + 7) * 0xD1B54A32D192ED03) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return (z >> 11) * 2.0 ** -53 < rate
