"""The terminal view of a coalition analysis (``hwbopt coalitions``): what pooling is worth,
how the Shapley value, Owen's split and the core would share it between the partners, which
groups would gain by leaving a split, the best coalition of each size and the coalitions worth
less than their parts.

Everything is read from the summary (the JSON of ``hwbopt coalitions --json``), so the same
words serve the report (:mod:`hwbopt.report.coalitions_sections`). The functions that make
words return plain text; :func:`print_coalitions` escapes it for rich.

v(S), the value of a coalition S, is the objective when only the partners in S put money into
the pooled funds, less the objective when nobody pools (under a cost objective, the money
saved); it is in the objective's unit: points of weighted outcome, or money. Every table fits
an 80-column terminal: names wrap in their own column, figures never do (a table too wide for
the terminal is split in two rather than cut).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hwbopt.report.fit import fit_table, print_table
from hwbopt.report.text import print_headline, summary_console
from hwbopt.words import num, sentence_case

SHOWN = 5  # groups listed in words; the report's tables, --json and --out hold them all
LISTED = 20  # groups the analysis lists at most (hwbopt.analyses.coalitions.MAX_LISTED)
SIGNIFICANT = 4  # significant figures of the game's values in sentences
POINTS, POINT = "points of weighted outcome", "point of weighted outcome"
OWEN = ("Owen's split (each partner's pooled money valued at the grand coalition's shadow "
        "prices, scaled to the value of pooling)")
SPLITS = {  # the proposed split's name in a sentence
    "shapley": "the Shapley split",
    "contributions": "the split in proportion to the money each partner pools",
    "owen": "Owen's split",
    "nucleolus": "the nucleolus",
    "given": "the given split",
}


# ---------------------------------------------------------------------------------------------
# numbers, units and names, from the summary alone
# ---------------------------------------------------------------------------------------------


def missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def number(v: Any) -> float | None:
    """A figure of the summary, None when unknown."""
    return None if missing(v) else float(v)


def money_label(summary: dict[str, Any]) -> str:
    """The instance's money unit as its results print it: '£k'."""
    labels = summary.get("labels") or {}
    if labels.get("money"):
        return str(labels["money"])
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(str(summary.get("currency", "")), "")
    suffix = {"thousands": "k", "millions": "m"}.get(str(summary.get("money_unit", "")), "")
    return f"{symbol}{suffix}" or "money"


def is_cost(summary: dict[str, Any]) -> bool:
    return summary.get("objective_kind") == "cost"


def value_unit(summary: dict[str, Any]) -> str:
    """The unit of v(S) and of every split of it: the objective's."""
    return money_label(summary) if is_cost(summary) else POINTS


def short_unit(summary: dict[str, Any]) -> str:
    """The same, short enough for a table's title: 'points' or '£k'."""
    return money_label(summary) if is_cost(summary) else "points"


def amount(summary: dict[str, Any], v: Any) -> str:
    """A value of the game in words, to four significant figures (never fewer than the whole
    number): '12.5 points of weighted outcome', '1 point of weighted outcome', '£k 12.5'."""
    if missing(v):
        return "–"
    text = num(float(v), SIGNIFICANT)
    if is_cost(summary):
        return f"{money_label(summary)} {text}"
    return f"{text} {POINT if text == '1' else POINTS}"


def figure(v: Any, digits: int = 2) -> str:
    """A figure in a table: thousands separated, ``digits`` decimals, '–' when unknown."""
    if missing(v):
        return "–"
    text = f"{float(v):,.{digits}f}"
    # a value that rounds to zero shows as 0, never -0
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def value_digits(summary: dict[str, Any]) -> int:
    """Decimals of the game's values in a table: money as money (1), points as points (2)."""
    return 1 if is_cost(summary) else 2


def partners(summary: dict[str, Any]) -> list[str]:
    return [str(p) for p in summary.get("partners") or []]


def partner_name(summary: dict[str, Any], partner: Any) -> str:
    entry = ((summary.get("labels") or {}).get("partners") or {}).get(str(partner))
    if isinstance(entry, dict):
        return str(entry.get("name") or partner)
    return str(entry) if entry else str(partner)


def coalition_name(summary: dict[str, Any], members: Sequence[Any]) -> str:
    """'Westshire Police + Westshire Fire', in the instance's order of partners; 'no partner'
    for the empty coalition, 'all 7 partners' for the grand one (of more than two), and a
    coalition of more than half of four or more partners by those it leaves out: 'every
    partner but Westshire Public Health and Westshire Police'."""
    ids = [str(m) for m in members]
    order = partners(summary)
    ids.sort(key=lambda p: order.index(p) if p in order else len(order))
    if not ids:
        return "no partner"
    if len(order) > 2 and set(ids) == set(order):
        return f"all {len(order)} partners"
    out = [p for p in order if p not in ids]
    if len(order) >= 4 and len(ids) > len(order) / 2 and set(ids) <= set(order):
        names = [partner_name(summary, p) for p in out]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"every partner but {listed}"
    return " + ".join(partner_name(summary, p) for p in ids)


def scenario_name(summary: dict[str, Any]) -> str:
    s = str(summary.get("scenario") or "base")
    if s == "base":
        return "base (as the instance says)"
    entry = ((summary.get("labels") or {}).get("scenarios") or {}).get(s)
    return str(entry) if entry else s


def instance_name(summary: dict[str, Any]) -> str:
    return str((summary.get("labels") or {}).get("name") or summary.get("instance") or "")


def solved_count(summary: dict[str, Any]) -> int:
    return sum(1 for c in summary.get("coalitions") or [] if not missing(c.get("value")))


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# ---------------------------------------------------------------------------------------------
# sentences
# ---------------------------------------------------------------------------------------------


def how_found(summary: dict[str, Any]) -> str:
    """Exact or sampled, in a sentence."""
    n = len(partners(summary))
    seconds = number(summary.get("seconds"))
    took = f" in {seconds:,.1f} s" if seconds is not None else ""
    solves = number(summary.get("solves"))
    by = f" by {_plural(int(solves), 'solve')}" if solves is not None else ""
    if summary.get("exact"):
        proven = " (each a proven optimum)" if summary.get("status") == "optimal" else ""
        return (f"Exact: every one of the {2 ** n:,} coalitions of the {_plural(n, 'partner')} "
                f"valued{proven}{by}{took}.")
    samples, seed = number(summary.get("samples")), summary.get("seed")
    drawn = f"{int(samples):,} random orders of the partners" if samples is not None \
        else "random orders of the partners"
    seeded = f" (seed {seed})" if not missing(seed) else ""
    return (f"Sampled: the Shapley shares are estimated from {drawn}{seeded}, "
            f"{_plural(solved_count(summary), 'coalition')} valued{by}{took}; ± is one "
            "standard error of the estimate.")


def value_sentence(summary: dict[str, Any]) -> str:
    """The value of pooling, v(N), in a sentence."""
    v = summary.get("grand_value")
    if missing(v):
        return "The value of pooling is not known: the grand coalition was not solved."
    if is_cost(summary):
        how = ("the money saved: the cost with nobody pooling less the cost with every "
               "partner pooling")
    else:
        how = "the objective with every partner pooling less the objective with none"
    return (f"The value of pooling is {amount(summary, v)}: {how} (scenario "
            f"{scenario_name(summary)}).")


def core_verdict(summary: dict[str, Any]) -> str:
    """The core's verdict in one sentence (two when the check only searched)."""
    core = summary.get("core") or {}
    empty, in_core = core.get("empty"), core.get("shapley_in_core")
    eps = core.get("epsilon")
    if empty is None and in_core is False:
        verdict = ("Whether the core is empty is not known, as not every coalition was "
                   "valued, but the Shapley split is outside it: some group of partners gains "
                   "by leaving it.")
    elif empty is None:
        verdict = ("Whether the core is empty is not known: not every coalition's value is "
                   "known.")
    elif empty:
        verdict = ("The core is empty: any split leaves some group better off alone by at "
                   f"least {amount(summary, eps)}; the least-core split shares the value of "
                   "pooling so that no group gains more than that by leaving it.")
    elif in_core:
        verdict = ("The core is not empty: no group of partners gains by leaving the Shapley "
                   "split.")
    elif in_core is None:
        verdict = ("The core is not empty: the nucleolus is a split no group of partners "
                   "gains by leaving.")
    else:
        verdict = ("The core is not empty, but the Shapley split is outside it: some group of "
                   "partners gains by leaving the Shapley split, while no group gains by "
                   "leaving the nucleolus.")
    if core.get("partial"):
        verdict += (" The groups were searched for, not all checked: a group that would gain "
                    "by leaving may have been missed.")
    return verdict


def core_method(summary: dict[str, Any]) -> str:
    """The name of the core's proposed split: 'nucleolus' or 'least-core split'."""
    core = summary.get("core") or {}
    return "least-core split" if core.get("method") == "least_core" else "nucleolus"


def split_name(summary: dict[str, Any]) -> str:
    name = str((summary.get("split") or {}).get("name") or "shapley")
    return SPLITS.get(name, f"the {name} split")


def blocking_of(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The groups that would gain by leaving the proposed split, largest gain first."""
    split = summary.get("split") or {}
    rows = split.get("blocking")
    if rows is None:
        rows = (summary.get("core") or {}).get("blocking") or []
    return sorted(rows, key=_largest_gain_first)


def _largest_gain_first(row: dict[str, Any]) -> tuple[float, int]:
    """Largest gain first (to six significant figures: solver noise apart), then the smaller
    group."""
    return -float(f"{float(row.get('shortfall') or 0.0):.6g}"), len(row.get("members") or [])


def blocking_sentence(summary: dict[str, Any], row: dict[str, Any]) -> str:
    """'Westshire Police + Westshire Fire would gain £k 12 by pooling on their own' (a single
    partner: 'on its own', by pooling its money across its own services' pools)."""
    members = row.get("members") or []
    own = "their own" if len(members) > 1 else "its own"
    return (f"{coalition_name(summary, members)} would gain "
            f"{amount(summary, row.get('shortfall'))} by pooling on {own}")


def blocking_sentences(summary: dict[str, Any], rows: list[dict[str, Any]],
                       limit: int = SHOWN) -> list[str]:
    """Each blocking group in words, the first ``limit`` (largest gain first), and how many
    more."""
    out = [sentence_case(blocking_sentence(summary, r)) + "." for r in rows[:limit]]
    if len(rows) > limit:
        out.append(f"… and {_plural(len(rows) - limit, 'group')} more (--json or --out "
                   "lists them all).")
    return out


def split_head(summary: dict[str, Any]) -> str:
    """Whether the proposed split holds, as the line above its blocking groups."""
    rows = blocking_of(summary)
    name = split_name(summary)
    split = summary.get("split") or {}
    if split and split.get("allocation") is None:
        why = f": {split['message']}" if split.get("message") else ""
        return f"{sentence_case(name)} cannot be made{why}."
    partial = (summary.get("core") or {}).get("partial")
    if not rows:
        tail = " (none was found by the search)" if partial else ""
        return f"No group of partners would gain by leaving {name}{tail}."
    count = split.get("blocking_count")
    if isinstance(count, int) and count >= len(rows):
        return f"{_plural(count, 'group')} would gain by leaving {name}:"
    many = "At least " if len(rows) >= LISTED else ""
    return f"{many}{_plural(len(rows), 'group')} would gain by leaving {name}:"


def owen_sentence(summary: dict[str, Any]) -> str | None:
    """Whether Owen's split is in the core, and who would leave it."""
    owen = summary.get("owen")
    if not owen:
        return None
    head = OWEN
    if owen.get("in_core"):
        return f"{head} is in the core: no group of partners gains by leaving it."
    if owen.get("in_core") is None:
        return None
    rows = sorted(owen.get("blocking") or [], key=_largest_gain_first)
    if not rows:
        return f"{head} is not in the core."
    first = "; ".join(blocking_sentence(summary, r) for r in rows[:3])
    more = f"; and {_plural(len(rows) - 3, 'group')} more" if len(rows) > 3 else ""
    return f"{head} is not in the core: {first}{more}."


def allocation_words(summary: dict[str, Any], allocation: dict[str, Any]) -> str:
    """'Westshire CCG 40, Westshire County Council 30 and Westshire Police 20' (in the
    objective's unit, said once at the end)."""
    ids = [p for p in partners(summary) if p in allocation] + \
        [p for p in allocation if p not in partners(summary)]
    parts = [f"{partner_name(summary, p)} {num(float(allocation[p]), SIGNIFICANT)}"
             for p in ids if not missing(allocation[p])]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{listed} ({value_unit(summary)})"


def superadditive(summary: dict[str, Any]) -> bool:
    """Whether every coalition is known to be worth at least any two disjoint parts of it:
    every coalition valued and analysed, and none listed as worth less."""
    return bool(summary.get("exact") and summary.get("core")
                and not summary.get("not_superadditive"))


def parts_words(summary: dict[str, Any], parts: Sequence[Sequence[Any]]) -> tuple[str, str]:
    """The two parts of a coalition, the smaller first, named; the larger, when of more than
    two partners, as 'the other 4 partners' (of the coalition)."""
    a, b = sorted((list(p) for p in list(parts)[:2]), key=len) if len(parts) >= 2 \
        else (list(parts[0]) if parts else [], [])
    other = coalition_name(summary, b) if len(b) <= 2 else f"the other {len(b)} partners"
    return coalition_name(summary, a), other


def superadditivity_sentence(summary: dict[str, Any], row: dict[str, Any]) -> str:
    """'Westshire CCG + Westshire Police is worth 1.5 points of weighted outcome less than two
    parts of it pooling separately: Westshire CCG on one side, Westshire Police on the
    other'."""
    a, b = parts_words(summary, row.get("parts") or [[], []])
    return sentence_case(
        f"{coalition_name(summary, row.get('members') or [])} is worth "
        f"{amount(summary, row.get('shortfall'))} less than two parts of it pooling "
        f"separately: {a} on one side, {b} on the other")


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------

# the columns of the partner table: key, header, whether the figure is money (else the
# objective's unit)
PARTNER_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("contributed", "paid in", True), ("shapley", "Shapley", False), ("owen", "Owen", False),
    ("benefit", "benefit", True), ("transfer", "transfer", False))


def stderr_of(summary: dict[str, Any], row: dict[str, Any]) -> float | None:
    """The standard error of a partner's sampled Shapley share (None when exact)."""
    stderr = number(row.get("shapley_stderr"))
    if stderr is None:
        stderr = number((summary.get("shapley_stderr") or {}).get(str(row.get("partner"))))
    return stderr


def _shapley_cell(summary: dict[str, Any], row: dict[str, Any], value: Any) -> str:
    stderr = stderr_of(summary, row)
    digits = value_digits(summary)
    if missing(stderr):
        return figure(value, digits)
    return f"{figure(value, digits)}\n± {figure(stderr, digits)}"


def partner_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """partners_table in the instance's order of partners."""
    rows = list(summary.get("partners_table") or [])
    order = partners(summary)
    rows.sort(key=lambda r: order.index(str(r.get("partner")))
              if str(r.get("partner")) in order else len(order))
    return rows


def _partner_cells(summary: dict[str, Any],
                   columns: Sequence[tuple[str, str, bool]]) -> list[list[str]]:
    """Each partner's figures as the table shows them (a second line for ± one standard
    error)."""
    out = []
    for row in partner_rows(summary):
        cells = []
        for key, _head, is_money in columns:
            if key == "shapley":
                cells.append(_shapley_cell(summary, row, row.get(key)))
            else:
                cells.append(figure(row.get(key), 1 if is_money else value_digits(summary)))
        out.append(cells)
    return out


def partner_table(summary: dict[str, Any],
                  columns: Sequence[tuple[str, str, bool]] = PARTNER_COLUMNS,
                  title: str | None = None) -> Table:
    """A row per partner: the money it pools, its Shapley share (± one standard error when
    sampled), Owen's split, the benefit landing in its remit and the transfer it is owed."""
    m, unit = money_label(summary), short_unit(summary)
    if title is None:
        title = (f"Each partner's share of the value of pooling ({unit})" if is_cost(summary)
                 else f"Each partner's share of the value of pooling ({unit}; money in {m})")
    keys = [c[0] for c in columns]
    notes = []
    if "contributed" in keys:
        notes.append("paid in: money the partner puts into the pools over the horizon "
                     "when all pool")
    if "transfer" in keys:
        notes.append("transfer: its Shapley share less the gain landing in its remit "
                     "(positive: the others owe it)")
    t = Table(title=escape(title), title_justify="left", caption_justify="left",
              caption=escape("; ".join(notes)) if notes else None)
    t.add_column("partner", ratio=1, overflow="fold")
    for _key, head, _is_money in columns:
        t.add_column(head, justify="right", no_wrap=True)
    for row, cells in zip(partner_rows(summary), _partner_cells(summary, columns),
                          strict=True):
        t.add_row(escape(partner_name(summary, row.get("partner"))), *cells)
    return t


def partner_tables(summary: dict[str, Any], console: Console) -> list[Table]:
    """The partner table, or, where its figures do not fit the terminal beside the names
    (as :mod:`hwbopt.report.fit` measures it), the same in two tables: the money, then the
    shares."""
    if len(fit_table(console, partner_table(summary))) == 1:
        return [partner_table(summary)]
    m = money_label(summary)
    money_cols = tuple(c for c in PARTNER_COLUMNS if c[2])
    share_cols = tuple(c for c in PARTNER_COLUMNS if not c[2])
    return [partner_table(summary, money_cols, f"Each partner's money ({m})"),
            partner_table(summary, share_cols, "Each partner's share of the value of pooling "
                                               f"({short_unit(summary)})")]


def bullets(lines: list[str]) -> Table:
    """Sentences as a list, each wrapped under its own first word."""
    t = Table.grid(padding=(0, 1))
    t.add_column(no_wrap=True)
    t.add_column(ratio=1)
    for line in lines:
        t.add_row(" –", escape(line))
    return t


def best_by_size_table(summary: dict[str, Any]) -> Table | None:
    rows = summary.get("best_by_size") or []
    if not rows:
        return None
    t = Table(title=f"The best coalition of each size ({short_unit(summary)})",
              title_justify="left")
    t.add_column("size", justify="right", no_wrap=True)
    t.add_column("coalition", ratio=1, overflow="fold")
    t.add_column("value", justify="right", no_wrap=True)
    for r in sorted(rows, key=lambda r: int(r.get("size") or 0)):
        t.add_row(str(int(r.get("size") or 0)), escape(coalition_name(summary, r["members"])),
                  figure(r.get("value"), value_digits(summary)))
    return t


def superadditivity_table(summary: dict[str, Any]) -> Table | None:
    rows = summary.get("not_superadditive") or []
    if not rows:
        return None
    t = Table(title=f"Coalitions worth less than two parts of them pooling separately "
                    f"({short_unit(summary)})", title_justify="left")
    t.add_column("coalition", ratio=1, overflow="fold")
    t.add_column("two parts of it", ratio=1, overflow="fold")
    t.add_column("less by", justify="right", no_wrap=True)
    for r in rows[:SHOWN]:
        parts = r.get("parts") or [[], []]
        t.add_row(escape(coalition_name(summary, r.get("members") or [])),
                  escape("{}\nand {}".format(*parts_words(summary, parts))),
                  figure(r.get("shortfall"), value_digits(summary)))
    if len(rows) > SHOWN:
        t.add_row(f"[dim]… and {len(rows) - SHOWN:,} more (--json or --out lists them "
                  "all)[/dim]", "", "")
    return t


def range_sentence(summary: dict[str, Any]) -> str | None:
    """Where coalition values are proven only within bounds: the range of each Shapley
    share."""
    ranges = summary.get("shapley_range") or {}
    wide = {p: r for p, r in ranges.items()
            if r and not missing(r[0]) and not missing(r[1])
            and abs(float(r[1]) - float(r[0])) > 1e-9 * max(1.0, abs(float(r[1])))}
    if not wide:
        return None
    digits = value_digits(summary)
    parts = [f"{partner_name(summary, p)} {figure(r[0], digits)} to {figure(r[1], digits)}"
             for p, r in wide.items()]
    return ("Not every coalition's value is a proven optimum; from the values' proven bounds "
            f"each Shapley share lies within ({value_unit(summary)}): " + "; ".join(parts) + ".")


# ---------------------------------------------------------------------------------------------


def header(summary: dict[str, Any]) -> list[str]:
    """The run in lines of plain text: what was analysed, the value of pooling, how found."""
    n = len(partners(summary))
    name = instance_name(summary)
    lines = [f"{name + ' — ' if name else ''}coalitions of {_plural(n, 'partner')}, scenario "
             f"{scenario_name(summary)}: {summary.get('status', '')}"]
    v = summary.get("grand_value")
    if not missing(v):
        lines.append(f"value of pooling: {amount(summary, v)} (every partner pooling, against "
                     "none)")
    lines.append(how_found(summary))
    return lines


def print_coalitions(summary: dict[str, Any], console: Console | None = None) -> None:
    """Print a coalition analysis from its summary: the value of pooling, each partner's
    shares, the core's verdict, the groups that would leave the proposed split, the best
    coalition of each size and the coalitions worth less than their parts."""
    console = summary_console(console)
    print_headline(console, header(summary), summary)
    if missing(summary.get("grand_value")):
        return  # the CLI prints the reason on stderr
    console.print()
    if partner_rows(summary):
        for table in partner_tables(summary, console):
            print_table(console, table)
    sentence = range_sentence(summary)
    if sentence:
        console.print(escape(sentence))
    console.print()
    console.print(f"[bold]{escape(core_verdict(summary))}[/bold]")
    core = summary.get("core") or {}
    if core.get("allocation") and core.get("empty") is not None:
        console.print(escape(f"The {core_method(summary)}: "
                             f"{allocation_words(summary, core['allocation'])}."))
    split = summary.get("split") or {}
    rows = blocking_of(summary)
    shapley_holds = split.get("name", "shapley") == "shapley" and core.get("shapley_in_core")
    if split and not (shapley_holds and not rows):
        if split.get("name") in ("contributions", "given") and split.get("allocation"):
            console.print(escape(f"Proposed: {split_name(summary)}, "
                                 f"{allocation_words(summary, split['allocation'])}."))
        console.print(escape(split_head(summary)))
        if rows:
            console.print(bullets(blocking_sentences(summary, rows)))
    owen = owen_sentence(summary)
    if owen:
        console.print(escape(owen))
    console.print()
    # coalitions are named by their partners: a name wraps as far as it needs, never cut
    for listing in (best_by_size_table(summary), superadditivity_table(summary)):
        if listing is not None:
            print_table(console, listing, label_lines=None)
    if superadditive(summary):
        console.print("Every coalition is worth at least as much as any two disjoint parts of "
                      "it pooling separately.")
