"""The objective: ``outcome`` (weighted outcome less shortfall penalties) or ``cost``.

See ``models/objective.md``. Component: ``objective``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.data import ModelData


def add_objective(m: pyo.ConcreteModel, d: ModelData) -> None:
    if d.objective == "cost":
        m.objective = pyo.Objective(
            expr=pyo.quicksum(
                d.discount[y] * d.unit_cost[i, y] * m.activity[i, loc, y]
                for (i, loc) in d.OFFERED for y in d.YEARS),
            sense=pyo.minimize)
        return
    value = pyo.quicksum(
        d.discount[y] * d.weight[k] * m.outcome[k, y] for k in d.PRIORITIES for y in d.YEARS)
    penalty = pyo.quicksum(
        d.discount[y] * d.penalty[k] * m.shortfall[k, y] for (k, y) in m.shortfall.index_set())
    m.objective = pyo.Objective(expr=value - penalty, sense=pyo.maximize)
