"""Hostile command lines: bad option values and output paths are refused before any work.

Each case asserts exit 2, that the message names the option or path at fault, and that it is
neither "unexpected" nor a traceback; path cases also assert that nothing was created and that
the instance was never read (``_read`` is replaced by a function that fails the case), result
folder cases that nothing was solved. Most cases run in process through click's ``CliRunner``
(milliseconds each); a closed pipe, the user's umask and a Ctrl-C in a stress run are run as a
user types them, in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import highspy
import pytest
from click.testing import CliRunner, Result
from conftest import hwbopt_command, run_cli

import hwbopt
import hwbopt.cli
from hwbopt.cli import cli

KINDS = ("solve", "compare", "explain", "stress")
# the arguments that make each kind quick on the tutorial
QUICK = {"solve": [], "compare": ["--option", "pooled"], "explain": [],
         "stress": ["--set", "explicit", "--workers", "1", "--quiet"]}


def invoke(*args: str | os.PathLike[str]) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def shown(res: Result) -> str:
    return f"exit {res.exit_code}\nstdout: {res.stdout[-2000:]}\nstderr: {res.stderr[-2000:]}"


def refused(res: Result, *words: str, code: int = 2) -> None:
    text = res.stdout + res.stderr
    assert res.exit_code == code, shown(res)
    for w in words:
        assert w in text, (w, shown(res))
    assert "unexpected" not in text and "Traceback" not in text, shown(res)
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), \
        shown(res)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tutorial copy, a file, and one result folder of every kind, made once."""
    root = tmp_path_factory.mktemp("hostile")
    w = {"root": root, "t": root / "t", "afile": root / "afile", "book": root / "paper"}
    shutil.copytree(hwbopt.shipped_instance("tutorial"), w["t"])
    w["afile"].write_text("not a folder\n", encoding="utf-8")
    (root / "dangling").symlink_to(root / "nowhere")
    for kind in KINDS:
        w[kind] = root / f"res_{kind}"
        res = invoke(kind, w["t"], *QUICK[kind], "--out", w[kind])
        assert res.exit_code == 0, shown(res)
    res = invoke("convert", w["t"], w["book"] / "report.xlsx")
    assert res.exit_code == 0, shown(res)
    return w


@pytest.fixture
def no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the case if the command reads the instance: output paths come first."""
    def read(path: str):
        raise AssertionError(f"read {path} before checking the output paths")

    monkeypatch.setattr(hwbopt.cli, "_read", read)


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the case if the command starts solving: result folders are claimed first."""
    def work(*args, **kw):
        raise AssertionError("solved before checking the output folder")

    import hwbopt.analyses.compare
    import hwbopt.analyses.explain
    import hwbopt.batch.run
    import hwbopt.pipeline

    monkeypatch.setattr(hwbopt.pipeline, "build", work)
    monkeypatch.setattr(hwbopt.analyses.compare, "compare", work)
    monkeypatch.setattr(hwbopt.batch.run, "run_stress", work)


# ---------------------------------------------------------------------------------------------
# Option values: refused by the option parser, naming the option
# ---------------------------------------------------------------------------------------------

NOT_FINITE = ["nan", "NaN", "inf", "-inf", "1e999"]
OPTION_CASES: list[tuple[str, list[str], str]] = []
for _kind in KINDS:
    for _v in [*NOT_FINITE, "-1", "0", "soon"]:
        OPTION_CASES.append((_kind, ["--time-limit", _v], "--time-limit"))
for _kind in ("solve", "compare", "explain"):
    for _v in [*NOT_FINITE, "-0.1", "1", "2", "x"]:
        OPTION_CASES.append((_kind, ["--mip-gap", _v], "--mip-gap"))
for _v in [*NOT_FINITE, "-0.5", "1.5"]:
    OPTION_CASES.append(("stress", ["--cold-check", _v], "--cold-check"))
for _v in ["0:1:1e-6", "0:inf:0.1", "-inf:1:0.1", "0:1:nan", "0:1:1e-320", "0:1:0", "0:1:-0.1",
           "a:b:c", "0:1", "0:1:0.1:2", "nan", "inf", "1.5", "-0.2", ""]:
    OPTION_CASES.append(("compare", ["--pool-share", _v], "--pool-share"))
for _v in ["not a url", "http://host:8786", "tcp://host", "host:99999", "tcp://:8786", "",
           "tcp://host:port", "tcp://a b:1"]:
    OPTION_CASES.append(("stress", ["--set", "explicit", "--scheduler", _v], "--scheduler"))
for _opt, _v in (("--workers", "0"), ("--scenarios", "0"), ("--block-size", "0"),
                 ("--seed", "-1"), ("--workers", "many")):
    OPTION_CASES.append(("stress", [_opt, _v], _opt))
for _kind in ("solve", "compare", "explain", "stress"):
    OPTION_CASES.append((_kind, ["--objective", "profit"], "--objective"))


@pytest.mark.parametrize(("kind", "args", "option"), OPTION_CASES,
                         ids=[f"{k}{' '.join(a)}" for k, a, _ in OPTION_CASES])
def test_bad_option_values_are_refused_before_reading(kind: str, args: list[str], option: str,
                                                      work: dict[str, Path],
                                                      no_read: None) -> None:
    res = invoke(kind, work["t"], *args)
    refused(res, option)


def test_a_pool_share_sweep_has_a_limit_and_says_it() -> None:
    from hwbopt.analyses.compare import parse_pool_shares
    from hwbopt.errors import UsageError
    from hwbopt.outputs import MAX_POOL_SHARES

    assert len(parse_pool_shares(f"0:1:{1 / (MAX_POOL_SHARES - 1)}")) == MAX_POOL_SHARES
    with pytest.raises(UsageError, match="at most 1,000"):
        parse_pool_shares("0:1:1e-6")


# ---------------------------------------------------------------------------------------------
# Output paths that cannot work: refused before the instance is read, nothing created
# ---------------------------------------------------------------------------------------------

Where = Callable[[dict[str, Path]], Path]
BAD_FOLDERS: dict[str, tuple[Where, str]] = {
    "is_a_file": (lambda w: w["afile"], "is not a folder"),
    "parent_is_a_file": (lambda w: w["afile"] / "sub", "is a file, not a folder"),
    "deep_under_a_file": (lambda w: w["afile"] / "a" / "b", "is a file, not a folder"),
    "proc": (lambda w: Path("/proc/hwbopt-x"), "cannot write in /proc"),
    "under_dev_null": (lambda w: Path("/dev/null/x"), "is a file, not a folder"),
    "broken_link": (lambda w: w["root"] / "dangling", "broken link"),
}
PATH_CASES = [(kind, option, name) for kind in KINDS for option in ("--out", "--report")
              for name in BAD_FOLDERS]


@pytest.mark.parametrize(("kind", "option", "name"), PATH_CASES,
                         ids=[f"{k}-{o[2:]}-{n}" for k, o, n in PATH_CASES])
def test_unusable_output_folders_are_refused_first(kind: str, option: str, name: str,
                                                   work: dict[str, Path], no_read: None) -> None:
    where, words = BAD_FOLDERS[name]
    target = where(work)
    res = invoke(kind, work["t"], *QUICK[kind], option, target)
    refused(res, f"{option} {target}", words)
    assert not target.exists() or target == work["afile"]
    assert not (work["root"] / "nowhere").exists()
    assert work["afile"].read_text(encoding="utf-8") == "not a folder\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("option", ["--out", "--report"])
def test_a_read_only_folder_is_refused_first(kind: str, option: str, tmp_path: Path,
                                             work: dict[str, Path], no_read: None) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        res = invoke(kind, work["t"], *QUICK[kind], option, locked / "o")
        refused(res, f"{option} {locked / 'o'}", "cannot write in")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("option", ["--out", "--report"])
def test_a_folder_where_an_output_file_goes_is_refused_first(kind: str, option: str,
                                                              tmp_path: Path,
                                                              work: dict[str, Path],
                                                              no_read: None) -> None:
    name = "summary.json" if option == "--out" else "report.html"
    (tmp_path / "o" / name).mkdir(parents=True)
    res = invoke(kind, work["t"], *QUICK[kind], option, tmp_path / "o")
    refused(res, str(tmp_path / "o" / name), "is not a file")


@pytest.mark.parametrize("name", sorted(BAD_FOLDERS))
def test_report_out_folders_that_cannot_work_are_refused(name: str,
                                                         work: dict[str, Path]) -> None:
    where, words = BAD_FOLDERS[name]
    target = where(work)
    res = invoke("report", work["solve"], "--out", target)
    refused(res, f"--out {target}", words)


def test_report_html_that_is_a_folder_is_refused_by_report(tmp_path: Path,
                                                          work: dict[str, Path]) -> None:
    (tmp_path / "rep" / "report.xlsx").mkdir(parents=True)
    res = invoke("report", work["solve"], "--out", tmp_path / "rep")
    refused(res, str(tmp_path / "rep" / "report.xlsx"), "is not a file")


EXPORT_CASES: dict[str, tuple[Where, str]] = {
    "missing_folder": (lambda w: w["root"] / "missing" / "dir" / "m.mps", "does not exist"),
    "under_a_file": (lambda w: w["afile"] / "m.mps", "is a file, not a folder"),
    "a_folder": (lambda w: w["root"] / "res_solve.mps", "is a folder"),
    "proc": (lambda w: Path("/proc/m.lp"), "/proc/m.lp"),
    "wrong_suffix": (lambda w: w["root"] / "m.txt", "expected a file ending .mps or .lp"),
    "no_suffix": (lambda w: w["root"] / "m", "expected a file ending .mps or .lp"),
    "exists": (lambda w: w["root"] / "there.lp", "--force"),
}


@pytest.mark.parametrize("name", sorted(EXPORT_CASES))
def test_export_paths_that_cannot_work_are_refused_first(name: str, work: dict[str, Path],
                                                         no_read: None) -> None:
    (work["root"] / "res_solve.mps").mkdir(exist_ok=True)
    (work["root"] / "there.lp").write_text("keep\n", encoding="utf-8")
    where, words = EXPORT_CASES[name]
    target = where(work)
    res = invoke("export", work["t"], "--out", target)
    refused(res, str(target), words)
    assert not (work["root"] / "missing").exists()
    assert (work["root"] / "there.lp").read_text(encoding="utf-8") == "keep\n"


# ---------------------------------------------------------------------------------------------
# Result folders: one command, one instance, unless --force
# ---------------------------------------------------------------------------------------------

CLASHES = [(writer, owner) for writer in KINDS for owner in KINDS if writer != owner]


@pytest.mark.parametrize(("writer", "owner"), CLASHES, ids=[f"{w}-into-{o}" for w, o in CLASHES])
def test_a_folder_another_command_wrote_is_refused(writer: str, owner: str, tmp_path: Path,
                                                    work: dict[str, Path],
                                                    no_solve: None) -> None:
    folder = tmp_path / "res"
    shutil.copytree(work[owner], folder)
    before = (folder / "summary.json").read_bytes()
    res = invoke(writer, work["t"], *QUICK[writer], "--out", folder)
    refused(res, f"--out {folder}", f"`hwbopt {owner}`", "--force")
    assert (folder / "summary.json").read_bytes() == before


@pytest.mark.parametrize("kind", ["solve", "compare", "explain"])
def test_a_folder_of_another_instance_is_refused(kind: str, tmp_path: Path,
                                                 work: dict[str, Path], no_solve: None) -> None:
    other = tmp_path / "other"
    shutil.copytree(work["t"], other)
    text = (other / "instance.yaml").read_text(encoding="utf-8")
    (other / "instance.yaml").write_text(text + "\n# another board\n", encoding="utf-8")
    folder = tmp_path / "res"
    shutil.copytree(work[kind], folder)
    res = invoke(kind, other, *QUICK[kind], "--out", folder)
    refused(res, f"--out {folder}", "another instance", "--force")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("junk", ["stray_csv", "bad_summary", "summary_list"])
def test_a_folder_of_files_hwbopt_did_not_write_is_refused(kind: str, junk: str,
                                                           tmp_path: Path,
                                                           work: dict[str, Path],
                                                           no_solve: None) -> None:
    folder = tmp_path / "res"
    folder.mkdir()
    if junk == "stray_csv":
        (folder / "budgets.csv").write_text("mine\n", encoding="utf-8")
    else:
        (folder / "summary.json").write_text("{oops" if junk == "bad_summary" else "[1]",
                                             encoding="utf-8")
    res = invoke(kind, work["t"], *QUICK[kind], "--out", folder)
    refused(res, f"--out {folder}", "--force")


def test_the_same_command_on_the_same_instance_replaces_its_own_results(
        tmp_path: Path, work: dict[str, Path]) -> None:
    folder = tmp_path / "res"
    shutil.copytree(work["solve"], folder)
    res = invoke("solve", work["t"], "--out", folder)
    assert res.exit_code == 0, shown(res)


def test_force_replaces_another_commands_results_without_mixing(tmp_path: Path,
                                                                work: dict[str, Path]) -> None:
    folder = tmp_path / "res"
    shutil.copytree(work["stress"], folder)
    res = invoke("solve", work["t"], "--out", folder, "--force")
    assert res.exit_code == 0, shown(res)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "solve"
    assert not (folder / "scenarios").exists() and not (folder / "run.json").exists()
    shutil.rmtree(folder)
    shutil.copytree(work["compare"], folder)
    res = invoke("explain", work["t"], "--out", folder, "--force")
    assert res.exit_code == 0, shown(res)
    assert not (folder / "runs").exists() and not (folder / "options.csv").exists()
    rep = invoke("report", folder, "--out", tmp_path / "rep")
    assert rep.exit_code == 0, shown(rep)


def test_stress_force_into_a_solve_folder_makes_a_clean_run(tmp_path: Path,
                                                            work: dict[str, Path]) -> None:
    folder = tmp_path / "res"
    shutil.copytree(work["solve"], folder)
    res = invoke("stress", work["t"], *QUICK["stress"], "--out", folder, "--force")
    assert res.exit_code == 0, shown(res)
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["kind"] == "stress"
    assert not (folder / "activity.csv").exists()


# ---------------------------------------------------------------------------------------------
# Reports never overwrite an input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("force", [False, True])
def test_a_report_over_the_instance_workbook_is_refused(kind: str, force: bool,
                                                        work: dict[str, Path],
                                                        no_read: None) -> None:
    book = work["book"] / "report.xlsx"
    before = book.read_bytes()
    res = invoke(kind, book, *QUICK[kind], "--report", work["book"],
                 *(["--force"] if force else []))
    refused(res, f"--report {work['book']}", str(book), "instance being read")
    assert book.read_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_the_report_command_keeps_an_instance_workbook(kind: str, work: dict[str, Path],
                                                       tmp_path: Path) -> None:
    book = work["book"] / "report.xlsx"
    before = book.read_bytes()
    res = invoke("report", work[kind], "--out", work["book"])
    refused(res, f"--out {work['book']}", str(book), "instance workbook", "--force")
    assert book.read_bytes() == before
    shutil.copytree(work["book"], tmp_path / "copy")
    res = invoke("report", work[kind], "--out", tmp_path / "copy", "--force")
    assert res.exit_code == 0, shown(res)


def test_report_refuses_a_result_made_from_the_workbook_it_would_replace(
        tmp_path: Path) -> None:
    shutil.copytree(hwbopt.shipped_instance("tutorial"), tmp_path / "t")
    book = tmp_path / "paper" / "report.xlsx"
    assert invoke("convert", tmp_path / "t", book).exit_code == 0
    assert invoke("solve", book, "--out", tmp_path / "res").exit_code == 0
    before = book.read_bytes()
    res = invoke("report", tmp_path / "res", "--out", tmp_path / "paper", "--force")
    refused(res, str(book), "instance being read")
    assert book.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# Ordinary shell use: a closed pipe, the umask, Ctrl-C (as a user types them)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["solve"], ["solve", "--json"], ["compare"]])
def test_a_closed_pipe_is_not_an_error(args: list[str], work: dict[str, Path]) -> None:
    proc = subprocess.Popen([*hwbopt_command(), args[0], str(work["t"]), *args[1:]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "error" not in err.lower() and "Traceback" not in err


def test_files_written_respect_the_umask(tmp_path: Path, work: dict[str, Path]) -> None:
    old = os.umask(0o022)
    try:
        res = invoke("solve", work["t"], "--out", tmp_path / "res", "--report", tmp_path / "rep")
        assert res.exit_code == 0, shown(res)
        os.umask(0o027)
        res = invoke("explain", work["t"], "--out", tmp_path / "ex")
        assert res.exit_code == 0, shown(res)
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in tmp_path.rglob("*") if p.is_file()}
    assert modes and all(m == (0o640 if k.startswith("ex/") else 0o644)
                         for k, m in modes.items()), modes


@pytest.mark.slow
def test_ctrl_c_in_a_stress_run_says_one_line_and_resumes(tmp_path: Path,
                                                          work: dict[str, Path]) -> None:
    out = tmp_path / "run"
    run = ["stress", work["t"], "--set", "cuts_and_pressures", "--scenarios", "320",
           "--block-size", "32", "--out", out]
    proc = subprocess.Popen([*hwbopt_command(), *map(str, run), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 180
    while not any((out / "scenarios").glob("part-*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == [stderr.strip()], stderr
    assert stderr.startswith("interrupted: ") and "of 320 scenarios saved" in stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    again = run_cli(*run, "--workers", "1", "--resume", "--json")
    assert again.returncode == 0, again.stderr
    import pandas as pd

    done = pd.read_parquet(out / "scenarios")
    assert sorted(done["scenario"]) == list(range(320))


@pytest.mark.parametrize("dest", ["out.csv", "out.json", "board.xls", "board.XLSM",
                                  "board.v2", "sub/out.yaml"])
def test_convert_refuses_a_destination_that_is_neither_folder_nor_workbook(
        dest: str, tmp_path: Path, no_read: None) -> None:
    # before reading the instance, and without making anything: `convert t out.csv` once made
    # a folder named out.csv
    res = invoke("convert", hwbopt.shipped_instance("tutorial"), tmp_path / dest)
    refused(res, f"DEST {tmp_path / dest}: expected a workbook ending in .xlsx, or a folder",
            f"'{Path(dest).suffix}' is neither")
    assert ("writes workbooks as .xlsx only" in res.stderr) == \
        (Path(dest).suffix.lower() in (".xls", ".xlsm"))
    assert list(tmp_path.iterdir()) == []


def test_convert_writes_into_an_existing_folder_whatever_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "board.v2"
    folder.mkdir()
    res = invoke("convert", hwbopt.shipped_instance("tutorial"), folder)
    assert res.exit_code == 0, shown(res)
    assert (folder / "instance.yaml").is_file()
    assert hwbopt.load(folder) == hwbopt.load(hwbopt.shipped_instance("tutorial"))


def test_ctrl_c_before_the_first_scenario_offers_no_resume(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """Stopped in the set-up, a run has no run.json: --resume would refuse it, so the line
    says nothing was saved instead of offering it."""
    from hwbopt import cli

    with pytest.raises(SystemExit) as stop:
        cli._stress_interrupted(tmp_path / "run")
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert err.strip() == (f"interrupted before the first scenario: nothing saved in "
                           f"{tmp_path / 'run'}; run the same command again to start")


def _slow_highs(seconds: float) -> highspy.Highs:
    """A random LP that HiGHS takes about 20 s to solve, stopped by its time limit."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    n = 3000
    a = sp.random(n, n, density=0.01, random_state=0, format="csc")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, n
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = -rng.uniform(0, 1, n), np.zeros(n), \
        np.full(n, 10.0)
    lp.row_lower_, lp.row_upper_ = np.full(n, -np.inf), rng.uniform(1, 2, n)
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    h = highspy.Highs()
    for option, value in (("output_flag", False), ("threads", 1), ("presolve", "off"),
                          ("time_limit", seconds)):
        h.setOptionValue(option, value)
    h.passModel(lp)
    return h


def test_ctrl_c_does_not_wait_for_a_solve_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """hwbopt.interrupt.interruptible in the command line: a Ctrl-C raises in the main thread
    at once, while HiGHS, which acts on no signal, runs on in its thread (here until its time
    limit, 4 s); through the API, the solve stays on the caller's thread."""
    import threading

    from hwbopt import interrupt

    h = _slow_highs(4.0)
    ran_in: list[threading.Thread] = []
    interrupt.interruptible(lambda: ran_in.append(threading.current_thread()))
    assert ran_in == [threading.current_thread()]  # the API's solves stay on their thread
    monkeypatch.setattr(interrupt, "CTRL_C_ENDS_PROCESS", True)  # as the command line sets it
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    began = time.monotonic()
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            interrupt.interruptible(h.run)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - began < 2.0  # not the solve's 4 s
    left = [t for t in threading.enumerate() if t.name == interrupt.SOLVER_THREAD]
    assert left and all(t.daemon for t in left)
    for t in left:
        t.join()  # the limit ends it: nothing left running into other tests

    def fails() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):  # an error in the solve is the caller's
        interrupt.interruptible(fails)


def test_only_a_fresh_instance_solve_may_be_left_running_and_only_from_the_command_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring: solve_compiled (its instance held by no one) goes through interruptible,
    highs.run of a caller's instance does not (a caller that changes it while unwinding would
    change it under the solver), and cli.main is what turns it on."""
    import numpy as np
    import scipy.sparse as sp

    from hwbopt import highs, interrupt
    from hwbopt.compile import Compiled

    calls: list[int] = []
    real = interrupt.interruptible
    monkeypatch.setattr(interrupt, "interruptible", lambda solve: (calls.append(1), real(solve)))
    comp = Compiled(sense=1, c=np.array([1.0]), offset=0.0, A=sp.csc_array(np.ones((1, 1))),
                    row_lower=np.array([1.0]), row_upper=np.array([np.inf]),
                    col_lower=np.zeros(1), col_upper=np.array([5.0]),
                    integer=np.zeros(1, dtype=bool), col_component=["x"], col_index=[0],
                    row_component=["r"], row_index=[0])
    assert highs.solve_compiled(comp).objective == pytest.approx(1.0) and calls == [1]
    highs.run(highs.load(comp))
    assert calls == [1]
    monkeypatch.setattr(interrupt, "CTRL_C_ENDS_PROCESS", False)
    monkeypatch.setattr(hwbopt.cli, "cli", lambda **kw: None)
    hwbopt.cli.main()
    assert interrupt.CTRL_C_ENDS_PROCESS


_LEFT_RUNNING = """
import threading, sys
import numpy as np
import scipy.sparse as sp
import highspy
from hwbopt import interrupt
from hwbopt.highs import new_highs

n = 300
a = sp.random(n, n, density=0.05, random_state=1, format="csc")
lp = highspy.HighsLp()
lp.num_col_, lp.num_row_ = n, n
lp.col_cost_, lp.col_lower_, lp.col_upper_ = -np.ones(n), np.zeros(n), np.full(n, 10.0)
lp.row_lower_, lp.row_upper_ = np.full(n, -np.inf), np.ones(n)
lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
h = new_highs()  # made here, its banner kept off stdout, before anything is said
h.passModel(lp)
solving = threading.Event()

def solve_again_and_again():
    solving.set()
    while True:  # in and out of HiGHS: Python's shutdown meets it coming back
        h.clearSolver()
        h.run()

interrupt.CTRL_C_ENDS_PROCESS = sys.argv[1] == "cli"
threading.Thread(target=solve_again_and_again, name="hwbopt-highs", daemon=True).start()
solving.wait()
sys.stdout.write("said before")
interrupt.leave(130)
"""


def test_an_interrupted_command_leaves_at_once_without_its_solver_thread() -> None:
    """hwbopt.interrupt.leave with a solve still running in a daemon thread: exit 130, what
    was printed flushed, and no abort at the interpreter's shutdown (which a thread coming
    back from HiGHS meets when the command line exits as Python does)."""
    proc = subprocess.run([sys.executable, "-c", _LEFT_RUNNING, "cli"], capture_output=True,
                          text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (130, "said before"), proc.stderr
    assert "terminate" not in proc.stderr
