"""Reports a board paper can use: tables that add up, names and financial years everywhere, the
objective in words, scenarios with no plan in the picture, cut depth in the inputs drawn.

Each check recomputes what the report shows by a route of its own (the page's own table
parsed back, numpy's histogram, groups of scenarios sorted by hand) rather than calling the
code that made it. The browser's view of the same pages (nothing overlaps) is in
``test_report_browser.py``.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import hwbopt
from hwbopt.analyses.stress import cut_first_by_input, input_influence, input_response
from hwbopt.provenance import instance_labels
from hwbopt.report import report_data, write_report
from hwbopt.report.html import _label_room, nice_ticks
from hwbopt.report.sections import build_sections
from hwbopt.report.spec import Chart, Series, Table
from hwbopt.report.stress_sections import histogram, input_words


def blocks(sections: list[Any], key: str) -> dict[str, Chart | Table]:
    (sec,) = [s for s in sections if s.key == key]
    return {b.key: b for b in sec.blocks}


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    result = hwbopt.solve(inst)
    folder = tmp_path_factory.mktemp("board")
    html_path, xlsx_path = write_report(result, folder)
    return {"inst": inst, "result": result, "page": html_path.read_text(encoding="utf-8"),
            "xlsx": xlsx_path, "sections": build_sections(report_data(result))}


def page_table(page: str, key: str) -> pd.DataFrame:
    """A table of the page, read back from its HTML (numbers as the reader sees them)."""
    found = re.search(rf'<table id="table-{key}">(.*?)</table>', page, re.S)
    assert found, key
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", found.group(1))]
    rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", found.group(1).split("</thead>", 1)[1])]
    return pd.DataFrame(rows, columns=heads)


def number(text: str) -> float:
    return float(text.replace(",", "")) if text else 0.0


# ---------------------------------------------------------------------------------------------
# solve: tables that add up, the objective in words, names and years in the workbook
# ---------------------------------------------------------------------------------------------


def test_partners_money_adds_up_on_the_page(tutorial: dict[str, Any]) -> None:
    money = page_table(tutorial["page"], "budgets")
    cols = {c.split(" (")[0]: c for c in money.columns}
    assert {"pooled", "retained", "staff, net", "buildings, net", "spent", "unspent"} <= set(cols)
    moved = 0
    for _, row in money.iterrows():
        v = {k: number(row[c]) for k, c in cols.items() if k not in ("partner", "year")}
        # each figure is shown to 0.1: four of them may round by 0.05 each
        assert math.isclose(v["pooled"] + v["retained"] + v["staff, net"]
                            + v["buildings, net"], v["spent"], abs_tol=0.21), row.to_dict()
        assert math.isclose(v["available"] + v["savings credited"] - v["spent"],
                            v["unspent"], abs_tol=0.16), row.to_dict()
        moved += v["staff, net"] != 0 or v["buildings, net"] != 0
    assert moved > 0  # the tutorial's staff and buildings cost something: the columns matter


def test_the_objective_is_a_sentence_with_the_weights(tutorial: dict[str, Any]) -> None:
    page = tutorial["page"]
    for k in tutorial["inst"].priorities:
        assert html.escape(f"= {hwbopt.words.num(k.weight)} points") in page, k.id
    assert html.escape("1 older person still at home 91 days after discharge = 10 points") \
        in page
    assert "must be met in full every year" in page
    measures = page_table(page, "measures")
    assert list(measures.priority) == [k.label for k in tutorial["inst"].priorities]
    assert list(measures.measure) == [k.measure for k in tutorial["inst"].priorities]


def test_missed_targets_are_labelled_beside_their_own_bars(tutorial: dict[str, Any]) -> None:
    chart = blocks(tutorial["sections"], "outcomes")["attainment"]
    assert chart.across and chart.line == 0.0
    out = tutorial["result"].outcomes
    names = {k.label: k.id for k in tutorial["inst"].priorities}
    for series in chart.series:
        year = int(series.name[:4])
        for name, value, label in zip(chart.categories, series.values, series.labels or [],
                                      strict=True):
            row = out[(out.priority == names[name]) & (out.year == year)].iloc[0]
            if value is None:
                continue
            assert math.isclose(value, 100 * row.achieved / row.target - 100, abs_tol=1e-9)
            assert bool(label) == (not row.met)


def test_workbook_shows_names_and_financial_years(tutorial: dict[str, Any]) -> None:
    inst = tutorial["inst"]
    wb = load_workbook(tutorial["xlsx"])
    rows = [[c.value for c in r] for r in wb["allocation"].iter_rows()]
    heads = rows[0]
    for col in ("partner", "intervention", "year"):
        assert f"{col} (id)" in heads
    partners = {p.label: p.id for p in inst.partners}
    services = {i.label: i.id for i in inst.interventions}
    for row in rows[1:]:
        cell = dict(zip(heads, row, strict=True))
        assert re.fullmatch(r"\d{4}/\d{2}", cell["year"]), cell["year"]
        assert cell["year"] == f"{cell['year (id)']}/{(cell['year (id)'] + 1) % 100:02d}"
        assert partners[cell["partner"]] == cell["partner (id)"]
        assert services[cell["intervention"]] == cell["intervention (id)"]
    # every sheet with a year shows it as the page does
    for ws in wb.worksheets[2:]:
        heads = [c.value for c in ws[1]]
        if "year" in heads:
            j = heads.index("year") + 1
            assert all(re.fullmatch(r"\d{4}/\d{2}", str(ws.cell(r, j).value))
                       for r in range(2, ws.max_row + 1)), ws.title


# ---------------------------------------------------------------------------------------------
# stress: every scenario in the histogram; cut depth in the inputs drawn
# ---------------------------------------------------------------------------------------------


def test_histogram_counts_every_scenario() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(1000.0, 50.0, 120)
    changed = rng.random(120) < 0.2
    hist = histogram(values, changed, infeasible=3, failed=1)
    bins = hist[hist.kind == "objective"]
    edges = np.array([*bins.bin_from, bins.bin_to.iloc[-1]])
    assert list(bins.scenarios) == np.histogram(values, bins=edges)[0].tolist()
    assert list(bins.plan_changed) == np.histogram(values[changed], bins=edges)[0].tolist()
    rest = hist[hist.kind != "objective"].set_index("kind").scenarios.to_dict()
    assert rest == {"infeasible": 3, "failed": 1}
    assert math.isclose(hist.share.sum(), 1.0)
    assert len(histogram(values)) == len(bins)  # no rows for what did not happen


class InfeasibleRun:
    """A stress run with infeasible scenarios, its tables given in memory."""

    def __init__(self) -> None:
        self.inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
        self.values = np.random.default_rng(5).normal(9500.0, 300.0, 60)
        self.tables = {"objective_distribution": histogram(self.values, self.values > 9800,
                                                           infeasible=4)}

    def summary(self) -> dict[str, Any]:
        return {"kind": "stress", "status": "optimal", "scenarios": 64, "finished": 64,
                "solved": 60, "infeasible": 4, "failed": 0, "objective_kind": "outcome",
                "base_objective": float(self.values[0]), "labels": instance_labels(self.inst),
                "objective_percentiles": {"p50": float(np.median(self.values))}}


def infeasible_stress(folder: Path) -> tuple[Path, Path]:
    """The report of :class:`InfeasibleRun` in ``folder``."""
    return write_report(InfeasibleRun(), folder)


def test_infeasible_scenarios_stand_beside_the_histogram(tmp_path: Path) -> None:
    run = InfeasibleRun()
    chart = blocks(build_sections(report_data(run)), "distribution")["objective_histogram"]
    assert chart.edges is not None and len(chart.edges) == len(chart.categories)
    assert chart.categories[-1] == "infeasible (no plan)"
    assert chart.series[0].values[-1] == 4
    assert sum(v or 0 for s in chart.series for v in s.values) == 64
    _, xlsx_path = write_report(run, tmp_path)
    wb = load_workbook(xlsx_path)
    kinds = [r[5].value for r in wb["objective_distribution"].iter_rows(min_row=2)]
    assert kinds.count("infeasible") == 1


def scenarios(n: int = 200, seed: int = 1) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Results of a made-up run: the deeper the council's cut, the likelier a missed target
    and the lower the activity of one service; inflation does nothing."""
    rng = np.random.default_rng(seed)
    cut = rng.uniform(0.2, 0.4, n)
    inflation = rng.uniform(0.0, 0.03, n)
    met = rng.random(n) > (cut - 0.2) * 5  # certain at 20%, never at 40%
    return pd.DataFrame({
        "scenario": np.arange(n), "status": "optimal", "objective": 1000 - 1000 * cut,
        "cut_depth": 0.5 * cut, "input.council_cut": cut, "input.inflation": inflation,
        "met.older.2013": met, "met.older.2014": True, "outcome.older": 100 * met,
        "activity.reablement": np.where(cut > 0.3, 50.0, 100.0),
    }), {"priorities": ["older"], "base_activity": {"reablement": 100.0}}


def test_response_to_a_drawn_input_by_hand() -> None:
    results, meta = scenarios()
    curve = input_response(results, meta, "council_cut")["older"]
    # ten groups of twenty scenarios, sorted by the cut drawn
    order = results.sort_values("input.council_cut", kind="stable")
    groups = [order.iloc[k * 20:(k + 1) * 20] for k in range(10)]
    for point, group in zip(curve, groups, strict=True):
        assert point["scenarios"] == len(group) == 20
        assert math.isclose(point["value_from"], group["input.council_cut"].min())
        assert math.isclose(point["value_to"], group["input.council_cut"].max())
        assert math.isclose(point["probability_met"], group["met.older.2013"].mean())
        assert math.isclose(point["cut_depth"], group.cut_depth.median())
    assert curve[0]["probability_met"] > curve[-1]["probability_met"]
    ranked = input_influence(results)
    assert [r["input"] for r in ranked] == ["council_cut", "inflation"]
    assert math.isclose(ranked[0]["objective_correlation"], -1.0)
    assert math.isclose(ranked[0]["cut_depth_correlation"], 1.0)
    at = cut_first_by_input(results, meta, "council_cut", deeper_when_higher=True)
    first = next(g for g in groups if g["activity.reablement"].median() < 90)
    assert math.isclose(at["reablement"], first["input.council_cut"].median())


def test_a_drawn_input_in_words_and_its_own_unit() -> None:
    labels = instance_labels(hwbopt.load(hwbopt.shipped_instance("county")))
    assert input_words(labels, "partners_county_cut_total",
                       {"path": "partners[county].cut.total", "op": "value"}) == (
        "Westshire County Council: cut, total over the years", "%", 100.0)
    # a folder that keeps no stress set: the column's name is read as its path
    assert input_words(labels, "partners_ccg_savings_rate", None) == (
        "Westshire CCG: savings rate a year", "%", 100.0)
    words, unit, factor = input_words(labels, "staffing", {
        "name": "staffing", "path": "staff[*].fte", "op": "scale"})
    assert words.startswith("Staffing (scales staff in post") and factor == 100.0
    assert unit == "% of the instance's value"


# ---------------------------------------------------------------------------------------------
# charts: round ticks, room for labels, legends outside
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lo", "hi"), [(281126.6, 323015.8), (0.1, 0.37), (-3.0, 3.0),
                                        (0.0, 1e-4)])
def test_ticks_are_round_and_inside(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert 3 <= len(ticks) <= 12
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5))
    assert lo <= ticks[0] and ticks[-1] <= hi


def test_labels_outside_bars_get_room_on_their_side() -> None:
    chart = Chart("c", "t", ["a", "b"], [Series("s", [-40.0, 10.0],
                                                labels=["x" * 30, "short"])],
                  y_title="v", horizontal=True)
    lo, hi = _label_room(chart, stacked=False)["range"]
    assert lo < -40 and hi > 10
    # a label of 30 characters (about 200 px) needs about a third of a 650 px plot
    assert (-40 - lo) / (hi - lo) > 0.25
    assert _label_room(Chart("c", "t", ["a"], [Series("s", [1.0])], y_title="v"),
                       stacked=False) == {}


def test_long_lists_are_drawn_across() -> None:
    many = Chart("c", "t", [f"service {n}" for n in range(26)],
                 [Series("a", [1.0] * 26), Series("b", [2.0] * 26)], y_title="v",
                 mode="group")
    assert many.across
    assert not Chart("c", "t", ["2011/12", "2012/13"], [Series("a", [1.0, 2.0])],
                     y_title="v").across
    assert Chart("c", "t", ["x" * 60], [Series("a", [1.0])], y_title="v").across
