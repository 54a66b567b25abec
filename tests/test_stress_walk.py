"""The engine's own walk from scenario to scenario (hwbopt.batch.walk).

Checked by routes that share no code with the pivots: HiGHS's fresh solve of each LP, the
certificate, and the same batch answered by HiGHS's warm simplex alone.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import hwbopt
from hwbopt.batch import certify, walk
from hwbopt.batch.engine import Engine
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw
from hwbopt.batch.setup import prepare
from hwbopt.compile import Compiled
from hwbopt.schema import StressSet

TUTORIAL = Path(__file__).resolve().parents[1] / "instances" / "tutorial"
MONEY = {"id": "money", "seed": 7, "samples": 96, "inputs": [
    {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.20, "high": 0.40},
    {"path": "partners[nhs].savings_rate", "dist": "triangular", "low": 0.03, "mode": 0.04,
     "high": 0.07}]}


# ---- the walk alone, on a random LP, against HiGHS ---------------------------------------


def _lp(seed: int) -> Compiled:
    """max Σ c x over A x ≤ b, 0 ≤ x ≤ u, with A ≥ 0 (x = 0 is always feasible), some rows
    also with a lower bound, and one free row (an objective-like total)."""
    rng = np.random.default_rng(seed)
    m, n = 14, 20
    a = rng.uniform(0.0, 1.0, (m, n)) * (rng.uniform(size=(m, n)) < 0.5)
    a[-1] = rng.uniform(0.5, 1.0, n)  # the free row
    row_lower = np.full(m, -np.inf)
    row_upper = rng.uniform(2.0, 6.0, m)
    row_upper[-1] = np.inf
    row_lower[:3] = 0.2  # a few rows that must carry some activity
    return Compiled(sense=1, c=-rng.uniform(0.1, 1.0, n), offset=0.0, A=sp.csc_array(a),
                    row_lower=row_lower, row_upper=row_upper, col_lower=np.zeros(n),
                    col_upper=rng.uniform(1.0, 3.0, n), integer=np.zeros(n, dtype=bool),
                    col_component=[], col_index=[], row_component=[], row_index=[])


def _highs(comp: Compiled, bounds: dict[str, np.ndarray]) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = comp.n_cols, comp.n_rows
    lp.col_cost_ = comp.c
    lp.col_lower_, lp.col_upper_ = bounds["col_lower"], bounds["col_upper"]
    lp.row_lower_, lp.row_upper_ = bounds["row_lower"], bounds["row_upper"]
    a = sp.csc_array(comp.A)
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (a.indptr, a.indices,
                                                                     a.data)
    h.passModel(lp)
    h.run()
    return h


def _scenario(comp: Compiled, rng: np.random.Generator) -> dict[str, np.ndarray]:
    upper = comp.row_upper * np.where(np.isfinite(comp.row_upper),
                                      rng.uniform(0.6, 1.4, comp.n_rows), 1.0)
    return {"col_lower": comp.col_lower.copy(),
            "col_upper": comp.col_upper * rng.uniform(0.5, 1.5, comp.n_cols),
            "row_lower": comp.row_lower * rng.uniform(0.5, 1.5, comp.n_rows),
            "row_upper": upper}


def _base(comp: Compiled) -> tuple[np.ndarray, np.ndarray]:
    h = _highs(comp, {"col_lower": comp.col_lower, "col_upper": comp.col_upper,
                      "row_lower": comp.row_lower, "row_upper": comp.row_upper})
    basis = h.getBasis()
    return (np.array([int(s) for s in basis.col_status], dtype=np.int8),
            np.array([int(s) for s in basis.row_status], dtype=np.int8))


@pytest.mark.parametrize("seed", range(6))
def test_each_walk_ends_at_highs_fresh_optimum_and_passes_the_certificate(seed: int) -> None:
    comp = _lp(seed)
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    assert walker.start(_base(comp))
    rng = np.random.default_rng(100 + seed)
    walked = 0
    for _ in range(25):
        bounds = _scenario(comp, rng)
        got = walker.to(bounds)
        h = _highs(comp, bounds)
        if got is None:  # declined: the engine takes HiGHS's basis and goes on from it
            assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)
            assert walker.reload(basic, np.asarray(h.getSolution().col_value), bounds)
            continue
        walked += 1
        want = h.getInfo().objective_function_value
        assert float(comp.c @ got.x) == pytest.approx(want, rel=1e-9, abs=1e-9)
        prob = certify.Problem(A=sp.csc_array(comp.A), c=comp.c, offset=0.0, sense=1,
                               integer=np.zeros(comp.n_cols, dtype=bool), **bounds)
        assert certify.lp_optimal(prob, got.x, got.row_dual) is None
    assert walked >= 20


def test_a_restarted_walk_gives_the_same_answers_bit_for_bit() -> None:
    comp = _lp(1)
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    assert walker.start(_base(comp))
    rng = np.random.default_rng(3)
    scenarios = [_scenario(comp, rng) for _ in range(12)]
    runs = []
    for _ in range(2):
        walker.restart()
        runs.append([w.x if (w := walker.to(b)) is not None else None for b in scenarios])
    for a, b in zip(*runs, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert np.array_equal(a, b)


def test_a_chain_starts_from_its_anchor_walked_once_and_anywhere_the_same() -> None:
    """restart(anchor): the base plan walked to the anchor's bounds, once for every chain
    that shares it; the state is the one a fresh walker reaches, and the walks after it
    are bit for bit the same whether the anchor was walked to now or kept."""
    comp = _lp(2)
    rng = np.random.default_rng(11)
    anchor, first, second = (_scenario(comp, rng) for _ in range(3))
    runs = []
    for fresh in (True, False):
        walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
        assert walker.start(_base(comp))
        asked = [0]

        def bounds(asked: list[int] = asked) -> dict[str, np.ndarray]:
            asked[0] += 1
            return anchor

        if not fresh:  # kept from an earlier chain, after other walks
            assert walker.restart("a", bounds)
            assert walker.to(first) is not None
        assert walker.restart("a", bounds)
        assert asked[0] == 1  # walked to once
        at = walker.pv.z[0, : comp.n_cols].copy()
        want = _highs(comp, anchor).getInfo().objective_function_value
        assert float(comp.c @ at) == pytest.approx(want, rel=1e-9, abs=1e-9)
        runs.append([w.x for b in (first, second) if (w := walker.to(b)) is not None])
    assert len(runs[0]) == len(runs[1]) == 2
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b)


def test_an_anchor_the_walk_cannot_reach_leaves_the_chain_at_the_base_plan() -> None:
    comp = _lp(3)
    rng = np.random.default_rng(5)
    scenario = _scenario(comp, rng)
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    assert walker.start(_base(comp))
    plain = walker.to(scenario)
    assert not walker.restart("gone", lambda: None)  # no bounds (invalid inputs)
    assert walker.ready and walker.active
    after = walker.to(scenario)
    assert plain is not None and after is not None and np.array_equal(plain.x, after.x)


def test_a_held_value_whose_bounds_open_takes_the_bound_its_reduced_cost_allows() -> None:
    """A column held (equal bounds) at the base sits on either bound, whatever its reduced
    cost; when a scenario opens it, the walk must start from the bound that keeps the basis
    dual feasible (here the upper: every cost rewards more), or its answer is not optimal."""
    base = _lp(4)
    lower, upper = base.col_lower.copy(), base.col_upper.copy()
    lower[:3] = upper[:3] = 0.5  # held
    comp = Compiled(**{**base.__dict__, "col_lower": lower, "col_upper": upper})
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    base_bounds = {"col_lower": lower, "col_upper": upper, "row_lower": comp.row_lower,
                   "row_upper": comp.row_upper}
    # loaded from HiGHS's answer, as after a scenario HiGHS solved: which bound a held value
    # sits on is read from its value, a tie (its lower)
    h = _highs(comp, base_bounds)
    basic = np.asarray(h.getBasicVariables()[1], dtype=np.int64)
    assert walker.reload(basic, np.asarray(h.getSolution().col_value), base_bounds)
    bounds = {**base_bounds, "col_upper": upper.copy()}
    bounds["col_upper"][:3] = 1.0  # opened: free to rise to 1
    got = walker.to(bounds)
    assert got is not None
    want = _highs(comp, bounds).getInfo().objective_function_value
    assert float(comp.c @ got.x) == pytest.approx(want, rel=1e-9, abs=1e-9)
    prob = certify.Problem(A=sp.csc_array(comp.A), c=comp.c, offset=0.0, sense=1,
                           integer=np.zeros(comp.n_cols, dtype=bool), **bounds)
    assert certify.lp_optimal(prob, got.x, got.row_dual) is None


def test_a_state_saved_after_a_walk_comes_back_as_it_was() -> None:
    """save() mid-way (the bounds moved since the start line) and restore(): the same next
    walk, bit for bit."""
    comp = _lp(5)
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    assert walker.start(_base(comp))
    rng = np.random.default_rng(8)
    first, second = _scenario(comp, rng), _scenario(comp, rng)
    assert walker.to(first) is not None
    state = walker.pv.save()
    a = walker.to(second)
    walker.pv.restore(state)
    b = walker.to(second)
    assert a is not None and b is not None and np.array_equal(a.x, b.x)


def test_a_bound_that_appears_is_declined() -> None:
    comp = _lp(2)
    walker = walk.Walker(comp, np.arange(comp.n_cols), np.arange(comp.n_rows))
    assert walker.start(_base(comp))
    bounds = {"col_lower": comp.col_lower, "col_upper": comp.col_upper,
              "row_lower": comp.row_lower, "row_upper": comp.row_upper.copy()}
    bounds["row_upper"][-1] = 100.0  # the free row gets an upper bound: another LP's shape
    assert walker.to(bounds) is None and not walker.ready


# ---- in the engine: the same answers as HiGHS's warm simplex ------------------------------


@pytest.fixture(scope="module")
def money() -> hwbopt.Instance:
    inst = hwbopt.load(TUTORIAL)
    return inst.model_copy(update={"stress": (StressSet.model_validate(MONEY),)})


def _run(inst: hwbopt.Instance, out: Path, own: bool, **kw) -> pd.DataFrame:
    summary = run_stress(inst, scenarios=96, out=out, workers=1, own_pivots=own, **kw)
    frame = pd.read_parquet(out / "scenarios").sort_values("scenario").reset_index(drop=True)
    assert summary["walked"] == int(frame.pivoted.sum())  # the summary counts what the rows say
    return frame


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.scenario) == list(b.scenario)
    assert list(a.status) == list(b.status)
    assert a.certified.all() and b.certified.all()
    x, y = a.objective.to_numpy(float), b.objective.to_numpy(float)
    assert np.all(np.abs(x - y) <= 1e-9 * np.maximum(1.0, np.abs(y)))


def test_the_walk_answers_a_money_batch_as_highs_does(money: hwbopt.Instance,
                                                      tmp_path: Path) -> None:
    on = _run(money, tmp_path / "on", True)
    off = _run(money, tmp_path / "off", False)
    _same(on, off)
    assert on.pivoted.mean() > 0.9 and not off.pivoted.any()
    assert on.warm[on.pivoted].all()


def test_scenarios_the_walk_declines_go_to_highs_and_the_walk_goes_on(
        money: hwbopt.Instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every third walk declined (as a doubtful pivot would): HiGHS solves that scenario from
    the last basis the walk proved, and the walk goes on from HiGHS's basis."""
    real, calls = walk.Walker.to, [0]

    def sometimes(self: walk.Walker, bounds: dict[str, np.ndarray]) -> walk.Walked | None:
        calls[0] += 1
        if calls[0] % 3 == 0:
            self.pv.ready = False
            return None
        return real(self, bounds)

    monkeypatch.setattr(walk.Walker, "to", sometimes)
    some = _run(money, tmp_path / "some", True)
    monkeypatch.undo()
    off = _run(money, tmp_path / "off", False)
    _same(some, off)
    # a declined walk leaves the walk off only until HiGHS's answer reloads it
    assert 0.5 < some.pivoted.mean() < 0.8


def test_a_walked_answer_the_certificate_rejects_is_not_reported(
        money: hwbopt.Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 8}), np.arange(8))
    real = walk.Walker.to

    def corrupt(self: walk.Walker, bounds: dict[str, np.ndarray]) -> walk.Walked | None:
        got = real(self, bounds)
        return None if got is None else walk.Walked(got.x * 1.5 + 1.0, got.row_dual, 0)

    monkeypatch.setattr(walk.Walker, "to", corrupt)
    frame = Engine(prep.spec).solve_chains([np.arange(8)], [values])
    monkeypatch.undo()
    assert frame.certified.all() and not frame.pivoted.any()
    assert (frame.status == "optimal").all()
    ref = Engine(prep.spec).solve_chains([np.arange(8)], [values])
    assert ref.pivoted.any()  # the corruption was reached
    np.testing.assert_allclose(frame.objective, ref.objective, rtol=1e-9)


def test_the_answers_do_not_depend_on_how_chains_are_grouped(money: hwbopt.Instance,
                                                              tmp_path: Path) -> None:
    one = _run(money, tmp_path / "one", True, block_size=96)
    many = _run(money, tmp_path / "many", True, block_size=32)
    assert np.array_equal(one.objective.to_numpy(float), many.objective.to_numpy(float))
    assert list(one.pivoted) == list(many.pivoted)


def test_a_chain_answers_the_same_from_its_anchor_walked_now_or_kept(
        money: hwbopt.Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chains that share an anchor (engine.SPAN): the last one's rows are the same, bit for
    bit, solved after the others in one engine (the anchor kept), alone in a fresh engine,
    and after a chain of another anchor (the anchor walked to again)."""
    real, anchored = walk.Walker.restart, []

    def spy(self: walk.Walker, *args: object) -> bool:
        anchored.append(real(self, *args))  # type: ignore[arg-type]
        return anchored[-1]

    monkeypatch.setattr(walk.Walker, "restart", spy)
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 32}), np.arange(32))
    chains = [np.arange(k, k + 8) for k in range(0, 24, 8)]
    near = (4, values[4])
    together = Engine(prep.spec).solve_chains(chains, [values[c] for c in chains], [near] * 3)
    alone = Engine(prep.spec).solve_chains([chains[2]], [values[chains[2]]], [near])
    eng = Engine(prep.spec)
    eng.solve_chains([np.arange(24, 32)], [values[24:]], [(28, values[28])])
    after = eng.solve_chains([chains[2]], [values[chains[2]]], [near])
    last = together[together.scenario >= 16].reset_index(drop=True)
    drop = ["solve_seconds", "certify_seconds"]
    assert last.pivoted.all()
    pd.testing.assert_frame_equal(last.drop(columns=drop), alone.drop(columns=drop))
    pd.testing.assert_frame_equal(last.drop(columns=drop), after.drop(columns=drop))
    # and the anchor's answers are HiGHS's
    off = Engine(prep.spec)
    off.spec.own_pivots = False
    ref = off.solve_chains(chains, [values[c] for c in chains])
    np.testing.assert_allclose(together.objective, ref.objective, rtol=1e-9)
    assert anchored == [True] * 6  # every chain above started from its anchor


def test_with_highs_taking_some_scenarios_a_chain_still_depends_on_itself_alone(
        money: hwbopt.Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """Walks declined by their bounds' content (a third of them, anchors' walks too), so
    HiGHS solves scenarios mid-chain from the walk's last basis or the base plan's, with the
    bounds it gets only then, and cold checks run: each chain's rows are the same, bit for
    bit, whether its chains run in order in one engine, in reverse order, or each alone."""
    real = walk.Walker.to

    def by_content(self: walk.Walker, bounds: dict[str, np.ndarray]) -> walk.Walked | None:
        finite = bounds["row_upper"][np.isfinite(bounds["row_upper"])]
        if int(finite.sum() * 1e6) % 3 == 0:
            self.decline()
            return None
        return real(self, bounds)

    monkeypatch.setattr(walk.Walker, "to", by_content)
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    prep.spec.cold_rate = 0.3
    values = draw(stress.model_copy(update={"samples": 48}), np.arange(48))
    chains = [np.arange(k, k + 8) for k in range(0, 48, 8)]
    anchors = [(4, values[4])] * 3 + [(40, values[40])] * 3
    drop = ["solve_seconds", "certify_seconds"]

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.drop(columns=drop).sort_values("scenario").reset_index(drop=True)

    ahead = rows(Engine(prep.spec).solve_chains(chains, [values[c] for c in chains], anchors))
    back = rows(Engine(prep.spec).solve_chains(chains[::-1], [values[c] for c in chains[::-1]],
                                               anchors[::-1]))
    alone = rows(pd.concat([Engine(prep.spec).solve_chains([c], [values[c]], [a])
                            for c, a in zip(chains, anchors, strict=True)]))
    pd.testing.assert_frame_equal(ahead, back)
    pd.testing.assert_frame_equal(ahead, alone)
    assert ahead.pivoted.any() and not ahead.pivoted.all()  # both routes were taken
    assert ahead.cold_checked.any() and ahead.certified.all()


def test_an_anchor_that_fails_leaves_its_chains_at_the_base_plan(
        money: hwbopt.Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error on the way to an anchor does not stop the batch: its chains start from the
    base plan, as chains without an anchor do, and give the same rows."""
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 16}), np.arange(16))
    chains = [np.arange(8), np.arange(8, 16)]
    plain = Engine(prep.spec).solve_chains(chains, [values[c] for c in chains])

    def broken(self: Engine, vals: np.ndarray | None) -> dict[str, np.ndarray] | None:
        raise FloatingPointError("overflow on the way")

    monkeypatch.setattr(Engine, "_anchor_bounds", broken)
    failed = Engine(prep.spec).solve_chains(chains, [values[c] for c in chains],
                                            [(3, values[3])] * 2)
    drop = ["solve_seconds", "certify_seconds"]
    pd.testing.assert_frame_equal(plain.drop(columns=drop), failed.drop(columns=drop))
    assert failed.certified.all()


def test_each_chain_has_one_anchor_whatever_the_blocks(money: hwbopt.Instance) -> None:
    """plan_blocks gives each chain the middle scenario of its SPAN chains as anchor, the
    same for every block size and after a resume."""
    from hwbopt.batch.engine import CHAIN, SPAN
    from hwbopt.batch.run import plan_blocks
    from hwbopt.batch.sample import neighbour_order

    stress = money.stress[0]
    n = CHAIN * SPAN * 2 + 40  # two whole spans and a short one
    values = draw(stress.model_copy(update={"samples": n}), np.arange(n))
    order = neighbour_order(values)

    def anchors(block_size: int, done: set[int]) -> dict[int, int]:
        blocks, _ = plan_blocks(values, done, block_size)
        out = {}
        for b in blocks:
            for chain, (a, vals) in zip(b.chains, b.anchors, strict=True):
                assert np.array_equal(vals, values[a])
                out[int(chain[0])] = a
        return out

    every = anchors(CHAIN, set())
    assert every == anchors(8 * CHAIN, set())
    done = set(order[:CHAIN].tolist())
    assert {k: v for k, v in every.items() if k not in done} == anchors(3 * CHAIN, done)
    span = CHAIN * SPAN
    for c in range(0, n, CHAIN):
        mid = min(n - 1, c // span * span + span // 2)
        assert every[int(order[c])] == int(order[mid])


def test_a_chain_whose_walks_keep_failing_stops_walking(
        money: hwbopt.Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each decline costs a HiGHS solve and a factorisation: after GRACE of them with fewer
    answers, the chain leaves the walk to HiGHS; the next chain walks again."""
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 16}), np.arange(16))
    calls = [0]

    def never(self: walk.Walker, bounds: dict[str, np.ndarray]) -> walk.Walked | None:
        calls[0] += 1
        self.decline()
        return None

    monkeypatch.setattr(walk.Walker, "to", never)
    frame = Engine(prep.spec).solve_chains([np.arange(8), np.arange(8, 16)],
                                           [values[:8], values[8:]])
    assert calls[0] == 2 * walk.GRACE
    assert frame.certified.all() and not frame.pivoted.any()


def test_a_large_lp_is_left_to_highs(money: hwbopt.Instance,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Past walk.MAX_ROWS rows (the largest LP the walk was measured faster on:
    benchmarks/README.md) no scenario is walked; the answers are HiGHS's."""
    stress = money.stress[0]
    prep = prepare(money, stress, 0, seed=stress.seed)
    values = draw(stress.model_copy(update={"samples": 8}), np.arange(8))
    monkeypatch.setattr(walk, "MAX_ROWS", prep.spec.n_rows - 1)
    large = Engine(prep.spec).solve_chains([np.arange(8)], [values])
    assert not large.pivoted.any() and large.certified.all()
    monkeypatch.undo()
    small = Engine(prep.spec).solve_chains([np.arange(8)], [values])
    assert small.pivoted.all()
    np.testing.assert_allclose(large.objective, small.objective, rtol=1e-9)


# ---- a worker's rehearsal (hwbopt.batch.engine.rehearse) ----------------------------------

_REHEARSAL = """
import gc, json, sys
from pathlib import Path
import hwbopt
from hwbopt.batch.engine import rehearse
from hwbopt.batch.run import run_stress
from hwbopt.schema import StressSet
from numba.core.registry import CPUDispatcher

def loaded():
    return {f"{d.py_func.__module__}.{d.__name__}": sorted(map(str, d.signatures))
            for d in gc.get_objects() if isinstance(d, CPUDispatcher) and d.signatures}

ok = rehearse()
before = loaded()
inst = hwbopt.load(sys.argv[1])
inst = inst.model_copy(update={"stress": (StressSet.model_validate(json.loads(sys.argv[2])),)})
summary = run_stress(inst, scenarios=64, out=Path(sys.argv[3]), workers=1, cold_check=0.0)
print(json.dumps({"ok": ok, "before": before, "after": loaded(), "walked": summary["walked"]}))
"""


def test_a_workers_rehearsal_loads_every_kernel_a_walked_batch_calls(tmp_path: Path) -> None:
    """In a fresh interpreter: after ``rehearse()`` a walked batch loads no compiled kernel
    and no argument types it had not (else a worker's first block pays for them again)."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _REHEARSAL, str(TUTORIAL), json.dumps(MONEY),
                           str(tmp_path / "run")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["ok"] and seen["walked"] > 32
    assert {"hwbopt.simplex.kernels.walk_line", "hwbopt.batch.certify._lp_verdict",
            "hwbopt.batch.readback._gain"} <= set(seen["before"])
    assert seen["after"] == seen["before"]
