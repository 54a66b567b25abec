"""The report as an Excel workbook (xlsxwriter): summary, native charts, one sheet per table.

- ``summary``: title, status, key figures (numbers as numbers), the rules the report uses,
  provenance;
- ``charts``: each chart's data as a small block of cells, with a native Excel chart drawn
  from those cells beside it;
- one sheet per result table, named as the table, headers carrying units (``money (£k)``,
  ``fte (FTE)``), plus a ``unit`` column where each row has its own unit (outcomes in each
  priority's unit, activity in each intervention's). Ids are shown by name and years as
  financial years (``2011/12``), as on the page; each column so shown keeps its ids (years
  as numbers) in a column ``<column> (id)`` at the end of the sheet, for scripts.

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
    "curve": ("breakpoints", "pieces", "targets", "dropouts", "integer_changes", "outcomes",
              "spend", "activity"),
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
    if not chart.series:
        # e.g. differences from the pooled plan when only the pooled plan was compared: Excel
        # refuses a chart with no series, so the block says there is nothing to draw
        w.put(ws, top, 0, chart.title, w.bold)
        w.put(ws, top + 1, 0, "nothing to draw")
        return top + 3
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
    bars = "bar" if chart.across else "column"
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
    # Excel draws a line over columns but not over bars across: there the reference stays
    # in its column of cells, beside the data
    if chart.line is not None and not (chart.across and chart.kind == "bar"):
        line = w.wb.add_chart({"type": "line"})
        line.add_series({"name": [CHART_SHEET, top + 1, line_col],
                         "categories": [CHART_SHEET, first, 0, last, 0],
                         "values": [CHART_SHEET, first, line_col, last, line_col],
                         "line": {"color": "#444444", "dash_type": "dash"},
                         "marker": {"type": "none"}})
        xl.combine(line)
    xl.set_title({"name": chart.title, "name_font": {"size": 12}})
    if chart.across and chart.kind == "bar":
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


# id columns a workbook shows by name, and the labels they are named from ("source" is a
# partner's own money or a pool's); "users" holds several partners, separated by ";"
NAMED: dict[str, tuple[str, ...]] = {
    "partner": ("partners",), "employer": ("partners",), "owner": ("partners",),
    "payer": ("partners",), "payee": ("partners",), "lead": ("partners",),
    "users": ("partners",), "source": ("partners", "pools"), "pool": ("pools",),
    "intervention": ("interventions",), "priority": ("priorities",),
    "locality": ("localities",), "role": ("roles",), "site": ("sites",),
    "space_type": ("space_types",), "scenario": ("scenarios",), "option": ("options",),
}
ID_SUFFIX = " (id)"


def _namer(data: ReportData, column: str) -> Any:
    """The function giving a column's cell its name, or None for a column shown as it is."""
    kinds = NAMED.get(column)
    if kinds is None:
        return None
    extra: dict[str, str] = {}
    if column == "option":  # a comparison names its runs in options.csv (a share of a
        # partial-pooling sweep as partial@SHARE in the other tables)
        runs = data.table("options")
        if {"option", "label"} <= set(runs.columns):
            shares = runs["pool_share"] if "pool_share" in runs.columns else \
                pd.Series([np.nan] * len(runs), index=runs.index)
            for o, x, lab in zip(runs.option, shares, runs.label, strict=True):
                if o == "partial" and not pd.isna(x):
                    extra.setdefault(f"partial@{float(x):g}", str(lab))
                extra.setdefault(str(o), str(lab))
    if column == "scenario":
        extra = {"base": "base (as the instance says)"}

    def one(ident: str) -> str:
        if ident in extra:
            return extra[ident]
        for kind in kinds:
            if str(ident) in (data.labels.get(kind) or {}):
                return data.name(kind, ident)
        return ident

    def name(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        if column == "users":
            return "; ".join(one(u) for u in value.split(";") if u)
        return one(value)

    return name


def readable(data: ReportData, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A result table as the page shows it: ids as names, years as financial years
    ('2011/12'); each column so changed keeps its ids (years as numbers) in a column
    '<column> (id)' after the table's own, for scripts. Returns the frame and the names of the
    table's own columns so changed."""
    out = frame.copy()
    changed: list[str] = []
    for col in frame.columns:
        if col == "year" and len(frame):
            years = pd.to_numeric(frame[col], errors="coerce")
            if years.notna().all():
                out[col] = [data.year(int(y)) for y in years]
                out[col + ID_SUFFIX] = years.astype(int).tolist()
                changed.append(col)
            continue
        name = _namer(data, str(col))
        if name is None or not len(frame):
            continue
        if col == "option" and "label" in frame.columns:  # a row that carries its label
            shown = [lab if isinstance(lab, str) and lab else name(v)
                     for v, lab in zip(frame[col], frame["label"], strict=True)]
        else:
            shown = [name(v) for v in frame[col]]
        if shown != list(frame[col]):
            out[col] = shown
            out[col + ID_SUFFIX] = frame[col].tolist()
            changed.append(col)
    return out, changed


def _table_sheet(w: _Writer, data: ReportData, name: str, frame: pd.DataFrame,
                 sheet: str) -> None:
    ws = w.wb.add_worksheet(sheet)
    m = data.money
    cols = list(frame.columns)
    row_unit = columns.ROW_UNIT.get(name)
    if row_unit and row_unit[0] not in cols:
        row_unit = None
    # each row's unit from its id, before ids become names
    units = [data.unit(row_unit[1], v) for v in frame[row_unit[0]]] if row_unit else []
    shown, changed = readable(data, frame)
    ids = [c + ID_SUFFIX for c in changed]
    heads = [columns.header(name, c, m) for c in cols] + (["unit"] if row_unit else []) + ids
    for j, h in enumerate(heads):
        w.put(ws, 0, j, h, w.head)
        ws.set_column(j, j, max(10, min(28, len(h) + 2)))
    fmts = []
    for c in cols:
        unit = columns.UNITS.get(name, {}).get(c)
        fmts.append(w.money if unit and unit.startswith(columns.MONEY) else
                    (w.number if unit else None))
    after = len(cols) + (1 if row_unit else 0)
    for r, values in enumerate(shown[cols].itertuples(index=False), start=1):
        for j, value in enumerate(values):
            w.put(ws, r, j, value, fmts[j] if isinstance(value, float) else None)
        if row_unit:
            w.put(ws, r, len(cols), units[r - 1])
        for j, c in enumerate(ids):
            w.put(ws, r, after + j, shown[c].iloc[r - 1])
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
