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
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import ValidationError

from hwbopt.errors import InstanceError, Problem
from hwbopt.io.data import (
    YAML_FILE,
    build_instance,
    error_message,
    field_problems,
    instance_from_data,
    loc_path,
)
from hwbopt.outputs import file_mode
from hwbopt.scenarios import check_overrides
from hwbopt.schema import (
    PROBABILITY,
    TABLES,
    YAML_FIELDS,
    Instance,
    StressInput,
    number_from_text,
)

# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------


# Limits on what the readers take: an instance is a few files a person wrote, never a pipe, a
# folder or a link out of the instance; sizes far above any real instance are refused before
# they are read (README.md, "Limits").
MAX_YAML_BYTES = 10_000_000  # instance.yaml
MAX_TABLE_BYTES = 256_000_000  # one CSV table
MAX_YAML_DEPTH = 50  # lists and mappings inside each other


class _Refused(yaml.MarkedYAMLError):  # type: ignore[misc]  # PyYAML has no type stubs here
    """YAML this reader does not take; its ``problem`` is the whole message."""



INT_TAG, FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
# numbers as YAML 1.2 (and the CSV reader, and a spreadsheet) read them: decimal digits only,
# so no 8_00 (800), 1:30 (sexagesimal 90), 0x10, 0o17 or 017 (octal 15) turning into a number
YAML_INT = re.compile(r"^[-+]?[0-9]+$")
YAML_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
YAML_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _SafeUniqueLoader(yaml.SafeLoader):  # type: ignore[misc]  # no PyYAML type stubs
    """yaml.SafeLoader for instance files: numbers and booleans as in YAML 1.2 (what CSV and
    workbooks take), no dates, no duplicate keys (``2013`` and ``'2013'`` are one key), no
    aliases (``*name``: an alias bomb expands exponentially), at most :data:`MAX_YAML_DEPTH`
    levels of nesting."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers
                if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(None, None, (
                f"the alias *{event.anchor} is not supported: write the value out in full "
                "(anchors and aliases are not part of the instance format)"), event.start_mark)
        depth = getattr(self, "_depth", 0)
        if depth >= MAX_YAML_DEPTH:
            raise _Refused(None, None, (
                f"lists and mappings nested more than {MAX_YAML_DEPTH} deep: an instance "
                "needs a few levels"), self.peek_event().start_mark)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth


_SafeUniqueLoader.add_implicit_resolver(BOOL_TAG, YAML_BOOL, list("tTfF"))
_SafeUniqueLoader.add_implicit_resolver(INT_TAG, YAML_INT, list("-+0123456789"))
_SafeUniqueLoader.add_implicit_resolver(FLOAT_TAG, YAML_FLOAT, list("-+.0123456789"))


def _construct_int(loader: _SafeUniqueLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if not YAML_INT.match(str(text).strip()):
        raise _Refused(None, None, f"expected a whole number written in decimal digits, got "
                       f"{text!r}", node.start_mark)
    return int(str(text).strip(), 10)


def _construct_float(loader: _SafeUniqueLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).strip()
    if not YAML_FLOAT.match(text):
        raise _Refused(None, None, f"expected a plain number such as 800 or 0.25, got {text!r}",
                       node.start_mark)
    # .inf and .nan are numbers the schema refuses with the field's name ('finite number')
    return float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                 .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))


_SafeUniqueLoader.add_constructor(INT_TAG, _construct_int)
_SafeUniqueLoader.add_constructor(FLOAT_TAG, _construct_float)


def _refuse_tag(loader: _SafeUniqueLoader, node: yaml.Node) -> Any:
    raise _Refused(None, None, (
        f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not supported: expected "
        "plain YAML only (text, numbers, true/false, lists and mappings)"), node.start_mark)


for _tag in ("binary", "timestamp", "set", "omap", "pairs", "value", "yaml"):
    _SafeUniqueLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def _key_text(key: Any) -> Any:
    """A mapping key as the schema will see it: 2013, 2013.0 and '2013' are one key."""
    if isinstance(key, bool):
        return key
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    if isinstance(key, int | float | str):
        return str(key).strip()
    return key


def _construct_unique_mapping(loader: _SafeUniqueLoader, node: yaml.MappingNode,
                              deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    # explicit keys only: a key that overrides one merged in with '<<' is not a duplicate
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _Refused(None, None, "a mapping key must be a plain value",
                           key_node.start_mark) from None
        same = _key_text(key)
        if same in seen:
            raise _Refused(
                "while reading a mapping", node.start_mark,
                f"duplicate key '{key}' (first given on line {seen[same].start_mark.line + 1}):"
                " each key may be given once", key_node.start_mark)
        seen[same] = key_node
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_SafeUniqueLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


class UnreadableFile(Exception):
    """A file of the instance that is not read: its message says why and what is expected."""


def read_instance_text(path: Path, root: Path, limit: int) -> str:
    """The text of ``path``, a regular file inside the folder ``root`` of at most ``limit``
    bytes, read without following a link out of ``root`` and without ever blocking on a pipe.

    Raises FileNotFoundError (no such file), UnicodeDecodeError (not UTF-8) or
    :class:`UnreadableFile` (anything else: a folder, a pipe, a link out, too large).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableFile(f"cannot be read ({exc.strerror or exc}): expected a readable "
                             "file") from None
    if not path.resolve().is_relative_to(root.resolve()):
        raise UnreadableFile("a link to a file outside the instance folder: an instance is "
                             "read from its own folder only; copy the file into it")
    _check_regular(st.st_mode, st.st_size, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read ({exc.strerror or exc}): expected a readable "
                             "file") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        _check_regular(st.st_mode, st.st_size, limit)  # the file opened is the one checked
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(_too_large(len(data), limit))
    return data.decode("utf-8-sig")


def _check_regular(mode: int, size: int, limit: int) -> None:
    if stat.S_ISDIR(mode):
        raise UnreadableFile("a folder, not a file: expected a file")
    if not stat.S_ISREG(mode):
        raise UnreadableFile("not a regular file (a pipe, device or socket): expected a file")
    if size > limit:
        raise UnreadableFile(_too_large(size, limit))


def _too_large(size: int, limit: int) -> str:
    return (f"{size / 1e6:.1f} MB: at most {limit / 1e6:g} MB expected for this file; an "
            "instance far larger than any board's is not read")


def load_yaml_text(text: str) -> Any:
    """Parse instance YAML (``instance.yaml``, or a workbook cell's flow text) with
    :class:`_SafeUniqueLoader`; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_SafeUniqueLoader)


def read_yaml(path: Path, root: Path | None = None) -> tuple[dict[str, Any] | None,
                                                            list[Problem]]:
    name = path.name
    try:
        text = read_instance_text(path, root or path.parent, MAX_YAML_BYTES)
    except FileNotFoundError:
        return None, [Problem(name, None, None, f"missing file: expected {path}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"not UTF-8 text ({exc.reason})")]
    except UnreadableFile as exc:
        return None, [Problem(name, None, None, str(exc))]
    try:
        data = load_yaml_text(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        if isinstance(exc, _Refused):
            what = str(exc.problem)
        elif isinstance(exc, yaml.constructor.ConstructorError):
            what = (f"{exc.problem}: expected plain YAML only (text, numbers, lists and "
                    "mappings), no tags that build objects")
        else:
            what = f"not valid YAML: {exc.problem}"
        return None, [Problem(name, None, None, f"{where}{what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, f"not valid YAML: {exc}")]
    except RecursionError:
        return None, [Problem(name, None, None, (
            f"lists and mappings nested too deep: at most {MAX_YAML_DEPTH} levels expected"))]
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


def read_table(path: Path, table: str,
               root: Path | None = None) -> tuple[list[dict[str, Any]] | None, list[Problem]]:
    """Rows of one CSV table as dicts of validated values, or the problems found."""
    rows, _, problems = _read_table(path, table, root)
    return rows, problems


def _read_table(
    path: Path, table: str, root: Path | None = None
) -> tuple[list[dict[str, Any]] | None, list[int], list[Problem]]:
    """Like :func:`read_table`, plus the line on which each returned row starts."""
    spec = TABLES[table]
    name = path.name
    try:
        text = read_instance_text(path, root or path.parent, MAX_TABLE_BYTES)
    except FileNotFoundError:
        if spec.required:
            return None, [], [Problem(name, None, None, f"missing file: expected {path}")]
        return [], [], []
    except UnicodeDecodeError as exc:
        return None, [], [Problem(name, None, None, f"not UTF-8 text ({exc.reason})")]
    except UnreadableFile as exc:
        return None, [], [Problem(name, None, None, str(exc))]
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
            # numbers are read by the schema's one rule (schema.plain_number), as in YAML
            try:
                row = spec.row_model.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    field = loc_path(err["loc"]) or None
                    problems.append(Problem(name, line, field, error_message(err)))
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
    if path.name == YAML_FILE and not path.is_dir():
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
    data, problems = read_yaml(folder / YAML_FILE, folder)
    # a misnamed or unknown table file does not stop the other checks: all are reported
    stray = stray_files(folder, data)
    tables: dict[str, list[dict[str, Any]]] = {}
    lines: dict[str, list[int]] = {}
    for table in TABLES:
        rows, row_lines, found = _read_table(folder / TABLES[table].file, table, folder)
        problems.extend(found)
        if rows is not None:
            tables[table] = rows
            lines[table] = row_lines
    if data is not None:
        problems.extend(_read_stress_tables(folder, data))
    if data is not None and problems:
        # a broken table must not hide the field problems of instance.yaml: report both at once
        yaml_part = {k: v for k, v in data.items() if k not in TABLES}
        problems.extend(field_problems(yaml_part, tables, lines, skip=set(TABLES) - set(tables)))
    if data is None or problems:
        raise InstanceError(stray + problems, source=str(folder))
    try:
        built = build_instance(data, tables, str(folder), lines)
        check_overrides(built[0], str(folder))
    except InstanceError as exc:
        raise InstanceError(stray + exc.problems, source=str(folder)) from None
    if stray:
        raise InstanceError(stray, source=str(folder))
    return built


def stress_table_names(data: dict[str, Any] | None) -> list[str]:
    """The file names of the scenario tables the stress sets of ``data`` name."""
    sets = data.get("stress") if isinstance(data, dict) else None
    if not isinstance(sets, list):
        return []
    names = [s.get("table") for s in sets if isinstance(s, dict)]
    return [n for n in names if isinstance(n, str) and n and Path(n).name == n]


def stray_files(folder: Path, data: dict[str, Any] | None) -> list[Problem]:
    """Files the reader would silently pass over though they look like part of the instance:
    a table named with another case or spacing (``Targets.csv``, ``targets.csv ``) or another
    extension (``targets.txt`` where there is no ``targets.csv``), and any CSV file that is
    neither a table nor a stress set's table. Other files (README.md, notes, results folders)
    and hidden ones are left alone. ``data`` is the parsed instance.yaml (None if unreadable:
    then the stress tables are not known and an unknown CSV file is not reported)."""
    tables = [spec.file for spec in TABLES.values()]
    expected = [YAML_FILE, *tables, *stress_table_names(data)]
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    present = set(names)
    listed = ", ".join(tables)
    out = []
    for name in names:
        if name in expected or name.startswith(".") or name.startswith("~$"):
            continue
        norm = name.strip().lower()
        same = [e for e in expected if e.lower() == norm]
        if same:
            out.append(Problem(name, None, None, (
                f"file named {name!r}: expected {same[0]!r} exactly (names are "
                "case-sensitive, without spaces), so this file is not read; rename it")))
            continue
        stem = Path(norm).stem.strip() if "." in norm else norm
        kin = [e for e in expected if Path(e).stem == stem and e not in present]
        if kin:
            out.append(Problem(name, None, None, (
                f"file named {name!r}: expected {kin[0]!r}, so this file is not read; "
                "rename it (a table is a CSV file)")))
            continue
        if Path(norm).suffix.strip() == ".csv" and data is not None:
            out.append(Problem(name, None, None, (
                f"unknown table file: not part of the instance, so it would not be read; "
                f"expected tables named among {listed}, or a stress set's table named in "
                f"{YAML_FILE} (stress[].table); rename it, or move it out of the folder")))
    return out


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
        inputs = spec.get("inputs")
        try:
            columns = [StressInput.model_validate(i).column
                       for i in (inputs if isinstance(inputs, list) else [])]
        except ValidationError:
            continue  # the schema reports the broken input
        path = folder / name
        try:
            text = read_instance_text(path, folder, MAX_TABLE_BYTES)
        except FileNotFoundError:
            problems.append(Problem(YAML_FILE, None, where, f"missing file: expected {path}"))
            continue
        except UnicodeDecodeError as exc:
            problems.append(Problem(name, None, None, f"not UTF-8 text ({exc.reason})"))
            continue
        except UnreadableFile as exc:
            problems.append(Problem(name, None, None, str(exc)))
            continue
        rows, chances, found = _scenario_rows(name, text, columns)
        problems.extend(found)
        if rows is not None:
            spec["table_rows"] = rows
        if chances is not None:
            spec["table_probabilities"] = chances
    return problems


def _scenario_rows(name: str, text: str, columns: list[str]
                   ) -> tuple[list[tuple[float, ...]] | None, list[float] | None, list[Problem]]:
    """The rows of a stress set's table ``name``: each row's input values (``None`` if the
    table cannot be read at all), each row's probability if the table has a ``probability``
    column (else ``None``), and the problems."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[float, ...]] = []
    chances: list[float] = []
    problems: list[Problem] = []
    bad: list[Problem] = []  # the probability column's
    try:
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            return None, None, [Problem(name, 1, ", ".join(missing), (
                "missing column: expected one column per input name "
                f"({', '.join(columns)})"))]
        at = [header.index(c) for c in columns]
        weighted = PROBABILITY in header and PROBABILITY not in columns  # else schema says
        near = [h for h in header if h != PROBABILITY and
                re.sub(r"[\s_-]+", "", h.lower()) == PROBABILITY]
        if near:  # read as an unknown column, its weights would be ignored without a word
            return None, None, [Problem(name, 1, near[0], (
                f"expected '{PROBABILITY}' exactly for the column of each scenario's "
                "probability"))]
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
                v = number_from_text(cell)
                if v is None:
                    problems.append(Problem(name, line, c, (
                        f"expected a finite number such as 0.25, got {cell!r}")))
                    continue
                values.append(v)
            rows.append(tuple(values))
            if weighted:
                chance, problem = _probability(name, line, cells[header.index(PROBABILITY)])
                chances.append(chance)
                bad.extend(problem)
    except csv.Error as exc:
        return None, None, [*problems, *bad, Problem(name, None, None,
                                                     f"not valid CSV: {exc}")]
    if not rows and not problems:
        problems.append(Problem(name, 2, None, "the table has no rows: at least one "
                                "scenario expected"))
    elif weighted and rows and not bad and not any(chances):
        bad.append(Problem(name, None, PROBABILITY, (
            "every scenario has probability 0: at least one must be possible (the column "
            "gives each row's relative probability)")))
    # probabilities with a problem are reported here alone, not again by the schema
    return rows, chances if weighted and not bad else None, problems + bad


def _probability(name: str, line: int, cell: str) -> tuple[float, list[Problem]]:
    """One row's ``probability`` cell: a finite number, zero or more (relative: the rows are
    normalised to sum to 1 when used)."""
    v = number_from_text(cell.strip())
    if v is None or v < 0:
        return 0.0, [Problem(name, line, PROBABILITY, (
            "expected a probability: a finite number, zero or more, such as 0.25 (relative: "
            f"the rows are scaled to sum to 1), got {cell.strip()!r}"))]
    return v, []


def instance_from_dict(data: dict[str, Any], references: bool = True) -> Instance:
    """Validate an instance given as one dict (YAML fields plus tables as lists of rows), its
    overrides included: see :func:`hwbopt.io.data.instance_from_data`."""
    inst = instance_from_data(data, references)
    if references:
        check_overrides(inst, "<dict>")
    return inst


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
        os.fchmod(fd, file_mode())  # mkstemp makes it owner-only; the user's umask decides
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
            weights = stress.table_probabilities
            writer.writerow([i.column for i in stress.inputs]
                            + ([PROBABILITY] if weights else []))
            writer.writerows([_cell(v) for v in row] + ([_cell(weights[n])] if weights else [])
                             for n, row in enumerate(stress.table_rows))
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
