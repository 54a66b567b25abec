"""An instance in either form: a folder (``instance.yaml`` plus CSV tables) or a workbook.

The form is told by the path: one ending in ``.xlsx`` is a workbook, anything else a folder.
Both are validated by the same schema and checks, so an instance reads the same either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwbopt.errors import Problem, UsageError
from hwbopt.io.folder import read_folder, read_yaml, stress_table_names, write_folder
from hwbopt.io.workbook import read_workbook, write_workbook
from hwbopt.schema import TABLES, Instance

WORKBOOK_SUFFIX = ".xlsx"


def is_workbook(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() == WORKBOOK_SUFFIX


def read_instance(path: str | os.PathLike[str]) -> tuple[Instance, list[Problem]]:
    """Read and validate an instance folder or workbook; returns it and its warnings."""
    if is_workbook(path):
        return read_workbook(path)
    if Path(path).suffix.lower() in (".xls", ".xlsm", ".ods"):
        raise UsageError(f"{path}: only .xlsx workbooks are read; save it as an Excel "
                         "workbook (.xlsx)")
    return read_folder(path)


def load_instance(path: str | os.PathLike[str]) -> Instance:
    """Read an instance folder or workbook (see :func:`read_instance`), dropping warnings."""
    return read_instance(path)[0]


def instance_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files that make an instance, in a fixed order (see :mod:`hwbopt.provenance`)."""
    p = Path(path)
    if is_workbook(p):
        return [p]
    if p.is_file() and p.name == "instance.yaml":
        p = p.parent
    names = ["instance.yaml", *(spec.file for spec in TABLES.values()), *_stress_tables(p)]
    return sorted({p / n for n in names if (p / n).is_file()}, key=lambda f: f.name)


def _stress_tables(folder: Path) -> list[str]:
    """The scenario tables the stress sets of ``folder/instance.yaml`` name: they are inputs
    too, so a changed table must change the instance's hash. Read with the reader's limits."""
    data, _ = read_yaml(folder / "instance.yaml", folder)
    return stress_table_names(data)


def existing_outputs(dest: str | os.PathLike[str]) -> list[Path]:
    """Files that writing an instance to ``dest`` would replace."""
    d = Path(dest)
    if is_workbook(d):
        return [d] if d.exists() else []
    names = ["instance.yaml", *(spec.file for spec in TABLES.values())]
    return [d / n for n in names if (d / n).exists()]


def write_instance(inst: Instance, dest: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``inst`` as a workbook (``dest`` ends in .xlsx) or a folder, never over existing
    files unless ``force``."""
    d = Path(dest)
    if d.exists() and is_workbook(d) and d.is_dir():
        raise UsageError(f"{d} is a folder: a workbook path must be a file ending in .xlsx")
    if d.exists() and not is_workbook(d) and not d.is_dir():
        raise UsageError(f"{d} exists and is not a folder: give a folder, or a path ending "
                         "in .xlsx for a workbook")
    clashes = existing_outputs(d)
    if clashes and not force:
        shown = ", ".join(str(c) for c in clashes[:5]) + (", …" if len(clashes) > 5 else "")
        raise UsageError(f"{shown} already exist{'s' if len(clashes) == 1 else ''}: nothing "
                         "was overwritten; choose a new path or pass --force")
    if is_workbook(d):
        return write_workbook(inst, d)
    return write_folder(inst, d)
