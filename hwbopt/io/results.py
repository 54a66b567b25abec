"""Write a result as files, one CSV per table plus ``summary.json``, and read them back.

Each file is written atomically (hidden temporary file, then rename), so an interrupted write
never leaves a half-written table where a complete one was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hwbopt.errors import UsageError
from hwbopt.io.folder import atomic_write_text

if TYPE_CHECKING:
    from hwbopt.analyses.coalitions import Coalitions
    from hwbopt.analyses.compare import Comparison
    from hwbopt.analyses.explain import Explanation
    from hwbopt.plan import PlanResult
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


def write_plan(plan: PlanResult, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt plan --json``), the hedged plan's tables as
    ``hwbopt solve --out`` writes them (its first stage on the instance itself), header-only
    without a plan, so the folder never mixes tables of an earlier run with this summary, and
    the plan's own tables (:mod:`hwbopt.plan.tables`)."""
    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in plan.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(plan.summary(), indent=2, allow_nan=False) + "\n")
    return folder


def write_comparison(comp: Comparison, out: str | Path) -> Path:
    """``summary.json`` and tidy CSV tables of a comparison, plus each run's own result folder
    (``runs/SCENARIO/OPTION/``, as ``hwbopt solve --out`` writes it)."""
    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    for run in comp.runs:
        write_result(run.result, folder / "runs" / run.scenario / run.name)
    for name, table in comp.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(comp.summary(), indent=2, allow_nan=False) + "\n")
    return folder


def write_coalitions(co: Coalitions, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt coalitions --json``), ``coalitions.csv`` (every
    coalition valued) and ``partners.csv`` (each partner's shares)."""
    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in co.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(co.summary(), indent=2, allow_nan=False) + "\n")
    return folder


def write_explanation(ex: Explanation, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt explain --json``) and the explanation's tables
    (:attr:`hwbopt.analyses.explain.Explanation.tables`). The tables of an infeasible
    instance's diagnosis are written only for one, and removed otherwise, so a folder never
    mixes two runs."""
    from hwbopt.analyses.explain import DIAGNOSIS_TABLES

    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    tables = ex.tables
    for name in DIAGNOSIS_TABLES:
        if name not in tables:
            (folder / f"{name}.csv").unlink(missing_ok=True)
    for name, table in tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(ex.summary(), indent=2, allow_nan=False) + "\n")
    return folder


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of a table read as text, typed by :mod:`hwbopt.report.columns`."""
    from hwbopt.report.columns import BOOL, INTEGER, TEXT

    out = {}
    for col in table.columns:
        values = table[col].astype(object)
        if col in TEXT:
            out[col] = values.map(lambda v: "" if v is None else str(v)).astype(object)
        elif col in BOOL:
            out[col] = values.map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
        elif col in INTEGER:
            out[col] = pd.to_numeric(values.replace("", np.nan)).astype("Int64") \
                if values.replace("", np.nan).isna().any() else \
                pd.to_numeric(values).astype(np.int64)
        else:
            numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce")
            text = values.map(lambda v: v not in ("", None) and not pd.isna(v))
            # an unknown column is text unless every filled cell is a number
            out[col] = values.astype(object) if (numbers.isna() & text).any() \
                else numbers.astype(float)
    return pd.DataFrame(out, columns=list(table.columns))


def typed_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables held in memory, typed exactly as :func:`read_result` types them from CSV."""
    return {name: _typed(t.astype(object).where(t.notna(), "").astype(str)
                         if len(t.columns) else t)
            for name, t in tables.items()}


def read_result(folder: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """``summary.json`` and every table of a result folder (``hwbopt solve --out``).

    Cells are read as text and typed by column (:mod:`hwbopt.report.columns`), so ids stay
    text whatever they look like (``NA``, ``2013``).
    """
    path = Path(folder)
    if not path.is_dir():
        raise UsageError(f"{path}: no such folder: expected the folder `hwbopt solve --out` "
                         "(or compare, stress or explain) wrote (summary.json and tables)")
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise UsageError(f"{path} holds no summary.json: expected the folder `hwbopt solve "
                         "--out` (or compare, stress or explain) wrote")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{summary_file}: not valid JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise UsageError(f"{summary_file}: expected a JSON object")
    tables: dict[str, pd.DataFrame] = {}
    for csv_file in sorted(path.glob("*.csv")):
        try:
            raw = pd.read_csv(csv_file, dtype=str, keep_default_na=False, na_filter=False,
                              encoding="utf-8")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise UsageError(f"{csv_file}: not a readable CSV table ({exc})") from None
        tables[csv_file.stem] = _typed(raw)
    return summary, tables
