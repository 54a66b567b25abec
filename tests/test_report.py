"""Reports: provenance in summary.json, the Excel workbook, the HTML page, the rules they use.

The county is solved once through the command line (``county_report`` in conftest): ``solve
--out OUT --report REP``, then ``report OUT --out REP2``. The two reports must be the same, the
workbook must hold every result table with its values and units and the charts, and the page
must be self-contained. The allocation-by-priority rule and the benefit table are checked by
hand on the tutorial and recomputed independently on the county.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import math
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from conftest import ODD_LABELS, copy_instance, run_cli
from openpyxl import load_workbook

import hwbopt
from hwbopt.errors import UsageError
from hwbopt.highs import highs_version
from hwbopt.io.results import read_result, write_result
from hwbopt.provenance import instance_sha256
from hwbopt.report import report_data, write_report
from hwbopt.report.columns import header
from hwbopt.report.sections import SECTIONS, build_sections, section
from hwbopt.report.solve import BENEFIT_RULE, NO_PRIORITY, PRIORITY_RULE, spend_by_priority
from hwbopt.report.spec import Chart, ReportData, Section, Series, Table

# the summary.json keys before reports existed: kept, never renamed or dropped
OLD_KEYS = {"status", "message", "objective", "objective_kind", "total_spend", "total_cost",
            "spend_by_partner", "outcome_by_priority", "targets", "targets_met",
            "targets_total", "mip_gap", "bound", "staff", "buildings", "solve_seconds",
            "build_seconds", "model", "checked", "instance", "years", "currency", "money_unit",
            "solver", "warnings"}


# how a workbook shows a table's ids (ids stay in "<column> (id)" columns), written out here
# on its own, apart from hwbopt.report.excel
SHOWN_BY_NAME = {"partner": "partners", "employer": "partners", "owner": "partners",
                 "payer": "partners", "payee": "partners", "lead": "partners",
                 "pool": "pools", "intervention": "interventions", "priority": "priorities",
                 "locality": "localities", "role": "roles", "site": "sites",
                 "space_type": "space_types", "scenario": "scenarios", "option": "options"}


def as_shown(frame: pd.DataFrame, summary: dict, options: pd.DataFrame | None = None
             ) -> pd.DataFrame:
    """A result table as its sheet should hold it: names for ids, '2011/12' for 2011, and
    each column so changed repeated with its ids as '<column> (id)' after the table's own."""
    labels = summary.get("labels") or {}

    def name(kind: str, v: object) -> object:
        if not isinstance(v, str) or not v:
            return v
        if kind == "options" and options is not None:
            names = [o if o != "partial" or pd.isna(x) else f"partial@{float(x):g}"
                     for o, x in zip(options.option, options.pool_share, strict=True)]
            for n, o, lab in zip(names, options.option, options.label, strict=True):
                if v in (n, o):
                    return lab
        if kind == "scenarios" and v == "base":
            return "base (as the instance says)"
        entry = (labels.get(kind) or {}).get(v)
        if entry is None and kind == "partners" and v in (labels.get("pools") or {}):
            entry = labels["pools"][v]
        return (entry.get("name") if isinstance(entry, dict) else entry) or v

    out = frame.copy()
    ids = {}
    for col in frame.columns:
        if col == "year" and len(frame):
            out[col] = [f"{int(y)}/{(int(y) + 1) % 100:02d}" for y in frame[col]]
            ids[col] = [int(y) for y in frame[col]]
            continue
        kind = "partners" if col in ("source", "users") else SHOWN_BY_NAME.get(col)
        if kind is None:
            continue
        if col == "option" and "label" in frame.columns:
            new = [lab or v for v, lab in zip(frame[col], frame["label"], strict=True)]
        elif col == "users":
            new = ["; ".join(str(name("partners", u)) for u in v.split(";") if u)
                   if isinstance(v, str) and v else v for v in frame[col]]
        else:
            new = [name(kind, v) for v in frame[col]]
        if new != list(frame[col]):
            out[col] = new
            ids[col] = list(frame[col])
    for col, values in ids.items():
        out[f"{col} (id)"] = values
    return out


def shown(proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@pytest.fixture(scope="module")
def county(county_report: dict) -> dict:
    for key in ("solve", "report"):
        proc = county_report[key]
        assert proc.returncode == 0, shown(proc)
        assert "Traceback" not in proc.stderr
    return county_report


@pytest.fixture(scope="module")
def tutorial_result() -> hwbopt.Result:
    result = hwbopt.solve(hwbopt.load(hwbopt.shipped_instance("tutorial")))
    assert result.status == "optimal"
    return result


def county_charts(out: Path) -> list[Chart]:
    data = report_data(out)
    return [b for s in build_sections(data) for b in s.blocks if isinstance(b, Chart)]


# ---------------------------------------------------------------------------------------------
# summary.json
# ---------------------------------------------------------------------------------------------


def test_summary_keeps_its_keys_and_gains_provenance(county: dict) -> None:
    summary = json.loads((county["out"] / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= OLD_KEYS
    assert summary["kind"] == "solve"
    prov = summary["provenance"]
    folder = hwbopt.shipped_instance("county")
    # the hash as documented: name, NUL, size, NUL, bytes of each instance file, by name
    digest = hashlib.sha256()
    names = sorted(p.name for p in folder.iterdir()
                   if p.name == "instance.yaml" or p.suffix == ".csv")
    for name in names:
        data = (folder / name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    assert prov["instance_sha256"] == digest.hexdigest()
    assert prov["instance_files"] == names
    assert prov["hwbopt_version"] == hwbopt.__version__
    assert prov["solver"] == "HiGHS" and prov["solver_version"] == highs_version()
    assert prov["seed"] is None
    assert prov["options"] == {"objective": "outcome", "mip_gap": 1e-4, "time_limit": None}
    when = dt.datetime.fromisoformat(prov["date"])
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 3600
    labels = summary["labels"]
    assert labels["money"] == "£k" and labels["partners"]["ccg"] == "Westshire CCG"
    assert labels["priorities"]["teenage_pregnancy"]["unit"] == "conceptions"


def test_instance_hash_covers_the_instance_files_only(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    before, files = instance_sha256(folder)
    assert "README.md" not in files and "expected.json" not in files
    (folder / "README.md").write_text("edited", encoding="utf-8")
    assert instance_sha256(folder)[0] == before
    budgets = folder / "budgets.csv"
    budgets.write_text(budgets.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert instance_sha256(folder)[0] != before


def test_instance_hash_covers_the_stress_tables_the_yaml_names(tmp_path: Path) -> None:
    folder = copy_instance("tutorial", tmp_path)
    before, files = instance_sha256(folder)
    assert "stress_explicit.csv" in files
    table = folder / "stress_explicit.csv"
    table.write_text(table.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert instance_sha256(folder)[0] != before
    (folder / "unnamed.csv").write_text("a\n1\n", encoding="utf-8")  # named by nothing
    assert "unnamed.csv" not in instance_sha256(folder)[1]


# ---------------------------------------------------------------------------------------------
# The two ways to a report give the same report
# ---------------------------------------------------------------------------------------------


def test_solve_report_and_report_command_agree(county: dict) -> None:
    assert "report.html" in county["solve"].stdout and "report.xlsx" in county["report"].stdout
    page = (county["rep"] / "report.html").read_bytes()
    assert page == (county["rep2"] / "report.html").read_bytes()
    a = load_workbook(county["rep"] / "report.xlsx")
    b = load_workbook(county["rep2"] / "report.xlsx")
    assert a.sheetnames == b.sheetnames
    for ws in a.worksheets:
        other = b[ws.title]
        assert [[c.value for c in r] for r in ws.iter_rows()] == \
            [[c.value for c in r] for r in other.iter_rows()], ws.title


# ---------------------------------------------------------------------------------------------
# The Excel report
# ---------------------------------------------------------------------------------------------


def test_excel_report_has_every_table_with_units_values_and_charts(county: dict) -> None:
    wb = load_workbook(county["rep"] / "report.xlsx")
    summary, tables = read_result(county["out"])
    assert wb.sheetnames[:2] == ["summary", "charts"]
    assert set(wb.sheetnames[2:]) == set(tables)
    for name, frame in tables.items():
        ws = wb[name]
        heads = [c.value for c in ws[1]]
        assert heads[:len(frame.columns)] == [header(name, c, "£k") for c in frame.columns]
        assert ws.max_row == len(frame) + 1, name
        # ids by name and years as the page shows them, the ids kept at the sheet's end
        own = list(frame.columns)
        frame = as_shown(frame, summary)
        extra = [c for c in frame.columns if c not in own]
        assert [h for h in heads if h and h.endswith(" (id)")] == extra, name
        for col in extra:
            j = heads.index(col) + 1
            assert [ws.cell(r, j).value for r in range(2, ws.max_row + 1)] == \
                [v if v != "" else None for v in frame[col]], (name, col)
        frame = frame[own]
        for r, row in enumerate(frame.itertuples(index=False), start=2):
            for j, value in enumerate(row, start=1):
                got = ws.cell(r, j).value
                if isinstance(value, float) and math.isnan(value):
                    assert got is None
                elif isinstance(value, bool):
                    assert got is value, (name, r, j)
                elif isinstance(value, float | int):
                    assert isinstance(got, int | float) and not isinstance(got, bool)
                    assert close(got, value, rel=1e-15, abs_=0), (name, r, j, got, value)
                else:
                    assert got == (value or None), (name, r, j)
    assert "money (£k)" in [c.value for c in wb["allocation"][1]]
    assert "in_post (FTE)" in [c.value for c in wb["staff"][1]]
    outcome_heads = [c.value for c in wb["outcomes"][1]]
    unit = len(tables["outcomes"].columns) + 1
    assert outcome_heads[unit - 1] == "unit"
    assert wb["outcomes"].cell(2, unit).value == "people"

    charts = wb["charts"]._charts
    assert len(charts) == len(county_charts(county["out"])) == 6
    # the summary sheet: key figures as numbers, and the provenance
    values = {r[0].value: r[1].value for r in wb["summary"].iter_rows() if r[0].value}
    assert close(values["spend on services (£k)"], summary["total_spend"], rel=1e-15)
    assert values["status"] == "optimal"
    assert values["instance file hash (SHA-256)"] == summary["provenance"]["instance_sha256"]
    for ws in wb.worksheets:
        formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert not formulas, (ws.title, formulas[:5])


def test_excel_chart_data_matches_the_tables(county: dict) -> None:
    wb = load_workbook(county["rep"] / "report.xlsx")
    _, tables = read_result(county["out"])
    ws = wb["charts"]
    # the first block: spend by partner and year, years down, partners across
    assert ws["A1"].value == "Spend on services by partner and year"
    partners = [c.value for c in ws[2][1:] if c.value]
    by = tables["allocation"].groupby(["partner", "year"])["money"].sum()
    names = json.loads((county["out"] / "summary.json").read_text())["labels"]["partners"]
    ids = {v: k for k, v in names.items()}
    for r, year in enumerate((2011, 2012, 2013, 2014), start=3):
        assert ws.cell(r, 1).value == f"{year}/{(year + 1) % 100:02d}"
        for j, name in enumerate(partners, start=2):
            assert close(ws.cell(r, j).value, by.get((ids[name], year), 0.0), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The HTML report
# ---------------------------------------------------------------------------------------------


def test_html_report_is_self_contained(county: dict) -> None:
    page = (county["rep"] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"<(?:script|link|img|iframe|style)[^>]*(?:src|href)\s*=\s*[\"']?"
                         r"(?:https?:)?//", page, re.I)
    assert not re.search(r"@import", page)
    scripts = re.findall(r"<script\b", page)
    n_charts = len(county_charts(county["out"]))
    assert page.count('class="plotly-graph-div"') == n_charts
    assert len(scripts) == 1 + n_charts  # plotly.js once, then one call per chart
    assert "plotly.js" in page.lower() and len(page) > 3_000_000  # the library is inlined
    for title in ("Allocation", "Outcomes", "Partners&#x27; money", "Who pays and who benefits",
                  "Staff", "Buildings", "Go/no-go decisions", "Provenance"):
        assert f">{title}</h2>" in page, title
    assert html.escape(PRIORITY_RULE) in page and html.escape(BENEFIT_RULE) in page


def test_labels_are_escaped_in_the_page_and_never_formulas_in_the_workbook(
        odd_report: Path) -> None:
    page = (odd_report / "report.html").read_text(encoding="utf-8")
    for label in ODD_LABELS.values():
        if "<" in label:
            assert label not in page  # not as markup, not even inside plotly's JSON
            assert html.escape(label) in page
    assert page.count("<script") == 1 + page.count('class="plotly-graph-div"')
    assert "<img" not in page and "<b>bold" not in page

    wb = load_workbook(odd_report / "report.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
                    assert c.data_type == "s" and c.quotePrefix, (ws.title, c.coordinate)
                    seen.add(c.value)
    # partner and priority names label the charts' data, units the outcome rows
    for key in ("partner_council", "unit_older", "priority_mental"):
        assert ODD_LABELS[key] in seen, key
    assert html.escape(ODD_LABELS["intervention_reablement"]) in page


# ---------------------------------------------------------------------------------------------
# The rules: allocation by priority, benefits, contributions
# ---------------------------------------------------------------------------------------------


def test_spend_by_priority_by_hand_on_the_tutorial(tutorial_result: hwbopt.Result) -> None:
    got = spend_by_priority(report_data(tutorial_result)).set_index(["priority", "year"])[
        "money"]
    # instances/tutorial/README.md: reablement 600, telecare 225 then 190.48, talking
    # therapies 400, weight management 300, exercise on referral 200; exercise moves obesity
    # (0.1 x weight 5 = 0.5 a unit) and mental health (0.02 x 8 = 0.16), so it splits 0.5:0.16
    exercise = {"obesity": 200 * 0.5 / 0.66, "mental_health": 200 * 0.16 / 0.66}
    for year, telecare in ((2013, 225.0), (2014, 190.48)):
        assert close(got["older_people", year], 600 + telecare, rel=1e-6)
        assert close(got["mental_health", year], 400 + exercise["mental_health"], rel=1e-6)
        assert close(got["obesity", year], 300 + exercise["obesity"], rel=1e-6)
    assert close(got.groupby(level="year").sum()[2013], 1725, rel=1e-9)
    assert close(got.groupby(level="year").sum()[2014], 1690.48, rel=1e-9)


def test_spend_by_priority_splits_equally_without_outcome_and_keeps_unlinked_spend() -> None:
    alloc = pd.DataFrame({"partner": ["a", "a", "a"], "fund": ["retained"] * 3,
                          "source": ["a"] * 3, "intervention": ["x", "y", "z"],
                          "locality": [""] * 3, "year": [2013] * 3,
                          "money": [90.0, 10.0, 40.0], "activity": [0.0, 0.0, 4.0]})
    contrib = pd.DataFrame({"intervention": ["x", "x", "x", "z", "z"],
                            "priority": ["p", "q", "r", "p", "q"], "year": [2013] * 5,
                            "outcome": [0.0, 0.0, 0.0, 1.0, -3.0],
                            "weighted": [0.0, 0.0, 0.0, 2.0, -6.0]})
    data = ReportData("solve", {"years": [2013]},
                      {"allocation": alloc, "contributions": contrib})
    got = spend_by_priority(data).set_index("priority")["money"]
    # x adds nothing: 90 split three ways; y moves no priority; z's harm to q counts as zero
    assert got.to_dict() == pytest.approx({"p": 30.0 + 40.0, "q": 30.0, "r": 30.0,
                                           NO_PRIORITY: 10.0})


def test_benefits_by_hand_on_the_tutorial(tutorial_result: hwbopt.Result) -> None:
    ben = tutorial_result.benefits.set_index(["partner", "year"])
    # README: reablement avoids £1k of NHS cost an episode, 300 episodes a year; the NHS puts
    # its pool cap (288, then 276.48) into the pool, which funds council-remit services only
    for year, cap in ((2013, 288.0), (2014, 276.48)):
        nhs, council = ben.loc[("nhs", year)], ben.loc[("council", year)]
        assert close(nhs.avoided_costs, 300.0) and close(nhs.remit_funded_by_others, 0.0)
        assert close(nhs.contributed, cap) and close(nhs.benefit, 300.0)
        assert close(council.avoided_costs, 0.0)
        assert close(council.remit_funded_by_others, cap, rel=1e-7)
        assert close(council.benefit, cap, rel=1e-7)


def test_benefits_recomputed_independently_on_the_county(county: dict) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    _, tables = read_result(county["out"])
    remit = {p.id: set(p.remit) for p in inst.partners}
    rate = {(a.intervention, a.partner): a.saving_per_unit for a in inst.avoided_costs}
    activity: dict[tuple[str, int], float] = defaultdict(float)
    for r in tables["activity"].itertuples(index=False):
        activity[r.intervention, int(r.year)] += r.activity
    funded: dict[tuple[str, int], float] = defaultdict(float)
    for r in tables["allocation"].itertuples(index=False):
        for p, interventions in remit.items():
            if r.intervention in interventions and r.partner != p:
                funded[p, int(r.year)] += r.money
    paid: dict[tuple[str, int], float] = defaultdict(float)
    for r in tables["pools"].itertuples(index=False):
        paid[r.partner, int(r.year)] += r.contributed
    for r in tables["benefits"].itertuples(index=False):
        key = (r.partner, int(r.year))
        avoided = sum(v * activity[i, key[1]] for (i, p), v in rate.items() if p == r.partner)
        assert close(r.avoided_costs, avoided, rel=1e-9, abs_=1e-6), key
        assert close(r.remit_funded_by_others, funded[key], rel=1e-9, abs_=1e-6), key
        assert close(r.contributed, paid[key], rel=1e-9, abs_=1e-6), key
        assert close(r.benefit, avoided + funded[key], rel=1e-9, abs_=1e-6), key
    assert len(tables["benefits"]) == len(inst.partners) * len(inst.years)


def test_contributions_add_up_to_each_outcome(county: dict,
                                              tutorial_result: hwbopt.Result) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    _, tables = read_result(county["out"])
    gains = tables["contributions"].groupby(["priority", "year"])["outcome"].sum()
    base = {k.id: k.baseline for k in inst.priorities}
    weight = {k.id: k.weight for k in inst.priorities}
    for r in tables["outcomes"].itertuples(index=False):
        assert close(base[r.priority] + gains.get((r.priority, r.year), 0.0), r.achieved,
                     rel=1e-9, abs_=1e-6)
    for r in tables["contributions"].itertuples(index=False):
        assert close(r.weighted, weight[r.priority] * r.outcome, rel=1e-12, abs_=1e-9)
    # by hand (tutorial README): telecare adds 0.1 older person a user, 450 then 380.96 users
    c = tutorial_result.contributions.set_index(["intervention", "priority", "year"])["outcome"]
    assert close(c["telecare", "older_people", 2013], 45.0, rel=1e-7)
    assert close(c["telecare", "older_people", 2014], 38.096, rel=1e-7)
    assert close(c["exercise_referral", "mental_health", 2013], 20.0, rel=1e-7)


# ---------------------------------------------------------------------------------------------
# Reading results back, other results, errors
# ---------------------------------------------------------------------------------------------


def test_result_folder_text_stays_text(tmp_path: Path) -> None:
    from randinst import random_instance

    data = random_instance(3, n_localities=2)
    old = [loc["id"] for loc in data["localities"]]
    new = dict(zip(old, ["NA", "True"], strict=True))
    for loc in data["localities"]:
        loc["id"] = new[loc["id"]]
    for row in data["activity"]:
        row["locality"] = new[row["locality"]]
    inst = hwbopt.instance_from_dict(data)
    result = hwbopt.solve(inst)
    assert result.status == "optimal"
    write_result(result, tmp_path / "out")
    _, tables = read_result(tmp_path / "out")
    assert set(tables["activity"].locality) == {"NA", "True"}
    assert set(tables["allocation"].locality) <= {"NA", "True"}
    assert tables["activity"].year.dtype.kind == "i"
    assert tables["outcomes"].met.dtype == bool
    # a report from the folder and from memory are the same page
    write_report(tmp_path / "out", tmp_path / "a")
    write_report(result, tmp_path / "b")
    assert (tmp_path / "a" / "report.html").read_bytes() == \
        (tmp_path / "b" / "report.html").read_bytes()


def test_report_of_an_infeasible_plan_says_so(tmp_path: Path) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    targets = tuple(t.model_copy(update={"target": 10_000.0})
                    if t.priority == "mental_health" else t for t in inst.targets)
    result = hwbopt.solve(inst.model_copy(update={"targets": targets}))
    assert result.status == "infeasible"
    html_path, xlsx_path = write_report(result, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert ">infeasible</span>" in page and html.escape(result.message) in page
    values = {r[0].value: r[1].value for r in load_workbook(xlsx_path)["summary"].iter_rows()
              if r[0].value}
    assert values["status"] == "infeasible"


def test_report_command_refuses_what_is_not_a_result(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for target, words in ((tmp_path / "none", "no such folder"),
                          (tmp_path / "empty", "no summary.json")):
        proc = run_cli("report", target)
        assert proc.returncode == 2, shown(proc)
        assert words in proc.stderr and "Traceback" not in proc.stderr
    shutil.copytree(hwbopt.shipped_instance("tutorial"), tmp_path / "inst")
    proc = run_cli("solve", tmp_path / "inst", "--report", tmp_path / "file")
    assert proc.returncode == 2 and "not a folder" in proc.stderr, shown(proc)


def test_a_new_kind_of_result_adds_its_section_with_one_function(tmp_path: Path) -> None:
    @section("demo", order=5)
    def demo(data: ReportData) -> Section:
        t = data.tables["options"]
        return Section("demo", "Options side by side", "", [
            Chart("demo_chart", "Outcome by option", list(t.option),
                  [Series("outcome", list(t.outcome))], y_title="points"),
            Table("demo_table", "Options", t)])

    try:
        folder = tmp_path / "demo"
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps(
            {"kind": "demo", "status": "optimal", "instance": "Demo", "years": [2013]}))
        (folder / "options.csv").write_text("option,outcome\npooled,10.5\nsiloed,7\n")
        html_path, xlsx_path = write_report(folder, folder)
        page = html_path.read_text(encoding="utf-8")
        assert ">Options side by side</h2>" in page and "pooled" in page
        wb = load_workbook(xlsx_path)
        assert "options" in wb.sheetnames and len(wb["charts"]._charts) == 1
        assert wb["options"]["B3"].value == 7
    finally:
        SECTIONS["demo"].clear()
        del SECTIONS["demo"]
    with pytest.raises(UsageError, match="no report for results of kind 'demo'"):
        write_report(folder, tmp_path / "again")


def test_terminal_tables_print_names_that_look_like_markup_as_written() -> None:
    from rich.console import Console

    from hwbopt.report.text import print_result

    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    odd = "[bold]Kingsbridge[/] [east]"
    inst = inst.model_copy(update={
        "name": "County [draft]",
        "partners": tuple(p.model_copy(update={"name": f"{p.label} [/x]"})
                          for p in inst.partners),
        "localities": tuple(loc.model_copy(update={"name": odd}) if loc.id == "kingsbridge"
                            else loc for loc in inst.localities),
    })
    result = hwbopt.solve(inst)
    console = Console(record=True, width=400, highlight=False)
    print_result(result, inst, console)
    text = console.export_text()
    assert "County [draft]" in text
    assert sum(f"{p.label}" in text for p in inst.partners) == len(inst.partners)
    assert odd in text and "kingsbridge " not in text  # the site table names localities


def test_explanation_prints_names_that_look_like_markup_as_written() -> None:
    from rich.console import Console

    from hwbopt.report.explain import print_explanation

    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    inst = inst.model_copy(update={
        "name": "Riverside [draft] [/x]",
        "partners": tuple(p.model_copy(update={"name": f"[/] {p.label}"})
                          for p in inst.partners)})
    console = Console(record=True, width=400, highlight=False)
    print_explanation(hwbopt.explain(inst), console=console)
    text = console.export_text()
    assert "Riverside [draft] [/x]" in text and "[/] " in text
