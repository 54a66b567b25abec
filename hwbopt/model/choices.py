"""Go/no-go: run an intervention at least at its minimum viable scale, or not at all.

See ``models/choices.md``. Components: ``run``, ``start``; ``run_min``, ``run_max``,
``start_def``, ``start_run``, ``start_new``, ``exclusive``, ``dependency``,
``dependency_activity``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def add_choices(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    Y = d.YEARS
    run_y = [(i, y) for i in d.CHOICES for y in Y]
    m.run = pyo.Var(run_y, within=pyo.Binary)
    paid = [i for i in d.CHOICES if d.setup_cost[i] > 0]
    m.start = pyo.Var([(i, y) for i in paid for y in Y], bounds=(0.0, 1.0))

    def total(m, i, y):
        return pyo.quicksum(m.activity[i, loc, y] for loc in d.localities_of(i))

    m.run_min = pyo.Constraint(
        [(i, y) for (i, y) in run_y if d.min_scale[i] > 0],
        rule=lambda m, i, y: total(m, i, y) >= d.min_scale[i] * m.run[i, y])

    def max_rule(m, i, y):
        need = sum(d.need[i, loc, y] for loc in d.localities_of(i))
        return total(m, i, y) <= need * m.run[i, y]

    m.run_max = pyo.Constraint(run_y, rule=max_rule)

    def start_rule(m, i, y):
        before = (1.0 if d.running_before[i] else 0.0) if y == Y[0] else m.run[i, y - 1]
        return m.start[i, y] >= m.run[i, y] - before

    m.start_def = pyo.Constraint([(i, y) for i in paid for y in Y], rule=start_rule)

    # start is exactly "runs now and did not run before", so a set-up cost is never paid for
    # a service that did not start (even where money does not bind)
    def start_run_rule(m, i, y):
        return m.start[i, y] <= m.run[i, y]

    def start_new_rule(m, i, y):
        if y == Y[0]:
            return m.start[i, y] <= (0.0 if d.running_before[i] else 1.0)
        return m.start[i, y] <= 1 - m.run[i, y - 1]

    m.start_run = pyo.Constraint([(i, y) for i in paid for y in Y], rule=start_run_rule)
    m.start_new = pyo.Constraint([(i, y) for i in paid for y in Y], rule=start_new_rule)
    for i in paid:
        for y in Y:
            terms.intervention[i, y].append(d.setup_cost[i] * m.start[i, y])

    groups = dict(d.EXCLUSIVE)
    m.exclusive = pyo.Constraint(
        [(g, y) for g in groups for y in Y],
        rule=lambda m, g, y: pyo.quicksum(m.run[i, y] for i in groups[g]) <= 1)
    m.dependency = pyo.Constraint(
        [(i, j, y) for (i, j) in d.DEPENDS for y in Y],
        rule=lambda m, i, j, y: m.run[i, y] <= m.run[j, y])
    # a required service that "runs" at zero activity satisfies nothing: it must deliver. One
    # with a minimum scale already does (run_min); one without must reach required_activity
    m.dependency_activity = pyo.Constraint(
        [(i, j, y) for (i, j) in d.DEPENDS if d.min_scale[j] <= 0 for y in Y],
        rule=lambda m, i, j, y: total(m, j, y) >= d.required_activity(j, y) * m.run[i, y])
