"""Who gains from pooling: coalition values, fair splits, and who would walk away.

``hwbopt coalitions`` (``models/coalitions.md``). The value of a coalition S of partners is the
best objective when only the partners in S put money into the pooled funds (every other
partner's ``contribution`` columns fixed at 0, its minimum share waived), minus the siloed
objective (nobody pools); under ``cost``, the money saved. The game's mathematics (Shapley,
core, nucleolus, least core, blocking groups) is in :mod:`hwbopt.analyses.games`; this module
computes the values and puts the answer together.

**Solving.** One model is built; every coalition only changes the bounds of its contribution
columns, so each process loads it into HiGHS once and re-solves it (an LP warm from its last
basis). Coalitions go from the largest to the smallest, a size at a time, spread over the
workers. A solved plan in which some members contribute nothing is also the optimum of every
coalition between the members that do contribute and the one solved: it is feasible there
(the others' columns are 0 within their bounds), and no such coalition can do better than the
one solved, whose rules allow more. On the county this answers 128 coalitions with 51 solves.

Every plan solved is certified by the independent checker (:func:`hwbopt.check.check_solution`)
against the instance whose pools list only the coalition's members.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hwbopt import highs
from hwbopt.analyses import games
from hwbopt.check import check_solution
from hwbopt.errors import UsageError
from hwbopt.pipeline import Built, build, result_from
from hwbopt.results import Result
from hwbopt.results.tables import plan_tables
from hwbopt.scenarios import BASE, scenario_instance, scenario_names
from hwbopt.schema import Instance
from hwbopt.status import EARLY, Status, check_limits

Floats = npt.NDArray[np.float64]

EXACT_UP_TO = 12  # partners: beyond, 2^P coalitions are too many; Shapley is sampled
DEFAULT_SAMPLES = 200  # permutations when sampling and none are asked for
# A coalition's value is a difference of two objectives some 30 times larger (county: 10k
# against 310k), so the instance's usual 1e-4 gap would leave each value uncertain by a
# third of a per cent of the objective, 3% of the value of pooling. 1e-6 cost the county no
# more time than 1e-4 (measured: 141 s against 149 s for all 128 coalitions on one core).
DEFAULT_GAP = 1e-6
# HiGHS's sub-MIP heuristics (RINS, RENS) and root reduced-cost fixing took two thirds of each
# county coalition's 4.3 s: the model has about 20 free binaries, which branching settles in
# a few nodes. Off, a coalition took 1.1 s, with the same values. Symmetry detection finds
# nothing in these models, and presolve (with its restarts) cost more than it saved: 20
# county coalitions in 20.7 s with it, 15.9 s without, the same values.
MIP_OPTIONS: dict[str, bool | str] = {"mip_heuristic_run_rins": False,
                                      "mip_heuristic_run_rens": False,
                                      "mip_heuristic_run_root_reduced_cost": False,
                                      "mip_detect_symmetry": False,
                                      "presolve": "off"}
USED = 1e-7  # money a member puts into a pool below this (HiGHS's feasibility tolerance) is none
SPLITS = ("shapley", "contributions", "owen", "nucleolus")
CHUNKS = 4  # runs of coalitions per worker and size
MAX_LISTED = 20  # blocking groups and coalitions worth less than their parts, in the JSON
# sampled: new coalitions the search for blocking groups may value, per partner (each one
# solve in this process)
SEARCH_EVALUATIONS = 4


# ---------------------------------------------------------------------------------------------
# one coalition, solved in whichever process holds the model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """What a worker needs to solve coalitions (picklable)."""

    instance: Instance
    objective: str | None
    mip_gap: float
    time_limit: float | None
    key: str  # names this run's model in each process's cache
    threads: int | None = None  # HiGHS's threads: 1 on a worker, beside the others
    is_mip: bool = True


@dataclass(frozen=True)
class Solved:
    """One coalition's plan: its objective, proven bound and which members contribute."""

    mask: int
    status: str
    objective: float | None
    bound: float | None
    used: int  # members whose plan puts money into a pool
    message: str = ""
    seconds: float = 0.0
    source: int = -1  # the coalition whose solve answered this one (itself when solved)
    raw: highs.RawSolution | None = None  # the plan itself: kept for the grand and siloed only


class _Model:
    """The instance's model loaded in HiGHS once, re-solved with each coalition's bounds."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.built: Built = build(spec.instance, spec.objective)
        comp = self.built.compiled
        partners = [p.id for p in spec.instance.partners]
        contribution = comp.cols("contribution")
        self.by_partner = [np.array(sorted(j for k, j in contribution.items() if k[0] == p),
                                    dtype=np.int32) for p in partners]
        self.cols = np.concatenate([*self.by_partner, np.zeros(0, dtype=np.int32)])
        self.owner = np.concatenate([np.full(len(c), i) for i, c in enumerate(self.by_partner)]
                                    + [np.zeros(0, dtype=int)])
        self.lower, self.upper = comp.col_lower[self.cols], comp.col_upper[self.cols]
        self.is_mip = bool(comp.integer.any())
        self.h = highs.load(comp, spec.threads)

    def bounds(self, mask: int) -> tuple[Floats, Floats]:
        member = (mask >> self.owner) & 1 == 1
        return np.where(member, self.lower, 0.0), np.where(member, self.upper, 0.0)

    def solve(self, mask: int) -> tuple[Solved, highs.RawSolution]:
        lo, hi = self.bounds(mask)
        self.h.changeColsBounds(len(self.cols), self.cols, lo, hi)
        if self.is_mip:
            # each MIP from nothing, so its plan does not depend on which coalitions this
            # process solved before (the same numbers on one worker or many); costs nothing
            # measurable. Options again: a fallback in highs.settle resets presolve.
            self.h.clearSolver()
            for option, value in MIP_OPTIONS.items():
                self.h.setOptionValue(option, value)
        raw = highs.run(self.h, time_limit=self.spec.time_limit, mip_gap=self.spec.mip_gap,
                        is_mip=self.is_mip)
        if raw.x is None or raw.objective is None:
            return Solved(mask, raw.status, None, None, 0, raw.message, raw.seconds,
                          mask), raw
        used = 0
        for i, c in enumerate(self.by_partner):
            if mask >> i & 1 and len(c) and float(np.abs(raw.x[c]).max()) > USED:
                used |= 1 << i
        violations = self.certify(mask, raw.x, raw.objective)
        if violations:
            return Solved(mask, Status.ERROR, None, None, 0,
                          "the solver's plan failed the independent check: "
                          + "; ".join(violations[:3]), raw.seconds, mask), raw
        return Solved(mask, raw.status, raw.objective, raw.bound, used, raw.message,
                      raw.seconds, mask), raw

    def certify(self, mask: int, x: Floats, objective: float) -> list[str]:
        """Every rule of the coalition's own instance the plan breaks (none, if all is well)."""
        d = self.built.data
        rules = coalition_rules(self.spec.instance, members(self.spec.instance, mask))
        return check_solution(rules, plan_tables(d, self.built.compiled, x), d.objective,
                              objective)


_MODELS: dict[str, _Model] = {}  # per process: the model of each run it serves


def _model(spec: Spec) -> _Model:
    if spec.key not in _MODELS:
        _MODELS.clear()  # one run at a time per process: an earlier run's model is done with
        _MODELS[spec.key] = _Model(spec)
    return _MODELS[spec.key]


def solve_masks(spec: Spec, masks: Sequence[int]) -> list[Solved]:
    """Worker side: the coalitions ``masks``, in order, on this process's loaded model."""
    m = _model(spec)
    full = (1 << len(spec.instance.partners)) - 1
    out = []
    for mask in masks:
        s, raw = m.solve(mask)
        out.append(replace(s, raw=raw) if (mask in (0, full) or s.used == 0)
                   and s.objective is not None
                   else s)
    return out


def forget(key: str) -> None:
    _MODELS.pop(key, None)


def members(inst: Instance, mask: int) -> list[str]:
    return [p.id for i, p in enumerate(inst.partners) if mask >> i & 1]


def coalition_rules(inst: Instance, ids: Iterable[str]) -> Instance:
    """The rules a coalition's plan obeys: each pool lists only the coalition's members among
    its contributors (a pool left with none is gone); everything else as the instance."""
    keep = set(ids)
    pools = []
    for g in inst.pools:
        contributors = tuple(c for c in g.contributors if c.partner in keep)
        if contributors:
            pools.append(g.model_copy(update={"contributors": contributors}))
    return inst.model_copy(update={"pools": tuple(pools)})


# ---------------------------------------------------------------------------------------------
# every coalition asked for, largest first, on the workers
# ---------------------------------------------------------------------------------------------


def covered(s: Solved) -> Iterable[int]:
    """Every coalition the plan of ``s`` answers: those between its contributing members and
    the coalition solved (module docstring)."""
    free = s.mask & ~s.used
    sub = free
    while True:
        yield s.used | sub
        if sub == 0:
            return
        sub = (sub - 1) & free


def solve_values(spec: Spec, wanted: Iterable[int], client: Any | None, workers: int,
                 on_progress: Callable[[int, int], None] | None = None) -> dict[int, Solved]:
    """Every coalition in ``wanted`` answered, a size at a time from the largest, each
    solved plan also answering the coalitions it covers (:func:`covered`)."""
    todo = set(wanted)
    known: dict[int, Solved] = {}
    if client is not None:
        spec = replace(spec, threads=1)
    shared = None if client is None else client.scatter(spec, broadcast=True, hash=False)
    done = 0
    try:
        for size in sorted({m.bit_count() for m in todo}, reverse=True):
            level = sorted(m for m in todo if m.bit_count() == size and m not in known)
            for s in _solve_level(spec, shared, level, client, workers):
                known[s.mask] = s
                if s.objective is not None:
                    for m in covered(s):
                        if m not in known:
                            known[m] = replace(s, mask=m, used=s.used & m, seconds=0.0,
                                               raw=s.raw if m == 0 else None)
            now = sum(m in known for m in todo)
            if on_progress is not None and now > done:
                on_progress(now, len(todo))
            done = now
    finally:
        if client is None:
            forget(spec.key)
        else:
            client.run(forget, spec.key)
    return {m: known[m] for m in todo}


def _solve_level(spec: Spec, shared: Any, level: list[int], client: Any | None,
                 workers: int) -> list[Solved]:
    if not level:
        return []
    if client is None:
        return solve_masks(spec, level)
    # a MIP coalition (about a second) is a task of its own, so Dask balances the workers;
    # LPs (milliseconds) go in runs of neighbouring masks, each re-solve warm from the basis
    # of a coalition close to it, several runs per worker
    size = 1 if spec.is_mip else max(1, math.ceil(len(level) / (CHUNKS * workers)))
    futures = [client.submit(solve_masks, shared, level[k:k + size], pure=False)
               for k in range(0, len(level), size)]
    return [s for f in futures for s in f.result()]


# ---------------------------------------------------------------------------------------------
# the answer
# ---------------------------------------------------------------------------------------------


@dataclass
class Coalitions:
    """The answer of ``hwbopt coalitions``: :meth:`summary` is its JSON, :attr:`tables` its
    CSV files."""

    instance: Instance
    scenario: str
    objective_kind: str
    partners: list[str]
    exact: bool
    samples: int | None
    seed: int | None
    solved: dict[int, Solved]
    values: dict[int, float]
    ranges: dict[int, tuple[float, float]]
    status: str
    message: str
    grand: Result | None
    siloed: Result | None
    shapley: dict[str, float] = field(default_factory=dict)
    shapley_stderr: dict[str, float] | None = None
    shapley_range: dict[str, tuple[float, float]] | None = None
    core: dict[str, Any] | None = None
    split: dict[str, Any] | None = None
    owen: dict[str, Any] | None = None
    partners_rows: list[dict[str, Any]] = field(default_factory=list)
    not_superadditive: list[dict[str, Any]] = field(default_factory=list)
    solves: int = 0
    seconds: float = 0.0
    provenance: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import coalitions_repr

        return coalitions_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import coalitions_html

        return coalitions_html(self)

    def ids(self, mask: int) -> list[str]:
        return [p for i, p in enumerate(self.partners) if mask >> i & 1]

    @property
    def grand_value(self) -> float | None:
        return self.values.get((1 << len(self.partners)) - 1)

    def best_by_size(self) -> list[dict[str, Any]]:
        best: dict[int, int] = {}
        for m, v in self.values.items():
            k = m.bit_count()
            if k and (k not in best or v > self.values[best[k]] + 1e-9):
                best[k] = m
        return [{"size": k, "members": self.ids(m), "value": self.values[m]}
                for k, m in sorted(best.items())]

    def coalition_rows(self) -> list[dict[str, Any]]:
        rows = []
        for m in sorted(self.solved, key=lambda m: (m.bit_count(), m)):
            s = self.solved[m]
            low, high = self.ranges.get(m, (None, None))
            rows.append({"members": self.ids(m), "value": self.values.get(m),
                         "status": s.status, "objective": s.objective,
                         "value_low": low, "value_high": high,
                         "solved_as": self.ids(s.source)})
        return rows

    def summary(self) -> dict[str, Any]:
        inst = self.instance
        siloed = self.solved.get(0)
        grand = self.solved.get((1 << len(self.partners)) - 1)
        return {
            "status": self.status,
            "message": self.message,
            "instance": inst.name,
            "scenario": self.scenario,
            "objective_kind": self.objective_kind,
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "years": list(inst.years),
            "partners": list(self.partners),
            "exact": self.exact,
            "samples": self.samples,
            "seed": self.seed,
            "coalitions": self.coalition_rows(),
            "grand_value": self.grand_value,
            "siloed_objective": None if siloed is None else siloed.objective,
            "grand_objective": None if grand is None else grand.objective,
            "shapley": self.shapley,
            "shapley_stderr": self.shapley_stderr,
            "shapley_range": None if self.shapley_range is None else
            {p: list(r) for p, r in self.shapley_range.items()},
            "core": self.core,
            "split": self.split,
            "owen": self.owen,
            "partners_table": self.partners_rows,
            "best_by_size": self.best_by_size(),
            "not_superadditive": self.not_superadditive,
            "solves": self.solves,
            "seconds": self.seconds,
            "kind": "coalitions",
            "provenance": self.provenance,
            "labels": self.labels,
        }

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        rows = [{"members": "+".join(r["members"]), "size": len(r["members"]),
                 "value": r["value"], "status": r["status"], "objective": r["objective"],
                 "value_low": r["value_low"], "value_high": r["value_high"],
                 "solved_as": "+".join(r["solved_as"])} for r in self.coalition_rows()]
        cols = ["members", "size", "value", "status", "objective", "value_low", "value_high",
                "solved_as"]
        pcols = ["partner", "contributed", "shapley", "shapley_stderr", "owen", "benefit",
                 "remit_gain", "transfer"]
        return {"coalitions": pd.DataFrame(rows, columns=cols),
                "partners": pd.DataFrame(self.partners_rows, columns=pcols)}


# ---------------------------------------------------------------------------------------------
# values, ranges and the status of the whole
# ---------------------------------------------------------------------------------------------


def _gain_sign(objective_kind: str) -> float:
    """+1 where more objective is better (outcome), -1 where less is (cost)."""
    return -1.0 if objective_kind == "cost" else 1.0


def coalition_values(solved: dict[int, Solved], objective_kind: str
                     ) -> tuple[dict[int, float], dict[int, tuple[float, float]]]:
    """v(S) for every coalition with a plan, and the interval the true value lies in given
    each MIP's proven bound (the siloed one's included)."""
    g = _gain_sign(objective_kind)
    base = solved[0]
    if base.objective is None or base.bound is None:
        return {}, {}
    values, ranges = {}, {}
    for m, s in solved.items():
        if s.objective is None or s.bound is None:
            continue
        values[m] = 0.0 if m == 0 else g * (s.objective - base.objective)
        if s.source == base.source:  # the same plan: nothing between them is uncertain
            ranges[m] = (values[m], values[m])
        else:
            lo, hi = sorted((g * s.objective, g * s.bound))
            blo, bhi = sorted((g * base.objective, g * base.bound))
            ranges[m] = (lo - bhi, hi - blo)
    return values, ranges


def overall(solved: dict[int, Solved], inst: Instance) -> tuple[str, str]:
    """The run's status: optimal only when every coalition's value is a proven optimum."""
    bad = [s for s in solved.values() if s.status != Status.OPTIMAL]
    if not bad:
        return Status.OPTIMAL, ""
    siloed = solved.get(0)
    if siloed is not None and siloed.objective is None:
        # every value is measured against it: this, not any coalition, is the cause
        return siloed.status, ("with nobody pooling (the siloed plan every coalition is "
                               f"measured against) there is no plan: {siloed.message}; no "
                               "coalition can be valued")
    order = [Status.ERROR, Status.INFEASIBLE, Status.UNBOUNDED, Status.TIME_LIMIT,
             Status.STOPPED]
    # among equally bad, the smallest coalition: the likeliest cause of the larger ones
    worst = min(bad, key=lambda s: (order.index(Status(s.status)) if s.status in order
                                    else len(order), s.mask.bit_count(), s.mask))
    who = " + ".join(members(inst, worst.mask)) or "nobody (siloed)"
    n = len(bad)
    more = f" ({n} coalitions in all)" if n > 1 else ""
    if worst.status in EARLY and all(s.objective is not None for s in bad):
        return worst.status, (f"the coalition {who} was not proven optimal{more}: "
                              f"{worst.message}; values are reported with their ranges")
    return worst.status, f"the coalition {who} has no value{more}: {worst.message}"


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------


def coalitions(
    instance: Instance,
    *,
    scenario: str = BASE,
    samples: int | None = None,
    seed: int | None = None,
    split: str | dict[str, float] = "shapley",
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Coalitions:
    """Every coalition's value (or a sample of them), the Shapley split, the core and the
    groups that would leave a proposed ``split`` (a name among :data:`SPLITS` or a value per
    partner). See the module docstring and ``models/coalitions.md``."""
    from hwbopt.plan.recourse import cluster
    from hwbopt.provenance import instance_labels, run_provenance

    start = time.perf_counter()
    check_limits(time_limit, mip_gap)
    if scenario not in scenario_names(instance):
        raise UsageError(f"unknown scenario '{scenario}': expected one of "
                         f"{', '.join(scenario_names(instance))}")
    inst = scenario_instance(instance, scenario)
    players = [p.id for p in inst.partners]
    _check_split(split, players)
    P = len(players)
    exact = samples is None and P <= EXACT_UP_TO
    if not exact and samples is None:
        samples = DEFAULT_SAMPLES
    if not exact and seed is None:
        seed = 0
    gap = DEFAULT_GAP if mip_gap is None else mip_gap
    key = f"coalitions-{id(inst)}-{time.time_ns()}"
    spec = Spec(inst, objective, gap, time_limit, key)
    driver = _Model(spec)  # this process's: the whole run in it on one worker; else the
    spec = replace(spec, is_mip=driver.is_mip)  # grand and siloed tables and Owen's prices
    grand_mask = (1 << P) - 1
    if exact:
        wanted: set[int] = set(range(1 << P))
    else:
        assert samples is not None and seed is not None
        wanted = set(games.sampled_coalitions(P, samples, seed)) | {0, grand_mask}
    with cluster(workers, scheduler) as (client, n):
        if client is None:
            _MODELS.clear()
            _MODELS[spec.key] = driver
        solved = solve_values(spec, wanted, client, n, on_progress)
    kind = objective or inst.settings.objective
    values, ranges = coalition_values(solved, kind)
    status, message = overall(solved, inst)
    grand_run, siloed_run, owen_priced = _grand_and_siloed(driver, solved)
    result = Coalitions(
        instance=inst, scenario=scenario, objective_kind=kind, partners=players,
        exact=exact, samples=None if exact else samples, seed=None if exact else seed,
        solved=solved, values=values, ranges=ranges, status=status, message=message,
        grand=grand_run, siloed=siloed_run,
        solves=sum(s.source == m for m, s in solved.items()),
        labels=instance_labels(inst),
        provenance=run_provenance(highs.highs_version(), seed=None if exact else seed,
                                  options={"objective": kind, "mip_gap": gap,
                                           "time_limit": time_limit, "scenario": scenario,
                                           "samples": None if exact else samples,
                                           "split": split, "workers": workers}))
    if len(values) == len(solved) and 0 in values:
        _analyse(result, split, owen_priced, _more(driver, solved, kind))
    result.seconds = time.perf_counter() - start
    return result


def _more(m: _Model, solved: dict[int, Solved], kind: str) -> Callable[[int], float | None]:
    """A coalition valued on demand in this process (the sampled core's search)."""
    base = solved[0]

    def value(mask: int) -> float | None:
        s, _ = m.solve(mask)
        if s.status != Status.OPTIMAL or s.objective is None or base.objective is None:
            return None
        solved[mask] = s
        return _gain_sign(kind) * (s.objective - base.objective)
    return value


def _check_split(split: str | dict[str, float], players: Sequence[str]) -> None:
    if isinstance(split, dict):
        unknown = [p for p in split if p not in players]
        missing = [p for p in players if p not in split]
        if unknown or missing:
            what = (f"unknown partner {unknown[0]!r}" if unknown
                    else f"no value for {missing[0]!r}")
            raise UsageError(f"--split: {what}: give a value for each of {', '.join(players)}")
    elif split not in SPLITS:
        raise UsageError(f"--split {split!r}: expected one of {', '.join(SPLITS)}, or a value "
                         "per partner such as ccg=4000,county=2500,...")


def _grand_and_siloed(m: _Model, solved: dict[int, Solved]
                      ) -> tuple[Result | None, Result | None, Floats | None]:
    """The grand coalition's and the siloed plans as results with tables, certified against
    their own rules, and the grand plan's contributions priced at its shadow prices (Owen),
    per partner."""
    from hwbopt.compile import with_bounds

    spec = m.spec
    P = len(spec.instance.partners)
    out: list[Result | None] = []
    priced = None
    for mask in ((1 << P) - 1, 0):
        s = solved.get(mask)
        if s is None or s.raw is None or s.raw.x is None:
            out.append(None)
            continue
        lo, hi = m.bounds(mask)
        comp = m.built.compiled
        col_lower, col_upper = comp.col_lower.copy(), comp.col_upper.copy()
        col_lower[m.cols], col_upper[m.cols] = lo, hi
        bounded = with_bounds(comp, col_lower=col_lower, col_upper=col_upper)
        rules = coalition_rules(spec.instance, members(spec.instance, mask))
        out.append(result_from(m.built.data, bounded, s.raw, mip_gap=spec.mip_gap,
                               time_limit=spec.time_limit, check_instance=rules))
        if mask:
            priced = owen_prices(m, bounded, s.raw.x)
    return out[0], out[1], priced


def owen_prices(m: _Model, comp: Any, x: Floats) -> Floats | None:
    """Each partner's pooled money valued at the grand plan's shadow prices: with the integer
    decisions held at the plan's, the LP's dual of each contribution column (the objective's
    change per unit of its bound, as a gain) times the money it holds. None if HiGHS gives no
    duals."""
    lower, upper = comp.col_lower.copy(), comp.col_upper.copy()
    ints = comp.integer
    whole = np.round(x[ints])
    lower[ints], upper[ints] = whole, whole
    from hwbopt.compile import with_bounds

    lp = replace(with_bounds(comp, col_lower=lower, col_upper=upper),
                 integer=np.zeros(comp.n_cols, dtype=bool))
    raw = highs.solve_compiled(lp)
    if raw.col_dual is None or raw.x is None:
        return None
    g = _gain_sign(m.built.data.objective)
    # HiGHS's column dual is d(objective)/d(bound) in the model's own sense, for a column at
    # a bound; a column between its bounds has none (its money could move at no loss)
    sense_gain = g * raw.col_dual[m.cols] * raw.x[m.cols]
    P = len(m.by_partner)
    return np.bincount(m.owner, weights=sense_gain, minlength=P).astype(float)


def _analyse(res: Coalitions, split: str | dict[str, float], owen_priced: Floats | None,
             solve_more: Callable[[int], float | None] | None = None) -> None:
    """Shapley, core, nucleolus or least core, the proposed split's blocking groups, Owen's
    split, the partners' table and coalitions worth less than their parts. Sampled,
    ``solve_more`` values a coalition not yet valued, for the search for blocking groups."""
    players = res.partners
    P = len(players)
    tol = _tolerance(res)
    lookup = res.values
    eps, core_split, method = float("nan"), None, None
    if res.exact:
        table = np.array([lookup[m] for m in range(1 << P)])
        game = games.Game(tuple(players), table)
        phi = games.shapley(game)
        lows = np.array([res.ranges[m][0] for m in range(1 << P)])
        highs_ = np.array([res.ranges[m][1] for m in range(1 << P)])
        lo, hi = games.shapley_range(players, lows, highs_)
        res.shapley_range = {p: (float(lo[i]), float(hi[i])) for i, p in enumerate(players)}
        eps, least = games.least_core(game)
        method = "nucleolus" if eps <= tol else "least_core"
        core_split = games.nucleolus(game)[0] if method == "nucleolus" else least
        res.not_superadditive = [
            {"members": res.ids(s | t), "parts": [res.ids(s), res.ids(t)], "shortfall": sh}
            for s, t, sh in games.superadditivity_failures(game, tol)[:MAX_LISTED]]

        def block(x: Floats) -> list[tuple[int, float]]:
            return _minimal(games.blocking(game, x, tol), lookup, x, tol)
    else:
        assert res.samples is not None and res.seed is not None
        phi, se = games.sampled_shapley(players, lookup.__getitem__, res.samples, res.seed)
        res.shapley_stderr = {p: float(se[i]) for i, p in enumerate(players)}

        def value(mask: int) -> float:
            if mask not in lookup and solve_more is not None:
                v = solve_more(mask)
                if v is not None:
                    lookup[mask] = v
            return lookup.get(mask, -math.inf)  # a coalition without a value blocks nothing

        def block(x: Floats) -> list[tuple[int, float]]:
            sums = {m: float(sum(x[i] for i in range(P) if m >> i & 1)) for m in lookup}
            found = {m: v - sums[m] for m, v in lookup.items()
                     if 0 < m < (1 << P) - 1 and v - sums[m] > tol}
            for m, e in games.most_violated(players, value, x, seed=res.seed or 0,
                                            evaluations=SEARCH_EVALUATIONS * P, tol=tol):
                found.setdefault(m, e)
            ranked = sorted(found.items(), key=lambda t: -t[1])
            return _minimal(ranked, lookup, x, tol)
    res.shapley = _by(players, phi)
    contributed = _contributed(res)
    owen = None
    grand = res.grand_value or 0.0
    if owen_priced is not None and abs(float(owen_priced.sum())) > tol:
        scaled = owen_priced * grand / float(owen_priced.sum())
        owen_blocks = block(scaled)
        owen = {"allocation": _by(players, scaled), "priced_total": float(owen_priced.sum()),
                "in_core": False if owen_blocks else (True if res.exact else None),
                "blocking": _listed(res, owen_blocks), "blocking_count": len(owen_blocks)}
    res.owen = owen
    proposal, why = _proposal(split, players, phi,
                              phi if core_split is None else core_split, owen, contributed,
                              grand)
    blocking = [] if proposal is None else block(proposal)
    res.split = {"name": split if isinstance(split, str) else "given",
                 "allocation": None if proposal is None else _by(players, proposal),
                 "blocking": _listed(res, blocking), "blocking_count": len(blocking),
                 "message": why}
    shapley_blocks = block(phi)
    # sampled, a blocking group found is proof the split is outside the core; none found is
    # not proof it is inside (the search is partial)
    res.core = {"empty": bool(eps > tol) if res.exact else None,
                "shapley_in_core": not shapley_blocks if res.exact
                else (False if shapley_blocks else None),
                "allocation": None if core_split is None else _by(players, core_split),
                "method": method, "epsilon": None if math.isnan(eps) else float(eps),
                "blocking": _listed(res, blocking), "blocking_count": len(blocking),
                "partial": not res.exact}
    res.partners_rows = _partner_rows(res, contributed)


def _minimal(found: list[tuple[int, float]], values: dict[int, float], x: Floats,
             tol: float) -> list[tuple[int, float]]:
    """The blocking groups no smaller group explains: a group is left out when dropping one
    of its members leaves a group that gains as much by leaving (a member that adds nothing,
    such as a partner that pools no money, makes no new group)."""
    def gain(mask: int) -> float | None:
        if mask == 0:
            return 0.0
        v = values.get(mask)
        return None if v is None else v - float(sum(x[i] for i in range(len(x))
                                                    if mask >> i & 1))

    out = []
    for m, e in found:
        bits = [1 << i for i in range(len(x)) if m >> i & 1]
        smaller = (gain(m & ~b) for b in bits)
        if not any(g is not None and g >= e - tol for g in smaller):
            out.append((m, e))
    return out


def _tolerance(res: Coalitions) -> float:
    """Differences smaller than this are solver noise: the asked gap on the objectives the
    values are differences of."""
    gap = float(res.provenance.get("options", {}).get("mip_gap") or DEFAULT_GAP)
    scale = max([abs(s.objective) for s in res.solved.values() if s.objective is not None]
                + [1.0])
    return max(gap * scale, 1e-9 * scale)


def _proposal(split: str | dict[str, float], players: Sequence[str], phi: Floats,
              core_split: Floats, owen: dict[str, Any] | None, contributed: dict[str, float],
              grand: float) -> tuple[Floats | None, str]:
    """The split the user proposed, or None and why it does not exist."""
    if isinstance(split, dict):
        return np.array([float(split[p]) for p in players]), ""
    if split == "nucleolus":
        return core_split, ""
    if split == "owen":
        if owen is None:
            return None, ("the grand plan's shadow prices value the pooled money at nothing "
                          "(each partner could pool a little more or less at no loss), so "
                          "they give no split")
        return np.array([owen["allocation"][p] for p in players]), ""
    if split == "contributions":
        total = sum(contributed.values())
        if total <= 0:
            return None, "nobody puts money into a pool in the grand coalition's plan"
        return np.array([grand * contributed[p] / total for p in players]), ""
    return phi, ""


def _by(players: Sequence[str], x: Floats) -> dict[str, float]:
    """A split by partner, its solver noise shown as the zero it is (-8.7e-12 reads as a
    debt): below 1e-9 of the largest share."""
    scale = max([abs(float(v)) for v in x] + [1.0])
    return {p: 0.0 if abs(float(x[i])) <= 1e-9 * scale else float(x[i])
            for i, p in enumerate(players)}


def _listed(res: Coalitions, found: list[tuple[int, float]]) -> list[dict[str, Any]]:
    return [{"members": res.ids(m), "shortfall": float(e)} for m, e in found[:MAX_LISTED]]


def _contributed(res: Coalitions) -> dict[str, float]:
    """Money each partner puts into pools over the horizon in the grand coalition's plan."""
    if res.grand is None or res.grand.objective is None:
        return dict.fromkeys(res.partners, 0.0)
    b = res.grand.tables["budgets"]
    return {p: float(b.loc[b.partner == p, "pooled"].sum()) for p in res.partners}


def _partner_rows(res: Coalitions, contributed: dict[str, float]) -> list[dict[str, Any]]:
    """Per partner: contributed, Shapley share, Owen's split, benefit (compare's who-pays
    measure over the horizon), the gain that lands in its remit (its measure pooled minus
    siloed) and the transfer (Shapley share minus that gain)."""
    from hwbopt.analyses.compare import Run, partner_measures

    def measures(r: Result | None, rules_mask: int) -> dict[str, dict[str, float]]:
        if r is None or r.objective is None:
            return {}
        rules = coalition_rules(res.instance, res.ids(rules_mask))
        from hwbopt.model.data import model_data

        return partner_measures(Run(res.scenario, "", "", r, rules,
                                    model_data(res.instance, res.objective_kind)))

    pooled = measures(res.grand, (1 << len(res.partners)) - 1)
    siloed = measures(res.siloed, 0)
    ben = None if res.grand is None else res.grand.tables.get("benefits")
    benefit: dict[str, float] = ({} if ben is None or len(ben) == 0 else
                                 ben.groupby("partner")["benefit"].sum().to_dict())
    rows = []
    for p in res.partners:
        gain = None
        if p in pooled and p in siloed:
            gain = _remit_measure(pooled[p], res.objective_kind) - \
                _remit_measure(siloed[p], res.objective_kind)
        phi = res.shapley.get(p)
        rows.append({"partner": p, "contributed": contributed.get(p, 0.0), "shapley": phi,
                     "shapley_stderr": None if res.shapley_stderr is None
                     else res.shapley_stderr[p],
                     "owen": None if res.owen is None else res.owen["allocation"][p],
                     "benefit": float(benefit.get(p, 0.0)), "remit_gain": gain,
                     "transfer": None if gain is None or phi is None else phi - gain})
    return rows


def _remit_measure(m: dict[str, float], objective_kind: str) -> float:
    """What lands on a partner in the objective's terms: the outcome of the services in its
    remit; under cost, the avoided costs it receives less what it spends."""
    if objective_kind == "cost":
        return m["avoided_costs"] - m["spent"]
    return m["outcome_value"]
