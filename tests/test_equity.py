"""The equity objective and the criteria every trade-off analysis measures plans by.

Hand-derived cases fix the equity objective's two stages (models/equity.md); a separately
written LP (scipy's linprog, in the cases' own few variables) must agree with the one compiled
model; ``measure`` must agree with the objectives ``hwbopt.solve`` reports; ``min_attainment``
in ``solve --json`` is recomputed from the outcomes table; a misplaced ``equity_over`` is
refused with its field named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import copy_instance
from scipy.optimize import linprog
from tiny import build, tiny

import hwbopt
from hwbopt.analyses.criteria import (
    COST,
    EQUITY,
    OUTCOME,
    TOLERANCE,
    criteria,
    locality_outcomes,
    measure,
    min_attainment,
    solve_equity,
    solve_for,
)
from hwbopt.cli import cli as main


def approx(v: float) -> object:
    return pytest.approx(v, rel=1e-7, abs=1e-6)


def lex(v: float) -> object:
    """A value of a lexicographic plan: its second stage may give up TOLERANCE (1e-6) of the
    lowest share, here at most 1e-6 × 160 = 1.6e-4 of a target's units, to gain outcome."""
    return pytest.approx(v, rel=1e-5, abs=1e-3)


def _priority(pid: str, weight: float, penalty: float = 0.0,
              kind: str = "soft") -> dict[str, Any]:
    return {"id": pid, "measure": pid, "unit": "people", "weight": weight,
            "target_type": kind, "shortfall_penalty": penalty}


def two_priorities(budget: float = 100.0, need_x: float = 1000.0) -> hwbopt.Instance:
    """One partner with one budget B and two services: x moves p (1 a unit), y moves q (2 a
    unit), each costing 1 with need 1000 (x's need N). Targets: p 120, q 160; weights p 1,
    q 3; p is soft with penalty 1, q soft with penalty 0. Baselines 0.

    Attainments are a_x / 120 and 2 a_y / 160 = a_y / 80, with a_x + a_y <= B = 100.
    Equalising them: a_x = 1.5 a_y and 2.5 a_y = 100, so a_y = 40, a_x = 60, and the lowest
    attainment is 60 / 120 = 0.5. Money is spent to the last pound, so the second stage has
    nothing left to move: the lexicographic plan is that one, with weighted outcome
    1 × 60 + 3 × 80 = 300 and objective 300 - 1 × (120 - 60) = 240 (q's shortfall costs
    nothing). The outcome objective alone puts everything into y (3 × 2 = 6 points a pound
    against 1 + 1): outcome 600 less p's shortfall 120, 480, with p's attainment 0.
    """
    return build(
        partners=[{"id": "A", "remit": ["x", "y"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": need_x},
                       {"id": "y", "unit_cost": 1, "need": 1000}],
        priorities=[_priority("p", 1, 1), _priority("q", 3)],
        responses=[("x", "p", 1, 1.0), ("y", "q", 1, 2.0)],
        budgets={"A": budget},
        targets=[("p", 2013, 120), ("q", 2013, 160)],
    )


def alloc(result: hwbopt.Result) -> dict[str, float]:
    return result.allocation.groupby("intervention")["activity"].sum().to_dict()


def test_equity_equalises_attainment_by_hand() -> None:
    result = hwbopt.solve(two_priorities(), objective="equity")
    assert result.status == "optimal" and result.checked, result.message
    assert result.objective_kind == "equity"
    a = alloc(result)
    assert a["x"] == lex(60) and a["y"] == lex(40)
    assert min_attainment(result.outcomes) == lex(0.5)
    assert min_attainment(result.outcomes) >= 0.5 - TOLERANCE - 1e-9
    assert result.objective == lex(240)
    s = result.summary()
    assert s["min_attainment"] == lex(0.5)
    assert s["message"] == "" and s["warnings"] == []
    assert s["provenance"]["options"]["objective"] == "equity"
    # the outcome objective alone leaves p with nothing
    alone = hwbopt.solve(two_priorities())
    assert alone.objective == approx(480) and min_attainment(alone.outcomes) == approx(0.0)


def test_the_second_stage_spends_what_the_first_leaves() -> None:
    """x's need capped at N = 30: p's attainment is at most 30 / 120 = 0.25, which the first
    stage reaches with a_x = 30 and any a_y >= 0.25 × 80 = 20. The second stage spends the
    other 70 on y (6 points a pound): a_y = 70, outcome 30 + 3 × 140 = 450, objective
    450 - (120 - 30) = 360, and q's attainment 140 / 160 = 0.875 (above the minimum)."""
    result = hwbopt.solve(two_priorities(need_x=30), objective="equity")
    assert result.status == "optimal" and result.checked, result.message
    a = alloc(result)
    assert a["x"] == lex(30) and a["y"] == lex(70)
    assert min_attainment(result.outcomes) == lex(0.25)
    assert result.objective == lex(360)


def _linprog_equity(budget: float, need_x: float) -> tuple[float, float]:
    """The two stages written directly in (a_x, a_y, s, h), h being p's shortfall: max s
    s.t. a_x - 120 s >= 0, 2 a_y - 160 s >= 0, a_x + a_y <= B, a_x + h >= 120; then
    max a_x + 3 × 2 a_y - h with s held at its optimum."""
    bounds = [(0, need_x), (0, 1000), (None, None), (0, None)]
    A = [[-1, 0, 120, 0], [0, -2, 160, 0], [1, 1, 0, 0], [-1, 0, 0, -1]]
    b = [0, 0, budget, -120]
    first = linprog([0, 0, -1, 0], A_ub=A, b_ub=b, bounds=bounds, method="highs")
    t = -first.fun
    held = [*bounds[:2], (t * (1 - 1e-9), None), bounds[3]]
    second = linprog([-1, -6, 0, 1], A_ub=A, b_ub=b, bounds=held, method="highs")
    return t, -second.fun


@pytest.mark.parametrize("budget,need_x", [(100, 1000), (100, 30), (250, 1000), (40, 10)])
def test_equity_via_criteria_equals_a_separate_lp(budget: float, need_x: float) -> None:
    inst = two_priorities(budget, need_x)
    t, value = _linprog_equity(budget, need_x)
    c = criteria(inst)
    first = solve_for(c, EQUITY)
    assert first.objective == approx(t)
    assert measure(c, EQUITY, first.x) == approx(t)
    result = solve_equity(inst)
    assert result.optimal and result.checked, result.message
    assert result.objective == lex(value)
    assert min_attainment(result.outcomes) == lex(t)


def test_measure_equals_the_objectives_solve_reports(tutorial: hwbopt.Instance) -> None:
    """outcome at the outcome optimum is the outcome objective; with only hard targets the
    least cost on the outcome model is the cost objective's optimum (the same plans). The
    tutorial has integers: both sides are proven optimal exactly (gap 0)."""
    c = criteria(tutorial)
    raw = solve_for(c, OUTCOME, mip_gap=0)
    assert raw.status == "optimal"
    assert raw.objective == approx(hwbopt.solve(tutorial, mip_gap=0).objective)
    assert measure(c, OUTCOME, raw.x) == approx(raw.objective)
    assert measure(c, OUTCOME, raw.x[:c.built.compiled.n_cols]) == approx(raw.objective)

    hard = tutorial.model_copy(update={"priorities": tuple(
        p.model_copy(update={"target_type": "hard"}) for p in tutorial.priorities)})
    ch = criteria(hard)
    low = solve_for(ch, COST, mip_gap=0)
    assert low.status == "optimal"
    assert measure(ch, COST, low.x) == approx(
        hwbopt.solve(hard, objective="cost", mip_gap=0).objective)
    assert low.objective == approx(measure(ch, COST, low.x))


def test_cost_on_the_outcome_model_keeps_soft_targets_soft() -> None:
    """Both targets soft: the least money is none at all (every target missed at its
    penalty), where the cost objective, which makes every target hard, needs 120 + 160 / 2."""
    c = criteria(two_priorities(budget=250))
    low = solve_for(c, COST)
    assert measure(c, COST, low.x) == approx(0.0)
    assert hwbopt.solve(two_priorities(budget=250), objective="cost").objective == approx(200)


def test_floors_hold_the_other_criterion() -> None:
    """Cost held at most 50: equalising with 50 to spend, a_x = 1.5 a_y and 2.5 a_y = 50, so
    a_y = 20, a_x = 30 and equity 30 / 120 = 0.25. Outcome held at its optimum 480 forces
    a_x = 0: equity 0."""
    c = criteria(two_priorities())
    capped = solve_for(c, EQUITY, floors={COST: 50})
    assert measure(c, COST, capped.x) <= 50 + 1e-6
    assert capped.objective == approx(0.25)
    best = solve_for(c, OUTCOME).objective
    assert best is not None
    held = solve_for(c, EQUITY, floors={OUTCOME: best})
    assert held.objective == approx(0.0)


def localities_case() -> hwbopt.Instance:
    """Two localities: L1 (population 100) offers x (1 point a unit for p), L2 (population
    200, need index 0.5: 100 heads of need) offers y (2 points a unit); one budget of 90,
    cost 1 a unit, need 1000, p's weight 1, no target.

    Outcomes per head: a_x / 100 and 2 a_y / 100. Equalising with a_x + a_y = 90: a_x = 2 a_y,
    a_y = 30, a_x = 60, each 0.6 per head; weighted outcome 60 + 60 = 120. The outcome
    objective alone puts everything into y: 180, with L1 at 0.
    """
    data = tiny(
        partners=[{"id": "A", "remit": ["x", "y"]}],
        interventions=[{"id": "x", "unit_cost": 1}, {"id": "y", "unit_cost": 1}],
        activity=[{"intervention": "x", "locality": "L1", "current": 0, "need": 1000},
                  {"intervention": "y", "locality": "L2", "current": 0, "need": 1000}],
        priorities=[_priority("p", 1)],
        responses=[("x", "p", 1, 1.0), ("y", "p", 1, 2.0)],
        budgets={"A": 90},
        settings={"equity_over": "localities"},
    )
    data["localities"] = [{"id": "L1", "population": 100},
                          {"id": "L2", "population": 200, "need_index": 0.5}]
    return hwbopt.instance_from_dict(data)


def test_equity_over_localities_by_hand() -> None:
    inst = localities_case()
    result = hwbopt.solve(inst, objective="equity")
    assert result.optimal and result.checked, result.message
    a = alloc(result)
    assert a["x"] == lex(60) and a["y"] == lex(30)
    assert result.objective == lex(120)
    per_head = locality_outcomes(inst, result.activity)
    assert per_head == {"L1": lex(0.6), "L2": lex(0.6)}
    assert result.summary()["min_attainment"] is None  # no targets
    c = criteria(inst)
    assert measure(c, EQUITY, result.solution) == lex(0.6)
    assert hwbopt.solve(inst).objective == approx(180)


def test_equity_without_targets_is_the_outcome_optimum_with_a_warning() -> None:
    inst = build(partners=[{"id": "A", "remit": ["x"]}],
                 interventions=[{"id": "x", "unit_cost": 1, "need": 10}],
                 responses=[("x", "health", 1, 1.0)], budgets={"A": 5})
    result = hwbopt.solve(inst, objective="equity")
    assert result.optimal and result.objective == approx(5.0)
    assert result.summary()["min_attainment"] is None
    assert len(result.warnings) == 1 and "equity is undefined" in result.warnings[0]
    with pytest.raises(hwbopt.UsageError, match="no target above zero"):
        solve_for(criteria(inst), EQUITY)


def test_equity_over_localities_needs_localities() -> None:
    data = tiny(partners=[{"id": "A", "remit": ["x"]}],
                interventions=[{"id": "x", "unit_cost": 1, "need": 10}],
                responses=[("x", "health", 1, 1.0)], budgets={"A": 5},
                settings={"equity_over": "localities"})
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.instance_from_dict(data)
    assert [(p.file, p.field) for p in info.value.problems] == [
        ("instance.yaml", "settings.equity_over")]


# ---------------------------------------------------------------------------------------------
# the command line, in process (click's runner): the same command a user types, without the
# seconds of imports a new process costs
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("equity")
    tutorial = copy_instance("tutorial", tmp)
    bad = copy_instance("tutorial", tmp / "bad")
    spec = yaml.safe_load((bad / "instance.yaml").read_text(encoding="utf-8"))
    spec["settings"]["equity_over"] = "localities"
    (bad / "instance.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    runs = {
        "outcome": ("solve", tutorial, "--json"),
        "cost": ("solve", tutorial, "--json", "--objective", "cost"),
        "equity": ("solve", tutorial, "--objective", "equity"),
        "bad": ("solve", bad, "--objective", "equity"),
    }
    done: dict[str, Any] = {k: CliRunner().invoke(main, [str(a) for a in args])
                            for k, args in runs.items()}
    return {"tutorial": tutorial, **done}


def _recomputed(outcomes: list[dict[str, Any]]) -> float:
    return min(t["achieved"] / t["target"] for t in outcomes if t["target"] > 0)


@pytest.mark.parametrize("objective", ["outcome", "cost"])
def test_min_attainment_in_solve_json(cli: dict[str, Any], objective: str) -> None:
    run = cli[objective]
    assert run.exit_code == 0, run.output
    s = json.loads(run.stdout)
    assert s["objective_kind"] == objective
    assert s["min_attainment"] == pytest.approx(_recomputed(s["targets"]), rel=1e-12)
    folder: Path = cli["tutorial"]
    result = hwbopt.solve(hwbopt.load(folder), objective=objective)
    rows = result.outcomes[result.outcomes.target > 0]
    assert s["min_attainment"] == approx(float(np.min(rows.achieved / rows.target)))


def test_solve_equity_says_the_lowest_attainment(cli: dict[str, Any]) -> None:
    run = cli["equity"]
    assert run.exit_code == 0, run.output
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("lowest attainment:")]
    assert len(lines) == 1 and "% of a target" in lines[0]


def test_equity_over_localities_without_localities_exits_2(cli: dict[str, Any]) -> None:
    run = cli["bad"]
    assert run.exit_code == 2, run.output
    assert "settings.equity_over" in run.stderr and "needs localities" in run.stderr
    assert "Traceback" not in run.output
