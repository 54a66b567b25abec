"""Estate: which sites stay open, and which services use their space.

See ``models/estate.md``. Components: ``open``, ``use``; ``site_closure``, ``site_capacity``,
``space_need``.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def add_estate(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    Y = d.YEARS
    site = d.site
    def open_bounds(m, s, y):
        if not site[s].available:
            return (0.0, 0.0)  # lost: it closes in the first year, closure cost and receipt apply
        return (0.0 if site[s].can_close else 1.0, 1.0)

    m.open = pyo.Var([(s, y) for s in d.SITES for y in Y], within=pyo.Binary, bounds=open_bounds)
    m.use = pyo.Var([(s, i, t, y) for (s, i, t) in d.USE for y in Y],
                    within=pyo.NonNegativeReals)

    m.site_closure = pyo.Constraint(
        [(s, y) for s in d.SITES for y in Y[1:]],
        rule=lambda m, s, y: m.open[s, y] <= m.open[s, y - 1])

    users = defaultdict(list)  # (site, space type) -> interventions
    hosts = defaultdict(list)  # (intervention, space type, locality) -> sites
    for s, i, t in d.USE:
        users[s, t].append(i)
        hosts[i, t, site[s].locality].append(s)

    def capacity_rule(m, s, t, y):
        if not users[s, t]:
            return pyo.Constraint.Skip
        return pyo.quicksum(m.use[s, i, t, y] for i in users[s, t]) <= (
            d.capacity[s, t] * m.open[s, y])

    m.site_capacity = pyo.Constraint([(s, t, y) for (s, t) in d.SITE_SPACE for y in Y],
                                     rule=capacity_rule)

    def need_rule(m, i, t, loc, y):
        return pyo.quicksum(m.use[s, i, t, y] for s in hosts[i, t, loc]) == (
            d.space_per_unit[i, t] * m.activity[i, loc, y])

    m.space_need = pyo.Constraint(
        [(i, t, loc, y) for (i, t) in d.SPACE_NEED for loc in d.localities_of(i) for y in Y],
        rule=need_rule)

    types_at = defaultdict(list)
    for s, t in d.SITE_SPACE:
        types_at[s].append(t)
    hosted = defaultdict(list)  # site -> (intervention, space type) it may host
    for s, i, t in d.USE:
        hosted[s].append((i, t))
    for s in d.SITES:
        info = site[s]
        for k, y in enumerate(Y):
            before = 1.0 if k == 0 else m.open[s, Y[k - 1]]
            closing = before - m.open[s, y]
            terms.partner[info.owner, y].append(
                info.running_cost * m.open[s, y]
                + (info.closure_cost - info.receipt) * closing)
            if d.site_charging != "by_use" or not types_at[s]:
                continue
            # a co-locating partner pays the running cost in proportion to the share of the
            # site's space its services use (the mean over the site's space types)
            for p, share in site_shares(m, d, s, y, types_at[s], hosted[s]).items():
                charge = info.running_cost * share
                terms.partner[p, y].append(charge)
                terms.partner[info.owner, y].append(-charge)


def site_shares(m, d: ModelData, s: str, y: int, types: list[str], hosted: list):
    """{partner: expression of its share of site ``s`` in year ``y``} for co-locators."""
    owner = d.site[s].owner
    parts = defaultdict(list)
    for i, t in hosted:
        p = d.lead[i]
        if p != owner:
            parts[p].append(m.use[s, i, t, y] / (d.capacity[s, t] * len(types)))
    return {p: pyo.quicksum(v) for p, v in parts.items()}
