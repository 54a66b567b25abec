"""The two-stage plan by multi-cut L-shaped decomposition (Van Slyke & Wets 1969; Birge &
Louveaux 1988): a first-stage master MIP in HiGHS, each scenario's recourse a subproblem
(:mod:`hwbopt.plan.recourse`) solved warm, locally or on Dask workers.

Everything below is in the σ-minimising form (``σ`` = the objective's sense: +1 ``cost``,
−1 ``outcome``), ``Q_s(z)`` scenario ``s``'s value of first stage ``z`` with its best recourse,
penalties counted.

**Master.** ``min (1 − λ)·Σ p_s θ_s + λ·(η + Σ p_s u_s / (1 − α))`` with ``u_s >= θ_s − η``,
``u >= 0`` (CVaR in the Rockafellar–Uryasev form, as the extensive form), over the first-stage
columns ``z`` (bounds the widest any scenario allows, integers as the model declares) under
the rows of first-stage columns alone that never give (each scenario's version), with
``θ_s >= L_s`` (the LP relaxation of scenario ``s``'s own optimum: no first stage scores
better) and the cuts ``θ_s >= v_s + g_s·(z − ẑ)`` of every first stage ``ẑ`` tried, from the
LP relaxation of ``s``'s subproblem at ``ẑ``. Each cut lies below ``Q_s`` everywhere (the LP's
value is convex in the values it fixes, and never above the MIP's), so the master's proven
bound is a bound on the plan (``LB``).

**Grouped.** Above :data:`GROUPS` scenarios (expectation only) the master has one ``θ_g``
per group of scenarios with like inputs, the probability-weighted mean of their values, and
each round adds the mean of the group's cuts (:func:`grouping`): still a valid bound, with
far fewer rows.

**Kept small.** The master holds only the cuts it uses: during the LP phase a cut slack at
the LP optimum :data:`CUT_AGE` rounds in a row is deleted (:meth:`Master.age_cuts`), and
every slack one before the MIP (:meth:`Master.drop_slack`); any subset of valid cuts gives a
valid bound. Cuts are taken in-out (:data:`IN_OUT`): at a point between the LP optimum and a
stability centre, which cuts deeper where the optimum lies than Kelley's extreme points do.

**Loop.** First the master's LP relaxation, gathering cuts cheaply at fractional first stages,
until it stops improving; then whole values for the integers, the rest of the first stage
chosen again for them (the start plan's integers and the LP optimum's roundings, the most
promising first: :func:`polish_order`), for a first incumbent; then the master MIP. The start
plan's own value comes with it (``start_plans``), so it is never evaluated again. Each integral
master plan's LP values bound its true value from below: only when that bound beats the
incumbent is the plan evaluated exactly (each scenario's second-stage integers by branch and
bound), and the best evaluated plan is the incumbent (``UB``). The run stops when ``UB − LB``
is within ``mip_gap`` of the incumbent's value (the part the plan controls, as HiGHS measures a
gap): ``optimal``; when the time limit passes: ``time_limit`` with the incumbent, bound and
gap; or when no cut is violated but the gap is still open, which happens only where the second
stage has integers (the LP cuts cannot see them): ``stopped`` with the incumbent, bound and
gap, and a message that says so.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.cluster.vq import kmeans2

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.plan import Risk
from hwbopt.plan.extensive import build_extensive, start_of
from hwbopt.plan.measures import risk_value, values_of
from hwbopt.plan.recourse import Background, Pool, Recourse, SubSpec
from hwbopt.status import Outcome, Status

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# seconds a round's master MIP may take: stopped early it still gives a plan to cut at and a
# proven bound, and the next round starts from its plan
MASTER_ROUND = 60.0
# master MIP solves that may fail numerically, each replaced by its LP relaxation rounded,
# before the run gives up
MASTER_FAILURES = 5
# the master MIP's feasibility tolerance (Master.__init__)
MASTER_FEASIBILITY = 1e-5
# a cut is added only if it lifts θ_s by more than this, relative to the scenario's value
VIOLATED = 1e-7
# a cut is slack at a master solution when it lies below the solution's θ_s by more than this,
# relative to θ_s (Master.drop_slack, Master.age_cuts). Not relative to the cut's right-hand
# side: penalty-sized gradients put that at 1e8 where θ_s is 3e5 (county), and a cut 100
# below θ_s counted as tight (200 scenarios: 8,000 of 13,000 cuts kept)
SLACK = 1e-6
# LP rounds that choose the rest of the first stage again for a rounding of the LP optimum
POLISH_ROUNDS = 15
# a polish also ends once the best LP value it tried is within POLISH_CLOSE × mip_gap of the
# run's bound: the plan is then evaluated exactly, and the rest of the gap is left for what
# the second stage's integers cost (county: 0.35% to 0.6% below the LP value). Polishing on
# to the held integers' own LP optimum moved the county's best LP value by 0.17% (a sixth of
# a 1% gap) in ten more rounds of every subproblem (1,000 scenarios: 2.5 s a round)
POLISH_CLOSE = 0.5
# a cut's term g_j·z_j is replaced by its least value over z_j's bounds when that moves the
# cut by at most this, relative to the cut's right-hand side: the penalty-sized gradients of
# rule-breaking plans put coefficients from 2e-5 to 4e7 in one row (county, 10 scenarios),
# and HiGHS's master LP ended in "error" on such rows after some 300 cuts
NEGLIGIBLE = 1e-9
# the LP phase ends when the master's LP bound is within LP_CLOSE × mip_gap of the best LP
# value of a first stage it tried (the LP relaxation of the plan is then solved to well
# within the gap asked), when no cut is violated, or when its bound improved by less than
# LP_STALL (relative) over LP_PATIENCE rounds. Benders' bound moves in steps with long flat
# runs between them (county, 10 scenarios: flat for 8 rounds at 309.4k, then down to the LP
# optimum 306.2k in 50 more), so a short patience ends the phase far from the LP optimum and
# leaves the costly MIP rounds to close what cheap LP rounds would have. A quarter of the
# gap, not a tenth: the last rounds before a tenth only narrowed the LP's own gap, by 0.08%
# of the objective in 8 rounds (county, 500 scenarios); at a quarter the command took 158 s
# against 197 s there (0.60% against 0.76%), 65 s against 71 s at 200 and the same at 1,000
# (326 s, the polish doing the rounds the LP phase left)
LP_CLOSE = 0.25
LP_STALL = 1e-6
LP_PATIENCE = 30
# a cut is deleted during the LP phase once the master's LP optimum has left it slack (as
# SLACK measures) this many rounds in a row: multi-cut adds up to one dense row per scenario
# a round, and at 1,000 county scenarios 25 rounds made 25,000 rows of 437 first-stage terms,
# on which the 26th master LP did not finish. A cut slack that long rarely binds again, the
# bound stays valid with any subset of cuts, and one that is needed is made again
CUT_AGE = 5
# in-out stabilisation of the LP phase (Ben-Ameur & Neto 2007; Fischetti, Ljubić & Sinnl
# 2017): the subproblems are solved at ``core + IN_OUT·(ẑ − core)``, between the master's LP
# optimum ``ẑ`` and a stability centre ``core`` (the start plan's first stage, then moved
# half way to each ``ẑ``), not at ``ẑ`` itself. Kelley's cutting planes jump between extreme
# first stages while the cuts are few (county: the bound flat for the first ten rounds);
# cuts taken nearer the centre are deeper where the optimum lies. A round whose point gives
# no cut the master's optimum violates is solved again at ``ẑ`` (the LP phase ends only when
# ``ẑ`` itself gives none), and after IN_OUT_PATIENCE rounds without the bound moving the
# phase goes on at ``ẑ`` alone. County, 1,000 scenarios in 100 groups: 0.5 closed the LP phase
# in 51 rounds where 0.3 took 93 (402 s against 524 s for the whole command); 0.15 and 1.0
# (no stabilisation) were slower than 0.3 (the bound at round 45: 304.2k at 1.0 and at
# 0.15, 301.7k at 0.3, 299.5k at 0.5)
IN_OUT = 0.5
IN_OUT_PATIENCE = 5
# with a time limit, the LP phase ends once this share of it has passed, so that a run the
# limit stops still has the rest for whole plans (an incumbent near the bound, where the
# start plan alone may break rules in every scenario) and the master MIP
LP_SHARE = 0.5
# θ columns in the master: above this many scenarios, the cuts of a group of scenarios with
# like inputs are averaged into one (cut aggregation: Trukhanov, Ntaimo & Schaefer 2010;
# :func:`grouping`). County, 1,000 scenarios, IN_OUT 0.3, seconds of the decomposition: one θ
# per scenario held up to 16,792 dense cut rows and the master took 366 of 632 s (stopped at
# the limit, 1.35%); 100 groups, 51 of 406 s for more but cheaper rounds (optimal, 0.68%);
# 200 groups, more rows and hardly fewer rounds (462 s)
GROUPS = 100
GROUP_SEED = 0


@dataclass
class Round:
    """One round of the loop, for the log and the benchmark."""

    phase: str  # "lp", "rounding" (the LP optimum's roundings tried) or "mip"
    lower: float  # the proven bound after the round (σ-minimising)
    upper: float  # the incumbent's value (σ-minimising; inf before one)
    cuts: int  # cuts added
    seconds: float  # since the start
    sense: int = 1  # σ: +1 minimising, −1 maximising
    master_seconds: float = 0.0  # of ``seconds``, in master solves so far
    sub_seconds: float = 0.0  # of ``seconds``, in scenario subproblems so far
    held: int = 0  # cut rows the master holds after the round
    dropped: int = 0  # cuts deleted from the master so far (slack ones)
    added: int = 0  # cuts added so far, in every phase (held + dropped)
    groups: int = 0  # θ columns in the master: scenarios, or groups of them (GROUPS)

    @property
    def bound(self) -> float:
        """The proven bound in the objective's own sense."""
        return self.sense * self.lower

    @property
    def best(self) -> float | None:
        """The incumbent's value in the objective's own sense (None before one)."""
        return self.sense * self.upper if np.isfinite(self.upper) else None


@dataclass
class Decomposed:
    """The decomposition's answer: how it ended (objective and bound in the instance's
    sense), the incumbent's first stage ``z`` (whole columns, second stage 0) and each
    scenario's plan under it (S × columns), and the rounds."""

    outcome: Outcome
    seconds: float
    z: Floats | None = None
    x: Floats | None = None
    values: Floats | None = None  # (S,) each scenario's value of the incumbent
    rounds: list[Round] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return self.outcome.status


class Master:
    """The master problem in HiGHS. Columns: the extensive form of the kept scenario ``r``
    alone (its first ``nF`` columns are the first stage ``z``, then its own recourse, slack
    and all), then ``θ`` (one per group of ``groups``, each scenario's group: by default one
    per scenario; ``θ`` of ``r``'s group, ``r`` alone in it, equals ``r``'s value exactly, by
    a row), then, with CVaR, ``η`` and ``u``. Cuts are added as rows."""

    def __init__(self, spec: SubSpec, kept: int, hard: tuple[sp.csr_array, Floats, Floats],
                 floors: Floats, probability: Floats, risk: Risk,
                 groups: Ints | None = None) -> None:
        comp, first, arrays = spec.comp, spec.first, spec.arrays
        own, sh = build_extensive(comp, first, arrays.take([kept]), np.ones(1), Risk(),
                                  spec.elastic, bounded=spec.bounded)
        self.spec, self.kept, self.own, self.own_shape = spec, kept, own, sh
        sigma = comp.sense
        S = len(probability)
        self.groups: Ints = np.arange(S) if groups is None else np.asarray(groups)
        # θ_g is the probability-weighted mean of its scenarios' values: the weights
        # p_s / P_g (G × S), so a group of one is that scenario's value itself. A group of
        # scenarios a table gives probability 0 weighs nothing in the objective; its θ is
        # their plain mean, so that its cuts and floor are still numbers
        G = int(self.groups.max()) + 1
        mass = np.bincount(self.groups, weights=probability, minlength=G)
        size = np.bincount(self.groups, minlength=G).astype(float)
        own_mass = mass[self.groups]
        share = np.where(own_mass > 0, probability / np.where(own_mass > 0, own_mass, 1.0),
                         1.0 / size[self.groups])
        self.weights = sp.csr_array((share, (self.groups, np.arange(S))), shape=(G, S))
        if np.count_nonzero(self.groups == self.groups[kept]) != 1:
            raise ValueError("the kept scenario must be a group of its own")
        self.cvar = risk.lam > 0
        if self.cvar and G != S:
            raise ValueError("CVaR needs one θ per scenario")
        self.nF, self.G, self.m0 = sh.nF, G, own.n_cols  # G: θ columns, one per group
        self.t0 = own.n_cols  # first θ column
        self.integer = own.integer.copy()
        lam = risk.lam
        n = self.t0 + self.G + ((1 + self.G) if self.cvar else 0)
        c = np.zeros(n)
        c[self.t0:self.t0 + self.G] = (1.0 - lam) * mass
        lower, upper = np.zeros(n), np.full(n, np.inf)
        lower[:self.t0], upper[:self.t0] = own.col_lower, own.col_upper
        # the widest first-stage bounds of any scenario (the kept one's bound rows hold its
        # own)
        lower[:self.nF] = arrays.col_lower[:, first].min(axis=0)
        upper[:self.nF] = arrays.col_upper[:, first].max(axis=0)
        self.z_lower, self.z_upper = lower[:self.nF].copy(), upper[:self.nF].copy()
        lower[self.t0:self.t0 + self.G] = self.mean(floors)
        kept_g = int(self.groups[kept])
        lower[self.t0 + kept_g] = -np.inf
        A_hard, lo_hard, hi_hard = hard
        self.hard = hard
        A_own = sp.hstack([own.A.tocsr(), sp.csr_array((own.n_rows, n - self.t0))])
        # θ_r − σ·c_r·X = σ·offset: the kept scenario's value, exactly
        link = np.zeros((1, n))
        link[0, :self.t0] = -sigma * own.c
        link[0, self.t0 + kept_g] = 1.0
        blocks = [A_own, sp.csr_array(link),
                  sp.hstack([A_hard, sp.csr_array((A_hard.shape[0], n - self.nF))])]
        row_lo = [own.row_lower, np.array([sigma * own.offset]), lo_hard]
        row_hi = [own.row_upper, np.array([sigma * own.offset]), hi_hard]
        if self.cvar:
            eta = self.t0 + self.G
            lower[eta] = -np.inf
            c[eta] = lam
            c[eta + 1:] = lam * mass / (1.0 - risk.alpha)
            # u_s − θ_s + η >= 0
            s = np.arange(self.G)
            rows = np.concatenate([s, s, s])
            cols = np.concatenate([eta + 1 + s, self.t0 + s, np.full(self.G, eta)])
            vals = np.concatenate([np.ones(self.G), -np.ones(self.G), np.ones(self.G)])
            blocks.append(sp.csr_array((vals, (rows, cols)), shape=(self.G, n)))
            row_lo.append(np.zeros(self.G))
            row_hi.append(np.full(self.G, np.inf))
        A = sp.vstack(blocks).tocsc()
        self.n = n
        self.integer = np.concatenate([own.integer, np.zeros(n - self.t0, dtype=bool)])
        model = Compiled(sense=1, c=c, offset=0.0, A=A, row_lower=np.concatenate(row_lo),
                         row_upper=np.concatenate(row_hi), col_lower=lower, col_upper=upper,
                         integer=np.zeros(n, dtype=bool), col_component=[], col_index=[],
                         row_component=[], row_index=[], constant=0.0)
        self.h = highs.load(model)
        # the cuts of plans that break rules carry penalty-sized gradients beside the kept
        # scenario's own rows: at HiGHS's default 1e-6 its MIP search ends in "solve error"
        # or finds no point it can trust (county, 20 scenarios: nothing in 140 s); at 1e-5 the
        # same master solves in seconds. Each master plan is evaluated exactly by the
        # subproblems, so a hair's breadth on a master row never reaches a reported value
        self.h.setOptionValue("mip_feasibility_tolerance", MASTER_FEASIBILITY)
        self.integral = False
        self.cuts = 0  # cuts added so far
        self.dropped = 0  # of those, deleted again
        self.base_rows = A.shape[0]  # the cuts are the rows after these
        # per cut row, in the master's order: LP rounds in a row it has been slack, and the
        # scenario whose θ it bounds
        self.age: Ints = np.zeros(0, dtype=np.int64)
        self.owner: Ints = np.zeros(0, dtype=np.int64)

    def mean(self, per_scenario: Floats) -> Floats:
        """Each group's probability-weighted mean of ``per_scenario`` (rows: scenarios)."""
        out: Floats = self.weights @ per_scenario
        return out

    def add_cuts(self, scenarios: Ints, values: Floats, grads: Floats, at: Floats) -> None:
        """``θ_g − g_g·z >= v_g − g_g·ẑ`` for each of the groups ``scenarios`` (``grads``:
        one row per group over the first stage, ``at``: ẑ's first-stage values)."""
        k = len(scenarios)
        if not k:
            return
        G = np.asarray(grads, dtype=float)
        lower = values - G @ at
        lower, keep = clean(G, lower, self.z_lower, self.z_upper)
        per_row = keep.sum(axis=1) + 1
        starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int32)
        index = np.empty(int(per_row.sum()), dtype=np.int32)
        value = np.empty(int(per_row.sum()))
        for r in range(k):
            zcols = np.flatnonzero(keep[r])
            a = int(starts[r])
            index[a:a + len(zcols)] = zcols
            value[a:a + len(zcols)] = -G[r, zcols]
            index[a + len(zcols)] = self.t0 + int(scenarios[r])
            value[a + len(zcols)] = 1.0
        self.h.addRows(k, lower, np.full(k, highspy.kHighsInf), len(index), starts, index, value)
        self.cuts += k
        self.age = np.concatenate([self.age, np.zeros(k, dtype=np.int64)])
        self.owner = np.concatenate([self.owner, np.asarray(scenarios, dtype=np.int64)])

    @property
    def held(self) -> int:
        """Cut rows the master holds now."""
        return self.cuts - self.dropped

    def _slack(self, x: Floats, row_activity: Floats) -> Bools:
        """Which cut rows the master solution ``x`` (its row activities ``row_activity``)
        leaves slack: the cut's value there below ``θ_s`` by more than :data:`SLACK` of
        ``θ_s`` (a cut row's activity less its lower bound is exactly that distance)."""
        lp = self.h.getLp()
        lower = np.asarray(lp.row_lower_)[self.base_rows:]
        act = row_activity[self.base_rows:]
        theta = self.theta(x)[self.owner]
        out: Bools = act - lower > SLACK * np.maximum(1.0, np.abs(theta))
        return out

    def _delete(self, which: Bools) -> int:
        """Delete the cut rows ``which`` marks (in the cuts' order); returns how many.
        Slack rows are basic, so the basis HiGHS holds stays valid for the next warm
        solve."""
        rows = (self.base_rows + np.flatnonzero(which)).astype(np.int32)
        if len(rows):
            self.h.deleteRows(len(rows), rows)
            self.age, self.owner = self.age[~which], self.owner[~which]
            self.dropped += len(rows)
        return len(rows)

    def age_cuts(self, x: Floats, row_activity: Floats) -> int:
        """Count another LP round for each cut slack at the master LP solution ``x`` (its
        row activities ``row_activity``; a tight one starts again from 0), and delete those
        slack :data:`CUT_AGE` rounds in a row; returns how many were deleted."""
        slack = self._slack(x, row_activity)
        self.age = np.where(slack, self.age + 1, 0)
        return self._delete(self.age >= CUT_AGE)

    def run(self, time_limit: float | None, mip_gap: float | None = None,
            is_mip: bool = False) -> highs.RawSolution:
        """One solve of the master; one that ends in "error", "infeasible" or "unbounded" is
        tried once more from nothing (its rebuilt factorisation and scaling usually succeed
        where the warm start from the last basis, many steep cuts later, did not). The master
        always has a point (any plan, its θ raised to its cuts) and a bound (each θ_s has a
        floor), so those verdicts are numerical trouble."""
        sol = highs.run(self.h, time_limit=time_limit, mip_gap=mip_gap,
                        is_mip=is_mip)
        if sol.status in (Status.ERROR, Status.INFEASIBLE, Status.UNBOUNDED):
            self.h.clearSolver()
            sol = highs.run(self.h, time_limit=time_limit,
                            mip_gap=mip_gap, is_mip=is_mip)
        return sol

    def drop_slack(self, x: Floats, row_activity: Floats) -> int:
        """Delete the cuts that are slack at the master solution ``x`` (its row activities
        ``row_activity``; :meth:`_slack`); returns how many. The master's bound stays valid
        with any subset of the cuts; the slack ones only slow its MIP search (county, 50
        scenarios: 2,600 dense rows, a minute a round)."""
        return self._delete(self._slack(x, row_activity))

    def hold_integers(self, z_first: Floats | None) -> None:
        """Fix the first stage's integer columns at ``z_first``'s values (None: free them
        within their bounds again)."""
        ints = np.flatnonzero(self.integer[:self.nF]).astype(np.int32)
        if not len(ints):
            return
        if z_first is None:
            lo, hi = self.z_lower[ints], self.z_upper[ints]
        else:
            lo = hi = np.round(z_first[ints])
        self.h.changeColsBounds(len(ints), ints, lo, hi)

    def make_integral(self, integral: bool = True) -> None:
        """The master MIP (or, ``integral`` false, its LP relaxation again)."""
        ints = np.flatnonzero(self.integer).astype(np.int32)
        if len(ints):
            self.h.changeColsIntegrality(len(ints), ints,
                                         np.full(len(ints), int(integral), dtype=np.uint8))
        self.integral = integral

    def relaxed(self, time_limit: float | None) -> highs.RawSolution:
        """The master's LP relaxation, solved once with the MIP restored after: a proven
        bound and a point to round when the MIP search fails numerically."""
        self.make_integral(False)
        try:
            return self.run(time_limit)
        finally:
            self.make_integral(True)

    def holds(self, z_first: Floats) -> bool:
        """Does the first stage ``z_first`` keep every hard row of first-stage columns alone
        (a plan may only be the incumbent if it does)?"""
        A, lo, hi = self.hard
        act = A @ z_first
        tol = 1e-6 * np.maximum(1.0, np.abs(act))
        return bool(np.all(act >= lo - tol) and np.all(act <= hi + tol))

    def theta(self, x: Floats) -> Floats:
        out: Floats = x[self.t0:self.t0 + self.G]
        return out

    def solve(self, time_limit: float | None, mip_gap: float,
              start: Floats | None = None) -> highs.RawSolution:
        is_mip = self.integral and bool(self.integer.any())
        if is_mip and start is not None:
            # the integers only: HiGHS completes the rest by an LP with them fixed. A whole
            # point is rejected whenever a steep cut (penalty-sized gradients) or a large row
            # is off by more than the feasibility tolerance in the last digits
            ints = np.flatnonzero(self.integer).astype(np.int32)
            self.h.setSolution(len(ints), ints, np.round(start[ints]))
        return self.run(time_limit, mip_gap, is_mip)

    def incumbent(self, x: Floats, values: Floats) -> Floats:
        """A master solution from a plan: ``x`` the kept scenario's whole plan (the
        instance's columns, the plan's first stage), ``values`` every scenario's value of the
        plan (σ-minimising; at least every cut, which lie below the true values)."""
        spec = self.spec
        out = np.zeros(self.n)
        out[:self.t0] = start_of(self.own, self.own_shape, spec.comp,
                                 spec.arrays.take([self.kept]), spec.elastic, x[None, :])
        theta = self.mean(values)
        theta[self.groups[self.kept]] = spec.comp.sense * (float(self.own.c @ out[:self.t0])
                                                           + self.own.offset)
        out[self.t0:self.t0 + self.G] = theta
        if self.cvar:
            eta = float(np.max(theta))
            out[self.t0 + self.G] = eta
            out[self.t0 + self.G + 1:] = np.maximum(theta - eta, 0.0)
        return out

    def lifted(self, x: Floats, values: Floats) -> Floats:
        """The master solution ``x`` with each ``θ_s`` raised to at least ``values`` (the
        cuts just taken at ``x``'s first stage) and CVaR's ``u`` to match: a feasible start
        for the next solve, as good as the cuts allow."""
        out = x.copy()
        theta = np.maximum(out[self.t0:self.t0 + self.G], self.mean(values))
        out[self.t0:self.t0 + self.G] = theta
        if self.cvar:
            eta = out[self.t0 + self.G]
            out[self.t0 + self.G + 1:] = np.maximum(theta - eta, 0.0)
        return out


def roundings(z: Floats, integer: Bools) -> list[Floats]:
    """The first stage ``z`` (the master LP's optimum) with its fractional integers rounded:
    every one up (a site partly open kept open, so the activity the LP put there still has
    room), and each to the nearest whole value (first). The distinct ones, whole already
    excepted."""
    out: list[Floats] = []
    frac = integer & (np.abs(z - np.round(z)) > 1e-6)
    if not frac.any():
        return out
    for rounded in (np.where(integer, np.round(z), z), np.where(frac, np.ceil(z), z)):
        if not any(np.array_equal(rounded, o) for o in out):
            out.append(rounded)
    return out


def polish_order(z0: Floats, z: Floats, integer: Bools,
                 held: Callable[[Floats], float]) -> list[Floats]:
    """The first stages whose integers are polished, in turn: the start plan's ``z0`` and the
    roundings of the LP optimum ``z``, one for each distinct set of whole values (the polish
    chooses everything else again), the least bound ``held`` gives first (σ-minimising: the
    most promising; ties in that order). County, 1,000 scenarios: the LP optimum rounded up
    held 299.0k and the start plan's integers 298.3k; polished first, the start's ended 1.2%
    from the bound and cost a further polish, where the rounding's closed the gap."""
    out: list[Floats] = []
    for c in [z0, *roundings(z, integer)]:
        if not any(np.array_equal(c[integer], o[integer]) for o in out):
            out.append(c)
    if len(out) < 2:
        return out
    bounds = [held(c) for c in out]
    return [out[i] for i in np.argsort(bounds, kind="stable")]


def clean(G: Floats, lower: Floats, z_lower: Floats,
          z_upper: Floats) -> tuple[Floats, Bools]:
    """Cuts ``θ − G·z >= lower`` without their negligible terms: each term ``g_j·z_j`` that
    moves by at most :data:`NEGLIGIBLE` × |lower| over ``z_j``'s finite bounds is replaced by
    its least value there, so the cut stays valid (it is only weakened, by at most that much
    per term). Returns the new right-hand sides and which terms stay."""
    width = z_upper - z_lower
    finite = np.isfinite(width)
    moves = np.abs(G) * np.where(finite, width, 0.0)[None, :]
    tiny = (moves <= NEGLIGIBLE * np.maximum(1.0, np.abs(lower))[:, None]) & (G != 0) \
        & finite[None, :]
    zl, zu = np.where(finite, z_lower, 0.0), np.where(finite, z_upper, 0.0)
    least = np.minimum(G * zl[None, :], G * zu[None, :])
    out: Floats = lower + np.where(tiny, least, 0.0).sum(axis=1)
    return out, (G != 0) & ~tiny


def hard_first_rows(spec: SubSpec) -> tuple[sp.csr_array, Floats, Floats]:
    """The rows of first-stage columns alone that never give
    (:attr:`hwbopt.plan.recourse.SubSpec.first_rows`), over the first-stage columns: every
    scenario's version, each distinct one once."""
    comp, first, arrays = spec.comp, spec.first, spec.arrays
    keep = spec.first_rows
    cols = np.repeat(np.arange(comp.n_cols), np.diff(comp.A.indptr))
    rows = comp.A.indices.astype(np.int64)
    zpos = np.full(comp.n_cols, -1, dtype=np.int64)
    zpos[first] = np.arange(int(first.sum()))
    in_keep = np.isin(rows, keep)
    new_row = np.full(comp.n_rows, -1, dtype=np.int64)
    new_row[keep] = np.arange(len(keep))
    rr, cc = new_row[rows[in_keep]], zpos[cols[in_keep]]
    nF = int(first.sum())
    blocks, lows, highs_ = [], [], []
    seen: set[bytes] = set()
    for s in range(arrays.size):
        data, lo = arrays.a_data[s][in_keep], arrays.row_lower[s][keep]
        hi = arrays.row_upper[s][keep]
        key = data.tobytes() + lo.tobytes() + hi.tobytes()
        if key in seen:
            continue
        seen.add(key)
        blocks.append(sp.csr_array((data, (rr, cc)), shape=(len(keep), nF)))
        lows.append(lo)
        highs_.append(hi)
    return sp.vstack(blocks).tocsr(), np.concatenate(lows), np.concatenate(highs_)


def grouping(S: int, values: Floats | None, kept: int, risk: Risk, count: int) -> Ints:
    """Each scenario's group for the master's cuts: at most ``count`` groups of scenarios
    whose inputs (each in units of its spread) lie near each other, by k-means from a fixed
    seed, the kept scenario a group of its own; one group per scenario when there are no
    more scenarios than ``count``, without the inputs, or with CVaR (whose tail needs each
    scenario's value)."""
    if values is None or count >= S or risk.lam > 0 or count < 2:
        return np.arange(S)
    spread = values.std(axis=0)
    spread[spread == 0] = 1.0
    points = (values - values.mean(axis=0)) / spread
    rest = np.delete(np.arange(S), kept)
    # k-means over the distinct inputs: scenarios with the same inputs (a table's repeated
    # rows, or inputs that do not vary) always share a group, and k-means++ never has to
    # choose among identical points (SciPy divides by zero there)
    _, first_at, back = np.unique(points[rest], axis=0, return_index=True,
                                  return_inverse=True)
    # in the order they first occur (k-means++ draws its seeds in the points' order)
    order = np.argsort(first_at)
    distinct = points[rest][first_at[order]]
    back = np.argsort(order)[back.ravel()]
    if len(distinct) <= count - 1:
        label = back
    else:
        with warnings.catch_warnings():
            # a cluster left empty is harmless: the groups are numbered below
            warnings.simplefilter("ignore", UserWarning)
            _, centre = kmeans2(distinct, count - 1, minit="++", seed=GROUP_SEED)
        label = centre[back]
    out = np.empty(S, dtype=np.int64)
    # labels of the groups that got scenarios, numbered 0.. in order; the kept one last
    _, out[rest] = np.unique(label, return_inverse=True)
    out[kept] = int(out[rest].max()) + 1
    return out


def typical(values: Floats, probability: Floats) -> int:
    """The scenario nearest the mean of the inputs (each input in units of its spread): the
    one the master keeps whole."""
    mean = probability @ values
    spread = np.sqrt(probability @ (values - mean) ** 2)
    spread[spread == 0] = 1.0
    return int(np.argmin((((values - mean) / spread) ** 2).sum(axis=1)))


def solve_decomposed(pool: Pool, probability: Floats, risk: Risk, *, start: Floats,
                     floors: Floats, time_limit: float | None = None,
                     mip_gap: float = 1e-4,
                     arrays_values: Floats | None = None,
                     start_plans: Floats | None = None,
                     on_round: Callable[[Round], None] | None = None,
                     background: Background | None = None,
                     groups: int | None = None) -> Decomposed:
    """The two-stage plan over the scenarios of ``pool`` (module docstring). ``start``: a
    whole plan whose first stage is tried first (the mean-value plan); ``floors``: each
    scenario's LP floor ``L_s`` (σ-minimising); ``start_plans``: each scenario's best plan
    with ``start``'s first stage, found already (S × columns, as each scenario has them):
    the first incumbent, valued from its decisions, so that first stage is not evaluated
    exactly again (county: a branch and bound per scenario, 0.4 s each). ``background``:
    work the pool's workers do while this process solves the master
    (:class:`hwbopt.plan.recourse.Background`)."""
    began = time.perf_counter()
    spec = pool.spec
    comp, first, arrays = spec.comp, spec.first, spec.arrays
    sigma = comp.sense
    kept = typical(arrays_values, probability) if arrays_values is not None else 0
    master = Master(spec, kept, hard_first_rows(spec), floors, probability, risk,
                    groups=grouping(arrays.size, arrays_values, kept, risk,
                                    GROUPS if groups is None else groups))
    rounds: list[Round] = []
    lower, upper = -np.inf, np.inf
    best_z: Floats | None = None
    best_x: Floats | None = None
    best_v: Floats | None = None

    spent = {"master": 0.0, "sub": 0.0}

    def fixed(z: Floats, exact: bool) -> list[Recourse]:
        began_sub = time.perf_counter()
        try:
            return pool.fixed(z, exact=exact)
        finally:
            spent["sub"] += time.perf_counter() - began_sub

    def solve_master(time_limit: float | None, gap: float,
                     start: Floats | None = None) -> highs.RawSolution:
        if background is not None:
            background.feed(time_limit)
        began_master = time.perf_counter()
        try:
            return master.solve(time_limit, gap, start)
        finally:
            took = time.perf_counter() - began_master
            spent["master"] += took
            if background is not None:
                background.collect(took)

    def record(phase: str, added: int) -> None:
        rounds.append(Round(phase, lower, upper, added, time.perf_counter() - began, sigma,
                            spent["master"], spent["sub"], master.held, master.dropped,
                            master.cuts, master.G))
        if on_round is not None:
            on_round(rounds[-1])

    def left() -> float | None:
        if time_limit is None:
            return None
        return max(time_limit - (time.perf_counter() - began), 0.0)

    def exact(z: Floats, found: list[Recourse]) -> None:
        nonlocal upper, best_z, best_x, best_v
        if not master.holds(z[first]):
            return  # a rounded relaxation that breaks a rule of the commitments themselves
        rs = found if all(r.value is not None for r in found) else fixed(z, True)
        if any(r.value is None for r in rs):
            return
        v = np.array([sigma * float(r.value) for r in rs])  # type: ignore[arg-type]
        value = sigma * risk_value(sigma * v, probability, risk, sigma)
        if value < upper:
            upper, best_z = value, np.where(first, z, 0.0)
            best_x = np.vstack([r.x for r in rs])  # type: ignore[misc]
            best_v = sigma * v

    def cuts(z: Floats, found: list[Recourse], theta: Floats | None,
             master_z: Floats | None = None) -> int:
        """Add the cuts taken at ``z`` that the master solution (``master_z``, default
        ``z``, and ``theta``) violates (every one if ``theta`` is None); returns how many."""
        v = np.array([np.nan if r.cut_value is None else r.cut_value for r in found])
        if np.isnan(v).any():
            bad = [r for r in found if r.cut_value is None]
            raise RuntimeError(f"scenario {bad[0].scenario}'s subproblem ended {bad[0].status}")
        # each group's cut: the probability-weighted mean of its scenarios' cuts
        v = master.mean(v)
        G = master.mean(np.vstack([r.grad for r in found]))  # type: ignore[misc]
        # each cut's value at the master's own first stage
        at_master = v if master_z is None else v + G @ (master_z[first] - z[first])
        take = np.arange(master.G) if theta is None else np.flatnonzero(
            at_master - theta > VIOLATED * np.maximum(1.0, np.abs(at_master)))
        master.add_cuts(take, v[take], G[take], z[first])
        return len(take)

    def seed(z: Floats, plans: Floats) -> None:
        """The plans ``plans`` (each scenario's, first stage ``z``'s) as the incumbent, if
        the commitments keep their own rules."""
        nonlocal upper, best_z, best_x, best_v
        if not master.holds(z[first]):
            return
        f = values_of(comp, first, arrays, spec.elastic, plans).f
        value = sigma * risk_value(f, probability, risk, sigma)
        if value < upper:
            upper, best_z, best_x, best_v = value, np.where(first, z, 0.0), plans, f

    def separate(z: Floats, theta: Floats, core: Floats | None,
                 step: float) -> tuple[Floats, list[Recourse], int]:
        """Cuts for the master LP solution (first stage ``z``, ``theta``) taken at the in-out
        point ``core + step·(z − core)`` (``z`` itself without a ``core``), and at ``z`` when
        that point gives none the solution violates: the point the subproblems were solved
        at, their answers, and the cuts added."""
        at = z if core is None or step >= 1.0 else core + step * (z - core)
        found = fixed(at, False)
        added = cuts(at, found, theta, z)
        if added == 0 and at is not z:
            at, found = z, fixed(z, False)
            added = cuts(z, found, theta)
        return at, found, added

    def polish(z_round: Floats) -> None:
        """The master LP with the first stage's integers held at ``z_round``'s, re-solved
        with the cuts it makes (taken in-out, from ``z_round`` as the centre) until its bound
        meets the best LP value it tried (within LP_CLOSE × mip_gap), that bound shows the
        held integers cannot beat the incumbent, or POLISH_ROUNDS pass; that best first
        stage is then evaluated exactly. Its cuts hold everywhere, so they stay."""
        master.hold_integers(z_round[first])
        centre: Floats | None = z_round.copy() if master.holds(z_round[first]) else None
        try:
            best_lp, best_at, low = np.inf, None, -np.inf
            for _ in range(POLISH_ROUNDS):
                remaining = left()
                if remaining is not None and remaining <= 0:
                    break
                sol = solve_master(remaining, mip_gap)
                if sol.x is None or sol.bound is None:
                    break
                low = max(low, float(sol.bound))
                if low >= upper:
                    break  # no first stage with these integers beats the incumbent
                zp = np.zeros(comp.n_cols)
                zp[first] = sol.x[:master.nF]
                zp[first & comp.integer] = np.round(zp[first & comp.integer])
                at, found, added = separate(zp, master.theta(sol.x), centre, IN_OUT)
                if centre is not None:
                    centre = 0.5 * (centre + zp)
                value = risk_value(np.array([r.cut_value for r in found], dtype=float),
                                   probability, risk, 1)
                if value < best_lp and master.holds(at[first]):
                    best_lp, best_at = value, at
                if added == 0 or _closed(best_lp, low, LP_CLOSE * mip_gap, comp.constant,
                                         sigma) or _closed(best_lp, lower,
                                                           POLISH_CLOSE * mip_gap,
                                                           comp.constant, sigma):
                    break
        finally:
            master.hold_integers(None)
        if best_at is not None and best_lp < upper:
            exact(best_at, fixed(best_at, True))

    def held_bound(z_round: Floats) -> float:
        """The master LP's bound with the first stage's integers held at ``z_round``'s: no
        first stage with those integers scores better (with the cuts so far)."""
        master.hold_integers(z_round[first])
        try:
            sol = solve_master(left(), mip_gap)
        finally:
            master.hold_integers(None)
        return np.inf if sol.bound is None else float(sol.bound)

    z0 = np.where(comp.integer, np.round(start), start)
    found = fixed(z0, start_plans is None)
    cuts(z0, found, None)
    if start_plans is None:
        exact(z0, found)
    else:
        seed(z0, start_plans)
    # the in-out stability centre: the start plan's first stage, if it keeps the
    # commitments' own rules (a point the master allows)
    core: Floats | None = z0.copy() if master.holds(z0[first]) else None
    in_out = IN_OUT  # 1: the LP phase cuts at the master's optimum alone
    flat = 0  # LP rounds in a row whose bound did not improve
    status, message = Status.TIME_LIMIT, ""
    stall: list[float] = []
    lp_upper = np.inf  # the best LP value of a first stage the LP phase tried
    next_start: Floats | None = None
    tight = False  # solve the master to a quarter of mip_gap, not to the gap still open
    idle = 0  # master rounds in a row that ended without a plan
    failed = 0  # master MIP solves that failed numerically (then relaxed: MASTER_FAILURES)
    while True:
        remaining = left()
        if remaining is not None and remaining <= 0:
            break
        # early rounds need only a rough master: its proven bound is valid at any gap
        used_gap = max(_master_gap(upper, lower, mip_gap, comp.constant, sigma, floor=tight),
                       _master_gap(upper, lower, mip_gap, comp.constant, sigma, floor=True))
        if next_start is None and master.integral and best_x is not None \
                and best_v is not None:
            next_start = master.incumbent(best_x[master.kept], sigma * best_v)
        cap = MASTER_ROUND if remaining is None else min(remaining, MASTER_ROUND)
        sol = solve_master(cap if master.integral else remaining, used_gap, next_start)
        if sol.x is None or sol.bound is None:
            if sol.status in (Status.TIME_LIMIT, Status.STOPPED) and idle < 2 and (
                    remaining is None or remaining > cap):
                idle += 1
                continue  # the master found no plan in its round: give it another
            if sol.status in (Status.TIME_LIMIT, Status.STOPPED):
                break
            if not master.integral or failed >= MASTER_FAILURES:
                status, message = _master_failed(sol, best_v is not None)
                break
            # HiGHS's MIP search failed on the master (penalty-sized cuts): its LP
            # relaxation still gives a proven bound, and its first stage, rounded, a plan
            # to evaluate and cut at
            failed += 1
            sol = master.relaxed(remaining)
            if sol.x is None or sol.bound is None:
                status, message = _master_failed(sol, best_v is not None)
                break
        idle = 0
        lower = max(lower, float(sol.bound))
        if _closed(upper, lower, mip_gap, comp.constant, sigma):
            status = Status.OPTIMAL
            record("mip" if master.integral else "lp", 0)
            break
        z = np.zeros(comp.n_cols)
        z[first] = sol.x[:master.nF]
        if master.integral:
            z[first & comp.integer] = np.round(z[first & comp.integer])
        else:
            if sol.row_activity is not None:
                master.age_cuts(sol.x, sol.row_activity)
            flat = flat + 1 if lower <= (stall[-1] if stall else -np.inf) + LP_STALL * max(
                1.0, abs(lower)) else 0
            if flat >= IN_OUT_PATIENCE:
                in_out = 1.0
        if master.integral:
            found = fixed(z, False)
            added = cuts(z, found, master.theta(sol.x))
        else:
            _, found, added = separate(z, master.theta(sol.x), core, in_out)
            if core is not None:
                core = 0.5 * (core + z)
        lp_values = np.array([r.cut_value for r in found], dtype=float)
        next_start = master.lifted(sol.x, lp_values) if master.integral else None
        if master.integral:
            lp_value = risk_value(lp_values, probability, risk, 1)
            if lp_value < upper - 1e-9 * max(1.0, abs(upper)):
                exact(z, found)
        record("mip" if master.integral else "lp", added)
        if _closed(upper, lower, mip_gap, comp.constant, sigma):
            status = Status.OPTIMAL
            break
        if not master.integral:
            stall.append(lower)
            lp_upper = min(lp_upper, risk_value(lp_values, probability, risk, 1))
            stalled = len(stall) > LP_PATIENCE and (
                stall[-1] - stall[-1 - LP_PATIENCE]
                <= LP_STALL * max(1.0, abs(stall[-1])))
            late = time_limit is not None and \
                time.perf_counter() - began >= LP_SHARE * time_limit
            if added == 0 or stalled or late or _closed(lp_upper, lower, LP_CLOSE * mip_gap,
                                                        comp.constant, sigma):
                # whole values for the integers, the rest of the first stage chosen again
                # for them: plans to start the incumbent from, and cuts where the master
                # MIP will look first. The start plan's integers are among them: the
                # mean-value plan's commitments are whole and usually sound, where its
                # first-year money, set for the average future alone, is what the scenarios
                # break (county, 50 scenarios: the mean-value plan 283% below the bound,
                # polished 0.7%); the LP optimum's roundings beside them, the most
                # promising polished first (polish_order). (Polished before the LP phase,
                # with few cuts, the start plan came out 2.8% below: the phase's cuts are
                # what make the polish good.)
                for z_round in polish_order(z0, z, comp.integer & first, held_bound):
                    if not _closed(upper, lower, mip_gap, comp.constant, sigma):
                        polish(z_round)
                # the LP optimum with every cut, to see which are slack there
                again = solve_master(left(), mip_gap)
                if again.x is not None and again.row_activity is not None \
                        and again.bound is not None:
                    lower = max(lower, float(again.bound))
                    master.drop_slack(again.x, again.row_activity)
                master.make_integral()
                record("rounding", 0)
            continue
        if added == 0 and not tight:
            # the master's plan scores what the cuts say: only the master's own gap is open
            tight = True
            continue
        tight = False
        if added == 0:
            # no cut left to add and the master solved to a quarter of the gap asked
            status = Status.STOPPED
            message = ("the decomposition's bound comes from the second stage's LP "
                       "relaxation, which its integers (an S-shaped response curve's order) "
                       "keep from closing the gap: use --method extensive for a proof"
                       if spec.integer_second else
                       "no cut is left to add but the gap is open (numerical trouble in the "
                       "master or a subproblem)")
            break
    seconds = time.perf_counter() - began
    rp = None if best_v is None else sigma * upper
    bound = None if not np.isfinite(lower) else sigma * lower
    gap = None
    if rp is not None and bound is not None:
        gap = max(0.0, sigma * (rp - bound)) / max(abs(rp - comp.constant), 1e-12)
    if rp is None and status == Status.OPTIMAL:
        status = Status.ERROR
    text = message
    if status == Status.TIME_LIMIT:
        text = f"time limit of {time_limit or 0:g} s reached" + (
            ": the best plan found, not proven optimal" if rp is not None else ", no plan")
    return Decomposed(Outcome(status, text, "decomposition", rp, bound, gap), seconds, best_z,
                      best_x, best_v, rounds)


def _master_failed(sol: highs.RawSolution, has_plan: bool) -> tuple[Status, str]:
    """How the run ends when HiGHS fails on the master: ``stopped`` with the best plan found
    and the bound proven so far (reported, as a stopped MIP's are), else an error."""
    why = f"the master problem ended {sol.status} ({sol.detail}): numerical trouble"
    if has_plan:
        return Status.STOPPED, why + "; the best plan found and the bound proven so far " \
            "are reported (--method extensive may do better on this instance)"
    return Status.ERROR, why


def _master_gap(upper: float, lower: float, mip_gap: float, constant: float,
                sigma: int, floor: bool = False) -> float:
    """The relative gap a round's master MIP is solved to: a quarter of the run's gap still
    open (at most 5%), never below a quarter of ``mip_gap`` (``floor``: exactly that), both
    measured as HiGHS measures the master's (relative to its objective, which includes the
    constant)."""
    if not np.isfinite(upper):
        return 0.05 if not floor else 0.0
    scale = max(abs(sigma * upper - constant), 1e-12) / max(abs(upper), 1e-12)
    if floor:
        return float(mip_gap / 4 * scale)
    if not np.isfinite(lower):
        return 0.05
    open_gap = (upper - lower) / max(abs(sigma * upper - constant), 1e-12)
    return float(min(0.05, open_gap / 4) * scale)


def _closed(upper: float, lower: float, mip_gap: float, constant: float, sigma: int) -> bool:
    """Is the incumbent within ``mip_gap`` of the bound, relative to the part of its value
    the plan controls (σ-minimising values)?"""
    if not np.isfinite(upper) or not np.isfinite(lower):
        return False
    # never tighter than the solver's own arithmetic: HiGHS's optimality tolerances are 1e-7
    # absolute, so a gap of 0 asked is met within 1e-9 relative
    return upper - lower <= max(mip_gap, 1e-9) * max(abs(sigma * upper - constant), 1.0)
