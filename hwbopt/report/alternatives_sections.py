"""Report sections for room for manoeuvre (results of kind ``alternatives``).

An alternatives folder (``hwbopt alternatives --out``) holds ``summary.json`` (the JSON of
``hwbopt alternatives --json``), ``ranges.csv`` (each quantity: the optimum's value, the lowest
and highest among the plans within the slack, the proven limits beyond them, its status),
``alternatives.csv`` (each alternative's value of every quantity) and each alternative's own
tables under ``alternatives/NN/``. The sections read the summary, which holds every figure
(the CSV files become the workbook's sheets). For a board member:

- what was asked: the optimum, the slack and the plans it lets in, how the ranges were found;
- each kind of quantity's ranges as floating bars around the optimum's plan: how far each can
  fall (to the left of the line) and rise (to the right), as a share of the optimum's value,
  with the figures on the bars and in a table beside;
- the alternatives side by side: where each plan puts the quantities that differ most (as a
  position between their lowest and highest), their objectives and distances, and in words
  what changes most in each.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hwbopt.report.alternatives_text import (
    KIND_TITLES,
    _alternative_rows,
    digits,
    fixed,
    kind_title,
    kinds,
    objective_unit,
    objective_words,
    quantity_label,
    ranges_of,
    slack_words,
)
from hwbopt.report.coalitions_text import missing, number
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.words import percent, sentence_case

CAP = 300.0  # % beyond which a bar is cut (its figures stay on it and in the table)
SHOWN = 40  # quantities of one kind drawn in its chart (the table lists them all)
POSITIONS = 12  # quantities in the chart of the alternatives' positions


def _ok(data: ReportData) -> bool:
    return data.summary.get("status") == "optimal"


@headline("alternatives")
def alternatives_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    status = str(s.get("status", ""))
    if missing(s.get("objective")):
        return f"{status}: no optimum to measure room for manoeuvre from", False
    n = len(s.get("ranges") or [])
    k = len(s.get("alternatives") or [])
    more = f" and {k:,} alternative plan{'s' if k != 1 else ''}" if k else ""
    return (f"{status}: {n:,} quantities ranged {slack_words(s)}{more}", _ok(data))


@figures("alternatives")
def alternatives_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    unit = objective_unit(s)
    ranges = s.get("ranges") or []
    return [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        ("objective", "cost" if s.get("objective_kind") == "cost" else "weighted outcome"),
        (f"optimum's objective ({unit})", number(s.get("objective"))),
        ("slack (share of the optimum's objective a plan may give up)", number(s.get("slack"))),
        (f"worst objective within the slack ({unit})", number(s.get("objective_floor"))),
        ("plans explored", s.get("explores")),
        ("quantities ranged", len(ranges)),
        ("quantities that cannot move within the slack", sum(fixed(r) for r in ranges)),
        ("alternative plans", len(s.get("alternatives") or [])),
        ("solves", s.get("solves")),
        ("seconds", number(s.get("seconds"))),
    ]


@section("alternatives", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    intro = [
        f"The optimum's objective is {objective_words(s, s.get('objective'))}. The plans "
        f"{slack_words(s)} give up at most that share of it; among them, each quantity below "
        "was pushed as low and as high as it will go, one plan at a time, and every one of "
        "those plans was checked against every rule of the instance and its objective "
        f"recomputed. The ranges are over {s.get('explores') or 'every plan within the slack'}."
        , "A narrow range is a decision the numbers force; a wide one is open to "
        "negotiation at little cost to the objective. The ranges are each quantity's own: "
        "two quantities may not reach their extremes in the same plan."]
    if s.get("message"):
        intro.append(str(s["message"]))
    rows = [(k, v) for k, v in alternatives_figures(data) if k not in ("kind of result",
                                                                     "message")]
    intro.append(data.objective_sentence())  # what the slack is a share of
    return Section("overview", "Overview", "\n".join(p for p in intro if p),
                   [figure_table(rows)])


# ---------------------------------------------------------------------------------------------


def _share(v: Any, plan: float) -> float | None:
    """A value as a change from the optimum's, in % of the optimum's value (cut at CAP)."""
    if missing(v):
        return None
    change = 100.0 * (float(v) - plan) / abs(plan)
    return max(min(change, CAP), -CAP)


def _figure(v: Any, d: int) -> str:
    return "–" if missing(v) else f"{float(v):,.{d}f}"


def range_chart(s: dict[str, Any], kind: str, rows: list[dict[str, Any]]) -> Chart | None:
    """Floating bars: each quantity from its lowest to its highest value, drawn as the change
    from the optimum's value (the line at 0) in % of it; the part below the optimum in one
    colour, the part above in another, the figures on the bar."""
    drawn = [r for r in rows if not missing(r.get("plan")) and float(r["plan"]) != 0.0][:SHOWN]
    if not drawn:
        return None
    per_row = KIND_TITLES.get(kind, (kind, True))[1]
    d = digits([v for r in drawn for v in (r.get("low"), r.get("plan"), r.get("high"))])
    # the figures in the category's name: a label at a bar's end runs off a chart whose bars
    # all end at the optimum's value
    cats = [f"{quantity_label(r, per_row, short=True)}: "
            + (f"fixed at {_figure(r.get('plan'), d)}" if fixed(r) else
               f"{_figure(r.get('low'), d)} to {_figure(r.get('high'), d)}") for r in drawn]
    below = [_share(r.get("low"), float(r["plan"])) for r in drawn]
    above = [_share(r.get("high"), float(r["plan"])) for r in drawn]
    cut_below = [v is not None and v <= -CAP for v in below]
    cut_above = [v is not None and v >= CAP for v in above]
    cut = any(cut_below) or any(cut_above)
    note = ("Each bar runs from the quantity's lowest to its highest value among the plans "
            f"{slack_words(s)}, as a change from the optimum's value (0, where the two "
            "colours meet), in % of it; each name gives the lowest and highest"
            + ("" if per_row else f" in {rows[0].get('unit')}") + ".")
    if cut:
        note += (f" Hatched bars go beyond {CAP:.0f}% and are cut there; their figures are "
                 "in the name and the table.")
    zero = [r for r in rows if not missing(r.get("plan")) and float(r["plan"]) == 0.0]
    if zero:
        names = [quantity_label(r, False, short=True) for r in zero]
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3
                                         else "")
        note += (f" At zero in the optimum, so not drawn (no share of zero), but in the table: "
                 f"{listed}.")
    beyond = len(rows) - len(zero) - len(drawn)
    if beyond > 0:
        note += f" The first {SHOWN} are drawn; the table lists {beyond:,} more."
    return Chart(f"ranges_{kind}", kind_title(s, kind), cats,
                 [Series("can fall to", below, marked=cut_below if any(cut_below) else None),
                  Series("can rise to", above, marked=cut_above if any(cut_above) else None)],
                 y_title="change from the optimum's value (%)", horizontal=True, note=note)


def range_table(s: dict[str, Any], kind: str, rows: list[dict[str, Any]]) -> Table:
    per_row = KIND_TITLES.get(kind, (kind, True))[1]
    unit = "" if per_row or not rows else f" ({rows[0].get('unit')})"
    cols = ["quantity", *(["unit"] if per_row else []), f"optimum{unit}", f"lowest{unit}",
            f"highest{unit}", "status"]
    frame = pd.DataFrame([[quantity_label(r, False, short=True),
                           *([r.get("unit")] if per_row else []),
                           number(r.get("plan")), number(r.get("low")), number(r.get("high")),
                           r.get("status")] for r in rows], columns=cols)
    d = digits([v for r in rows for v in (r.get("low"), r.get("plan"), r.get("high"))])
    return Table(f"ranges_{kind}", kind_title(s, kind), frame,
                 digits={c: d for c in cols[1 + per_row:-1]})


@section("alternatives", order=20)
def ranges(data: ReportData) -> Section | None:
    s = data.summary
    if not s.get("ranges"):
        return None
    blocks: list[Chart | Table] = []
    for kind in kinds(s):
        rows = ranges_of(s, kind)
        chart = range_chart(s, kind, rows)
        if chart is not None:
            blocks.append(chart)
        blocks.append(range_table(s, kind, rows))
    all_rows = s.get("ranges") or []
    still = sum(fixed(r) for r in all_rows)
    intro = [f"How low and how high each quantity can go among the plans {slack_words(s)}."]
    if still:
        intro.append(f"{still:,} of {len(all_rows):,} quantities cannot move at all: every "
                     "plan within the slack keeps them at the optimum's value.")
    return Section("ranges", "What can move, and how far", "\n".join(intro), blocks)


# ---------------------------------------------------------------------------------------------


def position_chart(s: dict[str, Any]) -> Chart | None:
    """Where the optimum and each alternative put the quantities that differ most: each as a
    position between its lowest (0%) and highest (100%) value, so quantities in different
    units share one axis."""
    alts = s.get("alternatives") or []
    by_key = {str(r.get("quantity")): r for r in s.get("ranges") or []}
    keys: list[str] = []
    for a in alts:
        for c in a.get("changes") or []:
            if str(c.get("quantity")) not in keys:
                keys.append(str(c.get("quantity")))
    keys = [k for k in keys if k in by_key][:POSITIONS]
    if not keys:
        return None

    def position(key: str, v: Any) -> float | None:
        r = by_key[key]
        low, high = number(r.get("low")), number(r.get("high"))
        if missing(v) or low is None or high is None or high <= low:
            return None
        return 100.0 * (float(v) - low) / (high - low)

    series = [Series("the optimum", [position(k, by_key[k].get("plan")) for k in keys])]
    for a in alts:
        values = a.get("values") or {}
        series.append(Series(f"alternative {a.get('number')}",
                             [position(k, values.get(k)) for k in keys]))
    return Chart("alternative_positions", "Where each plan puts what differs most",
                 [quantity_label(by_key[k], True) for k in keys], series,
                 y_title="position between the lowest (0%) and highest (100%) value",
                 mode="group", horizontal=True,
                 note="Each bar is where the plan puts the quantity between the lowest and "
                      "the highest value any plan within the slack gives it; no bar: at the "
                      "lowest.")


def changes_table(s: dict[str, Any]) -> Table:
    """What changes most in each alternative: the quantity, the optimum's value and the
    alternative's, in the quantity's unit."""
    rows = [[a.get("number"), sentence_case(str(c.get("text") or c.get("quantity"))),
             c.get("unit"), number(c.get("plan")), number(c.get("value")),
             None if missing(c.get("share_of_range")) else 100 * float(c["share_of_range"])]
            for a in s.get("alternatives") or [] for c in a.get("changes") or []]
    frame = pd.DataFrame(rows, columns=["alternative", "quantity", "unit", "the optimum",
                                        "the alternative", "moved (% of its range)"])
    return Table("alternatives_changes", "What changes most in each alternative", frame,
                 digits={"the optimum": 1, "the alternative": 1,
                         "moved (% of its range)": 0})


@section("alternatives", order=30)
def side_by_side(data: ReportData) -> Section | None:
    s = data.summary
    alts = s.get("alternatives") or []
    if not alts:
        return None
    rows = _alternative_rows(s)
    heads = ["the optimum", *(f"alternative {a.get('number')}" for a in alts)]
    frame = pd.DataFrame([[label, *(number(v) for v in figures)]
                          for label, figures, _d in rows], columns=["", *heads])
    blocks: list[Chart | Table] = []
    chart = position_chart(s)
    if chart is not None:
        blocks.append(chart)
    blocks.append(Table("alternatives_side_by_side", "The alternatives side by side", frame,
                        digits={h: max(d for _l, _f, d in rows) for h in heads},
                        note="Distance: how far each quantity moves, on average, as a share "
                             "of its range (0% the optimum itself, 100% every quantity at the "
                             "other end of its range). The quantities listed are those that "
                             "differ most from the optimum in some alternative."))
    blocks.append(changes_table(s))
    intro = [f"{len(alts):,} plan{'s' if len(alts) != 1 else ''} {slack_words(s)}, each "
             "chosen to differ as much as it can from the optimum and from the plans before "
             "it: it pushes each quantity toward the part of its range the earlier plans left "
             "unexplored (SPORES-style weights; models/alternatives.md)."]
    for a in alts:
        dist = number(a.get("distance"))
        intro.append(f"Alternative {a.get('number')}: objective "
                     f"{objective_words(s, a.get('objective'))}"
                     + ("" if dist is None else
                        f"; on average each quantity moves {percent(dist)} of its range "
                        "from the optimum")
                     + (f" ({a['message']})" if a.get("message") else "") + ".")
    return Section("alternatives", "Alternative plans side by side", "\n".join(intro),
                   blocks)

