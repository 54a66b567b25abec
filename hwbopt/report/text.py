"""The terminal view of a solved plan: allocation, outcomes against targets, partners' money."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from hwbopt.results import Result
from hwbopt.schema import Instance, year_label


def _money(v: float) -> str:
    return f"{v:,.1f}"


def _num(v: float) -> str:
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.3g}"


def allocation_table(result: Result, inst: Instance) -> Table:
    unit = inst.money_label
    names = {i.id: i.label for i in inst.interventions}
    alloc = result.tables["allocation"]
    by_year = alloc.pivot_table(index="intervention", columns="year", values="money",
                                aggfunc="sum", fill_value=0.0)
    pooled = alloc[alloc.fund == "pooled"].groupby("intervention")["money"].sum()
    t = Table(title=f"Allocation ({unit})", title_justify="left")
    t.add_column("intervention")
    for y in result.years:
        t.add_column(year_label(y), justify="right")
    t.add_column("total", justify="right")
    t.add_column("via pools", justify="right")
    for i in inst.interventions:
        row = by_year.loc[i.id] if i.id in by_year.index else pd.Series(dtype=float)
        vals = [float(row.get(y, 0.0)) for y in result.years]
        t.add_row(names[i.id], *[_money(v) if v else "–" for v in vals],
                  _money(sum(vals)) if sum(vals) else "–",
                  _money(float(pooled.get(i.id, 0.0))) if i.id in pooled.index else "–")
    totals = [float(by_year[y].sum()) if y in by_year.columns else 0.0 for y in result.years]
    t.add_row("[bold]total[/bold]", *[_money(v) for v in totals], _money(sum(totals)),
              _money(float(pooled.sum())), end_section=True)
    return t


def outcome_table(result: Result, inst: Instance) -> Table:
    pri = {p.id: p for p in inst.priorities}
    t = Table(title="Outcomes against targets", title_justify="left")
    for col, just in (("priority", "left"), ("unit", "left"), ("year", "left"),
                      ("achieved", "right"), ("target", "right"), ("shortfall", "right"),
                      ("", "left")):
        t.add_column(col, justify=just)
    last = None
    for r in result.tables["outcomes"].itertuples(index=False):
        p = pri[r.priority]
        first = r.priority != last
        last = r.priority
        has_target = not pd.isna(r.target)
        if not has_target:
            state = ""
        elif r.met:
            state = "[green]met[/green]"
        else:
            state = "[red]missed[/red]" + (" (soft)" if not r.hard else "")
        t.add_row(p.label if first else "", p.unit if first else "", year_label(int(r.year)),
                  _num(r.achieved),
                  _num(r.target) if has_target else "–",
                  _num(r.shortfall) if has_target and r.shortfall > 0 else "–", state)
    return t


def budget_table(result: Result, inst: Instance) -> Table:
    unit = inst.money_label
    names = {p.id: p.label for p in inst.partners}
    t = Table(title=f"Partners' money ({unit})", title_justify="left")
    for col in ("partner", "year", "baseline", "available", "savings credited", "pooled",
                "retained", "spent", "unspent"):
        t.add_column(col, justify="left" if col in ("partner", "year") else "right")
    last = None
    for r in result.tables["budgets"].itertuples(index=False):
        first = r.partner != last
        last = r.partner
        t.add_row(names[r.partner] if first else "", year_label(int(r.year)), _money(r.baseline),
                  _money(r.available), _money(r.qipp_credit), _money(r.pooled),
                  _money(r.retained), _money(r.spent), _money(r.unspent))
    return t


def print_result(result: Result, inst: Instance, console: Console | None = None) -> None:
    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal:
            console.width = max(console.width, 132)
    checked = " (checked against the instance)" if result.checked else ""
    console.print(f"[bold]{inst.name}[/bold] — {result.status}{checked}")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    if result.objective is None:
        return  # the CLI prints the reason on stderr
    kind = "weighted outcome" if result.objective_kind == "outcome" else "total spend"
    spend = float(result.tables["allocation"]["money"].sum())
    console.print(
        f"objective ({kind}): {result.objective:,.2f}   total spend: {inst.money_label} "
        f"{spend:,.1f}   solved in {result.solve_seconds:.2f} s "
        f"({result.n_variables} variables, {result.n_constraints} constraints)\n")
    console.print(allocation_table(result, inst))
    console.print(outcome_table(result, inst))
    console.print(budget_table(result, inst))
