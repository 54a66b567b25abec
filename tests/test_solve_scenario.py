"""``hwbopt solve --scenario NAME --option NAME``: the same plan as ``compare`` reports for that
scenario and option, and as solving an instance folder edited by hand to the scenario's values
and the option's rule; the JSON and summary.json say what was applied; unknown names exit 2
listing the names that exist.

The hand-edited folders are written with plain text and CSV edits here, not through
:mod:`hwbopt.scenarios` or the policy code, so they are a route independent of both.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import hwbopt
from hwbopt.analyses.compare import solve_option
from hwbopt.cli import cli
from hwbopt.shipped import shipped_instance

CUT_LINE = "cut: {total: 0.28, over_years: 4}"  # the council's cut in the tutorial's yaml
SCENARIO, OPTION = "council_cuts_35", "keep_estate"  # cut 35%; no site closes


def _solve(*args: str | Path) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["solve", *map(str, args)], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _solve_json(*args: str | Path) -> dict:
    code, out, err = _solve(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def _edited(tmp_path: Path, cut: float | None = None, no_closures: bool = False) -> Path:
    """A copy of the tutorial edited by hand: the council's cut written as ``cut`` in
    instance.yaml, and every site marked ``can_close: false`` in sites.csv."""
    folder = tmp_path / "edited"
    shutil.copytree(shipped_instance("tutorial"), folder)
    if cut is not None:
        yaml_file = folder / "instance.yaml"
        text = yaml_file.read_text(encoding="utf-8")
        assert text.count(CUT_LINE) == 1
        yaml_file.write_text(text.replace(CUT_LINE, f"cut: {{total: {cut}, over_years: 4}}"),
                             encoding="utf-8")
    if no_closures:
        sites = folder / "sites.csv"
        with sites.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with sites.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, [*rows[0], "can_close"])
            w.writeheader()
            w.writerows({**r, "can_close": "false"} for r in rows)
    return folder


def _same_plan(a: dict, b: dict) -> None:
    """Two solve summaries describe the same plan: objective, spend and outcomes."""
    assert a["status"] == b["status"] == "optimal"
    assert math.isclose(a["objective"], b["objective"], rel_tol=1e-7)
    for key in ("spend_by_partner", "outcome_by_priority"):
        assert a[key].keys() == b[key].keys()
        for k in a[key]:
            assert math.isclose(a[key][k], b[key][k], rel_tol=1e-6, abs_tol=1e-6), (key, k)
    assert a["targets_met"] == b["targets_met"]


@pytest.fixture(scope="module")
def comparison() -> hwbopt.Comparison:
    inst = hwbopt.load(shipped_instance("tutorial"))
    return hwbopt.compare(inst, options=["pooled", "siloed", OPTION],
                          scenarios=["base", SCENARIO])


def test_scenario_matches_compare_and_a_folder_edited_by_hand(tmp_path: Path,
                                                               comparison) -> None:
    got = _solve_json(shipped_instance("tutorial"), "--scenario", SCENARIO)
    assert got["scenario"] == SCENARIO and got["option"] is None
    by_hand = _solve_json(_edited(tmp_path, cut=0.35))
    _same_plan(got, by_hand)
    assert by_hand["scenario"] is None and by_hand["option"] is None
    run = comparison.run("pooled", SCENARIO)
    assert math.isclose(got["objective"], run.result.objective, rel_tol=1e-7)
    # the scenario changes the answer: a test that cannot tell them apart proves nothing
    base = comparison.run("pooled", "base").result.objective
    assert abs(got["objective"] - base) > 1.0


def test_option_under_scenario_matches_compare_and_a_folder_edited_by_hand(
        tmp_path: Path, comparison) -> None:
    out = tmp_path / "results"
    got = _solve_json(shipped_instance("tutorial"), "--scenario", SCENARIO, "--option", OPTION,
                      "--out", out)
    assert (got["scenario"], got["option"]) == (SCENARIO, OPTION)
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (saved["scenario"], saved["option"]) == (SCENARIO, OPTION)
    assert saved["objective"] == got["objective"]
    run = comparison.run(OPTION, SCENARIO)
    assert run is not None
    assert math.isclose(got["objective"], run.result.objective, rel_tol=1e-7)
    assert got["spend_by_partner"] == pytest.approx(run.result.summary()["spend_by_partner"])
    # no closures, by hand: every site marked as one that cannot close
    _same_plan(got, _solve_json(_edited(tmp_path, cut=0.35, no_closures=True)))
    # keeping the estate costs outcome here, so the option was applied
    pooled = comparison.run("pooled", SCENARIO).result.objective
    assert got["objective"] < pooled - 1.0


def test_siloed_matches_compare(comparison) -> None:
    got = _solve_json(shipped_instance("tutorial"), "--option", "siloed")
    assert (got["scenario"], got["option"]) == (None, "siloed")
    want = comparison.run("siloed", "base").result
    assert math.isclose(got["objective"], want.objective, rel_tol=1e-7)
    assert got["objective"] < comparison.run("pooled", "base").result.objective - 1.0


def test_pooled_base_is_plain_solve() -> None:
    plain = _solve_json(shipped_instance("tutorial"))
    named = _solve_json(shipped_instance("tutorial"), "--scenario", "base", "--option",
                        "pooled")
    _same_plan(plain, named)
    assert (named["scenario"], named["option"]) == ("base", "pooled")
    assert (plain["scenario"], plain["option"]) == (None, None)


def test_text_output_names_what_was_applied() -> None:
    code, out, err = _solve(shipped_instance("tutorial"), "--scenario", SCENARIO, "--option",
                            OPTION)
    assert code == 0, err
    assert f"scenario {SCENARIO}" in out and f"option {OPTION}" in out
    assert "Keep both buildings open" in " ".join(out.split())


@pytest.mark.parametrize(("args", "words"), [
    (["--scenario", "nope"], ["unknown scenario 'nope'", "base", "council_cuts_35",
                              "qipp_shortfall"]),
    (["--option", "nope"], ["unknown option 'nope'", "pooled", "siloed", "status_quo",
                            "protect_reablement", "keep_estate"]),
    (["--option", "keep_estate", "--scenario", "nope"], ["unknown scenario 'nope'",
                                                          "council_cuts_35"]),
    (["--option", "partial"], ["unknown option 'partial'", "--pool-share"]),
    (["--option", "siloed", "--objective", "equity"], ["--objective equity", "--option"]),
])
def test_unknown_names_exit_2_listing_the_names(args: list[str], words: list[str]) -> None:
    code, out, err = _solve(shipped_instance("tutorial"), *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_solve_option_api_refuses_partial_and_matches_compare(comparison) -> None:
    inst = hwbopt.load(shipped_instance("tutorial"))
    run = solve_option(inst, option=OPTION, scenario=SCENARIO)
    assert run.result.checked and run.result.status == "optimal"
    assert math.isclose(run.result.objective, comparison.run(OPTION, SCENARIO).result.objective,
                        rel_tol=1e-9)
    assert (run.result.scenario, run.result.option) == (SCENARIO, OPTION)
    with pytest.raises(hwbopt.UsageError, match="partial"):
        solve_option(inst, option="partial")
