"""Broken instances: every one is refused with its location, what was expected, and exit code 2.

Each case copies the tutorial, changes one thing, and says where the problem must be reported
(file, CSV line, field or YAML path) and which words of the message say what was expected.
Every case is checked through the Python API (fast, in process); most are also run through the
command line: ``hwbopt validate`` through click's runner in this process (the same command,
messages and exit code, without an interpreter's start each), and ``hwbopt solve`` of a few as a
user types it, in subprocesses started together the first time a command-line test needs one.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import copy_instance, run_cli, run_cli_here

import hwbopt

FOLDER = "<the instance folder>"  # stands for the (missing) folder itself in Case.file
EXECUTED = "EXECUTED"  # file that YAML trying to run a command would create


# ---------------------------------------------------------------------------------------------
# Mutations of a tutorial copy
# ---------------------------------------------------------------------------------------------

Mutate = Callable[[Path], None]


def replace(file: str, old: str, new: str) -> Mutate:
    def mutate(folder: Path) -> None:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} should occur once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return mutate


def append(file: str, text: str) -> Mutate:
    def mutate(folder: Path) -> None:
        with open(folder / file, "a", encoding="utf-8") as fh:
            fh.write(text)

    return mutate


def write(file: str, text: str | bytes) -> Mutate:
    def mutate(folder: Path) -> None:
        if isinstance(text, bytes):
            (folder / file).write_bytes(text)
        else:
            (folder / file).write_text(text, encoding="utf-8")

    return mutate


def delete(file: str) -> Mutate:
    def mutate(folder: Path) -> None:
        (folder / file).unlink()

    return mutate


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder)


def both(*steps: Mutate) -> Mutate:
    def mutate(folder: Path) -> None:
        for step in steps:
            step(folder)

    return mutate


def yaml_runs_a_command(folder: Path) -> None:
    """A YAML tag that, if it were obeyed, would create EXECUTED beside the instance."""
    mark = folder.parent / EXECUTED
    replace("instance.yaml", "name: Riverside tutorial",
            f'name: !!python/object/apply:os.system ["touch {mark}"]')(folder)


NHS_POOL = "{partner: nhs, min_share: 0.0, max_share: 0.3}"


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutate
    file: str  # the file named in the problem (FOLDER: the folder itself)
    row: int | None  # 1-based CSV line, None for YAML or whole-file problems
    field: str | None  # CSV column or YAML path
    expect: tuple[str, ...]  # words of the message (what was found / what was expected)
    cli: bool = True  # also run `hwbopt validate` on it
    solve: bool = False  # also run `hwbopt solve` and `hwbopt solve --json`
    extra: tuple[str, ...] = field(default=())  # more text the CLI must print (e.g. a line)


CASES = [
    # ---- files and folders -------------------------------------------------------------------
    Case("missing-folder", remove_folder, FOLDER, None, None,
         ("no such folder", "expected a folder holding instance.yaml"), solve=True),
    Case("missing-instance-yaml", delete("instance.yaml"), "instance.yaml", None, None,
         ("missing file", "expected", "instance.yaml")),
    Case("missing-budgets-csv", delete("budgets.csv"), "budgets.csv", None, None,
         ("missing file", "expected", "budgets.csv")),
    Case("empty-table-header-only", write("budgets.csv", "partner,year,baseline\n"),
         "budgets.csv", 2, None, ("no rows", "at least one expected")),
    Case("empty-csv-zero-bytes", write("responses.csv", ""), "responses.csv", 1, None,
         ("empty file", "expected a header row")),
    Case("csv-not-utf8", write("interventions.csv",
                               "id,name,unit,unit_cost\nreablement,R\xe9ablement,episode,2\n"
                               .encode("latin-1")),
         "interventions.csv", None, None, ("not UTF-8",), cli=False),
    # ---- unknown ids ---------------------------------------------------------------------------
    Case("unknown-id-in-remit",
         replace("instance.yaml", "remit: [talking_therapies,", "remit: [talking_therapy,"),
         "instance.yaml", None, "partners[0].remit[0]",
         ("unknown intervention 'talking_therapy'", "expected one of the intervention ids")),
    Case("unknown-intervention-in-pool",
         replace("instance.yaml", "interventions: [reablement, telecare, talking_therapies]",
                 "interventions: [reablement, telecare, yoga]"),
         "instance.yaml", None, "pools[0].interventions[2]",
         ("unknown intervention 'yoga'", "expected one of the intervention ids")),
    Case("unknown-partner-in-pool",
         replace("instance.yaml", "{partner: council, min_share",
                 "{partner: police, min_share"),
         "instance.yaml", None, "pools[0].contributors[1].partner",
         ("unknown partner 'police'", "expected one of the partner ids (council, nhs)")),
    Case("unknown-id-in-activity", replace("activity.csv", "telecare,800", "telecar,800"),
         "activity.csv", 3, "intervention",
         ("unknown intervention 'telecar'", "expected one of the intervention ids")),
    Case("unknown-id-in-responses",
         replace("responses.csv", "telecare,older_people", "telecare,old_people"),
         "responses.csv", 3, "priority",
         ("unknown priority 'old_people'", "expected one of the priority ids")),
    Case("unknown-id-in-targets", replace("targets.csv", "obesity,2014", "obesty,2014"),
         "targets.csv", 7, "priority",
         ("unknown priority 'obesty'", "expected one of the priority ids")),
    Case("unknown-id-in-avoided-costs",
         replace("avoided_costs.csv", "reablement,nhs", "reablement,ccg"),
         "avoided_costs.csv", 2, "partner",
         ("unknown partner 'ccg'", "expected one of the partner ids")),
    # ---- numbers -------------------------------------------------------------------------------
    Case("negative-budget", replace("budgets.csv", "council,2013,900", "council,2013,-900"),
         "budgets.csv", 4, "baseline", ("greater than or equal to 0", "-900")),
    Case("nan-in-csv", replace("budgets.csv", "council,2013,900", "council,2013,nan"),
         "budgets.csv", 4, "baseline", ("finite number", "nan")),
    Case("nan-in-yaml", replace("instance.yaml", "weight: 8", "weight: .nan"),
         "instance.yaml", None, "priorities[1].weight", ("finite number",)),
    Case("infinity-in-csv",
         replace("interventions.csv", "Telecare,user-year,0.5", "Telecare,user-year,inf"),
         "interventions.csv", 3, "unit_cost", ("finite number", "inf")),
    Case("infinity-in-yaml", replace("instance.yaml", "weight: 10", "weight: .inf"),
         "instance.yaml", None, "priorities[0].weight", ("finite number",), cli=False),
    Case("overflow-to-infinity-in-csv",
         replace("budgets.csv", "nhs,2014,1000", "nhs,2014,1e400"),
         "budgets.csv", 3, "baseline", ("finite number",), cli=False),
    Case("NA-in-numeric-column",
         replace("activity.csv", "talking_therapies,350,400", "talking_therapies,NA,400"),
         "activity.csv", 4, "current", ("valid number", "'NA'"), solve=True),
    Case("digit-separator-in-number",
         replace("budgets.csv", "council,2013,900", "council,2013,9_00"),
         "budgets.csv", 4, "baseline", ("expected a plain number", "'9_00'"), cli=False),
    Case("empty-required-cell",
         replace("activity.csv", "talking_therapies,350,400", "talking_therapies,,400"),
         "activity.csv", 4, "current", ("missing", "a value is required"), cli=False),
    Case("wrong-type-string-for-number",
         replace("instance.yaml", "weight: 8", "weight: eight"),
         "instance.yaml", None, "priorities[1].weight", ("valid number", "'eight'")),
    Case("wrong-type-number-for-id", replace("instance.yaml", "  - id: nhs\n", "  - id: 123\n"),
         "instance.yaml", None, "partners[0].id", ("valid string",), cli=False),
    Case("year-not-an-integer", replace("budgets.csv", "council,2013,900", "council,2013.5,900"),
         "budgets.csv", 4, "year", ("valid integer", "2013.5"), cli=False),
    Case("cut-of-120-percent", replace("instance.yaml", "total: 0.28", "total: 1.2"),
         "instance.yaml", None, "partners[1].cut.total", ("less than 1", "1.2")),
    Case("pool-max-share-above-1",
         replace("instance.yaml", NHS_POOL, "{partner: nhs, min_share: 0.0, max_share: 1.5}"),
         "instance.yaml", None, "pools[0].contributors[0].max_share",
         ("less than or equal to 1", "1.5")),
    Case("pool-min-share-above-max-share",
         replace("instance.yaml", NHS_POOL, "{partner: nhs, min_share: 0.5, max_share: 0.3}"),
         "instance.yaml", None, "pools[0].contributors[0]",
         ("min_share 0.5 is above max_share 0.3",)),
    Case("cut-plus-savings-at-least-100-percent",
         replace("instance.yaml", "    savings_rate: 0.04",
                 "    savings_rate: 0.3\n    cut: {total: 0.75, over_years: 1}"),
         "instance.yaml", None, "partners[0]",
         ("leave no money", "must stay below 100%")),
    Case("ring-fenced-shares-above-100-percent",
         replace("instance.yaml", "    remit: [reablement,",
                 "    ring_fenced:\n"
                 "      - {id: a, share: 0.7, interventions: [telecare]}\n"
                 "      - {id: b, share: 0.6, interventions: [reablement]}\n"
                 "    remit: [reablement,"),
         "instance.yaml", None, "partners[1].ring_fenced", ("at most 100% expected",),
         cli=False),
    Case("bad-currency-code", replace("instance.yaml", "currency: GBP", "currency: pounds"),
         "instance.yaml", None, "currency", ("three-letter currency code",), cli=False),
    Case("horizon-reversed", replace("instance.yaml", "last_year: 2014", "last_year: 2012"),
         "instance.yaml", None, "horizon", ("before first_year",), cli=False),
    # ---- unknown and missing fields ------------------------------------------------------------
    Case("unknown-yaml-field",
         replace("instance.yaml", "    weight: 8\n", "    weight: 8\n    colour: blue\n"),
         "instance.yaml", None, "priorities[1].colour", ("unknown field",)),
    Case("unknown-top-level-yaml-field",
         replace("instance.yaml", "currency: GBP", "currency: GBP\nregion: north"),
         "instance.yaml", None, "region", ("unknown field",), cli=False),
    Case("table-given-in-yaml", replace("instance.yaml", "currency: GBP",
                                        "currency: GBP\nbudgets: []"),
         "instance.yaml", None, "budgets", ("is a table", "put it in budgets.csv"), cli=False),
    Case("missing-required-yaml-field", replace("instance.yaml", "money_unit: thousands", ""),
         "instance.yaml", None, "money_unit", ("missing", "a value is required"), cli=False),
    Case("unknown-csv-column",
         replace("targets.csv", "priority,year,target", "priority,year,target,note"),
         "targets.csv", 1, "note", ("unknown column", "expected columns among")),
    Case("missing-required-csv-column", write("budgets.csv", "partner,year\nnhs,2013\n"),
         "budgets.csv", 1, "baseline", ("missing column", "required")),
    Case("csv-column-without-a-name",
         write("budgets.csv", "partner,year,baseline,\nnhs,2013,1000,\n"),
         "budgets.csv", 1, None, ("column 4 has no name", "expected every column named"),
         cli=False),
    Case("csv-column-given-twice",
         replace("targets.csv", "priority,year,target", "priority,year,target,year"),
         "targets.csv", 1, "year", ("column given twice",), cli=False),
    # ---- years and coverage --------------------------------------------------------------------
    Case("year-outside-horizon", append("budgets.csv", "nhs,2016,1000\n"),
         "budgets.csv", 6, "year", ("year 2016 is outside the horizon 2013-2014",)),
    Case("partner-missing-a-year-of-budget", replace("budgets.csv", "council,2014,900\n", ""),
         "budgets.csv", None, "partner", ("partner 'council'", "no baseline budget for 2014")),
    Case("duplicate-budget-row", append("budgets.csv", "nhs,2014,900\n"),
         "budgets.csv", 6, "partner", ("duplicate budget for nhs in 2014",), cli=False),
    Case("cut-by-year-missing-a-year",
         replace("instance.yaml", "cut: {total: 0.28, over_years: 4}",
                 "cut_by_year: {2013: 0.07}"),
         "instance.yaml", None, "partners[1].cut_by_year",
         ("no cut given for 2014", "every year of the horizon"), cli=False),
    # ---- duplicates ----------------------------------------------------------------------------
    Case("duplicate-intervention-id",
         append("interventions.csv", "telecare,Telecare again,user-year,0.5,,,\n"),
         "interventions.csv", 8, "id", ("duplicate intervention id 'telecare'",)),
    Case("duplicate-activity-row", append("activity.csv", "telecare,800,1000\n"),
         "activity.csv", 8, "intervention", ("duplicate row for telecare",)),
    Case("duplicate-partner-id",
         replace("instance.yaml", "  - id: council\n", "  - id: nhs\n"),
         "instance.yaml", None, "partners[1].id", ("duplicate id 'nhs'",), cli=False),
    Case("partner-contributes-twice-to-a-pool",
         replace("instance.yaml", "{partner: council, min_share", "{partner: nhs, min_share"),
         "instance.yaml", None, "pools[0].contributors[1].partner", ("contributes twice",),
         cli=False),
    # ---- responses and activity ----------------------------------------------------------------
    Case("response-pieces-ending-together",
         replace("responses.csv", "weight_management,obesity,0.5,0.2",
                 "weight_management,obesity,1,0.2"),
         "responses.csv", 7, "upto_share", ("end at upto_share 1",)),
    Case("response-curve-not-ending-at-1",
         replace("responses.csv", "telecare,older_people,1,0.1", "telecare,older_people,0.9,0.1"),
         "responses.csv", 3, "upto_share", ("ends at 0.9", "must run to upto_share 1")),
    Case("current-activity-above-need",
         replace("activity.csv", "reablement,250,300", "reablement,350,300"),
         "activity.csv", 2, "current", ("current activity 350 is above need 300",)),
    # ---- YAML that is not an instance ----------------------------------------------------------
    Case("yaml-builds-python-object", yaml_runs_a_command,
         "instance.yaml", None, None, ("line 2", "python/object", "expected plain YAML"),
         solve=True, extra=("line 2",)),
    Case("yaml-is-a-list", write("instance.yaml", "- name: a\n- name: b\n"),
         "instance.yaml", None, None, ("expected a mapping of fields, got a list",)),
    Case("yaml-empty", write("instance.yaml", "# nothing here\n"),
         "instance.yaml", None, None, ("expected a mapping", "empty file"), cli=False),
    Case("invalid-yaml-syntax",
         replace("instance.yaml", "name: Riverside tutorial", "name: Riverside: tutorial"),
         "instance.yaml", None, None, ("line 2", "not valid YAML"), extra=("line 2",)),
    Case("duplicate-yaml-key", replace("instance.yaml", "currency: GBP", "currency: GBP\n"
                                       "currency: EUR"),
         "instance.yaml", None, None, ("line 8", "duplicate key 'currency'", "given once"),
         extra=("line 8",)),
    Case("duplicate-key-nested-in-yaml",
         replace("instance.yaml", NHS_POOL,
                 "{partner: nhs, min_share: 0.0, min_share: 0.1, max_share: 0.3}"),
         "instance.yaml", None, None, ("line 32", "duplicate key 'min_share'"), cli=False),
    # ---- CSV that is not a table ---------------------------------------------------------------
    Case("csv-row-with-wrong-number-of-cells",
         replace("activity.csv", "telecare,800,1000", "telecare,800,1000,5"),
         "activity.csv", 3, None, ("expected 3 cells, found 4",)),
    Case("csv-unterminated-quote", replace("activity.csv", "telecare,800", 'telecare,"800'),
         "activity.csv", 3, None, ("not valid CSV",), cli=False),
    # lines are counted as in the file: a blank line and a cell holding a line break shift them
    Case("line-numbers-count-blank-lines",
         both(replace("budgets.csv", "partner,year,baseline\n", "partner,year,baseline\n\n"),
              replace("budgets.csv", "council,2014,900", "council,2016,900")),
         "budgets.csv", 6, "year", ("outside the horizon",), cli=False),
    # a quoted cell holding a line break is located at the line where its row starts
    Case("text-with-a-line-break",
         replace("interventions.csv", "reablement,Home reablement,",
                 'reablement,"Home\nreablement",'),
         "interventions.csv", 2, "name", ("one line of text", "line breaks"), cli=False),
    Case("id-with-a-space",
         replace("interventions.csv", "telecare,Telecare", "tele care,Telecare"),
         "interventions.csv", 3, "id", ("expected an id",), cli=False),
]


# ---------------------------------------------------------------------------------------------
# Staff, buildings and go/no-go choices: a small valid extension of the tutorial, then one
# mistake at a time
# ---------------------------------------------------------------------------------------------
# The extension replaces whatever staff, sites and choices the tutorial has with its own (ids
# starting hb_), so the rows and paths below do not move when the tutorial changes.

TUTORIAL = hwbopt.shipped_instance("tutorial")
with open(TUTORIAL / "interventions.csv", encoding="utf-8", newline="") as _fh:
    # line of each intervention in interventions.csv (rewritten row for row by the extension)
    ROW_OF = {r["id"]: k for k, r in enumerate(csv.DictReader(_fh), start=2)}
_HORIZON = yaml.safe_load((TUTORIAL / "instance.yaml").read_text(encoding="utf-8"))["horizon"]
Y0, Y1 = _HORIZON["first_year"], _HORIZON["first_year"] + 1  # the tutorial has >= 2 years
YEARS = range(_HORIZON["first_year"], _HORIZON["last_year"] + 1)

# (employer, role) per pair of rows: line 2 onwards, one line per year
STAFF_PAIRS = (("nhs", "hb_nurse", 10, 40, "true"), ("council", "hb_social_worker", 8, 30, "false"))
STAFF_CSV = "employer,role,year,fte,cost_per_fte,recruit_limit,max_release,integrated\n" + "".join(
    f"{e},{r},{y},{fte},{cost},2,0.1,{integrated}\n"
    for e, r, fte, cost, integrated in STAFF_PAIRS for y in YEARS)
STAFF_LINE = {(e, y): 2 + k * len(YEARS) + j
              for k, (e, *_rest) in enumerate(STAFF_PAIRS) for j, y in enumerate(YEARS)}
EXTENSION = {
    "staff.csv": STAFF_CSV,
    "intervention_staff.csv": "intervention,role,fte_per_unit\n"
                              "reablement,hb_nurse,0.01\n"
                              "reablement,hb_social_worker,0.02\n"
                              "talking_therapies,hb_nurse,0.005\n",
    "sites.csv": "id,name,owner,locality,running_cost,closure_cost,disposal_receipt,shareable,"
                 "can_close\n"
                 "hb_hub,Test hub,council,,50,10,20,true,true\n"
                 "hb_surgery,Test surgery,nhs,,20,0,0,false,false\n",
    "site_capacity.csv": "site,space_type,capacity\n"
                         "hb_hub,hb_room,30\n"
                         "hb_surgery,hb_room,10\n",
    "intervention_space.csv": "intervention,space_type,per_unit\n"
                              "reablement,hb_room,0.05\n"
                              "talking_therapies,hb_room,0.01\n",
}
LEADS = {"reablement": "council", "talking_therapies": "nhs", "befriending": "council"}


def edit_yaml(change: Callable[[dict], None]) -> Mutate:
    """Load instance.yaml, change the data, write it back (comments are not kept)."""

    def mutate(folder: Path) -> None:
        path = folder / "instance.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")

    return mutate


def set_cells(file: str, key: str, cells: dict[str, dict[str, str]]) -> Mutate:
    """Set cells of a CSV file by the value in column ``key``, adding columns as needed."""

    def mutate(folder: Path) -> None:
        path = folder / file
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        columns = list(rows[0]) if rows else []
        for row in rows:
            for col, value in cells.get(row[key], {}).items():
                if col not in columns:
                    columns.append(col)
                row[col] = value
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, columns, restval="", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    return mutate


def _extension_yaml(data: dict) -> None:
    data["roles"] = [{"id": "hb_nurse", "name": "Nurse"},
                     {"id": "hb_social_worker", "name": "Social worker"}]
    data["space_types"] = [{"id": "hb_room", "name": "Clinic rooms", "unit": "rooms"}]
    data["exclusive"] = [{"id": "hb_alternatives", "interventions": ["telecare", "befriending"]}]
    data["dependencies"] = [{"intervention": "befriending", "requires": "reablement"}]


def staffed(*steps: Mutate) -> Mutate:
    """The tutorial with the extension above, then ``steps``."""
    base = [write(name, text) for name, text in EXTENSION.items()]
    base.append(edit_yaml(_extension_yaml))
    base.append(set_cells("interventions.csv", "id", {
        **{i: {"lead": p} for i, p in LEADS.items()},
        "telecare": {"min_scale": "100", "setup_cost": "20"},
    }))
    return both(*base, *steps)


def _drop_lead(folder: Path) -> None:
    set_cells("interventions.csv", "id", {"talking_therapies": {"lead": ""}})(folder)


def _two_localities(folder: Path) -> None:
    """Declare localities hb_north (all activity, the hub) and hb_south (the surgery)."""
    edit_yaml(lambda d: d.update(localities=[{"id": "hb_north"}, {"id": "hb_south"}]))(folder)
    with open(folder / "activity.csv", encoding="utf-8", newline="") as fh:
        ids = {r["intervention"] for r in csv.DictReader(fh)}
    set_cells("activity.csv", "intervention", {i: {"locality": "hb_north"} for i in ids})(folder)
    replace("sites.csv", "Test hub,council,,", "Test hub,council,hb_north,")(folder)
    replace("sites.csv", "Test surgery,nhs,,", "Test surgery,nhs,hb_south,")(folder)


STAFF_ESTATE_CASES = [
    # ---- staff.csv -----------------------------------------------------------------------------
    Case("staff-unknown-employer",
         staffed(replace("staff.csv", f"nhs,hb_nurse,{Y0},", f"ccg,hb_nurse,{Y0},")),
         "staff.csv", STAFF_LINE["nhs", Y0], "employer",
         ("unknown partner 'ccg'", "expected one of the partner ids")),
    Case("staff-unknown-role",
         staffed(replace("staff.csv", f"council,hb_social_worker,{Y1},",
                         f"council,hb_socialworker,{Y1},")),
         "staff.csv", STAFF_LINE["council", Y1], "role",
         ("unknown role 'hb_socialworker'", "expected one of the role ids")),
    Case("staff-year-outside-horizon",
         staffed(append("staff.csv", f"nhs,hb_nurse,{YEARS[-1] + 2},10,40,2,0.1,true\n")),
         "staff.csv", 2 + 2 * len(YEARS), "year",
         (f"year {YEARS[-1] + 2} is outside the horizon",)),
    Case("staff-missing-a-year",
         staffed(replace("staff.csv", f"council,hb_social_worker,{Y1},8,30,2,0.1,false\n", "")),
         "staff.csv", STAFF_LINE["council", Y0], "year",
         ("council hb_social_worker has no staff row for", str(Y1), "every year")),
    Case("staff-negative-fte",
         staffed(replace("staff.csv", f"nhs,hb_nurse,{Y1},10,", f"nhs,hb_nurse,{Y1},-10,")),
         "staff.csv", STAFF_LINE["nhs", Y1], "fte", ("greater than or equal to 0", "-10")),
    Case("staff-max-release-above-1",
         staffed(replace("staff.csv", f"nhs,hb_nurse,{Y0},10,40,2,0.1,",
                         f"nhs,hb_nurse,{Y0},10,40,2,1.5,")),
         "staff.csv", STAFF_LINE["nhs", Y0], "max_release", ("less than or equal to 1", "1.5")),
    Case("staff-integrated-not-a-boolean",
         staffed(replace("staff.csv", f"council,hb_social_worker,{Y0},8,30,2,0.1,false",
                         f"council,hb_social_worker,{Y0},8,30,2,0.1,maybe")),
         "staff.csv", STAFF_LINE["council", Y0], "integrated", ("valid boolean", "'maybe'")),
    # ---- intervention_staff.csv and leads -------------------------------------------------------
    Case("intervention-staff-unknown-role",
         staffed(replace("intervention_staff.csv", "talking_therapies,hb_nurse,",
                         "talking_therapies,hb_doctor,")),
         "intervention_staff.csv", 4, "role", ("unknown role 'hb_doctor'",)),
    Case("intervention-staff-zero-fte-per-unit",
         staffed(replace("intervention_staff.csv", "reablement,hb_nurse,0.01",
                         "reablement,hb_nurse,0")),
         "intervention_staff.csv", 2, "fte_per_unit", ("greater than 0",)),
    Case("staffed-intervention-without-lead", staffed(_drop_lead),
         "intervention_staff.csv", 4, "intervention",
         ("'talking_therapies' needs staff but has no lead partner", "set 'lead'")),
    Case("lead-unknown-partner",
         staffed(set_cells("interventions.csv", "id", {"reablement": {"lead": "police"}})),
         "interventions.csv", ROW_OF["reablement"], "lead",
         ("unknown partner 'police'", "expected one of the partner ids")),
    Case("negative-min-scale",
         staffed(set_cells("interventions.csv", "id", {"telecare": {"min_scale": "-5"}})),
         "interventions.csv", ROW_OF["telecare"], "min_scale",
         ("greater than or equal to 0", "-5")),
    # ---- sites.csv, site_capacity.csv, intervention_space.csv ----------------------------------
    Case("site-unknown-owner",
         staffed(replace("sites.csv", "Test hub,council,", "Test hub,county,")),
         "sites.csv", 2, "owner", ("unknown partner 'county'",)),
    Case("site-locality-but-no-localities",
         staffed(replace("sites.csv", "Test surgery,nhs,,", "Test surgery,nhs,hb_east,")),
         "sites.csv", 3, "locality",
         ("locality 'hb_east' given but instance.yaml declares no localities",)),
    Case("site-unknown-locality",
         staffed(_two_localities,
                 replace("sites.csv", "Test surgery,nhs,hb_south,", "Test surgery,nhs,hb_east,")),
         "sites.csv", 3, "locality",
         ("unknown locality 'hb_east'", "expected one of the locality ids")),
    Case("duplicate-site-id",
         staffed(append("sites.csv", "hb_hub,Hub again,nhs,,5,0,0,false,true\n")),
         "sites.csv", 4, "id", ("duplicate site id 'hb_hub'",)),
    Case("site-negative-running-cost",
         staffed(replace("sites.csv", "Test surgery,nhs,,20,", "Test surgery,nhs,,-20,")),
         "sites.csv", 3, "running_cost", ("greater than or equal to 0", "-20")),
    Case("site-capacity-unknown-site",
         staffed(replace("site_capacity.csv", "hb_surgery,hb_room", "hb_surgeries,hb_room")),
         "site_capacity.csv", 3, "site",
         ("unknown site 'hb_surgeries'", "expected one of the site ids")),
    Case("site-capacity-unknown-space-type",
         staffed(replace("site_capacity.csv", "hb_hub,hb_room", "hb_hub,hb_desk")),
         "site_capacity.csv", 2, "space_type",
         ("unknown space type 'hb_desk'", "expected one of the space type ids")),
    Case("intervention-space-unknown-space-type",
         staffed(replace("intervention_space.csv", "talking_therapies,hb_room",
                         "talking_therapies,hb_rooms")),
         "intervention_space.csv", 3, "space_type", ("unknown space type 'hb_rooms'",)),
    # ---- exclusive groups and dependencies -----------------------------------------------------
    Case("exclusive-unknown-intervention",
         staffed(edit_yaml(lambda d: d["exclusive"][0].update(
             interventions=["telecare", "telecares"]))),
         "instance.yaml", None, "exclusive[0].interventions[1]",
         ("unknown intervention 'telecares'", "expected one of the intervention ids")),
    Case("exclusive-with-one-member",
         staffed(edit_yaml(lambda d: d["exclusive"][0].update(interventions=["telecare"]))),
         "instance.yaml", None, "exclusive[0].interventions", ("at least 2 items",)),
    Case("dependency-on-itself",
         staffed(edit_yaml(lambda d: d["dependencies"][0].update(requires="befriending"))),
         "instance.yaml", None, "dependencies[0]",
         ("'befriending' cannot depend on itself",)),
]
CASES += STAFF_ESTATE_CASES

BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"
CLI_CASES = [c for c in CASES if c.cli]
SOLVE_CASES = [c for c in CASES if c.solve]


def build(case: Case, tmp: Path) -> Path:
    folder = copy_instance("tutorial", tmp)
    case.mutate(folder)
    return folder


def where(case: Case, folder: Path) -> str:
    """How the CLI names the place: 'file, line N, field 'f'' or 'file, yaml.path'."""
    parts = [str(folder) if case.file == FOLDER else case.file]
    if case.row is not None:
        parts.append(f"line {case.row}")
    if case.field is not None:
        parts.append(f"field '{case.field}'" if case.row is not None else case.field)
    return ", ".join(parts)


def matching(case: Case, folder: Path, problems: list[hwbopt.Problem]) -> list[hwbopt.Problem]:
    file = str(folder) if case.file == FOLDER else case.file
    return [
        p for p in problems
        if p.file == file and p.row == case.row and p.field == case.field
        and all(word in p.message for word in case.expect)
    ]


# ---------------------------------------------------------------------------------------------
# The Python API: every case
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_read_folder_locates_the_problem(case: Case, tmp_path: Path) -> None:
    folder = build(case, tmp_path)
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.read_folder(folder)
    problems = info.value.problems
    assert problems, "an InstanceError must carry its problems"
    assert all(isinstance(p, hwbopt.Problem) and p.severity == "error" for p in problems)
    assert matching(case, folder, problems), (
        f"expected a problem at {where(case, folder)} saying {case.expect}; got:\n"
        + "\n".join(f"  {p.file!r} {p.row!r} {p.field!r}: {p.message}" for p in problems))
    assert not (folder.parent / EXECUTED).exists(), "the YAML ran a command"


@pytest.mark.parametrize("case_id", [
    "negative-budget", "unknown-id-in-remit", "NA-in-numeric-column", "missing-budgets-csv",
])
def test_load_raises_instance_error_with_located_problems(case_id: str, tmp_path: Path) -> None:
    case = BY_ID[case_id]
    folder = build(case, tmp_path)
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.load(folder)
    err = info.value
    assert isinstance(err, hwbopt.HwbError) and err.exit_code == 2
    found = matching(case, folder, err.problems)
    assert found
    p = found[0]
    assert (p.file, p.row, p.field) == (case.file, case.row, case.field)
    assert str(p).startswith(where(case, folder) + ": ")
    assert str(p) in str(err)


def test_every_problem_in_three_files_is_reported_at_once(tmp_path: Path) -> None:
    """Field mistakes in a CSV file must not hide those in another CSV file or in the YAML."""
    folder = copy_instance("tutorial", tmp_path)
    for step in (BY_ID["cut-of-120-percent"], BY_ID["negative-budget"],
                 BY_ID["NA-in-numeric-column"]):
        step.mutate(folder)
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.read_folder(folder)
    located = {(p.file, p.row, p.field) for p in info.value.problems}
    assert located == {
        ("instance.yaml", None, "partners[1].cut.total"),
        ("budgets.csv", 4, "baseline"),
        ("activity.csv", 4, "current"),
    }


def test_every_reference_problem_in_three_files_is_reported_at_once(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    for step in (BY_ID["unknown-id-in-remit"], BY_ID["unknown-id-in-targets"],
                 BY_ID["current-activity-above-need"]):
        step.mutate(folder)
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.read_folder(folder)
    located = {(p.file, p.row, p.field) for p in info.value.problems}
    assert located == {
        ("instance.yaml", None, "partners[0].remit[0]"),
        ("targets.csv", 7, "priority"),
        ("activity.csv", 2, "current"),
    }


def test_a_broken_yaml_file_does_not_hide_csv_problems(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    BY_ID["invalid-yaml-syntax"].mutate(folder)
    BY_ID["nan-in-csv"].mutate(folder)
    with pytest.raises(hwbopt.InstanceError) as info:
        hwbopt.read_folder(folder)
    files = {p.file for p in info.value.problems}
    assert files == {"instance.yaml", "budgets.csv"}


def test_yaml_merge_keys_are_not_duplicate_keys(tmp_path: Path) -> None:
    """A key overriding one merged in with '<<' is ordinary YAML, not a duplicate."""
    folder = copy_instance("tutorial", tmp_path)
    replace("instance.yaml", "    cut: {total: 0.28, over_years: 4}",
            "    cut:\n      <<: &cut {total: 0.5, over_years: 4}\n      total: 0.28")(folder)
    inst, _ = hwbopt.read_folder(folder)
    assert inst.partners[1].cut is not None
    assert (inst.partners[1].cut.total, inst.partners[1].cut.over_years) == (0.28, 4)


def test_warnings_are_not_errors(tutorial_dir: Path, tmp_path: Path) -> None:
    """An intervention nobody may fund is a warning, located, and the instance still loads."""
    folder = copy_instance("tutorial", tmp_path)
    replace("instance.yaml", "remit: [reablement, telecare, befriending, exercise_referral]",
            "remit: [reablement, telecare, exercise_referral]")(folder)
    inst, warnings = hwbopt.read_folder(folder)
    assert inst.name == "Riverside tutorial"
    assert [(w.file, w.row, w.field, w.severity) for w in warnings] == [
        ("interventions.csv", 5, "id", "warning")]
    assert "befriending" in warnings[0].message


# ---------------------------------------------------------------------------------------------
# The command line: validate through click's runner here, solve as a user types it
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    folder: Path
    proc: subprocess.CompletedProcess[str]


def _commands(case: Case) -> list[tuple[str, ...]]:
    cmds = [("validate",)]
    if case.solve:
        cmds += [("solve",), ("solve", "--json")]
    return cmds


@pytest.fixture(scope="module")
def cli_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Run, in parallel, every command-line case selected in this session; then look them up."""
    wanted: dict[str, Case] = {}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module is request.module and isinstance(params.get("case"), Case) \
                and getattr(item, "originalname", "").startswith("test_cli_"):
            wanted[params["case"].id] = params["case"]
    jobs: list[tuple[tuple[str, tuple[str, ...]], Path]] = []
    for case in wanted.values():
        folder = build(case, tmp_path_factory.mktemp(case.id))
        jobs += [((case.id, cmd), folder) for cmd in _commands(case)]

    def run(job: tuple[tuple[str, tuple[str, ...]], Path]) -> Run:
        (_, cmd), folder = job
        # run where a command hidden in the YAML would leave its mark
        return Run(folder, run_cli(*cmd, folder, cwd=folder.parent))

    # `validate` of every case in this process (the same command and exit code, without an
    # interpreter's start each); `solve` of the solve cases as typed, several at a time
    here = [job for job in jobs if job[0][1] == ("validate",)]
    typed = [job for job in jobs if job[0][1] != ("validate",)]
    done = {key: Run(folder, run_cli_here(*key[1], folder, cwd=folder.parent))
            for key, folder in here}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        done.update(zip([key for key, _ in typed], pool.map(run, typed), strict=True))
    return done


def _assert_refused(case: Case, run: Run, cmd: tuple[str, ...]) -> None:
    proc, folder = run.proc, run.folder
    shown = f"hwbopt {' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n" \
            f"stderr:\n{proc.stderr}"
    assert proc.returncode == 2, shown
    assert "Traceback" not in proc.stderr + proc.stdout, shown
    assert proc.stdout == "", shown  # nothing half-done on stdout, not even for --json
    assert proc.stderr.startswith("error: "), shown
    assert where(case, folder) in proc.stderr, shown
    for word in case.expect + case.extra:
        assert word in proc.stderr, shown
    assert not (folder.parent / EXECUTED).exists(), "the YAML ran a command"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CLI_CASES])
def test_cli_validate_refuses(case: Case, cli_runs: dict) -> None:
    _assert_refused(case, cli_runs[case.id, ("validate",)], ("validate",))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in SOLVE_CASES])
@pytest.mark.parametrize("cmd", [("solve",), ("solve", "--json")], ids=["text", "json"])
def test_cli_solve_refuses(case: Case, cmd: tuple[str, ...], cli_runs: dict) -> None:
    _assert_refused(case, cli_runs[case.id, cmd], cmd)


def test_cli_reports_all_problems_at_once(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    for step in (BY_ID["cut-of-120-percent"], BY_ID["negative-budget"],
                 BY_ID["unknown-csv-column"]):
        step.mutate(folder)
    proc = run_cli("validate", folder)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "3 problems in the instance" in proc.stderr
    for text in ("instance.yaml, partners[1].cut.total: ",
                 "budgets.csv, line 4, field 'baseline': ",
                 "targets.csv, line 1, field 'note': "):
        assert text in proc.stderr, proc.stderr


def test_at_least_25_broken_instances_go_through_the_cli() -> None:
    assert len(CLI_CASES) >= 25
    assert len(SOLVE_CASES) >= 3


@pytest.mark.parametrize("localities", [False, True], ids=["one-area", "two-localities"])
def test_the_staff_and_estate_extension_is_valid(localities: bool, tmp_path: Path) -> None:
    """The bases of the staff and estate cases load: each case's problem is its own mistake."""
    folder = copy_instance("tutorial", tmp_path)
    (staffed(_two_localities) if localities else staffed())(folder)
    inst, _ = hwbopt.read_folder(folder)
    assert {r.id for r in inst.roles} == {"hb_nurse", "hb_social_worker"}
    assert [s.id for s in inst.sites] == ["hb_hub", "hb_surgery"]
    assert inst.exclusive and inst.dependencies
    assert {i.id: i.lead for i in inst.interventions if i.id in LEADS} == LEADS
    assert len(inst.staff) == 2 * len(YEARS)


def test_at_least_12_staff_and_estate_cases_go_through_the_cli() -> None:
    assert sum(c.cli for c in STAFF_ESTATE_CASES) >= 12
