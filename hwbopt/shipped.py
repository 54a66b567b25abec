"""The instances shipped with hwbopt (``instances/`` in the source tree)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hwbopt.errors import UsageError


def instances_root() -> Path:
    """Where the shipped instances are: inside the installed package, or in a source tree."""
    try:
        packaged = Path(str(resources.files("hwbopt") / "_instances"))
    except (ModuleNotFoundError, TypeError):
        packaged = None
    if packaged is not None and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "instances"


def shipped_names() -> list[str]:
    root = instances_root()
    return sorted(p.name for p in root.iterdir() if (p / "instance.yaml").is_file()) \
        if root.is_dir() else []


def shipped_instance(name: str) -> Path:
    """The folder of a shipped instance, e.g. ``shipped_instance("tutorial")``."""
    path = instances_root() / name
    if not (path / "instance.yaml").is_file():
        raise UsageError(f"no shipped instance '{name}': expected one of "
                         f"{', '.join(shipped_names()) or '(none found)'}")
    return path
