"""The path grammar of changes: how a scenario, an option or a stress input names the inputs
it changes, in the instance's own names::

    partners[county].cut.total           one field of one partner
    partners[ccg].savings_rate
    pools[integrated_care].contributors[ccg].max_share
    budgets[county].baseline             every year of the county's budget (keys may be a prefix)
    budgets[county,2013].baseline        one row of budgets.csv
    activity[*].need                     every row of activity.csv ('*' matches any key)
    staff[*,*,2014].recruit_limit        every employer and role in 2014
    settings.equity_floor
    partners[voluntary].cut_by_year[2013]

Rows of a table are selected by its key fields (``KEYS``); YAML lists by ``id`` (pool
contributors by ``partner``). A leaf module: reading an instance, applying scenarios and
resolving stress inputs all use it, and it uses nothing of hwbopt but the schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hwbopt.schema import Instance

# key fields by which a path selects rows of a table or entries of a YAML list
KEYS: dict[str, tuple[str, ...]] = {
    "partners": ("id",),
    "pools": ("id",),
    "priorities": ("id",),
    "localities": ("id",),
    "roles": ("id",),
    "space_types": ("id",),
    "exclusive": ("id",),
    "dependencies": ("intervention", "requires"),
    "ring_fenced": ("id",),
    "contributors": ("partner",),
    "interventions": ("id",),
    "activity": ("intervention", "locality"),
    "responses": ("intervention", "priority", "upto_share"),
    "budgets": ("partner", "year"),
    "targets": ("priority", "year"),
    "avoided_costs": ("intervention", "partner"),
    "staff": ("employer", "role", "year"),
    "intervention_staff": ("intervention", "role"),
    "sites": ("id",),
    "site_capacity": ("site", "space_type"),
    "intervention_space": ("intervention", "space_type"),
}
# what overrides may not touch: the overrides themselves
UNCHANGEABLE = ("scenarios", "options", "stress")

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\[\]]*)\])?$")
PATH_HELP = ("expected a path such as partners[county].cut.total, budgets[county,2013].baseline "
             "or activity[*].need")


@dataclass(frozen=True)
class Step:
    name: str
    keys: tuple[str, ...] | None  # None: no brackets


class PathError(ValueError):
    """A path that does not address anything in the instance (message says why)."""


def parse_path(path: str) -> list[Step]:
    """Split ``a[k1,k2].b.c[k]`` into steps; raises :class:`PathError` on bad syntax."""
    parts: list[str] = []
    depth, start = 0, 0
    for pos, ch in enumerate(path):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise PathError(f"unbalanced ']' in {path!r}: {PATH_HELP}")
        elif ch == "." and depth == 0:
            parts.append(path[start:pos])
            start = pos + 1
    if depth != 0:
        raise PathError(f"unbalanced '[' in {path!r}: {PATH_HELP}")
    parts.append(path[start:])
    steps = []
    for part in parts:
        m = _SEGMENT.match(part.strip())
        if not m:
            raise PathError(f"cannot read {part!r} in {path!r}: {PATH_HELP}")
        name, keys = m.group(1), m.group(2)
        if keys is None:
            steps.append(Step(name, None))
            continue
        tokens = tuple(k.strip() for k in keys.split(","))
        if any(not t for t in tokens):
            raise PathError(f"empty key in {part!r}: give an id, a year or '*'")
        steps.append(Step(name, tokens))
    return steps


def _same(token: str, value: Any) -> bool:
    if token == "*":
        return True
    if value is None:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return math.isclose(float(token), float(value), rel_tol=0.0, abs_tol=1e-12)
        except ValueError:
            return False
    return str(value) == token


def _known(values: Iterable[Any]) -> str:
    shown = sorted({str(v) for v in values if v is not None})
    text = ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")
    return text or "none"


def select_rows(rows: list[dict[str, Any]], collection: str, keys: tuple[str, ...],
                 where: str) -> list[dict[str, Any]]:
    fields = KEYS[collection]
    if len(keys) > len(fields):
        raise PathError(f"{where} takes at most {len(fields)} key"
                        f"{'s' if len(fields) > 1 else ''} ({', '.join(fields)}), "
                        f"got {len(keys)}")
    for token, field in zip(keys, fields, strict=False):
        if token != "*" and not any(_same(token, r.get(field)) for r in rows):
            raise PathError(f"no {collection} entry with {field} '{token}': expected "
                            f"'*' or one of {_known(r.get(field) for r in rows)}")
    found = [r for r in rows
             if all(_same(t, r.get(f)) for t, f in zip(keys, fields, strict=False))]
    if not found:
        raise PathError(f"{where}[{','.join(keys)}] matches no {collection} entry")
    return found


def leaves(data: dict[str, Any], steps: Sequence[Step], path: str) -> list[tuple[Any, Any]]:
    """The (container, key) pairs a path addresses."""
    nodes: list[dict[str, Any]] = [data]
    where = ""
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        where = f"{where}.{step.name}" if where else step.name
        nxt: list[tuple[Any, Any]] = []
        for node in nodes:
            if step.name not in node:
                inside = f" of {where.rsplit('.', 1)[0]}" if "." in where else ""
                raise PathError(f"unknown field '{step.name}'{inside}: expected one of "
                                f"{_known(node)}")
            value = node[step.name]
            if step.keys is None:
                nxt.append((node, step.name))
                continue
            if isinstance(value, dict):  # a mapping keyed by year (cut_by_year)
                if len(step.keys) != 1:
                    raise PathError(f"{where} takes one key")
                token = step.keys[0]
                matches = [k for k in value if _same(token, k)]
                if not matches and last and token != "*":
                    # setting a year that is not listed yet adds it
                    key: Any = int(token) if token.lstrip("-").isdigit() else token
                    nxt.append((value, key))
                    continue
                if not matches:
                    raise PathError(f"{where} has no entry '{token}': expected one of "
                                    f"{_known(value)}")
                nxt.extend((value, k) for k in matches)
                continue
            if not isinstance(value, list) or step.name not in KEYS:
                raise PathError(f"{where} is not a table or list: it takes no [keys]")
            rows = select_rows(value, step.name, step.keys, where)
            if last:
                raise PathError(f"{where}[{','.join(step.keys)}] selects whole entries: "
                                "name the field to change, e.g. "
                                f"{where}[{','.join(step.keys)}]."
                                f"{_field_hint(rows[0], KEYS[step.name])}")
            nxt.extend((row, None) for row in rows)
        if step.keys is not None:
            where += f"[{','.join(step.keys)}]"
        if last:
            return nxt
        nodes = []
        for container, key in nxt:
            child = container if key is None else container[key]
            if child is None:
                raise PathError(f"{where} is not set, so it has no '{steps[n + 1].name}': "
                                f"set the whole of {where} instead")
            if isinstance(child, list):
                raise PathError(f"{where} is a list: select entries with {where}[ID] or "
                                f"{where}[*]" if step.name in KEYS else
                                f"{where} is a list: set it whole")
            if not isinstance(child, dict):
                raise PathError(f"{where} is a single value: it has no "
                                f"'{steps[n + 1].name}'")
            nodes.append(child)
    return []


def _field_hint(row: dict[str, Any], keys: tuple[str, ...]) -> str:
    numeric = [k for k, v in row.items()
               if isinstance(v, int | float) and not isinstance(v, bool) and k not in keys]
    return numeric[0] if numeric else next(k for k in row if k not in keys)


def plain(value: Any) -> Any:
    """Tuples (from frozen objects) as lists, so the data read like parsed YAML."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def instance_data(inst: Instance) -> dict[str, Any]:
    """The instance as plain data (YAML fields and tables), without scenarios and options."""
    data: dict[str, Any] = plain(inst.model_dump(mode="python", exclude=set(UNCHANGEABLE)))
    return data
