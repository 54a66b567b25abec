"""The report of a two-stage plan (results of kind ``plan``): ``hwbopt plan --report`` and
``hwbopt report`` on a plan folder.

The tutorial's plan over six futures of ``cuts_and_pressures`` is made once for the module
(``tutorial``) and reported twice: from the PlanResult in memory and from the folder
``write_plan`` wrote; the two pages must be the same. Each section's numbers are checked
against the PlanResult itself, the first year's money recomputed from its first-stage
decisions; the hand-derived case ``tests/plan_cases/site_cut`` (VSS 4, EVPI 8, the hub closed
in 2014/15 where the plan for the average future keeps it, needed in 60% of the futures; see
tests/test_plan.py) gives the differences and the two sentences, and the tutorial with a
mental-health target no plan can reach gives a rule that gives in every future. The chart of
both plans' values keeps its scale when one value carries a huge penalty.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import hwbopt
from hwbopt.io.results import read_result, write_plan
from hwbopt.plan import DEFAULT_RISK, PlanResult, plan
from hwbopt.report import report_data, write_report
from hwbopt.report.html import section_html
from hwbopt.report.plan_sections import distribution_bins
from hwbopt.report.sections import build_sections
from hwbopt.report.spec import Chart, Section, Table
from hwbopt.schema import year_label
from hwbopt.status import Status

SITE_CUT = Path(__file__).resolve().parent / "plan_cases" / "site_cut"
PLAN_SECTIONS = ["overview", "commitments", "differences", "value", "distribution", "targets",
                 "elastic", "out_of_sample"]


def reported(res: PlanResult, work: Path, memory: bool = False) -> dict[str, Any]:
    """``res`` written as ``hwbopt plan --out`` writes it and reported from the folder (and,
    with ``memory``, from the PlanResult itself)."""
    out, mem, folder = work / "out", work / "report_memory", work / "report_folder"
    write_plan(res, out)
    if memory:
        write_report(res, mem)
    write_report(out, folder)
    return {"res": res, "out": out, "mem": mem, "folder": folder,
            "summary": res.summary(), "sections": build_sections(report_data(out)),
            "page": (folder / "report.html").read_text(encoding="utf-8")}


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    res = plan(inst, stress_set="cuts_and_pressures", scenarios=6)
    assert res.status == "optimal", res.message
    return {**reported(res, tmp_path_factory.mktemp("tutorial_plan"), memory=True),
            "inst": inst}


@pytest.fixture(scope="module")
def site_cut(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    res = plan(hwbopt.load(SITE_CUT), stress_set="cuts", mip_gap=0.0)
    assert res.status == "optimal", res.message
    return reported(res, tmp_path_factory.mktemp("site_cut_plan"))


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tutorial with a hard mental-health target of 100,000 in 2013/14: no plan reaches
    it, so the hedged plan lets it give in every future."""
    work = tmp_path_factory.mktemp("unreachable_plan")
    folder = work / "tutorial"
    shutil.copytree(hwbopt.shipped_instance("tutorial"), folder)
    targets = folder / "targets.csv"
    text = targets.read_text(encoding="utf-8")
    assert "mental_health,2013,150" in text
    targets.write_text(text.replace("mental_health,2013,150", "mental_health,2013,100000"),
                       encoding="utf-8")
    res = plan(hwbopt.load(folder), stress_set="cuts_and_pressures", scenarios=3)
    assert res.status == "optimal" and res.elastic, res.message
    return reported(res, work)


def by_key(sections: list[Section]) -> dict[str, Section]:
    return {s.key: s for s in sections}


def table(sec: Section, key: str) -> pd.DataFrame:
    (found,) = [b for b in sec.blocks if isinstance(b, Table) and b.key == key]
    return found.frame


def chart(sec: Section, key: str) -> Chart:
    (found,) = [b for b in sec.blocks if isinstance(b, Chart) and b.key == key]
    return found


def text_of(page: str) -> str:
    """The page's visible text, roughly: tags dropped, entities kept as written."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# ---------------------------------------------------------------------------------------------
# one report, whichever way it is made
# ---------------------------------------------------------------------------------------------


def test_memory_and_folder_give_the_same_report(tutorial: dict[str, Any]) -> None:
    summary, tables = read_result(tutorial["out"])
    assert summary["kind"] == "plan"
    assert {"plan_scenarios", "plan_first_stage", "plan_differences", "plan_elastic",
            "allocation", "outcomes"} <= set(tables)
    mem = build_sections(report_data(tutorial["res"]))
    folder = tutorial["sections"]
    assert [s.key for s in mem] == [s.key for s in folder]
    for a, b in zip(mem, folder, strict=True):
        assert section_html(a) == section_html(b), a.key
    assert (tutorial["mem"] / "report.html").read_bytes() == \
        (tutorial["folder"] / "report.html").read_bytes()


def test_every_section_a_board_needs_is_there(tutorial: dict[str, Any],
                                              unreachable: dict[str, Any]) -> None:
    for run in (tutorial, unreachable):
        keys = [s.key for s in run["sections"]]
        assert keys[:len(PLAN_SECTIONS)] == PLAN_SECTIONS, keys
        assert keys[-1] == "every_commitment"
        page = run["page"]
        for key in keys:
            assert f'<section id="{key}">' in page
        assert "plan result, money in £k" in page
        assert "<dt>result kind</dt><dd>plan</dd>" in page
    # the tutorial's own tables hold a plan: the solve report's outcome and money sections
    assert {"instance_outcomes", "instance_allocation"} <= \
        {s.key for s in tutorial["sections"]}


def test_report_command_on_a_plan_folder(tutorial: dict[str, Any], tmp_path: Path) -> None:
    from hwbopt.cli import cli

    got = CliRunner().invoke(cli, ["report", str(tutorial["out"]), "--out", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert "report.html" in got.output
    assert (tmp_path / "report.html").read_bytes() == \
        (tutorial["folder"] / "report.html").read_bytes()


# ---------------------------------------------------------------------------------------------
# the sections' numbers
# ---------------------------------------------------------------------------------------------


def test_overview_and_headline_carry_the_run(tutorial: dict[str, Any]) -> None:
    s = tutorial["summary"]
    sec = by_key(tutorial["sections"])["overview"]
    figures = dict(table(sec, "key_figures").itertuples(index=False))
    assert figures["futures (scenarios)"] == "6"
    assert figures["decisions committed now"] == str(len(s["first_stage"]))
    assert figures["VSS: value of the stochastic solution (points of weighted outcome)"] == \
        f"{s['vss']:,.2f}"
    assert figures["EVPI: expected value of perfect information (points of weighted outcome)"] \
        == f"{s['evpi']:,.2f}"
    assert figures["stress set"] == s["labels"]["stress"]["cuts_and_pressures"]
    assert "optimal: a hedged plan over 6 futures of the stress set" in tutorial["page"]


def test_commitments_are_grouped_and_counted(tutorial: dict[str, Any]) -> None:
    res, inst = tutorial["res"], tutorial["inst"]
    sec = by_key(tutorial["sections"])["commitments"]
    assert f"commits {len(res.first_stage)} decisions now" in sec.intro
    glance = table(sec, "plan_commitments").set_index("what")
    names = {r["decision"].split("[")[0] for r in res.first_stage}
    counted = defaultdict(int)
    for n in (r["decision"].split("[")[0] for r in res.first_stage):
        counted[n] += 1
    assert int(glance.loc["Buildings", "decisions"]) == counted["open"]
    assert int(glance.loc["Posts", "decisions"]) == counted["recruit"] + counted["release"]
    money = sum(counted[n] for n in ("contribution", "spend_retained", "spend_fenced",
                                     "spend_pooled", "qipp_credit"))
    first = min(int(r["decision"].rstrip("]").split(",")[-1]) for r in res.first_stage
                if r["decision"].startswith("activity["))
    assert int(glance.loc[f"First year's money ({year_label(first)})", "decisions"]) == money
    assert int(glance.loc["in all", "decisions"]) == len(res.first_stage)
    assert "activity" in names
    # sites: each that closes, by name, from its first year closed
    closed: dict[str, int] = {}
    for r in res.first_stage:
        if r["decision"].startswith("open[") and r["value"] < 0.5:
            site, year = r["decision"][5:-1].split(",")
            closed[site] = min(int(year), closed.get(site, int(year)))
    site_names = {s.id: s.name for s in inst.sites}
    words = str(glance.loc["Buildings", "committed now"])
    for site, year in closed.items():
        assert f"close {site_names[site]} from {year_label(year)}" in words
    if closed:
        assert list(table(sec, "plan_sites").site) == [site_names[k] for k in closed]
    # the first year's money by partner, recomputed from the decisions
    into_pools: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    for r in res.first_stage:
        name, idx = r["decision"].split("[")
        partner = idx.split(",")[0]
        if name == "contribution":
            into_pools[partner] += r["value"]
        elif name == "spend_retained":
            own[partner] += r["value"]
    partners = {p.id: p.name for p in inst.partners}
    frame = table(sec, "plan_money_partners").set_index("partner")
    for p in set(into_pools) | set(own):
        assert math.isclose(frame.loc[partners[p], "into pools (£k)"], into_pools[p])
        assert math.isclose(frame.loc[partners[p], "own budget on services (£k)"], own[p])
    # the full list closes the report, every decision once
    full = table(by_key(tutorial["sections"])["every_commitment"], "plan_first_stage")
    assert sorted(full["in the model"]) == sorted(r["decision"] for r in res.first_stage)


def test_vss_evpi_and_differences_on_the_hand_derived_case(site_cut: dict[str, Any]) -> None:
    s, secs = site_cut["summary"], by_key(site_cut["sections"])
    assert (s["vss"], s["evpi"]) == (4.0, 8.0)  # tests/test_plan.py derives them by hand
    value = secs["value"]
    sentences = value.intro.split("\n")
    assert len(sentences) == 2
    assert sentences[0].startswith("VSS (value of the stochastic solution) is 4.00 points of "
                                   "weighted outcome: committing to the hedged plan rather "
                                   "than the plan for the average future")
    assert sentences[1].startswith("EVPI (expected value of perfect information) is 8.00 "
                                   "points of weighted outcome: knowing which future")
    measures = table(value, "plan_measures").set_index("measure")
    for key in ("rp", "ev", "eev", "vss", "ws", "evpi"):
        assert measures.loc[key.upper(), "value (points of weighted outcome)"] == s[key]
    diff = table(secs["differences"], "plan_differences")
    assert diff.values.tolist() == [["Buildings", "close hub in 2014/15", "closed", "open",
                                     60.0, "most futures choose it"]]
    assert secs["differences"].intro.startswith("1 of the 6 commitments differ (1 on buildings)")
    page = text_of(site_cut["page"])
    assert "VSS (value of the stochastic solution) is 4.00 points" in page
    assert "EVPI (expected value of perfect information) is 8.00 points" in page


def test_both_plans_distributions_and_targets(site_cut: dict[str, Any],
                                              tutorial: dict[str, Any]) -> None:
    for run in (site_cut, tutorial):
        res, s = run["res"], run["summary"]
        sec = by_key(run["sections"])["distribution"]
        c = chart(sec, "plan_distribution")
        assert [x.name for x in c.series] == ["hedged plan", "plan for the average future"]
        for series, values in zip(c.series, (res.f_hedged, res.f_deterministic), strict=True):
            assert math.isclose(sum(v or 0.0 for v in series.values), 100.0)
            assert values is not None
        spread = table(sec, "plan_spread").set_index("measure")
        assert spread.iloc[0, 0] == s["hedged"]["mean"]
        assert spread.iloc[0, 1] == s["deterministic"]["mean"]
        futures = table(sec, "plan_futures")
        assert futures["hedged plan (points of weighted outcome)"].tolist() == \
            list(res.f_hedged)
        assert futures["plan for the average future (points of weighted outcome)"].tolist() \
            == list(res.f_deterministic)
        targets = table(by_key(run["sections"])["targets"], "plan_target_probability")
        names = {k: v["name"] for k, v in s["labels"]["priorities"].items()}
        expect = [[names[k], 100 * s["hedged"]["target_probability"][k],
                   100 * s["deterministic"]["target_probability"][k]]
                  for k in s["hedged"]["target_probability"]]
        assert targets.iloc[:, :3].values.tolist() == expect
    # site_cut: the hedged plan meets the target in every future, the average plan in 40%
    t = table(by_key(site_cut["sections"])["targets"], "plan_target_probability")
    assert t.iloc[0, 1:].tolist() == [100.0, 40.0, 60.0]


def test_a_huge_penalty_does_not_wreck_the_chart() -> None:
    """One future of the average plan breaks a rule (value −1e9): it goes to an outlined edge
    bar labelled with its value; the other futures keep a linear scale of their own."""
    scen = pd.DataFrame({"scenario": ["0", "1", "2", "3"], "probability": [0.1, 0.2, 0.3, 0.4],
                         "hedged": [100.0, 110.0, 120.0, 130.0],
                         "deterministic": [-1e9, 112.0, 121.0, 135.0],
                         "own": [101.0, 112.0, 122.0, 135.0]})
    bins = distribution_bins(scen)
    assert bool(bins.edge.iloc[0]) and not bins.edge.iloc[1:].any()
    assert bins.label.iloc[0] == "below 100"
    assert bins.deterministic.iloc[0] == pytest.approx(0.1)
    assert bins.hedged.iloc[0] == 0.0
    assert bins.deterministic_min.iloc[0] == -1e9
    inside = bins[~bins.edge]
    assert inside.low.iloc[0] == 100.0 and inside.high.iloc[-1] == 135.0
    for plan_ in ("hedged", "deterministic"):
        assert bins[plan_].sum() == pytest.approx(1.0)
    # and in a report: the note says why, the edge bar is marked and labelled
    s = {"kind": "plan", "status": "optimal", "scenarios": 4, "rp": 1.0, "risk": {},
         "objective_kind": "outcome", "hedged": {}, "deterministic": {}}
    from hwbopt.report.plan_sections import distribution
    from hwbopt.report.spec import ReportData

    sec = distribution(ReportData("plan", s, {"plan_scenarios": scen}))
    assert sec is not None
    c = chart(sec, "plan_distribution")
    avg = c.series[1]
    assert avg.marked is not None and avg.marked[0] and avg.labels is not None
    assert avg.labels[0] == "-1,000,000,000"
    assert "large penalty for each rule" in c.note and "outlined bar" in c.note


def test_rules_that_gave_are_listed_by_future(unreachable: dict[str, Any]) -> None:
    res = unreachable["res"]
    sec = by_key(unreachable["sections"])["elastic"]
    assert sec.intro.startswith("In all 3 futures the hedged commitments leave no way to keep "
                                "every rule")
    frame = table(sec, "plan_elastic")
    assert frame["in the model"].tolist() == [e["rule"] for e in res.elastic]
    assert frame["gave by (in the rule's unit)"].tolist() == [e["amount"] for e in res.elastic]
    assert all(t.startswith("Mental health target, 2013/14") for t in frame.rule)
    assert frame.future.tolist() == [str(e["scenario"]) for e in res.elastic]
    futures = table(by_key(unreachable["sections"])["distribution"], "plan_futures")
    assert futures["rules that gave under the hedged plan"].tolist() == [1, 1, 1]


def test_every_rule_held_and_no_out_of_sample_test_said_so(tutorial: dict[str, Any]) -> None:
    secs = by_key(tutorial["sections"])
    assert tutorial["res"].elastic == []
    assert secs["elastic"].intro.startswith("None: under the hedged commitments every rule "
                                            "held in every future")
    assert tutorial["summary"]["out_of_sample"] is None
    oos = secs["out_of_sample"].intro
    assert "were not tested out of sample" in oos and "--evaluate M" in oos


def test_out_of_sample_intervals_are_shown(tutorial: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "evaluated"
    shutil.copytree(tutorial["out"], folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["out_of_sample"] = {
        "scenarios": 200, "seed": 1234,
        "hedged": {"mean": 10020.5, "ci_low": 10001.25, "ci_high": 10039.75},
        "deterministic": {"mean": 9950.0, "ci_low": 9920.5, "ci_high": 9979.5},
        "gap_estimate": {"value": 12.5, "ci_high": 30.25}}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    sec = by_key(build_sections(report_data(folder)))["out_of_sample"]
    assert "200 fresh futures (seed 1234)" in sec.intro
    assert ("The hedged plan averages 10,020.50 points of weighted outcome (95% confidence "
            "interval 10,001.25 to 10,039.75)") in sec.intro
    assert "the plan for the average future averages 9,950.00 points of weighted outcome " \
           "(9,920.50 to 9,979.50)" in sec.intro
    assert "estimated at 12.50 points of weighted outcome, at most 30.25" in sec.intro
    frame = table(sec, "plan_out_of_sample")
    assert frame.iloc[:, 1:].values.tolist() == [[10020.5, 10001.25, 10039.75],
                                                 [9950.0, 9920.5, 9979.5]]


# ---------------------------------------------------------------------------------------------
# the workbook, and labels as text
# ---------------------------------------------------------------------------------------------


def test_workbook_holds_the_plan_sheets(tutorial: dict[str, Any]) -> None:
    res, s = tutorial["res"], tutorial["summary"]
    wb = load_workbook(tutorial["folder"] / "report.xlsx")
    assert wb.sheetnames[:6] == ["summary", "charts", "plan_scenarios", "plan_first_stage",
                                 "plan_differences", "plan_elastic"]
    assert {"allocation", "outcomes", "budgets"} <= set(wb.sheetnames)
    rows = [[c.value for c in r] for r in wb["plan_first_stage"].iter_rows()]
    assert rows[0] == ["decision", "text", "value"]
    assert [r[0] for r in rows[1:]] == [e["decision"] for e in res.first_stage]
    assert [r[2] for r in rows[1:]] == [e["value"] for e in res.first_stage]
    scen = [[c.value for c in r] for r in wb["plan_scenarios"].iter_rows()]
    heads = scen[0]
    assert heads[:2] == ["scenario", "probability"] and heads[-3:] == \
        ["hedged", "deterministic", "own"]
    for row, value in zip(scen[1:], res.f_hedged, strict=True):  # Excel keeps 15 digits
        assert math.isclose(row[heads.index("hedged")], value, rel_tol=1e-15)
    figures = {r[0].value: r[1].value for r in wb["summary"].iter_rows() if r[0].value}
    assert figures["VSS: value of the stochastic solution (points of weighted outcome)"] == \
        s["vss"]
    assert figures["decisions committed now"] == len(res.first_stage)
    charts = [r[0].value for r in wb["charts"].iter_rows()]
    assert "Both plans across the futures" in charts
    assert "Chance of meeting every year's target, each plan" in charts
    for ws in wb.worksheets:
        assert not [c.coordinate for r in ws.iter_rows() for c in r if c.data_type == "f"]


def test_labels_reach_the_page_as_text(tutorial: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    shutil.copytree(tutorial["out"], folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    odd = "<script>window.__xss = 1</script> Old Mill"
    summary["labels"]["sites"] = {k: odd for k in summary["labels"]["sites"]}
    summary["labels"]["stress"]["cuts_and_pressures"] = "=cuts & <b>pressures</b>"
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    html_path, xlsx_path = write_report(folder, tmp_path / "rep")
    page = html_path.read_text(encoding="utf-8")
    assert "<script>window.__xss" not in page and "<b>pressures" not in page
    assert "&lt;b&gt;pressures&lt;/b&gt;" in page
    wb = load_workbook(xlsx_path)
    figures = {r[0].value: r[1] for r in wb["summary"].iter_rows() if r[0].value}
    assert figures["stress set"].value == "=cuts & <b>pressures</b>"
    assert figures["stress set"].data_type == "s"


def test_a_run_without_a_plan_still_reports(tmp_path: Path) -> None:
    """A time limit before any plan: the overview says there is nothing to commit to, and
    no section pretends to numbers it does not have."""
    res = PlanResult(status=Status.TIME_LIMIT, message="no plan within the time limit",
                     scenarios=2, seed=0, stress_set="cuts", risk=DEFAULT_RISK,
                     objective_kind="outcome")
    html_path, _ = write_report(res, tmp_path / "rep")
    keys = [s.key for s in build_sections(report_data(res))]
    assert keys == ["overview"]
    page = text_of(html_path.read_text(encoding="utf-8"))
    assert "No hedged plan was found" in page and "no plan within the time limit" in page
    assert "time_limit" in page


def test_the_futures_inputs_are_shown_by_name(tutorial: dict[str, Any]) -> None:
    res = tutorial["res"]
    inputs = table(by_key(tutorial["sections"])["distribution"], "plan_inputs")
    # an input named by its path reads in words, a share in % (the report's issue 18); one
    # the stress set names keeps its name
    words = {"partners_council_cut_total": "Riverside County Council: cut, total over the "
                                           "years (%)",
             "partners_nhs_savings_rate": "Riverside CCG: savings rate a year (%)"}
    assert list(inputs.columns) == ["future", *(words.get(n, n.replace("_", " "))
                                                for n in res.inputs)]
    scale = np.array([100.0 if n in words else 1.0 for n in res.inputs])
    np.testing.assert_allclose(inputs.iloc[:, 1:].to_numpy(dtype=float), res.values * scale,
                               rtol=1e-15)
