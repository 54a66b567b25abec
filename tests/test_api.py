"""The Python API: every exported name resolves, and submodule imports cannot shadow it."""

from __future__ import annotations

import subprocess
import sys

import hwbopt


def test_every_export_resolves():
    for name in hwbopt.__all__:
        assert getattr(hwbopt, name) is not None, name


def test_solve_stays_a_function_after_submodules_are_imported():
    code = (
        "import hwbopt, hwbopt.pipeline, hwbopt.results, hwbopt.check\n"
        "r = hwbopt.solve(hwbopt.load(hwbopt.shipped_instance('tutorial')))\n"
        "assert r.status == 'optimal', r.status\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_tables_come_back_as_dataframes(tutorial):
    import pandas as pd

    result = hwbopt.solve(tutorial)
    for name in ("allocation", "outcomes", "budgets", "pools", "avoided_costs", "activity"):
        assert isinstance(getattr(result, name), pd.DataFrame)
    assert set(result.spend_by_partner) == {"nhs", "council"}
