"""``hwbopt plan`` from end to end: scenarios, the extensive form, each plan evaluated
scenario by scenario, the measures and the words (:func:`run_plan`, behind
:func:`hwbopt.plan.plan`).

Every solve after the extensive form is of one scenario, with or without a first stage held:
first with every rule hard (the scenario's own model, as ``hwbopt stress --mip`` solves it),
and only if that has no plan, elastic as in the extensive form. The two agree whenever the
hard model has a plan, because slack costs more than any plan gains from it; the hard model
is the faster to solve, and its answer needs no slack to explain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import numpy.typing as npt

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.model import model_data
from hwbopt.model.component import FIRST
from hwbopt.model.data import ModelData
from hwbopt.pipeline import result_from
from hwbopt.plan import DEFAULT_RISK, PlanResult, Risk
from hwbopt.plan.extensive import Elastic, elastic_of, solve_extensive
from hwbopt.plan.measures import (
    Values,
    better,
    differences,
    first_stage_list,
    gain,
    given_list,
    risk_value,
    spread,
    target_probability,
    values_of,
)
from hwbopt.plan.scenarios import Arrays, Scenarios, draw_scenarios
from hwbopt.plan.stages import first_stage, stage_of
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.results import Result
from hwbopt.schema import Instance
from hwbopt.status import EARLY, Status, check_limits

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Context:
    """One plan run's fixed parts: the scenarios, the first stage, the elastic rules, the
    limits, and the worst status any solve ended in (for the run's own status)."""

    sc: Scenarios
    first: Bools
    elastic: Elastic
    time_limit: float | None
    mip_gap: float
    notes: list[str] = field(default_factory=list)
    unproven: Status | None = None

    @property
    def comp(self) -> Compiled:
        return self.sc.comp

    @property
    def d(self) -> ModelData:
        return self.sc.built.data

    def noted(self, status: Status, what: str) -> None:
        """A solve after the extensive form that ended without a proof."""
        if status != Status.OPTIMAL:
            self.unproven = self.unproven or status
            self.notes.append(f"{what}: {status}")


@dataclass(frozen=True)
class Evaluated:
    """A plan's first stage on every scenario, each with its best recourse."""

    x: Floats  # (S, columns)
    values: Values


def best_response(ctx: Context, arrays: Arrays, s: int, fixed: Floats | None,
                  start: Floats | None, what: str) -> Floats | None:
    """Scenario ``s`` of ``arrays`` solved alone: its whole plan, the first stage held at
    ``fixed`` if given (module docstring: hard first, elastic if the hard model has none)."""
    comp = arrays.compiled(ctx.comp, s)
    if fixed is not None:
        lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
        held = np.where(comp.integer, np.round(fixed), fixed)
        lo[ctx.first], hi[ctx.first] = held[ctx.first], held[ctx.first]
        comp = replace(comp, col_lower=lo, col_upper=hi, _cols=comp._cols, _rows=comp._rows)
    is_mip = bool(comp.integer.any())
    h = highs.load(comp)
    if start is not None and is_mip:
        highs.start_from(h, start)
    raw = highs.run(h, time_limit=ctx.time_limit, mip_gap=ctx.mip_gap, is_mip=is_mip)
    if raw.x is not None:
        ctx.noted(raw.status, f"{what}, scenario {s}")
        return raw.x
    sol = solve_extensive(ctx.comp, ctx.first, arrays.take([s]), np.ones(1), Risk(),
                          ctx.elastic, fixed=fixed, time_limit=ctx.time_limit,
                          mip_gap=ctx.mip_gap)
    ctx.noted(sol.status, f"{what}, scenario {s} (elastic)")
    return None if sol.x is None else sol.x[0]


def evaluate_plan(ctx: Context, z: Floats, candidates: list[Floats], what: str) -> Evaluated | None:
    """The first stage of ``z`` on every drawn scenario: per scenario the best of its
    re-optimised recourse and the plans ``candidates`` (S × columns, same first stage)."""
    arrays = ctx.sc.arrays
    rows = []
    for s in range(arrays.size):
        x = best_response(ctx, arrays, s, z, candidates[0][s] if candidates else None, what)
        if x is None:
            return None
        rows.append(x)
    return _best(ctx, [np.vstack(rows), *candidates])


def _best(ctx: Context, plans: list[Floats]) -> Evaluated:
    """Per scenario, the plan of ``plans`` with the best value (each S × columns)."""
    vals = [values_of(ctx.comp, ctx.first, ctx.sc.arrays, ctx.elastic, x) for x in plans]
    f = np.vstack([v.f for v in vals])  # (plans, S)
    pick = np.argmin(f, axis=0) if ctx.comp.sense > 0 else np.argmax(f, axis=0)
    x = np.vstack([plans[int(k)][s] for s, k in enumerate(pick)])
    return Evaluated(x, values_of(ctx.comp, ctx.first, ctx.sc.arrays, ctx.elastic, x))


def wait_and_see(ctx: Context, known: list[Floats]) -> Evaluated | None:
    """Each scenario's own optimum (perfect information), started from and never worse than
    the plans ``known`` have in it."""
    arrays = ctx.sc.arrays
    rows = []
    for s in range(arrays.size):
        x = best_response(ctx, arrays, s, None, known[0][s], "wait-and-see")
        if x is None:
            return None
        rows.append(x)
    return _best(ctx, [np.vstack(rows), *known])


def run_plan(instance: Instance, *, stress_set: str | None = None,
             scenarios: int | None = None, seed: int | None = None,
             risk: Risk = DEFAULT_RISK,
             objective: str | None = None, time_limit: float | None = None,
             mip_gap: float | None = None, method: str = "auto", workers: int = 1,
             scheduler: str | None = None, evaluate: int | None = None) -> PlanResult:
    """See :func:`hwbopt.plan.plan`."""
    check_limits(time_limit, mip_gap)
    start = time.perf_counter()
    sc = draw_scenarios(instance, stress_set=stress_set, scenarios=scenarios, seed=seed,
                        objective=objective)
    d, comp = sc.built.data, sc.comp
    gap = d.mip_gap if mip_gap is None else mip_gap
    first = first_stage(comp, d.YEARS[0])
    ctx = Context(sc, first, elastic_of(comp, first, [sc.arrays, sc.mean]), time_limit, gap)
    p = sc.probability
    res = PlanResult(
        status=Status.ERROR, message="", scenarios=sc.size, seed=sc.stress.seed,
        stress_set=sc.stress.id, risk=risk, objective_kind=d.objective, probability=p,
        values=sc.values, inputs=sc.inputs,
        provenance=run_provenance(highs.highs_version(), seed=sc.stress.seed, options={
            "objective": d.objective, "mip_gap": gap, "time_limit": time_limit,
            "stress_set": sc.stress.id, "scenarios": sc.size, "risk": risk.as_dict(),
            "method": "extensive"}),
        labels=instance_labels(instance))
    # the mean-value plan first: EEV needs it, and the extensive form starts from it (a
    # plan of every scenario, slack and all, so HiGHS has an incumbent before its search)
    mv = best_response(ctx, sc.mean, 0, None, None, "the mean-value problem")
    det = None if mv is None else evaluate_plan(ctx, mv, [], "the mean-value plan")
    ef = solve_extensive(comp, first, sc.arrays, p, risk, ctx.elastic,
                         start=None if det is None else det.x, time_limit=time_limit,
                         mip_gap=gap)
    res.status, res.message = ef.status, ef.outcome.message
    if ef.x is None or ef.z is None:
        res.seconds = time.perf_counter() - start
        return res
    if mv is None or det is None:
        res.status = Status.ERROR
        res.message = "the mean-value problem or its plan on a scenario could not be solved"
    else:
        _measure(ctx, res, ef.x, mv, det, ef.outcome.bound, risk)
    res.seconds = time.perf_counter() - start
    return res


def _measure(ctx: Context, res: PlanResult, x_ef: Floats, mv: Floats, det: Evaluated,
             bound: float | None, risk: Risk) -> None:
    """Everything after the extensive form: the hedged plan on every scenario, WS, the
    measures, the words and the hedged plan's tables, into ``res``."""
    sc, comp, d, p, sense = ctx.sc, ctx.comp, ctx.d, ctx.sc.probability, ctx.comp.sense
    hedged = evaluate_plan(ctx, np.where(ctx.first, x_ef[0], 0.0), [x_ef], "the hedged plan")
    if hedged is None:
        res.status, res.message = Status.ERROR, "a scenario could not be solved with the plan"
        return
    mean_values = values_of(comp, ctx.first, sc.mean, ctx.elastic, mv[None, :])
    rp, eev = risk_value(hedged.values.f, p, risk, sense), risk_value(det.values.f, p, risk,
                                                                       sense)
    if better(eev, rp, sense):
        # within the gap the extensive form's plan can be beaten by the mean-value plan,
        # which is a plan of the same problem: the better one is the hedged plan
        hedged, rp = det, eev
        ctx.notes.append("the mean-value plan did better than the extensive form's incumbent "
                         "(within its gap) and is reported as the hedged plan")
    ws = wait_and_see(ctx, [hedged.x, det.x])
    if ws is None:
        res.status, res.message = Status.ERROR, "a scenario could not be solved alone"
        return
    ws_value = risk_value(ws.values.f, p, risk, sense)
    z_hedged = np.where(ctx.first, hedged.x[0], 0.0)
    res.rp, res.ev, res.eev, res.ws = rp, float(mean_values.f[0]), eev, ws_value
    res.vss, res.evpi = gain(rp, eev, sense), gain(ws_value, rp, sense)
    res.bound = bound
    res.gap = _gap(rp, bound, comp.constant, sense)
    if bound is not None and gain(rp, bound, sense) > 1e-7 * max(1.0, abs(rp)):
        # a plan beats the bound HiGHS proved: its proof is not to be trusted
        ctx.notes.append(f"the hedged plan's value {rp:,.6g} beats the solver's proven bound "
                         f"{bound:,.6g}: the extensive form's optimality is not certified")
        ctx.unproven = Status.ERROR
    res.f_hedged, res.f_deterministic, res.f_ws = hedged.values.f, det.values.f, ws.values.f
    res.x_hedged = hedged.x
    res.first_stage = first_stage_list(d, comp, ctx.first, z_hedged)
    res.differs_from_deterministic = differences(d, comp, ctx.first, z_hedged, mv, ws.x, p)
    res.hedged = _distribution(ctx, hedged, risk)
    res.deterministic = _distribution(ctx, det, risk)
    res.elastic = given_list(comp, _data_of(sc), hedged.values.given)
    res.result = instance_tables(ctx, z_hedged)
    if ctx.unproven is not None and res.status == Status.OPTIMAL:
        res.status = ctx.unproven
    if ctx.notes:
        res.message = "; ".join([m for m in (res.message, *ctx.notes) if m])


def _gap(rp: float, bound: float | None, constant: float, sense: int) -> float | None:
    """Relative gap between the reported value and HiGHS's proven bound, on the part the
    plan controls (as HiGHS measures it)."""
    if bound is None or not np.isfinite(bound):
        return None
    return max(0.0, gain(bound, rp, sense)) / max(abs(rp - constant), 1e-12)


def _distribution(ctx: Context, ev: Evaluated, risk: Risk) -> dict[str, object]:
    p = ctx.sc.probability
    return {**spread(ev.values.f, p, risk.alpha, ctx.comp.sense),
            "target_probability": target_probability(ctx.d, ctx.sc.response, ctx.sc.arrays,
                                                     ev.x, p)}


def _data_of(sc: Scenarios) -> Callable[[int], ModelData]:
    """A scenario's model data (its own limits, for the words of what gave), built once."""

    @cache
    def data(s: int) -> ModelData:
        return model_data(sc.instance_of(s), sc.built.data.objective)

    return data



def instance_tables(ctx: Context, z: Floats) -> Result:
    """The hedged plan's tables: its first stage held on the instance itself and the rest
    re-planned, through the normal pipeline and its independent check. If the instance's own
    numbers cannot hold the whole first stage (its first year's money or need differs from
    every drawn future), only the ``first``-stage commitments (sites, go/no-go, posts) are
    held and the first year's money and activity re-planned, said in the result's
    warnings."""
    comp = ctx.comp
    whole = _held_result(ctx, z, ctx.first)
    if whole.status == Status.OPTIMAL or (whole.status in EARLY and whole.objective is not None):
        return whole
    commitments = ctx.first & np.array([stage_of(n) == FIRST for n in comp.col_component])
    part = _held_result(ctx, z, commitments)
    part.warnings.append("the instance's own numbers cannot hold the hedged plan's first-year "
                         "money and activity: its tables hold the sites, go/no-go decisions "
                         "and posts, with the first year re-planned")
    return part


def _held_result(ctx: Context, z: Floats, held: Bools) -> Result:
    comp = ctx.comp
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    v = np.where(comp.integer, np.round(z), z)
    lo[held], hi[held] = v[held], v[held]
    fixed = replace(comp, col_lower=lo, col_upper=hi, _cols=comp._cols, _rows=comp._rows)
    raw = highs.solve_compiled(fixed, time_limit=ctx.time_limit, mip_gap=ctx.mip_gap)
    return result_from(ctx.d, fixed, raw, time_limit=ctx.time_limit, mip_gap=ctx.mip_gap,
                       diagnose=False)
