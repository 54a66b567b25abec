"""Report sections for a two-stage plan (results of kind ``plan``).

A plan's folder (``hwbopt plan --out``) holds ``summary.json`` (the JSON of ``hwbopt plan
--json``), the hedged plan's own tables as ``hwbopt solve --out`` writes them (its commitments
held on the instance itself) and the four plan tables of :mod:`hwbopt.plan.tables`:
``plan_scenarios``, ``plan_first_stage``, ``plan_differences`` and ``plan_elastic``. See
``models/plan.md`` for how each figure is measured. The sections, for a board member:

- what to commit now: the first stage grouped as buildings, go/no-go services, posts and the
  first year's money and activity, in words, with a table per group (the full list of every
  decision closes the page, and is the workbook's ``plan_first_stage`` sheet);
- where the hedged plan differs from the plan for the average future, and why (the share of
  futures whose own best plan makes the hedged choice);
- VSS and EVPI, each in one sentence with its number, beside RP, EV, EEV and WS;
- both plans' values across the futures, overlaid (:func:`distribution_bins`), and each
  plan's chance of meeting each target;
- the futures in which a rule had to give (elastic slack), and the out-of-sample test of
  ``--evaluate`` (or how to run one);
- the hedged plan on the instance's own numbers (the solve report's outcome and allocation
  sections, from the hedged plan's tables).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.report import solve as solve_sections
from hwbopt.report.plan_text import parse_decision
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.words import num, percent

HEDGED, AVERAGE = "hedged plan", "plan for the average future"
OWN = "each future's own best plan"

# the first stage in a board's groups: model component -> group
GROUP_OF = {
    "open": "sites", "run": "services", "start": "services", "recruit": "posts",
    "release": "posts", "contribution": "money", "spend_retained": "money",
    "spend_fenced": "money", "spend_pooled": "money", "qipp_credit": "money",
    "activity": "activity", "total_activity": "activity",
}
GROUPS = {  # in reading order
    "sites": "Buildings", "services": "Go/no-go services", "posts": "Posts",
    "money": "First year's money", "activity": "First year's activity",
    "other": "Other commitments",
}
ON_GROUP = {  # "3 on posts"
    "sites": "on buildings", "services": "on go/no-go services", "posts": "on posts",
    "money": "on the first year's money", "activity": "on the first year's activity",
    "other": "other",
}
BINARY = ("open", "run", "start")  # decisions that are yes or no
ZERO = 1e-9  # a post change or an amount at most this is none

# Tukey's "far out" fence: values beyond the quartiles by more than FENCE interquartile
# ranges are gathered in one bar at the edge of the distribution chart (see distribution_bins)
FENCE = 3.0


# ---------------------------------------------------------------------------------------------
# words and numbers
# ---------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _number(v: Any) -> float | None:
    """A number of the summary or a table, None when unknown."""
    return None if _missing(v) else float(v)


def _cell(v: Any) -> float:
    """A number for a table cell: NaN (shown blank) when unknown."""
    number = _number(v)
    return np.nan if number is None else number


def _outcome(data: ReportData) -> bool:
    return data.summary.get("objective_kind") != "cost"


def _unit(data: ReportData) -> str:
    """What a plan's value counts."""
    return "points of weighted outcome" if _outcome(data) else data.money


def _value(v: Any) -> str:
    """A plan's value or a measure as the terminal prints it (two decimals)."""
    return "–" if _missing(v) else f"{float(v):,.2f}"


def _amount(data: ReportData, v: Any) -> str:
    """'381,172.06 points of weighted outcome', or '£k 4.00' for a cost objective."""
    return f"{_value(v)} {_unit(data)}" if _outcome(data) else f"{data.money} {_value(v)}"


def _pct(v: Any) -> float | None:
    return None if _missing(v) else 100.0 * float(v)


def _share(v: Any) -> str:
    return "–" if _missing(v) else f"{100.0 * float(v):.0f}%"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _years(data: ReportData, years: list[int]) -> str:
    """'2013/14', '2013/14 and 2014/15', '2013/14 to 2016/17' (consecutive), or a list."""
    ys = sorted(set(years))
    if len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1)):
        return f"{data.year(ys[0])} to {data.year(ys[-1])}"
    words = [data.year(y) for y in ys]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _set_name(data: ReportData) -> str:
    sid = str(data.summary.get("stress_set") or "")
    return data.name("stress", sid) if sid else "(none)"


def _risk_words(data: ReportData) -> str:
    """What the hedged plan optimises, in a phrase."""
    risk = data.summary.get("risk") or {}
    what = "expected weighted outcome" if _outcome(data) else "expected cost"
    lam = float(risk.get("weight") or 0.0) if risk.get("measure") == "cvar" else 0.0
    if lam == 0:
        return f"the {what} (each future weighted by its probability)"
    alpha = float(risk.get("alpha") or 0.9)
    worst = "worst" if _outcome(data) else "costliest"
    tail = (f"the mean of the {worst} {percent(1 - alpha)} of futures "
            f"(CVaR {percent(alpha)})")
    return tail if lam == 1 else f"{percent(1 - lam)} on the {what}, {percent(lam)} on {tail}"


def _risk_is_cvar(data: ReportData) -> bool:
    risk = data.summary.get("risk") or {}
    return risk.get("measure") == "cvar" and float(risk.get("weight") or 0.0) > 0


def _has_plan(data: ReportData) -> bool:
    return data.summary.get("rp") is not None


# ---------------------------------------------------------------------------------------------
# the first stage, grouped
# ---------------------------------------------------------------------------------------------


def _group(decision: str) -> str:
    return GROUP_OF.get(parse_decision(decision)[0], "other")


def _first_stage(data: ReportData) -> pd.DataFrame:
    """plan_first_stage with each decision's component, index and group."""
    fs = data.table("plan_first_stage")
    if fs.empty:
        return pd.DataFrame(columns=["decision", "text", "value", "name", "index", "group"])
    parsed = [parse_decision(str(d)) for d in fs.decision]
    return fs.assign(name=[p[0] for p in parsed], index=[p[1] for p in parsed],
                     group=[GROUP_OF.get(p[0], "other") for p in parsed])


def _yearly(rows: pd.DataFrame, name: str) -> dict[str, dict[int, float]]:
    """Decisions ``name[key, year]`` as {key: {year: value}}, in the table's order."""
    out: dict[str, dict[int, float]] = {}
    for idx, value in zip(rows.loc[rows.name == name, "index"],
                          rows.loc[rows.name == name, "value"], strict=True):
        if len(idx) == 2 and isinstance(idx[1], int):
            out.setdefault(str(idx[0]), {})[idx[1]] = float(value)
    return out


def _site_words(data: ReportData, sites: dict[str, dict[int, float]]) -> tuple[str, list[str]]:
    """The buildings in a phrase (closures by name) and the sites that close, in order."""
    closing, kept = [], []
    for site, years in sites.items():
        shut = sorted(y for y, v in years.items() if v <= 0.5)
        if not shut:
            kept.append(site)
            continue
        tail = shut == [y for y in sorted(years) if y >= shut[0]]
        when = f"from {data.year(shut[0])}" if tail else f"in {_years(data, shut)}"
        closing.append((site, f"close {data.name('sites', site)} {when}"))
    words = [w for _, w in closing]
    if kept and closing:
        words.append(f"keep the other {_plural(len(kept), 'site')} open throughout")
    elif kept:
        words.append("keep " + ("every site" if len(kept) > 3 else
                                ", ".join(data.name("sites", s) for s in kept))
                     + " open throughout")
    return "; ".join(words), [s for s, _ in closing]


def _service_words(data: ReportData, runs: dict[str, dict[int, float]],
                   starts: dict[str, dict[int, float]]) -> str:
    words = []
    for i in dict.fromkeys([*runs, *starts]):
        on = [y for y, v in runs.get(i, {}).items() if v > 0.5]
        began = [y for y, v in starts.get(i, {}).items() if v > 0.5]
        name = data.name("interventions", i)
        if not on:
            words.append(f"do not run {name}")
        else:
            words.append(f"run {name} in {_years(data, on)}"
                         + (f", starting in {_years(data, began)}" if began else ""))
    return "; ".join(words)


def _posts(rows: pd.DataFrame) -> pd.DataFrame:
    """Recruitment and release (FTE) per employer, role and year, where either is made."""
    posts: dict[tuple[str, str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for name, idx, value in zip(rows.name, rows["index"], rows.value, strict=True):
        if name in ("recruit", "release") and len(idx) == 3 and isinstance(idx[2], int):
            posts[str(idx[0]), str(idx[1]), idx[2]][name == "release"] += float(value)
    return pd.DataFrame([(e, r, y, a, b) for (e, r, y), (a, b) in posts.items()
                         if a > ZERO or b > ZERO],
                        columns=["employer", "role", "year", "recruit", "release"])


def _money(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first year's money by partner (into pools, own budget, ring-fenced lines, savings
    credited) and by service (own, ring-fenced, pooled; activity)."""
    by_partner: dict[str, list[float]] = defaultdict(lambda: [0.0] * 4)
    by_service: dict[str, list[float]] = defaultdict(lambda: [0.0] * 3)
    activity: dict[str, float] = defaultdict(float)
    totals: dict[str, float] = {}
    for name, idx, value in zip(rows.name, rows["index"], rows.value, strict=True):
        v = float(value)
        key = [str(k) for k in idx[:-1]]
        if name == "contribution" and len(key) == 2:
            by_partner[key[0]][0] += v
        elif name == "spend_retained" and len(key) == 2:
            by_partner[key[0]][1] += v
            by_service[key[1]][0] += v
        elif name == "spend_fenced" and len(key) == 3:
            by_partner[key[0]][2] += v
            by_service[key[2]][1] += v
        elif name == "qipp_credit" and len(key) == 1:
            by_partner[key[0]][3] += v
        elif name == "spend_pooled" and len(key) == 2:
            by_service[key[1]][2] += v
        elif name == "activity" and key:
            activity[key[0]] += v
        elif name == "total_activity" and key:
            totals[key[0]] = v
    activity.update(totals)  # an area's total, where the model has one, is the sum
    partners = pd.DataFrame([(p, *vals) for p, vals in by_partner.items()],
                            columns=["partner", "pools", "own", "fenced", "credited"])
    services = list(dict.fromkeys([*by_service, *activity]))
    frame = pd.DataFrame([(i, activity.get(i, np.nan), *by_service[i]) for i in services],
                         columns=["intervention", "activity", "own", "fenced", "pooled"])
    return partners, frame


def _first_year(rows: pd.DataFrame) -> int | None:
    years = [idx[-1] for idx, g in zip(rows["index"], rows.group, strict=True)
             if g in ("money", "activity") and idx and isinstance(idx[-1], int)]
    return min(years) if years else None


def board_value(decision: str, value: Any) -> str | float:
    """A decision's value as a board reads it: a site open or closed, a service run or not;
    the number otherwise."""
    if _missing(value):
        return ""
    name = parse_decision(decision)[0]
    on = float(value) > 0.5
    if name == "open":
        return "open" if on else "closed"
    if name == "run":
        return "runs" if on else "not run"
    if name == "start":
        return "starts" if on else "no"
    return float(value)


def _decision_words(data: ReportData, decision: str, hedged: float, text: str) -> str:
    """A differing decision in the hedged plan's words ("keep Old Mill open in 2014/15")."""
    name, idx = parse_decision(decision)
    if name in ("recruit", "release") and len(idx) == 3 and isinstance(idx[2], int):
        return (f"{name} {data.name('roles', idx[1])} at {data.name('partners', idx[0])} in "
                f"{data.year(idx[2])} (FTE)")
    if name not in BINARY or len(idx) != 2 or not isinstance(idx[1], int):
        return text
    on, y = hedged > 0.5, data.year(idx[1])
    if name == "open":
        site = data.name("sites", idx[0])
        return f"keep {site} open in {y}" if on else f"close {site} in {y}"
    service = data.name("interventions", idx[0])
    return f"{name} {service} in {y}" if on else f"do not {name} {service} in {y}"


def _why(share: Any) -> str:
    """Why the hedged plan makes a choice, from the share of futures that would make it (the
    section's introduction says it at length)."""
    if _missing(share):
        return ""
    if share >= 0.5:
        return "most futures choose it"
    if share > 0:
        return "some futures need it"
    return "a compromise"


# ---------------------------------------------------------------------------------------------
# the distribution of each plan's value
# ---------------------------------------------------------------------------------------------


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(int(np.searchsorted(cum, q - 1e-12)), len(v) - 1)])


def chart_range(values: np.ndarray) -> tuple[float, float]:
    """The range of values the distribution chart shows on its linear scale: from the lowest
    to the highest value within Tukey's far-out fence (``FENCE`` interquartile ranges beyond
    the quartiles) of every value of both plans and of each future's own best plan.

    Why a fence and not a log scale: a plan's value in a future counts a large penalty for
    each rule its commitments break there (``PENALTY`` = 10^4 times the largest objective
    coefficient per unit, models/plan.md), so one future of the plan for the average future
    can lie orders of magnitude below the rest. A log scale cannot show the values below zero
    such a penalty gives, a symmetric log scale would bend the differences between ordinary
    futures (what a board compares), and a linear scale over everything squeezes them all
    into one bar. The fence needs no knowledge of the penalty's size; the futures it leaves
    out are still counted (in one outlined bar at the chart's edge, labelled with their
    values) and listed in the table of every future.
    """
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 0.0
    q1, med, q3 = np.quantile(finite, [0.25, 0.5, 0.75])
    spread = max(float(q3 - q1), 1e-9 * max(1.0, abs(float(med))))
    inside = finite[(finite >= q1 - FENCE * spread) & (finite <= q3 + FENCE * spread)]
    return float(inside.min()), float(inside.max())


def distribution_bins(scen: pd.DataFrame) -> pd.DataFrame:
    """Shared bins over :func:`chart_range` (equal width, about the square root of the
    number of futures, 5 to 30), plus a bin for values below it and one above it where there
    are any: label, low, high, edge (an out-of-range bin), and per plan (``hedged``,
    ``deterministic``) the probability of the futures in the bin and the lowest and highest
    value in it."""
    p = scen.probability.to_numpy(dtype=float)
    p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / max(1, len(p)))
    plans = {k: scen[k].to_numpy(dtype=float) for k in ("hedged", "deterministic")}
    pooled = np.concatenate([*plans.values(), scen["own"].to_numpy(dtype=float)])
    lo, hi = chart_range(pooled)
    n = min(30, max(5, round(math.sqrt(len(scen)))))
    edges = np.linspace(lo, hi, n + 1) if hi > lo else np.array([lo, hi])
    bins: list[dict[str, Any]] = []
    finite = pooled[np.isfinite(pooled)]
    if len(finite) and finite.min() < lo:
        bins.append({"label": f"below {num(lo, 4)}", "low": -math.inf, "high": lo,
                     "edge": True})
    for k in range(len(edges) - 1):
        bins.append({"label": f"{num(edges[k], 4)} to {num(edges[k + 1], 4)}"
                     if hi > lo else num(lo, 4), "low": float(edges[k]),
                     "high": float(edges[k + 1]), "edge": False})
    if len(finite) and finite.max() > hi:
        bins.append({"label": f"above {num(hi, 4)}", "low": hi, "high": math.inf,
                     "edge": True})
    last = max(k for k, b in enumerate(bins) if not b["edge"])
    for plan, vals in plans.items():
        for k, b in enumerate(bins):
            if b["edge"]:
                inside = (vals < lo) if b["high"] == lo else (vals > hi)
            else:
                upper = vals <= b["high"] if k == last else vals < b["high"]
                inside = (vals >= b["low"]) & upper
            inside &= np.isfinite(vals)
            b[plan] = float(p[inside].sum())
            b[f"{plan}_min"] = float(vals[inside].min()) if inside.any() else np.nan
            b[f"{plan}_max"] = float(vals[inside].max()) if inside.any() else np.nan
    return pd.DataFrame(bins)


def _edge_label(b: pd.Series, plan: str) -> str:
    lo, hi = b[f"{plan}_min"], b[f"{plan}_max"]
    if _missing(lo):
        return ""
    return num(lo, 4) if lo == hi else f"{num(lo, 4)} to {num(hi, 4)}"


# ---------------------------------------------------------------------------------------------


@headline("plan")
def plan_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    status = str(s.get("status", ""))
    n = int(s.get("scenarios") or 0)
    return (f"{status}: a hedged plan over {_plural(n, 'future')} of the stress set "
            f"{_set_name(data)}", status == "optimal")


@figures("plan")
def plan_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    oos = s.get("out_of_sample") or {}
    unit = _unit(data)
    hedged, average = s.get("hedged") or {}, s.get("deterministic") or {}
    elastic = s.get("elastic") or []
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        ("stress set", _set_name(data)), ("futures (scenarios)", s.get("scenarios")),
        ("seed of the draws", s.get("seed")), ("method", s.get("method")),
        ("the hedged plan optimises", _risk_words(data)),
        ("objective", "weighted outcome" if _outcome(data) else "cost"),
        (f"RP: the hedged plan ({unit})", s.get("rp")),
        (f"EV: the plan for the average future, if it came true ({unit})", s.get("ev")),
        (f"EEV: the plan for the average future, across the futures ({unit})", s.get("eev")),
        (f"VSS: value of the stochastic solution ({unit})", s.get("vss")),
        (f"WS: each future's own best plan ({unit})", s.get("ws")),
        (f"EVPI: expected value of perfect information ({unit})", s.get("evpi")),
        (f"bound on RP ({unit})", s.get("bound")), ("relative gap", s.get("gap")),
        (f"the hedged plan, mean over the futures ({unit})", hedged.get("mean")),
        (f"the plan for the average future, mean over the futures ({unit})",
         average.get("mean")),
        ("decisions committed now", len(s.get("first_stage") or [])),
        ("of which differ from the plan for the average future",
         len(s.get("differs_from_deterministic") or [])),
        ("rules that gave under the hedged plan (future and rule)", len(elastic)),
        ("futures in which a rule gave", len({e.get("scenario") for e in elastic})),
        ("tested out of sample on fresh futures", oos.get("scenarios") if oos else "no"),
    ]
    if oos:
        for label, key in (("hedged plan", "hedged"), ("plan for the average future",
                                                       "deterministic")):
            est = oos.get(key) or {}
            rows += [(f"out of sample: {label}, mean ({unit})", est.get("mean")),
                     (f"out of sample: {label}, 95% interval from", est.get("ci_low")),
                     (f"out of sample: {label}, 95% interval to", est.get("ci_high"))]
        gap = oos.get("gap_estimate") or {}
        rows += [(f"out of sample: estimated optimality gap ({unit})", gap.get("value")),
                 ("out of sample: gap, 95% upper bound", gap.get("ci_high"))]
    rows.append(("seconds", s.get("seconds")))
    return rows


@section("plan", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    n = int(s.get("scenarios") or 0)
    intro = [str(s.get("message") or "")]
    if _has_plan(data):
        intro.append(
            f"hwbopt plan chose one set of commitments for {_plural(n, 'future')} drawn from "
            f"the stress set {_set_name(data)} (seed {s.get('seed')}): the hedged plan. What "
            "must be decided before the future is known (buildings, go/no-go services, posts "
            "and the first year's money and activity) is the same in every future; the rest "
            "(later years' money and activity, and who works where) adapts to each future as "
            f"it comes. The hedged plan optimises {_risk_words(data)}.")
        intro.append(
            f"It is compared throughout with the {AVERAGE}: the best plan if the average of "
            "the drawn futures came true, its commitments then kept in every future.")
        intro.append(data.objective_sentence())  # what a point of each value is
    else:
        intro.append("No hedged plan was found, so there is nothing to commit to; the status "
                     "above says why.")
    rows = [(k, f"{float(v):.4%}" if k == "relative gap" and not _missing(v) else v)
            for k, v in plan_figures(data) if k not in ("kind of result", "message")]
    return Section("overview", "Overview", "\n".join(p for p in intro if p),
                   [figure_table(rows)])


@section("plan", order=20)
def commitments(data: ReportData) -> Section | None:
    fs = _first_stage(data)
    if fs.empty:
        return None
    counts = fs.group.value_counts()
    m = data.money
    y0 = _first_year(fs)
    first = f" ({data.year(y0)})" if y0 is not None else ""
    glance: list[tuple[str, str, int]] = []
    blocks: list[Chart | Table] = []

    sites = _yearly(fs, "open")
    if sites:
        words, closing = _site_words(data, sites)
        glance.append((GROUPS["sites"], words, int(counts.get("sites", 0))))
        years = sorted({y for v in sites.values() for y in v})
        rows = [[data.name("sites", k),
                 *("open" if sites[k].get(y, 1.0) > 0.5 else "closed" for y in years)]
                for k in closing]
        if closing:
            kept = len(sites) - len(closing)
            blocks.append(Table(
                "plan_sites", "Buildings that close (the same in every future)",
                pd.DataFrame(rows[:len(closing)],
                             columns=["site", *(data.year(y) for y in years)]),
                note=f"The other {_plural(kept, 'site')} stay open throughout." if kept
                else ""))

    runs, starts = _yearly(fs, "run"), _yearly(fs, "start")
    if runs or starts:
        glance.append((GROUPS["services"], _service_words(data, runs, starts),
                       int(counts.get("services", 0))))
        years = sorted({y for v in [*runs.values(), *starts.values()] for y in v})
        rows = []
        for i in dict.fromkeys([*runs, *starts]):
            cells = []
            for y in years:
                on, began = runs.get(i, {}).get(y, 0.0) > 0.5, starts.get(i, {}).get(y, 0) > 0.5
                cells.append("starts" if began else "runs" if on else "does not run")
            rows.append([data.name("interventions", i), *cells])
        blocks.append(Table("plan_services", "Go/no-go services each year", pd.DataFrame(
            rows, columns=["service", *(data.year(y) for y in years)])))

    if counts.get("posts", 0):
        posts = _posts(fs)
        if posts.empty:
            words = "no post is recruited or released"
        else:
            words = (f"recruit {num(float(posts.recruit.sum()), 4)} FTE and release "
                     f"{num(float(posts.release.sum()), 4)} FTE in all, over "
                     f"{_years(data, [int(y) for y in posts.year])}")
            frame = pd.DataFrame(
                [[data.name("partners", r.employer), data.name("roles", r.role),
                  data.year(r.year), r.recruit, r.release]
                 for r in posts.sort_values(["employer", "role", "year"]).itertuples(
                     index=False)],
                columns=["employer", "role", "year", "recruit (FTE)", "release (FTE)"])
            blocks.append(Table("plan_posts", "Posts recruited and released", frame,
                                digits={"recruit (FTE)": 2, "release (FTE)": 2}))
        glance.append((GROUPS["posts"], words, int(counts["posts"])))

    if counts.get("money", 0) or counts.get("activity", 0):
        partners, services = _money(fs)
        if counts.get("money", 0):
            spent = float(services[["own", "fenced", "pooled"]].to_numpy().sum())
            parts = [f"{where} {m} {num(v, 6)}" for where, v in (
                ("their own budgets", float(services.own.sum())),
                ("ring-fenced lines", float(services.fenced.sum())),
                ("pools", float(services.pooled.sum()))) if v > ZERO]
            pooled = float(partners.pools.sum())
            words = ((f"partners put {m} {num(pooled, 6)} into pools; " if pooled > ZERO
                      else "") + f"{m} {num(spent, 6)} is spent on services"
                     + (f" (from {', '.join(parts)})" if len(parts) > 1 else ""))
            if partners.credited.sum() > ZERO:
                words += (f"; {m} {num(float(partners.credited.sum()), 6)} of avoided costs "
                          "count towards savings")
            glance.append((GROUPS["money"] + first, words, int(counts["money"])))
            frame = pd.DataFrame(
                [[data.name("partners", r.partner), r.pools, r.own, r.fenced, r.credited]
                 for r in partners.itertuples(index=False)],
                columns=["partner", f"into pools ({m})", f"own budget on services ({m})",
                         f"ring-fenced lines on services ({m})",
                         f"avoided costs counted as savings ({m})"])
            blocks.append(Table("plan_money_partners", f"The first year's money{first}, by "
                                "partner", frame))
        if counts.get("activity", 0):
            n_services = int(services.activity.notna().sum())
            glance.append((GROUPS["activity"] + first,
                           f"the first year's activity of {_plural(n_services, 'service')}"
                           " (table below)", int(counts["activity"])))
        rows = [[data.name("interventions", r.intervention), r.activity,
                 data.unit("interventions", r.intervention), r.own, r.fenced, r.pooled,
                 r.own + r.fenced + r.pooled] for r in services.itertuples(index=False)]
        blocks.append(Table(
            "plan_money_services", f"The first year's activity and money{first}, by service",
            pd.DataFrame(rows, columns=["service", "activity", "unit", f"own budgets ({m})",
                                        f"ring-fenced lines ({m})", f"pools ({m})",
                                        f"total ({m})"]),
            note="Activity is the area's total (summed over localities where the plan "
                 "sets it by locality)."))
    if counts.get("other", 0):
        glance.append((GROUPS["other"], "listed in full at the end of the report",
                       int(counts["other"])))
    glance.append(("in all", "", len(fs)))
    table = Table("plan_commitments", "The commitments at a glance", pd.DataFrame(
        glance, columns=["what", "committed now", "decisions"]))
    intro = (f"The hedged plan commits {_plural(len(fs), 'decision')} now, the same whatever "
             "future comes. Grouped here as a board reads them; every decision is listed at "
             "the end of the report and in the workbook's plan_first_stage sheet.")
    return Section("commitments", "What to commit now", intro, [table, *blocks])


@section("plan", order=30)
def differences(data: ReportData) -> Section | None:
    if not _has_plan(data):
        return None
    diff = data.table("plan_differences")
    n_all = len(data.table("plan_first_stage"))
    if diff.empty:
        return Section("differences", f"Where the {HEDGED} differs from the {AVERAGE}", (
            f"Nowhere: the {HEDGED} commits exactly as the {AVERAGE} does "
            f"(all {n_all:,} decisions alike), so here planning for the spread of futures "
            "changes nothing that is decided now."))
    rank = {g: k for k, g in enumerate(GROUPS)}
    diff = diff.assign(_rank=[rank[_group(str(d))] for d in diff.decision])
    diff = diff.sort_values("_rank", kind="stable")
    rows = [[GROUPS[_group(str(r.decision))],
             _decision_words(data, str(r.decision), float(r.hedged), str(r.text)),
             board_value(str(r.decision), r.hedged),
             board_value(str(r.decision), r.deterministic), _pct(r.needed_share),
             _why(r.needed_share)]
            for r in diff.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=[
        "what", "decision (as the hedged plan makes it)", "hedged plan",
        "plan for the average future", "needed in (% of futures)", "why"])
    groups = Counter(_group(str(d)) for d in diff.decision)
    by_group = ", ".join(f"{groups[g]:,} {ON_GROUP[g]}" for g in GROUPS if groups[g])
    intro = "\n".join([
        f"{len(diff):,} of the {n_all:,} commitments differ ({by_group}).",
        f"Why: the {AVERAGE} is the best plan if the average future came true; the "
        f"{HEDGED} is chosen for all the futures at once, so it commits otherwise where the "
        "average is a poor guide. 'Needed in' is the probability of the futures whose own "
        "best plan (chosen knowing that future) makes the hedged plan's choice. Most futures "
        "choose it: the average alone would have misled. Some futures need it: the hedged "
        "plan takes it so as to hold up in them. A compromise: no single future would make "
        "exactly this choice, but it does best across them all.",
        "The full list, with each decision's name in the model, is the workbook's "
        "plan_differences sheet.",
    ])
    return Section("differences", f"Where the {HEDGED} differs from the {AVERAGE}", intro,
                   [Table("plan_differences", "Decisions that differ", frame,
                          digits={"hedged plan": 2, "plan for the average future": 2,
                                  "needed in (% of futures)": 0})])


def _measured(data: ReportData) -> str:
    """How VSS and EVPI weigh the futures, when not by their expectation."""
    return f" (measured as the hedged plan is, by {_risk_words(data)})" \
        if _risk_is_cvar(data) else ""


def vss_sentence(data: ReportData) -> str | None:
    """The value of the stochastic solution in one plain sentence, with its number."""
    vss = _number(data.summary.get("vss"))
    if vss is None:
        return None
    n = int(data.summary.get("scenarios") or 0)
    if abs(vss) <= 1e-9:
        return (f"VSS (value of the stochastic solution) is {_amount(data, vss)}: across "
                f"these {n:,} futures{_measured(data)}, committing to the {HEDGED} gains "
                f"nothing over committing to the {AVERAGE}.")
    gain = "more" if _outcome(data) else "less cost"
    return (f"VSS (value of the stochastic solution) is {_amount(data, vss)}: committing to "
            f"the {HEDGED} rather than the {AVERAGE} gives that much {gain} across these "
            f"{n:,} futures{_measured(data)}, which is what planning for the spread of "
            "futures buys over planning for the average one.")


def evpi_sentence(data: ReportData) -> str | None:
    """The expected value of perfect information in one plain sentence, with its number."""
    evpi = _number(data.summary.get("evpi"))
    if evpi is None:
        return None
    if abs(evpi) <= 1e-9:
        return (f"EVPI (expected value of perfect information) is {_amount(data, evpi)}: "
                f"knowing which future will come before committing would add nothing, as "
                f"the {HEDGED} already does as well as each future's own best plan.")
    gain = "more" if _outcome(data) else "less cost"
    return (f"EVPI (expected value of perfect information) is {_amount(data, evpi)}: "
            f"knowing which future will come before committing would give that much {gain}"
            f"{_measured(data)}, so no forecast, however good, is worth more than that.")


@section("plan", order=40)
def value_of_hedging(data: ReportData) -> Section | None:
    s = data.summary
    if not _has_plan(data):
        return None
    intro = [x for x in (vss_sentence(data), evpi_sentence(data)) if x]
    rows = [
        ("RP", s.get("rp"), f"the {HEDGED}, across the futures"),
        ("EV", s.get("ev"), f"the {AVERAGE}, if the average future came true"),
        ("EEV", s.get("eev"), f"the {AVERAGE}, across the futures (its commitments kept, "
                              "the rest adapted to each)"),
        ("VSS", s.get("vss"), f"value of the stochastic solution: RP against EEV, what "
                              f"hedging gains over the {AVERAGE}"),
        ("WS", s.get("ws"), f"wait and see: {OWN}, as if each were known in advance"),
        ("EVPI", s.get("evpi"), "expected value of perfect information: WS against RP, what "
                                "knowing the future would add"),
    ]
    frame = pd.DataFrame([(k, _cell(v), w) for k, v, w in rows],
                         columns=["measure", f"value ({_unit(data)})", "what it is"])
    notes = [f"EEV, and so VSS, count the penalty of every rule the {AVERAGE} breaks in some "
             "future (its commitments kept, no adaptation saves it there): where it breaks "
             "rules, VSS can exceed the plans' own values."]
    det = s.get("deterministic") or {}
    if det.get("breaks_share"):
        rules = "; ".join(str(r.get("text") or r.get("rule"))
                          for r in (det.get("broken_rules") or [])[:3])
        notes.append(f"The {AVERAGE} breaks a rule in {percent(float(det['breaks_share']))} "
                     f"of these futures ({rules}); without the penalties its mean would be "
                     f"{_cell(det.get('mean_without_penalties')):,.2f} {_unit(data)}.")
    if _risk_is_cvar(data):
        risk = s.get("risk") or {}
        lam, alpha = float(risk.get("weight") or 0), float(risk.get("alpha") or 0.9)
        how = f"the CVaR {percent(alpha)}" if lam == 1 else \
            f"{percent(1 - lam)} of the mean plus {percent(lam)} of the CVaR {percent(alpha)}"
        notes.append(f"RP, EEV and WS are each {how} over the futures, the measure the hedged "
                     "plan optimises; EV is one future's value.")
    gap = _number(s.get("gap"))
    if gap is not None and gap >= 5e-7:  # shows as 0.0001% or more
        notes.append(f"The hedged plan is proven within a relative gap of {gap:.4%}: "
                     "VSS and EVPI are exact up to it.")
    return Section("value", "What hedging is worth: VSS and EVPI", "\n".join(intro),
                   [Table("plan_measures", "The six measures", frame,
                          digits={f"value ({_unit(data)})": 2}, note=" ".join(notes))])


@section("plan", order=50)
def distribution(data: ReportData) -> Section | None:
    scen = data.table("plan_scenarios")
    if scen.empty or not _has_plan(data) or scen[["hedged", "deterministic"]].isna().all().all():
        return None
    bins = distribution_bins(scen)
    edge = bins.edge.tolist()
    # only an edge bar that holds some futures is outlined (an empty one would be a red dash)
    series = [Series(label, [100.0 * float(v) for v in bins[plan]],
                     marked=[e and float(v) > 0 for e, v in zip(edge, bins[plan], strict=True)],
                     labels=[_edge_label(b, plan) if b.edge else "" for _, b in bins.iterrows()])
              for plan, label in (("hedged", HEDGED), ("deterministic", AVERAGE))]
    unit = _unit(data)
    value_title = f"value of the plan in the future ({unit})"
    note = (f"Each plan's value in each future, counted by the futures' probability, in shared "
            f"bins. A plan's value in a future counts a large penalty for each rule its "
            f"commitments break there (money, staff, space, a target; models/plan.md), so the "
            f"{AVERAGE}, whose commitments were chosen for one future only, can score far "
            f"{'below' if _outcome(data) else 'above'} the rest where it breaks one.")
    if any(edge):
        note += (" Values that far out would squeeze every other future into one bar, so "
                 "those beyond the quartiles by more than three interquartile ranges are "
                 "gathered in the outlined bar at the chart's edge, labelled with the values "
                 "they hold; the table of every future below lists each one.")
    chart = Chart("plan_distribution", "Both plans across the futures",
                  [str(x) for x in bins.label], series,
                  y_title="% of the futures (by probability)", x_title=value_title,
                  mode="group", note=note)
    s = data.summary
    hedged, average = s.get("hedged") or {}, s.get("deterministic") or {}
    alpha = float((s.get("risk") or {}).get("alpha") or 0.9)
    worst = "worst" if _outcome(data) else "costliest"
    stats = [("mean", "mean"), (f"CVaR {percent(alpha)} (mean of the {worst} "
                                f"{percent(1 - alpha)})", "cvar"),
             ("5th percentile", "p5"), ("median", "p50"), ("95th percentile", "p95")]
    rows = [(label, hedged.get(k), average.get(k)) for label, k in stats]
    rows += [("lowest", scen.hedged.min(), scen.deterministic.min()),
             ("highest", scen.hedged.max(), scen.deterministic.max())]
    frame = pd.DataFrame([(label, _cell(a), _cell(b)) for label, a, b in rows],
                         columns=["measure", f"{HEDGED} ({unit})", f"{AVERAGE} ({unit})"])
    blocks: list[Chart | Table] = [
        chart, Table("plan_spread", "Each plan's spread of values", frame,
                     digits={c: 2 for c in frame.columns[1:]})]
    blocks += _futures_tables(data, scen)
    return Section("distribution", "Both plans across the futures", (
        f"How the value of the {HEDGED} and of the {AVERAGE} spreads over the futures "
        f"({'higher' if _outcome(data) else 'lower'} is better)."), blocks)


def _inputs(scen: pd.DataFrame) -> list[str]:
    return [c for c in scen.columns if str(c).startswith("input.")]


def _input_name(column: str) -> str:
    """``input.partners_county_cut_total`` -> 'partners county cut total' (wraps in a header)."""
    return column[len("input."):].replace("_", " ")


def _inputs_table(key: str, title: str, scen: pd.DataFrame,
                  data: ReportData | None = None) -> Table | None:
    """Each future's inputs as the stress set drew them, named in words and in their own
    units (a council's cut in %) where the input's column says what it sets."""
    from hwbopt.report.stress_sections import guess_input, input_words

    inputs = _inputs(scen)
    if not inputs:
        return None
    columns: dict[str, Any] = {"future": [str(x) for x in scen.scenario]}
    digits: dict[str, int] = {}
    for c in inputs:
        name, labels = c[len("input."):], data.labels if data else {}
        # an input named by its path reads in words; one the set names keeps its name
        words, unit, factor = input_words(labels, name, None) \
            if guess_input(labels, name) else (_input_name(c), "", 1.0)
        head = f"{words} ({unit})" if unit else words
        if head in columns:  # two inputs worded alike: the column name tells them apart
            head = f"{head} [{_input_name(c)}]"
        columns[head] = scen[c].to_numpy(dtype=float) * factor
        digits[head] = 2 if factor != 1 else 4
    return Table(key, title, pd.DataFrame(columns), digits=digits)


def _futures_tables(data: ReportData, scen: pd.DataFrame) -> list[Chart | Table]:
    """Every future: its probability, each plan's value and the rules that gave; then its
    inputs."""
    unit = _unit(data)
    given: dict[str, int] = defaultdict(int)
    for sc in data.table("plan_elastic").get("scenario", []):
        given[str(sc)] += 1
    frame = pd.DataFrame({
        "future": [str(x) for x in scen.scenario],
        "probability (%)": [100.0 * float(p) for p in scen.probability],
        f"{HEDGED} ({unit})": scen.hedged.to_numpy(dtype=float),
        f"{AVERAGE} ({unit})": scen.deterministic.to_numpy(dtype=float),
        f"{OWN} ({unit})": scen.own.to_numpy(dtype=float),
        "rules that gave under the hedged plan": [given.get(str(x), 0)
                                                  for x in scen.scenario],
    })
    values = Table("plan_futures", "Every future: each plan's value", frame,
                   digits={"probability (%)": 1, f"{HEDGED} ({unit})": 2,
                           f"{AVERAGE} ({unit})": 2, f"{OWN} ({unit})": 2},
                   note=f"Futures numbered from 0 as hwbopt stress numbers them. "
                        f"{OWN[0].upper() + OWN[1:]} is the best any plan could do knowing "
                        "that future: the most either plan can reach there.")
    inputs = _inputs_table("plan_inputs", "Every future's inputs (as the stress set drew "
                           "them)", scen, data)
    return [values] if inputs is None else [values, inputs]


@section("plan", order=60)
def targets(data: ReportData) -> Section | None:
    s = data.summary
    hedged = (s.get("hedged") or {}).get("target_probability") or {}
    average = (s.get("deterministic") or {}).get("target_probability") or {}
    if not hedged and not average:
        return None
    ids = solve_sections._order(list(dict.fromkeys([*hedged, *average])),
                                list(data.labels.get("priorities", {})))
    names = [data.name("priorities", k) for k in ids]
    series = [Series(HEDGED, [_pct(hedged.get(k)) for k in ids]),
              Series(AVERAGE, [_pct(average.get(k)) for k in ids])]
    blocks: list[Chart | Table] = []
    if any(v for sr in series for v in sr.values):  # bars of nothing only draw a bare axis
        blocks.append(Chart("plan_targets", "Chance of meeting every year's target, each plan",
                            names, series, y_title="% of the futures (by probability)",
                            mode="group"))
    rows = []
    for k, name in zip(ids, names, strict=True):
        a, b = _pct(hedged.get(k)), _pct(average.get(k))
        rows.append((name, a, b, None if a is None or b is None else a - b))
    frame = pd.DataFrame(rows, columns=["priority", f"{HEDGED} (%)", f"{AVERAGE} (%)",
                                        "difference (percentage points)"])
    blocks.append(Table("plan_target_probability", "Chance of meeting every year's target",
                        frame, digits={c: 0 for c in frame.columns[1:]}))
    never = "" if isinstance(blocks[0], Chart) else \
        " Neither plan meets every year's target of any priority in any future."
    return Section("targets", "Chance of meeting each target", (
        "The probability of the futures in which each plan meets every year's target of a "
        "priority, outcomes computed from each plan's activity under that future's need."
        + never), blocks)


@section("plan", order=70)
def elastic(data: ReportData) -> Section | None:
    if not _has_plan(data):
        return None
    el = data.table("plan_elastic")
    title = "Futures in which a rule had to give"
    if el.empty:
        return Section("elastic", title, (
            "None: under the hedged commitments every rule held in every future (no elastic "
            "slack was used)."))
    scen = data.table("plan_scenarios")
    prob = {str(a): float(p) for a, p in zip(scen.get("scenario", []),
                                             scen.get("probability", []), strict=True)}
    futures = list(dict.fromkeys(str(x) for x in el.scenario))
    share = sum(prob.get(f, 0.0) for f in futures)
    n = int(data.summary.get("scenarios") or len(scen))
    rows = [[str(r.scenario), _pct(prob.get(str(r.scenario))), str(r.text or r.rule),
             float(r.amount), str(r.rule)] for r in el.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=["future", "probability (%)", "rule",
                                        "gave by (in the rule's unit)", "in the model"])
    rules = el.groupby("rule", sort=False).size()
    which = f"In all {n:,} futures" if len(futures) == n else \
        f"In {_plural(len(futures), 'future')} of {n:,} ({share:.0%} of the probability)"
    intro = "\n".join([
        f"{which} the hedged commitments leave no way to keep every rule, whatever is "
        f"adapted: {_plural(len(rules), 'rule')} had to give there. Rather than give no plan, "
        "the hedged plan lets each such rule give by the amount shown, and counts its "
        "penalty in that future's value.",
        "A board reading this should ask whether those futures are likely enough to commit "
        "otherwise, or whether the rule can bend if they come.",
    ])
    blocks: list[Chart | Table] = [Table("plan_elastic", "Rules that gave", frame,
                                         digits={"probability (%)": 1,
                                                 "gave by (in the rule's unit)": 2})]
    inputs = _inputs_table("plan_elastic_futures", "What those futures look like (the "
                           "stress set's inputs)",
                           scen[[str(x) in futures for x in scen.scenario]], data)
    if inputs is not None:
        blocks.append(inputs)
    return Section("elastic", title, intro, blocks)


@section("plan", order=80)
def out_of_sample(data: ReportData) -> Section | None:
    if not _has_plan(data):
        return None
    s = data.summary
    oos = s.get("out_of_sample")
    title = "Tested on fresh futures"
    n = int(s.get("scenarios") or 0)
    if not oos:
        return Section("out_of_sample", title, (
            f"The plans were not tested out of sample: every figure above is measured on the "
            f"same {_plural(n, 'future')} the {HEDGED} was chosen on, which flatters it. To "
            f"test both plans on M fresh futures (drawn with a seed stream of their own), "
            f"with 95% confidence intervals and an estimate of the {HEDGED}'s optimality "
            "gap, run hwbopt plan again with --evaluate M (for example --evaluate 200)."))
    unit = _unit(data)
    rows = []
    for label, key in ((HEDGED, "hedged"), (AVERAGE, "deterministic")):
        est = oos.get(key) or {}
        rows.append((label, *(_cell(est.get(k)) for k in ("mean", "ci_low", "ci_high"))))
    frame = pd.DataFrame(rows, columns=["plan", f"mean ({unit})", "95% interval from",
                                        "95% interval to"])
    h, d = oos.get("hedged") or {}, oos.get("deterministic") or {}
    gap = oos.get("gap_estimate") or {}
    m = int(oos.get("scenarios") or 0)
    intro = [
        f"Both plans' commitments were held on {_plural(m, 'fresh future')} (seed "
        f"{oos.get('seed')}), drawn apart from the {_plural(n, 'future')} the {HEDGED} was "
        "chosen on, the rest adapted to each; each plan's value there counts the penalty of "
        "any rule its commitments break.",
        f"The {HEDGED} averages {_amount(data, h.get('mean'))} (95% confidence interval "
        f"{_value(h.get('ci_low'))} to {_value(h.get('ci_high'))}); the {AVERAGE} averages "
        f"{_amount(data, d.get('mean'))} ({_value(d.get('ci_low'))} to "
        f"{_value(d.get('ci_high'))}).",
    ]
    if gap:
        intro.append(
            f"The {HEDGED}'s optimality gap (how far the best plan for all futures could "
            f"improve on it) is estimated at {_amount(data, gap.get('value'))}, at most "
            f"{_value(gap.get('ci_high'))} with 95% confidence.")
    blocks: list[Chart | Table] = [
        Table("plan_out_of_sample", "Out of sample: each plan's mean value", frame,
              digits={c: 2 for c in frame.columns[1:]})]
    if gap:
        frame_gap = pd.DataFrame([("estimated optimality gap", _cell(gap.get("value")),
                                   _cell(gap.get("ci_high")))],
                                 columns=["measure", f"estimate ({unit})", "95% upper bound"])
        blocks.append(Table("plan_gap_estimate", "Out of sample: the hedged plan's optimality "
                            "gap", frame_gap, digits={c: 2 for c in frame_gap.columns[1:]}))
    return Section("out_of_sample", title, "\n".join(intro), blocks)


def _instance_view(data: ReportData) -> ReportData:
    """The hedged plan's own tables as the solve report reads them (its years from them)."""
    years = sorted({int(y) for name in ("outcomes", "allocation")
                    for y in data.table(name).get("year", [])})
    return ReportData(kind=data.kind, summary={**data.summary, "years": years},
                      tables=data.tables)


INSTANCE_NOTE = (
    "The hedged plan on the instance's own numbers (as hwbopt plan --out writes its tables): "
    "its commitments held, the rest re-planned, where those numbers allow; hwbopt plan warns "
    "when they do not.")


def _on_instance(data: ReportData, key: str, what: str,
                 solve_section: Callable[[ReportData], Section | None]) -> Section | None:
    """A solve report's section, run on the hedged plan's own tables on the instance."""
    sec = solve_section(_instance_view(data))
    if sec is None:
        return None
    return Section(key, f"The hedged plan's {what} on the instance's own numbers",
                   f"{INSTANCE_NOTE} {sec.intro}", sec.blocks)


@section("plan", order=90)
def instance_outcomes(data: ReportData) -> Section | None:
    return _on_instance(data, "instance_outcomes", "outcomes", solve_sections.outcomes)


@section("plan", order=91)
def instance_allocation(data: ReportData) -> Section | None:
    return _on_instance(data, "instance_allocation", "money", solve_sections.allocation)


@section("plan", order=99)
def every_commitment(data: ReportData) -> Section | None:
    fs = _first_stage(data)
    if fs.empty:
        return None
    rank = {g: k for k, g in enumerate(GROUPS)}
    fs = fs.assign(_rank=[rank[g] for g in fs.group]).sort_values("_rank", kind="stable")
    frame = pd.DataFrame([[GROUPS[r.group], str(r.text), board_value(str(r.decision), r.value),
                           str(r.decision)] for r in fs.itertuples(index=False)],
                         columns=["what", "decision", "value", "in the model"])
    return Section("every_commitment", "Every commitment", (
        f"All {len(fs):,} decisions the hedged plan commits now, grouped as above; money in "
        f"{data.money}, posts in FTE, activity in each service's unit."),
        [Table("plan_first_stage", "Every commitment", frame, digits={"value": 2})])
