"""The terminal view of a comparison: options side by side, who pays and who benefits."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from hwbopt.analyses.compare import Comparison, Run, partner_measures
from hwbopt.report.fit import print_table
from hwbopt.report.text import measure_words, summary_console


def _num(v: float | None, digits: str = ",.1f") -> str:
    return "–" if v is None else format(v, digits)


def _status(run: Run) -> str:
    s = run.result.status
    colour = {"optimal": "green", "time_limit": "yellow", "stopped": "yellow"}.get(s, "red")
    if run.option == "status_quo":
        ok = run.evaluation and not run.evaluation["rules_broken"]
        return "[green]within the rules[/green]" if ok else "[red]breaks the rules[/red]"
    return f"[{colour}]{s}[/{colour}]"


def options_table(comp: Comparison, scenario: str) -> Table:
    inst = comp.instance
    runs = [r for r in comp.runs if r.scenario == scenario]
    kind = "weighted outcome" if runs and runs[0].result.objective_kind == "outcome" else "cost"
    t = Table(title=f"Options — scenario {scenario}", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("option", "left"), ("status", "left"), (kind, "right"), ("vs pooled", "right"),
        (f"spend ({inst.money_label})", "right"), ("targets met", "right"))
    for col, just in columns:
        t.add_column(col, justify=just)
    pooled = comp.run("pooled", scenario)
    for r in runs:
        s = r.result.summary()
        objective = s["objective"]
        if objective is None and r.evaluation:
            objective = r.evaluation["objective"]  # status quo: evaluated though not within rules
        change = None
        if objective is not None and pooled is not None and pooled.solved:
            change = objective - pooled.result.objective
        met = f"{s['targets_met']}/{s['targets_total']}" if s["targets_total"] else "–"
        t.add_row(escape(r.label), _status(r), _num(objective, ",.2f"),
                  _num(change, "+,.2f") if r.option != "pooled" else "", _num(s["total_spend"]),
                  met)
    return t


def priority_table(comp: Comparison, scenario: str) -> Table:
    inst = comp.instance
    runs = [r for r in comp.runs if r.scenario == scenario and r.result.objective is not None]
    t = Table(title="Outcome by priority, total over the horizon", title_justify="left")
    # what each outcome counts ('under-18 conceptions averted'), not a bare unit that may
    # read as harm
    t.add_column("priority: measure")
    for r in runs:
        # the option's name, without the explanation in brackets the options table gives
        t.add_column(escape(r.label.split(" (")[0]), justify="right")
    totals = [r.result.summary()["outcome_by_priority"] for r in runs]  # a summary is costly
    for p in inst.priorities:
        vals = [by.get(p.id) for by in totals]
        what = measure_words(p.measure, p.unit)
        t.add_row(f"{escape(p.label)}: {escape(what)}", *[_num(v) for v in vals])
    return t


def partner_table(comp: Comparison, scenario: str) -> Table | None:
    """Pooled against siloed, per partner: who pays in, and what lands in its remit."""
    pooled, siloed = comp.run("pooled", scenario), comp.run("siloed", scenario)
    if pooled is None or not pooled.solved:
        return None
    inst = comp.instance
    unit = escape(inst.money_label)
    a = partner_measures(pooled)
    b = partner_measures(siloed) if siloed is not None and siloed.solved else {}
    t = Table(title=f"Who pays and who benefits ({unit}; outcome value in objective points)",
              title_justify="left")
    cols = ["partner", "into pools", "retained", "outcome value (remit)", "avoided costs "
            "landing"]
    if b:
        cols += ["outcome value siloed", "avoided costs siloed"]
    for col in cols:
        t.add_column(col, justify="left" if col == "partner" else "right")
    for p in inst.partners:
        m = a[p.id]
        row = [escape(p.label), _num(m["contributed"]), _num(m["retained"]),
               _num(m["outcome_value"]), _num(m["avoided_costs"])]
        if b:
            row += [_num(b[p.id]["outcome_value"]), _num(b[p.id]["avoided_costs"])]
        t.add_row(*row)
    return t


def policy_table(comp: Comparison, scenario: str) -> Table | None:
    runs = [r for r in comp.runs if r.scenario == scenario and r.policies]
    if not runs:
        return None
    t = Table(title="Price of each policy (objective lost against the option without it)",
              title_justify="left")
    for col in ("option", "policy", "price"):
        t.add_column(col, justify="right" if col == "price" else "left")
    for r in runs:
        for k, p in enumerate(r.policies):
            t.add_row(escape(r.label) if k == 0 else "", escape(p.text),
                      _num(p.price, ",.2f") if p.price is not None
                      else f"– (without it: {p.status})")
    return t


def curve_table(comp: Comparison, scenario: str) -> Table | None:
    curve = comp.pooling_curve(scenario)
    if len(curve) < 2:
        return None
    t = Table(title="Value of pooling as a curve: every contributor's pool share fixed",
              title_justify="left")
    for col in ("pool share", "status", "objective"):
        t.add_column(col, justify="left" if col == "status" else "right")
    for point in curve:
        t.add_row(f"{point['share']:.0%}", point["status"], _num(point["objective"], ",.2f"))
    return t


def print_comparison(comp: Comparison, console: Console | None = None) -> None:
    console = summary_console(console, pipe_width=160)
    inst = comp.instance
    console.print(f"[bold]{escape(inst.name)}[/bold] — {len(comp.runs)} runs in "
                  f"{comp.seconds:.1f} s ({comp.models_built} models built, "
                  f"{comp.solver_reuses} warm re-solves)")
    for s in comp.scenarios:
        console.print()
        print_table(console, options_table(comp, s))
        print_table(console, priority_table(comp, s), label_lines=None)
        for table in (partner_table(comp, s), policy_table(comp, s), curve_table(comp, s)):
            if table is not None:
                print_table(console, table)
        value = comp.value_of_pooling(s)
        if value is not None:
            console.print(f"[bold]value of pooling[/bold] (pooled minus siloed objective): "
                          f"{value:,.2f}")
        for r in comp.runs:
            if r.scenario == s and r.result.message:
                console.print(f"[yellow]{escape(r.label)}:[/yellow] {escape(r.result.message)}")
