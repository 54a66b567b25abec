"""Estate: which sites stay open, and which services use their space.

See ``models/estate.md``. Components: ``open``, ``use``; ``site_closure``, ``site_capacity``,
``space_need``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from hwbopt.model.algebra import constraint, quicksum, var
from hwbopt.model.component import (
    BINDING,
    FIRST,
    HARD,
    MARGINAL,
    SITES,
    STRESS_BINDING,
    Component,
    FamilyText,
    Index,
    Reach,
)
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import Labels, Phrase, State, num, per_year, singular, where
from hwbopt.model.terms import Terms
from hwbopt.schema import year_label

PAGE = "estate.md"


def add_estate(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    _variables(m, d)
    _site_closure(m, d)
    _space(m, d)
    _site_costs(m, d, terms)


def _variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    """open[s,y] binary: fixed at 1 for a site that cannot close, 0 for one lost;
    use[s,i,t,y] >= 0."""

    def open_bounds(m: pyo.ConcreteModel, s: str, y: int) -> tuple[float, float]:
        if not d.site[s].available:
            return (0.0, 0.0)  # lost: it closes in the first year, closure cost and receipt apply
        return (0.0 if d.site[s].can_close else 1.0, 1.0)

    var(m, "open", [(s, y) for s in d.SITES for y in d.YEARS], within=pyo.Binary,
        bounds=open_bounds)
    var(m, "use", [(s, i, t, y) for (s, i, t) in d.USE for y in d.YEARS],
        within=pyo.NonNegativeReals)


def _site_closure(m: pyo.ConcreteModel, d: ModelData) -> None:
    """open[s,y] <= open[s,y-1]."""
    constraint(m, "site_closure", [(s, y) for s in d.SITES for y in d.YEARS[1:]],
               rule=lambda m, s, y: m.open[s, y] <= m.open[s, y - 1])


def _space(m: pyo.ConcreteModel, d: ModelData) -> None:
    """sum_i use[s,i,t,y] <= capacity_st × open[s,y] where s may host some service;
    sum_(s in loc) use[s,i,t,y] = space_per_unit_it × activity[i,loc,y]."""
    users = defaultdict(list)  # (site, space type) -> interventions
    hosts = defaultdict(list)  # (intervention, space type, locality) -> sites
    for s, i, t in d.USE:
        users[s, t].append(i)
        hosts[i, t, d.site[s].locality].append(s)

    def capacity_rule(m: pyo.ConcreteModel, s: str, t: str, y: int) -> Any:
        if not users[s, t]:
            return pyo.Constraint.Skip
        return quicksum(m.use[s, i, t, y] for i in users[s, t]) <= (
            d.capacity[s, t] * m.open[s, y])

    constraint(m, "site_capacity", [(s, t, y) for (s, t) in d.SITE_SPACE for y in d.YEARS],
               rule=capacity_rule)

    def need_rule(m: pyo.ConcreteModel, i: str, t: str, loc: str, y: int) -> Any:
        return quicksum(m.use[s, i, t, y] for s in hosts[i, t, loc]) == (
            d.space_per_unit[i, t] * m.activity[i, loc, y])

    constraint(m, "space_need",
               [(i, t, loc, y) for (i, t) in d.SPACE_NEED for loc in d.localities_of(i)
                for y in d.YEARS],
               rule=need_rule)


def _site_costs(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    """The owner pays running costs while open and closure costs less receipts on closing;
    with charging by use, co-locating partners pay their share of the running cost."""
    Y = d.YEARS
    types_at = defaultdict(list)
    for s, t in d.SITE_SPACE:
        types_at[s].append(t)
    hosted = defaultdict(list)  # site -> (intervention, space type) it may host
    for s, i, t in d.USE:
        hosted[s].append((i, t))
    for s in d.SITES:
        info = d.site[s]
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


def site_shares(m: pyo.ConcreteModel, d: ModelData, s: str, y: int, types: list[str],
                hosted: list[tuple[str, str]]) -> dict[str | None, Any]:
    """{partner: expression of its share of site ``s`` in year ``y``} for co-locators."""
    owner = d.site[s].owner
    parts: dict[str | None, list[Any]] = defaultdict(list)
    for i, t in hosted:
        p = d.lead[i]
        if p != owner:
            parts[p].append(m.use[s, i, t, y] / (d.capacity[s, t] * len(types)))
    return {p: quicksum(v) for p, v in parts.items()}


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _closure_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    s, y = idx
    return per_year(f"{lab.site[s]} stays closed once closed", y, "holds", "sites")


def _capacity_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    s, t, y = idx
    u = lab.space_unit[t]
    return per_year(f"{lab.space[t]} at {lab.site[s]} ({num(d.capacity[s, t])} {u})", y,
                    "full", u)


def _space_need_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, t, loc, y = idx
    return per_year(f"{where(lab, i, loc)} has the {lab.space[t]} it needs", y, "holds",
                    lab.space_unit[t])


def _capacity_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    s, t, y = idx
    return (f"one more {singular(lab.space_unit[t])} of {lab.space[t]} at {lab.site[s]} in "
            f"{year_label(y)}")


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _open_reach(r: Reach) -> None:
    """A site's availability (and whether it may close) sets the column's bounds."""
    for (s, y), j in r.comp.cols("open").items():
        r.add("col_lower", j, "open_lb", (r.site[s], r.year[y]), 1.0)
        r.add("col_upper", j, "open_ub", (r.site[s], r.year[y]), 1.0)


FAMILIES = (FamilyText("space", "the space in open sites", place=9),)

COMPONENTS = (
    Component("open", "var", PAGE, "a site is open in a year",
              stage=FIRST,
              quantity=lambda lab, s, _y: f"{lab.site[s]} is open", reach={SITES: _open_reach}),
    Component("use", "var", PAGE, "space at a site used by an intervention",
              quantity=lambda lab, s, i, t, _y: f"{lab.space[t]} at {lab.site[s]} used by "
                                             f"{lab.intervention[i]}"),
    Component("site_closure", "con", PAGE, "a closed site stays closed", words=_closure_words),
    Component("site_capacity", "con", PAGE, "space used fits in an open site",
              words=_capacity_words, family="space", one_more=_capacity_one_more,
              roles={MARGINAL: 5, BINDING: 8, HARD: 6, STRESS_BINDING: 10}),
    Component("space_need", "con", PAGE,
              "activity in a locality has space in that locality's sites",
              words=_space_need_words, family="space"),
)
