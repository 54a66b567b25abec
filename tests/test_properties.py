"""Property tests on random small instances (tests/randinst.py).

Each test draws a seed, builds an instance from it and checks a property that the model as
written in ``models/`` must have: more money never hurts, money units do not matter, names do
not matter, the cost objective is the plan's spend, relaxing targets never hurts, and an
instance survives a round trip through its folder. Every solve goes through ``solve_checked``,
so every optimum also passes the independent checker.

Examples are derandomized and no example database is kept, so a run is the same everywhere.
"""

from __future__ import annotations

import copy
import tempfile
from typing import Any

import numpy as np
import pandas as pd
from conftest import solve_checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from randinst import random_instance

import hwbopt

SEEDS = st.integers(0, 10**6)


def profile(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def build(d: dict[str, Any]) -> hwbopt.Instance:
    return hwbopt.instance_from_dict(d)


def solve_ok(inst: hwbopt.Instance, objective: str) -> hwbopt.Result:
    result = solve_checked(inst, objective=objective)
    assert result.status == "optimal", (result.status, result.message)
    return result


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def discount(inst: hwbopt.Instance) -> dict[int, float]:
    r = inst.settings.discount_rate
    return {y: (1.0 + r) ** -(y - inst.horizon.first_year) for y in inst.years}


def activity_of(result: hwbopt.Result) -> dict[tuple[str, str, int], float]:
    a = result.tables["activity"]
    return {(r.intervention, r.locality, int(r.year)): float(r.activity)
            for r in a.itertuples(index=False)}


def assert_activity_equal(got: dict, want: dict, rel: float, scale: float) -> None:
    assert set(got) == set(want)
    for key, v in want.items():
        assert abs(got[key] - v) <= rel * max(scale, abs(v)), (key, got[key], v)


def max_need(inst: hwbopt.Instance) -> float:
    return max(1.0, *(a.need for a in inst.activity))


# ---------------------------------------------------------------------------------------------
# 1. more money never lowers the optimal outcome (nor raises the least cost)
# ---------------------------------------------------------------------------------------------


def more_money(d: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Scale baseline budgets up: one partner, every partner alike, or each row on its own."""
    out = copy.deepcopy(d)
    partners = [p["id"] for p in d["partners"]]
    mode = int(rng.integers(3))
    one = partners[int(rng.integers(len(partners)))]
    common = float(1.0 + rng.exponential(0.5))
    for row in out["budgets"]:
        if mode == 0:
            f = common if row["partner"] == one else 1.0
        elif mode == 1:
            f = common
        else:
            f = 1.0 if rng.random() < 0.3 else float(1.0 + rng.exponential(0.5))
        row["baseline"] *= f
    return out


@profile(25)
@given(SEEDS)
def test_more_money_never_lowers_the_outcome(seed: int) -> None:
    rng = np.random.default_rng([seed, 1])
    d = random_instance(seed, hard_targets=seed % 3 == 0)
    before = solve_ok(build(d), "outcome").objective
    after = solve_ok(build(more_money(d, rng)), "outcome").objective
    assert after >= before - 1e-7 * max(1.0, abs(before)), (before, after)


@profile(15)
@given(SEEDS)
def test_more_money_never_raises_the_least_cost(seed: int) -> None:
    rng = np.random.default_rng([seed, 2])
    d = random_instance(seed, hard_targets=True)
    before = solve_ok(build(d), "cost").objective
    after = solve_ok(build(more_money(d, rng)), "cost").objective
    assert after <= before + 1e-7 * max(1.0, abs(before)), (before, after)


# ---------------------------------------------------------------------------------------------
# 2. money units do not matter
# ---------------------------------------------------------------------------------------------

SCALE = 1000.0


def scale_money(d: dict[str, Any], factor: float) -> dict[str, Any]:
    """Every money figure times ``factor``: budgets, unit costs, avoided costs per unit."""
    out = copy.deepcopy(d)
    for row in out["budgets"]:
        row["baseline"] *= factor
    for row in out["interventions"]:
        row["unit_cost"] *= factor
    for row in out["avoided_costs"]:
        row["saving_per_unit"] *= factor
    return out


@profile(25)
@given(SEEDS)
def test_scaling_money_scales_spend_and_leaves_activity(seed: int) -> None:
    # unique_plan: activity and every partner's spend are unique at the optimum, so the
    # two solves must find the same plan, not just plans of equal value
    hard = seed % 2 == 0
    d = random_instance(seed, unique_plan=True, hard_targets=hard)
    small, big = build(d), build(scale_money(d, SCALE))
    scale = max_need(small)
    for objective in ("outcome", "cost") if hard else ("outcome",):
        r0, r1 = solve_ok(small, objective), solve_ok(big, objective)
        factor = SCALE if objective == "cost" else 1.0
        assert close(r1.objective, factor * r0.objective, 1e-6), (r0.objective, r1.objective)

        assert_activity_equal(activity_of(r1), activity_of(r0), 1e-6, scale)
        a0, a1 = r0.tables["activity"], r1.tables["activity"]
        np.testing.assert_allclose(a1["money"], SCALE * a0["money"], rtol=1e-6,
                                   atol=1e-6 * SCALE * max(1.0, a0["money"].abs().max()))

        spend0 = float(r0.tables["allocation"]["money"].sum())
        spend1 = float(r1.tables["allocation"]["money"].sum())
        assert close(spend1, SCALE * spend0, 1e-6), (spend0, spend1)
        by0, by1 = r0.spend_by_partner, r1.spend_by_partner
        assert set(by0) == set(by1)
        for p, v in by0.items():
            assert abs(by1[p] - SCALE * v) <= 1e-6 * SCALE * max(1.0, spend0), (p, v, by1[p])

        o0 = r0.tables["outcomes"].set_index(["priority", "year"])["achieved"]
        o1 = r1.tables["outcomes"].set_index(["priority", "year"])["achieved"]
        pd.testing.assert_series_equal(o1, o0, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# 3. names and order do not matter
# ---------------------------------------------------------------------------------------------

NAME_POOL = ("all", "a", "Z", "p0", "p1", "p2", "i0", "i1", "i2", "i3", "k0", "k1", "l0", "l1",
             "g0", "dfg", "x-1", "Y_2", "nhs", "council", "zz_top", "B9", "retained", "pooled")


def rename_maps(d: dict[str, Any], rng: np.random.Generator) -> dict[str, dict]:
    """A random injective renaming per kind of id, drawn from one shared pool of names, so new
    names often swap with old ones, collide across kinds and sort in a different order."""

    def draw(old: list) -> dict:
        fresh = [f"n{int(v)}" for v in rng.integers(0, 10**6, size=len(old))]
        pool = list(dict.fromkeys([*NAME_POOL, *fresh]))
        new = rng.choice(pool, size=len(old), replace=False).tolist()
        return dict(zip(old, new, strict=True))

    # line ids only need to be unique within a partner; draw per partner
    lines: dict = {}
    for p in d["partners"]:
        mine = [(p["id"], r["id"]) for r in p.get("ring_fenced", ())]
        lines.update(draw(mine))
    return {
        "partners": draw([p["id"] for p in d["partners"]]),
        "pools": draw([g["id"] for g in d["pools"]]),
        "priorities": draw([k["id"] for k in d["priorities"]]),
        "localities": draw([loc["id"] for loc in d["localities"]]),
        "interventions": draw([i["id"] for i in d["interventions"]]),
        "lines": lines,
    }


def rename(d: dict[str, Any], m: dict[str, dict]) -> dict[str, Any]:
    out = copy.deepcopy(d)
    pm, gm, km, lm, im, rm = (m[k] for k in ("partners", "pools", "priorities", "localities",
                                             "interventions", "lines"))
    for p in out["partners"]:
        old = p["id"]
        p["id"] = pm[old]
        if "remit" in p:
            p["remit"] = [im[i] for i in p["remit"]]
        for line in p.get("ring_fenced", ()):
            line["id"] = rm[old, line["id"]]
            line["interventions"] = [im[i] for i in line["interventions"]]
    for g in out["pools"]:
        g["id"] = gm[g["id"]]
        g["interventions"] = [im[i] for i in g["interventions"]]
        for c in g["contributors"]:
            c["partner"] = pm[c["partner"]]
    for k in out["priorities"]:
        k["id"] = km[k["id"]]
    for loc in out["localities"]:
        loc["id"] = lm[loc["id"]]
    for row in out["interventions"]:
        row["id"] = im[row["id"]]
    for row in out["activity"]:
        row["intervention"] = im[row["intervention"]]
        if "locality" in row:
            row["locality"] = lm[row["locality"]]
    for row in out["responses"]:
        row["intervention"] = im[row["intervention"]]
        row["priority"] = km[row["priority"]]
    for row in out["budgets"]:
        row["partner"] = pm[row["partner"]]
    for row in out["targets"]:
        row["priority"] = km[row["priority"]]
    for row in out["avoided_costs"]:
        row["intervention"] = im[row["intervention"]]
        row["partner"] = pm[row["partner"]]
    return out


def compare_renamed(r0: hwbopt.Result, r1: hwbopt.Result, m: dict[str, dict], rel: float,
                    scale: float) -> None:
    assert r1.status == r0.status
    assert close(r1.objective, r0.objective, rel), (r0.objective, r1.objective)
    im, lm, pm, km = m["interventions"], m["localities"], m["partners"], m["priorities"]
    want = {(im[i], lm.get(loc, loc), y): v for (i, loc, y), v in activity_of(r0).items()}
    assert_activity_equal(activity_of(r1), want, rel, scale)
    spend0 = max(1.0, float(r0.tables["allocation"]["money"].sum()))
    by1 = r1.spend_by_partner
    assert set(by1) == {pm[p] for p in r0.spend_by_partner}
    for p, v in r0.spend_by_partner.items():
        assert abs(by1[pm[p]] - v) <= rel * spend0, (p, v, by1[pm[p]])
    got = {(r.priority, int(r.year)): float(r.achieved)
           for r in r1.tables["outcomes"].itertuples(index=False)}
    for r in r0.tables["outcomes"].itertuples(index=False):
        v = float(r.achieved)
        assert abs(got[km[r.priority], int(r.year)] - v) <= rel * max(1.0, abs(v))


@profile(20)
@given(SEEDS)
def test_relabelling_ids_changes_nothing(seed: int) -> None:
    rng = np.random.default_rng([seed, 3])
    hard = seed % 2 == 0
    d = random_instance(seed, unique_plan=True, hard_targets=hard)
    m = rename_maps(d, rng)
    inst0, inst1 = build(d), build(rename(d, m))
    for objective in ("outcome", "cost") if hard else ("outcome",):
        r0, r1 = solve_ok(inst0, objective), solve_ok(inst1, objective)
        compare_renamed(r0, r1, m, 1e-9, max_need(inst0))


def shuffle(d: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """The same instance with every list in a random order."""
    out = copy.deepcopy(d)

    def perm(xs: list) -> list:
        return [xs[j] for j in rng.permutation(len(xs))]

    for key in ("partners", "pools", "priorities", "localities", "interventions", "activity",
                "responses", "budgets", "targets", "avoided_costs"):
        out[key] = perm(out[key])
    for p in out["partners"]:
        if "remit" in p:
            p["remit"] = perm(p["remit"])
        if "ring_fenced" in p:
            p["ring_fenced"] = perm(p["ring_fenced"])
            for line in p["ring_fenced"]:
                line["interventions"] = perm(line["interventions"])
    for g in out["pools"]:
        g["interventions"] = perm(g["interventions"])
        g["contributors"] = perm(g["contributors"])
    return out


@profile(15)
@given(SEEDS)
def test_reordering_entities_and_rows_changes_nothing(seed: int) -> None:
    rng = np.random.default_rng([seed, 4])
    d = random_instance(seed, unique_plan=True)
    inst0, inst1 = build(d), build(shuffle(d, rng))
    r0, r1 = solve_ok(inst0, "outcome"), solve_ok(inst1, "outcome")
    identity = {kind: {x["id"]: x["id"] for x in d[kind]}
                for kind in ("interventions", "localities", "partners", "priorities")}
    compare_renamed(r0, r1, identity, 1e-9, max_need(inst0))


# ---------------------------------------------------------------------------------------------
# 4. the checker, the cost objective and relaxed targets
# ---------------------------------------------------------------------------------------------


def discounted_spend(inst: hwbopt.Instance, table: pd.DataFrame) -> float:
    disc = discount(inst)
    by_year = table.groupby("year")["money"].sum()
    return float(sum(disc[int(y)] * v for y, v in by_year.items()))


@profile(25)
@given(SEEDS)
def test_optima_pass_the_checker_and_cost_is_the_plans_spend(seed: int) -> None:
    d = random_instance(seed, hard_targets=True, unique_plan=seed % 4 == 0)
    inst = build(d)
    solve_ok(inst, "outcome")  # solve_checked has run the independent checker
    r = solve_ok(inst, "cost")
    assert close(discounted_spend(inst, r.tables["allocation"]), r.objective, 1e-7)
    assert close(discounted_spend(inst, r.tables["activity"]), r.objective, 1e-7)
    if inst.settings.discount_rate == 0:
        assert close(r.summary()["total_spend"], r.objective, 1e-7)
    # under the cost objective every target is hard, and met
    out = r.tables["outcomes"]
    assert out["hard"].all()
    assert out.loc[out["target"].notna(), "met"].all()


def with_priorities(d: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(d)
    for k in out["priorities"]:
        k.update({key: (f(k) if callable(f) else f) for key, f in changes.items()})
    return out


def plan_value(inst: hwbopt.Instance, outcomes: pd.DataFrame) -> float:
    """The outcome objective of a plan with these outcomes, under ``inst``'s soft targets."""
    disc = discount(inst)
    pri = {k.id: k for k in inst.priorities}
    target = {(t.priority, t.year): t.target for t in inst.targets}
    total = 0.0
    for r in outcomes.itertuples(index=False):
        k, y = pri[r.priority], int(r.year)
        total += disc[y] * k.weight * float(r.achieved)
        if (k.id, y) in target:
            total -= disc[y] * k.shortfall_penalty * max(target[k.id, y] - float(r.achieved), 0)
    return total


@profile(20)
@given(SEEDS)
def test_relaxing_targets_never_lowers_the_outcome(seed: int) -> None:
    rng = np.random.default_rng([seed, 5])
    d = random_instance(seed, hard_targets=seed % 2 == 0)
    inst = build(d)
    rel = 1e-7
    best = solve_ok(inst, "outcome").objective

    # every target soft at no cost: the best weighted outcome, an upper bound
    free_d = with_priorities(d, target_type="soft", shortfall_penalty=0.0)
    free = solve_ok(build(free_d), "outcome")
    assert best <= free.objective + rel * max(1.0, abs(free.objective))
    if all(k.target_type == "soft" for k in inst.priorities):
        # that plan is feasible here too, penalties and all: a lower bound
        low = plan_value(inst, free.tables["outcomes"])
        assert low <= best + rel * max(1.0, abs(best)), (low, best)

    # hard targets made soft (any penalty) never lower the optimum
    if any(k.target_type == "hard" for k in inst.priorities):
        soft_d = with_priorities(d, target_type="soft", shortfall_penalty=lambda k: k.get(
            "shortfall_penalty", float(rng.exponential(5.0))))
        soft = solve_ok(build(soft_d), "outcome").objective
        assert soft >= best - rel * max(1.0, abs(best)), (best, soft)

    # higher penalties never raise it
    factor = float(1.0 + rng.exponential(2.0))
    dear_d = with_priorities(d, shortfall_penalty=lambda k: k.get("shortfall_penalty", 0.0)
                             * factor)
    dear = solve_ok(build(dear_d), "outcome").objective
    assert dear <= best + rel * max(1.0, abs(best)), (best, dear)


# ---------------------------------------------------------------------------------------------
# 5. a round trip through the instance folder
# ---------------------------------------------------------------------------------------------


@profile(40)
@given(SEEDS)
def test_folder_round_trip_gives_an_equal_instance(seed: int) -> None:
    d = random_instance(seed, unique_plan=seed % 2 == 0, hard_targets=seed % 3 == 0)
    inst = build(d)
    with tempfile.TemporaryDirectory() as tmp:
        folder = hwbopt.write_folder(inst, f"{tmp}/inst")
        back = hwbopt.load(folder)
        assert back == inst
        # and writing it again gives the same files
        again = hwbopt.write_folder(back, f"{tmp}/again")
        for f in sorted(p.name for p in folder.iterdir()):
            assert (again / f).read_text() == (folder / f).read_text(), f


# ---------------------------------------------------------------------------------------------
# 6. round trips through a workbook and through odd names and numbers (issue 13)
# ---------------------------------------------------------------------------------------------


@profile(4)
@given(SEEDS)
def test_workbook_round_trip_keeps_every_number_and_name(seed: int) -> None:
    from hwbopt.io.workbook import read_workbook, write_workbook

    d = random_instance(seed, exclusive_pair=seed % 2 == 0, dependency=seed % 3 == 0,
                        n_go_no_go=seed % 2, n_sites=seed % 3, staff=seed % 2 == 1,
                        n_localities=1 + seed % 3, pool=True)
    inst = build(d)
    with tempfile.TemporaryDirectory() as tmp:
        book = write_workbook(inst, f"{tmp}/inst.xlsx")
        back, _ = read_workbook(book)
        assert back == inst
        folder = hwbopt.write_folder(back, f"{tmp}/inst")
        assert hwbopt.load(folder) == inst


LABELS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1,
                 max_size=30).filter(lambda s: s.strip() == s)
FIGURES = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)


@profile(12)
@given(LABELS, FIGURES, st.floats(min_value=0.0, max_value=0.99))
def test_any_name_and_figure_round_trips_through_folder_and_workbook(
        name: str, figure: float, share: float) -> None:
    """A name with any printable characters (quotes, commas, '#', ': ', '- ', unicode) and a
    figure with all 17 significant digits read back exactly in both forms."""
    from hwbopt.io.workbook import read_workbook, write_workbook

    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    partners = list(inst.partners)
    partners[0] = partners[0].model_copy(update={"name": name, "savings_rate": share})
    budgets = list(inst.budgets)
    budgets[0] = budgets[0].model_copy(update={"baseline": figure})
    inst = inst.model_copy(update={"partners": tuple(partners), "budgets": tuple(budgets),
                                   "description": name})
    with tempfile.TemporaryDirectory() as tmp:
        back = hwbopt.load(hwbopt.write_folder(inst, f"{tmp}/inst"))
        assert back == inst
        book, _ = read_workbook(write_workbook(inst, f"{tmp}/inst.xlsx"))
        assert book == inst
