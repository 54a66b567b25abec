"""Write an instance as a workbook (see :mod:`hwbopt.io.workbook_layout` for its sheets):
each sheet's header and meaning row, its rows, and drop-down lists for ids and choices.
Text is never written so that Excel would take it for a formula, and every number reads back
exactly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from hwbopt.errors import UsageError
from hwbopt.io.workbook_layout import (
    FIRST_ROW,
    HEADER_ROW,
    INSTANCE_SHEET,
    LIST_SEPARATOR,
    LIST_SHEETS,
    MEANING_ROW,
    README_SHEET,
    STRESS_TABLE,
    Column,
    ListSheet,
    instance_columns,
    item_kind,
    ref_targets,
    sheet_columns,
    stress_table_columns,
    table_columns,
)
from hwbopt.outputs import file_mode
from hwbopt.paths import plain
from hwbopt.schema import PROBABILITY, TABLES, Instance

VALIDATION_ROWS = 2000  # data validation reaches this many rows below the data
FORMULA_START = ("=", "+", "-", "@")  # text starting so would be read as a formula by Excel


def _put(cell: Any, value: Any) -> None:
    """Write a value so that it reads back exactly and text is never taken for a formula."""
    if value is None:
        return
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would store '=…' as a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # Excel's leading apostrophe: shown and kept as text
        return
    cell.value = value
    if isinstance(value, float) and float(f"{value:.16g}") != value:
        # openpyxl writes numbers with 16 significant digits; a few doubles need 17
        cell._value = repr(value)


def _widths(ws: Any, headers: list[str]) -> None:
    from openpyxl.utils import get_column_letter

    for j, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(h) + 4))


def _header(ws: Any, cols: list[Column], money: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, grey = Font(bold=True), Font(italic=True, color="555555")
    fill = PatternFill("solid", fgColor="F2F2F2")
    for j, col in enumerate(cols, start=1):
        head = ws.cell(HEADER_ROW, j)
        _put(head, col.header)
        head.font = bold
        meaning = ws.cell(MEANING_ROW, j)
        _put(meaning, col.meaning(money))
        meaning.font = grey
        meaning.fill = fill
        meaning.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[MEANING_ROW].height = 60
    ws.freeze_panes = ws.cell(FIRST_ROW, 1)
    _widths(ws, [c.header for c in cols])


def _validations(ws: Any, cols: list[Column], last_row: int,
                 targets: dict[str, tuple[str, str]], id_rows: dict[str, int]) -> None:
    """Drop-down lists for ids and enumerations, stopping wrong entries where Excel can."""
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    end = last_row + VALIDATION_ROWS
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        if col.ref in targets:
            sheet, id_col = targets[col.ref]
            src_col = get_column_letter(id_rows[sheet + "." + id_col])
            src_end = id_rows[sheet] + VALIDATION_ROWS
            dv = DataValidation(
                type="list", allow_blank=True, showErrorMessage=True, errorStyle="warning",
                formula1=f"{quote_sheetname(sheet)}!${src_col}${FIRST_ROW}:${src_col}${src_end}",
                errorTitle="unknown id", error=f"expected an id from sheet {sheet}")
        elif col.kind in ("choice", "bool"):
            options = col.choices if col.kind == "choice" else ("TRUE", "FALSE")
            dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"',
                                allow_blank=True, showErrorMessage=True, errorStyle="stop",
                                errorTitle="not allowed",
                                error="expected one of " + ", ".join(options))
        else:
            continue
        ws.add_data_validation(dv)
        dv.add(f"{letter}{FIRST_ROW}:{letter}{end}")


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        obj = None if obj is None else getattr(obj, part, None)  # None: a union member's gap
    return obj


def _number_text(v: Any) -> str:
    """A number as short text that reads back exactly (repr is the shortest exact form)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def flow_yaml(value: Any) -> str:
    """A mapping or list as one line of YAML flow text: {total: 0.35, over_years: 4}."""
    text: str = yaml.safe_dump(plain(value), default_flow_style=True, sort_keys=False,
                               allow_unicode=True, width=1 << 30)
    return text.strip()


def _cell_value(col: Column, value: Any) -> Any:
    """What a cell holds for ``value``: a list held in one cell is joined, a mapping or list
    given as a change's value is YAML flow text, anything else is itself."""
    if col.joined:
        return f"{LIST_SEPARATOR} ".join(_number_text(v) for v in value) if value else None
    if isinstance(value, dict | list | tuple):
        return flow_yaml(value)
    return value


def _list_rows(inst: Instance, spec: ListSheet) -> list[list[Any]]:
    """The sheet's rows: key values then the element's columns."""
    cols = sheet_columns(spec)
    kind, _ = item_kind(spec)
    own = cols[len(spec.keys):]

    def walk(obj: Any, depth: int, keys: list[Any]) -> Iterator[list[Any]]:
        items = getattr(obj, spec.path[depth])
        if depth < len(spec.path) - 1:
            for item in items:
                yield from walk(item, depth + 1, [*keys, item.id])
            return
        if items is None:
            return
        if kind == "mapping":
            for k, v in items.items():
                yield [*keys, k, v]
        elif kind == "values":
            for v in items:
                yield [*keys, v]
        else:
            for item in items:
                yield [*keys, *(_cell_value(c, _dig(item, c.path)) for c in own)]

    return list(walk(inst, 0, []))


def _stress_table_rows(inst: Instance) -> list[list[Any]]:
    """One row per scenario and input, then the scenario's probability if the set has them
    (input ``probability``)."""
    out: list[list[Any]] = []
    for s in inst.stress:
        for n, row in enumerate(s.table_rows, start=1):
            out += [[s.id, n, i.column, v] for i, v in zip(s.inputs, row, strict=True)]
            if s.table_probabilities:
                out.append([s.id, n, PROBABILITY, s.table_probabilities[n - 1]])
    return out


def _read_me(ws: Any, inst: Instance) -> None:
    lines = [
        f"hwbopt instance workbook: {inst.name}",
        "",
        "Each sheet is one list of the instance. Row 1 holds the field names (do not change "
        "them); row 2 what each field means, its unit and an example (you may delete it); "
        "data starts in row 3, one item a row.",
        "The 'instance' sheet holds the single values (name, units, horizon, settings).",
        "Lists inside an item have their own sheet, keyed by the item's id: a partner's remit "
        "is in partner_remit (partner, intervention), its ring-fenced lines in ring_fenced, "
        "a pool's contributors in pool_contributors, and so on.",
        "Scenarios and options: scenarios and options name them; scenario_changes and "
        "option_changes hold their changes (path, then one of value, scale or add; a mapping "
        "or list as a value is written as YAML flow text, such as {total: 0.35, over_years: 4}); "
        "option_policies holds one rule a row, with only the fields its rule uses filled in.",
        "Stress sets: stress names them; stress_inputs holds one input a row (several paths, "
        "or a discrete input's values and weights, separated by ';'); stress_table holds the "
        "explicit scenarios of a set that takes them from a table, one row per scenario and "
        "input.",
        f"Money is in {inst.money_label} ({inst.money_unit} of {inst.currency}) throughout.",
        "Type values, or formulas Excel has calculated: a formula without a calculated value, "
        "an error such as #DIV/0!, a date where a number belongs and merged cells are refused, "
        "each with its cell. A blank cell is a missing value; the text NA is not.",
        "Check it: hwbopt validate FILE.xlsx; solve it: hwbopt solve FILE.xlsx; turn it into "
        "a folder: hwbopt convert FILE.xlsx FOLDER.",
    ]
    for i, line in enumerate(lines, start=1):
        _put(ws.cell(i, 1), line)
    ws.column_dimensions["A"].width = 120


def write_workbook(inst: Instance, path: str | os.PathLike[str]) -> Path:
    """Write ``inst`` as a workbook that :func:`read_workbook` reads back equal."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils.exceptions import IllegalCharacterError

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"{target}: an instance workbook must end in .xlsx")
    money = inst.money_label
    wb = Workbook()
    _read_me(wb.active, inst)
    wb.active.title = README_SHEET

    ws = wb.create_sheet(INSTANCE_SHEET)
    for j, h in enumerate(("field", "value", "meaning"), start=1):
        _put(ws.cell(1, j), h)
        ws.cell(1, j).font = Font(bold=True)
    from openpyxl.worksheet.datavalidation import DataValidation

    for i, col in enumerate(instance_columns(), start=2):
        _put(ws.cell(i, 1), col.header)
        value = _dig(inst, col.path)
        _put(ws.cell(i, 2), value)
        ws.cell(i, 2).alignment = Alignment(wrap_text=False)
        _put(ws.cell(i, 3), col.meaning(money))
        ws.cell(i, 3).font = Font(italic=True, color="555555")
        if col.kind in ("choice", "bool"):
            options = col.choices if col.kind == "choice" else ("TRUE", "FALSE")
            dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"',
                                allow_blank=True, showErrorMessage=True, errorStyle="stop")
            ws.add_data_validation(dv)
            dv.add(f"B{i}")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = "A2"

    sheets: list[tuple[str, list[Column], list[list[Any]]]] = []
    for spec in LIST_SHEETS:
        sheets.append((spec.name, sheet_columns(spec), _list_rows(inst, spec)))
        if spec.name == "stress_inputs":
            sheets.append((STRESS_TABLE, stress_table_columns(), _stress_table_rows(inst)))
    for table in TABLES:
        cols = table_columns(table)
        rows = [[_dig(r, c.path) for c in cols] for r in getattr(inst, table)]
        sheets.append((table, cols, rows))

    targets = ref_targets()
    id_rows: dict[str, int] = {}
    for name, cols, rows in sheets:
        id_rows[name] = FIRST_ROW + len(rows)
        for j, c in enumerate(cols, start=1):
            id_rows[f"{name}.{c.header}"] = j
    try:
        for name, cols, rows in sheets:
            ws = wb.create_sheet(name)
            _header(ws, cols, money)
            for i, row in enumerate(rows, start=FIRST_ROW):
                for j, value in enumerate(row, start=1):
                    _put(ws.cell(i, j), value)
            _validations(ws, cols, FIRST_ROW + len(rows), targets, id_rows)
    except IllegalCharacterError as exc:
        raise UsageError(f"cannot write {target}: a text holds a control character Excel "
                         f"does not allow ({exc})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".xlsx", dir=target.parent)
    os.fchmod(fd, file_mode())  # mkstemp makes it owner-only; the user's umask decides
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
