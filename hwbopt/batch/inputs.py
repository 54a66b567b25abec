"""What a stress set varies: each stress input's paths resolved to the instance fields the
batch engine can change. See ``models/stress.md``.

A leaf of the stress engine, so reading and validating an instance checks its stress inputs
without loading the model builder or the solver: :func:`resolve_inputs` is what
:func:`hwbopt.scenarios.override_problems` runs for every stress set, and what the engine runs
again when it prepares a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hwbopt.errors import InstanceError, Problem
from hwbopt.paths import PathError, instance_data, leaves, parse_path
from hwbopt.schema import Instance, StressInput

# the instance fields a stress input may name, and where the path grammar reaches them
FIELDS: dict[str, str] = {
    "budget": "budgets[...].baseline",
    "cut_total": "partners[...].cut.total",
    "cut_over": "partners[...].cut.over_years",
    "cut_by_year": "partners[...].cut_by_year[YEAR]",
    "savings_rate": "partners[...].savings_rate",
    "min_share": "pools[...].contributors[...].min_share",
    "max_share": "pools[...].contributors[...].max_share",
    "need": "activity[...].need",
    "need_growth": "interventions[...].need_growth",
    "unit_cost": "interventions[...].unit_cost",
    "cost_growth": "interventions[...].cost_growth",
    "fte": "staff[...].fte",
    "recruit_limit": "staff[...].recruit_limit",
    "available": "sites[...].available",
    "target": "targets[...].target",
}


@dataclass(frozen=True)
class Leaf:
    """A marker put in the instance's data where a field the engine can vary sits."""

    field: str
    index: Any


class StressError(InstanceError):
    """A stress set the batch engine cannot run (exit 2), located in instance.yaml."""


def marked_data(inst: Instance) -> dict[str, Any]:
    """The instance's data with a :class:`Leaf` at each field the engine can vary; a leaf's
    index is the field's place in :func:`hwbopt.derived.fields`."""
    data = instance_data(inst)
    years = list(inst.years)

    def mark(row: dict[str, Any], key: Any, name: str, index: Any) -> None:
        row[key] = Leaf(name, index)

    for k, row in enumerate(data["budgets"]):
        mark(row, "baseline", "budget", k)
    for p, row in enumerate(data["partners"]):
        mark(row, "savings_rate", "savings_rate", p)
        if row.get("cut") is not None:
            mark(row["cut"], "total", "cut_total", p)
            mark(row["cut"], "over_years", "cut_over", p)
        if row.get("cut_by_year") is not None:
            for y in list(row["cut_by_year"]):
                mark(row["cut_by_year"], y, "cut_by_year", (p, years.index(int(y))))
    c = 0
    for pool in data["pools"]:
        for con in pool["contributors"]:
            mark(con, "min_share", "min_share", c)
            mark(con, "max_share", "max_share", c)
            c += 1
    for k, row in enumerate(data["activity"]):
        mark(row, "need", "need", k)
    for k, row in enumerate(data["interventions"]):
        for name in ("need_growth", "unit_cost", "cost_growth"):
            mark(row, name, name, k)
    for k, row in enumerate(data["staff"]):
        mark(row, "fte", "fte", k)
        mark(row, "recruit_limit", "recruit_limit", k)
    for k, row in enumerate(data["sites"]):
        mark(row, "available", "available", k)
    for k, row in enumerate(data["targets"]):
        mark(row, "target", "target", k)
    return data


@dataclass(frozen=True)
class Target:
    """Where one stress input's value goes: the fields it sets and how."""

    column: str
    op: str
    leaves: tuple[tuple[str, Any], ...]  # (field, index)


def resolve_inputs(inst: Instance, inputs: Sequence[StressInput], where: str) -> list[Target]:
    """Each input's fields, or a located error naming what the engine cannot vary."""
    data = marked_data(inst)
    out, problems = [], []
    for k, spec in enumerate(inputs):
        reached: list[tuple[str, Any]] = []
        for path in spec.targets:
            loc = f"{where}.inputs[{k}]." + ("path" if spec.path is not None else "paths")
            try:
                found = leaves(data, parse_path(path), path)
            except PathError as exc:
                problems.append(Problem("instance.yaml", None, loc, str(exc)))
                continue
            for container, key in found:
                value = container[key]
                if not isinstance(value, Leaf):
                    problems.append(Problem("instance.yaml", None, loc, (
                        f"{path} cannot be varied by the batch engine, which changes numbers "
                        "only: stress inputs may name " + ", ".join(FIELDS.values()))))
                    break
                reached.append((value.field, value.index))
        out.append(Target(spec.column, spec.op, tuple(reached)))
    if problems:
        raise StressError(problems, source=where)
    return out
