"""Activity: how much of each intervention runs where, and how fast it may change.

See ``models/activity.md``. Components: ``activity``; ``growth_limit``, ``reduction_limit``,
``equity_floor``.
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

    if d.equity_floor:
        phi = d.equity_floor
        spread = [(i, loc, y) for (i, loc, y) in offered_y if len(d.localities_of(i)) > 1]

        def equity_rule(m, i, loc, y):
            places = d.localities_of(i)
            total_need = sum(d.need[i, other, y] for other in places)
            if total_need <= 0 or d.need[i, loc, y] <= 0:
                return pyo.Constraint.Skip
            return m.activity[i, loc, y] * total_need >= phi * d.need[i, loc, y] * pyo.quicksum(
                m.activity[i, other, y] for other in places)

        m.equity_floor = pyo.Constraint(spread, rule=equity_rule)
