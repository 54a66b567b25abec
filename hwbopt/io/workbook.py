"""Read and write an instance as one Excel workbook (``.xlsx``), for finance teams.

This module reads; :mod:`hwbopt.io.workbook_layout` derives the sheets from the schema (and
lists them: the layout mirrors the folder form) and :mod:`hwbopt.io.workbook_writer` writes
them.

Every list and table sheet has its field names in row 1 and, in row 2, each field's meaning,
unit and an example (taken from the schema's field descriptions); data starts in row 3. Row 2
is skipped when it holds those meanings, so a user may delete it. Other sheets (``read_me``,
or a user's notes) are ignored, with a warning for a name that looks like a typo.

Reading uses openpyxl with cached values only: a formula without a cached value, an error value
(``#DIV/0!``), a date where a number is expected and merged cells are rejected with the cell
address; a cell holding the text ``NA`` is that text, never a missing value. The assembled data
goes through the same pydantic models and :func:`hwbopt.validate.reference_problems` as a
folder, then :func:`hwbopt.scenarios.check_overrides` as a folder's does, and every problem is
located by sheet and cell (:class:`hwbopt.errors.SheetProblem`).

Scenarios, options and stress sets follow the same pattern, with three additions:

- a change's ``value`` may be any value: a number or TRUE/FALSE cell stays one, text stays text,
  and text beginning with ``{`` or ``[`` is a mapping or list in YAML flow form
  (``{total: 0.35, over_years: 4}``), read as instance.yaml is (YAML 1.2 numbers, no
  aliases); a change with value, scale and add all blank sets its field to blank (null);
- ``option_policies`` holds a tagged union: a ``rule`` column, then every field any rule uses,
  blank where the row's rule does not use it (a filled one is an error naming the rule);
- a stress input's ``paths``, ``values`` and ``weights`` are lists held in one cell each,
  separated by ``;`` (numbers written in their shortest exact form), and the explicit scenarios
  of a set with a ``table`` are in :data:`STRESS_TABLE` in long form (stress, scenario, input,
  value), so every value is a number cell; the folder form keeps them in the table's CSV file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from hwbopt.errors import InstanceError, Problem, SheetProblem
from hwbopt.io.data import error_message
from hwbopt.io.folder import load_yaml_text
from hwbopt.io.workbook_layout import (
    FIRST_ROW,
    HEADER_ROW,
    INSTANCE_SHEET,
    KEY_WORDS,
    LIST_SEPARATOR,
    LIST_SHEETS,
    MEANING_ROW,
    README_SHEET,
    REQUIRED_SHEETS,
    STRESS_TABLE,
    Column,
    ListSheet,
    bare_type,
    covered_fields,
    instance_columns,
    item_kind,
    parent_sheet,
    sheet_columns,
    sheet_of,
    stress_table_columns,
    table_columns,
)
from hwbopt.io.workbook_writer import write_workbook
from hwbopt.scenarios import check_overrides
from hwbopt.schema import (
    PLAIN_NUMBER,
    POLICY_RULES,
    PROBABILITY,
    TABLES,
    Change,
    Instance,
    Real,
    StressInput,
    number_from_text,
)
from hwbopt.validate import reference_problems

# the names other modules and tests use, whichever of the three modules defines them
__all__ = ["LIST_SHEETS", "covered_fields", "read_workbook", "sheet_columns", "table_columns",
           "write_workbook"]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    """One sheet's data: the column of each header and each data row's cells by header."""

    name: str
    letters: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    broken: bool = False  # its header is unusable: its rows are not read


@dataclass(frozen=True)
class _Origin:
    sheet: str
    row: int | None
    column: str | None = None  # the column a problem with no field of its own points at


class _Reader:
    """Reads one workbook, collecting every problem with its sheet and cell."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []
        self.sheets: dict[str, _Sheet] = {}
        self.origins: dict[tuple[Any, ...], _Origin] = {}
        self.bad_cells: set[tuple[str, int, str]] = set()
        self.instance_rows: dict[int, str] = {}  # row of the instance sheet -> its field

    # -- problems ------------------------------------------------------------------------

    def problem(self, sheet: str, row: int | None, column: str | None, what: str,
                severity: str = "error") -> None:
        letter = self.sheets[sheet].letters.get(column) if sheet in self.sheets and column \
            else None
        cell = f"{letter}{row}" if letter and row is not None else None
        if sheet == INSTANCE_SHEET and column == "value" and row in self.instance_rows:
            column = self.instance_rows[row]  # name the field, not the sheet's 'value' column
        if row == MEANING_ROW and sheet != INSTANCE_SHEET:
            what += (" (row 2 holds each field's meaning in the template: keep it as written "
                     "or delete the row)")
        self.problems.append(SheetProblem.at(sheet, row, column, cell, what, severity))

    def cell_problem(self, sheet: str, coordinate: str, row: int, column: str | None,
                     what: str) -> None:
        self.problems.append(SheetProblem.at(sheet, row, column, coordinate, what))
        if column:
            self.bad_cells.add((sheet, row, column))

    # -- cells ---------------------------------------------------------------------------

    def _value(self, sheet: str, cell: Any, formula_cell: Any, col: Column | None,
               header: str | None) -> tuple[bool, Any]:
        """(ok, value) of one cell: None for blank; text stripped."""
        value = cell.value
        expect = _expectation(col)
        if cell.data_type == "e" or (isinstance(value, str) and value in _ERRORS
                                     and formula_cell.data_type == "f"):
            self.cell_problem(sheet, cell.coordinate, cell.row, header,
                              f"the cell holds the error {value}: expected {expect}")
            return False, None
        if value is None and formula_cell is not None and formula_cell.data_type == "f":
            self.cell_problem(sheet, cell.coordinate, cell.row, header, (
                f"the formula {formula_cell.value} has no calculated value saved: open and "
                "save the workbook in Excel or LibreOffice so its values are calculated, or "
                "type the value"))
            return False, None
        if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
            self.cell_problem(sheet, cell.coordinate, cell.row, header, (
                f"the cell holds a date or time ({value}): expected {expect}; format the "
                "cell as a number or as text"))
            return False, None
        if col is not None and col.joined:
            return self._joined(sheet, cell, header, col, value)
        if isinstance(value, str):
            value = value.strip()
            if col is not None and col.kind == "any" and value[:1] in ("{", "["):
                return self._flow(sheet, cell, header, value)
            if col is not None and col.kind in ("number", "integer") and value and \
                    not PLAIN_NUMBER.fullmatch(value):
                # Python would read '8_00' as 800; a spreadsheet user meant something else
                self.cell_problem(sheet, cell.coordinate, cell.row, header,
                                  "expected a plain number such as 800 or 0.25 (a valid "
                                  f"number in decimal digits), got {value!r}")
                return False, None
            return True, (value or None)
        if col is not None and col.kind in ("text", "choice") and \
                isinstance(value, int | float) and not isinstance(value, bool):
            # an id or a name typed as a number (e.g. 2013): pydantic wants text
            value = str(int(value)) if float(value).is_integer() else repr(value)
        return True, value

    def _flow(self, sheet: str, cell: Any, header: str | None, text: str) -> tuple[bool, Any]:
        """A mapping or list written as YAML flow text (read with the safe loader only)."""
        try:
            return True, load_yaml_text(text)
        except yaml.YAMLError as exc:
            why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.cell_problem(sheet, cell.coordinate, cell.row, header, (
                f"not a valid mapping or list ({why}): expected YAML flow text such as "
                f"{{total: 0.35, over_years: 4}} or [a, b], got {text!r}"))
            return False, None

    def _joined(self, sheet: str, cell: Any, header: str | None, col: Column,
                value: Any) -> tuple[bool, Any]:
        """A list held in one cell: items separated by ';' (a single number may be a number)."""
        if isinstance(value, bool):
            self.cell_problem(sheet, cell.coordinate, cell.row, header, (
                f"expected {'numbers' if col.kind in ('number', 'integer') else 'text'} "
                f"separated by '{LIST_SEPARATOR}', got {str(value).upper()}"))
            return False, None
        if not isinstance(value, str | int | float):
            return True, value  # the schema names what is wrong
        parts = [value] if not isinstance(value, str) else \
            [p.strip() for p in value.split(LIST_SEPARATOR) if p.strip()]
        if col.kind not in ("number", "integer"):
            return True, [str(p) for p in parts] or None
        out = []
        for n, part in enumerate(parts, start=1):
            try:
                number = number_from_text(part) if isinstance(part, str) else float(part)
                if number is None or number != number or number in (float("inf"),
                                                                      float("-inf")):
                    raise ValueError
            except ValueError:
                self.cell_problem(sheet, cell.coordinate, cell.row, header, (
                    f"item {n}, {part!r}, is not a number: expected numbers separated by "
                    f"'{LIST_SEPARATOR}', such as 0.9; 1; 1.1"))
                return False, None
            out.append(part if not isinstance(part, str) else number)
        return True, out or None

    def read_sheet(self, ws: Any, wf: Any, columns: list[Column]) -> _Sheet:
        from openpyxl.utils import get_column_letter

        sheet = _Sheet(ws.title)
        self.sheets[ws.title] = sheet
        self._merged(ws)
        known = {c.header: c for c in columns}
        headers: list[str | None] = []
        max_col = ws.max_column
        for j in range(1, max_col + 1):
            cell = ws.cell(HEADER_ROW, j)
            ok, h = self._value(ws.title, cell, wf.cell(HEADER_ROW, j), None, None)
            if ok and h is not None and not isinstance(h, str):
                self.cell_problem(ws.title, cell.coordinate, HEADER_ROW, None, (
                    f"expected a field name, got {h!r}: row 1 names the columns, among "
                    + ", ".join(known)))
                sheet.broken = True
                h = None
            headers.append(h if ok else None)
            if h is not None:
                sheet.letters.setdefault(h, cell.column_letter)
        for j, h in enumerate(headers, start=1):
            if h is None:
                continue
            coord = ws.cell(HEADER_ROW, j).coordinate
            if h not in known:
                self.cell_problem(ws.title, coord, HEADER_ROW, None, (
                    f"unknown column '{h}': expected columns among {', '.join(known)}"))
                sheet.broken = True
            elif headers.count(h) > 1 and headers.index(h) != j - 1:
                self.cell_problem(ws.title, coord, HEADER_ROW, h,
                                  f"column '{h}' given twice")
                sheet.broken = True
        free = get_column_letter(len(headers) + 1)  # where a missing column could go
        for c in columns:
            if c.required and c.header not in sheet.letters:
                self.problems.append(SheetProblem.at(
                    ws.title, HEADER_ROW, c.header, f"{free}{HEADER_ROW}",
                    f"missing column '{c.header}': required ({c.description}); add it in "
                    "row 1"))
                sheet.broken = True
        if sheet.broken:
            return sheet

        first = FIRST_ROW if self._is_meaning_row(ws, headers, known) else MEANING_ROW
        for r in range(first, ws.max_row + 1):
            raw: dict[str, Any] = {}
            for j, h in enumerate(headers, start=1):
                cell = ws.cell(r, j)
                ok, v = self._value(ws.title, cell, wf.cell(r, j), known.get(h) if h else None,
                                    h)
                if not ok or v is None:
                    continue
                if h is None:
                    self.cell_problem(ws.title, cell.coordinate, r, None, (
                        f"a value in a column without a name in row 1: expected columns "
                        f"among {', '.join(known)}"))
                    continue
                raw[h] = v
            blank = all(v is None or (isinstance(v, str) and not v.strip())
                        for v in (ws.cell(r, j).value for j in range(1, max_col + 1)))
            if not blank:
                sheet.rows.append((r, raw))
        return sheet

    def _is_meaning_row(self, ws: Any, headers: list[str | None],
                        known: dict[str, Column]) -> bool:
        texts = [(h, ws.cell(MEANING_ROW, j).value) for j, h in enumerate(headers, start=1)]
        filled = [(h, v) for h, v in texts if v is not None]
        return bool(filled) and all(
            h in known and isinstance(v, str)
            and v.strip().startswith(known[h].description) for h, v in filled)

    def _merged(self, ws: Any) -> None:
        for rng in ws.merged_cells.ranges:
            self.problems.append(SheetProblem.at(ws.title, rng.min_row, None, rng.coord, (
                f"cells {rng.coord} are merged: expected one value in each cell; unmerge "
                "them")))
            self.sheets[ws.title].broken = True

    # -- assembling ----------------------------------------------------------------------

    def read_instance_sheet(self, ws: Any, wf: Any) -> dict[str, Any]:
        cols = {c.header: c for c in instance_columns()}
        sheet = _Sheet(ws.title, letters={"field": "A", "value": "B", "meaning": "C"})
        self.sheets[ws.title] = sheet
        self._merged(ws)
        if sheet.broken:
            return {}
        head = [ws.cell(1, j).value for j in (1, 2)]
        if [str(h).strip() if h is not None else None for h in head] != ["field", "value"]:
            self.problem(ws.title, 1, None, (
                "expected the headers 'field' and 'value' in A1 and B1 (and optionally "
                "'meaning' in C1), then one field a row"))
            return {}
        data: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for r in range(2, ws.max_row + 1):
            ok, name = self._value(ws.title, ws.cell(r, 1), wf.cell(r, 1), None, "field")
            if not ok or name is None:
                continue
            name = str(name)
            col = cols.get(name)
            if col is None:
                self.problem(ws.title, r, "field", (
                    f"unknown field '{name}': expected one of {', '.join(cols)}"))
                continue
            if name in seen:
                self.problem(ws.title, r, "field",
                             f"field '{name}' given twice (first in row {seen[name]})")
                continue
            seen[name] = r
            self.instance_rows[r] = name
            ok, value = self._value(ws.title, ws.cell(r, 2), wf.cell(r, 2), col, name)
            self.origins[col.path] = _Origin(ws.title, r, "value")
            self.origins.setdefault(col.path[:1], _Origin(ws.title, r, "value"))
            if not ok:
                self.bad_cells.add((ws.title, r, "value"))
                continue
            if value is not None:
                _set(data, col.path, value)
        return data

    def assemble_lists(self, data: dict[str, Any], present: dict[str, _Sheet]) -> None:
        """Build each list of the YAML part from its sheet and attach child rows."""
        # items by their path of ids, to attach children: ("partners", "nhs") -> item dict
        items: dict[tuple[str, ...], tuple[dict[str, Any], tuple[Any, ...]]] = {}
        for spec in LIST_SHEETS:
            sheet = present.get(spec.name)
            parent = parent_sheet(spec)
            kind, _ = item_kind(spec)
            cols = sheet_columns(spec)
            own = cols[len(spec.keys):]
            if sheet is None or sheet.broken:
                continue
            if parent is not None and (parent.name not in present
                                       or present[parent.name].broken):
                if sheet.rows:
                    self.problem(spec.name, None, None, (
                        f"rows for {parent.name} items, but sheet {parent.name} is missing or "
                        "unreadable"))
                continue
            counts: dict[tuple[Any, ...], int] = defaultdict(int)
            for r, raw in sheet.rows:
                key = tuple(raw.get(k) for k in spec.keys)
                if spec.keys:
                    missing = [k for k, v in zip(spec.keys, key, strict=True) if v is None]
                    if missing:
                        for k in missing:
                            if (spec.name, r, k) not in self.bad_cells:
                                self.problem(spec.name, r, k, "missing: a value is required")
                        continue
                    found = items.get((*spec.path[:-1], *map(str, key)))
                    if found is None:
                        self._unknown_parent(spec, r, key, items)
                        continue
                    holder, holder_loc = found
                else:
                    holder, holder_loc = data, ()
                loc = (*holder_loc, spec.path[-1])
                if kind == "mapping":
                    key_col, value_col = spec.key or "key", spec.value or "value"
                    mkey, mvalue = raw.get(key_col), raw.get(value_col)
                    mapping = holder.setdefault(spec.path[-1], {})
                    if mkey is None:
                        if (spec.name, r, key_col) not in self.bad_cells:
                            self.problem(spec.name, r, key_col, "missing: a value is required")
                        continue
                    if str(mkey) in map(str, mapping):
                        self.problem(spec.name, r, key_col, f"{key_col} {mkey} given twice "
                                     f"for {spec.keys[-1]} '{key[-1]}'")
                        continue
                    mapping[mkey] = mvalue
                    self.origins.setdefault(loc, _Origin(spec.name, r, value_col))
                    self.origins[(*loc, str(mkey))] = _Origin(spec.name, r, value_col)
                    self.origins[(*loc, str(mkey), "[key]")] = _Origin(spec.name, r, key_col)
                    continue
                n = counts[loc]
                counts[loc] += 1
                element: Any
                if kind == "values":
                    element = raw.get(spec.value or spec.path[-1])  # its column's header
                    self.origins[(*loc, n)] = _Origin(spec.name, r, spec.value)
                else:
                    element = {}
                    for c in own:
                        if c.header in raw:
                            _set(element, c.path, raw[c.header])
                    if kind == "objects" and bare_type(item_kind(spec)[1]) is Change and \
                            not {"value", "scale", "add"} & element.keys():
                        element["value"] = None  # a blank value, no scale or add: set to blank
                    self.origins[(*loc, n)] = _Origin(spec.name, r, spec.point)
                    if "id" in element:
                        items.setdefault((*spec.path, *map(str, key), str(element["id"])),
                                         (element, (*loc, n)))
                self.origins.setdefault(loc, _Origin(spec.name, r, spec.value or spec.point))
                holder.setdefault(spec.path[-1], []).append(element)

    def assemble_stress_table(self, data: dict[str, Any], sheet: _Sheet | None) -> None:
        """Each stress set's explicit scenarios from :data:`STRESS_TABLE` into its
        ``table_rows``, in scenario order, one value per input in the set's input order."""
        sets = {str(s.get("id")): (k, s) for k, s in enumerate(data.get("stress") or [])
                if isinstance(s, dict)}
        checks = {"scenario": TypeAdapter(Annotated[int, Field(ge=1)]),
                  "value": TypeAdapter(Real)}
        found: dict[str, dict[int, dict[str, float]]] = defaultdict(dict)
        rows_of: dict[tuple[str, int], int] = {}
        first: dict[str, int] = {}
        reported: set[tuple[str, Any]] = set()  # scenarios with a bad row: not incomplete too
        weighted: set[str] = set()  # sets with a bad probability row
        for r, raw in (sheet.rows if sheet is not None and not sheet.broken else []):
            cols = [c.header for c in stress_table_columns()]
            bad = [c for c in cols if (STRESS_TABLE, r, c) in self.bad_cells]
            for c in cols:
                if raw.get(c) is None and c not in bad:
                    self.problem(STRESS_TABLE, r, c, "missing: a value is required")
                    bad.append(c)
            got: dict[str, Any] = {}
            for c, adapter in checks.items():
                if c in bad:
                    continue
                try:
                    got[c] = adapter.validate_python(raw[c])
                except ValidationError as exc:
                    self.problem(STRESS_TABLE, r, c, error_message(exc.errors()[0]))
                    bad.append(c)
            sid, name = str(raw.get("stress")), str(raw.get("input"))
            if bad:
                reported.add((sid, got.get("scenario")))
                continue
            n: int = got["scenario"]
            if sid not in sets:
                self.problem(STRESS_TABLE, r, "stress", (
                    f"unknown stress set '{sid}': expected an id from sheet stress"
                    + (f" ({', '.join(sets)})" if sets else "")))
                continue
            names = _input_names(sets[sid][1])
            if names is None:
                continue  # the set's inputs are invalid: reported on their own sheet
            if name == PROBABILITY and name not in names and got["value"] < 0:
                self.problem(STRESS_TABLE, r, "value", (
                    f"expected a probability: zero or more (relative: the scenarios are scaled "
                    f"to sum to 1), got {got['value']:g}"))
                reported.add((sid, n))
                weighted.add(sid)
                continue
            if name not in names and name != PROBABILITY:
                self.problem(STRESS_TABLE, r, "input", (
                    f"unknown input '{name}' of stress set '{sid}': expected one of "
                    + ", ".join(names)))
                reported.add((sid, n))
                continue
            scenario = found[sid].setdefault(n, {})
            if name in scenario:
                self.problem(STRESS_TABLE, r, "input", (
                    f"scenario {n} of stress set '{sid}' gives input '{name}' twice (first in "
                    f"row {rows_of[sid, n]})"))
                continue
            scenario[name] = got["value"]
            rows_of.setdefault((sid, n), r)
            first.setdefault(sid, r)
        for sid, (k, spec) in sets.items():
            if sid not in found:
                if spec.get("table") is not None:
                    origin = self.origins.get(("stress", k))
                    self.problem("stress", origin.row if origin else None, "table", (
                        f"stress set '{sid}' takes its scenarios from table "
                        f"{spec['table']}: give them in sheet {STRESS_TABLE} (stress, "
                        "scenario, input, value)"))
                continue
            names = _input_names(spec) or []
            rows = []
            for n in sorted(found[sid]):
                lacking = [c for c in names if c not in found[sid][n]]
                if lacking and (sid, n) in reported:
                    continue
                if lacking:
                    self.problem(STRESS_TABLE, rows_of[sid, n], "scenario", (
                        f"scenario {n} of stress set '{sid}' has no value for input"
                        f"{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}: give one "
                        "row per input"))
                    continue
                rows.append([found[sid][n][c] for c in names])
            spec["table_rows"] = rows
            if sid in weighted or any(PROBABILITY in v for v in found[sid].values()):
                self._stress_probabilities(spec, sid, names, found[sid], rows_of,
                                           {n for t, n in reported if t == sid})
            self.origins[("stress", k, "table_rows")] = _Origin(STRESS_TABLE, first[sid],
                                                                "value")

    def _stress_probabilities(self, spec: dict[str, Any], sid: str, names: list[str],
                              scenarios: dict[int, dict[str, float]],
                              rows_of: dict[tuple[str, int], int], reported: set[Any]
                              ) -> None:
        """A set's scenario probabilities (rows whose input is ``probability``) into its
        ``table_probabilities``: none, or one for every scenario, not all zero. ``reported``:
        scenarios with a bad row already reported (a bad probability among them)."""
        if PROBABILITY in names:
            return  # the schema refuses the name
        complete = [n for n in sorted(scenarios) if all(c in scenarios[n] for c in names)]
        lacking = [n for n in complete if PROBABILITY not in scenarios[n] and n not in reported]
        for n in lacking:
            self.problem(STRESS_TABLE, rows_of[sid, n], "scenario", (
                f"scenario {n} of stress set '{sid}' has no probability, but others do: give "
                f"a row with input '{PROBABILITY}' for every scenario of the set, or for none"))
        chances = [scenarios[n].get(PROBABILITY, 0.0) for n in complete]
        if lacking or reported or not chances:
            return  # reported: the schema need not say it again
        if not any(chances):
            self.problem(STRESS_TABLE, rows_of[sid, complete[0]], "value", (
                f"every scenario of stress set '{sid}' has probability 0: at least one must "
                "be possible"))
            return
        spec["table_probabilities"] = chances

    def _unknown_parent(self, spec: ListSheet, r: int, key: tuple[Any, ...],
                        items: dict[tuple[str, ...], Any]) -> None:
        prefix = (*spec.path[:-1], *map(str, key[:-1]))
        known = sorted(k[-1] for k in items
                       if len(k) == len(prefix) + 1 and k[:len(prefix)] == prefix)
        shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
        self.problem(spec.name, r, spec.keys[-1], (
            f"unknown {KEY_WORDS.get(spec.keys[-1], spec.keys[-1])} '{key[-1]}': expected an "
            f"id from sheet {sheet_of(spec.path[:-1])}" + (f" ({shown})" if shown else "")))

    def assemble_tables(self, data: dict[str, Any], present: dict[str, _Sheet]) -> None:
        for table in TABLES:
            sheet = present.get(table)
            if sheet is None or sheet.broken:
                continue
            cols = table_columns(table)
            rows = []
            for n, (r, raw) in enumerate(sheet.rows):
                row: dict[str, Any] = {}
                for c in cols:
                    if c.header in raw:
                        _set(row, c.path, raw[c.header])
                rows.append(row)
                self.origins[(table, n)] = _Origin(table, r)
            data[table] = rows

    # -- locating problems found on the assembled instance -------------------------------

    def located(self, problem: Problem) -> list[Problem]:
        """A problem the shared checks found, in the folder's terms, at its sheet and cell."""
        before = len(self.problems)
        self.locate(_parse_path(problem.field or ""), _reword(problem.message),
                    problem.severity)
        return self.problems[before:]

    def locate(self, loc: tuple[Any, ...], what: str, severity: str = "error") -> None:
        loc = tuple(str(p) if not isinstance(p, int) else p for p in loc)
        for n in range(len(loc), 0, -1):
            origin = self.origins.get(loc[:n])
            if origin is not None:
                break
        else:
            origin, n = None, 0
        rest = loc[n:]
        if origin is None:
            sheet = _sheet_for_loc(loc)
            self.problem(sheet, None, None,
                         f"{_path_text(loc)}: {what}" if loc else what, severity)
            return
        column = origin.column
        child = _child_sheet(loc[:n], rest)
        if child is not None:
            self.problem(origin.sheet, origin.row, None,
                         f"{what}: give its rows in sheet {child}", severity)
            return
        if rest:
            header = ".".join(str(p) for p in rest if not isinstance(p, int))
            column = header if header in self.sheets[origin.sheet].letters or column is None \
                else column
            if header and header not in self.sheets[origin.sheet].letters:
                what = f"{header}: {what}"
        if origin.row is not None and column is not None and \
                (origin.sheet, origin.row, column) in self.bad_cells:
            return  # already reported as a bad cell
        self.problem(origin.sheet, origin.row, column, what, severity)


_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA",
           "#SPILL!", "#CALC!"}


def _input_names(spec: dict[str, Any]) -> list[str] | None:
    """The names of a stress set's inputs as results and tables use them (None if invalid)."""
    try:
        return [StressInput.model_validate(i).column for i in spec.get("inputs") or []]
    except (ValidationError, TypeError, AttributeError):
        return None


def _untag(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], str | None]:
    """A location without the tag pydantic adds inside a tagged union, and that tag:
    (options, 0, policies, 1, protect, intervention) -> (options, 0, policies, 1, intervention).
    """
    for n in range(len(loc) - 2):
        if loc[n] == "policies" and isinstance(loc[n + 1], int) and loc[n + 2] in POLICY_RULES:
            return (*loc[:n + 2], *loc[n + 3:]), str(loc[n + 2])
    return loc, None


def _schema_message(err: ErrorDetails, tag: str | None) -> str:
    if err["type"] == "extra_forbidden" and tag:
        return f"not used by rule '{tag}': leave the cell blank"
    if err["type"] == "missing" and tag:
        return f"missing: rule '{tag}' needs a value here"
    if err["type"] == "union_tag_not_found":
        return "missing: a rule is required (one of " + ", ".join(POLICY_RULES) + ")"
    return error_message(err)


def _expectation(col: Column | None) -> str:
    if col is None:
        return "a value"
    kind = col.kind
    if kind == "number":
        return "a number"
    if kind == "integer":
        return "a whole number"
    if kind == "bool":
        return "TRUE or FALSE"
    if kind == "choice":
        return "one of " + ", ".join(col.choices)
    return "text"


def _set(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _sheet_for_loc(loc: tuple[Any, ...]) -> str:
    if not loc:
        return INSTANCE_SHEET
    if loc[0] in TABLES:
        return str(loc[0])
    names = [p for p in loc if isinstance(p, str)]
    for n in range(len(names), 0, -1):
        for spec in LIST_SHEETS:
            if spec.path == tuple(names[:n]):
                return spec.name
    return INSTANCE_SHEET


def _child_sheet(found: tuple[Any, ...], rest: tuple[Any, ...]) -> str | None:
    """The child sheet a problem points into when that sheet has no rows for the item."""
    if not rest or not isinstance(rest[0], str):
        return None
    names = tuple(p for p in (*found, rest[0]) if isinstance(p, str))
    for spec in LIST_SHEETS:
        if spec.path == names and len(spec.path) > 1:
            return spec.name
    return None


_YAML_PATH = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]|\.(\d+)")


def _parse_path(text: str) -> tuple[Any, ...]:
    """'partners[2].remit[3]' -> ('partners', 2, 'remit', 3); '…cut_by_year.2013' keeps '2013'."""
    out: list[Any] = []
    for name, index, key in _YAML_PATH.findall(text):
        out.append(name or (int(index) if index else key))
    return tuple(out)


def _reword(message: str) -> str:
    """Messages of the shared checks name files of the folder form: name sheets instead."""
    for table in TABLES:
        message = message.replace(TABLES[table].file, f"sheet {table}")
    return message.replace("instance.yaml, ", "").replace("instance.yaml ", "").replace(
        "instance.yaml", "the workbook")


def read_workbook(path: str | os.PathLike[str]) -> tuple[Instance, list[Problem]]:
    """Read and fully validate an instance workbook. Returns the instance and its warnings.

    Raises :class:`InstanceError` listing every problem, each with its sheet and cell.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    target = Path(path)
    source = str(target)
    if not target.exists():
        raise InstanceError(Problem(source, None, None,
                                    "no such file: expected an instance workbook (.xlsx)"))
    _check_workbook_file(target)
    try:
        values = load_workbook(target, data_only=True)
        formulas = load_workbook(target, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError,
            TypeError) as exc:
        raise InstanceError(Problem(target.name, None, None, (
            f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {exc}"))) from None

    reader = _Reader(target)
    present: dict[str, _Sheet] = {}
    expected = {INSTANCE_SHEET, README_SHEET, STRESS_TABLE, *(s.name for s in LIST_SHEETS),
                *TABLES}
    for name in values.sheetnames:
        if name not in expected:
            close = sorted(e for e in expected if _similar(name, e))
            if close and close[0] not in values.sheetnames and close[0] != README_SHEET:
                # a misnamed sheet would be left out silently (a target not pursued)
                reader.problems.append(SheetProblem.at(name, None, None, None, (
                    f"sheet named {name!r}: expected {close[0]!r} exactly (sheet names are "
                    "case-sensitive, without spaces), so this sheet is not read; rename it")))
            elif close:
                reader.problems.append(SheetProblem.at(
                    name, None, None, None, f"not part of the format, ignored (did you mean "
                    f"{close[0]}? that sheet is read)", severity="warning"))
            else:
                reader.problems.append(SheetProblem.at(
                    name, None, None, None, "not part of the format, ignored",
                    severity="warning"))
    for name in REQUIRED_SHEETS:
        if name not in values.sheetnames:
            reader.problems.append(SheetProblem.at(name, None, None, None, (
                f"missing sheet '{name}': a workbook needs the sheets "
                + ", ".join(REQUIRED_SHEETS))))

    data: dict[str, Any] = {}
    if INSTANCE_SHEET in values.sheetnames:
        data = reader.read_instance_sheet(values[INSTANCE_SHEET], formulas[INSTANCE_SHEET])
    for spec in LIST_SHEETS:
        if spec.name in values.sheetnames:
            present[spec.name] = reader.read_sheet(values[spec.name], formulas[spec.name],
                                                   sheet_columns(spec))
    for table in TABLES:
        if table in values.sheetnames:
            present[table] = reader.read_sheet(values[table], formulas[table],
                                               table_columns(table))
    reader.assemble_lists(data, present)
    if STRESS_TABLE in values.sheetnames:
        present[STRESS_TABLE] = reader.read_sheet(values[STRESS_TABLE], formulas[STRESS_TABLE],
                                                  stress_table_columns())
    if "stress" in present and not present["stress"].broken:
        reader.assemble_stress_table(data, present.get(STRESS_TABLE))
    reader.assemble_tables(data, present)

    # a missing or unreadable sheet is reported once, not again as each field it would hold
    skip: set[str] = set()
    for table in TABLES:
        if table not in present or present[table].broken:
            skip.add(table)
    for spec in LIST_SHEETS:
        unread = spec.name not in present or present[spec.name].broken
        if unread and (spec.name in present or spec.name in REQUIRED_SHEETS):
            skip.add(spec.path[0])
    if INSTANCE_SHEET not in values.sheetnames or reader.sheets[INSTANCE_SHEET].broken:
        skip.update(c.path[0] for c in instance_columns())
    try:
        inst = Instance.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc, tag = _untag(tuple(err["loc"]))
            if loc and loc[0] in skip:
                continue
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "rule")  # point at the rule's cell
            what = ("the table has no rows: at least one expected"
                    if len(loc) == 1 and loc[0] in TABLES and err["type"] == "too_short"
                    else _schema_message(err, tag))
            reader.locate(loc, what)
        inst = None
    errors = [p for p in reader.problems if p.severity == "error"]
    if inst is None and not errors:
        errors = [Problem(target.name, None, None, "the workbook does not make an instance")]
    if errors or inst is None:
        raise InstanceError(errors, source=source)

    for p in reference_problems(inst):
        what = _reword(p.message)
        sheet = next((t for t, spec in TABLES.items() if spec.file == p.file), None)
        if sheet is not None and p.row is None:
            reader.problem(sheet, None, p.field, what, p.severity)
            continue
        if sheet is not None and p.row is not None:
            loc = (sheet, p.row - 2, *(p.field.split(".") if p.field else ()))
        else:
            loc = _parse_path(p.field or "")
        reader.locate(loc, what, p.severity)
    errors = [p for p in reader.problems if p.severity == "error"]
    if errors:
        raise InstanceError(errors, source=source)
    warnings = [p for p in reader.problems if p.severity != "error"]
    check_overrides(inst, source, reader.located)
    return inst, warnings


def _similar(a: str, b: str) -> bool:
    """Whether sheet name ``a`` looks like a misspelling or a copy of ``b``: the same letters
    but for case, spaces, punctuation, digits or a plural 's' (``Targets``, ``targets ``,
    ``Targets (2)``, ``target``)."""
    def norm(x: str) -> str:
        return re.sub(r"[^a-z]+", "", x.lower()).rstrip("s")

    return a != b and norm(a) == norm(b)


MAX_WORKBOOK_BYTES = 100_000_000  # the .xlsx file
MAX_WORKBOOK_UNPACKED = 1_000_000_000  # what its parts hold once unzipped
MAX_WORKBOOK_PARTS = 10_000


def _check_workbook_file(target: Path) -> None:
    """Refuse, before openpyxl reads it, a workbook that is not a regular file (a folder, a
    pipe that would block) or is far larger than any instance, packed or unpacked (a zip
    bomb)."""
    def refuse(what: str) -> None:
        raise InstanceError(Problem(target.name, None, None, what), source=str(target))

    try:
        st = os.stat(target)
    except OSError as exc:
        refuse(f"cannot be read ({exc.strerror or exc}): expected an instance workbook (.xlsx)")
    if stat.S_ISDIR(st.st_mode):
        refuse("a folder, not a file: expected an instance workbook (.xlsx)")
    if not stat.S_ISREG(st.st_mode):
        refuse("not a regular file (a pipe, device or socket): expected an instance workbook "
               "(.xlsx)")
    if st.st_size > MAX_WORKBOOK_BYTES:
        refuse(f"{st.st_size / 1e6:.1f} MB: at most {MAX_WORKBOOK_BYTES / 1e6:g} MB expected "
               "for an instance workbook")
    try:
        with zipfile.ZipFile(target) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        refuse(f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {exc}")
    unpacked = sum(i.file_size for i in parts)
    if len(parts) > MAX_WORKBOOK_PARTS or unpacked > MAX_WORKBOOK_UNPACKED:
        refuse(f"the workbook unpacks to {len(parts)} parts and {unpacked / 1e6:.0f} MB: at "
               f"most {MAX_WORKBOOK_PARTS} parts and {MAX_WORKBOOK_UNPACKED / 1e6:g} MB "
               "expected for an instance workbook")
