"""The decomposition's master kept small, and its limits kept honest (hwbopt/plan/decomposed.py):

- Cut ageing: a cut is deleted only after the master's LP optimum has left it slack
  ``CUT_AGE`` rounds in a row; the rows deleted are exactly those, checked against the row
  activities HiGHS reported, and the rest of the master is untouched.
- A master that deletes every cut slack for a single round (the most it could lose) still
  ends at the extensive form's optimum within the gap, with a bound the extensive form's plan
  respects: dropping cuts never makes the bound wrong.
- The start plans (each scenario's best recourse to the mean-value plan, found already) are
  the first incumbent, at the value HiGHS finds for each scenario with that first stage held,
  solved afresh; no scenario is branched on again for them.
- HiGHS measures an LP's time limit on the clock of every run its object has made: the held
  subproblems and the master must each get the run's limit per solve, not once in all.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest

import hwbopt
import hwbopt.plan.decomposed as dec
from hwbopt.plan import Risk, plan
from hwbopt.plan.extensive import elastic_of, solve_extensive
from hwbopt.plan.recourse import Pool, pool, solver, sub_spec
from hwbopt.plan.scenarios import Scenarios, draw_scenarios
from hwbopt.plan.stages import first_stage
from hwbopt.status import Status

TUTORIAL = hwbopt.shipped_instance("tutorial")


def tutorial(scenarios: int, seed: int = 3) -> tuple[Scenarios, np.ndarray, object]:
    inst = hwbopt.load(TUTORIAL)
    sc = draw_scenarios(inst, stress_set="cuts_and_pressures", scenarios=scenarios, seed=seed)
    first = first_stage(sc.comp, sc.built.data.YEARS[0])
    return sc, first, elastic_of(sc.comp, first, [sc.arrays, sc.mean])


def floors_of(P: Pool, sense: int) -> np.ndarray:
    return np.array([sense * r.value for r in P.own([], relax=True)])


def test_ageing_deletes_only_cuts_slack_for_cut_age_rounds() -> None:
    sc, first, el = tutorial(6)
    comp = sc.comp
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    with pool(spec) as P:
        floors = floors_of(P, comp.sense)
        master = dec.Master(spec, 0, dec.hard_first_rows(spec), floors, sc.probability,
                            Risk())
        nF = int(first.sum())
        cuts_made: list[tuple[int, float, np.ndarray, np.ndarray]] = []

        def add(values: np.ndarray, grads: np.ndarray, at: np.ndarray) -> None:
            master.add_cuts(np.arange(sc.size), values, grads, at)
            cuts_made.extend((s, float(values[s]), grads[s], at) for s in range(sc.size))

        # cuts at three first stages: each scenario's own optimum's, so they differ
        for s in range(3):
            own = P.own([], relax=True)[s].x
            assert own is not None
            found = P.fixed(own, exact=False)
            add(np.array([r.cut_value for r in found]), np.vstack([r.grad for r in found]),
                own[first])
        # and one cut per scenario far below its floor: slack whatever the master does
        add(floors - 1e3 * np.maximum(1.0, np.abs(floors)), np.zeros((sc.size, nF)),
            np.zeros(nF))
        sol = master.solve(None, 0.0)
        assert sol.row_activity is not None
        lp = master.h.getLp()
        lower = np.asarray(lp.row_lower_)
        base = master.base_rows
        act = sol.row_activity
        assert sol.x is not None
        # slack by the module's measure, worked out here from HiGHS's numbers: each cut
        # written out at the master's first stage, against its scenario's θ there
        theta = sol.x[master.t0:master.t0 + sc.size]
        z = sol.x[:master.nF]
        rows = [(s, v - g @ at) for s, v, g, at in cuts_made]
        below = np.array([theta[s] - (rhs + g @ z) for (s, rhs), (_, _, g, _)
                          in zip(rows, cuts_made, strict=True)])
        slack = below > dec.SLACK * np.maximum(1.0, np.abs(theta[[s for s, _ in rows]]))
        assert slack.any() and (~slack).any(), "a mix of tight and slack cuts to tell apart"
        kept_rows = lower[base:][~slack]
        for _ in range(dec.CUT_AGE - 1):
            assert master.age_cuts(sol.x, act) == 0  # not yet old enough
        assert master.h.getNumRow() == base + 4 * sc.size
        assert master.age_cuts(sol.x, act) == int(slack.sum())
        after = master.h.getLp()
        assert master.h.getNumRow() == base + int((~slack).sum())
        np.testing.assert_array_equal(np.asarray(after.row_lower_)[base:], kept_rows)
        np.testing.assert_array_equal(np.asarray(after.row_lower_)[:base], lower[:base])
        assert master.held == int((~slack).sum()) and master.dropped == int(slack.sum())
        # the master without them still solves, and its bound is no higher than with them
        again = master.solve(None, 0.0)
        assert again.bound is not None and sol.bound is not None
        assert again.bound <= sol.bound + 1e-7 * max(1.0, abs(sol.bound))


def test_dropping_every_slack_cut_at_once_still_reaches_the_optimum(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dec, "CUT_AGE", 1)
    inst = hwbopt.load(TUTORIAL)
    kw = {"stress_set": "cuts_and_pressures", "scenarios": 16, "seed": 5, "mip_gap": 1e-4}
    res = plan(inst, method="decomposed", **kw)
    ef = plan(inst, method="extensive", **kw)
    assert res.status == ef.status == "optimal", (res.message, ef.message)
    assert res.decomposition is not None and res.decomposition["cuts_dropped"] > 0
    assert res.decomposition["cuts_held"] == res.decomposition["cuts_added"] \
        - res.decomposition["cuts_dropped"]
    assert res.rp is not None and ef.rp is not None and res.bound is not None
    tol = 2e-4 * max(abs(ef.rp), 1.0) + 1e-6
    assert res.rp == pytest.approx(ef.rp, abs=tol)
    # the decomposition's bound holds for the extensive form's plan (maximised outcome)
    assert ef.rp <= res.bound + 1e-6 * max(abs(ef.rp), 1.0)


def test_the_start_plans_are_the_first_incumbent_without_branching_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sc, first, el = tutorial(5, seed=9)
    comp, sense = sc.comp, sc.comp.sense
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    mv = solve_extensive(comp, first, sc.mean, np.ones(1), Risk(), el, mip_gap=0.0)
    assert mv.x is not None
    z0 = mv.x[0]
    # each scenario's best recourse to z0, and its value, from HiGHS on the scenario alone
    fresh = [solve_extensive(comp, first, sc.arrays.take([s]), np.ones(1), Risk(), el,
                             fixed=z0, mip_gap=0.0) for s in range(sc.size)]
    assert all(f.x is not None and f.outcome.objective is not None for f in fresh)
    plans = np.vstack([f.x[0] for f in fresh])  # type: ignore[index]
    want = float(sc.probability @ np.array([f.outcome.objective for f in fresh]))
    exact_calls: list[bool] = []
    with pool(spec) as P:
        real = P.fixed

        def spy(z: np.ndarray, exact: bool = True, scenarios: object = None) -> list:
            exact_calls.append(exact)
            return real(z, exact=exact)

        monkeypatch.setattr(P, "fixed", spy)
        rounds: list[dec.Round] = []
        out = dec.solve_decomposed(P, sc.probability, Risk(), start=z0,
                                   floors=floors_of(P, sense), mip_gap=0.0,
                                   arrays_values=sc.values, start_plans=plans,
                                   on_round=rounds.append)
    assert exact_calls[0] is False  # the start plan's cuts only: its values are known
    assert rounds and rounds[0].best == pytest.approx(want, abs=1e-6 * max(1.0, abs(want)))
    assert out.status == Status.OPTIMAL
    assert out.outcome.objective is not None
    assert out.outcome.objective >= want - 1e-6 * max(1.0, abs(want))  # never worse


def test_held_subproblems_get_the_limit_per_solve_not_in_all() -> None:
    from hwbopt.plan import recourse

    sc, first, el = tutorial(4)
    limit = 0.05
    spec = sub_spec(sc.comp, first, sc.arrays, el, limit, 0.0)
    h = solver()
    z = np.zeros(sc.comp.n_cols)
    n = 0
    with pool(spec) as P:
        # until this process's HiGHS has run for more than the limit in all, each pass from
        # nothing (the held LPs forgotten) so that its clock moves
        while (h.getRunTime() <= 2 * limit or n < 3) and n < 5000:
            for r in P.fixed(z, exact=False):
                assert r.status == Status.OPTIMAL, (n, r.status)
            recourse.forget(spec.key)
            n += 1
    assert h.getRunTime() > 2 * limit


def test_the_master_lp_gets_its_limit_per_solve_not_in_all() -> None:
    sc, first, el = tutorial(4)
    spec = sub_spec(sc.comp, first, sc.arrays, el, None, 0.0)
    with pool(spec) as P:
        floors = floors_of(P, sc.comp.sense)
    master = dec.Master(spec, 0, dec.hard_first_rows(spec), floors, sc.probability, Risk())
    limit = 0.02
    n = 0
    while (master.h.getRunTime() <= 3 * limit or n < 3) and n < 5000:
        master.h.clearSolver()
        sol = master.run(limit)
        assert sol.status == Status.OPTIMAL, (n, sol.status)
        n += 1
    assert master.h.getRunTime() > 3 * limit
    # HiGHS itself, asked the bare limit, stops at once on the same object: what
    # hwbopt.highs.settle's reading of the clock avoids for every run
    master.h.clearSolver()
    master.h.setOptionValue("time_limit", limit)
    master.h.run()
    assert master.h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
