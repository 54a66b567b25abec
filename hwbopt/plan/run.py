"""``hwbopt plan`` from end to end: scenarios, the mean-value plan, the hedged plan (the
extensive form or the decomposition), each plan evaluated scenario by scenario, the measures
and the words (:func:`run_plan`, behind :func:`hwbopt.plan.plan`).

Every solve after the hedged plan's is of one scenario, with a first stage held or free, as a
subproblem of :mod:`hwbopt.plan.recourse` (the scenario's own extensive form, its rules
elastic as in the whole), on the run's workers. The mean-value problem is solved first with
every rule hard (the instance's own model with the mean inputs), and only if that has no
plan, elastic: slack costs more than any plan gains from it, so the two agree whenever the
hard model has a plan, and the hard model's answer needs no slack to explain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.errors import UsageError
from hwbopt.model import model_data
from hwbopt.model.component import FIRST
from hwbopt.model.data import ModelData
from hwbopt.pipeline import result_from
from hwbopt.plan import DEFAULT_RISK, PlanResult, Risk
from hwbopt.plan.decomposed import Round, solve_decomposed
from hwbopt.plan.evaluate import Batch, batch_plan, evaluation_seed, values_on
from hwbopt.plan.evaluate import summary as oos_summary
from hwbopt.plan.extensive import Elastic, elastic_of, solve_extensive
from hwbopt.plan.measures import (
    Values,
    better,
    differences,
    first_stage_list,
    gain,
    given_list,
    risk_value,
    share,
    spread,
    target_probability,
    values_of,
)
from hwbopt.plan.recourse import Background, Pool, plan_workers, sub_spec
from hwbopt.plan.scenarios import Arrays, Scenarios, chosen_set, draw_scenarios
from hwbopt.plan.stages import first_stage, stage_of
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.results import Result
from hwbopt.schema import Instance
from hwbopt.status import EARLY, Outcome, Status, check_limits

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

EXTENSIVE, DECOMPOSED = "extensive", "decomposed"


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
    rounds: list[Round] = field(default_factory=list)  # the decomposition's, if it ran
    step: Callable[[str], None] = field(default=lambda text: None)  # progress, in words

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


def evaluate_plan(ctx: Context, pool: Pool, z: Floats, candidates: list[Floats],
                  what: str) -> Evaluated | None:
    """The first stage of ``z`` on every drawn scenario: per scenario the best of its
    re-optimised recourse (:meth:`hwbopt.plan.recourse.Pool.fixed`) and the plans
    ``candidates`` (S × columns, same first stage)."""
    found = pool.fixed(z, exact=True)
    for r in found:
        ctx.noted(r.status, f"{what}, scenario {r.scenario}")
    plans = [r.x for r in found if r.x is not None and r.value is not None]
    if len(plans) < len(found):
        return None
    return _best(ctx, [np.vstack(plans), *candidates])


def _best(ctx: Context, plans: list[Floats]) -> Evaluated:
    """Per scenario, the plan of ``plans`` with the best value (each S × columns), as the
    scenario has it (a site it takes away closed: :meth:`Arrays.effective`)."""
    plans = [ctx.sc.arrays.effective(x) for x in plans]
    vals = [values_of(ctx.comp, ctx.first, ctx.sc.arrays, ctx.elastic, x) for x in plans]
    f = np.vstack([v.f for v in vals])  # (plans, S)
    pick = np.argmin(f, axis=0) if ctx.comp.sense > 0 else np.argmax(f, axis=0)
    x = np.vstack([plans[int(k)][s] for s, k in enumerate(pick)])
    return Evaluated(x, values_of(ctx.comp, ctx.first, ctx.sc.arrays, ctx.elastic, x))


def wait_and_see(ctx: Context, pool: Pool, known: list[Floats], starts: list[Floats],
                 background: Background | None = None) -> Evaluated | None:
    """Each scenario's own optimum (perfect information), started from the plans ``starts``
    and never worse than the plans ``known`` have in it; solved, in part, by ``background``
    during the decomposition. The starts are the mean-value plan's alone, known before the
    hedged plan is: so a scenario's answer is the same whenever it is solved."""
    found = background.finish() if background is not None else pool.own(starts)
    for r in found:
        ctx.noted(r.status, f"wait-and-see, scenario {r.scenario}")
    plans = [r.x for r in found if r.x is not None]
    if len(plans) < len(found):
        return None
    return _best(ctx, [np.vstack(plans), *known])


# the extensive form is chosen by auto up to this many columns over all scenarios (scenarios
# × the instance's columns: 7 county scenarios, 2,808 columns each). Measured on the county,
# 1% gap (benchmarks/README.md): 10 scenarios, the decomposition 33 s against the extensive
# form's 56 s, both optimal; 50, the decomposition optimal in 269 s where the extensive form
# stops at its limit 155% from its bound, in 1.4 GB. A small instance's extensive form is one
# quick MIP with nothing to coordinate
EXTENSIVE_UP_TO = 20_000


def choose_method(method: str, scenarios: int, comp: Compiled) -> str:
    """``extensive`` or ``decomposed``: as asked, or for ``auto`` by size."""
    if method in (EXTENSIVE, DECOMPOSED):
        return method
    if method != "auto":
        raise UsageError(f"unknown method {method!r}: expected auto, extensive or decomposed")
    return EXTENSIVE if scenarios * comp.n_cols <= EXTENSIVE_UP_TO else DECOMPOSED


def run_plan(instance: Instance, *, stress_set: str | None = None,
             scenarios: int | None = None, seed: int | None = None,
             risk: Risk = DEFAULT_RISK,
             objective: str | None = None, time_limit: float | None = None,
             mip_gap: float | None = None, method: str = "auto", workers: int = 1,
             scheduler: str | None = None, evaluate: int | None = None,
             on_round: Callable[[Round], None] | None = None,
             on_step: Callable[[str], None] | None = None) -> PlanResult:
    """See :func:`hwbopt.plan.plan`."""
    check_limits(time_limit, mip_gap)
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    if evaluate is not None and evaluate < 2:
        raise UsageError("--evaluate needs at least 2 fresh futures")
    if evaluate is not None:
        _, chosen_stress = chosen_set(instance, stress_set, scenarios, seed)
        if chosen_stress.table_rows:
            raise UsageError(f"stress set '{chosen_stress.id}' is a table of its "
                             f"{len(chosen_stress.table_rows)} futures: there are no fresh "
                             "ones to test on (--evaluate needs a set that samples its "
                             "inputs)")
    start = time.perf_counter()
    step = on_step or (lambda text: None)
    step("drawing the scenarios and building the model")
    sc = draw_scenarios(instance, stress_set=stress_set, scenarios=scenarios, seed=seed,
                        objective=objective)
    d, comp = sc.built.data, sc.comp
    gap = d.mip_gap if mip_gap is None else mip_gap
    chosen = choose_method(method, sc.size, comp)
    first = first_stage(comp, d.YEARS[0])
    ctx = Context(sc, first, elastic_of(comp, first, [sc.arrays, sc.mean]), time_limit, gap,
                  step=step)
    p = sc.probability
    res = PlanResult(
        status=Status.ERROR, message="", scenarios=sc.size, seed=sc.stress.seed,
        stress_set=sc.stress.id, risk=risk, objective_kind=d.objective, method=chosen,
        probability=p, values=sc.values, inputs=sc.inputs,
        provenance=run_provenance(highs.highs_version(), seed=sc.stress.seed, options={
            "objective": d.objective, "mip_gap": gap, "time_limit": time_limit,
            "stress_set": sc.stress.id, "scenarios": sc.size, "risk": risk.as_dict(),
            "method": chosen, "asked_method": method, "workers": workers,
            "evaluate": evaluate}),
        labels=instance_labels(instance))
    spec = sub_spec(comp, first, sc.arrays, ctx.elastic, time_limit, gap)
    with plan_workers(workers, scheduler, [spec]) as (client, n_workers), \
            Pool(spec, client, n_workers) as P:
        # the mean-value plan first: EEV needs it, and both methods start from it (a plan
        # of every scenario, slack and all, so the solver has an incumbent before its search)
        step("solving the mean-value problem (the plan for the average future)")
        mv = best_response(ctx, sc.mean, 0, None, None, "the mean-value problem")
        step(f"the mean-value plan on each of the {sc.size:,} scenarios")
        det = None if mv is None else evaluate_plan(ctx, P, mv, [], "the mean-value plan")
        if mv is None or det is None:
            # a limit that stops these first solves stops the run: its status, not an error
            res.status = ctx.unproven if ctx.unproven in EARLY else Status.ERROR
            res.message = "the mean-value problem or its plan on a scenario could not be " \
                "solved" + (f" ({'; '.join(ctx.notes)})" if ctx.notes else "")
            res.seconds = time.perf_counter() - start
            return res
        step(f"the hedged plan over {sc.size:,} scenarios: "
             + ("one extensive model" if chosen == EXTENSIVE else "decomposition"))
        # wait-and-see on the local workers while this process solves the master
        background = Background(P, [det.x]) if chosen == DECOMPOSED else None
        solved = _solve(chosen, ctx.comp, ctx.first, ctx.elastic, sc.arrays, p, sc.values, P,
                        risk, det.x, mv, time_limit, gap, on_round, background)
        ctx.rounds = solved.rounds
        res.decomposition = _rounds_summary(solved.rounds)
        res.status, res.message = solved.outcome.status, solved.outcome.message
        if solved.x is not None:
            _measure(ctx, P, res, solved, mv, det, risk, background)
        if evaluate is not None and res.z_hedged is not None:
            step(f"testing both plans on {evaluate:,} fresh futures")
            res.out_of_sample = _out_of_sample(ctx, chosen, risk, res.z_hedged, mv,
                                               evaluate, client, n_workers)
    res.seconds = time.perf_counter() - start
    return res


def _rounds_summary(rounds: list[Round]) -> dict[str, Any] | None:
    """The decomposition's rounds by phase, and its seconds in master solves and in scenario
    subproblems (the rest: evaluating plans exactly and bookkeeping); None without rounds."""
    if not rounds:
        return None
    last = rounds[-1]
    phases = [r.phase for r in rounds]
    return {"rounds": len(rounds), "lp_rounds": phases.count("lp"),
            "mip_rounds": phases.count("mip"), "seconds": round(last.seconds, 3),
            "master_seconds": round(last.master_seconds, 3),
            "subproblem_seconds": round(last.sub_seconds, 3),
            "cuts_added": last.added, "cuts_held": last.held,
            "cuts_dropped": last.dropped, "cut_groups": last.groups}


def _out_of_sample(ctx: Context, chosen: str, risk: Risk, hedged: Floats, mv: Floats, m: int,
                   client: Any, n_workers: int) -> dict[str, Any] | None:
    """Both plans on ``m`` fresh futures, and the MRP gap estimate
    (:mod:`hwbopt.plan.evaluate`); None (with a note) if a future could not be solved."""
    sc, comp, first, sense = ctx.sc, ctx.comp, ctx.first, ctx.comp.sense
    seed = evaluation_seed(sc.stress.seed)
    fresh = draw_scenarios(sc.instance, stress_set=sc.stress.id, scenarios=m, seed=seed,
                           objective=sc.built.data.objective, built=sc.built)
    spec = sub_spec(comp, first, fresh.arrays, ctx.elastic, ctx.time_limit, ctx.mip_gap)

    def value_of(arrays: Arrays) -> Callable[[Floats], Floats]:
        return lambda x: values_of(comp, first, arrays, ctx.elastic, x).f

    with Pool(spec, client, n_workers) as P:
        on_h = values_on(P, np.where(first, hedged, 0.0), value_of(fresh.arrays))
        on_d = values_on(P, np.where(first, mv, 0.0), value_of(fresh.arrays))
    if on_h is None or on_d is None:
        ctx.notes.append("a fresh future could not be solved: no out-of-sample test")
        return None
    (f_h, x_h), (f_d, _) = on_h, on_d
    n_g, n = batch_plan(m, sc.size)
    batches = []
    for g in range(n_g):
        ctx.step(f"testing on fresh futures: gap estimate, replication {g + 1} of {n_g}")
        at = np.arange(g * n, (g + 1) * n)
        arrays = fresh.arrays.take(at)
        p = np.full(n, 1.0 / n)
        bspec = sub_spec(comp, first, arrays, ctx.elastic, ctx.time_limit, ctx.mip_gap)
        with Pool(bspec, client, n_workers) as bpool:
            solved = _solve(chosen, comp, first, ctx.elastic, arrays, p, fresh.values[at],
                            bpool, risk, x_h[at], hedged, ctx.time_limit, ctx.mip_gap)
        if solved.outcome.bound is None:
            ctx.notes.append(f"replication {g} of the gap estimate has no proven bound "
                             f"({solved.outcome.status}): left out")
            continue
        batches.append(Batch(float(solved.outcome.bound), risk_value(f_h[at], p, risk, sense)))
    if len(batches) < 2:
        ctx.notes.append("too few replications for the gap estimate")
        return None
    return oos_summary(m, seed, f_h, f_d, batches, n, sense, risk, np.full(m, 1.0 / m))


@dataclass(frozen=True)
class Solved:
    """The hedged plan as either method found it: how it ended (objective and bound of the
    plan's risk measure, the instance's sense), and each scenario's whole plan (S × columns,
    one first stage) or None."""

    outcome: Outcome
    x: Floats | None
    exact: bool  # x is each scenario's best recourse already (no re-solve needed)
    rounds: list[Round] = field(default_factory=list)  # the decomposition's


def _solve(chosen: str, comp: Compiled, first: Bools, elastic: Elastic, arrays: Arrays,
           probability: Floats, values: Floats, P: Pool, risk: Risk, start: Floats,
           start_z: Floats, time_limit: float | None, gap: float,
           on_round: Callable[[Round], None] | None = None,
           background: Background | None = None) -> Solved:
    """The hedged plan of the scenarios ``arrays`` by the ``chosen`` method, starting from
    the plans ``start`` (S × columns, one first stage ``start_z``)."""
    if chosen == EXTENSIVE:
        ef = solve_extensive(comp, first, arrays, probability, risk, elastic, start=start,
                             time_limit=time_limit, mip_gap=gap)
        return Solved(ef.outcome, ef.x, False)
    floors = [r.value for r in P.own([], relax=True)]
    if any(v is None for v in floors):
        return Solved(Outcome(Status.ERROR, "a scenario's LP relaxation could not be solved",
                              "decomposition", None, None, None), None, True)
    dec = solve_decomposed(P, probability, risk, start=start_z,
                           floors=comp.sense * np.array(floors, dtype=float),
                           time_limit=time_limit, mip_gap=gap, arrays_values=values,
                           start_plans=start, on_round=on_round, background=background)
    return Solved(dec.outcome, dec.x, True, dec.rounds)


def _measure(ctx: Context, P: Pool, res: PlanResult, solved: Solved, mv: Floats,
             det: Evaluated, risk: Risk, background: Background | None = None) -> None:
    """Everything after the hedged plan is found: it on every scenario, WS, the measures, the
    words and the hedged plan's tables, into ``res``."""
    sc, comp, d, p, sense = ctx.sc, ctx.comp, ctx.d, ctx.sc.probability, ctx.comp.sense
    x_plan = solved.x
    assert x_plan is not None
    bound = solved.outcome.bound
    # the commitments themselves (a scenario's own plan reads a site it takes away as closed)
    z_hedged = np.where(ctx.first, x_plan[0], 0.0)
    if solved.exact:
        hedged: Evaluated | None = _best(ctx, [x_plan])
    else:
        ctx.step(f"the hedged plan on each of the {sc.size:,} scenarios")
        hedged = evaluate_plan(ctx, P, z_hedged, [x_plan], "the hedged plan")
    if hedged is None:
        res.status, res.message = Status.ERROR, "a scenario could not be solved with the plan"
        return
    mean_values = values_of(comp, ctx.first, sc.mean, ctx.elastic, mv[None, :])
    rp, eev = risk_value(hedged.values.f, p, risk, sense), risk_value(det.values.f, p, risk,
                                                                       sense)
    if better(eev, rp, sense):
        # within the gap the solver's plan can be beaten by the mean-value plan, which is a
        # plan of the same problem: the better one is the hedged plan
        hedged, rp, z_hedged = det, eev, np.where(ctx.first, mv, 0.0)
        ctx.notes.append("the mean-value plan did better than the solver's incumbent "
                         "(within its gap) and is reported as the hedged plan")
    ctx.step(f"each of the {sc.size:,} scenarios' own optimum (perfect information)")
    ws = wait_and_see(ctx, P, [hedged.x, det.x], [det.x], background)
    if ws is None:
        res.status, res.message = Status.ERROR, "a scenario could not be solved alone"
        return
    ws_value = risk_value(ws.values.f, p, risk, sense)
    res.rp, res.ev, res.eev, res.ws = rp, float(mean_values.f[0]), eev, ws_value
    res.vss, res.evpi = gain(rp, eev, sense), gain(ws_value, rp, sense)
    res.bound = bound
    res.gap = _gap(rp, bound, comp.constant, sense)
    if bound is not None and gain(rp, bound, sense) > 1e-7 * max(1.0, abs(rp)):
        # a plan beats the bound the solver proved: its proof is not to be trusted
        ctx.notes.append(f"the hedged plan's value {rp:,.6g} beats the solver's proven bound "
                         f"{bound:,.6g}: its optimality is not certified")
        ctx.unproven = Status.ERROR
    res.f_hedged, res.f_deterministic, res.f_ws = hedged.values.f, det.values.f, ws.values.f
    res.x_hedged, res.z_hedged = hedged.x, z_hedged
    res.first_stage = first_stage_list(d, comp, ctx.first, z_hedged)
    res.differs_from_deterministic = differences(d, comp, ctx.first, z_hedged, mv, ws.x, p)
    res.hedged = _distribution(ctx, hedged, risk)
    res.deterministic = _distribution(ctx, det, risk)
    res.elastic = given_list(comp, _data_of(sc), hedged.values.given)
    ctx.step("the hedged plan's tables on the instance")
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
    """A plan's spread over the scenarios, its target probabilities, and what its values
    hold of penalties: the probability of the futures where a rule breaks, its mean without
    the penalties, and each broken rule (its component and meaning) with the probability of
    the futures where it breaks."""
    p, comp = ctx.sc.probability, ctx.comp
    kinds: dict[str, set[int]] = {}
    for g in ev.values.given:
        name = comp.row_component[g.row] if g.row is not None else \
            comp.col_component[g.col] if g.col is not None else "?"
        kinds.setdefault(name, set()).add(g.scenario)
    broken = [{"rule": name, "text": _meaning(name),
               "share": share(p, np.isin(np.arange(len(p)), sorted(at)))}
              for name, at in kinds.items()]
    broken.sort(key=lambda b: (-float(b["share"]), str(b["rule"])))  # type: ignore[arg-type]
    return {**spread(ev.values.f, p, risk.alpha, comp.sense),
            "target_probability": target_probability(ctx.d, ctx.sc.response, ctx.sc.arrays,
                                                     ev.x, p),
            "breaks_share": share(p, ev.values.penalty > 0),
            "mean_without_penalties": float(p @ ev.values.objective),
            "broken_rules": broken}


def _meaning(component: str) -> str:
    from hwbopt.model.names import ARRAY_COMPONENTS, COMPONENTS

    found = COMPONENTS.get(component) or ARRAY_COMPONENTS.get(component)
    return found.meaning if found is not None else component


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
