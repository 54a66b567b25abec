"""Activity: how much of each intervention runs where, and how fast it may change.

See ``models/activity.md``. Components: ``activity``, ``total_activity``; ``growth_limit``,
``reduction_limit``, ``total_activity_def``, ``equity_floor``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.data import ModelData


def add_activity(m: pyo.ConcreteModel, d: ModelData) -> None:
    offered_y = [(i, loc, y) for (i, loc) in d.OFFERED for y in d.YEARS]
    m.activity = pyo.Var(offered_y, bounds=lambda m, i, loc, y: (0.0, d.need[i, loc, y]))

    def previous(i, loc, y):
        return d.current[i, loc] if y == d.YEARS[0] else m.activity[i, loc, y - 1]

    grow = [(i, loc, y) for (i, loc, y) in offered_y if d.growth[i][0] is not None]

    def growth_rule(m, i, loc, y):
        rate, of_need = d.growth[i]
        return m.activity[i, loc, y] <= (1.0 + rate) * previous(i, loc, y) + of_need * d.need[
            i, loc, y]

    m.growth_limit = pyo.Constraint(grow, rule=growth_rule)

    shrink = [(i, loc, y) for (i, loc, y) in offered_y if d.reduction[i] is not None]

    def reduction_rule(m, i, loc, y):
        return m.activity[i, loc, y] >= (1.0 - d.reduction[i]) * previous(i, loc, y)

    m.reduction_limit = pyo.Constraint(shrink, rule=reduction_rule)

    phi = d.equity_floor or 0.0
    spread = [i for i in d.INTERVENTIONS if phi and len(d.localities_of(i)) > 1]
    total_need = {(i, y): sum(d.need[i, loc, y] for loc in d.localities_of(i))
                  for i in spread for y in d.YEARS}
    # the area total gets its own variable so each floor row has two entries, not one per
    # locality, and coefficients stay within [0, 1] (need shares) whatever the scale of need
    m.total_activity = pyo.Var([(i, y) for i in spread for y in d.YEARS],
                               within=pyo.NonNegativeReals)
    m.total_activity_def = pyo.Constraint(
        list(m.total_activity.index_set()),
        rule=lambda m, i, y: m.total_activity[i, y] == pyo.quicksum(
            m.activity[i, loc, y] for loc in d.localities_of(i)))

    def equity_rule(m, i, loc, y):
        if total_need[i, y] <= 0 or d.need[i, loc, y] <= 0:
            return pyo.Constraint.Skip
        share = d.need[i, loc, y] / total_need[i, y]
        return m.activity[i, loc, y] >= phi * share * m.total_activity[i, y]

    m.equity_floor = pyo.Constraint(
        [(i, loc, y) for i in spread for loc in d.localities_of(i) for y in d.YEARS],
        rule=equity_rule)
