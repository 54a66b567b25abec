"""Report sections for an explanation (results of kind ``explain``).

An explanation's folder (``hwbopt explain --out``) holds ``summary.json`` (the JSON of
``hwbopt explain --json``), ``marginal_values.csv``, ``binding.csv``, ``unfunded.csv`` and
``unfunded_effects.csv``, and for an infeasible instance ``relaxations.csv`` and
``conflict.csv``. Every text in them is already in the instance's names and units (see
:mod:`hwbopt.words`); the sections arrange it: marginal values as bars labelled with the range
each holds over, the binding rules, the unfunded interventions with the improvement each
needs, how far each priority's weight may move with the plan standing (from ``summary.json``'s
``weight_ranges``), or, for an infeasible instance, the smallest relaxation and the conflicting
rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hwbopt.analyses.weights import figures_apart, not_ranged
from hwbopt.model.phrases import singular
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.words import num

MARGINAL_CHARTED = 20  # marginal values in the chart, the largest first (the table has all)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _end(value: Any, unit: str, money: str) -> str:
    if _missing(value):
        return "no limit"
    return f"{money} {num(float(value))}" if unit == money else f"{num(float(value))} {unit}"


def _objective_unit(data: ReportData) -> str:
    return str(data.summary.get("objective_unit") or "points of weighted outcome")


@headline("explain")
def explain_headline(data: ReportData) -> tuple[str, bool]:
    status = str(data.summary.get("status", ""))
    return status, status == "optimal"


@figures("explain")
def explain_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    inf = s.get("infeasibility") or {}
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        (f"objective ({_objective_unit(data)})", s.get("objective")),
        ("integer decisions fixed at the plan's values", s.get("integers_fixed")),
        ("marginal values listed", len(s.get("marginal_values") or [])),
        ("zero marginal values listed too", s.get("all_values")),
        ("rules at their limit", len(s.get("binding") or [])),
        ("interventions left unfunded", len(s.get("unfunded") or [])),
    ]
    if inf:
        rows += [("rules to relax", len(inf.get("relaxations") or [])),
                 ("the relaxation is proven the smallest", inf.get("minimal")),
                 ("hard rules in conflict", len(inf.get("conflict") or []))]
    return rows


@section("explain", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    rows = [(k, v) for k, v in explain_figures(data) if k not in ("kind of result", "message")]
    # an infeasible instance's message is the diagnosis, given in its own section
    intro = [str(s.get("message") or "")] if not s.get("infeasibility") else []
    if s.get("integers_note"):
        intro.append(f"Note: {s['integers_note']}.")
    if s.get("objective") is not None:
        intro.append(data.objective_sentence())
    intro += [f"Warning: {w}" for w in s.get("warnings") or []]
    return Section("overview", "Overview", "\n".join(p for p in intro if p),
                   [figure_table(rows)])


@section("explain", order=15)
def infeasibility(data: ReportData) -> Section | None:
    inf = data.summary.get("infeasibility")
    if not inf:
        return None
    m = data.money
    blocks: list[Chart | Table] = []
    relax = data.table("relaxations")
    if not relax.empty:
        blocks.append(Chart(
            "relaxations", "The smallest relaxation that makes a plan possible",
            [str(t) for t in relax.text],
            [Series("relaxed by (% of the rule)",
                    [None if _missing(v) else 100.0 * float(v) for v in relax.share],
                    labels=[_end(a, str(u), m) for a, u in zip(relax.amount, relax.unit,
                                                               strict=True)])],
            y_title="% of the rule's own level", horizontal=True,
            note="Each bar is labelled with how far the rule must give, in its own unit"
                 + ("." if inf.get("minimal") else "; the best found, not proven smallest.")))
        blocks.append(Table("relaxations", "Rules that must give", pd.DataFrame(
            [[r.text, _end(r.amount, str(r.unit), m),
              None if _missing(r.share) else 100.0 * float(r.share)]
             for r in relax.itertuples(index=False)],
            columns=["rule", "by", "share of the rule (%)"])))
    conflict = data.table("conflict")
    if not conflict.empty:
        proven = (" (irreducible: drop any one and the rest can hold)" if inf.get("irreducible")
                  else " (not proven irreducible within the time allowed)")
        blocks.append(Table("conflict", "Hard rules that cannot all hold" + proven,
                            pd.DataFrame([[r.text, r.kind, r.rule]
                                          for r in conflict.itertuples(index=False)],
                                         columns=["rule", "kind", "in the model"])))
    return Section("infeasibility", "Why there is no plan", str(inf.get("text") or ""), blocks)


def _units(mv: pd.DataFrame, money: str) -> list[str]:
    """The units of the marginal values, money first (what finance reads), then by how many
    limits each has."""
    counts = mv.unit.astype(str).value_counts(sort=False)
    return sorted(counts.index, key=lambda u: (u != money, -int(counts[u]), u))


def _marginal_chart(data: ReportData, mv: pd.DataFrame, unit: str, n: int) -> Chart:
    """The largest marginal values of limits in one unit: one axis, one unit, so £k values
    are not slivers beside a room's."""
    m = data.money
    top = mv.reindex(mv.value.abs().sort_values(ascending=False, kind="stable").index)
    top = top.head(MARGINAL_CHARTED)
    exact = [bool(h) for h in top.holds_for_increase]
    one = unit if unit == m else singular(unit)
    return Chart(
        f"marginal_values_{n}" if n else "marginal_values",
        f"What one more {one} of each limit is worth",
        [f"{w} (holds from {_end(a, str(u), m)} to {_end(b, str(u), m)})"
         for w, a, b, u in zip(top.what, top.valid_from, top.valid_to, top.unit, strict=True)],
        [Series("marginal value", [float(v) for v in top.value],
                marked=[not e for e in exact])],
        y_title=f"{_objective_unit(data)} per {one}", horizontal=True,
        note="Each limit is named with the range over which its value holds. Outlined bars "
             "sit at the end of their range: the value bounds what one more unit is worth."
             + (f" The {len(top)} largest of {len(mv)} in {unit} are drawn; the table lists "
                "all." if len(mv) > len(top) else ""))


@section("explain", order=20)
def marginal_values(data: ReportData) -> Section | None:
    mv = data.table("marginal_values")
    if mv.empty:
        return None
    m = data.money
    blocks: list[Chart | Table] = [
        _marginal_chart(data, mv[mv.unit.astype(str) == u], u, n)
        for n, u in enumerate(_units(mv, m))]
    rows = [[r.what, float(r.value), bool(r.holds_for_increase), _end(r.level, str(r.unit), m),
             _end(r.valid_from, str(r.unit), m), _end(r.valid_to, str(r.unit), m), r.constraint]
            for r in mv.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=[
        "what one more unit is", f"worth ({_objective_unit(data)})",
        "exactly (not only a bound)", "the limit now", "holds from", "to", "in the model"])
    blocks.append(Table("marginal_values", "Marginal values", frame,
                        digits={f"worth ({_objective_unit(data)})": 4}))
    return Section("marginal_values", "Marginal values", (
        "What one more unit of each limit a board sets — money, staff, space, a target — is "
        "worth to the objective, valid while the limit stays within the range shown. One "
        "chart per unit: money first, then staff, space and targets."), blocks)


@section("explain", order=30)
def binding(data: ReportData) -> Section | None:
    b = data.table("binding")
    if b.empty:
        return None

    def holds(r: Any) -> bool:
        return (_missing(r.change_from) or r.change_from < 0) or \
            (_missing(r.change_to) or r.change_to > 0)

    ranked = sorted(b.itertuples(index=False),
                    key=lambda r: -abs(r.marginal_value) if holds(r) else 0.0)
    rows = [[r.text, float(r.marginal_value) if holds(r) else np.nan,
             np.nan if _missing(r.change_from) else float(r.change_from),
             np.nan if _missing(r.change_to) else float(r.change_to), r.constraint]
            for r in ranked]
    frame = pd.DataFrame(rows, columns=["rule", "marginal value", "limit may fall by up to",
                                        "or rise by up to", "in the model"])
    frame["limit may fall by up to"] = -frame["limit may fall by up to"]
    return Section("binding", "Rules at their limit", (
        "The rules the plan meets exactly, the largest marginal values first; the value holds "
        "while the limit moves within the change shown (in the rule's own unit; blank: no "
        "limit)."), [Table("binding", "Rules at their limit", frame,
                           digits={"marginal value": 4, "limit may fall by up to": 2,
                                   "or rise by up to": 2})])


@section("explain", order=40)
def unfunded(data: ReportData) -> Section | None:
    u = data.table("unfunded")
    if u.empty:
        return None
    m = data.money
    names = [str(n) if n else str(i) for i, n in zip(u.intervention, u.name, strict=True)]
    chart = Chart(
        "unfunded", "What would bring each unfunded intervention into the plan", names,
        [Series("cheaper by (%)", [None if _missing(v) else float(v)
                                   for v in u.cheaper_by_percent]),
         Series("or more effective by (%)", [None if _missing(v) else float(v)
                                             for v in u.more_effective_by_percent])],
        y_title="% improvement needed", mode="group",
        note="The cut in unit cost, or the rise in effect on every priority it moves, that "
             "alone would bring the intervention into the plan; a missing bar: no such change "
             "alone is enough.")
    rows = [[name, float(r.unit_cost),
             np.nan if _missing(r.unit_cost_needed) else float(r.unit_cost_needed),
             np.nan if _missing(r.cheaper_by_percent) else float(r.cheaper_by_percent),
             np.nan if _missing(r.more_effective_by_percent)
             else float(r.more_effective_by_percent), str(r.method).replace("_", " "), r.text]
            for name, r in zip(names, u.itertuples(index=False), strict=True)]
    cost, needed = f"unit cost ({m} a unit)", f"unit cost needed ({m} a unit)"
    frame = pd.DataFrame(rows, columns=[
        "intervention", cost, needed, "cheaper by (%)", "or more effective by (%)", "found by",
        "in words"])
    blocks: list[Chart | Table] = [chart, Table("unfunded", "Interventions left unfunded",
                                                frame, digits={cost: 4, needed: 4})]
    effects = data.table("unfunded_effects")
    if not effects.empty:
        label = dict(zip(u.intervention, names, strict=True))
        blocks.append(Table("unfunded_effects", "Effect each would need, per priority",
                            pd.DataFrame([[label.get(r.intervention, r.intervention),
                                           data.name("priorities", r.priority), float(r.effect),
                                           None if _missing(r.effect_needed)
                                           else float(r.effect_needed), r.unit]
                                          for r in effects.itertuples(index=False)],
                                         columns=["intervention", "priority", "effect now",
                                                  "effect needed", "unit"]),
                            digits={"effect now": 4, "effect needed": 4}))
    return Section("unfunded", "Interventions left unfunded", (
        "Services with no activity anywhere in any year, and what would bring each into the "
        "plan."), blocks)


@section("explain", order=50)
def weight_ranges(data: ReportData) -> Section | None:
    s = data.summary
    ranges = s.get("weight_ranges")
    if ranges is None or s.get("infeasibility") or s.get("objective") is None:
        return None  # a folder written before weight ranges, or no plan to range
    title = "How far each weight may move"
    kind = str(s.get("objective_kind") or "outcome")
    if kind != "outcome":
        return Section("weight_ranges", title, not_ranged(kind))
    if not ranges:
        return None
    rows = []
    for w in ranges:
        to = None if _missing(w.get("valid_to")) else float(w["valid_to"])
        # as many figures as tell the weight and its ends apart (a range may be narrow)
        now, frm, end = figures_apart([float(w["weight"]), float(w["valid_from"]),
                                       float(w["weight"]) if to is None else to])
        rows.append([data.name("priorities", w["priority"]), now, frm,
                     "no limit" if to is None else end, str(w.get("unit") or ""),
                     str(w.get("text") or "")])
    frame = pd.DataFrame(rows, columns=[
        "priority", "weight now (points a unit)", "the plan stands from", "to",
        "unit of outcome", "in words"])
    held = (" With every go/no-go, site and whole-post decision held as planned."
            if s.get("integers_fixed") else "")
    return Section("weight_ranges", title, (
        "Each priority's weight (objective points per unit of its outcome) may move anywhere "
        "within its range and the plan stays optimal; outside it another plan is better. A "
        "range with no upper end says 'no limit'." + held),
        [Table("weight_ranges", "Weight ranges", frame)])
