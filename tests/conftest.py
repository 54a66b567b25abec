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
