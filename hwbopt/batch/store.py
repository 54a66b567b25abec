"""Where a batch's results live: a Parquet dataset written block by block, never lost.

``OUT/run.json`` records what the run is (instance hash, stress set, seed, options, version);
``OUT/scenarios/`` holds one Parquet file per finished block, each written to a hidden
temporary file and renamed, so a file that exists is complete. ``--resume`` reads which
scenarios are there and runs only the rest; a run that does not match ``run.json`` is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from hwbopt.errors import UsageError
from hwbopt.io.folder import atomic_write_text
from hwbopt.schema import Instance

RUN_FILE = "run.json"
PARTS = "scenarios"
# what must match for --resume to finish the same run
IDENTITY = ("instance_hash", "stress_set", "stress", "scenarios", "seed", "mip", "objective",
            "chain", "time_limit", "cold_check")
# what a run written before a key joined IDENTITY had, so it can still be resumed
IDENTITY_DEFAULTS = {"cold_check": 0.01}


def instance_hash(inst: Instance) -> str:
    """sha256 of the validated instance (its content, not the formatting of its files)."""
    text = json.dumps(inst.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def open_run(out: Path, meta: dict[str, Any], resume: bool) -> set[int]:
    """Prepare ``out`` for this run; the scenarios already done (``resume``)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if (out / "instance.yaml").exists():
        raise UsageError(f"--out {out} holds an instance (instance.yaml): choose another folder")
    run_file = out / RUN_FILE
    if run_file.exists() and not resume:
        raise UsageError(f"--out {out} holds a stress run already: add --resume to finish it, "
                         "or choose another folder")
    if resume and not run_file.exists():
        raise UsageError(f"--resume: {out} holds no stress run to finish ({RUN_FILE} missing)")
    parts = out / PARTS
    if resume:
        old = json.loads(run_file.read_text(encoding="utf-8"))
        differ = [k for k in IDENTITY if old.get(k, IDENTITY_DEFAULTS.get(k)) != meta.get(k)]
        if differ:
            raise UsageError(f"--resume: {out} holds a different run (it differs in "
                             f"{', '.join(differ)}); use the same instance and options, or "
                             "another --out")
        for stale in parts.glob(".*"):
            stale.unlink(missing_ok=True)  # a write cut short: its block runs again
        return done_scenarios(out)
    parts.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_file, json.dumps(meta, indent=2) + "\n")
    return set()


def done_scenarios(out: Path) -> set[int]:
    files = sorted((out / PARTS).glob("part-*.parquet"))
    if not files:
        return set()
    import pyarrow.parquet as pq

    done: set[int] = set()
    for f in files:
        done.update(pq.read_table(f, columns=["scenario"]).column(0).to_pylist())
    return done


def write_part(out: Path, name: str, data: bytes) -> Path:
    """One finished block, atomically: a hidden temporary file renamed into place."""
    folder = out / PARTS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-{name}.parquet"
    fd, tmp = tempfile.mkstemp(prefix=f".part-{name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_results(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished scenario of a run, sorted by scenario index."""
    folder = Path(out) / PARTS
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        return pd.DataFrame(columns=columns or ["scenario"])
    frame = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
    return frame.sort_values("scenario", kind="stable").reset_index(drop=True)


def read_meta(out: str | Path) -> dict[str, Any]:
    path = Path(out) / RUN_FILE
    if not path.exists():
        raise UsageError(f"{out} holds no stress run ({RUN_FILE} missing)")
    return json.loads(path.read_text(encoding="utf-8"))
