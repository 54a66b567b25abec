"""What a plan is worth, computed from its decision values: each scenario's value, the risk
measure over scenarios, outcome spreads, target probabilities, and the commitments in words.

A scenario's value ``f_s = c_s·x_s + offset + σ·penalty_s`` is read from the plan's columns
and the scenario's own numbers: the objective the instance defines, with the elastic penalty
of every rule the plan breaks in that scenario (how far each row or first-stage bound is
outside the scenario's limits, beyond :data:`hwbopt.plan.extensive.USED`, at its price)
counted against it (``σ`` = +1 minimising ``cost``, −1 maximising ``outcome``). Outcomes come
from activity through the response curves (:class:`hwbopt.batch.readback.Response`), never
from the model's ``outcome`` variables, which ``cost`` leaves free.

**Measures** (maximised objective; mirrored for ``cost``, so VSS and EVPI are >= 0): RP, the
hedged plan's risk value; EV, the mean-value problem's optimum; EEV, the mean-value plan's
first stage on the scenarios with its own recourse; VSS = RP − EEV; WS, the risk value of each
scenario's own optimum; EVPI = WS − RP.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hwbopt.batch.readback import Response
from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.plan import Risk
from hwbopt.plan.extensive import USED, Elastic
from hwbopt.plan.scenarios import Arrays

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------
# each scenario's value, and what gave
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Given:
    """One rule a plan breaks in one scenario: a row of the compiled model (``col`` None) or
    a first-stage column's bound (``row`` None), by how much, in the rule's own unit."""

    scenario: int
    row: int | None
    col: int | None
    side: str  # "lower" or "upper": which limit is passed
    amount: float


@dataclass(frozen=True)
class Values:
    """Each scenario's value of a plan and what gave in it."""

    f: Floats  # (S,) value including penalties
    objective: Floats  # (S,) the instance's objective alone: c_s·x_s + offset
    penalty: Floats  # (S,) penalties of the rules that gave
    given: list[Given]


def row_activity(comp: Compiled, arrays: Arrays, x: Floats,
                 magnitude: bool = False) -> Floats:
    """(S, rows): each scenario's rows at its own plan, with its own coefficients
    (``magnitude``: the sum of its terms' sizes, ``Σ_j |a_ij x_j|``, instead)."""
    cols = np.repeat(np.arange(comp.n_cols), np.diff(comp.A.indptr))
    products = arrays.a_data * x[:, cols]  # (S, entries)
    if magnitude:
        products = np.abs(products)
    summing = sp.csr_array((np.ones(len(cols)), (comp.A.indices, np.arange(len(cols)))),
                           shape=(comp.n_rows, len(cols)))
    out: Floats = (summing @ products.T).T
    return out


def _outside(value: Floats, lower: Floats, upper: Floats,
             size: Floats | None = None) -> tuple[Floats, Floats]:
    """How far ``value`` is below ``lower`` and above ``upper``, 0 within :data:`USED` of the
    larger of the limit and ``size`` (a row's terms' sizes: a balance of thousands of pounds
    with a limit of 0 is not broken by a hundred-millionth of them)."""
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lower), lower - value, 0.0)
        above = np.where(np.isfinite(upper), value - upper, 0.0)
    extra = 0.0 if size is None else size
    tol_lo = USED * np.maximum(np.maximum(1.0, extra),
                               np.where(np.isfinite(lower), np.abs(lower), 1.0))
    tol_hi = USED * np.maximum(np.maximum(1.0, extra),
                               np.where(np.isfinite(upper), np.abs(upper), 1.0))
    return np.where(below > tol_lo, below, 0.0), np.where(above > tol_hi, above, 0.0)


def values_of(comp: Compiled, first: Bools, arrays: Arrays, elastic: Elastic,
              x: Floats) -> Values:
    """Each scenario's value of the plans ``x`` (S × columns), from the decisions alone."""
    objective = np.einsum("sj,sj->s", arrays.c, x) + comp.offset
    act = row_activity(comp, arrays, x)[:, elastic.rows]
    # a rule of the first year's money alone is held by the master within its feasibility
    # tolerance, relative to the rule's terms: a "paid for in full" balance of thousands of
    # pounds, limit 0, came out 4e-5 apart in every future (county), and was reported as a
    # rule every future breaks
    size = row_activity(comp, arrays, x, magnitude=True)[:, elastic.rows]
    below, above = _outside(act, arrays.row_lower[:, elastic.rows],
                            arrays.row_upper[:, elastic.rows], size)
    penalty = (below + above) @ elastic.penalty
    # first-stage columns, and the second-stage bounds that give instead of a definition
    bounded = first | elastic.loose_lower | elastic.loose_upper
    fb, fa = _outside(x[:, bounded], arrays.col_lower[:, bounded], arrays.col_upper[:, bounded])
    penalty = penalty + (fb + fa) @ elastic.bound_penalty[bounded]
    given: list[Given] = []
    for amounts, side in ((below, "lower"), (above, "upper")):
        for s, k in zip(*np.nonzero(amounts), strict=True):
            given.append(Given(int(s), int(elastic.rows[k]), None, side, float(amounts[s, k])))
    cols = np.flatnonzero(bounded)
    for amounts, side in ((fb, "lower"), (fa, "upper")):
        for s, k in zip(*np.nonzero(amounts), strict=True):
            given.append(Given(int(s), None, int(cols[k]), side, float(amounts[s, k])))
    given.sort(key=lambda g: (g.scenario, g.row if g.row is not None else -1,
                              g.col if g.col is not None else -1))
    f = objective + comp.sense * penalty
    return Values(f=f, objective=objective, penalty=penalty, given=given)


# ---------------------------------------------------------------------------------------------
# risk over scenarios
# ---------------------------------------------------------------------------------------------


def cvar(f: Floats, p: Floats, alpha: float, sense: int) -> float:
    """CVaR_alpha of the values ``f`` with probabilities ``p``: the mean of the worst
    ``1 − alpha`` of the probability (lowest values when maximising, ``sense`` −1; highest
    when minimising, +1), in the Rockafellar–Uryasev form the extensive form optimises,
    evaluated exactly at its breakpoints (the values themselves)."""
    eta = f[:, None]
    if sense < 0:
        g = eta[:, 0] - (p[None, :] * np.maximum(eta - f[None, :], 0.0)).sum(axis=1) / (
            1.0 - alpha)
        return float(g.max())
    g = eta[:, 0] + (p[None, :] * np.maximum(f[None, :] - eta, 0.0)).sum(axis=1) / (1.0 - alpha)
    return float(g.min())


def risk_value(f: Floats, p: Floats, risk: Risk, sense: int) -> float:
    """(1 − λ)·E[f] + λ·CVaR_alpha[f], the measure the hedged plan optimises."""
    mean = float(p @ f)
    if risk.lam == 0:
        return mean
    return (1.0 - risk.lam) * mean + risk.lam * cvar(f, p, risk.alpha, sense)


def better(a: float, b: float, sense: int) -> bool:
    """Is ``a`` strictly better than ``b`` for an objective of ``sense``?"""
    return a < b if sense > 0 else a > b


def gain(good: float, other: float, sense: int) -> float:
    """How much better ``good`` is than ``other`` (VSS, EVPI): ``good − other`` when
    maximising, ``other − good`` when minimising."""
    return other - good if sense > 0 else good - other


def quantile(f: Floats, p: Floats, q: float) -> float:
    """The ``q`` quantile of ``f`` weighted by ``p``: the smallest value whose cumulative
    probability reaches ``q``."""
    order = np.argsort(f, kind="stable")
    cum = np.cumsum(p[order])
    k = int(np.searchsorted(cum, q - 1e-12, side="left"))
    return float(f[order][min(k, len(f) - 1)])


def target_probability(d: ModelData, response: Response, arrays: Arrays, x: Floats,
                       p: Floats) -> dict[str, float]:
    """Per priority with targets: the probability of the scenarios in which the plan meets
    every target of that priority, its outcomes computed from activity."""
    years = list(d.YEARS)
    kidx = {k: n for n, k in enumerate(d.PRIORITIES)}
    met: dict[str, Bools] = {}
    outcomes = response.outcomes(np.asarray(x), np.asarray(arrays.need))  # every scenario's
    for s in range(arrays.size):
        outcome = outcomes[s]
        for j, t in enumerate(d.instance.targets):
            level = float(arrays.target[s, j])
            ok = bool(outcome[kidx[t.priority], years.index(t.year)]
                      >= level - 1e-6 * max(1.0, abs(level)))
            met.setdefault(t.priority, np.ones(arrays.size, dtype=bool))[s] &= ok
    return {k: share(p, m) for k, m in met.items()}


def share(p: Floats, which: Bools) -> float:
    """The probability of the scenarios ``which``: a sum of probabilities that add up to 1,
    held to 0..1 against rounding (twenty of 0.05 add up to 1.0000000000000002)."""
    return min(1.0, max(0.0, math.fsum(p[which].tolist())))


def spread(f: Floats, p: Floats, alpha: float, sense: int) -> dict[str, float]:
    """A plan's outcome distribution over the scenarios: mean, CVaR, 5th, 50th, 95th
    percentiles of its values."""
    return {"mean": float(p @ f), "cvar": cvar(f, p, alpha, sense),
            "p5": quantile(f, p, 0.05), "p50": quantile(f, p, 0.5), "p95": quantile(f, p, 0.95)}


# ---------------------------------------------------------------------------------------------
# the commitments in words
# ---------------------------------------------------------------------------------------------


def _value(comp: Compiled, j: int, v: float) -> float:
    return float(round(v)) if comp.integer[j] else float(v)


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b))


def first_stage_list(d: ModelData, comp: Compiled, first: Bools,
                     z: Floats) -> list[dict[str, Any]]:
    """Every first-stage decision of the plan ``z``: {decision, text, value}."""
    from hwbopt.words import quantity

    return [{"decision": comp.col_name(j),
             "text": quantity(d, comp.col_component[j], comp.col_index[j]),
             "value": _value(comp, j, z[j])} for j in map(int, np.flatnonzero(first))]


def differences(d: ModelData, comp: Compiled, first: Bools, hedged: Floats,
                deterministic: Floats, ws: Floats, p: Floats) -> list[dict[str, Any]]:
    """First-stage decisions where the hedged and mean-value plans differ: {decision, text,
    hedged, deterministic, needed_share}. ``needed_share`` is the probability of the
    scenarios whose own optimum (``ws``, S × columns) is at least as close to the hedged value
    as to the mean-value plan's: for a yes/no decision, the futures whose own best plan makes
    the hedged plan's choice."""
    from hwbopt.words import quantity

    out = []
    for j in map(int, np.flatnonzero(first)):
        h, m = _value(comp, j, hedged[j]), _value(comp, j, deterministic[j])
        if not _differs(h, m):
            continue
        own = np.round(ws[:, j]) if comp.integer[j] else ws[:, j]
        needed = share(p, np.abs(own - h) <= np.abs(own - m) + 1e-9)
        out.append({"decision": comp.col_name(j),
                    "text": quantity(d, comp.col_component[j], comp.col_index[j]),
                    "hedged": h, "deterministic": m, "needed_share": needed})
    return out


def given_list(comp: Compiled, data_of: Callable[[int], ModelData],
               given: list[Given]) -> list[dict[str, Any]]:
    """The elastic slack a plan uses: [{scenario, rule, text, amount}], each rule in words
    with its limit in that scenario (``data_of``: a scenario's model data)."""
    from hwbopt.words import bound_rule, rule

    out = []
    for g in given:
        d = data_of(g.scenario)
        if g.row is not None:
            name = comp.row_name(g.row)
            text = rule(d, comp.row_component[g.row], comp.row_index[g.row])
        elif g.col is not None:
            name = f"{comp.col_name(g.col)}.{g.side}"
            index = comp.col_index[g.col]
            text = bound_rule(d, comp.col_component[g.col],
                              index if isinstance(index, tuple) else (index,), g.side)
        else:
            continue
        out.append({"scenario": g.scenario, "rule": name, "text": text, "amount": g.amount})
    return out
