"""Report sections for a stress batch (results of kind ``stress``).

A stress run's folder (``hwbopt stress --out``) holds ``summary.json`` (the JSON of ``hwbopt
stress --json``), ``run.json`` and the Parquet results under ``scenarios/``. The report's
tables are read from there (:func:`stress_tables`): the distribution of the objective over the
solved scenarios (from the Parquet results), and the summary's probabilities of meeting each
target, cut-response curves, what is cut first and the rules that bind most often, as tidy
tables. See ``models/stress.md`` for how each is measured.

Cut depth is also given in the terms the user drew (:func:`input_words`): for each drawn input,
each target's chance of being met against the input's own value (a council's cut of 24-40%),
the inputs ranked by how strongly they move the objective (``input_response``,
``input_influence``, computed from the Parquet results by
:func:`hwbopt.analyses.stress.input_response`); the histogram keeps scenarios with no plan
(infeasible, failed) beside its bins and stacks those solved with the plan's decisions
changed.

When the run computed the exact curve along its dominant input (``hwbopt stress
--exact-curve``, :mod:`hwbopt.analyses.stress_curve`; the summary's ``exact_curve`` names its
folder), the cut-response section draws it as a line over the sampled scenarios' objectives
against that input, with where each target stops being met on it (tables ``exact_curve``,
``exact_curve_targets`` and ``exact_curve_scenarios``: the points charted).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.analyses.stress import INPUT, SOLVED
from hwbopt.report.sections import figures, headline, loader, section
from hwbopt.report.solve import _order
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.status import Status
from hwbopt.words import num

CUT_LEVEL = 90.0  # % of the plan's activity below which an intervention counts as cut
BINDING_CHARTED = 12  # rules in the chart of how often rules bind (the table has them all)


HISTOGRAM_COLUMNS = ["bin_from", "bin_to", "scenarios", "share", "plan_changed", "kind"]
BIN, INFEASIBLE, FAILED = "objective", "infeasible", "failed"


def histogram(values: np.ndarray, changed: np.ndarray | None = None, infeasible: int = 0,
              failed: int = 0) -> pd.DataFrame:
    """Equal-width bins over the objective of the solved scenarios (about the square root of
    their number, 5 to 30): bin_from, bin_to, scenarios, share (of every finished scenario),
    plan_changed (of the bin's scenarios, those solved with the plan's decisions changed) and
    kind ``objective``; then a row of kind ``infeasible`` and one of kind ``failed`` (no bin:
    no objective) for each that happened, so no scenario drops out of the picture."""
    changed = np.zeros(len(values), dtype=bool) if changed is None else changed
    total = len(values) + infeasible + failed
    rows: list[list[Any]] = []
    if len(values):
        lo, hi = float(values.min()), float(values.max())
        if lo == hi:
            edges = np.array([lo, hi])
            counts = np.array([len(values)])
            moved = np.array([int(changed.sum())])
        else:
            bins = min(30, max(5, int(math.sqrt(len(values)))))
            counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
            moved, _ = np.histogram(values[changed], bins=edges)
        rows += [[float(a), float(b), int(c), c / total, int(m), BIN]
                 for a, b, c, m in zip(edges[:-1], edges[1:], counts, moved, strict=True)]
    for kind, n in ((INFEASIBLE, infeasible), (FAILED, failed)):
        if n:
            rows.append([np.nan, np.nan, int(n), n / total, 0, kind])
    return pd.DataFrame(rows, columns=HISTOGRAM_COLUMNS)


def _read_run(folder: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The run's results (without binding lists) and its run.json; empty without them."""
    from hwbopt.analyses.stress import load_results
    from hwbopt.batch.store import load_run_file

    if not (folder / "scenarios").is_dir():
        return pd.DataFrame(columns=["status", "objective", "cut_depth"]), {}
    try:
        meta = load_run_file(folder)
    except Exception:  # a folder without a readable run.json: the summary's tables only
        meta = {}
    if not meta:
        from hwbopt.batch.store import read_results

        return read_results(folder, columns=["scenario", "status", "objective"]), {}
    results, _, _ = load_results(folder, meta)
    return results, meta


@loader("stress")
def stress_tables(folder: Path, summary: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The report's tables of a stress run, from its folder."""
    results, meta = _read_run(folder)
    solved = results[results.status.isin(SOLVED)]
    objective = pd.to_numeric(solved.objective, errors="coerce")
    keep = objective.notna().to_numpy()
    changed = (solved.status == Status.PLAN_INFEASIBLE).to_numpy()[keep]
    by_year = summary.get("target_probability_by_year") or {}
    inputs = _input_tables(results, meta, _input_specs(folder),
                           summary.get("labels") or {}) if meta else {}
    exact = _exact_tables(folder, summary, results)
    cut_first_rows = pd.DataFrame(summary.get("cut_first") or [], columns=[
        "intervention", "cut_depth", "activity_at_mildest", "activity_at_deepest"])
    return {
        "objective_distribution": histogram(
            objective.dropna().to_numpy(dtype=float), changed,
            infeasible=int((results.status == Status.INFEASIBLE).sum()),
            failed=int((~results.status.isin([*SOLVED, Status.INFEASIBLE])).sum())),
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
        "cut_first": _cut_first_by_input(cut_first_rows, results, meta, inputs),
        "binding": pd.DataFrame(summary.get("binding") or [],
                                columns=["rule", "text", "share"]),
        "plan_changes": pd.DataFrame(summary.get("plan_changes") or [],
                                     columns=["decision", "text", "share"]),
        **inputs,
        **exact,
    }


# ---------------------------------------------------------------------------------------------
# the inputs the user drew, in words and in their own units
# ---------------------------------------------------------------------------------------------

# the words of a field a stress input can set, and whether its values are shares (shown as %)
FIELD_WORDS: dict[str, tuple[str, bool]] = {
    "cut.total": ("cut, total over the years", True),
    "cut.over_years": ("years the cut takes", False),
    "savings_rate": ("savings rate a year", True),
    "cost_growth": ("cost growth a year", True),
    "need_growth": ("need growth a year", True),
    "unit_cost": ("unit cost", False), "need": ("need", False),
    "fte": ("staff in post (FTE)", False), "recruit_limit": ("recruitment limit (FTE)", False),
    "available": ("available (1) or not (0)", False), "target": ("target", False),
    "baseline": ("baseline budget", False), "effect": ("effect", False),
}
NOUNS = {"partners": "partner", "interventions": "service", "activity": "service",
         "sites": "site", "staff": "staff group", "targets": "target", "budgets": "budget"}
COLLECTIONS = {"partners": "partners", "interventions": "interventions",
               "activity": "interventions", "sites": "sites", "targets": "priorities",
               "budgets": "partners", "responses": "interventions"}


def _input_specs(folder: Path) -> dict[str, dict[str, Any]]:
    """The stress set's inputs from run.json, by their column name."""
    import json

    from hwbopt.schema import StressInput

    try:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        specs = (run.get("stress") or {}).get("inputs") or []
        out = {}
        for spec in specs:
            clean = {k: v for k, v in spec.items() if v not in (None, [], "")}
            out[StressInput.model_validate(clean).column] = spec
        return out
    except Exception:  # an older or edited run.json: inputs named by their columns
        return {}


def _field(path: str) -> str:
    field = path.split("]", 1)[1].lstrip(".") if "]" in path else path.split(".", 1)[-1]
    return field


def input_words(data_labels: dict[str, Any], column: str, spec: dict[str, Any] | None
                ) -> tuple[str, str, float]:
    """A drawn input in words, the unit its values are shown in, and the factor that turns a
    value into that unit: ('Westshire County Council: cut, total over the years', '%', 100)."""
    import re

    spec = spec or guess_input(data_labels, column)
    paths = [p for p in ([(spec or {}).get("path"), *list((spec or {}).get("paths") or [])])
             if p]
    op = str((spec or {}).get("op") or "value")
    field = _field(paths[0]) if paths else ""
    words, share = FIELD_WORDS.get(field, (field.replace("_", " "), False))
    if op == "scale":
        unit, factor = "% of the instance's value", 100.0
    elif share:
        unit, factor = ("% points added" if op == "add" else "%"), 100.0
    else:
        unit, factor = ("added" if op == "add" else ""), 1.0
    name = (spec or {}).get("name")
    if len(paths) == 1 and not name:
        m = re.match(r"(\w+)\[([^\]]*)\]", paths[0])
        if m:
            kind = COLLECTIONS.get(m.group(1), m.group(1))
            ident = m.group(2)
            who = f"every {kind.rstrip('s')}" if ident == "*" else \
                _label(data_labels, kind, ident)
            return f"{who}: {words}", unit, factor
    title = str(name or column).replace("_", " ")
    title = title[:1].upper() + title[1:]
    what = {"scale": "scales", "add": "adds to"}.get(op, "sets")
    head = re.match(r"(\w+)\[", paths[0]) if paths else None
    noun = NOUNS.get(head.group(1), "entry") if head else "entry"
    if len(paths) > 1:
        scope = f" of {len(paths)} {noun.replace('entry', 'entrie')}s"
    elif paths and "[*]" in paths[0]:
        scope = f" of every {noun}"
    elif head:
        ident = re.match(r"\w+\[([^\]]*)\]", paths[0])
        kind = COLLECTIONS.get(head.group(1), head.group(1))
        scope = f" of {_label(data_labels, kind, ident.group(1))}" if ident else ""
    else:
        scope = ""
    return (f"{title} ({what} {words}{scope})" if words else title), unit, factor


def guess_input(labels: dict[str, Any], column: str) -> dict[str, Any] | None:
    """The input behind a column named from its path (``partners_county_cut_total`` is
    ``partners[county].cut.total``), for a folder that keeps no stress set: a path with one
    id of the instance and a field hwbopt knows, else None."""
    for collection, kind in COLLECTIONS.items():
        for ident in labels.get(kind) or {}:
            head = f"{collection}_{ident}_"
            if not column.startswith(head):
                continue
            rest = column[len(head):]
            for field in FIELD_WORDS:
                if rest == field.replace(".", "_"):
                    return {"path": f"{collection}[{ident}].{field}", "op": "value"}
    return None


def _label(labels: dict[str, Any], kind: str, ident: str) -> str:
    entry = (labels.get(kind) or {}).get(ident)
    if isinstance(entry, dict):
        return str(entry.get("name") or ident)
    return str(entry or ident)


def _input_tables(results: pd.DataFrame, meta: dict[str, Any],
                  specs: dict[str, dict[str, Any]], labels: dict[str, Any]
                  ) -> dict[str, pd.DataFrame]:
    """The response of each target to each drawn input (equal-count groups of its value), and
    how strongly each input moves the plan: ``input_response`` and ``input_influence``."""
    from hwbopt.analyses.stress import input_influence, input_response

    if "status" not in results or not len(results):
        return {}
    influence = input_influence(results)
    for entry in influence:
        words, unit, factor = input_words(labels, entry["input"], specs.get(entry["input"]))
        entry.update(label=words, unit=unit, factor=factor)
    rows = []
    for entry in influence:
        curves = input_response(results, meta, entry["input"])
        for k, curve in curves.items():
            rows += [{"input": entry["input"], "priority": k, "group": n + 1, **point}
                     for n, point in enumerate(curve)]
    return {
        "input_response": pd.DataFrame(rows, columns=[
            "input", "priority", "group", "value_from", "value_to", "value", "scenarios",
            "probability_met", "outcome_p50", "cut_depth"]),
        "input_influence": pd.DataFrame(influence, columns=[
            "input", "label", "unit", "factor", "objective_correlation",
            "cut_depth_correlation"]),
    }


def _cut_first_by_input(rows: pd.DataFrame, results: pd.DataFrame, meta: dict[str, Any],
                        inputs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The summary's cut_first table with, for the drawn input that moves the plan most, the
    value at which each service first falls below 90% of the plan (``input``,
    ``input_value``; blank: never)."""
    from hwbopt.analyses.stress import cut_first_by_input

    influence = inputs.get("input_influence")
    if influence is None or influence.empty or rows.empty:
        return rows.assign(input=pd.Series(dtype=object), input_value=pd.Series(dtype=float))
    top = influence.iloc[0]
    # an input that lowers the objective as it rises cuts deeper when higher
    deeper_when_higher = float(top.objective_correlation) <= 0
    at = cut_first_by_input(results, meta, str(top.input), deeper_when_higher)
    return rows.assign(input=str(top.input),
                       input_value=[at.get(i) for i in rows.intervention])


# ---------------------------------------------------------------------------------------------
# the exact curve along the dominant input, over the sampled scenarios
# ---------------------------------------------------------------------------------------------

SAMPLED_POINTS = 1000  # scenarios drawn under the exact curve at most (every k-th)


def _exact_file(folder: Path, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The curve's summary.json the run's summary names, read; None if it is not there (a
    folder copied without it, or edited): the report then draws no curve."""
    import json

    name = str(entry.get("file") or "")
    path = folder / name
    if not name or Path(name).is_absolute() or ".." in Path(name).parts or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == "curve" else None


def _exact_tables(folder: Path, summary: dict[str, Any], results: pd.DataFrame
                  ) -> dict[str, pd.DataFrame]:
    """``exact_curve`` (each breakpoint: the input's value as the curve sets it, as drawn, and
    the objective), ``exact_curve_targets`` (where each target stops being met on it) and
    ``exact_curve_scenarios`` (the solved scenarios charted under it: at most
    :data:`SAMPLED_POINTS`, every k-th); {} when the run has no exact curve."""
    from hwbopt.analyses.stress_curve import to_drawn

    entry = summary.get("exact_curve")
    if not isinstance(entry, dict):
        return {}
    data = _exact_file(folder, entry)
    if data is None:
        return {}
    op, base = str(entry.get("op") or "value"), entry.get("base_value")

    def drawn(v: Any) -> float | None:
        return None if v is None else to_drawn(float(v), op, base)

    bps = data.get("breakpoints") or []
    curve = pd.DataFrame([(float(b["value"]), drawn(b["value"]), float(b["objective"]))
                          for b in bps], columns=["value", "input_value", "objective"])
    targets = pd.DataFrame(
        [(t.get("priority"), t.get("year"), t.get("target"), bool(t.get("met_at_from")),
          t.get("last_met"), drawn(t.get("last_met")), bool(t.get("met_throughout")))
         for t in data.get("targets") or []],
        columns=["priority", "year", "target", "met_at_start", "last_met", "last_met_input",
                 "met_throughout"])
    column = INPUT + str(entry.get("input"))
    points = pd.DataFrame(columns=["scenario", "input_value", "objective"])
    if column in results and "objective" in results:
        solved = results[results.status.isin(SOLVED)]
        both = pd.DataFrame({
            "scenario": solved.get("scenario", solved.index),
            "input_value": pd.to_numeric(solved[column], errors="coerce"),
            "objective": pd.to_numeric(solved.objective, errors="coerce")}).dropna()
        step = max(1, math.ceil(len(both) / SAMPLED_POINTS))
        points = both.iloc[::step].reset_index(drop=True)
    return {"exact_curve": curve, "exact_curve_targets": targets,
            "exact_curve_scenarios": points}


def _exact_words(data: ReportData, entry: dict[str, Any]) -> tuple[str, str, float]:
    """The dominant input in words, its unit and factor, as its sampled chart shows it."""
    influence = data.table("input_influence")
    mine = influence[influence.input == entry.get("input")] if not influence.empty else \
        influence
    if len(mine):
        row = mine.iloc[0]
        factor = float(row.factor) if not pd.isna(row.factor) else 1.0
        return str(row.label), str(row.unit) if isinstance(row.unit, str) else "", factor
    spec = {"path": entry.get("path"), "op": entry.get("op")}
    return input_words(data.labels, str(entry.get("input")), spec)


def _exact_note(data: ReportData, entry: dict[str, Any], label: str, unit: str,
                factor: float, shown: int) -> str:
    """What the dots and the line are, and anything that keeps them apart."""
    from hwbopt.analyses.stress_curve import to_drawn

    lo = factor * float(entry.get("drawn_from", 0.0))
    hi = factor * float(entry.get("drawn_to", 0.0))
    span = f"{num(lo, 3)} to {num(hi, 3)}{' ' + unit if unit else ''}"
    solved = int(data.summary.get("solved") or 0)
    parts = [
        "Each dot is a scenario of the batch (sampled): every input of the set drawn at once, "
        "so the dots scatter around the line by what the other inputs add."
        + (f" {shown:,} of the {solved:,} solved scenarios are shown, one in every "
           f"{math.ceil(solved / max(shown, 1)):,}." if 0 < shown < solved else ""),
        f"The line is the exact curve (not sampled): the plan solved at every value of "
        f"{label} from {span}, every other input held at the instance's own value and the "
        "plan's yes/no and whole-number decisions held, as in the scenarios; its points are "
        "the breakpoints, where some activity, spend or outcome changes its rate"
        + (" (straight between them)." if entry.get("affine", True) else "."),
    ]
    if entry.get("holds_plan") is False:
        at, plan = entry.get("objective_at_base"), entry.get("plan_objective")
        base = entry.get("base_value")
        own = "" if base is None else \
            f" ({num(factor * to_drawn(float(base), str(entry.get('op') or 'value'), base), 3)}" \
            f"{' ' + unit if unit else ''})"
        parts.append(f"The curve holds the decisions optimal at the range's start "
                     f"({num(lo, 3)}{' ' + unit if unit else ''}), which differ from those "
                     "the scenarios hold (the plan at the instance's own values): where the "
                     "dots sit off the line, that is part of why" + (
                         f"; at the instance's own value{own} the curve gives {num(at, 6)} "
                         f"against the plan's {num(plan, 6)}." if at is not None and
                         plan is not None else "."))
    if not entry.get("exact", True):
        parts.append("Not every piece of the curve was proven exact (see its warnings).")
    if entry.get("feasible_to") is not None:
        end = to_drawn(float(entry["feasible_to"]), str(entry.get("op") or "value"),
                       entry.get("base_value"))
        parts.append(f"With the decisions held there is no plan past {num(factor * end, 3)}"
                     f"{' ' + unit if unit else ''}: the line stops there.")
    return " ".join(parts)


def _exact_blocks(data: ReportData) -> list[Chart | Table]:
    """The exact curve over the sampled scenarios, and where each target stops being met on
    it: [] for a run without one."""
    entry = data.summary.get("exact_curve")
    curve = data.table("exact_curve")
    if not isinstance(entry, dict) or curve.empty:
        return []
    label, unit, factor = _exact_words(data, entry)
    points = data.table("exact_curve_scenarios")
    money = _objective_title(data)
    axis = f"{label}, as drawn" + (f" ({unit})" if unit else "")
    series = []
    if not points.empty:
        series.append(Series(
            "scenarios (sampled: every input drawn)", [float(v) for v in points.objective],
            x=[factor * float(v) for v in points.input_value], joined=False,
            hover=[f"scenario {int(n)}: {num(factor * float(v), 4)}, objective {num(o, 6)}"
                   for n, v, o in zip(points.scenario, points.input_value, points.objective,
                                      strict=True)]))
    series.append(Series(
        "exact curve (other inputs at the instance's values)",
        [float(v) for v in curve.objective],
        x=[factor * float(v) for v in curve.input_value], joined=True,
        hover=[f"breakpoint at {num(factor * float(v), 6)}: objective {num(o, 6)}"
               for v, o in zip(curve.input_value, curve.objective, strict=True)]))
    # the axis names the input: a title naming it too would run under the chart's buttons
    chart = Chart("exact_curve", "The objective along the dominant input: exact curve and "
                  "sampled scenarios", [], series, y_title=money, x_title=axis, kind="scatter",
                  note=_exact_note(data, entry, label, unit, factor, len(points)))
    blocks: list[Chart | Table] = [chart]
    targets = data.table("exact_curve_targets")
    if not targets.empty:
        head = "last met at" + (f" ({unit})" if unit else "")
        start = f"met at {num(factor * float(curve.input_value.iloc[0]), 3)}" + \
            (f" {unit}" if unit == "%" else "")
        rows = [[data.name("priorities", r.priority), data.year(r.year), r.target,
                 bool(r.met_at_start),
                 None if r.last_met_input is None or pd.isna(r.last_met_input)
                 else factor * float(r.last_met_input), bool(r.met_throughout)]
                for r in targets.itertuples(index=False)]
        blocks.append(Table(
            "exact_curve_targets", f"Where each target stops being met along {label}, "
            "on the exact curve", pd.DataFrame(rows, columns=[
                "priority", "year", "target", start, head, "met throughout the range"]),
            note="On the exact curve (every other input at the instance's value), as hwbopt "
                 "curve reports it; a target counts as met within a millionth of it. The "
                 "sampled charts above give each target's chance over the drawn scenarios.",
            digits={head: 2 if factor == 100.0 else 4}))
    return blocks


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
    sentence = data.objective_sentence()
    return Section("overview", "Overview", intro + (f"\n{sentence}" if sentence else ""),
                   [figure_table(rows)])


@section("stress", order=20)
def distribution(data: ReportData) -> Section | None:
    hist = data.table("objective_distribution")
    if hist.empty:
        return None
    kind = hist["kind"] if "kind" in hist else pd.Series([BIN] * len(hist))
    bins, rest = hist[(kind == BIN).to_numpy()], hist[(kind != BIN).to_numpy()]
    base = data.summary.get("base_objective")
    marks = [base is not None and (lo <= base < hi or (n == len(bins) - 1 and base == hi))
             for n, (lo, hi) in enumerate(zip(bins.bin_from, bins.bin_to, strict=True))]
    cats = [f"{num(lo, 4)} to {num(hi, 4)}" for lo, hi in zip(bins.bin_from, bins.bin_to,
                                                              strict=True)]
    cats += [f"{k} (no plan)" if k == INFEASIBLE else f"{k} to solve" for k in rest["kind"]]
    changed = [float(c) for c in bins.plan_changed] if "plan_changed" in bins else \
        [0.0] * len(bins)
    held = [float(n) - c for n, c in zip(bins.scenarios, changed, strict=True)]
    series = [Series("the plan's decisions held", [*held, *(float(n) for n in rest.scenarios)],
                     marked=marks + [False] * len(rest),
                     labels=["the plan" if m else "" for m in marks] + [""] * len(rest))]
    if any(changed):
        series.append(Series("the plan's decisions changed (they could not hold)",
                             [*changed, *([0.0] * len(rest))]))
    edges = [*(float(x) for x in bins.bin_from), float(bins.bin_to.iloc[-1])] \
        if len(bins) else []
    chart = Chart("objective_histogram", "Distribution of the objective over the solved "
                  "scenarios", cats, series, y_title="scenarios",
                  x_title=_objective_title(data), edges=edges if len(bins) else None,
                  note="The bin holding the plan's own objective (no stress) is outlined. "
                       "Scenarios solved only with the plan's decisions changed are stacked on "
                       "top; infeasible scenarios (no plan meets every rule) and any that "
                       "failed to solve stand beside the histogram, since they have no "
                       "objective.")
    pct = data.summary.get("objective_percentiles") or {}
    rows = [(label, pct.get(key)) for label, key in (
        ("5th percentile", "p5"), ("median", "p50"), ("95th percentile", "p95"),
        ("mean", "mean"), ("lowest", "min"), ("highest", "max"))]
    rows.append(("the plan (no stress)", base))
    frame = pd.DataFrame([(k, float(v) if v is not None else np.nan) for k, v in rows],
                         columns=["measure", _objective_title(data)])
    return Section("distribution", "Distribution of the objective", (
        "How the plan's objective spreads over the scenarios, and how many had no plan."),
        [chart, Table("percentiles", "Percentiles of the objective (solved scenarios)", frame,
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


INPUTS_CHARTED = 4  # drawn inputs given a chart of their own, those moving the plan most


def _input_chart(data: ReportData, entry: Any, curves: pd.DataFrame, n: int) -> Chart:
    """Each target's chance of being met against one drawn input, in the input's own unit."""
    factor = float(entry.factor) if not pd.isna(entry.factor) else 1.0
    unit = str(entry.unit) if isinstance(entry.unit, str) else ""
    ids = _order(list(dict.fromkeys(curves.priority)), list(data.labels.get("priorities", {})))
    series = []
    for k in ids:
        mine = curves[curves.priority == k].sort_values("group")
        series.append(Series(data.name("priorities", k),
                             [_pct(p) for p in mine.probability_met],
                             x=[factor * float(v) for v in mine.value],
                             hover=[f"{data.name('priorities', k)}: "
                                    f"{_show(_pct(p))}% of {int(c)} scenarios with the input "
                                    f"from {num(factor * a, 3)} to {num(factor * b, 3)}"
                                    for p, c, a, b in zip(mine.probability_met, mine.scenarios,
                                                          mine.value_from, mine.value_to,
                                                          strict=True)]))
    label = str(entry.label)
    lo = factor * float(curves.value_from.min())
    hi = factor * float(curves.value_to.max())
    return Chart(
        f"input_response_{n}", f"Response of each target to {label}", [], series,
        y_title="% of scenarios meeting every year's target",
        x_title=f"{label}, as drawn" + (f" ({unit})" if unit else ""), kind="scatter",
        note=f"Drawn from {num(lo, 3)} to {num(hi, 3)}{' ' + unit if unit else ''}; "
             "scenarios are put in groups of equal size by this input, and each point is "
             "the group's median value.")


def _show(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}"


@section("stress", order=40)
def cut_response(data: ReportData) -> Section | None:
    curves = data.table("cut_response")
    by_input = data.table("input_response")
    influence = data.table("input_influence")
    if curves.empty and by_input.empty:
        return None
    blocks: list[Chart | Table] = []
    charted = [e for e in influence.itertuples(index=False)][:INPUTS_CHARTED] \
        if not influence.empty else []
    exact = _exact_blocks(data)
    along = str((data.summary.get("exact_curve") or {}).get("input", "")) if exact else ""
    for n, entry in enumerate(charted):
        mine = by_input[by_input.input == entry.input]
        if len(mine):
            blocks.append(_input_chart(data, entry, mine, n))
        if exact and entry.input == along:  # beside the sampled chart of the same input
            blocks += exact
            exact = []
    blocks = exact + blocks  # an input not charted: its curve first
    if not influence.empty:
        blocks.append(Table("input_influence", "How strongly each drawn input moves the plan",
                            pd.DataFrame([[str(e.label), _corr(e.objective_correlation),
                                           _corr(e.cut_depth_correlation)]
                                          for e in influence.itertuples(index=False)],
                                         columns=["input drawn", "rank correlation with the "
                                                  "objective", "with the money lost"]),
                            note="Spearman's rank correlation over the scenarios: −1 to 1, "
                                 "0 for no relation. The inputs are charted above in this "
                                 f"order, the first {INPUTS_CHARTED}.",
                            digits={"rank correlation with the objective": 2,
                                    "with the money lost": 2}))
    if not curves.empty:
        ids = _order(list(dict.fromkeys(curves.priority)),
                     list(data.labels.get("priorities", {})))
        first = curves[curves.priority == ids[0]].sort_values("bin")
        cats = [f"{100 * d:.1f}%" for d in first.cut_depth]
        series = []
        for k in ids:
            mine = curves[curves.priority == k].sort_values("bin")
            series.append(Series(data.name("priorities", k),
                                 [_pct(p) for p in mine.probability_met]))
        blocks.append(Chart(
            "cut_response", "Response of each target to cut depth", cats, series,
            y_title="% of scenarios meeting every year's target",
            x_title="money lost by all partners together, as a share of the plan's (median "
                    "of each group)", kind="line",
            note="Cut depth here is the share of all partners' available money, together, "
                 "that a scenario takes away against the plan (negative: more money), "
                 "whatever input moved it; the charts above show each drawn input in its own "
                 "terms. Scenarios are grouped in ten groups of equal size by cut depth."))
        rows = [[data.name("priorities", r.priority), int(r.bin), 100 * r.cut_depth_from,
                 100 * r.cut_depth_to, 100 * r.cut_depth, int(r.scenarios),
                 _pct(r.probability_met), r.outcome_p50, data.unit("priorities", r.priority)]
                for r in curves.itertuples(index=False)]
        frame = pd.DataFrame(rows, columns=[
            "priority", "group", "cut depth from (%)", "to (%)", "median (%)", "scenarios",
            "meeting every year's target (%)", "median outcome", "unit"])
        blocks.append(Table("cut_response", "Cut response (money lost)", frame))
    intro = ("How each priority's chance of meeting its targets changes with the inputs "
             "drawn: first against each input that moves the plan most, in its own terms (a "
             "council's cut as drawn), then against the money all partners lose together.")
    return Section("cut_response", "Cut response", intro + _exact_sentence(data), blocks)


def _named(data: ReportData, text: str) -> str:
    """``text`` with each drawn input's column name (``partners_council_cut_total``) put in
    words, as the charts name it."""
    import re

    influence = data.table("input_influence")
    if influence.empty:
        return text
    words = {str(r.input): str(r.label) for r in influence.itertuples(index=False)}
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(words, key=len,
                                                                   reverse=True))) + r")\b")
    return pattern.sub(lambda m: f"“{words[m.group(1)]}”", text)


def _exact_sentence(data: ReportData) -> str:
    """The section's word on the exact curve: where it is drawn, or why there is none (runs
    made before it say nothing)."""
    s = data.summary
    if "exact_curve" not in s:
        return ""
    if data.table("exact_curve").empty:
        reason = s.get("exact_curve_reason") or (
            "its folder is missing from the run's" if s.get("exact_curve") else "")
        return f"\nNo exact curve is drawn: {_named(data, reason)}." if reason else ""
    return ("\nOne drawn input dominates the objective, so the exact curve along it (with "
            "every other input at the instance's value) is drawn over the sampled scenarios, "
            "beside that input's sampled chart.")


def _corr(v: Any) -> float:
    return float("nan") if v is None or pd.isna(v) else float(v)


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
                  y_title="% of the plan's activity", mode="group", horizontal=True,
                  line=CUT_LEVEL, line_label="cut (90% of the plan)",
                  note="Services in the order they fall below 90% of the plan's activity as "
                       "cuts deepen (median of each group of scenarios); those never cut last.")
    influence = data.table("input_influence")
    by_input = "input_value" in cuts and cuts.input_value.notna().any() and \
        not influence.empty
    head, factor, unit = "", 1.0, ""
    if by_input:
        top = influence.set_index("input").loc[str(cuts.input.dropna().iloc[0])]
        factor = float(top.factor)
        unit = str(top.unit) if isinstance(top.unit, str) else ""
        head = f"below 90% once {top.label} reaches" + (f" ({unit})" if unit else "")
    rows = []
    for r in cuts.itertuples(index=False):
        row = [data.name("interventions", r.intervention),
               "never" if pd.isna(r.cut_depth) else f"{100 * r.cut_depth:.1f}%"]
        if by_input:
            v = r.input_value
            row.append("never" if v is None or pd.isna(v) else num(factor * float(v), 3))
        rows.append([*row, _pct(r.activity_at_mildest), _pct(r.activity_at_deepest)])
    frame = pd.DataFrame(rows, columns=["service", "below 90% of the plan from cut depth",
                                        *([head] if by_input else []),
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
