"""One naming layer: every constraint and variable index of the model, as a sentence.

The model speaks in ids and tuples (``budget[county,2013]``); a board speaks of "Westshire
County Council budget, 2013/14". This module turns one into the other, in the instance's own
names and units, for explanations, results and reports alike. Each component's words are
declared by the part module that builds it (``words`` of its
:class:`~hwbopt.model.component.Component`, from the pieces in :mod:`hwbopt.model.phrases`);
``tests/test_words.py`` checks that every row and column gets words and that none prints a raw
index.

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
  312 people";
- :func:`objective_sentence` — what the objective counts, with the weights: "1 under-18
  conception averted = 10 points; ...";
- :func:`measured` — an outcome with the direction its measure states: "+48.57 under-18
  conceptions averted", never a bare "+48.57 conceptions" that reads as harm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from hwbopt.model.component import Index, QuantityWords, RuleWords
from hwbopt.model.data import ModelData
from hwbopt.model.names import COMPONENTS
from hwbopt.model.phrases import (
    Labels,
    Phrase,
    State,
    labels,
    money,
    num,
    percent,
    plural,
    possessive,
    sentence_case,
    singular,
    where,
)
from hwbopt.schema import year_label

__all__ = [
    "BOUND_RULES", "CONSTRAINTS", "Labels", "Phrase", "State", "amount", "bound_rule",
    "bound_unit", "labels", "measured", "money", "num", "objective_sentence", "one_more",
    "percent", "phrase", "plural", "quantity", "relaxation", "rule", "sentence",
    "sentence_case", "unit", "weight_term",
]

# ---------------------------------------------------------------------------------------------
# constraints
# ---------------------------------------------------------------------------------------------

# the words of every constraint, as its part module declares them
CONSTRAINTS = {c.name: c.words for c in COMPONENTS.values() if c.kind == "con" and c.words}


def _rule_words(component: str) -> RuleWords:
    c = COMPONENTS.get(component)
    if c is None or c.words is None:
        raise KeyError(f"no words for constraint component {component!r}")
    return c.words


def _quantity_words(component: str) -> QuantityWords:
    c = COMPONENTS.get(component)
    if c is None or c.quantity is None:
        raise KeyError(f"no words for variable component {component!r}")
    return c.quantity


def _index(index: Any) -> Index:
    return index if isinstance(index, tuple) else (index,)


def phrase(d: ModelData, component: str, index: Any, state: State | None = None) -> Phrase:
    """The :class:`Phrase` of one constraint row (at its limit as ``state`` says)."""
    make = _rule_words(component)
    return make(d, labels(d.instance), _index(index), state or State())


def rule(d: ModelData, component: str, index: Any) -> str:
    """The rule in words: 'Westshire County Council budget, 2013/14'."""
    return phrase(d, component, index).rule


def unit(d: ModelData, component: str, index: Any) -> str:
    """The unit of a rule's limit: '£k', 'people', 'episodes', 'FTE', 'desks'."""
    return phrase(d, component, index).unit


def sentence(d: ModelData, component: str, index: Any, state: State | None = None) -> str:
    """The rule, and with ``state`` what it is doing in the plan.

    >>> sentence(d, "budget", ("county", 2013), State())  # doctest: +SKIP
    'Westshire County Council budget, 2013/14: fully spent'
    """
    if state is None or not state.binding:
        return phrase(d, component, index).rule
    return phrase(d, component, index, state).binding


# ---------------------------------------------------------------------------------------------
# variables and their bounds
# ---------------------------------------------------------------------------------------------


def quantity(d: ModelData, component: str, index: Any) -> str:
    """A variable in words: 'activity of Telecare in North, 2013/14'."""
    idx = _index(index)
    years = [v for v in idx if isinstance(v, int) and v in d.YEARS]
    text = _quantity_words(component)(labels(d.instance), *idx)
    return f"{text}, {year_label(years[0])}" if years else text


BOUND_RULES = {
    ("activity", "upper"), ("contribution", "lower"), ("contribution", "upper"),
    ("recruit", "upper"), ("open", "lower"), ("qipp_credit", "upper"),
}


def bound_rule(d: ModelData, component: str, index: Index, side: str,
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
            return f"{where(lab, i, loc)} meets all its need ({need} {u}) in {year_label(y)}"
        return f"need for {where(lab, i, loc)}, {year_label(y)} (at most {need} {u})"
    if component == "contribution":
        p, g, y = index
        lo, hi = d.share_bounds[p, g]
        share = lo if side == "lower" else hi
        amount = money(inst, d.contribution_bounds[p, g, y][0 if side == "lower" else 1])
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
    if (component, side) == ("open", "upper"):
        s, y = index
        return f"{lab.site[s]} is not available in {year_label(y)}"
    if (component, side) == ("segment", "upper"):
        i, k, loc, y, _j = index
        u = lab.intervention_unit[i]
        return (f"need for {where(lab, i, loc)}, {year_label(y)} (at most "
                f"{num(d.need[i, loc, y])} {u} count towards {lab.priority[k]})")
    if (component, side) == ("in_post", "lower"):
        e, r, y = index
        return (f"{lab.partner[e]} cannot release more {lab.role[r]} than it has in post "
                f"in {year_label(y)}")
    if (component, side) == ("qipp_credit", "upper"):
        p, y = index
        need = money(inst, d.money[p, y]["savings_required"])
        head = f"{possessive(lab.partner[p])} required savings, {year_label(y)} ({need})"
        return f"{head}: fully met from avoided costs" if binding else head
    return f"{'lower' if side == 'lower' else 'upper'} bound on {quantity(d, component, index)}"


def bound_unit(d: ModelData, component: str, index: Index) -> str:
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
# relaxations and marginal values
# ---------------------------------------------------------------------------------------------


def relaxation(d: ModelData, component: str, index: Index, amount: float) -> str:
    """How far a rule must give for a plan to exist, in the rule's own unit."""
    c = COMPONENTS.get(component)
    if c is None or c.relaxation is None:
        raise KeyError(f"{component!r} is not a rule that can be relaxed")
    return c.relaxation(d, labels(d.instance), index, amount)


def one_more(d: ModelData, component: str, index: Index) -> str:
    """What one more unit of a rule's limit is: 'one more £k for Westshire County Council in
    2013/14'."""
    c = COMPONENTS.get(component)
    if c is not None and c.one_more is not None:
        return c.one_more(d, labels(d.instance), index)
    return f"one more unit of the limit of {rule(d, component, index)}"


def amount(d: ModelData, unit_: str, value: float | None) -> str:
    """'£k 850' for money, '850 people' for anything else; 'no limit' for an open end."""
    if value is None or not math.isfinite(value):
        return "no limit"
    if unit_ == d.instance.money_label:
        return money(d.instance, value)
    return f"{num(value)} {unit_}"


# ---------------------------------------------------------------------------------------------
# the objective and the direction of each measure, for people who never see the model
# ---------------------------------------------------------------------------------------------

# a priority as the instance gives it (hwbopt.schema.Priority) or as a result folder's
# summary.json labels carry it ({"name", "measure", "unit", "weight", ...})
PriorityLike = Any


def _field(k: PriorityLike, name: str, default: Any = None) -> Any:
    value = k.get(name, default) if isinstance(k, Mapping) else getattr(k, name, default)
    return default if value is None else value


def _name(k: PriorityLike) -> str:
    return str(_field(k, "name") or _field(k, "label") or _field(k, "id") or "")


def _measure(k: PriorityLike) -> str:
    """The measure without its parenthetical detail: what a sentence can carry."""
    text = re.sub(r"\s*\([^)]*\)", "", str(_field(k, "measure", ""))).strip()
    return re.sub(r"\s+", " ", text)


def _one(k: PriorityLike) -> str:
    """One unit of a priority's measure: 'under-18 conception averted', 'older person helped
    to stay living at home'. The unit is singular where the measure names it (the measure is
    the plural phrase the instance wrote); otherwise the measure's first word, when it is a
    plural noun, is; failing both the unit leads, with the measure after it."""
    measure, unit_ = _measure(k), str(_field(k, "unit", ""))
    if not measure:
        return singular(unit_) or "unit"
    if unit_:
        hit = re.search(rf"\b{re.escape(unit_)}\b", measure)
        if hit:
            return measure[:hit.start()] + singular(unit_) + measure[hit.end():]
    first, _, rest = measure.partition(" ")
    one = singular(first)
    # 'adults losing weight, or children ...': a singular first noun would not agree with the
    # alternatives after it, so such a measure keeps the unit in front
    if one != first and first.isalpha() and not re.search(r"\bor\b", rest):
        return f"{one} {rest}".strip()
    return f"{singular(unit_) or 'unit'} ({measure})"


def weight_term(k: PriorityLike) -> str:
    """What one unit of a priority is worth: '1 under-18 conception averted = 10 points'."""
    weight = float(_field(k, "weight", 1.0))
    return f"1 {_one(k)} = {num(weight)} point{'' if weight == 1 else 's'}"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _penalties(priorities: list[PriorityLike]) -> str:
    """The soft targets' extra loss per unit short, or ''."""
    soft = [k for k in priorities if _field(k, "target_type") == "soft"
            and float(_field(k, "shortfall_penalty", 0.0)) > 0]
    if not soft:
        return ""
    terms = []
    for k in soft:
        pen = float(_field(k, "shortfall_penalty"))
        terms.append(f"{num(pen)} point{'' if pen == 1 else 's'} per "
                     f"{singular(str(_field(k, 'unit', ''))) or 'unit'} for {_name(k)}")
    return "Each unit short of a soft target loses a further " + _and(terms)


def _hard(priorities: list[PriorityLike]) -> str:
    hard = [_name(k) for k in priorities if _field(k, "target_type") == "hard"]
    if not hard:
        return ""
    return (f"The {_and(hard)} target{'s' if len(hard) > 1 else ''} must be met in full "
            "every year")


def objective_sentence(priorities: Iterable[PriorityLike], kind: str = "outcome", *,
                       money_label: str = "money", discount_rate: float = 0.0,
                       equity_over: str = "targets") -> str:
    """What the objective counts, in a sentence or three a board member can check.

    ``priorities`` are :class:`hwbopt.schema.Priority` objects or the mappings a result's
    ``summary.json`` labels carry (``name``, ``measure``, ``unit``, ``weight``,
    ``target_type`` and, where recorded, ``shortfall_penalty``); ``kind`` is the
    ``objective_kind`` (``outcome``, ``cost`` or ``equity``).

    >>> objective_sentence(inst.priorities)  # doctest: +SKIP
    'The objective adds up points for outcomes over the years: 1 older person helped to
    stay living at home = 8 points; ...; 1 under-18 conception averted = 10 points. Each unit
    short of a soft target loses a further 6 points per person for Older people's
    independence and 10 points per conception for Teenage pregnancy. The Mental health
    target must be met in full every year.'
    """
    ks = list(priorities)
    years = ("each later year's points discounted at " f"{percent(discount_rate)} a year"
             if discount_rate > 0 else "")
    points = "; ".join(weight_term(k) for k in ks)
    if kind == "cost":
        money_years = ("each later year's money discounted at "
                       f"{percent(discount_rate)} a year" if discount_rate > 0 else "")
        head = ("The objective is the least money, in " + money_label + ", that meets every "
                "target: everything the partners pay out over the years, services, staff "
                "and buildings alike; every target, soft or hard, must be met in full")
        return head + (f", {money_years}" if money_years else "") + "."
    parts: list[str] = []
    if kind == "equity":
        if equity_over == "localities":
            first = ("The objective first lifts the worst-served locality: it makes the "
                     "lowest weighted outcome per head of need in any locality as high as "
                     "it can")
        else:
            first = ("The objective first lifts the worst-met target: it makes the lowest "
                     "share of any target met (achieved ÷ target) as high as it can")
        parts.append(first + "; holding that, it scores outcomes in points"
                     + (f": {points}" if points else ""))
    else:
        parts.append("The objective adds up points for outcomes over the years"
                     + (f": {points}" if points else ""))
    if years:
        parts[-1] += f", {years}"
    for extra in (_penalties(ks), _hard(ks)):
        if extra:
            parts.append(extra)
    return ". ".join(parts) + "."


def measured(value: float, k: PriorityLike, *, signed: bool = True,
             significant: int = 6) -> str:
    """An amount of a priority's outcome with the direction its measure states:
    '+48.57 under-18 conceptions averted', '−3 people moving to recovery ...'. A plain
    '+48.57 conceptions' reads as harm where the measure is conceptions averted; the measure,
    not the bare unit, says that more is better."""
    measure, unit_ = _measure(k), str(_field(k, "unit", ""))
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else (
        "−" if value < 0 else "")
    amount = f"{sign}{num(abs(value), significant)}"
    if not measure:
        return f"{amount} {plural(unit_, abs(value))}".strip()
    if abs(value) == 1:
        return f"{amount} {_one(k)}"
    if unit_ and re.search(rf"\b{re.escape(unit_)}\b", measure):
        return f"{amount} {measure}"
    return f"{amount} {plural(unit_, abs(value))} ({measure})".strip()
