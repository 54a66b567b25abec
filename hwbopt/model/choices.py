"""Go/no-go: run an intervention at least at its minimum viable scale, or not at all.

See ``models/choices.md``. Components: ``run``, ``start``; ``run_min``, ``run_max``,
``start_def``, ``start_run``, ``start_new``, ``exclusive``, ``dependency``,
``dependency_activity``.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from hwbopt.model.algebra import constraint, quicksum, var
from hwbopt.model.component import (
    BINDING,
    FIRST,
    HARD,
    NEED,
    SOFT,
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
    listing,
    num,
    per_year,
    possessive,
    singular,
    yearly_limit,
)
from hwbopt.model.terms import Terms
from hwbopt.schema import year_label

PAGE = "choices.md"


def add_choices(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    _variables(m, d)
    _scale(m, d)
    _start(m, d, terms)
    _exclusive(m, d)
    _dependency(m, d)


def _paid(d: ModelData) -> list[str]:
    """Go/no-go interventions with a set-up cost."""
    return [i for i in d.CHOICES if d.setup_cost[i] > 0]


def _total(m: pyo.ConcreteModel, d: ModelData, i: str, y: int) -> Any:
    """sum_loc activity[i,loc,y]."""
    return quicksum(m.activity[i, loc, y] for loc in d.localities_of(i))


def _variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    """run[i,y] binary; 0 <= start[i,y] <= 1 where i has a set-up cost."""
    var(m, "run", [(i, y) for i in d.CHOICES for y in d.YEARS], within=pyo.Binary)
    var(m, "start", [(i, y) for i in _paid(d) for y in d.YEARS], bounds=(0.0, 1.0))


def _scale(m: pyo.ConcreteModel, d: ModelData) -> None:
    """total[i,y] >= min_scale_i × run[i,y] (where i has one);
    total[i,y] <= sum_loc need[i,loc,y] × run[i,y]."""
    run_y = [(i, y) for i in d.CHOICES for y in d.YEARS]
    constraint(m, "run_min", [(i, y) for (i, y) in run_y if d.min_scale[i] > 0],
               rule=lambda m, i, y: _total(m, d, i, y) >= d.min_scale[i] * m.run[i, y])

    def max_rule(m: pyo.ConcreteModel, i: str, y: int) -> Any:
        need = sum(d.need[i, loc, y] for loc in d.localities_of(i))
        return _total(m, d, i, y) <= need * m.run[i, y]

    constraint(m, "run_max", run_y, rule=max_rule)


def _start(m: pyo.ConcreteModel, d: ModelData, terms: Terms) -> None:
    """start[i,y] >= run[i,y] - run[i,y-1]; start[i,y] <= run[i,y];
    start[i,y] <= 1 - run[i,y-1] (run[i,y-1] is whether i runs today in the first year);
    the funders of i pay setup_cost_i × start[i,y]."""
    Y, paid = d.YEARS, _paid(d)

    def before(m: pyo.ConcreteModel, i: str, y: int) -> Any:
        return (1.0 if d.running_before[i] else 0.0) if y == Y[0] else m.run[i, y - 1]

    constraint(m, "start_def", [(i, y) for i in paid for y in Y],
               rule=lambda m, i, y: m.start[i, y] >= m.run[i, y] - before(m, i, y))

    # start is exactly "runs now and did not run before", so a set-up cost is never paid for
    # a service that did not start (even where money does not bind)
    def start_run_rule(m: pyo.ConcreteModel, i: str, y: int) -> Any:
        return m.start[i, y] <= m.run[i, y]

    def start_new_rule(m: pyo.ConcreteModel, i: str, y: int) -> Any:
        if y == Y[0]:
            return m.start[i, y] <= (0.0 if d.running_before[i] else 1.0)
        return m.start[i, y] <= 1 - m.run[i, y - 1]

    constraint(m, "start_run", [(i, y) for i in paid for y in Y], rule=start_run_rule)
    constraint(m, "start_new", [(i, y) for i in paid for y in Y], rule=start_new_rule)
    for i in paid:
        for y in Y:
            terms.intervention[i, y].append(d.setup_cost[i] * m.start[i, y])


def _exclusive(m: pyo.ConcreteModel, d: ModelData) -> None:
    """sum_(i in group g) run[i,y] <= 1."""
    groups = dict(d.EXCLUSIVE)
    constraint(m, "exclusive", [(g, y) for g in groups for y in d.YEARS],
               rule=lambda m, g, y: quicksum(m.run[i, y] for i in groups[g]) <= 1)


def _dependency(m: pyo.ConcreteModel, d: ModelData) -> None:
    """run[i,y] <= run[j,y] where i requires j; and, where j has no minimum scale,
    total[j,y] >= required_activity(j,y) × run[i,y]."""
    constraint(m, "dependency", [(i, j, y) for (i, j) in d.DEPENDS for y in d.YEARS],
               rule=lambda m, i, j, y: m.run[i, y] <= m.run[j, y])
    # a required service that "runs" at zero activity satisfies nothing: it must deliver. One
    # with a minimum scale already does (run_min); one without must reach required_activity
    constraint(m, "dependency_activity",
               [(i, j, y) for (i, j) in d.DEPENDS if d.min_scale[j] <= 0 for y in d.YEARS],
               rule=lambda m, i, j, y: _total(m, d, j, y) >= (
                   d.required_activity(j, y) * m.run[i, y]))


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _run_min_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    u = lab.intervention_unit[i]
    return yearly_limit(f"{lab.intervention[i]} runs at its minimum viable scale of "
                        f"{num(d.min_scale[i])} {u} or not at all", y, u, "at its minimum")


def _run_max_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{lab.intervention[i]} has no activity unless it runs", y, "holds",
                    lab.intervention_unit[i])


def _start_def_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{lab.intervention[i]} starts (and pays its set-up cost) when it begins "
                    "to run", y, "holds", "starts")


def _start_run_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{lab.intervention[i]} starts only in a year it runs", y, "holds",
                    "starts")


def _start_new_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, y = idx
    return per_year(f"{lab.intervention[i]} starts only if it did not run the year before",
                    y, "holds", "starts")


def _exclusive_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    g, y = idx
    members = dict(d.EXCLUSIVE)[g]
    return per_year(f"at most one of {listing([lab.intervention[i] for i in members])} "
                    f"runs (alternatives '{g}')", y, "one of them runs", "interventions")


def _dependency_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, j, y = idx
    return per_year(f"{lab.intervention[i]} runs only if {lab.intervention[j]} runs", y,
                    "holds", "interventions")


def _dependency_activity_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, j, y = idx
    u, least = lab.intervention_unit[j], d.required_activity(j, y)
    return per_year(f"{lab.intervention[i]} runs only if {lab.intervention[j]} delivers at "
                    f"least {num(least)} {singular(u) if least == 1 else u}", y, "holds", u)


def _run_min_relaxation(d: ModelData, lab: Labels, idx: Index, amount: float) -> str:
    i, y = idx
    return (f"{possessive(lab.intervention[i])} minimum viable scale must fall by "
            f"{num(amount)} {lab.intervention_unit[i]} in {year_label(y)} (from "
            f"{num(d.min_scale[i])})")


def _run_min_size(d: ModelData, idx: Index) -> float:
    return d.min_scale[idx[0]]


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _run_max_reach(r: Reach) -> None:
    """-(need of i over every locality) is the coefficient of run."""
    run = r.comp.cols("run")
    for (i, y), row in r.comp.rows("run_max").items():
        r.add("A", r.a(row, run[i, y]), "need_sum", (r.intervention[i], r.year[y]), -1.0)


FAMILIES = (
    FamilyText("min_scale", "the minimum viable scale of go/no-go interventions", place=10),
    FamilyText("choices", "the exclusive alternatives and dependencies between interventions",
               place=11),
)

COMPONENTS = (
    Component("run", "var", PAGE, "an intervention runs in a year (go/no-go)",
              stage=FIRST,
              quantity=lambda lab, i, _y: f"{lab.intervention[i]} runs"),
    Component("start", "var", PAGE, "an intervention starts (pays its set-up cost)",
              stage=FIRST,
              quantity=lambda lab, i, _y: f"{lab.intervention[i]} starts"),
    Component("run_min", "con", PAGE, "a running intervention's minimum scale",
              words=_run_min_words, family="min_scale",
              roles={BINDING: 9, SOFT: 5, STRESS_BINDING: 11},
              relaxation=_run_min_relaxation, size=_run_min_size),
    Component("run_max", "con", PAGE, "no activity unless the intervention runs",
              words=_run_max_words, reach={NEED: _run_max_reach}),
    Component("start_def", "con", PAGE, "starting follows from running", words=_start_def_words),
    Component("start_run", "con", PAGE, "only a running intervention starts",
              words=_start_run_words),
    Component("start_new", "con", PAGE,
              "only an intervention not running the year before starts", words=_start_new_words),
    Component("exclusive", "con", PAGE, "at most one of a set of alternatives",
              words=_exclusive_words, family="choices", roles={HARD: 7}),
    Component("dependency", "con", PAGE, "one intervention only if another runs",
              words=_dependency_words, family="choices", roles={HARD: 8}),
    Component("dependency_activity", "con", PAGE,
              "a required intervention has activity when one that needs it runs",
              words=_dependency_activity_words, family="choices", roles={HARD: 9}),
)
