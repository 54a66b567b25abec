"""Every shipped instance solves to the results its expected.json records, and is checked.

expected.json holds two kinds of value (see tests/expected_results.py). *Derived* values are
worked out without hwbopt: by hand in the instance's README, and recomputed below from the
instance's files by plain arithmetic (``*_recomputed_from_its_files``); the solver must
reproduce them tightly. *Regression* values are what a solver run gave when recorded; they
are asserted to a tolerance, and a miss says that such a value may legitimately move with a
solver version (it still fails: they are guards).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import solve_checked
from expected_results import Expected, entries, load

import hwbopt
from hwbopt.shipped import shipped_instance, shipped_names

# ---------------------------------------------------------------------------------------------
# The solver's results against expected.json
# ---------------------------------------------------------------------------------------------


def keyed(table: pd.DataFrame, keys: list[str], column: str) -> dict[str, float]:
    """``{"a|b": value}`` of a result table, keyed by its ``keys`` columns joined by ``|``."""
    rows = table.groupby(keys, as_index=False)[column].sum()
    return {"|".join(str(v) for v in row[:-1]): float(row[-1])
            for row in rows[[*keys, column]].itertuples(index=False)}


def observed(inst: hwbopt.Instance, result: hwbopt.Result, want: Expected) -> Any:
    """What the solve gives for an expected.json entry, shaped like its value."""
    s, t = result.summary(), result.tables
    key = want.key
    if key in ("objective", "total_spend", "targets_met", "targets_total", "spend_by_partner"):
        return s[key]
    if key == "activity":
        return keyed(t["activity"], ["intervention", "year"], "activity")
    if key in ("available", "unspent", "savings_required", "qipp_credit", "pooled", "fenced"):
        return keyed(t["budgets"], ["partner", "year"], key)
    if key == "outcomes":
        return keyed(t["outcomes"], ["priority", "year"], "achieved")
    if key == "sites_closed":
        closed = t["sites"][t["sites"].closed]
        if isinstance(want.value, list):
            return list(closed.site)
        return {row.site: int(row.year) for row in closed.itertuples()}
    if key == "staff_deployed":
        return {f"{role}|{year}": fte for role, by_year in s["staff"].items()
                for year, fte in by_year.items()}
    if key == "integrated":
        return bool(t["deployment"].integrated.any())
    if key == "cost_objective":
        return solve_checked(inst, objective="cost", mip_gap=0).objective
    raise AssertionError(f"no observation for expected.json key {key!r}: add one here")


def check_all(checks: list[tuple[Expected, Any]]) -> None:
    """Every check, then one failure listing them all (derived ones first)."""
    failures = []
    for want, got in sorted(checks, key=lambda c: c[0].kind):
        try:
            want.check(got)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_instance_matches_expected(name):
    inst, warnings = hwbopt.read_folder(shipped_instance(name))
    assert warnings == []
    # the exact optimum (gap 0), so the recorded objective does not depend on where within
    # the default gap a solver version happens to stop
    result = solve_checked(inst, mip_gap=0)
    data = load(name)
    assert result.status == data["status"], result.message
    assert result.objective_kind == data["objective_kind"]
    check_all([(want, observed(inst, result, want)) for want in entries(name).values()])


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_comparison_matches_expected(name):
    """Every option and scenario the instance ships is valid, and its base comparison gives
    the recorded results (the tutorial's are derived by hand in its README)."""
    from hwbopt.analyses.compare import compare
    from hwbopt.scenarios import scenario_instance

    inst = hwbopt.load(shipped_instance(name))
    for s in inst.scenarios:
        assert scenario_instance(inst, s.id) != inst
    c = compare(inst)
    expected = entries(name, "compare")
    got = {r.name: r for r in c.runs}
    assert set(got) == {k.removeprefix("option:") for k in expected if k.startswith("option:")}
    checks: list[tuple[Expected, Any]] = [(expected["value_of_pooling"], c.value_of_pooling())]
    for key, want in expected.items():
        if not key.startswith("option:"):
            continue
        run = got[key.removeprefix("option:")]
        seen = {"status": run.result.status, "objective": run.result.objective}
        if run.evaluation is not None:  # the status quo: evaluated, not optimised
            seen["affordable"] = run.evaluation["affordable"]
            seen["funding_gap"] = {}
            for by_year in run.evaluation["funding_gap"].values():
                for year, short in by_year.items():
                    seen["funding_gap"][year] = seen["funding_gap"].get(year, 0.0) + short
        if run.result.objective is not None:
            assert run.result.checked, key
        checks.append((want, seen))
    check_all(checks)
    assert c.models_built == 2  # one per scenario, and one for the status quo


# ---------------------------------------------------------------------------------------------
# Derived values recomputed from the instances' files by plain arithmetic (no hwbopt code)
# ---------------------------------------------------------------------------------------------


def read_files(folder: Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """instance.yaml and every CSV table of an instance folder, as plain data."""
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    return spec, {f.stem: pd.read_csv(f) for f in sorted(folder.glob("*.csv"))}


def money_by_hand(spec: dict[str, Any], budgets: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each partner's required savings and available money a year (models/money.md): the
    cumulative cut ``total * min(n, over_years) / over_years`` (or ``cut_by_year``), savings
    ``1 - (1 - rate)^n`` of the baseline, ``n`` counting the horizon's years from 1."""
    first = spec["horizon"]["first_year"]
    partners = {p["id"]: p for p in spec["partners"]}
    out: dict[str, dict[str, float]] = {"available": {}, "savings_required": {}, "fenced": {}}
    for row in budgets.itertuples():
        p, n, base = partners[row.partner], row.year - first + 1, float(row.baseline)
        if "cut" in p:
            cut = p["cut"]["total"] * min(n, p["cut"]["over_years"]) / p["cut"]["over_years"]
        else:
            cut = p.get("cut_by_year", {}).get(row.year, 0.0)
        saving = base * (1 - (1 - p.get("savings_rate", 0.0)) ** n)
        key = f"{row.partner}|{row.year}"
        out["savings_required"][key] = saving
        out["available"][key] = base * (1 - cut) - saving
        if p.get("ring_fenced"):
            share = sum(line["share"] for line in p["ring_fenced"])
            out["fenced"][key] = share * out["available"][key]
    return out


def tutorial_by_hand(folder: Path) -> dict[str, dict[str, Any]]:
    """instances/tutorial/README.md's derivation, step by step, on the numbers in its files."""
    spec, csv = read_files(folder)
    years = list(range(spec["horizon"]["first_year"], spec["horizon"]["last_year"] + 1))
    partners = {p["id"]: p for p in spec["partners"]}
    priorities = {k["id"]: k for k in spec["priorities"]}
    money = money_by_hand(spec, csv["budgets"])
    act = csv["activity"].set_index("intervention")
    need, current = act.need.to_dict(), act.current.to_dict()

    # Staff: a unit's full cost adds its staff at their employer's pay (the same every year)
    staff = csv["staff"].set_index(["role", "year"]).cost_per_fte
    cost = csv["interventions"].set_index("id").unit_cost.to_dict()
    for row in csv["intervention_staff"].itertuples():
        assert staff[row.role].nunique() == 1
        cost[row.intervention] += row.fte_per_unit * staff[row.role].iloc[0]
    fte = {(r.role, r.year): r.fte for r in csv["staff"].itertuples()}
    fte_per = {r.intervention: (r.role, r.fte_per_unit)
               for r in csv["intervention_staff"].itertuples()}

    pieces: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in csv["responses"].sort_values("upto_share").itertuples():
        pieces.setdefault((r.intervention, r.priority), []).append((r.upto_share, r.effect))

    def outcome(k: str, plan: dict[str, float]) -> float:
        total = 0.0
        for (i, kk), ps in pieces.items():
            if kk != k:
                continue
            start = 0.0
            for upto, effect in ps:
                total += effect * min(max(plan[i] - start * need[i], 0.0), (upto - start) * need[i])
                start = upto
        return total

    targets = {(r.priority, r.year): r.target for r in csv["targets"].itertuples()}

    def score(plan_by_year: dict[int, dict[str, float]]) -> float:
        total = 0.0
        for y, plan in plan_by_year.items():
            for k, p in priorities.items():
                got = outcome(k, plan)
                total += p["weight"] * got
                if p["target_type"] == "soft":
                    total -= p["shortfall_penalty"] * max(0.0, targets[k, y] - got)
                else:
                    assert got >= targets[k, y] - 1e-9, (k, y)
        return total

    # The optimum by hand: value per £k, an older person below target worth weight + penalty
    def value(i: str) -> float:
        v = 0.0
        for (ii, k), ps in pieces.items():
            if ii == i:
                p = priorities[k]
                v += ps[0][1] * (p["weight"] + (p.get("shortfall_penalty", 0)
                                                if k == "older_people" else 0))
        return v / cost[i]

    council_order = ["reablement", "exercise_referral", "telecare", "befriending"]
    ranked = sorted(council_order, key=value, reverse=True)
    assert ranked == council_order, {i: value(i) for i in council_order}
    assert set(partners["council"]["remit"]) == set(council_order)
    nhs_remit = partners["nhs"]["remit"]

    # Buildings: the Hub stays (reablement's desks); the Mill closes when that costs least
    sites = csv["sites"].set_index("id")
    mill = sites.loc["old_mill"]
    options = {None: [mill.running_cost for _ in years]}
    for t, y in enumerate(years):
        options[y] = [mill.running_cost] * t + [mill.closure_cost - mill.disposal_receipt] \
            + [0.0] * (len(years) - t - 1)
    close_in = min(options, key=lambda o: (sum(options[o]), o is None))
    hub = sites.loc["riverside_hub"].running_cost

    def council_money(mill_cost: list[float]) -> dict[int, float]:
        return {y: money["available"][f"council|{y}"] - hub - mill_cost[t]
                for t, y in enumerate(years)}

    # The NHS: its savings are met by the avoided costs of reablement at need; its remit at
    # need; the rest into the pool, up to its cap
    avoided = csv["avoided_costs"].set_index(["intervention", "partner"]).saving_per_unit
    cap = next(c["max_share"] for c in spec["pools"][0]["contributors"] if c["partner"] == "nhs")
    credit, pooled, unspent, nhs_money = {}, {}, {}, {}
    for y in years:
        key = f"nhs|{y}"
        saved = avoided["reablement", "nhs"] * need["reablement"]
        credit[key] = min(money["savings_required"][key], saved)
        nhs_money[y] = money["available"][key] + credit[key]
        own = sum(need[i] * cost[i] for i in nhs_remit)
        pooled[key] = min(cap * money["available"][key], nhs_money[y] - own)
        unspent[key] = nhs_money[y] - own - pooled[key]

    def pooled_plan(council: dict[int, float]) -> dict[int, dict[str, float]]:
        plans = {}
        for y in years:
            left = council[y] + pooled[f"nhs|{y}"]
            plan = {i: need[i] for i in nhs_remit} | {"befriending": 0.0}
            for i in ("reablement", "exercise_referral"):
                plan[i] = need[i]
                left -= need[i] * cost[i]
            plan["telecare"] = left / cost["telecare"]
            assert 0 <= plan["telecare"] <= need["telecare"]
            plans[y] = plan
        return plans

    mill_cost = options[close_in]
    plans = pooled_plan(council_money(mill_cost))
    activity = {f"{i}|{y}": plan[i] for y, plan in plans.items() for i in need}
    spend = {y: sum(plan[i] * cost[i] for i in need) for y, plan in plans.items()}
    nhs_spend = sum(nhs_money[y] - unspent[f"nhs|{y}"] for y in years)
    outcomes = {f"{k}|{y}": outcome(k, plan) for y, plan in plans.items() for k in priorities}
    objective = score(plans)
    solve = {
        "objective": objective,
        "total_spend": sum(spend.values()),
        "spend_by_partner": {"nhs": nhs_spend, "council": sum(spend.values()) - nhs_spend},
        "activity": activity,
        "unspent": unspent | {f"council|{y}": 0.0 for y in years},
        "available": money["available"],
        "savings_required": money["savings_required"],
        "qipp_credit": credit,
        "pooled": pooled,
        "outcomes": outcomes,
        "targets_met": sum(outcomes[f"{k}|{y}"] >= targets[k, y] for (k, y) in targets),
        "targets_total": len(targets),
        "sites_closed": {} if close_in is None else {"old_mill": close_in},
        "staff_deployed": {f"{fte_per['reablement'][0]}|{y}":
                           plans[y]["reablement"] * fte_per["reablement"][1] for y in years},
    }
    for y in years:  # every reablement worker is used, so the pay bill comes back in full
        assert solve["staff_deployed"][f"reablement_worker|{y}"] == fte["reablement_worker", y]

    # Comparing options by hand
    council = council_money(mill_cost)
    siloed = {}
    for y in years:
        plan = {i: need[i] for i in nhs_remit} | {"telecare": 0.0, "befriending": 0.0,
                                                   "reablement": need["reablement"]}
        plan["exercise_referral"] = (council[y] - need["reablement"] * cost["reablement"]) \
            / cost["exercise_referral"]
        assert 0 <= plan["exercise_referral"] <= need["exercise_referral"]
        siloed[y] = plan
    keep_estate = score(pooled_plan(council_money(options[None])))
    # the status quo: today's activity, the Mill open, idle reablement workers still paid
    today = {y: dict(current) for y in years}
    sq_council = sum(current[i] * cost[i] for i in council_order)
    short = {}
    for y in years:
        idle = (fte["reablement_worker", y] - current["reablement"] * fte_per["reablement"][1]) \
            * staff["reablement_worker"].iloc[0]
        have = council_money(options[None])[y] - idle + cap * money["available"][f"nhs|{y}"]
        short[y] = sq_council - have
    assert min(short.values()) > 0, short
    assert current["reablement"] <= need["reablement"]  # protecting it costs nothing
    compare = {
        "value_of_pooling": objective - score(siloed),
        "option:pooled": {"status": "optimal", "objective": objective},
        "option:siloed": {"status": "optimal", "objective": score(siloed)},
        "option:status_quo": {"status": "infeasible", "objective": score(today),
                              "affordable": False,
                              "funding_gap": {str(y): v for y, v in short.items()}},
        "option:protect_reablement": {"status": "optimal", "objective": objective},
        "option:keep_estate": {"status": "optimal", "objective": keep_estate},
    }
    return {"solve": solve, "compare": compare, "short": short}


def assert_recomputed(name: str, by_hand: dict[str, dict[str, Any]]) -> None:
    """Every derived value of ``name``'s expected.json equals its recomputation, and every
    derived value is recomputed."""
    for part in ("solve", "compare"):
        derived = {k: e for k, e in entries(name, part).items() if e.kind == "derived"}
        assert set(derived) == set(by_hand[part]), (part, set(derived) ^ set(by_hand[part]))
        for key, want in derived.items():
            tight = Expected(name, part, key, "derived", want.value, 1e-12, want.how)
            tight.check(by_hand[part][key])


def test_tutorial_derivation_recomputed_from_its_files():
    """The README's hand derivation, redone on the CSVs: 10,066.44 and the rest."""
    by_hand = tutorial_by_hand(shipped_instance("tutorial"))
    assert math.isclose(by_hand["solve"]["objective"], 10066.44, rel_tol=1e-12)
    # the status quo is short by the README's 90 and 164.52
    assert by_hand["short"] == pytest.approx({2013: 90, 2014: 164.52}, rel=1e-12)
    assert_recomputed("tutorial", by_hand)


def test_county_money_recomputed_from_its_files():
    """Available and ring-fenced money a year, from budgets.csv and the partners' cuts and
    savings rates in instance.yaml (README, Partners): e.g. the CCG's 4% QIPP a year leaves
    24,660 x 0.96^4 = 20,944.886 in 2014/15."""
    spec, csv = read_files(shipped_instance("county"))
    money = money_by_hand(spec, csv["budgets"])
    assert math.isclose(money["available"]["ccg|2014"], 24660 * 0.96 ** 4, rel_tol=1e-12)
    by_hand = {"solve": {"available": money["available"], "fenced": money["fenced"],
                         "targets_total": len(csv["targets"])},
               "compare": {}}
    assert_recomputed("county", by_hand)


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
