"""Each scenario's recourse solved on its own, locally or on Dask workers: what a first stage
scores in a scenario (and the cut it gives the decomposition), and each scenario's own optimum.

A scenario's **subproblem** is the extensive form of that scenario alone
(:func:`hwbopt.plan.extensive.build_extensive` on a block of one, expectation, its rules
elastic), with the first stage fixed at a given plan's values, or free for the scenario's own
optimum (wait-and-see). Every subproblem has the bound rows of the whole set (``bounded``), so
all have one shape and their values add up to the extensive form's.

With the first stage fixed, the subproblem is solved as an LP (second-stage integers, such as
an S-shaped response curve's order, relaxed): its value and the duals of the fixed first-stage
columns give a supporting cut of the LP value function, which is convex in the values it is
fixed at and never above the scenario's true value (σ-minimising form, ``σ`` = the
objective's sense). Where the second stage has integers, the subproblem is then solved as a
MIP from the LP's plan: that is what the plan scores.

**Held where it is solved.** A scenario's LP (built once) and the basis of its last solve stay
in the process that solves it (:class:`Held`), and each request only changes the first
stage's bounds and re-solves warm: county, about 1 ms of overhead and a few ms of simplex a
scenario, where rebuilding the LP and carrying its basis to and from the driver cost 12 ms.

**Reproducible on any number of workers.** Scenarios go in fixed chunks of :data:`CHUNK`, each
chunk always to the same worker (chunk ``k`` to worker ``k mod W``, local or on Dask) and
solved in order there. A scenario's LP restarts from the basis of its own previous solve, its
first solve from the basis of the chunk's scenario before it (the same on any number of
workers), never from whatever a worker solved last; a worker's HiGHS runs one thread. The
same requests give the same numbers however many workers there are.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.plan import Risk
from hwbopt.plan.extensive import EF_OPTIONS, Elastic, build_extensive, shape_of, start_of
from hwbopt.plan.scenarios import Arrays
from hwbopt.status import Status

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

ONE = np.ones(1)


@dataclass(frozen=True)
class SubSpec:
    """What a worker needs to solve any scenario's subproblem (picklable, sent once)."""

    key: str
    comp: Compiled
    first: Bools
    arrays: Arrays
    elastic: Elastic
    bounded: Ints  # columns with a bound row in every subproblem
    # rows of first-stage columns alone that never give: with the first stage fixed they
    # are constants, the master's to hold (within its tolerance), so a subproblem frees them
    first_rows: Ints
    time_limit: float | None
    ws_gap: float  # relative gap of a wait-and-see MIP

    @property
    def integer_second(self) -> bool:
        return bool((self.comp.integer & ~self.first).any())


def sub_spec(comp: Compiled, first: Bools, arrays: Arrays, elastic: Elastic,
             time_limit: float | None, ws_gap: float) -> SubSpec:
    bounded = shape_of(comp, first, arrays, elastic, None, False).bounded
    h = hashlib.blake2b(digest_size=12)
    for a in (arrays.c, arrays.a_data, arrays.row_lower, arrays.row_upper, arrays.col_lower,
              arrays.col_upper, first, bounded, elastic.rows, elastic.penalty):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr((time_limit, ws_gap)).encode())
    return SubSpec(h.hexdigest(), comp, first, arrays, elastic, bounded,
                   first_only_rows(comp, first, elastic.rows), time_limit, ws_gap)


def first_only_rows(comp: Compiled, first: Bools, elastic_rows: Ints) -> Ints:
    """Rows whose every entry is a first-stage column, and that are not elastic."""
    cols = np.repeat(np.arange(comp.n_cols), np.diff(comp.A.indptr))
    rows = comp.A.indices.astype(np.int64)
    only = np.zeros(comp.n_rows, dtype=bool)
    only[rows] = True
    only[rows[~first[cols]]] = False
    only[elastic_rows] = False
    out: Ints = np.flatnonzero(only).astype(np.int64)
    return out


@dataclass(frozen=True)
class Recourse:
    """One scenario's subproblem at one first stage (or free, for wait-and-see).

    ``value``: the scenario's value of the plan ``x`` found (the instance's sense, penalties
    counted); ``cut_value``/``grad``: the LP relaxation's value and its gradient in the
    first-stage columns, σ-minimising (None for wait-and-see); ``bound``: a proven bound on
    the scenario's own optimum (wait-and-see only)."""

    scenario: int
    status: Status
    value: float | None
    x: Floats | None  # (columns,) the whole plan in the instance's columns
    cut_value: float | None = None
    grad: Floats | None = None
    bound: float | None = None


def _plan(spec: SubSpec, X: Floats) -> Floats:
    """A one-scenario extensive form's columns as the instance's columns."""
    first, n_first = spec.first, int(spec.first.sum())
    x = np.empty(spec.comp.n_cols)
    x[first] = X[:n_first]
    x[~first] = X[n_first:n_first + int((~first).sum())]
    x[spec.comp.integer] = np.round(x[spec.comp.integer])
    return x


@dataclass
class Held:
    """Scenario ``s``'s fixed-first-stage LP as HiGHS takes it, and the basis of its last
    solve (None before the first)."""

    lp: highspy.HighsLp
    integers: Ints  # its second-stage integer columns (relaxed in the LP)
    basis: highspy.HighsBasis | None = None


# per process: each spec's held scenarios (the last HELD_SPECS specs), and one HiGHS they are
# solved in
HELD_SPECS = 2
_held: OrderedDict[str, dict[int, Held]] = OrderedDict()
_solver: list[highs.Loaded] = []


def held(spec: SubSpec, s: int) -> Held:
    """Scenario ``s``'s :class:`Held` in this process, built on first use: its one-scenario
    extensive form with every integer relaxed and the rows of first-stage columns alone
    free (the master holds them)."""
    mine = _held.get(spec.key)
    if mine is None:
        mine = _held[spec.key] = {}
        while len(_held) > HELD_SPECS:
            _held.popitem(last=False)  # the spec used longest ago
    else:
        _held.move_to_end(spec.key)
    out = mine.get(s)
    if out is None:
        ef, sh = build_extensive(spec.comp, spec.first, spec.arrays.take([s]), ONE, Risk(),
                                 spec.elastic, bounded=spec.bounded)
        row_lower, row_upper = ef.row_lower.copy(), ef.row_upper.copy()
        row_lower[spec.first_rows], row_upper[spec.first_rows] = -np.inf, np.inf
        lp = replace(ef, integer=np.zeros(ef.n_cols, dtype=bool), row_lower=row_lower,
                     row_upper=row_upper)
        out = mine[s] = Held(highs.to_highs_lp(lp),
                             np.flatnonzero(ef.integer[sh.nF:]).astype(np.int64) + sh.nF)
    return out


def solver() -> highs.Loaded:
    """This process's HiGHS for held subproblems."""
    if not _solver:
        _solver.append(highs.new_highs())
    return _solver[0]


def forget(key: str) -> None:
    """Drop the held scenarios of the spec ``key`` in this process."""
    _held.pop(key, None)


def fixed_recourse(spec: SubSpec, s: int, z: Floats, exact: bool = True,
                   basis: highspy.HighsBasis | None = None) -> Recourse:
    """Scenario ``s`` with the first stage at ``z`` (whole columns; its first-stage values
    are used): the LP's cut, then, ``exact``, the best plan with whole second-stage integers
    (:func:`branch`). Not ``exact``, the value is the LP's where its plan is whole, else
    None. The LP restarts from the scenario's last basis, or on its first solve from
    ``basis`` (another scenario's of the same shape)."""
    # integers within noise of a whole value are made whole; a fractional first stage (the
    # master's LP relaxation) is kept as it is, so the cut is taken where it is anchored
    near = np.abs(z - np.round(z)) <= 1e-6
    zf = np.where(spec.comp.integer & near, np.round(z), z)[spec.first]
    mine = held(spec, s)
    h = solver()
    h.passModel(mine.lp)
    nF = len(zf)
    h.changeColsBounds(nF, np.arange(nF, dtype=np.int32), zf, zf)
    start = mine.basis if mine.basis is not None else basis
    if start is not None:
        h.setBasis(start)
    # the solver is shared by every spec this process serves: a limit is always set, never
    # left over from another run's (each run's own: hwbopt.highs.settle measures it from the
    # clock's reading, which HiGHS carries across an instance's LP runs)
    limit = np.inf if spec.time_limit is None else spec.time_limit
    raw = highs.run(h, time_limit=limit)
    if raw.x is None or raw.col_dual is None or raw.objective is None:
        mine.basis = None  # the next solve starts afresh
        return Recourse(s, raw.status, None, None)
    mine.basis = h.getBasis()
    sigma = spec.comp.sense
    # HiGHS's column duals are the objective's change per unit of each column's (fixed)
    # bound, in the model's own sense
    grad = sigma * raw.col_dual[:nF]
    ints = mine.integers
    whole = not len(ints) or bool(
        np.all(np.abs(raw.x[ints] - np.round(raw.x[ints])) <= 1e-6))
    if whole or not exact:
        return Recourse(s, Status.OPTIMAL, raw.objective if whole else None,
                        _plan(spec, raw.x), sigma * raw.objective, grad)
    found = branch(h, ints, sigma, raw.x, sigma * raw.objective, limit)
    if found is None:
        return Recourse(s, Status.ERROR, None, None, sigma * raw.objective, grad)
    value, X = found
    return Recourse(s, Status.OPTIMAL, sigma * value, _plan(spec, X), sigma * raw.objective,
                    grad)


def branch(h: highs.Loaded, ints: Ints, sigma: int, x_root: Floats, root: float,
           time_limit: float | None) -> tuple[float, Floats] | None:
    """The best plan with whole values in the columns ``ints``, by depth-first branch and
    bound on the LP ``h`` holds, solved already (``x_root``, σ-minimised value ``root``).

    A fixed first stage leaves a scenario a handful of integers (an S-shaped response curve's
    order, one per year); each node is an LP re-solved warm after one bound change, where a
    MIP solve starts its root LP from nothing: county, 4 integers, 0.30 s a MIP against about
    0.03 s here. The optimum is exact (every node is pruned only by a value no better than the
    incumbent's, or by infeasibility). Returns (σ-minimised value, plan), None when a node's LP
    ends without a verdict. ``h``'s bounds are restored."""
    lp = h.getLp()
    col_lower, col_upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    lower0, upper0 = col_lower[ints].copy(), col_upper[ints].copy()
    best: tuple[float, Floats] | None = None
    stack: list[tuple[tuple[int, float], ...]] = [()]
    tol = 1e-9
    try:
        while stack:
            fixes = stack.pop()
            if fixes:
                lo, hi = lower0.copy(), upper0.copy()
                for k, v in fixes:
                    lo[k] = hi[k] = v
                h.changeColsBounds(len(ints), ints.astype(np.int32), lo, hi)
                raw = highs.run(h, time_limit=time_limit)
                if raw.status == Status.INFEASIBLE:
                    continue
                if raw.x is None or raw.objective is None:
                    return None
                x, value = raw.x, sigma * raw.objective
            else:
                x, value = x_root, root
            if best is not None and value >= best[0] - tol * max(1.0, abs(best[0])):
                continue
            frac = np.abs(x[ints] - np.round(x[ints]))
            k = int(np.argmax(frac))
            if frac[k] <= 1e-6:
                best = (value, x.copy())
                continue
            down, up = float(np.floor(x[ints[k]])), float(np.ceil(x[ints[k]]))
            near, far = (up, down) if x[ints[k]] - down >= 0.5 else (down, up)
            stack.append((*fixes, (k, far)))
            stack.append((*fixes, (k, near)))  # explored first
    finally:
        h.changeColsBounds(len(ints), ints.astype(np.int32), lower0, upper0)
    return best


def own_optimum(spec: SubSpec, s: int, starts: Sequence[Floats], relax: bool = False,
                basis: highspy.HighsBasis | None = None) -> tuple[Recourse, Any]:
    """Scenario ``s``'s own optimum, started from the plans ``starts`` (whole plans of this
    scenario); ``bound`` is HiGHS's proven bound. First its hard model (the instance's, with
    this scenario's numbers: no slack, half the columns, solved ten times faster on the
    county), and only if that has no plan the elastic one: slack costs more than any plan
    gains from it, so the two agree whenever the hard model has a plan (as the mean-value
    problem is solved, :func:`hwbopt.plan.run.best_response`).

    ``relax``: the elastic LP relaxation's optimum instead, a floor no first stage goes below
    (never the hard model's, which is not a bound on the elastic one), started from
    ``basis`` (another scenario's of the same shape). Returns the answer and, for ``relax``,
    the LP's final basis."""
    if not relax:
        hard = _own_hard(spec, s, starts)
        if hard is not None:
            return hard, None
    ef, sh = build_extensive(spec.comp, spec.first, spec.arrays.take([s]), ONE, Risk(),
                             spec.elastic, bounded=spec.bounded)
    if relax:
        ef = replace(ef, integer=np.zeros(ef.n_cols, dtype=bool))
    h = highs.load(ef)
    is_mip = bool(ef.integer.any())
    if is_mip:
        for option, value in EF_OPTIONS.items():
            h.setOptionValue(option, value)
        for x in starts:
            highs.start_from(h, start_of(ef, sh, spec.comp, spec.arrays.take([s]),
                                         spec.elastic, x[None, :]))
    elif basis is not None:
        h.setBasis(basis)
    raw = highs.run(h, time_limit=spec.time_limit, mip_gap=spec.ws_gap, is_mip=is_mip)
    if raw.x is None or raw.objective is None:
        return Recourse(s, raw.status, None, None), None
    return (Recourse(s, raw.status, raw.objective, _plan(spec, raw.x), bound=raw.bound),
            None if is_mip else h.getBasis())


def _own_hard(spec: SubSpec, s: int, starts: Sequence[Floats]) -> Recourse | None:
    """Scenario ``s``'s own optimum in its hard model, or None where it has no plan."""
    comp = spec.arrays.compiled(spec.comp, s)
    is_mip = bool(comp.integer.any())
    h = highs.load(comp)
    if is_mip:
        for x in starts:
            highs.start_from(h, x)
    raw = highs.run(h, time_limit=spec.time_limit, mip_gap=spec.ws_gap, is_mip=is_mip)
    if raw.x is None or raw.objective is None:
        return None
    x = raw.x.copy()
    x[comp.integer] = np.round(x[comp.integer])
    return Recourse(s, raw.status, raw.objective, x, bound=raw.bound)


# ---------------------------------------------------------------------------------------------
# worker side: a block of scenarios per task
# ---------------------------------------------------------------------------------------------


def solve_fixed(spec: SubSpec, scenarios: Sequence[int], z: Floats,
                exact: bool) -> list[Recourse]:
    """:func:`fixed_recourse` for each of ``scenarios`` (one chunk, in order: a scenario's
    first solve starts from the basis of the one before it)."""
    out: list[Recourse] = []
    for s in scenarios:
        before = held(spec, out[-1].scenario).basis if out else None
        out.append(fixed_recourse(spec, int(s), z, exact, before))
    return out


def solve_own(spec: SubSpec, scenarios: Sequence[int],
              starts: Sequence[Sequence[Floats]], relax: bool) -> list[Recourse]:
    """:func:`own_optimum` for each of ``scenarios`` (one chunk, in order: an LP relaxation
    starts from the basis of the one before it)."""
    out: list[Recourse] = []
    basis = None
    for s, st in zip(scenarios, starts, strict=True):
        r, basis = own_optimum(spec, int(s), st, relax, basis)
        out.append(r)
    return out


# ---------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------


# scenarios per chunk: a chunk is solved in order by one worker, always the same one
CHUNK = 16


class Pool:
    """Where subproblems run: in this process (``workers`` 1, no scheduler) or on Dask
    workers (local processes, or the cluster at ``scheduler``). Scenarios go in fixed chunks
    of :data:`CHUNK`, chunk ``k`` always to the same worker, which holds their LPs and bases
    (module docstring); results come back in the scenarios' order. :meth:`close` frees what
    the workers hold."""

    def __init__(self, spec: SubSpec, client: Any | None, workers: int) -> None:
        self.spec = spec
        self.client = client
        self.workers = workers
        self.shared = None if client is None else client.scatter(spec, broadcast=True,
                                                                  hash=False)

    def _chunks(self, scenarios: Sequence[int]) -> list[tuple[int, list[int]]]:
        """(chunk number, its scenarios among ``scenarios``), in order."""
        by: dict[int, list[int]] = {}
        for s in scenarios:
            by.setdefault(int(s) // CHUNK, []).append(int(s))
        return sorted(by.items())

    def fixed(self, z: Floats, exact: bool = True,
              scenarios: Sequence[int] | None = None) -> list[Recourse]:
        """Every scenario (or ``scenarios``) at the first stage ``z``
        (:func:`fixed_recourse`)."""
        which = list(range(self.spec.arrays.size)) if scenarios is None else list(scenarios)
        chunks = self._chunks(which)
        if self.client is None:
            return [r for _, b in chunks for r in solve_fixed(self.spec, b, z, exact)]
        where = self._workers()
        futures = [self.client.submit(solve_fixed, self.shared, b, z, exact, pure=False,
                                      workers=[where[k % len(where)]],
                                      allow_other_workers=False)
                   for k, b in chunks]
        return [r for f in futures for r in f.result()]

    def _workers(self) -> list[str]:
        """The cluster's workers now, in a fixed order: chunk ``k`` goes to the ``k mod W``-th
        (strictly, so Dask never moves it where its scenarios are not held; a worker lost
        between requests only changes where its chunks are built again)."""
        assert self.client is not None
        return sorted(self.client.scheduler_info().get("workers", {}))

    def own(self, starts: Sequence[Floats], relax: bool = False) -> list[Recourse]:
        """Every scenario's own optimum (:func:`own_optimum`), started from the plans
        ``starts`` (each S × columns)."""
        chunks = self._chunks(range(self.spec.arrays.size))
        args = [(k, b, [[p[s] for p in starts] for s in b]) for k, b in chunks]
        if self.client is None:
            return [r for _, b, st in args for r in solve_own(self.spec, b, st, relax)]
        futures = [self.client.submit(solve_own, self.shared, b, st, relax, pure=False)
                   for _, b, st in args]
        return [r for f in futures for r in f.result()]

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the scenarios' held LPs and bases, here or on every worker."""
        if self.client is None:
            forget(self.spec.key)
        else:
            self.client.run(forget, self.spec.key)


@contextmanager
def cluster(workers: int = 1, scheduler: str | None = None) -> Iterator[tuple[Any, int]]:
    """(Dask client or None, workers): this process alone for one local worker, else local
    processes or the cluster at ``scheduler`` (closed on exit)."""
    if workers <= 1 and scheduler is None:
        yield None, 1
        return
    from hwbopt.batch.cluster import dask_client

    with dask_client(workers, scheduler) as client:
        yield client, len(client.scheduler_info().get("workers", {})) or workers


@contextmanager
def pool(spec: SubSpec, workers: int = 1, scheduler: str | None = None) -> Iterator[Pool]:
    """A :class:`Pool` for ``spec`` on its own :func:`cluster`."""
    with cluster(workers, scheduler) as (client, n):
        p = Pool(spec, client, n)
        try:
            yield p
        finally:
            p.close()
