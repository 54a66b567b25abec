"""The pipeline: instance -> model data -> compiled arrays -> HiGHS -> Result.

The formulation's parts (:mod:`hwbopt.model`) declare their variables and rules once; built
here straight into the compiled arrays (:func:`hwbopt.model.build_compiled`), or into a Pyomo
model (:func:`hwbopt.model.build_model`) whose standard form is the very same LP (tested bit for
bit) for Pyomo's own writers.

A plan is reported ``optimal`` only when HiGHS proves it optimal *and* the independent checker
(:mod:`hwbopt.check`) finds that it obeys every rule of the instance. An infeasible instance
comes back with a first diagnosis: which kinds of rule, relaxed on their own, would let a plan
exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from hwbopt import highs
from hwbopt.check import check_solution
from hwbopt.compile import Compiled
from hwbopt.errors import UsageError
from hwbopt.model import build_compiled, model_data
from hwbopt.model.data import ModelData
from hwbopt.model.names import FAMILIES, Family
from hwbopt.model.objective import objective_constant
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.results import Result, display_tables, empty_tables, plan_tables
from hwbopt.schema import Instance
from hwbopt.status import EARLY, Status, check_limits


@dataclass
class Built:
    """A model built and compiled once, ready to solve (and re-solve)."""

    data: ModelData
    compiled: Compiled
    seconds: float


def build(instance: Instance, objective: str | None = None) -> Built:
    if objective == "equity":  # two solves of one model, not one build: see solve()
        raise UsageError("the equity objective is solved by hwbopt.solve(instance, "
                         "objective='equity') (hwbopt.analyses.criteria.solve_equity), not "
                         "built as one model")
    if objective not in (None, "outcome", "cost"):
        raise UsageError(f"unknown objective {objective!r}: expected 'outcome', 'cost' or "
                         "'equity'")
    start = time.perf_counter()
    d = model_data(instance, objective)
    # straight into arrays: the same LP as compile_model(build_model(d)), without Pyomo
    comp = build_compiled(d)
    comp = replace(comp, constant=comp.offset + objective_constant(d))
    check_numbers(d, comp)
    return Built(d, comp, time.perf_counter() - start)


# The compiled model's numbers HiGHS takes safely. Validation keeps every figure within
# 1e-6..1e9 (``hwbopt.validate.check_magnitudes``); products of figures (a weight times an
# effect, a need times a share) can still go further, so the built model is checked too.
COMPILED_MIN, COMPILED_MAX = 1e-10, 1e12


def check_numbers(d: ModelData, comp: Compiled) -> None:
    """Refuse (exit 2) a model whose coefficients, bounds or costs HiGHS cannot take safely,
    naming the rule or quantity they sit in, before any solve."""
    from hwbopt.words import quantity, rule

    def outside(values: np.ndarray) -> np.ndarray:
        size = np.abs(values)
        out: np.ndarray = np.isfinite(values) & (size > 0) & (
            (size < COMPILED_MIN) | (size > COMPILED_MAX))
        return out

    found: list[str] = []
    A = comp.A.tocoo()
    bad = np.flatnonzero(outside(A.data))
    for k in bad[:3]:
        r, j = int(A.row[k]), int(A.col[k])
        found.append(f"coefficient {A.data[k]:g} of {_words(quantity, d, comp, 'col', j)} "
                     f"in {_words(rule, d, comp, 'row', r)}")
    for name, values, kind in (("bound", comp.row_lower, "row"), ("bound", comp.row_upper, "row"),
                               ("bound", comp.col_lower, "col"), ("bound", comp.col_upper, "col"),
                               ("objective weight", comp.c, "col")):
        for i in np.flatnonzero(outside(values))[:3]:
            what = rule if kind == "row" else quantity
            found.append(f"{name} {values[i]:g} of {_words(what, d, comp, kind, int(i))}")
    if found:
        raise UsageError(
            "the model has numbers the solver cannot take safely (nonzero magnitudes must lie "
            f"between {COMPILED_MIN:g} and {COMPILED_MAX:g}): " + "; ".join(found[:5])
            + ". These come from products of the instance's figures: write money or activity in "
            "a unit that brings them closer to 1 (money_unit, or each intervention's unit)")


def _words(say: Callable[..., str], d: ModelData, comp: Compiled, kind: str, i: int) -> str:
    """A row or column in the board's words, with its name in the model."""
    component = comp.row_component[i] if kind == "row" else comp.col_component[i]
    index = comp.row_index[i] if kind == "row" else comp.col_index[i]
    name = comp.row_name(i) if kind == "row" else comp.col_name(i)
    try:
        return f"'{say(d, component, index)}' ({name})"
    except KeyError:
        return name


def _relaxed(comp: Compiled, family: Family) -> tuple[np.ndarray, ...]:
    row_lo, row_hi = comp.row_lower.copy(), comp.row_upper.copy()
    col_lo, col_hi = comp.col_lower.copy(), comp.col_upper.copy()
    for name in family.rows:
        idx = list(comp.rows(name).values())
        row_lo[idx], row_hi[idx] = -np.inf, np.inf
    for name in family.col_lower:
        idx = list(comp.cols(name).values())
        col_lo[idx] = np.minimum(col_lo[idx], 0.0)
    for name in family.col_upper:
        idx = list(comp.cols(name).values())
        col_hi[idx] = np.inf
    return row_lo, row_hi, col_lo, col_hi


DIAGNOSIS_SECONDS = 20.0  # per relaxed solve; a mixed-integer relaxation may take a while


def diagnose_infeasible(comp: Compiled) -> str:
    """Name the kinds of rule that, each relaxed alone, make the instance feasible."""
    present = [
        f for f in FAMILIES
        if any(comp.rows(n) for n in f.rows) or any(comp.cols(n) for n in f.col_lower)
        or any(comp.cols(n) for n in f.col_upper)
    ]
    h = highs.load(comp)
    inf = 1e30
    freeing = []
    for family in present:
        row_lo, row_hi, col_lo, col_hi = _relaxed(comp, family)
        highs.change_rows_bounds(h, np.arange(comp.n_rows, dtype=np.int32),
                                 np.clip(row_lo, -inf, inf), np.clip(row_hi, -inf, inf))
        h.changeColsBounds(comp.n_cols, np.arange(comp.n_cols, dtype=np.int32),
                           np.clip(col_lo, -inf, inf), np.clip(col_hi, -inf, inf))
        raw = highs.run(h, time_limit=DIAGNOSIS_SECONDS, is_mip=bool(comp.integer.any()))
        if raw.status in (Status.OPTIMAL, Status.UNBOUNDED) or raw.has_plan:
            freeing.append(family.text)
    if not freeing:
        return ("no plan meets every rule, and no single kind of rule explains it: several "
                "kinds conflict together (targets, money, need and change limits)")
    if len(freeing) == 1:
        return f"no plan meets every rule: {freeing[0]} cannot be met (relaxing them alone " \
               "makes a plan possible)"
    return ("no plan meets every rule: relaxing any one of these alone makes a plan possible: "
            + "; ".join(freeing))


def solve_built(
    b: Built,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    check: bool = True,
    threads: int | None = None,
    warnings: list[str] | None = None,
) -> Result:
    gap = b.data.mip_gap if mip_gap is None else mip_gap
    raw = highs.solve_compiled(b.compiled, time_limit=time_limit, threads=threads, mip_gap=gap)
    return result_from(b.data, b.compiled, raw, build_seconds=b.seconds, time_limit=time_limit,
                       mip_gap=gap, check=check, warnings=warnings)


def result_from(
    d: ModelData,
    comp: Compiled,
    raw: highs.RawSolution,
    *,
    build_seconds: float = 0.0,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    check: bool = True,
    warnings: list[str] | None = None,
    check_instance: Instance | None = None,
    extra_checks: Callable[[dict[str, pd.DataFrame]], list[str]] | None = None,
    diagnose: bool = True,
) -> Result:
    """A solver's answer as a :class:`Result`: honest status, tables, independent check.

    ``check_instance`` is the instance whose rules the plan must obey when the compiled model
    was changed after the build (an option such as ``siloed``); ``extra_checks`` adds rules
    the instance cannot express (policies). Only a plan that passes both is reported.
    """
    inst = d.instance
    gap = d.mip_gap if mip_gap is None else mip_gap
    result = Result(
        status=raw.status,
        objective=None,
        objective_kind=d.objective,
        instance_name=inst.name,
        currency=inst.currency,
        money_unit=inst.money_unit,
        years=d.YEARS,
        tables=empty_tables(),
        solve_seconds=raw.seconds,
        build_seconds=build_seconds,
        n_variables=comp.n_cols,
        n_constraints=comp.n_rows,
        n_integer=int(comp.integer.sum()),
        warnings=list(warnings or []),
        solver=f"HiGHS {highs.highs_version()}",
        mip_gap=raw.mip_gap,
        bound=raw.bound,
        gap_tolerance=gap if raw.is_mip else None,
        provenance=run_provenance(highs.highs_version(), options={
            "objective": d.objective, "mip_gap": gap, "time_limit": time_limit}),
        labels=instance_labels(inst),
    )
    if raw.status == Status.INFEASIBLE and diagnose:
        result.message = diagnose_infeasible(comp)
        return result
    if raw.x is None or raw.objective is None:
        result.message = raw.message
        return result
    result.objective = raw.objective
    result.solution = raw.x
    plan = plan_tables(d, comp, raw.x)  # unrounded: the checker sees what the solver gave
    result.tables = display_tables(plan)
    if raw.status in EARLY:
        result.message = (
            f"{raw.message}: the best plan found is reported, not proven optimal (objective "
            f"{raw.objective:,.6g}, bound {raw.bound or 0:,.6g}, gap {raw.mip_gap or 0:.3%})")
    if check:
        violations = check_solution(check_instance or inst, plan, d.objective,
                                    raw.objective)
        if extra_checks is not None:
            violations += extra_checks(plan)
        result.checked = True
        if violations:
            result.status = Status.ERROR
            result.message = ("the solver's plan failed the independent check, so it is not "
                              "reported: " + "; ".join(violations[:5]))
    return result


def solve(
    instance: Instance,
    *,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    check: bool = True,
    threads: int | None = None,
) -> Result:
    """Build, solve and check one instance. See :class:`hwbopt.results.Result`.

    ``mip_gap`` (relative) overrides ``settings.mip_gap``; a mixed-integer plan within it is
    ``optimal``. With ``time_limit`` reached, a found plan comes back as ``time_limit`` with
    its objective, bound and gap; none found means no objective. ``objective="equity"`` is
    the lexicographic equity objective (:func:`hwbopt.analyses.criteria.solve_equity`).
    """
    check_limits(time_limit, mip_gap)
    if objective == "equity":
        from hwbopt.analyses.criteria import solve_equity  # it builds on this module

        return solve_equity(instance, time_limit, mip_gap, check=check, threads=threads)
    return solve_built(build(instance, objective), time_limit=time_limit, mip_gap=mip_gap,
                       check=check, threads=threads)
