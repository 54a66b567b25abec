"""The criteria a plan can be judged by — outcome, cost, equity — on one compiled model.

See ``models/equity.md``. :func:`criteria` builds the instance's model once, under the
``outcome`` objective and the instance's own rules (soft targets stay soft), and puts every
criterion on that one model's columns, so frontiers, near-optimal alternatives and the equity
objective re-solve it warm and never rebuild it:

- ``outcome``: the outcome objective's coefficients (weighted outcome less shortfall
  penalties), maximised;
- ``cost``: the ``cost`` objective's coefficients (every pound that leaves any partner),
  minimised. They come from building the instance once more under ``cost`` and mapping that
  model's costs onto these columns by column name. Only the coefficients are taken: the
  ``cost`` objective's rule that every target is hard is *not*, so a frontier trades outcome
  against the money spent under the instance's own rules (a soft target may be missed, at its
  penalty, when money is short). With only hard targets the two models have the same plans,
  and ``cost`` measured here equals ``hwbopt.solve(inst, objective="cost").objective``;
- ``equity``: the lowest share met of any target with a target above zero (``achieved /
  target`` per priority and year, baseline included), maximised; or, with ``settings.
  equity_over: localities``, the worst locality's weighted outcome per head of need. It is the
  column ``equity_level`` held below every share by the rows ``attainment_floor[k,y]``
  (``outcome[k,y] - target[k,y] × equity_level >= 0``) or ``locality_floor[l]``. (They are not
  called ``equity_floor``: that is the activity model's floor between localities.)

:func:`measure` is a criterion's value of a plan from its decisions; equity is recomputed from
the outcome columns, never read off ``equity_level`` (which an objective other than equity may
leave anywhere below the minimum). :func:`solve_for` optimises one criterion with the others
held at bounds (the epsilon-constraint method); :func:`solve_equity` is the equity objective:
two solves on the one model, lexicographic (see :data:`TOLERANCE`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hwbopt import highs
from hwbopt.compile import Compiled, append_cols, append_rows
from hwbopt.errors import UsageError
from hwbopt.model.data import ModelData, model_data
from hwbopt.pipeline import Built, build, result_from
from hwbopt.results import Result, response_value
from hwbopt.results.result import min_attainment
from hwbopt.schema import Instance
from hwbopt.status import EARLY, check_limits

OUTCOME, COST, EQUITY = "outcome", "cost", "equity"
NAMES = (OUTCOME, COST, EQUITY)
__all__ = ["COST", "EQUITY", "NAMES", "OUTCOME", "TOLERANCE", "Criteria", "bounded", "criteria",
           "heads_of_need", "locality_outcomes", "measure", "min_attainment", "solve_equity",
           "solve_for"]

LEVEL = "equity_level"  # the column: the lowest share (or locality's outcome per head)
TARGET_FLOOR = "attainment_floor"  # rows [k,y]: outcome[k,y] - target × equity_level >= 0
LOCALITY_FLOOR = "locality_floor"  # rows [l]: locality l's outcome - heads × equity_level >= 0
BOUND = "criterion_bound"  # rows [name] solve_for adds: a criterion held at a floor or ceiling

# The lexicographic second stage holds equity_level >= t - TOLERANCE × max(|t|, 1), where t is
# the first stage's optimum: relative for shares above one, absolute 1e-6 below (a share of a
# target is a number near 1, so this is about a millionth of a target), wide enough that the
# second solve's simplex tolerances (1e-7 on rows) never make the first stage's plan infeasible.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Criteria:
    """Every criterion as a linear function over the columns of one compiled model."""

    built: Built  # the instance's model under ``outcome`` (targets as the instance says)
    comp: Compiled  # built.compiled + column equity_level + the equity floor rows
    vectors: dict[str, np.ndarray]  # objective coefficients over comp's columns
    constants: dict[str, float]  # each criterion's value beyond c @ x (objective offsets)
    senses: dict[str, int]  # +1 minimise (cost), -1 maximise (outcome, equity)
    # the part of each criterion no decision moves (offset included): left out of what HiGHS
    # is given, so a MIP gap is relative to what the plan controls (models/objective.md)
    fixed: dict[str, float]
    # equity = min_r (shares[r] @ x) / scale[r]; one row per floor row, in their order
    shares: sp.csr_array
    scale: np.ndarray
    over: str  # "targets" or "localities"
    labels: tuple[object, ...]  # (priority, year) or locality of each share

    @property
    def level(self) -> int:
        """The column of ``equity_level``."""
        return self.built.compiled.n_cols

    @property
    def has_equity(self) -> bool:
        """Whether equity is defined: some target above zero (or, by localities, a locality)."""
        return len(self.scale) > 0


def criteria(instance: Instance) -> Criteria:
    """The instance's model under ``outcome``, with every criterion put on its columns."""
    built = build(instance, OUTCOME)
    base = built.compiled
    over = instance.settings.equity_over
    shares, scale, labels = (_locality_shares(built.data, base) if over == "localities"
                             else _target_shares(built.data, base))
    comp = _with_level(base, shares, scale, over, labels)
    n = comp.n_cols
    cost_c, cost_offset, cost_fixed = _cost_on(instance, comp)
    level = np.zeros(n)
    level[base.n_cols] = 1.0
    return Criteria(
        built=built,
        comp=comp,
        vectors={OUTCOME: np.concatenate([base.c, [0.0]]), COST: cost_c, EQUITY: level},
        constants={OUTCOME: float(base.offset), COST: cost_offset, EQUITY: 0.0},
        senses={OUTCOME: -1, COST: 1, EQUITY: -1},
        fixed={OUTCOME: float(base.constant), COST: cost_fixed, EQUITY: 0.0},
        shares=sp.csr_array(sp.hstack([shares, sp.csr_array((shares.shape[0], 1))])),
        scale=scale,
        over=over,
        labels=labels,
    )


def _target_shares(d: ModelData, base: Compiled
                   ) -> tuple[sp.csr_array, np.ndarray, tuple[object, ...]]:
    """One share per target above zero: outcome[k,y] (baseline included) over the target."""
    outcome = base.cols("outcome")
    keys = [(k, y) for (k, y) in d.TARGETS if d.target[k, y] > 0]
    missing = [key for key in keys if key not in outcome]
    if missing:  # outcome[k,y] carries every target row, so it is always a column
        raise RuntimeError(f"no outcome column for the targets {missing[:3]}")
    cols = [outcome[key] for key in keys]
    shares = sp.csr_array((np.ones(len(keys)), (np.arange(len(keys)), cols)),
                          shape=(len(keys), base.n_cols))
    return shares, np.array([d.target[key] for key in keys], dtype=float), tuple(keys)


def heads_of_need(inst: Instance) -> dict[str, float]:
    """A locality's heads of need: its population times its need index (1 when not given)."""
    return {loc.id: (loc.population or 0.0) * (1.0 if loc.need_index is None else
                                               loc.need_index)
            for loc in inst.localities}


def _locality_shares(d: ModelData, base: Compiled
                     ) -> tuple[sp.csr_array, np.ndarray, tuple[object, ...]]:
    """One share per locality with heads of need: the discounted weighted outcome its own
    activity produces, sum_y discount_y sum_k weight_k (effect × activity, or sum_j effect_j ×
    segment_j of a curve), over its heads of need. Baselines belong to no locality and are left
    out; the sum over localities plus the weighted baselines is the outcome objective's
    weighted outcome."""
    heads = heads_of_need(d.instance)
    locs = [loc for loc in heads if heads[loc] > 0]
    row_of = {loc: r for r, loc in enumerate(locs)}
    activity, segment = base.cols("activity"), base.cols("segment")
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for (i, k), segs in d.segments.items():
        w = d.weight[k]
        for loc in d.localities_of(i):
            if loc not in row_of:
                continue
            for y in d.YEARS:
                terms = ([(activity.get((i, loc, y)), segs[0].effect)] if len(segs) == 1 else
                         [(segment.get((i, k, loc, y, s.index)), s.effect) for s in segs])
                for j, effect in terms:
                    if j is not None and w * effect != 0:
                        rows.append(row_of[loc])
                        cols.append(j)
                        vals.append(d.discount[y] * w * effect)
    shares = sp.csr_array((vals, (rows, cols)), shape=(len(locs), base.n_cols))
    shares.sum_duplicates()
    return shares, np.array([heads[loc] for loc in locs], dtype=float), tuple(locs)


def _with_level(base: Compiled, shares: sp.csr_array, scale: np.ndarray, over: str,
                labels: tuple[object, ...]) -> Compiled:
    """``base`` with the free column equity_level and rows shares - scale × level >= 0, named
    attainment_floor[k,y] (or locality_floor[l])."""
    comp = append_cols(base, sp.csc_array((base.n_rows, 1)), np.zeros(1), np.array([-np.inf]),
                       np.array([np.inf]), LEVEL, [None])
    rows = sp.csr_array(sp.hstack([shares, sp.csr_array(-scale.reshape(-1, 1))]))
    name = LOCALITY_FLOOR if over == "localities" else TARGET_FLOOR
    return append_rows(comp, rows, np.zeros(len(scale)), np.full(len(scale), np.inf), name,
                       list(labels))


def _cost_on(instance: Instance, comp: Compiled) -> tuple[np.ndarray, float, float]:
    """The ``cost`` objective's coefficients on ``comp``'s columns (by column name), its offset
    and its fixed part. Columns the cost model lacks (shortfall, equity_level) cost nothing;
    every column the cost model charges must exist here."""
    cost = build(instance, COST).compiled
    home = {comp.col_name(j): j for j in range(comp.n_cols)}
    c = np.zeros(comp.n_cols)
    lost = []
    for j in np.flatnonzero(cost.c):
        name = cost.col_name(int(j))
        if name in home:
            c[home[name]] = cost.c[j]
        else:
            lost.append(name)
    if lost:  # the two builds differ only in targets and objective, so this is a bug
        raise RuntimeError(f"cost columns with no place in the outcome model: {lost[:5]}")
    return c, float(cost.offset), float(cost.constant)


# ---------------------------------------------------------------------------------------------
# values of a plan
# ---------------------------------------------------------------------------------------------


def _columns(c: Criteria, x: np.ndarray) -> np.ndarray:
    """``x`` over comp's columns: a plan of the outcome model alone gets equity_level 0."""
    x = np.asarray(x, dtype=float)
    if len(x) == c.comp.n_cols:
        return x
    if len(x) == c.built.compiled.n_cols:
        return np.concatenate([x, [0.0]])
    raise ValueError(f"a plan of {len(x)} columns; the model has {c.comp.n_cols}")


def _need_equity(c: Criteria) -> None:
    if not c.has_equity:
        what = ("no locality has a population (heads of need)" if c.over == "localities" else
                "no target above zero")
        raise UsageError(f"equity is undefined for this instance: {what}")


def measure(c: Criteria, name: str, x: np.ndarray) -> float:
    """Criterion ``name``'s value of the plan ``x`` (comp's columns, or the outcome model's).

    ``outcome``/``cost``: c @ x + constant. ``equity``: the lowest share, recomputed from the
    outcome (or activity) columns, not read off ``equity_level``.
    """
    x = _columns(c, x)
    if name == EQUITY:
        _need_equity(c)
        return float(np.min((c.shares @ x) / c.scale))
    if name not in c.vectors:
        raise UsageError(f"unknown criterion {name!r}: expected one of {', '.join(NAMES)}")
    return float(c.vectors[name] @ x + c.constants[name])


def locality_outcomes(inst: Instance, activity: pd.DataFrame) -> dict[str, float]:
    """Each locality's discounted weighted outcome per head of need, recomputed from a plan's
    activity table with the response curves: what ``equity_over: localities`` lifts the least
    of (localities without heads of need are left out)."""
    d = model_data(inst, OUTCOME)
    heads = {loc: h for loc, h in heads_of_need(inst).items() if h > 0}
    moves: dict[str, list[str]] = defaultdict(list)
    for i, k in d.segments:
        moves[i].append(k)
    total: dict[str, float] = defaultdict(float)
    for r in activity.itertuples(index=False):
        i, loc, y = str(r.intervention), str(r.locality), int(r.year)
        if loc not in heads:
            continue
        for k in moves[i]:
            total[loc] += d.discount[y] * d.weight[k] * response_value(
                d, i, k, float(r.activity), d.need[i, loc, y])
    return {loc: total[loc] / h for loc, h in heads.items()}


# ---------------------------------------------------------------------------------------------
# optimising one criterion, the others held
# ---------------------------------------------------------------------------------------------


def bounded(c: Criteria, name: str, floors: dict[str, float] | None = None) -> Compiled:
    """comp with criterion ``name`` as the objective, minimised as ``sense × criterion`` (so
    every criterion shares one loaded HiGHS instance), and one row ``criterion_bound[n]`` per
    criterion: ``floors[n]`` is a floor of a criterion maximised (outcome, equity) and a
    ceiling of one minimised (cost); a criterion not in ``floors`` has a free row. The rows are
    always there so models differing only in floors share their structure
    (:func:`hwbopt.compile.structure_key`) and re-solve warm in one :class:`highs.Session`."""
    floors = floors or {}
    for n in (name, *floors):
        if n not in NAMES:
            raise UsageError(f"unknown criterion {n!r}: expected one of {', '.join(NAMES)}")
    if EQUITY in (name, *floors):
        _need_equity(c)
    lower = np.full(len(NAMES), -np.inf)
    upper = np.full(len(NAMES), np.inf)
    for r, n in enumerate(NAMES):
        if n in floors:
            # a floor on equity is a floor on equity_level: every share is at least it
            rhs = floors[n] - c.constants[n]
            if c.senses[n] == 1:
                upper[r] = rhs
            else:
                lower[r] = rhs
    rows = sp.csr_array(np.vstack([c.vectors[n] for n in NAMES]))
    comp = append_rows(c.comp, rows, lower, upper, BOUND, list(NAMES))
    s = c.senses[name]
    return replace(comp, sense=1, c=s * c.vectors[name], offset=s * c.constants[name],
                   constant=s * c.fixed[name], _cols=comp._cols, _rows={})


def solve_for(
    c: Criteria,
    name: str,
    *,
    floors: dict[str, float] | None = None,
    session: highs.Session | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
) -> highs.RawSolution:
    """Optimise criterion ``name`` with the criteria in ``floors`` held at least as good as
    given (see :func:`bounded`). The answer's ``objective`` and ``bound`` are the criterion's
    own values (for equity, ``equity_level``; measure the plan for the recomputed minimum);
    ``x`` is over comp's columns. Duals are those of the minimisation of ``sense × criterion``.
    Pass one ``session`` to many calls to re-solve warm."""
    comp = bounded(c, name, floors)
    raw = (session or highs.Session()).solve(comp, time_limit=time_limit, mip_gap=mip_gap)
    s = c.senses[name]
    return replace(raw, objective=None if raw.objective is None else s * raw.objective,
                   bound=None if raw.bound is None else s * raw.bound)


# ---------------------------------------------------------------------------------------------
# the equity objective
# ---------------------------------------------------------------------------------------------


def held_level(t: float) -> float:
    """What the second stage holds equity_level at, given the first stage's optimum ``t``."""
    return t - TOLERANCE * max(abs(t), 1.0)


def solve_equity(
    instance: Instance,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    *,
    check: bool = True,
    threads: int | None = None,
    warnings: list[str] | None = None,
) -> Result:
    """The equity objective, lexicographic: maximise equity (the lowest share of a target met,
    or the worst locality's outcome per head), then the outcome objective with equity held
    within :data:`TOLERANCE` of that optimum. Two solves of one compiled model in one session.

    The plan is reported as an outcome plan (its tables, checked by the independent checker
    against the instance with the outcome objective's value) with ``objective_kind`` equity
    and ``objective`` its outcome objective (weighted outcome less shortfall penalties).
    Without a target above zero (or, by localities, a locality with heads of need) equity is
    undefined and the outcome optimum is reported with a warning.
    """
    check_limits(time_limit, mip_gap)
    start = time.perf_counter()
    c = criteria(instance)
    build_seconds = time.perf_counter() - start
    d, base = c.built.data, c.built.compiled
    gap = d.mip_gap if mip_gap is None else mip_gap
    session = highs.Session(threads)
    warnings = list(warnings or [])
    first: highs.RawSolution | None = None
    floors: dict[str, float] = {}
    if c.has_equity:
        first = solve_for(c, EQUITY, session=session, time_limit=time_limit, mip_gap=gap)
        if first.objective is None:  # no plan at all: say so as the outcome model would
            return _as_equity(result_from(d, base, _restricted(first, base), time_limit=time_limit,
                                          mip_gap=gap, build_seconds=build_seconds, check=check,
                                          warnings=warnings))
        floors[EQUITY] = held_level(first.objective)
    else:
        what = "no locality has a population" if c.over == "localities" else \
            "no target is above zero"
        warnings.append(f"equity is undefined ({what}): the plan maximises the weighted "
                        "outcome alone")
    left = None if time_limit is None else max(time_limit - (first.seconds if first else 0.0),
                                               1e-3)
    second = solve_for(c, OUTCOME, floors=floors, session=session, time_limit=left,
                       mip_gap=gap)
    seconds = second.seconds + (first.seconds if first else 0.0)
    result = result_from(d, base, replace(_restricted(second, base), seconds=seconds),
                         build_seconds=build_seconds, time_limit=time_limit, mip_gap=gap,
                         check=check, warnings=warnings)
    if first is not None and first.status in EARLY and result.objective is not None \
            and not result.message:
        # the second stage is proven only given the first's level, which was not proven best
        result.status = first.status
        result.message = (f"{first.message}: the lowest attainment found "
                          f"({first.objective:.6g}) is not proven the best possible")
    return _as_equity(result)


def _restricted(raw: highs.RawSolution, base: Compiled) -> highs.RawSolution:
    """A solution of comp (or a bounded copy) read on the outcome model's own columns/rows."""
    n, m = base.n_cols, base.n_rows
    return replace(
        raw,
        x=None if raw.x is None else raw.x[:n],
        row_activity=None if raw.row_activity is None else raw.row_activity[:m],
        row_dual=None if raw.row_dual is None else raw.row_dual[:m],
        col_dual=None if raw.col_dual is None else raw.col_dual[:n],
    )


def _as_equity(result: Result) -> Result:
    result.objective_kind = EQUITY
    options = result.provenance.get("options")
    if isinstance(options, dict):
        result.provenance["options"] = {**options, "objective": EQUITY}
    return result
