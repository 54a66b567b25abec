"""The registry of report sections, keyed by the kind of result they read.

A result folder's ``summary.json`` names its kind (``"kind": "solve"``; a folder written
before the key existed is a solve). A module that adds a kind of result adds its sections with
one decorated function each::

    from hwbopt.report.sections import section

    @section("compare", order=20)
    def options_side_by_side(data: ReportData) -> Section | None:
        ...  # charts and tables from data.tables / data.summary, or None if nothing to show

and imports its module in :data:`SECTION_MODULES`. The report of a result holds the sections
registered for its kind, in ``order``; the page frame (title, status, provenance) is common.

A kind may also register, with :func:`figures`, the key figures of the workbook's summary
sheet (label and value, numbers as numbers), with :func:`headline` the status line under the
page's title (the summary's ``status`` by default), and with :func:`loader` extra tables read
from its result folder (a stress run's Parquet results).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwbopt.errors import UsageError
from hwbopt.report.spec import ReportData, Section

SectionBuilder = Callable[[ReportData], "Section | None"]
Figures = Callable[[ReportData], list[tuple[str, Any]]]
Headline = Callable[[ReportData], tuple[str, bool]]
Loader = Callable[[Path, dict[str, Any]], dict[str, Any]]

# modules whose import registers sections (one per kind of result)
SECTION_MODULES = ("hwbopt.report.solve", "hwbopt.report.compare_sections",
                   "hwbopt.report.stress_sections", "hwbopt.report.explain_sections",
                   "hwbopt.report.plan_sections", "hwbopt.report.coalitions_sections",
                   "hwbopt.report.alternatives_sections",
                   "hwbopt.report.frontier_sections", "hwbopt.report.curve_sections")


@dataclass(frozen=True)
class _Entry:
    order: int
    build: SectionBuilder


SECTIONS: dict[str, list[_Entry]] = {}
FIGURES: dict[str, Figures] = {}
HEADLINES: dict[str, Headline] = {}
LOADERS: dict[str, Loader] = {}


def section(kind: str, order: int = 50) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register ``build`` as a section of reports on results of ``kind``."""

    def register(build: SectionBuilder) -> SectionBuilder:
        SECTIONS.setdefault(kind, []).append(_Entry(order, build))
        return build

    return register


def figures(kind: str) -> Callable[[Figures], Figures]:
    """Register the key figures of the workbook's summary sheet for results of ``kind``."""

    def register(build: Figures) -> Figures:
        FIGURES[kind] = build
        return build

    return register


def headline(kind: str) -> Callable[[Headline], Headline]:
    """Register the status line (text, whether all is well) for results of ``kind``."""

    def register(build: Headline) -> Headline:
        HEADLINES[kind] = build
        return build

    return register


def loader(kind: str) -> Callable[[Loader], Loader]:
    """Register a reader of extra tables from a result folder of ``kind``."""

    def register(read: Loader) -> Loader:
        LOADERS[kind] = read
        return read

    return register


def key_figures(data: ReportData) -> list[tuple[str, Any]]:
    _load()
    build = FIGURES.get(data.kind)
    return build(data) if build else [("kind of result", data.kind),
                                      ("status", data.summary.get("status"))]


def status_line(data: ReportData) -> tuple[str, bool]:
    _load()
    build = HEADLINES.get(data.kind)
    if build:
        return build(data)
    status = str(data.summary.get("status", ""))
    return status, status == "optimal"


def extra_tables(kind: str, folder: Path, summary: dict[str, Any]) -> dict[str, Any]:
    _load()
    read = LOADERS.get(kind)
    return read(folder, summary) if read else {}


def _load() -> None:
    for module in SECTION_MODULES:
        importlib.import_module(module)


def known_kinds() -> list[str]:
    _load()
    return sorted(SECTIONS)


def build_sections(data: ReportData) -> list[Section]:
    """Every section the result's kind has, in order, leaving out those with nothing to show."""
    _load()
    if data.kind not in SECTIONS:
        raise UsageError(f"no report for results of kind '{data.kind}': hwbopt knows "
                         + ", ".join(sorted(SECTIONS)))
    entries = sorted(SECTIONS[data.kind], key=lambda e: e.order)
    return [s for s in (e.build(data) for e in entries) if s is not None]
