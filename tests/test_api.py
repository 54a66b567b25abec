"""The Python API: every exported name resolves, and submodule imports cannot shadow it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hwbopt


def test_every_export_resolves():
    for name in hwbopt.__all__:
        assert getattr(hwbopt, name) is not None, name


def test_solve_stays_a_function_after_submodules_are_imported():
    code = (
        "import hwbopt, hwbopt.pipeline, hwbopt.results, hwbopt.check\n"
        "r = hwbopt.solve(hwbopt.load(hwbopt.shipped_instance('tutorial')))\n"
        "assert r.status == 'optimal', r.status\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_tables_come_back_as_dataframes(tutorial):
    import pandas as pd

    result = hwbopt.solve(tutorial)
    for name in ("allocation", "outcomes", "budgets", "pools", "avoided_costs", "activity"):
        assert isinstance(getattr(result, name), pd.DataFrame)
    assert set(result.spend_by_partner) == {"nhs", "council"}


# ---------------------------------------------------------------------------------------------
# Instance.with_changes: the scenario path language, from Python
# ---------------------------------------------------------------------------------------------

# the same changes, once by path and once typed into the files by hand (below)
CHANGES = {
    "partners[council].cut.total": 0.35,            # instance.yaml
    "budgets[nhs,2014].baseline": 1050,              # one row of budgets.csv
    "activity[*].need": {"scale": 1.1},              # every row of activity.csv
    "interventions[telecare].unit_cost": {"add": 0.05},
}


def _edit_by_hand(folder):
    """The tutorial's files edited as a person would to make CHANGES: text and CSV cells."""
    import csv

    yaml = folder / "instance.yaml"
    text = yaml.read_text(encoding="utf-8")
    assert text.count("cut: {total: 0.28, over_years: 4}") == 1
    yaml.write_text(text.replace("cut: {total: 0.28, over_years: 4}",
                                 "cut: {total: 0.35, over_years: 4}"), encoding="utf-8")

    def rewrite(name, edit):
        path = folder / name
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        fields = list(rows[0])
        for row in rows:
            edit(row)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    def budget(row):
        if (row["partner"], row["year"]) == ("nhs", "2014"):
            assert row["baseline"] == "1000"
            row["baseline"] = "1050"

    def need(row):
        row["need"] = f"{float(row['need']) * 1.1:.6f}"

    def cost(row):
        if row["id"] == "telecare":
            assert row["unit_cost"] == "0.5"
            row["unit_cost"] = "0.55"

    rewrite("budgets.csv", budget)
    rewrite("activity.csv", need)
    rewrite("interventions.csv", cost)


def test_with_changes_solves_as_the_files_edited_by_hand(tutorial, tutorial_dir, tmp_path):
    import shutil

    import pandas as pd

    changed = tutorial.with_changes(CHANGES)
    folder = tmp_path / "edited"
    shutil.copytree(tutorial_dir, folder)
    _edit_by_hand(folder)
    by_hand = hwbopt.load(folder)

    ours, theirs = hwbopt.solve(changed), hwbopt.solve(by_hand)
    base = hwbopt.solve(tutorial)
    assert ours.status == theirs.status == "optimal"
    assert ours.objective == pytest.approx(theirs.objective, rel=1e-9)
    assert abs(ours.objective - base.objective) > 1.0  # the changes matter
    for name in ("outcomes", "budgets"):
        a, b = ours.tables[name], theirs.tables[name]
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_exact=False, rtol=1e-7, atol=1e-6)
    # the instance it came from is untouched, and its scenarios, options and stress sets kept
    assert tutorial.partners[1].cut.total == 0.28
    assert changed.scenarios == tutorial.scenarios and changed.stress == tutorial.stress


def test_with_changes_takes_the_instance_yaml_list_form_too(tutorial):
    from hwbopt.schema import Change

    as_dict = tutorial.with_changes({"partners[nhs].savings_rate": 0.06,
                                     "staff[*].fte": {"scale": 0.9}})
    as_list = tutorial.with_changes([
        {"path": "partners[nhs].savings_rate", "value": 0.06},
        Change(path="staff[*].fte", scale=0.9)])
    assert as_dict == as_list
    assert as_dict.partners[0].savings_rate == 0.06
    assert [r.fte for r in as_dict.staff] == pytest.approx([0.9 * r.fte for r in tutorial.staff])
    assert tutorial.with_changes({}) is tutorial


@pytest.mark.parametrize(("changes", "named", "says"), [
    ({"partners[council].cut.totl": 0.3}, "partners[council].cut.totl", "unknown field 'totl'"),
    ({"partners[counc].cut.total": 0.3}, "partners[counc].cut.total", "council, nhs"),
    ({"partners[nhs].savings_rate": 0.05, "partners[council].cut.total": 1.3},
     "partners[council].cut.total", "less than 1"),
    ({"partners[council].cut.total": "deep"}, "partners[council].cut.total", "number"),
    ({"activity[*].need": {"scale": "x"}}, "activity[*].need", "scale"),
    ({"activity[*].need": {"scale": 1.1, "add": 2}}, "activity[*].need", "exactly one"),
    ({"partners[council].name": {"scale": 2}}, "partners[council].name", "needs a number"),
])
def test_with_changes_names_the_path_it_cannot_apply(tutorial, changes, named, says):
    with pytest.raises(hwbopt.InstanceError) as caught:
        tutorial.with_changes(changes)
    text = str(caught.value)
    assert named in text and says in text, text
    assert "where=" not in text and "Traceback" not in text
    assert all(p.field == named for p in caught.value.problems)


def test_with_changes_refuses_what_is_not_a_mapping_of_paths(tutorial):
    for bad in (5, "partners[council].cut.total", [7]):
        with pytest.raises(hwbopt.InstanceError, match="with_changes"):
            tutorial.with_changes(bad)


def test_apply_changes_keeps_its_signature_and_messages(tutorial):
    from hwbopt.schema import Change

    with pytest.raises(hwbopt.InstanceError) as caught:
        hwbopt.apply_changes(tutorial, [Change(path="partners[x].cut.total", value=0.3)],
                             "scenarios[0].changes")
    assert caught.value.problems[0].field == "scenarios[0].changes[0].path"
    assert caught.value.problems[0].file == "instance.yaml"


# ---------------------------------------------------------------------------------------------
# hwbopt.stress: a stress batch from Python
# ---------------------------------------------------------------------------------------------

TIMING = {"seconds", "scenarios_per_second", "setup_seconds", "cluster_seconds",
          "batch_seconds", "out", "provenance"}
PER_SCENARIO_TIMING = {"solve_seconds", "certify_seconds"}


def test_stress_equals_the_cli_run_of_the_same_seed(tutorial, tutorial_dir, tmp_path,
                                                    monkeypatch):
    import json
    import tempfile

    import pandas as pd
    from conftest import run_cli

    cli = run_cli("stress", tutorial_dir, "--set", "cuts_and_pressures", "--scenarios", "20",
                  "--seed", "5", "--workers", "1", "--out", tmp_path / "cli", "--json")
    assert cli.returncode == 0, cli.stderr
    theirs = json.loads(cli.stdout)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = hwbopt.stress(tutorial, set="cuts_and_pressures", scenarios=20, seed=5)
    ours = json.loads(json.dumps(run.summary()))
    assert list(scratch.iterdir()) == []  # in memory: the engine's folder is gone
    assert run.out is None and ours["out"] is None
    assert set(ours) == set(theirs)
    assert {k: v for k, v in ours.items() if k not in TIMING} == \
        {k: v for k, v in theirs.items() if k not in TIMING}
    assert ours["solved"] == 20

    parquet = pd.concat([pd.read_parquet(p) for p in (tmp_path / "cli" / "scenarios").iterdir()])
    parquet = parquet.sort_values("scenario").reset_index(drop=True)
    table = run.scenarios
    assert isinstance(table, pd.DataFrame) and table is run.tables["scenarios"]
    same = [c for c in parquet.columns
            if c not in PER_SCENARIO_TIMING | {"binding", "changed"}]
    pd.testing.assert_frame_equal(table[same], parquet[same])
    # the rules that bind, by the names run.json gives the CLI's row numbers
    names = json.loads((tmp_path / "cli" / "run.json").read_text())["binding_names"]
    assert [list(b) for b in table.binding] == \
        [[names[str(r)] for r in rows] for rows in parquet.binding]

    probability = dict(zip(run.target_probability.priority,
                           run.target_probability.probability, strict=True))
    assert probability == theirs["target_probability"]
    assert list(run.binding.rule) == [b["rule"] for b in theirs["binding"]]
    # every other table is the one the stress report reads from the CLI's folder
    from hwbopt.report.sections import extra_tables

    report = extra_tables("stress", tmp_path / "cli", theirs)
    assert set(run.tables) == {"scenarios", *report}
    for name, frame in report.items():
        pd.testing.assert_frame_equal(run.tables[name], frame, obj=name)


def test_stress_scenario_objective_is_its_own_solve(tutorial):
    run = hwbopt.stress(tutorial, set="cuts_and_pressures", scenarios=4, seed=11)
    for row in run.scenarios.to_dict("records"):
        # the scenario typed as changes from its drawn inputs and the set's paths in
        # instance.yaml, by hand: not through the engine's parametric model
        changes = {
            "partners[council].cut.total": row["input.partners_council_cut_total"],
            "partners[nhs].savings_rate": row["input.partners_nhs_savings_rate"],
            "activity[*].need": {"scale": row["input.demand"]},
            "interventions[*].cost_growth": {"add": row["input.inflation"]},
            "staff[*].fte": {"scale": row["input.staffing"]},
        }
        own = hwbopt.solve(tutorial.with_changes(changes))
        assert own.status == row["status"] == "optimal"
        tolerance = 2 * own.gap_tolerance * max(1.0, abs(own.objective))
        assert abs(row["objective"] - own.objective) <= tolerance, row["scenario"]
        again = hwbopt.solve(run.scenario_instance(int(row["scenario"])))
        assert abs(again.objective - own.objective) <= tolerance
        assert run.input_values(int(row["scenario"]))["demand"] == row["input.demand"]


def test_stress_keeps_its_folder_when_asked_and_refuses_bad_arguments(tutorial, tmp_path):
    run = hwbopt.stress(tutorial, set="explicit", out=tmp_path / "kept")
    assert run.out == tmp_path / "kept"
    assert (tmp_path / "kept" / "summary.json").is_file()
    assert run.summary()["out"] == str(tmp_path / "kept")
    assert len(run.scenarios) == run.summary()["scenarios"] == 3
    undecided = tutorial.with_changes({"settings.stress_set": None})
    with pytest.raises(hwbopt.UsageError, match="choose one with set="):
        hwbopt.stress(undecided)  # two sets and no default: which?
    with pytest.raises(hwbopt.UsageError, match="unknown stress set"):
        hwbopt.stress(tutorial, set="nope")
    with pytest.raises(hwbopt.UsageError, match="scenario 3"):
        run.scenario_instance(3)
    (tmp_path / "solved").mkdir()  # another command's results: never replaced
    (tmp_path / "solved" / "summary.json").write_text('{"kind": "solve"}')
    with pytest.raises(hwbopt.UsageError, match="hwbopt solve"):
        hwbopt.stress(tutorial, set="explicit", out=tmp_path / "solved")
