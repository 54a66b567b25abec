"""`hwbopt compare`: options side by side, the value of pooling, the price of policies.

Hand-derived cases fix the numbers; random instances check the invariants every comparison must
keep (pooled is never worse than siloed or any partial pooling, a policy never helps, today's
activity never beats the optimum); each policy, applied to the compiled model, is checked against
the same rule written into the instance (a second formulation); the CLI is run as a user types it.
"""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import copy_instance, run_cli, run_cli_here
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from randinst import random_instance
from tiny import build

import hwbopt
from hwbopt.analyses.compare import compare, parse_pool_shares
from hwbopt.errors import UsageError
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change

REL = 1e-7


def approx(v: float) -> object:
    return pytest.approx(v, rel=REL, abs=1e-7)


def pooling_case(**extra) -> hwbopt.Instance:
    """A has 100 and a remit with one service of effect 1 (need 50); B has 100 and a remit
    with a service of effect 3 (need 1000). A pool lets A's money reach B's better service.

    Siloed: A buys 50 of x (the rest of its money is idle), B buys 100 of y: 50 + 300 = 350.
    Pooled (A may pool everything): A puts all 100 into y: 300 + 300 = 600.
    Partial with A's share fixed at s: 300 + 300 s + min(100 (1 - s), 50).
    """
    return build(
        partners=[{"id": "A", "remit": ["x"]}, {"id": "B", "remit": ["y"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 50},
                       {"id": "y", "unit_cost": 1, "need": 1000}],
        responses=[("x", "health", 1, 1.0), ("y", "health", 1, 3.0)],
        budgets={"A": 100, "B": 100},
        pools=[{"id": "pot", "interventions": ["y"],
                "contributors": [{"partner": "A", "max_share": 1.0}]}],
        **extra,
    )


def partial_value(s: float) -> float:
    return 300 + 300 * s + min(100 * (1 - s), 50)


def test_pooling_worth_a_known_amount():
    c = compare(pooling_case(), pool_shares=[0, 0.25, 0.5, 0.75, 1.0])
    assert c.run("pooled").result.objective == approx(600)
    assert c.run("siloed").result.objective == approx(350)
    assert c.value_of_pooling() == approx(250)
    assert c.value_of_pooling_by_priority() == {"health": approx(250)}
    curve = c.pooling_curve()
    assert [p["share"] for p in curve] == [0, 0.25, 0.5, 0.75, 1.0]
    for point in curve:
        assert point["status"] == "optimal"
        assert point["objective"] == approx(partial_value(point["share"]))
    # every plan is checked against its own rules (siloed: no pool; partial: fixed shares)
    assert all(r.result.checked for r in c.runs if r.option != "status_quo")
    partners = c.partners.set_index(["option", "partner"])
    assert partners.loc[("pooled", "A"), "contributed"] == approx(100)
    assert partners.loc[("siloed", "A"), "contributed"] == 0
    # outcome value lands in the remit of the service that produced it
    assert partners.loc[("pooled", "B"), "outcome_value"] == approx(600)
    assert partners.loc[("siloed", "A"), "outcome_value"] == approx(50)


def test_mandatory_pooling_can_be_worth_less_than_nothing():
    """A must put half its money into a pool that can only buy z (effect 0.5); alone, A would
    spend all 100 on x (effect 1, need 100): siloed 100, pooled 50 + 25 = 75. The comparison
    reports the negative value rather than hiding it."""
    inst = build(
        partners=[{"id": "A", "remit": ["x"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 100},
                       {"id": "z", "unit_cost": 1, "need": 100}],
        responses=[("x", "health", 1, 1.0), ("z", "health", 1, 0.5)],
        budgets={"A": 100},
        pools=[{"id": "pot", "interventions": ["z"],
                "contributors": [{"partner": "A", "min_share": 0.5, "max_share": 0.5}]}],
    )
    c = compare(inst, options=["pooled", "siloed"])
    assert c.run("pooled").result.objective == approx(75)
    assert c.run("siloed").result.objective == approx(100)
    assert c.value_of_pooling() == approx(-25)


def wrong_pocket_case() -> hwbopt.Instance:
    """The council pays for reablement, the NHS saves (and counts it towards QIPP).

    NHS: baseline 1000, QIPP 10% (100 required), so 900 available, remit an acute service of
    effect 0.1. Council: 100, remit reablement (effect 1, avoids 1 of NHS cost a unit, need
    100) and day care (effect 1.5). Siloed, the council buys day care (1.5 > 1) and nobody buys
    reablement: 150 + 90 = 240. Pooled, the NHS funds reablement through the pool; its avoided
    costs are credited against QIPP, so the NHS still spends 900 on acute: 150 + 100 + 90 = 340.
    """
    return build(
        partners=[{"id": "nhs", "savings_rate": 0.1, "remit": ["acute"]},
                  {"id": "council", "remit": ["reablement", "day_care"]}],
        interventions=[{"id": "reablement", "unit_cost": 1, "need": 100},
                       {"id": "day_care", "unit_cost": 1, "need": 1000},
                       {"id": "acute", "unit_cost": 1, "need": 10000}],
        responses=[("reablement", "health", 1, 1.0), ("day_care", "health", 1, 1.5),
                   ("acute", "health", 1, 0.1)],
        budgets={"nhs": 1000, "council": 100},
        pools=[{"id": "bcf", "interventions": ["reablement"],
                "contributors": [{"partner": "nhs", "max_share": 0.5}]}],
        avoided=[("reablement", "nhs", 1.0)],
    )


def test_wrong_pocket_siloed_drops_what_pooling_funds():
    c = compare(wrong_pocket_case(), options=["pooled", "siloed"])
    pooled, siloed = c.run("pooled").result, c.run("siloed").result
    assert pooled.objective == approx(340)
    assert siloed.objective == approx(240)
    assert c.value_of_pooling() == approx(100)

    def reablement(result):
        a = result.tables["activity"]
        return float(a[a.intervention == "reablement"].activity.sum())

    assert reablement(siloed) == 0.0
    assert reablement(pooled) == approx(100)
    measures = c.partners.set_index(["option", "partner"])
    assert measures.loc[("pooled", "nhs"), "avoided_costs"] == approx(100)
    assert measures.loc[("siloed", "nhs"), "avoided_costs"] == 0.0


def policy_case(options: list[dict]) -> hwbopt.Instance:
    """One partner with 100, two services: x (effect 1, today 50) and y (effect 2, today 10).

    Unconstrained the money goes to y: 100 units, outcome 200. Protecting x keeps 50 of x:
    50 + 2 x 50 = 150, a price of 50. Capping y's change at 100% a year lets y reach 20:
    80 of x and 20 of y = 120, a price of 80. Both: x >= 50 and y <= 20 give 80 + 40 = 120.
    """
    return build(
        partners=[{"id": "p", "remit": ["x", "y"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 500, "current": 50},
                       {"id": "y", "unit_cost": 1, "need": 500, "current": 10}],
        responses=[("x", "health", 1, 1.0), ("y", "health", 1, 2.0)],
        budgets={"p": 100},
        options=options,
    )


def test_price_of_each_policy_by_hand():
    inst = policy_case([
        {"id": "guard_x", "policies": [{"rule": "protect", "intervention": "x"}]},
        {"id": "slow_y", "policies": [{"rule": "cap_change", "intervention": "y",
                                       "max_change": 1.0}]},
        {"id": "both", "policies": [{"rule": "protect", "intervention": "x"},
                                    {"rule": "cap_change", "intervention": "y",
                                     "max_change": 1.0}]},
        {"id": "freeze", "policies": [{"rule": "forbid_change", "intervention": "y"}]},
        {"id": "health_share", "policies": [{"rule": "min_priority_share",
                                             "priority": "health", "share": 1.0}]},
    ])
    c = compare(inst, options=["pooled", "guard_x", "slow_y", "both", "freeze",
                               "health_share"])
    assert c.run("pooled").result.objective == approx(200)
    assert c.run("guard_x").result.objective == approx(150)
    assert c.run("guard_x").policies[0].price == approx(50)
    assert c.run("slow_y").result.objective == approx(120)
    assert c.run("slow_y").policies[0].price == approx(80)
    both = c.run("both")
    assert both.result.objective == approx(120)
    # without protection the cap alone gives 120 (price 0); without the cap, protection: 150
    assert [p.price for p in both.policies] == [approx(0), approx(30)]
    # y frozen at 10: 90 of x and 10 of y = 110
    assert c.run("freeze").result.objective == approx(110)
    # every service serves health, so a 100% share costs nothing
    assert c.run("health_share").result.objective == approx(200)
    assert c.run("health_share").policies[0].price == approx(0)
    assert c.models_built == 1  # every option re-used the one build
    assert c.solver_reuses >= 7


def test_policies_match_the_same_rule_written_into_the_instance(tutorial):
    """Second formulation: a policy on the compiled model against the instance's own rule."""
    cases = [
        ({"rule": "cap_change", "intervention": "befriending", "max_change": 0.1},
         [("interventions[befriending].max_growth", 0.1),
          ("interventions[befriending].max_reduction", 0.1)]),
        ({"rule": "forbid_change", "intervention": "telecare"},
         [("interventions[telecare].max_growth", 0.0),
          ("interventions[telecare].max_reduction", 0.0)]),
        ({"rule": "keep_open", "site": "old_mill"}, [("sites[old_mill].can_close", False)]),
        ({"rule": "fix_contribution", "partner": "nhs", "pool": "bcf", "share": 0.1},
         [("pools[bcf].contributors[nhs].min_share", 0.1),
          ("pools[bcf].contributors[nhs].max_share", 0.1)]),
    ]
    for policy, rules in cases:
        inst = tutorial.model_copy(update={"options": ()})
        data_option = {"id": "opt", "policies": [policy]}
        from hwbopt.schema import Option

        with_option = inst.model_copy(update={"options": (Option(**data_option),)})
        got = compare(with_option, options=["opt"]).run("opt").result
        written = apply_changes(inst, [Change(path=p, value=v) for p, v in rules], "test")
        want = hwbopt.solve(written)
        assert got.status == want.status == "optimal", (policy, got.message)
        assert got.objective == pytest.approx(want.objective, rel=1e-6), policy


def test_status_quo_by_hand():
    """Today: x 50 and y 10 cost 60 of the 100 available: affordable, outcome 50 + 20 = 70.
    With a baseline of 40 it is 20 short."""
    c = compare(policy_case([]), options=["pooled", "status_quo"])
    sq = c.run("status_quo")
    assert sq.result.status == "optimal" and sq.result.objective == approx(70)
    assert sq.evaluation["affordable"] and sq.evaluation["rules_broken"] == []
    assert sq.result.checked
    short = compare(build(
        partners=[{"id": "p", "remit": ["x", "y"]}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 500, "current": 50},
                       {"id": "y", "unit_cost": 1, "need": 500, "current": 10}],
        responses=[("x", "health", 1, 1.0), ("y", "health", 1, 2.0)],
        budgets={"p": 40}), options=["status_quo"]).run("status_quo")
    assert short.result.status == "infeasible"
    assert not short.evaluation["affordable"]
    assert short.evaluation["funding_gap"] == {"budget[p]": {"2013": approx(20)}}
    assert short.evaluation["objective"] == approx(70)
    assert "20 £k short" in short.result.message


def test_parse_pool_shares():
    assert parse_pool_shares("0.3") == [0.3]
    assert parse_pool_shares("0:1:0.25") == [0, 0.25, 0.5, 0.75, 1.0]
    assert len(parse_pool_shares("0:1:0.1")) == 11
    for bad in ("x", "0:1", "0:1:0", "1.5", "-0.1:1:0.5"):
        with pytest.raises(UsageError):
            parse_pool_shares(bad)


def test_scenarios_compose_with_options(tutorial):
    from hwbopt.scenarios import instance_data

    inst = hwbopt.instance_from_dict({**instance_data(tutorial), "scenarios": [
        {"id": "deeper", "changes": [{"path": "budgets[council].baseline", "scale": 0.8}]}]})
    c = compare(inst, options=["pooled", "siloed"], scenarios=["base", "deeper"])
    assert c.scenarios == ["base", "deeper"]
    assert c.run("pooled", "deeper").result.objective < c.run("pooled", "base").result.objective
    summary = c.summary()
    assert set(summary["value_of_pooling"]) == {"base", "deeper"}
    assert summary["value_of_pooling"] == summary["value_of_pooling_by_scenario"]


# ---- invariants on random instances -----------------------------------------------------


def _random_options(seed: int, inst: hwbopt.Instance) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng([seed, 7])
    ids = [i.id for i in inst.interventions]
    rules = [
        {"rule": "protect", "intervention": str(rng.choice(ids))},
        {"rule": "cap_change", "intervention": str(rng.choice(ids)),
         "max_change": float(rng.uniform(0.0, 0.5))},
        {"rule": "min_priority_share", "priority": inst.priorities[0].id,
         "share": float(rng.uniform(0.0, 0.6))},
    ]
    return [{"id": f"o{k}", "policies": [rule]} for k, rule in enumerate(rules)] + [
        {"id": "all", "policies": rules}]


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6))
def test_invariants_on_random_instances(seed):
    """With voluntary pooling (no minimum shares) every other option only adds rules to
    pooled's; mandatory minimums can make pooling worth less than nothing (see below)."""
    data = random_instance(seed)
    for pool in data["pools"]:
        for c in pool["contributors"]:
            c["min_share"] = 0.0
    inst = hwbopt.instance_from_dict(data)
    inst = hwbopt.instance_from_dict({**data, "options": _random_options(seed, inst)})
    c = compare(inst, pool_shares=[0.0, 0.5, 1.0])
    pooled = c.run("pooled").result
    assert pooled.status == "optimal", pooled.message
    best = pooled.objective
    tol = 1e-6 * max(1.0, abs(best))
    for run in c.runs:
        r = run.result
        assert r.status in ("optimal", "infeasible"), (run.name, r.status, r.message)
        if r.status != "optimal":
            continue
        assert r.checked
        # nothing beats the instance's own rules: every other option only adds rules
        assert r.objective <= best + tol, (run.name, r.objective, best)
        for p in run.policies:
            if p.price is not None:
                assert p.price >= -tol, (run.name, p)
    siloed = c.run("siloed").result
    if siloed.status == "optimal":
        assert c.value_of_pooling() >= -tol
    # all the policies together never beat any one of them alone
    together = c.run("all").result
    if together.status == "optimal":
        for k in range(3):
            alone = c.run(f"o{k}").result
            assert alone.status == "optimal"
            assert together.objective <= alone.objective + tol


# ---- the command, as a user types it ---------------------------------------------------


def _add_yaml(folder, extra: dict) -> None:
    data = yaml.safe_load((folder / "instance.yaml").read_text())
    data.update(extra)
    (folder / "instance.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_cli_compare_json_and_out(tmp_path):
    out = tmp_path / "cmp"
    proc = run_cli("compare", hwbopt.shipped_instance("tutorial"), "--json", "--out", out,
                   "--pool-share", "0:0.3:0.1", "--scenario", "base",
                   "--scenario", "council_cuts_35")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    for key in ("options", "value_of_pooling"):
        assert key in s
    for entry in s["options"]:
        for key in ("name", "scenario", "status", "objective", "total_spend",
                    "outcome_by_priority", "spend_by_partner", "targets_met"):
            assert key in entry, key
    names = {(e["scenario"], e["name"]) for e in s["options"]}
    assert ("base", "pooled") in names and ("council_cuts_35", "siloed") in names
    assert ("base", "partial@0.2") in names and ("base", "status_quo") in names
    assert set(s["value_of_pooling"]) == {"base", "council_cuts_35"}
    for f in ("summary.json", "options.csv", "partners.csv", "outcomes.csv", "policies.csv",
              "pooling_curve.csv", "runs/base/pooled/allocation.csv",
              "runs/base/pooled/summary.json"):
        assert (out / f).exists(), f
    assert json.loads((out / "summary.json").read_text())["options"] == s["options"]


def test_cli_compare_prints_side_by_side():
    proc = run_cli("compare", hwbopt.shipped_instance("tutorial"), "--option", "pooled",
                   "--option", "siloed", "--option", "protect_reablement")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for words in ("Pooled (as the instance says)", "Siloed (no pooled fund)",
                  "Who pays and who benefits", "value of pooling", "Price of each policy"):
        assert words in out, words


@pytest.mark.parametrize(("args", "words"), [
    (("--option", "nonsense"), "unknown option 'nonsense'"),
    (("--scenario", "nonsense"), "unknown scenario 'nonsense'"),
    (("--option", "partial"), "needs pool shares"),
    (("--pool-share", "2"), "every share must lie in 0..1"),
    (("--pool-share", "a:b"), "expected a fraction"),
])
def test_cli_compare_usage_errors_exit_2(args, words):
    # the unknown names (option, scenario) as a user types them, the rest in this process
    run = run_cli if args[1] == "nonsense" else run_cli_here
    proc = run("compare", hwbopt.shipped_instance("tutorial"), *args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_cli_compare_bad_scenario_override_exits_2(tmp_path):
    folder = copy_instance("tutorial", tmp_path)
    _add_yaml(folder, {"scenarios": [{"id": "typo", "changes": [
        {"path": "budgets[counci].baseline", "scale": 0.9}]}]})
    proc = run_cli("compare", folder, "--scenario", "typo")
    assert proc.returncode == 2
    assert "scenarios[0].changes[0].path: no budgets entry with partner 'counci'" in proc.stderr
    assert "Traceback" not in proc.stderr
