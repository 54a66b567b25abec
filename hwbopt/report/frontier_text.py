"""The terminal view of a Pareto frontier (``hwbopt frontier``): the points with both criteria
and their status, the instance's own plan beside them, and what changes from each point to the
next, in words.

Everything is read from the summary (the JSON of ``hwbopt frontier --json``), so the same words
serve the report (:mod:`hwbopt.report.frontier_sections`). The functions that make words return
plain text; :func:`print_frontier` escapes it for rich. Every table fits an 80-column terminal:
figures never wrap (the point table has four narrow columns), sentences wrap under their own
first word.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.coalitions_text import bullets, figure, missing, money_label
from hwbopt.report.fit import print_table
from hwbopt.report.text import print_headline, summary_console

SHOWN = 4  # changes listed per step in the terminal; --json, --out and the report hold them all
SHORT = {"outcome": "points", "equity": "% of target"}  # a criterion's unit in a header
NAMES = {"outcome": "weighted outcome", "cost": "cost", "equity": "equity (lowest share of a "
                                                                  "target met)"}


def between(summary: dict[str, Any]) -> tuple[str, str]:
    a, b = [*(summary.get("between") or []), "", ""][:2]
    return str(a), str(b)


def points(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return list(summary.get("points") or [])


def short_unit(summary: dict[str, Any], name: str) -> str:
    """A criterion's unit in a table's header: 'points', '£k', '% of target'."""
    if name == "cost":
        return money_label(summary)
    if name == "equity" and (summary.get("units") or {}).get("equity", "").startswith(
            "weighted outcome per head"):
        return "per head"
    return SHORT.get(name, "")


def _is_share(summary: dict[str, Any], name: str) -> bool:
    return name == "equity" and short_unit(summary, name) != "per head"


def value(summary: dict[str, Any], name: str, v: Any) -> str:
    """A criterion's value in a table: points and money to one decimal, a share as a % to
    two."""
    if missing(v):
        return "–"
    if _is_share(summary, name):
        return f"{100.0 * float(v):,.2f}%"
    return figure(v, 1 if name != "equity" else 4)


def said(summary: dict[str, Any], name: str, v: Any) -> str:
    """A criterion's value in a sentence: 'outcome 319,581.6 points', 'cost £k 227,609.6',
    'equity 93.54% of its target'."""
    if missing(v):
        return f"{name} –"
    if name == "cost":
        return f"cost {money_label(summary)} {figure(v, 1)}"
    if _is_share(summary, name):
        return f"equity {value(summary, name, v)} of its target"
    unit = (summary.get("units") or {}).get(name, "")
    return f"{name} {value(summary, name, v)} {unit}".rstrip()


def step(summary: dict[str, Any], name: str, before: Any, after: Any) -> str:
    """The change of a criterion from one point to the next: 'outcome −3,909.3 points',
    'cost −£k 2,871.7', 'equity +1.25 percentage points'."""
    if missing(before) or missing(after):
        return f"{name} –"
    d = float(after) - float(before)
    sign = "+" if d > 0 else "−" if d < 0 else "±"
    if name == "cost":
        return f"cost {sign}{money_label(summary)} {figure(abs(d), 1)}"
    if _is_share(summary, name):
        return f"equity {sign}{figure(100.0 * abs(d), 2)} percentage points"
    unit = short_unit(summary, name)
    return f"{name} {sign}{figure(abs(d), 1 if name != 'equity' else 4)} {unit}".rstrip()


def method(summary: dict[str, Any]) -> str:
    """How the points were found, in a sentence."""
    n = len(points(summary))
    what = f"{n} point{'s' if n != 1 else ''}"
    asked = summary.get("requested_points")
    if n == 0:
        return "No point of the frontier was found"
    if n == 1:
        return (f"{what}: one plan is best on both criteria, so there is nothing to trade")
    if summary.get("exact"):
        return (f"{what}, every breakpoint of the exact frontier (a linear model): between "
                "two neighbours every mixture of their plans is also on the frontier")
    if asked is None:  # a linear model whose search stopped
        return (f"{what} of a linear model's frontier, found before the search stopped: the "
                "frontier between them is not proven")
    of = f" of the {asked} asked for" if isinstance(asked, int) and asked != n else ""
    return (f"{what}{of} by ε-constraint (a mixed-integer model): each a proven optimum of "
            "one criterion with the other held, then the other optimised with the first held; "
            "the frontier between them is not a line")


def own_plan_line(summary: dict[str, Any]) -> str | None:
    """Where the instance's own plan (the optimum of its own objective) sits."""
    plan = summary.get("plan")
    if not plan:
        return None
    a, b = between(summary)
    at = matching_point(summary)
    where = f" (point {at})" if at else ""
    return (f"The instance's own plan (its objective: {plan.get('objective')}): "
            f"{said(summary, a, plan.get(a))}, {said(summary, b, plan.get(b))}{where}.")


def matching_point(summary: dict[str, Any]) -> int | None:
    """The number of the point that is the instance's own plan's values (None: none is)."""
    plan = summary.get("plan") or {}
    a, b = between(summary)
    if missing(plan.get(a)) or missing(plan.get(b)):
        return None
    for k, p in enumerate(points(summary), start=1):
        if all(not missing(p.get(n)) and math.isclose(float(p[n]), float(plan[n]),
                                                      rel_tol=1e-6, abs_tol=1e-6)
               for n in (a, b)):
            return k
    return None


def step_head(summary: dict[str, Any], k: int) -> str:
    """'1 → 2: outcome −3,909.3 points, cost −£k 2,871.7' for the step into point ``k``
    (numbered from 1)."""
    a, b = between(summary)
    ps = points(summary)
    p, q = ps[k - 2], ps[k - 1]
    rate = trade_rate(summary, p, q)
    return f"{k - 1} → {k}: {step(summary, a, p.get(a), q.get(a))}, " \
           f"{step(summary, b, p.get(b), q.get(b))}" + (f" ({rate})" if rate else "")


def _rate_unit(summary: dict[str, Any], name: str, many: bool) -> tuple[float, str]:
    """How a criterion's change is counted in a rate: (factor, unit), the unit in the plural
    with ``many``."""
    if name == "cost":
        return 1.0, money_label(summary)
    if _is_share(summary, name):
        return 100.0, f"percentage point{'s' if many else ''} of equity"
    if name == "outcome":
        return 1.0, f"point{'s' if many else ''} of outcome"
    return 1.0, f"of {name} ({short_unit(summary, name)})"


def trade_rate(summary: dict[str, Any], p: dict[str, Any], q: dict[str, Any]) -> str | None:
    """The rate of exchange between the criteria from ``p`` to ``q``: '2.27 points of
    outcome per £k', '£k 0.44 per point of outcome', '412.5 points of outcome per percentage
    point of equity'."""
    a, b = between(summary)
    raw: list[Any] = [p.get(a), q.get(a), p.get(b), q.get(b)]
    if any(missing(v) for v in raw):
        return None
    a0, a1, b0, b1 = (float(v) for v in raw)
    fa, ua = _rate_unit(summary, a, True)
    fb, ub = _rate_unit(summary, b, False)
    da, db = fa * (a1 - a0), fb * (b1 - b0)
    if abs(db) <= 1e-12 or abs(da) <= 1e-12:
        return None
    rate = figure(abs(da / db), 2)
    return f"{ua} {rate} per {ub}" if a == "cost" else f"{rate} {ua} per {ub}"


def point_table(summary: dict[str, Any]) -> Table:
    a, b = between(summary)
    t = Table(title="The frontier, point by point", title_justify="left")
    t.add_column("#", justify="right", no_wrap=True)
    for name in (a, b):
        unit = short_unit(summary, name)
        t.add_column(f"{name} ({unit})" if unit else name, justify="right", no_wrap=True)
    t.add_column("status", no_wrap=True)
    own = matching_point(summary)
    for k, p in enumerate(points(summary), start=1):
        status = str(p.get("status", ""))
        if status == "optimal" and not p.get("checked"):
            status = "optimal, unchecked"
        mark = " ◆" if k == own else ""
        t.add_row(f"{k}{mark}", value(summary, a, p.get(a)), value(summary, b, p.get(b)),
                  escape(status))
    if own:
        t.caption = "◆ the instance's own plan"
        t.caption_justify = "left"
    return t


def change_texts(changes: list[dict[str, Any]], shown: int = SHOWN) -> list[str]:
    """The first ``shown`` changes in words (go/no-go and sites first, then the largest changes
    in activity, then in spend), and how many more there are."""
    texts = [str(c.get("text", "")) for c in changes if c.get("text")]
    if len(texts) > shown:
        return [*texts[:shown], f"and {len(texts) - shown} more change"
                                f"{'s' if len(texts) - shown != 1 else ''}"]
    return texts


def header(summary: dict[str, Any]) -> list[str]:
    a, b = between(summary)
    name = str(summary.get("instance") or "")
    lines = [f"{name + ' — ' if name else ''}frontier between {a} and {b}: "
             f"{summary.get('status', '')}", method(summary)]
    own = own_plan_line(summary)
    if own:
        lines.append(own)
    return lines


def print_frontier(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print a frontier from its summary: the points, the instance's own plan among them, and
    what changes from each point to the next."""
    console = summary_console(console)
    print_headline(console, header(summary), summary)
    ps = points(summary)
    if not ps:
        return  # the CLI prints the reason on stderr
    console.print()
    print_table(console, point_table(summary))
    if len(ps) < 2:
        return
    console.print()
    console.print("[bold]What changes along the frontier[/bold]")
    for k in range(2, len(ps) + 1):
        console.print(f"[bold]{escape(step_head(summary, k))}[/bold]")
        texts = change_texts(ps[k - 1].get("changes") or [])
        console.print(bullets(texts) if texts else "[dim]  no decision changes beyond the "
                                                   "rounding of the figures[/dim]")
    across = summary.get("across") or []
    if len(ps) > 2 and across:
        console.print()
        console.print(f"[bold]From one end to the other (1 → {len(ps)})[/bold]")
        console.print(bullets(change_texts(across, 2 * SHOWN)))
