"""Policy constraints of an option, applied to the compiled model. See ``models/policy.md``.

A policy either tightens bounds of existing columns (``protect``, ``forbid_change``,
``keep_open``, ``no_closures``, ``fix_contribution``) or adds rows (``change_cap_up``,
``change_cap_down``, ``priority_share``). Working on the compiled arrays rather than the Pyomo
model lets every variant of an option — with each policy switched on or off to price it —
share one structure, and so one loaded HiGHS instance: a policy switched off keeps its rows,
with free bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from hwbopt.compile import Compiled, append_rows, with_bounds
from hwbopt.model.component import Component
from hwbopt.model.data import ModelData
from hwbopt.schema import (
    CapChange,
    FixContribution,
    ForbidChange,
    KeepOpen,
    MinPriorityShare,
    NoClosures,
    Policy,
    Protect,
)

INF = float("inf")
PAGE = "policy.md"

# a block of rows added by a policy: component, row indices, coefficients by column, bounds
Block = tuple[str, list[tuple[Any, ...]], list[dict[int, float]], list[float], list[float]]


def movers(d: ModelData, priority: str) -> list[str]:
    """Interventions whose response moves ``priority`` up (some piece with a positive effect)."""
    return [i for (i, k), segs in d.segments.items()
            if k == priority and any(s.effect > 0 for s in segs)]


def current_level(d: ModelData, i: str, loc: str, y: int) -> float:
    """Today's activity carried forward, within that year's need."""
    return min(d.current[i, loc], d.need[i, loc, y])


def apply_policies(
    comp: Compiled,
    d: ModelData,
    policies: Sequence[Policy],
    active: Sequence[bool] | None = None,
) -> Compiled:
    """``comp`` with ``policies`` imposed; a policy with ``active[j]`` False keeps its rows free.

    The result has the same structure whichever policies are active, so variants re-solve warm.
    """
    active = [True] * len(policies) if active is None else list(active)
    col_lo, col_hi = comp.col_lower.copy(), comp.col_upper.copy()
    blocks: list[Block] = []
    act = comp.cols("activity")
    for rule, on in zip(policies, active, strict=True):
        if isinstance(rule, Protect | ForbidChange) and on:
            for (i, loc, y), j in act.items():
                if i != rule.intervention:
                    continue
                level = current_level(d, i, loc, y)
                col_lo[j] = max(col_lo[j], level)
                if isinstance(rule, ForbidChange):
                    col_hi[j] = min(col_hi[j], level)
        elif isinstance(rule, KeepOpen | NoClosures) and on:
            for (s, _y), j in comp.cols("open").items():
                if isinstance(rule, NoClosures) or s == rule.site:
                    col_lo[j] = 1.0
        elif isinstance(rule, FixContribution) and on:
            for (p, g, y), j in comp.cols("contribution").items():
                if (p, g) == (rule.partner, rule.pool):
                    col_lo[j] = col_hi[j] = rule.share * d.money[p, y]["available"]
        elif isinstance(rule, CapChange):
            blocks += _change_cap(d, act, rule.intervention, rule.max_change, on)
        elif isinstance(rule, MinPriorityShare):
            blocks.append(_priority_share(comp, d, rule.priority, rule.share, on))
    out = with_bounds(comp, col_lower=col_lo, col_upper=col_hi)
    for name, indices, coefs, lower, upper in blocks:
        out = append_rows(out, _matrix(coefs, comp.n_cols), np.array(lower, dtype=float),
                          np.array(upper, dtype=float), name, indices)
    return out


def _matrix(coefs: list[dict[int, float]], n_cols: int) -> sp.csr_array:
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for row in coefs:
        for j, v in row.items():
            cols.append(j)
            data.append(v)
        ptr.append(len(cols))
    return sp.csr_array((np.array(data, dtype=float), np.array(cols, dtype=np.int64),
                         np.array(ptr, dtype=np.int64)), shape=(len(coefs), n_cols))


def _change_cap(d: ModelData, act: dict[Any, int], i: str, r: float,
                on: bool) -> list[Block]:
    """``change_cap_up``: a_y <= (1+r) a_{y-1}; ``change_cap_down``: a_y >= (1-r) a_{y-1}.

    In the first year a_{y-1} is today's activity, a number, so the rows have one entry.
    """
    up: tuple[list[tuple[Any, ...]], list[dict[int, float]], list[float], list[float]] = (
        [], [], [], [])
    down: tuple[list[tuple[Any, ...]], list[dict[int, float]], list[float], list[float]] = (
        [], [], [], [])
    Y = d.YEARS
    for loc in d.localities_of(i):
        for k, y in enumerate(Y):
            j = act[i, loc, y]
            rows: tuple[tuple[dict[int, float], float, float], ...]
            if k == 0:
                before = d.current[i, loc]
                rows = (({j: 1.0}, -INF, (1 + r) * before), ({j: 1.0}, (1 - r) * before, INF))
            else:
                jp = act[i, loc, Y[k - 1]]
                rows = (({j: 1.0, jp: -(1 + r)}, -INF, 0.0), ({j: 1.0, jp: -(1 - r)}, 0.0, INF))
            for block, (coef, lo, hi) in zip((up, down), rows, strict=True):
                block[0].append((i, loc, y))
                block[1].append(coef)
                block[2].append(lo if on else -INF)
                block[3].append(hi if on else INF)
    return [("change_cap_up", *up), ("change_cap_down", *down)]


def _priority_share(comp: Compiled, d: ModelData, k: str, share: float, on: bool) -> Block:
    """``priority_share[k,y]``: spend on services moving k >= share x all service spend."""
    serving = set(movers(d, k))
    coefs: list[dict[int, float]] = []
    for y in d.YEARS:
        row: dict[int, float] = {}
        for name in ("spend_retained", "spend_fenced", "spend_pooled"):
            for idx, j in comp.cols(name).items():
                if idx[-1] != y:
                    continue
                i = idx[-2]
                row[j] = (1.0 if i in serving else 0.0) - share
        coefs.append({j: v for j, v in row.items() if v != 0.0})
    n = len(d.YEARS)
    return ("priority_share", [(k, y) for y in d.YEARS], coefs,
            [0.0 if on else -INF] * n, [INF] * n)


COMPONENTS = (
    Component("change_cap_up", "con", PAGE,
              "an intervention grows by at most a policy's share a year"),
    Component("change_cap_down", "con", PAGE,
              "an intervention shrinks by at most a policy's share a year"),
    Component("priority_share", "con", PAGE,
              "a minimum share of spending on services for a priority"),
)
