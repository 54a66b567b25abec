"""`hwbopt stress`: the compile-once engine against fresh builds, reproducibility, resume, Dask.

The engine changes a compiled model in place; these tests hold it to what a fresh build of each
scenario's instance gives — array by array, and objective by objective through the normal solve
path with its independent checker — and check that results never depend on workers, block
sizes, interruptions or a worker dying.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_instance, run_cli, run_cli_here
from randinst import random_instance

import hwbopt
from hwbopt import highs
from hwbopt.batch.engine import Engine
from hwbopt.batch.inputs import StressError
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw, neighbour_order
from hwbopt.batch.setup import pattern_key, prepare
from hwbopt.batch.store import read_results
from hwbopt.check import check_solution
from hwbopt.errors import UsageError
from hwbopt.pipeline import build
from hwbopt.results import build_tables
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change, StressSet

TIMING = ["solve_seconds", "certify_seconds"]


def with_stress(inst: hwbopt.Instance, spec: dict) -> hwbopt.Instance:
    return inst.model_copy(update={"stress": (StressSet.model_validate(spec),)})


def scenario_instance(inst: hwbopt.Instance, stress: StressSet, row: np.ndarray):
    """A scenario's own instance, through the scenario machinery (the normal path)."""
    changes = [Change(path=p, **{spec.op: float(v)})
               for spec, v in zip(stress.inputs, row, strict=True) for p in spec.targets]
    return apply_changes(inst, changes, "stress", references=False)


EVERY_FIELD = {
    "id": "everything", "samples": 6, "seed": 3, "inputs": [
        {"path": "budgets[county].baseline", "op": "scale", "dist": "uniform",
         "low": 0.9, "high": 1.1},
        {"path": "partners[county].cut.total", "dist": "uniform", "low": 0.2, "high": 0.4},
        {"path": "partners[ccg].savings_rate", "dist": "uniform", "low": 0.03, "high": 0.06},
        {"path": "partners[voluntary].cut_by_year[2013]", "dist": "uniform", "low": 0.05,
         "high": 0.2},
        {"path": "pools[integrated_care].contributors[ccg].max_share", "dist": "uniform",
         "low": 0.4, "high": 0.7},
        {"path": "pools[integrated_care].contributors[districts].min_share",
         "dist": "uniform", "low": 0.2, "high": 0.3},
        {"path": "activity[reablement].need", "op": "scale", "dist": "uniform", "low": 0.95,
         "high": 1.2},
        {"path": "activity[discharge_hub,kingsbridge].need", "op": "scale", "dist": "uniform",
         "low": 0.9, "high": 1.3},
        {"path": "interventions[telecare].need_growth", "op": "add", "dist": "uniform",
         "low": 0.0, "high": 0.05},
        {"path": "interventions[*].unit_cost", "op": "scale", "dist": "uniform", "low": 0.95,
         "high": 1.1},
        {"path": "interventions[iapt].cost_growth", "dist": "uniform", "low": 0.0,
         "high": 0.05},
        {"path": "staff[*].fte", "op": "scale", "dist": "uniform", "low": 0.85, "high": 1.05},
        {"path": "staff[county,*,2012].recruit_limit", "op": "scale", "dist": "uniform",
         "low": 0.0, "high": 2.0},
        {"path": "sites[sm_area_office].available", "dist": "discrete", "values": [0, 1]},
        {"path": "targets[mental_health,2014].target", "dist": "uniform", "low": 3000,
         "high": 3600},
    ]}


def engine_lp(prep, values: np.ndarray, n: int):
    """The engine's model for scenario ``n`` of ``values``, as HiGHS holds it when it solves
    (the bounds go in just before: ``Engine._to_highs``)."""
    from hwbopt.batch.params import apply_inputs
    from hwbopt.batch.params import evaluate as evaluate_maps
    from hwbopt.derived import add_need_share, derive

    spec = prep.spec
    eng = Engine(spec)
    derived = derive(apply_inputs(spec.fields, spec.targets, values), spec.layout)
    add_need_share(derived.values, spec.layout)
    assert derived.invalid[n] is None, derived.invalid[n]
    assert eng._load(evaluate_maps(spec.prepared, derived.values), n) is None
    eng._to_highs()
    return eng.h.getLp()


MONEY = {"id": "money", "samples": 12, "seed": 5, "inputs": [
    {"path": "partners[county].cut.total", "dist": "uniform", "low": 0.22, "high": 0.40},
    {"path": "partners[ccg].savings_rate", "dist": "uniform", "low": 0.03, "high": 0.06}]}


@pytest.mark.parametrize("spec", [MONEY, EVERY_FIELD], ids=["money", "every-field"])
def test_a_blocks_derived_numbers_are_each_scenarios_own_bit_for_bit(spec):
    """A block's numbers are derived at once (with the powers and sums taken once where
    every scenario has the same need and rates): each scenario's, bit for bit, as if it were
    derived alone."""
    from hwbopt.batch.params import apply_inputs
    from hwbopt.derived import derive_block

    inst = with_stress(hwbopt.load(hwbopt.shipped_instance("county")), spec)
    prep = prepare(inst, inst.stress[-1], 0, seed=spec["seed"])
    values = draw(inst.stress[-1], np.arange(spec["samples"]))
    sp = prep.spec

    def derived(rows):
        return derive_block(apply_inputs(sp.fields, sp.targets, rows), sp.layout,
                            need_share=True)

    block = derived(values)
    for k in range(len(values)):
        alone = derived(values[k:k + 1])
        assert alone.invalid[0] == block.invalid[k]
        for key, v in alone.values.items():
            assert np.array_equal(v[0], block.values[key][k]), key


@pytest.mark.parametrize("name", ["county", "tutorial"])
def test_engine_arrays_equal_a_fresh_build_of_each_scenario(name):
    inst = hwbopt.load(hwbopt.shipped_instance(name))
    spec = dict(EVERY_FIELD)
    if name == "tutorial":
        spec = {"id": "everything", "samples": 6, "seed": 3, "inputs": [
            {"path": "budgets[council].baseline", "op": "scale", "dist": "uniform",
             "low": 0.9, "high": 1.1},
            {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.2, "high": 0.4},
            {"path": "partners[nhs].savings_rate", "dist": "uniform", "low": 0.03, "high": 0.06},
            {"path": "activity[*].need", "op": "scale", "dist": "uniform", "low": 0.95,
             "high": 1.2},
            {"path": "interventions[*].cost_growth", "op": "add", "dist": "uniform", "low": 0,
             "high": 0.05},
            {"path": "staff[*].fte", "op": "scale", "dist": "uniform", "low": 0.8, "high": 1.0},
            {"path": "sites[old_mill].available", "dist": "discrete", "values": [0, 1]},
            {"path": "targets[obesity].target", "dist": "uniform", "low": 200, "high": 300},
        ]}
    inst = with_stress(inst, spec)
    stress = inst.stress[0]
    # the full MIP, so the engine's arrays are the model's own (no plan fixed into them)
    prep = prepare(inst, stress, 0, seed=stress.seed, mip=True)
    values = draw(stress, np.arange(stress.size))
    for n in range(stress.size):
        lp = engine_lp(prep, values, n)
        fresh = build(scenario_instance(inst, stress, values[n])).compiled
        assert pattern_key(fresh) == pattern_key(prep.built.compiled)
        for ours, theirs in ((lp.col_cost_, fresh.c), (lp.col_lower_, fresh.col_lower),
                             (lp.col_upper_, fresh.col_upper), (lp.row_lower_, fresh.row_lower),
                             (lp.row_upper_, fresh.row_upper),
                             (lp.a_matrix_.value_, fresh.A.data)):
            np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-12, atol=1e-9)


def test_batch_objective_equals_the_normal_path_lp(tmp_path):
    """A pure LP: every batch objective equals hwbopt.solve of the scenario's instance, which
    the independent checker certifies."""
    inst = hwbopt.instance_from_dict(random_instance(11, n_partners=3, n_interventions=5,
                                                     n_years=3, pool=True))
    ids = [i.id for i in inst.interventions]
    inst = with_stress(inst, {"id": "s", "samples": 40, "seed": 5, "inputs": [
        {"path": f"budgets[{inst.partners[0].id}].baseline", "op": "scale", "dist": "uniform",
         "low": 0.7, "high": 1.1},
        {"path": "activity[*].need", "op": "scale", "dist": "triangular", "low": 0.8,
         "mode": 1.0, "high": 1.3},
        {"path": f"interventions[{ids[0]}].unit_cost", "op": "scale", "dist": "normal",
         "mean": 1.0, "sd": 0.1, "low": 0.8, "high": 1.3},
    ]})
    assert not build(inst).compiled.integer.any()
    run_stress(inst, out=tmp_path / "run", workers=1)
    results = read_results(tmp_path / "run")
    stress = inst.stress[0]
    values = draw(stress, np.arange(stress.size))
    assert len(results) == stress.size
    for row in results.iloc[::4].itertuples():
        scen = scenario_instance(inst, stress, values[row.scenario])
        want = hwbopt.solve(scen)
        assert want.status == row.status
        if want.status == "optimal":
            assert want.checked
            assert row.objective == pytest.approx(want.objective, rel=1e-7)


def test_batch_objective_equals_the_normal_path_with_the_plan_fixed(tmp_path):
    """County (a MIP): each scenario's batch objective equals a fresh build of its instance
    with the plan's integer decisions fixed, whose plan passes the independent checker."""
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    stress = inst.stress[0]
    run_stress(inst, scenarios=24, out=tmp_path / "run", workers=1)
    results = read_results(tmp_path / "run")
    base = hwbopt.solve(inst)
    values = draw(stress, np.arange(24))
    checked = 0
    for row in results.iloc[::3].itertuples():
        scen = scenario_instance(inst, stress, values[row.scenario])
        b = build(scen)
        comp = b.compiled
        lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
        plan = np.round(base.solution[comp.integer])
        lo[comp.integer] = np.maximum(lo[comp.integer], plan)
        hi[comp.integer] = np.minimum(hi[comp.integer], plan)
        if (lo > hi).any():
            # the plan cannot hold: re-solved with its decisions free (tests/
            # test_stress_certified.py compares such scenarios with their own optimum)
            assert row.status == "plan_infeasible" and row.changed.size
            continue
        from hwbopt.compile import with_bounds

        fixed = with_bounds(comp, col_lower=lo, col_upper=hi)
        raw = highs.solve_compiled(fixed)
        if raw.status == "infeasible":
            assert row.status in ("plan_infeasible", "infeasible")
            continue
        assert raw.status == row.status, (row.scenario, raw.status, row.status)
        if raw.status == "optimal":
            assert row.objective == pytest.approx(raw.objective, rel=1e-7)
            tables = build_tables(b.data, fixed, raw.x)
            assert check_solution(scen, tables, "outcome", raw.objective) == []
            checked += 1
    assert checked >= 5


def test_mip_mode_equals_the_normal_path(tmp_path):
    """--mip: each scenario's whole MIP, proven optimal (gap 0), equals hwbopt.solve of its
    instance (also gap 0, and checked)."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    inst = inst.model_copy(update={"settings": inst.settings.model_copy(
        update={"mip_gap": 0.0})})
    inst = with_stress(inst, {"id": "s", "samples": 24, "seed": 2, "inputs": [
        {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.1, "high": 0.4},
        {"path": "interventions[befriending].unit_cost", "op": "scale", "dist": "uniform",
         "low": 0.2, "high": 1.0},
    ]})
    run_stress(inst, out=tmp_path / "run", workers=1, mip=True)
    results = read_results(tmp_path / "run")
    stress = inst.stress[0]
    values = draw(stress, np.arange(24))
    for row in results.iloc[::3].itertuples():
        want = hwbopt.solve(scenario_instance(inst, stress, values[row.scenario]), mip_gap=0)
        assert want.status == row.status == "optimal" and want.checked
        assert row.objective == pytest.approx(want.objective, rel=1e-7)


def test_the_cold_check_share_is_the_users_and_every_check_agrees(tmp_path):
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    counts = {}
    for rate in (0.0, 1.0):
        s = run_stress(inst, set_name="cuts_and_pressures", scenarios=64, seed=5,
                       out=tmp_path / str(rate), workers=1, cold_check=rate)
        r = read_results(tmp_path / str(rate))
        counts[rate] = int(r.cold_checked.sum())
        assert s["cold_checked"] == counts[rate] and s["cold_mismatches"] == 0
        assert json.loads((tmp_path / str(rate) / "run.json").read_text())["cold_check"] == rate
    warm_optimal = int(((r.status == "optimal") & r.warm.astype(bool)).sum())
    assert counts == {0.0: 0, 1.0: warm_optimal} and warm_optimal > 0
    with pytest.raises(UsageError, match="--cold-check"):
        run_stress(inst, set_name="cuts_and_pressures", scenarios=8, out=tmp_path / "bad",
                   cold_check=1.5)


def _older_run(tmp_path, drop, **meta_update):
    """A finished 64-scenario run whose record is edited as an earlier hwbopt wrote it
    (``drop``: a key it did not record yet) and whose last part is gone: (instance, out,
    parts left)."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    out = tmp_path / "old"
    run_stress(inst, set_name="cuts_and_pressures", scenarios=64, out=out, workers=1,
               block_size=32)
    meta = json.loads((out / "run.json").read_text())
    del meta[drop]
    meta.update(meta_update)
    (out / "run.json").write_text(json.dumps(meta))
    parts = sorted((out / "scenarios").glob("*.parquet"))
    parts[-1].unlink()
    return inst, out, len(parts) - 1


def test_a_run_from_before_cold_check_was_recorded_still_resumes(tmp_path):
    inst, out, _ = _older_run(tmp_path, "cold_check")  # before the option existed
    s = run_stress(inst, set_name="cuts_and_pressures", scenarios=64, out=out, workers=1,
                   block_size=32, resume=True)
    assert s["solved_this_run"] == 32 and s["finished"] == 64


def test_a_run_of_an_earlier_engine_is_refused_by_name_not_mixed(tmp_path):
    """A run written before the Hilbert order and the anchors (no "engine" in its record)
    has other chains: --resume says so and writes nothing, rather than mixing its parts;
    through the CLI, exit 2 and no traceback."""
    inst, out, left = _older_run(tmp_path, "engine", hwbopt="0.0.9")
    with pytest.raises(UsageError, match=r"another hwbopt \(version 0\.0\.9\).*orders"):
        run_stress(inst, set_name="cuts_and_pressures", scenarios=64, out=out, workers=1,
                   block_size=32, resume=True)
    result = subprocess.run(
        [sys.executable, "-m", "hwbopt.cli", "stress", str(hwbopt.shipped_instance("tutorial")),
         "--resume", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "another hwbopt (version 0.0.9)" in result.stderr and str(out) in result.stderr
    assert len(list((out / "scenarios").glob("*.parquet"))) == left


def test_same_results_on_one_worker_or_two_and_any_block_size(tmp_path):
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    run_stress(inst, set_name="cuts_and_pressures", scenarios=320, out=tmp_path / "one",
               workers=1, block_size=32)
    run_stress(inst, set_name="cuts_and_pressures", scenarios=320, out=tmp_path / "two",
               workers=2, block_size=128)
    a, b = read_results(tmp_path / "one"), read_results(tmp_path / "two")
    assert len(a) == len(b) == 320
    assert a.scenario.tolist() == list(range(320))
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING))
    assert len(list((tmp_path / "one" / "scenarios").glob("*.parquet"))) == 10
    assert len(list((tmp_path / "two" / "scenarios").glob("*.parquet"))) == 3


def test_an_existing_dask_cluster_by_address(tmp_path):
    import distributed

    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = run_stress(inst, set_name="cuts_and_pressures", scenarios=96,
                             out=tmp_path / "remote", scheduler=cluster.scheduler_address)
    assert summary["finished"] == 96 and summary["scheduler"] == cluster.scheduler_address
    run_stress(inst, set_name="cuts_and_pressures", scenarios=96, out=tmp_path / "local",
               workers=1)
    pd.testing.assert_frame_equal(read_results(tmp_path / "remote").drop(columns=TIMING),
                                  read_results(tmp_path / "local").drop(columns=TIMING))
    proc = run_cli("stress", hwbopt.shipped_instance("tutorial"), "--set",
                   "cuts_and_pressures", "--scheduler", "tcp://127.0.0.1:9", "--out",
                   tmp_path / "nowhere")
    assert proc.returncode == 2 and "cannot reach a Dask scheduler" in proc.stderr


def test_a_worker_that_dies_loses_nothing(tmp_path):
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    marker = tmp_path / "died"
    summary = run_stress(inst, set_name="cuts_and_pressures", scenarios=256,
                         out=tmp_path / "run", workers=2, block_size=32,
                         die_on={"scenario": 100, "marker": str(marker)})
    assert marker.exists(), "a worker should have died"
    results = read_results(tmp_path / "run")
    assert sorted(results.scenario) == list(range(256))  # each exactly once
    assert summary["finished"] == 256
    clean = tmp_path / "clean"
    run_stress(inst, set_name="cuts_and_pressures", scenarios=256, out=clean, workers=1)
    pd.testing.assert_frame_equal(results.drop(columns=TIMING),
                                  read_results(clean).drop(columns=TIMING))


# a stress batch run as ``hwbopt stress`` runs it, in a process of its own that the engine's
# test hook ends abruptly (os._exit: no clean-up, like a kill) when it reaches one scenario;
# with one worker the blocks are solved in this very process, one after another
DIE_ON_SCENARIO = """
import sys
import hwbopt
from hwbopt.batch.run import run_stress
folder, out, scenarios, scenario, marker = sys.argv[1:]
run_stress(hwbopt.load(folder), set_name="cuts_and_pressures", scenarios=int(scenarios),
           workers=1, block_size=32, cold_check=0.01, out=out,
           die_on={"scenario": int(scenario), "marker": marker})
"""


def test_a_killed_run_resumed_equals_an_uninterrupted_one(tmp_path):
    """A batch killed mid-run, at a point chosen rather than timed: the process dies on
    reaching the first scenario of a clean run's fourth block (one worker and the same block
    size solve the blocks in the same order), so exactly three blocks are on disk; a write cut
    short is left beside them, as a kill mid-write would leave it. ``--resume``, with other
    blocks, then finishes it to exactly the clean run's results: none lost, none twice."""
    # the tutorial: a county batch re-solves the few scenarios whose plan cannot hold as
    # whole MIPs (seconds each), which this test does not need
    folder = hwbopt.shipped_instance("tutorial")
    n, killed_at = 192, 3  # six blocks of 32; three done when it dies
    run = ["stress", folder, "--set", "cuts_and_pressures", "--scenarios", str(n), "--workers",
           "1", "--cold-check", "0.01", "--quiet", "--json"]
    whole = tmp_path / "whole"
    ok = run_cli(*run, "--block-size", "32", "--out", whole)
    assert ok.returncode == 0, ok.stderr
    blocks = sorted(p.name for p in (whole / "scenarios").glob("part-*.parquet"))
    assert len(blocks) == 6, blocks  # in the order one worker solved them
    first_done = pd.concat([pd.read_parquet(whole / "scenarios" / b, columns=["scenario"])
                            for b in blocks[:killed_at]]).scenario
    dies_on = int(pd.read_parquet(whole / "scenarios" / blocks[killed_at],
                                  columns=["scenario"]).scenario.iloc[0])

    out = tmp_path / "killed"
    marker = tmp_path / "died"
    proc = subprocess.Popen([sys.executable, "-c", DIE_ON_SCENARIO, str(folder), str(out),
                             str(n), str(dies_on), str(marker)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=600)  # a guard only: the run ends on its own
    assert proc.returncode == 1, err
    assert marker.read_text() == str(proc.pid), "the batch's own process should have died"
    parts = out / "scenarios"
    assert sorted(p.name for p in parts.glob("part-*.parquet")) == blocks[:killed_at]
    assert sorted(read_results(out).scenario) == sorted(first_done)
    # a kill mid-write leaves a hidden temporary part (write_part renames only when complete)
    cut_short = (whole / "scenarios" / blocks[killed_at]).read_bytes()
    (parts / f".{blocks[killed_at].removesuffix('.parquet')}.cut").write_bytes(
        cut_short[:len(cut_short) // 2])

    # --resume with none of the run's options: the set, scenario count, seed and cold-check
    # share come from its run.json (the killed run gave them through the Python API)
    resumed = run_cli("stress", folder, "--resume", "--out", out, "--block-size", "96",
                      "--quiet", "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["finished"] == n and summary["solved_this_run"] == n - len(first_done)
    assert summary["stress_set"] == "cuts_and_pressures" and summary["scenarios"] == n
    assert not list(parts.glob(".*")), "the write cut short should be cleared"
    pd.testing.assert_frame_equal(read_results(out).drop(columns=TIMING),
                                  read_results(whole).drop(columns=TIMING))
    # the same options typed again agree with the record: nothing left to solve, same answer
    again = run_cli(*run, "--block-size", "96", "--out", out, "--resume")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["solved_this_run"] == 0
    pd.testing.assert_frame_equal(read_results(out).drop(columns=TIMING),
                                  read_results(whole).drop(columns=TIMING))


def test_infeasible_and_invalid_scenarios_are_recorded_not_fatal(tmp_path):
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    inst = with_stress(inst, {"id": "hard", "samples": 64, "seed": 1, "inputs": [
        {"path": "targets[mental_health].target", "dist": "uniform", "low": 100, "high": 400},
        {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.2, "high": 0.99},
        {"path": "partners[council].savings_rate", "dist": "uniform", "low": 0.0, "high": 0.5},
    ]})
    summary = run_stress(inst, out=tmp_path / "run", workers=1)
    results = read_results(tmp_path / "run")
    assert len(results) == 64
    assert summary["infeasible"] > 0 and summary["failed"] > 0 and summary["solved"] > 0
    assert summary["solved"] + summary["infeasible"] + summary["failed"] == 64
    failed = results[results.status == "failed"]
    assert failed.reason.str.contains("cut plus savings of 100% or more").all()
    cut = failed["input.partners_council_cut_total"]
    rate = failed["input.partners_council_savings_rate"]
    assert (cut + 1 - (1 - rate) ** 2 >= 1).all()
    assert (results[results.status == "infeasible"].reason != "").all()
    # more mental health than every service at its need can give (about 250): never met
    beyond = results[(results["input.targets_mental_health_target"] > 300)
                     & (results.status != "failed")]
    assert len(beyond) and (beyond.status == "infeasible").all()


def test_inputs_the_engine_cannot_vary_are_rejected_with_their_place(tmp_path):
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    bad = with_stress(inst, {"id": "x", "samples": 5, "inputs": [
        {"path": "priorities[obesity].weight", "dist": "uniform", "low": 1, "high": 2}]})
    with pytest.raises(StressError, match="cannot be varied by the batch engine"):
        run_stress(bad, out=tmp_path / "a", workers=1)
    zero = with_stress(inst, {"id": "x", "samples": 5, "inputs": [
        {"path": "partners[nhs].savings_rate", "dist": "uniform", "low": 0.0, "high": 0.1}]})
    with pytest.raises(StressError, match="changes its structure") as err:
        run_stress(zero, out=tmp_path / "b", workers=1)
    assert err.value.problems[0].field == "stress[0].inputs[0]"
    # a draw may not push a figure where the solver cannot take it safely (the range check
    # of validation, applied at the input's extremes)
    huge = with_stress(inst, {"id": "x", "samples": 5, "inputs": [
        {"path": "interventions[reablement].unit_cost", "op": "scale", "dist": "uniform",
         "low": 1, "high": 1e12}]})
    with pytest.raises(StressError, match="too large for the solver") as err:
        run_stress(huge, out=tmp_path / "c", workers=1)
    assert err.value.problems[0].field == "stress[0].inputs[0]"
    assert "interventions.csv" in err.value.problems[0].message


def _write_stress(folder: Path, stress: list[dict]) -> None:
    data = yaml.safe_load((folder / "instance.yaml").read_text())
    data["stress"] = stress
    data["settings"].pop("stress_set", None)  # it names a set these replace
    (folder / "instance.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_cli_stress_json_contract_and_refusals(tmp_path):
    folder = hwbopt.shipped_instance("tutorial")
    out = tmp_path / "run"
    proc = run_cli("stress", folder, "--set", "cuts_and_pressures", "--scenarios", "64",
                   "--seed", "3", "--workers", "1", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    for key in ("scenarios", "solved", "infeasible", "failed", "seconds",
                "scenarios_per_second", "out", "objective_percentiles", "target_probability"):
        assert key in s, key
    assert s["scenarios"] == 64 and set(s["objective_percentiles"]) >= {"p5", "p50", "p95"}
    assert set(s["target_probability"]) == {"older_people", "mental_health", "obesity"}
    assert json.loads((out / "summary.json").read_text())["scenarios"] == 64
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 3 and meta["stress_set"] == "cuts_and_pressures"
    assert len(meta["instance_hash"]) == 64
    # the same folder again: refused; resumed with other inputs: refused (the refusals in this
    # process, through click's runner: the same command and exit code, no interpreter's start)
    again = run_cli_here("stress", folder, "--set", "cuts_and_pressures", "--scenarios", "64",
                         "--workers", "1", "--out", out)
    assert again.returncode == 2 and "--resume" in again.stderr
    other = run_cli_here("stress", folder, "--set", "cuts_and_pressures", "--scenarios", "64",
                         "--seed", "4", "--workers", "1", "--out", out, "--resume")
    assert other.returncode == 2 and "seed" in other.stderr
    other = run_cli_here("stress", folder, "--set", "cuts_and_pressures", "--scenarios", "64",
                         "--seed", "3", "--workers", "1", "--out", out, "--resume",
                         "--cold-check", "0.5")
    assert other.returncode == 2 and "cold_check" in other.stderr
    bad = run_cli_here("stress", folder, "--set", "cuts_and_pressures", "--cold-check", "2",
                       "--out", tmp_path / "w")
    assert bad.returncode == 2 and "--cold-check" in bad.stderr
    # several sets, none chosen and no settings.stress_set; an unknown set
    plain = copy_instance("tutorial", tmp_path)
    text = (plain / "instance.yaml").read_text(encoding="utf-8")
    (plain / "instance.yaml").write_text(
        text.replace("  stress_set: cuts_and_pressures", "  # no default set"), encoding="utf-8")
    proc = run_cli_here("stress", plain, "--workers", "1", "--out", tmp_path / "x")
    assert proc.returncode == 2 and "choose one with --set (cuts_and_pressures, explicit)" \
        in proc.stderr, proc.stderr
    proc = run_cli_here("stress", folder, "--set", "nope", "--out", tmp_path / "y")
    assert proc.returncode == 2 and "unknown stress set 'nope'" in proc.stderr
    text = run_cli("stress", folder, "--set", "explicit", "--workers", "1", "--out",
                   tmp_path / "z")
    assert text.returncode == 0, text.stderr
    assert "Probability of meeting every year's target" in text.stdout


def test_cli_bad_stress_sets_exit_2_with_their_place(tmp_path):
    folder = copy_instance("tutorial", tmp_path)
    _write_stress(folder, [{"id": "x", "samples": 5, "inputs": [
        {"path": "partners[nobody].cut.total", "dist": "uniform", "low": 0.1, "high": 0.2}]}])
    proc = run_cli("stress", folder, "--workers", "1", "--out", tmp_path / "o")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "stress[0].inputs[0].path" in proc.stderr and "nobody" in proc.stderr
    _write_stress(folder, [{"id": "x", "samples": 5, "inputs": [
        {"path": "priorities[obesity].weight", "dist": "uniform", "low": 1, "high": 2}]}])
    proc = run_cli("stress", folder, "--workers", "1", "--out", tmp_path / "p")
    assert proc.returncode == 2 and "cannot be varied" in proc.stderr
    _write_stress(folder, [{"id": "x", "samples": 5, "inputs": [
        {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.3, "high": 0.2}]}])
    proc = run_cli("validate", folder)
    assert proc.returncode == 2 and "stress[0].inputs[0]" in proc.stderr
    assert "low 0.3 must be below high 0.2" in proc.stderr
    _write_stress(folder, [{"id": "x", "table": "rows.csv", "inputs": [
        {"name": "cut", "path": "partners[council].cut.total"}]}])
    (folder / "rows.csv").write_text("cut\n0.3\nNA\n")
    proc = run_cli("validate", folder)
    assert proc.returncode == 2 and "rows.csv, line 3, field 'cut'" in proc.stderr


def test_sampling_is_per_scenario_and_ordering_is_a_permutation():
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    stress = inst.stress[0]
    every = draw(stress, np.arange(200))
    some = draw(stress, np.array([150, 3, 77]))
    np.testing.assert_array_equal(some, every[[150, 3, 77]])
    for k, spec in enumerate(stress.inputs):
        if spec.dist in ("uniform", "triangular") or (spec.dist == "normal" and spec.low):
            assert every[:, k].min() >= spec.low and every[:, k].max() <= spec.high
    order = neighbour_order(every)
    assert sorted(order) == list(range(200))
    np.testing.assert_array_equal(order, neighbour_order(every))
    # neighbours are closer than random pairs
    scaled = (every - every.min(0)) / np.where(np.ptp(every, 0) > 0, np.ptp(every, 0), 1)
    near = np.linalg.norm(np.diff(scaled[order], axis=0), axis=1).mean()
    far = np.linalg.norm(np.diff(scaled, axis=0), axis=1).mean()
    assert near < far


@pytest.mark.parametrize(("dims", "bits"), [(1, 4), (2, 1), (2, 5), (3, 3), (4, 2), (6, 2)])
def test_the_neighbour_order_visits_the_grid_along_a_hilbert_curve(dims: int, bits: int):
    """Every cell once, and each next to the one before (a face shared: one coordinate one
    step apart), which a Z-order curve is not."""
    import itertools

    from hwbopt.batch.sample import hilbert_key

    cells = np.array(list(itertools.product(range(1 << bits), repeat=dims)))
    key = hilbert_key(cells, bits)
    assert sorted(key.tolist()) == list(range(len(cells)))
    walk = cells[np.argsort(key)]
    assert (np.abs(np.diff(walk, axis=0)).sum(axis=1) == 1).all()
    # through neighbour_order: points at the cells' centres come out in the same order
    centres = (cells + 0.5) / (1 << bits)
    np.testing.assert_array_equal(neighbour_order(centres, bits=bits), np.argsort(key))


def test_export_writes_named_models_that_highs_solves(tmp_path):
    import highspy

    folder = hwbopt.shipped_instance("county")
    want = hwbopt.solve(hwbopt.load(folder)).objective
    for suffix, row in ((".mps", "budget[county,2013]"), (".lp", "budget(county,2013)")):
        out = tmp_path / f"model{suffix}"
        proc = run_cli("export", folder, "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert row in out.read_text()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.readModel(str(out))
        h.run()
        assert h.getInfo().objective_function_value == pytest.approx(want, rel=1e-6)
    again = run_cli("export", folder, "--out", tmp_path / "model.mps")
    assert again.returncode == 2 and "--force" in again.stderr
    bad = run_cli("export", folder, "--out", tmp_path / "model.txt")
    assert bad.returncode == 2 and ".mps or .lp" in bad.stderr
    assert os.path.getsize(tmp_path / "model.mps") > 0


def test_blocks_are_whole_chains_and_spread_a_small_batch():
    from hwbopt.batch.engine import CHAIN
    from hwbopt.batch.run import DEFAULT_BLOCK, auto_block, plan_blocks

    assert auto_block(48, 2) == CHAIN  # two chains: one for each worker
    assert auto_block(10_000, 2) == DEFAULT_BLOCK
    assert auto_block(1_000, 2) % CHAIN == 0 and 1_000 / auto_block(1_000, 2) >= 7
    values = np.random.default_rng(0).random((300, 3))
    blocks, chains = plan_blocks(values, set(), 64)
    assert chains == 10 and [b.size for b in blocks] == [64, 64, 64, 64, 44]
    done = set(np.concatenate(blocks[0].chains).tolist())
    again, _ = plan_blocks(values, done, 96)  # resumed with another block size
    assert sum(b.size for b in again) == 300 - len(done)
    assert not done & set(np.concatenate([c for b in again for c in b.chains]).tolist())


def test_resume_takes_the_runs_options_and_refuses_contradictions_naming_them(tmp_path):
    """``--resume --out DIR`` reads what makes the run from ``DIR/run.json``; an option typed
    with another value is refused (exit 2) naming the option and the run's value, before any
    work, and the run is left as it was."""
    from click.testing import CliRunner

    from hwbopt.cli import cli

    def stress(*args: str | Path):  # in this process: a refusal takes a moment
        return CliRunner().invoke(cli, ["stress", str(folder), *map(str, args)])

    folder = hwbopt.shipped_instance("tutorial")
    out = tmp_path / "run"
    first = stress("--set", "explicit", "--scenarios", "2", "--seed", "5", "--cold-check",
                   "0.5", "--time-limit", "30", "--workers", "1", "--out", out, "--json")
    assert first.exit_code == 0, first.output
    record = (out / "run.json").read_bytes()
    cases = [
        (["--set", "cuts_and_pressures"], "--set cuts_and_pressures", "with --set explicit"),
        (["--scenarios", "3"], "--scenarios 3", "with --scenarios 2"),
        (["--seed", "6"], "--seed 6", "with --seed 5"),
        (["--cold-check", "0.01"], "--cold-check 0.01", "with --cold-check 0.5"),
        (["--time-limit", "20"], "--time-limit 20", "with --time-limit 30"),
        (["--objective", "cost"], "--objective cost", "without --objective"),
        (["--mip"], "--mip contradicts", "without --mip"),
        (["--hold-first-year"], "--hold-first-year contradicts", "without --hold-first-year"),
    ]
    for args, given, recorded in cases:
        proc = stress("--resume", "--out", out, *args)
        assert proc.exit_code == 2, (args, proc.output)
        assert proc.stderr.startswith(f"error: --resume: {given}"), proc.stderr
        assert recorded in proc.stderr and str(out / "run.json") in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert (out / "run.json").read_bytes() == record
    # options that agree with the record, and none at all, finish (here: re-sum) the run
    for args in (["--set", "explicit", "--seed", "5", "--cold-check", "0.5"], []):
        proc = stress("--resume", "--out", out, "--json", *args)
        assert proc.exit_code == 0, proc.output
        s = json.loads(proc.stdout)
        assert (s["stress_set"], s["scenarios"], s["seed"]) == ("explicit", 2, 5)
        assert s["finished"] == 2 and s["solved_this_run"] == 0


def test_resume_settings_reads_the_record_and_finds_the_saved_plan(tmp_path):
    from hwbopt.batch.run import resume_settings

    nothing = {"set_name": None, "scenarios": None, "seed": None, "objective": None,
               "mip": None, "hold_first_year": None, "time_limit": None, "cold_check": None,
               "plan": None}
    # no record: nothing to read (open_run decides whether there is a run to finish)
    assert resume_settings(tmp_path / "none", nothing) == nothing
    plan = tmp_path / "plans" / "hedged"
    plan.mkdir(parents=True)
    (plan / "summary.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    meta = {"instance_hash": "0" * 64, "stress_set": "cuts_and_pressures", "scenarios": 64,
            "seed": 7, "chain": 32, "mip": False, "hold_first_year": True, "objective": None,
            "time_limit": None, "plan": {"path": str(plan), "sha256": "1" * 64}}
    (out / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    got = resume_settings(out, nothing)
    assert got == {"set_name": "cuts_and_pressures", "scenarios": 64, "seed": 7,
                   "objective": None, "mip": False, "hold_first_year": True,
                   "time_limit": None, "cold_check": 0.01, "plan": plan}
    # a run from before cold_check was recorded takes the default it ran with
    assert resume_settings(out, {**nothing, "cold_check": 0.01})["cold_check"] == 0.01
    with pytest.raises(UsageError, match=r"--cold-check 0.02 contradicts .* with "
                                         r"--cold-check 0.01"):
        resume_settings(out, {**nothing, "cold_check": 0.02})
    # a plan given on the command line is the user's (open_run compares its hash)
    assert resume_settings(out, {**nothing, "plan": "elsewhere"})["plan"] == "elsewhere"
    (plan / "summary.json").unlink()
    with pytest.raises(UsageError, match=r"tests the plan saved in .*hedged .* give --plan DIR"):
        resume_settings(out, nothing)


def test_the_default_stress_set_is_the_one_settings_names(tmp_path):
    """Without --set: settings.stress_set (the tutorial names cuts_and_pressures, one of two),
    the only set of an instance with one, and a named set that does not exist is refused by
    validation with its field."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    assert inst.settings.stress_set == "cuts_and_pressures" and len(inst.stress) == 2
    summary = run_stress(inst, scenarios=32, out=tmp_path / "default", workers=1)
    assert summary["stress_set"] == "cuts_and_pressures" and summary["seed"] == 7
    from hwbopt.batch.setup import pick_stress_set

    only = inst.model_copy(update={"stress": inst.stress[1:], "settings": inst.settings.
                                   model_copy(update={"stress_set": None})})
    assert pick_stress_set(only, None)[1].id == "explicit"
    # sets replaced in Python, the default left naming one gone: read as naming none
    replaced = inst.model_copy(update={"stress": inst.stress[1:]})
    assert pick_stress_set(replaced, None)[1].id == "explicit"
    with pytest.raises(UsageError, match="several stress sets: choose one with --set"):
        pick_stress_set(replaced.model_copy(update={"stress": inst.stress[::-1][:1] * 2}),
                        None)
    folder = copy_instance("tutorial", tmp_path)
    text = (folder / "instance.yaml").read_text(encoding="utf-8")
    (folder / "instance.yaml").write_text(
        text.replace("stress_set: cuts_and_pressures", "stress_set: cuts"), encoding="utf-8")
    proc = run_cli("validate", folder)
    assert proc.returncode == 2, proc.stderr
    assert "instance.yaml, settings.stress_set: unknown stress set 'cuts'" in proc.stderr
    assert "cuts_and_pressures, explicit" in proc.stderr


def test_a_batch_without_workers_uses_one_local_worker_per_core_and_chain(tmp_path,
                                                                          monkeypatch):
    """No --workers: one local worker per core, but never more than the batch has chains, and
    a batch of one chain is solved in this process. Either way the results are a one-worker
    run's, block for block, and the local workers are forked (started in milliseconds)."""
    import hwbopt.batch.pool as pool_mod
    import hwbopt.batch.run as run_mod

    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    opts = {"set_name": "cuts_and_pressures", "block_size": 32}
    run_stress(inst, out=tmp_path / "one", workers=1, scenarios=128, **opts)
    run_stress(inst, out=tmp_path / "one-chain", workers=1, scenarios=32, **opts)
    started: list[tuple[int, bool]] = []
    real_start = pool_mod.LocalPool.start

    def start(self, fork=None):
        real_start(self, fork)
        started.append((self.workers, self.forked))
        return self

    monkeypatch.setattr(pool_mod.LocalPool, "start", start)
    monkeypatch.setattr(run_mod.os, "cpu_count", lambda: 8)
    short = run_stress(inst, out=tmp_path / "short", scenarios=32, **opts)
    assert short["workers"] == 1 and started == []
    many = run_stress(inst, out=tmp_path / "many", scenarios=128, **opts)
    assert many["workers"] == 4 and [w for w, _ in started] == [4]  # 4 chains: 4 of 8 cores
    monkeypatch.setattr(run_mod.os, "cpu_count", lambda: 2)
    two = run_stress(inst, out=tmp_path / "two", scenarios=128, **opts)
    assert two["workers"] == 2 and [w for w, _ in started] == [4, 2]
    assert two["cluster_seconds"] < 1.0
    want = read_results(tmp_path / "one").drop(columns=TIMING)
    pd.testing.assert_frame_equal(read_results(tmp_path / "short").drop(columns=TIMING),
                                  read_results(tmp_path / "one-chain").drop(columns=TIMING))
    for name in ("many", "two"):
        pd.testing.assert_frame_equal(read_results(tmp_path / name).drop(columns=TIMING), want)
        assert len(list((tmp_path / name / "scenarios").glob("part-*.parquet"))) == 4


def _mark_rehearsal(folder: Path) -> None:
    """A pool's ``rehearse`` in the test below: a file named by the worker's process."""
    (folder / str(os.getpid())).touch()


@pytest.mark.parametrize("fork", [True, False])
def test_every_local_worker_rehearses_as_it_starts(tmp_path, fork):
    """The pool's ``rehearse`` runs in each worker before its first task, forked or not (a
    worker from a fresh interpreter is started when a task needs it: a pid that ran a task
    must have rehearsed)."""
    import functools

    from hwbopt.batch.pool import LocalPool

    with LocalPool(2, rehearse=functools.partial(_mark_rehearsal, tmp_path)
                   ).start(fork=fork) as pool:
        pids = {pid for _, pid in pool.run(os.getpid, [(k, ()) for k in range(8)])}
    marked = {int(p.name) for p in tmp_path.iterdir()}
    assert pids and pids <= marked and len(marked) <= 2
    assert len(marked) == 2 or not fork  # a forked pool starts every worker at once


def test_a_run_rehearses_where_its_batch_runs_and_leaves_no_thread(tmp_path, monkeypatch):
    """One worker: a thread of this process rehearses, awaited before the run returns; two:
    each worker does; a refused folder: nothing rehearses (it is refused at once)."""
    import functools
    import threading

    from hwbopt.batch import run as run_mod

    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(run_mod, "rehearse", functools.partial(_mark_rehearsal, marks))
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    money = {"id": "money", "seed": 7, "samples": 64, "inputs": [
        {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.20, "high": 0.40}]}
    inst = inst.model_copy(update={"stress": (StressSet.model_validate(money),)})
    threads = threading.active_count()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError):
        run_stress(inst, out=tmp_path / "afile", workers=1, scenarios=12)
    assert list(marks.iterdir()) == [] and threading.active_count() == threads
    run_stress(inst, out=tmp_path / "one", workers=1, scenarios=12)
    assert [p.name for p in marks.iterdir()] == [str(os.getpid())]
    assert threading.active_count() == threads
    run_stress(inst, out=tmp_path / "two", workers=2, scenarios=64)
    assert len(list(marks.iterdir())) == 3 and threading.active_count() == threads


def test_a_chain_gives_the_same_answers_whatever_ran_before_it_in_its_worker(tmp_path):
    """Each chain starts from the same solver state: the county's money scenarios (degenerate,
    so HiGHS's state decides which optimal vertex a warm start reaches) solved as one block on
    one worker, where the second chain follows the first in the same HiGHS, equal those solved
    one chain per worker. (HiGHS kept state between chains until ``_restart`` cleared it.)"""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from stress_bench import instance
    finally:
        sys.path.pop(0)
    inst = instance("county", tmp_path, "money")
    one = run_stress(inst, scenarios=96, out=tmp_path / "one", workers=1, block_size=96)
    two = run_stress(inst, scenarios=96, out=tmp_path / "two", workers=2, block_size=32)
    assert one["finished"] == two["finished"] == 96
    pd.testing.assert_frame_equal(read_results(tmp_path / "one").drop(columns=TIMING),
                                  read_results(tmp_path / "two").drop(columns=TIMING))
