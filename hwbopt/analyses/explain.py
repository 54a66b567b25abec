"""Explain a plan: marginal values, the rules that bind, the interventions left out, and why an
infeasible instance has no plan.

See ``models/explain.md``. For a plan:

- the **marginal values** are the LP duals of the rules a board can change (each partner's
  money each year, ring-fenced lines, pools, staff, site capacity, targets), with the range over
  which each holds from HiGHS's ranging, in the rule's own units;
- a mixed-integer plan is explained through the LP with every integer decision fixed at its
  plan value (``integers_fixed``): duals of a mixed-integer model do not exist;
- the **binding rules** are those at their limit in the plan, in words;
- an **unfunded** intervention (no activity anywhere in any year) gets the cut in unit cost, or
  the rise in effect, that would bring it into the plan, asked of the plan with its integer
  decisions held except those the intervention depends on (:func:`local_model`): from reduced
  costs, confirmed by re-solves; a go/no-go intervention, whose entry is not a marginal change,
  by bisection over re-solves.

For an infeasible instance, :mod:`hwbopt.analyses.elastic` gives the smallest relaxation of the
soft-able rules that makes a plan possible or, when hard rules contradict each other, an
irreducible conflicting set of them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
import pandas as pd

from hwbopt import highs, words
from hwbopt.analyses import elastic
from hwbopt.compile import Compiled
from hwbopt.errors import UsageError
from hwbopt.model.data import ModelData
from hwbopt.pipeline import Built, build
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.results import earned_credit
from hwbopt.schema import Instance

# rules whose marginal value a board asks about, and the level their limit stands at
MARGINAL_RULES = ("budget", "ring_fence", "pool_balance", "staff_balance", "site_capacity",
                  "target")
# inequality rules reported when at their limit (accounting identities and integer logic are
# not: they always hold with equality, or say nothing once the integer decisions are fixed)
BINDING_RULES = ("budget", "ring_fence", "pool_balance", "qipp_credit_limit", "target",
                 "staff_capacity", "release_limit", "site_capacity", "run_min", "growth_limit",
                 "reduction_limit", "equity_floor")
BINDING_BOUNDS = (("qipp_credit", "upper"), ("contribution", "lower"),
                  ("contribution", "upper"), ("recruit", "upper"), ("activity", "upper"))

DUAL_TOL = 1e-7  # HiGHS's dual feasibility tolerance: smaller marginal values are zero
ENTRY_MARGIN = 1e-3  # "just past" a threshold, relative
BISECTION_TOL = 1e-4  # relative precision of a threshold found by re-solves


@dataclass
class Binding:
    """A rule at its limit; its marginal value holds while the limit moves by between
    ``change_from`` and ``change_to`` (None: no end), in the rule's unit."""

    constraint: str
    kind: str  # "constraint", "upper bound" or "lower bound"
    text: str
    marginal_value: float
    change_from: float | None
    change_to: float | None
    component: str
    index: tuple
    position: int  # row (constraint) or column (bound) of the plan LP

    def summary(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "kind": self.kind, "text": self.text,
                "marginal_value": self.marginal_value, "change_from": self.change_from,
                "change_to": self.change_to}


@dataclass
class MarginalValue:
    """d(objective) / d(level of the rule's limit), valid while the level is in the range."""

    constraint: str
    component: str
    index: tuple
    text: str
    value: float
    level: float  # the limit in the plan, in ``unit``
    valid_from: float | None  # None: no lower end
    valid_to: float | None
    unit: str
    row: int  # row of the plan LP
    side: str  # which bound of the row is the limit: "upper", "lower" or "equal"
    what: str = ""  # what one more unit is: "One more £k of general money for …"

    def summary(self) -> dict[str, Any]:
        return {"constraint": self.constraint, "text": self.text, "value": self.value,
                "valid_from": self.valid_from, "valid_to": self.valid_to,
                "level": self.level, "unit": self.unit,
                "holds_for_increase": self.holds_for_increase, "what": self.what}

    @property
    def holds_for_increase(self) -> bool:
        """The value is exactly what one more unit is worth (not only a bound on it)."""
        return self.valid_to is None or self.valid_to > self.level


@dataclass
class Improvement:
    """What would bring an unfunded intervention into the plan."""

    method: str  # "reduced_cost" or "re-solve"
    unit_cost: float
    unit_cost_needed: float | None  # None: no cut in unit cost alone is enough
    cheaper_by: float | None
    cheaper_by_percent: float | None
    more_effective_by_percent: float | None  # None: no rise in effect alone is enough
    effects: list[dict[str, Any]]  # per priority: effect now and needed, per unit
    text: str

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "unit_cost": self.unit_cost,
                "unit_cost_needed": self.unit_cost_needed, "cheaper_by": self.cheaper_by,
                "cheaper_by_percent": self.cheaper_by_percent,
                "more_effective_by_percent": self.more_effective_by_percent,
                "effects": self.effects, "text": self.text}


@dataclass
class Unfunded:
    intervention: str
    name: str
    text: str
    required_improvement: Improvement

    def summary(self) -> dict[str, Any]:
        return {"intervention": self.intervention, "text": self.text,
                "required_improvement": self.required_improvement.summary()}


@dataclass
class Infeasibility:
    text: str
    relaxations: list[elastic.Relaxation]
    conflict: list[elastic.Member]
    minimal: bool  # the relaxation is proven the smallest (phase one solved to optimality)
    irreducible: bool | None  # the conflict is proven irreducible (None: no conflict)
    method: str | None  # how the conflict was found

    def summary(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "relaxations": [{"rule": r.rule, "text": r.text, "amount": r.amount,
                             "unit": r.unit, "share": r.share} for r in self.relaxations],
            "conflict": [{"rule": m.rule, "text": m.text, "kind": m.kind}
                         for m in self.conflict],
            "minimal": self.minimal,
            "irreducible": self.irreducible,
            "method": self.method,
        }


@dataclass
class Explanation:
    """What :func:`explain` found. ``summary()`` is the JSON of ``hwbopt explain --json``."""

    status: str
    message: str
    instance_name: str
    objective_kind: str
    objective: float | None
    currency: str
    money_unit: str
    money_label: str
    years: tuple[int, ...]
    integers_fixed: bool = False
    binding: list[Binding] = field(default_factory=list)
    marginal_values: list[MarginalValue] = field(default_factory=list)
    unfunded: list[Unfunded] = field(default_factory=list)
    infeasibility: Infeasibility | None = None
    warnings: list[str] = field(default_factory=list)
    all_values: bool = False
    plan: Compiled | None = field(default=None, repr=False)  # the LP the duals belong to
    provenance: dict[str, Any] = field(default_factory=dict)  # see hwbopt.provenance
    labels: dict[str, Any] = field(default_factory=dict)  # names and units of the ids

    @property
    def feasible(self) -> bool:
        return self.objective is not None

    @property
    def objective_unit(self) -> str:
        return ("points of weighted outcome" if self.objective_kind == "outcome"
                else f"{self.money_label} of total cost")

    @property
    def integers_note(self) -> str:
        if not self.integers_fixed:
            return ""
        return ("the plan has go/no-go, site or whole-post decisions: marginal values come "
                "from the linear model with every such decision fixed at its plan value")

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "instance": self.instance_name,
            "objective_kind": self.objective_kind,
            "objective_unit": self.objective_unit,
            "objective": self.objective,
            "integers_fixed": self.integers_fixed,
            "integers_note": self.integers_note,
            "binding": [b.summary() for b in self.binding],
            "marginal_values": [m.summary() for m in self.marginal_values],
            "all_values": self.all_values,
            "unfunded": [u.summary() for u in self.unfunded],
            "infeasibility": self.infeasibility.summary() if self.infeasibility else None,
            "years": list(self.years),
            "currency": self.currency,
            "money_unit": self.money_unit,
            "warnings": list(self.warnings),
            "kind": "explain",
            "provenance": dict(self.provenance),
            "labels": self.labels,
        }

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Tidy tables of the explanation, as ``hwbopt explain --out`` writes them: marginal
        values, binding rules, unfunded interventions and the effect each would need; for an
        infeasible instance, the relaxations and the conflicting rules (:data:`DIAGNOSIS_TABLES`).
        """
        out = {
            "marginal_values": pd.DataFrame(
                [m.summary() for m in self.marginal_values], columns=MARGINAL_COLUMNS),
            "binding": pd.DataFrame([b.summary() for b in self.binding],
                                    columns=BINDING_COLUMNS),
            "unfunded": pd.DataFrame(
                [{"intervention": u.intervention, "name": u.name,
                  **{k: v for k, v in u.required_improvement.summary().items()
                     if k != "effects"}} for u in self.unfunded], columns=UNFUNDED_COLUMNS),
            "unfunded_effects": pd.DataFrame(
                [{"intervention": u.intervention, **e} for u in self.unfunded
                 for e in u.required_improvement.effects], columns=EFFECT_COLUMNS),
        }
        if self.infeasibility is not None:
            inf = self.infeasibility.summary()
            out["relaxations"] = pd.DataFrame(inf["relaxations"], columns=RELAXATION_COLUMNS)
            out["conflict"] = pd.DataFrame(inf["conflict"], columns=CONFLICT_COLUMNS)
        return out


MARGINAL_COLUMNS = ["constraint", "what", "text", "value", "valid_from", "valid_to", "level",
                    "unit", "holds_for_increase"]
BINDING_COLUMNS = ["constraint", "kind", "text", "marginal_value", "change_from", "change_to"]
UNFUNDED_COLUMNS = ["intervention", "name", "method", "unit_cost", "unit_cost_needed",
                    "cheaper_by", "cheaper_by_percent", "more_effective_by_percent", "text"]
EFFECT_COLUMNS = ["intervention", "priority", "effect", "effect_needed", "unit"]
RELAXATION_COLUMNS = ["rule", "text", "amount", "unit", "share"]
CONFLICT_COLUMNS = ["rule", "text", "kind"]
DIAGNOSIS_TABLES = ("relaxations", "conflict")  # written only for an infeasible instance


# ---------------------------------------------------------------------------------------------
# the plan's linear model
# ---------------------------------------------------------------------------------------------


@dataclass
class PlanLP:
    """The LP whose duals explain the plan, solved, with its ranging and basis."""

    comp: Compiled
    objective: float
    x: np.ndarray
    row_activity: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    row_basic: np.ndarray
    row_dn: np.ndarray  # HiGHS ranging of each row's active bound: lowest level, basis kept
    row_up: np.ndarray
    col_basic: np.ndarray
    col_dn: np.ndarray  # the same for each column's active bound
    col_up: np.ndarray


def fix_integers(comp: Compiled, x: np.ndarray) -> Compiled:
    """The LP with every integer column fixed at its (rounded) value in ``x``."""
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    ints = comp.integer
    lo[ints] = hi[ints] = np.round(x[ints])
    return replace(comp, col_lower=lo, col_upper=hi, integer=np.zeros(comp.n_cols, dtype=bool))


def _infinite(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    big = highspy.kHighsInf
    return np.where(v >= big, np.inf, np.where(v <= -big, -np.inf, v))


def solve_plan_lp(lp: Compiled, time_limit: float | None = None) -> PlanLP | None:
    h = highs.load(lp)
    raw = highs.run(h, time_limit=time_limit)
    if raw.status != highs.OPTIMAL or raw.row_dual is None:
        return None
    status, rng = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rng.valid:
        return None
    basis = h.getBasis()
    kb = highspy.HighsBasisStatus.kBasic
    return PlanLP(lp, float(raw.objective), raw.x, raw.row_activity, raw.row_dual,
                  raw.col_dual,
                  np.array([s == kb for s in basis.row_status], dtype=bool),
                  _infinite(rng.row_bound_dn.value_), _infinite(rng.row_bound_up.value_),
                  np.array([s == kb for s in basis.col_status], dtype=bool),
                  _infinite(rng.col_bound_dn.value_), _infinite(rng.col_bound_up.value_))


def settle_credit(d: ModelData, plan: PlanLP) -> PlanLP:
    """The plan with each savings credit at what the plan's avoided costs earn.

    ``qipp_credit`` need only cover what a partner spends, so where its budget has room the
    LP may leave it anywhere up to the credit earned, and its ``budget`` row then sits at its
    limit with nothing binding: a budget called fully spent while the budgets table shows
    money unspent. The budgets table reports the credit earned
    (:func:`hwbopt.results.earned_credit`); setting the credit there too keeps every row
    feasible (it only loosens ``budget``), the objective and the duals as they are, and makes
    "fully spent" mean what the table says: nothing unspent.
    """
    cols = plan.comp.cols("qipp_credit")
    if not cols:
        return plan
    act = {idx: float(plan.x[j]) for idx, j in plan.comp.cols("activity").items()}
    earned = earned_credit(d, act)
    x = plan.x.copy()
    for key, j in cols.items():
        x[j] = min(max(earned[key], plan.comp.col_lower[j]), plan.comp.col_upper[j])
    return replace(plan, x=x, row_activity=plan.comp.A @ x)


# ---------------------------------------------------------------------------------------------
# marginal values and binding rules
# ---------------------------------------------------------------------------------------------


def _active_bound(plan: PlanLP, r: int) -> tuple[str, float]:
    lo, hi = plan.comp.row_lower[r], plan.comp.row_upper[r]
    if lo == hi:
        return "equal", float(lo)
    if not np.isfinite(lo):
        return "upper", float(hi)
    if not np.isfinite(hi):
        return "lower", float(lo)
    act = plan.row_activity[r]
    return ("upper", float(hi)) if abs(act - hi) <= abs(act - lo) else ("lower", float(lo))


def _validity(basic: bool, dn: float, up: float, value: float, side: str,
              b0: float) -> tuple[float, float]:
    """Levels of a limit ``b0`` over which its dual holds (HiGHS ranging when the row or
    column is nonbasic; a basic one has dual zero while the limit stays beyond its value)."""
    if basic:
        if side == "upper":
            return min(value, b0), math.inf
        if side == "lower":
            return -math.inf, max(value, b0)
        return b0, b0
    return min(dn, b0), max(up, b0)


def row_validity(plan: PlanLP, r: int, side: str, b0: float) -> tuple[float, float]:
    return _validity(bool(plan.row_basic[r]), float(plan.row_dn[r]), float(plan.row_up[r]),
                     float(plan.row_activity[r]), side, b0)


def col_validity(plan: PlanLP, j: int, side: str, b0: float) -> tuple[float, float]:
    return _validity(bool(plan.col_basic[j]), float(plan.col_dn[j]), float(plan.col_up[j]),
                     float(plan.x[j]), side, b0)


def _level(d: ModelData, plan: PlanLP, component: str, idx: tuple) -> float | None:
    """The limit of a rule in its own terms (None: not meaningful in this plan)."""
    if component == "budget":
        return d.money[idx]["general"]
    if component == "ring_fence":
        p, r, y = idx
        return d.fence_share[p, r] * d.money[p, y]["available"]
    if component == "pool_balance":
        return 0.0  # money put into the pool beyond the partners' contributions
    if component == "staff_balance":
        return d.staff[idx].fte
    if component == "site_capacity":
        s, t, y = idx
        j = plan.comp.cols("open")[s, y]
        is_open = round(float(plan.x[j]))
        return d.capacity[s, t] if is_open else None  # a closed site has no capacity to price
    if component == "target":
        return d.target[idx]
    raise KeyError(component)


def _value_text(d: ModelData, v: float, kind: str, exact: bool) -> str:
    """The worth of one more unit in words. When the dual does not hold for an increase (the
    plan is degenerate there), it bounds the worth of one more unit from the good side: the
    optimum is concave in a limit when maximising and convex when minimising."""
    if abs(v) <= DUAL_TOL:
        return ("is worth nothing: the rule has room" if exact else
                "is worth nothing more")
    bound = "" if exact else "at most "
    if kind == "outcome":
        if v > 0:
            return f"is worth {bound}{words.num(v)} points of weighted outcome"
        return f"costs {'at least ' if not exact else ''}{words.num(-v)} points of " \
               "weighted outcome"
    if v < 0:
        return f"saves {bound}{words.money(d.instance, -v)} of total cost"
    return f"adds {'at least ' if not exact else ''}{words.money(d.instance, v)} to total cost"


def _holds_text(d: ModelData, unit: str, frm: float | None, to: float | None,
                level: float) -> str:
    if to is not None and to <= level:
        return f"(holds for a lower limit only, down to {words.amount(d, unit, frm)})"
    return f"(holds from {words.amount(d, unit, frm)} to {words.amount(d, unit, to)})"


def marginal_values(d: ModelData, plan: PlanLP, all_values: bool = False) -> list[MarginalValue]:
    """d(objective)/d(limit) of every rule in MARGINAL_RULES (non-zero ones unless
    ``all_values``), with the levels of the limit over which it holds."""
    out = []
    for component in MARGINAL_RULES:
        for idx, r in plan.comp.rows(component).items():
            level = _level(d, plan, component, idx)
            if level is None:
                continue
            value = float(plan.row_dual[r])
            if abs(value) <= DUAL_TOL:
                if not all_values:
                    continue
                value = 0.0
            side, b0 = _active_bound(plan, r)
            lo, hi = row_validity(plan, r, side, b0)
            shift = level - b0
            unit = words.unit(d, component, idx)
            frm = lo + shift if math.isfinite(lo) else None
            to = hi + shift if math.isfinite(hi) else None
            exact = to is None or to > level
            what = words.sentence_case(words.one_more(d, component, idx))
            text = (f"{what} {_value_text(d, value, d.objective, exact)} "
                    f"{_holds_text(d, unit, frm, to, level)}")
            out.append(MarginalValue(plan.comp.row_name(r), component, idx, text, value, level,
                                     frm, to, unit, r, side, what))
    return out


def _at(value: float, bound: float) -> bool:
    return math.isfinite(bound) and abs(value - bound) <= 1e-6 * max(1.0, abs(bound))


def _change(lo: float, hi: float, b0: float) -> tuple[float | None, float | None]:
    # + 0.0 turns -0.0 into 0.0
    return (lo - b0 + 0.0 if math.isfinite(lo) else None,
            hi - b0 + 0.0 if math.isfinite(hi) else None)


def binding_rules(d: ModelData, plan: PlanLP) -> list[Binding]:
    """Every rule a board sets that is at its limit in the plan, in words."""
    comp = plan.comp
    out = []
    shortfall = comp.cols("shortfall")
    credit = comp.cols("qipp_credit")
    for component in BINDING_RULES:
        for idx, r in comp.rows(component).items():
            act = float(plan.row_activity[r])
            if not (_at(act, comp.row_lower[r]) or _at(act, comp.row_upper[r])):
                continue
            if component == "site_capacity" and _level(d, plan, component, idx) is None:
                continue  # a closed site is "full" at zero: not a rule holding anything back
            short = float(plan.x[shortfall[idx]]) if idx in shortfall else 0.0
            # a budget spends its savings credit too (settle_credit): say so, with the amount
            spends = float(plan.x[credit[idx]]) if component == "budget" and idx in credit \
                else 0.0
            state = words.State(shortfall=short if short > 1e-6 else 0.0,
                                credit=spends if spends > 1e-6 else 0.0)
            side, b0 = _active_bound(plan, r)
            down, up = _change(*row_validity(plan, r, side, b0), b0)
            out.append(Binding(comp.row_name(r), "constraint",
                               words.sentence(d, component, idx, state),
                               float(plan.row_dual[r]), down, up, component, idx, r))
    for component, side in BINDING_BOUNDS:
        for idx, j in comp.cols(component).items():
            bound = comp.col_upper[j] if side == "upper" else comp.col_lower[j]
            if side == "lower" and bound <= 0:
                continue  # a natural zero bound is not a rule
            if not _at(float(plan.x[j]), bound):
                continue
            if component == "activity" and bound <= 0:
                continue  # no need at all: nothing to meet
            value = float(plan.col_dual[j])
            down, up = _change(*col_validity(plan, j, side, float(bound)), float(bound))
            if comp.col_lower[j] == comp.col_upper[j]:
                # a fixed variable (a recruitment limit of 0, equal pool shares): its dual and
                # ranging move both bounds; relaxing only this one helps, or changes nothing
                helps = comp.sense * value * (1.0 if side == "lower" else -1.0) > 0
                if side == "upper":
                    down, up = 0.0, up if helps else None
                else:
                    down, up = down if helps else None, 0.0
                value = value if helps else 0.0
            out.append(Binding(comp.col_name(j), f"{side} bound",
                               words.bound_rule(d, component, idx, side, binding=True),
                               value, down, up, component, idx, j))
    return out


# ---------------------------------------------------------------------------------------------
# unfunded interventions
# ---------------------------------------------------------------------------------------------


def _intervention_columns(comp: Compiled, i: str) -> tuple[dict[tuple, int], dict[tuple, int]]:
    act = {idx: j for idx, j in comp.cols("activity").items() if idx[0] == i}
    seg = {idx: j for idx, j in comp.cols("segment").items() if idx[0] == i}
    return act, seg


def _rows_of(comp: Compiled, component: str, i: str | None = None) -> set[int]:
    return {r for idx, r in comp.rows(component).items() if i is None or idx[0] == i}


def scaled(comp: Compiled, i: str, cost_factor: float = 1.0,
           effect_factor: float = 1.0) -> Compiled:
    """The model with ``i``'s unit cost times ``cost_factor`` and every effect of ``i`` on a
    priority times ``effect_factor`` (its funding and outcome coefficients, and its cost in the
    ``cost`` objective)."""
    act, seg = _intervention_columns(comp, i)
    funding = _rows_of(comp, "funding", i)
    outcome = _rows_of(comp, "outcome_def")
    A = comp.A.copy()
    c = comp.c.copy()
    for j in act.values():
        for p in range(A.indptr[j], A.indptr[j + 1]):
            r = A.indices[p]
            if r in funding:
                A.data[p] *= cost_factor
            elif r in outcome:
                A.data[p] *= effect_factor
        c[j] *= cost_factor  # zero under the outcome objective; the unit cost under cost
    for j in seg.values():
        for p in range(A.indptr[j], A.indptr[j + 1]):
            if A.indices[p] in outcome:
                A.data[p] *= effect_factor
    return replace(comp, A=A, c=c)


def _total_activity(comp: Compiled, x: np.ndarray, i: str) -> float:
    act, _ = _intervention_columns(comp, i)
    return float(sum(max(x[j], 0.0) for j in act.values()))


def _entry_tol(d: ModelData, i: str) -> float:
    need = sum(d.need[i, loc, y] for loc in d.localities_of(i) for y in d.YEARS)
    return 1e-6 * max(1.0, need)


def enters(d: ModelData, comp: Compiled, i: str, time_limit: float | None = None) -> bool | None:
    """Whether ``i`` has activity in the optimum of ``comp`` (None: not solved)."""
    # a threshold is where two plans tie: only a proven optimum (no gap) tells them apart
    raw = highs.run(highs.load(comp), time_limit=time_limit, mip_gap=0.0,
                    is_mip=bool(comp.integer.any()))
    if raw.status != highs.OPTIMAL:
        return None
    return _total_activity(comp, raw.x, i) > _entry_tol(d, i)


PUSH = 1e-5  # the unfunded intervention is pushed in by this share of its need to price it


def _thresholds(d: ModelData, plan: PlanLP, i: str) -> tuple[float, float] | None:
    """Cut in unit cost (share) and rise in effect (share) at which ``i`` enters, from reduced
    costs (inf: no cut, or rise, alone is enough; None: the reduced costs could not be had).

    At the plan, ``i``'s activity and the money, staff and space it would use are all zero: a
    degenerate vertex whose duals need not price the move into the plan (the funding row's
    dual can sit anywhere between the price of money and the value of the activity). So the
    plan LP is re-solved with ``i`` pushed in by a sliver (``PUSH`` of need, on its activity
    and on the first, best piece of each response curve): every route it uses is then basic
    and positive, and the reduced cost of one more unit of ``i`` — the activity with its best
    response pieces — is the price of entering, linear in its unit cost and its effects.
    """
    comp = plan.comp
    act, seg = _intervention_columns(comp, i)
    first_piece: dict[tuple, list[int]] = {}
    for (ii, _k, loc, yr, j), col in seg.items():
        if j == 0:
            first_piece.setdefault((ii, loc, yr), []).append(col)
    pushed = comp.col_lower.copy()
    for idx, ja in act.items():
        sliver = PUSH * comp.col_upper[ja]
        for j in (ja, *first_piece.get(idx, ())):
            pushed[j] = max(pushed[j], sliver)
    raw = highs.solve_compiled(replace(comp, col_lower=pushed))
    if raw.status != highs.OPTIMAL or raw.row_dual is None:
        return None  # pushing in is not possible (need, growth limits): let re-solves decide
    y = raw.row_dual
    sense = comp.sense
    funding = _rows_of(comp, "funding", i)
    outcome = _rows_of(comp, "outcome_def")
    A = comp.A
    best_cut, best_rise = math.inf, math.inf
    for idx, ja in act.items():
        if comp.col_upper[ja] <= 0:
            continue  # no need there: it cannot enter whatever it costs
        gain = cost_part = effect_part = 0.0
        for j in (ja, *first_piece.get(idx, ())):
            rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
            vals = A.data[A.indptr[j]:A.indptr[j + 1]]
            gain += comp.c[j] - float(vals @ y[rows])
            for r, v in zip(rows, vals, strict=True):
                if j == ja and r in funding:
                    cost_part -= v * y[r]
                elif r in outcome:
                    effect_part -= v * y[r]
            if j == ja:
                cost_part += comp.c[j]
        # improvement of the objective per unit pushed in (<= 0: it is out of the plan)
        now = min(-sense * gain, 0.0)
        per_cut = sense * cost_part  # improvement per unit share of unit cost cut
        per_rise = -sense * effect_part  # improvement per unit share of effect added
        if per_cut > 1e-12:
            best_cut = min(best_cut, -now / per_cut)
        if per_rise > 1e-12:
            best_rise = min(best_rise, -now / per_rise)
    return best_cut, best_rise


def _bisect(test, lo: float, hi: float) -> float | None:
    """Smallest value in (lo, hi] at which ``test`` is True (``test(hi)`` is True), to
    BISECTION_TOL relative; None if a solve could not decide."""
    while hi - lo > BISECTION_TOL * max(hi, 1e-9):
        mid = 0.5 * (lo + hi)
        answer = test(mid)
        if answer is None:
            return None
        lo, hi = (lo, mid) if answer else (mid, hi)
    return hi


def _changed(comp: Compiled, i: str, kind: str, share: float) -> Compiled:
    """``comp`` with ``i``'s unit cost cut by ``share`` (kind "cut") or its effects raised by
    ``share`` (kind "rise")."""
    if kind == "cut":
        return scaled(comp, i, cost_factor=1.0 - share)
    return scaled(comp, i, effect_factor=1.0 + share)


UNFUNDED_SECONDS = 60.0  # for every unfunded intervention together, on top of the plan


class _Clock:
    """The time left for the re-solves of the unfunded analysis."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return self.end - time.perf_counter()


def _test(d: ModelData, comp: Compiled, i: str, kind: str, clock: _Clock):
    def test(share: float) -> bool | None:
        if clock.left() <= 0:
            return None
        return enters(d, _changed(comp, i, kind, share), i, clock.left())
    return test


def _resolve_threshold(d: ModelData, comp: Compiled, i: str, kind: str,
                       clock: _Clock) -> tuple[float | None, bool]:
    """The threshold found by re-solving ``comp``: bisection on the cut in [0, 1], or on the
    rise after doubling up to 1024 (102,400%). Returns (threshold or None when nothing in
    range brings ``i`` in, whether every solve was settled in time)."""
    test = _test(d, comp, i, kind, clock)
    if kind == "cut":
        answer = test(1.0)
        if not answer:
            return None, answer is not None
        found = _bisect(test, 0.0, 1.0)
        return found, found is not None
    lo, hi = 0.0, 1.0
    while hi <= 1024.0:
        answer = test(hi)
        if answer is None:
            return None, False
        if answer:
            found = _bisect(test, lo, hi)
            return found, found is not None
        lo, hi = hi, 2.0 * hi
    return None, True


def _confirmed(d: ModelData, comp: Compiled, i: str, kind: str, share: float,
               below: bool, clock: _Clock) -> bool:
    """``i`` enters just past ``share`` (and, with ``below``, stays out just short of it)."""
    test = _test(d, comp, i, kind, clock)
    past = share * (1 + ENTRY_MARGIN) + 1e-9
    if not test(min(past, 1.0) if kind == "cut" else past):
        return False
    short = share * (1 - ENTRY_MARGIN) - 1e-9
    return not below or short <= 0 or test(short) is False


def local_model(d: ModelData, full: Compiled, x: np.ndarray, i: str) -> Compiled:
    """The model in which ``i`` may enter: every integer decision held at its plan value but
    those ``i`` depends on — its own go/no-go (and response pieces), the sites that could host
    it, and whole posts in the roles it needs."""
    free = np.zeros(full.n_cols, dtype=bool)
    sites = {s for (s, ii, _t) in d.USE if ii == i}
    roles = {r for (ii, r) in d.STAFFED if ii == i}
    for name in ("run", "start", "piece_full"):
        free[[j for idx, j in full.cols(name).items() if idx[0] == i]] = True
    free[[j for (s, _y), j in full.cols("open").items() if s in sites]] = True
    for name in ("recruit", "release"):
        free[[j for (_e, r, _y), j in full.cols(name).items() if r in roles]] = True
    fixed = full.integer & ~free
    lo, hi = full.col_lower.copy(), full.col_upper.copy()
    lo[fixed] = hi[fixed] = np.round(x[fixed])
    return replace(full, col_lower=lo, col_upper=hi, integer=full.integer & free)


def _settle(d: ModelData, full: Compiled, plan: PlanLP, i: str,
            clock: _Clock) -> tuple[float | None, float | None, str]:
    """The cut in unit cost and the rise in effect that bring ``i`` into the plan.

    Everything is asked of :func:`local_model`: the plan with its integer decisions held, but
    those ``i`` depends on. Without such decisions it is the plan LP, and the thresholds come
    from reduced costs (:func:`_thresholds`), confirmed by a re-solve just past each (below
    it the plan stays optimal, by LP theory). With them, a go/no-go intervention is settled by
    bisection over re-solves; a continuous one's reduced-cost thresholds are confirmed on
    both sides, and settled by bisection if they fail. ``method`` is ``reduced_cost``,
    ``re-solve``, or ``unsettled`` when the time allowed ran out.
    """
    local = local_model(d, full, plan.x, i)
    is_mip = bool(local.integer.any())
    found: dict[str, float | None] = {"cut": None, "rise": None}
    priced = None if is_mip and i in d.CHOICES else _thresholds(d, plan, i)
    method = "reduced_cost" if priced is not None else "re-solve"
    settled = True
    for k, kind in enumerate(("cut", "rise")):
        share = None if priced is None else priced[k]
        if share is not None and kind == "cut" and share >= 1.0:
            share = math.inf  # it would have to be paid to run
        if share is not None and math.isfinite(share) and _confirmed(
                d, local, i, kind, share, is_mip, clock):
            found[kind] = share
            continue
        if share is not None and not is_mip and not math.isfinite(share):
            continue  # LP theory: no cut (or rise) alone makes its reduced cost favourable
        found[kind], ok = _resolve_threshold(d, local, i, kind, clock)
        settled = settled and ok
        method = "re-solve"
    return found["cut"], found["rise"], method if settled else "unsettled"


def _improvement(d: ModelData, i: str, cut: float | None, rise: float | None,
                 method: str) -> Improvement:
    inst = d.instance
    lab = words.labels(inst)
    row = next(r for r in inst.interventions if r.id == i)
    u = row.unit_cost
    per = words.plural(row.unit, 1)
    effects = []
    for (ii, k), segs in d.segments.items():
        if ii != i:
            continue
        e = max(s.effect for s in segs)
        effects.append({"priority": k, "effect": e,
                        "effect_needed": None if rise is None else e * (1.0 + rise),
                        "unit": f"{lab.priority_unit[k]} per {per}"})
    parts = []
    if cut is not None and cut < 1.0:
        parts.append(f"at {words.money(inst, u * (1 - cut), 4)} per {per} "
                     f"({words.percent(cut)} cheaper than {words.money(inst, u)})")
    if rise is not None:
        detail = "; ".join(f"{words.num(e['effect_needed'], 4)} instead of "
                           f"{words.num(e['effect'])} {e['unit']} for "
                           f"{lab.priority[e['priority']]}" for e in effects)
        parts.append(f"if it achieved {words.percent(rise)} more per {per} ({detail})")
    if method == "unsettled":
        text = (f"what would bring {lab.intervention[i]} into the plan could not be settled "
                "within the time allowed" + (": it would enter " + " or ".join(parts)
                                             if parts else ""))
    elif parts:
        text = f"{lab.intervention[i]} would enter the plan " + " or ".join(parts)
    else:
        text = (f"{lab.intervention[i]} would not enter the plan through a lower unit cost or a "
                "greater effect alone: other rules keep it out (need, change limits, staff, "
                "space, or the plan's other go/no-go and site decisions)")
    ok_cut = cut is not None and cut < 1.0
    return Improvement(
        method=method, unit_cost=u,
        unit_cost_needed=u * (1 - cut) if ok_cut else None,
        cheaper_by=u * cut if ok_cut else None,
        cheaper_by_percent=100.0 * cut if ok_cut else None,
        more_effective_by_percent=100.0 * rise if rise is not None else None,
        effects=effects, text=text)


def unfunded(d: ModelData, comp_full: Compiled, plan: PlanLP,
             time_limit: float | None = None) -> list[Unfunded]:
    """Interventions with no activity anywhere in any year, and what would bring them in."""
    out = []
    lab = words.labels(d.instance)
    clock = _Clock(UNFUNDED_SECONDS if time_limit is None else time_limit)
    for i in d.INTERVENTIONS:
        if not d.localities_of(i) or _total_activity(plan.comp, plan.x, i) > _entry_tol(d, i):
            continue
        cut, rise, method = _settle(d, comp_full, plan, i, clock)
        out.append(Unfunded(i, lab.intervention[i],
                            f"{lab.intervention[i]} is not funded in any year",
                            _improvement(d, i, cut, rise, method)))
    return out


# ---------------------------------------------------------------------------------------------
# infeasibility
# ---------------------------------------------------------------------------------------------


def diagnose(d: ModelData, comp: Compiled, time_limit: float | None = None) -> Infeasibility:
    """The smallest relaxation that makes a plan possible, or an irreducible conflict."""
    el = elastic.elastic_model(d, comp)
    seconds = elastic.SECONDS if time_limit is None else time_limit
    one = elastic.phase_one(d, el, seconds)
    if one.objective is not None:
        minimal = one.status == highs.OPTIMAL
        if one.relaxations:
            text = ("no plan meets every rule; the smallest relaxation that makes one possible"
                    + ("" if minimal else " found in the time allowed (not proven smallest)")
                    + ": " + "; ".join(r.text for r in one.relaxations))
        else:
            text = ("no plan meets every rule, yet relaxing nothing measurable makes one "
                    "possible: the instance is infeasible only within solver tolerances")
        return Infeasibility(text, one.relaxations, [], minimal, None, None)
    if one.status != highs.INFEASIBLE:
        return Infeasibility(f"no plan meets every rule, and the relaxation could not be "
                             f"settled within {seconds:g} s", [], [], False, None, None)
    found = elastic.conflict(d, el, seconds)
    if not found.members:
        text = ("no plan meets every rule, and no rule a board sets explains it: the model's "
                "accounting rules conflict (please report this instance)")
    else:
        text = ("hard rules contradict each other, so no relaxation of targets, minimum "
                "contributions, change limits, equity floor or minimum scale helps; these "
                "cannot all hold: " + "; ".join(m.text for m in found.members))
    return Infeasibility(text, [], found.members, False, found.irreducible, found.method)


# ---------------------------------------------------------------------------------------------
# the analysis
# ---------------------------------------------------------------------------------------------


def explain_built(b: Built, *, all_values: bool = False, time_limit: float | None = None,
                  mip_gap: float | None = None, threads: int | None = None,
                  warnings: list[str] | None = None) -> Explanation:
    d, comp = b.data, b.compiled
    inst = d.instance
    gap = d.mip_gap if mip_gap is None else mip_gap
    raw = highs.solve_compiled(comp, time_limit=time_limit, threads=threads, mip_gap=gap)
    out = Explanation(
        status=raw.status, message="", instance_name=inst.name, objective_kind=d.objective,
        objective=None, currency=inst.currency, money_unit=inst.money_unit,
        money_label=inst.money_label, years=d.YEARS, warnings=list(warnings or []),
        all_values=all_values,
        provenance=run_provenance(highs.highs_version(), options={
            "objective": d.objective, "mip_gap": gap, "time_limit": time_limit,
            "all": all_values}),
        labels=instance_labels(inst))
    if raw.status == highs.INFEASIBLE:
        out.infeasibility = diagnose(d, comp, time_limit)
        out.message = out.infeasibility.text
        return out
    if raw.x is None:
        out.message = {
            highs.TIME_LIMIT: highs.no_plan_message(raw.detail, time_limit),
            highs.STOPPED: highs.no_plan_message(raw.detail, time_limit),
            highs.UNBOUNDED: "the objective is unbounded: some activity has no cap (need)",
        }.get(raw.status, highs.EMPTY_MESSAGE if comp.n_cols == 0 or raw.detail == "Empty"
              else f"HiGHS stopped with status '{raw.detail}'")
        return out
    is_mip = bool(comp.integer.any())
    lp = fix_integers(comp, raw.x) if is_mip else comp
    plan = solve_plan_lp(lp, time_limit)
    if plan is None:
        out.status = highs.ERROR
        out.message = ("the linear model with the plan's integer decisions fixed did not solve "
                       "to optimality, so no marginal values can be given")
        return out
    plan = settle_credit(d, plan)
    out.objective = plan.objective
    out.integers_fixed = is_mip
    out.plan = lp
    out.marginal_values = marginal_values(d, plan, all_values)
    out.binding = binding_rules(d, plan)
    out.unfunded = unfunded(d, comp, plan, time_limit)
    if raw.status in highs.EARLY:
        out.message = (f"{highs.stop_reason(raw.detail, time_limit)}: the best plan found is "
                       "explained, not proven optimal")
    else:
        out.message = (f"{len(out.binding)} rules at their limit, "
                       f"{len(out.marginal_values)} marginal values"
                       f"{'' if all_values else ' (non-zero)'}, "
                       f"{len(out.unfunded)} interventions unfunded")
    return out


def explain(
    instance: Instance,
    *,
    objective: str | None = None,
    all_values: bool = False,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> Explanation:
    """Solve ``instance`` and explain the plan, or why there is none.

    ``all_values`` keeps marginal values that are zero (by default only non-zero ones are
    listed). ``time_limit`` (seconds) applies to the solve and to each diagnostic solve.
    """
    if time_limit is not None and not time_limit > 0:
        raise UsageError(f"time limit must be positive, got {time_limit!r}")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise UsageError(f"MIP gap must be in [0, 1), got {mip_gap!r}")
    return explain_built(build(instance, objective), all_values=all_values,
                         time_limit=time_limit, mip_gap=mip_gap, threads=threads)
