"""Small random mixed-integer instances cross-checked against enumeration by a second route.

Each seed draws a random instance (tests/randinst.py) with a few binary decisions: go/no-go
services with minimum scales and set-up costs, an exclusive pair, a dependency, threshold and
S-shaped responses, sites that may close, and sometimes staff (continuous: ``whole_posts`` stays
false). The optimum ``hwbopt.solve(..., mip_gap=0)`` reports is held to an enumeration that
shares no compiled arrays and no code of ``hwbopt.compile`` or ``hwbopt.highs`` with it:

- a fresh Pyomo model is built from the instance (``hwbopt.model.model_data``,
  ``build_model``) and written out here, constraint by constraint, through Pyomo's standard
  representation (``pyomo.repn.generate_standard_repn``, not the ``LinearStandardFormCompiler``
  behind ``hwbopt.compile``); its binary variables are named by component and index;
- every 0/1 assignment of them is an LP, solved by ``scipy.optimize.milp`` with no integer
  column (the HiGHS that scipy bundles, called through scipy, not ``hwbopt.highs``), in a
  depth-first walk that fixes one binary at a time;
- assignments are skipped only where they are provably infeasible: they break a row that holds
  binaries alone (closures, alternatives, dependencies), or the LP relaxation with the binaries
  fixed so far (the rest free in [0, 1]) is infeasible, so every completion is too; and an
  assignment whose LP optimum is already known is not solved again (the optimum of such a
  relaxation that happens to have the remaining binaries at its 0/1 values is feasible for that
  assignment's LP, whose region is a part of the relaxation's, and so is its optimum too);
- the best assignment is then fixed in the Pyomo model (``var.fix``), the continuous variables
  set to its LP solution, and Pyomo itself re-evaluates every constraint and the objective, so
  the writing-out above is checked against the model too.

The best objective over feasible assignments (largest for ``outcome``, smallest for ``cost``)
must equal the optimum ``hwbopt.solve(..., mip_gap=0)`` reports (and the bound it proved), to
1e-6 relative, and an instance with no feasible assignment must be reported infeasible. Every
optimum also passes the independent checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
import scipy.sparse as sp
from conftest import solve_checked
from pyomo.repn import generate_standard_repn
from randinst import random_instance
from scipy.optimize import Bounds, LinearConstraint, milp
from tiny import build as tiny_build

import hwbopt
from hwbopt.model import build_model, model_data

SEEDS = range(32)
MAX_BINARIES = 12
REL = 1e-6
# a relaxation is solved to prune a subtree only when more assignments than this remain in it
# (for one or two, solving them costs no more than the relaxation)
PRUNE_ABOVE = 2

Key = tuple[str, Any]  # a variable by component name and index, as Pyomo names it


def knobs(seed: int) -> tuple[str, dict[str, Any]]:
    """The objective and the random_instance knobs of a seed (drawn, so seeds differ)."""
    r = np.random.default_rng([seed, 2])
    objective = "cost" if r.random() < 0.3 else "outcome"
    kw: dict[str, Any] = {
        "n_years": int(r.choice([1, 2, 2, 3])),
        "exclusive_pair": bool(r.random() < 0.5),
        "dependency": bool(r.random() < 0.5),
        "n_go_no_go": int(r.integers(0, 3)),
        "n_nonconcave": int(r.integers(0, 2)),
        "n_sites": int(r.integers(0, 3)),
        "staff": bool(r.random() < 0.5),
        "max_binaries": MAX_BINARIES,
        # under ``cost`` every target is hard: targets the reference plan meets keep the
        # instance feasible; otherwise it may well be infeasible, which is checked too
        "hard_targets": bool(r.random() < (0.8 if objective == "cost" else 0.3)),
    }
    if r.random() < 0.3:
        kw["n_localities"] = int(r.integers(2, 4))
    return objective, kw


def instance(seed: int) -> tuple[str, hwbopt.Instance]:
    objective, kw = knobs(seed)
    return objective, hwbopt.instance_from_dict(random_instance(seed, **kw))


# ---------------------------------------------------------------------------------------------
# The model written out by Pyomo's standard representation, one constraint at a time
# ---------------------------------------------------------------------------------------------


@dataclass
class Written:
    """``c @ x + constant`` (maximised or minimised) over ``lower <= A x <= upper`` and bounds:
    a fresh Pyomo model of the instance, one row per active constraint, one column per
    variable that appears in one (or in the objective)."""

    model: pyo.ConcreteModel
    variables: list[Any]  # the Pyomo variable of each column
    c: np.ndarray
    constant: float
    maximise: bool
    A: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column

    def key(self, j: int) -> Key:
        v = self.variables[j]
        return v.parent_component().local_name, v.index()

    @property
    def free(self) -> np.ndarray:
        """Columns of the binary decisions (an integer whose bounds fix it is not one)."""
        return np.flatnonzero(self.integer & (self.col_lower < self.col_upper))

    @property
    def binaries(self) -> list[Key]:
        return [self.key(j) for j in self.free]


def write(inst: hwbopt.Instance, objective: str) -> Written:
    m = build_model(model_data(inst, objective))
    column: dict[int, int] = {}
    variables: list[Any] = []

    def col(v: Any) -> int:
        j = column.get(id(v))
        if j is None:
            j = column[id(v)] = len(variables)
            variables.append(v)
        return j

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for con in m.component_data_objects(pyo.Constraint, active=True):
        repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
        assert repn.is_linear(), con.name
        lo = pyo.value(con.lower) - repn.constant if con.has_lb() else -np.inf
        hi = pyo.value(con.upper) - repn.constant if con.has_ub() else np.inf
        if not repn.linear_vars:  # nothing to decide: it must simply hold
            assert lo <= 1e-9 and hi >= -1e-9, con.name
            continue
        for coef, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            rows.append(len(lower))
            cols.append(col(v))
            vals.append(coef)
        lower.append(lo)
        upper.append(hi)
    (obj,) = m.component_data_objects(pyo.Objective, active=True)
    repn = generate_standard_repn(obj.expr, compute_values=True, quadratic=False)
    assert repn.is_linear()
    objective_cols = [col(v) for v in repn.linear_vars]
    n = len(variables)
    c = np.zeros(n)
    np.add.at(c, objective_cols, np.asarray(repn.linear_coefs, dtype=float))
    return Written(
        model=m, variables=variables, c=c, constant=float(pyo.value(repn.constant)),
        maximise=obj.sense == pyo.maximize,
        A=sp.csr_array((vals, (rows, cols)), shape=(len(lower), n)),
        row_lower=np.array(lower), row_upper=np.array(upper),
        col_lower=np.array([-np.inf if v.lb is None else v.lb for v in variables]),
        col_upper=np.array([np.inf if v.ub is None else v.ub for v in variables]),
        integer=np.array([v.is_integer() for v in variables], dtype=bool),
    )


# ---------------------------------------------------------------------------------------------
# Enumeration: one LP per 0/1 assignment, skipping only what is provably infeasible
# ---------------------------------------------------------------------------------------------


@dataclass
class Enumeration:
    best: float | None  # None: no assignment is feasible
    assignment: dict[Key, int] | None  # the best one, by variable name and index
    x: np.ndarray | None  # its LP solution, per column
    assignments: int  # 2 ** binaries
    allowed: int  # those the rows of binaries alone allow
    lps: int  # LPs solved (leaves and relaxations)
    feasible: int  # feasible assignments


def allowed_by_binary_rows(w: Written, every: np.ndarray) -> np.ndarray:
    """Which assignments (rows of ``every``) the rows holding only integer columns allow."""
    A = w.A.tocsc()
    continuous = np.flatnonzero(~w.integer)
    pure = np.flatnonzero(np.diff(A[:, continuous].tocsr().indptr) == 0)
    if not len(pure):
        return np.ones(len(every), dtype=bool)
    free = w.free
    fixed = np.flatnonzero(w.integer & (w.col_lower == w.col_upper))
    act = A[pure][:, free] @ every.T.astype(float)
    if len(fixed):
        act += (A[pure][:, fixed] @ w.col_lower[fixed])[:, None]
    lo, hi = w.row_lower[pure, None] - 1e-9, w.row_upper[pure, None] + 1e-9
    return np.all((act >= lo) & (act <= hi), axis=0)


def enumerate_optimum(w: Written) -> Enumeration:
    free = w.free
    n = len(free)
    assert np.all(w.col_lower[free] == 0) and np.all(w.col_upper[free] == 1)
    codes = np.arange(2 ** n)
    every = (codes[:, None] >> np.arange(n)) & 1  # bit b of assignment k: binary b
    allowed = allowed_by_binary_rows(w, every)
    rows = LinearConstraint(w.A, w.row_lower, w.row_upper)
    cost = -w.c if w.maximise else w.c
    found = Enumeration(None, None, None, 2 ** n, int(allowed.sum()), 0, 0)
    best_code = -1

    def lp(lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
        found.lps += 1
        res = milp(cost, constraints=rows, bounds=Bounds(lower, upper),  # no integer column
                   options={"presolve": False})
        if res.status == 2:  # infeasible
            return None
        assert res.status == 0, res.message
        return res.x

    def visit(depth: int, prefix: int, lower: np.ndarray, upper: np.ndarray,
              witness: np.ndarray | None) -> None:
        """Every assignment whose first ``depth`` binaries are the bits of ``prefix``;
        ``witness``, if known, a solution of the relaxation with those binaries fixed."""
        nonlocal best_code
        left = int(np.count_nonzero(allowed & ((codes & ((1 << depth) - 1)) == prefix)))
        if left == 0:
            return
        if depth == n:
            # a witness is optimal for an ancestor's LP and feasible here, so optimal here too
            x = witness if witness is not None else lp(lower, upper)
            if x is None:
                return
            found.feasible += 1
            value = float(w.c @ x) + w.constant
            if found.best is None or (value > found.best if w.maximise else value < found.best):
                found.best, found.x, best_code = value, x, prefix
            return
        if witness is None and left > PRUNE_ABOVE:
            witness = lp(lower, upper)
            if witness is None:
                return  # infeasible with the rest relaxed to [0, 1]: so is every completion
        j = free[depth]
        for bit in (0, 1):
            lo, hi = lower.copy(), upper.copy()
            lo[j] = hi[j] = bit
            # a relaxed solution with this binary at ``bit`` already solves the child's
            # relaxation: no LP needed to know it is feasible
            keep = witness if witness is not None and witness[j] == bit else None
            visit(depth + 1, prefix | (bit << depth), lo, hi, keep)

    visit(0, 0, w.col_lower.copy(), w.col_upper.copy(), None)
    if found.best is not None:
        found.assignment = {w.key(j): int(every[best_code, b]) for b, j in enumerate(free)}
    return found


def verify_in_pyomo(w: Written, found: Enumeration) -> None:
    """Fix the best assignment in the Pyomo model by name and index, give the continuous
    variables their LP values, and let Pyomo evaluate every constraint and the objective."""
    m = w.model
    assert found.assignment is not None and found.x is not None
    for (name, index), bit in found.assignment.items():
        m.component(name)[index].fix(bit)
    for v, x in zip(w.variables, found.x, strict=True):
        if not v.fixed:
            v.set_value(float(x), skip_validation=True)
    worst = 0.0
    for con in m.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        for bound, below in ((con.lower, True), (con.upper, False)):
            if bound is None:
                continue
            b = pyo.value(bound)
            miss = (b - body) if below else (body - b)
            worst = max(worst, miss / max(1.0, abs(b)))
    assert worst <= 1e-6, f"the LP's plan breaks the Pyomo model by {worst:.3g}"
    (obj,) = m.component_data_objects(pyo.Objective, active=True)
    assert close(pyo.value(obj), found.best), (pyo.value(obj), found.best)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("seed", SEEDS)
def test_mip_optimum_equals_enumeration(seed: int) -> None:
    objective, inst = instance(seed)
    w = write(inst, objective)
    assert 1 <= len(w.free) <= MAX_BINARIES, len(w.free)
    found = enumerate_optimum(w)

    result = solve_checked(inst, objective=objective, mip_gap=0)
    # the same integer variables reached the solver by both routes
    assert result.n_integer == int(w.integer.sum()), (result.n_integer, int(w.integer.sum()))
    if found.best is None:
        assert found.feasible == 0
        assert result.status == "infeasible", (result.status, result.message)
        return
    verify_in_pyomo(w, found)
    assert result.objective is not None, (result.status, result.message)
    assert close(result.objective, found.best), (result.objective, found)
    assert result.status == "optimal", (result.status, result.message)
    assert result.mip_gap is not None and result.mip_gap <= 1e-6
    # and the bound HiGHS proved agrees with the enumeration too
    assert result.bound == pytest.approx(found.best, rel=REL, abs=2e-6)


def test_seeds_cover_every_kind_of_decision() -> None:
    """Across the seeds: every kind of binary, both objectives, and an infeasible instance."""
    kinds: set[str] = set()
    objectives: set[str] = set()
    staffed = localised = 0
    for seed in SEEDS:
        objective, inst = instance(seed)
        kinds.update(name for name, _ in write(inst, objective).binaries)
        objectives.add(objective)
        staffed += bool(inst.staff)
        localised += len(inst.localities) > 1
    assert kinds == {"run", "open", "piece_full"}
    assert objectives == {"outcome", "cost"}
    assert staffed >= 5 and localised >= 3


def test_some_seeds_are_infeasible_and_most_are_not() -> None:
    infeasible = []
    for seed in SEEDS:
        objective, inst = instance(seed)
        if objective == "cost" and not knobs(seed)[1]["hard_targets"]:
            result = hwbopt.solve(inst, objective=objective, mip_gap=0)
            if result.status == "infeasible":
                infeasible.append(seed)
    assert 1 <= len(infeasible) <= len(SEEDS) // 4, infeasible


def test_enumeration_finds_what_it_should_on_a_hand_solved_case() -> None:
    """The enumeration itself, on a knapsack solved by hand: £10k for A (£6k to run at its
    minimum scale of 6, 3 points a unit, need 6) or B (£5k, minimum 5, 2.5 points a unit, need
    5) and C (£5k, minimum 5, 2 points a unit, need 5). Ranking by points per pound buys A
    (18) and cannot afford more; the optimum is B and C: 12.5 + 10 = 22.5."""
    inst = tiny_build(
        partners=[{"id": "board", "remit": ["a", "b", "c"]}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 6, "min_scale": 6},
                       {"id": "b", "unit_cost": 1, "need": 5, "min_scale": 5},
                       {"id": "c", "unit_cost": 1, "need": 5, "min_scale": 5}],
        responses=[("a", "health", 1, 3.0), ("b", "health", 1, 2.5), ("c", "health", 1, 2.0)],
        budgets={"board": 10},
    )
    w = write(inst, "outcome")
    found = enumerate_optimum(w)
    assert found.assignments == 8 and found.feasible == 5  # none, each alone, B with C
    assert found.best == pytest.approx(22.5)
    assert found.assignment == {("run", ("a", 2013)): 0, ("run", ("b", 2013)): 1,
                                ("run", ("c", 2013)): 1}
    verify_in_pyomo(w, found)


def test_set_up_cost_of_a_service_run_only_to_let_another_run_is_paid_for() -> None:
    """B (2 points a unit, need 10) may run only if A runs; A has a set-up cost of £5k and no
    benefit of its own. The optimum runs A at the least activity that counts as running (one
    unit, £1k: ``dependency_activity`` in models/choices.md), pays its set-up (5) and runs B in
    full: 20 points. The £5k is paid by the board and must appear in the allocation: 5 + 1."""
    inst = tiny_build(
        partners=[{"id": "board", "remit": ["a", "b"]}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 10, "setup_cost": 5},
                       {"id": "b", "unit_cost": 1, "need": 10}],
        responses=[("b", "health", 1, 2.0)],
        budgets={"board": 100},
        dependencies=[{"intervention": "b", "requires": "a"}],
    )
    result = solve_checked(inst)
    assert result.objective == pytest.approx(20)
    assert result.status == "optimal", result.message
    act = result.tables["activity"].groupby("intervention").activity.sum()
    assert act["a"] == pytest.approx(1) and act["b"] == pytest.approx(10)
    alloc = result.tables["allocation"]
    assert alloc[alloc.intervention == "a"].money.sum() == pytest.approx(5 + 1)
