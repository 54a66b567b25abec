"""Every stress scenario's reported numbers equal an independent solve of that scenario, and a
wrong answer from HiGHS is caught by the certificate.

The independent route: each scenario's own instance is built through the scenario machinery
and the normal pipeline (``build``), solved by a fresh HiGHS, and its outcomes, spend and
targets read from the result tables (``hwbopt.results``), which share no read-back code with
the batch engine (``hwbopt.batch.readback``).
"""

from __future__ import annotations

import html
from functools import cache

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from openpyxl import load_workbook
from test_stress import scenario_instance

import hwbopt
from hwbopt import highs
from hwbopt.batch.engine import Engine
from hwbopt.batch.run import run_stress
from hwbopt.batch.sample import draw
from hwbopt.batch.store import read_results
from hwbopt.check import check_solution
from hwbopt.compile import with_bounds
from hwbopt.pipeline import build
from hwbopt.results import build_tables
from hwbopt.schema import StressSet

REL = 1e-6


@cache
def county(objective: str) -> hwbopt.Instance:
    """The county; under ``cost`` (every target hard) with targets the base plan reaches, so
    the cost model is feasible."""
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    if objective == "outcome":
        return inst
    achieved = hwbopt.solve(inst).tables["outcomes"].set_index(["priority", "year"]).achieved
    targets = [t.model_copy(update={"target": min(t.target, 0.8 * float(
        achieved[t.priority, t.year]))}) for t in inst.targets]
    return inst.model_copy(update={"targets": tuple(targets)})


def tables_of(scen: hwbopt.Instance, objective: str, x: np.ndarray):
    """The result tables of plan ``x`` on the scenario's own, freshly built model."""
    b = build(scen, objective)
    return b, build_tables(b.data, b.compiled, x)


def fixed_optimum(b, plan: np.ndarray) -> tuple[str, float | None]:
    """The scenario's optimum with the integer decisions at ``plan`` (a fresh HiGHS)."""
    comp = b.compiled
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    ints = comp.integer
    if ((plan < lo[ints] - 1e-9) | (plan > hi[ints] + 1e-9)).any():
        return "ruled_out", None
    lo[ints] = hi[ints] = plan
    raw = highs.solve_compiled(with_bounds(comp, col_lower=lo, col_upper=hi))
    return raw.status, raw.objective


def reported(tables: dict[str, pd.DataFrame]) -> tuple[pd.Series, pd.Series, int]:
    """Outcomes by priority, spend by partner and targets met, as solve's tables give them."""
    out = tables["outcomes"]
    budgets = tables["budgets"]
    spend = (budgets.pooled + budgets.retained).groupby(budgets.partner).sum()
    return (out.groupby("priority").achieved.sum(), spend,
            int(out[out.target.notna()].met.sum()))


@pytest.fixture
def plans(monkeypatch):
    """Each scenario's plan as the engine reported it (a seam; the engine runs in-process)."""
    seen: dict[int, np.ndarray] = {}
    real = Engine._scenario

    def keep(self, scenario, entries, n, record):
        solved = real(self, scenario, entries, n, record)
        if solved.x is not None:
            seen[scenario] = solved.x.copy()
        return solved

    monkeypatch.setattr(Engine, "_scenario", keep)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["outcome", "cost"])
def test_each_scenario_equals_an_independent_solve(tmp_path, objective, plans):
    """Default path (plan's integer decisions fixed). For each scenario, on its own instance
    built afresh: the engine's plan passes the independent checker with the reported objective;
    outcomes, spend and targets met read from solve's tables equal the reported ones; and the
    objective equals a fresh solve with the base plan's decisions fixed — or, when the plan
    cannot hold (``plan_infeasible``), the scenario's own MIP optimum within the gap."""
    inst = county(objective)
    stress = inst.stress[0]
    n = 12
    summary = run_stress(inst, scenarios=n, seed=1, out=tmp_path / "run", workers=1,
                         objective=objective)
    assert summary["certified"] == summary["solved"]
    results = read_results(tmp_path / "run").set_index("scenario")
    values = draw(stress.model_copy(update={"samples": n, "seed": 1}), np.arange(n))
    base = build(inst, objective)
    ints = base.compiled.integer
    plan = np.round(hwbopt.solve(inst, objective=objective).solution[ints])
    checked = 0
    for s in range(0, n, 2):
        row = results.loc[s]
        scen = scenario_instance(inst, stress, values[s])
        if row.status == "infeasible":
            assert hwbopt.solve(scen, objective=objective).status == "infeasible"
            continue
        assert row.status in ("optimal", "plan_infeasible"), (s, row.status, row.reason)
        assert row.certified
        b, tables = tables_of(scen, objective, plans[s])
        assert check_solution(scen, tables, objective, row.objective) == [], s
        outcomes, spend, met = reported(tables)
        for k, v in outcomes.items():
            assert row[f"outcome.{k}"] == pytest.approx(v, rel=REL, abs=1e-6), (s, k)
        for p, v in spend.items():
            assert row[f"spend.{p}"] == pytest.approx(v, rel=REL, abs=1e-6), (s, p)
        assert row.targets_met == met
        status, optimum = fixed_optimum(b, plan)
        if row.status == "optimal":
            assert status == "optimal" and row.objective == pytest.approx(optimum, rel=REL)
            assert (np.round(plans[s][ints]) == plan).all()
        else:
            assert status != "optimal"
            free = hwbopt.solve(scen, objective=objective)
            gap = 2 * free.gap_tolerance * max(1.0, abs(free.objective))
            assert abs(row.objective - free.objective) <= gap, (s, row.objective)
        checked += 1
    assert checked >= 3


SITE_LOSS = {
    "id": "site_loss", "samples": 24, "seed": 5, "inputs": [
        {"path": "sites[riverside_hub].available", "dist": "discrete", "values": [0, 1],
         "weights": [0.5, 0.5]},
        {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.2, "high": 0.3},
    ]}


@pytest.mark.slow
def test_site_losses_change_the_plan_not_the_verdict(tmp_path):
    """A site the plan keeps open becomes unavailable: the scenario is solved with its integer
    decisions free (``plan_infeasible``), never counted as impossible; the summary says which
    decisions changed."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    base = hwbopt.solve(inst)
    assert base.tables["sites"].set_index("site").open["riverside_hub"].all()
    inst = inst.model_copy(update={"stress": (StressSet.model_validate(SITE_LOSS),)})
    summary = run_stress(inst, out=tmp_path / "run", workers=1)
    assert summary["plan_infeasible"] > 0
    assert summary["infeasible"] == 0 and summary["failed"] == 0
    assert summary["solved"] == summary["scenarios"] == summary["certified"]
    changed = {c["decision"] for c in summary["plan_changes"]}
    assert any(d.startswith("open[riverside_hub") for d in changed)
    for c in summary["plan_changes"]:
        assert 0 < c["share"] <= 1 and c["text"]
    # the probabilities count every solved scenario
    results = read_results(tmp_path / "run")
    freed = results[results.status == "plan_infeasible"]
    assert len(freed) == summary["plan_infeasible"]
    assert freed.objective.notna().all()
    assert (results.status != "optimal").sum() == len(freed)
    # the report says so: the figures, and the decisions that changed, most often first
    proc = run_cli("report", tmp_path / "run", "--out", tmp_path / "rep")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "Where the plan could not hold" in page
    assert html.escape(summary["plan_changes"][0]["text"]) in page
    assert "solved with the plan&#x27;s decisions changed" in page
    rows = list(load_workbook(tmp_path / "rep" / "report.xlsx")["plan_changes"].values)
    assert [r[0] for r in rows[1:]] == [c["decision"] for c in summary["plan_changes"]]
    # each such scenario's objective is its own MIP optimum (decisions free), within the gap
    stress = inst.stress[0]
    values = draw(stress, np.arange(stress.size))
    for row in freed.itertuples():
        own = hwbopt.solve(scenario_instance(inst, stress, values[int(row.scenario)]))
        gap = 2 * own.gap_tolerance * max(1.0, abs(own.objective))
        assert abs(row.objective - own.objective) <= gap, row.scenario


def test_a_corrupted_warm_solution_is_caught_and_solved_cold(tmp_path, monkeypatch):
    """The engine's HiGHS result tampered with: the certificate rejects it, the scenario is
    re-solved cold, and the reported numbers equal an untampered run's."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    clean = run_stress(inst, set_name="cuts_and_pressures", scenarios=8, out=tmp_path / "clean",
                       workers=1, cold_check=0.0)
    real = Engine.solution
    calls = {"n": 0}

    def corrupted(self, h):
        x, dual = real(self, h)
        calls["n"] += 1
        if calls["n"] in (2, 5):  # warm solves of two scenarios
            x = x.copy()
            x[int(np.argmax(np.abs(x)))] *= 1.01
        return x, dual

    monkeypatch.setattr(Engine, "solution", corrupted)
    run = run_stress(inst, set_name="cuts_and_pressures", scenarios=8,
                     out=tmp_path / "tampered", workers=1, cold_check=0.0)
    a = read_results(tmp_path / "clean")
    b = read_results(tmp_path / "tampered")
    caught = b[b.certificate != ""]
    assert len(caught) == 2
    assert not caught.warm.any()
    assert caught.certificate.str.contains("violated|bounds|gap").all()
    assert run["certified"] == run["solved"] == clean["solved"]
    pd.testing.assert_series_equal(a.objective, b.objective, rtol=1e-9)


def test_a_corrupted_dual_is_caught(tmp_path, monkeypatch):
    """Duals HiGHS returns are part of the certificate: flipped duals fail it."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    real = Engine.solution
    calls = {"n": 0}

    def corrupted(self, h):
        x, dual = real(self, h)
        calls["n"] += 1
        if calls["n"] == 2 and dual is not None:
            dual = -dual
        return x, dual

    monkeypatch.setattr(Engine, "solution", corrupted)
    run_stress(inst, set_name="cuts_and_pressures", scenarios=4, out=tmp_path / "run",
               workers=1, cold_check=0.0)
    b = read_results(tmp_path / "run")
    assert (b.certificate != "").sum() == 1
    assert (b.status == "optimal").all() and b.certified.all()
