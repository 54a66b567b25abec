"""Where a result comes from: the instance's files (by hash), hwbopt, the solver, the date.

The instance hash is a SHA-256 over the instance's files in a fixed order: for a folder,
``instance.yaml`` and each table's CSV file that exists, sorted by file name; for a workbook,
the ``.xlsx`` file. Each file contributes its name, a NUL byte, its size in bytes as decimal
digits, a NUL byte and its bytes, so renaming, moving content between files or adding a file
all change the hash, while a README or ``expected.json`` beside the tables does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from typing import Any

from hwbopt.io.instance import instance_files
from hwbopt.schema import Instance


def instance_sha256(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The hash of the instance at ``path`` and the names of the files it covers."""
    digest = hashlib.sha256()
    files = instance_files(path)
    for f in files:
        data = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest(), [f.name for f in files]


def instance_provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    sha, files = instance_sha256(path)
    return {"instance_source": str(path), "instance_sha256": sha, "instance_files": files}


def run_provenance(solver_version: str, *, seed: int | None = None,
                   options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything but the instance file hash, which needs the path (the CLI adds it)."""
    from hwbopt import __version__

    return {
        "instance_source": None,
        "instance_sha256": None,
        "instance_files": [],
        "hwbopt_version": __version__,
        "solver": "HiGHS",
        "solver_version": solver_version,
        "seed": seed,
        "options": dict(options or {}),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def instance_labels(inst: Instance) -> dict[str, Any]:
    """Names and units of everything a result table refers to by id, for reports."""
    return {
        "name": inst.name,
        "money": inst.money_label,
        "partners": {p.id: p.label for p in inst.partners},
        "pools": {g.id: g.label for g in inst.pools},
        "priorities": {k.id: {"name": k.label, "unit": k.unit, "measure": k.measure,
                              "weight": k.weight, "target_type": k.target_type,
                              "shortfall_penalty": k.shortfall_penalty}
                       for k in inst.priorities},
        "interventions": {i.id: {"name": i.label, "unit": i.unit} for i in inst.interventions},
        "localities": {loc.id: loc.name or loc.id for loc in inst.localities},
        "roles": {r.id: r.name or r.id for r in inst.roles},
        "space_types": {t.id: {"name": t.name or t.id, "unit": t.unit}
                        for t in inst.space_types},
        "sites": {s.id: s.label for s in inst.sites},
        "scenarios": {s.id: s.label for s in inst.scenarios},
        "options": {o.id: o.label for o in inst.options},
        "stress": {s.id: s.label for s in inst.stress},
    }
