"""Staff: who is employed, who is recruited or released, and who serves which intervention.

See ``models/staff.md``. Components: ``recruit``, ``release``, ``in_post``, ``deploy``;
``staff_balance``, ``release_limit``, ``staff_capacity``, ``staffing``.
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
    STAFF,
    STRESS_BINDING,
    Component,
    FamilyText,
    Index,
    Reach,
)
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import (
    Labels,
    Phrase,
    State,
    num,
    per_year,
    percent,
    staff_subject,
    yearly_limit,
)
from hwbopt.model.phrases import money as cash
from hwbopt.model.terms import Terms
from hwbopt.schema import year_label

PAGE = "staff.md"


def add_staff(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    _variables(m, d)
    _staff_balance(m, d)
    _release_limit(m, d)
    serving = _deployment(m, d)
    _pay(m, d, terms, serving)


def _lines(d: ModelData) -> list[tuple[str, str, int]]:
    """(employer, role, year) of every staff line."""
    return [(e, r, y) for (e, r) in d.STAFF for y in d.YEARS]


def _variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    """0 <= recruit[e,r,y] <= recruit_limit; release, in_post, deploy >= 0 (whole posts:
    recruit and release integer)."""
    whole = pyo.NonNegativeIntegers if d.whole_posts else pyo.NonNegativeReals
    var(m, "recruit", _lines(d), within=whole,
        bounds=lambda m, e, r, y: (0.0, d.staff[e, r, y].recruit_limit))
    var(m, "release", _lines(d), within=whole)
    var(m, "in_post", _lines(d), within=pyo.NonNegativeReals)
    var(m, "deploy", list(d.DEPLOY), within=pyo.NonNegativeReals)


def _staff_balance(m: pyo.ConcreteModel, d: ModelData) -> None:
    """in_post[e,r,y] = fte[e,r,y] + sum_(t<=y) (recruit[e,r,t] - release[e,r,t])."""

    def rule(m: pyo.ConcreteModel, e: str, r: str, y: int) -> Any:
        changes = quicksum(m.recruit[e, r, t] - m.release[e, r, t]
                           for t in d.YEARS if t <= y)
        return m.in_post[e, r, y] == d.staff[e, r, y].fte + changes

    constraint(m, "staff_balance", _lines(d), rule=rule)


def _release_limit(m: pyo.ConcreteModel, d: ModelData) -> None:
    """release[e,r,y] <= max_release × in_post[e,r,y-1] (fte in the first year)."""

    def rule(m: pyo.ConcreteModel, e: str, r: str, y: int) -> Any:
        line = d.staff[e, r, y]
        before = line.fte if y == d.YEARS[0] else m.in_post[e, r, y - 1]
        return m.release[e, r, y] <= line.max_release * before

    constraint(m, "release_limit", _lines(d), rule=rule)


def _deployment(m: pyo.ConcreteModel, d: ModelData) -> dict[tuple[str, str, int], list[str]]:
    """sum_i deploy[e,r,i,y] <= in_post[e,r,y] where e's role r serves anything;
    sum_e deploy[e,r,i,y] = fte_per_unit_ir × sum_loc activity[i,loc,y].

    Returns the interventions each (employer, role, year) may serve."""
    serving = defaultdict(list)  # (employer, role, year) -> interventions
    staffed_by = defaultdict(list)  # (intervention, role, year) -> employers
    for e, r, i, y in d.DEPLOY:
        serving[e, r, y].append(i)
        staffed_by[i, r, y].append(e)

    def capacity_rule(m: pyo.ConcreteModel, e: str, r: str, y: int) -> Any:
        if not serving[e, r, y]:
            return pyo.Constraint.Skip
        return quicksum(m.deploy[e, r, i, y] for i in serving[e, r, y]) <= m.in_post[e, r, y]

    constraint(m, "staff_capacity", _lines(d), rule=capacity_rule)

    def staffing_rule(m: pyo.ConcreteModel, i: str, r: str, y: int) -> Any:
        used = d.fte_per_unit[i, r] * quicksum(
            m.activity[i, loc, y] for loc in d.localities_of(i))
        return quicksum(m.deploy[e, r, i, y] for e in staffed_by[i, r, y]) == used

    constraint(m, "staffing",
               [(i, r, y) for (i, r) in d.STAFFED for y in d.YEARS if d.localities_of(i)],
               rule=staffing_rule)
    return serving


def _pay(m: pyo.ConcreteModel, d: ModelData, terms: Terms,
         serving: dict[tuple[str, str, int], list[str]]) -> None:
    """The employer pays in-post, recruitment and release costs, less the pay of staff
    deployed to interventions, whose funders pay it instead."""
    for e, r, y in _lines(d):
        s = d.staff[e, r, y]
        terms.partner[e, y].append(
            s.cost * m.in_post[e, r, y] + s.recruit_cost * m.recruit[e, r, y]
            + s.release_cost * m.release[e, r, y]
            - s.cost * quicksum(m.deploy[e, r, i, y] for i in serving[e, r, y]))
    for e, r, i, y in d.DEPLOY:
        terms.intervention[i, y].append(d.staff[e, r, y].cost * m.deploy[e, r, i, y])


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _balance_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    e, r, y = idx
    fte = d.staff[e, r, y].fte
    return per_year(f"{staff_subject(lab, e, r)} in post ({num(fte)} FTE before recruitment "
                    "and release)", y, "holds", "FTE")


def _release_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    e, r, y = idx
    share = d.staff[e, r, y].max_release
    limit = f"at most {percent(share)} of" if share > 0 else "none of"
    return yearly_limit(f"{lab.partner[e]} may release {limit} its {lab.role[r]} staff a "
                        "year", y, "FTE")


def _capacity_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    e, r, y = idx
    return per_year(staff_subject(lab, e, r), y, "all deployed", "FTE")


def _staffing_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, r, y = idx
    return per_year(f"{lab.intervention[i]} fully staffed with {lab.role[r]}", y, "holds",
                    "FTE")


def _balance_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    e, r, y = idx
    pay = cash(d.instance, d.staff[e, r, y].cost)
    return (f"one more FTE {lab.role[r]} employed by {lab.partner[e]} in {year_label(y)} "
            f"(paid {pay} a year)")


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _recruit_reach(r: Reach) -> None:
    """The recruitment limit is the column's upper bound."""
    for (e, role, y), j in r.comp.cols("recruit").items():
        r.add("col_upper", j, "recruit", (r.staff[e, role], r.year[y]), 1.0)


def _balance_reach(r: Reach) -> None:
    """fte[e,r,y] is the row's right-hand side."""
    for (e, role, y), row in r.comp.rows("staff_balance").items():
        at = (r.staff[e, role], r.year[y])
        r.add("row_lower", row, "fte", at, 1.0, delta=True)
        r.add("row_upper", row, "fte", at, 1.0, delta=True)


def _release_reach(r: Reach) -> None:
    """max_release × fte is the first year's upper bound (later years use in_post)."""
    first = r.d.YEARS[0]
    for (e, role, y), row in r.comp.rows("release_limit").items():
        if y == first:
            r.add("row_upper", row, "fte", (r.staff[e, role], 0),
                  r.d.staff[e, role, y].max_release, delta=True)


FAMILIES = (
    FamilyText("staff", "the staff available in each role (and recruitment limits)", place=8),
)

COMPONENTS = (
    Component("recruit", "var", PAGE, "FTE recruited in a role in a year",
              stage=FIRST,
              quantity=lambda lab, e, r, _y: f"{staff_subject(lab, e, r)} recruited",
              reach={STAFF: _recruit_reach}),
    Component("release", "var", PAGE, "FTE released (redeployed out) in a year",
              stage=FIRST,
              quantity=lambda lab, e, r, _y: f"{staff_subject(lab, e, r)} released"),
    Component("in_post", "var", PAGE, "FTE an employer has in post in a role",
              quantity=lambda lab, e, r, _y: f"{staff_subject(lab, e, r)} in post"),
    Component("deploy", "var", PAGE, "FTE of an employer's role serving an intervention",
              quantity=lambda lab, e, r, i, _y: f"{staff_subject(lab, e, r)} serving "
                                             f"{lab.intervention[i]}"),
    Component("staff_balance", "con", PAGE, "staff in post follow recruitment and release",
              words=_balance_words, one_more=_balance_one_more, roles={MARGINAL: 4},
              reach={STAFF: _balance_reach}),
    Component("release_limit", "con", PAGE, "how many staff may be released a year",
              words=_release_words, roles={BINDING: 7, HARD: 5, STRESS_BINDING: 9},
              reach={STAFF: _release_reach}),
    Component("staff_capacity", "con", PAGE, "no more staff deployed than in post",
              words=_capacity_words, family="staff",
              roles={BINDING: 6, HARD: 4, STRESS_BINDING: 8}),
    Component("staffing", "con", PAGE, "an intervention's activity is fully staffed",
              words=_staffing_words),
)
