"""Read and write an instance folder: ``instance.yaml`` plus one CSV file per table.

YAML is read with a safe loader that also rejects duplicate keys; CSV cells are read as text and
only the schema turns them into numbers, so ``NA`` or ``nan`` is an error, never a silent
missing value. Every problem is collected with its file, line and field before anything is
raised, so a user fixes all of them in one pass.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import ValidationError

from hwbopt.errors import InstanceError, Problem
from hwbopt.schema import (
    CURRENCY_PATTERN,
    ID_PATTERN,
    LABEL_PATTERN,
    TABLES,
    YAML_FIELDS,
    Instance,
)
from hwbopt.validate import reference_problems

YAML_FILE = "instance.yaml"


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _SafeUniqueLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a mapping with the same key twice."""


def _construct_unique_mapping(loader: _SafeUniqueLoader, node: yaml.MappingNode, deep=False):
    seen: dict[Any, yaml.Node] = {}
    # explicit keys only: a key that overrides one merged in with '<<' is not a duplicate
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _DuplicateKey(None, None, "a mapping key must be a plain value",
                                key_node.start_mark) from None
        if key in seen:
            raise _DuplicateKey(
                "while reading a mapping", node.start_mark,
                f"duplicate key '{key}' (first given on line {seen[key].start_mark.line + 1}): "
                "each key may be given once",
                key_node.start_mark)
        seen[key] = key_node
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_SafeUniqueLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def read_yaml(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, [Problem(name, None, None, f"missing file: expected {path}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"not UTF-8 text ({exc.reason})")]
    try:
        data = yaml.load(text, Loader=_SafeUniqueLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        if isinstance(exc, _DuplicateKey):
            what = str(exc.problem)
        elif isinstance(exc, yaml.constructor.ConstructorError):
            what = (f"{exc.problem}: expected plain YAML only (text, numbers, lists and "
                    "mappings), no tags that build objects")
        else:
            what = f"not valid YAML: {exc.problem}"
        return None, [Problem(name, None, None, f"{where}{what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        return None, [Problem(name, None, None, f"expected a mapping of fields, got {got}")]
    problems = []
    for key in data:
        if key in TABLES:
            problems.append(Problem(name, None, str(key), (
                f"'{key}' is a table: put it in {TABLES[key].file}, not in {name}")))
    return data, problems


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _error_message(err: dict[str, Any]) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if isinstance(err.get("input"), bool):
            return msg
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        value = err.get("input")
        if pattern == ID_PATTERN:
            return (f"expected an id: a letter, then letters, digits, '_' or '-' "
                    f"(got {value!r})")
        if pattern == LABEL_PATTERN:
            return ("expected one line of text, without line breaks or control characters "
                    f"(got {value!r})")
        if pattern == CURRENCY_PATTERN:
            return f"expected a three-letter currency code such as GBP (got {value!r})"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        return (f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} "
                f"{ctx.get('tag')!r}: expected one of {ctx.get('expected_tags')}")
    if kind == "too_short":
        ctx = err.get("ctx") or {}
        return (f"expected at least {ctx.get('min_length')} items, got "
                f"{ctx.get('actual_length')}")
    if kind == "missing":
        return "missing: a value is required"
    if kind == "extra_forbidden":
        return "unknown field: not part of the format"
    value = err.get("input")
    if isinstance(value, dict | list | tuple):
        return msg
    return f"{msg} (got {value!r})"


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for n, part in enumerate(loc):
        if n >= 2 and loc[n - 2] == "policies" and isinstance(loc[n - 1], int):
            continue  # the rule's name, which pydantic adds to locate a tagged union
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_number(annotation: Any) -> bool:
    """Whether a field holds an int or a float (possibly optional, possibly constrained)."""
    if get_origin(annotation) is Annotated:
        return _is_number(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_number(a) for a in get_args(annotation) if a is not type(None))
    return annotation in (int, float)


def read_table(path: Path, table: str) -> tuple[list[dict[str, Any]] | None, list[Problem]]:
    """Rows of one CSV table as dicts of validated values, or the problems found."""
    rows, _, problems = _read_table(path, table)
    return rows, problems


def _read_table(
    path: Path, table: str
) -> tuple[list[dict[str, Any]] | None, list[int], list[Problem]]:
    """Like :func:`read_table`, plus the line on which each returned row starts."""
    spec = TABLES[table]
    name = path.name
    if not path.exists():
        if spec.required:
            return None, [], [Problem(name, None, None, f"missing file: expected {path}")]
        return [], [], []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [], [Problem(name, None, None, f"not UTF-8 text ({exc.reason})")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return None, [], [Problem(name, 1, None, f"not valid CSV: {exc}")]
    if header is None or not any(h.strip() for h in header):
        return None, [], [Problem(name, 1, None,
                                  "empty file: expected a header row of field names")]
    header = [h.strip() for h in header]
    fields = spec.row_model.model_fields
    problems: list[Problem] = []
    for col, h in enumerate(header, start=1):
        if not h:
            problems.append(Problem(name, 1, None, (
                f"column {col} has no name (a stray comma?): expected every column named, "
                f"among {', '.join(fields)}")))
        elif h not in fields:
            problems.append(Problem(name, 1, h, (
                f"unknown column: expected columns among {', '.join(fields)}")))
    dupes = {h for h in header if h and header.count(h) > 1}
    for h in sorted(dupes):
        problems.append(Problem(name, 1, h, "column given twice"))
    missing = [f for f, info in fields.items() if info.is_required() and f not in header]
    for f in missing:
        meaning = fields[f].description
        problems.append(Problem(name, 1, f, "missing column: this field is required"
                                + (f" ({meaning})" if meaning else "")))
    if problems:
        return None, [], problems

    numeric = {f for f, info in fields.items() if _is_number(info.annotation)}
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    # a record may span several lines (a quoted cell holding a line break): locate it by the
    # line it starts on, and count blank lines, so every reported line is the one in the file
    end = reader.line_num
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                problems.append(Problem(name, line, None, (
                    f"expected {len(header)} cells, found {len(cells)}")))
                continue
            raw = {h: c.strip() for h, c in zip(header, cells, strict=True) if c.strip() != ""}
            odd = [h for h in numeric & raw.keys() if "_" in raw[h]]
            for h in odd:
                # Python would read '8_00' as 800; a spreadsheet user meant something else
                problems.append(Problem(name, line, h, (
                    f"expected a plain number such as 800 or 0.25, got {raw[h]!r}")))
            try:
                row = spec.row_model.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    field = _loc_path(err["loc"]) or None
                    if field not in odd:
                        problems.append(Problem(name, line, field, _error_message(err)))
                continue
            if odd:
                continue
            rows.append(row.model_dump(exclude_unset=True))
            lines.append(line)
    except csv.Error as exc:
        problems.append(Problem(name, end + 1, None, f"not valid CSV: {exc}"))
    if not rows and not problems and spec.required:
        problems.append(Problem(name, 2, None, "the table has no rows: at least one expected"))
    return (None, [], problems) if problems else (rows, lines, problems)


# --------------------------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------------------------


def _resolve(path: Path) -> Path:
    if path.is_file() and path.name == YAML_FILE:
        return path.parent
    return path


def read_folder(path: str | os.PathLike[str]) -> tuple[Instance, list[Problem]]:
    """Read and fully validate an instance folder. Returns the instance and its warnings.

    Raises :class:`InstanceError` listing every problem found.
    """
    folder = _resolve(Path(path))
    if not folder.exists():
        raise InstanceError(Problem(str(folder), None, None, (
            "no such folder: expected a folder holding instance.yaml and the CSV tables")))
    if not folder.is_dir():
        raise InstanceError(Problem(str(folder), None, None, (
            "not a folder: expected a folder holding instance.yaml and the CSV tables")))
    data, problems = read_yaml(folder / YAML_FILE)
    tables: dict[str, list[dict[str, Any]]] = {}
    lines: dict[str, list[int]] = {}
    for table in TABLES:
        rows, row_lines, found = _read_table(folder / TABLES[table].file, table)
        problems.extend(found)
        if rows is not None:
            tables[table] = rows
            lines[table] = row_lines
    if data is not None:
        problems.extend(_read_stress_tables(folder, data))
    if data is not None and problems:
        # a broken table must not hide the field problems of instance.yaml: report both at once
        yaml_part = {k: v for k, v in data.items() if k not in TABLES}
        problems.extend(_field_problems(yaml_part, tables, lines, skip=set(TABLES) - set(tables)))
    if data is None or problems:
        raise InstanceError(problems, source=str(folder))
    return _build(data, tables, str(folder), lines)


def _read_stress_tables(folder: Path, data: dict[str, Any]) -> list[Problem]:
    """Rows of each stress set's ``table`` (one scenario a row, one column per input name),
    read as numbers into the set's ``table_rows``; the YAML keeps only the file name."""
    sets = data.get("stress")
    if not isinstance(sets, list):
        return []
    problems: list[Problem] = []
    for k, spec in enumerate(sets):
        if not isinstance(spec, dict) or not isinstance(spec.get("table"), str):
            continue
        name = spec["table"]
        if "/" in name or "\\" in name or not name.endswith(".csv"):
            continue  # the schema reports it
        where = f"stress[{k}].table"
        inputs = spec.get("inputs") if isinstance(spec.get("inputs"), list) else []
        try:
            from hwbopt.schema import StressInput

            columns = [StressInput.model_validate(i).column for i in inputs]
        except ValidationError:
            continue  # the schema reports the broken input
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            problems.append(Problem(YAML_FILE, None, where, f"missing file: expected {path}"))
            continue
        except UnicodeDecodeError as exc:
            problems.append(Problem(name, None, None, f"not UTF-8 text ({exc.reason})"))
            continue
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows: list[tuple[float, ...]] = []
        try:
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in columns if c not in header]
            if missing:
                problems.append(Problem(name, 1, ", ".join(missing), (
                    "missing column: expected one column per input name "
                    f"({', '.join(columns)})")))
                continue
            at = [header.index(c) for c in columns]
            end = reader.line_num
            for cells in reader:
                line, end = end + 1, reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    problems.append(Problem(name, line, None,
                                            f"expected {len(header)} cells, found {len(cells)}"))
                    continue
                values = []
                for c, j in zip(columns, at, strict=True):
                    cell = cells[j].strip()
                    try:
                        v = float(cell)
                        if not math.isfinite(v) or "_" in cell:
                            raise ValueError
                    except ValueError:
                        problems.append(Problem(name, line, c, (
                            f"expected a finite number such as 0.25, got {cell!r}")))
                        continue
                    values.append(v)
                rows.append(tuple(values))
        except csv.Error as exc:
            problems.append(Problem(name, None, None, f"not valid CSV: {exc}"))
            continue
        if not rows and not problems:
            problems.append(Problem(name, 2, None, "the table has no rows: at least one "
                                    "scenario expected"))
        spec["table_rows"] = rows
    return problems


def _relocate(problem: Problem, lines: dict[str, list[int]] | None) -> Problem:
    """Turn a row located by index (index + 2, see :mod:`hwbopt.validate`) into its file line."""
    if lines is None or problem.row is None:
        return problem
    for table, spec in TABLES.items():
        if spec.file == problem.file and table in lines:
            index = problem.row - 2
            if 0 <= index < len(lines[table]):
                return replace(problem, row=lines[table][index])
    return problem


def _field_problems(
    data: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    lines: dict[str, list[int]] | None,
    skip: Collection[str] = (),
) -> list[Problem]:
    """Field-level problems of the whole instance, leaving out the tables named in ``skip``."""
    try:
        Instance.model_validate({**data, **tables})
    except ValidationError as exc:
        return _schema_problems(exc, lines, skip)
    return []


def _schema_problems(
    exc: ValidationError, lines: dict[str, list[int]] | None, skip: Collection[str] = ()
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        if loc and loc[0] in TABLES:
            if loc[0] in skip:
                continue
            file = TABLES[loc[0]].file
            if len(loc) == 1:
                problems.append(Problem(file, None, None, (
                    "the table has no rows: at least one expected" if err["type"] == "too_short"
                    else _error_message(err))))
            elif isinstance(loc[1], int):
                problems.append(_relocate(Problem(file, loc[1] + 2, _loc_path(loc[2:]) or None,
                                                  _error_message(err)), lines))
            else:
                problems.append(Problem(file, None, _loc_path(loc[1:]) or None,
                                        _error_message(err)))
        else:
            problems.append(Problem(YAML_FILE, None, _loc_path(loc) or None,
                                    _error_message(err)))
    return problems


def _build(
    data: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    source: str,
    lines: dict[str, list[int]] | None = None,
    references: bool = True,
) -> tuple[Instance, list[Problem]]:
    try:
        inst = Instance.model_validate({**data, **tables})
    except ValidationError as exc:
        raise InstanceError(_schema_problems(exc, lines), source=source) from None
    if not references:
        return inst, []
    found = [_relocate(p, lines) for p in reference_problems(inst)]
    errors = [p for p in found if p.severity == "error"]
    if not errors and (inst.scenarios or inst.options or inst.stress):
        from hwbopt.scenarios import override_problems  # it builds instances with this reader

        errors = override_problems(inst)
    if errors:
        raise InstanceError(errors, source=source)
    return inst, [p for p in found if p.severity != "error"]


def instance_from_dict(data: dict[str, Any], references: bool = True) -> Instance:
    """Validate an instance given as one dict (YAML fields plus tables as lists of rows).

    Table rows are located as ``line`` index + 2, as if each table were a CSV file with a
    header line. ``references=False`` checks fields only, not how entities relate (for
    instances made by a program from a valid one, such as a stress scenario's).
    """
    yaml_part = {k: v for k, v in data.items() if k not in TABLES}
    tables = {k: v for k, v in data.items() if k in TABLES}
    return _build(yaml_part, tables, "<dict>", references=references)[0]


def load_instance(path: str | os.PathLike[str]) -> Instance:
    """Read an instance folder (see :func:`read_folder`), dropping warnings."""
    return read_folder(path)[0]


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a hidden temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_folder(inst: Instance, path: str | os.PathLike[str]) -> Path:
    """Write ``inst`` as an instance folder that :func:`read_folder` reads back equal."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    data = inst.model_dump(mode="json", include=set(YAML_FIELDS), exclude_none=True)
    for entry, stress in zip(data.get("stress", ()), inst.stress, strict=True):
        entry.pop("table_rows", None)
        if stress.table_rows:
            # explicit scenarios go back to their table file (or one named after the set)
            entry["table"] = stress.table or f"stress_{stress.id}.csv"
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow([i.column for i in stress.inputs])
            writer.writerows([_cell(v) for v in row] for row in stress.table_rows)
            atomic_write_text(folder / entry["table"], buf.getvalue())
    for kind in ("scenarios", "options"):
        # a change that sets a field to null keeps its 'value: null'
        for entry, obj in zip(data.get(kind, ()), getattr(inst, kind), strict=True):
            for change, c in zip(entry.get("changes", ()), obj.changes, strict=True):
                if c.op == "value" and c.value is None:
                    change["value"] = None
    atomic_write_text(folder / YAML_FILE, yaml.safe_dump(data, sort_keys=False,
                                                          allow_unicode=True))
    for table, spec in TABLES.items():
        rows = [r.model_dump() for r in getattr(inst, table)]
        if not rows and not spec.required:
            (folder / spec.file).unlink(missing_ok=True)
            continue
        cols = [f for f in spec.row_model.model_fields if any(r[f] is not None for r in rows)]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow([_cell(r[c]) for c in cols])
        atomic_write_text(folder / spec.file, buf.getvalue())
    return folder
