"""The terminal view of a stress batch's summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.fit import print_table
from hwbopt.report.text import summary_console
from hwbopt.schema import Instance, year_label


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def print_stress(summary: dict[str, Any], inst: Instance, console: Console | None = None) -> None:
    console = summary_console(console, pipe_width=140)
    names = {p.id: p.label for p in inst.priorities}
    labels = {i.id: i.label for i in inst.interventions}
    console.print(
        f"[bold]{escape(inst.name)}[/bold] — stress set {summary['stress_set']}, "
        f"seed {summary['seed']}: "
        f"{summary['finished']:,} of {summary['scenarios']:,} scenarios "
        f"({summary['solved']:,} solved, {summary.get('plan_infeasible', 0):,} of them with the "
        f"plan's decisions changed, {summary['infeasible']:,} infeasible, "
        f"{summary['failed']:,} failed); {summary['solved_this_run']:,} in this run, "
        f"{summary['seconds']:.1f} s, {summary['scenarios_per_second'] or 0:,.0f} a second")
    pct = summary["objective_percentiles"]
    if pct:
        base = summary.get("base_objective")
        console.print(f"objective: p5 {pct['p5']:,.2f}   median {pct['p50']:,.2f}   "
                      f"p95 {pct['p95']:,.2f}" + (f"   (the plan: {base:,.2f})" if base else ""))
    t = Table(title="Probability of meeting every year's target", title_justify="left")
    t.add_column("priority")
    t.add_column("all years", justify="right")
    years = sorted({y for by in summary["target_probability_by_year"].values() for y in by})
    for y in years:  # JSON keys: the year as text
        t.add_column(year_label(int(y)) if str(y).isdigit() else str(y), justify="right")
    for k, p in summary["target_probability"].items():
        by = summary["target_probability_by_year"].get(k, {})
        t.add_row(escape(names.get(k, k)), _pct(p), *[_pct(by.get(y)) for y in years])
    print_table(console, t)
    if summary["binding"]:
        b = Table(title="Rules that bind most often (share of solved scenarios)",
                  title_justify="left")
        b.add_column("rule")
        b.add_column("binds", justify="right")
        for row in summary["binding"][:12]:
            b.add_row(escape(row.get("text") or row["rule"]), _pct(row["share"]))
        # a rule is a sentence with its amounts: it wraps as far as it needs, never cut short
        print_table(console, b, label_lines=None)
        console.print("  amounts in brackets are the base instance's; each scenario has its own")
    if summary["cut_first"]:
        c = Table(title="What is cut first as cuts deepen (activity against the plan)",
                  title_justify="left")
        for col in ("intervention", "below 90% from money lost", "mildest cuts",
                    "deepest cuts"):
            c.add_column(col, justify="left" if col == "intervention" else "right")
        for row in summary["cut_first"][:12]:
            c.add_row(escape(labels.get(row["intervention"], row["intervention"])),
                      f"{row['cut_depth']:.1%}" if row["cut_depth"] is not None else "never",
                      _pct(row["activity_at_mildest"]), _pct(row["activity_at_deepest"]))
        print_table(console, c)
    curves = summary["cut_response"]
    if curves:
        first = next(iter(curves.values()))
        # "cut depth" is the money all partners lose together (their available money against
        # the base instance's), not any one input as drawn: the report charts each drawn input
        r = Table(title="Cut response: probability of meeting every year's target, by the "
                        "share of all partners' money lost", title_justify="left")
        r.add_column("priority")
        for point in first:
            r.add_column(f"{point['cut_depth']:.1%}", justify="right")
        for k, curve in curves.items():
            r.add_row(escape(names.get(k, k)), *[_pct(p["probability_met"]) for p in curve])
        print_table(console, r)
    _exact_curve_line(summary, console)
    if summary["cold_mismatches"]:
        console.print(f"[yellow]warning:[/yellow] {summary['cold_mismatches']} warm solves "
                      "disagreed with a cold re-solve; the cold results are reported")


def _exact_curve_line(summary: dict[str, Any], console: Console) -> None:
    """Where the exact curve along the dominant input is, or why a run with one has none
    (a run with no dominant input says nothing: the JSON's exact_curve_reason has it)."""
    entry = summary.get("exact_curve")
    if isinstance(entry, dict):
        inside = max(len(entry.get("breakpoints") or []) - 2, 0)
        how = "exact" if entry.get("exact") else "not proven exact"
        took = "computed before" if entry.get("reused") else f"{entry.get('seconds', 0):.1f} s"
        folder = Path(str(summary.get("out"))) / str(entry.get("file")).split("/")[0]
        console.print(
            f"exact curve along {escape(str(entry.get('input')))} from {entry.get('from'):g} "
            f"to {entry.get('to'):g} ({inside:,} breakpoint{'s' if inside != 1 else ''} inside, "
            f"{how}, {took}): {escape(str(folder))}; the report draws it over the scenarios")
    elif summary.get("dominant_input") and summary.get("exact_curve_reason"):
        console.print(f"no exact curve: {escape(str(summary['exact_curve_reason']))}")
