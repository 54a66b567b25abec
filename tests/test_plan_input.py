"""What ``hwbopt plan`` reads before any solve: the ``probability`` column of a stress set's
table of explicit scenarios (folder and workbook forms, validated with file, row and column
named), and the command's options, refused with exit 2 and one line before any work.

``hwbopt stress`` reads the same tables: the column changes nothing it does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

import hwbopt
from hwbopt.cli import cli
from hwbopt.errors import InstanceError
from hwbopt.io.instance import read_instance, write_instance
from hwbopt.schema import PROBABILITY, StressSet

TABLE = "stress_explicit.csv"  # the tutorial's explicit set 'explicit': council_cut, qipp
ROWS = ("0.28,0.04", "0.35,0.05", "0.40,0.06")


def tutorial_with(tmp_path: Path, probabilities: tuple[str, ...] | None,
                  name: str = "board") -> Path:
    """A copy of the tutorial whose explicit table carries these ``probability`` cells."""
    folder = tmp_path / name
    shutil.copytree(hwbopt.shipped_instance("tutorial"), folder)
    if probabilities is not None:
        lines = ["council_cut,qipp,probability",
                 *(f"{r},{p}" for r, p in zip(ROWS, probabilities, strict=True))]
        (folder / TABLE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def explicit(inst: hwbopt.Instance) -> StressSet:
    return next(s for s in inst.stress if s.id == "explicit")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        read_instance(folder)
    return [str(p) for p in caught.value.problems]


# ---------------------------------------------------------------------------------------------
# the column, read and written
# ---------------------------------------------------------------------------------------------


def test_probability_column_is_read_and_normalised(tmp_path: Path) -> None:
    inst, _ = read_instance(tutorial_with(tmp_path, ("2", "1", "1")))
    s = explicit(inst)
    assert s.table_probabilities == (2.0, 1.0, 1.0)
    assert s.table_rows == ((0.28, 0.04), (0.35, 0.05), (0.40, 0.06))
    assert s.probabilities() == pytest.approx((0.5, 0.25, 0.25))
    assert s.probabilities(2) == pytest.approx((2 / 3, 1 / 3))  # the first rows, renormalised
    assert sum(s.probabilities()) == pytest.approx(1.0)


def test_without_the_column_scenarios_are_equally_likely(tmp_path: Path) -> None:
    s = explicit(read_instance(tutorial_with(tmp_path, None))[0])
    assert s.table_probabilities == ()
    assert s.probabilities() == pytest.approx((1 / 3,) * 3)
    drawn = next(t for t in read_instance(tutorial_with(tmp_path, None, "b"))[0].stress
                 if t.id == "cuts_and_pressures")
    assert drawn.probabilities(4) == (0.25,) * 4


def test_huge_probabilities_normalise_without_overflow(tmp_path: Path) -> None:
    s = explicit(read_instance(tutorial_with(tmp_path, ("1e308", "1e308", "0")))[0])
    assert s.probabilities() == pytest.approx((0.5, 0.5, 0.0))


def test_zero_probability_rows_are_allowed_if_one_is_possible(tmp_path: Path) -> None:
    s = explicit(read_instance(tutorial_with(tmp_path, ("0", "0", "3")))[0])
    assert s.probabilities() == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="all have probability 0"):
        s.probabilities(2)


def test_folder_and_workbook_round_trip_the_column(tmp_path: Path) -> None:
    inst, _ = read_instance(tutorial_with(tmp_path, ("0.5", "0.3", "0.2")))
    book = write_instance(inst, tmp_path / "board.xlsx")
    rows = [r for r in load_workbook(book)["stress_table"].iter_rows(values_only=True)
            if r[0] == "explicit"]
    assert [r[3] for r in rows if r[2] == PROBABILITY] == [0.5, 0.3, 0.2]
    from_book, _ = read_instance(book)
    assert from_book == inst
    back = write_instance(from_book, tmp_path / "again")
    assert (back / TABLE).read_text(encoding="utf-8").splitlines()[0] == \
        "council_cut,qipp,probability"
    assert read_instance(back)[0] == inst


def test_a_table_without_probabilities_is_written_without_the_column(tmp_path: Path) -> None:
    inst, _ = read_instance(tutorial_with(tmp_path, None))
    back = write_instance(inst, tmp_path / "again")
    assert (back / TABLE).read_text(encoding="utf-8").splitlines()[0] == "council_cut,qipp"
    book = write_instance(inst, tmp_path / "board.xlsx")
    inputs = {r[2] for r in load_workbook(book)["stress_table"].iter_rows(values_only=True)}
    assert PROBABILITY not in inputs


# ---------------------------------------------------------------------------------------------
# bad values: file, row and column named, exit 2
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["-0.1", "x", "", "nan", "inf", "-inf", "1_0", "true"])
def test_bad_probability_names_file_line_and_column(tmp_path: Path, cell: str) -> None:
    folder = tutorial_with(tmp_path, ("0.5", cell, "0.2"))
    found = problems_of(folder)
    assert len(found) == 1, found
    assert found[0].startswith(f"{TABLE}, line 3, field 'probability': expected a probability")
    assert repr(cell) in found[0]
    proc = invoke("validate", folder)
    assert proc.exit_code == 2
    assert f"{TABLE}, line 3, field 'probability'" in proc.stderr


@pytest.mark.parametrize("header", ["Probability", "PROBABILITY", " probability_"])
def test_a_misspelt_probability_column_is_refused(tmp_path: Path, header: str) -> None:
    folder = tutorial_with(tmp_path, None)
    (folder / TABLE).write_text(f"council_cut,qipp,{header}\n0.28,0.04,1\n", encoding="utf-8")
    found = problems_of(folder)
    assert found == [f"{TABLE}, line 1, field '{header.strip()}': expected 'probability' "
                     "exactly for the column of each scenario's probability"], found


def test_all_zero_probabilities_are_refused_once(tmp_path: Path) -> None:
    found = problems_of(tutorial_with(tmp_path, ("0", "0", "0")))
    assert found == [f"{TABLE}, probability: every scenario has probability 0: at least one "
                     "must be possible (the column gives each row's relative probability)"]


def test_an_input_may_not_be_called_probability(tmp_path: Path) -> None:
    folder = tutorial_with(tmp_path, None)
    yaml = folder / "instance.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("name: qipp", "name: probability"),
                    encoding="utf-8")
    (folder / TABLE).write_text("council_cut,probability\n0.28,0.04\n", encoding="utf-8")
    found = problems_of(folder)
    assert any("may not be named 'probability'" in p for p in found), found


def test_the_schema_checks_probabilities_given_in_python() -> None:
    inputs = [{"name": "cut", "path": "partners[council].cut.total"}]
    base = {"id": "s", "table": "t.csv", "inputs": inputs, "table_rows": [[0.1], [0.2]]}
    assert StressSet.model_validate({**base, "table_probabilities": [1, 3]}).probabilities() \
        == pytest.approx((0.25, 0.75))
    for bad, why in (([1], "1 probabilities for 2 table rows"), ([0, 0], "are all 0"),
                     ([1, -1], "greater than or equal to 0"), ([1, float("nan")], "finite")):
        with pytest.raises(ValueError, match=why):
            StressSet.model_validate({**base, "table_probabilities": bad})


def _workbook(tmp_path: Path, probabilities: tuple[float, ...]) -> Path:
    inst, _ = read_instance(tutorial_with(tmp_path, tuple(map(str, probabilities))))
    return write_instance(inst, tmp_path / "board.xlsx")


def _edit_probability(book: Path, scenario: int, value: object) -> str:
    """Set (or with None, delete) scenario ``scenario``'s probability row; its cell."""
    wb = load_workbook(book)
    ws = wb["stress_table"]
    for row in ws.iter_rows(min_row=3):
        if row[0].value == "explicit" and row[1].value == scenario and \
                row[2].value == PROBABILITY:
            if value is None:
                ws.delete_rows(row[0].row)
                wb.save(book)
                return ""
            row[3].value = value
            wb.save(book)
            return row[3].coordinate
    raise AssertionError("no probability row")


def test_workbook_negative_probability_names_the_cell(tmp_path: Path) -> None:
    book = _workbook(tmp_path, (0.5, 0.3, 0.2))
    cell = _edit_probability(book, 2, -1.0)
    found = problems_of(book)
    assert len(found) == 1 and found[0].startswith(f"stress_table!{cell} (value): expected a "
                                                   "probability"), found


def test_workbook_probability_for_some_scenarios_only(tmp_path: Path) -> None:
    book = _workbook(tmp_path, (0.5, 0.3, 0.2))
    _edit_probability(book, 3, None)
    found = problems_of(book)
    assert len(found) == 1 and "scenario 3 of stress set 'explicit' has no probability" in \
        found[0], found


def test_workbook_bad_input_row_without_probabilities_is_one_problem(tmp_path: Path) -> None:
    inst, _ = read_instance(tutorial_with(tmp_path, None))
    book = write_instance(inst, tmp_path / "board.xlsx")
    wb = load_workbook(book)
    wb["stress_table"]["D4"].value = "high"
    wb.save(book)
    found = problems_of(book)
    assert len(found) == 1 and found[0].startswith("stress_table!D4 (value)"), found


def test_workbook_all_zero_probabilities(tmp_path: Path) -> None:
    book = _workbook(tmp_path, (0.5, 0.3, 0.2))
    for n in (1, 2, 3):
        _edit_probability(book, n, 0)
    found = problems_of(book)
    assert len(found) == 1 and "has probability 0" in found[0], found


# ---------------------------------------------------------------------------------------------
# stress is unchanged by the column
# ---------------------------------------------------------------------------------------------


def test_stress_ignores_the_column(tmp_path: Path) -> None:
    runs = {}
    for name, chances in (("plain", None), ("weighted", ("0.7", "0.2", "0.1"))):
        folder = tutorial_with(tmp_path, chances, name)
        proc = invoke("stress", folder, "--set", "explicit", "--workers", "1", "--quiet",
                      "--json", "--out", tmp_path / f"run-{name}", "--cold-check", "0")
        assert proc.exit_code == 0, proc.output
        runs[name] = json.loads(proc.stdout)
    keep = ("scenarios", "solved", "objective_percentiles", "target_probability",
            "target_probability_by_year", "binding", "plan_changes")
    assert {k: runs["plain"][k] for k in keep} == {k: runs["weighted"][k] for k in keep}


# ---------------------------------------------------------------------------------------------
# hwbopt plan: options refused before any work (exit 2, one line)
# ---------------------------------------------------------------------------------------------

TUTORIAL = hwbopt.shipped_instance("tutorial")


@pytest.fixture
def no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the case if the command reads the instance: bad options come first."""
    import hwbopt.cli

    def read(path: str) -> None:
        raise AssertionError(f"read {path} before checking the options")

    monkeypatch.setattr(hwbopt.cli, "_read", read)


@pytest.fixture
def no_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the case if the command starts planning: requests are checked first."""
    import hwbopt.plan

    def plan(*args: object, **kw: object) -> None:
        raise AssertionError("planned before checking the request")

    monkeypatch.setattr(hwbopt.plan, "plan", plan)


@pytest.mark.parametrize(("args", "says"), [
    (("--alpha", "1"), "'--alpha': 1.0 is not in the range 0<x<1"),
    (("--alpha", "0"), "'--alpha': 0.0 is not in the range 0<x<1"),
    (("--alpha", "nan"), "'--alpha': 'nan' is not a finite number"),
    (("--weight", "1.5", "--risk", "cvar"), "'--weight': 1.5 is not in the range 0<=x<=1"),
    (("--weight", "-0.1", "--risk", "cvar"), "'--weight': -0.1 is not in the range 0<=x<=1"),
    (("--risk", "worst"), "'--risk': 'worst' is not one of 'expectation', 'cvar'"),
    (("--method", "benders"), "'--method': 'benders' is not one of 'auto', 'extensive', "
                              "'decomposed'"),
    (("--evaluate", "1"), "'--evaluate': 1 is not in the range x>=2"),
    (("--workers", "0"), "'--workers': 0 is not in the range x>=1"),
    (("--scenarios", "0"), "'--scenarios': 0 is not in the range x>=1"),
    (("--seed", "-1"), "'--seed': -1 is not in the range x>=0"),
    (("--mip-gap", "1"), "'--mip-gap': 1.0 is not in the range 0<=x<1"),
    (("--time-limit", "0"), "'--time-limit': 0.0 is not in the range x>0"),
])
def test_plan_bad_option_values_exit_2(args: tuple[str, ...], says: str, no_read: None) -> None:
    proc = invoke("plan", TUTORIAL, "--set", "explicit", *args)
    assert proc.exit_code == 2, proc.output
    assert says in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(("args", "says"), [
    (("--weight", "0.5"), "error: --weight shapes the CVaR part of the objective: add --risk "
                          "cvar"),
    (("--alpha", "0.8", "--risk", "expectation"), "error: --alpha shapes the CVaR part"),
    (("--alpha", "0.8", "--weight", "0.2"), "error: --alpha and --weight shape the CVaR part"),
    (("--weight", "0.5", "--out", "/proc/nowhere"), "error: --weight shapes the CVaR part"),
    (("--set", "nosuch"), "error: unknown stress set 'nosuch': expected one of "
                          "cuts_and_pressures, explicit"),
    (("--set", "explicit", "--scenarios", "4"), "error: stress set 'explicit' has a table of 3 "
                                                 "scenarios: --scenarios 4 asks for more"),
])
def test_plan_requests_no_run_can_honour_exit_2_in_one_line(args: tuple[str, ...], says: str,
                                                            no_plan: None) -> None:
    proc = invoke("plan", TUTORIAL, *args)
    assert proc.exit_code == 2, proc.output
    assert proc.stderr.startswith(says), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_plan_without_set_and_no_default_of_several_exits_2(tmp_path: Path,
                                                            no_plan: None) -> None:
    # the tutorial names its default (settings.stress_set); without it, --set is needed
    folder = tutorial_with(tmp_path, None)
    yaml_file = folder / "instance.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    assert "  stress_set: cuts_and_pressures" in text
    yaml_file.write_text("\n".join(line for line in text.splitlines()
                                    if not line.startswith("  stress_set:")) + "\n",
                         encoding="utf-8")
    proc = invoke("plan", folder)
    assert proc.exit_code == 2, proc.output
    assert proc.stderr.startswith("error: the instance defines several stress sets: choose "
                                  "one with --set (cuts_and_pressures, explicit)"), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_plan_first_rows_without_probability_exit_2(tmp_path: Path, no_plan: None) -> None:
    folder = tutorial_with(tmp_path, ("0", "0", "1"))
    proc = invoke("plan", folder, "--set", "explicit", "--scenarios", "2")
    assert proc.exit_code == 2, proc.output
    assert proc.stderr == (f"error: stress set 'explicit', table {TABLE}: the first 2 scenarios "
                           "of the table all have probability 0; choose more scenarios with "
                           "--scenarios\n")


def test_plan_out_refuses_another_commands_results_before_any_work(tmp_path: Path,
                                                                   no_plan: None) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"kind": "solve"}), encoding="utf-8")
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--out", out)
    assert proc.exit_code == 2, proc.output
    assert "holds the results of `hwbopt solve`" in proc.stderr and "--force" in proc.stderr


def test_plan_out_paths_are_refused_before_reading(tmp_path: Path, no_read: None) -> None:
    instance = tutorial_with(tmp_path, None)
    proc = invoke("plan", instance, "--set", "explicit", "--out", instance)
    assert proc.exit_code == 2 and "holds an instance (instance.yaml)" in proc.stderr
    (tmp_path / "file").write_text("x", encoding="utf-8")
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--out", tmp_path / "file")
    assert proc.exit_code == 2 and "exists and is not a folder" in proc.stderr


def test_plan_help_lists_every_option() -> None:
    proc = invoke("plan", "--help")
    assert proc.exit_code == 0
    for option in ("--set", "--scenarios", "--seed", "--risk", "--alpha", "--weight",
                   "--method", "--objective", "--time-limit", "--mip-gap", "--json", "--out",
                   "--force", "--evaluate", "--report", "--workers", "--scheduler",
                   "decomposed"):
        assert option in proc.stdout
    from hwbopt.plan.scenarios import DEFAULT_SCENARIOS

    assert f"at most {DEFAULT_SCENARIOS})" in " ".join(proc.stdout.split())


# ---------------------------------------------------------------------------------------------
# hwbopt plan end to end on the tutorial's explicit set (three scenarios, well under a second)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One ``plan --json --out`` run, and the same plan from the Python API."""
    from hwbopt.plan import plan

    out = tmp_path_factory.mktemp("plan") / "hedged"
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--json", "--out", out)
    inst = hwbopt.load(TUTORIAL)
    return {"proc": proc, "out": out, "inst": inst, "plan": plan(inst, stress_set="explicit")}


def test_plan_json_is_the_contract_and_out_holds_it_with_the_tables(
        planned: dict[str, object]) -> None:
    from hwbopt.plan import SUMMARY_KEYS
    from hwbopt.results import empty_tables

    proc, out = planned["proc"], planned["out"]
    assert isinstance(proc, Result) and isinstance(out, Path)
    assert proc.exit_code == 0, proc.output
    summary = json.loads(proc.stdout)
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["kind"] == "plan" and summary["status"] == "optimal"
    assert summary["scenarios"] == 3 and summary["stress_set"] == "explicit"
    assert summary["risk"] == {"measure": "expectation", "alpha": 0.9, "weight": 0.0}
    assert summary["provenance"]["instance_source"] == str(TUTORIAL)
    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    timing = ("seconds", "provenance")
    assert {k: v for k, v in written.items() if k not in timing} == \
        {k: v for k, v in summary.items() if k not in timing}
    from hwbopt.plan.tables import PLAN_TABLES

    assert {p.stem for p in out.glob("*.csv")} == set(empty_tables()) | set(PLAN_TABLES)
    header = (out / "allocation.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(empty_tables()["allocation"].columns)


def test_plan_out_is_its_own_to_rewrite_and_others_refuse_it(planned: dict[str, object],
                                                             tmp_path: Path) -> None:
    out = planned["out"]
    assert isinstance(out, Path)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    proc = invoke("solve", TUTORIAL, "--out", copy)
    assert proc.exit_code == 2 and "holds the results of `hwbopt plan`" in proc.stderr
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--out", copy, "--risk", "cvar")
    assert proc.exit_code == 0, proc.output
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    assert summary["risk"]["measure"] == "cvar" and "wrote results to" in proc.stdout


@pytest.mark.parametrize("width", [80, 120])
def test_plan_terminal_fits_and_speaks_a_boards_words(planned: dict[str, object],
                                                      width: int) -> None:
    from rich.console import Console

    from hwbopt.plan import PlanResult
    from hwbopt.report.plan_text import print_plan

    result, inst = planned["plan"], planned["inst"]
    assert isinstance(result, PlanResult) and isinstance(inst, hwbopt.Instance)
    console = Console(width=width, record=True, highlight=False)
    print_plan(result, inst, "auto", console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    flat = " ".join(text.split())
    for words in ("What to commit now", "close Old Mill day centre by 2013/14",
                  "keep Riverside Hub (council offices) open throughout",
                  "VSS: committing to the hedged plan instead of the plan for the average future",
                  "EVPI: knowing which future will come before committing would be worth",
                  "probability of meeting every year's target", "--method auto chose it"):
        assert words in flat, words


def test_plan_terminal_shows_where_the_hedged_plan_differs() -> None:
    """The hand-derived site case (tests/test_plan.py): the hedged plan closes the hub for
    2014/15, the plan for the average future keeps it; 60% of the futures' own best plans
    close it."""
    from rich.console import Console

    from hwbopt.plan import plan
    from hwbopt.report.plan_text import print_plan

    inst = hwbopt.load(Path(__file__).parent / "plan_cases" / "site_cut")
    console = Console(width=80, record=True, highlight=False)
    print_plan(plan(inst, stress_set="cuts"), inst, "auto", console)
    text = console.export_text()
    flat = " ".join(text.split())
    assert "Where the hedged plan differs from the plan for the average future" in flat
    assert "close hub by 2014/15 │ closed │ open │ 60%" in flat
    assert max(len(line) for line in text.splitlines()) <= 80


def test_commitments_in_words() -> None:
    from hwbopt.report.plan_text import commitment, decision_value, parse_decision

    inst = hwbopt.load(TUTORIAL)
    assert parse_decision("open[old_mill,2013]") == ("open", ("old_mill", 2013))
    assert commitment(inst, "open[old_mill,2013]", 0.0) == "close Old Mill day centre by 2013/14"
    assert commitment(inst, "open[old_mill,2014]", 1.0) == \
        "keep Old Mill day centre open in 2014/15"
    assert commitment(inst, "recruit[council,reablement_worker,2013]", 2.5) == \
        "recruit 2.5 FTE Reablement support worker at Riverside County Council in 2013/14"
    assert commitment(inst, "contribution[council,bcf,2013]", 0.0) == \
        "Riverside County Council puts nothing into Better Care Fund pool in 2013/14"
    assert commitment(inst, "activity[telecare,all,2013]", 3.0) is None
    assert commitment(inst, "recruit[council,reablement_worker,2013]", 2.86051) == \
        "recruit 2.86 FTE Reablement support worker at Riverside County Council in 2013/14"
    assert decision_value("open[old_mill,2013]", 1.0) == "open"
    assert decision_value("open[old_mill,2013]", 0.0) == "closed"
    assert decision_value("run[hub,2013]", 0.0) == "not run"
    assert decision_value("activity[telecare,all,2013]", 1234.6) == "1,235"
    assert decision_value("recruit[council,reablement_worker,2013]", 0.505303) == "0.5053"


def test_years_and_services_in_words() -> None:
    from hwbopt.report.plan_text import _services, _years

    assert _years([2013]) == "2013/14"
    assert _years([2014, 2013]) == "2013/14 and 2014/15"
    assert _years([2013, 2014, 2015]) == "2013/14 to 2015/16"
    assert _years([2013, 2015, 2016]) == "2013/14, 2015/16 and 2016/17"
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    hub = "Integrated hospital discharge hub (new)"
    assert _services(inst, {"discharge_hub": [2012, 2013, 2014]}, {"discharge_hub": [2012]}) \
        == [f"run {hub} in 2012/13 to 2014/15 (starting in 2012/13)"]
    assert _services(inst, {"discharge_hub": []}, {}) == [f"do not run {hub}"]


def test_the_plan_weighs_its_scenarios_by_the_column(tmp_path: Path) -> None:
    """All the probability on the first row: the hedged plan is that future's own best plan,
    so RP equals WS and perfect information is worth nothing; spread evenly it is not."""
    from hwbopt.plan import plan

    certain = plan(read_instance(tutorial_with(tmp_path, ("1", "0", "0")))[0],
                   stress_set="explicit")
    assert certain.status == "optimal" and certain.rp is not None
    assert list(certain.probability) == [1.0, 0.0, 0.0]
    assert certain.rp == pytest.approx(certain.ws, rel=1e-6)
    assert certain.evpi == pytest.approx(0.0, abs=1e-6 * abs(certain.rp))
    even = plan(read_instance(tutorial_with(tmp_path, None, "even"))[0], stress_set="explicit")
    assert list(even.probability) == pytest.approx([1 / 3] * 3)
    assert even.rp != pytest.approx(certain.rp, rel=1e-6)


@pytest.mark.parametrize("args", [[], ["--json"]])
def test_plan_into_a_closed_pipe_is_not_an_error(args: list[str]) -> None:
    import subprocess

    from conftest import hwbopt_command

    proc = subprocess.Popen([*hwbopt_command(), "plan", str(TUTORIAL), "--set", "explicit",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "error" not in err.lower() and "Traceback" not in err


def test_plan_without_a_plan_writes_its_summary_and_empty_tables(tmp_path: Path) -> None:
    """As solve: no plan within the time limit is exit 4, and --out still holds the whole
    set of files (header-only tables), never an earlier run's tables."""
    from hwbopt.results import empty_tables

    out = tmp_path / "hedged"
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--out", out)
    assert proc.exit_code == 0, proc.output
    proc = invoke("plan", TUTORIAL, "--set", "explicit", "--out", out, "--time-limit", "1e-9")
    assert proc.exit_code == 4, proc.output
    assert proc.stderr.startswith("error: time_limit: ")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "time_limit" and summary["rp"] is None
    for name, table in empty_tables().items():
        lines = (out / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines == [",".join(table.columns)], name
