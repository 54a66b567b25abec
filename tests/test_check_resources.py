"""The independent checker catches each staff, space, site and go/no-go rule broken in a plan.

Small instances with each feature are solved (every optimum passes the checker); then one
violation at a time is planted in a copy of the result tables and the checker must name it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import solve_checked
from tiny import build

import hwbopt
from hwbopt.check import check_solution

YEARS_3 = (2013, 2015)


def tables_copy(result: hwbopt.Result) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in result.tables.items()}


def violations(inst, result, tables, objective=None) -> str:
    return " | ".join(check_solution(inst, tables, result.objective_kind, objective))


def where(table: pd.DataFrame, **match) -> pd.Index:
    mask = pd.Series(True, index=table.index)
    for col, value in match.items():
        mask &= table[col] == value
    found = table.index[mask]
    assert len(found) >= 1, (match, table)
    return found


def solved(inst: hwbopt.Instance) -> hwbopt.Result:
    result = solve_checked(inst, mip_gap=0)
    assert result.status == "optimal", result.message
    assert check_solution(inst, result.tables, result.objective_kind, result.objective) == []
    return result


# ---------------------------------------------------------------------------------------------
# Staff: an NHS nurse team working in an integrated team with the council (after
# test_mip_cases.py), council nurses that may not serve NHS services, a recruitment limit and a
# release limit
# ---------------------------------------------------------------------------------------------


def staff_instance() -> hwbopt.Instance:
    years = (2013, 2014)
    return build(
        years=years,
        partners=[{"id": "nhs", "remit": ["nursing"]}, {"id": "council", "remit": ["rehab"]}],
        roles=[{"id": "nurse"}, {"id": "social_worker"}],
        interventions=[
            {"id": "rehab", "unit_cost": 1, "need": 100, "lead": "council"},
            {"id": "nursing", "unit_cost": 1, "need": 80, "lead": "nhs"},
        ],
        responses=[("rehab", "health", 1, 1.0), ("nursing", "health", 1, 0.5)],
        budgets={"nhs": 10_000, "council": 10_000},
        staff=[{"employer": "nhs", "role": "nurse", "year": y, "fte": 10, "cost_per_fte": 40,
                "integrated": True, "recruit_limit": 1, "recruit_cost": 5}
               for y in range(years[0], years[1] + 1)]
        + [{"employer": "council", "role": "nurse", "year": y, "fte": 2, "cost_per_fte": 35,
            "max_release": 0.5, "release_cost": 1} for y in range(years[0], years[1] + 1)]
        + [{"employer": "council", "role": "social_worker", "year": y, "fte": 10,
            "cost_per_fte": 30} for y in range(years[0], years[1] + 1)],
        intervention_staff=[
            {"intervention": "rehab", "role": "nurse", "fte_per_unit": 0.1},
            {"intervention": "rehab", "role": "social_worker", "fte_per_unit": 0.1},
            {"intervention": "nursing", "role": "nurse", "fte_per_unit": 0.1},
        ],
    )


@pytest.fixture(scope="module")
def staffed():
    """Rehab runs in full (100 a year) with 10 social workers, 2 council nurses and 8 NHS nurses in
    an integrated team; the NHS recruits one nurse a year (the limit) for nursing (30, 40)."""
    inst = staff_instance()
    result = solved(inst)
    assert result.objective == pytest.approx(2 * 100 + 0.5 * (30 + 40))
    staff = result.tables["staff"]
    assert list(staff[staff.employer == "nhs"].recruited) == pytest.approx([1, 1])
    dep = result.tables["deployment"]
    assert set(zip(dep.employer, dep.intervention, strict=True)) == {
        ("nhs", "rehab"), ("nhs", "nursing"), ("council", "rehab")}
    return inst, result


def test_deploying_more_staff_than_in_post(staffed):
    inst, result = staffed
    t = tables_copy(result)
    d = t["deployment"]
    d.loc[where(d, employer="council", role="social_worker", year=2013), "fte"] += 3
    out = violations(inst, result, t)
    assert "council deploys 13 social_worker in 2013, with 10 in post" in out


def test_serving_another_leads_service_without_integrated_working(staffed):
    inst, result = staffed
    t = tables_copy(result)
    d = t["deployment"]
    # the council's nurses (not integrated) moved to nursing, led by the NHS
    d.loc[where(d, employer="council", role="nurse", year=2014), "intervention"] = "nursing"
    out = violations(inst, result, t)
    assert "council's nurse serve nursing in 2014, led by nhs, without integrated working" in out


def test_recruiting_above_the_limit(staffed):
    inst, result = staffed
    t = tables_copy(result)
    s = t["staff"]
    rows = where(s, employer="nhs", role="nurse")
    s.loc[rows, "recruited"] = [3.0, 0.0]  # 3 in the first year, in post as reported
    s.loc[rows, "in_post"] = [13.0, 13.0]
    out = violations(inst, result, t)
    assert "nhs recruits 3 nurse in 2013, above the limit 1" in out


def test_releasing_above_the_limit(staffed):
    inst, result = staffed
    t = tables_copy(result)
    s = t["staff"]
    row = where(s, employer="council", role="nurse", year=2013)
    s.loc[row, "released"] = 1.5  # at most half of 2
    s.loc[row, "in_post"] = 0.5
    out = violations(inst, result, t)
    assert "council releases 1.5 nurse in 2013, above 0.5 of 2" in out


def test_in_post_not_matching_available_plus_changes(staffed):
    inst, result = staffed
    t = tables_copy(result)
    s = t["staff"]
    s.loc[where(s, employer="nhs", role="nurse", year=2014), "in_post"] += 2
    out = violations(inst, result, t)
    assert "nhs has 14 nurse in post in 2014, but 10 available plus changes makes 12" in out


def test_an_interventions_staffing_short(staffed):
    inst, result = staffed
    t = tables_copy(result)
    d = t["deployment"]
    d.loc[where(d, employer="nhs", role="nurse", intervention="nursing", year=2013), "fte"] = 1
    out = violations(inst, result, t)
    assert "nursing needs 3 FTE of nurse in 2013, gets 1" in out


def test_staff_row_missing(staffed):
    inst, result = staffed
    t = tables_copy(result)
    s = t["staff"]
    t["staff"] = s.drop(where(s, employer="council", role="social_worker", year=2014))
    out = violations(inst, result, t)
    assert "staff of council in social_worker 2014 missing from the staff table" in out


# ---------------------------------------------------------------------------------------------
# Estate: two localities, a shareable council town hall (may not close), an NHS surgery and
# south clinic (not shareable), and a council depot nobody needs
# ---------------------------------------------------------------------------------------------


def estate_instance(objective: str = "outcome") -> hwbopt.Instance:
    first, last = YEARS_3
    return build(
        years=YEARS_3,
        settings={"objective": objective},
        localities=["north", "south"],
        partners=[{"id": "nhs", "remit": ["clinic"]}, {"id": "council", "remit": ["daycare"]}],
        space_types=[{"id": "room", "unit": "rooms"}],
        interventions=[{"id": "clinic", "unit_cost": 1, "lead": "nhs"},
                       {"id": "daycare", "unit_cost": 1, "lead": "council"}],
        activity=[{"intervention": "clinic", "locality": "north", "current": 0, "need": 100},
                  {"intervention": "clinic", "locality": "south", "current": 0, "need": 100},
                  {"intervention": "daycare", "locality": "north", "current": 0, "need": 100}],
        priorities=[{"id": "health", "measure": "m", "unit": "points", "target_type": "hard"}],
        responses=[("clinic", "health", 1, 1.0), ("daycare", "health", 1, 1.5)],
        targets=[("health", y, 100) for y in range(first, last + 1)],
        budgets={"nhs": 400, "council": 100},
        sites=[
            {"id": "town_hall", "owner": "council", "locality": "north", "running_cost": 10,
             "shareable": True, "can_close": False},
            {"id": "surgery", "owner": "nhs", "locality": "north", "running_cost": 5},
            {"id": "south_clinic", "owner": "nhs", "locality": "south", "running_cost": 5},
            {"id": "old_depot", "owner": "council", "locality": "south", "running_cost": 30,
             "closure_cost": 10},
        ],
        site_capacity=[{"site": "town_hall", "space_type": "room", "capacity": 12},
                       {"site": "surgery", "space_type": "room", "capacity": 5},
                       {"site": "south_clinic", "space_type": "room", "capacity": 8},
                       {"site": "old_depot", "space_type": "room", "capacity": 5}],
        intervention_space=[{"intervention": "clinic", "space_type": "room", "per_unit": 0.1},
                            {"intervention": "daycare", "space_type": "room", "per_unit": 0.1}],
    )


@pytest.fixture(scope="module")
def estate():
    """The council closes the depot at once (its money binds); the NHS clinic shares the town
    hall with daycare in the north and fills the surgery and the south clinic."""
    inst = estate_instance()
    result = solved(inst)
    sites = result.tables["sites"].set_index(["site", "year"])
    assert not sites.loc[("old_depot", 2013), "open"] and sites.loc[("old_depot", 2013), "closed"]
    assert sites.open.sum() == 9  # every other site, every year
    use = result.tables["site_use"]
    assert {("town_hall", "clinic"), ("town_hall", "daycare"), ("surgery", "clinic"),
            ("south_clinic", "clinic")} == set(zip(use.site, use.intervention, strict=True))
    budgets = result.tables["budgets"]
    assert budgets[budgets.partner == "council"].unspent.abs().max() < 1e-6  # money binds
    return inst, result


def set_open(t: dict[str, pd.DataFrame], site: str, year: int, value: bool) -> None:
    s = t["sites"]
    s.loc[where(s, site=site, year=year), "open"] = value


def test_space_used_above_capacity(estate):
    inst, result = estate
    t = tables_copy(result)
    u = t["site_use"]
    u.loc[where(u, site="town_hall", intervention="daycare", year=2014), "used"] += 5
    out = violations(inst, result, t)
    assert "town_hall holds 17 of room in 2014, above its capacity 12" in out


def test_using_a_site_of_another_owner_that_is_not_shareable(estate):
    inst, result = estate
    t = tables_copy(result)
    u = t["site_use"]
    u.loc[where(u, site="surgery", year=2013), "intervention"] = "daycare"
    out = violations(inst, result, t)
    assert ("daycare (led by council) uses surgery, owned by nhs, which does not allow "
            "co-location") in out


def test_using_a_closed_site(estate):
    inst, result = estate
    t = tables_copy(result)
    set_open(t, "surgery", 2015, False)  # closes in the last year, yet the clinic uses it
    out = violations(inst, result, t)
    assert "clinic uses surgery in 2015, after it closed" in out


def test_a_site_reopening_after_closing(estate):
    inst, result = estate
    t = tables_copy(result)
    set_open(t, "old_depot", 2015, True)
    out = violations(inst, result, t)
    assert "site old_depot reopens in 2015 after closing" in out


def test_closing_a_site_that_may_not_close(estate):
    inst, result = estate
    t = tables_copy(result)
    set_open(t, "town_hall", 2015, False)
    out = violations(inst, result, t)
    assert "site town_hall closes in 2015 but may not close" in out


def test_activity_with_no_space_in_its_locality(estate):
    inst, result = estate
    t = tables_copy(result)
    u = t["site_use"]
    t["site_use"] = u.drop(where(u, site="south_clinic", year=2014))
    out = violations(inst, result, t)
    assert "clinic in south 2014 needs 8 of room, has 0 in open sites there" in out


def test_a_site_hosting_a_service_not_offered_in_its_locality(estate):
    """Daycare is offered in the north only: space for it in the south clinic is refused,
    whatever else is wrong with it (tests/test_check_rules.py breaks this rule alone)."""
    inst, result = estate
    t = tables_copy(result)
    u = t["site_use"]
    u.loc[where(u, site="south_clinic", year=2013), "intervention"] = "daycare"
    out = violations(inst, result, t)
    assert "daycare uses south_clinic in 2013, in south, where it is not offered" in out


def test_site_row_missing(estate):
    inst, result = estate
    t = tables_copy(result)
    s = t["sites"]
    t["sites"] = s.drop(where(s, site="surgery", year=2014))
    assert "site surgery in 2014 missing from the sites table" in violations(inst, result, t)


def test_keeping_a_closed_site_open_breaks_the_budget(estate):
    """Report the depot open all along: its running cost (30 a year, less the closure cost
    of 10 not paid) lands on the council, whose money was all spent."""
    inst, result = estate
    t = tables_copy(result)
    for y in range(YEARS_3[0], YEARS_3[1] + 1):
        set_open(t, "old_depot", y, True)
    out = violations(inst, result, t)
    assert "council spends 120 of general money in 2013, above 100" in out
    assert "council spends 130 of general money in 2014, above 100" in out


def test_tampering_with_an_open_flag_changes_the_least_cost():
    """Under ``cost`` the cheapest plan runs daycare alone in the town hall and closes every
    other site. Reporting the surgery open in 2014 and 2015 (closed in 2013: a reopening) or in
    every year adds its running cost: the objective no longer matches the plan."""
    inst = estate_instance("cost")
    result = solved(inst)
    assert result.objective == pytest.approx(240)  # 3 x (66.7 daycare + 10 town hall) + 10
    assert list(result.tables["sites"].query("site == 'surgery'").open) == [False] * 3
    t = tables_copy(result)
    for y in range(YEARS_3[0], YEARS_3[1] + 1):
        set_open(t, "surgery", y, True)
    out = violations(inst, result, t, objective=result.objective)
    assert "objective reported 240, recomputed from the plan 255" in out
    # the same plan with the right objective passes: only the open flag was wrong
    assert violations(inst, result, t, objective=result.objective + 15) == ""


# ---------------------------------------------------------------------------------------------
# Go/no-go: minimum scale, alternatives and dependencies (from test_mip_cases.py)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def knapsack():
    """Three all-or-nothing services; the optimum funds B (50) and C (45), not A."""
    services = [("a", 60, 2.0), ("b", 50, 1.9), ("c", 45, 1.8)]
    inst = build(
        partners=[{"id": "board", "remit": [s for s, _, _ in services]}],
        interventions=[{"id": s, "unit_cost": 1, "need": n, "min_scale": n}
                       for s, n, _ in services],
        responses=[(s, "health", 1, e) for s, _, e in services],
        budgets={"board": 100},
    )
    result = solved(inst)
    assert result.objective == pytest.approx(176)
    return inst, result


@pytest.fixture(scope="module")
def alternatives():
    """A and B are alternatives, C needs A: the optimum runs A and C (225)."""
    inst = build(
        partners=[{"id": "board", "remit": ["a", "b", "c"]}],
        interventions=[{"id": i, "unit_cost": 1, "need": 50} for i in "abc"],
        responses=[("a", "health", 1, 2.0), ("b", "health", 1, 3.0), ("c", "health", 1, 2.5)],
        budgets={"board": 100},
        exclusive=[{"id": "model_of_care", "interventions": ["a", "b"]}],
        dependencies=[{"intervention": "c", "requires": "a"}],
    )
    result = solved(inst)
    assert result.objective == pytest.approx(225)
    return inst, result


def set_runs(t: dict[str, pd.DataFrame], intervention: str, value: bool, year: int = 2013):
    c = t["choices"]
    c.loc[where(c, intervention=intervention, year=year), "runs"] = value


def test_running_below_the_minimum_scale(knapsack):
    inst, result = knapsack
    t = tables_copy(result)
    act = t["activity"]
    act.loc[where(act, intervention="b"), "activity"] = 30
    a = t["allocation"]
    a.loc[where(a, intervention="b"), "money"] = 30  # paid for in full: only the scale is wrong
    out = violations(inst, result, t)
    assert "b runs at 30 in 2013, below its minimum scale 50" in out
    assert "paid" not in out


def test_two_exclusive_alternatives_both_running(alternatives):
    inst, result = alternatives
    t = tables_copy(result)
    set_runs(t, "b", True)
    out = violations(inst, result, t)
    assert "exclusive alternatives model_of_care both run in 2013: a, b" in out


def test_a_dependency_broken(alternatives):
    inst, result = alternatives
    t = tables_copy(result)
    set_runs(t, "a", False)
    out = violations(inst, result, t)
    assert "c runs in 2013 without a" in out


def test_a_dependency_met_by_a_run_flag_alone(alternatives):
    """A still reported as running, but with no activity (nor its money, nor its outcome): C,
    which needs A, runs on nothing."""
    inst, result = alternatives
    t = tables_copy(result)
    act, a = t["activity"], t["allocation"]
    act.loc[where(act, intervention="a"), "activity"] = 0
    t["allocation"] = a.drop(where(a, intervention="a"))
    t["outcomes"].loc[0, "achieved"] -= 2.0 * 50
    out = violations(inst, result, t)
    assert out == "c has activity 50 in 2013 but a, which it requires, has 0"


def test_activity_for_a_service_marked_as_not_running(alternatives):
    inst, result = alternatives
    t = tables_copy(result)
    set_runs(t, "c", False)
    out = violations(inst, result, t)
    assert "c has activity 50 in 2013 but is reported as not running" in out


def test_go_no_go_decision_missing(alternatives):
    inst, result = alternatives
    t = tables_copy(result)
    c = t["choices"]
    t["choices"] = c.drop(where(c, intervention="b"))
    assert "go/no-go decision of b in 2013 missing" in violations(inst, result, t)


def test_a_set_up_cost_not_paid():
    """D starts in the first year and pays its £40k set-up then (see test_mip_cases.py).
    Report it as not running in 2013: the checker derives the start, and the set-up, in 2014
    instead, so 2013's payment is unexplained and 2014's falls short."""
    inst = build(
        years=YEARS_3,
        partners=[{"id": "board", "remit": ["d", "e"]}],
        interventions=[{"id": "d", "unit_cost": 1, "need": 30, "setup_cost": 40},
                       {"id": "e", "unit_cost": 1, "need": 1000}],
        responses=[("d", "health", 1, 3.0), ("e", "health", 1, 1.5)],
        budgets={"board": 100},
    )
    result = solved(inst)
    assert result.objective == pytest.approx(525)
    t = tables_copy(result)
    act = t["activity"]
    act.loc[where(act, intervention="d", year=2013), "activity"] = 0
    set_runs(t, "d", False, 2013)  # so D starts (and pays its set-up) in 2014
    out = violations(inst, result, t)
    assert "d in 2013 costs 0 but 70 is paid for it" in out
    assert "d in 2014 costs 70 but 30 is paid for it" in out


def test_an_s_curve_is_evaluated_in_order():
    """S gives 0.1 a unit on its first 50 units, 1.0 on the next 50: at 100 units, 55 points.
    An outcome of 75 (the best piece filled first) is refused."""
    inst = build(
        partners=[{"id": "board", "remit": ["s", "l"]}],
        interventions=[{"id": "s", "unit_cost": 1, "need": 100},
                       {"id": "l", "unit_cost": 1, "need": 1000}],
        responses=[("s", "health", 0.5, 0.1), ("s", "health", 1.0, 1.0),
                   ("l", "health", 1, 0.5)],
        budgets={"board": 100},
    )
    result = solved(inst)
    t = tables_copy(result)
    t["outcomes"].loc[0, "achieved"] = 75
    out = violations(inst, result, t, objective=75)
    assert "outcome of health in 2013 reported 75, recomputed 55" in out
    assert "objective reported 75, recomputed from the plan 55" in out
