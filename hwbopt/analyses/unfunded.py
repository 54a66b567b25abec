"""What would bring an unfunded intervention into the plan.

An **unfunded** intervention (no activity anywhere in any year) gets the cut in unit cost, or
the rise in effect, that would bring it into the plan, asked of the plan with its integer
decisions held except those the intervention depends on (:func:`local_model`): from reduced
costs, confirmed by re-solves; a go/no-go intervention, whose entry is not a marginal change,
by bisection over re-solves. See ``models/explain.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hwbopt import highs, words
from hwbopt.analyses.plan_lp import PlanLP
from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.status import Status

ENTRY_MARGIN = 1e-3  # "just past" a threshold, relative
BISECTION_TOL = 1e-4  # relative precision of a threshold found by re-solves


@dataclass
class Improvement:
    """What would bring an unfunded intervention into the plan."""

    method: str  # "reduced_cost" or "re-solve"
    unit_cost: float
    unit_cost_needed: float | None  # None: no cut in unit cost alone is enough
    cheaper_by: float | None
    cheaper_by_percent: float | None
    more_effective_by_percent: float | None  # None: no rise in effect alone is enough
    effects: list[dict[str, Any]]  # per priority: effect now and needed, per unit
    text: str

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "unit_cost": self.unit_cost,
                "unit_cost_needed": self.unit_cost_needed, "cheaper_by": self.cheaper_by,
                "cheaper_by_percent": self.cheaper_by_percent,
                "more_effective_by_percent": self.more_effective_by_percent,
                "effects": self.effects, "text": self.text}


@dataclass
class Unfunded:
    intervention: str
    name: str
    text: str
    required_improvement: Improvement

    def summary(self) -> dict[str, Any]:
        return {"intervention": self.intervention, "text": self.text,
                "required_improvement": self.required_improvement.summary()}


Columns = dict[tuple[Any, ...], int]  # {index: column} of one intervention's variables


def _intervention_columns(comp: Compiled, i: str) -> tuple[Columns, Columns]:
    act = {idx: j for idx, j in comp.cols("activity").items() if idx[0] == i}
    seg = {idx: j for idx, j in comp.cols("segment").items() if idx[0] == i}
    return act, seg


def _rows_of(comp: Compiled, component: str, i: str | None = None) -> set[int]:
    return {r for idx, r in comp.rows(component).items() if i is None or idx[0] == i}


def scaled(comp: Compiled, i: str, cost_factor: float = 1.0,
           effect_factor: float = 1.0) -> Compiled:
    """The model with ``i``'s unit cost times ``cost_factor`` and every effect of ``i`` on a
    priority times ``effect_factor`` (its funding and outcome coefficients, and its cost in the
    ``cost`` objective)."""
    act, seg = _intervention_columns(comp, i)
    funding = _rows_of(comp, "funding", i)
    outcome = _rows_of(comp, "outcome_def")
    A = comp.A.copy()
    c = comp.c.copy()
    for j in act.values():
        for p in range(A.indptr[j], A.indptr[j + 1]):
            r = A.indices[p]
            if r in funding:
                A.data[p] *= cost_factor
            elif r in outcome:
                A.data[p] *= effect_factor
        c[j] *= cost_factor  # zero under the outcome objective; the unit cost under cost
    for j in seg.values():
        for p in range(A.indptr[j], A.indptr[j + 1]):
            if A.indices[p] in outcome:
                A.data[p] *= effect_factor
    return replace(comp, A=A, c=c)


def _total_activity(comp: Compiled, x: np.ndarray, i: str) -> float:
    act, _ = _intervention_columns(comp, i)
    return float(sum(max(x[j], 0.0) for j in act.values()))


def _entry_tol(d: ModelData, i: str) -> float:
    need = sum(d.need[i, loc, y] for loc in d.localities_of(i) for y in d.YEARS)
    return 1e-6 * max(1.0, need)


def enters(d: ModelData, comp: Compiled, i: str, time_limit: float | None = None) -> bool | None:
    """Whether ``i`` has activity in the optimum of ``comp`` (None: not solved)."""
    # a threshold is where two plans tie: only a proven optimum (no gap) tells them apart
    raw = highs.run(highs.load(comp), time_limit=time_limit, mip_gap=0.0,
                    is_mip=bool(comp.integer.any()))
    if raw.status != Status.OPTIMAL or raw.x is None:
        return None
    return _total_activity(comp, raw.x, i) > _entry_tol(d, i)


PUSH = 1e-5  # the unfunded intervention is pushed in by this share of its need to price it


def _thresholds(d: ModelData, plan: PlanLP, i: str) -> tuple[float, float] | None:
    """Cut in unit cost (share) and rise in effect (share) at which ``i`` enters, from reduced
    costs (inf: no cut, or rise, alone is enough; None: the reduced costs could not be had).

    At the plan, ``i``'s activity and the money, staff and space it would use are all zero: a
    degenerate vertex whose duals need not price the move into the plan (the funding row's
    dual can sit anywhere between the price of money and the value of the activity). So the
    plan LP is re-solved with ``i`` pushed in by a sliver (``PUSH`` of need, on its activity
    and on the first, best piece of each response curve): every route it uses is then basic
    and positive, and the reduced cost of one more unit of ``i`` — the activity with its best
    response pieces — is the price of entering, linear in its unit cost and its effects.
    """
    comp = plan.comp
    act, seg = _intervention_columns(comp, i)
    first_piece: dict[tuple[Any, ...], list[int]] = {}
    for (ii, _k, loc, yr, j), col in seg.items():
        if j == 0:
            first_piece.setdefault((ii, loc, yr), []).append(col)
    pushed = comp.col_lower.copy()
    for idx, ja in act.items():
        sliver = PUSH * comp.col_upper[ja]
        for j in (ja, *first_piece.get(idx, ())):
            pushed[j] = max(pushed[j], sliver)
    raw = highs.solve_compiled(replace(comp, col_lower=pushed))
    if raw.status != Status.OPTIMAL or raw.row_dual is None:
        return None  # pushing in is not possible (need, growth limits): let re-solves decide
    y = raw.row_dual
    sense = comp.sense
    funding = _rows_of(comp, "funding", i)
    outcome = _rows_of(comp, "outcome_def")
    A = comp.A
    best_cut, best_rise = math.inf, math.inf
    for idx, ja in act.items():
        if comp.col_upper[ja] <= 0:
            continue  # no need there: it cannot enter whatever it costs
        gain = cost_part = effect_part = 0.0
        for j in (ja, *first_piece.get(idx, ())):
            rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
            vals = A.data[A.indptr[j]:A.indptr[j + 1]]
            gain += float(comp.c[j]) - float(vals @ y[rows])
            for r, v in zip(rows, vals, strict=True):
                if j == ja and r in funding:
                    cost_part -= v * y[r]
                elif r in outcome:
                    effect_part -= v * y[r]
            if j == ja:
                cost_part += float(comp.c[j])
        # improvement of the objective per unit pushed in (<= 0: it is out of the plan)
        now = min(-sense * gain, 0.0)
        per_cut = sense * cost_part  # improvement per unit share of unit cost cut
        per_rise = -sense * effect_part  # improvement per unit share of effect added
        if per_cut > 1e-12:
            best_cut = min(best_cut, -now / per_cut)
        if per_rise > 1e-12:
            best_rise = min(best_rise, -now / per_rise)
    return best_cut, best_rise


Test = Callable[[float], bool | None]  # does the intervention enter at this share (None: unsettled)


def _bisect(test: Test, lo: float, hi: float) -> float | None:
    """Smallest value in (lo, hi] at which ``test`` is True (``test(hi)`` is True), to
    BISECTION_TOL relative; None if a solve could not decide."""
    while hi - lo > BISECTION_TOL * max(hi, 1e-9):
        mid = 0.5 * (lo + hi)
        answer = test(mid)
        if answer is None:
            return None
        lo, hi = (lo, mid) if answer else (mid, hi)
    return hi


def _changed(comp: Compiled, i: str, kind: str, share: float) -> Compiled:
    """``comp`` with ``i``'s unit cost cut by ``share`` (kind "cut") or its effects raised by
    ``share`` (kind "rise")."""
    if kind == "cut":
        return scaled(comp, i, cost_factor=1.0 - share)
    return scaled(comp, i, effect_factor=1.0 + share)


UNFUNDED_SECONDS = 60.0  # for every unfunded intervention together, on top of the plan


class _Clock:
    """The time left for the re-solves of the unfunded analysis."""

    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds

    def left(self) -> float:
        return self.end - time.perf_counter()


def _test(d: ModelData, comp: Compiled, i: str, kind: str, clock: _Clock) -> Test:
    def test(share: float) -> bool | None:
        if clock.left() <= 0:
            return None
        return enters(d, _changed(comp, i, kind, share), i, clock.left())
    return test


def _resolve_threshold(d: ModelData, comp: Compiled, i: str, kind: str,
                       clock: _Clock) -> tuple[float | None, bool]:
    """The threshold found by re-solving ``comp``: bisection on the cut in [0, 1], or on the
    rise after doubling up to 1024 (102,400%). Returns (threshold or None when nothing in
    range brings ``i`` in, whether every solve was settled in time)."""
    test = _test(d, comp, i, kind, clock)
    if kind == "cut":
        answer = test(1.0)
        if not answer:
            return None, answer is not None
        found = _bisect(test, 0.0, 1.0)
        return found, found is not None
    lo, hi = 0.0, 1.0
    while hi <= 1024.0:
        answer = test(hi)
        if answer is None:
            return None, False
        if answer:
            found = _bisect(test, lo, hi)
            return found, found is not None
        lo, hi = hi, 2.0 * hi
    return None, True


def _confirmed(d: ModelData, comp: Compiled, i: str, kind: str, share: float,
               below: bool, clock: _Clock) -> bool:
    """``i`` enters just past ``share`` (and, with ``below``, stays out just short of it)."""
    test = _test(d, comp, i, kind, clock)
    past = share * (1 + ENTRY_MARGIN) + 1e-9
    if not test(min(past, 1.0) if kind == "cut" else past):
        return False
    short = share * (1 - ENTRY_MARGIN) - 1e-9
    return not below or short <= 0 or test(short) is False


def local_model(d: ModelData, full: Compiled, x: np.ndarray, i: str) -> Compiled:
    """The model in which ``i`` may enter: every integer decision held at its plan value but
    those ``i`` depends on — its own go/no-go (and response pieces), the sites that could host
    it, and whole posts in the roles it needs."""
    free = np.zeros(full.n_cols, dtype=bool)
    sites = {s for (s, ii, _t) in d.USE if ii == i}
    roles = {r for (ii, r) in d.STAFFED if ii == i}
    for name in ("run", "start", "piece_full"):
        free[[j for idx, j in full.cols(name).items() if idx[0] == i]] = True
    free[[j for (s, _y), j in full.cols("open").items() if s in sites]] = True
    for name in ("recruit", "release"):
        free[[j for (_e, r, _y), j in full.cols(name).items() if r in roles]] = True
    fixed = full.integer & ~free
    lo, hi = full.col_lower.copy(), full.col_upper.copy()
    lo[fixed] = hi[fixed] = np.round(x[fixed])
    return replace(full, col_lower=lo, col_upper=hi, integer=full.integer & free)


def _settle(d: ModelData, full: Compiled, plan: PlanLP, i: str,
            clock: _Clock) -> tuple[float | None, float | None, str]:
    """The cut in unit cost and the rise in effect that bring ``i`` into the plan.

    Everything is asked of :func:`local_model`: the plan with its integer decisions held, but
    those ``i`` depends on. Without such decisions it is the plan LP, and the thresholds come
    from reduced costs (:func:`_thresholds`), confirmed by a re-solve just past each (below
    it the plan stays optimal, by LP theory). With them, a go/no-go intervention is settled by
    bisection over re-solves; a continuous one's reduced-cost thresholds are confirmed on
    both sides, and settled by bisection if they fail. ``method`` is ``reduced_cost``,
    ``re-solve``, or ``unsettled`` when the time allowed ran out.
    """
    local = local_model(d, full, plan.x, i)
    is_mip = bool(local.integer.any())
    found: dict[str, float | None] = {"cut": None, "rise": None}
    priced = None if is_mip and i in d.CHOICES else _thresholds(d, plan, i)
    method = "reduced_cost" if priced is not None else "re-solve"
    settled = True
    for k, kind in enumerate(("cut", "rise")):
        share = None if priced is None else priced[k]
        if share is not None and kind == "cut" and share >= 1.0:
            share = math.inf  # it would have to be paid to run
        if share is not None and math.isfinite(share) and _confirmed(
                d, local, i, kind, share, is_mip, clock):
            found[kind] = share
            continue
        if share is not None and not is_mip and not math.isfinite(share):
            continue  # LP theory: no cut (or rise) alone makes its reduced cost favourable
        found[kind], ok = _resolve_threshold(d, local, i, kind, clock)
        settled = settled and ok
        method = "re-solve"
    return found["cut"], found["rise"], method if settled else "unsettled"


def _improvement(d: ModelData, i: str, cut: float | None, rise: float | None,
                 method: str) -> Improvement:
    inst = d.instance
    lab = words.labels(inst)
    row = next(r for r in inst.interventions if r.id == i)
    u = row.unit_cost
    per = words.plural(row.unit, 1)
    effects: list[dict[str, Any]] = []
    for (ii, k), segs in d.segments.items():
        if ii != i:
            continue
        e = max(s.effect for s in segs)
        effects.append({"priority": k, "effect": e,
                        "effect_needed": None if rise is None else e * (1.0 + rise),
                        "unit": f"{lab.priority_unit[k]} per {per}"})
    parts = []
    if cut is not None and cut < 1.0:
        parts.append(f"at {words.money(inst, u * (1 - cut), 4)} per {per} "
                     f"({words.percent(cut)} cheaper than {words.money(inst, u)})")
    if rise is not None:
        detail = "; ".join(f"{words.num(e['effect_needed'], 4)} instead of "
                           f"{words.num(e['effect'])} {e['unit']} for "
                           f"{lab.priority[e['priority']]}" for e in effects)
        parts.append(f"if it achieved {words.percent(rise)} more per {per} ({detail})")
    if method == "unsettled":
        text = (f"what would bring {lab.intervention[i]} into the plan could not be settled "
                "within the time allowed" + (": it would enter " + " or ".join(parts)
                                             if parts else ""))
    elif parts:
        text = f"{lab.intervention[i]} would enter the plan " + " or ".join(parts)
    else:
        text = (f"{lab.intervention[i]} would not enter the plan through a lower unit cost or a "
                "greater effect alone: other rules keep it out (need, change limits, staff, "
                "space, or the plan's other go/no-go and site decisions)")
    cut = cut if cut is not None and cut < 1.0 else None  # a cut of 100% or more is no price
    return Improvement(
        method=method, unit_cost=u,
        unit_cost_needed=u * (1 - cut) if cut is not None else None,
        cheaper_by=u * cut if cut is not None else None,
        cheaper_by_percent=100.0 * cut if cut is not None else None,
        more_effective_by_percent=100.0 * rise if rise is not None else None,
        effects=effects, text=text)


def unfunded(d: ModelData, comp_full: Compiled, plan: PlanLP,
             time_limit: float | None = None) -> list[Unfunded]:
    """Interventions with no activity anywhere in any year, and what would bring them in."""
    out = []
    lab = words.labels(d.instance)
    clock = _Clock(UNFUNDED_SECONDS if time_limit is None else time_limit)
    for i in d.INTERVENTIONS:
        if not d.localities_of(i) or _total_activity(plan.comp, plan.x, i) > _entry_tol(d, i):
            continue
        cut, rise, method = _settle(d, comp_full, plan, i, clock)
        out.append(Unfunded(i, lab.intervention[i],
                            f"{lab.intervention[i]} is not funded in any year",
                            _improvement(d, i, cut, rise, method)))
    return out
