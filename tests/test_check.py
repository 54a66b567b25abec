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


# ---------------------------------------------------------------------------------------------
# The checker sees the solver's values, before display cleaning (issue 12): a negative amount
# is reported, solver noise passes and is shown as zero
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial_raw():
    from hwbopt import highs
    from hwbopt.pipeline import build

    b = build(hwbopt.load(hwbopt.shipped_instance("tutorial")))
    raw = highs.solve_compiled(b.compiled, mip_gap=0)
    assert raw.status == "optimal"
    return b, raw


def with_value(tutorial_raw, component: str, index: tuple, value: float):
    """The tutorial's solver answer with one column set to ``value``, as a Result."""
    from dataclasses import replace

    from hwbopt.pipeline import result_from

    b, raw = tutorial_raw
    x = raw.x.copy()
    x[b.compiled.cols(component)[index]] = value
    return result_from(b.data, b.compiled, replace(raw, x=x), build_seconds=b.seconds)


def test_negative_activity_from_the_solver_is_refused(tutorial_raw):
    """Befriending (unfunded) at -0.5 courses: clipped to zero for display, it used to pass."""
    from hwbopt.results import plan_tables

    b, raw = tutorial_raw
    result = with_value(tutorial_raw, "activity", ("befriending", "all", 2013), -0.5)
    assert result.checked and result.status != "optimal"
    assert "activity of befriending in all 2013 = -0.5 outside [0, need 800]" in result.message
    x = raw.x.copy()
    x[b.compiled.cols("activity")["befriending", "all", 2013]] = -0.5
    act = plan_tables(b.data, b.compiled, x)["activity"]
    assert act[(act.intervention == "befriending") & (act.year == 2013)].activity.item() == -0.5


def test_negative_money_from_the_solver_is_refused(tutorial_raw):
    result = with_value(tutorial_raw, "spend_retained", ("council", "befriending", 2013), -0.5)
    assert result.checked and result.status != "optimal"
    assert "negative money -0.5 in allocation" in result.message


@pytest.mark.parametrize("component, index", [
    ("activity", ("befriending", "all", 2013)),
    ("spend_retained", ("council", "befriending", 2013)),
])
def test_solver_noise_passes_and_is_shown_as_zero(tutorial_raw, component, index):
    result = with_value(tutorial_raw, component, index, -1e-12)
    assert result.checked and result.status == "optimal", result.message
    act = result.tables["activity"]
    assert (act.activity >= 0).all() and (result.tables["allocation"].money > 0).all()
