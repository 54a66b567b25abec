"""Room for manoeuvre: what can move among the plans that lose at most a slack of the optimum.

``hwbopt alternatives`` (``models/alternatives.md``): modelling to generate alternatives (MGA),
as PyPSA's ``optimize_mga`` and Calliope's SPORES do it for energy systems, on hwbopt's
compiled model.

**The slack.** z* is the optimum's objective as ``hwbopt solve`` reports it (its constant
included: weighted baselines under ``outcome``). A plan is *within the slack* s when its own
objective z, recomputed from its tables, is no worse than

    z* - s |z*|  when maximising (outcome),        z* + s |z*|  when minimising (cost),

so s is a share of the objective as reported whatever its sign (PyPSA's near-optimality
constraint ``c <= (1 + s) c*`` is the same rule for a positive cost). The model gets one row,
``near_optimal``, saying so on its columns: ``c @ x`` at least (or at most) that floor less the
objective's offset, which ``c @ x`` leaves out (``hwbopt.highs.to_highs_lp``).

**Quantities.** Each quantity is an affine function ``q @ x + q0`` of the columns that equals
what the plan's tables show (:func:`quantities`): a partner's spend in a year (the ``budgets``
table's ``spent``: the partner's budget row without its savings credit, plus its ring-fenced
spending, plus the constants the row carries on its right-hand side), an intervention's activity
over the horizon, a priority's outcome in a year, the years a site is open, the money paid into
a pool in a year.

**Ranges.** For each quantity, its lowest and highest value among the plans within the slack:
two re-solves of the one near-optimal model, only the cost vector and the sense changed. Each
process loads the model into HiGHS once; a linear re-solve starts from the last basis, a
mixed-integer one from the last plan (every plan of the model is feasible for every quantity,
so that start is always usable); before branching, the linear relaxation (loaded beside it)
may already prove that nothing goes further than the optimum's own value. The re-solves are
spread over workers (Dask, as ``hwbopt coalitions``). Each bound's plan is certified: it passes
the independent checker (:func:`hwbopt.check.check_solution`) and its objective, recomputed
from its tables, is within the slack; the range is optimal only when every bound is a proven
optimum and certified. A bound no further than the optimum's own value is the optimum's.

Three details make the ranges the board's figures, not the model's:

- *Pools hold no idle money.* A pool may hold money it does not spend (``pool_balance`` is an
  inequality) and the result tables hand such money back (``settle_contributions``); a partner
  paying idle money into a pool would otherwise "spend" more. The model gets rows
  ``pool_spends_all[g,y]``: contributions at most the pool's spending. Where the optimum's pool
  spends less than its contributors' minimum shares, the contributions are held at those
  minimums instead. Plans in which a pool crosses between the two cases are not explored.
- *Curves fill in order.* A concave response is modelled by pieces the solver fills best first
  because the objective rewards it; asked for a priority's *lowest* outcome it would fill the
  worst piece first and report less than the curve gives. With ``priorities`` among the
  quantities, every curve with several pieces gets the binaries that make pieces fill in order
  (as non-concave curves have; ``models/outcomes.md``), so the model is mixed-integer.
- *Integer decisions.* By default they are free: every plan within the slack is explored.
  ``hold_integers`` fixes them at the optimum's (sites, go/no-go, curve pieces): linear
  re-solves, faster, over fewer plans. Measured on the county (36 free binaries, MIP options
  as ``hwbopt coalitions``' :data:`~hwbopt.analyses.coalitions.MIP_OPTIONS`; table in
  ``models/alternatives.md``): 29 s free against 17 s held for every partner's spend, but
  held, 20 of the 28 ranges are narrower (a site that may close lowers its owner's spend), so
  free is the default.

**Alternatives** (``count``): plans chosen to differ as much as possible from the optimum and
from each other, in the spirit of SPORES (Lombardi et al., Joule 2020; Lombardi et al., Applied
Energy 2023, the "evolving average" weights of Calliope's ``spores`` mode). Each quantity with
room is measured as its position u in its range (0 lowest, 1 highest). Alternative k maximises

    sum_j  d_j w_j q_j(x) / (high_j - low_j)

over the plans within the slack, where the direction d_j is +1 when more of the quantity's
range is uncovered above the plans so far than below (else -1), and the weight w_j = max(1 -
spread_j, 0.1) falls as the plans so far cover the range (spread_j = max u - min u over them):
each new plan goes where the earlier ones have not been, and quantities already explored end
to end count for little. Where every range is covered the direction is away from the plans'
centroid. The *distance* between two plans is the mean |u_a - u_b| over the quantities with
room: 0 the same plan, 1 every quantity at opposite ends of its range.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from hwbopt import highs
from hwbopt.check import check_solution
from hwbopt.compile import Compiled, append_rows, with_bounds
from hwbopt.errors import UsageError
from hwbopt.model.data import ModelData
from hwbopt.pipeline import Built, build, result_from
from hwbopt.results import Result
from hwbopt.results.solved import values
from hwbopt.results.tables import plan_tables, settle_contributions
from hwbopt.schema import Instance, year_label
from hwbopt.status import EARLY, Status, check_limits

Floats = npt.NDArray[np.float64]

KINDS = ("partners", "interventions", "priorities", "sites", "pools")
DEFAULT_KINDS = ("partners", "interventions")
DEFAULT_SLACK = 0.05
NEAR = "near_optimal"  # the row: the objective within the slack
POOL_SPENDS = "pool_spends_all"  # rows [g,y]: a pool's contributions at most its spending
# the near-optimal row gives a billionth of |z*| more, so the optimum's own plan, read back
# with rounding, never falls outside it (at --slack 0 too)
ROUNDING = 1e-9
REL = 1e-6  # the independent checker's tolerance, for "within the slack" too
MIN_WEIGHT = 0.1  # an alternative's weight of a quantity already explored end to end
CHANGES = 5  # largest changes listed per alternative
CHUNKS = 4  # runs of linear re-solves per worker


# ---------------------------------------------------------------------------------------------
# quantities: affine functions of the columns that equal what the tables show
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """``coefs @ x[cols] + constant``: one figure of a plan, with its words and unit."""

    key: str  # e.g. 'spend[ccg,2013]', 'activity[reablement]'
    kind: str  # one of KINDS
    text: str  # in the board's words: "Westshire CCG's spend, 2013/14"
    name: str  # short, under a heading that names the kind: "Westshire CCG, 2013/14"
    unit: str
    year: int | None
    cols: npt.NDArray[np.int32]
    coefs: Floats
    constant: float = 0.0

    def value(self, x: Floats) -> float:
        return float(self.coefs @ x[self.cols]) + self.constant

    def dense(self, n: int) -> Floats:
        out = np.zeros(n)
        np.add.at(out, self.cols, self.coefs)
        return out


def _quantity(key: str, kind: str, text: str, name: str, unit: str, year: int | None,
              terms: dict[int, float], constant: float = 0.0) -> Quantity:
    cols = np.array(sorted(terms), dtype=np.int32)
    return Quantity(key, kind, text, name, unit, year, cols,
                    np.array([terms[j] for j in cols], dtype=float), constant)


def quantities(d: ModelData, comp: Compiled, kinds: Sequence[str]) -> list[Quantity]:
    """Every quantity of the given kinds, in the order of ``kinds`` then the instance's."""
    from hwbopt.words import labels

    lab = labels(d.instance)
    money = d.instance.money_label
    makers: dict[str, Callable[[], list[Quantity]]] = {
        "partners": lambda: _partners(d, comp, lab.partner, money),
        "interventions": lambda: _interventions(d, comp, lab.intervention,
                                                lab.intervention_unit),
        "priorities": lambda: _priorities(d, comp, lab.priority, lab.priority_unit),
        "sites": lambda: _sites(d, comp, lab.site),
        "pools": lambda: _pools(d, comp, lab.pool, money),
    }
    return [q for kind in kinds for q in makers[kind]()]


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _partners(d: ModelData, comp: Compiled, names: dict[str, str], money: str
              ) -> list[Quantity]:
    """spent[p,y] = budget row without the savings credit + ring-fenced spending + the
    constants the row moved to its right-hand side (general money less its upper bound)."""
    A = sp.csr_array(comp.A)
    budget, credit = comp.rows("budget"), comp.cols("qipp_credit")
    fenced = comp.cols("spend_fenced")
    out = []
    for p in d.PARTNERS:
        for y in d.YEARS:
            terms: dict[int, float] = {}
            constant = 0.0
            r = budget.get((p, y))
            if r is not None:
                start, end = A.indptr[r], A.indptr[r + 1]
                for j, a in zip(A.indices[start:end], A.data[start:end], strict=True):
                    terms[int(j)] = float(a)
                terms.pop(credit.get((p, y), -1), None)  # credit is money in, not spent
                constant = d.money[p, y]["general"] - float(comp.row_upper[r])
            for (pp, _line, _i, yy), j in fenced.items():
                if pp == p and yy == y:
                    terms[j] = terms.get(j, 0.0) + 1.0
            out.append(_quantity(f"spend[{p},{y}]", "partners",
                                 f"{_possessive(names[p])} spend, {year_label(y)}",
                                 f"{names[p]}, {year_label(y)}", money, y, terms, constant))
    return out


def _interventions(d: ModelData, comp: Compiled, names: dict[str, str],
                   units: dict[str, str]) -> list[Quantity]:
    """An intervention's activity over every locality and year of the horizon."""
    activity = comp.cols("activity")
    span = year_label(d.YEARS[0]) if len(d.YEARS) == 1 else \
        f"{year_label(d.YEARS[0])} to {year_label(d.YEARS[-1])}"
    out = []
    for i in d.INTERVENTIONS:
        terms = {activity[i, loc, y]: 1.0 for loc in d.localities_of(i) for y in d.YEARS
                 if (i, loc, y) in activity}
        if terms:
            out.append(_quantity(f"activity[{i}]", "interventions",
                                 f"activity of {names[i]}, {span}", names[i], units[i], None,
                                 terms))
    return out


def _priorities(d: ModelData, comp: Compiled, names: dict[str, str],
                units: dict[str, str]) -> list[Quantity]:
    """A priority's outcome in a year (its baseline included, as the outcome column holds)."""
    outcome = comp.cols("outcome")
    return [_quantity(f"outcome[{k},{y}]", "priorities",
                      f"{names[k]} outcome, {year_label(y)}", f"{names[k]}, {year_label(y)}",
                      units[k], y, {outcome[k, y]: 1.0})
            for k in d.PRIORITIES for y in d.YEARS if (k, y) in outcome]


def _sites(d: ModelData, comp: Compiled, names: dict[str, str]) -> list[Quantity]:
    """The years a site is open over the horizon."""
    is_open = comp.cols("open")
    out = []
    for s in d.SITES:
        terms = {is_open[s, y]: 1.0 for y in d.YEARS if (s, y) in is_open}
        if terms:
            out.append(_quantity(f"years_open[{s}]", "sites", f"years {names[s]} is open",
                                 names[s], "years", None, terms))
    return out


def _pools(d: ModelData, comp: Compiled, names: dict[str, str], money: str
           ) -> list[Quantity]:
    """The money every contributor pays into a pool in a year."""
    contribution = comp.cols("contribution")
    out = []
    for g in d.POOLS:
        for y in d.YEARS:
            terms = {j: 1.0 for (p, gg, yy), j in contribution.items() if gg == g and yy == y}
            if terms:
                out.append(_quantity(f"contributions[{g},{y}]", "pools",
                                     f"money paid into {names[g]}, {year_label(y)}",
                                     f"{names[g]}, {year_label(y)}", money, y, terms))
    return out


# ---------------------------------------------------------------------------------------------
# the near-optimal model
# ---------------------------------------------------------------------------------------------


def ordered_build(instance: Instance, objective: str) -> Built:
    """The instance's model with every curve of several pieces filled in order (binaries, as
    a non-concave curve has), so a priority's outcome is never under-counted when it is
    minimised. Its optimum is the usual one: filling in order never costs the objective."""
    from hwbopt.model import build_compiled, model_data
    from hwbopt.model.objective import objective_constant
    from hwbopt.pipeline import check_numbers

    start = time.perf_counter()
    d = model_data(instance, objective)
    d = replace(d, NONCONCAVE=tuple(dict.fromkeys((*d.NONCONCAVE, *d.CURVED))))
    comp = build_compiled(d)
    comp = replace(comp, constant=comp.offset + objective_constant(d))
    check_numbers(d, comp)
    return Built(d, comp, time.perf_counter() - start)


def settled(d: ModelData, comp: Compiled, x: Floats) -> Floats:
    """The plan as its tables report it: money a pool holds beyond its spending handed back to
    its contributors (:func:`hwbopt.results.tables.settle_contributions`). Obeys every rule
    ``x`` obeys, with the same objective."""
    out = x.copy()
    back = settle_contributions(d, values(comp, x, "contribution"),
                                values(comp, x, "spend_pooled"))
    for key, j in comp.cols("contribution").items():
        out[j] = back[key]
    return out


def in_order(d: ModelData, comp: Compiled, x: Floats) -> Floats:
    """The plan with every curve's pieces filled in order (as the results read the curve,
    :func:`hwbopt.results.tables.response_value`) and each outcome column recomputed from its
    defining row, so the outcome columns hold what the tables report. A plan that leaves a
    priority's weight at nothing may have filled a curve out of order: the same activity, an
    outcome under-counted."""
    out = x.copy()
    segment, activity = comp.cols("segment"), comp.cols("activity")
    for (i, k) in d.CURVED:
        pieces = d.segments[i, k]
        for loc in d.localities_of(i):
            for y in d.YEARS:
                if (i, loc, y) not in activity:
                    continue
                left = max(float(out[activity[i, loc, y]]), 0.0)
                for n, piece in enumerate(pieces):
                    j = segment.get((i, k, loc, y, piece.index))
                    take = left if n == len(pieces) - 1 else \
                        min(left, piece.width * d.need[i, loc, y])
                    if j is not None:
                        out[j] = take
                    left -= take
    A = sp.csr_array(comp.A)
    outcome = comp.cols("outcome")
    for key, r in comp.rows("outcome_def").items():
        j = outcome.get(key)
        if j is None:
            continue
        cols, coefs = A.indices[A.indptr[r]:A.indptr[r + 1]], A.data[A.indptr[r]:A.indptr[r + 1]]
        own = float(coefs[cols == j].sum())
        rest = float(coefs @ out[cols]) - own * out[j]
        out[j] = (float(comp.row_lower[r]) - rest) / own
    return out


def carry(x: Floats, comp: Compiled, ordered: Compiled, d: ModelData) -> Floats:
    """A plan of ``comp`` on the columns of :func:`ordered_build`'s model: every column of the
    same name keeps its value; a piece is marked full where its segment is (HiGHS ignores the
    start if the plan filled a curve out of order)."""
    out = np.zeros(ordered.n_cols)
    where = {(c, i): j for j, (c, i) in enumerate(zip(comp.col_component, comp.col_index,
                                                       strict=True))}
    for j2, key in enumerate(zip(ordered.col_component, ordered.col_index, strict=True)):
        j = where.get(key)
        if j is not None:
            out[j2] = x[j]
    segment = ordered.cols("segment")
    for (i, k, loc, y, j), col in ordered.cols("piece_full").items():
        width = d.segments[i, k][j].width * d.need[i, loc, y]
        out[col] = 1.0 if out[segment[i, k, loc, y, j]] >= width - REL * max(1.0, width) \
            else 0.0
    return out


def floor_of(z: float, slack: float, sense: int) -> float:
    """The worst objective a plan within the slack may have (module docstring)."""
    give = slack * abs(z) + ROUNDING * max(1.0, abs(z))
    return z + give if sense == 1 else z - give


def near_optimal_model(comp: Compiled, d: ModelData, x: Floats, floor: float,
                       hold_integers: bool) -> Compiled:
    """``comp`` with the objective held within the slack (``floor`` as reported), pools
    spending what they hold, and, with ``hold_integers``, the integer decisions of ``x`` held
    (as a linear model)."""
    n = comp.n_cols
    objective_row = sp.csr_array(comp.c.reshape(1, n))
    bound = floor - comp.offset  # c @ x leaves the offset out
    lower, upper = ((np.array([-np.inf]), np.array([bound])) if comp.sense == 1
                    else (np.array([bound]), np.array([np.inf])))
    out = append_rows(comp, objective_row, lower, upper, NEAR, [None])
    out = _pools_spend_all(out, d, x)
    if hold_integers and comp.integer.any():
        lo, hi = out.col_lower.copy(), out.col_upper.copy()
        whole = np.round(x[comp.integer])
        lo[comp.integer], hi[comp.integer] = whole, whole
        out = replace(with_bounds(out, col_lower=lo, col_upper=hi),
                      integer=np.zeros(n, dtype=bool))
    return out


def _pools_spend_all(comp: Compiled, d: ModelData, x: Floats) -> Compiled:
    """Rows ``sum_p contribution[p,g,y] - sum_i spend_pooled[g,i,y] <= 0`` where the settled
    optimum ``x`` spends at least the contributors' minimum shares; elsewhere contributions
    held at those minimums (module docstring)."""
    contribution, pooled = comp.cols("contribution"), comp.cols("spend_pooled")
    upper = comp.col_upper.copy()
    rows, index = [], []
    for g in d.POOLS:
        for y in d.YEARS:
            paid = [j for (p, gg, yy), j in contribution.items() if gg == g and yy == y]
            spent = [j for (gg, i, yy), j in pooled.items() if gg == g and yy == y]
            minimum = float(comp.col_lower[paid].sum()) if paid else 0.0
            if float(x[spent].sum()) >= minimum - REL * max(1.0, minimum):
                row = np.zeros(comp.n_cols)
                row[paid], row[spent] = 1.0, -1.0
                rows.append(row)
                index.append((g, y))
            else:
                upper[paid] = comp.col_lower[paid]
    out = with_bounds(comp, col_upper=upper)
    if not rows:
        return out
    return append_rows(out, sp.csr_array(np.vstack(rows)), np.full(len(rows), -np.inf),
                       np.zeros(len(rows)), POOL_SPENDS, index)


def plan_objective(d: ModelData, comp: Compiled, x: Floats,
                   tables: dict[str, pd.DataFrame]) -> float:
    """The objective of a plan from its tables, as the independent checker recomputes it.

    Under ``outcome``, from the outcomes table (the curves filled in order, shortfalls as
    they are): the model's own ``c @ x`` may be less in a plan that is not optimal for the
    objective (a piece filled out of order, a shortfall variable above the shortfall).
    Under ``cost`` every term is money the tables report, so ``c @ x`` plus the offset.
    """
    if d.objective == "cost":
        return float(comp.c @ x + comp.offset)
    total = 0.0
    for r in tables["outcomes"].itertuples(index=False):
        k, y = str(r.priority), int(r.year)
        term = d.weight[k] * float(r.achieved)
        if d.soft(k):
            term -= d.penalty[k] * float(r.shortfall)
        total += d.discount[y] * term
    return total


def within(objective: float, floor: float, sense: int) -> bool:
    """Whether a plan's objective is within the slack (with the checker's tolerance)."""
    tol = REL * max(1.0, abs(floor), abs(objective))
    return objective <= floor + tol if sense == 1 else objective >= floor - tol


# ---------------------------------------------------------------------------------------------
# re-solves, in whichever process holds the model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a worker needs to find bounds (picklable): the near-optimal model itself, so
    every process solves the same one and nothing is rebuilt."""

    data: ModelData
    comp: Compiled  # the near-optimal model
    floor: float  # the objective a plan within the slack reaches (as reported)
    sense: int  # the objective's: +1 minimise, -1 maximise
    start: Floats  # the optimum's plan, settled: the first start of a MIP re-solve
    quantities: tuple[Quantity, ...]
    plan: tuple[float, ...]  # each quantity's value in the optimum's plan
    mip_gap: float
    time_limit: float | None
    key: str  # names this run's model in each process's cache
    threads: int | None = None


@dataclass(frozen=True)
class Found:
    """One re-solve: the plan's value of what was optimised, its proven limit, its objective
    (recomputed) and whether it is certified."""

    status: str
    value: float | None  # of the optimised function at the plan found
    bound: float | None  # the proven limit (a MIP's dual bound; the value for an LP)
    objective: float | None  # the plan's own, recomputed from its tables
    message: str = ""
    seconds: float = 0.0
    x: Floats | None = None


@dataclass(frozen=True)
class Bound:
    """The lowest (``side`` low) or highest value of quantity ``index``."""

    index: int
    side: str
    found: Found


class _Model:
    """The near-optimal model loaded in HiGHS once, re-solved for each cost vector."""

    def __init__(self, spec: Spec) -> None:
        from hwbopt.analyses.coalitions import MIP_OPTIONS

        self.spec = spec
        self.is_mip = bool(spec.comp.integer.any())
        self.h = highs.load(spec.comp, spec.threads)
        self.h.changeObjectiveOffset(0.0)  # the optimised function is q @ x, nothing added
        self.h.constant = 0.0
        self.options: dict[str, bool | str] = (
            dict(MIP_OPTIONS) if self.is_mip
            # a linear re-solve after a cost change starts from the last basis; presolve
            # would throw that basis away
            else {"presolve": "off"})
        self.last: Floats = spec.start
        self.cols = np.arange(spec.comp.n_cols, dtype=np.int32)
        self._certified: dict[bytes, tuple[float, list[str]]] = {}
        # a mixed-integer model's linear relaxation, loaded beside it: its optimum is a proven
        # limit, so a bound the optimum attains is often proven without branching (on the
        # county, every partner's highest spend but one)
        self.relaxed: highs.Loaded | None = None
        if self.is_mip:
            self.relaxed = highs.load(replace(spec.comp, integer=np.zeros(
                spec.comp.n_cols, dtype=bool)), spec.threads)
            self.relaxed.changeObjectiveOffset(0.0)
            self.relaxed.constant = 0.0
            self.relaxed.setOptionValue("presolve", "off")  # keep the last basis

    def _relaxed_limit(self, cost: Floats, sense: int) -> highs.RawSolution | None:
        """The linear relaxation's optimum of ``cost @ x`` (a proven limit), or None."""
        h = self.relaxed
        if h is None:
            return None
        h.changeColsCost(len(cost), self.cols, cost)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize if sense == 1
                               else highspy.ObjSense.kMaximize)
        h.setOptionValue("presolve", "off")
        if self.spec.time_limit is None:
            highs.limit(h, float("inf"))
        raw = highs.run(h, time_limit=self.spec.time_limit)
        return raw if raw.status == Status.OPTIMAL and raw.objective is not None else None

    def optimise(self, cost: Floats, sense: int,
                 beyond: Callable[[float], bool] | None = None) -> Found:
        """Minimise (``sense`` +1) or maximise ``cost @ x`` over the plans within the slack
        and certify the plan found: unless ``beyond`` says its value goes no further than the
        optimum's, which then attains it (and is certified already)."""
        if beyond is not None:
            limit = self._relaxed_limit(cost, sense)
            if limit is not None and limit.objective is not None and \
                    not beyond(limit.objective):
                # nothing, integer or not, goes further than the optimum: it attains the bound
                return Found(Status.OPTIMAL, limit.objective, limit.objective, None, "",
                             limit.seconds)
        h = self.h
        h.changeColsCost(len(cost), self.cols, cost)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize if sense == 1
                               else highspy.ObjSense.kMaximize)
        for option, value in self.options.items():  # highs.settle may reset presolve
            h.setOptionValue(option, value)
        if self.is_mip:
            highs.start_from(h, self.last)  # feasible: every plan of the model is
        if self.spec.time_limit is None:
            highs.limit(h, float("inf"))
        raw = highs.run(h, time_limit=self.spec.time_limit, mip_gap=self.spec.mip_gap,
                        is_mip=self.is_mip)
        if raw.x is None or raw.objective is None:
            return Found(raw.status, None, None, None, raw.message, raw.seconds)
        self.last = raw.x
        if beyond is not None and not beyond(raw.objective):
            return Found(raw.status, raw.objective, raw.bound, None, raw.message, raw.seconds)
        objective, violations = self.certify(raw.x)
        status, message = raw.status, raw.message
        if violations:
            status, message = Status.ERROR, ("the plan failed the independent check: "
                                             + "; ".join(violations[:3]))
        elif not within(objective, self.spec.floor, self.spec.sense):
            status, message = Status.ERROR, (f"the plan's objective {objective:,.6g} is "
                                             f"outside the slack ({self.spec.floor:,.6g})")
        return Found(status, raw.objective, raw.bound, objective, message, raw.seconds, raw.x)

    def certify(self, x: Floats) -> tuple[float, list[str]]:
        """The plan's objective recomputed from its tables, and every rule it breaks (the
        independent checker). A plan attaining several bounds is certified once."""
        key = x.tobytes()
        if key not in self._certified:
            d, comp = self.spec.data, self.spec.comp
            tables = plan_tables(d, comp, x)
            objective = plan_objective(d, comp, x, tables)
            self._certified[key] = (objective, check_solution(d.instance, tables, d.objective,
                                                              objective))
        return self._certified[key]


_MODELS: dict[str, _Model] = {}  # per process: the model of each run it serves


def _model(spec: Spec) -> _Model:
    if spec.key not in _MODELS:
        _MODELS.clear()  # one run at a time per process
        _MODELS[spec.key] = _Model(spec)
    return _MODELS[spec.key]


def forget(key: str) -> None:
    _MODELS.pop(key, None)


def solve_bounds(spec: Spec, tasks: Sequence[tuple[int, str]]) -> list[Bound]:
    """Worker side: each (quantity, side) in order, on this process's loaded model. A bound
    no further than the optimum's own value is the optimum's (``x`` None): its plan is not
    certified again (on the county, most partners' highest spend is the optimum's)."""
    m = _model(spec)
    out = []
    for index, side in tasks:
        q, plan = spec.quantities[index], spec.plan[index]
        low = side == "low"

        def beyond(v: float, q: Quantity = q, plan: float = plan, low: bool = low) -> bool:
            tol = REL * max(1.0, abs(plan))
            value = v + q.constant
            return value < plan - tol if low else value > plan + tol

        found = m.optimise(q.dense(spec.comp.n_cols), 1 if low else -1, beyond)
        if found.value is not None and found.bound is not None:
            found = replace(found, value=found.value + q.constant,
                            bound=found.bound + q.constant)
        out.append(Bound(index, side, found))
    return out


def find_bounds(spec: Spec, client: Any | None, workers: int,
                on_progress: Callable[[int, int], None] | None = None) -> list[Bound]:
    """The lowest and highest value of every quantity, spread over the workers."""
    tasks = [(i, side) for i in range(len(spec.quantities)) for side in ("low", "high")]
    if client is None:
        out = []
        for k in range(0, len(tasks), 2):
            out += solve_bounds(spec, tasks[k:k + 2])
            if on_progress is not None:
                on_progress(len(out), len(tasks))
        return out
    spec = replace(spec, threads=1)  # one HiGHS thread a worker, beside the others
    shared = client.scatter(spec, broadcast=True, hash=False)
    # a mixed-integer bound (about a second on the county) is a task of its own, with its
    # quantity's other side, so Dask balances the workers; linear re-solves (milliseconds) go
    # in runs of neighbouring quantities, each warm from the basis of the one before
    size = 2 if spec.comp.integer.any() else max(2, 2 * math.ceil(
        len(tasks) / (2 * CHUNKS * workers)))
    futures = [client.submit(solve_bounds, shared, tasks[k:k + size], pure=False)
               for k in range(0, len(tasks), size)]
    out = []
    try:
        for f in futures:
            out += f.result()
            if on_progress is not None:
                on_progress(len(out), len(tasks))
    finally:
        client.run(forget, spec.key)
    return sorted(out, key=lambda b: (b.index, b.side != "low"))


# ---------------------------------------------------------------------------------------------
# ranges and alternatives
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    quantity: Quantity
    plan: float  # the optimum's own value
    low: float | None
    high: float | None
    low_bound: float | None  # proven: no plan within the slack goes below (or above) it
    high_bound: float | None
    status: str
    message: str = ""
    low_x: Floats | None = None  # the plans attaining low and high (None: the optimum's)
    high_x: Floats | None = None

    @property
    def room(self) -> float:
        if self.low is None or self.high is None:
            return 0.0
        return self.high - self.low

    def row(self) -> dict[str, Any]:
        q = self.quantity
        return {"quantity": q.key, "kind": q.kind, "text": q.text, "name": q.name,
                "plan": self.plan,
                "low": self.low, "high": self.high, "unit": q.unit, "year": q.year,
                "low_bound": self.low_bound, "high_bound": self.high_bound,
                "status": self.status}


def _noise(v: float, scale: float) -> float:
    """Solver noise (-4.7e-16) shown as the zero it is, relative to the quantity's scale."""
    return 0.0 if abs(v) <= 1e-9 * max(1.0, scale) else v


def make_range(q: Quantity, plan: float, low: Bound | None, high: Bound | None) -> Range:
    """A quantity's range from its two bounds. The optimum is itself a plan within the slack,
    so a bound the solver left beyond the optimum's value (within its tolerances or gap) is
    the optimum's value, attained by the optimum."""
    ends: list[tuple[float | None, float | None, Floats | None]] = []
    statuses, messages = [], []
    for b, sign in ((low, 1.0), (high, -1.0)):
        f = b.found if b is not None else None
        if f is None or f.value is None or f.status == Status.ERROR:
            ends.append((None, None, None))
        elif f.x is None or sign * (f.value - plan) > 0:  # the optimum attains it
            ends.append((plan, f.bound, None))
        else:
            ends.append((f.value, f.bound, f.x))
        statuses.append(Status.ERROR if f is None else Status(f.status))
        if f is not None and f.message and f.status != Status.OPTIMAL:
            messages.append(f.message)
    scale = max([abs(plan)] + [abs(v) for v, _b, _x in ends if v is not None])
    (lo, lo_b, lo_x), (hi, hi_b, hi_x) = ends

    def clean(v: float | None) -> float | None:
        return None if v is None else _noise(v, scale)

    status = worst(statuses)
    return Range(q, _noise(plan, scale), clean(lo), clean(hi), clean(lo_b), clean(hi_b),
                 status, "; ".join(dict.fromkeys(messages)), lo_x, hi_x)


STATUS_ORDER = (Status.ERROR, Status.INFEASIBLE, Status.UNBOUNDED, Status.TIME_LIMIT,
                Status.STOPPED, Status.OPTIMAL)


def worst(statuses: Iterable[str]) -> str:
    """The least good of some statuses (optimal only when all are)."""
    found = [Status(s) for s in statuses]
    if not found:
        return Status.OPTIMAL
    return min(found, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0)


@dataclass
class Alternative:
    """A plan within the slack chosen to differ (module docstring)."""

    number: int
    status: str
    objective: float | None
    distance: float | None  # from the optimum
    nearest: float | None  # from the nearest earlier plan (the optimum included)
    values: list[float]  # of every quantity, in the order of the ranges
    changes: list[dict[str, Any]]
    result: Result | None
    message: str = ""

    def row(self, ranges: Sequence[Range]) -> dict[str, Any]:
        return {"number": self.number, "status": self.status, "objective": self.objective,
                "distance": self.distance, "nearest": self.nearest, "changes": self.changes,
                "values": {r.quantity.key: v for r, v in zip(ranges, self.values,
                                                             strict=False)},
                "message": self.message}


def positions(ranges: Sequence[Range], vals: Sequence[float]) -> Floats:
    """Each value's position in its quantity's range (0 lowest, 1 highest); nan without room."""
    out = np.full(len(ranges), np.nan)
    for j, (r, v) in enumerate(zip(ranges, vals, strict=True)):
        if r.low is not None and r.room > REL * max(1.0, abs(r.low), abs(r.high or 0.0)):
            out[j] = min(max((v - r.low) / r.room, 0.0), 1.0)
    return out


def distance(a: Floats, b: Floats) -> float:
    """Mean |u_a - u_b| over the quantities with room (module docstring)."""
    both = ~np.isnan(a) & ~np.isnan(b)
    return float(np.abs(a[both] - b[both]).mean()) if both.any() else 0.0


def direction(ranges: Sequence[Range], seen: Sequence[Floats], n: int) -> Floats:
    """The cost vector (over ``n`` columns, maximised) of the next alternative (module
    docstring): a weight per unit of each quantity toward the part of its range the plans so
    far have not covered."""
    u = np.vstack(seen)
    cost = np.zeros(n)
    for j, r in enumerate(ranges):
        if np.isnan(u[0, j]):
            continue  # no room: nothing to move
        lo, hi, centroid = float(u[:, j].min()), float(u[:, j].max()), float(u[:, j].mean())
        above, below = 1.0 - hi, lo
        # covered alike both ways (or end to end): away from the plans' centroid
        up = above > below if above != below else centroid < 0.5
        d = 1.0 if up else -1.0
        w = max(1.0 - (hi - lo), MIN_WEIGHT) / r.room
        np.add.at(cost, r.quantity.cols, d * w * r.quantity.coefs)
    return cost


def changes(ranges: Sequence[Range], plan: Floats, alt: Floats, vals: Sequence[float],
            limit: int = CHANGES) -> list[dict[str, Any]]:
    """The quantities that moved most (as shares of their ranges), largest first."""
    moved = np.nan_to_num(np.abs(alt - plan), nan=0.0)
    out = []
    for j in np.argsort(-moved, kind="stable")[:limit]:
        if moved[j] <= REL:
            break
        r = ranges[j]
        q = r.quantity
        out.append({"quantity": q.key, "kind": q.kind, "text": q.text, "name": q.name,
                    "unit": q.unit,
                    "plan": r.plan, "value": _noise(vals[j], max(abs(r.plan), abs(vals[j]))),
                    "share_of_range": float(moved[j])})
    return out


# ---------------------------------------------------------------------------------------------
# the answer
# ---------------------------------------------------------------------------------------------


@dataclass
class Alternatives:
    """The answer of ``hwbopt alternatives``: :meth:`summary` is its JSON, :attr:`tables` its
    CSV files, :attr:`alternatives` each alternative plan with its result tables."""

    instance: Instance
    objective_kind: str
    slack: float
    kinds: tuple[str, ...]
    hold_integers: bool
    status: str
    message: str
    objective: float | None
    floor: float | None
    optimum: Result | None
    ranges: list[Range] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    count: int = 0
    solves: int = 0
    seconds: float = 0.0
    integer_decisions: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import alternatives_repr

        return alternatives_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import alternatives_html

        return alternatives_html(self)

    @property
    def explores(self) -> str:
        """Which plans within the slack the ranges range over, in words."""
        if self.integer_decisions == 0:
            return "every plan within the slack"
        if self.hold_integers:
            return (f"the plans within the slack that keep the optimum's "
                    f"{self.integer_decisions:,} integer decisions (sites, go/no-go, curve "
                    "pieces); without --hold-integers every plan is explored")
        return "every plan within the slack, integer decisions free"

    def summary(self) -> dict[str, Any]:
        inst = self.instance
        return {
            "status": self.status,
            "message": self.message,
            "instance": inst.name,
            "objective": self.objective,
            "objective_kind": self.objective_kind,
            "slack": self.slack,
            "objective_floor": self.floor,
            "of": list(self.kinds),
            "integers": "held" if self.hold_integers and self.integer_decisions else "free",
            "integer_decisions": self.integer_decisions,
            "explores": self.explores,
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "years": list(inst.years),
            "ranges": [r.row() for r in self.ranges],
            "alternatives": [a.row(self.ranges) for a in self.alternatives],
            "count": self.count,
            "solves": self.solves,
            "seconds": self.seconds,
            "kind": "alternatives",
            "provenance": self.provenance,
            "labels": self.labels,
        }

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        rcols = ["quantity", "kind", "text", "name", "unit", "year", "plan", "low", "high",
                 "low_bound", "high_bound", "status"]
        ranges = pd.DataFrame([r.row() for r in self.ranges], columns=rcols)
        ranges["year"] = ranges["year"].astype("Int64")
        acols = ["alternative", "objective", "distance", "quantity", "kind", "text", "unit",
                 "plan", "value"]
        rows = [{"alternative": a.number, "objective": a.objective, "distance": a.distance,
                 "quantity": r.quantity.key, "kind": r.quantity.kind, "text": r.quantity.text,
                 "unit": r.quantity.unit, "plan": r.plan, "value": v}
                for a in self.alternatives for r, v in zip(self.ranges, a.values, strict=True)]
        return {"ranges": ranges, "alternatives": pd.DataFrame(rows, columns=acols)}


def write_alternatives(res: Alternatives, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt alternatives --json``), ``ranges.csv``,
    ``alternatives.csv`` and each alternative's tables under ``alternatives/NN/`` (as ``hwbopt
    solve --out`` writes them). Earlier alternatives' folders are removed first, so the folder
    never mixes two runs."""
    import json
    import shutil

    from hwbopt.io.folder import atomic_write_text
    from hwbopt.io.results import check_out_dir, write_result

    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    plans = folder / "alternatives"
    if plans.is_dir() and not plans.is_symlink():
        shutil.rmtree(plans)
    for a in res.alternatives:
        if a.result is not None:
            write_result(a.result, plans / f"{a.number:02d}")
    for name, table in res.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(res.summary(), indent=2, allow_nan=False) + "\n")
    return folder


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------


def check_request(slack: float, kinds: Sequence[str], count: int) -> None:
    """Refuse a request no run can honour, before any solve."""
    if not (isinstance(slack, int | float) and math.isfinite(slack) and 0 <= slack < 1):
        raise UsageError(f"slack {slack!r}: expected a share of the objective, 0 <= s < 1 "
                         "(0.05 is 5%)")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"unknown kind of quantity {unknown[0]!r}: expected one of "
                         + ", ".join(KINDS))
    if count < 0:
        raise UsageError(f"count {count}: expected 0 or more alternatives")


def alternatives(
    instance: Instance,
    *,
    slack: float = DEFAULT_SLACK,
    of: Sequence[str] | None = None,
    count: int = 0,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    hold_integers: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> Alternatives:
    """The range of each quantity of the kinds ``of`` among the plans within ``slack`` of the
    optimum, and ``count`` alternative plans chosen to differ. See the module docstring and
    ``models/alternatives.md``."""
    from hwbopt.plan.recourse import cluster
    from hwbopt.provenance import instance_labels, run_provenance

    start = time.perf_counter()
    kinds = tuple(dict.fromkeys(of or DEFAULT_KINDS))
    check_request(slack, kinds, count)
    check_limits(time_limit, mip_gap)
    kind = objective or instance.settings.objective
    if kind not in ("outcome", "cost"):
        raise UsageError(f"alternatives are found for the outcome or cost objective, not "
                         f"{kind!r}: give --objective outcome or --objective cost")
    built = build(instance, kind)
    d, comp = built.data, built.compiled
    gap = d.mip_gap if mip_gap is None else mip_gap
    res = Alternatives(
        instance=instance, objective_kind=kind, slack=float(slack), kinds=kinds,
        hold_integers=hold_integers, status=Status.ERROR, message="", objective=None,
        floor=None, optimum=None, count=count, labels=instance_labels(instance),
        provenance=run_provenance(highs.highs_version(), options={
            "objective": kind, "slack": slack, "of": list(kinds), "count": count,
            "mip_gap": gap, "time_limit": time_limit,
            "integers": "held" if hold_integers else "free", "workers": workers}))
    # the optimum as hwbopt solve finds and reports it
    raw = highs.solve_compiled(comp, time_limit=time_limit, mip_gap=gap)
    res.optimum = result_from(d, comp, raw, build_seconds=built.seconds,
                              time_limit=time_limit, mip_gap=gap)
    res.solves = 1
    opt = res.optimum
    if opt.objective is None or opt.solution is None or opt.status == Status.ERROR:
        res.status, res.message = opt.status, opt.message
        res.seconds = time.perf_counter() - start
        return res
    x = in_order(d, comp, settled(d, comp, opt.solution))
    z = float(opt.objective)
    res.objective, res.floor = z, floor_of(z, slack, comp.sense)
    plan = [q.value(x) for q in quantities(d, comp, kinds)]
    base, start_x = built, x
    if "priorities" in kinds and d.CURVED:
        base = ordered_build(instance, kind)
        start_x = carry(x, comp, base.compiled, base.data)
    model = near_optimal_model(base.compiled, base.data, start_x, res.floor, hold_integers)
    free = base.compiled.integer & (base.compiled.col_lower < base.compiled.col_upper)
    res.integer_decisions = int(free.sum())
    qs = tuple(quantities(base.data, model, kinds))
    key = f"alternatives-{id(instance)}-{time.time_ns()}"
    spec = Spec(base.data, model, res.floor, comp.sense, start_x, qs, tuple(plan), gap,
                time_limit, key)
    with cluster(workers, scheduler) as (client, n):
        bounds = find_bounds(spec, client, n, on_progress)
    res.solves += len(bounds)
    by = {(b.index, b.side): b for b in bounds}
    res.ranges = [make_range(q, plan[i], by.get((i, "low")), by.get((i, "high")))
                  for i, q in enumerate(qs)]
    driver = _model(spec) if count else None
    try:
        if driver is not None:
            res.alternatives = _alternatives(driver, res, count, time_limit, gap)
            res.solves += len(res.alternatives)
    finally:
        forget(spec.key)
    res.status, res.message = _overall(opt, res)
    res.seconds = time.perf_counter() - start
    return res


def _alternatives(m: _Model, res: Alternatives, count: int, time_limit: float | None,
                  gap: float) -> list[Alternative]:
    """``count`` plans, each pushed where the earlier ones (the optimum first) have not been."""
    ranges = res.ranges
    usable = [r for r in ranges if r.low is not None and r.high is not None]
    if len(usable) < len(ranges) or not ranges:
        return []
    seen = [positions(ranges, [r.plan for r in ranges])]
    plan_u = seen[0]
    out: list[Alternative] = []
    n = m.spec.comp.n_cols
    for k in range(1, count + 1):
        found = m.optimise(direction(ranges, seen, n), -1)
        if found.x is None or found.objective is None:
            out.append(Alternative(k, found.status, None, None, None, [], [], None,
                                   found.message))
            continue
        vals = [r.quantity.value(found.x) for r in ranges]
        u = positions(ranges, vals)
        raw = highs.RawSolution(
            status=Status.OPTIMAL, message="", detail="", objective=found.objective,
            bound=None, mip_gap=None, x=found.x, row_activity=None, row_dual=None,
            col_dual=None, seconds=found.seconds, is_mip=m.is_mip)
        result = result_from(m.spec.data, m.spec.comp, raw, time_limit=time_limit,
                             mip_gap=gap, diagnose=False)
        status = found.status if result.status == Status.OPTIMAL else result.status
        message = found.message or result.message
        result.message = (f"alternative {k} of {count}: a plan within {res.slack:.4g} of the "
                          f"optimum's objective ({res.objective:,.6g}), chosen to differ from "
                          "it and from the alternatives before it")
        out.append(Alternative(k, status, found.objective, distance(u, plan_u),
                               min(distance(u, s) for s in seen), vals,
                               changes(ranges, plan_u, u, vals), result, message))
        seen.append(u)
    return out


def _overall(opt: Result, res: Alternatives) -> tuple[str, str]:
    """Optimal only when the optimum, every bound and every alternative are proven optima
    and certified; else the worst, with what it was."""
    parts: list[tuple[str, str]] = [(opt.status, opt.message)]
    parts += [(r.status, f"{r.quantity.text}: {r.message}") for r in res.ranges]
    parts += [(a.status, f"alternative {a.number}: {a.message}") for a in res.alternatives]
    status = worst(s for s, _m in parts)
    if status == Status.OPTIMAL:
        return status, ""
    bad = [m for s, m in parts if s == status]
    more = f" ({len(bad)} in all)" if len(bad) > 1 else ""
    if status in EARLY:
        return status, f"not every bound is proven{more}: {bad[0]}"
    return status, f"{bad[0]}{more}"
