"""The exact curve beside a stress run's sampled response (issue 19, part 1).

The rule for one dominant input on constructed cases; the curve a run writes into its folder
against ``hwbopt curve`` run on its own and against ``hwbopt solve`` of the instance with the
input set (a route sharing no code with the curve's tracing); the report's chart and tables;
a set with no dominant input drawing none; resume, reuse and folders not the run's own.
"""

from __future__ import annotations

import itertools
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import hwbopt
from hwbopt.analyses.stress import input_influence
from hwbopt.analyses.stress_curve import DOMINANT, OTHERS, dominant_input, follow, to_drawn
from hwbopt.cli import cli
from hwbopt.schema import StressInput

TUTORIAL = Path(__file__).resolve().parents[1] / "instances" / "tutorial"
PATH = "partners[council].cut.total"
COLUMN = "partners_council_cut_total"
LO, HI = 0.0, 0.9  # the council's cut as drawn: six pieces on the tutorial
# the council's cut, and staffing moved too little to matter: one dominant input
SET = f"""  - id: council_cuts
    name: The council's cut, and a little staffing
    samples: 48
    seed: 3
    inputs:
      - {{path: "{PATH}", dist: uniform, low: {LO}, high: {HI}}}
      - {{name: staffing, path: "staff[*].fte", op: scale, dist: uniform, low: 0.995,
         high: 1.0}}
"""


def invoke(*args: str | Path | float) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tutorial with a stress set whose council cut dominates."""
    folder = tmp_path_factory.mktemp("board") / "tut"
    shutil.copytree(TUTORIAL, folder)
    with (folder / "instance.yaml").open("a", encoding="utf-8") as f:
        f.write(SET)
    return folder


@pytest.fixture(scope="module")
def run(board: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One run with a report (the curve is computed by default with --report)."""
    base = tmp_path_factory.mktemp("run")
    out, rep = base / "out", base / "rep"
    res = invoke("stress", board, "--set", "council_cuts", "--workers", "1", "--out", out,
                 "--report", rep, "--quiet")
    assert res.exit_code == 0, res.output
    assert "exact curve along partners_council_cut_total" in res.output
    return {"out": out, "rep": rep}


def _summary(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------


def _results(objective: np.ndarray, **inputs: np.ndarray) -> pd.DataFrame:
    n = len(objective)
    return pd.DataFrame({"scenario": np.arange(n), "status": "optimal", "objective": objective,
                         "cut_depth": np.zeros(n),
                         **{f"input.{k}": v for k, v in inputs.items()}})


def test_one_input_that_moves_the_objective_dominates() -> None:
    rng = np.random.default_rng(1)
    a, b, c = rng.uniform(size=(3, 200))
    frame = _results(-100 * a + 2 * b, a=a, b=b, c=c)
    column, why = dominant_input(input_influence(frame), 200)
    assert column == "a" and "a dominates" in why


def test_two_inputs_that_move_it_alike_have_none_dominant() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.uniform(size=(2, 200))
    column, why = dominant_input(input_influence(_results(a + b, a=a, b=b)), 200)
    assert column is None and why.startswith("no one drawn input dominates")


def test_the_only_input_that_varies_dominates_even_when_not_monotone() -> None:
    a = np.linspace(-1, 1, 41)
    frame = _results(a ** 2, a=a, b=np.ones(41))  # b constant: not a drawn input that varies
    influence = input_influence(frame)
    assert [e["input"] for e in influence] == ["a"]
    assert abs(influence[0]["objective_correlation"]) < 0.1
    assert dominant_input(influence, 41)[0] == "a"


@pytest.mark.parametrize(("first", "second", "dominant"), [
    (DOMINANT, OTHERS, True), (-DOMINANT, -OTHERS, True), (0.99, 0.0, True),
    (DOMINANT - 0.01, 0.0, False), (0.95, OTHERS + 0.01, False), (0.95, -0.5, False)])
def test_the_thresholds(first: float, second: float, dominant: bool) -> None:
    influence = [{"input": "a", "objective_correlation": first},
                 {"input": "b", "objective_correlation": second},
                 {"input": "c", "objective_correlation": 0.0}]
    assert (dominant_input(influence, 100)[0] == "a") is dominant


def test_too_few_solved_scenarios_have_none() -> None:
    influence = [{"input": "a", "objective_correlation": 1.0}]
    column, why = dominant_input(influence, 9)
    assert column is None and "too few" in why


# ---------------------------------------------------------------------------------------------
# the line the curve follows
# ---------------------------------------------------------------------------------------------


def test_a_scaled_input_of_one_number_is_followed_in_its_values() -> None:
    inst = hwbopt.load(TUTORIAL)
    spec = StressInput(name="deeper", path=PATH, op="scale", dist="uniform", low=0.5, high=2.0)
    along = follow(inst, spec, np.array([0.7, 1.5]), table=False)
    assert not isinstance(along, str)
    council = next(p for p in inst.partners if p.id == "council")
    assert council.cut is not None
    own = council.cut.total
    assert (along.lo, along.hi, along.base) == pytest.approx((0.5 * own, 2.0 * own, own))
    assert along.drawn(along.hi) == pytest.approx(2.0)
    assert to_drawn(0.38, "add", 0.28) == pytest.approx(0.10)


def test_inputs_the_curve_cannot_follow_say_why() -> None:
    inst = hwbopt.load(TUTORIAL)
    many = StressInput(name="demand", path="activity[*].need", op="scale", dist="uniform",
                       low=0.9, high=1.1)
    assert "numbers at once" in str(follow(inst, many, np.array([1.0]), table=False))
    shared = StressInput(name="both", paths=(PATH, "partners[nhs].savings_rate"),
                         dist="uniform", low=0.0, high=0.1)
    assert "at once (paths)" in str(follow(inst, shared, np.array([0.0]), table=False))
    # a table's range is the values drawn
    table = StressInput(name="cut", path=PATH)
    along = follow(inst, table, np.array([0.3, 0.25, 0.4]), table=True)
    assert not isinstance(along, str) and (along.lo, along.hi) == (0.25, 0.4)


# ---------------------------------------------------------------------------------------------
# the curve in the run's folder
# ---------------------------------------------------------------------------------------------


def test_the_curve_in_the_run_equals_hwbopt_curve_run_on_its_own(board: Path,
                                                                   run: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    s = _summary(run["out"])
    entry = s["exact_curve"]
    assert s["dominant_input"] == COLUMN and s["exact_curve_reason"] is None
    assert (entry["input"], entry["path"], entry["from"], entry["to"]) == (COLUMN, PATH, LO, HI)
    assert entry["exact"] and entry["holds_plan"] and not entry["reused"]
    stored = json.loads((run["out"] / entry["file"]).read_text(encoding="utf-8"))
    assert stored["kind"] == "curve" and stored["provenance"]["stress"]["input"] == COLUMN
    # the command the summary records, typed as it says
    alone = tmp_path / "alone"
    typed = shlex.split(entry["command"])
    # the integer decisions held are those optimal at the instance's own value: its plan,
    # which the scenarios hold
    assert LO <= entry["base_value"] <= HI
    assert typed == ["hwbopt", "curve", str(board), "--input", PATH, "--from", str(LO), "--to",
                     str(HI), "--mip-checks", "0", "--hold-at", repr(entry["base_value"])]
    res = invoke(*typed[1:], "--out", alone)
    assert res.exit_code == 0, res.output
    theirs = _summary(alone)
    assert len(theirs["breakpoints"]) == len(stored["breakpoints"]) == \
        len(entry["breakpoints"]) >= 4
    for a, b, c in zip(theirs["breakpoints"], stored["breakpoints"], entry["breakpoints"],
                       strict=True):
        assert a["value"] == pytest.approx(b["value"], rel=1e-12, abs=1e-12) == c["value"]
        assert a["objective"] == pytest.approx(b["objective"], rel=1e-12) == c["objective"]
    assert theirs["targets"] == stored["targets"]
    assert theirs["dropouts"] == stored["dropouts"]
    # the tables too, as hwbopt curve --out writes them
    for name in ("breakpoints", "pieces", "targets", "outcomes"):
        pd.testing.assert_frame_equal(pd.read_csv(alone / f"{name}.csv"),
                                      pd.read_csv(run["out"] / "exact_curve" / f"{name}.csv"))


def test_the_curve_equals_a_fresh_solve_at_points_of_the_range(board: Path,
                                                               run: dict[str, Path]) -> None:
    """hwbopt.solve of the instance with the input set: a route that shares nothing with the
    curve's tracing (the objective between breakpoints read by straight lines)."""
    entry = _summary(run["out"])["exact_curve"]
    xs = [b["value"] for b in entry["breakpoints"]]
    ys = [b["objective"] for b in entry["breakpoints"]]
    inst = hwbopt.load(board)
    inside = [(a + b) / 2 for a, b in itertools.pairwise(xs)][:3]
    for t in [LO, *inside, 0.28, HI]:
        solved = hwbopt.solve(inst.with_changes({PATH: t}))
        assert solved.status == "optimal"
        assert float(np.interp(t, xs, ys)) == pytest.approx(solved.objective, rel=1e-6), t
    # at the instance's own value the curve is the plan the scenarios start from
    assert entry["objective_at_base"] == pytest.approx(entry["plan_objective"], rel=1e-9)


def test_the_report_draws_the_curve_over_the_scenarios(run: dict[str, Path],
                                                       tmp_path: Path) -> None:
    import openpyxl

    for rep in (run["rep"], tmp_path / "again"):
        if rep != run["rep"]:  # hwbopt report OUT: the same, from the folder alone
            assert invoke("report", run["out"], "--out", rep).exit_code == 0
        html = (rep / "report.html").read_text(encoding="utf-8")
        assert 'id="chart-exact_curve"' in html
        assert "The line is the exact curve (not sampled)" in html
        assert "every other input held at the instance" in html
        assert "Where each target stops being met along" in html
        sheets = openpyxl.load_workbook(rep / "report.xlsx", read_only=True).sheetnames
        assert {"exact_curve", "exact_curve_targets", "exact_curve_scenarios"} <= set(sheets)
    # the chart sits right after the sampled chart of the same input
    order = [html.index('id="chart-input_response_0"'), html.index('id="chart-exact_curve"'),
             html.index('id="chart-input_response_1"')]
    assert order == sorted(order)


def test_the_report_page_has_no_overlap(run: dict[str, Path]) -> None:
    from chromium import chromium_path, chromium_required, render
    from test_report_browser import OVERLAPS

    if chromium_path() is None and not chromium_required():
        pytest.skip("Chromium is not installed")
    page = render(run["rep"] / "report.html", expressions={"overlaps": OVERLAPS, "legend": (
        "document.querySelector('#chart-exact_curve .legend').textContent")})
    assert page.errors == [] and page.values["overlaps"] == []
    assert "exact curve" in page.values["legend"] and "scenarios" in page.values["legend"]


def test_a_set_with_no_dominant_input_shows_none(tmp_path: Path) -> None:
    out, rep = tmp_path / "out", tmp_path / "rep"
    res = invoke("stress", TUTORIAL, "--set", "cuts_and_pressures", "--scenarios", 64,
                 "--workers", "1", "--out", out, "--report", rep, "--quiet")
    assert res.exit_code == 0, res.output
    s = _summary(out)
    assert s["dominant_input"] is None and s["exact_curve"] is None
    assert s["exact_curve_reason"].startswith("no one drawn input dominates")
    assert not (out / "exact_curve").exists()
    html = (rep / "report.html").read_text(encoding="utf-8")
    assert "chart-exact_curve" not in html and "No exact curve is drawn" in html


def test_without_a_report_the_curve_waits_until_asked(board: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = invoke("stress", board, "--set", "council_cuts", "--workers", "1", "--out", out,
                 "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["dominant_input"] == COLUMN and s["exact_curve"] is None
    assert "--exact-curve adds it" in s["exact_curve_reason"]
    assert not (out / "exact_curve").exists()
    # a finished run resumed with --exact-curve gains it; resumed again, it is reused
    added = json.loads(invoke("stress", board, "--out", out, "--resume", "--exact-curve",
                              "--json").stdout)["exact_curve"]
    assert added is not None and not added["reused"]
    again = json.loads(invoke("stress", board, "--out", out, "--resume", "--json").stdout)
    assert again["exact_curve"]["reused"]
    assert again["exact_curve"]["breakpoints"] == added["breakpoints"]
    # a fresh run in the folder without it removes the old run's curve
    res = invoke("stress", board, "--set", "council_cuts", "--workers", "1", "--out", out,
                 "--force", "--no-exact-curve", "--json")
    assert res.exit_code == 0 and not (out / "exact_curve").exists()


def test_a_folder_the_run_did_not_write_is_left_alone(board: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "exact_curve").mkdir(parents=True)
    mine = out / "exact_curve" / "notes.txt"
    mine.write_text("mine\n", encoding="utf-8")
    res = invoke("stress", board, "--set", "council_cuts", "--workers", "1", "--out", out,
                 "--exact-curve", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["exact_curve"] is None and "holds files this run did not write" in \
        s["exact_curve_reason"]
    assert mine.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in (out / "exact_curve").iterdir()) == ["notes.txt"]
