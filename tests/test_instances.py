"""Every shipped instance solves to the results its expected.json records, and is checked."""

from __future__ import annotations

import json

import pytest
from conftest import solve_checked

import hwbopt
from hwbopt.shipped import shipped_instance, shipped_names


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_instance_matches_expected(name):
    folder = shipped_instance(name)
    expected = json.loads((folder / "expected.json").read_text())
    inst, warnings = hwbopt.read_folder(folder)
    assert warnings == []
    # the exact optimum (gap 0), so the recorded objective does not depend on where within
    # the default gap a solver version happens to stop
    result = solve_checked(inst, mip_gap=0)
    summary = result.summary()
    tol = expected["tolerance"]
    assert summary["status"] == expected["status"]
    assert summary["objective_kind"] == expected["objective_kind"]
    assert summary["objective"] == pytest.approx(expected["objective"], rel=tol)
    assert summary["total_spend"] == pytest.approx(expected["total_spend"], rel=tol)
    if "targets_met" in expected:
        assert summary["targets_met"] == expected["targets_met"]
        assert summary["targets_total"] == expected["targets_total"]
    if "sites_closed" in expected:
        sites = result.tables["sites"]
        closed = sites[sites.closed]
        wanted = expected["sites_closed"]
        wanted = set(wanted)
        assert set(closed.site) == wanted
    if expected.get("integrated"):
        assert result.tables["deployment"].integrated.any()


def test_county_is_realistic_in_shape():
    """The issue's shape: 7 partner kinds, 5+ priorities, 20+ interventions, four years
    2011/12-2014/15, several localities, a pool, a ring-fence, QIPP and avoided costs."""
    inst = hwbopt.load(shipped_instance("county"))
    kinds = {p.kind for p in inst.partners}
    assert {"nhs", "council", "public_health", "police", "fire", "voluntary"} <= kinds
    assert len(inst.priorities) >= 5 and len(inst.interventions) >= 20
    assert inst.years == (2011, 2012, 2013, 2014) and len(inst.localities) >= 3
    assert inst.pools and any(p.ring_fenced for p in inst.partners)
    assert any(p.savings_rate > 0 for p in inst.partners) and inst.avoided_costs
    result = hwbopt.solve(inst)
    budgets = result.tables["budgets"]
    assert budgets.qipp_credit.sum() > 0, "avoided costs should count towards QIPP"
    assert result.tables["pools"].spent.sum() > 0, "the pool should be used"
    # the workforce and estate of issue 3: a handful of roles, tens of sites, closures,
    # shared sites and integrated teams
    assert len(inst.roles) >= 4 and len(inst.sites) >= 20
    sites = result.tables["sites"]
    assert sites.closed.any(), "some sites should close"
    assert (sites.users.str.count(";") >= 1).any(), "some sites should be shared"
    assert result.tables["deployment"].integrated.any(), "some teams should integrate"
    assert result.status == "optimal" and result.mip_gap <= 1e-4


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_comparison_matches_expected(name):
    """Every option and scenario the instance ships is valid, and its base comparison gives
    the recorded results (the tutorial's are derived by hand in its README)."""
    from hwbopt.analyses.compare import compare
    from hwbopt.scenarios import scenario_instance

    folder = shipped_instance(name)
    expected = json.loads((folder / "expected.json").read_text())["compare"]
    inst = hwbopt.load(folder)
    for s in inst.scenarios:
        assert scenario_instance(inst, s.id) != inst
    c = compare(inst)
    tol = expected["tolerance"]
    assert c.value_of_pooling() == pytest.approx(expected["value_of_pooling"], rel=tol)
    got = {r.name: r for r in c.runs}
    assert set(got) == set(expected["options"])
    for option, want in expected["options"].items():
        run = got[option]
        assert run.result.status == want["status"], (option, run.result.message)
        if want["objective"] is not None:
            assert run.result.objective == pytest.approx(want["objective"], rel=tol), option
            assert run.result.checked
        if "affordable" in want:
            assert run.evaluation["affordable"] == want["affordable"]
    assert c.models_built == 2  # one per scenario, and one for the status quo
