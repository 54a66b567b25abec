"""Every variable and constraint of the model, collected from the part modules that build them.

Each part (``activity.py``, ``money.py``, …) declares its components beside its build code
(:class:`~hwbopt.model.component.Component`); this module gathers them, in the order of
``models/``, and derives what the analyses read: the components with a role
(:func:`with_role`), the families of rules an infeasible instance is diagnosed by
(:data:`FAMILIES`), and the functions through which stress inputs reach the compiled arrays
(:func:`reaching`). Tests check that the built model has no component missing from here and
that every name appears on its page in ``models/``.
"""

from __future__ import annotations

from hwbopt.model import activity, choices, estate, gap, money, objective, outcomes, policy, staff
from hwbopt.model.component import ROLES, Component, Family, FamilyText, ReachFn

PARTS = (activity, money, outcomes, staff, estate, choices, objective)

COMPONENTS: dict[str, Component] = {c.name: c for part in PARTS for c in part.COMPONENTS}

# Parts added to the compiled model after the build, by options (``hwbopt.model.policy``,
# ``hwbopt.model.gap``): not Pyomo components, but named rows and columns all the same.
ARRAY_COMPONENTS: dict[str, Component] = {
    c.name: c for part in (policy, gap) for c in part.COMPONENTS
}


def with_role(role: str) -> tuple[str, ...]:
    """Names of the components with ``role``, in the order that role lists them."""
    if role not in ROLES:
        raise KeyError(f"no role {role!r}; roles are {', '.join(ROLES)}")
    having = [c for c in COMPONENTS.values() if role in c.roles]
    return tuple(c.name for c in sorted(having, key=lambda c: c.roles[role]))


def reaching(touched: set[str]) -> list[ReachFn]:
    """The reach functions of every component for the groups of derived numbers ``touched``
    (``money``, ``need``, ``cost``, ``staff``, ``sites``, ``targets``)."""
    return [fn for c in COMPONENTS.values() for group, fn in c.reach.items() if group in touched]


def _family(text: FamilyText) -> Family:
    members = [c for c in COMPONENTS.values() if c.family == text.key]
    return Family(text.key, text.text,
                  rows=tuple(c.name for c in members if c.kind == "con"),
                  col_lower=tuple(c.name for c in members
                                  if c.kind == "var" and c.relaxed == "lower"),
                  col_upper=tuple(c.name for c in members
                                  if c.kind == "var" and c.relaxed == "upper"))


FAMILIES: tuple[Family, ...] = tuple(
    _family(t) for t in sorted((t for part in PARTS for t in part.FAMILIES),
                               key=lambda t: t.place))

__all__ = ["ARRAY_COMPONENTS", "COMPONENTS", "FAMILIES", "Component", "Family", "reaching",
           "with_role"]
