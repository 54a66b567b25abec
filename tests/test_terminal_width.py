"""Every command's terminal text fits 80 to 250 columns without cutting a number (issue 18).

Each analysis runs once; its text is then printed as the CLI prints it (the print function
with no console of its own, so :func:`hwbopt.report.text.summary_console` picks the width)
with ``COLUMNS`` set to 80, 100, 120 and 200, and compared with the same text at 250 columns:
every number of the wide text appears whole in the narrow one (wrapping splits lines at
spaces only, and a table too wide is split, never squeezed), no line is wider than asked, and
no "…" touches a digit. The numbers are read back from the printed text by a regular
expression, not by the code that lays the tables out. One case runs in a real
pseudo-terminal 80 columns wide, where the bug hid: tests printing on a console of fixed width
never saw what a terminal's own width does.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import hwbopt_command
from rich.cells import cell_len

import hwbopt
from hwbopt.cli import cli

WIDTHS = (80, 100, 120, 200)
WIDE = 250
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
CUT = re.compile(r"\d…|…\d")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
ROOT = Path(__file__).resolve().parents[1]
TUTORIAL, COUNTY = ROOT / "instances" / "tutorial", ROOT / "instances" / "county"

Printer = Callable[[], None]


def numbers(text: str) -> Counter[str]:
    return Counter(NUMBER.findall(text))


def printed(printer: Printer, width: int, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> str:
    """What ``printer`` writes to a pipe with ``COLUMNS=width``, as a user asking for that
    width gets it."""
    monkeypatch.setenv("COLUMNS", str(width))
    capsys.readouterr()
    printer()
    return capsys.readouterr().out


def assert_fits(text: str, width: int) -> None:
    lines = text.splitlines()
    wide = [line for line in lines if cell_len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}:\n" + "\n".join(wide)
    cut = [line for line in lines if CUT.search(line)]
    assert not cut, "a number cut short:\n" + "\n".join(cut)


def assert_numbers_whole(narrow: str, wide: str, width: int) -> None:
    """Every number of the wide text is in the narrow one as often (a split table repeats its
    labels, so the narrow text may hold more)."""
    missing = numbers(wide) - numbers(narrow)
    assert not missing, f"numbers lost at {width} columns: {dict(missing)}\n{narrow}"


# ---------------------------------------------------------------------------------------------
# each analysis once
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutorial() -> hwbopt.Instance:
    return hwbopt.load(TUTORIAL)


@pytest.fixture(scope="module")
def county() -> hwbopt.Instance:
    return hwbopt.load(COUNTY)


@pytest.fixture(scope="module")
def county_result(county: hwbopt.Instance) -> hwbopt.Result:
    return hwbopt.solve(county)


@pytest.fixture(scope="module")
def stress_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small stress run through the CLI (20 scenarios), read back from its summary.json."""
    out = tmp_path_factory.mktemp("stress") / "run"
    res = CliRunner().invoke(cli, ["stress", str(TUTORIAL), "--set", "cuts_and_pressures",
                                   "--scenarios", "20", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return dict(json.loads((out / "summary.json").read_text()))


@pytest.fixture(scope="module")
def printers(tutorial: hwbopt.Instance, county: hwbopt.Instance,
             county_result: hwbopt.Result,
             stress_summary: dict[str, Any]) -> dict[str, tuple[Printer, list[str]]]:
    """Each command's terminal text as a printer, with the headline figures of its JSON as
    the text formats them."""
    from hwbopt.plan import plan
    from hwbopt.report.alternatives_text import print_alternatives
    from hwbopt.report.coalitions_text import print_coalitions
    from hwbopt.report.compare_text import print_comparison
    from hwbopt.report.curve_text import amount, print_curve
    from hwbopt.report.explain import print_explanation
    from hwbopt.report.frontier_text import print_frontier
    from hwbopt.report.plan_text import print_plan
    from hwbopt.report.stress_text import print_stress
    from hwbopt.report.text import print_result

    solved = hwbopt.solve(tutorial)
    comp = hwbopt.compare(tutorial)
    ex = hwbopt.explain(tutorial)
    hedged = plan(tutorial, stress_set="explicit")
    coal = hwbopt.coalitions(tutorial).summary()
    front = hwbopt.frontier(tutorial, "outcome,cost", points=3).summary()
    alts = hwbopt.alternatives(tutorial, of=("partners", "priorities"), count=2).summary()
    cut = hwbopt.curve(tutorial, "partners[council].cut.total", 0.0, 0.5).summary()

    def spend(r: hwbopt.Result) -> str:
        return f"{r.summary()['total_spend']:,.1f}"

    pooling = comp.value_of_pooling("base")
    return {
        "solve county": (lambda: print_result(county_result, county),
                         [f"{county_result.objective:,.2f}", spend(county_result)]),
        "solve tutorial": (lambda: print_result(solved, tutorial),
                           [f"{solved.objective:,.2f}", spend(solved)]),
        "compare": (lambda: print_comparison(comp),
                    [f"{pooling:,.2f}"] if pooling is not None else []),
        "explain": (lambda: print_explanation(ex), [f"{ex.objective:,.2f}"]),
        "stress": (lambda: print_stress(stress_summary, tutorial),
                   [f"{stress_summary['objective_percentiles']['p50']:,.2f}"]),
        "plan": (lambda: print_plan(hedged, tutorial),
                 [f"{hedged.rp:,.2f}"] if hedged.rp is not None else []),
        "coalitions": (lambda: print_coalitions(coal), [f"{coal['grand_value']:,.2f}"]),
        "frontier": (lambda: print_frontier(front),
                     [f"{p['outcome']:,.1f}" for p in front["points"]]),
        "alternatives": (lambda: print_alternatives(alts), [f"{alts['objective']:,.2f}"]),
        "curve": (lambda: print_curve(cut),
                  [amount(b["objective"]) for b in cut["breakpoints"][:1]]),
    }


COMMANDS = ("solve county", "solve tutorial", "compare", "explain", "stress", "plan",
            "coalitions", "frontier", "alternatives", "curve")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_number_whole_at_every_width(command: str,
                                           printers: dict[str, tuple[Printer, list[str]]],
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    printer, headline = printers[command]
    wide = printed(printer, WIDE, monkeypatch, capsys)
    assert_fits(wide, WIDE)
    for figure in headline:
        assert figure in wide, (figure, wide)
    for width in WIDTHS:
        narrow = printed(printer, width, monkeypatch, capsys)
        assert_fits(narrow, width)
        assert_numbers_whole(narrow, wide, width)
        for figure in headline:
            assert figure in narrow, (width, figure)


def test_a_wide_table_is_split_not_squeezed(county_result: hwbopt.Result,
                                            county: hwbopt.Instance,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The county's partners' money at 80 columns: several tables, each naming the partners,
    every cell of a figure column a whole number (the bug printed '24,…' and blank cells)."""
    from hwbopt.report.text import print_result

    text = printed(lambda: print_result(county_result, county), 80, monkeypatch, capsys)
    part = text[text.index("Partners' money"):text.index("Staff (FTE")]
    assert part.count("Partners' money") >= 2 and "(continued)" in part
    budgets = county_result.tables["budgets"]
    # each figure of the table, formatted as a board reads it, is printed whole
    for column in ("baseline", "available", "pooled", "retained", "spent"):
        for v in budgets[column]:
            assert re.search(rf"(?<![\d,.]){re.escape(f'{v:,.1f}')}(?![\d,])", part), \
                (column, v)
    assert part.count("Westshire CCG") >= 2  # the names repeat in every part
    # no name wraps to more than three lines: a row's label cell runs at most three lines
    # before the next name or year starts
    assert "Westshire district councils" in part


def test_outcomes_name_what_they_count(county_result: hwbopt.Result, county: hwbopt.Instance,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A bare 'conceptions' beside an outcome reads as harm; the table says what is counted."""
    from hwbopt.report.text import print_result

    text = printed(lambda: print_result(county_result, county), 200, monkeypatch, capsys)
    outcomes = text[text.index("Outcomes against targets"):text.index("Partners' money")]
    assert "Teenage pregnancy: under-18 conceptions averted" in outcomes
    teen = next(p for p in county.priorities if p.id == "teenage_pregnancy")
    assert teen.unit == "conceptions"


# ---------------------------------------------------------------------------------------------
# the CLI as a user runs it
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wide_tutorial_tables() -> str:
    """The rows of the tutorial's tables, solved by the CLI at 250 columns."""
    wide = CliRunner().invoke(cli, ["solve", str(TUTORIAL)], env={"COLUMNS": str(WIDE)})
    assert wide.exit_code == 0, wide.output
    return "\n".join(line for line in wide.output.splitlines() if line.startswith("│"))


@pytest.mark.parametrize("width", WIDTHS)
def test_cli_honours_columns(width: int, wide_tutorial_tables: str) -> None:
    """``COLUMNS`` asks the CLI for a width, even into a pipe (which is otherwise widened)."""
    res = CliRunner().invoke(cli, ["solve", str(TUTORIAL)], env={"COLUMNS": str(width)})
    assert res.exit_code == 0, res.output
    assert_fits(res.output, width)
    lines = res.output.splitlines()
    assert max(cell_len(line) for line in lines) > min(width, 100) - 10  # the width is used
    assert_numbers_whole(res.output, wide_tutorial_tables, width)


def test_validate_and_generate_keep_their_numbers(tmp_path: Path) -> None:
    """Their lines are not tables: the same numbers at every width, none cut."""
    from conftest import copy_instance

    bad = copy_instance("tutorial", tmp_path)
    rows = (bad / "budgets.csv").read_text().splitlines()
    rows[1] = re.sub(r"^(\w+),\d+,", r"\1,-5,", rows[1])
    (bad / "budgets.csv").write_text("\n".join(rows) + "\n")
    runs: dict[str, dict[int, str]] = {"validate": {}, "generate": {}}
    for width in (*WIDTHS, WIDE):
        env = {"COLUMNS": str(width)}
        res = CliRunner().invoke(cli, ["validate", str(bad)], env=env)
        assert res.exit_code == 2 and "-5" in res.output and "line 2" in res.output
        runs["validate"][width] = res.output
        out = tmp_path / f"gen{width}"
        res = CliRunner().invoke(cli, ["generate", "--localities", "2", "--interventions", "4",
                                       "--partners", "3", "--years", "2", "--sites", "3",
                                       "--seed", "1", str(out)], env=env)
        assert res.exit_code == 0, res.output
        runs["generate"][width] = res.output.replace(str(out), "OUT")
    for texts in runs.values():
        for width in WIDTHS:
            assert numbers(texts[width]) == numbers(texts[WIDE])
            assert not CUT.search(texts[width])


# ---------------------------------------------------------------------------------------------
# a real terminal
# ---------------------------------------------------------------------------------------------


def _read_all(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Everything written to the pseudo-terminal until the program ends."""
    out = bytearray()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return bytes(out)


def _in_terminal(args: list[str], columns: int) -> Iterator[str]:
    """``hwbopt ARGS`` with its output on a pseudo-terminal ``columns`` wide (no COLUMNS in
    the environment: the width is the terminal's own, as rich finds it); its lines."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([*hwbopt_command(), *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    try:
        raw = _read_all(master, proc, timeout=240)
        proc.wait(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    text = ANSI.sub("", raw.decode("utf-8", errors="replace"))
    return iter(text.replace("\r\n", "\n").splitlines())


def test_county_in_a_real_80_column_terminal(county_result: hwbopt.Result,
                                             county: hwbopt.Instance,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from hwbopt.report.text import print_result

    lines = list(_in_terminal(["solve", str(COUNTY)], 80))
    text = "\n".join(lines)
    assert "Partners' money" in text and "Westshire CCG" in text
    assert_fits(text, 80)
    # the tables' numbers (the header's timings vary run to run) against the same plan at 250
    wide = printed(lambda: print_result(county_result, county), WIDE, monkeypatch, capsys)
    tables = "\n".join(line for line in wide.splitlines() if line.startswith("│"))
    assert_numbers_whole(text, tables, 80)
    assert f"{county_result.objective:,.2f}" in text
