"""Instance workbooks: the template, round trips with folders, solutions, and broken workbooks.

Broken workbooks are made from the tutorial's workbook by changing cells with openpyxl, or,
where openpyxl cannot write the cell (a formula with its cached value), by editing the sheet's
XML inside the ``.xlsx``. Every broken one must exit 2 through the command line, naming the
sheet and the cell.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_cli, run_cli_here
from openpyxl import load_workbook
from randinst import random_instance

import hwbopt
from hwbopt.errors import InstanceError, SheetProblem
from hwbopt.generate import generate_instance
from hwbopt.io.folder import read_folder, write_folder
from hwbopt.io.instance import read_instance, write_instance
from hwbopt.io.workbook import (
    LIST_SHEETS,
    covered_fields,
    read_workbook,
    sheet_columns,
    table_columns,
    write_workbook,
)
from hwbopt.schema import POLICY_RULES, TABLES, Instance

Proc = subprocess.CompletedProcess[str]


def all_schema_paths(model: Any = Instance, prefix: tuple[str, ...] = ()) -> set[tuple]:
    """Every field path of the schema, down through nested models and lists of models."""
    from hwbopt.io.workbook_layout import bare_type as _strip
    from hwbopt.io.workbook_layout import collection_of as _collection
    from hwbopt.io.workbook_layout import is_model as _is_model

    out = set()
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        if prefix == () and name in TABLES:
            out.add(path)
            continue
        kind = _collection(info.annotation)
        inner = kind[1] if kind and kind[0] == "list" else _strip(info.annotation)
        if _is_model(_strip(inner)):
            if kind is not None:
                out.add(path)
            out |= all_schema_paths(_strip(inner), path)
        else:
            out.add(path)
    return out


def test_every_field_of_the_schema_has_a_sheet() -> None:
    missing = all_schema_paths() - covered_fields()
    assert not missing, (f"fields without a sheet: {sorted(missing)}; add a ListSheet to "
                         "hwbopt.io.workbook.LIST_SHEETS")


def test_every_field_has_a_meaning() -> None:
    for spec in LIST_SHEETS:
        for col in sheet_columns(spec):
            assert col.description and col.description != col.header, (spec.name, col.header)
    for table in TABLES:
        for col in table_columns(table):
            assert col.description and col.description != col.header, (table, col.header)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


def round_trip(inst: Instance, tmp: Path) -> tuple[Instance, Instance]:
    """folder -> workbook -> folder: the instance read back from each form."""
    book = write_workbook(inst, tmp / "inst.xlsx")
    from_book, warnings = read_workbook(book)
    assert not [w for w in warnings if w.severity == "error"]
    folder = write_folder(from_book, tmp / "back")
    return from_book, read_folder(folder)[0]


@pytest.mark.parametrize("name", ["tutorial", "county"])
def test_shipped_instances_round_trip(name: str, tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance(name))
    from_book, from_folder = round_trip(inst, tmp_path)
    assert from_book == inst
    assert from_folder == inst


def test_generated_instance_round_trips(tmp_path: Path) -> None:
    inst = hwbopt.instance_from_dict(generate_instance(localities=3, interventions=8,
                                                       partners=4, years=3, sites=6, seed=3))
    from_book, from_folder = round_trip(inst, tmp_path)
    assert from_book == inst and from_folder == inst


def with_overrides(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """``data`` (a random instance) with random scenarios, options with every policy rule, and
    stress sets with every distribution, shared draws and a table of explicit scenarios."""
    rng = np.random.default_rng([seed, 99])
    p0, p1 = data["partners"][0]["id"], data["partners"][1]["id"]
    ints = [i["id"] for i in data["interventions"]]
    pool = data["pools"][0]
    years = range(data["horizon"]["first_year"], data["horizon"]["last_year"] + 1)

    def u(a: float, b: float) -> float:
        return float(rng.uniform(a, b))

    data["scenarios"] = [
        {"id": "deeper", "name": "Deeper cuts", "description": "Cuts deepen.\nQIPP slips.",
         "changes": [
             {"path": f"partners[{p0}].cut_by_year", "value": None},
             {"path": f"partners[{p0}].cut", "value": {"total": u(0.1, 0.3), "over_years": 3}},
             {"path": f"partners[{p1}].savings_rate", "value": u(0.0, 0.05)},
             {"path": "activity[*].need", "scale": u(0.9, 1.1)},
             {"path": "interventions[*].cost_growth", "add": u(0.0, 0.03)}]},
        {"id": "renamed", "changes": [
            {"path": f"partners[{p1}].remit", "value": ints[:3]},
            {"path": f"priorities[{data['priorities'][0]['id']}].name", "value": "=1+1 odd"},
            {"path": "sites[s0].shareable", "value": False},
            {"path": f"partners[{p1}].name", "value": "2013"}]},
    ]
    contributor = pool["contributors"][0]
    data["options"] = [
        {"id": "every_rule", "name": "Every rule", "policies": [
            {"rule": "protect", "intervention": ints[0]},
            {"rule": "forbid_change", "intervention": ints[1]},
            {"rule": "cap_change", "intervention": ints[2], "max_change": u(0.05, 0.3)},
            {"rule": "keep_open", "site": "s0"},
            {"rule": "no_closures"},
            {"rule": "fix_contribution", "partner": contributor["partner"], "pool": pool["id"],
             "share": u(0.0, contributor["max_share"])},
            {"rule": "min_priority_share", "priority": data["priorities"][1]["id"],
             "share": u(0.0, 0.2)}]},
        {"id": "changed", "description": "A change and no policy",
         "changes": [{"path": f"budgets[{p0}].baseline", "scale": u(1.0, 1.2)}]},
    ]
    data["stress"] = [
        {"id": "drawn", "samples": int(rng.integers(10, 500)), "seed": int(rng.integers(0, 99)),
         "inputs": [
             {"path": f"partners[{p1}].savings_rate", "dist": "uniform", "low": u(0.0, 0.01),
              "high": u(0.02, 0.05)},
             {"name": "qipp", "path": f"partners[{p0}].savings_rate", "dist": "triangular",
              "low": 0.01, "mode": u(0.02, 0.03), "high": u(0.04, 0.06)},
             {"name": "demand", "path": "activity[*].need", "op": "scale", "dist": "normal",
              "mean": 1.0, "sd": u(0.01, 0.1)},
             {"name": "capped", "path": "interventions[*].unit_cost", "op": "scale",
              "dist": "normal", "mean": 1.0, "sd": 0.05, "low": u(0.8, 0.9), "high": 1.2},
             {"name": "shared", "paths": [f"budgets[{p0}].baseline", f"budgets[{p1}].baseline"],
              "op": "scale", "dist": "discrete", "values": [u(0.8, 0.9), 1.0, u(1.0, 1.1)],
              "weights": [u(0.1, 1), u(1, 2), 0.5]},
             {"name": "flat", "path": "interventions[*].cost_growth", "op": "add",
              "dist": "discrete", "values": [0.0, u(0.0, 0.05)]}]},
        {"id": "listed", "name": "Written down", "table": "listed.csv",
         "inputs": [{"name": "qipp", "path": f"partners[{p1}].savings_rate"},
                    {"path": f"targets[*,{years[0]}].target", "op": "scale"}],
         "table_rows": [[u(0.0, 0.05), u(0.8, 1.2)] for _ in range(4)]},
    ]
    return data


@pytest.mark.parametrize("seed", [1, 7])
def test_random_instance_with_every_feature_round_trips_exactly(seed: int,
                                                                tmp_path: Path) -> None:
    # continuous draws: many numbers need all 17 significant digits to read back equal
    inst = hwbopt.instance_from_dict(with_overrides(random_instance(
        seed, exclusive_pair=True, dependency=True, n_go_no_go=1, n_sites=2, staff=True,
        n_localities=2, pool=True), seed))
    assert inst.exclusive and inst.dependencies and inst.sites and inst.staff
    assert {p.rule for o in inst.options for p in o.policies} == set(POLICY_RULES)
    assert {i.dist for s in inst.stress for i in s.inputs} == {
        "uniform", "triangular", "normal", "discrete", None}
    from_book, from_folder = round_trip(inst, tmp_path)
    assert from_book == inst and from_folder == inst
    # a mapping, a list and a null are kept as such, text that looks like a number as text
    changes = {c.path: c for s in from_book.scenarios for c in s.changes}
    p0, p1 = inst.partners[0].id, inst.partners[1].id
    assert changes[f"partners[{p0}].cut_by_year"].op == "value"
    assert changes[f"partners[{p0}].cut_by_year"].value is None
    assert isinstance(changes[f"partners[{p0}].cut"].value, dict)
    assert isinstance(changes[f"partners[{p1}].remit"].value, list)
    assert changes[f"partners[{p1}].name"].value == "2013"
    assert changes["sites[s0].shareable"].value is False


def test_override_sheets_hold_numbers_as_numbers(tmp_path: Path) -> None:
    inst = hwbopt.instance_from_dict(with_overrides(random_instance(
        3, n_sites=2, pool=True), 3))
    wb = load_workbook(write_workbook(inst, tmp_path / "o.xlsx"))
    rows = {n: [list(r) for r in wb[n].iter_rows(min_row=3, values_only=True)]
            for n in ("scenario_changes", "option_policies", "stress_inputs", "stress_table")}
    by_path = {r[1]: r for r in rows["scenario_changes"]}
    p0 = inst.partners[0].id
    cut = by_path[f"partners[{p0}].cut"][2]
    assert isinstance(cut, str) and cut.startswith("{total: ") and cut.endswith(
        ", over_years: 3}")
    assert isinstance(by_path["activity[*].need"][3], float)
    # the second scenario's changes start in row 3 + 5: a list, then formula-like text
    changes = wb["scenario_changes"]
    assert changes["C8"].value == "[i0, i1, i2]"
    assert changes["C9"].value == "=1+1 odd"
    assert changes["C9"].data_type == "s" and changes["C9"].quotePrefix
    cap = next(r for r in rows["option_policies"] if r[1] == "cap_change")
    assert isinstance(cap[3], float) and cap[4:] == [None] * 5
    shared = next(r for r in rows["stress_inputs"] if r[1] == "shared")
    assert shared[3].count("; ") == 1 and shared[11].count("; ") == 2
    assert [len(r) for r in rows["stress_table"]] == [4] * 8
    assert all(isinstance(r[1], int) and isinstance(r[3], float) for r in rows["stress_table"])


def test_text_that_looks_like_a_formula_or_missing_stays_text(tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    partners = list(inst.partners)
    partners[0] = partners[0].model_copy(update={"name": "=HYPERLINK(\"x\")"})
    partners[1] = partners[1].model_copy(update={"name": "NA"})
    priorities = list(inst.priorities)
    priorities[0] = priorities[0].model_copy(update={"unit": "-people", "measure": "@home"})
    odd = inst.model_copy(update={"partners": tuple(partners),
                                  "priorities": tuple(priorities)})
    book = write_workbook(odd, tmp_path / "odd.xlsx")
    ws = load_workbook(book)["partners"]
    assert ws["B3"].data_type == "s" and ws["B3"].value == "=HYPERLINK(\"x\")"
    assert ws["B3"].quotePrefix
    for sheet in load_workbook(book).worksheets:
        assert not [c.coordinate for row in sheet.iter_rows() for c in row
                    if c.data_type == "f"], sheet.title
    assert read_workbook(book)[0] == odd


def test_meaning_row_may_be_deleted(tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    book = write_workbook(inst, tmp_path / "t.xlsx")
    wb = load_workbook(book)
    for ws in wb.worksheets:
        if ws.title not in ("read_me", "instance"):
            ws.delete_rows(2)
    wb.save(book)
    assert read_workbook(book)[0] == inst


def test_formula_with_a_cached_value_is_read_as_its_value(tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    book = write_workbook(inst, tmp_path / "t.xlsx")
    row = next(i for i, b in enumerate(inst.budgets, start=3) if b.partner == "council"
               and b.year == 2013)
    set_xml_cell(book, "budgets", f"C{row}", "<f>450*2</f><v>900</v>")
    assert load_workbook(book, data_only=False)["budgets"][f"C{row}"].data_type == "f"
    assert read_workbook(book)[0] == inst


def test_unknown_sheets_are_ignored_with_a_warning(tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    book = write_workbook(inst, tmp_path / "t.xlsx")
    wb = load_workbook(book)
    wb.create_sheet("notes")["A1"] = "anything"
    wb.create_sheet("target")["A1"] = "typo"
    wb.save(book)
    back, warnings = read_workbook(book)
    assert back == inst
    text = "\n".join(map(str, warnings))
    assert "sheet notes: not part of the format, ignored" in text
    assert "did you mean targets?" in text


# ---------------------------------------------------------------------------------------------
# The template and the command line
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Command-line runs of this module, started together."""
    work = tmp_path_factory.mktemp("wbcli")
    county = hwbopt.shipped_instance("county")
    write_instance(hwbopt.load(county), work / "county.xlsx")
    (work / "taken").mkdir()
    (work / "taken" / "instance.xlsx").write_bytes(b"not mine")
    first = {
        "init": ("init", work / "tpl", "--excel"),
        "init_file": ("init", work / "named.xlsx", "--excel", "--example", "county"),
        "init_taken": ("init", work / "taken", "--excel"),
        "folder": ("solve", county, "--json", "--out", work / "out_folder"),
        "book": ("solve", work / "county.xlsx", "--json", "--out", work / "out_book"),
        "convert": ("convert", county, work / "conv.xlsx"),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(run_cli, *a) for k, a in first.items()}
        runs: dict[str, Any] = {k: f.result() for k, f in futures.items()}
    second = {
        "validate_tpl": ("validate", work / "tpl" / "instance.xlsx"),
        "convert_back": ("convert", work / "conv.xlsx", work / "conv_folder"),
        "convert_again": ("convert", county, work / "conv.xlsx"),
        "convert_force": ("convert", county, work / "conv.xlsx", "--force"),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(run_cli, *a) for k, a in second.items()}
        runs.update({k: f.result() for k, f in futures.items()})
    runs["work"] = work
    return runs


def shown(proc: Proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def test_init_excel_writes_a_template_that_validates(cli_runs: dict[str, Any]) -> None:
    work = cli_runs["work"]
    proc = cli_runs["init"]
    assert proc.returncode == 0, shown(proc)
    assert (work / "tpl" / "instance.xlsx").is_file()
    assert cli_runs["validate_tpl"].returncode == 0, shown(cli_runs["validate_tpl"])
    assert cli_runs["validate_tpl"].stdout.startswith("valid: Riverside tutorial")
    assert cli_runs["init_file"].returncode == 0 and (work / "named.xlsx").is_file()
    taken = cli_runs["init_taken"]
    assert taken.returncode == 2 and "already exists" in taken.stderr, shown(taken)
    assert (work / "taken" / "instance.xlsx").read_bytes() == b"not mine"

    wb = load_workbook(work / "named.xlsx")
    for spec in LIST_SHEETS:
        assert spec.name in wb.sheetnames
    for table in TABLES:
        assert table in wb.sheetnames
    iv = wb["interventions"]
    header = [c.value for c in iv[1]]
    assert header[:4] == ["id", "name", "unit", "unit_cost"]
    meaning = iv.cell(2, header.index("unit_cost") + 1).value
    assert "cost of one unit of activity" in meaning and "£k" in meaning and "e.g." in meaning
    assert iv["A3"].value == "reablement"  # the example rows
    # drop-down lists: ids from their sheet, enumerations spelled out
    sources = {str(dv.sqref).split(":")[0]: dv.formula1
               for dv in iv.data_validations.dataValidation}
    lead = chr(ord("A") + header.index("lead"))
    assert sources[f"{lead}3"].startswith("'partners'!$A$3")
    kinds = {dv.formula1 for dv in wb["partners"].data_validations.dataValidation}
    assert '"nhs,council,public_health,police,fire,voluntary,housing,other"' in kinds
    staff = {dv.formula1 for dv in wb["staff"].data_validations.dataValidation}
    assert '"TRUE,FALSE"' in staff and "'roles'!$A$3:$A$" in " ".join(staff)
    targets = [dv.formula1 for dv in wb["targets"].data_validations.dataValidation]
    assert any(f.startswith("'priorities'!$A$3") for f in targets)


def test_workbook_and_folder_forms_of_the_county_solve_identically(
        cli_runs: dict[str, Any]) -> None:
    work = cli_runs["work"]
    folder, book = cli_runs["folder"], cli_runs["book"]
    assert folder.returncode == 0, shown(folder)
    assert book.returncode == 0, shown(book)
    a, b = json.loads(folder.stdout), json.loads(book.stdout)
    assert a["status"] == b["status"] == "optimal"
    for key in set(a) - {"solve_seconds", "build_seconds", "provenance"}:
        assert a[key] == b[key], key
    assert a["provenance"]["instance_files"] != b["provenance"]["instance_files"]
    for csv_file in sorted((work / "out_folder").glob("*.csv")):
        assert csv_file.read_bytes() == (work / "out_book" / csv_file.name).read_bytes(), \
            csv_file.name


def test_convert_both_ways_and_refuse_to_overwrite(cli_runs: dict[str, Any]) -> None:
    work = cli_runs["work"]
    assert cli_runs["convert"].returncode == 0, shown(cli_runs["convert"])
    assert cli_runs["convert_back"].returncode == 0, shown(cli_runs["convert_back"])
    county = hwbopt.load(hwbopt.shipped_instance("county"))
    assert read_instance(work / "conv.xlsx")[0] == county
    assert read_folder(work / "conv_folder")[0] == county
    again = cli_runs["convert_again"]
    assert again.returncode == 2 and "--force" in again.stderr, shown(again)
    assert "Traceback" not in again.stderr
    assert cli_runs["convert_force"].returncode == 0, shown(cli_runs["convert_force"])


# ---------------------------------------------------------------------------------------------
# Broken workbooks
# ---------------------------------------------------------------------------------------------


def set_xml_cell(book: Path, sheet: str, ref: str, inner: str, attrs: str = "") -> None:
    """Replace cell ``ref`` of ``sheet`` in the file's XML by ``<c r=ref attrs>inner</c>``."""
    names = load_workbook(book, read_only=True).sheetnames
    member = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
    with zipfile.ZipFile(book) as z:
        files = {n: z.read(n) for n in z.namelist()}
    xml = files[member].decode()
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)')
    assert pattern.search(xml), f"{sheet}!{ref} not found"
    files[member] = pattern.sub(f'<c r="{ref}"{attrs}>{inner}</c>', xml, count=1).encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)


Edit = Callable[[Path], None]


def cells(sheet: str, **values: Any) -> Edit:
    def edit(book: Path) -> None:
        wb = load_workbook(book)
        for ref, value in values.items():
            wb[sheet][ref] = value
        wb.save(book)

    return edit


def with_wb(fn: Callable[[Any], None]) -> Edit:
    def edit(book: Path) -> None:
        wb = load_workbook(book)
        fn(wb)
        wb.save(book)

    return edit


@dataclass(frozen=True)
class Broken:
    name: str
    edit: Edit
    where: str  # the sheet and cell the message must name, e.g. 'budgets!C5'
    words: tuple[str, ...]  # what the message must say was expected


# tutorial budgets: row 3 nhs 2013, row 4 nhs 2014, row 5 council 2013, row 6 council 2014
BROKEN = [
    Broken("na-as-number", cells("budgets", C5="NA"), "budgets!C5",
           ("valid number", "'NA'")),
    Broken("error-cell", lambda b: set_xml_cell(b, "budgets", "C5", "<f>1/0</f><v>#DIV/0!</v>",
                                                ' t="e"'),
           "budgets!C5", ("error #DIV/0!", "a number")),
    Broken("formula-without-value", cells("budgets", C5="=SUM(A1:A2)"), "budgets!C5",
           ("no calculated value", "open and save")),
    Broken("merged-cells", with_wb(lambda wb: wb["activity"].merge_cells("B3:C3")),
           "activity!B3:C3", ("merged", "unmerge")),
    Broken("date-as-year", cells("budgets", B5=dt.datetime(2013, 4, 1)), "budgets!B5",
           ("date", "whole number")),
    Broken("unknown-partner", cells("budgets", A5="county"), "budgets!A5",
           ("unknown partner 'county'", "council, nhs")),
    Broken("unknown-kind", cells("partners", C3="hospital"), "partners!C3",
           ("'nhs', 'council'", "'hospital'")),
    Broken("unknown-column", cells("budgets", D1="notes"), "budgets!D1",
           ("unknown column 'notes'", "partner, year, baseline")),
    Broken("missing-column", with_wb(lambda wb: wb["budgets"].delete_cols(3)), "budgets!C1",
           ("missing column 'baseline'", "add it in row 1")),
    Broken("remit-unknown-intervention", cells("partner_remit", B3="therapy"),
           "partner_remit!B3", ("unknown intervention 'therapy'",)),
    Broken("remit-unknown-partner", cells("partner_remit", A3="ccg"), "partner_remit!A3",
           ("unknown partner 'ccg'", "sheet partners")),
    Broken("bad-money-unit", cells("instance", B5="pounds"), "instance!B5",
           ("'units', 'thousands' or 'millions'", "'pounds'")),
    Broken("number-with-underscore", cells("activity", C4="8_00"), "activity!C4",
           ("plain number", "'8_00'")),
    Broken("boolean-as-number", cells("budgets", C5=True), "budgets!C5",
           ("expected a number",)),
    Broken("value-without-column", cells("budgets", E4=5), "budgets!E4",
           ("column without a name",)),
    Broken("negative-fte", cells("staff", D3=-2), "staff!D3",
           ("greater than or equal to 0", "-2")),
    Broken("missing-sheet", with_wb(lambda wb: wb.remove(wb["responses"])), "responses",
           ("missing sheet 'responses'",)),
    Broken("contributor-shares", cells("pool_contributors", C3=0.9), "pool_contributors",
           ("min_share 0.9 is above max_share",)),
    # scenarios, options and stress sets (tutorial: option_policies row 3 protects
    # reablement; scenario_changes row 3 sets the council's cut; stress_inputs row 3 is a
    # uniform draw; stress_table rows 3-8 are three scenarios of two inputs)
    Broken("unknown-policy-rule", cells("option_policies", B3="protect_all"),
           "option_policies!B3", ("unknown rule 'protect_all'", "'no_closures'")),
    Broken("field-the-rule-does-not-use", cells("option_policies", E3="hub"),
           "option_policies!E3", ("not used by rule 'protect'",)),
    Broken("change-with-two-operations", cells("scenario_changes", D3=1.1),
           "scenario_changes!C3", ("exactly one of 'value', 'scale' or 'add'",
                                   "got value, scale")),
    Broken("change-of-an-unknown-partner", cells("scenario_changes",
                                                 B3="partners[county].cut.total"),
           "scenario_changes!B3", ("no partners entry with id 'county'",)),
    Broken("value-not-a-mapping", cells("scenario_changes", C3="{total: 0.35"),
           "scenario_changes!C3", ("not a valid mapping or list", "{total: 0.35, over_years")),
    Broken("unknown-distribution", cells("stress_inputs", F3="gaussian"), "stress_inputs!F3",
           ("'triangular'", "'gaussian'")),
    Broken("uniform-without-high", cells("stress_inputs", H3=None), "stress_inputs!F3",
           ("a uniform input needs high",)),
    Broken("explicit-scenario-unknown-input", cells("stress_table", C5="cut"),
           "stress_table!C5", ("unknown input 'cut' of stress set 'explicit'",
                               "council_cut, qipp")),
]


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Proc]]:
    work = tmp_path_factory.mktemp("broken")
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    template = write_workbook(inst, work / "tutorial.xlsx")
    books = {}
    for case in BROKEN:
        book = work / f"{case.name}.xlsx"
        book.write_bytes(template.read_bytes())
        case.edit(book)
        books[case.name] = book
    # the first as a user types it, the rest in this process (the same command and exit code,
    # without an interpreter's start each)
    first = BROKEN[0].name
    return {k: (b, (run_cli if k == first else run_cli_here)("validate", b))
            for k, b in books.items()}


def test_at_least_ten_kinds_of_broken_workbook() -> None:
    assert len(BROKEN) >= 10 and len({c.name for c in BROKEN}) == len(BROKEN)


@pytest.mark.parametrize("case", BROKEN, ids=[c.name for c in BROKEN])
def test_broken_workbook_exits_2_naming_sheet_and_cell(
        case: Broken, broken_runs: dict[str, tuple[Path, Proc]]) -> None:
    book, proc = broken_runs[case.name]
    assert proc.returncode == 2, shown(proc)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if case.where in line]
    assert lines, f"no line names {case.where}:\n{proc.stderr}"
    for word in case.words:
        assert any(word in line for line in lines), (word, lines)
    # the same problem through the Python API, as a located SheetProblem
    with pytest.raises(InstanceError) as info:
        read_workbook(book)
    sheet = case.where.split("!")[0]
    found = [p for p in info.value.problems if p.file == sheet]
    assert found and all(isinstance(p, SheetProblem) for p in found)
    if "!" in case.where:
        cell = case.where.split("!")[1]
        assert any(p.cell == cell and p.message.startswith(case.where) for p in found)


def test_not_a_workbook_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("just text", encoding="utf-8")
    with pytest.raises(InstanceError, match="not a readable Excel workbook"):
        read_workbook(fake)
    with pytest.raises(InstanceError, match="no such file"):
        read_workbook(tmp_path / "none.xlsx")
