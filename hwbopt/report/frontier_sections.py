"""Report sections for a Pareto frontier (results of kind ``frontier``).

A frontier's folder (``hwbopt frontier --out``) holds ``summary.json`` (the JSON of
``hwbopt frontier --json``), ``frontier.csv`` (a row per point: both criteria, status, checked,
the changes from the point before in words), ``changes.csv`` (each change: point, kind, name,
text, before, after) and ``points/NN/`` (each point's plan as ``hwbopt solve --out`` writes
it). The sections read the summary; the two CSV files become the workbook's sheets. For a
board member:

- what was traded, how the points were found and where the instance's own plan sits;
- the frontier as a chart — the second criterion across, the first up, each point numbered,
  the instance's own plan (the optimum of its own objective) as a diamond — and the points
  as a table with the key changes into each;
- every change from each point to the next, in words, and from one end to the other.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from hwbopt.report.frontier_text import (
    NAMES,
    between,
    change_texts,
    matching_point,
    method,
    own_plan_line,
    points,
    said,
    short_unit,
    step_head,
)
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table

KEY_CHANGES = 3  # changes named beside each point in the table and the chart's hover text
HOVER_WIDTH = 60  # characters a line of the hover text wraps at


def _number(v: Any) -> float | None:
    try:
        out = float(v)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


def _axis(s: dict[str, Any], name: str) -> str:
    unit = short_unit(s, name)
    return f"{NAMES.get(name, name)} ({unit})" if unit else NAMES.get(name, name)


def _scaled(s: dict[str, Any], name: str, v: Any) -> float | None:
    """A criterion's value as the chart draws it: a share of a target in %."""
    x = _number(v)
    if x is None:
        return None
    return 100.0 * x if short_unit(s, name) == "% of target" else x


@headline("frontier")
def frontier_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    a, b = between(s)
    n = len(points(s))
    status = str(s.get("status", ""))
    how = "exact: every breakpoint" if s.get("exact") else "ε-constraint points"
    if not n:
        return f"{status}: no point of the frontier between {a} and {b}", False
    return (f"{status}: {n} point{'s' if n != 1 else ''} of the frontier between {a} and {b} "
            f"({how})", status == "optimal")


@figures("frontier")
def frontier_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    a, b = between(s)
    ps = points(s)
    plan = s.get("plan") or {}
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        ("criteria traded", f"{a} and {b}"),
        ("exact (every breakpoint of a linear model)", bool(s.get("exact"))),
        ("points", len(ps)), ("points asked for (a mixed-integer model)",
                              s.get("requested_points")),
        ("solves", s.get("solves")),
    ]
    if ps:
        for label, p in ((f"best {a}", ps[0]), (f"best {b}", ps[-1])):
            rows += [(f"{label}: {a} ({short_unit(s, a)})", _number(p.get(a))),
                     (f"{label}: {b} ({short_unit(s, b)})", _number(p.get(b)))]
    if plan:
        rows += [(f"the instance's own plan ({plan.get('objective')}): {a} "
                  f"({short_unit(s, a)})", _number(plan.get(a))),
                 (f"the instance's own plan ({plan.get('objective')}): {b} "
                  f"({short_unit(s, b)})", _number(plan.get(b))),
                 ("the instance's own plan is point", matching_point(s))]
    rows.append(("seconds", _number(s.get("seconds"))))
    return rows


@section("frontier", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    a, b = between(s)
    intro = [f"The frontier between {NAMES.get(a, a)} and {NAMES.get(b, b)}: the plans no "
             f"other plan beats on both. Along it, {a} is bought only with {b}.",
             method(s) + "."]
    own = own_plan_line(s)
    if own:
        intro.append(own)
    if s.get("message"):
        intro.append(str(s["message"]))
    intro.append("Every point is a plan checked against every rule of the instance by code "
                 "independent of the model; its tables are in points/NN/ of the result "
                 "folder, as hwbopt solve --out writes them.")
    rows = [(k, v) for k, v in frontier_figures(data) if k not in ("kind of result",
                                                                 "message")]
    if "outcome" in (a, b):  # what a point of weighted outcome is
        intro.append(data.objective_sentence())
    return Section("overview", "Overview", "\n".join(p for p in intro if p),
                   [figure_table(rows)])


def _hover(s: dict[str, Any], k: int, p: dict[str, Any]) -> str:
    a, b = between(s)
    lines = [f"point {k}", said(s, a, p.get(a)), said(s, b, p.get(b))]
    if k > 1:
        lines.append(f"from point {k - 1}:")
        lines += [f"– {t}" for t in change_texts(p.get("changes") or [], KEY_CHANGES)]
    return "\n".join(line for text in lines
                     for line in textwrap.wrap(text, HOVER_WIDTH, subsequent_indent="  "))


def frontier_chart(s: dict[str, Any]) -> Chart | None:
    a, b = between(s)
    ps = points(s)
    if not ps:
        return None
    frontier = Series(f"the frontier ({'every breakpoint' if s.get('exact') else 'points'})",
                      [_scaled(s, a, p.get(a)) for p in ps],
                      x=[_scaled(s, b, p.get(b)) for p in ps],
                      labels=[str(k) for k in range(1, len(ps) + 1)],
                      joined=bool(s.get("exact")),
                      hover=[_hover(s, k, p) for k, p in enumerate(ps, start=1)])
    series = [frontier]
    plan = s.get("plan") or {}
    if plan and _number(plan.get(a)) is not None and _number(plan.get(b)) is not None:
        series.append(Series(f"the instance's own plan (its objective: {plan.get('objective')})",
                             [_scaled(s, a, plan.get(a))], x=[_scaled(s, b, plan.get(b))],
                             joined=False,
                             hover=[f"the instance's own plan: {said(s, a, plan.get(a))}, "
                                    f"{said(s, b, plan.get(b))}"]))
    if s.get("exact"):
        note = ("The points are the frontier's breakpoints; the line between two of them is "
                "the frontier too (mixtures of their plans). ")
    else:
        note = ("A mixed-integer model's frontier is a set of separate plans: the points are "
                "not joined, and the plans between them are not known to be on it. ")
    note += ("Each point is numbered as in the table below; the diamond is the instance's own "
             "plan, the optimum of its own objective. Point at a point for its values and the "
             "decisions that change to reach it.")
    return Chart("frontier", f"The frontier between {a} and {b}", [], series,
                 y_title=_axis(s, a), x_title=_axis(s, b), kind="scatter", note=note)


@section("frontier", order=20)
def the_frontier(data: ReportData) -> Section | None:
    s = data.summary
    ps = points(s)
    if not ps:
        return None
    a, b = between(s)
    blocks: list[Chart | Table] = []
    chart = frontier_chart(s)
    if chart is not None:
        blocks.append(chart)
    own = matching_point(s)
    rows = []
    for k, p in enumerate(ps, start=1):
        rows.append({"point": f"{k} (the instance's own plan)" if k == own else str(k),
                     f"{a} ({short_unit(s, a)})": _scaled(s, a, p.get(a)),
                     f"{b} ({short_unit(s, b)})": _scaled(s, b, p.get(b)),
                     "status": str(p.get("status", "")),
                     "checked": bool(p.get("checked")),
                     "key changes from the point before": "; ".join(
                         change_texts(p.get("changes") or [], KEY_CHANGES))})
    blocks.append(Table("points", "The points", pd.DataFrame(rows),
                        note="checked: the plan passed the independent checker. Changes: "
                             "go/no-go and sites first, then the largest changes in activity "
                             "and in each partner's spend (all of them below).",
                        digits={f"{a} ({short_unit(s, a)})": 2,
                                f"{b} ({short_unit(s, b)})": 2}))
    return Section("frontier", "The frontier", "", blocks)


@section("frontier", order=30)
def changes(data: ReportData) -> Section | None:
    s = data.summary
    ps = points(s)
    if len(ps) < 2:
        return None
    rows = []
    for k in range(2, len(ps) + 1):
        head = step_head(s, k)
        texts = [str(c.get("text", "")) for c in ps[k - 1].get("changes") or []]
        for n, t in enumerate(texts or ["no decision changes beyond the rounding of the "
                                        "figures"]):
            rows.append({"step": head if n == 0 else "", "change": t})
    blocks: list[Chart | Table] = [Table("steps", "From each point to the next",
                    pd.DataFrame(rows, columns=["step", "change"]))]
    across = s.get("across") or []
    if across and len(ps) > 2:
        blocks.append(Table("across", f"From one end to the other (1 → {len(ps)})",
                            pd.DataFrame({"change": [str(c.get("text", "")) for c in across]})))
    return Section("changes", "What changes along the frontier",
                   "Go/no-go interventions started or stopped and sites opened or closed, "
                   "every one; the largest changes in activity by intervention over the "
                   "horizon (ranked by what they cost) and in each partner's spend on "
                   "services.", blocks)
