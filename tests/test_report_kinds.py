"""Reports of comparisons, stress batches and explanations, made as a user types them.

Each kind is run once through the command line with ``--out OUT --report REP`` and then
``hwbopt report OUT --out REP2`` (``kind_runs``): the tutorial for every kind (its infeasible
variant too for explain) and the county for compare. The two reports of a kind must be the
same; each workbook must hold the expected sheets, with values equal to the result's own files
and, where the report derives them, to an independent recomputation (benefits summed from
each run's folder, the objective's histogram and percentiles from the Parquet results); and a
label holding ``<script>`` must reach every kind's page as text. The browser checks of these
pages are in ``test_report_browser.py``.
"""

from __future__ import annotations

import html
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import ODD_KIND_LABELS, ODD_LABELS, copy_instance, run_cli, run_cli_here
from openpyxl import load_workbook
from test_report import as_shown

import hwbopt
from hwbopt.io.results import read_result, write_explanation
from hwbopt.provenance import instance_sha256
from hwbopt.report import report_data
from hwbopt.report.columns import header
from hwbopt.report.sections import build_sections
from hwbopt.report.spec import Chart

TUTORIAL_OBJECTIVE = 10066.44  # instances/tutorial/expected.json, derived by hand in its README


def shown(proc: Any) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.fixture(scope="module")
def kind_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("kinds")
    tutorial = hwbopt.shipped_instance("tutorial")
    county = hwbopt.shipped_instance("county")
    unreachable = copy_instance("tutorial", work / "unreachable")
    targets = unreachable / "targets.csv"
    targets.write_text(targets.read_text(encoding="utf-8").replace(
        "mental_health,2013,150", "mental_health,2013,500"), encoding="utf-8")
    jobs = {
        # the county first: the longest run starts at once
        "county_compare": ("compare", county, "--option", "pooled", "--option", "siloed"),
        "compare": ("compare", tutorial, "--pool-share", "0:1:0.5"),
        "stress": ("stress", tutorial, "--set", "cuts_and_pressures", "--scenarios", "96",
                   "--workers", "1", "--quiet"),
        "explain": ("explain", tutorial),
        "infeasible": ("explain", unreachable),
    }

    def run(key: str) -> dict[str, Any]:
        out, rep, rep2 = work / key, work / f"{key}_report", work / f"{key}_report2"
        first = run_cli(*jobs[key], "--json", "--out", out, "--report", rep)
        # `hwbopt report` again on one folder of each kind
        again = run_cli("report", out, "--out", rep2) if key in AGAIN else None
        return {"run": first, "report": again, "out": out, "rep": rep, "rep2": rep2}

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(run, k) for k in jobs}
        runs = {k: f.result() for k, f in futures.items()}
    runs["unreachable"] = {"folder": unreachable}
    return runs


EXIT = {"county_compare": 0, "compare": 0, "stress": 0, "explain": 0, "infeasible": 3}
AGAIN = ("compare", "stress", "explain")


def ran(kind_runs: dict[str, Any], key: str) -> dict[str, Any]:
    r = kind_runs[key]
    assert r["run"].returncode == EXIT[key], shown(r["run"])
    assert r["report"] is None or r["report"].returncode == 0, shown(r["report"])
    for proc in (r["run"], r["report"]):
        assert proc is None or "Traceback" not in proc.stderr
    return r


def charts_of(folder: Path) -> list[Chart]:
    return [b for s in build_sections(report_data(folder)) for b in s.blocks
            if isinstance(b, Chart)]


def sheet_rows(ws: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def summary_figures(wb: Any) -> dict[str, Any]:
    return {r[0].value: r[1].value for r in wb["summary"].iter_rows() if r[0].value}


def assert_sheet_is_table(ws: Any, name: str, frame: pd.DataFrame, money: str = "£k",
                          summary: dict[str, Any] | None = None,
                          options: pd.DataFrame | None = None) -> None:
    """The sheet holds the table: headers with units, numbers as numbers, text as text; with
    ``summary``, ids by name and years as financial years, the ids kept in '(id)' columns."""
    heads = [c.value for c in ws[1]]
    assert heads[:len(frame.columns)] == [header(name, c, money) for c in frame.columns], name
    assert ws.max_row == len(frame) + 1, name
    if summary is not None:
        own = list(frame.columns)
        frame = as_shown(frame, summary, options)
        extra = [c for c in frame.columns if c not in own]
        assert [h for h in heads if h and h.endswith(" (id)")] == extra, name
        sheet = {h: j for j, h in enumerate(heads, start=1)}
        for col in extra:
            for r, value in enumerate(frame[col], start=2):
                assert ws.cell(r, sheet[col]).value == value, (name, col, r)
        frame = frame[own]
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            got = ws.cell(r, j).value
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert got is None, (name, r, j, got)
            elif isinstance(value, bool | np.bool_):
                assert got is bool(value), (name, r, j)
            elif isinstance(value, int | float | np.integer | np.floating):
                assert isinstance(got, int | float) and not isinstance(got, bool), (name, r, j)
                assert math.isclose(got, float(value), rel_tol=1e-15, abs_tol=0), (name, r, j)
            else:
                assert got == (value or None), (name, r, j, got, value)


# ---------------------------------------------------------------------------------------------
# Every kind: the two ways to a report agree, and the summary names its kind and provenance
# ---------------------------------------------------------------------------------------------


KINDS = {"county_compare": "compare", "compare": "compare", "stress": "stress",
         "explain": "explain", "infeasible": "explain"}


@pytest.mark.parametrize("key", AGAIN)
def test_report_command_gives_the_same_report(kind_runs: dict[str, Any], key: str) -> None:
    r = ran(kind_runs, key)
    assert "report.html" in r["report"].stdout
    assert (r["rep"] / "report.html").read_bytes() == (r["rep2"] / "report.html").read_bytes()
    a, b = load_workbook(r["rep"] / "report.xlsx"), load_workbook(r["rep2"] / "report.xlsx")
    assert a.sheetnames == b.sheetnames
    for ws in a.worksheets:
        assert sheet_rows(ws) == sheet_rows(b[ws.title]), ws.title
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize("key", list(KINDS))
def test_summary_names_its_kind_provenance_and_labels(kind_runs: dict[str, Any],
                                                      key: str) -> None:
    r = ran(kind_runs, key)
    summary = json.loads((r["out"] / "summary.json").read_text(encoding="utf-8"))
    printed = json.loads(r["run"].stdout)  # --json prints the same object
    assert summary["kind"] == printed["kind"] == KINDS[key]
    assert summary["provenance"] == printed["provenance"]
    source = {"county_compare": hwbopt.shipped_instance("county"),
              "infeasible": kind_runs["unreachable"]["folder"]}.get(
        key, hwbopt.shipped_instance("tutorial"))
    prov = summary["provenance"]
    assert (prov["instance_sha256"], prov["instance_files"]) == \
        tuple(instance_sha256(source))
    assert prov["hwbopt_version"] == hwbopt.__version__ and prov["solver"] == "HiGHS"
    assert prov["seed"] == (7 if key == "stress" else None)
    assert summary["labels"]["money"] == "£k"
    assert summary["labels"]["partners"]
    page = (r["rep"] / "report.html").read_text(encoding="utf-8")
    assert prov["instance_sha256"] in page and f"{KINDS[key]} result" in page


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------


def run_benefits(out: Path, scenario: str, option: str) -> pd.DataFrame:
    """A run's benefits over the horizon, summed from its own result folder."""
    _, tables = read_result(out / "runs" / scenario / option)
    return tables["benefits"].groupby("partner")[
        ["contributed", "avoided_costs", "remit_funded_by_others", "benefit"]].sum()


@pytest.mark.parametrize("key", ["compare", "county_compare"])
def test_compare_workbook_holds_the_tables_and_charts(kind_runs: dict[str, Any],
                                                      key: str) -> None:
    r = ran(kind_runs, key)
    summary, tables = read_result(r["out"])
    wb = load_workbook(r["rep"] / "report.xlsx")
    assert wb.sheetnames == ["summary", "charts", "options", "outcomes", "partners",
                             "benefits", "policies", "pooling_curve"]
    for name in wb.sheetnames[2:]:
        assert_sheet_is_table(wb[name], name, tables[name], summary=summary,
                              options=tables["options"])
    assert "total_spend (£k)" in [c.value for c in wb["options"][1]]
    heads = [c.value for c in wb["outcomes"][1]]
    assert heads[len(tables["outcomes"].columns)] == "unit"
    figures = summary_figures(wb)
    value = summary["value_of_pooling"]
    opts = tables["options"].set_index("option")
    assert close(value, opts.objective["pooled"] - opts.objective["siloed"])
    assert close(figures["value of pooling, base (as the instance says)"], value, rel=1e-15)
    assert figures["instance file hash (SHA-256)"] == summary["provenance"]["instance_sha256"]
    # benefits and contributions: the sums of each run's own result folder
    ben = tables["benefits"]
    for option in ("pooled", "siloed"):
        mine = ben[ben.option == option].set_index("partner")
        own = run_benefits(r["out"], "base", option)
        for col in own.columns:
            for p in own.index:
                assert close(mine.loc[p, col], own.loc[p, col]), (option, p, col)
    charts = wb["charts"]._charts
    assert len(charts) == len(charts_of(r["out"]))
    titles = [c.title for c in charts_of(r["out"])]
    assert "Objective of each option" in titles and "Targets met by each option" in titles
    assert any(t.startswith("Pool contributions against benefits by partner") for t in titles)
    assert any(t.startswith("Outcome by priority") for t in titles)
    if key == "compare":
        assert close(opts.objective["pooled"], TUTORIAL_OBJECTIVE)
        assert "Pooling curve: every contributor's pool share fixed" in titles
        assert "Price of each policy (objective lost against the same option without it)" \
            in titles
        assert len(tables["pooling_curve"]) == 3 and len(tables["policies"]) == 2


def test_compare_chart_data_matches_the_options(kind_runs: dict[str, Any]) -> None:
    r = ran(kind_runs, "compare")
    ws = load_workbook(r["rep"] / "report.xlsx")["charts"]
    _, tables = read_result(r["out"])
    opts = tables["options"]
    chart = charts_of(r["out"])[0]
    assert ws["A1"].value == chart.title == "Objective of each option"
    # the block's categories (one per option; a sweep of pool shares only in its curve)
    rows = range(3, 3 + len(chart.categories))
    assert [ws.cell(row, 1).value for row in rows] == chart.categories
    assert len(chart.categories) == 5
    values = {ws.cell(row, 1).value: ws.cell(row, 2).value for row in rows}
    # each option against the pooled plan: the difference is the point, not bars from 0
    pooled = float(opts.set_index("option").objective["pooled"])
    for row in opts.itertuples(index=False):
        if row.option in ("pooled", "siloed"):
            assert close(values[row.label], row.objective - pooled, rel=1e-9)
    assert values[opts.set_index("option").label["pooled"]] == 0
    siloed = chart.series[0].labels[chart.categories.index(
        opts.set_index("option").label["siloed"])]
    gap = pooled - float(opts.set_index("option").objective["siloed"])
    assert siloed == f"−{hwbopt.words.num(gap, 4)} points ({-gap / pooled:.1%})".replace(
        "(-", "(−")
    # the status quo breaks the rules: its evaluated objective is drawn, marked and labelled
    summary = json.loads((r["out"] / "summary.json").read_text(encoding="utf-8"))
    quo = next(o for o in summary["options"] if o["name"] == "status_quo")
    assert quo["objective"] is None and quo["evaluation"]["rules_broken"]
    label = opts.set_index("option").label["status_quo"]
    assert close(values[label], quo["evaluation"]["objective"] - pooled)
    assert chart.series[0].marked[chart.categories.index(label)]
    page = (r["rep"] / "report.html").read_text(encoding="utf-8")
    assert "breaks the rules" in page
    # the value of pooling by priority, from the outcomes of the two runs' own folders
    (chart,) = [c for c in charts_of(r["out"]) if c.key == "pooling_by_priority"]
    pooled = read_result(r["out"] / "runs" / "base" / "pooled")[1]["outcomes"]
    siloed = read_result(r["out"] / "runs" / "base" / "siloed")[1]["outcomes"]
    a, b = (t.groupby("priority").achieved.sum() for t in (pooled, siloed))
    names = summary["labels"]["priorities"]
    for name, value, label in zip(chart.categories, chart.series[0].values,
                                  chart.series[0].labels, strict=True):
        k = next(k for k, v in names.items() if v["name"] == name)
        assert close(value, 100 * (a[k] - b[k]) / b[k]), k
        # the gain in the measure's own words, which say more is better
        measure = names[k]["measure"]
        assert label.startswith("+") and (measure in label or f"({measure})" in label), label
    # instances/tutorial/README.md derives the siloed plan by hand: older people 150 a year,
    # mental health 213.7 and 211.4, obesity 248.5 and 237
    for k, by_hand in (("older_people", 300.0), ("mental_health", 425.1), ("obesity", 485.5)):
        assert close(b[k], by_hand, rel=1e-6), k


# ---------------------------------------------------------------------------------------------
# stress
# ---------------------------------------------------------------------------------------------


def figures_of_solved(summary: dict[str, Any], changed: pd.DataFrame) -> bool:
    """The summary counts plan_infeasible scenarios as solved and certified."""
    return (summary["plan_infeasible"] == len(changed)
            and summary["certified"] == summary["solved"])


def test_stress_workbook_recomputed_from_the_parquet_results(kind_runs: dict[str, Any]) -> None:
    r = ran(kind_runs, "stress")
    summary = json.loads((r["out"] / "summary.json").read_text(encoding="utf-8"))
    parts = sorted((r["out"] / "scenarios").glob("part-*.parquet"))
    results = pd.concat([pd.read_parquet(p) for p in parts])
    solved = results[results.status.isin(["optimal", "plan_infeasible"])]
    objective = solved.objective.to_numpy(dtype=float)
    assert len(results) == summary["scenarios"] == 96
    wb = load_workbook(r["rep"] / "report.xlsx")
    changed = results[results.status == "plan_infeasible"]
    assert wb.sheetnames == ["summary", "charts", "objective_distribution", "target_probability",
                             "target_probability_by_year", "cut_response", "cut_first",
                             "binding", "input_influence", "input_response", "plan_changes"]
    assert (len(sheet_rows(wb["plan_changes"])) > 1) == bool(len(changed))
    if len(changed):
        counts = pd.Series([j for cols in solved.changed for j in cols]).value_counts()
        rows = sheet_rows(wb["plan_changes"])
        assert rows[0][:2] == ["decision", "text"]
        top = summary["plan_changes"][0]
        assert rows[1][0] == top["decision"] and rows[1][1] == top["text"]
        assert close(rows[1][2], counts.iloc[0] / len(solved))
        assert figures_of_solved(summary, changed)
    hist = sheet_rows(wb["objective_distribution"])
    assert hist[0] == ["bin_from", "bin_to", "scenarios", "share (share of scenarios)",
                       "plan_changed", "kind"]
    bins = [row for row in hist[1:] if row[5] == "objective"]
    counts = [row[2] for row in bins]
    assert sum(counts) == len(objective) == summary["solved"]
    # the scenarios without a plan stand beside the bins: none drops out of the picture
    others = {row[5]: row[2] for row in hist[1:] if row[5] != "objective"}
    assert others == {k: v for k, v in (("infeasible", summary["infeasible"]),
                                        ("failed", summary["failed"])) if v}
    assert sum(counts) + sum(others.values()) == len(results)
    assert close(sum(row[3] for row in hist[1:]), 1.0)
    moved, _ = np.histogram(changed.objective.to_numpy(dtype=float),
                            bins=np.array([row[0] for row in bins] + [bins[-1][1]]))
    assert [row[4] for row in bins] == moved.tolist()
    hist = [hist[0], *bins]
    edges = [row[0] for row in hist[1:]] + [hist[-1][1]]
    expect, _ = np.histogram(objective, bins=np.array(edges))
    assert counts == expect.tolist()
    assert close(edges[0], objective.min()) and close(edges[-1], objective.max())
    figures = summary_figures(wb)
    p5, p50, p95 = np.percentile(objective, [5, 50, 95])
    assert close(figures["objective, 5th percentile"], p5)
    assert close(figures["objective, median"], p50)
    assert close(figures["objective, 95th percentile"], p95)
    assert figures["seed of the draws"] == 7 and figures["solved"] == summary["solved"]
    # probability of meeting every year's target, from the scenarios' own flags
    rows = sheet_rows(wb["target_probability"])
    assert rows[0] == ["priority", "probability (share of scenarios)", "priority (id)"]
    names = summary["labels"]["priorities"]
    assert [r[0] for r in rows[1:]] == [names[r[2]]["name"] for r in rows[1:]]
    probs = {row[2]: row[1] for row in rows[1:]}
    for k, p in probs.items():
        met = results[[c for c in results.columns if c.startswith(f"met.{k}.")]]
        assert close(p, float(met.fillna(False).astype(bool).all(axis=1).mean())), k
    by_year = sheet_rows(wb["target_probability_by_year"])
    assert len(by_year) - 1 == 2 * len(probs)
    binding = sheet_rows(wb["binding"])
    assert binding[0] == ["rule", "text", "share"]
    assert binding[1][1] == summary["binding"][0]["text"] and "£k" in binding[1][1]
    cut = sheet_rows(wb["cut_response"])
    assert cut[0][-2:] == ["unit", "priority (id)"] and cut[1][-2] == "people"
    charts = wb["charts"]._charts
    titles = [c.title for c in charts_of(r["out"])]
    drawn = [c for c in results.columns if c.startswith("input.")
             and results[c].nunique() > 1]
    assert len(charts) == len(titles) == 5 + min(4, len(drawn))
    assert titles[:2] == ["Distribution of the objective over the solved scenarios",
                          "Probability of meeting each target"]
    assert all(t.startswith("Response of each target to ") for t in titles[2:-3])
    assert titles[-3:] == [
        "Response of each target to cut depth",
        "What is cut first: activity against the plan, mildest and deepest cuts",
        "The rules that bind most often"]


def test_stress_page_marks_the_plans_bin(kind_runs: dict[str, Any]) -> None:
    r = ran(kind_runs, "stress")
    chart = charts_of(r["out"])[0]
    series = chart.series[0]
    assert sum(series.marked) == 1 and series.labels[series.marked.index(True)] == "the plan"
    s = json.loads((r["out"] / "summary.json").read_text(encoding="utf-8"))
    page = (r["rep"] / "report.html").read_text(encoding="utf-8")
    assert f"96 of 96 scenarios: {s['solved']} solved, {s['infeasible']} infeasible" in page


# ---------------------------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------------------------


ONE = {"£k": "£k", "people": "person", "FTE": "FTE"}  # one unit of each limit, in words


def test_explain_out_and_workbook(kind_runs: dict[str, Any]) -> None:
    r = ran(kind_runs, "explain")
    printed = json.loads(r["run"].stdout)
    assert sorted(p.name for p in r["out"].iterdir()) == [
        "binding.csv", "marginal_values.csv", "summary.json", "unfunded.csv",
        "unfunded_effects.csv"]
    summary, tables = read_result(r["out"])
    mv = tables["marginal_values"]
    assert len(mv) == len(printed["marginal_values"]) > 0
    for row, m in zip(mv.itertuples(index=False), printed["marginal_values"], strict=True):
        assert (row.constraint, row.text, row.unit) == (m["constraint"], m["text"], m["unit"])
        assert row.value == m["value"] and row.holds_for_increase is m["holds_for_increase"]
    # instances/tutorial/README.md: a pound more for the council is worth 3 points
    council = mv.set_index("constraint").loc["budget[council,2013]"]
    assert close(council.value, 3.0) and council.what.startswith("One more £k")
    (u,) = printed["unfunded"]
    assert tables["unfunded"].intervention.tolist() == [u["intervention"]] == ["befriending"]
    assert close(tables["unfunded"].cheaper_by_percent[0],
                 u["required_improvement"]["cheaper_by_percent"])
    wb = load_workbook(r["rep"] / "report.xlsx")
    assert wb.sheetnames == ["summary", "charts", "marginal_values", "binding", "unfunded",
                             "unfunded_effects"]
    for name in wb.sheetnames[2:]:
        assert_sheet_is_table(wb[name], name, tables[name], summary=summary)
    # one chart of marginal values per unit, money first: £k values are never slivers
    # beside a room's or an FTE's
    charts = charts_of(r["out"])
    units = list(dict.fromkeys(mv.unit))
    money_first = ["£k", *sorted((u for u in units if u != "£k"),
                                 key=lambda u: (-int((mv.unit == u).sum()), u))]
    assert [c.title for c in charts] == [
        *(f"What one more {ONE.get(u, u.rstrip('s'))} of each limit is worth"
          for u in money_first if u in units),
        "What would bring each unfunded intervention into the plan"]
    for chart, u in zip(charts, [u for u in money_first if u in units], strict=False):
        mine = mv[mv.unit == u]
        assert len(chart.categories) == min(20, len(mine))
        assert {round(v, 9) for v in chart.series[0].values} <= \
            {round(float(v), 9) for v in mine.value}
    assert len(wb["charts"]._charts) == len(charts)
    figures = summary_figures(wb)
    assert close(figures["objective (points of weighted outcome)"], TUTORIAL_OBJECTIVE)
    assert figures["rules at their limit"] == len(printed["binding"])
    page = (r["rep"] / "report.html").read_text(encoding="utf-8")
    assert ">Rules at their limit</h2>" in page
    assert html.escape(printed["binding"][0]["text"]) in page


def test_explain_report_of_an_infeasible_instance(kind_runs: dict[str, Any]) -> None:
    r = ran(kind_runs, "infeasible")
    _, tables = read_result(r["out"])
    (relax,) = tables["relaxations"].itertuples(index=False)
    # test_explain_cli derives it: the mental-health services at their need reach 260 of 500
    assert relax.rule == "target[mental_health,2013]" and close(relax.amount, 240.0)
    assert tables["conflict"].empty and list(tables["conflict"].columns) == [
        "rule", "text", "kind"]
    wb = load_workbook(r["rep"] / "report.xlsx")
    assert {"relaxations", "conflict"} <= set(wb.sheetnames)
    assert [c.title for c in charts_of(r["out"])] == [
        "The smallest relaxation that makes a plan possible"]
    page = (r["rep"] / "report.html").read_text(encoding="utf-8")
    assert ">Why there is no plan</h2>" in page and ">infeasible</span>" in page
    assert "Mental health target, 2013/14 must fall by 240 people" in page


def test_explain_out_removes_a_stale_diagnosis(tmp_path: Path, kind_runs: dict[str, Any]) -> None:
    infeasible = hwbopt.explain(hwbopt.load(kind_runs["unreachable"]["folder"]))
    write_explanation(infeasible, tmp_path)
    assert (tmp_path / "relaxations.csv").is_file() and (tmp_path / "conflict.csv").is_file()
    write_explanation(hwbopt.explain(hwbopt.load(hwbopt.shipped_instance("tutorial"))),
                      tmp_path)
    assert not (tmp_path / "relaxations.csv").exists()
    assert not (tmp_path / "conflict.csv").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "optimal"


# ---------------------------------------------------------------------------------------------
# user text: escaped in every kind's page, never a formula in its workbook
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["compare", "stress", "explain"])
def test_labels_are_text_in_every_kind(odd_kind_reports: dict[str, Path], kind: str) -> None:
    folder = odd_kind_reports[kind]
    page = (folder / "report.html").read_text(encoding="utf-8")
    shown_labels = {"compare": ("partner_nhs", "priority_older", "option"),
                    "stress": ("partner_nhs", "priority_older", "stress"),
                    "explain": ("partner_nhs",)}[kind]
    for key in shown_labels:
        label = {**ODD_LABELS, **ODD_KIND_LABELS}[key]
        assert label not in page, key  # not as markup, not even inside plotly's JSON
        assert html.escape(label) in page, key
    assert html.escape(ODD_LABELS["name"]) in page and "<b>bold" not in page
    assert page.count("<script") == 1 + page.count('class="plotly-graph-div"')
    assert not re.search(r"<(?:script|link|img|iframe)[^>]*(?:src|href)\s*=", page, re.I)
    wb = load_workbook(folder / "report.xlsx")
    formula_like = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@")):
                    assert c.data_type == "s" and c.quotePrefix, (ws.title, c.coordinate)
                    formula_like.add(c.value)
    assert any(v.startswith(("=", "@", "-", "+")) for v in formula_like), kind


def test_report_and_out_folders_that_are_files_are_refused_first(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("not a folder", encoding="utf-8")
    tutorial = hwbopt.shipped_instance("tutorial")
    jobs = [("compare", tutorial, "--report", taken),
            ("stress", tutorial, "--report", taken, "--out", tmp_path / "run"),
            ("explain", tutorial, "--report", taken),
            ("explain", tutorial, "--out", taken)]
    # the first as a user types it, the rest in this process (no interpreter's start each)
    procs = [(run_cli if n == 0 else run_cli_here)(*args) for n, args in enumerate(jobs)]
    for args, proc in zip(jobs, procs, strict=True):
        assert proc.returncode == 2, (args, shown(proc))
        assert "is not a folder" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()  # refused before any work
    assert taken.read_text(encoding="utf-8") == "not a folder"
