"""Write a result as files: one CSV per table plus ``summary.json``.

Each file is written atomically (hidden temporary file, then rename), so an interrupted write
never leaves a half-written table where a complete one was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from hwbopt.errors import UsageError
from hwbopt.io.folder import atomic_write_text

if TYPE_CHECKING:
    from hwbopt.analyses.compare import Comparison
    from hwbopt.results import Result


def check_out_dir(out: str | Path) -> Path:
    """Refuse an ``--out`` folder whose files are not ours to overwrite (before any work)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} exists and is not a folder")
    if (folder / "instance.yaml").exists():
        # result tables share names with instance tables (budgets.csv): never overwrite input
        raise UsageError(f"--out {folder} holds an instance (instance.yaml): results would "
                         "overwrite its tables; choose another folder")
    return folder


def write_result(result: Result, out: str | Path) -> Path:
    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    # always the full set of files, header-only without a solution, so the folder never mixes
    # tables of an earlier run with the summary of this one
    for name, table in result.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(result.summary(), indent=2, allow_nan=False) + "\n")
    return folder


def write_comparison(comp: Comparison, out: str | Path) -> Path:
    """``summary.json`` and tidy CSV tables of a comparison, plus each run's own result folder
    (``runs/SCENARIO/OPTION/``, as ``hwbopt solve --out`` writes it)."""
    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    curve = [{"scenario": s, **point} for s in comp.scenarios for point in comp.pooling_curve(s)]
    tables = {
        "options": comp.table,
        "partners": comp.partners,
        "outcomes": comp.outcomes,
        "policies": comp.policy_prices,
        "pooling_curve": pd.DataFrame(curve, columns=["scenario", "share", "status",
                                                      "objective"]),
    }
    for run in comp.runs:
        write_result(run.result, folder / "runs" / run.scenario / run.name)
    for name, table in tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(comp.summary(), indent=2, allow_nan=False) + "\n")
    return folder
