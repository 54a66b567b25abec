"""The report as one self-contained HTML page: plotly charts with plotly.js inlined.

Nothing is fetched when the page opens: the only scripts are plotly.js and the charts' own
calls, both inside the page, and the only style is the page's own. Every piece of text from the
instance or the result is escaped: for the page with :func:`html.escape`, for plotly (which
reads a few tags and entities in labels, and ``$…$`` as LaTeX) with :func:`plotly_text`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from hwbopt.report.spec import Chart, ReportData, Section, Series, Table

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a5a5a5",
           "#843c0c", "#375623", "#d6336c", "#0b7285", "#5f3dc4"]
MISSED = "#c0392b"

CSS = """
body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;
padding:24px;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #1f4e79;padding-bottom:4px;
margin-top:2em}h3{margin-top:1.4em}
.status{display:inline-block;padding:2px 10px;border-radius:10px;background:#e7f0e7}
.status.bad{background:#f8e1de}
p.note{color:#444;font-size:.92em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}
th{background:#f2f5f8;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.missed td{background:#fbeceb}
nav ul{columns:2;padding-left:1.2em}
dl.prov{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:.9em}
dl.prov dt{font-weight:600}dl.prov dd{margin:0;word-break:break-all}
.chart{min-height:420px}
@media print{.chart{break-inside:avoid}}
"""


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def plotly_text(text: Any) -> str:
    """Text plotly shows as written: it reads <b>, <br>, entities and $…$ (LaTeX) in labels."""
    return html.escape(str(text), quote=True).replace("$", "&#36;")


def wrap_label(text: Any, width: int = 18) -> str:
    """A category label for plotly, escaped, broken into lines of about ``width`` characters."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(plotly_text(line) for line in lines) or plotly_text(text)


def _cell(value: Any, digits: int) -> tuple[str, bool]:
    """The cell's text and whether it is a number (right-aligned)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int | np.integer):
        return f"{value:,}", True
    if isinstance(value, float | np.floating):
        text = f"{value:,.{digits}f}"
        # a value that rounds to zero shows as 0, never -0
        return (text[1:] if text.startswith("-") and not text.strip("-0.,") else text), True
    return esc(value), False


def table_html(table: Table) -> str:
    frame = table.frame
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        missed = False
        for col, value in zip(frame.columns, row, strict=True):
            text, number = _cell(value, table.digits.get(col, 1))
            if isinstance(value, str) and value.startswith("missed"):
                missed = True
            cells.append(f"<td class=\"num\">{text}</td>" if number else f"<td>{text}</td>")
        attr = ' class="missed"' if missed else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    note = f"<p class=\"note\">{esc(table.note)}</p>" if table.note else ""
    return (f"<h3>{esc(table.title)}</h3>{note}<table id=\"table-{esc(table.key)}\"><thead>"
            f"<tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def figure(chart: Chart) -> Any:
    """The plotly figure of a chart (series with several stacks sit side by side)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    stacks = list(dict.fromkeys(s.stack for s in chart.series))
    several = len(stacks) > 1
    base: dict[str, list[float]] = {k: [0.0] * len(chart.categories) for k in stacks}
    flat = chart.horizontal and chart.kind == "bar"
    x = [wrap_label(c, 56 if flat else 18) for c in chart.categories]
    for n, s in enumerate(chart.series):
        color = PALETTE[n % len(PALETTE)]
        values = [None if v is None else float(v) for v in s.values]
        if chart.kind == "scatter":
            fig.add_trace(_scatter(s, values, color))
            continue
        if chart.kind == "line":
            fig.add_trace(go.Scatter(name=plotly_text(s.name), x=x, y=values,
                                     mode="lines+markers", line={"color": color, "width": 2},
                                     marker={"color": color, "size": 7}))
            continue
        kw: dict[str, Any] = {"name": plotly_text(s.name), "x": x, "y": values,
                              "marker": {"color": color}}
        if flat:
            kw.update(x=values, y=x, orientation="h")
        if several:
            kw["offsetgroup"] = plotly_text(s.stack)
            kw["base"] = list(base[s.stack])
            kw["legendgroup"] = plotly_text(s.stack)
            base[s.stack] = [b + (v or 0.0) for b, v in zip(base[s.stack], values, strict=True)]
        if s.marked:
            kw["marker"] = {"color": color,
                            "line": {"color": [MISSED if m else color for m in s.marked],
                                     "width": [3 if m else 0 for m in s.marked]},
                            "pattern": {"shape": ["/" if m else "" for m in s.marked],
                                        "fgcolor": MISSED}}
        if s.labels and any(s.labels):
            kw["text"] = [plotly_text(t) for t in s.labels]
            kw["textposition"] = "outside"
            kw["textangle"] = 0
            kw["constraintext"] = "none"
            kw["textfont"] = {"size": 11, "color": [MISSED if m else "#333333" for m in (
                s.marked or [False] * len(s.labels))]}
            kw["cliponaxis"] = False
        fig.add_trace(go.Bar(**kw))
    barmode = "group" if chart.mode == "group" or several else "relative"
    value_title, category_title = plotly_text(chart.y_title), plotly_text(chart.x_title)
    lines = sum(max(1, c.count("<br>") + 1) for c in x)
    fig.update_layout(
        title={"text": plotly_text(chart.title), "y": 0.97}, barmode=barmode,
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 60, "r": 20, "t": 90, "b": 40},
        # a bar per series side by side (grouped), or one bar per stack (stacked)
        height=max(480, 160 + 24 * lines * max(1, len(chart.series) if barmode == "group"
                                                else len(stacks))) if flat else 480,
        font={"family": "Segoe UI, Helvetica, Arial, sans-serif"})
    if flat:
        fig.update_layout(xaxis_title=value_title, yaxis_title=category_title,
                          yaxis={"automargin": True, "autorange": "reversed"},
                          xaxis={"automargin": True})
    elif chart.kind == "scatter":  # two numeric axes, figures written out in full
        fig.update_layout(yaxis_title=value_title, xaxis_title=category_title,
                          xaxis={"automargin": True, "tickformat": ","},
                          yaxis={"automargin": True, "tickformat": ","})
    else:
        fig.update_layout(yaxis_title=value_title, xaxis_title=category_title,
                          xaxis={"automargin": True, "tickangle": 0})
    if chart.line is not None:
        place = {"line_dash": "dash", "line_color": "#444",
                 "annotation_text": plotly_text(chart.line_label),
                 "annotation_position": "top right"}
        if flat:
            fig.add_vline(x=chart.line, **place)
        else:
            fig.add_hline(y=chart.line, **place)
    return fig


def _scatter(s: Series, values: list[float | None], color: str) -> Any:
    """A series of a scatter chart: its points at (x, value), numbered by their labels; a
    series of one point (a plan to compare with the rest) is drawn as a larger open diamond,
    so a point of another series under it still shows."""
    import plotly.graph_objects as go

    one = len(values) == 1
    mode = ("lines+markers" if s.joined and not one else "markers") + \
        ("+text" if s.labels and any(s.labels) else "")
    kw: dict[str, Any] = {
        "name": plotly_text(s.name), "x": [None if v is None else float(v) for v in s.x or []],
        "y": values, "mode": mode, "line": {"color": color, "width": 2},
        "marker": ({"color": color, "size": 20, "symbol": "diamond-open",
                    "line": {"color": color, "width": 3}} if one else
                   {"color": color, "size": 9, "symbol": "circle",
                    "line": {"color": "#ffffff", "width": 1}}),
        "cliponaxis": False}
    if s.labels and any(s.labels):
        kw.update(text=[plotly_text(t) for t in s.labels], textposition="top right",
                  textfont={"size": 11, "color": "#333333"})
    if s.hover:
        kw.update(hovertext=[plotly_text(t).replace("\n", "<br>") for t in s.hover],
                  hoverinfo="text")
    return go.Scatter(**kw)


def chart_html(chart: Chart) -> str:
    import plotly.io as pio

    div = pio.to_html(figure(chart), include_plotlyjs=False, full_html=False,
                      div_id=f"chart-{chart.key}",
                      config={"displaylogo": False, "responsive": True})
    note = f"<p class=\"note\">{esc(chart.note)}</p>" if chart.note else ""
    return f"<div class=\"chart\">{div}</div>{note}"


def section_html(sec: Section) -> str:
    parts = [f"<section id=\"{esc(sec.key)}\"><h2>{esc(sec.title)}</h2>"]
    for para in [p for p in sec.intro.split("\n") if p]:
        parts.append(f"<p>{esc(para)}</p>")
    for block in sec.blocks:
        parts.append(chart_html(block) if isinstance(block, Chart) else table_html(block))
    parts.append("</section>")
    return "".join(parts)


def provenance_rows(data: ReportData) -> list[tuple[str, str]]:
    """The provenance block's rows: instance hash, hwbopt, solver, seed, date, options."""
    p = data.summary.get("provenance") or {}

    def show(v: Any) -> str:
        if v is None or v == "" or v == []:
            return "not recorded"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, list):
            return ", ".join(map(str, v))
        if isinstance(v, dict):
            return "; ".join(f"{k} {'none' if x in (None, []) else show(x)}" for k, x in v.items())
        return str(v)

    solver = p.get("solver") or data.summary.get("solver")
    if p.get("solver_version"):
        solver = f"{solver} {p['solver_version']}"
    return [
        ("instance", show(data.title)),
        ("instance source", show(p.get("instance_source"))),
        ("instance file hash (SHA-256)", show(p.get("instance_sha256"))),
        ("files hashed", show(p.get("instance_files"))),
        ("hwbopt version", show(p.get("hwbopt_version"))),
        ("solver", show(solver)),
        ("seed", show(p.get("seed")) if p.get("seed") is not None
         else "none (no random numbers are drawn)"),
        ("solver options", show(p.get("options"))),
        ("date (UTC)", show(p.get("date"))),
        ("result kind", data.kind),
    ]


def render_html(data: ReportData, sections: list[Section]) -> str:
    import plotly.offline

    from hwbopt.report.sections import status_line

    status, ok = status_line(data)
    bad = "" if ok else " bad"
    nav = "".join(f"<li><a href=\"#{esc(s.key)}\">{esc(s.title)}</a></li>" for s in sections)
    prov = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in provenance_rows(data))
    body = "".join(section_html(s) for s in sections)
    title = f"{data.title}: {data.kind} report"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{CSS}</style>"
        f"<script type=\"text/javascript\">{plotly.offline.get_plotlyjs()}</script>"
        "</head><body>"
        f"<h1>{esc(data.title)}</h1>"
        f"<p><span class=\"status{bad}\">{esc(status)}</span> "
        f"{esc(data.kind)} result, money in {esc(data.money)}</p>"
        f"<nav><ul>{nav}<li><a href=\"#provenance\">Provenance</a></li></ul></nav>"
        f"{body}"
        f"<section id=\"provenance\"><h2>Provenance</h2><dl class=\"prov\">{prov}</dl>"
        "</section></body></html>\n")

