"""The objective: ``outcome`` (weighted outcome less shortfall penalties) or ``cost``.

See ``models/objective.md``. Component: ``objective``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def add_objective(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    if d.objective == "cost":
        # every pound that leaves any partner: activity, staff and set-up costs (funded), plus
        # pay bills, recruitment and estate net of recharges between partners (which cancel)
        activity = pyo.quicksum(
            d.discount[y] * d.unit_cost[i, y] * m.activity[i, loc, y]
            for (i, loc) in d.OFFERED for y in d.YEARS)
        funded = pyo.quicksum(d.discount[y] * t for (_i, y), ts in terms.intervention.items()
                              for t in ts)
        partners = pyo.quicksum(d.discount[y] * t for (_p, y), ts in terms.partner.items()
                                for t in ts)
        m.objective = pyo.Objective(expr=activity + funded + partners, sense=pyo.minimize)
        return
    value = pyo.quicksum(
        d.discount[y] * d.weight[k] * m.outcome[k, y] for k in d.PRIORITIES for y in d.YEARS)
    penalty = pyo.quicksum(
        d.discount[y] * d.penalty[k] * m.shortfall[k, y] for (k, y) in m.shortfall.index_set())
    m.objective = pyo.Objective(expr=value - penalty, sense=pyo.maximize)
