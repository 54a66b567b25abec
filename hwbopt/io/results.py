"""Write a result as files: one CSV per table plus ``summary.json``.

Each file is written atomically (hidden temporary file, then rename), so an interrupted write
never leaves a half-written table where a complete one was.
"""

from __future__ import annotations

import json
from pathlib import Path

from hwbopt.io.folder import atomic_write_text
from hwbopt.results import Result


def write_result(result: Result, out: str | Path) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        from hwbopt.errors import UsageError

        raise UsageError(f"--out {folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    if result.objective is not None:
        for name, table in result.tables.items():
            atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(result.summary(), indent=2, allow_nan=False) + "\n")
    return folder
