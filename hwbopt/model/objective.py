"""The objective: ``outcome`` (weighted outcome less shortfall penalties) or ``cost``.

See ``models/objective.md``. Component: ``objective``. :func:`objective_constant` is the part
of the objective no decision moves (see "The MIP gap" there).
"""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.algebra import objective, quicksum
from hwbopt.model.component import COST, Component, FamilyText, Reach
from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def add_objective(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    """``cost``: minimise sum_y discount_y × (activity costs + every term that moves money);
    ``outcome``: maximise sum_(k,y) discount_y × (weight_k outcome[k,y] - penalty_k
    shortfall[k,y])."""
    if d.objective == "cost":
        # every pound that leaves any partner: activity, staff and set-up costs (funded), plus
        # pay bills, recruitment and estate net of recharges between partners (which cancel)
        activity = quicksum(
            d.discount[y] * d.unit_cost[i, y] * m.activity[i, loc, y]
            for (i, loc) in d.OFFERED for y in d.YEARS)
        funded = quicksum(d.discount[y] * t for (_i, y), ts in terms.intervention.items()
                              for t in ts)
        partners = quicksum(d.discount[y] * t for (_p, y), ts in terms.partner.items()
                                for t in ts)
        objective(m, activity + funded + partners, pyo.minimize)
        return
    value = quicksum(
        d.discount[y] * d.weight[k] * m.outcome[k, y] for k in d.PRIORITIES for y in d.YEARS)
    penalty = quicksum(
        d.discount[y] * d.penalty[k] * m.shortfall[k, y] for (k, y) in m.shortfall.index_set())
    objective(m, value - penalty, pyo.maximize)


def objective_constant(d: ModelData) -> float:
    """The objective's value that no decision can change, beyond the compiler's offset.

    ``outcome``: the discounted weighted baselines (outcome variables carry them through
    ``outcome_def``). ``cost``: the discounted pay of the staff in post before any recruitment
    or release (``in_post`` carries it through ``staff_balance``). HiGHS is given the objective
    less this, so a MIP gap is relative to what the plan controls.
    """
    if d.objective == "cost":
        return staff_pay_constant(d) if d.staff else 0.0
    return sum(d.discount[y] * d.weight[k] * d.baseline[k] for k in d.PRIORITIES
               for y in d.YEARS)


def staff_pay_constant(d: ModelData) -> float:
    """Discounted pay of the staff each line has before any change (the ``cost`` objective)."""
    return sum(d.discount[y] * line.cost * line.fte for (_e, _r, y), line in d.staff.items())


def _objective_reach(r: Reach) -> None:
    """Under the cost objective, discount_y × unit_cost[i,y] is the cost of each activity."""
    if r.d.objective != "cost":
        return
    for (i, _loc, y), j in r.comp.cols("activity").items():
        r.add("c", j, "unit_cost", (r.intervention[i], r.year[y]), r.d.discount[y])


FAMILIES: tuple[FamilyText, ...] = ()

COMPONENTS = (
    Component("objective", "obj", "objective.md", "what the plan optimises",
              reach={COST: _objective_reach}),
)
