"""The decomposition (``hwbopt plan --method decomposed``) against the extensive form, the
hand-derived site case, and its own pieces checked by routes that share none of its code.

- Agreement: on the hand-derived site case (tests/test_plan.py's docstring) the decomposition
  finds the hand's RP, EEV, VSS, WS and EVPI under the expectation and each CVaR weight; on
  the tutorial's sampled set both methods' values agree within the gap, expectation and CVaR.
- Cuts: every cut the master is given lies below the scenario's true value at the extensive
  form's optimum, the value of a fixed first stage computed afresh by HiGHS on that scenario
  alone.
- Second-stage integers: on an S-shaped response (a binary orders its pieces) the exact
  recourse by branch and bound equals HiGHS's MIP of the same subproblem, and a decomposition
  that cannot close its gap says so (``stopped``), never ``optimal``.
- Workers: the same plan, to the last digit, in this process and on two workers; the same
  answers from forked local workers, Dask workers and this process.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import hwbopt
from hwbopt.plan import Risk, plan
from hwbopt.plan.decomposed import Decomposed
from hwbopt.plan.extensive import (
    TwoStageSolution,
    build_extensive,
    elastic_of,
    solve_extensive,
)
from hwbopt.plan.recourse import fixed_recourse, pool, sub_spec
from hwbopt.plan.scenarios import draw_scenarios
from hwbopt.plan.stages import first_stage

CASE = Path(__file__).resolve().parent / "plan_cases" / "site_cut"
TUTORIAL = hwbopt.shipped_instance("tutorial")
ABS = 1e-6


def within_gap(a: float, b: float, gap: float = 1e-4) -> float:
    return gap * max(abs(a), abs(b)) + 1e-6


@pytest.mark.parametrize(("set_name", "risk", "numbers"), [
    # tests/test_plan.py docstring: (RP, EEV, VSS, WS, EVPI)
    ("cuts", Risk(), (194.0, 190.0, 4.0, 202.0, 8.0)),
    ("cuts_cvar", Risk("cvar", 0.5, 1.0), (194.0, 190.0, 4.0, 202.0, 8.0)),
    ("cuts_cvar", Risk("cvar", 0.5, 0.0), (220.0, 220.0, 0.0, 226.0, 6.0)),
    ("cuts_cvar", Risk("cvar", 0.5, 0.5), (205.0, 205.0, 0.0, 214.0, 9.0)),
])
def test_decomposition_finds_the_hand_derived_measures(set_name: str, risk: Risk,
                                                       numbers: tuple[float, ...]) -> None:
    inst = hwbopt.load(CASE)
    res = plan(inst, stress_set=set_name, risk=risk, method="decomposed", mip_gap=0.0)
    assert res.status == "optimal", res.message
    assert res.method == "decomposed"
    got = (res.rp, res.eev, res.vss, res.ws, res.evpi)
    for g, want in zip(got, numbers, strict=True):
        assert g == pytest.approx(want, abs=1e-5)
    ef = plan(inst, stress_set=set_name, risk=risk, method="extensive", mip_gap=0.0)
    assert [e["value"] for e in res.first_stage] == pytest.approx(
        [e["value"] for e in ef.first_stage], abs=1e-6)


@pytest.mark.parametrize("risk", [Risk(), Risk("cvar", 0.8, 0.5)], ids=["mean", "cvar"])
def test_both_methods_agree_within_the_gap_on_the_tutorial(risk: Risk) -> None:
    inst = hwbopt.load(TUTORIAL)
    runs = {m: plan(inst, stress_set="cuts_and_pressures", scenarios=30, risk=risk, method=m,
                    mip_gap=1e-4) for m in ("extensive", "decomposed")}
    for m, res in runs.items():
        assert res.status == "optimal", (m, res.message)
        assert res.bound is not None and res.gap is not None and res.gap <= 1e-4
    ef, dec = runs["extensive"], runs["decomposed"]
    assert dec.rp == pytest.approx(ef.rp, abs=within_gap(ef.rp, dec.rp))
    # each method's proven bound holds for the other's plan
    assert dec.rp <= ef.bound + within_gap(ef.rp, dec.rp, 1e-9)
    assert ef.rp <= dec.bound + within_gap(ef.rp, dec.rp, 1e-9)
    for key in ("eev", "ws", "ev"):
        assert getattr(dec, key) == pytest.approx(getattr(ef, key), rel=1e-6), key


Cut = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _cuts_and_truth(groups: int | None) -> tuple[list[Cut], np.ndarray, np.ndarray,
                                                 TwoStageSolution, Decomposed]:
    """A whole decomposition of 12 tutorial scenarios (``groups``: θ groups, None for one
    per scenario), each cut it added as (weights over the scenarios, values, gradients, the
    first stage it was taken at); each scenario's value at the extensive form's optimum,
    solved afresh by HiGHS (its rows, not the cuts); that optimum's first stage; the
    extensive form's answer and the decomposition's."""
    import hwbopt.plan.decomposed as dec_mod
    from hwbopt import highs

    inst = hwbopt.load(TUTORIAL)
    sc = draw_scenarios(inst, stress_set="cuts_and_pressures", scenarios=12, seed=3)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    ef = solve_extensive(comp, first, sc.arrays, sc.probability, Risk(), el, mip_gap=0.0)
    assert ef.z is not None
    cuts: list[Cut] = []
    original = dec_mod.Master.add_cuts

    def record(self: dec_mod.Master, rows: np.ndarray, values: np.ndarray,
               grads: np.ndarray, at: np.ndarray) -> None:
        cuts.append((self.weights.toarray()[rows], values.copy(), np.asarray(grads).copy(),
                     at.copy()))
        original(self, rows, values, grads, at)

    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    dec_mod.Master.add_cuts = record  # type: ignore[method-assign]
    try:
        with pool(spec) as P:
            floors = np.array([comp.sense * r.value for r in P.own([], relax=True)])
            start = ef.x[0] if ef.x is not None else ef.z
            assert start is not None
            dec = dec_mod.solve_decomposed(
                P, sc.probability, Risk(), start=start if groups else 0.0 * start,
                floors=floors, mip_gap=1e-6 if groups else 0.0, arrays_values=sc.values,
                groups=groups)
    finally:
        dec_mod.Master.add_cuts = original  # type: ignore[method-assign]
    true = []
    for s in range(sc.size):
        one, _ = build_extensive(comp, first, sc.arrays.take([s]), np.ones(1), Risk(), el,
                                 fixed=ef.z, bounded=spec.bounded)
        raw = highs.solve_compiled(replace(one, integer=np.zeros(one.n_cols, dtype=bool)))
        assert raw.objective is not None
        true.append(comp.sense * raw.objective)
    return cuts, np.asarray(true), ef.z[first], ef, dec


def _below(cuts: list[Cut], true: np.ndarray, zf: np.ndarray) -> None:
    """Each cut at ``zf`` lies below the weighted mean of its scenarios' true values."""
    for weights, values, grads, at in cuts:
        at_opt = values + grads @ zf - grads @ at
        assert np.all(at_opt <= weights @ true + 1e-6 * np.maximum(1, np.abs(at_opt)))


def test_every_cut_lies_below_the_scenarios_true_value() -> None:
    """Cuts recorded from a whole decomposition, evaluated at the extensive form's optimum,
    against each scenario's value there, solved afresh by HiGHS (its rows, not the cuts)."""
    cuts, true, zf, _, _ = _cuts_and_truth(None)
    assert sum(len(c[0]) for c in cuts) > len(true)
    # one θ per scenario: each cut's weights pick out its scenario alone
    assert all(np.array_equal(np.sort(c[0], axis=1)[:, -1], np.ones(len(c[0]))) for c in cuts)
    _below(cuts, true, zf)


def s_shaped(tmp_path: Path) -> hwbopt.Instance:
    """The site case with reablement's response S-shaped (1 point an episode up to half its
    need, then 3): a binary orders the pieces, in the second stage too."""
    from hwbopt.schema import ResponseRow

    inst = hwbopt.load(CASE)
    pieces = (ResponseRow(intervention="reablement", priority="health", upto_share=0.5,
                          effect=1.0),
              ResponseRow(intervention="reablement", priority="health", upto_share=1.0,
                          effect=3.0),
              *[r for r in inst.responses if r.intervention != "reablement"])
    return inst.model_copy(update={"responses": pieces})


def test_branch_and_bound_recourse_equals_highs_mip(tmp_path: Path) -> None:
    inst = s_shaped(tmp_path)
    sc = draw_scenarios(inst, stress_set="cuts", scenarios=2)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    assert (comp.integer & ~first).any(), "the S-shaped response's order binaries"
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    rng = np.random.default_rng(5)
    base = plan(inst, stress_set="cuts", method="extensive", mip_gap=0.0)
    assert base.x_hedged is not None
    for trial in range(6):
        z = base.x_hedged[0].copy()
        # another first year: activity scaled (within need), sites as the plan has them
        z[first & ~comp.integer] *= rng.uniform(0.3, 1.0)
        for s in range(sc.size):
            mine = fixed_recourse(spec, s, z, exact=True)
            theirs = solve_extensive(comp, first, sc.arrays.take([s]), np.ones(1), Risk(), el,
                                     fixed=z, mip_gap=0.0)
            assert mine.value is not None and theirs.outcome.objective is not None
            assert mine.value == pytest.approx(theirs.outcome.objective, abs=1e-6), (trial, s)


def test_decomposition_never_calls_an_open_gap_optimal(tmp_path: Path) -> None:
    inst = s_shaped(tmp_path)
    res = plan(inst, stress_set="cuts", method="decomposed", mip_gap=0.0)
    ef = plan(inst, stress_set="cuts", method="extensive", mip_gap=0.0)
    assert ef.status == "optimal"
    assert res.rp is not None and res.bound is not None and res.gap is not None
    assert res.rp <= ef.rp + 1e-6 and res.bound >= ef.rp - 1e-6
    if res.gap > 1e-9:
        assert res.status == "stopped" and "LP relaxation" in res.message
    else:
        assert res.status == "optimal" and res.rp == pytest.approx(ef.rp, abs=1e-6)


def test_the_same_plan_on_one_worker_and_on_two() -> None:
    inst = hwbopt.load(TUTORIAL)
    runs = [plan(inst, stress_set="cuts_and_pressures", scenarios=24, seed=11,
                 method="decomposed", workers=w) for w in (1, 2)]
    one, two = runs
    assert one.status == two.status == "optimal"
    assert [e["value"] for e in one.first_stage] == [e["value"] for e in two.first_stage]
    for key in ("rp", "bound", "eev", "ws", "ev"):
        assert getattr(one, key) == getattr(two, key), key
    np.testing.assert_array_equal(one.f_hedged, two.f_hedged)


def test_a_cleaned_cut_is_never_above_the_cut_it_came_from() -> None:
    """``clean`` folds negligible terms into the right-hand side at their least value over the
    column's bounds: checked at the box's corners and at random points, against the cut
    written out term by term."""
    from hwbopt.plan.decomposed import NEGLIGIBLE, clean

    rng = np.random.default_rng(3)
    n = 6
    lo = np.array([0.0, 0.0, -2.0, 0.0, 1.0, 0.0])
    hi = np.array([1.0, 1.0, 3.0, np.inf, 5.0, 1.0])
    G = np.array([[1e-12, 5.0, -1e-13, 2.0, 3e-12, -4.0],
                  [0.0, 1e-20, 1.0, 1e-15, 0.0, 2.0]])
    lower = np.array([1e4, -3.0])
    out, keep = clean(G, lower, lo, hi)
    assert keep.tolist() == [[False, True, False, True, False, True],
                             [False, False, True, True, False, True]]
    box = np.where(np.isfinite(hi), hi, lo + 10.0)
    points = [lo, box] + [lo + rng.uniform(size=n) * (box - lo) for _ in range(200)]
    for z in points:
        for r in range(2):
            full = lower[r] + G[r] @ z  # θ must be at least this
            cleaned = out[r] + G[r, keep[r]] @ z[keep[r]]
            assert cleaned <= full + 1e-12
            # and it is weakened by no more than NEGLIGIBLE of the right-hand side a term
            assert full - cleaned <= (n * NEGLIGIBLE * max(1.0, abs(lower[r])))


def test_roundings_of_an_lp_optimum() -> None:
    from hwbopt.plan.decomposed import roundings

    integer = np.array([True, True, True, False])
    z = np.array([0.3, 1.0, 0.7, 0.45])
    near, up = roundings(z, integer)
    assert near.tolist() == [0.0, 1.0, 1.0, 0.45]  # the continuous column as it is
    assert up.tolist() == [1.0, 1.0, 1.0, 0.45]
    assert roundings(np.array([0.0, 1.0, 1.0, 0.45]), integer) == []  # whole already
    only = roundings(np.array([0.6, 1.0, 1.0, 0.2]), integer)
    assert len(only) == 1 and only[0].tolist() == [1.0, 1.0, 1.0, 0.2]  # both the same


def test_polish_order_takes_each_set_of_integers_once_most_promising_first() -> None:
    from hwbopt.plan.decomposed import polish_order

    integer = np.array([True, True, True, False])
    z = np.array([0.3, 1.0, 0.7, 0.45])  # rounds to (0, 1, 1) and (1, 1, 1)
    asked: list[list[float]] = []

    def held(c: np.ndarray) -> float:
        asked.append(c.tolist())
        return {(0.0, 1.0, 1.0): 5.0, (1.0, 1.0, 1.0): 3.0, (0.0, 0.0, 1.0): 4.0}[
            tuple(c[:3])]

    start = np.array([0.0, 0.0, 1.0, 0.9])
    order = polish_order(start, z, integer, held)
    assert [c[:3].tolist() for c in order] == [[1, 1, 1], [0, 0, 1], [0, 1, 1]]
    assert len(asked) == 3
    # ties keep the start plan first, then the nearest rounding
    order = polish_order(start, z, integer, lambda c: 1.0)
    assert [c[:3].tolist() for c in order] == [[0, 0, 1], [0, 1, 1], [1, 1, 1]]
    # a rounding with the start plan's integers is polished once, as the start plan
    asked.clear()
    start = np.array([0.0, 1.0, 1.0, 0.1])
    same = polish_order(start, np.array([0.2, 1.0, 1.0, 0.45]), integer, held)
    assert [c.tolist() for c in same] == [[1, 1, 1, 0.45], [0, 1, 1, 0.1]]
    assert len(asked) == 2
    # one candidate alone is never bounded
    asked.clear()
    assert len(polish_order(start, np.array([0.0, 1.0, 1.0, 0.45]), integer, held)) == 1
    assert asked == []


@pytest.mark.parametrize("gap", [0.01, 0.02])
def test_a_loose_gap_holds_against_the_exact_optimum(monkeypatch: pytest.MonkeyPatch,
                                                     gap: float) -> None:
    """At a gap wide enough for the polish to stop early (POLISH_CLOSE), grouped: the plan
    is within the gap of the extensive form's proven optimum, and its bound above it."""
    import hwbopt.plan.decomposed as dec_mod

    monkeypatch.setattr(dec_mod, "GROUPS", 5)
    inst = hwbopt.load(TUTORIAL)
    ef = plan(inst, stress_set="cuts_and_pressures", scenarios=30, method="extensive",
              mip_gap=0.0)
    dec = plan(inst, stress_set="cuts_and_pressures", scenarios=30, method="decomposed",
               mip_gap=gap)
    assert ef.status == "optimal" and dec.status == "optimal", dec.message
    assert ef.rp is not None and dec.rp is not None and dec.bound is not None
    assert dec.gap is not None and dec.gap <= gap
    assert dec.bound >= ef.rp - 1e-6 * abs(ef.rp)
    assert dec.rp <= ef.rp + 1e-6 * abs(ef.rp)
    assert ef.rp - dec.rp <= gap * abs(dec.rp)


def test_held_subproblems_answer_as_a_fresh_solve_and_are_freed() -> None:
    """A scenario's held LP, re-solved warm at first stages in any order (its own basis, or
    the chunk's last), scores what HiGHS finds on that scenario alone from nothing; closing
    the pool forgets it."""
    from hwbopt.plan import recourse

    inst = hwbopt.load(TUTORIAL)
    sc = draw_scenarios(inst, stress_set="cuts_and_pressures", scenarios=5, seed=2)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    own = [recourse.own_optimum(spec, s, [])[0].x for s in range(sc.size)]
    # another run's limit left in this process's shared solver must not reach this one's
    recourse.solver().setOptionValue("time_limit", 1e-9)
    with pool(spec) as p:
        for z in (own[0], own[3], own[1], own[0], own[4]):
            found = p.fixed(z, exact=True)
            for r in found:
                fresh = solve_extensive(comp, first, sc.arrays.take([r.scenario]), np.ones(1),
                                        Risk(), el, fixed=z, mip_gap=0.0)
                assert r.value is not None and fresh.outcome.objective is not None
                assert r.value == pytest.approx(fresh.outcome.objective,
                                                abs=within_gap(r.value, 0.0, 1e-7))
        assert spec.key in recourse._held
    assert spec.key not in recourse._held


def test_branch_finds_highs_optimum_from_any_first_guess() -> None:
    """County: four second-stage integers a scenario (the response curves' order). The
    branch and bound's answer with no guess, wrong guesses and a like scenario's answer as
    its first incumbent equals HiGHS's MIP of the same subproblem solved from nothing."""
    from hwbopt.plan import recourse

    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    sc = draw_scenarios(inst, scenarios=3, seed=4)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    mean = recourse.own_optimum(replace(spec, arrays=sc.mean), 0, [])[0].x
    assert mean is not None
    branched = 0
    for s in range(sc.size):
        theirs = solve_extensive(comp, first, sc.arrays.take([s]), np.ones(1), Risk(), el,
                                 fixed=mean, mip_gap=0.0).outcome.objective
        assert theirs is not None
        recourse.forget(spec.key)
        lp = fixed_recourse(spec, s, mean, exact=False)
        branched += lp.value is None  # the LP's order is fractional: branching is needed
        n = len(recourse.held(spec, s).integers)
        assert n == 4
        guesses = [None, np.zeros(n), np.ones(n), np.array([1.0, 0.0] * (n // 2))]
        for guess in guesses:
            recourse.forget(spec.key)  # no memory of an earlier answer: ``guess`` is first
            mine = fixed_recourse(spec, s, mean, exact=True, pattern=guess)
            assert mine.value is not None
            assert mine.value == pytest.approx(theirs, abs=1e-7 * max(1.0, abs(theirs))), \
                (s, guess)
    assert branched > 0


def _refuse(spec: object, word: str) -> None:
    raise ValueError(f"refused: {word}")


def test_local_workers_answer_as_this_process_and_as_dask() -> None:
    """Two forked local workers give every scenario's answer to the last digit as this
    process and two Dask workers do (chunk k on worker k mod 2, each holding its scenarios'
    LPs between requests), also when forked after this process has solved a MIP, raise a
    worker's exception here, and stop on leaving."""
    from hwbopt.plan import recourse

    inst = hwbopt.load(TUTORIAL)
    sc = draw_scenarios(inst, stress_set="cuts_and_pressures", scenarios=40, seed=6)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    own = [recourse.own_optimum(spec, s, [])[0].x for s in (0, 7)]
    assert all(z is not None for z in own)

    def answers(P: recourse.Pool) -> list[tuple[float | None, float | None, bytes]]:
        found = [r for z in own if z is not None for r in P.fixed(z, exact=True)]
        found += P.own([], relax=True)
        # MIPs too: this process has run HiGHS (own, above), whose scheduler a fork copies
        # without its threads (recourse._serve)
        found += P.own([])
        return [(r.value, r.cut_value, b"" if r.x is None else r.x.tobytes()) for r in found]

    with pool(spec) as P:
        here = answers(P)
    # forked here as plan_workers forks them where that is safe (a test run may hold Dask's
    # threads from an earlier test, so its check is not asked here)
    local = recourse.LocalWorkers(2, [spec])
    n = local.n
    try:
        procs = list(local.procs)
        with recourse.Pool(spec, local, n) as P:
            assert answers(P) == here
            with pytest.raises(ValueError, match="refused: no"):
                local.map(spec.key, _refuse, [(0, ("no",)), (1, ("no",))])
        # the pipes still answer in step after a refusal, the spec sent again once forgotten
        assert spec.key not in local.known
        with recourse.Pool(spec, local, n) as P:
            assert answers(P) == here
    finally:
        local.close()
    assert not any(p.is_alive() for p in procs)
    with pool(spec, workers=2) as P:
        assert answers(P) == here


def test_wait_and_see_in_the_background_answers_as_all_at_once() -> None:
    """Own optima handed out a few at a time between master solves (as the decomposition
    does), the rest at the end, are those of one pass over every scenario in this process,
    to the last digit, in the scenarios' order."""
    from hwbopt.plan import recourse

    inst = hwbopt.load(TUTORIAL)
    sc = draw_scenarios(inst, stress_set="cuts_and_pressures", scenarios=21, seed=8)
    comp, first = sc.comp, first_stage(sc.comp, sc.built.data.YEARS[0])
    el = elastic_of(comp, first, [sc.arrays, sc.mean])
    spec = sub_spec(comp, first, sc.arrays, el, None, 0.0)
    mean = recourse.own_optimum(replace(spec, arrays=sc.mean), 0, [])[0].x
    assert mean is not None
    with pool(spec) as P:
        starts = [np.vstack([r.x for r in P.fixed(mean, exact=True)])]
        want = [(r.scenario, r.value, r.x.tobytes() if r.x is not None else b"")
                for r in P.own(starts)]
    local = recourse.LocalWorkers(2, [spec])
    try:
        with recourse.Pool(spec, local, 2) as P:
            bg = recourse.Background(P, starts)
            bg.feed()  # no master solve timed yet: nothing handed out
            assert not bg.out and len(bg.todo) == sc.size
            bg.per_item, bg.budget = 1.0, 100.0
            bg.feed(limit=1.0)  # the master may take a second: no scenario fits in it
            assert not bg.out
            for _ in range(3):
                bg.per_item = 1.0
                bg.budget = 3.5 / recourse.BACKGROUND_SHARE  # three scenarios a worker
                bg.feed()
                assert bg.out
                bg.collect(0.0)
            assert len(bg.done) == 18 and bg.todo == [18, 19, 20]
            got = [(r.scenario, r.value, r.x.tobytes() if r.x is not None else b"")
                   for r in bg.finish()]
    finally:
        local.close()
    assert got == want


def test_plan_workers_fork_only_where_it_is_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    import hwbopt.batch.pool as batch_pool
    from hwbopt.plan import recourse

    @contextmanager
    def dask(workers: int = 1, scheduler: str | None = None):  # type: ignore[no-untyped-def]
        yield ("dask", workers)

    monkeypatch.setattr(recourse, "cluster", dask)
    monkeypatch.setattr(batch_pool, "fork_is_safe", lambda: False)
    with recourse.plan_workers(2) as (where, n):
        assert where == "dask" and n == 2
    monkeypatch.setattr(batch_pool, "fork_is_safe", lambda: True)
    with recourse.plan_workers(2) as (where, n):
        assert isinstance(where, recourse.LocalWorkers) and n == 2
    with recourse.plan_workers(2, "tcp://somewhere:8786") as (where, n):
        assert where == "dask"  # a scheduler is always Dask's
    with recourse.plan_workers(1) as (where, n):
        assert where == "dask" and n == 1  # one worker: cluster() runs it in this process


def test_grouped_cuts_lie_below_each_groups_mean_true_value() -> None:
    """Cut aggregation: each group's cut, at the extensive form's optimum, lies below the
    probability-weighted mean of its scenarios' values there, each solved afresh by HiGHS;
    and the decomposition with groups finds the extensive form's plan within the gap."""
    cuts, true, zf, ef, dec = _cuts_and_truth(4)
    # three groups of like scenarios and the kept one: every scenario in exactly one
    member = np.vstack([c[0] for c in cuts]) > 0
    assert len({tuple(r) for r in member.tolist()}) == 4
    assert np.array_equal(member.sum(axis=0) > 0, np.ones(len(true), dtype=bool))
    _below(cuts, true, zf)
    assert dec.status == "optimal"
    rp, ef_value = dec.outcome.objective, ef.outcome.objective
    assert rp is not None and ef_value is not None
    assert rp == pytest.approx(ef_value, abs=within_gap(rp, ef_value, 1e-6))


def test_grouping_keeps_the_kept_scenario_alone_and_cvar_whole() -> None:
    from hwbopt.plan.decomposed import grouping

    rng = np.random.default_rng(1)
    values = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(10, 1, (20, 3))])
    g = grouping(40, values, 7, Risk(), 3)
    assert set(g.tolist()) == {0, 1, 2}
    assert np.count_nonzero(g == g[7]) == 1
    # the two clouds of inputs are not mixed in a group
    assert len(set(g[20:].tolist())) == 1 and g[20] not in set(np.delete(g[:20], 7).tolist())
    assert np.array_equal(grouping(40, values, 7, Risk("cvar", 0.9, 0.5), 3), np.arange(40))
    assert np.array_equal(grouping(40, values, 7, Risk(), 40), np.arange(40))
    assert np.array_equal(grouping(40, None, 7, Risk(), 3), np.arange(40))
    # the same groups every time (a fixed seed)
    assert np.array_equal(grouping(40, values, 7, Risk(), 3), g)


def test_grouped_master_agrees_with_the_extensive_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `plan`, above GROUPS scenarios: the cuts averaged over groups still prove the
    extensive form's optimum within the gap, and the summary says how many groups."""
    import hwbopt.plan.decomposed as dec_mod

    monkeypatch.setattr(dec_mod, "GROUPS", 5)
    inst = hwbopt.load(TUTORIAL)
    runs = {m: plan(inst, stress_set="cuts_and_pressures", scenarios=30, method=m,
                    mip_gap=1e-4) for m in ("extensive", "decomposed")}
    ef, dec = runs["extensive"], runs["decomposed"]
    assert ef.status == "optimal" and dec.status == "optimal", dec.message
    assert dec.decomposition is not None and dec.decomposition["cut_groups"] == 5
    assert dec.rp is not None and dec.bound is not None
    assert ef.rp is not None and ef.bound is not None
    assert dec.rp <= ef.bound + within_gap(ef.rp, dec.rp, 1e-9)
    assert ef.rp <= dec.bound + within_gap(ef.rp, dec.rp, 1e-9)
    assert dec.rp == pytest.approx(ef.rp, abs=within_gap(ef.rp, dec.rp))
    # the terminal says so in its method line, and not for a run of one θ per scenario
    from hwbopt.report.plan_text import header

    assert "cuts averaged over 5 groups of like scenarios" in " ".join(
        header(dec, inst, "decomposed"))
    # CVaR keeps one θ per scenario
    cv = plan(inst, stress_set="cuts_and_pressures", scenarios=30, method="decomposed",
              risk=Risk("cvar", 0.8, 0.5), mip_gap=1e-4)
    assert cv.decomposition is not None and cv.decomposition["cut_groups"] == 30
    assert "averaged" not in " ".join(header(cv, inst, "decomposed"))


@pytest.mark.parametrize("groups", [None, 2], ids=["one-per-scenario", "grouped"])
def test_a_scenario_of_probability_zero_changes_nothing(tmp_path: Path, groups: int | None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-derived case with a third table row of probability 0: the decomposition
    (one θ per scenario, or the two others grouped) finds RP, EEV and WS of the two-row case
    (tests/test_plan.py docstring), as the extensive form does."""
    import shutil

    import hwbopt.plan.decomposed as dec_mod

    shutil.copytree(CASE, tmp_path / "case")
    (tmp_path / "case" / "cuts.csv").write_text("cut_2014,probability\n0.1,0.4\n0.7,0.6\n"
                                                "0.4,0\n", encoding="utf-8")
    if groups is not None:
        monkeypatch.setattr(dec_mod, "GROUPS", groups)
    inst = hwbopt.load(tmp_path / "case")
    for method in ("decomposed", "extensive"):
        res = plan(inst, stress_set="cuts", method=method, mip_gap=0.0)
        assert res.status == "optimal", (method, res.message)
        assert (res.rp, res.eev, res.ws) == pytest.approx((194.0, 190.0, 202.0), abs=1e-5)
        if method == "decomposed":
            assert res.decomposition is not None
            assert res.decomposition["cut_groups"] == (groups or 3)


def test_grouping_scenarios_with_equal_inputs_is_quiet() -> None:
    """Inputs that repeat or do not vary: scenarios with equal inputs share a group, and
    SciPy's k-means warns of nothing (it divides by zero choosing among equal points)."""
    import warnings

    from hwbopt.plan.decomposed import grouping

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = grouping(150, np.ones((150, 3)), 3, Risk(), 100)
        twice = grouping(150, np.repeat(rng.normal(size=(75, 2)), 2, axis=0), 3, Risk(), 100)
    assert np.count_nonzero(same == same[3]) == 1 and len(set(same.tolist())) == 2
    pairs = [(2 * i, 2 * i + 1) for i in range(75) if 3 not in (2 * i, 2 * i + 1)]
    assert all(twice[a] == twice[b] for a, b in pairs)
    assert len(set(twice.tolist())) <= 100
