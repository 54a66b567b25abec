"""The shared pieces of a model component in words: numbers, the instance's names, phrases.

A part module writes each of its rules as a :class:`Phrase` from these pieces, in the
instance's own names and units; :mod:`hwbopt.words` turns any row or column into its sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwbopt.model.data import ALL
from hwbopt.schema import Instance, year_label

# ---------------------------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------------------------


def num(value: float | None, significant: int = 6) -> str:
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


def singular(unit_: str) -> str:
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


def where(lab: Labels, i: str, loc: str) -> str:
    """'Telecare in North', or 'Telecare' when the instance has no localities."""
    name = lab.intervention.get(i, i)
    return name if loc == ALL else f"{name} in {lab.locality.get(loc, loc)}"


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# ---------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """A rule in words: as stated, as it reads at its limit, and the unit of its limit."""

    rule: str
    binding: str
    unit: str


def per_year(subject: str, y: int, state: str, unit: str) -> Phrase:
    """Rules whose limit is per year: 'X, 2013/14' and 'X, 2013/14: fully spent'."""
    head = f"{subject}, {year_label(y)}"
    return Phrase(head, f"{head}: {state}", unit)


def yearly_limit(subject: str, y: int, unit: str, state: str = "at its limit") -> Phrase:
    """Rules that are a standing limit: 'X may grow …: at its limit in 2012/13'."""
    return Phrase(f"{subject} in {year_label(y)}", f"{subject}: {state} in {year_label(y)}",
                  unit)


def staff_subject(lab: Labels, e: str, r: str) -> str:
    """An employer's staff in a role: "Westshire County Council's social worker"."""
    return f"{possessive(lab.partner[e])} {lab.role[r]}"


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
