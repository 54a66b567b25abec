"""Activity: how much of each intervention runs where, and how fast it may change.

See ``models/activity.md``. Components: ``activity``, ``total_activity``; ``growth_limit``,
``reduction_limit``, ``total_activity_def``, ``equity_floor``.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from hwbopt.model.algebra import constraint, quicksum, var
from hwbopt.model.component import (
    BINDING,
    FIRST_YEAR,
    NEED,
    SOFT,
    STRESS_BINDING,
    Component,
    FamilyText,
    Index,
    Reach,
    Relaxation,
)
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import (
    Labels,
    Phrase,
    State,
    num,
    per_year,
    percent,
    possessive,
    where,
    yearly_limit,
)
from hwbopt.schema import year_label

PAGE = "activity.md"


def add_activity(m: pyo.ConcreteModel, d: ModelData) -> None:
    _activity(m, d)
    _growth_limit(m, d)
    _reduction_limit(m, d)
    _equity_floor(m, d)


def _activity(m: pyo.ConcreteModel, d: ModelData) -> None:
    """0 <= activity[i,loc,y] <= need[i,loc,y] for each (i, loc) offered."""
    var(m, "activity", [(i, loc, y) for (i, loc) in d.OFFERED for y in d.YEARS],
        bounds=lambda m, i, loc, y: (0.0, d.need[i, loc, y]))


def _previous(m: pyo.ConcreteModel, d: ModelData, i: str, loc: str, y: int) -> Any:
    """a[i,loc,y-1], or today's activity in the first year."""
    return d.current[i, loc] if y == d.YEARS[0] else m.activity[i, loc, y - 1]


def _growth_limit(m: pyo.ConcreteModel, d: ModelData) -> None:
    """a[i,loc,y] <= (1 + rate_i) a[i,loc,y-1] + of_need_i need[i,loc,y], where i has a rate."""

    rates = {i: rate for i, (rate, _) in d.growth.items() if rate is not None}

    def rule(m: pyo.ConcreteModel, i: str, loc: str, y: int) -> Any:
        of_need = d.growth[i][1]
        return m.activity[i, loc, y] <= (1.0 + rates[i]) * _previous(m, d, i, loc, y) + (
            of_need * d.need[i, loc, y])

    constraint(m, "growth_limit",
               [(i, loc, y) for (i, loc) in d.OFFERED for y in d.YEARS if i in rates], rule=rule)


def _reduction_limit(m: pyo.ConcreteModel, d: ModelData) -> None:
    """a[i,loc,y] >= (1 - reduction_i) a[i,loc,y-1], where i has a reduction limit."""

    limits = {i: r for i, r in d.reduction.items() if r is not None}

    def rule(m: pyo.ConcreteModel, i: str, loc: str, y: int) -> Any:
        return m.activity[i, loc, y] >= (1.0 - limits[i]) * _previous(m, d, i, loc, y)

    constraint(m, "reduction_limit",
               [(i, loc, y) for (i, loc) in d.OFFERED for y in d.YEARS if i in limits], rule=rule)


def _equity_floor(m: pyo.ConcreteModel, d: ModelData) -> None:
    """total_activity[i,y] = sum_loc a[i,loc,y];
    a[i,loc,y] >= phi × need[i,loc,y] / sum_loc need[i,loc,y] × total_activity[i,y]
    for interventions offered in more than one locality, where that locality has need."""
    phi = d.equity_floor or 0.0
    spread = [i for i in d.INTERVENTIONS if phi and len(d.localities_of(i)) > 1]
    total_need = {(i, y): sum(d.need[i, loc, y] for loc in d.localities_of(i))
                  for i in spread for y in d.YEARS}
    # the area total gets its own variable so each floor row has two entries, not one per
    # locality, and coefficients stay within [0, 1] (need shares) whatever the scale of need
    var(m, "total_activity", [(i, y) for i in spread for y in d.YEARS],
        within=pyo.NonNegativeReals)
    constraint(m, "total_activity_def", list(m.total_activity.index_set()),
               rule=lambda m, i, y: m.total_activity[i, y] == quicksum(
                   m.activity[i, loc, y] for loc in d.localities_of(i)))

    def rule(m: pyo.ConcreteModel, i: str, loc: str, y: int) -> Any:
        if total_need[i, y] <= 0 or d.need[i, loc, y] <= 0:
            return pyo.Constraint.Skip
        share = d.need[i, loc, y] / total_need[i, y]
        return m.activity[i, loc, y] >= phi * share * m.total_activity[i, y]

    constraint(m, "equity_floor",
               [(i, loc, y) for i in spread for loc in d.localities_of(i) for y in d.YEARS],
               rule=rule)


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _growth_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, loc, y = idx
    rate, of_need = d.growth[i]
    extra = f" plus {percent(of_need)} of need" if of_need else ""
    return yearly_limit(f"{where(lab, i, loc)} may grow at most "
                        f"{percent(rate or 0.0)} a year{extra}", y,
                        lab.intervention_unit[i])


def _reduction_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, loc, y = idx
    return yearly_limit(f"{where(lab, i, loc)} may shrink at most "
                        f"{percent(d.reduction[i] or 0.0)} a year", y,
                        lab.intervention_unit[i])


def _equity_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, loc, y = idx
    return yearly_limit(
        f"{where(lab, i, loc)} must reach at least {percent(d.equity_floor or 0.0)} "
        "of the whole area's coverage (the equity floor)", y,
        lab.intervention_unit[i], "at the floor")


def _total_def_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{possessive(lab.intervention[i])} area total", y,
                    "adds up its localities", lab.intervention_unit[i])


def _change_relaxation(verb: str) -> Relaxation:
    def words(d: ModelData, lab: Labels, idx: Index, amount: float) -> str:
        i, loc, y = idx
        return (f"{where(lab, i, loc)} must be allowed to {verb} {num(amount)} "
                f"{lab.intervention_unit[i]} more than its limit in {year_label(y)}")
    return words


def _equity_relaxation(d: ModelData, lab: Labels, idx: Index, amount: float) -> str:
    i, loc, y = idx
    return (f"{where(lab, i, loc)} must be allowed {num(amount)} "
            f"{lab.intervention_unit[i]} below the equity floor in {year_label(y)}")


def _need_size(d: ModelData, idx: Index) -> float:
    i, loc, y = idx
    return d.need[i, loc, y]


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _activity_reach(r: Reach) -> None:
    """need[o,y] is the column's upper bound."""
    for (i, loc, y), j in r.comp.cols("activity").items():
        r.add("col_upper", j, "need", (r.offered[i, loc], r.year[y]), 1.0)


def _growth_reach(r: Reach) -> None:
    """of_need_i × need[o,y] is part of the row's upper bound (with today's activity)."""
    for (i, loc, y), row in r.comp.rows("growth_limit").items():
        r.add("row_upper", row, "need", (r.offered[i, loc], r.year[y]), r.d.growth[i][1],
              delta=True)


def _equity_reach(r: Reach) -> None:
    """-phi × need share: a ratio of two needs, so its own derived number."""
    total = r.comp.cols("total_activity")
    for (i, loc, y), row in r.comp.rows("equity_floor").items():
        r.add("A", r.a(row, total[i, y]), "need_share", (r.offered[i, loc], r.year[y]),
              -(r.d.equity_floor or 0.0))


FAMILIES = (
    FamilyText("need", "the need for each intervention (its maximum activity)", place=3),
    FamilyText("reduction_limit", "the limits on how fast services may shrink", place=4),
    FamilyText("growth_limit", "the limits on how fast services may grow", place=5),
    FamilyText("equity_floor", "the equity floor between localities", place=7),
)

COMPONENTS = (
    Component("activity", "var", PAGE, "units of an intervention run in a locality",
              stage=FIRST_YEAR,
              quantity=lambda lab, i, loc, _y: f"activity of {where(lab, i, loc)}",
              family="need", relaxed="upper", reach={NEED: _activity_reach}),
    Component("growth_limit", "con", PAGE, "how much an intervention may grow in a year",
              words=_growth_words, family="growth_limit",
              roles={BINDING: 10, SOFT: 2, STRESS_BINDING: 5}, reach={NEED: _growth_reach},
              relaxation=_change_relaxation("grow"), size=_need_size),
    Component("reduction_limit", "con", PAGE, "how much an intervention may shrink in a year",
              words=_reduction_words, family="reduction_limit",
              roles={BINDING: 11, SOFT: 3, STRESS_BINDING: 6},
              relaxation=_change_relaxation("shrink"), size=_need_size),
    Component("equity_floor", "con", PAGE, "each locality's coverage against the whole area's",
              words=_equity_words, family="equity_floor",
              roles={BINDING: 12, SOFT: 4, STRESS_BINDING: 7}, reach={NEED: _equity_reach},
              relaxation=_equity_relaxation, size=_need_size),
    Component("total_activity", "var", PAGE, "an intervention's activity over the whole area",
              stage=FIRST_YEAR,
              quantity=lambda lab, i, _y: f"{possessive(lab.intervention[i])} area total"),
    Component("total_activity_def", "con", PAGE, "the area total adds up the localities",
              words=_total_def_words),
)
