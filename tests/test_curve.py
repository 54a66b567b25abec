"""`hwbopt curve`: the exact response of the plan to one input along a line.

Hand-derived cases fix the numbers: a greedy linear board whose breakpoints (a soft target
starting to fall short, a service falling out) are found on paper, and a board with a set-up
cost whose held go/no-go decision stops being worth it (marked by the re-solves with it free)
and then cannot hold at all (the curve ends there). On the tutorial the curve is compared with
``hwbopt.solve`` of the instance with the input set (a fresh build and mixed-integer solve) at
50 random points, objective and every outcome, for an input that moves limits along a line (a
council's cut) and one that compounds (a QIPP rate). Inputs the curve cannot follow exit 2 with
a message naming them; the command line writes its folder and its report. The fast path (the
curve's own pivots at each breakpoint) gives the curve HiGHS re-solves give, and so do its
fallbacks: steps it declines, and pieces that fail their certificate, traced again by HiGHS.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tiny import build

import hwbopt
from hwbopt.analyses.curve import Curve, curve
from hwbopt.cli import cli
from hwbopt.errors import UsageError
from hwbopt.schema import Change
from hwbopt.simplex import kernels, pivots
from hwbopt.simplex.pivots import Found, Pivoter

TUTORIAL = Path(__file__).resolve().parents[1] / "instances" / "tutorial"
CUT = "partners[council].cut.total"
QIPP = "partners[nhs].savings_rate"
REL = 1e-6  # the tolerance against a fresh solve


def greedy(cut: float = 0.1) -> hwbopt.Instance:
    """One partner, £100k a year less a cut c, one year. A: £1k a unit, 2 points, need 30;
    B: £2k a unit, 3 points, need 100; a soft target of 100 points (no penalty).

    With money M = 100 (1 - c): A first (2 a £k against 1.5), so while M >= 30 the objective
    is 60 + 1.5 (M - 30) = 15 + 1.5 M, slope -150 in c (1.5 points a £k); below, 2 M (slope
    -200, 2 a £k). B falls out where M = 30: c = 0.7. The target of 100 stops being met where
    15 + 1.5 M = 100, M = 170/3: c = 13/30; there the shortfall's column enters the basis, a
    breakpoint with no kink in the objective. Over c in [0, 0.9]: breakpoints 0, 13/30, 0.7,
    0.9 with objectives 165, 100, 60, 20.
    """
    return build(partners=[{"id": "board", "remit": ["a", "b"],
                            "cut": {"total": cut, "over_years": 1}}],
                 interventions=[{"id": "a", "unit_cost": 1, "need": 30},
                                {"id": "b", "unit_cost": 2, "need": 100}],
                 responses=[("a", "health", 1, 2.0), ("b", "health", 1, 3.0)],
                 budgets={"board": 100}, targets=[("health", 2013, 100)])


def set_up(cut: float = 0.1) -> hwbopt.Instance:
    """One partner, £100k less a cut c, one year. D: £40k to set up, £1k a unit, 5 points,
    need 30; E: £1k a unit, 1.5 points, need 1000.

    At c = 0 (M = 100) D runs: 150 + 1.5 (M - 70) = 195 against 150 for E alone. Held running,
    the curve is 150 + 1.5 (M - 70) down to M = 70 (c = 0.3), then 5 (M - 40) down to M = 40
    (c = 0.6), where the set-up cost takes every pound: past it the held plan has no solution.
    With D free the board drops it once 1.5 M > 5 (M - 40), M < 400/7 (c > 3/7).
    """
    return build(partners=[{"id": "board", "remit": ["d", "e"],
                            "cut": {"total": cut, "over_years": 1}}],
                 interventions=[{"id": "d", "unit_cost": 1, "need": 30, "setup_cost": 40},
                                {"id": "e", "unit_cost": 1, "need": 1000}],
                 responses=[("d", "health", 1, 5.0), ("e", "health", 1, 1.5)],
                 budgets={"board": 100})


def held_d(c: float) -> float:
    """The set-up board's objective with D held running, by hand."""
    m = 100 * (1 - c)
    return 150 + 1.5 * (m - 70) if m >= 70 else 5 * (m - 40)


def test_hand_derived_breakpoints_are_exact() -> None:
    s = curve(greedy(), "partners[board].cut.total", 0, 0.9).summary()
    assert s["exact"] is True and s["affine"] is True and s["status"] == "optimal"
    values = [b["value"] for b in s["breakpoints"]]
    assert values == pytest.approx([0, 13 / 30, 0.7, 0.9], rel=1e-12, abs=1e-12)
    assert [b["objective"] for b in s["breakpoints"]] == pytest.approx([165, 100, 60, 20],
                                                                       rel=1e-12)
    pieces = s["pieces"]
    assert [p["slope"] for p in pieces] == pytest.approx([-150, -150, -200], rel=1e-9)
    assert [p["money_value"] for p in pieces] == pytest.approx([1.5, 1.5, 2.0], rel=1e-9)
    assert all(p["binding"] == ["budget[board,2013]"] for p in pieces)
    # the words name the rule without the instance's own figure, which the cut moves
    assert all(p["binding_text"] == ["board budget, 2013/14"] for p in pieces)
    assert s["dropouts"] == [{"intervention": "b", "at": pytest.approx(0.7, rel=1e-12)}]
    (target,) = s["targets"]
    assert target["met_at_from"] is True and target["met_throughout"] is False
    assert target["last_met"] == pytest.approx(13 / 30, rel=1e-12)
    assert s["integer_points_checked"] == 0 and s["integer_changes"] == []


def test_integer_changes_are_marked_and_the_curve_ends_where_the_plan_cannot_hold() -> None:
    cv = curve(set_up(), "partners[board].cut.total", 0, 0.8)
    s = cv.summary()
    assert s["status"] == "optimal" and s["exact"] is True
    assert s["feasible_to"] == pytest.approx(0.6, abs=1e-9)
    assert [b["value"] for b in s["breakpoints"]] == pytest.approx([0, 0.3, 0.6], abs=1e-12)
    # checked at the breakpoints and the pieces' middles: 0, 0.15, 0.3, 0.45, 0.6; with D
    # free the board does better only past 3/7
    assert s["integer_points_checked"] == 5
    marked = s["integer_changes"]
    assert [c["value"] for c in marked] == pytest.approx([0.45, 0.6], abs=1e-9)
    assert [c["objective"] for c in marked] == pytest.approx([1.5 * 55, 1.5 * 40], rel=1e-9)
    assert all(c["changed"] == ["d runs, 2013/14"] for c in marked)
    for c in np.random.default_rng(1).uniform(0, 0.6, 20):
        assert cv.objective_at(float(c)) == pytest.approx(held_d(float(c)), rel=1e-9, abs=1e-9)



def test_the_decisions_held_can_be_those_optimal_elsewhere_in_the_range() -> None:
    """--hold-at: at c = 0.5 the board's optimum drops D (E alone: 1.5 M = 75 against 50 with
    D), so held there the curve is E alone over the whole range, 150 (1 - c) by hand, and no
    longer ends at 0.6 where D's set-up cost took every pound."""
    path = "partners[board].cut.total"
    cv = curve(set_up(), path, 0, 0.8, hold_at=0.5)
    s = cv.summary()
    assert s["status"] == "optimal" and s["exact"] is True and s["feasible_to"] is None
    for c in np.random.default_rng(2).uniform(0, 0.8, 10):
        assert cv.objective_at(float(c)) == pytest.approx(150 * (1 - c), rel=1e-9)
    early = curve(set_up(), path, 0, 0.8, hold_at=0.2, mip_checks=0)
    assert early.objective_at(0.45) == pytest.approx(held_d(0.45), rel=1e-9)
    with pytest.raises(UsageError, match=r"--hold-at 0\.9: expected a value from"):
        curve(set_up(), path, 0, 0.8, hold_at=0.9)

def _solved(inst: hwbopt.Instance, path: str, value: float) -> hwbopt.Result:
    """The instance with the input set, built and solved afresh (the MIP too)."""
    return hwbopt.solve(hwbopt.apply_changes(inst, [Change(path=path, value=value)],
                                             "test_curve"))


def _agrees(cv: Curve, result: hwbopt.Result, t: float) -> None:
    assert result.status == "optimal"
    assert cv.objective_at(t) == pytest.approx(result.objective, rel=REL)
    assert cv.readers is not None
    priorities, years = list(cv.readers.d.PRIORITIES), list(cv.readers.d.YEARS)
    outcomes = cv.outcomes_at(t)
    for row in result.outcomes.itertuples():
        got = outcomes[priorities.index(row.priority), years.index(row.year)]
        assert got == pytest.approx(row.achieved, rel=REL, abs=1e-9)


def test_fifty_random_points_equal_a_fresh_solve() -> None:
    inst = hwbopt.load(TUTORIAL)
    cv = curve(inst, CUT, 0, 0.5)
    assert cv.exact and cv.affine and len(cv.pieces) >= 2
    # no point checked does better with the sites free: the fresh MIP is the curve's plan
    assert cv.checked_points > 0 and cv.integer_checks == []
    for t in np.random.default_rng(19).uniform(0, 0.5, 50):
        _agrees(cv, _solved(inst, CUT, float(t)), float(t))


def test_a_compounding_input_is_traced_exactly() -> None:
    inst = hwbopt.load(TUTORIAL)
    cv = curve(inst, QIPP, 0.02, 0.08, mip_checks=0)
    assert cv.exact and not cv.affine  # 1 - (1 - r)^(t+1): a polynomial in the rate
    assert cv.line is not None and cv.line.degree == len(inst.years)
    for t in np.random.default_rng(5).uniform(0.02, 0.08, 10):
        _agrees(cv, _solved(inst, QIPP, float(t)), float(t))


@pytest.mark.parametrize(("path", "lo", "hi", "words"), [
    ("interventions[reablement].unit_cost", 1.0, 2.0, "only limits"),
    (CUT, 0.5, 1.2, "breaks its own rules"),
    ("partners[nobody].cut.total", 0.0, 0.5, "nobody"),
    (QIPP, 0.0, 0.1, "structure"),
])
def test_inputs_the_curve_cannot_follow_are_refused(path: str, lo: float, hi: float,
                                                     words: str) -> None:
    with pytest.raises(UsageError, match=words):
        curve(hwbopt.load(TUTORIAL), path, lo, hi, mip_checks=0)


def test_cli_json_out_and_report(tmp_path: Path) -> None:
    out, rep = tmp_path / "out", tmp_path / "rep"
    r = CliRunner().invoke(cli, ["curve", str(TUTORIAL), "--input", CUT, "--from", "0",
                                 "--to", "0.5", "--mip-checks", "0", "--json", "--out",
                                 str(out), "--report", str(rep)])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    for key in ("input", "from", "to", "breakpoints", "pieces", "targets", "dropouts",
                "exact", "seconds", "kind", "provenance", "labels"):
        assert key in s
    assert s["kind"] == "curve" and s["input"] == CUT and s["exact"] is True
    assert s["provenance"]["instance_sha256"]
    assert set(s["pieces"][0]) >= {"from", "to", "slope", "binding"}
    assert set(s["targets"][0]) >= {"priority", "year", "last_met"}
    assert json.loads((out / "summary.json").read_text())["kind"] == "curve"
    rows = (out / "breakpoints.csv").read_text().splitlines()
    assert rows[0] == "value,objective" and len(rows) == len(s["breakpoints"]) + 1
    assert (rep / "report.html").stat().st_size > 0 and (rep / "report.xlsx").exists()
    again = CliRunner().invoke(cli, ["report", str(out), "--out", str(tmp_path / "rep2")])
    assert again.exit_code == 0, again.output
    html = (tmp_path / "rep2" / "report.html").read_text()
    assert "The curve" in html and "Targets along the range" in html


def test_cli_text_and_usage_errors(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["curve", str(TUTORIAL), "--input", CUT, "--from", "0",
                                 "--to", "0.5"])
    assert r.exit_code == 0, r.output
    assert "Breakpoints and pieces" in r.output and "met up to" in r.output
    # the range is refused before the instance is read
    bad = CliRunner().invoke(cli, ["curve", "no/such/board", "--input", CUT, "--from", "0.5",
                                   "--to", "0.1"])
    assert bad.exit_code == 2 and "--from" in bad.output
    cost = CliRunner().invoke(cli, ["curve", str(TUTORIAL), "--input",
                                    "interventions[reablement].unit_cost", "--from", "1",
                                    "--to", "2"])
    assert cost.exit_code == 2 and "only limits" in cost.output
    assert "Traceback" not in cost.output


# ---- the fast path: the curve's own pivots at each breakpoint, and its fallback -------------


def _same_curve(got: Curve, want: Curve, points: int = 20) -> None:
    """Two traces of one input: the same breakpoints and plan (the objective and every
    outcome) wherever they are compared."""
    assert got.exact and want.exact
    assert got.breakpoint_values == pytest.approx(want.breakpoint_values, rel=0, abs=1e-9)
    assert got.readers is not None
    priorities, years = len(got.readers.d.PRIORITIES), len(got.readers.d.YEARS)
    for t in np.random.default_rng(7).uniform(got.lo, got.hi, points):
        assert got.objective_at(float(t)) == pytest.approx(want.objective_at(float(t)),
                                                           rel=1e-9, abs=1e-9)
        assert got.outcomes_at(float(t)).shape == (priorities, years)
        assert got.outcomes_at(float(t)) == pytest.approx(want.outcomes_at(float(t)),
                                                          rel=1e-9, abs=1e-9)


def test_the_fast_path_pivots_itself_and_gives_the_curve_of_highs_re_solves() -> None:
    inst = hwbopt.load(TUTORIAL)
    fast = curve(inst, CUT, 0, 0.5, mip_checks=0)
    slow = curve(inst, CUT, 0, 0.5, mip_checks=0, fast=False)
    s = fast.summary()
    # one HiGHS solve (the start), every later piece from the curve's own pivots
    assert s["solves"] == 1 and s["fast_steps"] == len(fast.pieces) - 1 >= 2
    assert s["fallback_steps"] == 0 and s["repaired_pieces"] == 0
    assert s["pivots"] >= s["fast_steps"] and s["certify_seconds"] > 0
    assert slow.fast_steps == 0 and slow.pivots == 0 and slow.solves == len(slow.pieces)
    _same_curve(fast, slow)


def test_a_curved_input_takes_the_fast_path_too() -> None:
    inst = hwbopt.load(TUTORIAL)
    fast = curve(inst, QIPP, 0.01, 0.3, mip_checks=0)
    assert not fast.affine and fast.fast_steps >= 1 and fast.fallback_steps == 0
    _same_curve(fast, curve(inst, QIPP, 0.01, 0.3, mip_checks=0, fast=False))
    for t in (0.05, 0.28):  # both pieces against a fresh build and solve
        _agrees(fast, _solved(inst, QIPP, t), t)


def test_steps_the_pivots_decline_are_taken_by_highs_re_solves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    inst = hwbopt.load(TUTORIAL)
    slow = curve(inst, CUT, 0, 0.5, mip_checks=0, fast=False)
    real = Pivoter.advance
    calls: list[float] = []

    def every_other(self: Pivoter, a: float) -> Found | None:
        calls.append(a)
        return None if len(calls) % 2 else real(self, a)

    monkeypatch.setattr(Pivoter, "advance", every_other)
    mixed = curve(inst, CUT, 0, 0.5, mip_checks=0)
    assert mixed.fallback_steps >= 1 and mixed.fast_steps >= 1
    assert mixed.solves > mixed.fallback_steps  # the start, and at least one a declined step
    _same_curve(mixed, slow)
    # pivots that always decline (as on endless degenerate pivots): HiGHS takes every step
    monkeypatch.setattr(pivots, "MAX_DEGENERATE", 0)
    monkeypatch.setattr(Pivoter, "advance", real)
    declined = curve(inst, CUT, 0, 0.5, mip_checks=0)
    assert declined.fast_steps == 0 and declined.fallback_steps == len(slow.pieces) - 1
    _same_curve(declined, slow)


def test_a_fast_piece_that_fails_its_certificate_is_traced_again_by_highs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    inst = hwbopt.load(TUTORIAL)
    slow = curve(inst, CUT, 0, 0.5, mip_checks=0, fast=False)
    real = Pivoter.advance
    spoiled: list[float] = []

    def wrong_duals(self: Pivoter, a: float) -> Found | None:
        found = real(self, a)
        if found is not None and not spoiled:  # duals no basis has: no certificate
            found.dual = found.dual + 1.0
            spoiled.append(a)
        return found

    monkeypatch.setattr(Pivoter, "advance", wrong_duals)
    cv = curve(inst, CUT, 0, 0.5, mip_checks=0)
    s = cv.summary()
    assert spoiled and s["repaired_pieces"] >= 1 and s["exact"] is True
    assert not any("certificate" in w for w in s["warnings"])
    _same_curve(cv, slow)


def test_the_batched_root_finder_gives_the_least_exit_of_each_polynomial() -> None:
    """The least positive root after which a polynomial turns negative, as the ratio tests
    of a curved input take it, against a root at a time with ``np.roots``."""
    rng = np.random.default_rng(3)

    def by_roots(c: np.ndarray, smax: float) -> float:
        for r in np.sort([z.real for z in np.roots(c[::-1]) if abs(z.imag) <= 1e-12]):
            if 1e-14 < r < smax and np.polyval(c[::-1], r + max(1e-9 * r, 1e-14)) < 0:
                return float(r)
        return smax

    for _ in range(60):
        k = int(rng.integers(1, 40))
        coef = rng.normal(size=(5, k)) * rng.uniform(0.01, 100.0, size=(5, 1))
        coef[0] = np.abs(coef[0]) * (rng.uniform(size=k) > 0.2)  # inside, or at the bound
        coef[3:, : k // 3] = 0.0  # lower degrees too
        smax = float(rng.uniform(0.01, 3.0))
        want = min(by_roots(coef[:, j], smax) for j in range(k))
        assert float(kernels.least_exits(coef, smax, 1e-14).min()) == pytest.approx(
            want, rel=1e-9, abs=1e-12)


def test_refactorising_between_pivots_gives_the_same_curve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A factorisation after every pivot (values, rates and duals recomputed from it) against
    the updated factors: the same curve."""
    inst = hwbopt.load(TUTORIAL)
    updated = curve(inst, CUT, 0, 0.5, mip_checks=0)
    real = Pivoter._factorise
    made: list[int] = []

    def counted(self: Pivoter) -> bool:
        made.append(len(made))
        return real(self)

    monkeypatch.setattr(pivots, "REFACTOR", 1)
    monkeypatch.setattr(Pivoter, "_factorise", counted)
    refactorised = curve(inst, CUT, 0, 0.5, mip_checks=0)
    assert len(made) >= 3 and refactorised.fast_steps == updated.fast_steps >= 2
    _same_curve(refactorised, updated)


def test_the_county_cut_through_hundreds_of_compiled_pivots_is_highs_optimum_everywhere(
) -> None:
    """The fast path over a long run: the county's cut, hundreds of pivots, several
    factorisations and full eta files. At 30 random cuts the curve's objective is HiGHS's own
    optimum of the LP with the plan's integer decisions held (solved afresh there, no code of
    the pivots shared), and the plan the curve gives there keeps that LP's rules."""
    from hwbopt import highs
    from hwbopt.analyses.curve import _bounds_at
    from hwbopt.compile import Compiled, with_bounds

    county = Path(__file__).resolve().parents[1] / "instances" / "county"
    cv = curve(hwbopt.load(county), "partners[county].cut.total", 0.0, 0.5, mip_checks=0)
    assert cv.exact and cv.fallback_steps == 0 and cv.repaired == 0
    assert cv.pivots > 2 * pivots.REFACTOR and len(cv.pieces) > 300
    assert cv.readers is not None and cv.line is not None
    comp = cv.readers.comp
    plan = np.round(cv.x_at(0.0))
    held = with_bounds(comp, col_lower=np.where(comp.integer, plan, comp.col_lower),
                       col_upper=np.where(comp.integer, plan, comp.col_upper))
    held = Compiled(**{**held.__dict__, "integer": np.zeros(comp.n_cols, dtype=bool)})
    for t in np.random.default_rng(23).uniform(0.0, 0.5, 30):
        at = _bounds_at(held, cv.line, float(t))
        fresh = highs.solve_compiled(at, threads=1)
        assert fresh.objective is not None
        assert cv.objective_at(float(t)) == pytest.approx(fresh.objective, rel=1e-9)
        x = cv.x_at(float(t))
        rows = at.A @ x
        tol = 1e-6 * (1.0 + np.abs(x))
        assert np.all(x >= at.col_lower - tol) and np.all(x <= at.col_upper + tol)
        tol = 1e-6 * (1.0 + np.abs(rows))
        assert np.all(rows >= at.row_lower - tol) and np.all(rows <= at.row_upper + tol)
