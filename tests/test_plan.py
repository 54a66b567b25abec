"""`hwbopt plan` held to figures derived by hand, and to a second model written from scratch.

The instance ``tests/plan_cases/site_cut`` is small enough to solve on paper:

- one partner, the council, with a baseline budget of 100 in 2013 and in 2014; no cut in 2013
  (``cut_by_year[2013]`` = 0) and an uncertain cut in 2014 (``cut_by_year[2014]``), no savings
  requirement, no ring-fence, no pool: its general money is :math:`M_{2013} = 100` and
  :math:`M_{2014} = 100\\,(1 - c)`;
- one site, ``hub``, owned by the council, which may close: running cost R = 20 a year while
  open, closure cost 5 and disposal receipt 15 in the year it closes (net receipt g = 10); 50
  desks (``models/estate.md``: ``site_capacity``, ``space_need``);
- two interventions led by the council, both at unit cost 1 with no cost growth, no change
  limits, one priority ``health`` (weight 1, baseline 0, no discounting):
  ``reablement`` (effect 2 per episode, need 100, 1 desk per episode: at most 50 while the hub
  is open, none once it is closed) and ``telecare`` (effect 1 per user, need 1000, no space);
- a soft health target of 30 in 2014 with shortfall penalty 0 (it changes no objective; it only
  gives each plan a probability of meeting it).

The money a year goes first to the hub (if open), then to reablement (2 points per £k) up to its
50 desks, then to telecare (1 point per £k). With money M in a year:

- hub open:   value = 2·min(M − 20, 50) + max(M − 20 − 50, 0);
- hub closing that year: value = M + 10 (the net receipt spent on telecare);
- hub already closed: value = M.

2013 (M = 100): open gives 2·50 + 30 = 130; closing in 2013 gives 110 and then only M in 2014,
which is always worse than closing in 2014 (110 + M < 130 + M + 10). So every plan below keeps
the hub open in 2013 with reablement 50 and telecare 30 (first stage: the first year's activity
and money, and ``open`` in every year). The one real decision is ``open[hub,2014]``,
committed now (first stage) before the 2014 cut is known.

2014 values (second stage), for the two cut levels of the tables:

=========  =========  ===================================  ==================
cut c      M_2014     hub open in 2014                     hub closed in 2014
=========  =========  ===================================  ==================
0.10 (L)   90         2·50 + (90 − 70) = 120               90 + 10 = 100
0.70 (H)   30         2·(30 − 20) = 20                     30 + 10 = 40
=========  =========  ===================================  ==================

Whole-horizon values f = 130 + the 2014 value: open 250 (L), 150 (H); close 230 (L), 170 (H).

**Expectation, set ``cuts``: P(L) = 0.4, P(H) = 0.6.**

- WS: L alone keeps the hub (250 > 230), H alone closes it (170 > 150):
  WS = 0.4·250 + 0.6·170 = 100 + 102 = 202.
- EV: the mean cut 0.4·0.1 + 0.6·0.7 = 0.46, M_2014 = 54: open 130 + 2·(54 − 20) = 198,
  closed 130 + 54 + 10 = 194, so the mean-value plan keeps the hub: EV = 198.
- EEV: the hub kept, on both scenarios: 0.4·250 + 0.6·150 = 100 + 90 = 190.
- RP: keep 190 (= EEV), close 0.4·230 + 0.6·170 = 92 + 102 = 194: the hedged plan closes the
  hub in 2014, RP = 194 — it differs from the mean-value plan.
- VSS = RP − EEV = 194 − 190 = 4; EVPI = WS − RP = 202 − 194 = 8.
- needed share of "close in 2014": the scenarios whose own optimum closes it: H, 0.6.
- the 2014 target of 30: hedged (close) 100 and 40, met in both: probability 1; the mean-value
  plan (keep) 120 and 20: met in L only: 0.4.
- each plan's tail (CVaR at any alpha >= 0.4, its worst 1 − alpha lies inside H): hedged 170,
  deterministic 150; means 194 and 190; p5 = 170 and p95 = 230 for the hedged plan (60% of the
  probability at 170, 40% at 230), 150 and 250 for the mean-value plan.

**Mean-CVaR, set ``cuts_cvar``: P(L) = 0.7, P(H) = 0.3, alpha = 0.5.** CVaR_0.5 of a maximised
value is the mean of its worst half of probability: all of H (0.3) and 0.2 of L, divided by 0.5.

- keep: E = 0.7·250 + 0.3·150 = 175 + 45 = 220; CVaR = (0.3·150 + 0.2·250)/0.5 = 95/0.5 = 190.
- close: E = 0.7·230 + 0.3·170 = 161 + 51 = 212; CVaR = (0.3·170 + 0.2·230)/0.5 = 97/0.5 = 194.
- WS values 250 (L), 170 (H): E = 175 + 51 = 226; CVaR = (51 + 50)/0.5 = 202.
- EV: the mean cut 0.7·0.1 + 0.3·0.7 = 0.28, M_2014 = 72: keep 130 + 100 + 2 = 232, close
  130 + 82 = 212: the mean-value plan keeps the hub, EV = 232 (one scenario: its CVaR is its
  value).

With weight 1 (pure CVaR): RP = max(190, 194) = 194, the hedged plan closes the hub, EEV = 190
(keep), VSS = 4, WS = 202, EVPI = 202 − 194 = 8, needed share of "close" = P(H) = 0.3.
With weight 0 (expectation): RP = max(220, 212) = 220 keeps the hub like the mean-value plan:
EEV = 220, VSS = 0, WS = 226, EVPI = 6, nothing differs. With weight 0.5: keep 0.5·220 +
0.5·190 = 205, close 0.5·212 + 0.5·194 = 203: RP = 205 (keep), EEV = 205, VSS = 0,
WS = 0.5·226 + 0.5·202 = 214, EVPI = 9.

**This year's figures are known, set ``first_year``: it moves only the 2013 cut, which a plan
holds at the instance's (0), so every future is the instance: RP = WS = EV = EEV = 250.** Were
the 2013 cut unknown (0 or 20%, 0.5/0.5; the extensive form over such futures, as
``hold_first_year=False`` draws them; the 2014 cut the instance's 10%, M_2014 = 90), the first
year's money and activity being first stage, one 2013 plan must fit M_2013 = 100 and
M_2013 = 80 alike: after the hub's 20, at most
60 (reablement 50, telecare 10: 2013 value 110), the rest of the richer year unspent.

- RP: keep the hub: 110 + 120 = 230 in both; closing in 2014 gives 110 + 100 = 210; closing in
  2013 gives (90 of telecare) 90 + 90 = 180. RP = 230, nothing needs to give.
- WS: M_2013 = 100 alone: 130 + 120 = 250; M_2013 = 80 alone: 110 + 120 = 230; WS = 240,
  EVPI = 240 − 230 = 10.
- EV: the mean cut 0.1, M_2013 = 90: reablement 50, telecare 20 (120) + 120 = 240.
- EEV: that plan spends 90 in 2013: in the richer future 10 is left unspent (f = 120 + 120 =
  240); in the poorer one the 2013 budget is broken by 90 − 80 = 10 (elastic, penalised), so
  f < 230 there and EEV < RP: VSS > 0.
- the difference: telecare in 2013, 10 (hedged) against 20; needed share 0.5 (the poorer
  future's own optimum spends 10 on it, the richer one's 30).

The second route: the same two-stage model written here by hand from ``models/estate.md`` and
``models/money.md`` (eight columns, not the compiled model) and solved by
``scipy.optimize.milp``, which must agree with both the figures above and ``hwbopt.plan``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, run_cli_here
from scipy.optimize import Bounds, LinearConstraint, milp

import hwbopt
from hwbopt.check import check_solution
from hwbopt.pipeline import Built, build
from hwbopt.plan import Risk, plan
from hwbopt.results import build_tables
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change

CASE = Path(__file__).resolve().parent / "plan_cases" / "site_cut"
ABS = 1e-6

# the hand model's numbers (the instance files, read by eye)
BUDGET = 100.0
RUNNING, NET_RECEIPT, DESKS = 20.0, 10.0, 50.0
EFFECT_R, EFFECT_T, NEED_R, NEED_T = 2.0, 1.0, 100.0, 1000.0
CUTS = {"cuts": ([0.1, 0.7], [0.4, 0.6]), "cuts_cvar": ([0.1, 0.7], [0.7, 0.3])}

# the JSON contract of `hwbopt plan --json` (issue 15), in its order
CONTRACT = ["status", "message", "method", "scenarios", "seed", "stress_set", "risk",
            "objective_kind", "rp", "ev", "eev", "vss", "ws", "evpi", "bound", "gap",
            "first_stage", "differs_from_deterministic", "hedged", "deterministic", "elastic",
            "out_of_sample", "seconds", "kind", "provenance", "labels", "decomposition"]
PLAN_STATS = {"mean", "cvar", "p5", "p50", "p95", "target_probability", "breaks_share",
              "mean_without_penalties", "broken_rules"}


# ---------------------------------------------------------------------------------------------
# The second route: the two-stage model written out by hand, solved by scipy's milp
# ---------------------------------------------------------------------------------------------


def hand_model(money_2014: list[float], prob: list[float], *, lam: float = 0.0,
               alpha: float = 0.5, fix: dict[int, float] | None = None,
               money_2013: list[float] | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """max (1 − lam)·Σ p_s f_s + lam·CVaR_alpha(f) over the site_cut model, by scipy.

    Columns: 0 open13, 1 open14 (binary), 2 reablement13, 3 telecare13 (first stage), then per
    scenario s: reablement14_s, telecare14_s; then eta and u_s (Rockafellar–Uryasev).
    f_s = 2·r13 + t13 + 2·r14_s + t14_s. Rows (closing13 = 1 − open13, closing14 = open13 −
    open14, closure cost less receipt = −10):
      open14 − open13 <= 0                                  (site_closure)
      r13 − 50·open13 <= 0;  r14_s − 50·open14 <= 0         (site_capacity with space_need)
      r13 + t13 + 20·open13 − 10·(1 − open13) <= 100        (budget 2013)
      r14_s + t14_s + 20·open14 − 10·(open13 − open14) <= M_s  (budget 2014)
      u_s − eta + f_s >= 0,  u_s >= 0                      (CVaR)
    ``fix`` pins columns (first stage of another plan); ``money_2013`` gives each scenario
    its own 2013 money (one 2013 budget row per scenario, over the shared first stage).
    Returns (objective, x, f).
    """
    S = len(money_2014)
    n = 4 + 2 * S + 1 + S
    eta = 4 + 2 * S
    rows, lo, hi = [], [], []

    def row(coefs: dict[int, float], low: float, high: float) -> None:
        r = np.zeros(n)
        for j, v in coefs.items():
            r[j] += v
        rows.append(r)
        lo.append(low)
        hi.append(high)

    row({1: 1, 0: -1}, -np.inf, 0)
    row({2: 1, 0: -DESKS}, -np.inf, 0)
    for m13 in sorted(set(money_2013 or [BUDGET])):
        row({2: 1, 3: 1, 0: RUNNING + NET_RECEIPT}, -np.inf, m13 + NET_RECEIPT)
    f_coef = []
    for s, m in enumerate(money_2014):
        r14, t14 = 4 + 2 * s, 5 + 2 * s
        row({r14: 1, 1: -DESKS}, -np.inf, 0)
        row({r14: 1, t14: 1, 0: -NET_RECEIPT, 1: RUNNING + NET_RECEIPT}, -np.inf, m)
        f = {2: EFFECT_R, 3: EFFECT_T, r14: EFFECT_R, t14: EFFECT_T}
        f_coef.append(f)
        row({eta + 1 + s: 1, eta: -1, **f}, 0, np.inf)
    c = np.zeros(n)
    for s, f in enumerate(f_coef):
        for j, v in f.items():
            c[j] += (1 - lam) * prob[s] * v
    c[eta] += lam
    for s in range(S):
        c[eta + 1 + s] -= lam * prob[s] / (1 - alpha)
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    upper[[0, 1]] = 1
    upper[2] = NEED_R
    upper[3] = NEED_T
    upper[4::2][:S] = NEED_R
    upper[5::2][:S] = NEED_T
    lower[eta] = -np.inf
    for j, v in (fix or {}).items():
        lower[j] = upper[j] = v
    integrality = np.zeros(n)
    integrality[[0, 1]] = 1
    res = milp(-c, constraints=LinearConstraint(np.array(rows), lo, hi),
               bounds=Bounds(lower, upper), integrality=integrality,
               options={"mip_rel_gap": 0})
    assert res.status == 0, res.message
    x = res.x
    f_vals = np.array([sum(v * x[j] for j, v in f.items()) for f in f_coef])
    return -res.fun, x, f_vals


def risk_of(values: np.ndarray, prob: list[float], lam: float, alpha: float) -> float:
    """(1 − lam)·E + lam·CVaR_alpha of a maximised value, CVaR as the mean of the worst
    1 − alpha of the probability (sorted, the boundary scenario taken in part)."""
    order = np.argsort(values)
    tail, left = 0.0, 1 - alpha
    for s in order:
        take = min(prob[s], left)
        tail += take * values[s]
        left -= take
    return (1 - lam) * float(np.dot(prob, values)) + lam * tail / (1 - alpha)


def money(cuts: list[float]) -> list[float]:
    return [BUDGET * (1 - c) for c in cuts]


def second_route(set_name: str, lam: float, alpha: float) -> dict[str, float]:
    """RP, EV, EEV, VSS, WS, EVPI of the hand model, each by its definition."""
    cuts, prob = CUTS[set_name]
    rp, x_rp, _ = hand_model(money(cuts), prob, lam=lam, alpha=alpha)
    mean_cut = float(np.dot(prob, cuts))
    ev, x_ev, _ = hand_model(money([mean_cut]), [1.0], lam=lam, alpha=alpha)
    first = {j: round(x_ev[j]) if j < 2 else x_ev[j] for j in range(4)}
    eev, _, _ = hand_model(money(cuts), prob, lam=lam, alpha=alpha, fix=first)
    ws_each = np.array([hand_model(money([c]), [1.0], lam=lam, alpha=alpha)[0] for c in cuts])
    ws = risk_of(ws_each, prob, lam, alpha)
    return {"rp": rp, "ev": ev, "eev": eev, "vss": rp - eev, "ws": ws, "evpi": ws - rp,
            "open14_hedged": round(x_rp[1]), "open14_deterministic": round(x_ev[1])}


# the hand-derived figures of the module docstring: (set, measure, alpha, weight) -> figures
HAND = {
    ("cuts", "expectation", 0.9, 0.0): {
        "rp": 194, "ev": 198, "eev": 190, "vss": 4, "ws": 202, "evpi": 8,
        "open14_hedged": 0, "open14_deterministic": 1},
    ("cuts_cvar", "cvar", 0.5, 1.0): {
        "rp": 194, "ev": 232, "eev": 190, "vss": 4, "ws": 202, "evpi": 8,
        "open14_hedged": 0, "open14_deterministic": 1},
    ("cuts_cvar", "cvar", 0.5, 0.5): {
        "rp": 205, "ev": 232, "eev": 205, "vss": 0, "ws": 214, "evpi": 9,
        "open14_hedged": 1, "open14_deterministic": 1},
    ("cuts_cvar", "expectation", 0.9, 0.0): {
        "rp": 220, "ev": 232, "eev": 220, "vss": 0, "ws": 226, "evpi": 6,
        "open14_hedged": 1, "open14_deterministic": 1},
}
MEASURES = ["rp", "ev", "eev", "vss", "ws", "evpi"]


@pytest.mark.parametrize("key", list(HAND), ids=lambda k: f"{k[0]}-{k[1]}-{k[3]}")
def test_the_hand_figures_are_the_hand_models_optimum(key):
    """The arithmetic of the docstring, checked by scipy on the hand-written model (so the
    figures the plan is held to below are right before the plan is asked)."""
    set_name, _, alpha, weight = key
    got = second_route(set_name, weight, alpha)
    for k, v in HAND[key].items():
        assert got[k] == pytest.approx(v, abs=ABS), (k, got)


@pytest.fixture(scope="module")
def site_cut() -> hwbopt.Instance:
    return hwbopt.load(CASE)


def run_plan(inst: hwbopt.Instance, key: tuple[str, str, float, float]):
    set_name, measure, alpha, weight = key
    risk = Risk(measure, alpha=alpha, weight=weight) if measure == "cvar" else Risk()
    return plan(inst, stress_set=set_name, risk=risk, mip_gap=0.0)


def the_site_decision(entries: list[dict], year: int) -> list[dict]:
    """The entries of a decision list about the hub's being open in ``year``."""
    return [e for e in entries
            if "hub" in str(e["decision"]) and str(year) in str(e["decision"])
            and "open" in str(e["decision"])]


@pytest.mark.parametrize("key", list(HAND), ids=lambda k: f"{k[0]}-{k[1]}-{k[3]}")
def test_plan_measures_equal_the_hand_derived_figures(site_cut, key):
    """RP, EV, EEV, VSS, WS and EVPI of hwbopt.plan equal the docstring's, exactly (gap 0),
    and the hedged plan's hub decision is the one derived by hand."""
    res = run_plan(site_cut, key)
    s = res.summary()
    assert s["status"] == "optimal", s["message"]
    want = HAND[key]
    for k in MEASURES:
        assert s[k] == pytest.approx(want[k], abs=ABS), (k, s[k], want[k])
    assert s["scenarios"] == 2 and s["stress_set"] == key[0]
    # proven: HiGHS's bound is the value itself (gap 0 asked)
    assert s["bound"] == pytest.approx(want["rp"], abs=ABS) and s["gap"] <= 1e-9
    assert s["objective_kind"] == "outcome"
    assert s["elastic"] == []
    stage_2014 = the_site_decision(s["first_stage"], 2014)
    assert len(stage_2014) == 1, s["first_stage"]
    assert round(stage_2014[0]["value"]) == want["open14_hedged"]
    stage_2013 = the_site_decision(s["first_stage"], 2013)
    assert len(stage_2013) == 1 and round(stage_2013[0]["value"]) == 1, s["first_stage"]
    differs = s["differs_from_deterministic"]
    if want["open14_hedged"] == want["open14_deterministic"]:
        assert differs == [], differs
    else:
        # the only difference: the hub in 2014 (2013's activity and money are the same)
        assert len(differs) == 1 and the_site_decision(differs, 2014) == differs, differs
        d = differs[0]
        assert round(d["hedged"]) == 0 and round(d["deterministic"]) == 1
        # the scenarios whose own optimum closes the hub: H alone
        p_high = CUTS[key[0]][1][1]
        assert d["needed_share"] == pytest.approx(p_high, abs=ABS)
        assert d["text"] and isinstance(d["text"], str)


def test_plan_outcome_spread_and_targets_by_hand(site_cut):
    """Set ``cuts`` (0.4/0.6), expectation: each plan's mean, tail, percentiles and chance of
    meeting the 2014 target of 30, from the docstring's table."""
    s = run_plan(site_cut, ("cuts", "expectation", 0.9, 0.0)).summary()
    hedged, det = s["hedged"], s["deterministic"]
    assert set(hedged) == PLAN_STATS and set(det) == PLAN_STATS
    assert hedged["mean"] == pytest.approx(194, abs=ABS)
    assert det["mean"] == pytest.approx(190, abs=ABS)
    # the worst 10% lies inside H (probability 0.6) for both plans
    assert hedged["cvar"] == pytest.approx(170, abs=ABS)
    assert det["cvar"] == pytest.approx(150, abs=ABS)
    # 60% of the probability at H's value, 40% at L's: weighted, not two equal points
    assert hedged["p5"] == pytest.approx(170, abs=ABS)
    assert hedged["p95"] == pytest.approx(230, abs=ABS)
    assert det["p5"] == pytest.approx(150, abs=ABS)
    assert det["p95"] == pytest.approx(250, abs=ABS)
    assert 170 - ABS <= hedged["p50"] <= 230 + ABS and 150 - ABS <= det["p50"] <= 250 + ABS
    assert hedged["target_probability"] == {"health": pytest.approx(1.0, abs=ABS)}
    assert det["target_probability"] == {"health": pytest.approx(0.4, abs=ABS)}


def test_cvar_plan_spread_by_hand(site_cut):
    """Set ``cuts_cvar`` (0.7/0.3), pure CVaR at alpha 0.5: the hedged plan (close) has mean
    212 and CVaR 194, the mean-value plan (keep) mean 220 and CVaR 190; the target of 30 is met
    by the hedged plan in both scenarios, by the mean-value plan in L only (0.7)."""
    s = run_plan(site_cut, ("cuts_cvar", "cvar", 0.5, 1.0)).summary()
    assert s["risk"] == {"measure": "cvar", "alpha": 0.5, "weight": 1.0}
    assert s["hedged"]["mean"] == pytest.approx(212, abs=ABS)
    assert s["hedged"]["cvar"] == pytest.approx(194, abs=ABS)
    assert s["deterministic"]["mean"] == pytest.approx(220, abs=ABS)
    assert s["deterministic"]["cvar"] == pytest.approx(190, abs=ABS)
    assert s["hedged"]["target_probability"] == {"health": pytest.approx(1.0, abs=ABS)}
    assert s["deterministic"]["target_probability"] == {"health": pytest.approx(0.7, abs=ABS)}


def test_per_scenario_values_by_hand(site_cut):
    """The arrays behind the summary: scenario order, probabilities, each plan's f_s and each
    scenario's own optimum, as in the docstring's table."""
    res = run_plan(site_cut, ("cuts", "expectation", 0.9, 0.0))
    np.testing.assert_allclose(res.probability, [0.4, 0.6], atol=1e-12)
    np.testing.assert_allclose(np.asarray(res.values).ravel(), [0.1, 0.7], atol=1e-12)
    np.testing.assert_allclose(res.f_hedged, [230, 170], atol=ABS)
    np.testing.assert_allclose(res.f_deterministic, [250, 150], atol=ABS)
    np.testing.assert_allclose(res.f_ws, [250, 170], atol=ABS)


def scenario_of(inst: hwbopt.Instance, stress_id: str, row: np.ndarray) -> hwbopt.Instance:
    """A scenario's own instance, through the scenario machinery (as tests/test_stress.py)."""
    (stress,) = [s for s in inst.stress if s.id == stress_id]
    changes = [Change(path=p, **{spec.op: float(v)})
               for spec, v in zip(stress.inputs, row, strict=True) for p in spec.targets]
    return apply_changes(inst, changes, "stress", references=False)


def held_tables(base: Built, own: Built, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """A scenario's plan ``x`` as tables, as the plan meets the scenario: the first year's
    rows built on the instance itself (``base``: the first year's need, money, targets, …, as
    the plan holds them), the later years' on the scenario's own instance (``own``)."""
    assert base.compiled.n_cols == own.compiled.n_cols
    y0 = base.data.YEARS[0]
    first = build_tables(base.data, base.compiled, x)
    later = build_tables(own.data, own.compiled, x)
    out = {}
    for name, t in later.items():
        f = first[name]
        out[name] = (pd.concat([f[f.year == y0], t[t.year != y0]], ignore_index=True)
                     if "year" in t.columns else t)
    return out


def check_every_scenario(inst: hwbopt.Instance, res, objective: str = "outcome",
                         skip: set[int] | frozenset[int] = frozenset()) -> int:
    """Each scenario's whole plan (first stage and its own recourse) passes the independent
    checker on that scenario's own instance (its first year the instance's: ``first_year``,
    and :func:`held_tables`), with the value the plan reports for it; but the scenarios
    ``skip``, where the plan reports a rule it had to break (elastic). Returns how many were
    checked."""
    set_id = res.stress_set
    assert res.x_hedged is not None and len(res.x_hedged) == res.scenarios
    first = None
    checked = 0
    met: dict[str, float] = {}
    base = build(inst, objective)
    for s in range(res.scenarios):
        scen = scenario_of(inst, set_id, res.values[s])
        b = build(scen, objective)
        x = np.asarray(res.x_hedged[s])
        assert x.shape == (b.compiled.n_cols,)
        # the integer decisions are first stage: the same in every scenario, but for a site
        # the scenario takes away (closed there by force: models/plan.md)
        kept = b.compiled.integer & (b.compiled.col_upper > 0)
        ints = np.where(kept, np.round(x), -1.0)[b.compiled.integer]
        if first is None:
            first = ints
        same = (ints == first) | (ints == -1) | (first == -1)
        assert same.all(), s
        tables = held_tables(base, b, x)
        # the chance of meeting every target of a priority, from solve's outcome tables
        out = tables["outcomes"]
        out = out[out.target.notna()]
        for k, rows in out.groupby("priority"):
            met[str(k)] = met.get(str(k), 0.0) + float(res.probability[s]) * bool(rows.met.all())
        if s in skip:
            continue
        # the scenario's first year is the instance's own (models/plan.md)
        problems = check_solution(scen, tables, objective, float(res.f_hedged[s]),
                                  first_year=inst)
        assert problems == [], (s, problems)
        checked += 1
    got = res.hedged["target_probability"]
    assert set(got) == set(met), (got, met)
    for k, v in met.items():
        assert got[k] == pytest.approx(v, abs=1e-9), (k, got[k], v)
    return checked


def test_every_scenario_of_the_hand_plan_passes_the_checker(site_cut):
    for key in (("cuts", "expectation", 0.9, 0.0), ("cuts_cvar", "cvar", 0.5, 1.0)):
        assert check_every_scenario(site_cut, run_plan(site_cut, key)) == 2


def test_the_plan_agrees_with_the_hand_model_first_stage(site_cut):
    """The hedged plan's first-year activity is the hand model's: reablement 50, telecare 30
    in 2013 in every scenario; in 2014 the hub closed, telecare 100 (L) and 40 (H)."""
    res = run_plan(site_cut, ("cuts", "expectation", 0.9, 0.0))
    for s, telecare_2014 in enumerate([100.0, 40.0]):
        scen = scenario_of(site_cut, "cuts", res.values[s])
        b = build(scen)
        act = build_tables(b.data, b.compiled, np.asarray(res.x_hedged[s]))["activity"]
        got = act.set_index(["intervention", "year"]).activity
        assert got["reablement", 2013] == pytest.approx(50, abs=ABS)
        assert got["telecare", 2013] == pytest.approx(30, abs=ABS)
        assert got["reablement", 2014] == pytest.approx(0, abs=ABS)
        assert got["telecare", 2014] == pytest.approx(telecare_2014, abs=ABS)


# ---------------------------------------------------------------------------------------------
# The CLI: the JSON contract, exit codes, refusals
# ---------------------------------------------------------------------------------------------


def test_cli_json_keys_are_the_contract_and_the_figures_the_hand_ones():
    proc = run_cli("plan", CASE, "--set", "cuts", "--mip-gap", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert list(s) == CONTRACT
    assert s["kind"] == "plan" and s["status"] == "optimal" and s["method"] == "extensive"
    assert s["risk"] == {"measure": "expectation", "alpha": 0.9, "weight": 0.0}
    assert s["out_of_sample"] is None
    assert (s["scenarios"], s["stress_set"], s["objective_kind"]) == (2, "cuts", "outcome")
    for k in MEASURES:
        assert s[k] == pytest.approx(HAND["cuts", "expectation", 0.9, 0.0][k], abs=ABS), k
    for entry in s["first_stage"]:
        assert set(entry) == {"decision", "text", "value"}
    for entry in s["differs_from_deterministic"]:
        assert set(entry) == {"decision", "text", "hedged", "deterministic", "needed_share"}
    assert set(s["hedged"]) == PLAN_STATS == set(s["deterministic"])


def test_cli_cvar_figures():
    proc = run_cli("plan", CASE, "--set", "cuts_cvar", "--risk", "cvar", "--alpha", "0.5",
                   "--weight", "1", "--mip-gap", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["risk"] == {"measure": "cvar", "alpha": 0.5, "weight": 1.0}
    for k in MEASURES:
        assert s[k] == pytest.approx(HAND["cuts_cvar", "cvar", 0.5, 1.0][k], abs=ABS), k


def test_cli_terminal_names_the_commitment_and_the_difference():
    proc = run_cli("plan", CASE, "--set", "cuts", "--mip-gap", "0")
    assert proc.returncode == 0, proc.stderr
    assert "hub" in proc.stdout
    for word in ("VSS", "EVPI"):
        assert word in proc.stdout


BAD = {
    "alpha-one": ["--risk", "cvar", "--alpha", "1"],
    "alpha-zero": ["--risk", "cvar", "--alpha", "0"],
    "weight-above-one": ["--risk", "cvar", "--weight", "1.5"],
    "weight-negative": ["--risk", "cvar", "--weight", "-0.1"],
    "alpha-without-cvar": ["--alpha", "0.5"],
    "weight-without-cvar": ["--risk", "expectation", "--weight", "0.5"],
    "unknown-risk": ["--risk", "median"],
    "unknown-method": ["--method", "guess"],
    "no-such-set": ["--set", "nosuch"],
    "zero-scenarios": ["--scenarios", "0"],
    "more-than-the-table": ["--set", "cuts", "--scenarios", "3"],
    "negative-seed": ["--seed", "-1"],
    "bad-gap": ["--mip-gap", "-1"],
    "bad-time-limit": ["--time-limit", "0"],
}


@pytest.mark.parametrize("key", list(BAD))
def test_cli_bad_options_exit_2(key):
    # the first as a user types it, the rest in this process through click's runner: the same
    # command and exit code, without an interpreter's start each
    proc = (run_cli if key == next(iter(BAD)) else run_cli_here)("plan", CASE, *BAD[key])
    assert proc.returncode == 2, (key, proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_cli_a_missing_instance_exits_2_as_solve(tmp_path):
    for command in ("solve", "plan"):
        proc = run_cli(command, tmp_path / "nowhere")
        assert proc.returncode == 2, (command, proc.stderr)


def test_cli_a_time_limit_too_short_for_any_plan_exits_4(tmp_path):
    """As solve: no plan within the limit is time_limit, no objective, exit 4."""
    proc = run_cli("plan", hwbopt.shipped_instance("county"), "--scenarios", "2",
                   "--time-limit", "1e-9", "--json")
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    s = json.loads(proc.stdout)
    assert s["status"] == "time_limit" and s["rp"] is None


def test_cli_a_target_no_plan_reaches_is_elastic_or_infeasible(tmp_path):
    """The tutorial with a hard mental-health target of 100000 in 2013 (tests/test_cli.py's
    infeasible copy): the exit code is solve's for the status reported, and a plan that is
    reported is one that says which rule it had to break, by how much, in which scenarios."""
    from test_cli import infeasible_copy

    folder = infeasible_copy(tmp_path)
    proc = run_cli("plan", folder, "--set", "explicit", "--scenarios", "2", "--json")
    s = json.loads(proc.stdout)
    assert proc.returncode == {"optimal": 0, "infeasible": 3}[s["status"]], proc.stderr
    if s["status"] == "optimal":
        rules = {(e["scenario"], e["rule"]) for e in s["elastic"]}
        assert {sc for sc, _ in rules} == {0, 1}, s["elastic"]
        assert all("target" in r for _, r in rules), s["elastic"]
        for e in s["elastic"]:
            assert e["amount"] > 0 and e["text"]


# ---------------------------------------------------------------------------------------------
# What is first stage: the issue's list, written here, against the declarations
# ---------------------------------------------------------------------------------------------

# issue 15: every integer decision (sites, go/no-go, whole posts), recruitment and release...
FIRST_EVERY_YEAR = {"open", "run", "start", "recruit", "release"}
# ...and the first year's money and activity
FIRST_YEAR_ONLY = {"activity", "total_activity", "contribution", "spend_retained",
                   "spend_fenced", "spend_pooled", "qipp_credit"}


@pytest.mark.parametrize("name", ["tutorial", "county", "site_cut"])
def test_first_stage_columns_are_the_issues_list(name):
    from hwbopt.plan.stages import first_stage

    inst = hwbopt.load(CASE if name == "site_cut" else hwbopt.shipped_instance(name))
    b = build(inst)
    comp = b.compiled
    first_year = inst.horizon.first_year
    mask = first_stage(comp, first_year)
    want = np.array([
        cname in FIRST_EVERY_YEAR
        or (cname in FIRST_YEAR_ONLY
            and (index[-1] if isinstance(index, tuple) else index) == first_year)
        for cname, index in zip(comp.col_component, comp.col_index, strict=True)])
    wrong = [comp.col_name(j) for j in np.flatnonzero(mask != want)]
    assert wrong == [], wrong[:20]
    # every integer column but the curves' device piece_full is first stage
    ints = comp.integer & (np.asarray(comp.col_component) != "piece_full")
    assert mask[ints].all()


def test_this_years_figures_are_known_when_this_years_money_is_committed(site_cut):
    """Set ``first_year`` moves only the 2013 cut: a plan holds every future's first year at
    the instance's (no cut in 2013), so every future is the instance itself: RP = WS = EV =
    EEV = 250 (keep the hub: 130 + 120), VSS = EVPI = 0, nothing differs and nothing gives."""
    res = plan(site_cut, stress_set="first_year", mip_gap=0.0)
    s = res.summary()
    assert s["status"] == "optimal", s["message"]
    for key in ("rp", "ws", "ev", "eev"):
        assert s[key] == pytest.approx(250, abs=ABS), key
    assert s["vss"] == pytest.approx(0, abs=ABS) and s["evpi"] == pytest.approx(0, abs=ABS)
    assert s["differs_from_deterministic"] == [] and s["elastic"] == []
    np.testing.assert_allclose(res.f_hedged, [250, 250], atol=ABS)


def test_the_extensive_form_with_this_years_cut_unknown(site_cut):
    """Set ``first_year`` reaching 2013 (docstring): the extensive form of the two futures,
    M_2013 = 100 or 80, is worth RP = 230 (the hand model and scipy agree), keeps the hub and
    spends 10 on telecare in 2013; each future alone is worth 250 and 230."""
    from hwbopt.plan.extensive import solve_extensive

    rp, x, _ = hand_model(money([0.1, 0.1]), [0.5, 0.5], money_2013=[100.0, 80.0])
    assert rp == pytest.approx(230, abs=ABS) and round(x[1]) == 1 and x[3] == pytest.approx(10)
    ws = [hand_model(money([0.1]), [1.0], money_2013=[m])[0] for m in (100.0, 80.0)]
    assert ws == [pytest.approx(250, abs=ABS), pytest.approx(230, abs=ABS)]
    sc, first, el = elastic_rules(site_cut, "first_year", 2, 0, hold_first_year=False)
    sol = solve_extensive(sc.comp, first, sc.arrays, sc.probability, Risk(), el, mip_gap=0.0)
    assert sol.status == "optimal" and sol.x is not None and sol.z is not None
    assert sol.outcome.objective == pytest.approx(230, abs=ABS)
    telecare = [j for j in np.flatnonzero(first)
                if sc.comp.col_name(int(j)) == "activity[telecare,all,2013]"]
    assert len(telecare) == 1 and sol.z[telecare[0]] == pytest.approx(10, abs=ABS)
    for s_, value in enumerate((250.0, 230.0)):
        own = solve_extensive(sc.comp, first, sc.arrays.take([s_]), np.ones(1), Risk(), el,
                              mip_gap=0.0)
        assert own.outcome.objective == pytest.approx(value, abs=ABS)


def test_slack_is_never_cheaper_than_the_rule_it_breaks(tmp_path):
    """One scenario equal to the instance must give solve's optimum (nothing needs to give),
    whatever the scale of the instance's figures: here the hub costs 100,000 a year to run
    (the council's budget 100,080), so the budget rows hold a coefficient far larger than any
    other figure. Solve closes the hub in 2013 and spends on telecare to its need (1000 a
    year: 2000 points); a plan over the one scenario that is the instance must find the same,
    and break no rule."""
    folder = tmp_path / "big_site"
    import shutil

    shutil.copytree(CASE, folder)
    sites = (folder / "sites.csv").read_text()
    (folder / "sites.csv").write_text(sites.replace("hub,council,20,", "hub,council,100000,"))
    (folder / "budgets.csv").write_text(
        "partner,year,baseline\ncouncil,2013,100080\ncouncil,2014,100080\n")
    inst = hwbopt.load(folder)
    want = hwbopt.solve(inst, mip_gap=0.0)
    assert want.status == "optimal" and want.objective == pytest.approx(2000, abs=ABS)
    res = plan(inst, stress_set="cuts", scenarios=1, mip_gap=0.0)
    assert res.status == "optimal"
    assert res.elastic == [], res.elastic
    assert res.rp == pytest.approx(want.objective, abs=ABS)


def test_cli_out_writes_the_summary_and_the_hedged_plans_tables_on_the_instance(tmp_path):
    """--out: summary.json holds the contract; the tables are the hedged plan (hub closed in
    2014) with its recourse on the instance's own numbers (2014 cut 10%: M_2014 = 90, all on
    telecare with the net receipt: 100), read back as plain CSV."""
    import pandas as pd

    out = tmp_path / "plan"
    proc = run_cli("plan", CASE, "--set", "cuts", "--mip-gap", "0", "--out", out)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((out / "summary.json").read_text())
    assert list(s) == CONTRACT and s["kind"] == "plan"
    assert s["rp"] == pytest.approx(194, abs=ABS)
    sites = pd.read_csv(out / "sites.csv").set_index("year")
    assert bool(sites.loc[2013, "open"]) and not bool(sites.loc[2014, "open"])
    act = pd.read_csv(out / "activity.csv").set_index(["intervention", "year"]).activity
    assert act["reablement", 2013] == pytest.approx(50, abs=ABS)
    assert act["telecare", 2013] == pytest.approx(30, abs=ABS)
    assert act["reablement", 2014] == pytest.approx(0, abs=ABS)
    assert act["telecare", 2014] == pytest.approx(100, abs=ABS)
    # as every command: a folder holding another command's results is refused unless --force
    solved = tmp_path / "solved"
    assert run_cli("solve", CASE, "--out", solved).returncode == 0
    refused = run_cli("plan", CASE, "--set", "cuts", "--out", solved)
    assert refused.returncode == 2 and "--force" in refused.stderr, refused.stderr
    forced = run_cli("plan", CASE, "--set", "cuts", "--out", solved, "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((solved / "summary.json").read_text())["kind"] == "plan"


# ---------------------------------------------------------------------------------------------
# what may give: rules, never definitions; and never a penalty a plan could avoid
# ---------------------------------------------------------------------------------------------


def elastic_rules(inst: hwbopt.Instance, set_name: str, n: int, seed: int,
                  hold_first_year: bool = True):
    from hwbopt.plan.extensive import elastic_of
    from hwbopt.plan.scenarios import draw_scenarios
    from hwbopt.plan.stages import first_stage

    sc = draw_scenarios(inst, stress_set=set_name, scenarios=n, seed=seed,
                        hold_first_year=hold_first_year)
    first = first_stage(sc.comp, sc.built.data.YEARS[0])
    return sc, first, elastic_of(sc.comp, first, [sc.arrays, sc.mean])


def test_definitions_are_rules_of_no_family_and_their_columns_exist():
    from hwbopt.model.names import COMPONENTS
    from hwbopt.plan.extensive import DEFINITIONS

    for name, gives in DEFINITIONS.items():
        assert COMPONENTS[name].kind == "con" and COMPONENTS[name].family is None, name
        for col, side in gives:
            assert COMPONENTS[col].kind == "var" and side in ("lower", "upper"), (name, col)


@pytest.mark.parametrize("name,set_name,n,seed", [("tutorial", "cuts_and_pressures", 4, 3),
                                                  ("county", "spending_review", 3, 11)])
def test_no_definition_row_is_ever_elastic(name, set_name, n, seed):
    """No slack column is ever built on a row that only defines a quantity (outcome_def,
    segment_sum, total_activity_def, staff_balance, staffing, start_def), in any scenario:
    a plan's slack can only ever be reported on a rule (the tests' own tutorial and county
    cases). The bounds that give instead are second-stage columns only."""
    from hwbopt.plan.extensive import DEFINITIONS

    sc, first, el = elastic_rules(hwbopt.load(hwbopt.shipped_instance(name)), set_name, n,
                                  seed)
    named = {sc.comp.row_component[r] for r in el.rows}
    assert not named & set(DEFINITIONS), named & set(DEFINITIONS)
    loose = el.loose_lower | el.loose_upper
    assert not (loose & first).any()
    assert {sc.comp.col_component[j] for j in np.flatnonzero(el.loose_upper)} <= {"segment"}
    assert {sc.comp.col_component[j] for j in np.flatnonzero(el.loose_lower)} <= {"in_post"}


def test_first_year_activity_above_a_futures_need_gives_the_need_not_a_definition(site_cut):
    """Complete recourse with the definitions hard: the first year's activity committed at
    today's need (reablement 50, telecare 30) in a future whose need is a tenth of today's
    (10 episodes, 100 users). Reablement's response is given two pieces here (2 points an
    episode up to half its need, then 1), so its activity is split into response pieces whose
    sum must equal it. The plan still exists, and what it breaks is the need (the activity's
    bound, and the last response piece's capacity, reablement 40 beyond it), never the rule
    that response pieces add up to the activity."""
    from hwbopt.plan.extensive import DEFINITIONS, solve_extensive
    from hwbopt.plan.measures import values_of
    from hwbopt.schema import ResponseRow, StressSet

    spec = {"id": "demand", "inputs": [{"name": "demand", "path": "activity[*].need",
                                        "op": "scale"}],
            "table_rows": [[1.0], [0.1]]}
    pieces = (ResponseRow(intervention="reablement", priority="health", upto_share=0.5,
                          effect=2.0),
              ResponseRow(intervention="reablement", priority="health", upto_share=1.0,
                          effect=1.0),
              *[r for r in site_cut.responses if r.intervention != "reablement"])
    inst = site_cut.model_copy(
        update={"stress": (*site_cut.stress, StressSet.model_validate(spec)),
                "responses": pieces})
    # the extensive form itself, with the smaller need reaching the first year too (a plan
    # holds the first year at today's: models/plan.md)
    sc, first, el = elastic_rules(inst, "demand", 2, 0, hold_first_year=False)
    comp = sc.comp
    base = plan(inst, stress_set="demand", scenarios=1, mip_gap=0.0)  # today's need only
    assert base.status == "optimal" and base.x_hedged is not None
    fixed = base.x_hedged[0]
    sol = solve_extensive(comp, first, sc.arrays, sc.probability, Risk(), el, fixed=fixed,
                          mip_gap=0.0)
    assert sol.status == "optimal" and sol.x is not None
    given = values_of(comp, first, sc.arrays, el, sol.x).given
    assert given and {g.scenario for g in given} == {1}
    assert all(g.row is None or comp.row_component[g.row] not in DEFINITIONS for g in given)
    gave = {(comp.col_component[g.col], g.side) for g in given if g.col is not None}
    assert gave == {("activity", "upper"), ("segment", "upper")}, given
    for kind in ("activity", "segment"):
        amounts = [g.amount for g in given if g.col is not None
                   and comp.col_component[g.col] == kind]
        assert amounts == [pytest.approx(40.0)], (kind, given)


def test_a_site_lost_in_one_future_is_closed_there_by_force(tmp_path):
    """The hub is lost (``available`` false) in one future of two, with probability 0.05,
    and it may close. Keeping it open is worth a great deal in the other future (the case
    scaled by 1000: 50,000 desks of reablement at 2 points against telecare at 1). The board's
    commitment is to keep it open wherever it still stands: in the lost future it is closed by
    force (from the second year: the first year is known), at no penalty, and the rest adapts.
    So the hedged plan keeps the hub, breaks nothing, and does as well as knowing the future
    in advance (RP = WS, EVPI = 0); the plan for the average future (availability 0.95: kept)
    is the same plan (VSS = 0). The lost future's own plan reads the hub as closed in 2014."""
    from hwbopt.schema import StressSet

    inst = hwbopt.load(CASE)
    spec = {"id": "lost", "inputs": [{"name": "hub", "path": "sites[hub].available"}],
            "table_rows": [[1], [0]], "table_probabilities": [0.95, 0.05]}
    inst = inst.model_copy(update={
        "stress": (*inst.stress, StressSet.model_validate(spec)),
        "site_capacity": tuple(r.model_copy(update={"capacity": r.capacity * 1000})
                               for r in inst.site_capacity),
        "activity": tuple(r.model_copy(update={"need": r.need * 1000}) for r in inst.activity),
        "budgets": tuple(r.model_copy(update={"baseline": r.baseline * 1000})
                         for r in inst.budgets)})
    res = plan(inst, stress_set="lost", mip_gap=0.0)
    assert res.status == "optimal", res.message
    assert res.elastic == [], res.elastic
    opened = {e["decision"]: e["value"] for e in res.first_stage
              if e["decision"].startswith("open[hub,")}
    assert opened == {"open[hub,2013]": 1.0, "open[hub,2014]": 1.0}
    assert res.rp == pytest.approx(res.ws, abs=1e-6 * abs(res.ws))
    assert res.evpi == pytest.approx(0, abs=1e-6 * abs(res.ws))
    assert res.vss == pytest.approx(0, abs=1e-6 * abs(res.ws))
    assert res.x_hedged is not None
    hub_2014 = [j for j, (name, idx) in enumerate(zip(build(inst).compiled.col_component,
                                                      build(inst).compiled.col_index,
                                                      strict=True))
                if name == "open" and idx == ("hub", 2014)]
    assert [res.x_hedged[s][hub_2014[0]] for s in (0, 1)] == [1.0, 0.0]
    assert check_every_scenario(inst, res) == 2
