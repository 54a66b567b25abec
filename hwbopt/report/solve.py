"""Report sections for a solved plan (results of kind ``solve``).

Two rules the tables alone do not settle are fixed here and stated in the report:

- **allocation by priority** (:data:`PRIORITY_RULE`, :func:`spend_by_priority`);
- **benefit landing in a partner's remit** (:data:`BENEFIT_RULE`; computed at solve time as the
  ``benefits`` table, :func:`hwbopt.results.benefit_table`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.report.sections import figures, section
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table

NO_PRIORITY = "no priority"

PRIORITY_RULE = (
    "Money on a service that moves several priorities is split between them in proportion "
    "to the weighted outcome it adds to each that year (outcome times the priority's weight, "
    "the terms of the objective). A service that adds nothing that year (no activity, or a "
    "set-up cost only) is split equally between the priorities it can move; one that moves "
    f"none is shown as '{NO_PRIORITY}'.")

BENEFIT_RULE = (
    "Benefit landing in a partner's remit = the costs the plan's activity avoids for that "
    "partner (whoever pays for the activity) + the money other partners spend on services in "
    "its remit (pooled money counts as its contributors', in proportion to what each put in "
    "that year). Remits overlap, so two partners' benefits may count the same money: they "
    "are not shares of a total.")


def spend_by_priority(data: ReportData) -> pd.DataFrame:
    """Money per priority and year under :data:`PRIORITY_RULE`: priority, year, money."""
    alloc = data.table("allocation")
    contrib = data.table("contributions")
    if alloc.empty:
        return pd.DataFrame(columns=["priority", "year", "money"])
    spend = alloc.groupby(["intervention", "year"])["money"].sum()
    moves: dict[str, list[str]] = defaultdict(list)
    weighted: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for r in contrib.itertuples(index=False):
        if r.priority not in moves[r.intervention]:
            moves[r.intervention].append(r.priority)
        weighted[r.intervention, int(r.year)][r.priority] = max(float(r.weighted), 0.0)
    out: dict[tuple[str, int], float] = defaultdict(float)
    for (i, y), money in spend.items():
        shares = weighted.get((i, int(y)), {})
        total = sum(shares.values())
        if total > 0:
            for k, w in shares.items():
                out[k, int(y)] += money * w / total
        elif moves.get(i):
            for k in moves[i]:
                out[k, int(y)] += money / len(moves[i])
        else:
            out[NO_PRIORITY, int(y)] += money
    rows = [(k, y, v) for (k, y), v in out.items()]
    return pd.DataFrame(rows, columns=["priority", "year", "money"])


def _by_year(frame: pd.DataFrame, key: str, value: str, years: list[int]
             ) -> dict[str, list[float]]:
    pivot = frame.groupby([key, "year"])[value].sum() if len(frame) else pd.Series(dtype=float)
    keys = list(dict.fromkeys(frame[key])) if len(frame) else []
    return {k: [float(pivot.get((k, y), 0.0)) for y in years] for k in keys}


def _order(ids: list[str], preferred: list[str]) -> list[str]:
    """``ids`` in the instance's order (``preferred``), unknown ones after."""
    known = [p for p in preferred if p in ids]
    return known + [i for i in ids if i not in known]


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.3g}"


# ---------------------------------------------------------------------------------------------


@figures("solve")
def solve_figures(data: ReportData) -> list[tuple[str, object]]:
    s, m = data.summary, data.money
    return [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        (f"objective ({s.get('objective_kind', '')})", s.get("objective")),
        ("what the objective counts", data.objective_sentence() or None),
        (f"spend on services ({m})", s.get("total_spend")),
        (f"everything partners pay out ({m})", s.get("total_cost")),
        ("targets met", s.get("targets_met")), ("targets with a value", s.get("targets_total")),
        ("MIP gap of the reported plan", s.get("mip_gap")),
        ("solve time (s)", s.get("solve_seconds")),
        ("checked independently", s.get("checked")),
    ]


def objective_label(data: ReportData) -> str:
    """The objective's figure named in its unit: points, or money under ``cost``."""
    kind = data.summary.get("objective_kind")
    if kind == "cost":
        return f"objective: total cost ({data.money})"
    if kind == "equity":
        return "objective: weighted outcome (points), after lifting the worst-met target"
    return "objective: weighted outcome (points)"


@section("solve", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    m = data.money
    rows: list[tuple[str, str]] = [("status", str(s.get("status", "")))]
    if s.get("objective") is not None:
        unit = "" if s.get("objective_kind") == "cost" else " points"
        rows.append((objective_label(data), f"{s['objective']:,.2f}{unit}"))
    if s.get("objective_kind") == "equity" and s.get("min_attainment") is not None:
        rows.append(("lowest share of a target met", f"{s['min_attainment']:.2%}"))
    if s.get("total_spend") is not None:
        rows.append((f"spend on services ({m})", f"{s['total_spend']:,.1f}"))
    if s.get("total_cost") is not None:
        rows.append((f"everything partners pay out ({m})", f"{s['total_cost']:,.1f}"))
    if s.get("targets_total"):
        rows.append(("targets met", f"{s.get('targets_met', 0)} of {s['targets_total']}"))
    model = s.get("model") or {}
    if model:
        rows.append(("model", f"{model.get('variables', 0):,} variables "
                     f"({model.get('integer_variables', 0):,} integer), "
                     f"{model.get('constraints', 0):,} constraints"))
    if s.get("mip_gap") is not None and model.get("integer_variables"):
        rows.append(("MIP gap of the reported plan", f"{s['mip_gap']:.4%}"))
    if s.get("solve_seconds") is not None:
        rows.append(("solve time", f"{s['solve_seconds']:.2f} s"))
    rows.append(("checked independently against the instance",
                 "yes" if s.get("checked") else "no"))
    intro = str(s.get("message") or "")
    sentence = data.objective_sentence()  # what a point of the objective is
    if sentence:
        intro += ("\n" if intro else "") + sentence
    for w in s.get("warnings") or []:
        intro += ("\n" if intro else "") + f"Warning: {w}"
    return Section("overview", "Overview", intro,
                   [Table("key_figures", "Key figures",
                          pd.DataFrame(rows, columns=["figure", "value"]))])


@section("solve", order=20)
def allocation(data: ReportData) -> Section | None:
    alloc = data.table("allocation")
    if alloc.empty:
        return None
    years, cats = data.years, [data.year(y) for y in data.years]
    partners = _order(list(dict.fromkeys(alloc.partner)), list(data.labels.get("partners", {})))
    by_partner = _by_year(alloc, "partner", "money", years)
    chart_partner = Chart(
        "spend_by_partner", "Spend on services by partner and year", cats,
        [Series(data.name("partners", p), by_partner[p]) for p in partners],
        y_title=f"money ({data.money})",
        note="Pooled money is shown as the partners' who put it in, in proportion to what each "
             "contributed that year.")
    prio = spend_by_priority(data)
    order = _order(list(dict.fromkeys(prio.priority)), list(data.labels.get("priorities", {})))
    by_prio = _by_year(prio, "priority", "money", years)
    chart_priority = Chart(
        "spend_by_priority", "Spend on services by priority and year", cats,
        [Series(data.name("priorities", k) if k != NO_PRIORITY else NO_PRIORITY, by_prio[k])
         for k in order],
        y_title=f"money ({data.money})", note=PRIORITY_RULE)

    interventions = _order(list(dict.fromkeys(alloc.intervention)),
                           list(data.labels.get("interventions", {})))
    spend = alloc.groupby(["intervention", "year"])["money"].sum()
    pooled = alloc[alloc.fund == "pooled"].groupby("intervention")["money"].sum()
    spent = {i: [float(spend.get((i, y), 0.0)) for y in years] for i in interventions}
    rows = [[data.name("interventions", i), *vals, sum(vals), float(pooled.get(i, 0.0))]
            for i, vals in spent.items()]
    totals = [float(sum(vals[j] for vals in spent.values())) for j in range(len(years))]
    rows.append(["total", *totals, sum(totals), float(pooled.sum())])
    m = data.money
    frame = pd.DataFrame(rows, columns=["intervention", *(f"{c} ({m})" for c in cats),
                                        f"total ({m})", f"of which via pools ({m})"])
    return Section("allocation", "Allocation", "Where the money goes, each year.",
                   [chart_partner, chart_priority,
                    Table("spend_by_intervention", "Spend by intervention", frame)])


def _attainment_chart(data: ReportData, targeted: pd.DataFrame, priorities: list[str]
                      ) -> Chart:
    """Each target's outcome against it, as a % above or below the target: bars across, one
    row per priority and year, so a missed target's label sits at the end of its own bar."""
    series = []
    for y in data.years:
        vals: list[float | None] = []
        marks: list[bool] = []
        labels: list[str] = []
        for k in priorities:
            r = targeted[(targeted.priority == k) & (targeted.year == y)]
            if r.empty or float(r.target.iloc[0]) == 0:
                vals.append(None)
                marks.append(False)
                labels.append("")
                continue
            row = r.iloc[0]
            vals.append(100.0 * float(row.achieved) / float(row.target) - 100.0)
            missed = not bool(row.met)
            marks.append(missed)
            labels.append(f"short by {_fmt(float(row.shortfall))} "
                          f"{data.unit('priorities', k)}".strip() if missed else "")
        series.append(Series(data.year(y), vals, marked=marks, labels=labels))
    return Chart(
        "attainment", "Outcomes against targets (% above or below each year's target)",
        [data.name("priorities", k) for k in priorities], series,
        y_title="% above (+) or below (−) the target", mode="group", horizontal=True,
        line=0.0, line_label="target",
        note="Bars left of the line miss their target: outlined in red, hatched and labelled "
             "with the shortfall in the priority's unit. Each priority's measure (what more "
             "of means better) is in the table.")


@section("solve", order=30)
def outcomes(data: ReportData) -> Section | None:
    out = data.table("outcomes")
    if out.empty:
        return None
    targeted = out[out.target.notna()]
    priorities = _order(list(dict.fromkeys(targeted.priority)),
                        list(data.labels.get("priorities", {})))
    blocks: list[Chart | Table] = []
    if priorities:
        blocks.append(_attainment_chart(data, targeted, priorities))
    rows = []
    for r in out.itertuples(index=False):
        has = not pd.isna(r.target)
        state = "" if not has else ("met" if r.met else
                                    "missed" + (" (hard)" if r.hard else " (soft)"))
        rows.append([data.name("priorities", r.priority), data.unit("priorities", r.priority),
                     data.year(r.year), float(r.achieved), float(r.target) if has else np.nan,
                     float(r.shortfall) if has else np.nan, state])
    frame = pd.DataFrame(rows, columns=["priority", "unit", "year", "achieved", "target",
                                        "shortfall", "state"])
    blocks.append(Table("outcomes", "Outcomes against targets", frame))
    measures = measures_table(data, priorities or _order(
        list(dict.fromkeys(out.priority)), list(data.labels.get("priorities", {}))))
    if measures is not None:
        blocks.append(measures)
    return Section("outcomes", "Outcomes", "Each priority's outcome against its target, each "
                   "year, in the priority's own unit.", blocks)


def measures_table(data: ReportData, priorities: list[str]) -> Table | None:
    """What each priority counts and which way is better, with its weight: the key to every
    outcome figure of the page ('under-18 conceptions averted': more is better)."""
    rows = []
    for k in priorities:
        entry = data.labels.get("priorities", {}).get(str(k))
        if not isinstance(entry, dict) or not entry.get("measure"):
            continue
        target = {"hard": "must be met", "soft": "may be missed, at a penalty"}.get(
            str(entry.get("target_type") or ""), "")
        rows.append([data.name("priorities", k), str(entry["measure"]),
                     str(entry.get("unit") or ""),
                     float(entry["weight"]) if entry.get("weight") is not None else np.nan,
                     target])
    if not rows:
        return None
    return Table("measures", "What each priority counts (more is better)", pd.DataFrame(
        rows, columns=["priority", "measure", "unit", "weight (points a unit)", "target"]),
        digits={"weight (points a unit)": 2})


def _flow(r: Any, column: str) -> float:
    v = getattr(r, column, 0.0)
    return 0.0 if v is None or pd.isna(v) else float(v)


@section("solve", order=40)
def partners_money(data: ReportData) -> Section | None:
    budgets = data.table("budgets")
    if budgets.empty:
        return None
    m = data.money
    rows = []
    for r in budgets.itertuples(index=False):
        # spent = pooled + retained + staff (pay and recruitment less recharges received)
        # + buildings (running and closure costs less charges and receipts): the columns
        # shown add up to it, row by row
        staff_net = _flow(r, "pay_bill") + _flow(r, "recruitment") - _flow(r, "staff_income")
        estate_net = _flow(r, "site_costs") - _flow(r, "receipts")
        rows.append([data.name("partners", r.partner), data.year(r.year), r.baseline,
                     r.available, r.qipp_credit, r.pooled, r.retained, staff_net, estate_net,
                     r.spent, r.unspent])
    frame = pd.DataFrame(rows, columns=[
        "partner", "year", *(f"{c} ({m})" for c in (
            "baseline", "available", "savings credited", "pooled", "retained",
            "staff, net", "buildings, net", "spent", "unspent"))])
    return Section("money", "Partners' money", (
        "Each partner's budget after cuts and required savings, what it puts into pools and "
        "keeps for its own services, and what it spends in all. Spent = pooled + retained + "
        "staff (pay and recruitment, less what other partners pay for its staff) + buildings "
        "(running and closure costs, less charges to co-located partners and sale receipts); "
        "unspent = available + savings credited − spent."),
        [Table("budgets", "Partners' money", frame)])


@section("solve", order=50)
def pooling(data: ReportData) -> Section | None:
    ben = data.table("benefits")
    if ben.empty:
        return None
    m = data.money
    partners = _order(list(dict.fromkeys(ben.partner)), list(data.labels.get("partners", {})))
    total = ben.groupby("partner")[["contributed", "avoided_costs", "remit_funded_by_others",
                                    "benefit"]].sum()
    names = [data.name("partners", p) for p in partners]

    def col(c: str) -> list[float | None]:
        return [float(total.loc[p, c]) for p in partners]

    chart = Chart(
        "pools_vs_benefits", "Pool contributions against benefits, by partner (whole horizon)",
        names, [
            Series("contributed to pools", col("contributed"), stack="paid in"),
            Series("costs avoided for it", col("avoided_costs"), stack="benefit"),
            Series("spend on its remit funded by others", col("remit_funded_by_others"),
                   stack="benefit"),
        ], y_title=f"money ({m})", mode="stack", note=BENEFIT_RULE)
    rows = [[data.name("partners", p), *(float(total.loc[p, c]) for c in (
        "contributed", "avoided_costs", "remit_funded_by_others", "benefit")),
        float(total.loc[p, "benefit"] - total.loc[p, "contributed"])] for p in partners]
    frame = pd.DataFrame(rows, columns=[
        "partner", f"contributed to pools ({m})", f"costs avoided for it ({m})",
        f"spend on its remit funded by others ({m})", f"benefit ({m})",
        f"benefit less contribution ({m})"])
    return Section("pooling", "Who pays and who benefits", (
        "What each partner puts into the pools against what lands in its remit without "
        "coming from its own budget."),
                   [chart, Table("benefits", "Contributions and benefits over the horizon",
                                 frame)])


@section("solve", order=60)
def staff(data: ReportData) -> Section | None:
    st = data.table("staff")
    if st.empty:
        return None
    years, cats = data.years, [data.year(y) for y in data.years]
    roles = _order(list(dict.fromkeys(st.role)), list(data.labels.get("roles", {})))
    by_role = _by_year(st, "role", "in_post", years)
    chart = Chart("staff_in_post", "Staff in post by role (all employers)", cats,
                  [Series(data.name("roles", r), by_role[r]) for r in roles], y_title="FTE")
    rows = [[data.name("partners", r.employer), data.name("roles", r.role), data.year(r.year),
             r.available, r.recruited, r.released, r.in_post, r.deployed, r.idle]
            for r in st.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=[
        "employer", "role", "year", "before changes (FTE)", "recruited (FTE)",
        "released (FTE)", "in post (FTE)", "deployed (FTE)", "idle (FTE)"])
    dep = data.table("deployment")
    blocks: list[Chart | Table] = [chart, Table("staff", "Staff decisions", frame)]
    if not dep.empty and dep.integrated.any():
        shared = dep[dep.integrated].groupby(["employer", "role", "intervention", "lead"])[
            "fte"].mean().reset_index()
        blocks.append(Table("integrated", "Integrated teams: staff serving another partner's "
                            "service (average FTE a year)", pd.DataFrame(
                                [[data.name("partners", r.employer), data.name("roles", r.role),
                                  data.name("interventions", r.intervention),
                                  data.name("partners", r.lead), r.fte]
                                 for r in shared.itertuples(index=False)],
                                columns=["employer", "role", "service", "led by", "FTE"])))
    return Section("staff", "Staff", "FTE in post and deployed by employer and role; "
                   "recruitment and release are the plan's decisions.", blocks)


@section("solve", order=70)
def estate(data: ReportData) -> Section | None:
    sites = data.table("sites")
    if sites.empty:
        return None
    years, cats = data.years, [data.year(y) for y in data.years]
    open_sites = sites[sites.open].assign(n=1.0)
    owners = _order(list(dict.fromkeys(sites.owner)), list(data.labels.get("partners", {})))
    by_owner = _by_year(open_sites, "owner", "n", years)
    chart = Chart("open_sites", "Open sites by owner", cats,
                  [Series(data.name("partners", o), by_owner.get(o, [0.0] * len(years)))
                   for o in owners], y_title="sites")
    rows = []
    for s_id, rs in sites.groupby("site", sort=False):
        first = rs.iloc[0]
        states = ["closes" if r.closed else ("open" if r.open else "closed")
                  for r in rs.itertuples(index=False)]
        open_rows = rs[rs.open]
        users = str(open_rows.iloc[-1].users) if len(open_rows) else ""
        rows.append([data.name("sites", s_id), data.name("partners", first.owner),
                     data.name("localities", first.locality) if first.locality else "",
                     *states,
                     ", ".join(data.name("partners", u) for u in users.split(";") if u),
                     float(rs.running_cost.sum()), float(rs.closure_cost.sum()),
                     float(rs.receipt.sum())])
    m = data.money
    frame = pd.DataFrame(rows, columns=["site", "owner", "locality", *cats,
                                        "users (last year open)",
                                        f"running costs paid ({m})", f"closure cost ({m})",
                                        f"receipt ({m})"])
    return Section("estate", "Buildings", "Which sites stay open, close or are shared.",
                   [chart, Table("sites", "Site decisions", frame)])


@section("solve", order=80)
def choices(data: ReportData) -> Section | None:
    ch = data.table("choices")
    if ch.empty:
        return None
    rows = []
    for i, rs in ch.groupby("intervention", sort=False):
        rows.append([data.name("interventions", i), *[
            ("starts" if r.starts else "runs") if r.runs else "does not run"
            for r in rs.itertuples(index=False)]])
    frame = pd.DataFrame(rows, columns=["service", *(data.year(y) for y in data.years)])
    return Section("choices", "Go/no-go decisions", "Services with a minimum viable scale or a "
                   "set-up cost, and whether the plan runs them.",
                   [Table("choices", "Go/no-go decisions", frame)])
