"""HiGHS, loaded from compiled arrays, with its status read honestly.

Only a proven optimum is ``optimal``. ``unbounded or infeasible`` from presolve is settled by
re-solving without presolve; a time limit is ``time_limit``; anything else is ``error``.
:func:`outcome` is the one reading of a run (statuses and their words: :mod:`hwbopt.status`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields

import highspy
import numpy as np

from hwbopt import interrupt
from hwbopt.compile import Compiled
from hwbopt.status import EARLY, Outcome, Status, message

_banner_shown = False


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Keep HiGHS's one-off C-level banner out of stdout (it would corrupt ``--json``)."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


class Loaded(highspy.Highs):
    """A silent HiGHS instance that remembers the objective constant it was not given
    (:func:`to_highs_lp`), to add it back to what it reports."""

    constant: float = 0.0
    # the time limit of each run (seconds) and whether the model is a MIP: HiGHS measures an
    # LP's limit on a clock that runs across every run of one instance (a MIP's restarts at
    # each run), so :func:`settle` sets each LP run's limit from the clock's reading
    per_run_limit: float | None = None
    limit_is_mip: bool = False

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # highspy's __init__ is unannotated
        self.setOptionValue("output_flag", False)


_THREADED = False  # whether this process has made a HiGHS that may run more than one thread


def threaded() -> bool:
    """Whether this process may have started HiGHS worker threads (then it must not fork:
    :mod:`hwbopt.batch.pool`)."""
    return _THREADED


def new_highs(threads: int | None = None) -> Loaded:
    """A silent HiGHS instance."""
    global _banner_shown, _THREADED
    if _banner_shown:
        h = Loaded()
    else:
        with _quiet_stdout():
            h = Loaded()
        _banner_shown = True
    if threads is not None:
        # HiGHS sizes one task scheduler per process when it first runs; a different thread
        # count later is an error unless the scheduler is started again
        highspy.Highs.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))
    # HiGHS's automatic count is half the cores, rounded up
    if (threads or ((os.cpu_count() or 2) + 1) // 2) > 1:
        _THREADED = True
    return h


def highs_version() -> str:
    return f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}." \
           f"{highspy.HIGHS_VERSION_PATCH}" if hasattr(highspy, "HIGHS_VERSION_MAJOR") else "?"


def to_highs_lp(comp: Compiled, *, whole_objective: bool = False) -> highspy.HighsLp:
    """The compiled model as HiGHS takes it. Its objective leaves out ``comp.constant`` (the
    part no decision moves), so HiGHS's relative MIP gap measures what the plan controls;
    ``whole_objective`` keeps it (a model file a person reads)."""
    lp = highspy.HighsLp()
    lp.num_col_ = comp.n_cols
    lp.num_row_ = comp.n_rows
    lp.col_cost_ = comp.c
    lp.offset_ = comp.offset if whole_objective else comp.offset - comp.constant
    lp.sense_ = highspy.ObjSense.kMinimize if comp.sense == 1 else highspy.ObjSense.kMaximize
    inf = highspy.kHighsInf
    lp.col_lower_ = np.where(np.isinf(comp.col_lower), -inf, comp.col_lower)
    lp.col_upper_ = np.where(np.isinf(comp.col_upper), inf, comp.col_upper)
    lp.row_lower_ = np.where(np.isinf(comp.row_lower), -inf, comp.row_lower)
    lp.row_upper_ = np.where(np.isinf(comp.row_upper), inf, comp.row_upper)
    A = comp.A
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_ = comp.n_cols
    lp.a_matrix_.num_row_ = comp.n_rows
    if comp.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
            for f in comp.integer
        ]
    return lp


@dataclass(frozen=True)
class RawSolution(Outcome):
    """A solve's :class:`~hwbopt.status.Outcome` with the plan's numbers (None: no plan)."""

    x: np.ndarray | None
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None
    seconds: float
    is_mip: bool = False


_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    **dict.fromkeys((highspy.HighsModelStatus.kIterationLimit,
                     highspy.HighsModelStatus.kSolutionLimit,
                     highspy.HighsModelStatus.kInterrupt,
                     highspy.HighsModelStatus.kObjectiveBound,
                     highspy.HighsModelStatus.kObjectiveTarget,
                     highspy.HighsModelStatus.kMemoryLimit), Status.STOPPED),
}  # anything else (unbounded-or-infeasible left after settle, a solver error): ERROR


def limit(h: highspy.Highs, time_limit: float | None = None,
          mip_gap: float | None = None, is_mip: bool = False) -> None:
    """Set the asked time limit (seconds, for each run from now on: :func:`settle`) and
    relative MIP gap; None leaves HiGHS's own."""
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
        if isinstance(h, Loaded):
            h.per_run_limit, h.limit_is_mip = float(time_limit), is_mip
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))


def _arm(h: highspy.Highs) -> None:
    """Give the coming run its own time limit. Measured on HiGHS 1.16: an LP's limit is read
    on the instance's clock, which counts every earlier run too (a warm re-solve after others
    that took the limit together stopped at once, ``time_limit``); a MIP's clock restarts."""
    if isinstance(h, Loaded) and h.per_run_limit is not None and not h.limit_is_mip and \
            np.isfinite(h.per_run_limit):
        h.setOptionValue("time_limit", h.getRunTime() + h.per_run_limit)


def settle(h: highspy.Highs) -> None:
    """Run HiGHS (each run within its own time limit: :func:`limit`); presolve's "unbounded
    or infeasible" is settled by the simplex without it."""
    _arm(h)
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        h.setOptionValue("presolve", "off")
        h.clearSolver()
        _arm(h)
        h.run()
        h.setOptionValue("presolve", "choose")


def info(h: highspy.Highs, name: str) -> float:
    """One value of HiGHS's run information (cheaper than copying all of ``getInfo``)."""
    return float(h.getInfoValue(name)[1])


def outcome(h: Loaded, *, time_limit: float | None = None, is_mip: bool = False) -> Outcome:
    """How a settled HiGHS run ended (:func:`settle`), with the words for it.

    A mixed-integer model stopped early with a feasible incumbent has that plan's objective,
    bound and gap; the caller decides what to report. ``time_limit`` is the one asked, for the
    message.
    """
    model_status = h.getModelStatus()
    status = _STATUS.get(model_status, Status.ERROR)
    detail = h.modelStatusToString(model_status)
    has_plan = status == Status.OPTIMAL or (
        is_mip and status in EARLY and info(h, "primal_solution_status") == 2)
    objective = bound = gap = None
    if has_plan:
        objective = info(h, "objective_function_value") + h.constant
        if is_mip:
            bound, gap = info(h, "mip_dual_bound") + h.constant, info(h, "mip_gap")
        else:
            bound, gap = objective, 0.0
    return Outcome(status, message(status, detail, time_limit, has_plan=has_plan,
                                   empty=h.getNumCol() == 0),
                   detail, objective, bound, gap)


def run(
    h: Loaded,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    is_mip: bool = False,
    *,
    abandonable: bool = False,
) -> RawSolution:
    """Run an already-loaded HiGHS instance (see :func:`load`): its :func:`outcome` and, when
    it has a plan, the plan's values and duals. ``abandonable``: nothing but this call holds
    ``h``, so a Ctrl-C in the command line may leave the solve running
    (:func:`hwbopt.interrupt.interruptible`)."""
    limit(h, time_limit, mip_gap, is_mip)
    start = time.perf_counter()
    if abandonable:
        interrupt.interruptible(lambda: settle(h))
    else:
        settle(h)
    seconds = time.perf_counter() - start
    end = outcome(h, time_limit=time_limit, is_mip=is_mip)
    told = {f.name: getattr(end, f.name) for f in fields(Outcome)}
    if not end.has_plan:
        return RawSolution(**told, x=None, row_activity=None, row_dual=None, col_dual=None,
                           seconds=seconds, is_mip=is_mip)
    sol = h.getSolution()
    return RawSolution(
        **told,
        x=np.asarray(sol.col_value, dtype=float),
        row_activity=np.asarray(sol.row_value, dtype=float),
        row_dual=np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None,
        col_dual=np.asarray(sol.col_dual, dtype=float) if sol.dual_valid else None,
        seconds=seconds,
        is_mip=is_mip,
    )


def change_rows_bounds(h: highspy.Highs, rows: np.ndarray, lower: np.ndarray,
                       upper: np.ndarray) -> None:
    """New bounds of ``rows`` (int32) in one call."""
    # highspy's stubs declare only the one-row changeRowBounds; the batch call exists at run time
    h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]


Basis = tuple[np.ndarray, np.ndarray]  # (column, row) statuses, int8

# the five statuses built once: building a pybind enum per column cost 3 ms a basis of 6,000
# (county subproblem), more than its warm LP solve
_STATUSES = [highspy.HighsBasisStatus(k) for k in range(5)]


def get_basis(h: highspy.Highs) -> Basis:
    """The simplex basis ``h`` holds, as int8 arrays (picklable, compact)."""
    b = h.getBasis()
    return (np.fromiter((s.value for s in b.col_status), dtype=np.int8),
            np.fromiter((s.value for s in b.row_status), dtype=np.int8))


def set_basis(h: highspy.Highs, basis: Basis) -> None:
    """Hand ``h`` a basis :func:`get_basis` read (of a model of the same shape)."""
    b = highspy.HighsBasis()
    b.col_status = [_STATUSES[k] for k in basis[0].tolist()]
    b.row_status = [_STATUSES[k] for k in basis[1].tolist()]
    b.valid = True
    h.setBasis(b)


def start_from(h: highspy.Highs, x: np.ndarray) -> None:
    """Offer ``x`` as a starting plan: a MIP uses it only if it is feasible; an LP's simplex
    starts from a basis built from it (the curve's first solve on the county: 768 iterations
    and 23 ms from the mixed-integer optimum's plan, against 1,754 and 38 ms cold)."""
    sol = highspy.HighsSolution()
    sol.col_value = x
    sol.value_valid = True
    h.setSolution(sol)


def load(comp: Compiled, threads: int | None = None) -> Loaded:
    """A HiGHS instance holding ``comp`` (without its constant, which it remembers)."""
    h = new_highs(threads)
    if h.passModel(to_highs_lp(comp)) == highspy.HighsStatus.kError:
        from hwbopt.errors import UsageError

        raise UsageError("HiGHS cannot take this model: a coefficient, bound or cost is beyond "
                         "what it can represent (1e15 or more, or NaN); write the instance in "
                         "a money or activity unit that keeps its figures moderate")
    h.constant = float(comp.constant)
    return h


def solve_compiled(
    comp: Compiled,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float | None = None,
) -> RawSolution:
    # a fresh instance no caller holds: a Ctrl-C need not wait for it (hwbopt.interrupt)
    return run(load(comp, threads), time_limit=time_limit, mip_gap=mip_gap,
               is_mip=bool(comp.integer.any()), abandonable=True)


class Session:
    """HiGHS instances kept loaded while only numbers change, for runs of one comparison.

    A compiled model with the structure of one already loaded (same matrix, integrality and
    sense; see :func:`hwbopt.compile.structure_key`) reuses that instance: its bounds and costs
    are replaced and it is re-solved from where the last solve left it (the simplex basis of
    an LP; the last plan as a starting solution of a MIP). Anything else is loaded afresh.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._loaded: dict[str, tuple[Loaded, np.ndarray | None]] = {}
        self.loads = 0
        self.reuses = 0

    def solve(
        self,
        comp: Compiled,
        time_limit: float | None = None,
        mip_gap: float | None = None,
    ) -> RawSolution:
        from hwbopt.compile import structure_key

        key = structure_key(comp)
        is_mip = bool(comp.integer.any())
        if key in self._loaded:
            h, start = self._loaded[key]
            self._push_numbers(h, comp)
            if is_mip and start is not None:
                start_from(h, start)  # a plan of a neighbouring run
            self.reuses += 1
        else:
            h = load(comp, self.threads)
            self.loads += 1
        if time_limit is None:  # a reused instance may hold the last run's limit
            limit(h, float("inf"))  # and none re-armed from an earlier run
        raw = run(h, time_limit=time_limit, mip_gap=mip_gap, is_mip=is_mip)
        self._loaded[key] = (h, raw.x)
        return raw

    @staticmethod
    def _push_numbers(h: Loaded, comp: Compiled) -> None:
        cols = np.arange(comp.n_cols, dtype=np.int32)
        rows = np.arange(comp.n_rows, dtype=np.int32)
        # numpy's inf is HiGHS's infinity (kHighsInf), so bounds pass through as they are
        h.changeColsBounds(comp.n_cols, cols, comp.col_lower, comp.col_upper)
        change_rows_bounds(h, rows, comp.row_lower, comp.row_upper)
        h.changeColsCost(comp.n_cols, cols, comp.c)
        h.changeObjectiveOffset(comp.offset - comp.constant)
        h.constant = float(comp.constant)


def write_model(comp: Compiled, path: str | os.PathLike[str]) -> None:
    """The compiled model as an MPS or LP file (by suffix) with the model's names: rows such as
    ``budget[county,2013]`` and columns such as ``activity[reablement,north,2013]``.

    The LP format has no square brackets or '-' in names, so there they read
    ``budget(county,2013)`` with '-' as '_'.
    """
    lp = to_highs_lp(comp, whole_objective=True)
    cols = [comp.col_name(j) for j in range(comp.n_cols)]
    rows = [comp.row_name(r) for r in range(comp.n_rows)]
    if str(path).lower().endswith(".lp"):
        table = str.maketrans("[]-", "()_")
        cols = [n.translate(table) for n in cols]
        rows = [n.translate(table) for n in rows]
        if len(set(cols)) < len(cols) or len(set(rows)) < len(rows):
            raise OSError("ids that differ only in '-' and '_' cannot be told apart in the LP "
                          "format: write .mps instead")
    lp.col_names_, lp.row_names_ = cols, rows
    h = new_highs()
    h.passModel(lp)
    status = h.writeModel(str(path))
    if status != highspy.HighsStatus.kOk:
        raise OSError(f"HiGHS could not write {path} with the model's names")
