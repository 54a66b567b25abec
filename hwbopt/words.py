"""One naming layer: every constraint and variable index of the model, as a sentence.

The model speaks in ids and tuples (``budget[county,2013]``); a board speaks of "Westshire
County Council budget, 2013/14". This module turns one into the other, in the instance's own
names and units, for explanations, results and reports alike. Every constraint component of
:mod:`hwbopt.model.names` has a phrase here (``tests/test_words.py`` checks that every row of
the county model gets one and that none prints a raw index).

The entry points take a :class:`~hwbopt.model.data.ModelData` (which carries the instance),
a component name and its index:

- :func:`rule` — the rule in words: "Westshire County Council budget, 2013/14";
- :func:`sentence` — the rule, and with ``state`` what it is doing in a solved plan:
  "Westshire County Council budget, 2013/14: fully spent";
- :func:`unit` — the unit of the rule's limit (and of any relaxation of it): "£k", "people";
- :func:`quantity` — a variable in words: "activity of Telecare in North, 2013/14";
- :func:`bound_rule` — a variable bound that is a board rule (need, pool shares, recruitment
  limits, sites that cannot close) in words;
- :func:`relaxation` — how far a rule must give: "Mental health target, 2013/14 must fall by
  312 people".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hwbopt.model.data import ALL, ModelData
from hwbopt.schema import Instance, year_label

# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def num(value: float, significant: int = 6) -> str:
    """A number as a board paper prints it: 312, 1,234.5, 0.0625 (six significant figures,
    never fewer than the whole number)."""
    if value is None or not math.isfinite(value):
        return "unlimited" if value is not None and value > 0 else "–"
    if value == 0:
        return "0"
    digits = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    text = f"{round(value, digits):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}
_ALREADY_PLURAL = {"people", "children", "men", "women", "staff"}


def plural(unit_: str, value: float = 2.0) -> str:
    """'episode' -> 'episodes' for any amount but one. Only one-word units are changed, so a
    unit written as a phrase ('person setting a quit date') is kept as the instance gives it."""
    if (value == 1 or " " in unit_ or not unit_ or unit_[-1] in "sS" or unit_.isupper()
            or unit_ in _ALREADY_PLURAL):
        return unit_
    if unit_ in _IRREGULAR:
        return _IRREGULAR[unit_]
    if unit_.endswith("y") and unit_[-2:-1] not in "aeiou-":
        return unit_[:-1] + "ies"
    return unit_ + "s"


def _singular(unit_: str) -> str:
    """'desks' -> 'desk' (for 'one more desk'); anything else as given."""
    back = {v: k for k, v in _IRREGULAR.items()}
    if unit_ in back:
        return back[unit_]
    if " " not in unit_ and unit_.endswith("s") and not unit_.endswith("ss"):
        return unit_[:-1]
    return unit_


def sentence_case(text: str) -> str:
    """First letter up, the rest as written (names keep their capitals)."""
    return text[:1].upper() + text[1:]


def percent(share: float, significant: int = 3) -> str:
    """0.15 -> '15%'; 0.0825 -> '8.25%'; 0.169724 -> '17%'."""
    return f"{num(100.0 * share, significant)}%"


def money(inst: Instance, value: float, significant: int = 6) -> str:
    """'£k 1,234.5' in the instance's currency and money unit."""
    return f"{inst.money_label} {num(value, significant)}"


# ---------------------------------------------------------------------------------------------
# names of the instance's entities
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """The display name of every entity of an instance (its ``name``, or its id)."""

    partner: dict[str, str]
    pool: dict[str, str]
    priority: dict[str, str]
    priority_unit: dict[str, str]
    intervention: dict[str, str]
    intervention_unit: dict[str, str]
    locality: dict[str, str]
    role: dict[str, str]
    site: dict[str, str]
    space: dict[str, str]
    space_unit: dict[str, str]
    line: dict[tuple[str, str], str]


_LABELS: dict[int, tuple[Instance, Labels]] = {}


def labels(inst: Instance) -> Labels:
    """Labels of one instance, cached by identity (instances are frozen; hashing a whole
    instance on every sentence would cost more than the sentence)."""
    hit = _LABELS.get(id(inst))
    if hit is not None and hit[0] is inst:
        return hit[1]
    if len(_LABELS) > 16:
        _LABELS.clear()
    made = _make_labels(inst)
    _LABELS[id(inst)] = (inst, made)
    return made


def _make_labels(inst: Instance) -> Labels:
    return Labels(
        partner={p.id: p.label for p in inst.partners},
        pool={g.id: g.label for g in inst.pools},
        priority={k.id: k.label for k in inst.priorities},
        priority_unit={k.id: plural(k.unit) for k in inst.priorities},
        intervention={i.id: i.label for i in inst.interventions},
        intervention_unit={i.id: plural(i.unit) for i in inst.interventions},
        locality={**{loc.id: loc.name or loc.id for loc in inst.localities}, ALL: "the area"},
        role={r.id: r.name or r.id for r in inst.roles},
        site={s.id: s.label for s in inst.sites},
        space={t.id: t.name or t.id for t in inst.space_types},
        space_unit={t.id: plural(t.unit) for t in inst.space_types},
        line={(p.id, r.id): r.name or r.id for p in inst.partners for r in p.ring_fenced},
    )


def _where(lab: Labels, i: str, loc: str) -> str:
    """'Telecare in North', or 'Telecare' when the instance has no localities."""
    name = lab.intervention.get(i, i)
    return name if loc == ALL else f"{name} in {lab.locality.get(loc, loc)}"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# ---------------------------------------------------------------------------------------------
# constraints
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """A rule in words: as stated, as it reads at its limit, and the unit of its limit."""

    rule: str
    binding: str
    unit: str


def _per_year(subject: str, y: int, state: str, unit: str) -> Phrase:
    """Rules whose limit is per year: 'X, 2013/14' and 'X, 2013/14: fully spent'."""
    head = f"{subject}, {year_label(y)}"
    return Phrase(head, f"{head}: {state}", unit)


def _yearly_limit(subject: str, y: int, unit: str, state: str = "at its limit") -> Phrase:
    """Rules that are a standing limit: 'X may grow …: at its limit in 2012/13'."""
    return Phrase(f"{subject} in {year_label(y)}", f"{subject}: {state} in {year_label(y)}",
                  unit)


def _growth(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, loc, y = idx
    rate, of_need = d.growth[i]
    extra = f" plus {percent(of_need)} of need" if of_need else ""
    return _yearly_limit(f"{_where(lab, i, loc)} may grow at most {percent(rate or 0.0)} a "
                         f"year{extra}", y, lab.intervention_unit[i])


def _reduction(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, loc, y = idx
    return _yearly_limit(f"{_where(lab, i, loc)} may shrink at most "
                         f"{percent(d.reduction[i] or 0.0)} a year", y,
                         lab.intervention_unit[i])


def _equity(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, loc, y = idx
    return _yearly_limit(
        f"{_where(lab, i, loc)} must reach at least {percent(d.equity_floor or 0.0)} of the "
        "whole area's coverage (the equity floor)", y, lab.intervention_unit[i],
        "at the floor")


def _total_def(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{_possessive(lab.intervention[i])} area total", y,
                     "adds up its localities", lab.intervention_unit[i])


def _budget(d: ModelData, lab: Labels, idx: tuple, credit: float = 0.0) -> Phrase:
    """A partner's general money. With savings credited from avoided costs, what is fully
    spent at the limit is the general money and the credit together (models/money.md)."""
    p, y = idx
    head = f"{lab.partner[p]} budget, {year_label(y)}"
    general = f"{money(d.instance, d.money[p, y]['general'])} of general money"
    spent = general if credit <= 0 else (
        f"{general} and {money(d.instance, credit)} of savings credited from avoided costs")
    return Phrase(f"{head} ({general})", f"{head} ({spent}): fully spent",
                  d.instance.money_label)


def _ring_fence(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    p, r, y = idx
    fenced = money(d.instance, d.fence_share[p, r] * d.money[p, y]["available"])
    head = (f"{_possessive(lab.partner[p])} ring-fenced line '{lab.line[p, r]}', "
            f"{year_label(y)} ({fenced})")
    return Phrase(head, f"{head}: fully spent", d.instance.money_label)


def _pool_balance(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    g, y = idx
    return _per_year(lab.pool[g], y, "spends all it receives", d.instance.money_label)


def _qipp_limit(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    p, y = idx
    return _per_year(f"{_possessive(lab.partner[p])} savings credited from avoided costs", y,
                     "every avoided cost counted", d.instance.money_label)


def _funding(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{lab.intervention[i]} paid for in full", y, "paid",
                     d.instance.money_label)


def _segment_sum(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, k, loc, y = idx
    return _per_year(f"{_where(lab, i, loc)}: the pieces of its response for "
                     f"{lab.priority[k]} add up to its activity", y, "holds",
                     lab.intervention_unit[i])


def _outcome_def(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    k, y = idx
    return _per_year(f"{lab.priority[k]} outcome counted from activity", y, "holds",
                     lab.priority_unit[k])


def _target(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    k, y = idx
    kind = "" if d.hard[k] or d.objective == "cost" else " (soft)"
    unit_ = lab.priority_unit[k]
    head = f"{lab.priority[k]} target{kind}, {year_label(y)} (at least " \
           f"{num(d.target[k, y])} {unit_})"
    return Phrase(head, f"{head}: only just met", unit_)


def _piece_fill(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, k, loc, y, j = idx
    return _per_year(f"{_where(lab, i, loc)}: piece {j + 1} of its response for "
                     f"{lab.priority[k]} counts as full only when it is", y, "holds",
                     lab.intervention_unit[i])


def _piece_order(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, k, loc, y, j = idx
    return _per_year(f"{_where(lab, i, loc)}: piece {j + 2} of its response for "
                     f"{lab.priority[k]} counts only once piece {j + 1} is full", y, "holds",
                     lab.intervention_unit[i])


def _staff_subject(lab: Labels, e: str, r: str) -> str:
    return f"{_possessive(lab.partner[e])} {lab.role[r]}"


def _staff_balance(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    e, r, y = idx
    fte = d.staff[e, r, y].fte
    return _per_year(f"{_staff_subject(lab, e, r)} in post ({num(fte)} FTE before recruitment "
                     "and release)", y, "holds", "FTE")


def _release_limit(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    e, r, y = idx
    share = d.staff[e, r, y].max_release
    limit = f"at most {percent(share)} of" if share > 0 else "none of"
    return _yearly_limit(f"{lab.partner[e]} may release {limit} its {lab.role[r]} staff a "
                         "year", y, "FTE")


def _staff_capacity(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    e, r, y = idx
    return _per_year(_staff_subject(lab, e, r), y, "all deployed", "FTE")


def _staffing(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, r, y = idx
    return _per_year(f"{lab.intervention[i]} fully staffed with {lab.role[r]}", y, "holds",
                     "FTE")


def _site_closure(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    s, y = idx
    return _per_year(f"{lab.site[s]} stays closed once closed", y, "holds", "sites")


def _site_capacity(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    s, t, y = idx
    u = lab.space_unit[t]
    return _per_year(f"{lab.space[t]} at {lab.site[s]} ({num(d.capacity[s, t])} {u})", y,
                     "full", u)


def _space_need(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, t, loc, y = idx
    return _per_year(f"{_where(lab, i, loc)} has the {lab.space[t]} it needs", y, "holds",
                     lab.space_unit[t])


def _run_min(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    u = lab.intervention_unit[i]
    return _yearly_limit(f"{lab.intervention[i]} runs at its minimum viable scale of "
                         f"{num(d.min_scale[i])} {u} or not at all", y, u, "at its minimum")


def _run_max(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{lab.intervention[i]} has no activity unless it runs", y, "holds",
                     lab.intervention_unit[i])


def _start_def(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{lab.intervention[i]} starts (and pays its set-up cost) when it begins "
                     "to run", y, "holds", "starts")


def _start_run(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{lab.intervention[i]} starts only in a year it runs", y, "holds",
                     "starts")


def _start_new(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, y = idx
    return _per_year(f"{lab.intervention[i]} starts only if it did not run the year before",
                     y, "holds", "starts")


def _exclusive(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    g, y = idx
    members = dict(d.EXCLUSIVE)[g]
    return _per_year(f"at most one of {_listing([lab.intervention[i] for i in members])} "
                     f"runs (alternatives '{g}')", y, "one of them runs", "interventions")


def _dependency(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, j, y = idx
    return _per_year(f"{lab.intervention[i]} runs only if {lab.intervention[j]} runs", y,
                     "holds", "interventions")


def _dependency_activity(d: ModelData, lab: Labels, idx: tuple) -> Phrase:
    i, j, y = idx
    u, least = lab.intervention_unit[j], d.required_activity(j, y)
    return _per_year(f"{lab.intervention[i]} runs only if {lab.intervention[j]} delivers at "
                     f"least {num(least)} {_singular(u) if least == 1 else u}", y, "holds", u)


CONSTRAINTS = {
    "growth_limit": _growth,
    "reduction_limit": _reduction,
    "equity_floor": _equity,
    "total_activity_def": _total_def,
    "budget": _budget,
    "ring_fence": _ring_fence,
    "pool_balance": _pool_balance,
    "qipp_credit_limit": _qipp_limit,
    "funding": _funding,
    "segment_sum": _segment_sum,
    "outcome_def": _outcome_def,
    "target": _target,
    "piece_fill": _piece_fill,
    "piece_order": _piece_order,
    "staff_balance": _staff_balance,
    "release_limit": _release_limit,
    "staff_capacity": _staff_capacity,
    "staffing": _staffing,
    "site_closure": _site_closure,
    "site_capacity": _site_capacity,
    "space_need": _space_need,
    "run_min": _run_min,
    "run_max": _run_max,
    "start_def": _start_def,
    "start_run": _start_run,
    "start_new": _start_new,
    "exclusive": _exclusive,
    "dependency": _dependency,
    "dependency_activity": _dependency_activity,
}


def phrase(d: ModelData, component: str, index: Any) -> Phrase:
    """The :class:`Phrase` of one constraint row."""
    try:
        make = CONSTRAINTS[component]
    except KeyError:
        raise KeyError(f"no words for constraint component {component!r}") from None
    return make(d, labels(d.instance), index if isinstance(index, tuple) else (index,))


def rule(d: ModelData, component: str, index: Any) -> str:
    """The rule in words: 'Westshire County Council budget, 2013/14'."""
    return phrase(d, component, index).rule


def unit(d: ModelData, component: str, index: Any) -> str:
    """The unit of a rule's limit: '£k', 'people', 'episodes', 'FTE', 'desks'."""
    return phrase(d, component, index).unit


@dataclass(frozen=True)
class State:
    """What a rule is doing in a solved plan.

    ``binding`` says it is at its limit; ``achieved`` and ``shortfall`` describe a target;
    ``credit`` is the savings credited from avoided costs that a budget spends on top of its
    general money (the budgets table's ``qipp_credit``).
    """

    binding: bool = True
    achieved: float | None = None
    shortfall: float = 0.0
    credit: float = 0.0


def sentence(d: ModelData, component: str, index: Any, state: State | None = None) -> str:
    """The rule, and with ``state`` what it is doing in the plan.

    >>> sentence(d, "budget", ("county", 2013), State())  # doctest: +SKIP
    'Westshire County Council budget, 2013/14: fully spent'
    """
    ph = phrase(d, component, index)
    if state is None or not state.binding:
        return ph.rule
    if component == "budget" and state.credit > 0:
        return _budget(d, labels(d.instance), index, state.credit).binding
    if component == "target" and state.shortfall > 0:
        return f"{ph.rule}: missed by {num(state.shortfall)} {ph.unit}"
    return ph.binding


# ---------------------------------------------------------------------------------------------
# variables and their bounds
# ---------------------------------------------------------------------------------------------


def quantity(d: ModelData, component: str, index: Any) -> str:
    """A variable in words: 'activity of Telecare in North, 2013/14'."""
    lab = labels(d.instance)
    idx = index if isinstance(index, tuple) else (index,)
    years = [v for v in idx if isinstance(v, int) and v in d.YEARS]
    y = year_label(years[0]) if years else ""
    make = {
        "activity": lambda i, loc, _y: f"activity of {_where(lab, i, loc)}",
        "total_activity": lambda i, _y: f"{_possessive(lab.intervention[i])} area total",
        "contribution": lambda p, g, _y: f"{_possessive(lab.partner[p])} contribution to "
                                         f"{lab.pool[g]}",
        "spend_retained": lambda p, i, _y: f"{_possessive(lab.partner[p])} own money spent on "
                                           f"{lab.intervention[i]}",
        "spend_fenced": lambda p, r, i, _y: f"money from {_possessive(lab.partner[p])} line "
                                            f"'{lab.line[p, r]}' spent on "
                                            f"{lab.intervention[i]}",
        "spend_pooled": lambda g, i, _y: f"money {lab.pool[g]} spends on "
                                         f"{lab.intervention[i]}",
        "qipp_credit": lambda p, _y: f"avoided costs counted towards "
                                     f"{_possessive(lab.partner[p])} savings",
        "segment": lambda i, k, loc, _y, j: f"activity of {_where(lab, i, loc)} on piece "
                                            f"{j + 1} of its response for {lab.priority[k]}",
        "outcome": lambda k, _y: f"{lab.priority[k]} outcome",
        "shortfall": lambda k, _y: f"shortfall against the {lab.priority[k]} target",
        "piece_full": lambda i, k, loc, _y, j: f"piece {j + 1} of the response of "
                                               f"{_where(lab, i, loc)} for "
                                               f"{lab.priority[k]} is full",
        "recruit": lambda e, r, _y: f"{_staff_subject(lab, e, r)} recruited",
        "release": lambda e, r, _y: f"{_staff_subject(lab, e, r)} released",
        "in_post": lambda e, r, _y: f"{_staff_subject(lab, e, r)} in post",
        "deploy": lambda e, r, i, _y: f"{_staff_subject(lab, e, r)} serving "
                                      f"{lab.intervention[i]}",
        "open": lambda s, _y: f"{lab.site[s]} is open",
        "use": lambda s, i, t, _y: f"{lab.space[t]} at {lab.site[s]} used by "
                                   f"{lab.intervention[i]}",
        "run": lambda i, _y: f"{lab.intervention[i]} runs",
        "start": lambda i, _y: f"{lab.intervention[i]} starts",
    }
    try:
        text = make[component](*idx)
    except KeyError:
        raise KeyError(f"no words for variable component {component!r}") from None
    return f"{text}, {y}" if y else text


BOUND_RULES = {
    ("activity", "upper"), ("contribution", "lower"), ("contribution", "upper"),
    ("recruit", "upper"), ("open", "lower"), ("qipp_credit", "upper"),
}


def bound_rule(d: ModelData, component: str, index: tuple, side: str,
               binding: bool = False) -> str:
    """A variable bound that is a board rule, in words (and at its limit with ``binding``).

    ``side`` is ``"lower"`` or ``"upper"``; the pairs in :data:`BOUND_RULES` are rules: need
    (activity's upper bound), minimum and maximum pool shares, recruitment limits, sites that
    cannot close, and the cap on savings credited.
    """
    lab = labels(d.instance)
    inst = d.instance
    if (component, side) == ("activity", "upper"):
        i, loc, y = index
        u = lab.intervention_unit[i]
        need = num(d.need[i, loc, y])
        if binding:
            return f"{_where(lab, i, loc)} meets all its need ({need} {u}) in {year_label(y)}"
        return f"need for {_where(lab, i, loc)}, {year_label(y)} (at most {need} {u})"
    if component == "contribution":
        p, g, y = index
        lo, hi = d.share_bounds[p, g]
        share = lo if side == "lower" else hi
        amount = money(inst, share * d.money[p, y]["available"])
        word = "at least" if side == "lower" else "at most"
        head = (f"{lab.partner[p]} puts {word} {percent(share)} of its money into "
                f"{lab.pool[g]}, {year_label(y)} ({amount})")
        return f"{head}: at its {'minimum' if side == 'lower' else 'maximum'} share" \
            if binding else head
    if (component, side) == ("recruit", "upper"):
        e, r, y = index
        limit = d.staff[e, r, y].recruit_limit
        most = f"at most {num(limit)} FTE" if limit > 0 else "no"
        head = f"{lab.partner[e]} may recruit {most} {lab.role[r]} in {year_label(y)}"
        return f"{head}: at its limit" if binding else head
    if (component, side) == ("open", "lower"):
        s, y = index
        return f"{lab.site[s]} cannot close (open in {year_label(y)})"
    if (component, side) == ("qipp_credit", "upper"):
        p, y = index
        need = money(inst, d.money[p, y]["savings_required"])
        head = f"{_possessive(lab.partner[p])} required savings, {year_label(y)} ({need})"
        return f"{head}: fully met from avoided costs" if binding else head
    return f"{'lower' if side == 'lower' else 'upper'} bound on {quantity(d, component, index)}"


def bound_unit(d: ModelData, component: str, index: tuple) -> str:
    """The unit of a bound rule's limit."""
    lab = labels(d.instance)
    if component in ("activity", "segment", "total_activity"):
        return lab.intervention_unit[index[0]]
    if component in ("recruit", "release", "in_post", "deploy"):
        return "FTE"
    if component == "open":
        return "sites"
    return d.instance.money_label


# ---------------------------------------------------------------------------------------------
# relaxations (how far a soft-able rule must give)
# ---------------------------------------------------------------------------------------------


def relaxation(d: ModelData, component: str, index: tuple, amount: float) -> str:
    """How far a rule must give for a plan to exist, in the rule's own unit."""
    lab = labels(d.instance)
    a = num(amount)
    if component == "target":
        k, y = index
        u = lab.priority_unit[k]
        return (f"{lab.priority[k]} target, {year_label(y)} must fall by {a} {u} (from "
                f"{num(d.target[k, y])} to {num(d.target[k, y] - amount)})")
    if component == "growth_limit":
        i, loc, y = index
        return (f"{_where(lab, i, loc)} must be allowed to grow {a} "
                f"{lab.intervention_unit[i]} more than its limit in {year_label(y)}")
    if component == "reduction_limit":
        i, loc, y = index
        return (f"{_where(lab, i, loc)} must be allowed to shrink {a} "
                f"{lab.intervention_unit[i]} more than its limit in {year_label(y)}")
    if component == "equity_floor":
        i, loc, y = index
        return (f"{_where(lab, i, loc)} must be allowed {a} {lab.intervention_unit[i]} below "
                f"the equity floor in {year_label(y)}")
    if component == "run_min":
        i, y = index
        return (f"{_possessive(lab.intervention[i])} minimum viable scale must fall by {a} "
                f"{lab.intervention_unit[i]} in {year_label(y)} (from {num(d.min_scale[i])})")
    if component == "contribution":
        p, g, y = index
        lo = d.share_bounds[p, g][0] * d.money[p, y]["available"]
        return (f"{_possessive(lab.partner[p])} minimum contribution to {lab.pool[g]}, "
                f"{year_label(y)} must fall by {money(d.instance, amount)} (from "
                f"{money(d.instance, lo)})")
    raise KeyError(f"{component!r} is not a rule that can be relaxed")


# ---------------------------------------------------------------------------------------------
# marginal values (what one more unit of a rule's limit is)
# ---------------------------------------------------------------------------------------------


def one_more(d: ModelData, component: str, index: tuple) -> str:
    """What one more unit of a rule's limit is: 'one more £k for Westshire County Council in
    2013/14'."""
    lab = labels(d.instance)
    inst = d.instance
    if component == "budget":
        p, y = index
        return f"one more {inst.money_label} of general money for {lab.partner[p]} in " \
               f"{year_label(y)}"
    if component == "ring_fence":
        p, r, y = index
        return f"one more {inst.money_label} in {_possessive(lab.partner[p])} ring-fenced " \
               f"line '{lab.line[p, r]}' in {year_label(y)}"
    if component == "pool_balance":
        g, y = index
        return f"one more {inst.money_label} put into {lab.pool[g]} in {year_label(y)}"
    if component == "staff_balance":
        e, r, y = index
        pay = money(inst, d.staff[e, r, y].cost)
        return f"one more FTE {lab.role[r]} employed by {lab.partner[e]} in {year_label(y)} " \
               f"(paid {pay} a year)"
    if component == "site_capacity":
        s, t, y = index
        return f"one more {_singular(lab.space_unit[t])} of {lab.space[t]} at " \
               f"{lab.site[s]} in {year_label(y)}"
    if component == "target":
        k, y = index
        unit_ = lab.priority_unit[k]
        return f"raising the {lab.priority[k]} target for {year_label(y)} by one " \
               f"{_singular(unit_)}"
    return f"one more unit of the limit of {rule(d, component, index)}"


def amount(d: ModelData, unit_: str, value: float | None) -> str:
    """'£k 850' for money, '850 people' for anything else; 'no limit' for an open end."""
    if value is None or not math.isfinite(value):
        return "no limit"
    if unit_ == d.instance.money_label:
        return money(d.instance, value)
    return f"{num(value)} {unit_}"
