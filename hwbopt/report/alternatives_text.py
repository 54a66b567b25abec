"""The terminal view of room for manoeuvre (``hwbopt alternatives``): the optimum, the slack,
each quantity's range among the plans within the slack, and the alternative plans side by side.

Everything is read from the summary (the JSON of ``hwbopt alternatives --json``), so the same
words serve the report (:mod:`hwbopt.report.alternatives_sections`). The functions that make
words return plain text; :func:`print_alternatives` escapes it for rich. Every table fits an
80-column terminal: names wrap in their own column, figures never do (alternatives too many
for one table go in several, each with the optimum's column).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.coalitions_text import (
    figure,
    instance_name,
    is_cost,
    missing,
    money_label,
    number,
)
from hwbopt.report.fit import print_table
from hwbopt.report.text import print_headline, summary_console, unit_phrase
from hwbopt.words import num, percent, sentence_case

SIGNIFICANT = 6
SHOWN_CHANGES = 12  # quantities in the side-by-side table of alternatives
POINTS = "points of weighted outcome"

# kind: (title, whether each row carries its own unit)
KIND_TITLES: dict[str, tuple[str, bool]] = {
    "partners": ("Each partner's spend by year", False),
    "interventions": ("Each intervention's activity over the horizon", True),
    "priorities": ("Each priority's outcome by year", True),
    "sites": ("The years each site is open", False),
    "pools": ("The money paid into each pool by year", False),
}


# ---------------------------------------------------------------------------------------------
# figures and words
# ---------------------------------------------------------------------------------------------


def objective_unit(summary: dict[str, Any]) -> str:
    return money_label(summary) if is_cost(summary) else POINTS


def objective_words(summary: dict[str, Any], v: Any) -> str:
    """'319,581.6 points of weighted outcome' or '£k 61,234.5'."""
    if missing(v):
        return "–"
    text = num(float(v), 7)
    return f"{money_label(summary)} {text}" if is_cost(summary) else f"{text} {POINTS}"


def digits(values: Sequence[Any]) -> int:
    """Decimals that show a set of figures as a board reads them: none for large or whole
    numbers, one for tens and hundreds, two below."""
    found = [abs(float(v)) for v in values if not missing(v)]
    if not found or all(abs(v - round(v)) < 1e-9 for v in found):
        return 0
    top = max(found)
    return 0 if top >= 10_000 else 1 if top >= 10 else 2


def slack_words(summary: dict[str, Any]) -> str:
    """'within 5% of the optimum (at least 303,602.5 points of weighted outcome)'."""
    s = number(summary.get("slack")) or 0.0
    floor = summary.get("objective_floor")
    if missing(floor):
        return f"within {percent(s)} of the optimum"
    side = "at most" if is_cost(summary) else "at least"
    return (f"within {percent(s)} of the optimum ({side} "
            f"{objective_words(summary, floor)})")


def ranges_of(summary: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in summary.get("ranges") or [] if r.get("kind") == kind]


def kinds(summary: dict[str, Any]) -> list[str]:
    """The kinds of quantity ranged, in the order asked."""
    asked = [str(k) for k in summary.get("of") or []]
    seen = list(dict.fromkeys(str(r.get("kind")) for r in summary.get("ranges") or []))
    return [k for k in asked if k in seen] + [k for k in seen if k not in asked]


def kind_title(summary: dict[str, Any], kind: str) -> str:
    title, per_row = KIND_TITLES.get(kind, (kind, True))
    rows = ranges_of(summary, kind)
    unit = str(rows[0].get("unit") or "") if rows else ""
    return title if per_row or not unit else f"{title} ({unit})"


def quantity_label(r: dict[str, Any], per_row: bool, short: bool = False) -> str:
    """The quantity's words (``short``: its name alone, under a heading that names the kind),
    with its unit where units differ between rows."""
    text = str(r.get("name") or "") if short else ""
    text = sentence_case(text or str(r.get("text") or r.get("quantity") or ""))
    unit = str(r.get("unit") or "")
    return f"{text} ({unit})" if per_row and unit else text


def with_measure(summary: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """A row of a priority's outcome with its unit in the measure's words ('under-18
    conceptions averted', not a bare 'conceptions' that reads as harm); any other row as it
    is. The priority is the first index of the quantity: ``outcome[teen_pregnancy,2013]``."""
    hit = re.fullmatch(r"outcome\[([^,\]]+)(,.*)?\]", str(r.get("quantity") or ""))
    labels = ((summary.get("labels") or {}).get("priorities") or {})
    entry = labels.get(hit.group(1)) if hit else None
    if not isinstance(entry, dict) or not entry.get("measure"):
        return r
    # only a measure that names its unit stands in for it ('points (health gained)' would
    # nest brackets in a label and read oddly after a number)
    phrase = unit_phrase(str(entry["measure"]), str(entry.get("unit") or ""))
    return r if phrase is None else {**r, "unit": phrase}


def fixed(r: dict[str, Any]) -> bool:
    """Whether the quantity cannot move at all within the slack."""
    low, high = number(r.get("low")), number(r.get("high"))
    if low is None or high is None:
        return False
    return high - low <= 1e-6 * max(1.0, abs(low), abs(high))


def change_sentence(change: dict[str, Any]) -> str:
    """'Activity of Befriending, 2013/14 to 2014/15: 1,600 sessions, against 0 in the
    optimum'."""
    unit = str(change.get("unit") or "")
    value, plan = number(change.get("value")), number(change.get("plan"))

    def amount(v: float | None) -> str:
        text = "–" if v is None else num(v, SIGNIFICANT)
        if not unit:
            return text
        return f"{unit} {text}" if _is_money(unit) else f"{text} {unit}"

    return (f"{sentence_case(str(change.get('text') or change.get('quantity')))}: "
            f"{amount(value)}, against {amount(plan)} in the optimum")


def _is_money(unit: str) -> bool:
    return unit[:1] in "£€$" or unit.endswith(" k") or unit.endswith(" m")


def header(summary: dict[str, Any]) -> list[str]:
    """The run in lines of plain text: what was analysed and the optimum it is measured from."""
    name = instance_name(summary)
    lines = [f"{name + ' — ' if name else ''}room for manoeuvre {slack_words(summary)}: "
             f"{summary.get('status', '')}"]
    if not missing(summary.get("objective")):
        kind = " (least cost)" if is_cost(summary) else ""
        lines.append(f"optimum: {objective_words(summary, summary.get('objective'))}{kind}; "
                     f"the ranges are over {summary.get('explores') or 'every plan'}")
    return lines


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------


def ranges_table(summary: dict[str, Any], kind: str) -> Table:
    """A row per quantity of one kind: the optimum's value, the lowest and the highest."""
    rows = ranges_of(summary, kind)
    per_row = KIND_TITLES.get(kind, (kind, True))[1]
    t = Table(title=escape(kind_title(summary, kind)), title_justify="left")
    t.add_column("quantity")
    for head in ("optimum", "lowest", "highest"):
        t.add_column(head, justify="right", no_wrap=True)
    d = digits([r.get(k) for r in rows for k in ("plan", "low", "high")])
    for r in rows:
        cells = [figure(r.get(k), d) for k in ("plan", "low", "high")]
        style = "dim" if fixed(r) else None
        label = quantity_label(with_measure(summary, r), per_row, short=True)
        t.add_row(escape(label), *cells, style=style)
    return t


def _alternative_rows(summary: dict[str, Any]) -> list[tuple[str, list[Any], int]]:
    """The side-by-side table's rows: (label, figures of the optimum then each alternative,
    decimals)."""
    alts = summary.get("alternatives") or []
    by_key = {str(r.get("quantity")): r for r in summary.get("ranges") or []}
    unit = objective_unit(summary)
    objective = [summary.get("objective"), *(a.get("objective") for a in alts)]
    rows: list[tuple[str, list[Any], int]] = [
        (f"objective ({unit})", objective, 1),
        ("distance from the optimum (%)",
         [0.0, *(None if missing(a.get("distance")) else 100 * float(a["distance"])
                 for a in alts)], 0),
    ]
    keys: list[str] = []
    for a in alts:
        for c in a.get("changes") or []:
            if str(c.get("quantity")) not in keys:
                keys.append(str(c.get("quantity")))
    for key in keys[:SHOWN_CHANGES]:
        r = by_key.get(key)
        if r is None:
            continue
        figures = [r.get("plan"), *((a.get("values") or {}).get(key) for a in alts)]
        label = quantity_label(with_measure(summary, r), True)
        rows.append((label, figures, digits(figures)))
    return rows


CONTINUED = "The alternatives (continued)"


def alternatives_table(summary: dict[str, Any]) -> Table | None:
    """The optimum and the alternatives side by side; :func:`print_alternatives` splits it
    (:mod:`hwbopt.report.fit`) into as many tables as it takes for every figure to fit whole,
    each repeating the quantities."""
    alts = summary.get("alternatives") or []
    if not alts:
        return None
    heads = ["optimum", *(str(a.get("number", k + 1)) for k, a in enumerate(alts))]
    t = Table(title="The alternatives side by side", title_justify="left",
              caption="distance: how far each quantity moves, on average, as a share of its "
                      "range (0% the optimum, 100% every quantity at the other end)",
              caption_justify="left")
    t.add_column("")
    for head in heads:
        t.add_column(head, justify="right", no_wrap=True)
    for label, figures, d in _alternative_rows(summary):
        t.add_row(escape(label), *(figure(v, d) for v in figures))
    return t


def bullets(lines: list[str]) -> Table:
    """Sentences as a list, each wrapped under its own first word."""
    t = Table.grid(padding=(0, 1))
    t.add_column(no_wrap=True)
    t.add_column(ratio=1)
    for line in lines:
        t.add_row(" –", escape(line))
    return t


def print_alternatives(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print room for manoeuvre from its summary: the optimum and the slack, each kind's
    ranges, and the alternatives side by side with what changes most in each."""
    console = summary_console(console)
    print_headline(console, header(summary), summary)
    if missing(summary.get("objective")):
        return  # the CLI prints the reason on stderr
    for kind in kinds(summary):
        console.print()
        print_table(console, ranges_table(summary, kind))
    still = [r for r in summary.get("ranges") or [] if fixed(r)]
    if still:
        console.print(f"[dim]{len(still):,} of {len(summary.get('ranges') or []):,} "
                      "quantities (dimmed) cannot move at all within the slack.[/dim]")
    alts = summary.get("alternatives") or []
    if not alts:
        return
    console.print()
    table = alternatives_table(summary)
    if table is not None:
        # the optimum's column goes with the quantities into every part: it is the yardstick
        print_table(console, table, continued=CONTINUED, labels=2)
    for a in alts:
        changes = a.get("changes") or []
        if not changes:
            continue
        console.print(f"[bold]Alternative {escape(str(a.get('number')))}[/bold] "
                      f"({escape(objective_words(summary, a.get('objective')))}):")
        console.print(bullets([change_sentence(with_measure(summary, c)) for c in changes]))
