"""`hwbopt stress --plan DIR`: a saved two-stage plan tested on a stress set.

The plan is made once (`hwbopt plan` on the tutorial, six scenarios of `cuts_and_pressures`).
Every scenario of the batch holds the plan's first stage and the instance's own first year,
and re-plans the rest. The batch's objectives are held to two routes that share nothing with
the engine: a fresh solve of each scenario's model with the first stage fixed by name, and, on
the plan's own scenarios, the plan's own value of each (``plan_scenarios.csv``). A bad --plan
folder is refused before any solve with exit 2 and one located line; a run of one plan is not
resumed with another.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml
from click.testing import CliRunner, Result
from conftest import run_cli

import hwbopt
from hwbopt import highs
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw
from hwbopt.batch.setup import Held, _spec_key, load_plan, pick_stress_set, prepare
from hwbopt.batch.store import read_results
from hwbopt.cli import cli
from hwbopt.compile import Compiled
from hwbopt.pipeline import build
from hwbopt.plan.scenarios import scenario_instance
from hwbopt.plan.stages import first_stage

TUTORIAL = hwbopt.shipped_instance("tutorial")
SET = "cuts_and_pressures"
PLANNED = 6  # scenarios the plan is chosen over


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    proc = run_cli("plan", TUTORIAL, "--set", SET, "--scenarios", str(PLANNED), "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def batch(plan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The plan tested on the first 64 scenarios of the set it was chosen over."""
    out = tmp_path_factory.mktemp("batch") / "run"
    proc = run_cli("stress", TUTORIAL, "--set", SET, "--scenarios", "64", "--plan", plan_dir,
                   "--workers", "1", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    return {"out": out, "summary": json.loads(proc.stdout),
            "results": read_results(out).set_index("scenario").sort_index()}


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def first_stage_of(plan_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((plan_dir / "summary.json").read_text())[
        "first_stage"]
    return rows


def held_first_year(inst: hwbopt.Instance, scen: hwbopt.Instance) -> Compiled:
    """The scenario's model as a plan meets it, built without the batch engine: a fresh build
    of the scenario's own instance (every year moved), in which every row, column and
    coefficient of a row indexed by the first year takes the numbers of a fresh build of the
    instance itself (the first year as the plan knew it)."""
    base, own = build(inst), build(scen)
    B, S = base.compiled, own.compiled
    assert (B.A.indptr == S.A.indptr).all() and (B.A.indices == S.A.indices).all()
    y0 = base.data.YEARS[0]

    def first(index: object) -> bool:
        return y0 in index if isinstance(index, tuple) else index == y0

    rows = np.array([first(i) for i in B.row_index])
    cols = np.array([first(i) for i in B.col_index])
    A = sp.csc_array((np.where(rows[B.A.indices], B.A.data, S.A.data), B.A.indices,
                      B.A.indptr), shape=B.A.shape)
    return replace(S, A=A, c=np.where(cols, B.c, S.c),
                   row_lower=np.where(rows, B.row_lower, S.row_lower),
                   row_upper=np.where(rows, B.row_upper, S.row_upper),
                   col_lower=np.where(cols, B.col_lower, S.col_lower),
                   col_upper=np.where(cols, B.col_upper, S.col_upper),
                   _cols=S._cols, _rows=S._rows)


def fixed_by_name(comp: Compiled, decisions: list[dict[str, Any]]) -> Compiled:
    """``comp`` with every decision of a saved first stage fixed, found by its name."""
    at = {comp.col_name(j): j for j in range(comp.n_cols)}
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    for row in decisions:
        j = at[row["decision"]]
        lo[j] = hi[j] = round(row["value"]) if comp.integer[j] else row["value"]
    return replace(comp, col_lower=lo, col_upper=hi, _cols=comp._cols, _rows=comp._rows)


# ---------------------------------------------------------------------------------------------
# the objectives, by two routes that do not use the engine
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("set_name,scenarios", [(SET, [0, 3, 9, 17, 30, 42, 63]),
                                                ("explicit", [0, 1, 2])])
def test_each_objective_equals_a_fresh_solve_with_the_first_stage_fixed(
        plan_dir: Path, batch: dict[str, Any], tmp_path: Path, set_name: str,
        scenarios: list[int]) -> None:
    inst = hwbopt.load(TUTORIAL)
    if set_name == SET:
        results = batch["results"]
    else:  # the plan on futures it was not chosen over
        run_stress(inst, set_name=set_name, plan=plan_dir, out=tmp_path / "run", workers=1)
        results = read_results(tmp_path / "run").set_index("scenario")
    k, stress = pick_stress_set(inst, set_name)
    stress = stress.model_copy(update={"samples": max(scenarios) + 1})
    values = draw(stress, np.arange(stress.size))
    decisions = first_stage_of(plan_dir)
    for s in scenarios:
        comp = fixed_by_name(held_first_year(inst, scenario_instance(inst, stress, values[s],
                                                                      k)), decisions)
        raw = highs.solve_compiled(comp)
        row = results.loc[s]
        if row.status == "plan_infeasible":  # the commitments cannot hold in this future
            assert raw.status == "infeasible", (s, raw.status)
            continue
        assert raw.status == row.status == "optimal", (s, raw.status, row.status)
        assert row.objective == pytest.approx(raw.objective, rel=1e-9), s
        assert row.certified


def test_the_plans_own_scenarios_score_the_plans_own_values(plan_dir: Path,
                                                           batch: dict[str, Any]) -> None:
    """Same set, same seed: scenario s of the batch is scenario s of the plan, and holding
    the plan's first stage scores what the plan says it scores there (where no rule had to
    give: a scenario with elastic slack counts its penalty in the plan's value)."""
    own = pd.read_csv(plan_dir / "plan_scenarios.csv").set_index("scenario")
    gave = set(pd.read_csv(plan_dir / "plan_elastic.csv").scenario)
    compared = 0
    for s in range(PLANNED):
        if s in gave:
            continue
        row = batch["results"].loc[s]
        assert row.status == "optimal" and not row.changed.size
        assert row.objective == pytest.approx(own.loc[s, "hedged"], rel=1e-9), s
        compared += 1
    assert compared >= 4


def test_mip_keeps_the_first_stage_fixed(plan_dir: Path, tmp_path: Path) -> None:
    """--mip frees only the integers the plan leaves (none in the tutorial: every integer is
    first stage), so it scores the plan as the LP path does."""
    inst = hwbopt.load(TUTORIAL)
    runs = []
    for mip in (False, True):
        run_stress(inst, set_name="explicit", plan=plan_dir, mip=mip, out=tmp_path / str(mip),
                   workers=1)
        runs.append(read_results(tmp_path / str(mip)).set_index("scenario").sort_index())
    assert (runs[1].status == "optimal").all()
    np.testing.assert_allclose(runs[1].objective, runs[0].objective, rtol=1e-9)


def test_the_run_records_the_plan(plan_dir: Path, batch: dict[str, Any]) -> None:
    meta = json.loads((batch["out"] / "run.json").read_text())
    saved = load_plan(plan_dir)
    assert meta["plan"] == {"path": str(plan_dir), "sha256": saved.digest}
    assert meta["hold_first_year"] is True  # implied by --plan
    summary = json.loads((batch["out"] / "summary.json").read_text())
    assert summary["plan"] == str(plan_dir) == batch["summary"]["plan"]
    assert summary["kind"] == "stress" and summary["scenarios"] == 64
    # every first-stage decision is one the batch may report as changed
    assert set(meta["decision_names"].values()) >= set(saved.values)


def test_the_engine_key_holds_the_plans_values(plan_dir: Path) -> None:
    inst = hwbopt.load(TUTORIAL)
    k, stress = pick_stress_set(inst, "explicit")
    prep = prepare(inst, stress, k, seed=0, plan=load_plan(plan_dir))
    held = prepare(inst, stress, k, seed=0, hold_first_year=True)
    assert prep.spec.key != held.spec.key
    comp = prep.built.compiled
    mask = first_stage(comp, inst.horizon.first_year)
    values = np.where(mask, prep.spec.col_lower, 0.0)
    other = values.copy()
    other[np.flatnonzero(mask)[-1]] += 1.0
    keys = {_spec_key(comp, stress, 0, False, None, True, Held(mask, v))
            for v in (values, other)}
    assert prep.spec.key in keys and len(keys) == 2


# ---------------------------------------------------------------------------------------------
# the first year is the instance's own
# ---------------------------------------------------------------------------------------------


def test_a_plan_holds_the_instances_first_year(plan_dir: Path, tmp_path: Path) -> None:
    """A set that moves only the first year (the council's 2013/14 budget): without --plan it
    moves the batch's objectives; with --plan (and no --hold-first-year) every scenario is
    the instance's own, scored as the plan on the instance itself."""
    folder = tmp_path / "board"
    shutil.copytree(TUTORIAL, folder)
    data = yaml.safe_load((folder / "instance.yaml").read_text())
    data["stress"].append({"id": "this_year", "samples": 32, "seed": 1, "inputs": [
        {"name": "budget_2013", "path": "budgets[council,2013].baseline", "op": "scale",
         "dist": "uniform", "low": 0.8, "high": 1.2}]})
    (folder / "instance.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    free = invoke("stress", folder, "--set", "this_year", "--workers", "1", "--out",
                  tmp_path / "free", "--json")
    assert free.exit_code == 0, free.output
    moved = read_results(tmp_path / "free")
    assert moved.objective.nunique() > 1
    held = invoke("stress", folder, "--set", "this_year", "--plan", plan_dir, "--workers",
                  "1", "--out", tmp_path / "held", "--json")
    assert held.exit_code == 0, held.output
    results = read_results(tmp_path / "held")
    summary = json.loads(held.stdout)
    assert results["input.budget_2013"].nunique() == 32  # the inputs were drawn...
    assert (results.status == "optimal").all()  # ...and the first year kept the instance's
    assert np.allclose(results.objective, summary["base_objective"], rtol=1e-12)
    assert np.allclose(results.cut_depth, 0.0)
    assert json.loads((tmp_path / "held" / "run.json").read_text())["hold_first_year"]
    # the plan was made on the tutorial, this is a copy with another stress set: its
    # decisions are this instance's first stage, so it is tested, with a warning
    assert "made on another instance" in held.stderr


# ---------------------------------------------------------------------------------------------
# refusals: before any solve, exit 2, one located line
# ---------------------------------------------------------------------------------------------


def _edit(plan_dir: Path, dest: Path, change: Any) -> Path:
    """A copy of the saved plan with its summary changed by ``change(summary)``."""
    shutil.copytree(plan_dir, dest)
    summary = json.loads((dest / "summary.json").read_text())
    change(summary)
    (dest / "summary.json").write_text(json.dumps(summary))
    return dest


def _rename_first(summary: dict[str, Any], name: str) -> None:
    summary["first_stage"][0]["decision"] = name


def _refused(plan: Path, tmp_path: Path, *expected: str, instance: Path = TUTORIAL) -> None:
    out = tmp_path / "never"
    proc = invoke("stress", instance, "--set", SET, "--plan", plan, "--workers", "1",
                  "--out", out)
    assert proc.exit_code == 2, (proc.exit_code, proc.output)
    assert "Traceback" not in proc.output and proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for text in expected:
        assert text in proc.stderr, (text, proc.stderr)
    assert not (out / "run.json").exists()


def test_a_bad_plan_folder_is_refused_before_any_solve(plan_dir: Path, tmp_path: Path) -> None:
    inst = hwbopt.load(TUTORIAL)
    comp = build(inst).compiled
    first = first_stage(comp, inst.horizon.first_year)
    decisions = first_stage_of(plan_dir)
    some = decisions[3]["decision"]
    later = next(comp.col_name(j) for j in range(comp.n_cols)
                 if not first[j] and comp.col_component[j] == "activity")

    _refused(tmp_path / "nowhere", tmp_path, "--plan", "nowhere", "no such folder")
    (tmp_path / "empty").mkdir()
    _refused(tmp_path / "empty", tmp_path, "empty", "holds no summary.json")
    solved = tmp_path / "solved"
    assert invoke("solve", TUTORIAL, "--out", solved).exit_code == 0
    _refused(solved, tmp_path, str(solved / "summary.json"), "`hwbopt solve`",
             "not of `hwbopt plan`")
    stress = _edit(plan_dir, tmp_path / "stress", lambda s: s.update(kind="stress"))
    _refused(stress, tmp_path, "`hwbopt stress`")
    garbled = tmp_path / "garbled"
    shutil.copytree(plan_dir, garbled)
    (garbled / "summary.json").write_text('{"kind": "plan", "first_stage": [')
    _refused(garbled, tmp_path, str(garbled / "summary.json"), "not valid JSON")
    nowhere = "open[nowhere,2013]"
    _refused(_edit(plan_dir, tmp_path / "unknown", lambda s: _rename_first(s, nowhere)),
             tmp_path, "open[nowhere,2013]", "not in this instance's model",
             str(tmp_path / "unknown" / "summary.json"))
    _refused(_edit(plan_dir, tmp_path / "later", lambda s: _rename_first(s, later)),
             tmp_path, later, "not a first-stage decision")
    _refused(_edit(plan_dir, tmp_path / "missing",
                   lambda s: s["first_stage"].pop(3)),
             tmp_path, f"no value for the first-stage decision {some}",
             str(tmp_path / "missing" / "summary.json"))
    for bad, shown in ((float("nan"), "NaN"), (float("inf"), "Infinity"), ("12", '"12"'),
                       (None, "null")):
        def change(s: dict[str, Any], bad: Any = bad) -> None:
            s["first_stage"][3]["value"] = bad
        name = f"value_{shown.strip(chr(34))}"
        _refused(_edit(plan_dir, tmp_path / name, change), tmp_path,
                 f"first_stage[3] ({some}) has value {shown}, not a finite number")
    _refused(_edit(plan_dir, tmp_path / "twice",
                   lambda s: s["first_stage"].append(dict(s["first_stage"][3]))),
             tmp_path, f"decision {some} is listed twice")
    _refused(_edit(plan_dir, tmp_path / "none", lambda s: s.update(first_stage=[])),
             tmp_path, "lists no first-stage decisions")
    whole = next(r["decision"] for r in decisions if r["decision"].startswith("open"))

    def half(s: dict[str, Any]) -> None:
        next(r for r in s["first_stage"] if r["decision"] == whole)["value"] = 0.5
    _refused(_edit(plan_dir, tmp_path / "half", half), tmp_path, whole, "whole numbers")


def test_commitments_that_give_no_plan_on_the_instance_are_refused(plan_dir: Path,
                                                                  tmp_path: Path) -> None:
    inst = hwbopt.load(TUTORIAL)
    comp = build(inst).compiled
    at = {comp.col_name(j): j for j in range(comp.n_cols)}

    def beyond(s: dict[str, Any]) -> None:  # more activity than the need allows
        row = next(r for r in s["first_stage"] if r["decision"].startswith("activity"))
        row["value"] = float(comp.col_upper[at[row["decision"]]]) * 2

    _refused(_edit(plan_dir, tmp_path / "beyond", beyond), tmp_path, str(tmp_path / "beyond"),
             "commitments give no plan on the instance itself", "outside its bounds")

    def everything(s: dict[str, Any]) -> None:  # every service at its need, no pooled money
        for r in s["first_stage"]:
            j = at[r["decision"]]
            if r["decision"].startswith(("activity", "total_activity")):
                r["value"] = float(comp.col_upper[j])
            elif r["decision"].startswith(("contribution", "spend_pooled")):
                r["value"] = 0.0

    _refused(_edit(plan_dir, tmp_path / "all", everything), tmp_path, str(tmp_path / "all"),
             "commitments give no plan on the instance itself", "infeasible")


def test_a_plan_of_another_instance_is_refused_unless_its_decisions_match(
        plan_dir: Path, tmp_path: Path) -> None:
    county = hwbopt.shipped_instance("county")
    proc = invoke("stress", county, "--plan", plan_dir, "--workers", "1", "--out",
                  tmp_path / "c")
    assert proc.exit_code == 2 and "Traceback" not in proc.output
    assert "not in this instance's model" in proc.stderr
    assert "the plan was made on another instance" in proc.stderr
    assert str(TUTORIAL) in proc.stderr or "instances/tutorial" in proc.stderr


# ---------------------------------------------------------------------------------------------
# --resume
# ---------------------------------------------------------------------------------------------


def test_resume_with_another_plan_is_refused(plan_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["stress", TUTORIAL, "--set", SET, "--scenarios", "64", "--workers", "1",
            "--block-size", "32", "--out", out]
    first = invoke(*args, "--plan", plan_dir, "--json")
    assert first.exit_code == 0, first.output
    part = sorted((out / "scenarios").glob("*.parquet"))[-1]
    part.unlink()  # as if the run were interrupted

    def cheaper(s: dict[str, Any]) -> None:
        row = next(r for r in s["first_stage"] if r["decision"].startswith("contribution"))
        row["value"] *= 0.99
    other = _edit(plan_dir, tmp_path / "other", cheaper)
    for given, differs in ((["--plan", other], "differs in plan"),
                           (["--plan", other, "--hold-first-year"], "differs in plan")):
        proc = invoke(*args, "--resume", *given)
        assert proc.exit_code == 2 and "Traceback" not in proc.output, proc.output
        assert "--resume" in proc.stderr and differs in proc.stderr, proc.stderr
    # the same plan copied elsewhere is the same plan: the run is finished
    same = tmp_path / "copy"
    shutil.copytree(plan_dir, same)
    done = invoke(*args, "--resume", "--plan", same, "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["solved_this_run"] == 32 and summary["finished"] == 64
    # without --plan, --resume tests the plan run.json records (its folder and hash)
    sorted((out / "scenarios").glob("*.parquet"))[-1].unlink()
    again = invoke(*args, "--resume", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["solved_this_run"] == 32
    assert json.loads(again.stdout)["plan"] == str(plan_dir)


def test_a_site_the_future_takes_away_is_closed_there_as_the_plan_has_it(tmp_path: Path) -> None:
    """The hand-derived site case with a set that loses the hub in one future (p = 0.05):
    the plan keeps the hub wherever it stands and the lost future closes it by force
    (models/plan.md); stress --plan holds the same plan and reads that future the same way,
    so every future is solved (none plan_infeasible) and scores what the plan says."""
    case = tmp_path / "lost"
    shutil.copytree(Path(__file__).parent / "plan_cases" / "site_cut", case)
    with (case / "instance.yaml").open("a", encoding="utf-8") as f:
        f.write("  - id: lost\n    name: The hub lost in one future\n    table: lost.csv\n"
                "    inputs:\n      - {name: hub, path: \"sites[hub].available\"}\n")
    (case / "lost.csv").write_text("hub,probability\n1,0.95\n0,0.05\n", encoding="utf-8")
    made = invoke("plan", case, "--set", "lost", "--out", tmp_path / "plan", "--json")
    assert made.exit_code == 0, made.output
    hedged = pd.read_csv(tmp_path / "plan" / "plan_scenarios.csv").set_index("scenario")
    assert hedged["hedged"].tolist() == pytest.approx([250.0, 230.0])
    run = invoke("stress", case, "--set", "lost", "--plan", tmp_path / "plan", "--out",
                 tmp_path / "run", "--workers", "1", "--json")
    assert run.exit_code == 0, run.output
    rows = read_results(tmp_path / "run").set_index("scenario").sort_index()
    assert (rows.status == "optimal").all(), rows[["status", "reason"]]
    assert rows.objective.tolist() == pytest.approx(hedged["hedged"].tolist())
