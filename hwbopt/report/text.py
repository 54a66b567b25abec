"""The terminal view of a solved plan: allocation, outcomes against targets, partners' money."""

from __future__ import annotations

import os
import re

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.fit import print_table
from hwbopt.results import Result
from hwbopt.results.result import min_attainment
from hwbopt.schema import Instance, year_label
from hwbopt.status import EARLY
from hwbopt.words import labels, objective_sentence


def summary_console(console: Console | None, pipe_width: int = 120) -> Console:
    """The console a result's text is printed on: the one given, or the terminal's. Written to
    a file or a pipe it is at least ``pipe_width`` columns wide (a reader of a file scrolls
    rather than reads wrapped tables), unless the ``COLUMNS`` environment variable asks for a
    width: rich reads that, and a user or a test who sets it gets exactly that width."""
    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal and not os.environ.get("COLUMNS", "").strip().isdigit():
            console.width = max(console.width, pipe_width)
    return console


def _short_measure(measure: str) -> str:
    """The measure without its parenthetical detail."""
    return re.sub(r"\s+", " ", re.sub(r"\s*\([^)]*\)", "", measure)).strip()


def unit_phrase(measure: str, unit: str) -> str | None:
    """The measure, when it names its unit, as a phrase to stand where the unit would beside
    a number: '48.6 under-18 conceptions averted' (a bare '48.6 conceptions' reads as harm);
    None when it does not name it."""
    short = _short_measure(measure)
    if short and unit and re.search(rf"\b{re.escape(unit)}\b", short):
        return short
    return None


def measure_words(measure: str, unit: str) -> str:
    """What a priority's outcome counts, its unit named: 'under-18 conceptions averted';
    'people (adults losing 5% of body weight)' where the measure does not name its unit. The
    measure's parenthetical detail is left out."""
    short = _short_measure(measure)
    phrase = unit_phrase(measure, unit)
    if phrase is not None or not unit:
        return phrase or short
    return f"{unit} ({short})" if short else unit


def print_headline(console: Console, lines: list[str], summary: dict[str, object]) -> None:
    """A result's header lines (the first bold) and its message, dim when all is well."""
    first, *rest = lines
    console.print(f"[bold]{escape(first)}[/bold]")
    for line in rest:
        console.print(escape(line))
    if summary.get("message"):
        colour = "dim" if summary.get("status") == "optimal" else "yellow"
        console.print(f"[{colour}]{escape(str(summary['message']))}[/{colour}]")


def _money(v: float) -> str:
    return f"{v:,.1f}"


def _num(v: float) -> str:
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.3g}"


def allocation_table(result: Result, inst: Instance) -> Table:
    unit = inst.money_label
    names = labels(inst).intervention
    alloc = result.tables["allocation"]
    by_year = alloc.pivot_table(index="intervention", columns="year", values="money",
                                aggfunc="sum", fill_value=0.0)
    pooled = alloc[alloc.fund == "pooled"].groupby("intervention")["money"].sum()
    t = Table(title=f"Allocation ({escape(unit)})", title_justify="left")
    t.add_column("intervention")
    for y in result.years:
        t.add_column(year_label(y), justify="right")
    t.add_column("total", justify="right")
    t.add_column("via pools", justify="right")
    for i in inst.interventions:
        row = by_year.loc[i.id] if i.id in by_year.index else pd.Series(dtype=float)
        vals = [float(row.get(y, 0.0)) for y in result.years]
        t.add_row(escape(names[i.id]), *[_money(v) if v else "–" for v in vals],
                  _money(sum(vals)) if sum(vals) else "–",
                  _money(float(pooled.get(i.id, 0.0))) if i.id in pooled.index else "–")
    totals = [float(by_year[y].sum()) if y in by_year.columns else 0.0 for y in result.years]
    t.add_row("[bold]total[/bold]", *[_money(v) for v in totals], _money(sum(totals)),
              _money(float(pooled.sum())), end_section=True)
    return t


def outcome_table(result: Result, inst: Instance) -> Table:
    """Each priority's outcome against its target, year by year: a heading row names the
    priority and what its outcome counts ('Teenage pregnancy: under-18 conceptions averted'),
    then a row a year, so the names take one narrow column however long the measure."""
    pri = {p.id: p for p in inst.priorities}
    t = Table(title="Outcomes against targets", title_justify="left")
    t.add_column("priority: measure, year")
    for col in ("achieved", "target", "shortfall"):
        t.add_column(col, justify="right")
    t.add_column("")
    last = None
    for r in result.tables["outcomes"].itertuples(index=False):
        p = pri[r.priority]
        if r.priority != last:
            t.add_row(f"[bold]{escape(p.label)}[/bold]: {escape(measure_words(p.measure, p.unit))}",
                      "", "", "", "")
        last = r.priority
        has_target = not pd.isna(r.target)
        if not has_target:
            state = ""
        elif r.met:
            state = "[green]met[/green]"
        else:
            state = "[red]missed[/red]" + (" (soft)" if not r.hard else "")
        t.add_row(f"  {year_label(int(r.year))}", _num(r.achieved),
                  _num(r.target) if has_target else "–",
                  _num(r.shortfall) if has_target and r.shortfall > 0 else "–", state)
    return t


def budget_table(result: Result, inst: Instance) -> Table:
    unit = inst.money_label
    names = labels(inst).partner
    t = Table(title=f"Partners' money ({escape(unit)})", title_justify="left")
    t.add_column("partner")
    budgets = result.tables["budgets"]
    resources = bool(len(result.tables["staff"]) or len(result.tables["sites"]))
    cols = ["partner", "year", "baseline", "available", "savings credited", "pooled",
            "retained"]
    if resources:
        cols += ["staff (net)", "estate (net)"]
    for col in (*cols[1:], "spent", "unspent"):
        t.add_column(col, justify="left" if col == "year" else "right")
    last = None
    for r in budgets.itertuples(index=False):
        first = r.partner != last
        last = r.partner
        extra = []
        if resources:
            extra = [_money(r.pay_bill + r.recruitment - r.staff_income),
                     _money(r.site_costs - r.receipts)]
        t.add_row(escape(names[r.partner]) if first else "", year_label(int(r.year)),
                  _money(r.baseline),
                  _money(r.available), _money(r.qipp_credit), _money(r.pooled),
                  _money(r.retained), *extra, _money(r.spent), _money(r.unspent))
    return t


def staff_table(result: Result, inst: Instance) -> Table:
    """FTE in post and deployed per employer and role, each year; integrated teams marked."""
    lab = labels(inst)
    names, roles = lab.partner, lab.role
    staff = result.tables["staff"]
    dep = result.tables["deployment"]
    t = Table(title="Staff (FTE in post / deployed; + recruited, − released)",
              title_justify="left")
    t.add_column("employer")
    t.add_column("role")
    for y in result.years:
        t.add_column(year_label(y), justify="right")
    t.add_column("serving other partners' services", justify="left")
    for (e, role), rows in staff.groupby(["employer", "role"], sort=False):
        cells = []
        for r in rows.itertuples(index=False):
            change = ""
            if r.recruited > 1e-9:
                change += f" +{r.recruited:,.3g}"
            if r.released > 1e-9:
                change += f" −{r.released:,.3g}"
            # the change on a line of its own: a cell is as wide as its widest line
            cells.append(f"{r.in_post:,.1f} / {r.deployed:,.1f}"
                         + (f"\n{change.strip()}" if change else ""))
        shared = dep[(dep.employer == e) & (dep.role == role) & dep.integrated.astype(bool)]
        away = shared.groupby("intervention")["fte"].mean()
        text = ", ".join(f"{lab.intervention.get(i, i)} ({v:,.1f})" for i, v in away.items())
        t.add_row(escape(names.get(e, e)), escape(roles.get(role, role)), *cells,
                  escape(text) or "–")
    return t


def site_table(result: Result, inst: Instance) -> Table:
    lab = labels(inst)
    sites = result.tables["sites"]
    t = Table(title=f"Sites (running cost {escape(inst.money_label)} a year)",
              title_justify="left")
    for col in ("site", "owner", "locality", "running cost"):
        t.add_column(col, justify="right" if col == "running cost" else "left")
    for y in result.years:
        t.add_column(year_label(y))
    t.add_column("users (last year open)")
    for s_id, rows in sites.groupby("site", sort=False):
        first = rows.iloc[0]
        states = ["closes" if r.closed else ("open" if r.open else "closed")
                  for r in rows.itertuples(index=False)]
        open_rows = rows[rows.open.astype(bool)]
        users = str(open_rows.iloc[-1].users) if len(open_rows) else ""
        # a site's users are partners (hwbopt.results.resources), named as everywhere else
        users = ", ".join(lab.partner.get(u, u) for u in users.split(";") if u)
        cost = next(x.running_cost for x in inst.sites if x.id == s_id)
        t.add_row(escape(lab.site[s_id]), escape(lab.partner.get(first.owner, first.owner)),
                  escape(lab.locality.get(first.locality, str(first.locality))),
                  _money(cost), *states, escape(users) or "–")
    return t


def choice_table(result: Result, inst: Instance) -> Table:
    names = labels(inst).intervention
    t = Table(title="Go/no-go decisions", title_justify="left")
    t.add_column("intervention")
    for y in result.years:
        t.add_column(year_label(y))
    for i, rows in result.tables["choices"].groupby("intervention", sort=False):
        t.add_row(escape(names[i]), *[("starts" if r.starts else "runs") if r.runs else "–"
                              for r in rows.itertuples(index=False)])
    return t


def _took(seconds: float) -> str:
    """The solve time as a reader needs it; the exact figure is ``solve_seconds`` in the JSON.
    Coarse on purpose: the same plan printed twice reads the same."""
    return "under a second" if seconds < 1 else f"{seconds:,.0f} s"


def print_result(result: Result, inst: Instance, console: Console | None = None) -> None:
    console = summary_console(console, pipe_width=160)
    checked = " (checked against the instance)" if result.checked else ""
    console.print(f"[bold]{escape(inst.name)}[/bold] — {result.status}{checked}")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    if result.objective is None:
        return  # the CLI prints the reason on stderr
    # the equity objective reports the weighted outcome of its lexicographic plan
    kind = "total spend" if result.objective_kind == "cost" else "weighted outcome"
    spend = float(result.tables["allocation"]["money"].sum())
    integer = f", {result.n_integer} integer" if result.n_integer else ""
    console.print(
        f"objective ({kind}): {result.objective:,.2f}   total spend: {escape(inst.money_label)} "
        f"{spend:,.1f}   solved in {_took(result.solve_seconds)} "
        f"({result.n_variables} variables{integer}, {result.n_constraints} constraints)")
    if result.n_integer and result.bound is not None:
        console.print(f"bound {result.bound:,.2f}, gap {result.mip_gap:.4%} "
                      f"(optimal within {result.gap_tolerance:g})")
    if result.objective_kind == "equity":
        console.print(lowest_attainment(result, inst))
    # what a point is, for a reader who was not in the room when the weights were agreed
    sentence = objective_sentence(
        inst.priorities, result.objective_kind, money_label=inst.money_label,
        discount_rate=inst.settings.discount_rate, equity_over=inst.settings.equity_over)
    console.print(f"[dim]{escape(sentence)}[/dim]")
    if result.status in EARLY:
        console.print(f"[yellow]{escape(result.message)}[/yellow]")
    console.print()
    print_table(console, allocation_table(result, inst))
    # a priority's heading is a sentence: it may wrap further before the table is split
    print_table(console, outcome_table(result, inst), label_lines=None)
    print_table(console, budget_table(result, inst))
    if len(result.tables["staff"]):
        print_table(console, staff_table(result, inst))
    if len(result.tables["sites"]):
        print_table(console, site_table(result, inst), label_lines=4)  # three name columns
    if len(result.tables["choices"]):
        print_table(console, choice_table(result, inst))


def lowest_attainment(result: Result, inst: Instance) -> str:
    """One line: the lowest share of a target met, and where (models/equity.md); with
    ``equity_over: localities`` also the worst locality's outcome per head of need."""
    lab = labels(inst)
    low = min_attainment(result.tables["outcomes"])
    if low is None:
        line = "lowest attainment: no target above zero"
    else:
        out = result.tables["outcomes"]
        rows = out[out["target"].notna() & (out["target"] > 0)]
        worst = rows.iloc[int((rows["achieved"] / rows["target"]).to_numpy().argmin())]
        line = (f"lowest attainment: {low:.2%} of a target "
                f"({escape(lab.priority[worst.priority])}, {year_label(int(worst.year))})")
    if inst.settings.equity_over == "localities":
        from hwbopt.analyses.criteria import locality_outcomes

        per_head = locality_outcomes(inst, result.tables["activity"])
        if per_head:
            loc = min(per_head, key=lambda k: per_head[k])
            line += (f"; worst locality: {escape(lab.locality.get(loc, loc))}, "
                     f"{per_head[loc]:,.6g} points of weighted outcome per head of need")
    return line
