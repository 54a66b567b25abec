"""Report sections for a comparison of options (results of kind ``compare``).

A comparison's folder (``hwbopt compare --out``) holds ``options.csv``, ``outcomes.csv``,
``partners.csv``, ``benefits.csv``, ``policies.csv``, ``pooling_curve.csv`` and ``summary.json``;
each run's own result folder under ``runs/`` is not needed here. The sections:

- options side by side: each objective as a difference from the pooled plan's (bars from 0
  would hide a 3% difference), targets met, outcome per priority (above or below the pooled
  plan's, as a share of it, so priorities in different units share one axis), and what each
  priority's measure counts;
- who pays and who benefits, pooled against siloed (the benefit rule of
  :data:`hwbopt.report.solve.BENEFIT_RULE`), and the outcome value of each partner's remit;
- the value of pooling (pooled minus siloed), by priority, and the pooling curve of a
  ``--pool-share`` sweep;
- the price of each policy of the instance's options.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hwbopt.report.sections import figures, headline, section
from hwbopt.report.solve import BENEFIT_RULE, _order, measures_table
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table

STATUS_QUO_NOTE = (
    "The status quo carries today's activity forward: where it breaks a rule (overspends a "
    "budget or a pool, misses a hard target) it has no valid objective; the value it would "
    "reach is shown outlined in red and labelled.")


def _runs(data: ReportData) -> pd.DataFrame:
    """options.csv, with each run's ``name`` as the other tables call it: the option, or
    ``partial@SHARE`` for one share of a partial-pooling sweep."""
    runs = data.table("options")
    if runs.empty or "name" in runs:
        return runs
    names = [o if pd.isna(s) or o != "partial" else f"partial@{float(s):g}"
             for o, s in zip(runs.option, runs.pool_share, strict=True)]
    return runs.assign(name=names)


def _scenarios(data: ReportData) -> list[str]:
    return [str(s) for s in data.summary.get("scenarios") or
            list(dict.fromkeys(_runs(data).get("scenario", [])))]


def _scenario_name(data: ReportData, s: str) -> str:
    return "base (as the instance says)" if s == "base" else data.name("scenarios", s)


def _records(data: ReportData) -> dict[tuple[str, str], dict[str, Any]]:
    return {(str(r.get("scenario")), str(r.get("name"))): r
            for r in data.summary.get("options") or []}


def _side_by_side(data: ReportData) -> list[str]:
    """Runs shown side by side: every option, but a sweep of pool shares only as its curve."""
    runs = _runs(data)
    names = list(dict.fromkeys(runs.name)) if len(runs) else []
    partial = [n for n in names if n.startswith("partial@")]
    return [n for n in names if n not in partial or len(partial) == 1]


def _labels(data: ReportData) -> dict[str, str]:
    runs = _runs(data)
    return {str(o): str(lab) for o, lab in zip(runs.name, runs.label, strict=True)} \
        if len(runs) else {}


def _objective_title(data: ReportData) -> str:
    return ("weighted outcome (points)" if data.summary.get("objective_kind") == "outcome"
            else f"total cost ({data.money})")


def _value(row: pd.Series | None, column: str) -> float | None:
    if row is None:
        return None
    v = row[column]
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _row(data: ReportData, scenario: str, option: str) -> pd.Series | None:
    runs = _runs(data)
    found = runs[(runs.scenario == scenario) & (runs.name == option)]
    return None if found.empty else found.iloc[0]


# ---------------------------------------------------------------------------------------------


@headline("compare")
def compare_headline(data: ReportData) -> tuple[str, bool]:
    runs = _runs(data)
    counts = runs.status.value_counts() if len(runs) else pd.Series(dtype=int)
    text = f"{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items())
    return text, not bool((runs.status == "error").any()) if len(runs) else False


@figures("compare")
def compare_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind),
        ("objective", _objective_title(data)),
        ("scenarios", ", ".join(_scenario_name(data, x) for x in _scenarios(data))),
        ("runs", s.get("runs")),
    ]
    for scenario, value in (s.get("value_of_pooling_by_scenario") or {}).items():
        rows.append((f"value of pooling, {_scenario_name(data, scenario)}", value))
    rows += [("models built", s.get("models_built")),
             ("warm re-solves", s.get("solver_reuses")),
             ("seconds", s.get("seconds"))]
    return rows


@section("compare", order=10)
def overview(data: ReportData) -> Section:
    runs = _runs(data)
    rows = [(label, value) for label, value in compare_figures(data) if label != "kind of result"]
    several = len(_scenarios(data)) > 1
    notes = [f"{lab}" + (f", scenario {_scenario_name(data, sc)}" if several else "")
             + f": {msg}" for sc, lab, msg, status in zip(
                 runs.scenario, runs.label, runs.message, runs.status, strict=True)
             if isinstance(msg, str) and msg and status != "optimal"] if len(runs) else []
    intro = ("Each option solved under each scenario; the value of pooling is the pooled "
             "plan's objective less the siloed plan's.")
    sentence = data.objective_sentence()
    return Section("overview", "Overview", "\n".join([intro, *([sentence] if sentence else []),
                                                      *notes]),
                   [figure_table(rows)])


def _difference(value: float | None, pooled: float | None, unit: str) -> str:
    """'−9,987 points (−3.1%)': an option's objective against the pooled plan's."""
    from hwbopt.words import num

    if value is None or pooled is None:
        return ""
    diff = value - pooled
    sign = "+" if diff > 0 else "−" if diff < 0 else "±"
    share = f" ({sign}{abs(diff) / abs(pooled):.1%})" if pooled else ""
    return f"{sign}{num(abs(diff), 4)} {unit}{share}"


def _objective_unit(data: ReportData) -> str:
    return "points" if data.summary.get("objective_kind") != "cost" else data.money


def _single(data: ReportData) -> bool:
    return len(_scenarios(data)) <= 1


@section("compare", order=20)
def options_side_by_side(data: ReportData) -> Section | None:
    runs = _runs(data)
    if runs.empty:
        return None
    names = _side_by_side(data)
    labels = _labels(data)
    scenarios = _scenarios(data)
    records = _records(data)
    cats = [labels[n] for n in names]
    unit = _objective_unit(data)
    series, targets = [], []
    broken = False
    for s in scenarios:
        pooled = _value(_row(data, s, "pooled"), "objective")
        values: list[float | None] = []
        marks: list[bool] = []
        texts: list[str] = []
        for n in names:
            row = _row(data, s, n)
            value = _value(row, "objective")
            evaluation = (records.get((s, n)) or {}).get("evaluation") or {}
            marked = value is None and evaluation.get("objective") is not None
            if marked:
                value = float(evaluation["objective"])
                broken = True
            # against the pooled plan of the same scenario: the point is the difference,
            # which bars from 0 would hide (3% of 300,000 points is a sliver)
            values.append(None if value is None or pooled is None else value - pooled)
            marks.append(marked)
            if n == "pooled" and value is not None:
                texts.append(f"the pooled plan: {value:,.0f} {unit}")
            elif value is None:
                texts.append("" if row is None else f"no plan ({row.status})")
            else:
                texts.append(_difference(value, pooled, unit)
                             + (": breaks the rules" if marked else ""))
        name = _scenario_name(data, s)
        series.append(Series(name, values, marked=marks, labels=texts))
        targets.append(Series(name, [_value(_row(data, s, n), "targets_met") for n in names]))
    title = _objective_title(data)
    blocks: list[Chart | Table] = [Chart(
        "objective_by_option", "Objective of each option", cats, series,
        y_title=f"{title}: difference from the pooled plan", mode="group", horizontal=True,
        line=0.0, line_label="pooled",
        note="Each option's objective less the pooled plan's (under the same scenario), "
             "labelled with the difference and its share of the pooled plan's objective; the "
             "table gives each objective in full."
             + (" " + STATUS_QUO_NOTE if broken else ""))]
    total = runs.targets_total.max() if "targets_total" in runs and len(runs) else None
    if total and not np.isnan(total):
        blocks.append(Chart("targets_met_by_option", "Targets met by each option", cats, targets,
                            y_title="targets met (priority and year)", mode="group",
                            horizontal=True, line=float(total), line_label="targets set"))
    blocks += _outcome_charts(data, names, labels, scenarios)
    m = data.money
    rows = []
    for r in runs.itertuples(index=False):
        rows.append([_scenario_name(data, r.scenario), r.label, r.status, r.objective,
                     r.change_vs_pooled, r.total_spend,
                     f"{int(r.targets_met)} of {int(r.targets_total)}"
                     if not pd.isna(r.targets_total) and r.targets_total else "",
                     r.pool_share])
    frame = pd.DataFrame(rows, columns=["scenario", "option", "status",
                                        f"objective ({title})",
                                        "change against pooled", f"spend on services ({m})",
                                        "targets met", "pool share"])
    if _single(data):
        frame = frame.drop(columns="scenario")
    blocks.append(Table("options", "Options side by side", frame,
                        digits={"pool share": 2, f"objective ({title})": 2,
                                "change against pooled": 2}))
    return Section("options", "Options side by side", (
        "Pooled uses the pooling rules as written; siloed has no pooled fund, each partner "
        "funding only its own remit from its own money; partial fixes every contributor's "
        "pool share; the status quo carries today's activity forward; the instance's own "
        "options add their changes and policies."), blocks)


def _outcome_charts(data: ReportData, names: list[str], labels: dict[str, str],
                    scenarios: list[str]) -> list[Chart | Table]:
    out = data.table("outcomes")
    if out.empty:
        return []
    totals = out.groupby(["scenario", "option", "priority"], sort=False)["achieved"].sum()
    priorities = _order(list(dict.fromkeys(out.priority)), list(data.labels.get("priorities",
                                                                              {})))
    blocks: list[Chart | Table] = []
    for k, s in enumerate(scenarios):
        shown = [n for n in names if (s, n, priorities[0]) in totals.index]
        if not shown:
            continue
        base = {p: float(totals.get((s, "pooled", p), np.nan)) for p in priorities}
        relative = all(v > 0 for v in base.values())
        series = []
        for n in shown:
            if relative and n == "pooled":
                continue  # the line at 0 is the pooled plan
            vals = [float(totals[(s, n, p)]) for p in priorities]
            if relative:
                vals = [100.0 * v / base[p] - 100.0 for v, p in zip(vals, priorities,
                                                                    strict=True)]
            series.append(Series(labels[n], vals))
        title = "Outcome by priority over the horizon, against the pooled plan" if relative \
            else "Outcome by priority over the horizon"
        if len(scenarios) > 1:
            title += f", scenario {_scenario_name(data, s)}"
        blocks.append(Chart(
            f"outcome_by_option_{k}", title, [data.name("priorities", p) for p in priorities],
            series, y_title="% above (+) or below (−) the pooled plan's outcome" if relative
            else "outcome (each priority's unit)", mode="group",
            line=0.0 if relative else None, line_label="pooled" if relative else "",
            note="Each priority's outcome over the horizon against the pooled plan's, as a "
                 "share of it, so priorities measured in different units share one axis; the "
                 "table gives the outcomes in their own units." if relative else ""))
    rows = [[_scenario_name(data, s), labels.get(n, n), data.name("priorities", p),
             data.unit("priorities", p), float(v)]
            for (s, n, p), v in totals.items() if n in names]
    frame = pd.DataFrame(rows, columns=["scenario", "option", "priority", "unit", "outcome"])
    blocks.append(Table("outcome_by_option", "Outcome by priority over the horizon",
                        frame.drop(columns="scenario") if _single(data) else frame))
    measures = measures_table(data, priorities)
    if measures is not None:
        blocks.append(measures)
    return blocks


@section("compare", order=30)
def who_pays(data: ReportData) -> Section | None:
    ben, partners = data.table("benefits"), data.table("partners")
    if ben.empty:
        return None
    m = data.money
    blocks: list[Chart | Table] = []
    ids = _order(list(dict.fromkeys(ben.partner)), list(data.labels.get("partners", {})))
    names = [data.name("partners", p) for p in ids]
    scenarios = _scenarios(data)
    for k, s in enumerate(scenarios):
        mine = ben[ben.scenario == s].set_index(["option", "partner"])
        if ("pooled", ids[0]) not in mine.index:
            continue

        def col(option: str, column: str, mine: pd.DataFrame = mine) -> list[float | None]:
            return [float(mine.loc[(option, p), column]) if (option, p) in mine.index else None
                    for p in ids]

        series = [Series("pooled: contributed to pools", col("pooled", "contributed"),
                         stack="pooled: paid in"),
                  Series("pooled: costs avoided for it", col("pooled", "avoided_costs"),
                         stack="pooled: benefit"),
                  Series("pooled: spend on its remit funded by others",
                         col("pooled", "remit_funded_by_others"), stack="pooled: benefit")]
        if ("siloed", ids[0]) in mine.index:
            series += [Series("siloed: costs avoided for it", col("siloed", "avoided_costs"),
                              stack="siloed: benefit"),
                       Series("siloed: spend on its remit funded by others",
                              col("siloed", "remit_funded_by_others"), stack="siloed: benefit")]
        suffix = f", scenario {_scenario_name(data, s)}" if len(scenarios) > 1 else ""
        blocks.append(Chart(
            f"pools_vs_benefits_{k}", "Pool contributions against benefits by partner, pooled "
            f"and siloed (whole horizon){suffix}", names, series, y_title=f"money ({m})",
            note=BENEFIT_RULE))
        value = partners[partners.scenario == s].set_index(["option", "partner"])
        shown = [o for o in ("pooled", "siloed") if ("pooled", ids[0]) in value.index
                 and (o, ids[0]) in value.index]
        if shown:
            blocks.append(Chart(
                f"remit_value_{k}", f"Outcome value of the services in each partner's remit"
                f"{suffix}", names,
                [Series(o, [float(value.loc[(o, p), "outcome_value"])
                            if (o, p) in value.index else None for p in ids]) for o in shown],
                y_title="weighted outcome (points)", mode="group",
                note="The weighted outcome of the services in a partner's remit, shared "
                     "equally between partners whose remits overlap."))
    labels = _labels(data)
    merged = partners.merge(ben[["scenario", "option", "partner", "remit_funded_by_others",
                                 "benefit"]], on=["scenario", "option", "partner"], how="left")
    # spent = contributed + retained + staff and buildings (net): the last is what is left
    rows = [[_scenario_name(data, r.scenario), labels.get(r.option, r.option),
             data.name("partners", r.partner), r.contributed, r.retained,
             r.spent - r.contributed - r.retained, r.spent,
             r.avoided_costs, r.remit_funded_by_others, r.benefit, r.outcome_value]
            for r in merged.itertuples(index=False)]
    frame = pd.DataFrame(
        rows, columns=["scenario", "option", "partner", f"contributed to pools ({m})",
                       f"retained ({m})", f"staff and buildings, net ({m})", f"spent ({m})",
                       f"costs avoided for it ({m})",
                       f"spend on its remit funded by others ({m})", f"benefit ({m})",
                       "outcome value of its remit (points)"])
    blocks.append(Table("partners", "Who pays and who benefits, by option",
                        frame.drop(columns="scenario") if _single(data) else frame,
                        note="Spent = contributed to pools + retained + staff and buildings "
                             "(pay, recruitment, running and closure costs, less recharges "
                             "and receipts)."))
    return Section("pooling", "Who pays and who benefits", (
        "What each partner puts into the pools against what lands in its remit without "
        "coming from its own budget, with and without pooling."), blocks)


@section("compare", order=40)
def value_of_pooling(data: ReportData) -> Section | None:
    s = data.summary
    by_scenario = {k: v for k, v in (s.get("value_of_pooling_by_scenario") or {}).items()
                   if v is not None}
    curve = data.table("pooling_curve")
    if not by_scenario and curve.empty:
        return None
    scenarios = _scenarios(data)
    blocks: list[Chart | Table] = []
    if len(by_scenario) > 1:
        blocks.append(Chart(
            "value_of_pooling", "Value of pooling by scenario (pooled less siloed objective)",
            [_scenario_name(data, k) for k in by_scenario],
            [Series("value of pooling", list(by_scenario.values()))],
            y_title=_objective_title(data)))
    out = data.table("outcomes")
    by_priority = {k: v for k, v in (s.get("value_of_pooling_by_priority") or {}).items() if v}
    if by_priority:
        blocks.append(_pooling_by_priority_chart(data, by_priority, out))
    rows = []
    for scenario, diffs in (s.get("value_of_pooling_by_priority") or {}).items():
        for p, diff in diffs.items():
            def total(option: str, p: str = p, scenario: str = scenario) -> float:
                pick = out[(out.scenario == scenario) & (out.option == option)
                           & (out.priority == p)]
                return float(pick.achieved.sum())
            rows.append([_scenario_name(data, scenario), data.name("priorities", p),
                         data.unit("priorities", p), total("pooled"), total("siloed"),
                         float(diff)])
    if by_scenario:
        figures_ = [[_scenario_name(data, k), float(v)] for k, v in by_scenario.items()]
        blocks.append(Table("value_of_pooling", "Value of pooling (pooled less siloed "
                            "objective)", pd.DataFrame(figures_, columns=[
                                "scenario", f"value of pooling ({_objective_title(data)})"]),
                            digits={f"value of pooling ({_objective_title(data)})": 2}))
    if rows:
        blocks.append(Table("pooling_by_priority", "Outcome over the horizon, pooled and "
                            "siloed", pd.DataFrame(rows, columns=[
                                "scenario", "priority", "unit", "pooled", "siloed",
                                "pooled less siloed"]).pipe(
                                    lambda f: f.drop(columns="scenario") if _single(data)
                                    else f)))
    if len(curve) > 1:
        shares = sorted(dict.fromkeys(float(x) for x in curve.share))
        series = []
        for sc in scenarios:
            mine = curve[curve.scenario == sc].set_index("share")
            if mine.empty:
                continue
            series.append(Series(_scenario_name(data, sc), [
                _value(mine.loc[x], "objective") if x in mine.index else None for x in shares]))
        pooled = _value(_row(data, scenarios[0], "pooled"), "objective") \
            if len(scenarios) == 1 else None
        blocks.append(Chart(
            "pooling_curve", "Pooling curve: every contributor's pool share fixed",
            [f"{x:.0%}" for x in shares], series, y_title=_objective_title(data),
            x_title="share of each contributor's money in the pool", kind="line",
            line=pooled, line_label="pooled (shares free within their ranges)"
            if pooled is not None else "",
            note="Each share is kept within the contributor's own minimum and maximum; a "
                 "missing point has no plan at that share."))
        blocks.append(Table("pooling_curve", "Pooling curve", pd.DataFrame(
            [[_scenario_name(data, r.scenario), float(r.share), r.status, r.objective]
             for r in curve.itertuples(index=False)],
            columns=["scenario", "pool share", "status", "objective"]),
            digits={"pool share": 2, "objective": 2}))
    return Section("value_of_pooling", "Value of pooling", (
        "What pooling is worth: the pooled plan's objective less the siloed plan's, and each "
        "priority's outcome with and without the pool."), blocks)


def _pooling_by_priority_chart(data: ReportData, by_priority: dict[str, dict[str, float]],
                               out: pd.DataFrame) -> Chart:
    """Pooled less siloed outcome of each priority, as a % of the siloed outcome."""
    ids = _order(list(dict.fromkeys(p for diffs in by_priority.values() for p in diffs)),
                 list(data.labels.get("priorities", {})))
    single = len(by_priority) == 1
    series = []
    for scenario, diffs in by_priority.items():
        mine = out[(out.scenario == scenario) & (out.option == "siloed")]
        siloed = mine.groupby("priority")["achieved"].sum()
        values = [100.0 * diffs[p] / float(siloed[p]) if p in diffs and p in siloed.index
                  and float(siloed[p]) > 0 else None for p in ids]
        labels = [data.measured(float(diffs[p]), p) if p in diffs else "" for p in ids]
        series.append(Series(_scenario_name(data, scenario), values,
                             labels=labels if single else None))
    return Chart("pooling_by_priority", "Value of pooling by priority (pooled less siloed "
                 "outcome over the horizon)", [data.name("priorities", p) for p in ids], series,
                 y_title="% of the siloed outcome", mode="group", horizontal=True, line=0.0,
                 note="Each priority's gain from pooling as a share of its siloed outcome"
                      + ("; each bar is labelled with the gain in the priority's own measure."
                         if single else "."))


@section("compare", order=50)
def policy_prices(data: ReportData) -> Section | None:
    pol = data.table("policies")
    if pol.empty:
        return None
    labels = _labels(data)
    scenarios = _scenarios(data)
    keys = list(dict.fromkeys(zip(pol.option, pol.text, strict=True)))
    cats = [f"{labels.get(o, o)}: {t}" for o, t in keys]
    series = []
    for s in scenarios:
        mine = pol[pol.scenario == s]
        price = {(r.option, r.text): r.price for r in mine.itertuples(index=False)}
        vals = [price.get(k) for k in keys]
        series.append(Series(_scenario_name(data, s), [
            None if v is None or pd.isna(v) else float(v) for v in vals]))
    chart = Chart("policy_prices", "Price of each policy (objective lost against the same "
                  "option without it)", cats, series, y_title=_objective_title(data),
                  mode="group", horizontal=True)
    rows = [[_scenario_name(data, r.scenario), labels.get(r.option, r.option), r.text,
             r.price, r.status_without] for r in pol.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=["scenario", "option", "policy", "price",
                                        "status without it"])
    if _single(data):
        frame = frame.drop(columns="scenario")
    return Section("policies", "Price of each policy", (
        "Each policy of an option, priced by solving the option without it: the objective "
        "it costs (0: the policy does not bind)."),
        [chart, Table("policy_prices", "Price of each policy", frame, digits={"price": 2})])
