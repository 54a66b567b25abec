"""`hwbopt coalitions`: coalition values, the Shapley split, the core, blocking groups.

Every value is checked by a route that shares no code with the engine: derived by hand, or
solved by ``hwbopt.solve`` on an instance written without the other partners' pooling (the
definition of a coalition's value read literally), and the game's answers by brute force over
every coalition.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from tiny import tiny

import hwbopt
from hwbopt.analyses import games
from hwbopt.analyses.coalitions import Spec, coalition_values, coalitions, solve_values
from hwbopt.analyses.compare import compare
from hwbopt.cli import cli
from hwbopt.shipped import shipped_instance

REL = 1e-7


def approx(v: float) -> Any:
    return pytest.approx(v, rel=REL, abs=1e-6)


def three(need_y: float = 1000, budgets: tuple[float, float, float] = (100, 100, 50),
          setup: float = 60.0, **extra: Any) -> dict[str, Any]:
    """Partners A, B and C (budgets 100, 100, 50) each fund their own service (effect 1 a
    pound); the pool can fund y (effect 3 a pound) once it is started for ``setup``.

    Pooling money M into y gives 3 (M - setup) where the partners' own services give M, so a
    coalition pools all its money or none: v(S) = max(0, 2 b(S) - 3 setup).
    """
    return tiny(
        partners=[{"id": p, "remit": [p.lower()]} for p in "ABC"],
        interventions=[*({"id": p.lower(), "unit_cost": 1, "need": 1000} for p in "ABC"),
                       {"id": "y", "unit_cost": 1, "need": need_y, "setup_cost": setup}],
        responses=[*((p.lower(), "health", 1, 1.0) for p in "ABC"), ("y", "health", 1, 3.0)],
        budgets=dict(zip("ABC", budgets, strict=True)),
        pools=[{"id": "pot", "interventions": ["y"],
                "contributors": [{"partner": p, "max_share": 1.0} for p in "ABC"]}],
        **extra)


def by_members(res: Any) -> dict[str, float]:
    return {"".join(r["members"]): r["value"] for r in res.summary()["coalitions"]}


# ---------------------------------------------------------------------------------------------
# derived by hand
# ---------------------------------------------------------------------------------------------


def test_three_partners_with_a_start_up_cost():
    """v(S) = max(0, 2 b(S) - 180): A 20, B 20, C 0, AB 220, AC 120, BC 120, ABC 320.

    Shapley of A (orders ABC ACB BAC BCA CAB CBA): 20, 20, 200, 200, 120, 200 → 760/6;
    B the same; C (320 - 2·760/6) = 400/6. The game is convex (each partner adds more to a
    larger coalition), so the core is not empty and holds the Shapley split. The nucleolus,
    by symmetry (a, a, 320 - 2a): excesses 20 - a, 2a - 320, 220 - 2a, a - 200 (twice); the
    largest, 2a - 320 against 220 - 2a, is least at a = 135: (135, 135, 50), ε = -50.
    """
    res = coalitions(hwbopt.instance_from_dict(three()))
    assert res.status == "optimal"
    assert by_members(res) == {"": approx(0), "A": approx(20), "B": approx(20), "C": approx(0),
                               "AB": approx(220), "AC": approx(120), "BC": approx(120),
                               "ABC": approx(320)}
    assert res.shapley == {"A": approx(760 / 6), "B": approx(760 / 6), "C": approx(400 / 6)}
    core = res.summary()["core"]
    assert core["empty"] is False and core["shapley_in_core"] is True
    assert core["method"] == "nucleolus"
    assert core["allocation"] == {"A": approx(135), "B": approx(135), "C": approx(50)}
    assert core["epsilon"] == approx(-50)
    assert core["blocking"] == [] and res.summary()["not_superadditive"] == []


def test_three_partners_competing_for_one_service_have_an_empty_core():
    """No start-up cost, y's need 150, budgets 100 each: every pooled pound gains 2 until y is
    full, so v(S) = 2 min(100 |S|, 150): 200 alone, 300 for two or three.

    Core: x_i ≥ 200 for each i sums to 600 > v(N) = 300, so it is empty. Least core:
    x_i ≥ 200 - ε summed gives 300 ≥ 600 - 3ε, so ε ≥ 100, met by (100, 100, 100) (pairs:
    200 ≥ 300 - 100). Shapley is (100, 100, 100) by symmetry; each partner alone gains 100 by
    leaving it, and a pair gains no more than either of its members (so only the singles are
    listed), and a pair is worth less than its two members apart (300 < 400)."""
    res = coalitions(hwbopt.instance_from_dict(three(need_y=150, budgets=(100, 100, 100),
                                                     setup=0.0)))
    assert by_members(res)["AB"] == approx(300) and by_members(res)["A"] == approx(200)
    s = res.summary()
    assert s["shapley"] == {p: approx(100) for p in "ABC"}
    assert s["core"]["empty"] is True and s["core"]["shapley_in_core"] is False
    assert s["core"]["method"] == "least_core" and s["core"]["epsilon"] == approx(100)
    assert s["core"]["allocation"] == {p: approx(100) for p in "ABC"}
    assert sorted(tuple(b["members"]) for b in s["core"]["blocking"]) == [("A",), ("B",),
                                                                          ("C",)]
    assert all(b["shortfall"] == approx(100) for b in s["core"]["blocking"])
    worse = {tuple(n["members"]): n["shortfall"] for n in s["not_superadditive"]}
    assert worse[("A", "B")] == approx(100)


def test_a_proposed_split_is_blocked_by_those_it_underpays():
    """The convex game with the split (300, 10, 10): B alone is worth 20 and gets 10 (short
    10); A + C... B + C is worth 120 and gets 20 (short 100); B's shortfall alone is smaller,
    so both groups are listed, B + C first."""
    res = coalitions(hwbopt.instance_from_dict(three()), split={"A": 300, "B": 10, "C": 10})
    blocking = res.summary()["split"]["blocking"]
    assert [(b["members"], b["shortfall"]) for b in blocking] == [
        (["B", "C"], approx(100)), (["B"], approx(10))]


def test_owens_split_prices_each_partners_pooled_money():
    """No start-up cost and need enough for all: each pooled pound gains 2 (3 against 1), so
    v(S) = 2 b(S), an additive game whose core is the one split (200, 200, 100). At the grand
    plan every partner pools its whole budget (its share's upper bound), whose shadow price
    is 2 a pound: Owen's split is (200, 200, 100), priced in full (it sums to v(N) = 500
    without scaling), and in the core."""
    res = coalitions(hwbopt.instance_from_dict(three(setup=0.0)))
    owen = res.summary()["owen"]
    assert owen["allocation"] == {"A": approx(200), "B": approx(200), "C": approx(100)}
    assert owen["priced_total"] == approx(500) and owen["in_core"] is True
    assert res.shapley == {"A": approx(200), "B": approx(200), "C": approx(100)}


# ---------------------------------------------------------------------------------------------
# the definition read literally, on random instances: solve with only S's pooling
# ---------------------------------------------------------------------------------------------


def random_board(seed: int) -> dict[str, Any]:
    """Four partners: A and B identical (symmetric players), C different, D in no pool (a
    null player); two pooled services with limited need, so coalitions compete."""
    rng = random.Random(seed)
    budget, effect = rng.choice([60, 80, 120]), rng.choice([1.0, 1.5])
    return tiny(
        partners=[{"id": p, "remit": [p.lower()]} for p in "ABCD"],
        interventions=[*({"id": p.lower(), "unit_cost": 1, "need": 1000} for p in "ABCD"),
                       {"id": "y", "unit_cost": 1, "need": rng.choice([80, 150, 250])},
                       {"id": "z", "unit_cost": 2, "need": rng.choice([30, 60])}],
        responses=[("a", "health", 1, effect), ("b", "health", 1, effect),
                   ("c", "health", 1, rng.choice([1.0, 2.0, 2.5])), ("d", "health", 1, 1.0),
                   ("y", "health", 1, 3.0), ("z", "health", 1, 5.0)],
        budgets={"A": budget, "B": budget, "C": rng.choice([50, 100, 200]), "D": 100},
        pools=[{"id": "pot", "interventions": ["y", "z"],
                "contributors": [{"partner": p, "max_share": rng.choice([0.5, 1.0])}
                                 if p == "C" else {"partner": p, "max_share": 0.8}
                                 for p in "ABC"]}])


def literal_value(data: dict[str, Any], members: tuple[str, ...]) -> float:
    """The best objective with only ``members`` pooling minus the one with nobody: each solved
    by ``hwbopt.solve`` on an instance whose pool lists only those contributors."""
    def solved(keep: tuple[str, ...]) -> float:
        d = json.loads(json.dumps(data))
        d["pools"] = [{**g, "contributors": [c for c in g["contributors"]
                                             if c["partner"] in keep]} for g in d["pools"]]
        d["pools"] = [g for g in d["pools"] if g["contributors"]]
        r = hwbopt.solve(hwbopt.instance_from_dict(d))
        assert r.status == "optimal", r.message
        assert r.objective is not None
        return r.objective
    return solved(members) - solved(())


@pytest.mark.parametrize("seed", [1, 2])
def test_values_and_axioms_on_random_boards(seed):
    data = random_board(seed)
    res = coalitions(hwbopt.instance_from_dict(data))
    assert res.status == "optimal"
    players = res.partners
    got = {tuple(r["members"]): r["value"] for r in res.summary()["coalitions"]}
    for k in range(len(players) + 1):
        for s in itertools.combinations(players, k):
            assert got[s] == approx(literal_value(data, s)), s
    phi = res.shapley
    assert sum(phi.values()) == approx(res.grand_value)  # efficiency
    assert phi["A"] == approx(phi["B"])  # symmetry: A and B are the same partner twice
    assert phi["D"] == approx(0)  # null player: D pools nothing, ever
    # the core's split, by brute force over every coalition
    core = res.summary()["core"]
    x = core["allocation"]
    assert sum(x.values()) == approx(res.grand_value)
    excess = max(v - sum(x[p] for p in s) for s, v in got.items() if 0 < len(s) < 4)
    if core["empty"]:
        assert excess == approx(core["epsilon"]) and excess > 0
    else:
        assert excess <= 1e-6 * max(1.0, abs(res.grand_value or 0))
    # the Shapley split's blocking groups, by brute force
    blocked = {s for s, v in got.items()
               if 0 < len(s) < 4 and v - sum(phi[p] for p in s) > 1e-6 * 1000}
    assert (not blocked) == bool(core["shapley_in_core"])


def test_grand_value_is_compares_value_of_pooling_on_the_tutorial(tutorial):
    res = coalitions(tutorial)
    assert res.grand_value == approx(compare(tutorial, options=["pooled", "siloed"])
                                     .value_of_pooling())
    assert res.status == "optimal"


def test_county_grand_value_and_recorded_coalitions():
    """The county's grand coalition against `compare` (a separate route: its own build, HiGHS
    with default options), and six coalitions drawn at random against the values recorded
    from a full run (tests/coalitions_county.json, written by the exact command: 128
    coalitions by 53 solves, every plan certified), whose exact Shapley split and sampled
    estimate are checked here too: the sampler over the county's values lies within 3
    standard errors of the exact split."""
    county = hwbopt.load(shipped_instance("county"))
    recorded = json.loads((Path(__file__).parent / "coalitions_county.json").read_text())
    players = recorded["partners"]
    P = len(players)
    rng = random.Random(16)
    masks = {0, (1 << P) - 1, *rng.sample(range(1, (1 << P) - 1), 6)}
    spec = Spec(county, None, 1e-6, None, "test-county")
    solved = solve_values(spec, masks, None, 1)
    values, _ = coalition_values(solved, "outcome")
    table = {int(k): v for k, v in recorded["values"].items()}
    for m in masks:
        assert values[m] == pytest.approx(table[m], rel=1e-6, abs=0.5), m
    vop = compare(county, options=["pooled", "siloed"]).value_of_pooling()
    assert values[(1 << P) - 1] == pytest.approx(vop, rel=2e-4)
    game = games.Game(tuple(players), np.array([table[m] for m in range(1 << P)]))
    exact = games.shapley(game)
    assert dict(zip(players, exact, strict=True)) == pytest.approx(recorded["shapley"],
                                                                   abs=1e-6)
    mean, se = games.sampled_shapley(players, table.__getitem__, 200, 7)
    assert np.all(np.abs(mean - exact) <= 3 * se + 1e-9)


# ---------------------------------------------------------------------------------------------
# sampling, reproducibility, the command
# ---------------------------------------------------------------------------------------------


def test_sampled_shapley_is_the_sampler_over_the_exact_values():
    """The sampled path values exactly the coalitions its orders visit: its Shapley estimate
    is the sampler's over the exact values, deterministic for a seed, and efficient."""
    inst = hwbopt.instance_from_dict(random_board(3))
    exact = coalitions(inst)
    table = dict(exact.values)
    sampled = coalitions(inst, samples=30, seed=5)
    mean, se = games.sampled_shapley(exact.partners, table.__getitem__, 30, 5)
    assert [sampled.shapley[p] for p in exact.partners] == pytest.approx(list(mean), abs=1e-6)
    assert sampled.shapley_stderr is not None
    assert [sampled.shapley_stderr[p] for p in exact.partners] == pytest.approx(list(se),
                                                                                abs=1e-6)
    assert sum(sampled.shapley.values()) == approx(exact.grand_value)
    assert sampled.summary()["exact"] is False and sampled.summary()["core"]["partial"]
    again = coalitions(inst, samples=30, seed=5)
    assert again.shapley == sampled.shapley


def test_same_numbers_on_one_worker_or_two():
    data = three()
    one = coalitions(hwbopt.instance_from_dict(data)).summary()
    two = coalitions(hwbopt.instance_from_dict(data), workers=2).summary()
    assert one["coalitions"] == two["coalitions"] and one["shapley"] == two["shapley"]


def test_the_command_writes_its_files_and_json(tmp_path):
    folder = tmp_path / "board"
    hwbopt.write_folder(hwbopt.instance_from_dict(three()), folder)
    out = tmp_path / "why-pool"
    r = CliRunner().invoke(cli, ["coalitions", str(folder), "--json", "--out", str(out),
                                 "--split", "contributions"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    for key in ("status", "message", "scenario", "objective_kind", "partners", "exact",
                "coalitions", "grand_value", "shapley", "shapley_stderr", "core", "owen",
                "partners_table", "seconds", "kind", "provenance", "labels"):
        assert key in s, key
    assert s["kind"] == "coalitions" and s["exact"] is True and s["shapley_stderr"] is None
    assert set(s["core"]) >= {"empty", "shapley_in_core", "allocation", "method", "epsilon",
                              "blocking"}
    assert len(s["coalitions"]) == 8
    rows = {r["partner"]: r for r in s["partners_table"]}
    assert set(rows["A"]) >= {"partner", "contributed", "shapley", "owen", "benefit",
                              "transfer"}
    assert rows["A"]["contributed"] == approx(100) and rows["C"]["contributed"] == approx(50)
    # in proportion to contributions: 320 · (100, 100, 50) / 250 = (128, 128, 64): C alone is
    # worth 0, B + C 120 < 192: nobody blocks
    assert s["split"]["allocation"] == {"A": approx(128), "B": approx(128), "C": approx(64)}
    assert (out / "coalitions.csv").exists() and (out / "partners.csv").exists()
    assert json.loads((out / "summary.json").read_text())["shapley"] == s["shapley"]


@pytest.mark.parametrize("args, says", [
    (["--split", "fairest"], "--split 'fairest'"),
    (["--split", "A=1,B=2"], "no value for 'C'"),
    (["--split", "A=1,B=2,C=x"], "is not PARTNER=VALUE"),
    (["--split", "A=1,B=2,C=3,E=4"], "unknown partner 'E'"),
    (["--scenario", "nowhere"], "unknown scenario 'nowhere'"),
    (["--samples", "1"], "--samples"),
])
def test_bad_requests_are_refused_before_any_solve(tmp_path, args, says):
    folder = tmp_path / "board"
    hwbopt.write_folder(hwbopt.instance_from_dict(three()), folder)
    r = CliRunner().invoke(cli, ["coalitions", str(folder), *args])
    assert r.exit_code == 2, r.output
    assert says in r.output
    assert "Traceback" not in r.output


def test_a_forced_share_is_kept_inside_a_coalition_and_waived_outside():
    """A must pool exactly half its money (min and max share 0.5) when it is in a coalition;
    outside, its minimum is waived (it pools nothing), so every coalition has a plan.

    Siloed, every pound buys 1: 250. Alone, A's 50 cannot pay the start-up of 60: it lies
    idle in the pool, v(A) = -50. Otherwise a pool of M buys 3 (M - 60) and the money kept
    buys 1 a pound: v(AB) = 3·90 + 50 (A's other half) - 250 = 120, v(AC) = 3·40 + 50 + 100
    (B's own) - 250 = 20, v(BC) = 3·90 + 100 (A's own) - 250 = 120, v(ABC) = 3·140 + 50 -
    250 = 220; v(B) = 20 and v(C) = 0 as before.
    """
    data = three()
    data["pools"][0]["contributors"][0].update(min_share=0.5, max_share=0.5)
    res = coalitions(hwbopt.instance_from_dict(data))
    assert res.status == "optimal"
    assert by_members(res) == {"": approx(0), "A": approx(-50), "B": approx(20),
                               "C": approx(0), "AB": approx(120), "AC": approx(20),
                               "BC": approx(120), "ABC": approx(220)}
    assert sum(res.shapley.values()) == approx(220)


def test_a_board_that_cannot_go_it_alone_says_the_siloed_plan_is_the_cause():
    """A hard target of 400 points: siloed, every pound buys 1 (250 at most), so nobody
    pooling has no plan, and no coalition can be measured against it; pooling all
    (3 (250 - 60) = 570) would meet it."""
    data = three(priorities=None)
    data["priorities"] = [{"id": "health", "measure": "health gained", "unit": "points",
                           "target_type": "hard"}]
    data["targets"] = [{"priority": "health", "year": 2013, "target": 400}]
    res = coalitions(hwbopt.instance_from_dict(data))
    assert res.status == "infeasible"
    assert "nobody pooling" in res.message
