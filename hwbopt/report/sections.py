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
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from hwbopt.errors import UsageError
from hwbopt.report.spec import ReportData, Section

SectionBuilder = Callable[[ReportData], "Section | None"]

# modules whose import registers sections (one per kind of result)
SECTION_MODULES = ("hwbopt.report.solve",)


@dataclass(frozen=True)
class _Entry:
    order: int
    build: SectionBuilder


SECTIONS: dict[str, list[_Entry]] = {}


def section(kind: str, order: int = 50) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register ``build`` as a section of reports on results of ``kind``."""

    def register(build: SectionBuilder) -> SectionBuilder:
        SECTIONS.setdefault(kind, []).append(_Entry(order, build))
        return build

    return register


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
