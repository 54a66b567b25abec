"""What a notebook shows of each hwbopt object: a short ``repr`` and a compact HTML summary.

A dataclass's or pydantic model's own ``repr`` lists every field, every table row included
(8,800 characters for the tutorial's :class:`~hwbopt.results.Result`), which buries the answer
in a notebook cell or a traceback. Each class gets two thin methods calling this module:
``__repr__`` (one line under :data:`MAX_REPR` characters: kind, status, the headline numbers
and where to look next) and ``_repr_html_`` (Jupyter shows it in place of the text: status,
the objective in words, a small table of the headline measures, the attributes to look at).

Everything here reads the objects' own fields and ``summary()``, never the model; every name
or text from the instance is escaped, so a label holding ``<script>`` shows as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from hwbopt.model.phrases import num, percent
from hwbopt.schema import year_label

if TYPE_CHECKING:
    from hwbopt.analyses.alternatives import Alternatives
    from hwbopt.analyses.coalitions import Coalitions
    from hwbopt.analyses.compare import Comparison
    from hwbopt.analyses.explain import Explanation
    from hwbopt.analyses.frontier import Frontier
    from hwbopt.api_stress import StressRun
    from hwbopt.plan import PlanResult
    from hwbopt.results import Result
    from hwbopt.schema import Instance

MAX_REPR = 300  # characters of a repr: a line or two of a notebook cell
ROWS = 12  # rows of a table shown in HTML; the rest are counted, not shown
NAME = 40  # characters of a name in a repr
# status colours: optimal; a plan found but not proven (time_limit, stopped); no plan
GOOD, UNPROVEN, BAD = "#1a7f37", "#b54708", "#b42318"

# ---------------------------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------------------------


def clip(text: object, width: int) -> str:
    """``text`` on one line, at most ``width`` characters (an ellipsis where it is cut)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[:width - 1].rstrip() + "…"


def number(value: object) -> str:
    """A number as a board paper prints it (``10,066.44``); ``–`` for none."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    if math.isfinite(value) and 1 <= abs(value) < 1e15:  # money and points: to the penny
        return f"{value:,.2f}".removesuffix(".00")
    return num(float(value))


def short_repr(kind: str, head: str, parts: Sequence[str], hints: Sequence[str]) -> str:
    """``<Kind head: part, part — hint, hint>``, dropping trailing parts until it fits
    :data:`MAX_REPR` characters."""
    kept = list(parts)
    while True:
        body = f"{head}: {', '.join(kept)}" if kept else head
        text = f"<{kind} {body} — {', '.join(hints)}>" if hints else f"<{kind} {body}>"
        if len(text) < MAX_REPR or not kept:
            return text if len(text) < MAX_REPR else clip(text, MAX_REPR - 2) + ">"
        kept.pop()


def status_of(value: object) -> str:
    """A status as its plain word (``optimal``), whether an enum or text."""
    return str(getattr(value, "value", value))


def objective_unit(kind: str, money_label: str) -> str:
    """The objective's unit: 'points of weighted outcome', or money for ``cost``."""
    return f"{money_label} of total cost" if kind == "cost" else "points of weighted outcome"


def objective_words(kind: str, value: float | None, money_label: str) -> str:
    """What the objective's number is, in words: '10,066.44 points of weighted outcome'."""
    if value is None:
        return "no plan"
    if kind == "cost":
        return f"{money_label} {number(value)} in total (the least money that meets every " \
               "target)"
    if kind == "equity":
        return f"{number(value)} points of weighted outcome less shortfall penalties, after " \
               "lifting the worst-met target as far as it goes"
    return f"{number(value)} points of weighted outcome (each priority's outcome times its " \
           "weight, less shortfall penalties)"


def money_label(labels: Mapping[str, Any], currency: str, unit: str) -> str:
    """The money unit as headers write it ('£k'), from a result's labels when it has them."""
    found = labels.get("money") if isinstance(labels, Mapping) else None
    if found:
        return str(found)
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")
    return (symbol + {"units": "", "thousands": "k", "millions": "m"}.get(unit, "")).strip()


def name_of(labels: Mapping[str, Any], group: str, key: object) -> str:
    """An id's display name from a result's labels (``partners``, ``priorities``, …)."""
    entry = (labels.get(group) or {}).get(str(key)) if isinstance(labels, Mapping) else None
    if isinstance(entry, Mapping) and entry.get("name"):
        return str(entry["name"])
    return str(entry) if isinstance(entry, str) else str(key)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int | float):
        return number(value)
    return html.escape(clip(value, 120))


_TABLE = "border-collapse:collapse;margin:4px 0 8px 0;font-size:12px"
_TH = "text-align:left;padding:2px 8px;border-bottom:1px solid #999"
_TD = "padding:2px 8px;border-bottom:1px solid #e5e5e5"


def table_html(frame: pd.DataFrame, caption: str = "", rows: int = ROWS) -> str:
    """A small HTML table of ``frame`` (numbers right-aligned, text escaped): the first
    ``rows`` rows and a line saying how many more there are."""
    if frame is None or not len(frame.columns):
        return ""
    head = "".join(f'<th style="{_TH}">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for record in frame.head(rows).itertuples(index=False):
        cells = []
        for value in record:
            plain = value.item() if hasattr(value, "item") and not isinstance(value, str) \
                else value
            align = ";text-align:right" if isinstance(plain, int | float) and \
                not isinstance(plain, bool) else ""
            cells.append(f'<td style="{_TD}{align}">{_cell(plain)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = len(frame) - rows
    tail = (f'<div style="color:#666;font-size:11px">… and {more:,} more row'
            f'{"s" if more != 1 else ""}</div>') if more > 0 else ""
    cap = (f'<caption style="text-align:left;font-weight:600;padding:2px 0">'
           f"{html.escape(caption)}</caption>") if caption else ""
    return (f'<table style="{_TABLE}">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{tail}")


def card(kind: str, title: str, status: str | None, lines: Iterable[str],
         tables: Iterable[tuple[str, pd.DataFrame]] = (), hints: Sequence[str] = ()) -> str:
    """The compact HTML summary every object shows: a heading with its status, ``lines`` (plain
    text, escaped here), small tables and the attributes to look at next."""
    badge = ""
    if status is not None:
        colour = GOOD if status == "optimal" else \
            UNPROVEN if status in ("time_limit", "stopped") else BAD
        badge = (f' <span style="color:#fff;background:{colour};border-radius:3px;'
                 f'padding:0 5px;font-size:11px">{html.escape(status)}</span>')
    parts = [f'<div style="font-weight:600;font-size:14px">{html.escape(kind)} — '
             f"{html.escape(clip(title, 120))}{badge}</div>"]
    parts += [f'<div style="margin:2px 0">{html.escape(line)}</div>' for line in lines if line]
    parts += [table_html(frame, caption) for caption, frame in tables]
    if hints:
        codes = ", ".join(f"<code>{html.escape(h)}</code>" for h in hints)
        parts.append(f'<div style="color:#666;font-size:11px;margin-top:4px">Look at: '
                     f"{codes}</div>")
    return ('<div class="hwbopt" style="font-family:system-ui,sans-serif;font-size:13px;'
            f'line-height:1.4;max-width:860px">{"".join(parts)}</div>')


def _years(years: Sequence[int]) -> str:
    ys = list(years)
    if not ys:
        return "no years"
    return year_label(ys[0]) if len(ys) == 1 else f"{year_label(ys[0])}–{year_label(ys[-1])}"


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


# ---------------------------------------------------------------------------------------------
# an instance
# ---------------------------------------------------------------------------------------------


def instance_repr(inst: Instance) -> str:
    extra = [_count(len(inst.scenarios), "scenario"), _count(len(inst.options), "option"),
             _count(len(inst.stress), "stress set")]
    parts = [_count(len(inst.partners), "partner"), _count(len(inst.priorities), "priority",
                                                          "priorities"),
             _count(len(inst.interventions), "intervention"),
             f"{_years(inst.years)} in {inst.money_label}", *extra]
    return short_repr("Instance", repr(clip(inst.name, NAME)), parts,
                      ["hwbopt.solve(inst)", ".with_changes({path: value})"])


def instance_html(inst: Instance) -> str:
    priorities = pd.DataFrame(
        [(k.name or k.id, k.measure, k.unit, k.weight, k.target_type)
         for k in inst.priorities],
        columns=["priority", "measure", "unit", "weight", "target"])
    partners = pd.DataFrame([(p.name or p.id, p.id, p.kind) for p in inst.partners],
                            columns=["partner", "id", "kind"])
    lines = [clip(inst.description, 300),
             f"{_years(inst.years)}, money in {inst.money_label}; objective "
             f"{inst.settings.objective}; {_count(len(inst.interventions), 'intervention')}, "
             f"{_count(len(inst.localities), 'locality', 'localities')}, "
             f"{_count(len(inst.sites), 'site')}.",
             _named("Scenarios", [s.id for s in inst.scenarios]),
             _named("Options", [o.id for o in inst.options]),
             _named("Stress sets", [s.id for s in inst.stress])]
    return card("Instance", inst.name, None, lines,
                [("Partners", partners), ("Priorities", priorities)],
                ["hwbopt.solve(inst)", 'inst.with_changes({"partners[ID].cut.total": 0.35})',
                 "hwbopt.compare(inst)", "hwbopt.stress(inst, set=ID)", "inst.interventions"])


def _named(what: str, ids: Sequence[str]) -> str:
    return f"{what}: {clip(', '.join(ids), 200)}." if ids else ""


# ---------------------------------------------------------------------------------------------
# one solve
# ---------------------------------------------------------------------------------------------

RESULT_HINTS = (".summary()", ".allocation", ".outcomes", ".budgets")


def _targets(outcomes: pd.DataFrame) -> pd.DataFrame:
    if "target" not in outcomes or not len(outcomes):
        return outcomes.iloc[0:0]
    return outcomes[pd.to_numeric(outcomes["target"], errors="coerce").notna()]


def result_repr(r: Result) -> str:
    head = f"{clip(r.instance_name, NAME)!r} {status_of(r.status)}"
    parts = []
    if r.objective is not None:
        what = {"cost": "total cost", "equity": "equity"}.get(r.objective_kind,
                                                              "weighted outcome")
        parts.append(f"objective {number(r.objective)} ({what})")
        targets = _targets(r.tables.get("outcomes", pd.DataFrame()))
        if len(targets):
            parts.append(f"{int(targets['met'].astype(bool).sum())} of {len(targets)} targets "
                         "met")
    elif r.message:
        parts.append(clip(r.message, 80))
    parts += [_count(r.n_variables, "variable"), _count(len(r.tables), "table")]
    return short_repr("Result", head, parts, RESULT_HINTS[:3])


def outcome_rows(outcomes: pd.DataFrame, labels: Mapping[str, Any]) -> pd.DataFrame:
    """Outcomes against targets in a board's words: priority name, financial year."""
    rows = _targets(outcomes)
    return pd.DataFrame({
        "priority": [name_of(labels, "priorities", k) for k in rows["priority"]],
        "year": [year_label(int(y)) for y in rows["year"]],
        "achieved": rows["achieved"].astype(float).to_numpy(),
        "target": rows["target"].astype(float).to_numpy(),
        "shortfall": rows["shortfall"].astype(float).to_numpy(),
        "met": rows["met"].astype(bool).to_numpy(),
    })


def _sentence(labels: Mapping[str, Any], kind: str, money: str) -> str:
    """What the objective counts, with the weights (:func:`hwbopt.words.objective_sentence`)."""
    from hwbopt.words import objective_sentence

    priorities = labels.get("priorities") if isinstance(labels, Mapping) else None
    if not isinstance(priorities, Mapping) or not priorities:
        return ""
    return objective_sentence(list(priorities.values()), kind, money_label=money)


def result_html(r: Result) -> str:
    money = money_label(r.labels, r.currency, r.money_unit)
    status = status_of(r.status)
    lines = [f"Objective: {objective_words(r.objective_kind, r.objective, money)}.",
             _sentence(r.labels, r.objective_kind, money)]
    if r.message:
        lines.append(clip(r.message, 300))
    tables: list[tuple[str, pd.DataFrame]] = []
    if r.objective is not None:
        alloc, budgets = r.tables.get("allocation"), r.tables.get("budgets")
        spend = float(alloc["money"].sum()) if alloc is not None and len(alloc) else 0.0
        cost = float(budgets["spent"].sum()) if budgets is not None and "spent" in budgets \
            else None
        lines.append(f"Spend on services {money} {number(spend)}"
                     + (f"; everything the partners pay out {money} {number(cost)}"
                        if cost is not None else "") + f" over {_years(r.years)}.")
        targets = outcome_rows(r.tables.get("outcomes", pd.DataFrame()), r.labels)
        if len(targets):
            lines.append(f"{int(targets['met'].sum())} of {len(targets)} targets met.")
            tables.append(("Outcomes against targets", targets))
    gap = f", gap {percent(r.mip_gap)}" if r.mip_gap else ""
    lines.append(f"Model: {_count(r.n_variables, 'variable')} "
                 f"({r.n_integer:,} integer), {_count(r.n_constraints, 'constraint')}{gap}; "
                 f"{'checked independently' if r.checked else 'not checked'}.")
    hints = [*RESULT_HINTS, *(f".{t}" for t in r.tables if f".{t}" not in RESULT_HINTS)]
    return card("Result", r.instance_name, status, lines, tables, hints[:10])


# ---------------------------------------------------------------------------------------------
# the analyses
# ---------------------------------------------------------------------------------------------


def comparison_repr(c: Comparison) -> str:
    solved = [r for r in c.runs if r.result.objective is not None]
    parts = [f"{_count(len({r.name for r in c.runs}), 'option')} × "
             f"{_count(len(c.scenarios), 'scenario')}"]
    pooling = c.value_of_pooling(c.scenarios[0]) if c.scenarios else None
    if pooling is not None:
        parts.append(f"value of pooling {number(pooling)}")
    parts.append(f"{len(solved)} of {len(c.runs)} runs with a plan")
    return short_repr("Comparison", repr(clip(c.instance.name, NAME)), parts,
                      [".summary()", ".tables['options']"])


def comparison_html(c: Comparison) -> str:
    labels = c.labels
    frame = c.table
    options = pd.DataFrame({
        "option": frame["label"], "scenario": frame["scenario"],
        "status": [status_of(s) for s in frame["status"]],
        "objective": frame["objective"], "change vs pooled": frame["change_vs_pooled"],
        "targets met": [f"{m} of {t}" for m, t in zip(frame["targets_met"],
                                                      frame["targets_total"], strict=True)],
    })
    kind = c.runs[0].result.objective_kind if c.runs else "outcome"
    money = money_label(labels, c.instance.currency, c.instance.money_unit)
    lines = [f"Each option's objective in {objective_unit(kind, money)}, with the "
             "instance's own rules and the option's changes."]
    for s in c.scenarios:
        pooling = c.value_of_pooling(s)
        if pooling is not None:
            lines.append(f"Value of pooling{'' if len(c.scenarios) == 1 else f' ({s})'}: "
                         f"{number(pooling)} (pooled less siloed).")
    return card("Comparison", c.instance.name, None, lines, [("Options", options)],
                [".summary()", ".tables['options']", ".tables['outcomes']",
                 ".tables['partners']", ".run('pooled').result"])


def explanation_repr(e: Explanation) -> str:
    parts = [f"objective {number(e.objective)}" if e.objective is not None else "no plan",
             _count(len(e.binding), "rule") + " at the limit",
             _count(len(e.marginal_values), "marginal value"),
             f"{len(e.unfunded)} unfunded"]
    return short_repr("Explanation", f"{clip(e.instance_name, NAME)!r} {status_of(e.status)}",
                      parts, [".summary()", ".tables['marginal_values']"])


def explanation_html(e: Explanation) -> str:
    lines = [f"Objective: {objective_words(e.objective_kind, e.objective, e.money_label)}.",
             clip(e.message, 300)]
    if e.integers_note:
        lines.append(e.integers_note[0].upper() + e.integers_note[1:] + ".")
    tables = [("What one more unit of each limit is worth",
               pd.DataFrame({"limit": [m.what or m.constraint for m in e.marginal_values],
                             "value": [m.value for m in e.marginal_values],
                             "unit": [m.unit for m in e.marginal_values]}))] \
        if e.marginal_values else []
    if e.unfunded:
        tables.append(("Left out of the plan",
                       pd.DataFrame({"intervention": [u.intervention for u in e.unfunded],
                                     "what it needs": [_unfunded_text(u) for u in e.unfunded]})))
    if e.infeasibility is not None:
        lines.append(clip(e.infeasibility.text, 400))
    return card("Explanation", e.instance_name, status_of(e.status), lines, tables,
                [".summary()", ".tables['marginal_values']", ".tables['binding']",
                 ".tables['unfunded']"])


def _unfunded_text(u: Any) -> str:
    summary = u.summary() if hasattr(u, "summary") else {}
    need = summary.get("required_improvement") or {}
    return str(need.get("text") or summary.get("text") or "")


def coalitions_repr(c: Coalitions) -> str:
    parts = [_count(len(c.partners), "partner"),
             f"value of pooling {number(c.grand_value)}",
             "exact" if c.exact else f"{c.samples or 0:,} samples"]
    return short_repr("Coalitions", f"{clip(c.instance.name, NAME)!r} {status_of(c.status)}",
                      parts, [".shapley", ".summary()", ".tables['partners']"])


def coalitions_html(c: Coalitions) -> str:
    labels = c.labels
    lines = [f"Value of pooling (every partner pooling, less nobody pooling): "
             f"{number(c.grand_value)} "
             f"{'points of weighted outcome' if c.objective_kind != 'cost' else 'saved'}.",
             clip(c.message, 300)]
    shares = pd.DataFrame({
        "partner": [name_of(labels, "partners", p) for p in c.partners],
        "fair share (Shapley)": [c.shapley.get(p) for p in c.partners],
    })
    return card("Coalitions", c.instance.name, status_of(c.status), lines,
                [("Each partner's fair share of the value of pooling", shares)],
                [".shapley", ".summary()", ".tables['partners']", ".tables['coalitions']"])


def frontier_repr(f: Frontier) -> str:
    a, b = f.between
    parts = [f"{a} against {b}", _count(len(f.points), "point"),
             "exact" if f.exact else "sampled"]
    return short_repr("Frontier", f"{clip(f.instance.name, NAME)!r} {status_of(f.status)}",
                      parts, [".summary()", ".tables['frontier']"])


def frontier_html(f: Frontier) -> str:
    a, b = f.between
    frame = pd.DataFrame([{a: p.values.get(a), b: p.values.get(b), "status": p.status}
                          for p in f.points], columns=[a, b, "status"])
    units = ", ".join(f"{k} in {v}" for k, v in f.units.items())
    lines = [f"Every efficient trade-off between {a} and {b} ({units}): no plan is better on "
             "one without being worse on the other.", clip(f.message, 300)]
    return card("Frontier", f.instance.name, status_of(f.status), lines,
                [("Points", frame)], [".summary()", ".tables['frontier']",
                                      ".tables['changes']", ".points[0].result"])


def alternatives_repr(a: Alternatives) -> str:
    parts = [f"within {percent(a.slack)} of the optimum", _count(len(a.ranges), "range"),
             _count(len(a.alternatives), "alternative plan")]
    return short_repr("Alternatives", f"{clip(a.instance.name, NAME)!r} {status_of(a.status)}",
                      parts, [".summary()", ".tables['ranges']"])


def alternatives_html(a: Alternatives) -> str:
    ranges = pd.DataFrame({
        "quantity": [r.quantity.text for r in a.ranges],
        "plan": [r.plan for r in a.ranges], "lowest": [r.low for r in a.ranges],
        "highest": [r.high for r in a.ranges], "unit": [r.quantity.unit for r in a.ranges],
    })
    lines = [f"What can move among plans within {percent(a.slack)} of the optimum "
             f"(objective {number(a.objective)}, at least {number(a.floor)}): {a.explores}.",
             clip(a.message, 300)]
    return card("Alternatives", a.instance.name, status_of(a.status), lines,
                [("Ranges", ranges)], [".summary()", ".tables['ranges']",
                                       ".tables['alternatives']", ".optimum"])


def plan_repr(p: PlanResult) -> str:
    parts = [f"{p.scenarios:,} scenarios of {p.stress_set!r}", f"RP {number(p.rp)}",
             f"VSS {number(p.vss)}", f"EVPI {number(p.evpi)}"]
    return short_repr("PlanResult", status_of(p.status), parts,
                      [".summary()", ".first_stage", ".tables"])


def plan_html(p: PlanResult) -> str:
    measures = pd.DataFrame([
        ("hedged plan (RP)", p.rp), ("plan for the average future, in each (EEV)", p.eev),
        ("value of hedging (VSS)", p.vss), ("plan for the average future, itself (EV)", p.ev),
        ("with perfect foresight (WS)", p.ws), ("value of foresight (EVPI)", p.evpi)],
        columns=["measure", "value"])
    keys = ["mean", "cvar", "p5", "p50", "p95"]
    both = pd.DataFrame({"plan": ["hedged", "deterministic"],
                         **{k: [p.hedged.get(k), p.deterministic.get(k)] for k in keys}})
    lines = [f"{p.scenarios:,} scenarios of stress set {p.stress_set} (seed {p.seed}), "
             f"{p.method} method, risk {p.risk.measure}; objective {p.objective_kind}.",
             clip(p.message, 300),
             f"{_count(len(p.first_stage), 'first-stage commitment')}, "
             f"{len(p.differs_from_deterministic):,} differing from the deterministic plan."]
    return card("PlanResult", p.labels.get("name") or p.stress_set, status_of(p.status), lines,
                [("Measures", measures), ("Each plan over the scenarios", both)],
                [".summary()", ".first_stage", ".tables['plan_scenarios']", ".result"])


def stress_repr(s: StressRun) -> str:
    summary = s.summary()
    pct = summary.get("objective_percentiles") or {}
    parts = [f"{summary.get('solved', 0):,} of {summary.get('scenarios', 0):,} scenarios solved"]
    if pct:
        parts.append(f"objective p5 {number(pct.get('p5'))} · p50 {number(pct.get('p50'))} · "
                     f"p95 {number(pct.get('p95'))}")
    if summary.get("infeasible"):
        parts.append(f"{summary['infeasible']:,} infeasible")
    head = f"{summary.get('stress_set')!r} seed {summary.get('seed')}"
    return short_repr("StressRun", head, parts,
                      [".summary()", ".scenarios", ".target_probability"])


def stress_html(s: StressRun) -> str:
    summary = s.summary()
    labels = summary.get("labels") or {}
    pct = summary.get("objective_percentiles") or {}
    money = money_label(labels, str(summary.get("currency")), str(summary.get("money_unit")))
    kind = str(summary.get("objective_kind") or "outcome")
    lines = [f"{summary.get('scenarios', 0):,} scenarios of stress set "
             f"{summary.get('stress_set')} (seed {summary.get('seed')}): "
             f"{summary.get('solved', 0):,} solved, {summary.get('infeasible', 0):,} "
             f"infeasible, {summary.get('failed', 0):,} failed.",
             f"The plan itself: {objective_words(kind, summary.get('base_objective'), money)}."]
    if pct:
        lines.append(f"Objective over the solved scenarios: 5th percentile "
                     f"{number(pct.get('p5'))}, median {number(pct.get('p50'))}, 95th "
                     f"{number(pct.get('p95'))}.")
    probability = summary.get("target_probability") or {}
    frame = pd.DataFrame({"priority": [name_of(labels, "priorities", k) for k in probability],
                          "meets every year's target": [f"{percent(v)}" if v is not None
                                                        else None
                                                        for v in probability.values()]})
    hints = [".summary()", ".scenarios", *(f".{t}" for t in s.tables if t != "scenarios")]
    return card("StressRun", str(summary.get("instance") or ""), None, lines,
                [("Probability of meeting each target", frame)], hints[:9])
