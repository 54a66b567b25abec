"""Scenarios and options as overrides: partial changes that return a new, validated instance.

A change addresses one input, or many, by a path in the instance's own names (the grammar is
:mod:`hwbopt.paths`: ``partners[county].cut.total``, ``budgets[county,2013].baseline``,
``activity[*].need``, …) and sets it (``value``), multiplies it (``scale``) or adds to it
(``add``). Applying changes never mutates the instance: the changed data are validated from
scratch, so a scenario that makes an instance invalid (a cut of 120%) is reported with the
scenario's name and the rule it breaks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hwbopt.batch.inputs import resolve_inputs
from hwbopt.errors import InstanceError, Problem, UsageError
from hwbopt.io.data import instance_from_data
from hwbopt.paths import UNCHANGEABLE, PathError, instance_data, leaves, parse_path, plain
from hwbopt.schema import Change, Instance

YAML = "instance.yaml"
BASE = "base"  # the scenario that changes nothing


def _apply_one(data: dict[str, Any], change: Change) -> None:
    found = leaves(data, parse_path(change.path), change.path)
    op = change.op
    for container, key in found:
        if op == "value":
            container[key] = copy.deepcopy(plain(change.value))
            continue
        current = container.get(key) if isinstance(container, dict) else None
        if isinstance(current, bool) or not isinstance(current, int | float):
            got = "not set" if current is None else repr(current)
            raise PathError(f"{change.path} is {got}: '{op}' needs a number to change "
                            "(use 'value' to set it)")
        if change.scale is not None:
            container[key] = current * change.scale
        elif change.add is not None:
            container[key] = current + change.add


def apply_changes(inst: Instance, changes: Sequence[Change], where: str,
                  references: bool = True) -> Instance:
    """A new instance with ``changes`` applied in order; ``inst`` is not touched.

    ``where`` locates the changes in instance.yaml for messages, e.g.
    ``scenarios[deeper_cuts].changes``. Raises :class:`InstanceError` naming the change that
    cannot be applied, or every rule the changed instance breaks.
    """
    if not changes:
        return inst
    data = instance_data(inst)
    for n, change in enumerate(changes):
        try:
            _apply_one(data, change)
        except PathError as exc:
            raise InstanceError(Problem(YAML, None, f"{where}[{n}].path", str(exc)),
                                source=where) from None
    try:
        derived = instance_from_data(data, references=references)
    except InstanceError as exc:
        raise InstanceError(
            [Problem(YAML, None, where, f"after these changes, {p}") for p in exc.problems],
            source=where) from None
    return derived.model_copy(update={k: getattr(inst, k) for k in UNCHANGEABLE})


def scenario_names(inst: Instance) -> list[str]:
    return [BASE, *(s.id for s in inst.scenarios)]


def scenario_instance(inst: Instance, name: str) -> Instance:
    """The instance under scenario ``name`` (``base`` is the instance itself)."""
    if name == BASE:
        return inst
    for k, s in enumerate(inst.scenarios):
        if s.id == name:
            return apply_changes(inst, s.changes, f"scenarios[{k}].changes")
    raise UsageError(f"unknown scenario '{name}': expected one of "
                     f"{', '.join(scenario_names(inst))}")


def override_problems(inst: Instance) -> list[Problem]:
    """Every scenario's and option's changes applied on their own, and every stress set's inputs
    resolved to what the batch engine varies: where one fails, and why."""
    out: list[Problem] = []
    groups = [(f"scenarios[{k}].changes", s.changes) for k, s in enumerate(inst.scenarios)]
    groups += [(f"options[{k}].changes", o.changes) for k, o in enumerate(inst.options)]
    for where, changes in groups:
        try:
            apply_changes(inst, changes, where)
        except InstanceError as exc:
            out.extend(exc.problems)
    for k, stress in enumerate(inst.stress):
        try:
            resolve_inputs(inst, stress.inputs, f"stress[{k}]")
        except InstanceError as exc:
            out.extend(exc.problems)
    return out


def check_overrides(inst: Instance, source: str,
                    locate: Callable[[Problem], Iterable[Problem]] = lambda p: (p,)) -> None:
    """Raise :class:`InstanceError` if a scenario, an option or a stress set of a read instance
    cannot be applied. Every reader ends with this check; ``locate`` turns a problem found in
    the folder's terms into the reader's (a workbook's sheet and cell)."""
    found = [q for p in override_problems(inst) for q in locate(p)]
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise InstanceError(errors, source=source)
