"""What a solve ended in, and the words for it: the one status layer.

A leaf (no solver import), so results, reports and the stress summary compare statuses without
loading HiGHS. :func:`hwbopt.highs.outcome` is the one function from a solved HiGHS instance to
an :class:`Outcome`; solve, compare, explain and the stress engine all read statuses through it.

Statuses are ``str`` values (a :class:`~enum.StrEnum`), so they compare equal to, and are
written to JSON and Parquet as, the plain strings ``"optimal"``, ``"time_limit"`` and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hwbopt.errors import UsageError


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven optimal (a mixed-integer plan: within the asked gap)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    STOPPED = "stopped"  # another limit or an interrupt: reported like a time limit, with why
    ERROR = "error"  # HiGHS could not settle it, or the plan failed the independent check
    # a stress scenario's own (hwbopt.batch.engine): re-solved with the plan's integer
    # decisions free, and solved with another plan; no certified answer at all
    PLAN_INFEASIBLE = "plan_infeasible"
    UNCERTIFIED = "uncertified"  # inside the engine only: becomes FAILED before it is written
    FAILED = "failed"


# stopped before a proof: the best plan found, if any, is kept
EARLY = frozenset({Status.TIME_LIMIT, Status.STOPPED})

NO_PLAN = "no plan meets every rule"
UNBOUNDED_MESSAGE = "the objective is unbounded: some activity has no cap (need)"
EMPTY_MESSAGE = ("the model is empty: nothing is left to decide (no intervention is offered "
                 "anywhere with a need above zero, and no pool, staff or site)")


@dataclass(frozen=True)
class Outcome:
    """How a solve ended: ``message`` is what a reader is told (empty for a proven optimum;
    for a plan found before a proof, why HiGHS stopped, which callers complete). Objective and
    bound include the model's constant; ``mip_gap`` is HiGHS's relative gap."""

    status: Status
    message: str
    detail: str  # HiGHS's own model status ("Time limit reached")
    objective: float | None  # the optimum, or a stopped MIP's incumbent; None: no plan
    bound: float | None  # best proven bound on the objective
    mip_gap: float | None

    @property
    def has_plan(self) -> bool:
        return self.objective is not None


def stop_reason(detail: str, time_limit: float | None) -> str:
    """Why HiGHS stopped before a proof, in words ("time limit of 1 s reached")."""
    if detail.lower().startswith("time limit"):
        return f"time limit of {time_limit or 0:g} s reached"
    return f"HiGHS stopped early ({detail})"


def no_plan_message(detail: str, time_limit: float | None) -> str:
    if detail.lower().startswith("time limit"):
        return f"no solution found within the time limit of {time_limit or 0:g} s"
    return f"no solution found: {stop_reason(detail, time_limit)}"


def message(status: Status, detail: str, time_limit: float | None, *, has_plan: bool,
            empty: bool) -> str:
    """The words for a solve's end (see :class:`Outcome`); ``empty``: the model has no
    decision at all."""
    if status == Status.OPTIMAL:
        return ""
    if status == Status.INFEASIBLE:
        return NO_PLAN
    if status == Status.UNBOUNDED:
        return UNBOUNDED_MESSAGE
    if status in EARLY:
        return stop_reason(detail, time_limit) if has_plan else no_plan_message(detail,
                                                                                 time_limit)
    if empty or detail == "Empty":
        return EMPTY_MESSAGE
    return f"HiGHS stopped with status '{detail}'"


def check_limits(time_limit: float | None, mip_gap: float | None) -> None:
    """Refuse (exit 2) a time limit or relative MIP gap no solve can honour."""
    if time_limit is not None and not time_limit > 0:
        raise UsageError(f"time limit must be positive, got {time_limit!r}")
    if mip_gap is not None and not 0 <= mip_gap < 1:
        raise UsageError(f"MIP gap must be in [0, 1), got {mip_gap!r}")
