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
  312 people".
"""

from __future__ import annotations

import math
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
    where,
)
from hwbopt.schema import year_label

__all__ = [
    "BOUND_RULES", "CONSTRAINTS", "Labels", "Phrase", "State", "amount", "bound_rule",
    "bound_unit", "labels", "money", "num", "one_more", "percent", "phrase", "plural",
    "quantity", "relaxation", "rule", "sentence", "sentence_case", "unit",
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
