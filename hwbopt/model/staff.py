"""Staff: who is employed, who is recruited or released, and who serves which intervention.

See ``models/staff.md``. Components: ``recruit``, ``release``, ``in_post``, ``deploy``;
``staff_balance``, ``release_limit``, ``staff_capacity``, ``staffing``.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def add_staff(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    Y = d.YEARS
    line = d.staff
    pairs_y = [(e, r, y) for (e, r) in d.STAFF for y in Y]
    whole = pyo.NonNegativeIntegers if d.whole_posts else pyo.NonNegativeReals

    m.recruit = pyo.Var(pairs_y, within=whole,
                        bounds=lambda m, e, r, y: (0.0, line[e, r, y].recruit_limit))
    m.release = pyo.Var(pairs_y, within=whole)
    m.in_post = pyo.Var(pairs_y, within=pyo.NonNegativeReals)
    m.deploy = pyo.Var(list(d.DEPLOY), within=pyo.NonNegativeReals)

    def balance_rule(m, e, r, y):
        changes = pyo.quicksum(m.recruit[e, r, t] - m.release[e, r, t] for t in Y if t <= y)
        return m.in_post[e, r, y] == line[e, r, y].fte + changes

    m.staff_balance = pyo.Constraint(pairs_y, rule=balance_rule)

    def release_rule(m, e, r, y):
        before = line[e, r, y].fte if y == Y[0] else m.in_post[e, r, y - 1]
        return m.release[e, r, y] <= line[e, r, y].max_release * before

    m.release_limit = pyo.Constraint(pairs_y, rule=release_rule)

    serving = defaultdict(list)  # (employer, role, year) -> interventions
    staffed_by = defaultdict(list)  # (intervention, role, year) -> employers
    for e, r, i, y in d.DEPLOY:
        serving[e, r, y].append(i)
        staffed_by[i, r, y].append(e)

    def capacity_rule(m, e, r, y):
        if not serving[e, r, y]:
            return pyo.Constraint.Skip
        return pyo.quicksum(m.deploy[e, r, i, y] for i in serving[e, r, y]) <= m.in_post[e, r, y]

    m.staff_capacity = pyo.Constraint(pairs_y, rule=capacity_rule)

    def staffing_rule(m, i, r, y):
        used = d.fte_per_unit[i, r] * pyo.quicksum(
            m.activity[i, loc, y] for loc in d.localities_of(i))
        return pyo.quicksum(m.deploy[e, r, i, y] for e in staffed_by[i, r, y]) == used

    m.staffing = pyo.Constraint(
        [(i, r, y) for (i, r) in d.STAFFED for y in Y if d.localities_of(i)], rule=staffing_rule)

    for e, r, y in pairs_y:
        s = line[e, r, y]
        terms.partner[e, y].append(
            s.cost * m.in_post[e, r, y] + s.recruit_cost * m.recruit[e, r, y]
            + s.release_cost * m.release[e, r, y]
            - s.cost * pyo.quicksum(m.deploy[e, r, i, y] for i in serving[e, r, y]))
    for e, r, i, y in d.DEPLOY:
        terms.intervention[i, y].append(line[e, r, y].cost * m.deploy[e, r, i, y])
