"""The terminal view of a cut-response curve (``hwbopt curve``): the breakpoints with the
objective, each piece's slope, value of money and binding rules, where each target stops being
met, the interventions that fall out of the plan, and where freeing the integer decisions does
better.

Everything is read from the summary (the JSON of ``hwbopt curve --json``), so the same words
serve the report (:mod:`hwbopt.report.curve_sections`). The functions that make words return
plain text; :func:`print_curve` escapes it for rich. Tables are fitted to the terminal's width
(:func:`hwbopt.report.fit.print_table`): a figure is never cut.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.fit import print_table
from hwbopt.report.text import print_headline, summary_console

SHOWN_RULES = 3  # binding rules named per piece in the terminal; --json and the report hold all


def value(v: Any) -> str:
    """An input value or a rate, to six significant figures."""
    if v is None:
        return "–"
    x = float(v) + 0.0  # no "-0"
    if x == 0:
        return "0"
    return f"{x:,.6g}" if abs(x) >= 1e-4 else f"{x:.3e}"


def amount(v: Any) -> str:
    """An objective or a sum of money."""
    if v is None:
        return "–"
    x = float(v)
    if abs(x) < 5e-13 * max(1.0, abs(x)):
        return "0"
    return f"{x:,.1f}" if abs(x) >= 100 else f"{x:,.4g}"


def money_label(summary: dict[str, Any]) -> str:
    labels = summary.get("labels") or {}
    return str(labels.get("money") or summary.get("money_unit") or "money")


def name_of(summary: dict[str, Any], kind: str, ident: Any) -> str:
    entry = (summary.get("labels") or {}).get(kind, {}).get(str(ident))
    if isinstance(entry, dict):
        return str(entry.get("name") or ident)
    return str(entry) if entry else str(ident)


def method(summary: dict[str, Any]) -> str:
    """How the curve was found, in a sentence."""
    pieces = len(summary.get("pieces") or [])
    how = ("exact: each piece is one optimal basis, its ends certified"
           if summary.get("exact") else "not proven exact (see the warnings)")
    shape = "straight between breakpoints" if summary.get("affine") else (
        "curved between breakpoints (the input compounds, e.g. a savings rate)")
    return (f"{pieces} piece{'s' if pieces != 1 else ''}, {how}; the objective is {shape}; "
            f"{work(summary)}")


def work(summary: dict[str, Any]) -> str:
    """What tracing took: HiGHS solves, and the curve's own pivots on the basis."""
    solves = int(summary.get("solves") or 0)
    pivots = int(summary.get("pivots") or 0)
    text = f"{solves} HiGHS solve{'s' if solves != 1 else ''}"
    if pivots:
        text += f" and {pivots:,} pivot{'s' if pivots != 1 else ''} on the basis"
    return text


def header(summary: dict[str, Any]) -> list[str]:
    lines = [f"Curve of {summary.get('input')} from {value(summary.get('from'))} to "
             f"{value(summary.get('to'))}: {summary.get('status')}"]
    if summary.get("pieces"):  # where the curve ends early, the message says so
        lines.append(f"objective: {summary.get('objective_kind')}; {method(summary)}")
    return lines


def target_text(summary: dict[str, Any], t: dict[str, Any]) -> str:
    """Where one target stops being met, in words."""
    if not t.get("met_at_from"):
        return f"not met at {value(summary.get('from'))}"
    if t.get("met_throughout"):
        end = summary.get("feasible_to")
        return "met over the whole range" if end is None else \
            f"met as far as the curve goes ({value(end)})"
    return f"met up to {value(t.get('last_met'))}"


def integer_text(c: dict[str, Any]) -> str:
    changed = list(c.get("changed") or [])
    what = "; ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3
                                      else "")
    return (f"at {value(c.get('value'))}: {amount(c.get('objective'))} with them free against "
            f"{amount(c.get('curve_objective'))} on the curve" + (f" ({what})" if what else ""))


def breakpoint_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Breakpoints and pieces", title_justify="left")
    money = money_label(summary)
    for col, justify in (("from", "right"), ("to", "right"), ("objective at from", "right"),
                         ("slope", "right"), (f"per {money} of money", "right"),
                         ("rules that bind", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for p in summary.get("pieces") or []:
        rules = list(p.get("binding_text") or [])
        more = f" (+{len(rules) - SHOWN_RULES})" if len(rules) > SHOWN_RULES else ""
        table.add_row(value(p.get("from")), value(p.get("to")), amount(p.get("objective_from")),
                      amount(p.get("slope")), value(p.get("money_value")),
                      escape("; ".join(rules[:SHOWN_RULES]) + more))
    return table


def target_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Targets", title_justify="left")
    for col in ("priority", "year", "target", "along the range"):
        table.add_column(col, justify="right" if col in ("year", "target") else "left")
    for t in summary.get("targets") or []:
        table.add_row(escape(name_of(summary, "priorities", t.get("priority"))),
                      str(t.get("year")), amount(t.get("target")),
                      escape(target_text(summary, t)))
    return table


def print_curve(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print a curve from its summary."""
    console = summary_console(console)
    print_headline(console, header(summary), summary)
    if not summary.get("pieces"):
        return  # the CLI prints the reason on stderr
    console.print()
    print_table(console, breakpoint_table(summary))
    end = (summary.get("breakpoints") or [{}])[-1]
    console.print(f"objective at {value(end.get('value'))}: {amount(end.get('objective'))}")
    if summary.get("targets"):
        console.print()
        print_table(console, target_table(summary))
    console.print()
    drops = summary.get("dropouts") or []
    if drops:
        console.print("[bold]Interventions that fall out of the plan[/bold]")
        for d in drops:
            console.print(f"  {escape(name_of(summary, 'interventions', d['intervention']))}"
                          f" at {value(d['at'])}")
    else:
        console.print("No intervention falls out of the plan over the range.")
    checks = summary.get("integer_changes") or []
    n = summary.get("integer_points_checked") or 0
    if checks:
        console.print()
        console.print(f"[bold]Where freeing the yes/no and whole-number decisions does better"
                      f"[/bold] ({len(checks)} of {n} points checked)")
        for c in checks:
            console.print(f"  {escape(integer_text(c))}")
    elif n:
        console.print(f"[dim]The mixed-integer model re-solved with those decisions free at "
                      f"{n} points does no better than the curve.[/dim]")
