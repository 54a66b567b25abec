"""The independent checker told which instance holds the horizon's first year.

A plan's scenario keeps the instance's own first year (``models/plan.md``): its inputs reach
only the years after. ``check_solution(scenario, tables, ..., first_year=instance)`` reads
every figure of the first year from ``instance`` and those of later years from ``scenario``.

- with ``first_year`` the instance itself (or an equal copy), nothing changes: the same
  violations, in the same order, on the shipped tutorial's and county's plans, as solved and
  with rules broken on purpose;
- on the tutorial, a scenario with a deeper council cut (40% over four years: 10% in 2013,
  20% in 2014, against the tutorial's 7% and 14%) and more need for talking therapies (x1.1:
  440 a year, against 400): a plan that spends the tutorial's 2013 money and the scenario's
  2014 need passes only when the checker is told the first year is the tutorial's, and the
  scenario's own optimum, which takes 440 courses in 2013, is caught breaking the tutorial's
  2013 need;
- staff, sites and targets of the first year come from ``first_year`` too;
- instances of two different boards are refused.

Every expected message is derived by hand from the tutorial's figures
(``instances/tutorial/README.md``: the council's 900 a year, the pool's 30% cap, talking
therapies' 0.5 points of mental health a course, exercise on referral's 0.02 on 1,000).
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

import hwbopt
from hwbopt.check import check_solution
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change, Instance

Tables = dict[str, pd.DataFrame]


@cache
def load(name: str) -> Instance:
    inst: Instance = hwbopt.load(hwbopt.shipped_instance(name))
    return inst


def solved(inst: Instance) -> hwbopt.Result:
    result = hwbopt.solve(inst, mip_gap=0)
    assert result.status == "optimal", result.message
    return result


def copied(result: hwbopt.Result) -> Tables:
    return {k: v.copy() for k, v in result.tables.items()}


def scenario(changes: list[Change]) -> Instance:
    """The tutorial with ``changes`` applied to every year (as a plan's scenario is built)."""
    return apply_changes(load("tutorial"), changes, "test", references=False)


# ---------------------------------------------------------------------------------------------
# (a) first_year equal to the instance changes nothing
# ---------------------------------------------------------------------------------------------


def broken(inst: Instance, tables: Tables) -> Tables:
    """The plan with many rules broken at once, in every year: more activity than paid for and
    than needed, a pool overfilled, a staff line and a site misreported, outcomes off."""
    t = {k: v.copy() for k, v in tables.items()}
    t["activity"]["activity"] *= 1.1
    t["allocation"]["money"] *= 0.95
    t["pools"]["contributed"] *= 1.5
    t["outcomes"]["achieved"] += 1.0
    if len(t["staff"]):
        t["staff"].loc[t["staff"].index[0], "in_post"] += 1.0
    if len(t["sites"]):
        t["sites"]["open"] = True
    return t


@pytest.mark.parametrize("name", ["tutorial", "county"])
def test_first_year_equal_to_the_instance_changes_nothing(name: str) -> None:
    inst = load(name)
    result = solved(inst)
    kind, objective = result.objective_kind, result.objective
    equal = inst.model_copy(deep=True)  # equal, not the same object: the structure is compared
    assert equal is not inst and equal == inst
    for tables, obj in ((copied(result), objective), (broken(inst, result.tables),
                                                       objective + 1.0)):
        without = check_solution(inst, tables, kind, obj)
        assert check_solution(inst, tables, kind, obj, first_year=inst) == without
        assert check_solution(inst, tables, kind, obj, first_year=equal) == without
        assert check_solution(inst, tables, kind, obj, first_year=None) == without
    assert check_solution(inst, copied(result), kind, objective, first_year=equal) == []
    assert len(check_solution(inst, broken(inst, result.tables), kind, objective + 1.0,
                              first_year=equal)) > 5


# ---------------------------------------------------------------------------------------------
# (b) a deeper cut and more need from the second year
# ---------------------------------------------------------------------------------------------

CUT, NEED = 0.40, 1.1  # the scenario: council cut 40% over 4 years, talking therapies x1.1


def deeper() -> Instance:
    return scenario([Change(path="partners[council].cut.total", value=CUT),
                     Change(path="activity[talking_therapies].need", scale=NEED)])


def held() -> Instance:
    """One instance with the tutorial's 2013 figures and the scenario's 2014 ones: the
    council's cut written by year (the tutorial's 7% in 2013, the scenario's 40% x 2/4 = 20% in
    2014) and talking therapies' need growing 10% a year (400 in 2013, 440 in 2014)."""
    base = load("tutorial")
    partners = tuple(p.model_copy(update={"cut": None,
                                          "cut_by_year": {2013: 0.28 / 4, 2014: CUT * 2 / 4}})
                     if p.id == "council" else p for p in base.partners)
    interventions = tuple(i.model_copy(update={"need_growth": NEED - 1.0})
                          if i.id == "talking_therapies" else i for i in base.interventions)
    return base.model_copy(update={"partners": partners, "interventions": interventions})


def test_a_plan_on_the_first_years_figures_passes_only_when_told() -> None:
    """The plan (the optimum of ``held()``) spends the council's whole 2013 money, 900 x 0.93
    = 837, 30% of it (251.1) through the pool, and takes talking therapies to 440 in 2014.

    - told the first year is the tutorial's, the scenario passes it;
    - not told, the scenario's 2013 breaks: the council has 900 x 0.9 = 810 (the pool cap
      0.3 x 810 = 243); nothing else, and nothing in 2014;
    - on the tutorial's figures alone, 2014 breaks: 440 courses against a need of 400, so
      mental health recomputes to 0.5 x 400 + 0.02 x 1000 = 220, not 240, and the objective
      to 8 x 20 = 160 less (a hard target: no penalty)."""
    base, scen = load("tutorial"), deeper()
    result = solved(held())
    t, obj = result.tables, result.objective
    act = t["activity"].set_index(["intervention", "year"]).activity
    assert act["talking_therapies", 2013] == pytest.approx(400)
    assert act["talking_therapies", 2014] == pytest.approx(440)
    money = t["budgets"].set_index(["partner", "year"])
    assert money.spent["council", 2013] == pytest.approx(900 * 0.93)
    pool = t["pools"].set_index(["partner", "year"]).contributed
    assert pool["council", 2013] == pytest.approx(0.3 * 900 * 0.93)

    assert check_solution(scen, t, "outcome", obj, first_year=base) == []
    assert check_solution(scen, t, "outcome", obj) == [
        f"council puts {0.3 * 837:g} into bcf in 2013, outside shares [0, 0.3] of "
        f"{900 * 0.9:g}",
        f"council spends 837 of general money in 2013, above {900 * 0.9:g}",
    ]
    assert check_solution(base, t, "outcome", obj) == [
        "activity of talking_therapies in all 2014 = 440 outside [0, need 400]",
        "outcome of mental_health in 2014 reported 240, recomputed 220",
        f"objective reported {obj:.10g}, recomputed from the plan {obj - 160:.10g}",
    ]


def test_a_first_year_beyond_the_instances_figures_is_caught() -> None:
    """The converse: the scenario's own optimum takes its 440 courses of talking therapies in
    2013 too (the council spends its 810). It passes on the scenario; told the first year is
    the tutorial's, the checker finds 2013's 440 above the tutorial's need of 400, mental
    health recomputed 220 instead of 240, the objective 160 less; 2014 is the scenario's and
    holds."""
    base, scen = load("tutorial"), deeper()
    result = solved(scen)
    t, obj = result.tables, result.objective
    act = t["activity"].set_index(["intervention", "year"]).activity
    assert act["talking_therapies", 2013] == pytest.approx(440)
    assert check_solution(scen, t, "outcome", obj) == []
    assert check_solution(scen, t, "outcome", obj, first_year=base) == [
        "activity of talking_therapies in all 2013 = 440 outside [0, need 400]",
        "outcome of mental_health in 2013 reported 240, recomputed 220",
        f"objective reported {obj:.10g}, recomputed from the plan {obj - 160:.10g}",
    ]


def test_staff_sites_and_targets_of_the_first_year_come_from_first_year() -> None:
    """The tutorial's own optimum (12 reablement workers in post, the Hub open, mental health
    220 a year) on a scenario with 10% fewer staff (10.8), the Hub unavailable and the hard
    mental health target doubled (300): told the first year is the tutorial's, only 2014 is
    found wanting; not told, 2013 as well."""
    base = load("tutorial")
    scen = scenario([Change(path="staff[*].fte", scale=0.9),
                     Change(path="sites[riverside_hub].available", value=False),
                     Change(path="targets[mental_health,*].target", scale=2)])
    result = solved(base)
    t, obj = result.tables, result.objective

    def broken_in(year: int) -> list[str]:
        return [f"council has 12 reablement_worker in post in {year}, but 10.8 available plus "
                "changes makes 10.8",
                f"site riverside_hub is open in {year} but not available",
                f"hard target of mental_health in {year} missed: 220 < 300"]

    later = check_solution(scen, t, "outcome", obj, first_year=base)
    assert later == broken_in(2014)
    every = check_solution(scen, t, "outcome", obj)
    assert sorted(every) == sorted(broken_in(2013) + broken_in(2014))


def test_another_boards_instance_is_refused() -> None:
    tutorial, county = load("tutorial"), load("county")
    result = solved(tutorial)
    with pytest.raises(ValueError, match=r"first_year must have the structure .* its years, "
                                         r"partners, .*interventions"):
        check_solution(tutorial, result.tables, "outcome", first_year=county)
    # one more staff line is another structure too
    extra = tutorial.staff[0].model_copy(update={"role": "nurse"})
    other = tutorial.model_copy(update={"staff": (*tutorial.staff, extra)})
    with pytest.raises(ValueError, match=r"its staff differ$"):
        check_solution(tutorial, result.tables, "outcome", first_year=other)
