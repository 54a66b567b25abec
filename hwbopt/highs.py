"""HiGHS, loaded from compiled arrays, with its status read honestly.

Only a proven optimum is ``optimal``. ``unbounded or infeasible`` from presolve is settled by
re-solving without presolve; a time limit is ``time_limit``; anything else is ``error``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np

from hwbopt.compile import Compiled

OPTIMAL = "optimal"
INFEASIBLE = "infeasible"
UNBOUNDED = "unbounded"
TIME_LIMIT = "time_limit"
STOPPED = "stopped"  # another limit or an interrupt: reported like a time limit, with why
ERROR = "error"
STATUSES = (OPTIMAL, INFEASIBLE, UNBOUNDED, TIME_LIMIT, STOPPED, ERROR)
EARLY = (TIME_LIMIT, STOPPED)  # stopped before a proof: the best plan found, if any, is kept

_banner_shown = False


@contextlib.contextmanager
def _quiet_stdout():
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


def new_highs(threads: int | None = None) -> highspy.Highs:
    """A silent HiGHS instance."""
    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        with _quiet_stdout():
            h = highspy.Highs()
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    if threads is not None:
        # HiGHS sizes one task scheduler per process when it first runs; a different thread
        # count later is an error unless the scheduler is started again
        highspy.Highs.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))
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


@dataclass
class RawSolution:
    status: str
    detail: str  # HiGHS's own model status, for messages
    objective: float | None  # the optimum, or a time-limited MIP incumbent
    x: np.ndarray | None
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None
    seconds: float
    is_mip: bool = False
    bound: float | None = None  # best proven bound on the objective
    mip_gap: float | None = None  # relative gap between objective and bound


def _status(h: highspy.Highs) -> str:
    s = h.getModelStatus()
    S = highspy.HighsModelStatus
    if s == S.kOptimal:
        return OPTIMAL
    if s == S.kInfeasible:
        return INFEASIBLE
    if s == S.kUnbounded:
        return UNBOUNDED
    if s == S.kUnboundedOrInfeasible:
        return "unbounded_or_infeasible"
    if s == S.kTimeLimit:
        return TIME_LIMIT
    if s in (S.kIterationLimit, S.kSolutionLimit, S.kInterrupt, S.kObjectiveBound,
             S.kObjectiveTarget, S.kMemoryLimit):
        return STOPPED
    return ERROR


def stop_reason(detail: str, time_limit: float | None) -> str:
    """Why HiGHS stopped before a proof, in words ("time limit of 1 s reached")."""
    if detail.lower().startswith("time limit"):
        return f"time limit of {time_limit or 0:g} s reached"
    return f"HiGHS stopped early ({detail})"


def no_plan_message(detail: str, time_limit: float | None) -> str:
    if detail.lower().startswith("time limit"):
        return f"no solution found within the time limit of {time_limit or 0:g} s"
    return f"no solution found: {stop_reason(detail, time_limit)}"


EMPTY_MESSAGE = ("the model is empty: nothing is left to decide (no intervention is offered "
                 "anywhere with a need above zero, and no pool, staff or site)")


def run(
    h: highspy.Highs,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    is_mip: bool = False,
) -> RawSolution:
    """Run an already-loaded HiGHS instance (see :func:`load`) and read back status and solution.

    A mixed-integer model stopped by the time limit with a feasible incumbent comes back as
    ``time_limit`` *with* its solution, objective, bound and gap; the caller decides what to
    report. Without an incumbent there is no solution. Objective and bound include the
    model's constant; the gap is HiGHS's, relative to the part the decisions move.
    """
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    start = time.perf_counter()
    h.run()
    status = _status(h)
    if status == "unbounded_or_infeasible":
        # presolve could not tell which; the simplex without presolve can
        h.setOptionValue("presolve", "off")
        h.clearSolver()
        h.run()
        h.setOptionValue("presolve", "choose")
        status = _status(h)
        if status == "unbounded_or_infeasible":
            status = ERROR
    seconds = time.perf_counter() - start
    detail = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    incumbent = is_mip and status in EARLY and info.primal_solution_status == 2
    if status != OPTIMAL and not incumbent:
        return RawSolution(status, detail, None, None, None, None, None, seconds, is_mip)
    sol = h.getSolution()
    constant = constant_of(h)
    objective = float(info.objective_function_value) + constant
    if is_mip:
        bound, gap = float(info.mip_dual_bound) + constant, float(info.mip_gap)
    else:
        bound, gap = objective, 0.0
    return RawSolution(
        status=status,
        detail=detail,
        objective=objective,
        x=np.asarray(sol.col_value, dtype=float),
        row_activity=np.asarray(sol.row_value, dtype=float),
        row_dual=np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None,
        col_dual=np.asarray(sol.col_dual, dtype=float) if sol.dual_valid else None,
        seconds=seconds,
        is_mip=is_mip,
        bound=bound,
        mip_gap=gap,
    )


def load(comp: Compiled, threads: int | None = None) -> highspy.Highs:
    """A HiGHS instance holding ``comp`` (without its constant, which it remembers)."""
    h = new_highs(threads)
    if h.passModel(to_highs_lp(comp)) == highspy.HighsStatus.kError:
        from hwbopt.errors import UsageError

        raise UsageError("HiGHS cannot take this model: a coefficient, bound or cost is beyond "
                         "what it can represent (1e15 or more, or NaN); write the instance in "
                         "a money or activity unit that keeps its figures moderate")
    set_constant(h, comp.constant)
    return h


def set_constant(h: highspy.Highs, constant: float) -> None:
    """Remember the objective constant HiGHS was not given, to add it back to what it reports."""
    h.hwbopt_constant = float(constant)


def constant_of(h: highspy.Highs) -> float:
    return float(getattr(h, "hwbopt_constant", 0.0))


def solve_compiled(
    comp: Compiled,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float | None = None,
) -> RawSolution:
    return run(load(comp, threads), time_limit=time_limit, mip_gap=mip_gap,
               is_mip=bool(comp.integer.any()))


class Session:
    """HiGHS instances kept loaded while only numbers change, for runs of one comparison.

    A compiled model with the structure of one already loaded (same matrix, integrality and
    sense; see :func:`hwbopt.compile.structure_key`) reuses that instance: its bounds and costs
    are replaced and it is re-solved from where the last solve left it (the simplex basis of
    an LP; the last plan as a starting solution of a MIP). Anything else is loaded afresh.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads
        self._loaded: dict[str, tuple[highspy.Highs, np.ndarray | None]] = {}
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
                # a plan of a neighbouring run: HiGHS uses it only if it is feasible here
                sol = highspy.HighsSolution()
                sol.col_value = start
                sol.value_valid = True
                h.setSolution(sol)
            self.reuses += 1
        else:
            h = load(comp, self.threads)
            self.loads += 1
        h.setOptionValue("time_limit", float("inf") if time_limit is None else time_limit)
        raw = run(h, mip_gap=mip_gap, is_mip=is_mip)
        self._loaded[key] = (h, raw.x)
        return raw

    @staticmethod
    def _push_numbers(h: highspy.Highs, comp: Compiled) -> None:
        cols = np.arange(comp.n_cols, dtype=np.int32)
        rows = np.arange(comp.n_rows, dtype=np.int32)
        # numpy's inf is HiGHS's infinity (kHighsInf), so bounds pass through as they are
        h.changeColsBounds(comp.n_cols, cols, comp.col_lower, comp.col_upper)
        h.changeRowsBounds(comp.n_rows, rows, comp.row_lower, comp.row_upper)
        h.changeColsCost(comp.n_cols, cols, comp.c)
        h.changeObjectiveOffset(comp.offset - comp.constant)
        set_constant(h, comp.constant)


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
