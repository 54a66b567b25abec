"""Report sections for a stress batch (results of kind ``stress``).

A stress run's folder (``hwbopt stress --out``) holds ``summary.json`` (the JSON of ``hwbopt
stress --json``), ``run.json`` and the Parquet results under ``scenarios/``. The report's
tables are read from there (:func:`stress_tables`): the distribution of the objective over the
solved scenarios (from the Parquet results), and the summary's probabilities of meeting each
target, cut-response curves, what is cut first and the rules that bind most often, as tidy
tables. See ``models/stress.md`` for how each is measured.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.analyses.stress import SOLVED
from hwbopt.report.sections import figures, headline, loader, section
from hwbopt.report.solve import _order
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.words import num

CUT_LEVEL = 90.0  # % of the plan's activity below which an intervention counts as cut
BINDING_CHARTED = 12  # rules in the chart of how often rules bind (the table has them all)


def histogram(values: np.ndarray) -> pd.DataFrame:
    """Equal-width bins over the values (about the square root of their number, 5 to 30):
    bin_from, bin_to, scenarios, share."""
    cols = ["bin_from", "bin_to", "scenarios", "share"]
    if not len(values):
        return pd.DataFrame(columns=cols)
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return pd.DataFrame([[lo, hi, len(values), 1.0]], columns=cols)
    bins = min(30, max(5, int(math.sqrt(len(values)))))
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return pd.DataFrame({"bin_from": edges[:-1], "bin_to": edges[1:], "scenarios": counts,
                         "share": counts / len(values)}, columns=cols)


@loader("stress")
def stress_tables(folder: Path, summary: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The report's tables of a stress run, from its folder."""
    from hwbopt.batch.store import read_results

    results = read_results(folder, columns=["scenario", "status", "objective"]) \
        if (folder / "scenarios").is_dir() else pd.DataFrame(columns=["status", "objective"])
    solved = results[results.status.isin(SOLVED)]
    objective = pd.to_numeric(solved.objective, errors="coerce").dropna().to_numpy(dtype=float)
    by_year = summary.get("target_probability_by_year") or {}
    return {
        "objective_distribution": histogram(objective),
        "target_probability": pd.DataFrame(
            list((summary.get("target_probability") or {}).items()),
            columns=["priority", "probability"]),
        "target_probability_by_year": pd.DataFrame(
            [(k, int(y), p) for k, years in by_year.items() for y, p in years.items()],
            columns=["priority", "year", "probability"]),
        "cut_response": pd.DataFrame(
            [{"priority": k, "bin": n + 1, **point}
             for k, curve in (summary.get("cut_response") or {}).items()
             for n, point in enumerate(curve)],
            columns=["priority", "bin", "cut_depth_from", "cut_depth_to", "cut_depth",
                     "scenarios", "probability_met", "outcome_p50"]),
        "cut_first": pd.DataFrame(summary.get("cut_first") or [], columns=[
            "intervention", "cut_depth", "activity_at_mildest", "activity_at_deepest"]),
        "binding": pd.DataFrame(summary.get("binding") or [],
                                columns=["rule", "text", "share"]),
        "plan_changes": pd.DataFrame(summary.get("plan_changes") or [],
                                     columns=["decision", "text", "share"]),
    }


def _pct(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else 100.0 * float(v)


def _set_name(data: ReportData) -> str:
    sid = str(data.summary.get("stress_set", ""))
    return data.name("stress", sid) if sid else ""


def _objective_title(data: ReportData) -> str:
    return ("weighted outcome (points)" if data.summary.get("objective_kind") == "outcome"
            else f"total cost ({data.money})")


# ---------------------------------------------------------------------------------------------


@headline("stress")
def stress_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    text = (f"{s.get('finished', 0):,} of {s.get('scenarios', 0):,} scenarios: "
            f"{s.get('solved', 0):,} solved, {s.get('infeasible', 0):,} infeasible, "
            f"{s.get('failed', 0):,} failed")
    return text, not s.get("failed") and s.get("finished") == s.get("scenarios")


@figures("stress")
def stress_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    pct = s.get("objective_percentiles") or {}
    return [
        ("kind of result", data.kind),
        ("stress set", _set_name(data)),
        ("seed of the draws", s.get("seed")),
        ("scenarios", s.get("scenarios")), ("finished", s.get("finished")),
        ("solved", s.get("solved")),
        ("solved with the plan's decisions changed", s.get("plan_infeasible")),
        ("certified optimal", s.get("certified")), ("infeasible", s.get("infeasible")),
        ("failed", s.get("failed")),
        (f"the plan's objective ({_objective_title(data)})", s.get("base_objective")),
        ("objective, 5th percentile", pct.get("p5")), ("objective, median", pct.get("p50")),
        ("objective, 95th percentile", pct.get("p95")), ("objective, mean", pct.get("mean")),
        ("integer decisions re-solved in each scenario", s.get("mip")),
        ("workers", s.get("workers")), ("seconds", s.get("seconds")),
        ("warm solves that disagreed with a cold re-solve", s.get("cold_mismatches")),
    ]


@section("stress", order=10)
def overview(data: ReportData) -> Section:
    rows = [(k, v) for k, v in stress_figures(data) if k != "kind of result"]
    s = data.summary
    intro = (f"Stress set {_set_name(data)}: each scenario draws the set's inputs, and the "
             "plan is solved again under them")
    intro += (" with every decision free." if s.get("mip") else
              ", its integer decisions (sites, go/no-go, whole posts) held as planned; where "
              "they cannot hold, they are chosen afresh for that scenario.")
    if "certified" in s:  # runs made before certification say nothing of it
        intro += (" Every reported solution was checked against its scenario's own numbers "
                  "and proven optimal." if s["certified"] == s["solved"] else
                  f" {s['certified']:,} of {s['solved']:,} solved scenarios passed the "
                  "optimality certificate.")
    return Section("overview", "Overview", intro, [figure_table(rows)])


@section("stress", order=20)
def distribution(data: ReportData) -> Section | None:
    hist = data.table("objective_distribution")
    if hist.empty:
        return None
    base = data.summary.get("base_objective")
    marks = [base is not None and (lo <= base < hi or (n == len(hist) - 1 and base == hi))
             for n, (lo, hi) in enumerate(zip(hist.bin_from, hist.bin_to, strict=True))]
    cats = [f"{num(lo, 4)} to {num(hi, 4)}" for lo, hi in zip(hist.bin_from, hist.bin_to,
                                                              strict=True)]
    chart = Chart("objective_histogram", "Distribution of the objective over the solved "
                  "scenarios", cats,
                  [Series("scenarios", [float(c) for c in hist.scenarios], marked=marks,
                          labels=["the plan" if m else "" for m in marks])],
                  y_title="scenarios", x_title=_objective_title(data),
                  note="The bin holding the plan's own objective (no stress) is outlined.")
    pct = data.summary.get("objective_percentiles") or {}
    rows = [(label, pct.get(key)) for label, key in (
        ("5th percentile", "p5"), ("median", "p50"), ("95th percentile", "p95"),
        ("mean", "mean"), ("lowest", "min"), ("highest", "max"))]
    rows.append(("the plan (no stress)", base))
    frame = pd.DataFrame([(k, float(v) if v is not None else np.nan) for k, v in rows],
                         columns=["measure", _objective_title(data)])
    return Section("distribution", "Distribution of the objective", (
        "How the plan's objective spreads over the solved scenarios."),
        [chart, Table("percentiles", "Percentiles of the objective", frame,
                      digits={_objective_title(data): 2})])


@section("stress", order=30)
def targets(data: ReportData) -> Section | None:
    overall = data.table("target_probability")
    if overall.empty:
        return None
    by_year = data.table("target_probability_by_year")
    ids = _order(list(dict.fromkeys(overall.priority)), list(data.labels.get("priorities", {})))
    p_all = dict(zip(overall.priority, overall.probability, strict=True))
    years = sorted({int(y) for y in by_year.year}) if len(by_year) else []
    lookup = {(k, int(y)): p for k, y, p in by_year.itertuples(index=False)}
    series = [Series("every year", [_pct(p_all.get(k)) for k in ids])]
    series += [Series(data.year(y), [_pct(lookup.get((k, y))) for k in ids]) for y in years]
    chart = Chart("target_probability", "Probability of meeting each target",
                  [data.name("priorities", k) for k in ids], series,
                  y_title="% of scenarios", mode="group",
                  note="Among the scenarios whose inputs were valid; an infeasible scenario "
                       "meets no target.")
    rows = [[data.name("priorities", k), _pct(p_all.get(k)),
             *(_pct(lookup.get((k, y))) for y in years)] for k in ids]
    frame = pd.DataFrame(rows, columns=["priority", "every year (%)",
                                        *(f"{data.year(y)} (%)" for y in years)])
    return Section("targets", "Targets", "How often each priority meets its targets.",
                   [chart, Table("target_probability", "Probability of meeting each target",
                                 frame)])


@section("stress", order=40)
def cut_response(data: ReportData) -> Section | None:
    curves = data.table("cut_response")
    if curves.empty:
        return None
    ids = _order(list(dict.fromkeys(curves.priority)), list(data.labels.get("priorities", {})))
    first = curves[curves.priority == ids[0]].sort_values("bin")
    cats = [f"{100 * d:.1f}%" for d in first.cut_depth]
    series = []
    for k in ids:
        mine = curves[curves.priority == k].sort_values("bin")
        series.append(Series(data.name("priorities", k),
                             [_pct(p) for p in mine.probability_met]))
    chart = Chart("cut_response", "Response of each target to cut depth", cats, series,
                  y_title="% of scenarios meeting every year's target",
                  x_title="cut depth (median of each group of scenarios)", kind="line",
                  note="Cut depth is the share of the plan's available money a scenario takes "
                       "away (negative: more money). Scenarios are grouped in ten groups of "
                       "equal size by cut depth.")
    rows = [[data.name("priorities", r.priority), int(r.bin), 100 * r.cut_depth_from,
             100 * r.cut_depth_to, 100 * r.cut_depth, int(r.scenarios),
             _pct(r.probability_met), r.outcome_p50, data.unit("priorities", r.priority)]
            for r in curves.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=[
        "priority", "group", "cut depth from (%)", "to (%)", "median (%)", "scenarios",
        "meeting every year's target (%)", "median outcome", "unit"])
    return Section("cut_response", "Cut response", (
        "How each priority's chance of meeting its targets changes as cuts deepen."),
        [chart, Table("cut_response", "Cut response", frame)])


@section("stress", order=50)
def cut_first(data: ReportData) -> Section | None:
    cuts = data.table("cut_first")
    if cuts.empty:
        return None
    cats = [data.name("interventions", i) for i in cuts.intervention]
    chart = Chart("cut_first", "What is cut first: activity against the plan, mildest and "
                  "deepest cuts", cats,
                  [Series("mildest cuts", [_pct(v) for v in cuts.activity_at_mildest]),
                   Series("deepest cuts", [_pct(v) for v in cuts.activity_at_deepest])],
                  y_title="% of the plan's activity", mode="group", line=CUT_LEVEL,
                  line_label="cut (90% of the plan)",
                  note="Services in the order they fall below 90% of the plan's activity as "
                       "cuts deepen (median of each group of scenarios); those never cut last.")
    rows = [[data.name("interventions", r.intervention),
             "never" if pd.isna(r.cut_depth) else f"{100 * r.cut_depth:.1f}%",
             _pct(r.activity_at_mildest), _pct(r.activity_at_deepest)]
            for r in cuts.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=["service", "below 90% of the plan from cut depth",
                                        "activity at the mildest cuts (%)",
                                        "activity at the deepest cuts (%)"])
    return Section("cut_first", "What is cut first", (
        "Which services shrink first as the money runs short."),
        [chart, Table("cut_first", "What is cut first", frame)])


@section("stress", order=60)
def binding(data: ReportData) -> Section | None:
    rules = data.table("binding")
    if rules.empty:
        return None
    top = rules.head(BINDING_CHARTED)
    chart = Chart("binding", "The rules that bind most often",
                  [str(t or r) for t, r in zip(top.text, top.rule, strict=True)],
                  [Series("binds in", [_pct(v) for v in top.share])],
                  y_title="% of solved scenarios", horizontal=True,
                  note=f"The {len(top)} rules most often at their limit"
                       + (f"; the table lists {len(rules)}." if len(rules) > len(top) else "."))
    frame = pd.DataFrame([[r.text or r.rule, r.rule, _pct(r.share)]
                          for r in rules.itertuples(index=False)],
                         columns=["rule", "in the model", "binds in (% of solved scenarios)"])
    return Section("binding", "Rules that bind", (
        "How often each rule holds the plan back across the scenarios. Amounts in brackets "
        "are the base instance's: each scenario's own are moved by its inputs."),
        [chart, Table("binding", "Rules that bind most often", frame)])


@section("stress", order=70)
def plan_changes(data: ReportData) -> Section | None:
    changes = data.table("plan_changes")
    if changes.empty:
        return None
    frame = pd.DataFrame([[r.text or r.decision, r.decision, _pct(r.share)]
                          for r in changes.itertuples(index=False)],
                         columns=["decision", "in the model", "changed in (% of solved scenarios)"])
    n = data.summary.get("plan_infeasible") or 0
    return Section("plan_changes", "Where the plan could not hold", (
        f"In {n:,} scenarios the plan's commitments could not be kept (a building it keeps open "
        "was unavailable, or the plan's decisions left no way to meet the rules); each was "
        "solved again with those decisions free, and is counted with the rest. These are the "
        "decisions that changed most often."),
        [Table("plan_changes", "The plan's decisions that had to change", frame)])
