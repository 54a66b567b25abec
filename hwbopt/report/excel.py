"""The report as an Excel workbook (xlsxwriter): summary, native charts, one sheet per table.

- ``summary``: title, status, key figures (numbers as numbers), the rules the report uses,
  provenance;
- ``charts``: each chart's data as a small block of cells, with a native Excel chart drawn
  from those cells beside it;
- one sheet per result table, named as the table, headers carrying units (``money (£k)``,
  ``fte (FTE)``), plus a ``unit`` column where each row has its own unit (outcomes in each
  priority's unit, activity in each intervention's).

Text is always written as text: a cell that begins with ``=``, ``+``, ``-`` or ``@`` gets
Excel's quote prefix (the leading apostrophe), so no user label is ever read as a formula.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.report import columns
from hwbopt.report.sections import key_figures
from hwbopt.report.spec import Chart, ReportData, Section

FORMULA_START = ("=", "+", "-", "@")
SUMMARY_SHEET, CHART_SHEET = "summary", "charts"
TABLE_ORDER = {  # the result tables' sheets in reading order, by kind of result
    "solve": ("allocation", "outcomes", "budgets", "pools", "benefits", "avoided_costs",
              "activity", "contributions", "staff", "deployment", "recharges", "sites",
              "space", "site_use", "choices"),
    "compare": ("options", "outcomes", "partners", "benefits", "policies", "pooling_curve"),
    "stress": ("objective_distribution", "target_probability", "target_probability_by_year",
               "cut_response", "cut_first", "binding"),
    "explain": ("marginal_values", "binding", "unfunded", "unfunded_effects", "relaxations",
                "conflict"),
    "frontier": ("frontier", "changes"),
}
# a plan: its own tables first, then the hedged plan's on the instance (as solve's)
TABLE_ORDER["plan"] = ("plan_scenarios", "plan_first_stage", "plan_differences",
                       "plan_elastic", *TABLE_ORDER["solve"])
MISSED = "#C0392B"
CHART_ROWS = 22  # rows a chart takes on the charts sheet


class _Writer:
    """Cell writing with the formats the report uses."""

    def __init__(self, wb: Any):
        self.wb = wb
        self.quoted = wb.add_format({"quote_prefix": True})
        self.bold = wb.add_format({"bold": True})
        self.head = wb.add_format({"bold": True, "bg_color": "#F2F5F8", "border": 1,
                                   "text_wrap": True, "valign": "top"})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.money = wb.add_format({"num_format": "#,##0.0"})
        self.number = wb.add_format({"num_format": "#,##0.00"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    def put(self, ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)) \
                or value is pd.NA or value == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool | np.bool_):
            ws.write_boolean(row, col, bool(value), fmt)
        elif isinstance(value, int | float | np.integer | np.floating):
            ws.write_number(row, col, float(value), fmt)
        else:
            text = str(value)
            if text.startswith(FORMULA_START):
                ws.write_string(row, col, text, self.quoted)
            else:
                ws.write_string(row, col, text, fmt)


def _summary(w: _Writer, data: ReportData, sections: list[Section],
             provenance: list[tuple[str, str]]) -> None:
    ws = w.wb.add_worksheet(SUMMARY_SHEET)
    ws.set_column(0, 0, 42)
    ws.set_column(1, 1, 90)
    w.put(ws, 0, 0, data.title, w.title)
    figures = key_figures(data)
    row = 2
    for label, value in figures:
        w.put(ws, row, 0, label, w.bold)
        w.put(ws, row, 1, value)
        row += 1
    row += 1
    w.put(ws, row, 0, "How to read it", w.title)
    row += 1
    for sec in sections:
        notes = [sec.intro] + [b.note for b in sec.blocks if b.note]
        for note in dict.fromkeys(n for n in notes if n):
            w.put(ws, row, 0, sec.title, w.bold)
            w.put(ws, row, 1, note, w.wrap)
            row += 1
    row += 1
    w.put(ws, row, 0, "Provenance", w.title)
    row += 1
    for label, value in provenance:
        w.put(ws, row, 0, label, w.bold)
        w.put(ws, row, 1, value, w.wrap)
        row += 1


def _scatter_block(w: _Writer, ws: Any, chart: Chart, top: int) -> int:
    """A scatter chart: each series' points as two columns (x, value) and, when labelled, a
    third of labels the chart's data labels refer to; a native scatter chart beside them."""
    from xlsxwriter.utility import xl_col_to_name

    w.put(ws, top, 0, chart.title, w.bold)
    col, rows = 0, max((len(s.values) for s in chart.series), default=0)
    first = top + 2
    xl = w.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for s in chart.series:
        labelled = bool(s.labels and any(s.labels))
        w.put(ws, top + 1, col, f"{s.name}: {chart.x_title or 'x'}", w.head)
        w.put(ws, top + 1, col + 1, f"{s.name}: {chart.y_title or 'value'}", w.head)
        for r, (x, y) in enumerate(zip(s.x or [], s.values, strict=False)):
            w.put(ws, first + r, col, x, w.number)
            w.put(ws, first + r, col + 1, y, w.number)
        last = first + len(s.values) - 1
        series: dict[str, Any] = {
            "name": [CHART_SHEET, top + 1, col + 1],
            "categories": [CHART_SHEET, first, col, last, col],
            "values": [CHART_SHEET, first, col + 1, last, col + 1],
            "marker": {"type": "diamond" if len(s.values) == 1 else "circle",
                       "size": 9 if len(s.values) == 1 else 6},
        }
        if not s.joined or len(s.values) == 1:
            series["line"] = {"none": True}
        if labelled:
            w.put(ws, top + 1, col + 2, f"{s.name}: label", w.head)
            for r, text in enumerate(s.labels or []):
                if text:
                    w.put(ws, first + r, col + 2, text)
            cell = f"='{CHART_SHEET}'!$%s$%d"
            series["data_labels"] = {"value": False, "position": "above", "custom": [
                {"value": cell % (xl_col_to_name(col + 2), first + r + 1)} if t
                else {"delete": True} for r, t in enumerate(s.labels or [])]}
        xl.add_series(series)
        col += 3 if labelled else 2
    xl.set_title({"name": chart.title, "name_font": {"size": 12}})
    xl.set_x_axis({"name": chart.x_title, "major_gridlines": {"visible": True}})
    xl.set_y_axis({"name": chart.y_title, "major_gridlines": {"visible": True}})
    xl.set_legend({"position": "bottom"})
    xl.set_size({"width": 760, "height": 400})
    ws.insert_chart(top, col + 1, xl)
    return top + max(CHART_ROWS, rows + 4)


def _chart_block(w: _Writer, ws: Any, chart: Chart, top: int) -> int:
    """Write the chart's data at ``top`` and draw the chart beside it; returns the next row."""
    if chart.kind == "scatter":
        return _scatter_block(w, ws, chart, top)
    stacks = list(dict.fromkeys(s.stack for s in chart.series))
    several = len(stacks) > 1
    # several stacks side by side: one category row per (category, stack), each series
    # filled only in its own stack's rows, so a stacked chart shows the stacks side by side
    cats = ([(c, k) for c in chart.categories for k in stacks] if several
            else [(c, "") for c in chart.categories])
    n_series = len(chart.series)
    label_col = 1 + n_series
    w.put(ws, top, 0, chart.title, w.bold)
    w.put(ws, top + 1, 0, chart.x_title or "category", w.head)
    for j, s in enumerate(chart.series):
        w.put(ws, top + 1, 1 + j, s.name, w.head)
    has_labels = any(s.labels and any(s.labels) for s in chart.series)
    for r, (cat, stack) in enumerate(cats):
        w.put(ws, top + 2 + r, 0, f"{cat}: {stack}" if several else cat)
        k = chart.categories.index(cat)
        for j, s in enumerate(chart.series):
            if several and s.stack != stack:
                continue
            w.put(ws, top + 2 + r, 1 + j, s.values[k], w.number)
    first, last = top + 2, top + 1 + len(cats)
    if has_labels:
        # labels live in cells the chart refers to: a label is never parsed as a formula
        for j, s in enumerate(chart.series):
            w.put(ws, top + 1, label_col + j, f"{s.name}: label", w.head)
            for r, text in enumerate(s.labels or []):
                if text:
                    w.put(ws, first + r, label_col + j, text)
    line_col = label_col + (n_series if has_labels else 0)
    if chart.line is not None:
        w.put(ws, top + 1, line_col, chart.line_label or "reference", w.head)
        for r in range(len(cats)):
            w.put(ws, first + r, line_col, chart.line)

    stacked = chart.mode == "stack" and chart.kind == "bar"
    bars = "bar" if chart.horizontal else "column"
    xl = w.wb.add_chart({"type": "line"} if chart.kind == "line" else
                        {"type": bars, **({"subtype": "stacked"} if stacked else {})})
    for j, s in enumerate(chart.series):
        series: dict[str, Any] = {
            "name": [CHART_SHEET, top + 1, 1 + j],
            "categories": [CHART_SHEET, first, 0, last, 0],
            "values": [CHART_SHEET, first, 1 + j, last, 1 + j],
        }
        if chart.kind == "line":
            series["marker"] = {"type": "circle", "size": 6}
        if s.marked and any(s.marked):
            series["points"] = [{"fill": {"color": MISSED}, "border": {"color": MISSED}}
                                if m else None for m in s.marked]
        if s.labels and any(s.labels):
            cell = f"='{CHART_SHEET}'!$%s$%d"
            from xlsxwriter.utility import xl_col_to_name

            series["data_labels"] = {"value": False, "custom": [
                {"value": cell % (xl_col_to_name(label_col + j), first + r + 1)}
                if t else {"delete": True} for r, t in enumerate(s.labels)]}
        xl.add_series(series)
    if chart.line is not None:
        line = w.wb.add_chart({"type": "line"})
        line.add_series({"name": [CHART_SHEET, top + 1, line_col],
                         "categories": [CHART_SHEET, first, 0, last, 0],
                         "values": [CHART_SHEET, first, line_col, last, line_col],
                         "line": {"color": "#444444", "dash_type": "dash"},
                         "marker": {"type": "none"}})
        xl.combine(line)
    xl.set_title({"name": chart.title, "name_font": {"size": 12}})
    if chart.horizontal and chart.kind == "bar":
        # a bar chart's category axis is its y axis: first category on top, as in the page
        xl.set_x_axis({"name": chart.y_title, "major_gridlines": {"visible": True}})
        xl.set_y_axis({"reverse": True, **({"name": chart.x_title} if chart.x_title else {})})
    else:
        xl.set_y_axis({"name": chart.y_title, "major_gridlines": {"visible": True}})
        if chart.x_title:
            xl.set_x_axis({"name": chart.x_title})
    xl.set_legend({"position": "bottom"})
    xl.set_size({"width": 760, "height": 400})
    ws.insert_chart(top, line_col + 2, xl)
    return top + max(CHART_ROWS, len(cats) + 4)


def _table_sheet(w: _Writer, data: ReportData, name: str, frame: pd.DataFrame,
                 sheet: str) -> None:
    ws = w.wb.add_worksheet(sheet)
    m = data.money
    cols = list(frame.columns)
    row_unit = columns.ROW_UNIT.get(name)
    if row_unit and row_unit[0] not in cols:
        row_unit = None
    heads = [columns.header(name, c, m) for c in cols] + (["unit"] if row_unit else [])
    for j, h in enumerate(heads):
        w.put(ws, 0, j, h, w.head)
        ws.set_column(j, j, max(10, min(28, len(h) + 2)))
    fmts = []
    for c in cols:
        unit = columns.UNITS.get(name, {}).get(c)
        fmts.append(w.money if unit and unit.startswith(columns.MONEY) else
                    (w.number if unit else None))
    for r, values in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(values):
            w.put(ws, r, j, value, fmts[j] if isinstance(value, float) else None)
        if row_unit:
            w.put(ws, r, len(cols), data.unit(row_unit[1], values[cols.index(row_unit[0])]))
    ws.freeze_panes(1, 0)
    if len(frame):
        ws.autofilter(0, 0, len(frame), len(heads) - 1)


def render_excel(data: ReportData, sections: list[Section], path: Path,
                 provenance: list[tuple[str, str]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                         "strings_to_urls": False,
                                         "strings_to_numbers": False})
    date = (data.summary.get("provenance") or {}).get("date")
    try:
        created = dt.datetime.fromisoformat(date).replace(tzinfo=None) if date else None
    except ValueError:
        created = None
    wb.set_properties({"title": f"{data.title}: {data.kind} report", "author": "hwbopt",
                       **({"created": created} if created else {})})
    w = _Writer(wb)
    _summary(w, data, sections, provenance)
    charts = [b for s in sections for b in s.blocks if isinstance(b, Chart)]
    if charts:
        ws = wb.add_worksheet(CHART_SHEET)
        ws.set_column(0, 0, 34)
        top = 0
        for chart in charts:
            top = _chart_block(w, ws, chart, top)
    order = TABLE_ORDER.get(data.kind, ())
    names = [t for t in order if t in data.tables] + \
        sorted(t for t in data.tables if t not in order)
    for name in names:
        sheet = name[:31] if name not in (SUMMARY_SHEET, CHART_SHEET) else f"{name}_table"
        _table_sheet(w, data, name, data.tables[name], sheet)
    wb.close()
