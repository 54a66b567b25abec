"""`hwbopt frontier`: the Pareto frontier between two criteria, exact where the model is linear.

Hand-derived cases fix the numbers: a linear one whose frontier has three breakpoints between
its two ends (found by NISE in exactly the solves the method needs), a mixed-integer one with
a go/no-go service (ε-constraint points), and an outcome–equity one. Along every frontier the
ends equal the single-objective optima, one criterion never improves unless the other worsens,
and every point's plan passes the independent checker. The command line is run in process
(usage errors before any solve, the JSON's keys, the result folder, the report) and its text
must fit 80 columns without cutting a figure.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from tiny import build

import hwbopt
from hwbopt.analyses.criteria import EQUITY, criteria, solve_for
from hwbopt.analyses.frontier import Frontier, frontier, parse_between
from hwbopt.cli import cli
from hwbopt.errors import UsageError
from hwbopt.io.folder import write_folder
from hwbopt.report.frontier_text import print_frontier, value

REL = 1e-7


def approx(v: float) -> object:
    return pytest.approx(v, rel=REL, abs=1e-6)


def lp_case() -> hwbopt.Instance:
    """One partner with 100 and five services, each of need 10, one year, no targets:

    ======= ========= ======== ==================
    service unit cost effect outcome per £k
    ======= ========= ======== ==================
    a       1         4        4
    b       2         6        3
    c       1         2        2
    d       4         4        1
    e       1         0        0 (it moves nothing)
    ======= ========= ======== ==================

    The most outcome for a given cost buys the services in the order of outcome per £k, each
    to its need, so the frontier (cost, outcome) is the concave line through
    (0, 0) -a-> (10, 40) -b-> (30, 100) -c-> (40, 120) -d-> (80, 160): two ends and three
    breakpoints between them, where the slope falls from 4 to 3, 3 to 2 and 2 to 1. The best
    outcome, 160, can be bought with any amount of e on top (weakly efficient plans up to a
    cost of 90); the frontier's end is the cheapest of them, 80. NISE solves each end twice
    (lexicographically) and then, with five supported points, 2 x 5 - 3 = 7 weighted sums: 11.
    """
    return build(
        partners=[{"id": "board", "remit": list("abcde")}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 10},
                       {"id": "b", "unit_cost": 2, "need": 10},
                       {"id": "c", "unit_cost": 1, "need": 10},
                       {"id": "d", "unit_cost": 4, "need": 10},
                       {"id": "e", "unit_cost": 1, "need": 10}],
        responses=[("a", "health", 1, 4.0), ("b", "health", 1, 6.0), ("c", "health", 1, 2.0),
                   ("d", "health", 1, 4.0)],
        budgets={"board": 100},
    )


LP_FRONTIER = [(160, 80), (120, 40), (100, 30), (40, 10), (0, 0)]  # (outcome, cost)


def mip_case() -> hwbopt.Instance:
    """One partner with 100, one year: D is new (a go/no-go service, £k 40 to set up, then 5
    points a £k up to a need of 30), E gives 1.5 points a £k (need 1000).

    With cost at most s: E alone gives 1.5 s; D gives 5 (s - 40) up to s = 70 (D to its need)
    and 150 + 1.5 (s - 70) beyond. D pays off from s = 400/7 = 57.1. The ε values of cost for
    5 points are 0, 25, 50, 75, 100: outcome 0, 37.5, 75 (E alone, better than D's 50),
    157.5 (D to its need and 5 of E) and 195 (all 100: D and 30 of E). D runs at the last two.
    """
    return build(
        partners=[{"id": "board", "remit": ["d", "e"]}],
        interventions=[{"id": "d", "unit_cost": 1, "need": 30, "setup_cost": 40},
                       {"id": "e", "unit_cost": 1, "need": 1000}],
        responses=[("d", "health", 1, 5.0), ("e", "health", 1, 1.5)],
        budgets={"board": 100},
    )


MIP_FRONTIER = [(195, 100), (157.5, 75), (75, 50), (37.5, 25), (0, 0)]


def equity_case() -> hwbopt.Instance:
    """100 to share between x (priority p, weight 2) and y (priority q, weight 1), effect 1
    each, targets 100 for both. The most outcome puts everything into x: 200, with q at 0% of
    its target. The most equity splits 50/50: both at 50%, outcome 150. Between them, with
    x >= 50: outcome 100 + x and equity (100 - x) / 100, a straight line."""
    return build(
        partners=[{"id": "board", "remit": ["x", "y"]}],
        priorities=[{"id": "p", "measure": "p", "unit": "points", "target_type": "soft",
                     "weight": 2},
                    {"id": "q", "measure": "q", "unit": "points", "target_type": "soft",
                     "weight": 1}],
        interventions=[{"id": "x", "unit_cost": 1, "need": 100},
                       {"id": "y", "unit_cost": 1, "need": 100}],
        responses=[("x", "p", 1, 1.0), ("y", "q", 1, 1.0)],
        targets=[("p", 2013, 100), ("q", 2013, 100)],
        budgets={"board": 100},
    )


@pytest.fixture(scope="module")
def lp() -> Frontier:
    return frontier(lp_case(), ("outcome", "cost"))


@pytest.fixture(scope="module")
def mip() -> Frontier:
    return frontier(mip_case(), ("outcome", "cost"), points=5, mip_gap=0.0)


def pairs(fr: Frontier) -> list[tuple[float, float]]:
    a, b = fr.between
    return [(p.values[a], p.values[b]) for p in fr.points]


def test_exact_frontier_has_the_three_breakpoints_by_hand(lp: Frontier) -> None:
    assert lp.status == "optimal" and lp.exact
    assert len(lp.points) == len(LP_FRONTIER)
    for (outcome, cost), (want_outcome, want_cost) in zip(pairs(lp), LP_FRONTIER, strict=True):
        assert outcome == approx(want_outcome) and cost == approx(want_cost)
    # every weighted solve found a breakpoint or closed a segment: none was wasted
    assert lp.solves == 4 + 2 * len(LP_FRONTIER) - 3
    # the best outcome's end is the cheapest plan with it: no money on e (weakly efficient)
    e = lp.points[0].result.tables["activity"]
    assert float(e[e.intervention == "e"].activity.sum()) == approx(0)


def test_the_other_way_round_is_the_same_frontier(lp: Frontier) -> None:
    other = frontier(lp_case(), "cost,outcome")
    assert other.between == ("cost", "outcome")
    assert [(o, c) for c, o in pairs(other)] == [
        (approx(o), approx(c)) for o, c in reversed(LP_FRONTIER)]


def test_mip_points_by_hand(mip: Frontier) -> None:
    assert mip.status == "optimal" and not mip.exact and mip.requested == 5
    for (outcome, cost), (want_outcome, want_cost) in zip(pairs(mip), MIP_FRONTIER,
                                                          strict=True):
        assert outcome == approx(want_outcome) and cost == approx(want_cost)
    runs = [bool(p.result.tables["choices"].runs.any()) for p in mip.points]
    assert runs == [True, True, False, False, False]
    # D stops between the second point and the third, and the words say so
    texts = [c["text"] for c in mip.points[2].changes if c["kind"] == "start"]
    assert texts == ["d does not run (before: ran throughout)"]


@pytest.mark.parametrize("case", ["lp", "mip"])
def test_ends_are_the_single_objective_optima(case: str, lp: Frontier, mip: Frontier) -> None:
    fr, inst = (lp, lp_case()) if case == "lp" else (mip, mip_case())
    best_outcome = hwbopt.solve(inst, mip_gap=0.0)
    cheapest = hwbopt.solve(inst, objective="cost", mip_gap=0.0)  # no targets: nothing forced
    assert fr.points[0].values["outcome"] == approx(best_outcome.objective)
    assert fr.points[-1].values["cost"] == approx(cheapest.objective)
    # the instance's own plan (its objective: outcome) is the first point
    assert fr.plan is not None and fr.plan["objective"] == "outcome"
    assert fr.plan["outcome"] == approx(best_outcome.objective)


def test_equity_end_is_the_criteria_level_optimum() -> None:
    inst = equity_case()
    fr = frontier(inst, ("outcome", "equity"))
    assert fr.status == "optimal" and fr.exact
    c = criteria(inst)
    most_equal = solve_for(c, EQUITY)
    assert most_equal.objective == approx(0.5)
    assert fr.points[-1].values["equity"] == approx(most_equal.objective)
    assert fr.points[-1].values["outcome"] == approx(150)  # the split, cleaned: all money spent
    assert fr.points[0].values["outcome"] == approx(hwbopt.solve(inst).objective)
    assert fr.points[0].values["equity"] == approx(0)
    assert len(fr.points) == 2  # one straight segment: no breakpoint between


@pytest.mark.parametrize("case", ["lp", "mip"])
def test_trade_off_is_monotone_and_every_plan_checked(case: str, lp: Frontier,
                                                      mip: Frontier) -> None:
    fr, inst = (lp, lp_case()) if case == "lp" else (mip, mip_case())
    values = pairs(fr)
    for (o1, c1), (o2, c2) in itertools.pairwise(values):
        # from A's end to B's: outcome falls and cost falls, never one without the other
        assert o2 < o1 - 1e-6 and c2 < c1 - 1e-6
    for p in fr.points:
        assert p.status == "optimal" and p.checked
        r = p.result
        assert hwbopt.check_solution(inst, r.tables, r.objective_kind, r.objective) == []


def test_parse_between_refuses_bad_pairs() -> None:
    assert parse_between("Outcome, cost") == ("outcome", "cost")
    for text, words in (("outcome", "two criteria"), ("outcome,outcome", "the same"),
                        ("outcome,fairness", "unknown criterion 'fairness'"),
                        ("outcome,cost,equity", "two criteria")):
        with pytest.raises(UsageError, match=words):
            parse_between(text)


@pytest.mark.parametrize("between", ["outcome,outcome", "outcome,happiness", "cost"])
def test_cli_bad_between_exits_2_before_any_work(between: str) -> None:
    # the instance does not exist: the option is refused before it is even read
    r = CliRunner().invoke(cli, ["frontier", "no/such/instance", "--between", between])
    assert r.exit_code == 2, r.output
    assert "--between" in r.output


def test_cli_points_below_two_exits_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["frontier", str(tmp_path), "--between", "outcome,cost",
                                 "--points", "1"])
    assert r.exit_code == 2 and "--points" in r.output


def test_cli_json_out_and_report(tmp_path: Path) -> None:
    src = write_folder(mip_case(), tmp_path / "board")
    out, rep = tmp_path / "out", tmp_path / "rep"
    r = CliRunner().invoke(cli, ["frontier", str(src), "--between", "outcome,cost",
                                 "--points", "5", "--mip-gap", "0", "--json", "--out",
                                 str(out), "--report", str(rep)])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    for key in ("status", "between", "exact", "points", "seconds", "kind", "provenance",
                "labels"):
        assert key in s
    assert s["kind"] == "frontier" and s["between"] == ["outcome", "cost"]
    assert s["exact"] is False and s["status"] == "optimal"
    assert s["provenance"]["instance_sha256"]
    for p in s["points"]:
        assert set(p) == {"outcome", "cost", "status", "checked", "changes"}
        assert p["checked"] is True
    assert [p["outcome"] for p in s["points"]] == [approx(o) for o, _ in MIP_FRONTIER]
    # the folder: the summary, a row per point, and each point's plan as solve --out writes it
    assert json.loads((out / "summary.json").read_text())["kind"] == "frontier"
    rows = (out / "frontier.csv").read_text().splitlines()
    assert rows[0].startswith("point,outcome,cost,status,checked") and len(rows) == 6
    for k in range(1, 6):
        point = json.loads((out / "points" / f"{k:02d}" / "summary.json").read_text())
        assert point["status"] == "optimal" and point["checked"]
        assert (out / "points" / f"{k:02d}" / "allocation.csv").exists()
    assert (rep / "report.html").exists() and (rep / "report.xlsx").exists()
    page = (rep / "report.html").read_text()
    assert "The frontier between outcome and cost" in page and 'id="chart-frontier"' in page
    # the same command again replaces its own results; another command's folder is refused
    again = CliRunner().invoke(cli, ["frontier", str(src), "--between", "outcome,cost",
                                     "--points", "3", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (out / "points").iterdir()) == ["01", "02", "03"]
    other = CliRunner().invoke(cli, ["solve", str(src), "--out", str(out)])
    assert other.exit_code == 2 and "frontier" in other.output


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_text_fits_without_cutting_a_figure(lp: Frontier, mip: Frontier,
                                                     width: int) -> None:
    for fr in (lp, mip):
        s = fr.summary()
        console = Console(width=width, record=True, highlight=False)
        print_frontier(s, console)
        text = console.export_text()
        assert max(len(line) for line in text.splitlines()) <= width
        a, b = fr.between
        for p in s["points"]:
            assert value(s, a, p[a]) in text and value(s, b, p[b]) in text
        assert "What changes along the frontier" in text


def test_report_draws_the_frontier_in_a_browser(lp: Frontier, tmp_path: Path) -> None:
    """The page opens offline with no console error and draws the frontier (a line through
    the breakpoints) and the instance's own plan (a diamond)."""
    from chromium import chromium_path, chromium_required, png_pixels, render

    if chromium_path() is None:
        if chromium_required():
            pytest.fail("HWBOPT_REQUIRE_CHROMIUM is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    html, _ = hwbopt.write_report(lp, tmp_path)
    page = render(html, expressions={
        "traces": "document.getElementById('chart-frontier').data.length",
        "points": "document.querySelectorAll('#chart-frontier .scatterlayer .point').length",
    })
    assert page.errors == [], page.errors
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))] == []
    assert page.values == {"traces": 2, "points": len(LP_FRONTIER) + 1}
    assert "What changes along the frontier" in page.text
    px = png_pixels(page.png)[:, :, :3].reshape(-1, 3)
    assert float((px.min(axis=1) < 235).mean()) > 0.02  # not blank
