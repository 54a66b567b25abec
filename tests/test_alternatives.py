"""`hwbopt alternatives`: each quantity's range among the plans within a slack of the optimum,
and alternative plans that differ.

Ranges are checked against hand derivations on tiny instances, and every plan that attains a
bound is certified here again by a route that shares no code with the analysis's own: the
independent checker on the plan's tables, and the objective recomputed in this file from the
outcomes table with the instance's weights.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console
from tiny import build

import hwbopt
from hwbopt.analyses import alternatives as alt
from hwbopt.analyses.alternatives import Alternatives, Range, alternatives
from hwbopt.cli import cli
from hwbopt.report.alternatives_text import print_alternatives
from hwbopt.results.tables import plan_tables

REL = 1e-6  # the analysis leaves a billionth of |z*| for rounding; the checker's tolerance


def close(v: float | None, want: float) -> bool:
    return v is not None and abs(v - want) <= REL * max(1.0, abs(want))


def two_services() -> hwbopt.Instance:
    """One partner, budget 100, two services for one priority (weight 1):

    x: unit cost 1, need 60, 3 points a unit (3 a pound); y: unit cost 2, need 100, 2 points a
    unit (1 a pound). The optimum buys all of x's need (60) and spends the rest (40) on y
    (20 units): z* = 180 + 40 = 220, spend 100.

    The optimum is unique: x earns strictly more a pound than y, so any plan with less than
    60 of x moves money to a worse use; y earns more than nothing, so money left unspent
    loses; x's need and the budget then fix both activities, and with them the spend.
    """
    return build(partners=[{"id": "A", "remit": ["x", "y"]}],
                 interventions=[{"id": "x", "unit_cost": 1, "need": 60},
                                {"id": "y", "unit_cost": 2, "need": 100}],
                 responses=[("x", "health", 1, 3.0), ("y", "health", 1, 2.0)],
                 budgets={"A": 100})


def zero_weight_curve() -> hwbopt.Instance:
    """Priority health has weight 0 and a concave curve (3 a unit up to half of x's need of
    100, then 1); wealth, weight 1, gains 1 a unit of x; budget 60."""
    return build(partners=[{"id": "A", "remit": ["x"]}],
                 priorities=[{"id": "health", "measure": "h", "unit": "points",
                              "target_type": "soft", "weight": 0},
                             {"id": "wealth", "measure": "w", "unit": "points",
                              "target_type": "soft", "weight": 1}],
                 interventions=[{"id": "x", "unit_cost": 1, "need": 100}],
                 responses=[("x", "health", 0.5, 3.0), ("x", "health", 1, 1.0),
                            ("x", "wealth", 1, 1.0)],
                 budgets={"A": 60})


def by_key(res: Alternatives) -> dict[str, Range]:
    return {r.quantity.key: r for r in res.ranges}


@pytest.fixture(scope="module")
def ranged() -> Alternatives:
    return alternatives(two_services(), slack=0.1, of=["partners", "interventions",
                                                        "priorities", "pools"], count=2)


# ---------------------------------------------------------------------------------------------
# derived by hand
# ---------------------------------------------------------------------------------------------


def test_hand_derived_ranges(ranged: Alternatives) -> None:
    """Slack 0.1: plans with z = 3 a_x + 2 a_y >= 198, a_x + 2 a_y <= 100, a_x <= 60.

    - a_x lowest: all the rest of the money on y, a_y = (100 - a_x)/2, so z = 100 + 2 a_x >=
      198 gives a_x >= 49; highest 60 (its need).
    - a_y highest: a_x as small as the slack allows, a_x = (198 - 2 a_y)/3, within the budget:
      (198 - 2 a_y)/3 + 2 a_y <= 100 gives a_y <= 25.5 (a_x = 49); lowest with a_x at 60:
      2 a_y >= 198 - 180, a_y >= 9.
    - spend lowest: a_x + 2 a_y >= a_x + 198 - 3 a_x = 198 - 2 a_x >= 78 (a_x = 60, a_y = 9);
      highest the budget, 100.
    - the outcome (baseline 0) is z itself: 198 to 220.
    """
    assert ranged.status == "optimal" and close(ranged.objective, 220.0)
    want = {"spend[A,2013]": (100, 78, 100), "activity[x]": (60, 49, 60),
            "activity[y]": (20, 9, 25.5), "outcome[health,2013]": (220, 198, 220)}
    got = by_key(ranged)
    for key, (plan, low, high) in want.items():
        r = got[key]
        assert close(r.plan, plan) and close(r.low, low) and close(r.high, high), (key, r)
        assert r.status == "optimal"


def test_slack_zero_gives_the_unique_optimum() -> None:
    """At slack 0 only the optimum is within the slack; it is unique (two_services), so
    every range is the optimum's own value."""
    res = alternatives(two_services(), slack=0.0, of=["partners", "interventions",
                                                      "priorities", "pools"])
    assert res.status == "optimal" and res.ranges
    for r in res.ranges:
        assert close(r.low, r.plan) and close(r.high, r.plan), r


def test_curves_fill_in_order_when_a_priority_is_minimised() -> None:
    """zero_weight_curve: the optimum runs x at its budget of 60, z* = 60 (wealth), and health
    = 3 x 50 + 10 = 160. Slack 0.5: z >= 30, so 30 <= a_x <= 60 and health runs from
    3 x 30 = 90 to 160. Filling the cheap piece first (which the objective, caring
    nothing for health, would allow) would claim 30 as health's lowest."""
    inst = zero_weight_curve()
    res = alternatives(inst, slack=0.5, of=["priorities"])
    health = by_key(res)["outcome[health,2013]"]
    assert close(health.plan, 160) and close(health.low, 90) and close(health.high, 160)
    wealth = by_key(res)["outcome[wealth,2013]"]
    assert close(wealth.low, 30) and close(wealth.high, 60)


def test_without_ordered_pieces_the_lowest_outcome_would_be_wrong(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: on the plain model (pieces in any order) the lowest health
    outcome comes out at 30 (the cheap piece filled first), not the curve's 90."""
    monkeypatch.setattr(alt, "ordered_build", alt.build)
    monkeypatch.setattr(alt, "carry", lambda x, *_: x)
    inst = zero_weight_curve()
    res = alternatives(inst, slack=0.5, of=["priorities"])
    assert close(by_key(res)["outcome[health,2013]"].low, 30)


# ---------------------------------------------------------------------------------------------
# every bound's plan, certified here again
# ---------------------------------------------------------------------------------------------


def recomputed_objective(inst: hwbopt.Instance, tables: dict[str, Any]) -> float:
    """The outcome objective from the outcomes table: weights times what is achieved, less
    penalties on soft shortfalls (discount 0 in these instances)."""
    weight = {k.id: k.weight for k in inst.priorities}
    penalty = {k.id: k.shortfall_penalty for k in inst.priorities}
    hard = {k.id: k.target_type == "hard" for k in inst.priorities}
    return float(sum(weight[r.priority] * r.achieved
                     - (0.0 if hard[r.priority] else penalty[r.priority] * r.shortfall)
                     for r in tables["outcomes"].itertuples()))


def certify(res: Alternatives, x: np.ndarray) -> float:
    """The plan's objective (recomputed here); asserts it passes the independent checker and
    is within the slack."""
    model = res_model(res)
    tables = plan_tables(model.data, model.comp, x)
    z = recomputed_objective(res.instance, tables)
    assert hwbopt.check_solution(res.instance, tables, res.objective_kind, z) == []
    assert res.objective is not None
    assert z >= res.objective * (1 - res.slack) - REL * abs(res.objective)
    return z


def res_model(res: Alternatives) -> Any:
    """The near-optimal model the bounds were solved on, rebuilt as the analysis builds it."""
    inst = res.instance
    built = alt.build(inst, res.objective_kind)
    assert res.optimum is not None and res.optimum.solution is not None
    x = alt.in_order(built.data, built.compiled,
                     alt.settled(built.data, built.compiled, res.optimum.solution))
    base, start = built, x
    if "priorities" in res.kinds and built.data.CURVED:
        base = alt.ordered_build(inst, res.objective_kind)
        start = alt.carry(x, built.compiled, base.compiled, base.data)
    assert res.floor is not None
    comp = alt.near_optimal_model(base.compiled, base.data, start, res.floor,
                                  res.hold_integers)

    class Model:
        data = base.data

    m = Model()
    m.comp = comp  # type: ignore[attr-defined]
    return m


def test_each_range_holds_the_plan_and_its_bounds_are_certified(ranged: Alternatives) -> None:
    assert ranged.ranges
    for r in ranged.ranges:
        assert r.low is not None and r.high is not None
        assert r.low <= r.plan + REL * max(1, abs(r.plan)) <= r.high + 2 * REL * max(1, abs(r.high))
        for x, end in ((r.low_x, r.low), (r.high_x, r.high)):
            if x is None:  # attained by the optimum itself
                assert close(r.plan, end)
                continue
            certify(ranged, x)
            assert close(r.quantity.value(x), end)


def test_tutorial_ranges_certified_and_match_the_tables(tutorial: hwbopt.Instance) -> None:
    """On an instance with staff, sites and pools: each quantity's optimum value is what the
    optimum's own tables say, each range holds it, and each bound's plan is certified."""
    res = alternatives(tutorial, slack=0.05, of=["partners", "pools", "sites"])
    assert res.status == "optimal" and res.optimum is not None
    tables = res.optimum.tables
    spent = tables["budgets"].set_index(["partner", "year"])["spent"]
    paid = tables["pools"].groupby(["pool", "year"])["contributed"].sum()
    for r in res.ranges:
        q = r.quantity
        ident = re.match(r"\w+\[([^,\]]+)(?:,(\d+))?\]", q.key)
        assert ident is not None
        if q.kind == "partners":
            assert close(r.plan, float(spent[ident[1], int(ident[2])]))
        elif q.kind == "pools":
            assert close(r.plan, float(paid[ident[1], int(ident[2])]))
        assert r.low is not None and r.high is not None
        assert r.low - REL * max(1, abs(r.low)) <= r.plan <= r.high + REL * max(1, abs(r.high))
        for x in (r.low_x, r.high_x):
            if x is not None:
                certify(res, x)


# ---------------------------------------------------------------------------------------------
# alternatives
# ---------------------------------------------------------------------------------------------


def test_two_alternatives_within_the_slack_that_differ(ranged: Alternatives) -> None:
    alts = ranged.alternatives
    assert len(alts) == 2 and all(a.status == "optimal" for a in alts)
    plans = []
    for a in alts:
        assert a.result is not None and a.result.solution is not None
        assert a.result.checked and a.result.status == "optimal"
        z = certify(ranged, a.result.solution)
        assert a.objective is not None and close(a.objective, z)
        assert a.distance is not None and a.distance > 0.05
        assert a.changes
        plans.append(np.array(a.values))
    assert np.abs(plans[0] - plans[1]).max() > 1.0  # the two differ from each other
    assert alts[1].nearest is not None and alts[1].nearest > 0.0


# ---------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alternatives") / "two"
    hwbopt.write_folder(two_services(), path)
    return path


@pytest.mark.parametrize("args", [
    ["--slack", "1"], ["--slack", "-0.1"], ["--slack", "nan"], ["--slack", "inf"],
    ["--slack", "five"], ["--of", "widgets"], ["--of", "partners", "--of", "budgets"],
    ["--count", "0"], ["--workers", "0"], ["--scheduler", "not a scheduler"]])
def test_bad_values_exit_2_before_any_solve(folder: Path, args: list[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def no_solve(*a: Any, **k: Any) -> None:
        raise AssertionError("solved despite a bad option")

    monkeypatch.setattr(alt, "alternatives", no_solve)
    out = CliRunner().invoke(cli, ["alternatives", str(folder), *args])
    assert out.exit_code == 2, out.output


def test_json_keys_and_out_folder(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["alternatives", str(folder), "--slack", "0.1", "--count",
                                   "2", "--json", "--out", str(out)])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.output)
    assert {"status", "objective", "slack", "ranges", "alternatives", "seconds", "kind",
            "provenance", "labels"} <= set(summary)
    assert summary["kind"] == "alternatives" and summary["status"] == "optimal"
    assert summary["slack"] == 0.1
    for r in summary["ranges"]:
        assert {"quantity", "kind", "text", "plan", "low", "high", "unit"} <= set(r)
    assert [r["kind"] for r in summary["ranges"]] == ["partners", "interventions",
                                                      "interventions"]
    assert len(summary["alternatives"]) == 2
    for a in summary["alternatives"]:
        assert {"objective", "distance", "changes"} <= set(a)
    assert json.loads((out / "summary.json").read_text())["kind"] == "alternatives"
    assert (out / "ranges.csv").is_file() and (out / "alternatives.csv").is_file()
    for n in ("01", "02"):
        assert json.loads((out / "alternatives" / n / "summary.json").read_text())[
            "status"] == "optimal"
    again = CliRunner().invoke(cli, ["alternatives", str(folder), "--count", "1", "--out",
                                     str(out)])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (out / "alternatives").iterdir()) == ["01"]


def test_cli_kinds_are_the_analysis_kinds() -> None:
    from hwbopt import cli_alternatives

    assert cli_alternatives.KINDS == alt.KINDS


# ---------------------------------------------------------------------------------------------
# the terminal and the report
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_fits_without_cutting_a_number(ranged: Alternatives, width: int) -> None:
    summary = json.loads(json.dumps(ranged.summary()))
    console = Console(width=width, record=True, highlight=False)
    print_alternatives(summary, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    rows = [line for line in text.splitlines() if "│" in line]
    for r in summary["ranges"]:
        row = next(line for line in rows
                   if line.lower().startswith(f"│ {r['name'].lower()}")
                   and len(line.split("│")) == 6)
        cells = [c.strip() for c in row.split("│")[2:-1]]
        assert len(cells) == 3 and all(re.fullmatch(r"-?[\d,]+(\.\d+)?", c) for c in cells)
        for cell, key in zip(cells, ("plan", "low", "high"), strict=True):
            assert math.isclose(float(cell.replace(",", "")), r[key], abs_tol=0.51)
    assert "The alternatives side by side" in text


def test_many_alternatives_go_in_several_tables(ranged: Alternatives) -> None:
    """Twelve alternatives do not fit 80 columns side by side: several tables, each with the
    optimum's column, every figure whole."""
    summary = json.loads(json.dumps(ranged.summary()))
    summary["alternatives"] = [dict(a, number=k + 1) for k, a in
                               enumerate(summary["alternatives"] * 6)]
    console = Console(width=80, record=True, highlight=False)
    print_alternatives(summary, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "The alternatives (continued)" in text
    heads = [line.split("┃")[2:-1] for line in text.splitlines()
             if line.startswith("┃") and "optimum" in line and "lowest" not in line]
    tables = [[h.strip() for h in row] for row in heads]
    assert len(tables) >= 2 and all(t[0] == "optimum" for t in tables)
    assert [h for t in tables for h in t[1:]] == [str(k) for k in range(1, 13)]


def test_report_of_kind_alternatives(ranged: Alternatives, tmp_path: Path) -> None:
    from hwbopt.report import write_report

    html_path, xlsx_path = write_report(ranged, tmp_path / "rep")
    page = html_path.read_text()
    for heading in ("What can move, and how far", "Alternative plans side by side",
                    "Each partner&#x27;s spend by year"):
        assert heading in page
    assert xlsx_path.stat().st_size > 0


def test_the_page_draws_readably_in_a_browser(ranged: Alternatives, tmp_path: Path) -> None:
    from chromium import chromium_path, chromium_required, png_pixels, render
    from test_coalitions_report import LAYOUT

    from hwbopt.report import write_report

    if chromium_path() is None:
        if chromium_required():
            pytest.fail("HWBOPT_REQUIRE_CHROMIUM is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    html_path, _ = write_report(ranged, tmp_path)
    page = render(html_path, height=2400, expressions={
        "charts": "document.querySelectorAll('.plotly-graph-div').length",
        "drawn": "Array.from(document.querySelectorAll('.plotly-graph-div')).every("
                 "d => d.querySelectorAll('.bars .point').length > 0)",
        "layout": LAYOUT})
    assert page.errors == [], page.errors
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "blob:",
                                                          "about:"))] == []
    # a chart per kind ranged (partners, interventions, priorities: the instance has no pool)
    # and the alternatives' positions
    assert page.values["charts"] == 4 and page.values["drawn"] is True
    assert page.values["layout"] == [], page.values["layout"]
    px = png_pixels(page.png)[:, :, :3].reshape(-1, 3)
    assert float((px.min(axis=1) < 235).mean()) > 0.02  # not blank
    for words in ("What can move, and how far", "Where each plan puts what differs most"):
        assert words in page.text
