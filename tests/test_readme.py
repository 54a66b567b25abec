"""Every command the documentation shows runs as written, on a board ``hwbopt init`` makes.

The ```bash blocks of README.md, models/*.md and instances/*/README.md are read as a shell
reads them (a trailing ``\\`` continues a line, ``#`` starts a comment, ``&&`` joins
commands) and each block is run, command by command and in order, by the installed ``hwbopt``
in a fresh folder of its own: one holding ``instances/`` (the shipped tutorial and county, for
the commands that name them) and ``myboard``, made by ``hwbopt init myboard`` unless the block
makes it itself. Each command must exit 0, or the code its comment documents (``# exits 3``).
``pip`` and ``pytest`` lines are how to install and test hwbopt, not commands of it: they are
skipped, and any other program is an error (the test could not run it as written).

Two things cannot be typed verbatim in a test, and are replaced, nothing else:

- ``--scheduler tcp://HOST:PORT`` names the reader's own Dask cluster; the test starts one
  (in this process) and puts its address there;
- a line that documents its usage (``hwbopt plan PATH [--set ID] …``, a synopsis: capitals
  for what the reader fills in, brackets around what is optional) is not a command.

The ```python blocks of README.md run in a fresh Python in such a folder, with ``board.xlsx``
made from ``myboard`` as well (``hwbopt.load("board.xlsx")``), and must reach their end.
"""

from __future__ import annotations

import logging
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, run_cli

from hwbopt.cli import cli
from hwbopt.shipped import instances_root

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "models").glob("*.md")),
             *sorted((ROOT / "instances").glob("*/README.md"))]
SKIPPED_PROGRAMS = {"pip", "pytest"}  # installing and testing hwbopt, not using it
SHELL_SYNTAX = {"|", ";", ">", ">>", "<", "&", "||"}  # what this reader does not run
SYNOPSIS = re.compile(r"\[-|\b(PATH|DIR|ID|NAME)\b")
TIMEOUT = 600  # seconds a command may take: a guard only (the tutorial's take seconds)


@dataclass(frozen=True)
class Command:
    line: str  # as the document shows it (continuations joined)
    argv: tuple[str, ...]
    exits: int  # the exit code it documents (0 unless its comment says otherwise)


@dataclass(frozen=True)
class Block:
    document: Path
    heading: str
    number: int  # its place among the document's blocks of its language
    text: str

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}#{self.number} ({self.heading})"


def blocks(document: Path, language: str) -> list[Block]:
    """The fenced blocks of ``language`` in ``document``, each with the heading it sits under."""
    out: list[Block] = []
    heading, fence, lines = "top", None, list[str]()
    for line in document.read_text(encoding="utf-8").splitlines():
        if fence is None:
            if line.startswith("```"):
                fence, lines = line[3:].strip(), []
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
            continue
        if line.startswith("```"):
            if fence == language:
                out.append(Block(document, heading, len(out), "\n".join(lines) + "\n"))
            fence = None
        else:
            lines.append(line)
    return out


def commands(block: Block) -> list[Command]:
    """The block's commands, as a shell would split them (see the module docstring)."""
    joined: list[str] = []
    pending = ""
    for raw in block.text.splitlines():
        line = f"{pending} {raw.strip()}" if pending else raw.rstrip()
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        pending = ""
        joined.append(line)
    out: list[Command] = []
    for line in joined:
        comment = re.search(r"(?:^|\s)#(.*)$", line)
        documented = re.search(r"\bexits? (\d+)\b", comment.group(1)) if comment else None
        words = shlex.split(line, comments=True)
        if words and (words[0].startswith("[") or SYNOPSIS.search(" ".join(words))):
            continue  # a synopsis (or its continuation), not a command
        parts: list[list[str]] = [[]]
        for word in words:
            if word == "&&":
                parts.append([])
            else:
                parts[-1].append(word)
        for argv in filter(None, parts):
            bad = SHELL_SYNTAX.intersection(argv)
            assert not bad, f"{block.name}: {line!r} uses {bad}, which this test cannot run"
            if argv[0] in SKIPPED_PROGRAMS:
                continue
            assert argv[0] == "hwbopt", f"{block.name}: {line!r} runs {argv[0]}, not hwbopt"
            out.append(Command(line, tuple(argv[1:]),
                               int(documented.group(1)) if documented else 0))
    return out


BASH = [b for d in DOCUMENTS for b in blocks(d, "bash") if commands(b)]
PYTHON = blocks(ROOT / "README.md", "python")


def test_the_documents_have_commands_to_run() -> None:
    # the tests below are made per block: without this one, a README whose blocks could not
    # be found would pass by running nothing
    readme = [b for b in BASH if b.document.name == "README.md" and b.document.parent == ROOT]
    assert len(readme) >= 6, [b.name for b in readme]
    assert sum(len(commands(b)) for b in readme) >= 40
    assert PYTHON and all("hwbopt." in b.text for b in PYTHON)
    assert any(c.argv[:2] == ("init", "myboard") for b in readme for c in commands(b))


def board(tmp_path: Path, init: bool) -> Path:
    """A fresh folder with ``instances/`` (tutorial and county) and, if ``init``, ``myboard``
    made by ``hwbopt init myboard``."""
    for name in ("tutorial", "county"):
        shutil.copytree(instances_root() / name, tmp_path / "instances" / name)
    if init:
        made = run_cli("init", "myboard", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    return tmp_path


@contextmanager
def local_scheduler() -> Iterator[str]:
    """A Dask scheduler with one worker thread in this process: the "existing cluster" a
    ``--scheduler`` line connects to."""
    import distributed

    with distributed.LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
            dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def run(block: Block, command: Command, cwd: Path, scheduler: str | None) -> None:
    argv = list(command.argv)
    if scheduler is not None and "--scheduler" in argv:
        argv[argv.index("--scheduler") + 1] = scheduler
    started = time.perf_counter()
    # in this process, through the CLI's own entry point: the command line is the user's,
    # and each command saves the 1-2 s a fresh interpreter spends importing the solver stack
    # (tests/test_cli.py and others run the installed script as a subprocess)
    with chdir(cwd):
        res = CliRunner().invoke(cli, argv, prog_name="hwbopt")
    took = time.perf_counter() - started
    assert res.exit_code == command.exits, (
        f"{block.name}: `{command.line}` exited {res.exit_code} (documented: "
        f"{command.exits}) after {took:.1f} s\nstdout: {res.stdout[-3000:]}\n"
        f"stderr: {res.stderr[-3000:]}\nexception: {res.exception!r}")
    assert "Traceback" not in res.stderr, (command.line, res.stderr)
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        command.line, res.exception)


@pytest.mark.parametrize("block", BASH, ids=lambda b: b.name)
def test_a_documented_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    cmds = commands(block)
    makes_board = any(c.argv[:2] == ("init", "myboard") for c in cmds)
    cwd = board(tmp_path, init=not makes_board)
    if any("--scheduler" in c.argv for c in cmds):
        with local_scheduler() as address:
            for command in cmds:
                run(block, command, cwd, address)
        return
    for command in cmds:
        run(block, command, cwd, None)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.name)
def test_a_documented_python_block_runs(block: Block, tmp_path: Path) -> None:
    cwd = board(tmp_path, init=True)
    book = run_cli("convert", "myboard", "board.xlsx", cwd=cwd)
    assert book.returncode == 0, book.stderr
    done = "README python block: done"
    proc = subprocess.run([sys.executable, "-c", f"{block.text}\nprint({done!r})"], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stdout.rstrip().endswith(done), (
        f"{block.name} failed\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
