"""The report as one self-contained HTML page: plotly charts with plotly.js inlined.

Nothing is fetched when the page opens: the only scripts are plotly.js and the charts' own
calls, both inside the page, and the only style is the page's own. Every piece of text from the
instance or the result is escaped: for the page with :func:`html.escape`, for plotly (which
reads a few tags and entities in labels, and ``$…$`` as LaTeX) with :func:`plotly_text`.
"""

from __future__ import annotations

import html
import itertools
import math
from typing import Any

import numpy as np

from hwbopt.report.spec import Chart, ReportData, Section, Series, Table

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a5a5a5",
           "#843c0c", "#375623", "#d6336c", "#0b7285", "#5f3dc4"]
MISSED = "#c0392b"
NO_PLAN = "#8c8c8c"  # scenarios with no plan (infeasible, failed) beside a histogram

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


def legend_name(text: Any) -> str:
    """A series name for the legend beside the plot: escaped, wrapped so it stays narrow."""
    return wrap_label(text, 30)


def figure(chart: Chart) -> Any:
    """The plotly figure of a chart (series with several stacks sit side by side).

    Legends sit outside the plot, to its right, never over the title or the bars; a chart of
    one series has none (its axis says what it is). Long lists are drawn across
    (:attr:`Chart.across`), and a histogram on a numeric axis (:attr:`Chart.edges`).
    """
    import plotly.graph_objects as go

    if chart.edges is not None and chart.kind == "bar":
        return _histogram(chart)
    fig = go.Figure()
    stacks = list(dict.fromkeys(s.stack for s in chart.series))
    several = len(stacks) > 1
    base: dict[str, list[float]] = {k: [0.0] * len(chart.categories) for k in stacks}
    flat = chart.across and chart.kind == "bar"
    x = [wrap_label(c, 56 if flat else 18) for c in chart.categories]
    for n, s in enumerate(chart.series):
        color = PALETTE[n % len(PALETTE)]
        values = [None if v is None else float(v) for v in s.values]
        if chart.kind == "scatter":
            fig.add_trace(_scatter(s, values, color))
            continue
        if chart.kind == "line":
            fig.add_trace(go.Scatter(name=legend_name(s.name), x=x, y=values,
                                     mode="lines+markers", line={"color": color, "width": 2},
                                     marker={"color": color, "size": 7}))
            continue
        kw: dict[str, Any] = {"name": legend_name(s.name), "x": x, "y": values,
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
            kw["text"] = [_wrapped(t) if t else "" for t in s.labels]
            # outside the end of its own bar: across, each bar has a row of its own, so a
            # label never sits behind a neighbour
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
    _frame(fig, chart, len(chart.series) > 1)
    fig.update_layout(
        barmode=barmode,
        # a bar per series side by side (grouped), or one bar per stack (stacked)
        height=max(480, 160 + 24 * lines * max(1, len(chart.series) if barmode == "group"
                                                else len(stacks))) if flat else 480)
    if flat:
        fig.update_layout(xaxis_title=value_title, yaxis_title=category_title,
                          yaxis={"automargin": True, "autorange": "reversed"},
                          xaxis={"automargin": True, "tickformat": ",", "zeroline": True,
                                 "zerolinecolor": "#888888",
                                 **_label_room(chart, barmode == "relative")})
    elif chart.kind == "scatter":  # two numeric axes, figures written out in full
        fig.update_layout(yaxis_title=value_title, xaxis_title=category_title,
                          xaxis={"automargin": True, "tickformat": ","},
                          yaxis={"automargin": True, "tickformat": ","})
    else:
        fig.update_layout(yaxis_title=value_title, xaxis_title=category_title,
                          xaxis={"automargin": True, "tickangle": 0},
                          yaxis={"tickformat": ",", "zeroline": True,
                                 "zerolinecolor": "#888888"})
    if chart.line is not None:
        # the reference line is named in the legend, beside the plot: a label on the line
        # itself would sit on the bars that reach it
        place = {"line_dash": "dash", "line_color": "#444", "line_width": 1.5}
        if flat:
            fig.add_vline(x=chart.line, **place)
        else:
            fig.add_hline(y=chart.line, **place)
        if chart.line_label:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines",
                                     name=legend_name(chart.line_label), hoverinfo="skip",
                                     line={"color": "#444", "dash": "dash", "width": 1.5}))
            fig.update_layout(showlegend=True)
    return fig


def _label_room(chart: Chart, stacked: bool) -> dict[str, Any]:
    """The value axis's range for bars across with labels at their ends: wide enough on each
    side that a label outside its bar stays inside the plot, never over the category names
    or off the page. {} (plotly's own range) for a chart without labels."""
    labelled = [s for s in chart.series if s.labels and any(s.labels)]
    if not labelled:
        return {}
    if stacked:
        totals = [sum(float(s.values[j] or 0.0) for s in chart.series)
                  for j in range(len(chart.categories))]
        ends = [*totals, 0.0]
    else:
        ends = [float(v) for s in chart.series for v in s.values if v is not None] + [0.0]
    if chart.line is not None:
        ends.append(float(chart.line))
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    # the widest line of a label (labels wrap at LABEL_WIDTH characters), as a share of a
    # plot about 650 px wide at about 6.5 px a character
    longest = max(len(line) for s in labelled for t in (s.labels or []) if t
                  for line in _wrapped(t).split("<br>"))
    below = any(t and v is not None and float(v) < 0 for s in labelled
                for v, t in zip(s.values, s.labels or [], strict=False))
    above = any(t and (v is None or float(v) >= 0) for s in labelled
                for v, t in zip(s.values, s.labels or [], strict=False))
    sides = int(below) + int(above)
    share = min(longest * 6.5 / 650, 0.9 / sides)
    # the room on each labelled side is that share of the whole range, bars' span included
    room = share * span / (1 - sides * share)
    return {"range": [lo - (room if below else 0.03 * span),
                      hi + (room if above else 0.03 * span)]}


LABEL_WIDTH = 40  # characters a line of a bar's label takes before it wraps


def _wrapped(text: str) -> str:
    """A bar's label, escaped and wrapped so a long one (a measure in words) stays narrow."""
    return wrap_label(text, LABEL_WIDTH)


def _frame(fig: Any, chart: Chart, legend: bool) -> None:
    """Title, font and margins; the legend (if any) outside the plot on its right."""
    fig.update_layout(
        title={"text": plotly_text(chart.title), "x": 0, "xref": "paper", "y": 0.98,
               "yanchor": "top"},
        template="plotly_white", showlegend=legend,
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top",
                "font": {"size": 11}},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        font={"family": "Segoe UI, Helvetica, Arial, sans-serif"})


def nice_ticks(lo: float, hi: float, about: int = 6) -> list[float]:
    """About ``about`` round values (1, 2 or 5 times a power of ten apart) within [lo, hi]: a
    histogram's axis is read from them, never from a label per bar."""
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo] if math.isfinite(lo) else []
    raw = span / about
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda d: abs(span / d - about))
    first = math.ceil(lo / step) * step
    count = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + k * step, 12) for k in range(count)]


def _decimals(ticks: list[float]) -> int:
    """Decimals that tell the ticks apart (none for whole steps)."""
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    return max(0, -math.floor(math.log10(step))) if step < 1 else 0


def _histogram(chart: Chart) -> Any:
    """A histogram: its bins as bars on a numeric axis (ticks, never a label per bar) and any
    categories after the bins (infeasible or failed scenarios) in a narrow panel beside it."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    edges = [float(e) for e in chart.edges or []]
    n = len(edges) - 1
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [(b - a) or 1.0 for a, b in itertools.pairwise(edges)]
    extra = chart.categories[n:]
    fig = make_subplots(rows=1, cols=2 if extra else 1, shared_yaxes=True,
                        column_widths=[0.86, 0.14] if extra else None,
                        horizontal_spacing=0.03) if extra else go.Figure()
    several = len(chart.series) > 1
    for k, s in enumerate(chart.series):
        color = PALETTE[k % len(PALETTE)]
        values = [None if v is None else float(v) for v in s.values]
        marks = s.marked or [False] * len(values)
        marker = {"color": color,
                  "line": {"color": [MISSED if m else "#ffffff" for m in marks[:n]],
                           "width": [3 if m else 1 for m in marks[:n]]}}
        hover = [f"{plotly_text(c)}: {v:,.0f}" if v is not None else ""
                 for c, v in zip(chart.categories[:n], values[:n], strict=True)]
        bins = go.Bar(name=legend_name(s.name), x=centres, y=values[:n], width=widths,
                      marker=marker, hovertext=hover, hoverinfo="text",
                      legendgroup=str(k), offsetgroup="0")
        if extra:
            fig.add_trace(bins, row=1, col=1)
            # no plan: grey, apart from the colours of the solved scenarios
            fig.add_trace(go.Bar(name=legend_name(s.name), x=[plotly_text(c) for c in extra],
                                 y=values[n:], marker={"color": NO_PLAN}, legendgroup=str(k),
                                 showlegend=False, offsetgroup="0"), row=1, col=2)
        else:
            fig.add_trace(bins)
        labelled = [(centres[j], values[j] or 0.0, t) for j, t in enumerate((s.labels or [])[:n])
                    if t]
        for xc, yv, text in labelled:  # above its bar, pointing at it
            fig.add_annotation(x=xc, y=yv, text=plotly_text(text), showarrow=True,
                               arrowhead=0, ay=-28, font={"color": MISSED, "size": 11},
                               row=1 if extra else None, col=1 if extra else None)
    _frame(fig, chart, several)
    fig.update_layout(barmode="stack", height=480, bargap=0)
    ticks = nice_ticks(edges[0], edges[-1]) if edges else []
    fig.update_xaxes(title_text=plotly_text(chart.x_title), automargin=True, type="linear",
                     tickangle=0, tickmode="array", tickvals=ticks,
                     ticktext=[f"{t:,.{_decimals(ticks)}f}" for t in ticks],
                     range=[edges[0] - 0.02 * (edges[-1] - edges[0] or 1),
                            edges[-1] + 0.02 * (edges[-1] - edges[0] or 1)] if edges else None,
                     row=1 if extra else None, col=1 if extra else None)
    fig.update_yaxes(title_text=plotly_text(chart.y_title), tickformat=",",
                     row=1 if extra else None, col=1 if extra else None)
    if extra:
        fig.update_xaxes(tickangle=0, automargin=True, row=1, col=2)
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
        "name": legend_name(s.name), "x": [None if v is None else float(v) for v in s.x or []],
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

