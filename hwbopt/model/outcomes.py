"""Outcomes: what activity achieves for each priority, against its targets.

See ``models/outcomes.md``. Components: ``segment``, ``piece_full``, ``outcome``,
``shortfall``; ``segment_sum``, ``piece_fill``, ``piece_order``, ``outcome_def``, ``target``.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from hwbopt.model.data import ModelData


def add_outcomes(m: pyo.ConcreteModel, d: ModelData) -> None:
    Y = d.YEARS
    seg_index = [
        (i, k, loc, y, s.index)
        for (i, k) in d.CURVED for loc in d.localities_of(i) for y in Y
        for s in d.segments[i, k]
    ]

    def seg_bounds(m, i, k, loc, y, j):
        return (0.0, d.segments[i, k][j].width * d.need[i, loc, y])

    m.segment = pyo.Var(seg_index, bounds=seg_bounds)

    def seg_sum_rule(m, i, k, loc, y):
        return pyo.quicksum(m.segment[i, k, loc, y, s.index] for s in d.segments[i, k]) == (
            m.activity[i, loc, y])

    m.segment_sum = pyo.Constraint(
        [(i, k, loc, y) for (i, k) in d.CURVED for loc in d.localities_of(i) for y in Y],
        rule=seg_sum_rule)

    # a curve whose effect rises somewhere (a threshold, an S-shape) must fill its pieces in
    # order: piece j+1 may hold activity only once piece j is full (incremental formulation)
    full_index = [
        (i, k, loc, y, s.index)
        for (i, k) in d.NONCONCAVE for loc in d.localities_of(i) for y in Y
        for s in d.segments[i, k][:-1]
    ]
    m.piece_full = pyo.Var(full_index, within=pyo.Binary)

    def fill_rule(m, i, k, loc, y, j):
        return m.segment[i, k, loc, y, j] >= (
            d.segments[i, k][j].width * d.need[i, loc, y] * m.piece_full[i, k, loc, y, j])

    def order_rule(m, i, k, loc, y, j):
        return m.segment[i, k, loc, y, j + 1] <= (
            d.segments[i, k][j + 1].width * d.need[i, loc, y] * m.piece_full[i, k, loc, y, j])

    m.piece_fill = pyo.Constraint(full_index, rule=fill_rule)
    m.piece_order = pyo.Constraint(full_index, rule=order_rule)

    movers = defaultdict(list)
    for i, k in d.segments:
        movers[k].append(i)

    m.outcome = pyo.Var([(k, y) for k in d.PRIORITIES for y in Y], within=pyo.Reals)

    def outcome_rule(m, k, y):
        terms = []
        for i in movers.get(k, ()):
            segs = d.segments[i, k]
            for loc in d.localities_of(i):
                if len(segs) == 1:
                    terms.append(segs[0].effect * m.activity[i, loc, y])
                else:
                    terms.extend(s.effect * m.segment[i, k, loc, y, s.index] for s in segs)
        return m.outcome[k, y] == d.baseline[k] + pyo.quicksum(terms)

    m.outcome_def = pyo.Constraint([(k, y) for k in d.PRIORITIES for y in Y], rule=outcome_rule)

    soft = [(k, y) for (k, y) in d.TARGETS if d.soft(k)]
    m.shortfall = pyo.Var(soft, within=pyo.NonNegativeReals)
    soft_set = set(soft)

    def target_rule(m, k, y):
        slack = m.shortfall[k, y] if (k, y) in soft_set else 0.0
        return m.outcome[k, y] + slack >= d.target[k, y]

    m.target = pyo.Constraint(list(d.TARGETS), rule=target_rule)
