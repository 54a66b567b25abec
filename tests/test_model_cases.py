"""Small instances whose optimum is derived by hand (each derivation is in its docstring).

Every optimal solve also passes the independent checker (``solve_checked``). Where the optimum
is unique, activity is compared too.
"""

from __future__ import annotations

import pytest
from conftest import solve_checked
from tiny import build, tiny

import hwbopt

REL = 1e-7


def act(result: hwbopt.Result, intervention: str, year: int = 2013, locality: str = "all"):
    t = result.tables["activity"]
    row = t[(t.intervention == intervention) & (t.year == year) & (t.locality == locality)]
    return float(row.activity.iloc[0])


def two_priorities():
    return [
        {"id": "p", "measure": "m", "unit": "u", "weight": 1.0, "target_type": "soft"},
        {"id": "q", "measure": "m", "unit": "u", "weight": 0.1, "target_type": "hard"},
    ]


def test_greedy_by_value_per_pound():
    """One partner, £100k. A: £1k/unit, 2 points/unit, need 30. B: £2k/unit, 3 points, need 100.

    Value per £k: A 2, B 1.5. Fund A to its need (30 units, £30k, 60 points), then B with the
    remaining £70k (35 units, 105 points). Optimum 165; A = 30, B = 35.
    """
    inst = build(
        partners=[{"id": "board", "remit": ["a", "b"]}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 30},
                       {"id": "b", "unit_cost": 2, "need": 100}],
        responses=[("a", "health", 1, 2.0), ("b", "health", 1, 3.0)],
        budgets={"board": 100},
    )
    r = solve_checked(inst)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(165, rel=REL)
    assert act(r, "a") == pytest.approx(30, rel=REL)
    assert act(r, "b") == pytest.approx(35, rel=REL)
    assert r.summary()["total_spend"] == pytest.approx(100, rel=REL)


def _target_instance(target: float, need_b: float = 100, budget: float = 100):
    return build(
        partners=[{"id": "board", "remit": ["a", "b"]}],
        priorities=two_priorities(),
        interventions=[{"id": "a", "unit_cost": 1, "need": 100},
                       {"id": "b", "unit_cost": 1, "need": need_b}],
        responses=[("a", "p", 1, 2.0), ("b", "q", 1, 1.0)],
        budgets={"board": budget},
        targets=[("q", 2013, target)],
    )


def test_hard_target_binds():
    """£100k; A gives 2 points of p (weight 1), B gives 1 of q (weight 0.1), both £1k a unit.

    Unconstrained, all money goes to A (200). The hard target q >= 20 forces 20 units of B, so
    A = 80: objective 2*80 + 0.1*20 = 162, and the target is met exactly.
    """
    r = solve_checked(_target_instance(20))
    assert r.objective == pytest.approx(162, rel=REL)
    assert act(r, "b") == pytest.approx(20, rel=REL)
    target = r.summary()["targets"][0]
    assert target["achieved"] == pytest.approx(20, rel=REL) and target["met"]
    free = solve_checked(_target_instance(0))
    assert free.objective == pytest.approx(200, rel=REL)


def test_infeasible_target_names_targets():
    """q >= 150 needs 150 units of B, but B's need is 100: only relaxing the targets helps
    (more money does not raise the need cap)."""
    r = hwbopt.solve(_target_instance(150))
    assert r.status == "infeasible" and r.objective is None
    assert "hard outcome targets" in r.message
    assert "money" not in r.message


def test_infeasible_lists_every_kind_that_frees_it():
    """q >= 150 with B's need 200 but only £100k: more money or a lower target would do."""
    r = hwbopt.solve(_target_instance(150, need_b=200))
    assert r.status == "infeasible"
    assert "hard outcome targets" in r.message and "money available" in r.message


def _pool_instance(with_pool: bool, max_share: float = 0.6):
    return build(
        partners=[{"id": "nhs", "remit": ["x"]}, {"id": "council", "remit": ["y"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 50},
                       {"id": "y", "unit_cost": 1, "need": 100}],
        responses=[("x", "health", 1, 1.0), ("y", "health", 1, 3.0)],
        budgets={"nhs": 100, "council": 0},
        pools=[{"id": "pool", "interventions": ["y"],
                "contributors": [{"partner": "nhs", "max_share": max_share}]}] if with_pool
        else [],
    )


def test_pooling_changes_the_answer():
    """The NHS has £100k but may fund only X (1 point/£k, need 50); the council has nothing and
    Y (3 points/£k) is in its remit.

    Siloed: the NHS funds X to its need, 50 points, and £50k is unspent. Pooled with an NHS
    maximum share of 60%: £60k goes through the pool to Y (180 points) and £40k to X
    (40 points): 220. Pooled money is attributed to the NHS, its only contributor.
    """
    siloed = solve_checked(_pool_instance(False))
    pooled = solve_checked(_pool_instance(True))
    assert siloed.objective == pytest.approx(50, rel=REL)
    assert pooled.objective == pytest.approx(220, rel=REL)
    assert act(pooled, "y") == pytest.approx(60, rel=REL)
    alloc = pooled.tables["allocation"]
    via_pool = alloc[alloc.fund == "pooled"]
    assert set(via_pool.partner) == {"nhs"}
    assert via_pool.money.sum() == pytest.approx(60, rel=REL)
    budgets = siloed.tables["budgets"].set_index("partner")
    assert budgets.loc["nhs", "unspent"] == pytest.approx(50, rel=REL)


def _qipp_instance(avoided: bool):
    return build(
        partners=[{"id": "nhs", "kind": "nhs", "savings_rate": 0.1, "remit": ["t"]},
                  {"id": "council", "kind": "council", "remit": ["r"]}],
        interventions=[{"id": "t", "unit_cost": 1, "need": 100},
                       {"id": "r", "unit_cost": 1, "need": 100}],
        responses=[("t", "health", 1, 2.0), ("r", "health", 1, 1.0)],
        budgets={"nhs": 100, "council": 50},
        avoided=[("r", "nhs", 0.5)] if avoided else [],
    )


def test_avoided_costs_count_towards_qipp():
    """The NHS must save 10% (£10k of £100k), leaving £90k for T (2 points/£k); the council
    spends its £50k on reablement R (1 point/£k). Without avoided costs: 180 + 50 = 230.

    R avoids £0.5k of NHS cost per unit: 50 units avoid £25k, of which £10k meets the whole
    QIPP requirement, so the NHS spends £100k on T: 200 + 50 = 250.
    """
    without = solve_checked(_qipp_instance(False))
    with_ = solve_checked(_qipp_instance(True))
    assert without.objective == pytest.approx(230, rel=REL)
    assert with_.objective == pytest.approx(250, rel=REL)
    b = with_.tables["budgets"].set_index("partner")
    assert b.loc["nhs", "savings_required"] == pytest.approx(10, rel=REL)
    assert b.loc["nhs", "qipp_credit"] == pytest.approx(10, rel=REL)
    assert b.loc["nhs", "avoided_costs"] == pytest.approx(25, rel=REL)
    wrong_pocket = with_.tables["avoided_costs"]
    row = wrong_pocket.iloc[0]
    assert (row["from"], row["to"], row["amount"]) == ("council", "nhs", pytest.approx(25))


def test_concave_response_spreads_money():
    """£100k. A (£1k/unit, need 100) gives 2 points a unit on its first 50 units, then 0.5;
    B (£1k/unit, need 100) gives 1. Fill A's first piece (50 units, 100 points), then B, which
    beats A's second piece: B = 50 (50 points). Optimum 150."""
    inst = build(
        partners=[{"id": "board", "remit": ["a", "b"]}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 100},
                       {"id": "b", "unit_cost": 1, "need": 100}],
        responses=[("a", "health", 0.5, 2.0), ("a", "health", 1.0, 0.5),
                   ("b", "health", 1, 1.0)],
        budgets={"board": 100},
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(150, rel=REL)
    assert act(r, "a") == pytest.approx(50, rel=REL)
    assert act(r, "b") == pytest.approx(50, rel=REL)


def test_change_limits_bind():
    """Two years, £100k a year; all units £1k.

    A: 1 point/unit, current 10, may grow 50% a year: at most 15, then 22.5.
    C: 0.1 point/unit, current 50, may shrink 20% a year: at least 40, then 32.
    B: 0.5 point/unit, unlimited: takes the rest.
    2013: A 15, C 40, B 45 -> 15 + 4 + 22.5 = 41.5.
    2014: A 22.5, C 32, B 45.5 -> 22.5 + 3.2 + 22.75 = 48.45.  Optimum 89.95.
    """
    inst = build(
        years=(2013, 2014),
        partners=[{"id": "board", "remit": ["a", "b", "c"]}],
        interventions=[
            {"id": "a", "unit_cost": 1, "need": 1000, "current": 10, "max_growth": 0.5},
            {"id": "b", "unit_cost": 1, "need": 1000},
            {"id": "c", "unit_cost": 1, "need": 1000, "current": 50, "max_reduction": 0.2},
        ],
        responses=[("a", "health", 1, 1.0), ("b", "health", 1, 0.5), ("c", "health", 1, 0.1)],
        budgets={"board": 100},
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(89.95, rel=REL)
    assert [act(r, "a", y) for y in (2013, 2014)] == pytest.approx([15, 22.5], rel=REL)
    assert [act(r, "c", y) for y in (2013, 2014)] == pytest.approx([40, 32], rel=REL)


def test_ring_fence_keeps_money_on_its_line():
    """£100k available, 30% ring-fenced for X (0.5 point/£k); the remit also has Y (1 point).

    General money (£70k) goes to Y: 70 points. The fenced £30k can only buy X: 15 points.
    Optimum 85 (without the fence, all £100k to Y: 100).
    """
    def make(fenced: bool):
        line = [{"id": "grant", "share": 0.3, "interventions": ["x"]}] if fenced else []
        return build(
            partners=[{"id": "ph", "remit": ["x", "y"], "ring_fenced": line}],
            interventions=[{"id": "x", "unit_cost": 1, "need": 1000},
                           {"id": "y", "unit_cost": 1, "need": 1000}],
            responses=[("x", "health", 1, 0.5), ("y", "health", 1, 1.0)],
            budgets={"ph": 100},
        )

    r = solve_checked(make(True))
    assert r.objective == pytest.approx(85, rel=REL)
    alloc = r.tables["allocation"]
    fenced = alloc[alloc.fund == "ring_fenced"]
    assert set(fenced.intervention) == {"x"} and set(fenced.source) == {"grant"}
    assert fenced.money.sum() == pytest.approx(30, rel=REL)
    assert solve_checked(make(False)).objective == pytest.approx(100, rel=REL)


def test_soft_target_shortfall_is_reported_and_penalised():
    """£40k buys 40 points (weight 1) against a soft target of 100 with penalty 2:
    shortfall 60, objective 40 - 2*60 = -80."""
    inst = build(
        partners=[{"id": "board", "remit": ["a"]}],
        priorities=[{"id": "health", "measure": "m", "unit": "u", "weight": 1,
                     "target_type": "soft", "shortfall_penalty": 2}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 1000}],
        responses=[("a", "health", 1, 1.0)],
        budgets={"board": 40},
        targets=[("health", 2013, 100)],
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(-80, rel=REL)
    t = r.summary()["targets"][0]
    assert t["shortfall"] == pytest.approx(60, rel=REL) and not t["met"]


def test_least_cost_plan():
    """Meet 50 points at least cost. A: £2k/unit, 1 point (0.5/£k), need 30. B: £1k/unit,
    0.4 point (0.4/£k). Buy all 30 of A (£60k, 30 points), then 20 points of B (50 units,
    £50k). Least cost £110k. The cost objective makes the (soft) target hard."""
    inst = build(
        partners=[{"id": "board", "remit": ["a", "b"]}],
        interventions=[{"id": "a", "unit_cost": 2, "need": 30},
                       {"id": "b", "unit_cost": 1, "need": 1000}],
        responses=[("a", "health", 1, 1.0), ("b", "health", 1, 0.4)],
        budgets={"board": 1000},
        targets=[("health", 2013, 50)],
    )
    r = solve_checked(inst, objective="cost")
    assert r.status == "optimal" and r.objective_kind == "cost"
    assert r.objective == pytest.approx(110, rel=REL)
    assert r.summary()["total_spend"] == pytest.approx(110, rel=REL)
    assert act(r, "a") == pytest.approx(30, rel=REL) and act(r, "b") == pytest.approx(50)


def test_equity_floor_binds():
    """A runs in two localities of need 100 each, 1 point a unit, money plentiful.
    North (current 50) can reach its need; south starts from nothing and may add only 10% of
    need a year: at most 10. Without a floor: 100 + 10 = 110.
    With an equity floor of 0.5: a_south/100 >= 0.5 (a_north + a_south)/200, i.e.
    a_north <= 3 a_south = 30: 30 + 10 = 40."""
    def make(floor):
        return build(
            partners=[{"id": "board", "remit": ["a"]}],
            interventions=[{"id": "a", "unit_cost": 1, "max_growth": 1.0,
                            "max_growth_of_need": 0.1}],
            localities=["north", "south"],
            activity=[{"intervention": "a", "locality": "north", "current": 50, "need": 100},
                      {"intervention": "a", "locality": "south", "current": 0, "need": 100}],
            responses=[("a", "health", 1, 1.0)],
            budgets={"board": 1000},
            settings={"equity_floor": floor} if floor else {},
        )

    assert solve_checked(make(None)).objective == pytest.approx(110, rel=REL)
    r = solve_checked(make(0.5))
    assert r.objective == pytest.approx(40, rel=REL)
    assert act(r, "a", locality="north") == pytest.approx(30, rel=REL)
    assert act(r, "a", locality="south") == pytest.approx(10, rel=REL)


def test_cuts_and_discounting():
    """A council with £100k baseline cut 28% over four years has £93k, £86k in its first two
    years; every £k buys one point. Discounted at 10%: 93 + 86/1.1 = 171.1818..."""
    inst = build(
        years=(2011, 2012),
        partners=[{"id": "council", "remit": ["a"],
                   "cut": {"total": 0.28, "over_years": 4}}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 1000}],
        responses=[("a", "health", 1, 1.0)],
        budgets={"council": 100},
        settings={"discount_rate": 0.1},
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(93 + 86 / 1.1, rel=REL)
    assert list(r.tables["budgets"].available) == pytest.approx([93, 86], rel=REL)


def test_pool_minimum_share_forces_contribution():
    """The NHS must put at least 50% of its £100k in a pool that may fund only Y (0.2 point
    /£k); its own remit X gives 1 point/£k. So £50k to X (50) and £50k via the pool to Y (10):
    60 points, and the pool contribution is exactly the minimum."""
    inst = build(
        partners=[{"id": "nhs", "remit": ["x"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 1000},
                       {"id": "y", "unit_cost": 1, "need": 1000}],
        responses=[("x", "health", 1, 1.0), ("y", "health", 1, 0.2)],
        budgets={"nhs": 100},
        pools=[{"id": "pool", "interventions": ["y"],
                "contributors": [{"partner": "nhs", "min_share": 0.5, "max_share": 1.0}]}],
    )
    r = solve_checked(inst)
    assert r.objective == pytest.approx(60, rel=REL)
    pools = r.tables["pools"]
    assert pools.contributed.sum() == pytest.approx(50, rel=REL)


def test_tutorial_matches_its_hand_derivation(tutorial):
    """instances/tutorial/README.md derives 10,066.44 by hand; expected.json records it
    among its derived values."""
    from expected_results import entries, load

    expected = load("tutorial") | {k: e.value for k, e in entries("tutorial").items()
                                   if e.kind == "derived"}
    tol = expected["derived"]["tolerance"]
    r = solve_checked(tutorial)
    assert r.status == expected["status"]
    assert r.objective == pytest.approx(expected["objective"], rel=tol)
    s = r.summary()
    assert s["total_spend"] == pytest.approx(expected["total_spend"], rel=tol)
    assert s["spend_by_partner"] == pytest.approx(expected["spend_by_partner"], rel=tol)
    for key, value in expected["activity"].items():
        intervention, year = key.split("|")
        assert act(r, intervention, int(year)) == pytest.approx(value, rel=tol, abs=1e-9), key
    unspent = r.tables["budgets"].set_index(["partner", "year"]).unspent
    for key, value in expected["unspent"].items():
        partner, year = key.split("|")
        assert unspent[partner, int(year)] == pytest.approx(value, rel=tol, abs=1e-9), key
    sites = r.tables["sites"]
    closed = {row.site: int(row.year) for row in sites[sites.closed].itertuples()}
    assert closed == expected["sites_closed"]
    for key, value in expected["staff_deployed"].items():
        role, year = key.split("|")
        assert s["staff"][role][year] == pytest.approx(value, rel=tol)


def test_tiny_builder_is_valid():
    assert tiny(partners=[{"id": "a"}], interventions=[])["partners"][0]["kind"] == "other"
