"""Report sections for a cut-response curve (results of kind ``curve``).

A curve's folder (``hwbopt curve --out``) holds ``summary.json`` (the JSON of ``hwbopt curve
--json``) and its tables: ``breakpoints``, ``pieces``, ``targets``, ``dropouts``,
``integer_changes``, and the plan at each breakpoint (``outcomes``, ``spend``, ``activity``),
which become the workbook's sheets. For a board member:

- what was moved, over which range, and how exactly the curve is known;
- the objective against the input (a line through the breakpoints), and each piece with its
  slope, the value of money on it and the rules that bind;
- each target's outcome as a share of the target along the range, and where it stops being met;
- the interventions that fall out of the plan, and where freeing the integer decisions does
  better.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hwbopt.report.curve_text import integer_text, method, money_label, name_of, target_text
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table


def _number(v: Any) -> float | None:
    try:
        out = float(v)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


@headline("curve")
def curve_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    status = str(s.get("status", ""))
    n = len(s.get("breakpoints") or [])
    if not n:
        return f"{status}: no curve of {s.get('input')}", False
    how = "exact" if s.get("exact") else "not proven exact"
    return (f"{status}: {max(n - 2, 0)} breakpoint{'s' if n - 2 != 1 else ''} of "
            f"{s.get('input')} between {s.get('from')} and {s.get('to')} ({how})",
            status == "optimal" and bool(s.get("exact")))


@figures("curve")
def curve_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    bps = s.get("breakpoints") or []
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None), ("input", s.get("input")),
        ("from", _number(s.get("from"))), ("to", _number(s.get("to"))),
        ("objective", s.get("objective_kind")),
        ("exact (every piece one certified optimal basis)", bool(s.get("exact"))),
        ("straight between breakpoints", bool(s.get("affine"))),
        ("breakpoints inside the range", max(len(bps) - 2, 0)),
        ("pieces", len(s.get("pieces") or [])),
        ("HiGHS solves", s.get("solves")),
        ("pivots on the basis (the curve's own)", s.get("pivots")),
    ]
    if bps:
        rows += [(f"objective at {bps[0]['value']}", _number(bps[0].get("objective"))),
                 (f"objective at {bps[-1]['value']}", _number(bps[-1].get("objective")))]
    if s.get("feasible_to") is not None:
        rows.append(("no plan with the integer decisions held past", _number(s["feasible_to"])))
    rows += [("interventions that fall out", len(s.get("dropouts") or [])),
             ("points where freeing integer decisions does better",
              len(s.get("integer_changes") or [])),
             ("points checked with integer decisions free", s.get("integer_points_checked")),
             ("seconds", _number(s.get("seconds")))]
    return rows


@section("curve", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    intro = [f"The plan's response to {s.get('input')} set to each value from {s.get('from')} "
             f"to {s.get('to')}, with the plan's yes/no and whole-number decisions held at the "
             f"optimum's at {s.get('from')}.", method(s) + ".",
             "Between two breakpoints every activity, spend and outcome changes at a steady "
             "rate" + ("" if s.get("affine") else " along a smooth curve") + "."]
    if s.get("message"):
        intro.append(str(s["message"]))
    rows = [(k, v) for k, v in curve_figures(data) if k not in ("kind of result", "message")]
    return Section("overview", "Overview", "\n".join(intro), [figure_table(rows)])


@section("curve", order=20)
def the_curve(data: ReportData) -> Section | None:
    s = data.summary
    bps = s.get("breakpoints") or []
    if not bps:
        return None
    xs = [_number(b.get("value")) for b in bps]
    ys = [_number(b.get("objective")) for b in bps]
    chart = Chart("curve", f"The objective against {s.get('input')}", [],
                  [Series("objective at each breakpoint", ys, x=xs, joined=True,
                          hover=[f"{s.get('input')} = {x:.6g}: objective {y:,.2f}"
                                 for x, y in zip(xs, ys, strict=True)
                                 if x is not None and y is not None])],
                  y_title=f"objective ({s.get('objective_kind')})",
                  x_title=str(s.get("input")), kind="scatter",
                  note="The points are the breakpoints: where some activity, spend or outcome "
                       "changes its rate. " + ("The curve is straight between them."
                                               if s.get("affine") else
                                               "Between them it is a smooth curve (the input "
                                               "compounds); the line joins the breakpoints."))
    money = money_label(s)
    rows = [{"from": _number(p.get("from")), "to": _number(p.get("to")),
             "objective at from": _number(p.get("objective_from")),
             "slope (objective per unit of the input)": _number(p.get("slope")),
             f"objective per {money} of money": _number(p.get("money_value")),
             "rules that bind": "; ".join(p.get("binding_text") or [])}
            for p in s.get("pieces") or []]
    table = Table("pieces", "The pieces", pd.DataFrame(rows),
                  note="Slope: how fast the objective changes with the input on the piece. "
                       f"Objective per {money} of money: the change in the objective per "
                       f"{money} of the money the input takes from (or adds to) the partners. "
                       "Rules that bind: the rules at their limit whose marginal value is not "
                       "zero on the piece.",
                  digits={"from": 6, "to": 6})
    return Section("curve", "The curve", "", [chart, table])


def _attainment_chart(data: ReportData) -> Chart | None:
    o = data.table("outcomes")
    if o.empty or "target" not in o.columns:
        return None
    o = o[pd.to_numeric(o["target"], errors="coerce") > 0]
    if o.empty:
        return None
    series = []
    for (priority, year), g in o.groupby(["priority", "year"], sort=False):
        g = g.sort_values("value")
        share = 100.0 * pd.to_numeric(g["achieved"]) / pd.to_numeric(g["target"])
        series.append(Series(f"{data.name('priorities', priority)} {data.year(year)}",
                             [float(v) for v in share],
                             x=[float(v) for v in pd.to_numeric(g["value"])], joined=True))
    s = data.summary
    return Chart("attainment", "Each target's outcome as a share of the target", [], series,
                 y_title="% of target", x_title=str(s.get("input")), kind="scatter",
                 line=100.0, line_label="target",
                 note="At each breakpoint; below 100% a target is missed.")


@section("curve", order=30)
def targets(data: ReportData) -> Section | None:
    s = data.summary
    ts = s.get("targets") or []
    if not ts:
        return None
    blocks: list[Chart | Table] = []
    chart = _attainment_chart(data)
    if chart is not None:
        blocks.append(chart)
    rows = [{"priority": name_of(s, "priorities", t.get("priority")), "year": t.get("year"),
             "target": _number(t.get("target")), "hard": bool(t.get("hard")),
             "along the range": target_text(s, t),
             "last met at": _number(t.get("last_met"))} for t in ts]
    blocks.append(Table("targets", "Where each target stops being met", pd.DataFrame(rows),
                        note="A target counts as met within a millionth of it, as hwbopt "
                             "solve and stress count it.", digits={"last met at": 6}))
    return Section("targets", "Targets along the range", "", blocks)


@section("curve", order=40)
def changes(data: ReportData) -> Section:
    s = data.summary
    drops = s.get("dropouts") or []
    blocks: list[Chart | Table] = []
    blocks.append(Table("dropouts", "Interventions that fall out of the plan", pd.DataFrame(
        [{"intervention": name_of(s, "interventions", d.get("intervention")),
          "falls out at": _number(d.get("at"))} for d in drops],
        columns=["intervention", "falls out at"]), digits={"falls out at": 6},
        note="Running at the start of the range, with no activity from this value on."))
    checks = s.get("integer_changes") or []
    n = s.get("integer_points_checked") or 0
    blocks.append(Table("integer_changes", "Where freeing the integer decisions does better",
                        pd.DataFrame({"point": [integer_text(c) for c in checks]},
                                     columns=["point"]),
                        note=f"The mixed-integer model re-solved with the yes/no and whole-"
                             f"number decisions free at {n} points: each breakpoint and each "
                             "piece's middle, spread evenly. A point listed is one where "
                             "another set of those decisions gives a better plan; between the "
                             "points checked, a change is not ruled out."))
    return Section("changes", "What falls out, and where other decisions do better", "",
                   blocks)
