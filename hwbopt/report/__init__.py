"""Human-readable views of results: the terminal text, and reports for board papers.

``write_report(source, out)`` writes ``report.html`` (one self-contained page) and
``report.xlsx`` (native Excel charts, one sheet per result table) into the folder ``out``.
``source`` is a result folder (what ``hwbopt solve|compare|stress|explain --out`` writes) or,
in memory, a :class:`hwbopt.results.Result`, :class:`hwbopt.analyses.compare.Comparison` or
:class:`hwbopt.analyses.explain.Explanation` (anything with ``summary()`` and ``tables``); both
are typed the same way, so they give the same report. A stress run is reported from its folder,
where its Parquet results are. Sections come from :mod:`hwbopt.report.sections`, keyed by the
result's kind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hwbopt.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from hwbopt.report.spec import ReportData

HTML_FILE, EXCEL_FILE = "report.html", "report.xlsx"


class Reportable(Protocol):
    """A result in memory: a Result, a Comparison or an Explanation."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]: ...

    def summary(self) -> dict[str, Any]: ...


def report_data(source: str | os.PathLike[str] | Reportable) -> ReportData:
    """A result folder, or a result in memory, as the report reads it."""
    from hwbopt.io.results import read_result, typed_tables
    from hwbopt.report.sections import extra_tables
    from hwbopt.report.spec import ReportData

    if isinstance(source, str | os.PathLike):
        summary, tables = read_result(Path(source))
        kind = str(summary.get("kind") or "solve")
        tables.update(extra_tables(kind, Path(source), summary))
    else:
        summary, tables = source.summary(), typed_tables(source.tables)
        kind = str(summary.get("kind") or "solve")
    return ReportData(kind=kind, summary=summary, tables=tables)


def check_report_dir(out: str | os.PathLike[str]) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--report {folder} exists and is not a folder")
    return folder


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    from hwbopt.outputs import file_mode

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.fchmod(fd, file_mode())  # mkstemp makes it owner-only; the user's umask decides
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(source: str | os.PathLike[str] | Reportable,
                 out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.xlsx`` into the folder ``out``; returns their paths."""
    from hwbopt.report.excel import render_excel
    from hwbopt.report.html import provenance_rows, render_html
    from hwbopt.report.sections import build_sections

    data = report_data(source)
    sections = build_sections(data)
    folder = check_report_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    html_path, xlsx_path = folder / HTML_FILE, folder / EXCEL_FILE
    page = render_html(data, sections)
    _atomic(html_path, lambda p: p.write_text(page, encoding="utf-8"))
    _atomic(xlsx_path, lambda p: render_excel(data, sections, p, provenance_rows(data)))
    return html_path, xlsx_path
