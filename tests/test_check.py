"""The independent checker catches each kind of rule broken in a reported plan."""

from __future__ import annotations

import pytest

import hwbopt
from hwbopt.check import check_solution


@pytest.fixture(scope="module")
def solved():
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    result = hwbopt.solve(inst)
    assert result.status == "optimal"
    return inst, result


def tables_copy(result):
    return {k: v.copy() for k, v in result.tables.items()}


def test_optimal_plan_passes(solved):
    inst, result = solved
    assert check_solution(inst, result.tables, "outcome", result.objective) == []


def violations(inst, tables, objective=None, kind="outcome"):
    return " | ".join(check_solution(inst, tables, kind, objective))


def test_overspending_a_budget(solved):
    inst, result = solved
    t = tables_copy(result)
    a = t["allocation"]
    i = a.index[(a.partner == "council") & (a.intervention == "exercise_referral")
                & (a.year == 2013)][0]
    a.loc[i, "money"] += 50
    t["activity"].loc[(t["activity"].intervention == "exercise_referral")
                      & (t["activity"].year == 2013), "activity"] += 250
    out = violations(inst, t)
    assert "spends" in out and "general money" in out


def test_spending_outside_remit(solved):
    inst, result = solved
    t = tables_copy(result)
    a = t["allocation"]
    i = a.index[(a.partner == "nhs") & (a.fund == "retained")][0]
    a.loc[i, "intervention"] = "reablement"
    assert "outside its remit" in violations(inst, t)


def test_activity_above_need(solved):
    inst, result = solved
    t = tables_copy(result)
    act = t["activity"]
    act.loc[act.intervention == "reablement", "activity"] = 301
    assert "outside [0, need" in violations(inst, t)


def test_unpaid_activity(solved):
    inst, result = solved
    t = tables_copy(result)
    act = t["activity"]
    act.loc[(act.intervention == "befriending") & (act.year == 2014), "activity"] = 10
    assert "but 0 is paid" in violations(inst, t)


def test_wrong_outcome_and_objective(solved):
    inst, result = solved
    t = tables_copy(result)
    t["outcomes"].loc[0, "achieved"] += 1
    out = violations(inst, t, objective=result.objective + 1)
    assert "recomputed" in out and "objective reported" in out


def test_pool_overspend_and_share(solved):
    inst, result = solved
    t = tables_copy(result)
    p = t["pools"]
    p.loc[(p.partner == "nhs") & (p.year == 2013), "contributed"] = 100
    out = violations(inst, t)
    assert "pool bcf spends" in out


def test_hard_target_missed(solved):
    inst, result = solved
    t = tables_copy(result)
    act = t["activity"]
    # halve talking therapies and its money: mental health falls below its hard target (150)
    act.loc[act.intervention == "talking_therapies", "activity"] = 100
    a = t["allocation"]
    a.loc[a.intervention == "talking_therapies", "money"] = 100
    assert "hard target of mental_health" in violations(inst, t)


def test_change_limit_and_equity(tmp_path):
    from tiny import build

    inst = build(
        years=(2013, 2014),
        partners=[{"id": "b", "remit": ["a"]}],
        interventions=[{"id": "a", "unit_cost": 1, "max_growth": 0.1, "max_reduction": 0.1}],
        localities=["n", "s"],
        activity=[{"intervention": "a", "locality": loc, "current": 10, "need": 100}
                  for loc in ("n", "s")],
        responses=[("a", "health", 1, 1.0)],
        budgets={"b": 100},
        settings={"equity_floor": 0.9},
    )
    result = hwbopt.solve(inst)
    assert result.status == "optimal"
    t = tables_copy(result)
    act = t["activity"]
    act.loc[(act.locality == "n") & (act.year == 2013), "activity"] = 20
    act.loc[(act.locality == "s") & (act.year == 2013), "activity"] = 2
    out = violations(inst, t)
    assert "grows to 20" in out and "shrinks to 2" in out and "equity floor" in out
