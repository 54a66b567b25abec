"""The layout of an instance workbook, derived from the schema.

One sheet per list:

- ``instance``: the single values of ``instance.yaml`` as rows of ``field``, ``value`` and
  ``meaning``, nested ones with dotted names (``horizon.first_year``, ``settings.objective``);
- one sheet per list of ``instance.yaml`` (``partners``, ``pools``, ``priorities``, …), one row
  per item; a nested single object becomes dotted columns (``cut.total``, ``cut.over_years``);
- a *child sheet* per list inside an item, one row per element, keyed by the ids of the items
  that hold it: ``partner_remit`` (partner, intervention), ``ring_fenced`` (partner, id, name,
  share), ``ring_fenced_interventions`` (partner, line, intervention), ``pool_contributors``
  (pool, partner, min_share, max_share), … (:data:`LIST_SHEETS`);
- one sheet per table, named as the table (``interventions``, ``budgets``, …), with the
  table's columns.

Every list and table sheet has its field names in row 1 and, in row 2, each field's meaning,
unit and an example (taken from the schema's field descriptions); data starts in row 3.

Adding a list to the schema is one :class:`ListSheet` line per sheet;
``tests/test_workbook.py`` fails until every field of the schema has a sheet.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from hwbopt.schema import TABLES, YAML_FIELDS, Instance

README_SHEET = "read_me"
INSTANCE_SHEET = "instance"
HEADER_ROW, MEANING_ROW, FIRST_ROW = 1, 2, 3


@dataclass(frozen=True)
class ListSheet:
    """A sheet holding one list of the instance.

    ``path`` walks from :class:`Instance` through list fields: ``("partners",)`` is the list of
    partners, ``("partners", "remit")`` each partner's remit. ``keys`` name the columns that
    hold the ids of the enclosing items, outermost first (one per step of ``path`` but the
    last). A list of plain values puts each value in column ``value``; a mapping puts each key
    in column ``key`` and its value in ``value``; a list of objects has one column per field.
    """

    name: str
    path: tuple[str, ...]
    keys: tuple[str, ...] = ()
    value: str | None = None
    key: str | None = None
    joined: tuple[str, ...] = ()  # list fields of an item held in one cell, '; '-separated
    point: str | None = None  # the column a problem with a whole row (or item) points at


LIST_SHEETS: tuple[ListSheet, ...] = (
    ListSheet("partners", ("partners",)),
    ListSheet("partner_remit", ("partners", "remit"), ("partner",), value="intervention"),
    ListSheet("partner_cuts", ("partners", "cut_by_year"), ("partner",), key="year",
              value="cut"),
    ListSheet("ring_fenced", ("partners", "ring_fenced"), ("partner",)),
    ListSheet("ring_fenced_interventions", ("partners", "ring_fenced", "interventions"),
              ("partner", "line"), value="intervention"),
    ListSheet("pools", ("pools",)),
    ListSheet("pool_interventions", ("pools", "interventions"), ("pool",),
              value="intervention"),
    ListSheet("pool_contributors", ("pools", "contributors"), ("pool",)),
    ListSheet("priorities", ("priorities",)),
    ListSheet("localities", ("localities",)),
    ListSheet("roles", ("roles",)),
    ListSheet("space_types", ("space_types",)),
    ListSheet("exclusive", ("exclusive",)),
    ListSheet("exclusive_interventions", ("exclusive", "interventions"), ("group",),
              value="intervention"),
    ListSheet("dependencies", ("dependencies",)),
    ListSheet("scenarios", ("scenarios",), point="id"),
    ListSheet("scenario_changes", ("scenarios", "changes"), ("scenario",), point="value"),
    ListSheet("options", ("options",), point="id"),
    ListSheet("option_changes", ("options", "changes"), ("option",), point="value"),
    ListSheet("option_policies", ("options", "policies"), ("option",), point="rule"),
    ListSheet("stress", ("stress",), point="id"),
    ListSheet("stress_inputs", ("stress", "inputs"), ("stress",),
              joined=("paths", "values", "weights"), point="dist"),
    ListSheet("sources", ("sources",), value="source"),
)
# explicit scenarios of the stress sets (``StressSet.table_rows``), in long form: one row per
# scenario and input, so every value is a number cell whatever inputs each set has
STRESS_TABLE = "stress_table"
KEY_WORDS = {"stress": "stress set"}  # a key column's header, in words
LIST_SEPARATOR = ";"  # between the items of a list held in one cell (written '; ')

REQUIRED_SHEETS = (INSTANCE_SHEET, "partners", "priorities",
                   *(t for t, spec in TABLES.items() if spec.required))


# --------------------------------------------------------------------------------------------
# What the schema says about a field
# --------------------------------------------------------------------------------------------


def bare_type(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            inner = [a for a in get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def collection_of(annotation: Any) -> tuple[str, Any] | None:
    """('list', item type) for tuple[X, ...], ('mapping', (key, value)) for dicts, else None."""
    bare = bare_type(annotation)
    origin = get_origin(bare)
    if origin is tuple:
        return "list", get_args(bare)[0]
    if origin is dict:
        return "mapping", get_args(bare)
    return None


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header and what the schema says about it."""

    header: str
    path: tuple[str, ...]  # within an item: ("cut", "total")
    annotation: Any
    required: bool
    description: str
    unit: str | None = None
    example: Any = None
    ref: str | None = None  # the list whose ids it takes
    joined: bool = False  # a list in one cell; ``annotation`` is then its items' type

    @property
    def kind(self) -> str:
        """'number', 'integer', 'bool', 'choice', 'any' (a change's value) or 'text'; of the
        items for a list held in one cell."""
        bare = bare_type(self.annotation)
        if bare is Any:
            return "any"
        if bare is bool:
            return "bool"
        if bare is int:
            return "integer"
        if bare is float:
            return "number"
        if get_origin(bare) is Literal:
            return "choice"
        return "text"

    @property
    def choices(self) -> tuple[str, ...]:
        bare = bare_type(self.annotation)
        return tuple(get_args(bare)) if get_origin(bare) is Literal else ()

    def meaning(self, money: str = "money unit") -> str:
        """Row 2 of the sheet: meaning, [unit], e.g. example."""
        text = self.description
        if self.ref and "(" not in text:
            text += f" (an id from sheet {self.ref})"
        if self.choices:
            text += ": one of " + ", ".join(self.choices)
        if self.joined:
            text += "; several separated by ';'"
        if self.unit:
            text += f" [{self.unit.replace('{money}', money)}]"
        if not self.required:
            text += "; optional"
        if self.example is not None and self.example != "":
            shown = str(self.example).lower() if isinstance(self.example, bool) else \
                self.example
            text += f"; e.g. {shown}"
        return text


def _extra(info: Any) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _leaf_columns(model: type[BaseModel], prefix: tuple[str, ...] = (),
                  required: bool = True, joined: tuple[str, ...] = ()) -> list[Column]:
    """Columns for the plain fields of ``model``; a nested model's fields become dotted; a
    list field named in ``joined`` is one column holding the whole list."""
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        listed = collection_of(ann)
        if listed is not None:
            if name in joined and listed[0] == "list":
                extra = _extra(info)
                out.append(Column(".".join((*prefix, name)), (*prefix, name), listed[1], False,
                                  info.description or name, extra.get("unit"),
                                  extra.get("example"), extra.get("ref"), joined=True))
            continue  # held by a child sheet
        bare = bare_type(ann)
        if is_model(bare):
            out += _leaf_columns(bare, (*prefix, name), required and info.is_required())
            continue
        extra = _extra(info)
        out.append(Column(".".join((*prefix, name)), (*prefix, name), ann,
                          required and info.is_required(), info.description or name,
                          extra.get("unit"), extra.get("example"), extra.get("ref")))
    return out


def _listed(model: type[BaseModel], name: str) -> tuple[str, Any]:
    """('list', item type) or ('mapping', (key, value)) of a field a sheet holds."""
    kind = collection_of(model.model_fields[name].annotation)
    if kind is None:
        raise TypeError(f"{model.__name__}.{name} is not a list")
    return kind


def _walk(spec: ListSheet) -> list[tuple[type[BaseModel], str]]:
    """(model, field) for each step of the sheet's path, from :class:`Instance` down."""
    steps = []
    model: Any = Instance
    for name in spec.path:
        steps.append((model, name))
        kind, inner = _listed(model, name)
        model = inner if kind == "list" else None
    return steps


def item_kind(spec: ListSheet) -> tuple[str, Any]:
    """'mapping', 'objects', 'union' (of models, told apart by a tag field) or 'values'."""
    model, name = _walk(spec)[-1]
    kind, inner = _listed(model, name)
    if kind == "mapping":
        return "mapping", inner
    bare = bare_type(inner)
    if is_model(bare):
        return "objects", inner
    if get_origin(bare) in (Union, types.UnionType) and all(map(is_model, get_args(bare))):
        return "union", get_args(bare)
    return "values", inner


def union_tag(members: tuple[type[BaseModel], ...]) -> str:
    """The field that tells the members of a tagged union apart (``rule`` for policies)."""
    for name in members[0].model_fields:
        if all(name in m.model_fields and get_origin(m.model_fields[name].annotation) is Literal
               for m in members):
            return name
    raise TypeError("not a tagged union")


def _union_columns(members: tuple[type[BaseModel], ...]) -> list[Column]:
    """The tag, then every field any member uses (blank where a member does not)."""
    tag = union_tag(members)
    tags = tuple(get_args(m.model_fields[tag].annotation)[0] for m in members)
    uses: dict[str, list[tuple[str, Any]]] = {}
    for t, m in zip(tags, members, strict=True):
        for name, info in m.model_fields.items():
            if name != tag:
                uses.setdefault(name, []).append((t, info))
    first = members[0].model_fields[tag]
    cols = [Column(tag, (tag,), Literal[tags], True, first.description or tag,
                   example=tags[0])]
    for name, found in uses.items():
        texts = list(dict.fromkeys(info.description or name for _, info in found))
        if len(texts) == 1:
            text = f"{texts[0]}; used by {', '.join(t for t, _ in found)}"
        else:
            text = "; ".join(f"{t}: {info.description or name}" for t, info in found)
        info = found[0][1]
        extra = _extra(info)
        cols.append(Column(name, (name,), info.annotation, False, text, extra.get("unit"),
                           extra.get("example"), extra.get("ref")))
    return cols


def parent_sheet(spec: ListSheet) -> ListSheet | None:
    for other in LIST_SHEETS:
        if other.path == spec.path[:-1]:
            return other
    return None


def sheet_columns(spec: ListSheet) -> list[Column]:
    """Every column of a list sheet, key columns first."""
    steps = _walk(spec)
    cols: list[Column] = []
    for (model, name), key in zip(steps[:-1], spec.keys, strict=True):
        item = bare_type(_listed(model, name)[1])
        id_info = item.model_fields["id"]
        cols.append(Column(key, (), id_info.annotation, True,
                           f"the {KEY_WORDS.get(key, key)} it belongs to (an id from sheet "
                           f"{sheet_of(spec.path[:len(cols) + 1])})",
                           example=_extra(id_info).get("example"),
                           ref=sheet_of(spec.path[:len(cols) + 1])))
    model, name = steps[-1]
    info = model.model_fields[name]
    extra = _extra(info)
    kind, inner = item_kind(spec)
    if kind == "objects":
        cols += _leaf_columns(bare_type(inner), joined=spec.joined)
    elif kind == "union":
        cols += _union_columns(inner)
    elif kind == "values":
        cols.append(Column(spec.value or name, (), inner, True, info.description or name,
                           extra.get("unit"), extra.get("example"), extra.get("ref")))
    else:
        key_ann, value_ann = inner
        cols.append(Column(spec.key or "key", (), key_ann, True, "financial year"
                           if bare_type(key_ann) is int else "key", "year", 2013))
        cols.append(Column(spec.value or "value", (), value_ann, True,
                           info.description or name, extra.get("unit"), extra.get("example")))
    return cols


def sheet_of(path: tuple[str, ...]) -> str:
    for spec in LIST_SHEETS:
        if spec.path == path:
            return spec.name
    return path[-1]


def table_columns(table: str) -> list[Column]:
    return _leaf_columns(TABLES[table].row_model)


def stress_table_columns() -> list[Column]:
    """The columns of :data:`STRESS_TABLE`."""
    return [
        Column("stress", (), str, True, "the stress set the scenario belongs to (an id from "
               "sheet stress)", example="explicit", ref="stress"),
        Column("scenario", (), int, True, "number of the explicit scenario within its set, "
               "from 1", example=1),
        Column("input", (), str, True, "an input of the set, by its name (an input without "
               "a name: its path made into an id, as in results), or 'probability' for the "
               "scenario's relative probability (optional: for every scenario or none)",
               example="council_cut"),
        Column("value", (), float, True, "the input's value in this scenario (or its "
               "probability)", example=0.28),
    ]


def instance_columns() -> list[Column]:
    """The single values of the YAML part, as rows of the ``instance`` sheet."""
    return [c for c in _leaf_columns(Instance) if c.path[0] in YAML_FIELDS]


def covered_fields() -> set[tuple[str, ...]]:
    """Every schema path some sheet holds (for the test that no field is left out)."""
    out = {c.path for c in instance_columns()}
    out |= {(t,) for t in TABLES}
    for spec in LIST_SHEETS:
        out.add(spec.path)
        if item_kind(spec)[0] == "objects":
            out |= {(*spec.path, *c.path) for c in sheet_columns(spec) if c.path}
    out.add(("stress", "table_rows"))  # sheet stress_table
    out.add(("stress", "table_probabilities"))  # sheet stress_table, input 'probability'
    return out


def ref_targets() -> dict[str, tuple[str, str]]:
    """For each list named by ``ref``: (sheet, id column) holding its ids."""
    out = {spec.name: (spec.name, "id") for spec in LIST_SHEETS if not spec.keys
           and item_kind(spec)[0] == "objects"
           and "id" in bare_type(item_kind(spec)[1]).model_fields}
    for table in TABLES:
        if "id" in TABLES[table].row_model.model_fields:
            out[table] = (table, "id")
    return out
