"""Money: who pays for what, from which fund, within which budget.

See ``models/money.md``. Components: ``contribution``, ``spend_retained``, ``spend_fenced``,
``spend_pooled``, ``qipp_credit``; ``budget``, ``ring_fence``, ``pool_balance``,
``qipp_credit_limit``, ``funding``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import pyomo.environ as pyo

from hwbopt.model.algebra import constraint, quicksum, var
from hwbopt.model.component import (
    BINDING,
    COST,
    FIRST_YEAR,
    HARD,
    MARGINAL,
    MONEY,
    MONEY_GAP,
    STRESS_BINDING,
    Component,
    FamilyText,
    Index,
    Reach,
)
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import Labels, Phrase, State, per_year, possessive
from hwbopt.model.phrases import money as cash
from hwbopt.model.terms import Terms
from hwbopt.schema import year_label

PAGE = "money.md"

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _group(pairs: Iterable[T], key: Callable[[T], K], value: Callable[[T], V]) -> dict[K, list[V]]:
    out: dict[K, list[V]] = defaultdict(list)
    for t in pairs:
        out[key(t)].append(value(t))
    return out


def _creditors(d: ModelData) -> list[str]:
    """Partners with required savings and avoided costs to credit against them."""
    savers_avoid = _group(d.avoided, key=lambda t: t[1], value=lambda t: t[0])
    return [p for p in d.SAVERS if savers_avoid.get(p)]


def add_money(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    _variables(m, d)
    _budget(m, d, terms)
    _ring_fence(m, d)
    _pool_balance(m, d)
    _qipp_credit_limit(m, d)
    _funding(m, d, terms)


def _variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    """lo_pg × available[p,y] <= contribution[p,g,y] <= hi_pg × available[p,y];
    spend_retained, spend_fenced, spend_pooled >= 0;
    0 <= qipp_credit[p,y] <= savings_required[p,y]."""
    Y, money = d.YEARS, d.money

    def share_bounds(m: pyo.ConcreteModel, p: str, g: str, y: int) -> tuple[float, float]:
        return d.contribution_bounds[p, g, y]

    var(m, "contribution", [(p, g, y) for (p, g) in d.CONTRIBUTORS for y in Y],
        bounds=share_bounds)
    var(m, "spend_retained", [(p, i, y) for (p, i) in d.RETAINED for y in Y],
        within=pyo.NonNegativeReals)
    var(m, "spend_fenced", [(p, r, i, y) for (p, r, i) in d.FENCED for y in Y],
        within=pyo.NonNegativeReals)
    var(m, "spend_pooled", [(g, i, y) for (g, i) in d.POOLED for y in Y],
        within=pyo.NonNegativeReals)
    var(m, "qipp_credit", [(p, y) for p in _creditors(d) for y in Y],
        bounds=lambda m, p, y: (0.0, money[p, y]["savings_required"]))


def _budget(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    """sum_g contribution[p,g,y] + sum_i spend_retained[p,i,y] + staff and estate terms
    <= general[p,y] + qipp_credit[p,y], for partners with anything to pay."""
    remit = _group(d.RETAINED, key=lambda t: t[0], value=lambda t: t[1])
    pools_of = _group(d.CONTRIBUTORS, key=lambda t: t[0], value=lambda t: t[1])
    creditors = set(_creditors(d))

    def rule(m: pyo.ConcreteModel, p: str, y: int) -> Any:
        out = quicksum(m.contribution[p, g, y] for g in pools_of.get(p, ())) + quicksum(
            m.spend_retained[p, i, y] for i in remit.get(p, ())) + quicksum(
            terms.partner.get((p, y), ()))
        if not pools_of.get(p) and not remit.get(p) and not terms.partner.get((p, y)):
            return pyo.Constraint.Skip
        credit = m.qipp_credit[p, y] if p in creditors else 0.0
        return out <= d.money[p, y]["general"] + credit

    constraint(m, "budget", [(p, y) for p in d.PARTNERS for y in d.YEARS], rule=rule)


def _ring_fence(m: pyo.ConcreteModel, d: ModelData) -> None:
    """sum_i spend_fenced[p,r,i,y] <= share_pr × available[p,y]."""
    line_items = _group(d.FENCED, key=lambda t: (t[0], t[1]), value=lambda t: t[2])

    def rule(m: pyo.ConcreteModel, p: str, r: str, y: int) -> Any:
        return quicksum(m.spend_fenced[p, r, i, y] for i in line_items[p, r]) <= (
            d.fence_share[p, r] * d.money[p, y]["available"])

    constraint(m, "ring_fence", [(p, r, y) for (p, r) in d.LINES for y in d.YEARS], rule=rule)


def _pool_balance(m: pyo.ConcreteModel, d: ModelData) -> None:
    """sum_i spend_pooled[g,i,y] <= sum_p contribution[p,g,y]."""
    pool_items = _group(d.POOLED, key=lambda t: t[0], value=lambda t: t[1])
    members = _group(d.CONTRIBUTORS, key=lambda t: t[1], value=lambda t: t[0])

    def rule(m: pyo.ConcreteModel, g: str, y: int) -> Any:
        return quicksum(m.spend_pooled[g, i, y] for i in pool_items[g]) <= quicksum(
            m.contribution[p, g, y] for p in members[g])

    constraint(m, "pool_balance", [(g, y) for g in d.POOLS for y in d.YEARS], rule=rule)


def _qipp_credit_limit(m: pyo.ConcreteModel, d: ModelData) -> None:
    """qipp_credit[p,y] <= sum_(i,loc) avoided_ip × activity[i,loc,y]."""
    savers_avoid = _group(d.avoided, key=lambda t: t[1], value=lambda t: t[0])

    def rule(m: pyo.ConcreteModel, p: str, y: int) -> Any:
        return m.qipp_credit[p, y] <= quicksum(
            d.avoided[i, p] * m.activity[i, loc, y]
            for i in savers_avoid[p] for loc in d.localities_of(i))

    constraint(m, "qipp_credit_limit", [(p, y) for p in _creditors(d) for y in d.YEARS],
               rule=rule)


def _funding(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    """sum_loc unit_cost[i,y] × activity[i,loc,y] + staff and set-up terms
    = sum of spend_retained, spend_fenced and spend_pooled on i, for offered interventions."""
    routes_retained = _group(d.RETAINED, key=lambda t: t[1], value=lambda t: t[0])
    routes_fenced = _group(d.FENCED, key=lambda t: t[2], value=lambda t: (t[0], t[1]))
    routes_pooled = _group(d.POOLED, key=lambda t: t[1], value=lambda t: t[0])

    def rule(m: pyo.ConcreteModel, i: str, y: int) -> Any:
        cost = quicksum(d.unit_cost[i, y] * m.activity[i, loc, y]
                        for loc in d.localities_of(i)) + quicksum(
            terms.intervention.get((i, y), ()))
        paid = (
            quicksum(m.spend_retained[p, i, y] for p in routes_retained.get(i, ()))
            + quicksum(m.spend_fenced[p, r, i, y] for (p, r) in routes_fenced.get(i, ()))
            + quicksum(m.spend_pooled[g, i, y] for g in routes_pooled.get(i, ()))
        )
        return cost == paid

    constraint(m, "funding", [(i, y) for i in d.INTERVENTIONS for y in d.YEARS
                              if d.localities_of(i)], rule=rule)


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _budget_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    """A partner's general money. With savings credited from avoided costs, what is fully
    spent at the limit is the general money and the credit together (models/money.md)."""
    p, y = idx
    head = f"{lab.partner[p]} budget, {year_label(y)}"
    general = f"{cash(d.instance, d.money[p, y]['general'])} of general money"
    spent = general if state.credit <= 0 else (
        f"{general} and {cash(d.instance, state.credit)} of savings credited from avoided "
        "costs")
    return Phrase(f"{head} ({general})", f"{head} ({spent}): fully spent",
                  d.instance.money_label)


def _ring_fence_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    p, r, y = idx
    fenced = cash(d.instance, d.fence_share[p, r] * d.money[p, y]["available"])
    head = (f"{possessive(lab.partner[p])} ring-fenced line '{lab.line[p, r]}', "
            f"{year_label(y)} ({fenced})")
    return Phrase(head, f"{head}: fully spent", d.instance.money_label)


def _pool_balance_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    g, y = idx
    return per_year(lab.pool[g], y, "spends all it receives", d.instance.money_label)


def _qipp_limit_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    p, y = idx
    return per_year(f"{possessive(lab.partner[p])} savings credited from avoided costs", y,
                    "every avoided cost counted", d.instance.money_label)


def _funding_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{lab.intervention[i]} paid for in full", y, "paid",
                    d.instance.money_label)


def _budget_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    p, y = idx
    return (f"one more {d.instance.money_label} of general money for {lab.partner[p]} in "
            f"{year_label(y)}")


def _ring_fence_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    p, r, y = idx
    return (f"one more {d.instance.money_label} in {possessive(lab.partner[p])} ring-fenced "
            f"line '{lab.line[p, r]}' in {year_label(y)}")


def _pool_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    g, y = idx
    return f"one more {d.instance.money_label} put into {lab.pool[g]} in {year_label(y)}"


def _minimum_contribution(d: ModelData, idx: Index) -> float:
    """A contributor's minimum share of its available money (the lower bound)."""
    p, g, y = idx
    return d.contribution_bounds[p, g, y][0]


def _contribution_relaxation(d: ModelData, lab: Labels, idx: Index, amount: float) -> str:
    p, g, y = idx
    return (f"{possessive(lab.partner[p])} minimum contribution to {lab.pool[g]}, "
            f"{year_label(y)} must fall by {cash(d.instance, amount)} (from "
            f"{cash(d.instance, _minimum_contribution(d, idx))})")


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _budget_reach(r: Reach) -> None:
    """general[p,y] is the row's upper bound (beside the credit column)."""
    for (p, y), row in r.comp.rows("budget").items():
        r.add("row_upper", row, "general", (r.partner[p], r.year[y]), 1.0, delta=True)


def _ring_fence_reach(r: Reach) -> None:
    """share_pr × available[p,y] is the row's upper bound."""
    for (p, line, y), row in r.comp.rows("ring_fence").items():
        r.add("row_upper", row, "available", (r.partner[p], r.year[y]),
              r.d.fence_share[p, line], delta=True)


def _contribution_reach(r: Reach) -> None:
    """The pool share bounds times available money are the column's bounds."""
    for (p, g, y), j in r.comp.cols("contribution").items():
        at = (r.contributor[p, g], r.year[y])
        r.add("col_lower", j, "contrib_lo", at, 1.0)
        r.add("col_upper", j, "contrib_hi", at, 1.0)


def _qipp_credit_reach(r: Reach) -> None:
    """The savings required are the column's upper bound."""
    for (p, y), j in r.comp.cols("qipp_credit").items():
        r.add("col_upper", j, "required", (r.partner[p], r.year[y]), 1.0)


def _funding_reach(r: Reach) -> None:
    """unit_cost[i,y] is the coefficient of each of i's activity columns."""
    act = r.comp.cols("activity")
    for (i, y), row in r.comp.rows("funding").items():
        for loc in r.d.localities_of(i):
            r.add("A", r.a(row, act[i, loc, y]), "unit_cost", (r.intervention[i], r.year[y]),
                  1.0)


FAMILIES = (
    FamilyText("money", "the money available (budgets, ring-fences and pools)", place=2),
    FamilyText("pool_minimum", "the minimum pool contributions", place=6),
)

COMPONENTS = (
    Component("contribution", "var", PAGE, "money a partner puts into a pool",
              stage=FIRST_YEAR,
              quantity=lambda lab, p, g, _y: f"{possessive(lab.partner[p])} contribution to "
                                          f"{lab.pool[g]}",
              family="pool_minimum", relaxed="lower", reach={MONEY: _contribution_reach},
              relaxation=_contribution_relaxation, size=_minimum_contribution),
    Component("spend_retained", "var", PAGE, "a partner's own money spent on its remit",
              stage=FIRST_YEAR,
              quantity=lambda lab, p, i, _y: f"{possessive(lab.partner[p])} own money spent on "
                                          f"{lab.intervention[i]}"),
    Component("spend_fenced", "var", PAGE, "money spent from a ring-fenced line",
              stage=FIRST_YEAR,
              quantity=lambda lab, p, r, i, _y: f"money from {possessive(lab.partner[p])} line "
                                             f"'{lab.line[p, r]}' spent on "
                                             f"{lab.intervention[i]}"),
    Component("spend_pooled", "var", PAGE, "money a pool spends on an intervention",
              stage=FIRST_YEAR,
              quantity=lambda lab, g, i, _y: f"money {lab.pool[g]} spends on "
                                          f"{lab.intervention[i]}"),
    Component("qipp_credit", "var", PAGE,
              "avoided costs counted towards a partner's required savings",
              stage=FIRST_YEAR,
              quantity=lambda lab, p, _y: "avoided costs counted towards "
                                       f"{possessive(lab.partner[p])} savings",
              reach={MONEY: _qipp_credit_reach}),
    Component("budget", "con", PAGE, "a partner's general money in a year",
              words=_budget_words, family="money", one_more=_budget_one_more,
              roles={MARGINAL: 1, BINDING: 1, HARD: 1, MONEY_GAP: 1, STRESS_BINDING: 1},
              reach={MONEY: _budget_reach}),
    Component("ring_fence", "con", PAGE, "a ring-fenced line in a year",
              words=_ring_fence_words, family="money", one_more=_ring_fence_one_more,
              roles={MARGINAL: 2, BINDING: 2, HARD: 2, MONEY_GAP: 2, STRESS_BINDING: 2},
              reach={MONEY: _ring_fence_reach}),
    Component("pool_balance", "con", PAGE, "a pool spends no more than it receives",
              words=_pool_balance_words, family="money", one_more=_pool_one_more,
              roles={MARGINAL: 3, BINDING: 3, HARD: 3, MONEY_GAP: 3, STRESS_BINDING: 3}),
    Component("qipp_credit_limit", "con", PAGE, "savings credited are savings actually avoided",
              words=_qipp_limit_words, roles={BINDING: 4}),
    Component("funding", "con", PAGE, "an intervention's cost is paid in full",
              words=_funding_words, reach={COST: _funding_reach}),
)
