"""Outcomes: what activity achieves for each priority, against its targets.

See ``models/outcomes.md``. Components: ``segment``, ``piece_full``, ``outcome``,
``shortfall``; ``segment_sum``, ``piece_fill``, ``piece_order``, ``outcome_def``, ``target``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from hwbopt.model.algebra import constraint, quicksum, var
from hwbopt.model.component import (
    BINDING,
    MARGINAL,
    NEED,
    SOFT,
    STRESS_BINDING,
    TARGETS,
    Component,
    FamilyText,
    Index,
    Reach,
    ReachFn,
)
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import Labels, Phrase, State, num, per_year, singular, where
from hwbopt.schema import year_label

PAGE = "outcomes.md"


def add_outcomes(m: pyo.ConcreteModel, d: ModelData) -> None:
    _segments(m, d)
    _pieces_in_order(m, d)
    _outcome(m, d)
    _target(m, d)


def _segments(m: pyo.ConcreteModel, d: ModelData) -> None:
    """0 <= segment[i,k,loc,y,j] <= width_ikj × need[i,loc,y];
    sum_j segment[i,k,loc,y,j] = activity[i,loc,y] for curved responses."""
    seg_index = [
        (i, k, loc, y, s.index)
        for (i, k) in d.CURVED for loc in d.localities_of(i) for y in d.YEARS
        for s in d.segments[i, k]
    ]

    def bounds(m: pyo.ConcreteModel, i: str, k: str, loc: str, y: int,
               j: int) -> tuple[float, float]:
        return (0.0, d.segments[i, k][j].width * d.need[i, loc, y])

    var(m, "segment", seg_index, bounds=bounds)

    def rule(m: pyo.ConcreteModel, i: str, k: str, loc: str, y: int) -> Any:
        return quicksum(m.segment[i, k, loc, y, s.index] for s in d.segments[i, k]) == (
            m.activity[i, loc, y])

    constraint(m, "segment_sum",
               [(i, k, loc, y) for (i, k) in d.CURVED for loc in d.localities_of(i)
                for y in d.YEARS],
               rule=rule)


def _pieces_in_order(m: pyo.ConcreteModel, d: ModelData) -> None:
    """segment[..,j] >= width_j × need × piece_full[..,j];
    segment[..,j+1] <= width_(j+1) × need × piece_full[..,j], for non-concave responses."""
    # a curve whose effect rises somewhere (a threshold, an S-shape) must fill its pieces in
    # order: piece j+1 may hold activity only once piece j is full (incremental formulation)
    full_index = [
        (i, k, loc, y, s.index)
        for (i, k) in d.NONCONCAVE for loc in d.localities_of(i) for y in d.YEARS
        for s in d.segments[i, k][:-1]
    ]
    var(m, "piece_full", full_index, within=pyo.Binary)

    def fill_rule(m: pyo.ConcreteModel, i: str, k: str, loc: str, y: int, j: int) -> Any:
        return m.segment[i, k, loc, y, j] >= (
            d.segments[i, k][j].width * d.need[i, loc, y] * m.piece_full[i, k, loc, y, j])

    def order_rule(m: pyo.ConcreteModel, i: str, k: str, loc: str, y: int, j: int) -> Any:
        return m.segment[i, k, loc, y, j + 1] <= (
            d.segments[i, k][j + 1].width * d.need[i, loc, y] * m.piece_full[i, k, loc, y, j])

    constraint(m, "piece_fill", full_index, rule=fill_rule)
    constraint(m, "piece_order", full_index, rule=order_rule)


def _outcome(m: pyo.ConcreteModel, d: ModelData) -> None:
    """outcome[k,y] = baseline_k + sum effect × activity (one piece) or effect_j × segment_j."""
    movers = defaultdict(list)
    for i, k in d.segments:
        movers[k].append(i)

    var(m, "outcome", [(k, y) for k in d.PRIORITIES for y in d.YEARS], within=pyo.Reals)

    def rule(m: pyo.ConcreteModel, k: str, y: int) -> Any:
        terms = []
        for i in movers.get(k, ()):
            segs = d.segments[i, k]
            for loc in d.localities_of(i):
                if len(segs) == 1:
                    terms.append(segs[0].effect * m.activity[i, loc, y])
                else:
                    terms.extend(s.effect * m.segment[i, k, loc, y, s.index] for s in segs)
        return m.outcome[k, y] == d.baseline[k] + quicksum(terms)

    constraint(m, "outcome_def", [(k, y) for k in d.PRIORITIES for y in d.YEARS], rule=rule)


def _target(m: pyo.ConcreteModel, d: ModelData) -> None:
    """outcome[k,y] + shortfall[k,y] >= target[k,y], shortfall >= 0 only for soft targets."""
    soft = [(k, y) for (k, y) in d.TARGETS if d.soft(k)]
    var(m, "shortfall", soft, within=pyo.NonNegativeReals)
    soft_set = set(soft)

    def rule(m: pyo.ConcreteModel, k: str, y: int) -> Any:
        slack = m.shortfall[k, y] if (k, y) in soft_set else 0.0
        return m.outcome[k, y] + slack >= d.target[k, y]

    constraint(m, "target", list(d.TARGETS), rule=rule)


# ---------------------------------------------------------------------------------------------
# in words
# ---------------------------------------------------------------------------------------------


def _segment_sum_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, k, loc, y = idx
    return per_year(f"{where(lab, i, loc)}: the pieces of its response for "
                    f"{lab.priority[k]} add up to its activity", y, "holds",
                    lab.intervention_unit[i])


def _outcome_def_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    k, y = idx
    return per_year(f"{lab.priority[k]} outcome counted from activity", y, "holds",
                    lab.priority_unit[k])


def _target_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    """At its limit a target is only just met; a soft one may be missed by its shortfall."""
    k, y = idx
    kind = "" if d.hard[k] or d.objective == "cost" else " (soft)"
    unit = lab.priority_unit[k]
    head = (f"{lab.priority[k]} target{kind}, {year_label(y)} (at least "
            f"{num(d.target[k, y])} {unit})")
    if state.shortfall > 0:
        return Phrase(head, f"{head}: missed by {num(state.shortfall)} {unit}", unit)
    return Phrase(head, f"{head}: only just met", unit)


def _piece_fill_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, k, loc, y, j = idx
    return per_year(f"{where(lab, i, loc)}: piece {j + 1} of its response for "
                    f"{lab.priority[k]} counts as full only when it is", y, "holds",
                    lab.intervention_unit[i])


def _piece_order_words(d: ModelData, lab: Labels, idx: Index, state: State) -> Phrase:
    i, k, loc, y, j = idx
    return per_year(f"{where(lab, i, loc)}: piece {j + 2} of its response for "
                    f"{lab.priority[k]} counts only once piece {j + 1} is full", y, "holds",
                    lab.intervention_unit[i])


def _target_one_more(d: ModelData, lab: Labels, idx: Index) -> str:
    k, y = idx
    return (f"raising the {lab.priority[k]} target for {year_label(y)} by one "
            f"{singular(lab.priority_unit[k])}")


def _target_relaxation(d: ModelData, lab: Labels, idx: Index, amount: float) -> str:
    k, y = idx
    return (f"{lab.priority[k]} target, {year_label(y)} must fall by {num(amount)} "
            f"{lab.priority_unit[k]} (from {num(d.target[k, y])} to "
            f"{num(d.target[k, y] - amount)})")


def _target_size(d: ModelData, idx: Index) -> float:
    k, y = idx
    return abs(d.target[k, y])


# ---------------------------------------------------------------------------------------------
# how stress inputs reach it
# ---------------------------------------------------------------------------------------------


def _segment_reach(r: Reach) -> None:
    """width × need[o,y] is the column's upper bound."""
    for (i, k, loc, y, s), j in r.comp.cols("segment").items():
        r.add("col_upper", j, "need", (r.offered[i, loc], r.year[y]),
              r.d.segments[i, k][s].width)


def _piece_reach(name: str, shift: int) -> ReachFn:
    def reach(r: Reach) -> None:
        """-width × need[o,y] is the coefficient of piece_full."""
        full = r.comp.cols("piece_full")
        for (i, k, loc, y, s), row in r.comp.rows(name).items():
            r.add("A", r.a(row, full[i, k, loc, y, s]), "need", (r.offered[i, loc], r.year[y]),
                  -r.d.segments[i, k][s + shift].width)
    return reach


def _target_reach(r: Reach) -> None:
    """target[k,y] is the row's lower bound."""
    for (k, y), row in r.comp.rows("target").items():
        r.add("row_lower", row, "target", (r.target[k, y],), 1.0)


FAMILIES = (FamilyText("targets", "the hard outcome targets", place=1),)

COMPONENTS = (
    Component("segment", "var", PAGE, "activity on one piece of a response curve",
              quantity=lambda lab, i, k, loc, _y, j: f"activity of {where(lab, i, loc)} on piece "
                                                  f"{j + 1} of its response for "
                                                  f"{lab.priority[k]}",
              family="need", relaxed="upper", reach={NEED: _segment_reach}),
    Component("outcome", "var", PAGE, "what a priority achieves in a year",
              quantity=lambda lab, k, _y: f"{lab.priority[k]} outcome"),
    Component("shortfall", "var", PAGE, "how far a soft target is missed",
              quantity=lambda lab, k, _y: f"shortfall against the {lab.priority[k]} target"),
    Component("segment_sum", "con", PAGE, "response pieces add up to the activity",
              words=_segment_sum_words),
    Component("outcome_def", "con", PAGE, "outcome from activity", words=_outcome_def_words),
    Component("target", "con", PAGE, "an outcome target for a year",
              words=_target_words, family="targets", one_more=_target_one_more,
              roles={MARGINAL: 6, BINDING: 5, SOFT: 1, STRESS_BINDING: 4},
              reach={TARGETS: _target_reach}, relaxation=_target_relaxation,
              size=_target_size),
    Component("piece_full", "var", PAGE, "a piece of a non-concave response curve is full",
              quantity=lambda lab, i, k, loc, _y, j: f"piece {j + 1} of the response of "
                                                  f"{where(lab, i, loc)} for "
                                                  f"{lab.priority[k]} is full"),
    Component("piece_fill", "con", PAGE, "a piece marked full holds its whole width",
              words=_piece_fill_words, reach={NEED: _piece_reach("piece_fill", 0)}),
    Component("piece_order", "con", PAGE,
              "a piece holds activity only once the one before is full",
              words=_piece_order_words, reach={NEED: _piece_reach("piece_order", 1)}),
)
