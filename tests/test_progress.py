"""Progress: the analyses report it through plain callbacks; the commands show it on stderr
only when stderr is a terminal and not ``--quiet``, never in a file or pipe, and erase it
before the results.

The terminal tests run the installed command with stderr on a pseudo-terminal (stdout a pipe)
and ``HWBOPT_PROGRESS_DELAY=0``, so the indicator shows however fast the machine is.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_instance, hwbopt_command

import hwbopt
from hwbopt.cli import cli
from hwbopt.progress import Indicator, shown
from hwbopt.shipped import shipped_instance

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        if self.closed:  # as a real file does
            raise ValueError("I/O operation on closed file")
        return self.tty


def test_shown_only_on_a_terminal_and_not_quiet() -> None:
    assert shown(False, _Stream(True))
    assert not shown(True, _Stream(True))
    assert not shown(False, _Stream(False))
    closed = _Stream(True)
    closed.close()
    assert not shown(False, closed)


def test_a_disabled_indicator_writes_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with Indicator(False, "working", delay=0) as ind:
        ind.step("a step")
        ind.count(1, 3)
        ind.counted(2, 3, "two of three")
        ind.counter("things")(3, 3)
        ind.note("a note")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# ---------------------------------------------------------------------------------------------
# the analyses' callbacks
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial() -> hwbopt.Instance:
    return hwbopt.load(shipped_instance("tutorial"))


def test_compare_reports_each_run_before_it_starts(tutorial: hwbopt.Instance) -> None:
    calls: list[tuple[int, int, str]] = []
    comp = hwbopt.compare(tutorial, options=["pooled", "keep_estate"],
                          scenarios=["base", "council_cuts_35"], pool_shares=[0.5],
                          on_progress=lambda d, t, w: calls.append((d, t, w)))
    runs = len(comp.runs)
    assert runs == 2 * 3  # two options and one pool share, under two scenarios
    assert {t for _, t, _ in calls} == {runs}
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and done[0] == 0 and calls[-1][:2] == (runs, runs)
    solving = [w for _, _, w in calls if w.startswith("solving")]
    assert len(solving) == runs
    assert solving[0] == "solving 1 of 6: pooled, scenario base"
    assert "solving 3 of 6: partial pooling at 50%, scenario base" in solving
    assert "solving 5 of 6: Keep both buildings open, scenario council_cuts_35" in solving
    assert sum(w.startswith("building the model") for _, _, w in calls) == 2


def test_explain_reports_each_solve(tutorial: hwbopt.Instance) -> None:
    steps: list[str] = []
    ex = hwbopt.explain(tutorial, on_step=steps.append)
    assert ex.objective is not None
    assert steps[0] == "solving the plan (HiGHS)"
    # the tutorial has go/no-go and site decisions: its LP with them fixed is solved again
    assert "solving the linear model with the plan's integer decisions fixed" in steps
    assert steps.index("ranging each priority's weight") < steps.index(
        "what would bring each unfunded intervention into the plan")


def test_plan_reports_its_stages(tutorial: hwbopt.Instance) -> None:
    steps: list[str] = []
    from hwbopt.plan import plan

    result = plan(tutorial, stress_set="explicit", on_step=steps.append)
    assert result.rp is not None
    assert steps[0] == "drawing the scenarios and building the model"
    wanted = ["solving the mean-value problem", "the mean-value plan on each of the 3",
              "the hedged plan over 3 scenarios", "scenarios' own optimum",
              "the hedged plan's tables"]
    at = [next(k for k, s in enumerate(steps) if w in s) for w in wanted]
    assert at == sorted(at), steps


def test_stress_set_up_reports_its_stages(tutorial: hwbopt.Instance) -> None:
    from hwbopt.batch.setup import pick_stress_set, prepare

    k, stress = pick_stress_set(tutorial, "explicit")
    steps: list[str] = []
    prep = prepare(tutorial, stress, k, seed=stress.seed, on_step=steps.append)
    assert prep.base.objective is not None
    assert steps == ["set-up: building the model", "set-up: solving the base plan (HiGHS)",
                     "set-up: compiling how the stress inputs reach the model",
                     "set-up: the base plan with its decisions held, the scenarios' warm "
                     "start"]


# ---------------------------------------------------------------------------------------------
# not a terminal: nothing but results
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["compare", "{board}", "--option", "pooled", "--option", "siloed"],
    ["explain", "{board}"],
    ["solve", "{board}"],
])
def test_no_progress_when_stderr_is_not_a_terminal(args: list[str], tmp_path: Path) -> None:
    board = copy_instance("tutorial", tmp_path)
    res = CliRunner().invoke(cli, [a.format(board=board) for a in args],
                             env={"HWBOPT_PROGRESS_DELAY": "0"})
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    assert "\x1b" not in res.stdout and "\r" not in res.stdout
    for word in ("solving the plan", "reading the instance", "building the model"):
        assert word not in res.stdout


# ---------------------------------------------------------------------------------------------
# on a terminal
# ---------------------------------------------------------------------------------------------


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``hwbopt ARGS`` with stderr on a 100-column pseudo-terminal and stdout a pipe:
    exit code, stdout, and what the terminal received (escape codes removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "COLUMNS")}
    env.update(TERM="xterm", HWBOPT_PROGRESS_DELAY="0")
    proc = subprocess.Popen([*hwbopt_command(), *args], stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:  # drained as it comes, so a full terminal buffer never blocks it
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        reader.join(10)
        os.close(master)
    seen = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    return proc.returncode, out.decode("utf-8"), seen


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_instance("tutorial", tmp_path_factory.mktemp("progress"))


def test_compare_shows_its_bar_on_a_terminal_and_not_in_stdout(board: Path) -> None:
    code, out, seen = _on_a_terminal(["compare", str(board)], board.parent)
    assert code == 0, seen
    assert "solving 1 of 5: pooled" in seen
    assert re.search(r"solving 5 of 5: Keep both buildings open\s.*\b4/5\b", seen), seen
    # the results went to stdout, whole and without any of the indicator
    assert "value of pooling" in out
    assert "solving" not in out and "\x1b" not in out and "\r" not in out
    # the indicator erased itself: nothing of it is left after its last line
    assert "value of pooling" not in seen


def test_quiet_shows_nothing_on_the_terminal(board: Path) -> None:
    code, out, seen = _on_a_terminal(["compare", str(board), "--quiet", "--option", "pooled",
                                      "--option", "siloed"], board.parent)
    assert code == 0
    assert seen.strip() == ""
    assert "value of pooling" in out


def test_json_keeps_stdout_pure_while_the_terminal_shows_progress(board: Path) -> None:
    import json

    code, out, seen = _on_a_terminal(["explain", str(board), "--json"], board.parent)
    assert code == 0, seen
    assert json.loads(out)["kind"] == "explain"
    assert "solving the plan (HiGHS)" in seen


def test_stress_set_up_shows_before_the_scenarios_bar(tmp_path: Path, board: Path) -> None:
    code, out, seen = _on_a_terminal(["stress", str(board), "--set", "explicit", "--workers",
                                      "1", "--out", str(tmp_path / "run")], tmp_path)
    assert code == 0, seen
    set_up = seen.find("set-up: solving the base plan (HiGHS)")
    bar = seen.find("scenarios")
    assert 0 <= set_up < seen.find("3/3"), seen
    assert bar >= 0
    assert "\x1b" not in out
