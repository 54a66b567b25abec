"""An instance from plain data (the fields of instance.yaml plus each table as a list of rows):
the schema, then the references between entities, every problem located by file, row and field.

The folder and workbook readers both end here; so do scenarios, whose changed data are
validated from scratch. Overrides are not applied here: :func:`hwbopt.scenarios.check_overrides`
does that once the instance is read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hwbopt.errors import InstanceError, Problem
from hwbopt.schema import CURRENCY_PATTERN, ID_PATTERN, LABEL_PATTERN, TABLES, Instance
from hwbopt.validate import reference_problems

YAML_FILE = "instance.yaml"


def error_message(err: ErrorDetails) -> str:
    """A pydantic error in the words of the instance format."""
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


def loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for n, part in enumerate(loc):
        if n >= 2 and loc[n - 2] == "policies" and isinstance(loc[n - 1], int):
            continue  # the rule's name, which pydantic adds to locate a tagged union
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def relocate(problem: Problem, lines: dict[str, list[int]] | None) -> Problem:
    """Turn a row located by index (index + 2, see :mod:`hwbopt.validate`) into its file line."""
    if lines is None or problem.row is None:
        return problem
    for table, spec in TABLES.items():
        if spec.file == problem.file and table in lines:
            index = problem.row - 2
            if 0 <= index < len(lines[table]):
                return replace(problem, row=lines[table][index])
    return problem


def field_problems(
    data: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    lines: dict[str, list[int]] | None,
    skip: Collection[str] = (),
) -> list[Problem]:
    """Field-level problems of the whole instance, leaving out the tables named in ``skip``."""
    try:
        Instance.model_validate({**data, **tables})
    except ValidationError as exc:
        return schema_problems(exc, lines, skip)
    return []


def schema_problems(
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
                    else error_message(err))))
            elif isinstance(loc[1], int):
                problems.append(relocate(Problem(file, loc[1] + 2, loc_path(loc[2:]) or None,
                                                  error_message(err)), lines))
            else:
                problems.append(Problem(file, None, loc_path(loc[1:]) or None,
                                        error_message(err)))
        else:
            problems.append(Problem(YAML_FILE, None, loc_path(loc) or None,
                                    error_message(err)))
    return problems



def build_instance(
    data: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    source: str,
    lines: dict[str, list[int]] | None = None,
    references: bool = True,
) -> tuple[Instance, list[Problem]]:
    """The validated instance and its warnings; raises :class:`InstanceError` listing every
    error. ``lines`` give the file line of each table row (else a row is its index + 2)."""
    try:
        inst = Instance.model_validate({**data, **tables})
    except ValidationError as exc:
        raise InstanceError(schema_problems(exc, lines), source=source) from None
    if not references:
        return inst, []
    found = [relocate(p, lines) for p in reference_problems(inst)]
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise InstanceError(errors, source=source)
    return inst, [p for p in found if p.severity != "error"]


def instance_from_data(data: dict[str, Any], references: bool = True) -> Instance:
    """Validate an instance given as one dict (YAML fields plus tables as lists of rows).

    Table rows are located as ``line`` index + 2, as if each table were a CSV file with a
    header line. ``references=False`` checks fields only, not how entities relate (for
    instances made by a program from a valid one, such as a stress scenario's).
    """
    yaml_part = {k: v for k, v in data.items() if k not in TABLES}
    tables = {k: v for k, v in data.items() if k in TABLES}
    return build_instance(yaml_part, tables, "<dict>", references=references)[0]
