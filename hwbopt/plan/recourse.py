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
in the process that solves it (:class:`Held`); each request passes the held LP to the
process's one HiGHS, changes the first stage's bounds and re-solves from the scenario's basis:
county, about 11 ms a scenario, most of it the simplex iterations a moved first stage needs
(one HiGHS kept per scenario instead saved only a third, at 7 GB for 1,000 scenarios), where
rebuilding the LP and carrying its basis to and from the driver cost 12 ms more.

**Reproducible on any number of workers.** Scenarios go in fixed chunks of :data:`CHUNK`, each
chunk always to the same worker (chunk ``k`` to worker ``k mod W``, local or on Dask) and
solved in order there. A scenario's LP restarts from the basis of its own previous solve, its
first solve from the basis of the chunk's scenario before it (the same on any number of
workers), never from whatever a worker solved last; a worker's HiGHS runs one thread. The
same requests give the same numbers however many workers there are.

**Local workers** are forked from this process (:class:`LocalWorkers`, :func:`plan_workers`),
each answering one pipe, where that is safe; else, and on a cluster, Dask's. On them each
scenario's own optimum is solved while the driver solves the decomposition's master
(:class:`Background`).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
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
    # the whole values of ``integers`` in its last exact answer: the first guess of the next
    # branch and bound (:func:`branch`)
    pattern: Floats | None = None


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
        h = highs.new_highs()
        # Devex pricing, not HiGHS's choice of dual steepest edge: a warm subproblem takes a
        # hundred iterations or so after its first stage moves, and steepest edge's weights,
        # lost with each model passed in, cost more to set up than they save. County, 40
        # scenarios at six first stages: 11 ms an LP against 14, an exact pass (LP and
        # branch and bound) 52 ms a scenario against 67, the same values to 1e-13 (a
        # degenerate LP may give other duals, an equally valid cut)
        h.setOptionValue("simplex_dual_edge_weight_strategy", DEVEX)
        _solver.append(h)
    return _solver[0]


DEVEX = 1  # HiGHS's simplex_dual_edge_weight_strategy value for Devex pricing


def forget(key: str) -> None:
    """Drop the held scenarios of the spec ``key`` in this process."""
    _held.pop(key, None)


def fixed_recourse(spec: SubSpec, s: int, z: Floats, exact: bool = True,
                   basis: highspy.HighsBasis | None = None,
                   pattern: Floats | None = None) -> Recourse:
    """Scenario ``s`` with the first stage at ``z`` (whole columns; its first-stage values
    are used): the LP's cut, then, ``exact``, the best plan with whole second-stage integers
    (:func:`branch`). Not ``exact``, the value is the LP's where its plan is whole, else
    None (and no plan: a fractional one is of no use to the caller, and at 1,000 scenarios
    it was 22 MB a round to carry back). The LP restarts from the scenario's last basis, or
    on its first solve from ``basis`` (another scenario's of the same shape); the branch and
    bound's first guess is the scenario's last exact answer, or on its first from
    ``pattern`` (another scenario's)."""
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
    raw = solve_lp(h, limit, duals=True)
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
                        _plan(spec, raw.x) if whole else None, sigma * raw.objective, grad)
    guess = mine.pattern if mine.pattern is not None else pattern
    found = branch(h, ints, sigma, raw.x, sigma * raw.objective, limit, guess)
    if found is None:
        return Recourse(s, Status.ERROR, None, None, sigma * raw.objective, grad)
    value, X = found
    mine.pattern = np.round(X[ints])
    return Recourse(s, Status.OPTIMAL, sigma * value, _plan(spec, X), sigma * raw.objective,
                    grad)


@dataclass(frozen=True)
class LpAnswer:
    """An LP run's verdict and what the subproblems read of it (its objective in the
    model's sense, the columns' values and, if asked, their duals)."""

    status: Status
    objective: float | None
    x: Floats | None
    col_dual: Floats | None


def solve_lp(h: highs.Loaded, time_limit: float, duals: bool) -> LpAnswer:
    """:func:`hwbopt.highs.run` for an LP, reading only the columns' values (and duals if
    ``duals``): HiGHS hands each vector over as a Python list, and the rows' values and
    duals, never used here, were a quarter of a warm subproblem's time (county: 2 ms of
    8)."""
    highs.limit(h, time_limit)
    highs.settle(h)
    end = highs.outcome(h, time_limit=time_limit)
    if not end.has_plan or end.objective is None:
        return LpAnswer(end.status, None, None, None)
    sol = h.getSolution()
    x = np.array(sol.col_value, dtype=float)
    dual = np.array(sol.col_dual, dtype=float) if duals and sol.dual_valid else None
    return LpAnswer(end.status, end.objective, x, dual)


def branch(h: highs.Loaded, ints: Ints, sigma: int, x_root: Floats, root: float,
           time_limit: float | None, guess: Floats | None = None
           ) -> tuple[float, Floats] | None:
    """The best plan with whole values in the columns ``ints``, by depth-first branch and
    bound on the LP ``h`` holds, solved already (``x_root``, σ-minimised value ``root``).

    A fixed first stage leaves a scenario a handful of integers (an S-shaped response curve's
    order, one per year); each node is an LP re-solved warm after one bound change, where a
    MIP solve starts its root LP from nothing: county, 4 integers, 0.30 s a MIP against about
    0.03 s here. The optimum is exact (every node is pruned only by a value no better than the
    incumbent's, its own or its parent's, or by infeasibility). Returns (σ-minimised value,
    plan), None when a node's LP ends without a verdict. ``h``'s bounds are restored.

    ``guess`` (whole values of ``ints``, the answer of this or a like scenario before) is
    solved first, as the first incumbent. Without it the first dive rounds to the nearest
    value, which on the county led into plans that break rules (values hundreds of times
    worse) and found the optimum only in the far branches: 15 LPs a scenario where the
    optimum's path and its siblings are 9. A guess changes only which nodes are solved,
    never what is optimal."""
    lp = h.getLp()
    col_lower, col_upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    lower0, upper0 = col_lower[ints].copy(), col_upper[ints].copy()
    best: tuple[float, Floats] | None = None
    tol = 1e-9

    def solve(lo: Floats, hi: Floats) -> LpAnswer:
        h.changeColsBounds(len(ints), ints.astype(np.int32), lo, hi)
        return solve_lp(h, np.inf if time_limit is None else time_limit, duals=False)

    def beaten(value: float) -> bool:
        return best is not None and value >= best[0] - tol * max(1.0, abs(best[0]))

    # (fixes, the parent's value: a bound on the node's)
    stack: list[tuple[tuple[tuple[int, float], ...], float]] = [((), root)]
    try:
        if guess is not None and len(guess) == len(ints):
            g = np.clip(np.round(guess), lower0, upper0)
            first = solve(g, g)
            if first.x is not None and first.objective is not None:
                best = (sigma * first.objective, first.x.copy())
        while stack:
            fixes, parent = stack.pop()
            if beaten(parent):
                continue
            if fixes:
                lo, hi = lower0.copy(), upper0.copy()
                for k, v in fixes:
                    lo[k] = hi[k] = v
                raw = solve(lo, hi)
                if raw.status == Status.INFEASIBLE:
                    continue
                if raw.x is None or raw.objective is None:
                    return None
                x, value = raw.x, sigma * raw.objective
            else:
                x, value = x_root, root
            if beaten(value):
                continue
            frac = np.abs(x[ints] - np.round(x[ints]))
            k = int(np.argmax(frac))
            if frac[k] <= 1e-6:
                best = (value, x.copy())
                continue
            down, up = float(np.floor(x[ints[k]])), float(np.ceil(x[ints[k]]))
            near, far = (up, down) if x[ints[k]] - down >= 0.5 else (down, up)
            stack.append(((*fixes, (k, far)), value))
            stack.append(((*fixes, (k, near)), value))  # explored first
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
    first solve starts from the basis and integers of the one before it)."""
    out: list[Recourse] = []
    for s in scenarios:
        before = held(spec, out[-1].scenario) if out else None
        out.append(fixed_recourse(spec, int(s), z, exact,
                                  None if before is None else before.basis,
                                  None if before is None else before.pattern))
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
    """Where subproblems run: in this process (``workers`` 1, no scheduler), on
    :class:`LocalWorkers` or on Dask workers (local processes, or the cluster at
    ``scheduler``). Scenarios go in fixed chunks
    of :data:`CHUNK`, chunk ``k`` always to the same worker, which holds their LPs and bases
    (module docstring); results come back in the scenarios' order. :meth:`close` frees what
    the workers hold."""

    def __init__(self, spec: SubSpec, client: Any | None, workers: int) -> None:
        self.spec = spec
        self.client = client
        self.workers = workers
        self.local = client if isinstance(client, LocalWorkers) else None
        self.shared = None
        if self.local is not None:
            self.local.install(spec)
        elif client is not None:
            self.shared = client.scatter(spec, broadcast=True, hash=False)

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
        if self.local is not None:
            return self.local.map(self.spec.key, solve_fixed,
                                  [(k, (b, z, exact)) for k, b in chunks])
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

    def own(self, starts: Sequence[Floats], relax: bool = False,
            scenarios: Sequence[int] | None = None) -> list[Recourse]:
        """Every scenario's (or ``scenarios``') own optimum (:func:`own_optimum`), started
        from the plans ``starts`` (each S × columns)."""
        which = range(self.spec.arrays.size) if scenarios is None else scenarios
        chunks = self._chunks(which)
        args = [(k, b, [[p[s] for p in starts] for s in b]) for k, b in chunks]
        if self.client is None:
            return [r for _, b, st in args for r in solve_own(self.spec, b, st, relax)]
        if self.local is not None:
            return self.local.map(self.spec.key, solve_own,
                                  [(k, (b, st, relax)) for k, b, st in args])
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
        elif self.local is not None:
            self.local.forget(self.spec.key)
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


# ---------------------------------------------------------------------------------------------
# local workers: forked processes, one pipe each
# ---------------------------------------------------------------------------------------------


# per worker process: the specs it serves, by key (inherited when forked, or sent once)
_specs: dict[str, SubSpec] = {}


def _serve(conn: Connection) -> None:
    """A local worker's loop: each message is ``(key, task, jobs)`` (``task(spec, *args)`` for
    each of ``jobs``, answered with the list of their results), ``(key, spec)`` to hold a
    spec, ``(key, None)`` to forget one, or None to stop. A task's exception is sent back to
    be raised where it was asked for."""
    from hwbopt.batch.cluster import relax_malloc_trim
    from hwbopt.batch.pool import _worker_setup

    _worker_setup()  # HiGHS's task scheduler started afresh in the child, among others
    relax_malloc_trim()  # as a Dask worker is set up (hwbopt.batch.cluster)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            if len(msg) == 2:
                key, spec = msg
                if spec is None:
                    _specs.pop(key, None)
                    forget(key)
                else:
                    _specs[key] = spec
                continue
            key, task, jobs = msg
            conn.send((True, [task(_specs[key], *args) for args in jobs]))
        except Exception as exc:  # sent back whole, raised by the driver
            conn.send((False, exc))


class LocalWorkers:
    """``n`` worker processes forked from this one, each answering one pipe in order: chunk
    ``k`` of any request goes to worker ``k mod n`` (as :class:`Pool` sends chunks to Dask
    workers), so a worker keeps the same scenarios' LPs, bases and branch guesses from one
    request to the next. Forked, a worker starts in milliseconds with everything imported
    and every spec this process held at the fork already in memory; a local Dask cluster
    takes seconds to start, and each spec is pickled to every worker (at 1,000 county
    scenarios some 200 MB)."""

    def __init__(self, n: int, held_specs: Sequence[SubSpec] = ()) -> None:
        import multiprocessing

        for spec in held_specs:
            _specs[spec.key] = spec
        context = multiprocessing.get_context("fork")
        self.known: set[str] = {spec.key for spec in held_specs}
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        # the jobs sent and not yet collected: each worker's (their places), and how many
        self.pending: tuple[list[list[int]], int] | None = None
        for _ in range(n):
            mine, theirs = context.Pipe()
            proc = context.Process(target=_serve, args=(theirs,), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)
        for spec in held_specs:
            _specs.pop(spec.key, None)  # this process solves nothing of it: the workers do

    @property
    def n(self) -> int:
        return len(self.conns)

    def install(self, spec: SubSpec) -> None:
        """Send ``spec`` to every worker, unless they hold it already."""
        if spec.key in self.known:
            return
        for conn in self.conns:
            conn.send((spec.key, spec))
        self.known.add(spec.key)

    def forget(self, key: str) -> None:
        """Every worker drops the spec ``key`` and its held scenarios."""
        for conn in self.conns:
            conn.send((key, None))
        self.known.discard(key)

    def map(self, key: str, task: Any, jobs: Sequence[tuple[int, tuple[Any, ...]]]
            ) -> list[Any]:
        """``task(spec, *args)`` for each ``(chunk, args)`` of ``jobs``, chunk ``k`` on worker
        ``k mod n`` (each worker's in the jobs' order); the results flattened in the jobs'
        order."""
        self.send(key, task, jobs)
        return [r for chunk in self.collect() for r in chunk]

    def send(self, key: str, task: Any, jobs: Sequence[tuple[int, tuple[Any, ...]]]) -> None:
        """Hand out ``jobs`` as :meth:`map` does without waiting for them (:meth:`collect`
        gets their answers; nothing else may be sent before)."""
        if self.pending is not None:
            raise RuntimeError("local workers: a request is still out")
        mine: list[list[int]] = [[] for _ in self.conns]
        for i, (k, _) in enumerate(jobs):
            mine[k % self.n].append(i)
        # every request is sent before any answer is read: all workers start at once, and
        # a worker blocked writing its answer waits only for this process to read it
        for w, conn in enumerate(self.conns):
            if mine[w]:
                conn.send((key, task, [jobs[i][1] for i in mine[w]]))
        self.pending = (mine, len(jobs))

    def collect(self) -> list[Any]:
        """The answers of the jobs :meth:`send` handed out, one per job in their order (a
        worker's exception raised here, once every worker has answered)."""
        if self.pending is None:
            return []
        mine, count = self.pending
        self.pending = None
        out: list[Any] = [None] * count
        failed: BaseException | None = None
        for w, conn in enumerate(self.conns):
            if not mine[w]:
                continue
            try:
                ok, answer = conn.recv()
            except (EOFError, OSError):
                raise RuntimeError(f"local worker {w} died during a plan's subproblems "
                                   "(out of memory?)") from None
            if not ok:
                failed = failed or answer
                continue
            for i, result in zip(mine[w], answer, strict=True):
                out[i] = result
        if failed is not None:
            raise failed
        return out

    def close(self) -> None:
        """Stop the workers (at once if they do not stop within a few seconds)."""
        for conn in self.conns:
            with suppress(OSError):  # a worker already gone
                conn.send(None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


@contextmanager
def plan_workers(workers: int = 1, scheduler: str | None = None,
                 held_specs: Sequence[SubSpec] = ()) -> Iterator[tuple[Any, int]]:
    """(where the subproblems run, workers) for a plan run: this process alone for one local
    worker; :class:`LocalWorkers` forked now (holding ``held_specs``) for several where a fork
    is safe (:func:`hwbopt.batch.pool.fork_is_safe`); else Dask (:func:`cluster`)."""
    from hwbopt.batch.pool import fork_is_safe

    if workers > 1 and scheduler is None and fork_is_safe():
        local = LocalWorkers(workers, held_specs)
        try:
            yield local, workers
        finally:
            local.close()
        return
    with cluster(workers, scheduler) as found:
        yield found


def solve_own_timed(spec: SubSpec, scenarios: Sequence[int],
                    starts: Sequence[Sequence[Floats]]) -> tuple[list[Recourse], float]:
    """:func:`solve_own` of the MIPs, and the seconds it took (:class:`Background`)."""
    began = time.perf_counter()
    out = solve_own(spec, scenarios, starts, False)
    return out, time.perf_counter() - began


# of the last master solve's seconds, the share the background work handed out may take: a
# master solve that ends sooner leaves the next round waiting for it
BACKGROUND_SHARE = 0.8


class Background:
    """Each scenario's own optimum (wait-and-see), solved on :class:`LocalWorkers` while this
    process solves the decomposition's master, when the workers would otherwise wait for it
    (county, 1,000 scenarios: master solves of 3 to 10 s, fifty rounds, against wait-and-see
    MIPs of 0.26 s a scenario on one core, 130 s on two).

    Before each master solve (:meth:`feed`) each worker gets as many scenarios as it solves in
    :data:`BACKGROUND_SHARE` of the last master solve's time, collected after it
    (:meth:`collect`); :meth:`finish` solves the rest and returns every answer. A scenario's
    own optimum depends only on its numbers and ``starts`` (the same for every scenario,
    wherever and whenever it is solved), so the answers are those of :meth:`Pool.own`."""

    def __init__(self, pool: Pool, starts: Sequence[Floats]) -> None:
        self.pool = pool
        self.starts = starts
        self.todo = list(range(pool.spec.arrays.size))
        self.done: dict[int, Recourse] = {}
        self.per_item = 0.3  # seconds a scenario on a worker, as measured (first: county's)
        self.budget = 0.0  # the last master solve's seconds
        self.out = False  # scenarios handed out and not collected

    def feed(self, limit: float | None = None) -> None:
        """Hand each local worker what it solves within the master solve about to start,
        never more than ``limit`` seconds of it (the master's own limit: what is handed
        out is waited for, and the run's time limit would pass)."""
        local = self.pool.local
        if local is None or self.out or not self.todo:
            return
        budget = self.budget if limit is None else min(self.budget, limit)
        each = int(BACKGROUND_SHARE * budget / self.per_item)
        if each < 1:
            return
        jobs = []
        for w in range(local.n):
            take, self.todo = self.todo[:each], self.todo[each:]
            if take:
                jobs.append((w, (take, [[p[s] for p in self.starts] for s in take])))
        local.send(self.pool.spec.key, solve_own_timed, jobs)
        self.out = True

    def collect(self, master_seconds: float) -> None:
        """The answers handed out before the master solve that took ``master_seconds``."""
        self.budget = master_seconds
        local = self.pool.local
        if local is None or not self.out:
            return
        self.out = False
        seconds, count = 0.0, 0
        for found, took in local.collect():
            for r in found:
                self.done[r.scenario] = r
            seconds, count = seconds + took, count + len(found)
        if count:
            self.per_item = seconds / count

    def finish(self) -> list[Recourse]:
        """Every scenario's own optimum, in order: the rest solved now."""
        self.collect(self.budget)
        rest = self.pool.own(self.starts, scenarios=self.todo) if self.todo else []
        self.todo = []
        for r in rest:
            self.done[r.scenario] = r
        return [self.done[s] for s in range(self.pool.spec.arrays.size)]
