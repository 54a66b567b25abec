"""A hostile user's inputs (issue 13): every one is refused before any work, exit 2, with the
file and row or field (the sheet and cell in a workbook) and what was expected; never exit 1
"unexpected", never a traceback, never a hang.

Each case copies the tutorial (folder or workbook), breaks one thing and says where the
problem must be reported. Each is checked in process, through the Python API (a located
:class:`hwbopt.Problem`) and through the command line's ``validate`` (click's runner: the exit
code and the message as a user sees it), so the module stays fast.
"""

from __future__ import annotations

import csv
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import copy_instance
from openpyxl import load_workbook

import hwbopt
from hwbopt.cli import cli
from hwbopt.errors import InstanceError, SheetProblem
from hwbopt.io import folder as folder_io
from hwbopt.io import workbook as workbook_io
from hwbopt.io.workbook import read_workbook, write_workbook

Mutate = Callable[[Path], None]


# ---------------------------------------------------------------------------------------------
# Folder mutations
# ---------------------------------------------------------------------------------------------


def sub(file: str, old: str, new: str, count: int = 1) -> Mutate:
    def mutate(folder: Path) -> None:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) >= 1, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return mutate


def rename(old: str, new: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / old).rename(folder / new)

    return mutate


def add_file(name: str, text: str | bytes = "a,b\n1,2\n") -> Mutate:
    def mutate(folder: Path) -> None:
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text, encoding="utf-8")

    return mutate


def copy_as(old: str, new: str) -> Mutate:
    def mutate(folder: Path) -> None:
        shutil.copy(folder / old, folder / new)

    return mutate


def fifo(name: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        os.mkfifo(folder / name)

    return mutate


def directory(name: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / name).unlink(missing_ok=True)
        (folder / name).mkdir()
        (folder / name / "inside.csv").write_text("a\n1\n", encoding="utf-8")

    return mutate


SECRET = "top-secret-first-line"


def link_out(name: str) -> Mutate:
    """``name`` becomes a link to a copy of itself outside the instance, whose first line is a
    secret the error must not echo."""

    def mutate(folder: Path) -> None:
        outside = folder.parent / f"outside-{name}"
        text = (folder / name).read_text(encoding="utf-8")
        outside.write_text(f"# {SECRET}\n" + text if name.endswith(".yaml")
                           else SECRET + "," + text, encoding="utf-8")
        (folder / name).unlink()
        (folder / name).symlink_to(outside)

    return mutate


def link_to(name: str, target: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).symlink_to(target)

    return mutate


def dangling(name: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).symlink_to(folder / "no-such-file.csv")

    return mutate


def set_column(folder: Path, file: str, name: str, value: Any) -> None:
    """Give every row of ``file`` the value ``value`` in column ``name`` (added if absent)."""
    with open(folder / file, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row[name] = value
    with open(folder / file, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def then(*steps: Mutate) -> Mutate:
    def mutate(folder: Path) -> None:
        for step in steps:
            step(folder)

    return mutate


def yaml_sub(old: str, new: str) -> Mutate:
    return sub("instance.yaml", old, new)


def change_value(text: str) -> Mutate:
    """The first scenario's change gets ``value: TEXT`` (written as typed)."""
    return yaml_sub('{path: "partners[council].cut.total", value: 0.35}',
                    f'{{path: "partners[council].cut.total", value: {text}}}')


def alias_bomb(levels: int = 9) -> Mutate:
    defs = "\n".join(
        f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels + 1))

    def mutate(folder: Path) -> None:
        path = folder / "instance.yaml"
        text = path.read_text(encoding="utf-8")
        text = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + defs + "\n" + \
            text.replace('{path: "partners[council].cut.total", value: 0.35}',
                         f'{{path: "partners[council].name", value: *a{levels}}}')
        path.write_text(text, encoding="utf-8")

    return mutate


def big_yaml(folder: Path) -> None:
    with open(folder / "instance.yaml", "a", encoding="utf-8") as fh:
        fh.write(("# " + "x" * 1000 + "\n") * 11_000)


STAFF_PATHS = ('{name: staffing, path: "staff[*].fte", op: scale, dist: uniform, low: 0.85, '
               'high: 1.0}')


# ---------------------------------------------------------------------------------------------
# Folder cases
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutate
    file: str  # the file the problem must name
    row: int | None = None  # its CSV line, if the problem is in a row
    field: str | None = None  # the column or YAML path
    expect: tuple[str, ...] = ()  # words of the message
    column: dict[str, Any] = default(default_factory=dict)  # set on interventions.csv
    limits: dict[str, int] = default(default_factory=dict)  # folder_io limits lowered


C = Case
TUTORIAL_FILES = "interventions.csv, activity.csv"

FOLDER_CASES: list[Case] = [
    # item 4: a table under another name is never silently dropped
    C("targets-capitalised", rename("targets.csv", "Targets.csv"), "Targets.csv",
      expect=("expected 'targets.csv' exactly", "not read")),
    C("targets-trailing-space", rename("targets.csv", "targets.csv "), "targets.csv ",
      expect=("expected 'targets.csv' exactly",)),
    C("targets-leading-space", rename("targets.csv", " targets.csv"), " targets.csv",
      expect=("expected 'targets.csv' exactly",)),
    C("targets-upper-case", rename("targets.csv", "TARGETS.CSV"), "TARGETS.CSV",
      expect=("expected 'targets.csv' exactly",)),
    C("targets-upper-extension", rename("targets.csv", "targets.CSV"), "targets.CSV",
      expect=("expected 'targets.csv' exactly",)),
    C("budgets-capitalised", rename("budgets.csv", "Budgets.csv"), "Budgets.csv",
      expect=("expected 'budgets.csv' exactly",)),
    C("staff-capitalised", rename("staff.csv", "Staff.csv"), "Staff.csv",
      expect=("expected 'staff.csv' exactly",)),
    C("sites-capitalised", rename("sites.csv", "Sites.csv"), "Sites.csv",
      expect=("expected 'sites.csv' exactly",)),
    C("avoided-costs-capitalised", rename("avoided_costs.csv", "Avoided_costs.csv"),
      "Avoided_costs.csv", expect=("expected 'avoided_costs.csv' exactly",)),
    C("targets-singular", rename("targets.csv", "target.csv"), "target.csv",
      expect=("unknown table file", "targets.csv")),
    C("targets-as-text", rename("targets.csv", "targets.txt"), "targets.txt",
      expect=("expected 'targets.csv'", "a table is a CSV file")),
    C("targets-without-extension", rename("targets.csv", "targets"), "targets",
      expect=("expected 'targets.csv'",)),
    C("staff-as-tsv", rename("staff.csv", "staff.tsv"), "staff.tsv",
      expect=("expected 'staff.csv'",)),
    C("unknown-csv", add_file("notes.csv"), "notes.csv",
      expect=("unknown table file", "budgets.csv", "stress[].table")),
    C("copied-table", copy_as("targets.csv", "targets (copy).csv"), "targets (copy).csv",
      expect=("unknown table file",)),
    C("backup-csv", copy_as("budgets.csv", "budgets-old.csv"), "budgets-old.csv",
      expect=("unknown table file",)),
    C("instance-yaml-capitalised", rename("instance.yaml", "Instance.yaml"), "Instance.yaml",
      expect=("expected 'instance.yaml' exactly",)),
    C("instance-yml", rename("instance.yaml", "instance.yml"), "instance.yml",
      expect=("expected 'instance.yaml'",)),
    C("stress-table-capitalised", rename("stress_explicit.csv", "Stress_explicit.csv"),
      "Stress_explicit.csv", expect=("expected 'stress_explicit.csv' exactly",)),
    C("stress-table-renamed", rename("stress_explicit.csv", "explicit.csv"), "explicit.csv",
      expect=("unknown table file",)),

    # item 5: an id listed twice
    C("exclusive-member-twice",
      yaml_sub("roles:\n", "exclusive:\n  - {id: g, interventions: [telecare, telecare]}\n"
               "roles:\n"), "instance.yaml", field="exclusive[0].interventions[1]",
      expect=("'telecare' is listed twice", "exclusive[0].interventions[0]")),
    C("exclusive-member-twice-later",
      yaml_sub("roles:\n", "exclusive:\n  - {id: g, interventions: [reablement, telecare, "
               "reablement]}\nroles:\n"), "instance.yaml",
      field="exclusive[0].interventions[2]", expect=("'reablement' is listed twice",)),
    C("remit-member-twice",
      yaml_sub("remit: [talking_therapies, weight_management]",
               "remit: [talking_therapies, weight_management, talking_therapies]"),
      "instance.yaml", field="partners[0].remit[2]", expect=("listed twice",)),
    C("council-remit-member-twice",
      yaml_sub("remit: [reablement, telecare, befriending, exercise_referral]",
               "remit: [reablement, telecare, befriending, telecare, exercise_referral]"),
      "instance.yaml", field="partners[1].remit[3]", expect=("'telecare' is listed twice",)),
    C("pool-intervention-twice",
      yaml_sub("interventions: [reablement, telecare, talking_therapies]",
               "interventions: [reablement, telecare, talking_therapies, telecare]"),
      "instance.yaml", field="pools[0].interventions[3]", expect=("listed twice",)),
    C("ring-fenced-intervention-twice",
      yaml_sub("    remit: [talking_therapies, weight_management]",
               "    remit: [talking_therapies, weight_management]\n    ring_fenced:\n"
               "      - {id: ph, share: 0.1, interventions: [weight_management, "
               "weight_management]}"),
      "instance.yaml", field="partners[0].ring_fenced[0].interventions[1]",
      expect=("'weight_management' is listed twice",)),
    C("contributor-twice",
      yaml_sub("      - {partner: council, min_share: 0.0, max_share: 0.3}",
               "      - {partner: council, min_share: 0.0, max_share: 0.3}\n"
               "      - {partner: council, min_share: 0.0, max_share: 0.1}"),
      "instance.yaml", field="pools[0].contributors[2].partner",
      expect=("contributes twice",)),
    C("stress-path-twice",
      yaml_sub(STAFF_PATHS, '{name: staffing, paths: ["staff[*].fte", "staff[*].fte"], '
               'op: scale, dist: uniform, low: 0.85, high: 1.0}'),
      "instance.yaml", field="stress[0].inputs[4].paths[1]", expect=("listed twice",)),

    # item 6: YAML numbers mean what CSV and workbook numbers mean
    C("yaml-digit-separator", yaml_sub("weight: 8\n", "weight: 8_00\n"), "instance.yaml",
      field="priorities[1].weight", expect=("plain number", "'8_00'")),
    C("yaml-sexagesimal", yaml_sub("shortfall_penalty: 5", "shortfall_penalty: 1:30"),
      "instance.yaml", field="priorities[0].shortfall_penalty",
      expect=("plain number", "'1:30'")),
    C("yaml-hex", yaml_sub("weight: 8\n", "weight: 0x10\n"), "instance.yaml",
      field="priorities[1].weight", expect=("plain number", "'0x10'")),
    C("yaml-octal", yaml_sub("weight: 8\n", "weight: 0o17\n"), "instance.yaml",
      field="priorities[1].weight", expect=("plain number", "'0o17'")),
    C("yaml-binary", yaml_sub("weight: 8\n", "weight: 0b101\n"), "instance.yaml",
      field="priorities[1].weight", expect=("plain number",)),
    C("yaml-infinity", yaml_sub("weight: 8\n", "weight: .inf\n"), "instance.yaml",
      field="priorities[1].weight", expect=("finite number",)),
    C("yaml-minus-infinity", yaml_sub("weight: 8\n", "weight: -.inf\n"), "instance.yaml",
      field="priorities[1].weight", expect=("finite number",)),
    C("yaml-nan", yaml_sub("weight: 8\n", "weight: .NaN\n"), "instance.yaml",
      field="priorities[1].weight", expect=("finite number",)),
    C("yaml-overflow", yaml_sub("weight: 8\n", "weight: 1e400\n"), "instance.yaml",
      field="priorities[1].weight", expect=("finite number",)),
    C("yaml-separator-in-fraction", yaml_sub("weight: 8\n", "weight: 1_0.5\n"),
      "instance.yaml", field="priorities[1].weight", expect=("plain number",)),
    C("yaml-unicode-digits", yaml_sub("weight: 8\n", "weight: ١٢\n"), "instance.yaml",
      field="priorities[1].weight", expect=("plain number",)),
    C("yaml-infinity-word", yaml_sub("weight: 8\n", "weight: Infinity\n"), "instance.yaml",
      field="priorities[1].weight", expect=("finite number",)),
    C("yaml-cut-hex", yaml_sub("cut: {total: 0.28, over_years: 4}",
                               "cut: {total: 0x1, over_years: 4}"),
      "instance.yaml", field="partners[1].cut.total", expect=("plain number",)),
    C("yaml-over-years-octal", yaml_sub("cut: {total: 0.28, over_years: 4}",
                                        "cut: {total: 0.28, over_years: 0o4}"),
      "instance.yaml", field="partners[1].cut.over_years", expect=("plain number",)),
    C("yaml-over-years-separator", yaml_sub("cut: {total: 0.28, over_years: 4}",
                                            "cut: {total: 0.28, over_years: 0_4}"),
      "instance.yaml", field="partners[1].cut.over_years", expect=("plain number",)),
    C("yaml-year-hex", yaml_sub("first_year: 2013", "first_year: 0x7dd"), "instance.yaml",
      field="horizon.first_year", expect=("plain number", "'0x7dd'")),
    C("yaml-year-separator", yaml_sub("first_year: 2013", "first_year: 2_013"),
      "instance.yaml", field="horizon.first_year", expect=("plain number",)),
    C("yaml-year-sexagesimal", yaml_sub("last_year: 2014", "last_year: 33:34"),
      "instance.yaml", field="horizon.last_year", expect=("plain number",)),
    C("yaml-discount-sexagesimal", yaml_sub("discount_rate: 0.0", "discount_rate: 0:0"),
      "instance.yaml", field="settings.discount_rate", expect=("plain number",)),
    C("yaml-savings-separator", yaml_sub("savings_rate: 0.04", "savings_rate: 0.0_4"),
      "instance.yaml", field="partners[0].savings_rate", expect=("plain number",)),
    C("yaml-cut-by-year-duplicate",
      yaml_sub("cut: {total: 0.28, over_years: 4}",
               "cut_by_year: {2013: 0.1, '2013': 0.5, 2014: 0.1}"), "instance.yaml",
      expect=("duplicate key '2013'", "each key may be given once")),
    C("yaml-cut-by-year-float-duplicate",
      yaml_sub("cut: {total: 0.28, over_years: 4}",
               "cut_by_year: {2013: 0.1, 2013.0: 0.5, 2014: 0.1}"), "instance.yaml",
      expect=("duplicate key",)),
    C("yaml-cut-by-year-space-duplicate",
      yaml_sub("cut: {total: 0.28, over_years: 4}",
               "cut_by_year: {2013: 0.1, ' 2013': 0.5, 2014: 0.1}"), "instance.yaml",
      expect=("duplicate key",)),
    C("yaml-tagged-float-separator", yaml_sub("weight: 8\n", "weight: !!float 8_00\n"),
      "instance.yaml", expect=("line", "plain number", "'8_00'")),
    C("yaml-tagged-int-hex", yaml_sub("weight: 8\n", "weight: !!int 0x10\n"),
      "instance.yaml", expect=("line", "decimal digits", "'0x10'")),
    C("yaml-scale-separator", yaml_sub('- {path: "partners[nhs].savings_rate", value: 0.06}',
                                       '- {path: "partners[nhs].savings_rate", scale: 1_5}'),
      "instance.yaml", field="scenarios[1].changes[0].scale", expect=("plain number",)),
    C("yaml-change-value-separator", change_value("0_35"), "instance.yaml",
      field="scenarios[0].changes", expect=("after these changes", "plain number")),
    C("yaml-change-value-sexagesimal", change_value("0:35"), "instance.yaml",
      field="scenarios[0].changes", expect=("after these changes", "plain number")),
    C("yaml-stress-low-hex", yaml_sub("dist: uniform, low: 0.20, high: 0.40",
                                      "dist: uniform, low: 0x0, high: 0.40"),
      "instance.yaml", field="stress[0].inputs[0].low", expect=("plain number",)),
    C("yaml-samples-separator", yaml_sub("samples: 1000", "samples: 1_000"),
      "instance.yaml", field="stress[0].samples", expect=("plain number",)),
    C("yaml-seed-octal", yaml_sub("seed: 7", "seed: 0o7"), "instance.yaml",
      field="stress[0].seed", expect=("plain number",)),
    C("yaml-boolean-word-as-number", yaml_sub("weight: 8\n", "weight: true\n"),
      "instance.yaml", field="priorities[1].weight", expect=("expected a number",)),
    C("csv-separator", sub("budgets.csv", "council,2013,900", "council,2013,9_00"),
      "budgets.csv", 4, "baseline", ("plain number", "'9_00'")),
    C("csv-hex", sub("interventions.csv", "episode,0.8", "episode,0x1"), "interventions.csv",
      2, "unit_cost", ("plain number", "'0x1'")),
    C("csv-overflow", sub("activity.csv", "reablement,250,300", "reablement,250,1e400"),
      "activity.csv", 2, "need", ("finite number",)),
    C("csv-unicode-digits", sub("budgets.csv", "nhs,2013,1000", "nhs,2013,١٠٠٠"),
      "budgets.csv", 2, "baseline", ("plain number",)),
    C("csv-thousands-comma", sub("budgets.csv", "nhs,2013,1000", 'nhs,2013,"1,000"'),
      "budgets.csv", 2, "baseline", ("plain number", "'1,000'")),
    C("csv-sexagesimal", sub("targets.csv", "older_people,2013,200", "older_people,2013,3:20"),
      "targets.csv", 2, "target", ("plain number",)),
    C("csv-plus-infinity", sub("responses.csv", "reablement,older_people,1,0.5",
                               "reablement,older_people,1,+inf"),
      "responses.csv", 2, "effect", ("finite number",)),
    C("csv-fractional-year", sub("budgets.csv", "nhs,2013,1000", "nhs,2013.5,1000"),
      "budgets.csv", 2, "year", ("integer",)),
    C("csv-year-separator", sub("budgets.csv", "nhs,2013,1000", "nhs,2_013,1000"),
      "budgets.csv", 2, "year", ("plain number",)),
    C("stress-table-separator", sub("stress_explicit.csv", "0.28,0.04", "0_28,0.04"),
      "stress_explicit.csv", 2, "council_cut", ("finite number", "'0_28'")),
    C("stress-table-hex", sub("stress_explicit.csv", "0.28,0.04", "0.28,0x0"),
      "stress_explicit.csv", 2, "qipp", ("finite number", "'0x0'")),
    C("stress-table-nan", sub("stress_explicit.csv", "0.28,0.04", "nan,0.04"),
      "stress_explicit.csv", 2, "council_cut", ("finite number",)),

    # item 7: YAML that explodes, nests without end, or files that are not files
    C("yaml-alias", change_value("&a [1, 2]}\n      - {path: \"partners[council].name\", "
                                 "value: *a"), "instance.yaml",
      expect=("alias *a is not supported", "line")),
    C("yaml-alias-bomb", alias_bomb(9), "instance.yaml", expect=("alias", "not supported")),
    C("yaml-alias-of-a-mapping",
      yaml_sub("roles:\n", "defaults: &d {id: x}\nroles:\n  - *d\n"), "instance.yaml",
      expect=("alias *d",)),
    C("yaml-nested-lists", change_value("[" * 5000 + "]" * 5000), "instance.yaml",
      expect=("nested more than 50",)),
    C("yaml-nested-mappings", change_value("{a: " * 3000 + "1" + "}" * 3000), "instance.yaml",
      expect=("nested more than 50",)),
    C("yaml-nested-block-lists",
      yaml_sub("sources:\n", "deep:\n" + "".join("  " * n + "-\n" for n in range(60))
               + "  " * 60 + "- 1\nsources:\n"), "instance.yaml",
      expect=("nested more than 50",)),
    C("fifo-targets", fifo("targets.csv"), "targets.csv",
      expect=("not a regular file", "a pipe")),
    C("fifo-budgets", fifo("budgets.csv"), "budgets.csv", expect=("not a regular file",)),
    C("fifo-instance-yaml", fifo("instance.yaml"), "instance.yaml",
      expect=("not a regular file",)),
    C("fifo-stress-table", fifo("stress_explicit.csv"), "stress_explicit.csv",
      expect=("not a regular file",)),
    C("directory-budgets", directory("budgets.csv"), "budgets.csv",
      expect=("a folder, not a file",)),
    C("directory-targets", directory("targets.csv"), "targets.csv",
      expect=("a folder, not a file",)),
    C("directory-instance-yaml", directory("instance.yaml"), "instance.yaml",
      expect=("a folder, not a file",)),
    C("directory-stress-table", directory("stress_explicit.csv"), "stress_explicit.csv",
      expect=("a folder, not a file",)),
    C("link-out-targets", link_out("targets.csv"), "targets.csv",
      expect=("outside the instance folder",)),
    C("link-out-budgets", link_out("budgets.csv"), "budgets.csv",
      expect=("outside the instance folder",)),
    C("link-out-instance-yaml", link_out("instance.yaml"), "instance.yaml",
      expect=("outside the instance folder",)),
    C("link-out-stress-table", link_out("stress_explicit.csv"), "stress_explicit.csv",
      expect=("outside the instance folder",)),
    C("link-to-etc-passwd", link_to("sites.csv", "/etc/passwd"), "sites.csv",
      expect=("outside the instance folder",)),
    C("link-to-a-folder-outside", link_to("targets.csv", "/tmp"), "targets.csv",
      expect=("outside the instance folder",)),
    C("link-to-dev-zero", link_to("staff.csv", "/dev/zero"), "staff.csv",
      expect=("outside the instance folder",)),
    C("dangling-link", dangling("budgets.csv"), "budgets.csv", expect=("missing file",)),
    C("yaml-too-large", big_yaml, "instance.yaml", expect=("at most 10 MB",)),
    C("csv-too-large", sub("activity.csv", "reablement,250,300", "reablement,250,300"),
      "activity.csv", expect=("at most", "MB expected")),
    C("csv-not-utf8", add_file("targets.csv", b"priority,year,target\nolder\xff,2013,1\n"),
      "targets.csv", expect=("not UTF-8",)),
    C("csv-nul-byte", add_file("targets.csv", "priority,year,target\nolder\0,2013,1\n"),
      "targets.csv", 2, "priority", ("expected an id",)),
    C("yaml-tab-indent", yaml_sub("  - id: nhs\n", "  - id: nhs\n\tname: x\n"),
      "instance.yaml", expect=("not valid YAML",)),
    C("yaml-python-object", yaml_sub("name: Riverside tutorial",
                                     "name: !!python/object/apply:os.system [touch x]"),
      "instance.yaml", expect=("plain YAML only",)),
    C("yaml-binary-tag", yaml_sub("name: Riverside tutorial", "name: !!binary aGVsbG8="),
      "instance.yaml", expect=("!!binary is not supported",)),
    C("yaml-set-tag", yaml_sub("sources:\n", "sources: !!set {a, b}\nx:\n"),
      "instance.yaml", expect=("!!set is not supported",)),
    C("yaml-timestamp-tag", yaml_sub("first_year: 2013", "first_year: !!timestamp 2013-04-01"),
      "instance.yaml", expect=("!!timestamp is not supported",)),

    # item 8: figures the solver cannot take safely
    C("unit-cost-1e15", sub("interventions.csv", "episode,0.8", "episode,1e15"),
      "interventions.csv", 2, "unit_cost", ("too large", "money_unit: millions")),
    C("unit-cost-1e-8", sub("interventions.csv", "episode,0.8", "episode,1e-8"),
      "interventions.csv", 2, "unit_cost", ("too small", "money_unit: units")),
    C("effect-1e300", sub("responses.csv", "reablement,older_people,1,0.5",
                          "reablement,older_people,1,1e300"),
      "responses.csv", 2, "effect", ("too large", "larger unit")),
    C("effect-5e-10", sub("responses.csv", "reablement,older_people,1,0.5",
                          "reablement,older_people,1,5e-10"),
      "responses.csv", 2, "effect", ("too small", "smaller unit")),
    C("negative-effect-huge", sub("responses.csv", "reablement,older_people,1,0.5",
                                  "reablement,older_people,1,-1e12"),
      "responses.csv", 2, "effect", ("too large",)),
    C("budget-2e9", sub("budgets.csv", "nhs,2013,1000", "nhs,2013,2e9"), "budgets.csv", 2,
      "baseline", ("too large", "1e+09")),
    C("budget-tiny", sub("budgets.csv", "nhs,2013,1000", "nhs,2013,1e-9"), "budgets.csv", 2,
      "baseline", ("too small",)),
    C("need-1e12", sub("activity.csv", "reablement,250,300", "reablement,250,1e12"),
      "activity.csv", 2, "need", ("too large", "count activity")),
    C("current-tiny", sub("activity.csv", "reablement,250,300", "reablement,1e-9,300"),
      "activity.csv", 2, "current", ("too small",)),
    C("target-1e10", sub("targets.csv", "older_people,2013,200", "older_people,2013,1e10"),
      "targets.csv", 2, "target", ("too large",)),
    C("weight-1e300", yaml_sub("weight: 8\n", "weight: 1e300\n"), "instance.yaml",
      field="priorities[1].weight", expect=("too large", "scale every weight")),
    C("penalty-tiny", yaml_sub("shortfall_penalty: 5", "shortfall_penalty: 1e-9"),
      "instance.yaml", field="priorities[0].shortfall_penalty", expect=("too small",)),
    C("priority-baseline-huge", yaml_sub("weight: 8\n", "weight: 8\n    baseline: 1e12\n"),
      "instance.yaml", field="priorities[1].baseline", expect=("too large",)),
    C("avoided-cost-huge", sub("avoided_costs.csv", "reablement,nhs,1.0",
                               "reablement,nhs,1e10"),
      "avoided_costs.csv", 2, "saving_per_unit", ("too large",)),
    C("cost-per-fte-huge", sub("staff.csv", "2013,12,30", "2013,12,1e12"), "staff.csv", 2,
      "cost_per_fte", ("too large",)),
    C("fte-tiny", sub("staff.csv", "2013,12,30", "2013,1e-8,30"), "staff.csv", 2, "fte",
      ("too small",)),
    C("fte-per-unit-tiny", sub("intervention_staff.csv", "reablement_worker,0.04",
                               "reablement_worker,1e-9"),
      "intervention_staff.csv", 2, "fte_per_unit", ("too small",)),
    C("running-cost-huge", sub("sites.csv", "council,60,30,100", "council,1e13,30,100"),
      "sites.csv", 2, "running_cost", ("too large",)),
    C("disposal-receipt-huge", sub("sites.csv", "council,60,30,100", "council,60,30,1e10"),
      "sites.csv", 2, "disposal_receipt", ("too large",)),
    C("capacity-huge", sub("site_capacity.csv", "desk,20", "desk,1e10"), "site_capacity.csv",
      2, "capacity", ("too large",)),
    C("space-per-unit-tiny", sub("intervention_space.csv", "desk,0.04", "desk,1e-12"),
      "intervention_space.csv", 2, "per_unit", ("too small",)),
    C("unit-cost-grows-too-large",
      sub("interventions.csv", "episode,0.8", "episode,5e8"), "interventions.csv", 2,
      "unit_cost", ("grown by cost_growth 9",), {"cost_growth": 9}),
    C("need-grows-too-large",
      sub("activity.csv", "reablement,250,300", "reablement,250,9e8"), "activity.csv", 2,
      "need", ("grown by need_growth 2",), {"need_growth": 2}),
    C("spend-out-of-range", then(sub("activity.csv", "reablement,250,300", "reablement,250,9e8"),
                                 sub("interventions.csv", "episode,0.8", "episode,5")),
      "interventions.csv", 2, "unit_cost", ("gives spend of", "too large")),
    C("outcome-reach-out-of-range",
      sub("responses.csv", "reablement,older_people,1,0.5", "reablement,older_people,1,1e8"),
      "responses.csv", 2, "effect", ("gives outcome of 3e+10", "larger unit")),
    C("staff-reach-out-of-range",
      sub("intervention_staff.csv", "reablement_worker,0.04", "reablement_worker,1e8"),
      "intervention_staff.csv", 2, "fte_per_unit", ("gives staff (FTE) of",)),
    C("money-too-large-in-millions",
      then(yaml_sub("money_unit: thousands", "money_unit: millions"),
           sub("interventions.csv", "episode,0.8", "episode,1e10")),
      "interventions.csv", 2, "unit_cost", ("no money unit brings it into range",)),
    C("min-scale-huge", lambda folder: None, "interventions.csv", 2, "min_scale",
      ("too large",), {"min_scale": "1e10"}),
    C("scenario-scales-cost-out-of-range",
      change_value("0.35}\n      - {path: \"interventions[*].unit_cost\", scale: 1e20"),
      "instance.yaml", field="scenarios[0].changes",
      expect=("after these changes", "too large")),
    C("scenario-sets-effect-tiny",
      change_value("0.35}\n      - {path: \"responses[*].effect\", value: 1e-12"),
      "instance.yaml", field="scenarios[0].changes",
      expect=("after these changes", "too small")),
]

# a lowered size limit stands for a 256 MB table (writing one would be slow)
FOLDER_CASES = [
    Case(**{**c.__dict__, "limits": {"MAX_TABLE_BYTES": 100}}) if c.id == "csv-too-large"
    else c for c in FOLDER_CASES
]


def test_at_least_100_folder_cases() -> None:
    assert len(FOLDER_CASES) >= 100
    assert len({c.id for c in FOLDER_CASES}) == len(FOLDER_CASES)


def _cli_output(target: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(target)])
    text = result.output + (getattr(result, "stderr", "") or "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += f"\nException {type(result.exception).__name__}: {result.exception}"
    return result.exit_code, text


def _assert_clean_refusal(code: int, text: str, where: str, words: tuple[str, ...]) -> None:
    shown = f"exit {code}\n{text}"
    assert code == 2, shown
    assert "unexpected" not in text and "Traceback" not in text, shown
    assert SECRET not in text, "the error echoed a file outside the instance"
    lines = [line for line in text.splitlines() if where in line]
    assert lines, f"no line names {where!r}:\n{shown}"
    for word in words:
        assert any(word in line for line in lines), (word, shown)


def _where(case: Case) -> str:
    parts = [case.file]
    if case.row is not None:
        parts.append(f"line {case.row}")
    if case.field:
        parts.append(f"field '{case.field}'" if case.row is not None else case.field)
    return ", ".join(parts)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in FOLDER_CASES])
def test_hostile_folder_is_refused_with_its_location(case: Case, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in case.limits.items():
        monkeypatch.setattr(folder_io, name, value)
    folder = copy_instance("tutorial", tmp_path)
    case.mutate(folder)
    for name, value in case.column.items():
        set_column(folder, "interventions.csv", name, value)
    with pytest.raises(InstanceError) as info:
        hwbopt.load(folder)
    problems = info.value.problems
    found = [p for p in problems if p.file == case.file
             and (case.row is None or p.row == case.row)
             and (case.field is None or p.field == case.field)
             and all(w in p.message for w in case.expect)]
    assert found, f"expected {_where(case)} saying {case.expect}; got:\n" + "\n".join(
        f"  {p.file!r} {p.row!r} {p.field!r}: {p.message}" for p in problems)
    code, text = _cli_output(folder)
    _assert_clean_refusal(code, text, _where(case), case.expect)


def test_notes_readme_results_and_links_inside_are_fine(tmp_path: Path) -> None:
    """Only what looks like a table is refused: other files, hidden files, subfolders and a
    link to a file inside the instance are left alone."""
    folder = copy_instance("tutorial", tmp_path)
    (folder / "notes.txt").write_text("anything", encoding="utf-8")
    (folder / ".~lock.targets.csv#").write_text("lock", encoding="utf-8")
    (folder / "results").mkdir()
    (folder / "results" / "plan.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "data").mkdir()
    (folder / "targets.csv").rename(folder / "data" / "targets.csv")
    (folder / "targets.csv").symlink_to(Path("data") / "targets.csv")
    inst = hwbopt.load(folder)
    assert inst == hwbopt.load(hwbopt.shipped_instance("tutorial"))


def test_an_instance_folder_reached_through_a_link_is_read(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    (tmp_path / "linked").symlink_to(folder)
    assert hwbopt.load(tmp_path / "linked").name == "Riverside tutorial"
    assert hwbopt.load(tmp_path / "linked" / "instance.yaml").name == "Riverside tutorial"


def test_yaml_numbers_are_read_as_csv_reads_them(tmp_path: Path) -> None:
    """017 is 17 (not octal 15), yes is text, a date is text: YAML 1.2, like a CSV cell."""
    data = folder_io.load_yaml_text("a: 017\nb: yes\nc: 2013-04-01\nd: 1e3\ne: .5\nf: -2\n"
                                    "g: True\nh: ~\n")
    assert data == {"a": 17, "b": "yes", "c": "2013-04-01", "d": 1000.0, "e": 0.5, "f": -2,
                    "g": True, "h": None}
    assert isinstance(data["d"], float) and isinstance(data["a"], int)


def test_figures_at_the_edges_of_the_safe_range_solve(tmp_path: Path) -> None:
    """The bounds of the safe range are accepted (and solve): only figures beyond are refused."""
    folder = copy_instance("tutorial", tmp_path)
    sub("interventions.csv", "episode,0.8", "episode,1e-6")(folder)
    sub("responses.csv", "reablement,older_people,1,0.5", "reablement,older_people,1,3e6")(
        folder)
    inst = hwbopt.load(folder)
    result = hwbopt.solve(inst)
    assert result.status == "optimal"


# ---------------------------------------------------------------------------------------------
# Workbook cases
# ---------------------------------------------------------------------------------------------


Edit = Callable[[Any], None]  # edits an openpyxl workbook


def _column(ws: Any, header: str) -> str:
    for cell in ws[1]:
        if cell.value == header:
            return cell.column_letter
    raise KeyError(header)


def put(sheet: str, header: str, row: int, value: Any) -> Edit:
    def edit(wb: Any) -> None:
        ws = wb[sheet]
        ws[f"{_column(ws, header)}{row}"] = value

    return edit


def copy_cell(sheet: str, header: str, src: int, dest: int) -> Edit:
    def edit(wb: Any) -> None:
        ws = wb[sheet]
        col = _column(ws, header)
        ws[f"{col}{dest}"] = ws[f"{col}{src}"].value

    return edit


def field_value(name: str, value: Any) -> Edit:
    def edit(wb: Any) -> None:
        ws = wb["instance"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == name:
                row[1].value = value
                return
        raise KeyError(name)

    return edit


def retitle(old: str, new: str) -> Edit:
    def edit(wb: Any) -> None:
        wb[old].title = "zz_tmp"
        wb["zz_tmp"].title = new

    return edit


def both_edits(*edits: Edit) -> Edit:
    def edit(wb: Any) -> None:
        for e in edits:
            e(wb)

    return edit


@dataclass(frozen=True)
class Book:
    id: str
    edit: Edit
    sheet: str
    header: str | None = None  # with row, the cell the problem must name
    row: int | None = None
    expect: tuple[str, ...] = ()


B = Book
# tutorial: budgets rows 3-6 (nhs 2013, nhs 2014, council 2013, council 2014); partner_remit
# row 3 nhs talking_therapies; pool_interventions row 3 bcf reablement; scenario_changes row 3
# the council's cut; stress_table rows 3-8
WORKBOOK_CASES: list[Book] = [
    B("sheet-capitalised", retitle("targets", "Targets"), "Targets",
      expect=("expected 'targets' exactly", "not read")),
    B("sheet-trailing-space", retitle("targets", "targets "), "targets ",
      expect=("expected 'targets' exactly",)),
    B("sheet-copy-name", retitle("targets", "Targets (2)"), "Targets (2)",
      expect=("expected 'targets' exactly",)),
    B("sheet-singular", retitle("targets", "target"), "target",
      expect=("expected 'targets' exactly",)),
    B("required-sheet-capitalised", retitle("budgets", "Budgets"), "Budgets",
      expect=("expected 'budgets' exactly",)),
    B("list-sheet-spaced", retitle("partner_remit", "Partner remit"), "Partner remit",
      expect=("expected 'partner_remit' exactly",)),
    B("staff-sheet-capitalised", retitle("staff", "STAFF"), "STAFF",
      expect=("expected 'staff' exactly",)),
    B("stress-table-sheet-renamed", retitle("stress_table", "Stress table"), "Stress table",
      expect=("expected 'stress_table' exactly",)),
    B("remit-twice", copy_cell("partner_remit", "intervention", 3, 4), "partner_remit",
      "intervention", 4, ("listed twice",)),
    B("pool-intervention-twice", copy_cell("pool_interventions", "intervention", 3, 4),
      "pool_interventions", "intervention", 4, ("listed twice",)),
    B("contributor-twice", copy_cell("pool_contributors", "partner", 3, 4),
      "pool_contributors", "partner", 4, ("contributes twice",)),
    B("cell-separator", put("budgets", "baseline", 5, "8_00"), "budgets", "baseline", 5,
      ("plain number", "'8_00'")),
    B("cell-hex", put("budgets", "baseline", 5, "0x10"), "budgets", "baseline", 5,
      ("plain number",)),
    B("cell-sexagesimal", put("priorities", "weight", 3, "1:30"), "priorities", "weight", 3,
      ("plain number",)),
    B("cell-unicode-digits", put("activity", "need", 3, "١٢"), "activity", "need", 3,
      ("plain number",)),
    B("cell-thousands-comma", put("activity", "need", 3, "1,000"), "activity", "need", 3,
      ("plain number",)),
    B("cell-overflow-text", put("budgets", "baseline", 5, "1e400"), "budgets", "baseline", 5,
      ("finite number",)),
    B("cell-year-hex", put("budgets", "year", 5, "0x7dd"), "budgets", "year", 5,
      ("plain number",)),
    B("instance-field-sexagesimal", field_value("settings.discount_rate", "0:0"), "instance",
      "value", None, ("plain number",)),
    B("instance-field-hex-year", field_value("horizon.first_year", "0x7dd"), "instance",
      "value", None, ("plain number",)),
    B("stress-table-separator", put("stress_table", "value", 3, "0_28"), "stress_table",
      "value", 3, ("plain number",)),
    B("stress-values-hex", both_edits(put("stress_inputs", "dist", 3, "discrete"),
                                      put("stress_inputs", "low", 3, None),
                                      put("stress_inputs", "high", 3, None),
                                      put("stress_inputs", "values", 3, "0.2; 0x1")),
      "stress_inputs", "values", 3, ("item 2", "is not a number")),
    B("value-alias", put("scenario_changes", "value", 3, "[&a [1, 2], *a]"),
      "scenario_changes", "value", 3, ("alias *a is not supported",)),
    B("value-alias-bomb", put("scenario_changes", "value", 3,
                              "[&a [x, x, x, x, x, x, x, x, x], [*a, *a, *a, *a, *a, *a]]"),
      "scenario_changes", "value", 3, ("alias",)),
    B("value-nested-deep", put("scenario_changes", "value", 3, "[" * 3000 + "]" * 3000),
      "scenario_changes", "value", 3, ("nested more than 50",)),
    B("value-duplicate-key", put("scenario_changes", "value", 3,
                                 "{total: 0.3, 'total': 0.5, over_years: 4}"),
      "scenario_changes", "value", 3, ("duplicate key 'total'",)),
    B("value-python-tag", put("scenario_changes", "value", 3,
                              "[!!python/object/apply:os.system [true]]"),
      "scenario_changes", "value", 3, ("not a valid mapping or list",)),
    B("unit-cost-1e15", put("interventions", "unit_cost", 3, 1e15), "interventions",
      "unit_cost", 3, ("too large", "money_unit: millions")),
    B("unit-cost-1e-9", put("interventions", "unit_cost", 3, 1e-9), "interventions",
      "unit_cost", 3, ("too small",)),
    B("effect-1e300", put("responses", "effect", 3, 1e300), "responses", "effect", 3,
      ("too large",)),
    B("budget-2e9", put("budgets", "baseline", 3, 2e9), "budgets", "baseline", 3,
      ("too large",)),
    B("weight-1e300", put("priorities", "weight", 3, 1e300), "priorities", "weight", 3,
      ("too large", "scale every weight")),
    B("need-tiny", put("activity", "need", 3, 1e-9), "activity", "need", 3, ("too small",)),
    B("capacity-huge", put("site_capacity", "capacity", 3, 1e12), "site_capacity", "capacity",
      3, ("too large",)),
]


def test_at_least_30_workbook_cases() -> None:
    assert len(WORKBOOK_CASES) >= 30
    assert len({c.id for c in WORKBOOK_CASES}) == len(WORKBOOK_CASES)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    return write_workbook(inst, tmp_path_factory.mktemp("book") / "t.xlsx").read_bytes()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in WORKBOOK_CASES])
def test_hostile_workbook_is_refused_with_sheet_and_cell(case: Book, template: bytes,
                                                         tmp_path: Path) -> None:
    book = tmp_path / "t.xlsx"
    book.write_bytes(template)
    wb = load_workbook(book)
    case.edit(wb)
    wb.save(book)
    with pytest.raises(InstanceError) as info:
        read_workbook(book)
    problems = info.value.problems
    found = [p for p in problems if isinstance(p, SheetProblem) and p.file == case.sheet
             and all(w in p.message for w in case.expect)]
    assert found, f"expected sheet {case.sheet!r} saying {case.expect}; got:\n" + "\n".join(
        f"  {p.file!r} {getattr(p, 'cell', None)!r}: {p.message}" for p in problems)
    if case.row is not None:
        ws = load_workbook(book, read_only=False)[case.sheet]
        cell = f"{_column(ws, case.header)}{case.row}"
        where = f"{case.sheet}!{cell}"
        assert any(p.cell == cell and p.message.startswith(where) for p in found), \
            [p.message for p in found]
    elif case.header == "value":
        where = f"{case.sheet}!B"  # the instance sheet's value column, in the field's row
        assert any(p.cell and p.cell.startswith("B") for p in found), [p.message for p in found]
    else:
        where = f"sheet {case.sheet}"
    code, text = _cli_output(book)
    _assert_clean_refusal(code, text, where, case.expect)


def test_a_copy_of_a_sheet_beside_the_original_is_only_a_warning(template: bytes,
                                                                 tmp_path: Path) -> None:
    book = tmp_path / "t.xlsx"
    book.write_bytes(template)
    wb = load_workbook(book)
    wb.copy_worksheet(wb["targets"]).title = "Targets (2)"
    wb.save(book)
    inst, warnings = read_workbook(book)
    assert inst.targets and any("did you mean targets" in str(w) for w in warnings)


# the workbook file itself: not a file, or far too large packed or unpacked

@dataclass(frozen=True)
class BookFile:
    id: str
    make: Callable[[Path, bytes], Path]
    expect: tuple[str, ...]
    limits: dict[str, int] = default(default_factory=dict)


def _fifo_book(tmp: Path, _: bytes) -> Path:
    os.mkfifo(tmp / "f.xlsx")
    return tmp / "f.xlsx"


def _dir_book(tmp: Path, _: bytes) -> Path:
    (tmp / "d.xlsx").mkdir()
    return tmp / "d.xlsx"


def _plain_book(tmp: Path, template: bytes) -> Path:
    (tmp / "t.xlsx").write_bytes(template)
    return tmp / "t.xlsx"


def _bomb_book(tmp: Path, template: bytes) -> Path:
    book = _plain_book(tmp, template)
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/zeros.bin", b"\0" * 5_000_000)
    return book


def _text_book(tmp: Path, _: bytes) -> Path:
    (tmp / "t.xlsx").write_text("name,value\n", encoding="utf-8")
    return tmp / "t.xlsx"


def _truncated_book(tmp: Path, template: bytes) -> Path:
    (tmp / "t.xlsx").write_bytes(template[: len(template) // 2])
    return tmp / "t.xlsx"


BOOK_FILES = [
    BookFile("fifo", _fifo_book, ("not a regular file",)),
    BookFile("directory", _dir_book, ("a folder, not a file",)),
    BookFile("too-large", _plain_book, ("MB expected",), {"MAX_WORKBOOK_BYTES": 1000}),
    BookFile("zip-bomb", _bomb_book, ("unpacks to",), {"MAX_WORKBOOK_UNPACKED": 4_000_000}),
    BookFile("too-many-parts", _plain_book, ("parts",), {"MAX_WORKBOOK_PARTS": 3}),
    BookFile("text-not-zip", _text_book, ("not a readable Excel workbook",)),
    BookFile("truncated", _truncated_book, ("not a readable Excel workbook",)),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in BOOK_FILES])
def test_unusable_workbook_file_is_refused(case: BookFile, template: bytes, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in case.limits.items():
        monkeypatch.setattr(workbook_io, name, value)
    book = case.make(tmp_path, template)
    with pytest.raises(InstanceError) as info:
        read_workbook(book)
    assert any(p.file == book.name and all(w in p.message for w in case.expect)
               for p in info.value.problems), [str(p) for p in info.value.problems]
    code, text = _cli_output(book)
    _assert_clean_refusal(code, text, book.name, case.expect)


def test_corpus_size() -> None:
    """Issue 13 asks for a large corpus: this module holds 120 or more of its cases."""
    assert len(FOLDER_CASES) + len(WORKBOOK_CASES) + len(BOOK_FILES) >= 120
