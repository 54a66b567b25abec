"""The plan's linear model: the LP whose duals and ranging explain a plan.

A mixed-integer plan is explained through the LP with every integer decision fixed at its plan
value (:func:`fix_integers`): duals of a mixed-integer model do not exist. Used by
:mod:`hwbopt.analyses.explain` and :mod:`hwbopt.analyses.unfunded`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import highspy
import numpy as np
from numpy.typing import ArrayLike

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.results import earned_credit
from hwbopt.status import Status


@dataclass
class PlanLP:
    """The LP whose duals explain the plan, solved, with its ranging and basis."""

    comp: Compiled
    objective: float
    x: np.ndarray
    row_activity: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    row_basic: np.ndarray
    row_dn: np.ndarray  # HiGHS ranging of each row's active bound: lowest level, basis kept
    row_up: np.ndarray
    col_basic: np.ndarray
    col_dn: np.ndarray  # the same for each column's active bound
    col_up: np.ndarray


def fix_integers(comp: Compiled, x: np.ndarray) -> Compiled:
    """The LP with every integer column fixed at its (rounded) value in ``x``."""
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    ints = comp.integer
    lo[ints] = hi[ints] = np.round(x[ints])
    return replace(comp, col_lower=lo, col_upper=hi, integer=np.zeros(comp.n_cols, dtype=bool))


def _infinite(v: ArrayLike) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    big = highspy.kHighsInf
    return np.where(v >= big, np.inf, np.where(v <= -big, -np.inf, v))


def solve_plan_lp(lp: Compiled, time_limit: float | None = None) -> PlanLP | None:
    h = highs.load(lp)
    raw = highs.run(h, time_limit=time_limit)
    if raw.status != Status.OPTIMAL or raw.objective is None or raw.x is None \
            or raw.row_activity is None or raw.row_dual is None or raw.col_dual is None:
        return None
    status, rng = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rng.valid:
        return None
    basis = h.getBasis()
    kb = highspy.HighsBasisStatus.kBasic
    return PlanLP(lp, raw.objective, raw.x, raw.row_activity, raw.row_dual,
                  raw.col_dual,
                  np.array([s == kb for s in basis.row_status], dtype=bool),
                  _infinite(rng.row_bound_dn.value_), _infinite(rng.row_bound_up.value_),
                  np.array([s == kb for s in basis.col_status], dtype=bool),
                  _infinite(rng.col_bound_dn.value_), _infinite(rng.col_bound_up.value_))


def settle_credit(d: ModelData, plan: PlanLP) -> PlanLP:
    """The plan with each savings credit at what the plan's avoided costs earn.

    ``qipp_credit`` need only cover what a partner spends, so where its budget has room the
    LP may leave it anywhere up to the credit earned, and its ``budget`` row then sits at its
    limit with nothing binding: a budget called fully spent while the budgets table shows
    money unspent. The budgets table reports the credit earned
    (:func:`hwbopt.results.earned_credit`); setting the credit there too keeps every row
    feasible (it only loosens ``budget``), the objective and the duals as they are, and makes
    "fully spent" mean what the table says: nothing unspent.
    """
    cols = plan.comp.cols("qipp_credit")
    if not cols:
        return plan
    act = {idx: float(plan.x[j]) for idx, j in plan.comp.cols("activity").items()}
    earned = earned_credit(d, act)
    x = plan.x.copy()
    for key, j in cols.items():
        x[j] = min(max(earned[key], plan.comp.col_lower[j]), plan.comp.col_upper[j])
    return replace(plan, x=x, row_activity=plan.comp.A @ x)
