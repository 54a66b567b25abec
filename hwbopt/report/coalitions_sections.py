"""Report sections for a coalition analysis (results of kind ``coalitions``).

A coalition analysis's folder (``hwbopt coalitions --out``) holds ``summary.json`` (the JSON of
``hwbopt coalitions --json``), ``coalitions.csv`` (each coalition valued: members, size,
value, status, objective, the range its value is proven within, the coalition whose plan
answered it) and ``partners.csv`` (per partner: contributed, shapley, its standard error,
owen, benefit, remit_gain, transfer). The sections read the summary, which holds every
figure with the partners as lists of ids (the CSV files become the workbook's sheets). v(S), a
coalition's value, is the objective with only S's partners pooling less the objective with
none (under a cost objective, the money saved); it and every split of it are in the
objective's unit (points of weighted outcome, or money). The sections, for a board member:

- the value of pooling and how it was found (exact, or Shapley sampled);
- each partner's Shapley share against the money it pays into the pools and the benefit in
  its remit (one chart, each as a share of its total across the partners);
- the core's verdict in one sentence, the splits side by side (Shapley, the nucleolus or
  least-core split, Owen's, the proposed one), and the groups that would gain by leaving the
  proposed split, in words;
- the best coalition of each size, and the coalitions worth less than two parts of them;
- every coalition valued.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hwbopt.report.coalitions_text import (
    LISTED,
    SIGNIFICANT,
    amount,
    blocking_of,
    blocking_sentences,
    coalition_name,
    core_method,
    core_verdict,
    how_found,
    is_cost,
    missing,
    number,
    owen_sentence,
    partner_name,
    partner_rows,
    partners,
    range_sentence,
    scenario_name,
    solved_count,
    split_head,
    split_name,
    stderr_of,
    superadditive,
    superadditivity_sentence,
    value_sentence,
    value_unit,
)
from hwbopt.report.sections import figures, headline, section
from hwbopt.report.solve import BENEFIT_RULE
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table, figure_table
from hwbopt.words import num

ROWS = 256  # coalitions listed on the page beyond which only the best of each size are
BEST_OF_SIZE = 10  # ... and how many of each size then


def _unit(data: ReportData) -> str:
    return value_unit(data.summary)


_float = number


def _values(data: ReportData) -> dict[frozenset[str], dict[str, Any]]:
    """Each coalition solved, by its members."""
    return {frozenset(str(m) for m in c.get("members") or []): c
            for c in data.summary.get("coalitions") or []}


def _names(data: ReportData) -> list[str]:
    return [partner_name(data.summary, p) for p in partners(data.summary)]


def _status_ok(data: ReportData) -> bool:
    return data.summary.get("status") == "optimal"


# ---------------------------------------------------------------------------------------------


@headline("coalitions")
def coalitions_headline(data: ReportData) -> tuple[str, bool]:
    s = data.summary
    status = str(s.get("status", ""))
    n = len(partners(s))
    how = "every coalition solved" if s.get("exact") else "Shapley shares sampled"
    if missing(s.get("grand_value")):
        return f"{status}: no value of pooling among {n} partners", False
    return (f"{status}: pooling among {n} partners is worth "
            f"{amount(s, s.get('grand_value'))} ({how})", _status_ok(data))


@figures("coalitions")
def coalitions_figures(data: ReportData) -> list[tuple[str, Any]]:
    s = data.summary
    unit = _unit(data)
    core = s.get("core") or {}
    owen = s.get("owen") or {}
    empty = core.get("empty")
    rows: list[tuple[str, Any]] = [
        ("kind of result", data.kind), ("status", s.get("status")),
        ("message", s.get("message") or None),
        ("scenario", scenario_name(s)),
        ("objective", "cost" if is_cost(s) else "weighted outcome"),
        ("partners", len(partners(s))),
        ("every coalition solved (exact)", bool(s.get("exact"))),
        ("random orders sampled", s.get("samples")), ("seed of the orders", s.get("seed")),
        ("coalitions valued", solved_count(s)),
        ("solves (a plan in which some members pool nothing answers several coalitions)",
         s.get("solves")),
        (f"value of pooling, v(N) ({unit})", _float(s.get("grand_value"))),
        (f"objective with nobody pooling ({unit})", _float(s.get("siloed_objective"))),
        (f"objective with every partner pooling ({unit})", _float(s.get("grand_objective"))),
        ("the core is empty", "not known" if empty is None else bool(empty)),
        ("the Shapley split is in the core", "not known" if core.get("shapley_in_core") is None
         else bool(core.get("shapley_in_core"))),
        (f"least-core epsilon ({unit})", _float(core.get("epsilon"))),
        ("the core's check searched rather than enumerated", bool(core.get("partial"))),
    ]
    if s.get("split"):
        rows += [("proposed split", split_name(s)),
                 ("groups that would gain by leaving the proposed split", len(blocking_of(s)))]
    if owen:
        rows.append(("Owen's split is in the core", "not known" if owen.get("in_core") is None
                     else bool(owen.get("in_core"))))
    if s.get("core") and s.get("exact"):
        rows.append(("coalitions worth less than two parts of them",
                     len(s.get("not_superadditive") or [])))
    rows.append(("seconds", _float(s.get("seconds"))))
    return rows


@section("coalitions", order=10)
def overview(data: ReportData) -> Section:
    s = data.summary
    intro = [value_sentence(s), how_found(s)]
    if s.get("message"):
        intro.append(str(s["message"]))
    intro.append(
        "A coalition's value is the objective when only its partners put money into the "
        "pooled funds, less the objective when nobody pools. The Shapley value shares the "
        "value of pooling by each partner's average contribution to the coalitions it could "
        "join; the core is the set of splits no group of partners could beat by pooling on "
        "its own; Owen's split values the money each partner pools at the prices the plan "
        "with every partner pooling puts on it.")
    rows = [(k, v) for k, v in coalitions_figures(data) if k not in ("kind of result",
                                                                    "message")]
    intro.append(data.objective_sentence())  # what a point of the values above is
    return Section("overview", "Overview", "\n".join(p for p in intro if p),
                   [figure_table(rows)])


# ---------------------------------------------------------------------------------------------


def _share_chart(data: ReportData, rows: list[dict[str, Any]]) -> Chart | None:
    """Shapley shares against the money each partner pays in and the benefit in its remit,
    each as a share of its total across the partners: points and money cannot share an axis,
    and in money (a cost objective) the value of pooling may be too small beside the money
    pooled for its bars to be read."""
    s, m = data.summary, data.money
    names = [partner_name(s, r.get("partner")) for r in rows]

    def column(key: str) -> list[float | None]:
        return [_float(r.get(key)) for r in rows]

    measures = [("contributed", "money paid into the pools"), ("benefit", "benefit in its remit"),
                ("shapley", "Shapley share"), ("owen", "Owen's split")]
    measures = [(k, label) for k, label in measures if any(v is not None for v in column(k))]
    if not measures:
        return None
    title = "Shapley shares against contributions and benefits by partner"
    series, totals, splits = [], [], []
    grand = _float(s.get("grand_value"))
    for k, label in measures:
        values = column(k)
        if k in ("shapley", "owen"):
            # shares of the value of pooling (of a saving, negative, under a cost objective)
            total = grand if grand is not None and abs(grand) > 1e-9 else 0.0
        else:
            total = sum(v for v in values if v is not None)
            total = total if total > 0 else 0.0  # a share of a net loss would turn signs
        if not total:
            continue
        series.append(Series(label, [None if v is None else 100.0 * v / total for v in values]))
        if k == "contributed":
            totals.append(f"of the money paid into the pools ({m} {num(total, SIGNIFICANT)} "
                          "in all)")
        elif k == "benefit":
            totals.append(f"of the benefit in the partners' remits ({m} "
                          f"{num(total, SIGNIFICANT)} in all)")
        else:
            splits.append("the Shapley value" if k == "shapley" else "Owen's split")
    if not series:
        return None
    if splits:
        totals.append(f"of the value of pooling ({amount(s, s.get('grand_value'))}) under "
                      + " and under ".join(splits))
    listed = totals[0] if len(totals) == 1 else ", ".join(totals[:-1]) + " and " + totals[-1]
    why = "" if is_cost(s) else \
        f" (the value of pooling is in points of weighted outcome, money in {m})"
    return Chart("coalition_shares", title, names, series, y_title="% of the total across "
                 "the partners", mode="group",
                 note=(f"Each bar is the partner's share of a total across the partners: "
                       f"{listed}. Shares put the money and the value of pooling on one scale"
                       f"{why}; the table below gives the figures."))


@section("coalitions", order=20)
def shares(data: ReportData) -> Section | None:
    rows = partner_rows(data.summary)
    if not rows:
        return None
    s, m, unit = data.summary, data.money, _unit(data)
    sampled = any(stderr_of(s, r) is not None for r in rows)
    ranges = s.get("shapley_range") or {}
    gains = any(r.get("remit_gain") is not None for r in rows)
    table_rows = []
    for r in rows:
        p = str(r.get("partner"))
        row = [partner_name(s, p), _float(r.get("contributed")), _float(r.get("benefit")),
               _float(r.get("shapley"))]
        if sampled:
            row.append(stderr_of(s, r))
        if ranges:
            low, high = (ranges.get(p) or [None, None])[:2]
            row += [_float(low), _float(high)]
        row.append(_float(r.get("owen")))
        if gains:
            row.append(_float(r.get("remit_gain")))
        row.append(_float(r.get("transfer")))
        table_rows.append(row)
    cols = ["partner", f"paid into the pools ({m})", f"benefit in its remit ({m})",
            f"Shapley share ({unit})"]
    if sampled:
        cols.append(f"standard error of the Shapley share ({unit})")
    if ranges:
        cols += [f"Shapley share at least ({unit})", f"Shapley share at most ({unit})"]
    cols.append(f"Owen's split ({unit})")
    if gains:
        cols.append(f"gain landing in its remit ({unit})")
    cols.append(f"transfer owed to it ({unit})")
    digits = 1 if is_cost(s) else 2
    frame = pd.DataFrame(table_rows, columns=cols)
    blocks: list[Chart | Table] = []
    chart = _share_chart(data, rows)
    if chart is not None:
        blocks.append(chart)
    blocks.append(Table(
        "coalition_partners", "Each partner's money and shares", frame,
        digits={c: digits for c in cols[3:]},
        note=("Paid into the pools: the money the partner puts into the pools over the "
              "horizon in the plan with every partner pooling. Benefit in its remit: in that "
              f"plan, over the horizon; {BENEFIT_RULE} Gain landing in its remit: "
              + ("the costs avoided for it less what it spends" if is_cost(s) else
                 "the weighted outcome of the services in its remit (shared equally where "
                 "remits overlap)")
              + ", every partner pooling against none. Transfer: its Shapley share less that "
              "gain; positive, the other partners owe it that much, negative, it owes them.")))
    intro = [f"How the value of pooling ({amount(s, s.get('grand_value'))}) would be shared "
             "between the partners, against what each pays in and what lands in its remit."]
    if sampled:
        intro.append("The Shapley shares are estimated from random orders of the partners; "
                     "the standard error says how far each estimate may be from the exact "
                     "share (about two standard errors either side holds it 95% of the time).")
    sentence = range_sentence(s)
    if sentence:
        intro.append(sentence)
    return Section("shares", "Who gets what share of the value of pooling", "\n".join(intro),
                   blocks)


# ---------------------------------------------------------------------------------------------


def _core_note(s: dict[str, Any]) -> str:
    empty = (s.get("core") or {}).get("empty")
    if empty is None:
        return ""
    if empty:
        return ("The least-core split leaves the group with most to gain by leaving as "
                "little as any split can (the core being empty). ")
    return "The nucleolus is a split in the core: no group gains by leaving it. "


def _splits(data: ReportData) -> list[tuple[str, dict[str, Any]]]:
    """The splits to compare: Shapley, the core's, Owen's and the proposed one (if another)."""
    s = data.summary
    core, owen, split = s.get("core") or {}, s.get("owen") or {}, s.get("split") or {}
    out: list[tuple[str, dict[str, Any]]] = []
    if s.get("shapley"):
        out.append(("Shapley", s["shapley"]))
    if core.get("allocation") and core.get("empty") is not None:
        out.append((core_method(s), core["allocation"]))
    if owen.get("allocation"):
        out.append(("Owen's split", owen["allocation"]))
    name = split.get("name")
    if split.get("allocation") and name not in ("shapley", "owen", "nucleolus"):
        label = "proposed: in proportion to the money pooled" if name == "contributions" \
            else "proposed split"
        out.append((label, split["allocation"]))
    return out


@section("coalitions", order=30)
def core(data: ReportData) -> Section | None:
    s = data.summary
    if missing(s.get("grand_value")):
        return None
    unit = _unit(data)
    core_ = s.get("core") or {}
    intro = [core_verdict(s)]
    rows = blocking_of(s)
    split = s.get("split") or {}
    shapley_holds = split.get("name") == "shapley" and core_.get("shapley_in_core")
    if split and not (shapley_holds and not rows):
        intro.append(split_head(s))
    intro += blocking_sentences(s, rows)
    owen = owen_sentence(s)
    if owen:
        intro.append(owen)
    blocks: list[Chart | Table] = []
    splits = _splits(data)
    ids = partners(s)
    if splits:
        blocks.append(Chart(
            "coalition_splits", "The splits side by side", _names(data),
            [Series(label, [_float(alloc.get(p)) for p in ids]) for label, alloc in splits],
            y_title=f"share of the value of pooling ({unit})", mode="group",
            note=(f"Each split shares the value of pooling, {amount(s, s.get('grand_value'))}, "
                  "between the partners. " + _core_note(s) + "Owen's split values each "
                  "partner's pooled money at the prices the plan with every partner pooling "
                  "puts on it, scaled to the value of pooling.")))
        frame = pd.DataFrame([[partner_name(s, p), *(_float(a.get(p)) for _, a in splits)]
                              for p in ids],
                             columns=["partner", *(f"{label} ({unit})" for label, _ in splits)])
        blocks.append(Table("coalition_splits", "The splits side by side", frame,
                            digits={c: 1 if is_cost(s) else 2 for c in frame.columns[1:]}))
    if rows:
        values = _values(data)
        alloc = split.get("allocation") or {}
        table_rows = []
        for r in rows:
            members = [str(m) for m in r.get("members") or []]
            given = sum(float(alloc.get(p) or 0.0) for p in members) if alloc else None
            own = _float((values.get(frozenset(members)) or {}).get("value"))
            if own is None and given is not None and not missing(r.get("shortfall")):
                own = given + float(r["shortfall"])
            table_rows.append([coalition_name(s, members), len(members), own, given,
                               _float(r.get("shortfall"))])
        name = split_name(s)
        frame = pd.DataFrame(table_rows, columns=[
            "group of partners", "partners", f"value pooling on their own ({unit})",
            f"their shares under {name} ({unit})", f"gain by leaving ({unit})"])
        blocks.append(Table("coalition_blocking", f"Groups that would gain by leaving {name}",
                            frame, digits={c: 1 if is_cost(s) else 2
                                           for c in frame.columns[2:]}))
    title = "The core: could a group of partners do better on its own?"
    return Section("core", title, "\n".join(p for p in intro if p), blocks)


# ---------------------------------------------------------------------------------------------


@section("coalitions", order=40)
def sizes(data: ReportData) -> Section | None:
    s = data.summary
    best = sorted(s.get("best_by_size") or [], key=lambda r: int(r.get("size") or 0))
    if not best:
        return None
    unit = _unit(data)
    values = _values(data)
    cats, vals, marks, labels = [], [], [], []
    for r in best:
        members = [str(m) for m in r.get("members") or []]
        k = int(r.get("size") or len(members))
        name = coalition_name(s, members)
        cats.append(name if name.startswith("all ") else
                    f"{k} partner{'s' if k != 1 else ''}: {name}")
        v = _float(r.get("value"))
        vals.append(v)
        labels.append("" if v is None else num(v, SIGNIFICANT))
        status = (values.get(frozenset(members)) or {}).get("status")
        marks.append(status not in (None, "optimal"))
    note = "Each bar is the most valuable coalition of that many partners" + (
        "." if s.get("exact") else
        " among those valued: only the coalitions the sampled orders of the partners needed.")
    if any(marks):
        note += " Outlined: its value is the best plan found, not a proven optimum."
    blocks: list[Chart | Table] = [Chart(
        "coalition_sizes", "The best coalition of each size", cats,
        [Series("value of the coalition", vals, marked=marks, labels=labels)],
        y_title=f"value of the coalition ({unit})", horizontal=True, note=note)]
    frame = pd.DataFrame([[int(r.get("size") or 0), coalition_name(s, r.get("members") or []),
                           _float(r.get("value"))] for r in best],
                         columns=["partners", "coalition", f"value ({unit})"])
    blocks.append(Table("coalition_sizes", "The best coalition of each size", frame,
                        digits={f"value ({unit})": 1 if is_cost(s) else 2}))
    intro = [f"What pooling is worth as more partners join: the most valuable coalition of "
             f"each size, up to all {len(partners(s))} partners "
             f"({amount(s, s.get('grand_value'))})."]
    parts = s.get("not_superadditive") or []
    if parts:
        many = "At least " if len(parts) >= LISTED else ""
        intro.append(
            f"{many}{len(parts):,} coalition{'s are' if len(parts) != 1 else ' is'} worth less "
            "than two parts of it pooling separately: the two parts, each pooling without the "
            "other, would together gain more than all of them pooling as one.")
        intro += [superadditivity_sentence(s, r) + "." for r in parts[:3]]
        frame = pd.DataFrame([[coalition_name(s, r.get("members") or []),
                               *(coalition_name(s, p) for p in (r.get("parts") or [[], []])[:2]),
                               _float(r.get("shortfall"))] for r in parts],
                             columns=["coalition", "worth less than this part", "and this "
                                      "part pooling separately", f"by ({unit})"])
        blocks.append(Table("coalition_not_superadditive", "Coalitions worth less than their "
                            "parts", frame, digits={f"by ({unit})": 1 if is_cost(s) else 2}))
    elif superadditive(s):
        intro.append("Every coalition is worth at least as much as any two disjoint parts of "
                     "it pooling separately.")
    return Section("sizes", "The best coalition of each size", "\n".join(intro), blocks)


@section("coalitions", order=50)
def every_coalition(data: ReportData) -> Section | None:
    s = data.summary
    rows = list(s.get("coalitions") or [])
    if not rows:
        return None
    unit = _unit(data)
    def order(c: dict[str, Any]) -> tuple[int, float]:
        value = _float(c.get("value"))
        return len(c.get("members") or []), -value if value is not None else float("inf")

    rows.sort(key=order)
    shown, note = rows, ""
    if len(rows) > ROWS:
        by_size: dict[int, int] = {}
        shown = []
        for c in rows:
            k = len(c.get("members") or [])
            by_size[k] = by_size.get(k, 0) + 1
            if by_size[k] <= BEST_OF_SIZE:
                shown.append(c)
        note = (f"The {BEST_OF_SIZE} best coalitions of each size, {len(shown):,} of the "
                f"{len(rows):,} solved; the workbook's coalitions sheet lists every one.")
    ranged = any("value_low" in c for c in shown)
    answered = any(_answered_by(c) for c in shown)
    rows_ = []
    for c in shown:
        members = c.get("members") or []
        row = [coalition_name(s, members), len(members), _float(c.get("value"))]
        if ranged:
            row += [_float(c.get("value_low")), _float(c.get("value_high"))]
        else:
            row.append(_float(c.get("bound_value")))
        row += [str(c.get("status") or ""), _float(c.get("objective"))]
        if answered:
            by = _answered_by(c)
            row.append(coalition_name(s, by) if by else "")
        rows_.append(row)
    cols = ["coalition", "partners", f"value ({unit})"]
    cols += [f"value at least ({unit})", f"value at most ({unit})"] if ranged else \
        [f"value from the proven bound ({unit})"]
    cols += ["status", f"objective ({unit})"]
    if answered:
        cols.append("answered by the plan of")
    frame = pd.DataFrame(rows_, columns=cols)
    digits = 1 if is_cost(s) else 2
    how = "every coalition" if s.get("exact") else \
        "the coalitions the sampled orders of the partners needed"
    base = amount(s, s.get("siloed_objective"))
    value = (f"the objective with nobody pooling ({base}) less its objective: the money it "
             "saves") if is_cost(s) else \
        f"its objective less the objective with nobody pooling ({base})"
    intro = [f"The value of {how}: {value}. Where a coalition's plan is not proven optimal, "
             "its true value lies within the range its plan and the solver's proven bound "
             "give."]
    if answered:
        intro.append("A plan in which some members put nothing into the pools also answers "
                     "the coalitions between the members that do and the coalition solved: "
                     "those are not solved again.")
    return Section("coalitions", "Every coalition solved", "\n".join(intro),
                   [Table("coalition_values", "Every coalition solved", frame, note=note,
                          digits={c: digits for c in cols if "(" in c})])


def _answered_by(c: dict[str, Any]) -> list[str]:
    """The coalition whose plan answered this one, where another."""
    by = [str(m) for m in c.get("solved_as") or []]
    return by if "solved_as" in c and set(by) != {str(m) for m in c.get("members") or []} \
        else []
