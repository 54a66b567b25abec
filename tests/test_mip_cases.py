"""Hand-solved mixed-integer cases: staff, sites, go/no-go and non-concave curves.

Each docstring derives the optimum; every solve also passes the independent checker.
"""

from __future__ import annotations

import pytest
from conftest import solve_checked
from tiny import build

REL = 1e-7


def units(result, intervention, year=2013):
    t = result.tables["activity"]
    return float(t[(t.intervention == intervention) & (t.year == year)].activity.sum())


def test_ranking_by_benefit_per_pound_is_not_optimal():
    """£100k; three all-or-nothing services (minimum scale = need), £1k a unit:
    A 60 units at 2 points, B 50 at 1.9, C 45 at 1.8 (value per £k in that order).

    Ranking by value per pound funds A first (120 points), and then neither B (£50k) nor C
    (£45k) fits in the £40k left: 120. The optimum skips A and funds B and C (£95k):
    95 + 81 = 176.
    """
    services = [("a", 60, 2.0), ("b", 50, 1.9), ("c", 45, 1.8)]
    inst = build(
        partners=[{"id": "board", "remit": [s for s, _, _ in services]}],
        interventions=[{"id": s, "unit_cost": 1, "need": n, "min_scale": n}
                       for s, n, _ in services],
        responses=[(s, "health", 1, e) for s, _, e in services],
        budgets={"board": 100},
    )
    r = solve_checked(inst)
    assert r.status == "optimal" and r.mip_gap <= 1e-4
    assert r.objective == pytest.approx(176, rel=REL)
    assert [units(r, s) for s, _, _ in services] == pytest.approx([0, 50, 45], abs=1e-7)
    choices = r.tables["choices"].set_index("intervention").runs
    assert not choices["a"] and choices["b"] and choices["c"]


def _closure(years):
    return build(
        years=years,
        partners=[{"id": "council", "remit": ["x"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 10_000}],
        responses=[("x", "health", 1, 1.0)],
        budgets={"council": 100},
        sites=[{"id": "depot", "owner": "council", "running_cost": 30, "closure_cost": 70,
                "disposal_receipt": 0}],
    )


def test_site_closure_pays_back_only_over_the_horizon():
    """A depot nobody needs costs £30k a year to run and £70k to close; every £k left buys one
    point. Over two years, keeping it costs 60 and closing it at least 70: keep it,
    (100 - 30) x 2 = 140. Over four years keeping costs 120 and closing at once 70: close in
    the first year, 30 + 100 x 3 = 330 (the first year is 40 worse; the horizon pays it back).
    """
    short = solve_checked(_closure((2013, 2014)))
    assert short.objective == pytest.approx(140, rel=REL)
    assert short.tables["sites"].open.all()
    long = solve_checked(_closure((2013, 2016)))
    assert long.objective == pytest.approx(330, rel=REL)
    sites = long.tables["sites"]
    assert list(sites.open) == [False] * 4 and list(sites.closed) == [True, False, False, False]
    budgets = long.tables["budgets"]
    assert list(budgets.site_costs) == pytest.approx([70, 0, 0, 0])


def _teams(integrated: bool):
    return build(
        partners=[{"id": "nhs", "remit": ["nursing"]}, {"id": "council", "remit": ["rehab"]}],
        roles=[{"id": "nurse"}, {"id": "social_worker"}],
        interventions=[
            {"id": "rehab", "unit_cost": 1, "need": 100, "lead": "council"},
            {"id": "nursing", "unit_cost": 1, "need": 50, "lead": "nhs"},
        ],
        responses=[("rehab", "health", 1, 1.0), ("nursing", "health", 1, 0.5)],
        budgets={"nhs": 10_000, "council": 10_000},
        staff=[
            {"employer": "nhs", "role": "nurse", "year": 2013, "fte": 10, "cost_per_fte": 40,
             "integrated": integrated},
            {"employer": "council", "role": "social_worker", "year": 2013, "fte": 10,
             "cost_per_fte": 30},
        ],
        intervention_staff=[
            {"intervention": "rehab", "role": "nurse", "fte_per_unit": 0.1},
            {"intervention": "rehab", "role": "social_worker", "fte_per_unit": 0.1},
            {"intervention": "nursing", "role": "nurse", "fte_per_unit": 0.1},
        ],
    )


def test_integrated_team_beats_two_single_employer_teams():
    """Rehab (led by the council, 1 point a unit, need 100) needs 0.1 nurse and 0.1 social
    worker a unit; nursing (led by the NHS, 0.5 points, need 50) needs 0.1 nurse. The NHS has
    10 nurses, the council 10 social workers and no nurses; money is plentiful.

    Single-employer teams: rehab gets no nurse, so only nursing runs: 50 units, 25 points.
    With NHS nurses in an integrated team, all 10 nurses serve rehab (1 point a unit beats 0.5):
    100 units, 100 points; the council pays the NHS 10 x £40k = £400k for them.
    """
    alone = solve_checked(_teams(False))
    assert alone.objective == pytest.approx(25, rel=REL)
    together = solve_checked(_teams(True))
    assert together.objective == pytest.approx(100, rel=REL)
    assert units(together, "rehab") == pytest.approx(100, rel=REL)
    dep = together.tables["deployment"]
    nurses = dep[(dep.role == "nurse") & (dep.intervention == "rehab")]
    assert list(nurses.employer) == ["nhs"] and bool(nurses.integrated.iloc[0])
    rech = together.tables["recharges"]
    staff = rech[rech.kind == "staff"].iloc[0]
    assert (staff.payer, staff.payee) == ("council", "nhs")
    assert staff.amount == pytest.approx(400, rel=REL)
    assert together.summary()["staff"]["nurse"] == {"2013": pytest.approx(10)}


def test_recruitment_limit_binds():
    """X needs 0.1 FTE a unit (1 point a unit, need 1,000); the council has 2 FTE and may
    recruit at most 1 a year (£5k each). Money is plentiful, so it recruits 1 each year:
    3 then 4 in post, 30 then 40 units: 70 points."""
    inst = build(
        years=(2013, 2014),
        partners=[{"id": "council", "remit": ["x"]}],
        roles=[{"id": "worker"}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 1000, "lead": "council"}],
        responses=[("x", "health", 1, 1.0)],
        budgets={"council": 10_000},
        staff=[{"employer": "council", "role": "worker", "year": y, "fte": 2,
                "cost_per_fte": 30, "recruit_limit": 1, "recruit_cost": 5} for y in (2013, 2014)],
        intervention_staff=[{"intervention": "x", "role": "worker", "fte_per_unit": 0.1}],
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(70, rel=REL)
    staff = r.tables["staff"]
    assert list(staff.in_post) == pytest.approx([3, 4]) and list(staff.recruited) == [1, 1]


def _s_curve(budget):
    return build(
        partners=[{"id": "board", "remit": ["s", "l"]}],
        interventions=[{"id": "s", "unit_cost": 1, "need": 100},
                       {"id": "l", "unit_cost": 1, "need": 1000}],
        responses=[("s", "health", 0.5, 0.1), ("s", "health", 1.0, 1.0),
                   ("l", "health", 1, 0.5)],
        budgets={"board": budget},
    )


def test_threshold_response_is_exact():
    """S gives 0.1 a unit on its first 50 units and 1.0 on the next 50 (critical mass);
    L gives 0.5. With £100k: all on S is 5 + 50 = 55; all on L 50; S to 50 and L 50 is 30.
    Optimum 55. (An LP that filled S's best piece first would claim 50 + 25 = 75.)
    With £60k: S can reach only 5 + 10 = 15; L alone gives 30: optimum 30."""
    r = solve_checked(_s_curve(100))
    assert r.objective == pytest.approx(55, rel=REL)
    assert units(r, "s") == pytest.approx(100, rel=REL)
    assert solve_checked(_s_curve(60)).objective == pytest.approx(30, rel=REL)


def test_exclusive_alternatives_and_dependencies():
    """A (2 points/£k), B (3) and C (2.5), each need 50 at £1k, £100k. Unconstrained: B + C,
    150 + 125 = 275. A and B are alternatives and C needs A: B alone gives 150, A + C gives
    100 + 125 = 225. Optimum 225."""
    inst = build(
        partners=[{"id": "board", "remit": ["a", "b", "c"]}],
        interventions=[{"id": i, "unit_cost": 1, "need": 50} for i in "abc"],
        responses=[("a", "health", 1, 2.0), ("b", "health", 1, 3.0), ("c", "health", 1, 2.5)],
        budgets={"board": 100},
        exclusive=[{"id": "model_of_care", "interventions": ["a", "b"]}],
        dependencies=[{"intervention": "c", "requires": "a"}],
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(225, rel=REL)
    assert units(r, "b") == pytest.approx(0, abs=1e-9)


def _setup(years):
    return build(
        years=years,
        partners=[{"id": "board", "remit": ["d", "e"]}],
        interventions=[{"id": "d", "unit_cost": 1, "need": 30, "setup_cost": 40},
                       {"id": "e", "unit_cost": 1, "need": 1000}],
        responses=[("d", "health", 1, 3.0), ("e", "health", 1, 1.5)],
        budgets={"board": 100},
    )


def test_set_up_cost_pays_off_over_years():
    """D is new (£40k to set up, 3 points/£k, need 30); E gives 1.5 a £k. One year: D costs
    30 + 40 and returns 90 + 1.5 x 30 = 135 < 150 (E alone): no D, 150. Three years: starting
    D in year one gives 135 + 195 + 195 = 525 > 450 (E alone) and > 150 + 135 + 195 = 480
    (starting later): D from the start, the set-up paid once."""
    assert solve_checked(_setup((2013, 2013))).objective == pytest.approx(150, rel=REL)
    r = solve_checked(_setup((2013, 2015)))
    assert r.objective == pytest.approx(525, rel=REL)
    choices = r.tables["choices"]
    assert list(choices.runs) == [True] * 3 and list(choices.starts) == [True, False, False]
    assert choices.setup_cost.sum() == pytest.approx(40)
