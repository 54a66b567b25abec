"""Where commands write, checked before any work: folders that can be made, files that can be
replaced, nothing written over an input or over another command's results unless ``--force``.

A result folder records what made it in its ``summary.json`` (``kind`` and the instance in
``provenance``; a stress run also in ``run.json``). A command may write again into a folder
its own kind wrote for the same instance (it replaces its own results); a folder that another
command, or the same command on another instance, wrote is refused unless ``--force``, which
removes the old results first so the folder never mixes two runs.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hwbopt.errors import UsageError

MAX_POOL_SHARES = 1000  # points of a --pool-share sweep: each is a solve
# sheets only an instance workbook has (a report workbook has none of them)
INSTANCE_SHEETS = ("partners", "pools", "priorities", "interventions", "effects")


def file_mode() -> int:
    """The mode an ordinary new file gets under the user's umask (0o644 under umask 022)."""
    umask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(umask)
    return 0o666 & ~umask


def check_folder(folder: Path, option: str, files: tuple[str, ...] = ()) -> Path:
    """Refuse a folder that cannot be made or written, or whose ``files`` cannot be replaced
    (a folder where a file should be), before any work; creates nothing."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder} exists and is not a folder")
    existing = folder
    while not existing.exists():
        if existing.is_symlink():
            raise UsageError(f"{option} {folder}: {existing} is a broken link")
        parent = existing.parent
        if parent == existing:
            break
        existing = parent
    if not existing.is_dir():
        raise UsageError(f"{option} {folder}: {existing} is a file, not a folder, so the "
                         "folder cannot be made")
    _probe(existing, f"{option} {folder}")
    for name in files:
        target = folder / name
        if (target.exists() or target.is_symlink()) and not target.is_file():
            raise UsageError(f"{option} {folder}: {target} exists and is not a file, so it "
                             "cannot be replaced")
    return folder


def check_file(path: Path, option: str, force: bool) -> Path:
    """Refuse an output file that cannot be written (before any work); creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder: expected a file path")
    parent = path.parent
    if not parent.is_dir():
        what = "is a file, not a folder" if parent.exists() else "does not exist"
        raise UsageError(f"{option} {path}: the folder {parent} {what}; nothing was written")
    if path.exists() and not force:
        raise UsageError(f"--out {path} exists: nothing was written; add --force to replace it")
    _probe(parent, f"{option} {path}")
    return path


def _probe(folder: Path, what: str) -> None:
    """Make and remove a hidden folder in ``folder``: permissions, read-only and pseudo file
    systems all show here, as they would to the real write."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".hwbopt-probe-", dir=folder))
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _is_instance_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            book = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return sum(f'name="{s}"' in book for s in INSTANCE_SHEETS) >= 3


def check_report_target(folder: Path, inputs: list[Path], force: bool,
                        option: str = "--report") -> Path:
    """A report folder: usable, and never one whose report.html or report.xlsx is an input
    (the instance being read, refused always) or an instance workbook (refused unless
    ``force``)."""
    from hwbopt.report import EXCEL_FILE, HTML_FILE

    check_folder(folder, option, (HTML_FILE, EXCEL_FILE))
    for name in (HTML_FILE, EXCEL_FILE):
        target = Path(folder) / name
        for given in inputs:
            if _same_file(target, given) or Path(os.path.abspath(target)) == \
                    Path(os.path.abspath(given)):
                raise UsageError(f"{option} {folder}: {target} is the instance being read; "
                                 "the report would overwrite it; choose another folder")
    xlsx = Path(folder) / EXCEL_FILE
    if not force and xlsx.is_file() and _is_instance_workbook(xlsx):
        raise UsageError(f"{option} {folder}: {xlsx} is an instance workbook, not a report: "
                         "nothing was overwritten; choose another folder or add --force")
    return Path(folder)


def result_owner(folder: Path) -> dict[str, Any] | None:
    """What made the result folder ``folder``: ``{"kind", "instance", "sha"}``; ``None`` for a
    folder that holds no results; ``kind`` ``None`` for files hwbopt cannot place."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for name, default in (("summary.json", "solve"), ("run.json", "stress")):
        f = folder / name
        if not f.exists():
            continue
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            return {"kind": None, "instance": None, "sha": None, "file": name}
        found = data.get("provenance")
        prov: dict[str, Any] = found if isinstance(found, dict) else {}
        kind = data.get("kind") or default
        return {"kind": str(kind), "instance": prov.get("instance_source"),
                "sha": prov.get("instance_sha256"), "file": name,
                "name": data.get("instance")}
    if any(p.suffix in (".csv", ".json", ".parquet") for p in folder.iterdir()) or \
            (folder / "scenarios").exists() or (folder / "runs").exists():
        return {"kind": None, "instance": None, "sha": None, "file": None}
    return None


def _same_instance(owner: dict[str, Any], source: dict[str, Any]) -> bool:
    if owner.get("instance") is None and owner.get("sha") is None:
        return True  # written before provenance was recorded: nothing to tell them apart
    if owner.get("sha") and owner["sha"] == source.get("instance_sha256"):
        return True
    was, now = owner.get("instance"), source.get("instance_source")
    if was is None or now is None:
        return False
    return bool(was == now or os.path.abspath(was) == os.path.abspath(now))


def check_result_folder(folder: Path, kind: str, source: dict[str, Any], force: bool,
                        option: str = "--out") -> bool:
    """Refuse ``folder`` if another command, or this one on another instance, wrote it (unless
    ``force``). Returns whether old results must be cleared before writing."""
    owner = result_owner(folder)
    if owner is None:
        return False
    if owner["kind"] is None:
        what = (f"a {owner['file']} hwbopt cannot read" if owner["file"] else
                "files that are not the results of an hwbopt command")
        clash = f"holds {what}"
    elif owner["kind"] != kind:
        clash = (f"holds the results of `hwbopt {owner['kind']}`"
                 + (f" on {owner['instance']}" if owner["instance"] else ""))
    elif not _same_instance(owner, source):
        clash = (f"holds the results of `hwbopt {owner['kind']}` on another instance "
                 f"({owner['instance']})")
    else:
        return False
    if force:
        return True
    raise UsageError(f"{option} {folder} {clash}: nothing was written; choose another folder, "
                     "or add --force to replace them")


def clear_results(folder: Path) -> None:
    """Remove what a result folder of any kind holds (``--force``): the tables, the summary,
    a comparison's runs, a stress run's parts and a frontier's points."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.is_file() and (p.suffix in (".csv", ".parquet") or
                            p.name in ("summary.json", "run.json")):
            p.unlink()
    for sub in ("runs", "scenarios", "points"):
        if (folder / sub).is_dir() and not (folder / sub).is_symlink():
            shutil.rmtree(folder / sub)


SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_scheduler(address: str) -> str:
    """A Dask scheduler address: ``[tcp://]HOST:PORT`` (or tls, ucx, ws, wss)."""
    import re

    m = re.fullmatch(r"(?:([a-z]+)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})/?",
                     address.strip())
    if m is None or (m.group(1) and m.group(1) not in SCHEDULER_SCHEMES) or \
            not 0 < int(m.group(3)) < 65536:
        raise UsageError(f"--scheduler {address!r}: expected a Dask scheduler address such as "
                         "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
    return address


def result_source(folder: Path) -> list[Path]:
    """The instance a result folder was made from (its summary's provenance), as an input a
    report must not overwrite; empty if unknown."""
    try:
        data = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
        source = data["provenance"]["instance_source"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [Path(source)] if isinstance(source, str) and source else []
