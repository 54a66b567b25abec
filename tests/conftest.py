"""Shared helpers: shipped instances, copies to mutate, and the CLI as a user types it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hwbopt
from hwbopt.shipped import shipped_instance

# the CLI honours an exported COLUMNS (hwbopt.report.text.summary_console): tests reading its
# text from a pipe expect the pipe's own width, whatever the shell running pytest exports or
# readline (imported by pytest) puts into the process's environment behind os.environ's back
os.environ.pop("COLUMNS", None)
os.unsetenv("COLUMNS")

# stress runs keep their base plan's basis in a user cache (hwbopt.batch.warm): off here, so
# no test reads what another left behind or writes outside its temporary folders; the tests
# of the cache itself point HWBOPT_CACHE at a folder of their own
os.environ["HWBOPT_CACHE"] = "off"

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
CASES = Path(__file__).resolve().parent / "cases"


def hwbopt_command() -> list[str]:
    """The installed ``hwbopt`` script, or ``python -m hwbopt.cli`` beside this interpreter."""
    exe = shutil.which("hwbopt", path=os.path.dirname(sys.executable) + os.pathsep
                       + os.environ.get("PATH", ""))
    return [exe] if exe else [sys.executable, "-m", "hwbopt.cli"]


def run_cli(*args: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``hwbopt ARGS...`` in a subprocess, exactly as typed in a shell."""
    return subprocess.run([*hwbopt_command(), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def run_cli_here(*args: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None
                 ) -> subprocess.CompletedProcess[str]:
    """``hwbopt ARGS...`` in this process, through click's test runner: the same command,
    parser, messages and exit code as :func:`run_cli`, without starting an interpreter (0.7 s
    of imports each, most of what a refusal costs). For the long tables of refusals; each
    table keeps some cases in a real subprocess. Not thread-safe (it swaps the process's
    standard streams and working folder): call it from one thread.

    Warnings and an exception that escaped the command are appended to stderr as Python would
    print them, so "clean stderr" and "no traceback" assertions hold here as they do for a
    subprocess. No timeout: keep a case that could run long if it regressed (a huge size) in a
    subprocess."""
    import traceback
    import warnings

    from click.testing import CliRunner

    from hwbopt.cli import cli

    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        # warnings as a fresh interpreter shows them on stderr (pytest would record them)
        with warnings.catch_warnings(record=True) as shown:
            warnings.resetwarnings()
            warnings.simplefilter("default")
            for quiet in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                          ResourceWarning):
                warnings.simplefilter("ignore", quiet)
            res = CliRunner().invoke(cli, [str(a) for a in args], prog_name="hwbopt")
    finally:
        os.chdir(here)
    stderr = res.stderr + "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
        for w in shown)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        stderr += "".join(traceback.format_exception(res.exception))
    return subprocess.CompletedProcess(["hwbopt", *map(str, args)], res.exit_code,
                                       res.stdout, stderr)


def copy_instance(name: str, dest: Path) -> Path:
    """A private copy of a shipped instance (or a tests/cases instance) to mutate."""
    src = CASES / name if (CASES / name / "instance.yaml").exists() else shipped_instance(name)
    target = dest / name
    shutil.copytree(src, target)
    return target


def solve_checked(inst: hwbopt.Instance, **kw) -> hwbopt.Result:
    """Solve and insist the independent checker ran and passed on any optimum."""
    result = hwbopt.solve(inst, **kw)
    if result.status == "optimal":
        assert result.checked
        problems = hwbopt.check_solution(inst, result.tables, result.objective_kind,
                                         result.objective)
        assert problems == [], problems
    return result


@pytest.fixture
def tutorial_dir() -> Path:
    return shipped_instance("tutorial")


@pytest.fixture
def tutorial(tutorial_dir: Path) -> hwbopt.Instance:
    return hwbopt.load(tutorial_dir)


@pytest.fixture(scope="session")
def county_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The county solved as a user types it, with its result folder and both reports:
    ``solve --out OUT --report REP``, then ``report OUT --out REP2``."""
    work = tmp_path_factory.mktemp("county_report")
    solved = run_cli("solve", shipped_instance("county"), "--out", work / "out",
                     "--report", work / "rep")
    again = run_cli("report", work / "out", "--out", work / "rep2")
    return {"work": work, "out": work / "out", "rep": work / "rep", "rep2": work / "rep2",
            "solve": solved, "report": again}


# labels a board might type that must reach a report as plain text: markup, script, formulas
ODD_LABELS = {
    "partner_nhs": "<script>window.__xss = 1</script> CCG",
    "partner_council": "=HYPERLINK(\"http://x\",\"council\")",
    "priority_older": "<img src=x onerror=\"window.__xss = 2\"> older people",
    "unit_older": "+people",
    "priority_mental": "-mental & health $x^2$",
    "intervention_reablement": "@SUM(A1) reablement",
    "name": "Board <b>bold</b> & co",
}


# and for the other kinds of result: an option's and a stress set's name
ODD_KIND_LABELS = {
    "option": "<script>window.__xss = 3</script> protect reablement",
    "stress": "=cuts <iframe src=x></iframe> & pressures",
}


def odd_label_instance() -> hwbopt.Instance:
    """The tutorial with names and units that look like markup, scripts or formulas."""
    inst = hwbopt.load(shipped_instance("tutorial"))
    partners = [p.model_copy(update={"name": ODD_LABELS[f"partner_{p.id}"]})
                for p in inst.partners]
    priorities = list(inst.priorities)
    for n, k in enumerate(priorities):
        if k.id == "older_people":
            priorities[n] = k.model_copy(update={"name": ODD_LABELS["priority_older"],
                                                 "unit": ODD_LABELS["unit_older"]})
        if k.id == "mental_health":
            priorities[n] = k.model_copy(update={"name": ODD_LABELS["priority_mental"]})
    interventions = [i.model_copy(update={"name": ODD_LABELS["intervention_reablement"]})
                     if i.id == "reablement" else i for i in inst.interventions]
    return inst.model_copy(update={"name": ODD_LABELS["name"], "partners": tuple(partners),
                                   "priorities": tuple(priorities),
                                   "interventions": tuple(interventions)})


@pytest.fixture(scope="session")
def odd_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of :func:`odd_label_instance`, solved in process."""
    from hwbopt.report import write_report

    result = hwbopt.solve(odd_label_instance())
    assert result.status == "optimal"
    folder = tmp_path_factory.mktemp("odd_report")
    write_report(result, folder)
    return folder


@pytest.fixture(scope="session")
def odd_kind_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Report folders of a comparison, a stress batch and an explanation of
    :func:`odd_label_instance`, with an option and a stress set oddly named too."""
    from hwbopt.batch.run import run_stress
    from hwbopt.report import write_report

    inst = odd_label_instance()
    options = list(inst.options)
    options[0] = options[0].model_copy(update={"name": ODD_KIND_LABELS["option"]})
    sets = list(inst.stress)
    sets[0] = sets[0].model_copy(update={"name": ODD_KIND_LABELS["stress"]})
    inst = inst.model_copy(update={"options": tuple(options), "stress": tuple(sets)})
    work = tmp_path_factory.mktemp("odd_kinds")
    write_report(hwbopt.compare(inst), work / "compare")
    run_stress(inst, set_name=sets[0].id, scenarios=32, out=work / "stress_run", workers=1)
    write_report(work / "stress_run", work / "stress")
    write_report(hwbopt.explain(inst), work / "explain")
    return {kind: work / kind for kind in ("compare", "stress", "explain")}


# The longest modules first (mean seconds of one worker over three runs of the whole suite
# with --durations=0, 2026-12-08): with --dist loadscope (pyproject.toml) a module is one unit
# of work, and a long one handed out last leaves the other worker idle while it runs. xdist
# would otherwise hand modules out by their number of tests (--no-loadscope-reorder turns that
# off), which put the few long tests of test_plan_identities and test_instances last.
# The second is one that runs no compiled (numba) kernel: in a fresh checkout the first worker
# compiles them (25-30 s) while the other solves, and finds them compiled when it needs them;
# two long stress modules first had both workers compile them at once.
LONGEST_FIRST = ("test_stress", "test_instances", "test_plan_identities", "test_report_browser",
                 "test_readme", "test_plan", "test_hostile_cli", "test_report_kinds",
                 "test_coalitions", "test_properties", "test_stress_certified", "test_workbook",
                 "test_compare", "test_hostile_runs", "test_curve", "test_types",
                 "test_hostile_input", "test_plan_decomposed", "test_report", "test_time_limit",
                 "test_cli", "test_enumeration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rsplit(".", 1)[-1]
                                         if item.module else "", len(rank)))
