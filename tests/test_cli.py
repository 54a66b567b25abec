"""The ``hwbopt`` command as a user types it: solve, --json, --out, init, validate, exit codes.

Every test runs the installed command in a subprocess. The independent runs are started
together, in parallel, the first time a test needs one (each process costs a second or more of
imports); the tests then read their run's exit code, stdout and stderr.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import copy_instance, run_cli
from expected_results import value as expected_value

import hwbopt

# derived by hand in instances/tutorial/README.md and recorded in its expected.json
TUTORIAL_OBJECTIVE = expected_value("tutorial", "objective")
INTERVENTION_NAMES = ("Home reablement", "Telecare", "Talking therapies", "Befriending",
                      "Weight management", "Exercise on referral")
PARTNER_NAMES = ("Riverside CCG", "Riverside County Council")
PRIORITY_NAMES = ("Older people's independence", "Mental health", "Healthy weight")
PARTNERS = {"nhs", "council"}
PRIORITIES = {"older_people", "mental_health", "obesity"}
YEARS = (2013, 2014)
TIMING = {"solve_seconds", "build_seconds", "provenance"}  # differ from run to run

CONTRACT = {"status", "objective", "objective_kind", "total_spend", "spend_by_partner",
            "outcome_by_priority", "targets", "solve_seconds", "model"}
RESULT_COLUMNS = {
    "allocation": ["partner", "fund", "source", "intervention", "locality", "year", "money",
                   "activity"],
    "outcomes": ["priority", "year", "achieved", "target", "shortfall", "met", "hard"],
    "budgets": ["partner", "year", "baseline", "cut", "savings_required", "available", "fenced",
                "avoided_costs", "qipp_credit", "pooled", "retained", "spent", "unspent"],
    "avoided_costs": ["from", "to", "intervention", "year", "amount"],
    "pools": ["pool", "partner", "year", "contributed", "spent"],
    "activity": ["intervention", "locality", "year", "current", "activity", "need", "unit_cost",
                 "money"],
}

Proc = subprocess.CompletedProcess[str]


def run_parallel(jobs: dict[str, tuple]) -> dict[str, Proc]:
    """``run_cli(*args)`` for each job, several at a time."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {key: pool.submit(run_cli, *args) for key, args in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


def infeasible_copy(dest: Path) -> Path:
    """The tutorial with a hard mental-health target no budget can reach."""
    folder = copy_instance("tutorial", dest)
    path = folder / "targets.csv"
    text = path.read_text(encoding="utf-8")
    assert "mental_health,2013,150" in text
    path.write_text(text.replace("mental_health,2013,150", "mental_health,2013,100000"),
                    encoding="utf-8")
    return folder


def unreachable_copy(dest: Path) -> Path:
    """The tutorial with an older people's target of 300: more than every service can give."""
    folder = copy_instance("tutorial", dest)
    path = folder / "targets.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("older_people,2013,200", "older_people,2013,300"),
                    encoding="utf-8")
    return folder


def reachable_copy(dest: Path) -> Path:
    """The tutorial with older people's targets (soft, and missed) lowered to 190."""
    folder = copy_instance("tutorial", dest)
    path = folder / "targets.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count("older_people,201") == 2
    path.write_text(text.replace("older_people,2013,200", "older_people,2013,190")
                    .replace("older_people,2014,200", "older_people,2014,190"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def runs(work: Path) -> dict[str, Proc]:
    """Every independent command of this module, run once."""
    tutorial = hwbopt.shipped_instance("tutorial")
    infeasible = infeasible_copy(work / "infeasible")
    clash = work / "clash"
    clash.mkdir()
    (clash / "instance.yaml").write_text("# my own board, do not touch\n", encoding="utf-8")
    return run_parallel({
        "solve": ("solve", tutorial),
        "json": ("solve", tutorial, "--json"),
        "out": ("solve", tutorial, "--out", work / "out"),
        "cost": ("solve", reachable_copy(work / "reachable"), "--objective", "cost", "--json"),
        "cost-tutorial": ("solve", tutorial, "--objective", "cost", "--json"),
        "cost-unreachable": ("solve", unreachable_copy(work / "unreachable"), "--objective",
                             "cost", "--json"),
        "time-limit-0": ("solve", tutorial, "--time-limit", "0"),
        "time-limit-negative": ("solve", tutorial, "--time-limit", "-5"),
        "time-limit-text": ("solve", tutorial, "--time-limit", "soon"),
        "infeasible": ("solve", infeasible),
        "infeasible-json": ("solve", infeasible, "--json"),
        "init": ("init", work / "new-board"),
        "init-clash": ("init", clash),
        "validate": ("validate", tutorial),
        "version": ("--version",),
        "help": ("--help",),
        "unknown-command": ("optimise", tutorial),
        "unknown-option": ("solve", tutorial, "--fast"),
        "unknown-objective": ("solve", tutorial, "--objective", "happiness"),
    })


def shown(proc: Proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def no_traceback(proc: Proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, shown(proc)


def json_only(proc: Proc) -> dict:
    """stdout is exactly one JSON object: no banner, no table, no trailing text."""
    data = json.loads(proc.stdout)
    assert isinstance(data, dict), shown(proc)
    assert proc.stdout.lstrip().startswith("{") and proc.stdout.rstrip().endswith("}")
    return data


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def same(a: object, b: object) -> bool:
    """Equal JSON values, numbers to 1e-9 relative (bools and text exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return close(a, b, rel=1e-9, abs_=1e-9)
    return a == b


# ---------------------------------------------------------------------------------------------
# solve
# ---------------------------------------------------------------------------------------------


def test_solve_prints_the_plan_with_names(runs: dict[str, Proc]) -> None:
    proc = runs["solve"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    out = proc.stdout
    assert "Riverside tutorial" in out and "optimal" in out
    assert f"{TUTORIAL_OBJECTIVE:,.2f}" in out  # the objective, as printed
    for heading in ("Allocation", "Outcomes", "Partners' money"):
        assert heading in out, shown(proc)
    for name in INTERVENTION_NAMES + PARTNER_NAMES + PRIORITY_NAMES:
        assert name in out, f"{name!r} missing from\n{out}"
    for year in ("2013/14", "2014/15"):
        assert year in out
    assert out.index("Allocation") < out.index("Outcomes") < out.index("Partners' money")


def test_solve_json_is_one_object_with_the_contract(runs: dict[str, Proc]) -> None:
    proc = runs["json"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    s = json_only(proc)
    assert set(s) >= CONTRACT, CONTRACT - set(s)
    assert s["status"] == "optimal"
    assert s["objective_kind"] == "outcome"
    assert math.isclose(s["objective"], TUTORIAL_OBJECTIVE, rel_tol=1e-6)
    assert set(s["spend_by_partner"]) == PARTNERS
    assert all(v >= 0 for v in s["spend_by_partner"].values())
    assert close(sum(s["spend_by_partner"].values()), s["total_spend"])
    assert close(s["total_spend"], expected_value("tutorial", "total_spend"))
    assert set(s["outcome_by_priority"]) == PRIORITIES
    assert isinstance(s["solve_seconds"], int | float) and s["solve_seconds"] >= 0
    assert set(s["model"]) >= {"variables", "constraints"}
    assert all(isinstance(s["model"][k], int) and s["model"][k] > 0
               for k in ("variables", "constraints"))
    # one entry per target in targets.csv
    targets = s["targets"]
    assert isinstance(targets, list)
    assert {(t["priority"], t["year"]) for t in targets} == {
        (k, y) for k in PRIORITIES for y in YEARS}
    for t in targets:
        assert {"priority", "year", "target", "achieved", "shortfall"} <= set(t)
        assert close(t["shortfall"], max(t["target"] - t["achieved"], 0.0))
        if t["priority"] == "mental_health":  # hard target: met
            assert t["shortfall"] <= 1e-6
    # outcome per priority is the sum of its yearly outcomes
    for k in PRIORITIES:
        achieved = [t["achieved"] for t in targets if t["priority"] == k]
        assert close(s["outcome_by_priority"][k], sum(achieved))


def test_solve_json_matches_the_python_api(runs: dict[str, Proc], tutorial) -> None:
    s = json_only(runs["json"])
    result = hwbopt.solve(tutorial)
    api = result.summary()
    for key in CONTRACT - TIMING:
        assert same(s[key], api[key]), (key, s[key], api[key])


def test_solve_out_writes_every_table_and_the_summary(runs: dict[str, Proc],
                                                       work: Path) -> None:
    proc = runs["out"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    out = work / "out"
    assert "wrote results to" in proc.stdout
    names = {p.name for p in out.iterdir()}
    # later issues may add tables and columns (never drop or rename them)
    assert {f"{t}.csv" for t in RESULT_COLUMNS} | {"summary.json"} <= names
    tables = {}
    for table, columns in RESULT_COLUMNS.items():
        header, rows = read_csv(out / f"{table}.csv")
        assert header[:len(columns)] == columns, table
        tables[table] = rows
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    from_json = json_only(runs["json"])
    assert set(summary) == set(from_json)
    for key in set(summary) - TIMING:
        assert summary[key] == from_json[key], key

    # the tables agree with the summary and with the instance
    assert close(sum(float(r["money"]) for r in tables["allocation"]), summary["total_spend"])
    assert {r["partner"] for r in tables["allocation"]} <= PARTNERS
    assert {r["fund"] for r in tables["allocation"]} <= {"retained", "ring_fenced", "pooled"}
    activity = {(r["intervention"], int(r["year"])) for r in tables["activity"]}
    assert len(activity) == len(tables["activity"]) == 6 * len(YEARS)
    assert {(r["partner"], int(r["year"])) for r in tables["budgets"]} == {
        (p, y) for p in PARTNERS for y in YEARS}
    assert {(r["priority"], int(r["year"])) for r in tables["outcomes"]} == {
        (k, y) for k in PRIORITIES for y in YEARS}
    assert {(r["pool"], r["partner"]) for r in tables["pools"]} == {
        ("bcf", "nhs"), ("bcf", "council")}
    assert {(r["to"], r["intervention"]) for r in tables["avoided_costs"]} <= {
        ("nhs", "reablement")}


def test_solve_objective_cost(runs: dict[str, Proc]) -> None:
    proc = runs["cost"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    s = json_only(proc)
    assert s["status"] == "optimal"
    assert s["objective_kind"] == "cost"
    assert isinstance(s["objective"], float) and s["objective"] > 0
    # the cheapest plan meets every target (in cost mode all targets are hard) ...
    assert len(s["targets"]) == 6
    assert all(t["shortfall"] <= 1e-6 * max(1.0, t["target"]) for t in s["targets"])
    # ... and its cost is all the partners pay out: services, staff and buildings (no
    # discounting in the tutorial)
    assert close(s["objective"], s["total_cost"])


def test_solve_objective_cost_on_the_tutorial(runs: dict[str, Proc]) -> None:
    """Every target is hard when minimising cost; the tutorial meets them all for 3,268.034
    (3,108.034 on services and 160 on buildings: instances/tutorial/README.md)."""
    proc = runs["cost-tutorial"]
    assert proc.returncode == 0, shown(proc)
    s = json_only(proc)
    assert (s["status"], s["objective_kind"]) == ("optimal", "cost")
    assert close(s["objective"], 3268.034) and close(s["total_cost"], 3268.034)
    assert s["targets_met"] == s["targets_total"] == 6


def test_solve_objective_cost_unreachable_target_is_infeasible(runs: dict[str, Proc]) -> None:
    """Older people's 300 is beyond what every service at its need achieves (266): an honest
    'infeasible' (exit 3), not a crash or a fake optimum."""
    proc = runs["cost-unreachable"]
    assert proc.returncode == 3, shown(proc)
    no_traceback(proc)
    s = json_only(proc)
    assert (s["status"], s["objective"], s["objective_kind"]) == ("infeasible", None, "cost")


@pytest.mark.parametrize("key", ["time-limit-0", "time-limit-negative", "time-limit-text",
                                 "unknown-option", "unknown-objective"])
def test_solve_usage_errors_exit_2(runs: dict[str, Proc], key: str) -> None:
    proc = runs[key]
    assert proc.returncode == 2, shown(proc)
    no_traceback(proc)
    assert proc.stdout == ""
    assert "Error" in proc.stderr or "error" in proc.stderr
    if key.startswith("time-limit"):
        assert "--time-limit" in proc.stderr


def test_infeasible_exits_3_and_names_the_rule(runs: dict[str, Proc]) -> None:
    proc = runs["infeasible"]
    assert proc.returncode == 3, shown(proc)
    no_traceback(proc)
    assert "infeasible" in proc.stdout + proc.stderr
    assert "error: infeasible" in proc.stderr
    assert "targets" in proc.stderr, shown(proc)


def test_infeasible_json(runs: dict[str, Proc]) -> None:
    proc = runs["infeasible-json"]
    assert proc.returncode == 3, shown(proc)
    no_traceback(proc)
    s = json_only(proc)
    assert s["status"] == "infeasible"
    assert s["objective"] is None
    assert "targets" in s["message"]
    assert set(s) >= CONTRACT


# ---------------------------------------------------------------------------------------------
# init, validate, --version, unknown commands
# ---------------------------------------------------------------------------------------------


def test_init_copies_the_tutorial_which_then_validates_and_solves(
        runs: dict[str, Proc], work: Path) -> None:
    proc = runs["init"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    new = work / "new-board"
    tutorial = hwbopt.shipped_instance("tutorial")
    for src in tutorial.iterdir():
        if src.is_file():
            assert (new / src.name).read_bytes() == src.read_bytes(), src.name
    assert "hwbopt validate" in proc.stdout and "hwbopt solve" in proc.stdout
    after = run_parallel({"validate": ("validate", new), "solve": ("solve", new, "--json")})
    assert after["validate"].returncode == 0, shown(after["validate"])
    assert after["validate"].stdout.startswith("valid: Riverside tutorial")
    assert after["solve"].returncode == 0, shown(after["solve"])
    assert math.isclose(json_only(after["solve"])["objective"], TUTORIAL_OBJECTIVE, rel_tol=1e-6)


def test_init_refuses_to_overwrite_an_instance(runs: dict[str, Proc], work: Path) -> None:
    proc = runs["init-clash"]
    assert proc.returncode == 2, shown(proc)
    no_traceback(proc)
    assert "instance.yaml" in proc.stderr and "nothing was overwritten" in proc.stderr
    clash = work / "clash"
    assert (clash / "instance.yaml").read_text(encoding="utf-8") == \
        "# my own board, do not touch\n"
    assert sorted(p.name for p in clash.iterdir()) == ["instance.yaml"]


def test_validate_the_tutorial(runs: dict[str, Proc]) -> None:
    proc = runs["validate"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    assert proc.stdout.startswith("valid: Riverside tutorial")
    for count in ("2 partners", "3 priorities", "6 interventions", "2 years"):
        assert count in proc.stdout


def test_version(runs: dict[str, Proc]) -> None:
    proc = runs["version"]
    assert proc.returncode == 0, shown(proc)
    assert hwbopt.__version__ in proc.stdout
    assert proc.stdout.startswith("hwbopt")


def test_help_lists_the_commands(runs: dict[str, Proc]) -> None:
    proc = runs["help"]
    assert proc.returncode == 0, shown(proc)
    for command in ("solve", "validate", "init"):
        assert command in proc.stdout


def test_unknown_command_exits_2(runs: dict[str, Proc]) -> None:
    proc = runs["unknown-command"]
    assert proc.returncode == 2, shown(proc)
    no_traceback(proc)
    assert "No such command 'optimise'" in proc.stderr
    assert proc.stdout == ""



def test_time_limit_reached_is_never_optimal(tmp_path):
    """A limit HiGHS cannot meet gives status time_limit, no objective, and exit 4."""
    county = hwbopt.shipped_instance("county")
    result = hwbopt.solve(hwbopt.load(county), time_limit=1e-9)
    assert result.status == "time_limit" and result.objective is None
    proc = run_cli("solve", county, "--time-limit", "1e-9", "--json")
    assert proc.returncode == 4, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] == "time_limit" and summary["objective"] is None
    assert "time limit" in summary["message"]


def test_convert_to_a_file_that_is_not_a_workbook_exits_2_and_makes_nothing(tmp_path: Path):
    proc = run_cli("convert", hwbopt.shipped_instance("tutorial"), "out.csv", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("error: DEST out.csv: expected a workbook ending in .xlsx, or a "
                           "folder (a name without a suffix, such as out, or an existing "
                           "folder); '.csv' is neither\n")
    assert not (tmp_path / "out.csv").exists()
