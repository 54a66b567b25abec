"""Money: who pays for what, from which fund, within which budget.

See ``models/money.md``. Components: ``contribution``, ``spend_retained``, ``spend_fenced``,
``spend_pooled``, ``qipp_credit``; ``budget``, ``ring_fence``, ``pool_balance``,
``qipp_credit_limit``, ``funding``.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from hwbopt.model.data import ModelData
from hwbopt.model.terms import Terms


def _group(pairs, key, value):
    out = defaultdict(list)
    for t in pairs:
        out[key(t)].append(value(t))
    return out


def add_money(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    Y = d.YEARS
    money = d.money

    def share_bounds(m, p, g, y):
        lo, hi = d.share_bounds[p, g]
        return (lo * money[p, y]["available"], hi * money[p, y]["available"])

    m.contribution = pyo.Var([(p, g, y) for (p, g) in d.CONTRIBUTORS for y in Y],
                             bounds=share_bounds)
    m.spend_retained = pyo.Var([(p, i, y) for (p, i) in d.RETAINED for y in Y],
                               within=pyo.NonNegativeReals)
    m.spend_fenced = pyo.Var([(p, r, i, y) for (p, r, i) in d.FENCED for y in Y],
                             within=pyo.NonNegativeReals)
    m.spend_pooled = pyo.Var([(g, i, y) for (g, i) in d.POOLED for y in Y],
                             within=pyo.NonNegativeReals)

    savers_avoid = _group(d.avoided, key=lambda t: t[1], value=lambda t: t[0])
    creditors = [p for p in d.SAVERS if savers_avoid.get(p)]
    m.qipp_credit = pyo.Var([(p, y) for p in creditors for y in Y],
                            bounds=lambda m, p, y: (0.0, money[p, y]["savings_required"]))

    remit = _group(d.RETAINED, key=lambda t: t[0], value=lambda t: t[1])
    pools_of = _group(d.CONTRIBUTORS, key=lambda t: t[0], value=lambda t: t[1])

    def budget_rule(m, p, y):
        out = pyo.quicksum(m.contribution[p, g, y] for g in pools_of.get(p, ())) + pyo.quicksum(
            m.spend_retained[p, i, y] for i in remit.get(p, ())) + pyo.quicksum(
            terms.partner.get((p, y), ()))
        if not pools_of.get(p) and not remit.get(p) and not terms.partner.get((p, y)):
            return pyo.Constraint.Skip
        credit = m.qipp_credit[p, y] if p in creditors else 0.0
        return out <= money[p, y]["general"] + credit

    m.budget = pyo.Constraint([(p, y) for p in d.PARTNERS for y in Y], rule=budget_rule)

    line_items = _group(d.FENCED, key=lambda t: (t[0], t[1]), value=lambda t: t[2])

    def fence_rule(m, p, r, y):
        return pyo.quicksum(m.spend_fenced[p, r, i, y] for i in line_items[p, r]) <= (
            d.fence_share[p, r] * money[p, y]["available"])

    m.ring_fence = pyo.Constraint([(p, r, y) for (p, r) in d.LINES for y in Y], rule=fence_rule)

    pool_items = _group(d.POOLED, key=lambda t: t[0], value=lambda t: t[1])
    members = _group(d.CONTRIBUTORS, key=lambda t: t[1], value=lambda t: t[0])

    def pool_rule(m, g, y):
        return pyo.quicksum(m.spend_pooled[g, i, y] for i in pool_items[g]) <= pyo.quicksum(
            m.contribution[p, g, y] for p in members[g])

    m.pool_balance = pyo.Constraint([(g, y) for g in d.POOLS for y in Y], rule=pool_rule)

    def credit_rule(m, p, y):
        return m.qipp_credit[p, y] <= pyo.quicksum(
            d.avoided[i, p] * m.activity[i, loc, y]
            for i in savers_avoid[p] for loc in d.localities_of(i))

    m.qipp_credit_limit = pyo.Constraint([(p, y) for p in creditors for y in Y],
                                         rule=credit_rule)

    routes_retained = _group(d.RETAINED, key=lambda t: t[1], value=lambda t: t[0])
    routes_fenced = _group(d.FENCED, key=lambda t: t[2], value=lambda t: (t[0], t[1]))
    routes_pooled = _group(d.POOLED, key=lambda t: t[1], value=lambda t: t[0])

    def funding_rule(m, i, y):
        cost = pyo.quicksum(d.unit_cost[i, y] * m.activity[i, loc, y]
                            for loc in d.localities_of(i)) + pyo.quicksum(
            terms.intervention.get((i, y), ()))
        paid = (
            pyo.quicksum(m.spend_retained[p, i, y] for p in routes_retained.get(i, ()))
            + pyo.quicksum(m.spend_fenced[p, r, i, y] for (p, r) in routes_fenced.get(i, ()))
            + pyo.quicksum(m.spend_pooled[g, i, y] for g in routes_pooled.get(i, ()))
        )
        return cost == paid

    m.funding = pyo.Constraint([(i, y) for i in d.INTERVENTIONS for y in Y
                                if d.localities_of(i)], rule=funding_rule)
