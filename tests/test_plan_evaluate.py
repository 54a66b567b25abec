"""``hwbopt plan --evaluate M``: both plans on fresh futures, and the MRP gap estimate.

Independent routes: replication 0 of the gap estimate is the plan problem over fresh futures
0..n−1, so its bound is what ``hwbopt plan`` finds over those futures (the same set drawn with
the evaluation seed); the hedged plan's value on a replication is the mean of its values on
those futures; the estimate is never negative and its upper limit is above it; the same seed
gives the same test.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

import hwbopt
from hwbopt.plan import plan
from hwbopt.plan.evaluate import batch_plan, evaluation_seed, interval

TUTORIAL = hwbopt.shipped_instance("tutorial")


@pytest.fixture(scope="module")
def evaluated() -> hwbopt.plan.PlanResult:
    inst = hwbopt.load(TUTORIAL)
    return plan(inst, stress_set="cuts_and_pressures", scenarios=6, seed=2, evaluate=40)


def test_out_of_sample_has_the_contract_and_honest_intervals(evaluated) -> None:
    oos = evaluated.summary()["out_of_sample"]
    assert oos is not None and evaluated.status == "optimal"
    assert oos["scenarios"] == 40 and oos["seed"] == evaluation_seed(2) != 2
    for plan_ in ("hedged", "deterministic"):
        ci = oos[plan_]
        assert ci["ci_low"] < ci["mean"] < ci["ci_high"]
    gap = oos["gap_estimate"]
    assert (gap["batches"], gap["batch_size"]) == batch_plan(40, 6) == (10, 4)
    assert 0 <= gap["value"] <= gap["ci_high"]
    reps = gap["replications"]
    assert len(reps) == 10
    # each replication's bound is at least the hedged plan's value on it (maximising)
    assert all(r["bound"] >= r["hedged"] - 1e-6 * abs(r["bound"]) for r in reps)
    assert gap["value"] == pytest.approx(np.mean([max(0.0, r["bound"] - r["hedged"])
                                                  for r in reps]), rel=1e-12, abs=1e-12)


def test_replication_zero_is_the_plan_over_those_fresh_futures(evaluated) -> None:
    inst = hwbopt.load(TUTORIAL)
    gap = evaluated.summary()["out_of_sample"]["gap_estimate"]
    n = gap["batch_size"]
    own = plan(inst, stress_set="cuts_and_pressures", scenarios=n, seed=evaluation_seed(2))
    assert own.status == "optimal"
    assert gap["replications"][0]["bound"] == pytest.approx(own.bound, rel=1e-4)
    assert own.rp >= gap["replications"][0]["hedged"] - 1e-6 * abs(own.rp)


def test_interval_is_the_t_interval() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    ci = interval(values)
    half = 3.182446305284263 * np.std(values, ddof=1) / 2  # t(0.975, 3)
    assert ci == pytest.approx({"mean": 2.5, "ci_low": 2.5 - half, "ci_high": 2.5 + half})


def test_the_same_seed_gives_the_same_test(evaluated) -> None:
    inst = hwbopt.load(TUTORIAL)
    again = plan(inst, stress_set="cuts_and_pressures", scenarios=6, seed=2, evaluate=40)
    assert again.summary()["out_of_sample"] == evaluated.summary()["out_of_sample"]


def test_a_table_set_has_no_fresh_futures() -> None:
    proc = run_cli("plan", TUTORIAL, "--set", "explicit", "--evaluate", "10")
    assert proc.returncode == 2
    assert "stress set 'explicit' is a table of its 3 futures: there are no fresh ones" \
        in proc.stderr
    assert "Traceback" not in proc.stderr


def test_out_of_sample_mean_is_stress_plan_on_the_same_fresh_futures(tmp_path) -> None:
    """The stress engine's route: ``hwbopt stress --plan DIR`` on the fresh futures (the
    evaluation seed, the same count) solves each with the plan's commitments held; its mean
    objective is the out-of-sample mean of the hedged plan (nothing gives on the tutorial)."""
    import json

    from hwbopt.batch.store import read_results

    out = tmp_path / "plan"
    made = run_cli("plan", TUTORIAL, "--set", "cuts_and_pressures", "--scenarios", "6",
                   "--seed", "2", "--evaluate", "24", "--out", out, "--json")
    assert made.returncode == 0, made.stderr
    oos = json.loads(made.stdout)["out_of_sample"]
    run = run_cli("stress", TUTORIAL, "--set", "cuts_and_pressures", "--plan", out,
                  "--seed", str(oos["seed"]), "--scenarios", "24", "--workers", "1",
                  "--out", tmp_path / "run", "--json")
    assert run.returncode == 0, run.stderr
    rows = read_results(tmp_path / "run")
    assert (rows.status == "optimal").all()
    assert rows.objective.mean() == pytest.approx(oos["hedged"]["mean"], rel=1e-7)


def test_a_rule_is_broken_only_beyond_noise_in_its_terms_sizes() -> None:
    """A balance of thousands of pounds with a limit of 0 (a "paid for in full" rule) is not
    broken by solver noise in its last digits: the county's hedged plan once came out 4e-5
    apart in every future and was reported as breaking the rule in all of them. Past a
    millionth of its terms' size it is broken, by exactly that much."""
    from hwbopt.plan.measures import _outside

    lower = upper = np.zeros((1, 2))
    size = np.array([[2000.0, 2000.0]])
    value = np.array([[4e-5, -0.5]])  # noise on the first rule, a real break on the second
    below, above = _outside(value, lower, upper, size)
    assert above[0, 0] == 0.0 and below[0, 0] == 0.0
    assert below[0, 1] == pytest.approx(0.5) and above[0, 1] == 0.0
    # without the terms' sizes the limit alone sets the scale (1e-6 absolute at 0)
    below, above = _outside(value, lower, upper)
    assert above[0, 0] == pytest.approx(4e-5)


def test_the_terminal_shows_the_fresh_futures_as_the_json_has_them(evaluated) -> None:
    """``hwbopt plan --evaluate M`` prints both plans' means and intervals and the gap
    estimate, the JSON's numbers, within 80 columns; a plan not evaluated prints none."""
    from rich.console import Console

    from hwbopt.report.plan_text import print_plan

    inst = hwbopt.load(TUTORIAL)
    console = Console(width=80, record=True, color_system=None)
    print_plan(evaluated, inst, "auto", console)
    text = console.export_text()
    oos = evaluated.summary()["out_of_sample"]
    assert f"Tested on 40 fresh futures (seed {oos['seed']})" in text
    for key in ("hedged", "deterministic"):
        est = oos[key]
        assert f"{est['mean']:,.2f}" in text
        assert f"{est['ci_low']:,.2f} to {est['ci_high']:,.2f}" in text
    assert f"at most {oos['gap_estimate']['ci_high']:,.2f}" in text
    assert max(map(len, text.splitlines())) <= 80
    plain = plan(inst, stress_set="cuts_and_pressures", scenarios=6, seed=2)
    console = Console(width=80, record=True, color_system=None)
    print_plan(plain, inst, "auto", console)
    assert "fresh futures" not in console.export_text()
