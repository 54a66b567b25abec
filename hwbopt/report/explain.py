"""The terminal view of an explanation: marginal values, binding rules, unfunded interventions
and how far each weight may move, or why no plan exists."""

from __future__ import annotations

import textwrap

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hwbopt.analyses.explain import Binding, Explanation
from hwbopt.analyses.weights import not_ranged
from hwbopt.report.fit import print_table
from hwbopt.report.text import summary_console
from hwbopt.words import num, percent

BINDING_SHOWN = 40  # without --all, the binding rules with the largest marginal values


def _end(value: float | None, unit: str, money_label: str) -> str:
    if value is None:
        return "no limit"
    return f"{money_label} {num(value)}" if unit == money_label else f"{num(value)} {unit}"


def marginal_table(ex: Explanation) -> Table:
    t = Table(title=f"Marginal values ({escape(ex.objective_unit)} per unit of the limit)",
              title_justify="left")
    t.add_column("what one more unit is worth")
    t.add_column("value", justify="right")
    t.add_column("holds from", justify="right")
    t.add_column("to", justify="right")
    for m in ex.marginal_values:
        value = num(m.value, 4) if m.holds_for_increase else f"≤ {num(m.value, 4)}" \
            if ex.objective_kind == "outcome" else f"≥ {num(m.value, 4)}"
        t.add_row(escape(m.what), value,
                  escape(_end(m.valid_from, m.unit, ex.money_label)),
                  escape(_end(m.valid_to, m.unit, ex.money_label)))
    return t


def _holds(b: Binding) -> bool:
    """The marginal value holds for some move of the limit (not only at this point)."""
    return (b.change_from is None or b.change_from < 0) or (b.change_to is None
                                                            or b.change_to > 0)


def binding_table(ex: Explanation, show_all: bool) -> Table:
    rows = sorted(ex.binding, key=lambda b: -abs(b.marginal_value) if _holds(b) else 0.0)
    shown = rows if show_all else rows[:BINDING_SHOWN]
    more = len(rows) - len(shown)
    title = f"Rules at their limit ({len(rows)}"
    title += f"; the {len(shown)} with the largest marginal values, --all for every one)" \
        if more else ")"
    t = Table(title=title, title_justify="left")
    t.add_column("rule")
    t.add_column("marginal value", justify="right")
    for b in shown:
        t.add_row(escape(b.text), num(b.marginal_value, 4) if _holds(b) else "–")
    return t


def unfunded_table(ex: Explanation) -> Table:
    t = Table(title="Interventions left unfunded, and what would bring each into the plan",
              title_justify="left")
    t.add_column("intervention")
    t.add_column("unit cost needed", justify="right")
    t.add_column("or more effective by", justify="right")
    t.add_column("found by")
    for u in ex.unfunded:
        r = u.required_improvement
        cost = (f"{escape(ex.money_label)} {num(r.unit_cost_needed, 4)} "
                f"({percent(r.cheaper_by_percent / 100)} cheaper)"
                if r.unit_cost_needed is not None and r.cheaper_by_percent is not None
                else "no price alone")
        effect = (percent(r.more_effective_by_percent / 100)
                  if r.more_effective_by_percent is not None else "no rise alone")
        t.add_row(escape(u.name), cost, effect,
                  r.method.replace("_", " "))
    return t


WEIGHTS_TITLE = "How far each weight may move"


def weight_lines(ex: Explanation) -> list[str]:
    """One sentence per priority: the weights over which the plan stands. Under the ``cost``
    objective weights do not enter it, which is said instead."""
    if ex.objective_kind != "outcome":
        return [not_ranged(ex.objective_kind)]
    lines = [w.text for w in ex.weight_ranges]
    if lines and ex.integers_fixed:
        lines.append("(With every go/no-go, site and whole-post decision held as planned.)")
    return lines


def print_weights(ex: Explanation, console: Console) -> None:
    lines = weight_lines(ex)
    if not lines:
        return
    console.print(Text(WEIGHTS_TITLE, style="italic"))
    for line in lines:
        # wrapped here, with a hanging indent and no padding to the console's width; plain
        # Text, so a priority's name is printed as written, never read as markup
        text = textwrap.fill(line, width=max(console.width, 40), initial_indent=" ",
                             subsequent_indent=" ")
        console.print(Text(text), soft_wrap=True)


def infeasibility_tables(ex: Explanation) -> list[Table]:
    inf = ex.infeasibility
    if inf is None:
        return []
    out = []
    if inf.relaxations:
        t = Table(title="The smallest relaxation that makes a plan possible"
                  + ("" if inf.minimal else " (best found, not proven smallest)"),
                  title_justify="left")
        t.add_column("rule that must give")
        t.add_column("by", justify="right")
        t.add_column("share of the rule", justify="right")
        for r in inf.relaxations:
            t.add_row(escape(r.text), escape(_end(r.amount, r.unit, ex.money_label)),
                      percent(r.share))
        out.append(t)
    if inf.conflict:
        t = Table(title="Hard rules that cannot all hold"
                  + (" (irreducible: drop any one and the rest can)" if inf.irreducible
                     else " (not proven irreducible within the time allowed)"),
                  title_justify="left")
        t.add_column("rule")
        t.add_column("kind")
        for m in inf.conflict:
            t.add_row(escape(m.text), m.kind)
        out.append(t)
    return out


def print_explanation(ex: Explanation, show_all: bool = False,
                      console: Console | None = None) -> None:
    console = summary_console(console, pipe_width=160)
    console.print(f"[bold]{escape(ex.instance_name)}[/bold] — {ex.status}")
    for w in ex.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    if ex.infeasibility is not None:
        console.print(escape(ex.infeasibility.text))
        for t in infeasibility_tables(ex):
            print_table(console, t, label_lines=None)
        return
    if ex.objective is None:
        return  # the CLI prints the reason on stderr
    kind = "weighted outcome" if ex.objective_kind == "outcome" else "total cost"
    console.print(f"objective ({kind}): {ex.objective:,.2f}")
    if ex.integers_fixed:
        console.print(f"note: {escape(ex.integers_note)}")
    console.print()
    # the rules and limits are sentences with their amounts: they wrap, never cut short
    if ex.marginal_values:
        print_table(console, marginal_table(ex), label_lines=None)
    else:
        console.print("No rule a board sets has a marginal value: none of them holds the "
                      "plan back.")
    print_table(console, binding_table(ex, show_all), label_lines=None)
    if ex.unfunded:
        print_table(console, unfunded_table(ex))
        for u in ex.unfunded:
            console.print(f"  {escape(u.required_improvement.text)}")
    print_weights(ex, console)
