"""Explain a plan: marginal values, the rules that bind, the interventions left out, and why an
infeasible instance has no plan.

See ``models/explain.md``. For a plan:

- the **marginal values** are the LP duals of the rules a board can change (each partner's
  money each year, ring-fenced lines, pools, staff, site capacity, targets), with the range over
  which each holds from HiGHS's ranging, in the rule's own units;
- a mixed-integer plan is explained through the LP with every integer decision fixed at its
  plan value (``integers_fixed``, :mod:`hwbopt.analyses.plan_lp`): duals of a mixed-integer
  model do not exist;
- the **binding rules** are those at their limit in the plan, in words;
- an **unfunded** intervention (no activity anywhere in any year) gets the cut in unit cost, or
  the rise in effect, that would bring it into the plan (:mod:`hwbopt.analyses.unfunded`);
- under the ``outcome`` objective, each priority's **weight** gets the range over which the
  plan stays optimal (:mod:`hwbopt.analyses.weights`).

For an infeasible instance, :mod:`hwbopt.analyses.elastic` gives the smallest relaxation of the
soft-able rules that makes a plan possible or, when hard rules contradict each other, an
irreducible conflicting set of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hwbopt import highs, words
from hwbopt.analyses import elastic
from hwbopt.analyses.plan_lp import PlanLP, fix_integers, settle_credit, solve_plan_lp
from hwbopt.analyses.unfunded import Unfunded, unfunded
from hwbopt.analyses.weights import WeightRange, weight_ranges
from hwbopt.compile import Compiled
from hwbopt.model.component import BINDING, MARGINAL
from hwbopt.model.data import ModelData
from hwbopt.model.names import with_role
from hwbopt.pipeline import Built, build
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.schema import Instance
from hwbopt.status import EARLY, Status, check_limits

if TYPE_CHECKING:
    from hwbopt.progress import Step

# rules whose marginal value a board asks about, and the level their limit stands at
MARGINAL_RULES = with_role(MARGINAL)
# inequality rules reported when at their limit (accounting identities and integer logic are
# not: they always hold with equality, or say nothing once the integer decisions are fixed)
BINDING_RULES = with_role(BINDING)
BINDING_BOUNDS = (("qipp_credit", "upper"), ("contribution", "lower"),
                  ("contribution", "upper"), ("recruit", "upper"), ("activity", "upper"))

DUAL_TOL = 1e-7  # HiGHS's dual feasibility tolerance: smaller marginal values are zero


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
    index: tuple[Any, ...]
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
    index: tuple[Any, ...]
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
    weight_ranges: list[WeightRange] = field(default_factory=list)  # outcome objective only
    infeasibility: Infeasibility | None = None
    warnings: list[str] = field(default_factory=list)
    all_values: bool = False
    plan: Compiled | None = field(default=None, repr=False)  # the LP the duals belong to
    provenance: dict[str, Any] = field(default_factory=dict)  # see hwbopt.provenance
    labels: dict[str, Any] = field(default_factory=dict)  # names and units of the ids

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import explanation_repr

        return explanation_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import explanation_html

        return explanation_html(self)

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
            "weight_ranges": [w.summary() for w in self.weight_ranges],
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


def _level(d: ModelData, plan: PlanLP, component: str, idx: tuple[Any, ...]) -> float | None:
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
# infeasibility
# ---------------------------------------------------------------------------------------------


def diagnose(d: ModelData, comp: Compiled, time_limit: float | None = None,
             on_step: Step | None = None) -> Infeasibility:
    """The smallest relaxation that makes a plan possible, or an irreducible conflict.
    ``on_step`` is told of each diagnostic solve as it starts."""
    step = on_step or _silent
    step("no plan: finding the smallest relaxation that makes one possible")
    el = elastic.elastic_model(d, comp)
    seconds = elastic.SECONDS if time_limit is None else time_limit
    one = elastic.phase_one(d, el, seconds)
    if one.objective is not None:
        minimal = one.status == Status.OPTIMAL
        if one.relaxations:
            text = ("no plan meets every rule; the smallest relaxation that makes one possible"
                    + ("" if minimal else " found in the time allowed (not proven smallest)")
                    + ": " + "; ".join(r.text for r in one.relaxations))
        else:
            text = ("no plan meets every rule, yet relaxing nothing measurable makes one "
                    "possible: the instance is infeasible only within solver tolerances")
        return Infeasibility(text, one.relaxations, [], minimal, None, None)
    if one.status != Status.INFEASIBLE:
        return Infeasibility(f"no plan meets every rule, and the relaxation could not be "
                             f"settled within {seconds:g} s", [], [], False, None, None)
    step("no relaxation helps: finding the hard rules that conflict")
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


def _silent(text: str) -> None:
    """No one is watching the progress."""


def explain_built(b: Built, *, all_values: bool = False, time_limit: float | None = None,
                  mip_gap: float | None = None, threads: int | None = None,
                  warnings: list[str] | None = None,
                  on_step: Step | None = None) -> Explanation:
    """Explain the built model's plan (see :func:`explain`); ``on_step`` is told of each
    solve and diagnostic solve as it starts, in words."""
    d, comp = b.data, b.compiled
    inst = d.instance
    gap = d.mip_gap if mip_gap is None else mip_gap
    step = on_step or _silent
    step("solving the plan (HiGHS)")
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
    if raw.status == Status.INFEASIBLE:
        out.infeasibility = diagnose(d, comp, time_limit, step)
        out.message = out.infeasibility.text
        return out
    if raw.x is None:
        out.message = raw.message
        return out
    is_mip = bool(comp.integer.any())
    lp = fix_integers(comp, raw.x) if is_mip else comp
    step("solving the linear model with the plan's integer decisions fixed" if is_mip else
         "solving the plan's linear model again for its duals and ranges")
    plan = solve_plan_lp(lp, time_limit)
    if plan is None:
        out.status = Status.ERROR
        out.message = ("the linear model with the plan's integer decisions fixed did not solve "
                       "to optimality, so no marginal values can be given")
        return out
    # weights are ranged on the plan LP's basic solution, before its credits are settled
    step("ranging each priority's weight")
    out.weight_ranges = weight_ranges(d, plan, time_limit)
    plan = settle_credit(d, plan)
    out.objective = plan.objective
    out.integers_fixed = is_mip
    out.plan = lp
    step("marginal values and the rules at their limit")
    out.marginal_values = marginal_values(d, plan, all_values)
    out.binding = binding_rules(d, plan)
    step("what would bring each unfunded intervention into the plan")
    out.unfunded = unfunded(d, comp, plan, time_limit)
    if raw.status in EARLY:
        out.message = f"{raw.message}: the best plan found is explained, not proven optimal"
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
    on_step: Step | None = None,
) -> Explanation:
    """Solve ``instance`` and explain the plan, or why there is none.

    ``all_values`` keeps marginal values that are zero (by default only non-zero ones are
    listed). ``time_limit`` (seconds) applies to the solve and to each diagnostic solve.
    ``on_step`` is told, in words, of each solve and diagnostic solve as it starts.
    """
    check_limits(time_limit, mip_gap)
    return explain_built(build(instance, objective), all_values=all_values,
                         time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                         on_step=on_step)
