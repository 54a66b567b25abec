"""Scenarios and options as overrides: partial changes that return a new, validated instance.

A change addresses one input, or many, by a path in the instance's own names (the grammar is
:mod:`hwbopt.paths`: ``partners[county].cut.total``, ``budgets[county,2013].baseline``,
``activity[*].need``, …) and sets it (``value``), multiplies it (``scale``) or adds to it
(``add``). Applying changes never mutates the instance: the changed data are validated from
scratch, so a scenario that makes an instance invalid (a cut of 120%) is reported with the
scenario's name and the rule it breaks.

From Python, :meth:`hwbopt.Instance.with_changes` takes the same changes as a plain mapping
(:func:`with_changes`): ``{"partners[council].cut.total": 0.35}`` sets a value, and
``{"activity[*].need": {"scale": 1.1}}`` or ``{"interventions[*].cost_growth": {"add":
0.02}}`` multiplies or adds, as ``scale`` and ``add`` do in ``instance.yaml``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from hwbopt.batch.inputs import resolve_inputs
from hwbopt.errors import InstanceError, Problem, UsageError
from hwbopt.io.data import instance_from_data
from hwbopt.paths import UNCHANGEABLE, PathError, instance_data, leaves, parse_path, plain
from hwbopt.schema import Change, Instance

YAML = "instance.yaml"
BASE = "base"  # the scenario that changes nothing
WITH_CHANGES = "with_changes"  # where changes made from Python are reported
OPS = ("value", "scale", "add")  # a mapping of one of these is a change, not a value


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


Changes = Mapping[str, object] | Iterable[Change | Mapping[str, Any]]


def with_changes(inst: Instance, changes: Changes) -> Instance:
    """A new, validated instance with ``changes`` applied in order; ``inst`` is not touched.

    ``changes`` maps a path to its new value (``{"partners[council].cut.total": 0.35}``), or
    to ``{"scale": x}``, ``{"add": x}`` or ``{"value": x}`` (to multiply, add to or set it, as
    a scenario's change in ``instance.yaml`` does); a list of :class:`Change` objects or of
    ``{"path": …, "value": …}`` mappings (the ``instance.yaml`` form) is read too. Raises
    :class:`InstanceError` naming each path that addresses nothing or whose value breaks a
    rule; the changed instance's own scenarios, options and stress sets must still apply, as
    they must for an instance read from files.
    """
    listed = as_changes(changes)
    if not listed:
        return inst
    data = instance_data(inst)
    problems = []
    for change in listed:
        try:
            _apply_one(data, change)
        except PathError as exc:
            problems.append(Problem(WITH_CHANGES, None, change.path, str(exc)))
    if problems:
        raise InstanceError(problems, source=WITH_CHANGES)
    try:
        derived = instance_from_data(data)
    except InstanceError as exc:
        raise InstanceError(_blame(inst, listed, exc), source=WITH_CHANGES) from None
    out = derived.model_copy(update={k: getattr(inst, k) for k in UNCHANGEABLE})
    check_overrides(out, WITH_CHANGES)
    return out


def as_changes(changes: Changes) -> list[Change]:
    """Changes given from Python as :class:`Change` objects, in order (see
    :func:`with_changes`); raises :class:`InstanceError` naming every one that is malformed."""
    if isinstance(changes, str | bytes) or not isinstance(changes, Mapping | Iterable):
        raise InstanceError(Problem(WITH_CHANGES, None, None, (
            "expected a mapping of paths to values, such as "
            f"{{'partners[council].cut.total': 0.35}}, not {type(changes).__name__}")),
            source=WITH_CHANGES)
    given = isinstance(changes, Mapping)
    items: list[tuple[Any, Any]] = list(changes.items()) if isinstance(changes, Mapping) \
        else list(enumerate(changes))
    out: list[Change] = []
    problems: list[Problem] = []
    for key, spec in items:
        path = key
        try:
            if given:
                fields = _fields(spec)
            else:
                path, fields = _listed(key, spec)
            if not isinstance(path, str):
                raise ValueError("a path is text such as partners[council].cut.total, not "
                                 f"{path!r}")
            out.append(Change(path=path, **fields))
        except (ValidationError, ValueError, TypeError) as exc:
            where = path if given or isinstance(path, str) else f"[{key}]"
            problems.append(Problem(WITH_CHANGES, None, str(where), _reason(exc)))
    if problems:
        raise InstanceError(problems, source=WITH_CHANGES)
    return out


def _listed(n: int, item: object) -> tuple[object, dict[str, Any]]:
    """Entry ``n`` of a list of changes as (its path, the fields beside it)."""
    if isinstance(item, Change):
        return item.path, {k: getattr(item, k) for k in item.model_fields_set if k in OPS}
    if isinstance(item, Mapping):
        fields = {str(k): _plain_number(v) for k, v in item.items() if k != "path"}
        return item.get("path", f"[{n}]"), fields
    raise ValueError("expected a Change or a mapping with 'path' and one of 'value', 'scale' "
                     f"or 'add', not {type(item).__name__}")


def _plain_number(value: object) -> object:
    """A NumPy scalar (a value read from a DataFrame) as the Python number it holds."""
    item = getattr(value, "item", None)
    return item() if type(value).__module__ == "numpy" and callable(item) else value


def _fields(spec: object) -> dict[str, Any]:
    """A mapping's value as a change's fields: ``{"scale": 1.1}`` is an operation, anything
    else (a mapping of other keys included, such as ``{"total": 0.35, "over_years": 4}``) the
    value to set."""
    if isinstance(spec, Mapping) and spec and all(k in OPS for k in spec):
        return {str(k): _plain_number(v) for k, v in spec.items()}
    if isinstance(spec, Mapping) and any(k in OPS for k in spec):
        raise ValueError(f"{dict(spec)!r} mixes {', '.join(k for k in OPS if k in spec)} with "
                         "other keys: give {'scale': x} or {'add': x} alone, or "
                         "{'value': {...}} to set a mapping")
    return {"value": _plain_number(spec)}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            ("".join(f"{part}: " for part in e["loc"][:1]) if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return str(exc)


def _described(change: Change) -> str:
    if change.scale is not None:
        return f"scaling it by {change.scale:g}"
    if change.add is not None:
        return f"adding {change.add:g}"
    return f"setting it to {change.value!r}"


def _blame(inst: Instance, changes: Sequence[Change], exc: InstanceError) -> list[Problem]:
    """The problems of the changed data, named by the first change after which the data are
    invalid (only on this error path are the changes re-applied one at a time)."""
    culprit, found = changes[-1], exc
    if len(changes) > 1:
        data = instance_data(inst)
        for change in changes:
            _apply_one(data, change)
            try:
                instance_from_data(copy.deepcopy(data))
            except InstanceError as first:
                culprit, found = change, first
                break
    return [Problem(WITH_CHANGES, None, culprit.path,
                    f"after {_described(culprit)}, "
                    f"{p.field + ': ' + p.message if p.row is None and p.field else p}")
            for p in found.problems]


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
