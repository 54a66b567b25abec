"""How far each priority's weight may move before the plan stops being optimal.

See ``models/explain.md`` ("Weight ranges"). Under the ``outcome`` objective the weight
:math:`\\omega_k` of priority ``k`` (``weight``, objective points per unit of outcome) is the
objective coefficient of every ``outcome[k,y]`` column, times the year's discount
:math:`\\delta_y`. Moving the weight to :math:`\\omega_k + t` moves the whole cost vector along
one direction, :math:`c(t) = c + t\\,\\Delta c` with :math:`\\Delta c_j = \\delta_y` on
``outcome[k,y]`` and 0 elsewhere: a parametric change of several costs at once, which HiGHS's
ranging of one column's cost does not answer.

Everything is asked of the plan LP (:mod:`hwbopt.analyses.plan_lp`: the integer decisions
fixed at the plan's), written as a minimisation: :math:`\\tilde c = \\sigma c` with
:math:`\\sigma` the compiled sense, over :math:`L \\le Ax \\le U`, :math:`l \\le x \\le u`. A
plan :math:`x^*` is optimal for :math:`\\tilde c` exactly when some row multipliers
:math:`\\pi` satisfy, with :math:`\\mu = \\tilde c - A^\\top \\pi`,

- :math:`\\mu_j \\ge 0` if :math:`x^*_j` is at its lower bound only, :math:`\\le 0` at its upper
  bound only, :math:`= 0` between its bounds, anything if fixed;
- :math:`\\pi_i \\ge 0` if row ``i`` is at its lower limit only, :math:`\\le 0` at its upper
  limit only, :math:`= 0` between them, anything for an equation.

Two ranges of :math:`t` are found:

- **the basis's range** (:func:`basis_range`): with the optimal basis :math:`B` held,
  :math:`\\pi(t) = B^{-\\top}(\\tilde c_B + t\\,\\sigma\\Delta c_B)` and so every nonbasic reduced
  cost :math:`d(t) = d + t\\,\\Delta d` (:math:`\\Delta d_N = \\sigma\\Delta c_N - N^\\top
  B^{-\\top}\\sigma\\Delta c_B`) is linear in :math:`t`; the basis stays optimal while each keeps
  its sign, which a ratio test bounds. One sparse LU of :math:`B` serves every priority.
- **the plan's range** (:func:`plan_range`): the values of :math:`t` for which :math:`x^*`
  itself stays optimal, whatever basis represents it. The conditions above are linear in
  :math:`(\\pi, t)`, so that set is an interval (the line :math:`c(t)` meets the cone of costs
  for which :math:`x^*` is optimal), and its ends are two LPs in :math:`(\\pi, t)`: least and
  greatest :math:`t`.

At a degenerate plan (a basic variable at a bound) other bases represent the same plan, so the
basis's range is only an inner bound of the plan's: the plan may stand beyond it, the next
basis taking over with the plan unchanged. What is reported (``valid_from``, ``valid_to``) is
the plan's range (``method`` ``plan``); the basis's is kept beside it (``basis_from``,
``basis_to``), and reported instead only if the plan's LPs fail (``method`` ``basis``). A
weight is never negative, so no range reaches below 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from hwbopt import highs, words
from hwbopt.analyses.plan_lp import PlanLP
from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.model.phrases import num, singular
from hwbopt.status import Status

AT_BOUND = 1e-9  # a plan value within this (relative) of a bound is at it
STEP_TOL = 1e-10  # a reduced cost moving less than this per point of weight does not move

# the sign a multiplier must keep: "free", "ge" (>= 0), "le" (<= 0) or "zero"
FREE, GE, LE, ZERO = 0, 1, 2, 3


@dataclass
class WeightRange:
    """Priority ``priority``'s weight may lie anywhere from ``valid_from`` to ``valid_to``
    (None: no upper end) and the plan stays optimal."""

    priority: str
    name: str
    unit: str  # the priority's outcome unit, one of it: "person"
    weight: float
    valid_from: float
    valid_to: float | None
    basis_from: float | None  # the optimal basis's own range (an inner bound); None: not found
    basis_to: float | None
    method: str  # "plan": the plan's exact range; "basis": the basis's range only
    text: str = ""

    def summary(self) -> dict[str, Any]:
        return {"priority": self.priority, "weight": self.weight,
                "valid_from": self.valid_from, "valid_to": self.valid_to,
                "unit": self.unit, "text": self.text, "method": self.method,
                "basis_from": self.basis_from, "basis_to": self.basis_to}


# ---------------------------------------------------------------------------------------------
# the direction and the plan's sign conditions
# ---------------------------------------------------------------------------------------------


def direction(d: ModelData, comp: Compiled, k: str) -> np.ndarray:
    """:math:`\\Delta c`: how the compiled costs move per point of ``k``'s weight (the year's
    discount on each ``outcome[k,y]`` column; ``objective.md``)."""
    dc = np.zeros(comp.n_cols)
    for (kk, y), j in comp.cols("outcome").items():
        if kk == k:
            dc[j] = d.discount[y]
    return dc


def _signs(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The sign each multiplier of a minimisation must keep for ``value`` to be optimal: free at
    both bounds (fixed, or an equation), >= 0 at the lower only, <= 0 at the upper only, zero
    between them."""
    def near(b: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # value - inf
            at: np.ndarray = np.isfinite(b) & (
                np.abs(value - b) <= AT_BOUND * np.maximum(1.0, np.abs(b)))
        return at

    lo, hi = near(lower), near(upper)
    signs: np.ndarray = np.select([lo & hi, lo, hi], [FREE, GE, LE], ZERO)
    return signs


def plan_signs(plan: PlanLP) -> tuple[np.ndarray, np.ndarray]:
    """The signs of the column reduced costs and the row multipliers, as the plan sets them."""
    comp = plan.comp
    return (_signs(plan.x, comp.col_lower, comp.col_upper),
            _signs(plan.row_activity, comp.row_lower, comp.row_upper))


# ---------------------------------------------------------------------------------------------
# the basis's range: a ratio test on reduced costs linear in t
# ---------------------------------------------------------------------------------------------


@dataclass
class Basis:
    """The optimal basis of the plan LP, factorised once, with its reduced costs."""

    lu: Any  # scipy SuperLU of B = [A_basic columns | I_basic rows]
    cols: np.ndarray  # basic columns
    rows: np.ndarray  # basic rows (their logical columns)
    mu: np.ndarray  # reduced costs of the columns (minimisation form)
    pi: np.ndarray  # row multipliers (minimisation form)


def factor(plan: PlanLP) -> Basis | None:
    """The plan LP's optimal basis, or None if it is not a square non-singular one."""
    comp = plan.comp
    cols, rows = np.flatnonzero(plan.col_basic), np.flatnonzero(plan.row_basic)
    m = comp.n_rows
    if m == 0 or len(cols) + len(rows) != m:
        return None
    # a basic logical has cost 0, so the sign HiGHS gives its column does not change pi
    B = sp.hstack([sp.csc_matrix(comp.A)[:, cols], sp.identity(m, format="csc")[:, rows]],
                  format="csc")
    try:
        lu = splu(B)
    except RuntimeError:  # singular
        return None
    ct = comp.sense * comp.c
    pi = _btran(lu, ct[cols], len(rows))
    return Basis(lu, cols, rows, ct - comp.A.T @ pi, pi)


def _btran(lu: Any, cost_basic: np.ndarray, n_logical: int) -> np.ndarray:
    """:math:`B^{-\\top}` times the basic costs (logicals cost nothing)."""
    rhs = np.concatenate([cost_basic, np.zeros(n_logical)])
    return np.asarray(lu.solve(rhs, trans="T"), dtype=float)


def _ratio(q: np.ndarray, dq: np.ndarray, sign: np.ndarray) -> tuple[float, float]:
    """The t with every ``q + t dq`` keeping ``sign`` (GE, LE or ZERO entries; FREE ones are
    ignored). A value just on the wrong side of zero counts as zero (HiGHS's tolerance)."""
    lo, hi = -math.inf, math.inf
    for s in (GE, LE):
        at = sign == s
        flip = 1.0 if s == GE else -1.0
        a = np.maximum(flip * q[at], 0.0)  # how far each is from changing sign
        b = flip * dq[at]  # and how fast it moves towards it (negative) or away
        down, up = b < -STEP_TOL, b > STEP_TOL
        if down.any():
            hi = min(hi, float(np.min(a[down] / -b[down])))
        if up.any():
            lo = max(lo, float(np.max(-a[up] / b[up])))
    zero = (sign == ZERO) & (np.abs(dq) > STEP_TOL)
    if zero.any():  # a reduced cost that must stay 0 and moves: only t = 0 holds
        lo, hi = max(lo, 0.0), min(hi, 0.0)
    return lo, hi


def basis_range(plan: PlanLP, basis: Basis, dc: np.ndarray,
                signs: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """The change of the weight (t low, t high) over which the optimal basis stays optimal."""
    comp = plan.comp
    sdc = comp.sense * dc
    dpi = _btran(basis.lu, sdc[basis.cols], len(basis.rows))
    dmu = sdc - comp.A.T @ dpi
    col_sign, row_sign = signs
    nonbasic_col = ~plan.col_basic
    nonbasic_row = ~plan.row_basic
    # a nonbasic column or row sits at a bound, so its sign is the plan's there
    c_lo, c_hi = _ratio(basis.mu[nonbasic_col], dmu[nonbasic_col], col_sign[nonbasic_col])
    r_lo, r_hi = _ratio(basis.pi[nonbasic_row], dpi[nonbasic_row], row_sign[nonbasic_row])
    return max(c_lo, r_lo), min(c_hi, r_hi)


# ---------------------------------------------------------------------------------------------
# the plan's range: two LPs over the multipliers that keep the plan optimal
# ---------------------------------------------------------------------------------------------


_BOUNDS = {FREE: (-math.inf, math.inf), GE: (0.0, math.inf), LE: (-math.inf, 0.0),
           ZERO: (0.0, 0.0)}


def cone_lp(plan: PlanLP, signs: tuple[np.ndarray, np.ndarray]) -> Compiled:
    """The LP in (pi, t) whose feasible points are the weight changes t (last column) that keep
    the plan optimal, with the multipliers pi that show it; its one row per plan column reads
    :math:`a_j^\\top \\pi - t\\,\\sigma\\Delta c_j = \\tilde c_j - \\mu_j`, bounded by the sign
    :math:`\\mu_j` must keep. The t column's coefficients are set per priority
    (:func:`plan_range`)."""
    comp = plan.comp
    col_sign, row_sign = signs
    ct = comp.sense * comp.c
    m, n = comp.n_rows, comp.n_cols
    pi_lo = np.array([_BOUNDS[int(s)][0] for s in row_sign], dtype=float)
    pi_hi = np.array([_BOUNDS[int(s)][1] for s in row_sign], dtype=float)
    # mu >= 0 is a^T pi - t sdc <= c~; mu <= 0 is >= c~; mu = 0 both; a fixed column: free
    lo = np.where((col_sign == LE) | (col_sign == ZERO), ct, -math.inf)
    hi = np.where((col_sign == GE) | (col_sign == ZERO), ct, math.inf)
    A = sp.hstack([sp.csc_matrix(comp.A).T, sp.csc_matrix((n, 1))], format="csc")
    return Compiled(
        sense=1, c=np.r_[np.zeros(m), 1.0], offset=0.0, A=sp.csc_array(A),
        row_lower=lo, row_upper=hi,
        col_lower=np.r_[pi_lo, -math.inf], col_upper=np.r_[pi_hi, math.inf],
        integer=np.zeros(m + 1, dtype=bool),
        col_component=["pi"] * m + ["t"], col_index=[comp.row_name(r) for r in range(m)] + [None],
        row_component=["mu"] * n, row_index=[comp.col_name(j) for j in range(n)])


def plan_range(cone: Compiled, sense: int, dc: np.ndarray, weight: float,
               time_limit: float | None = None) -> tuple[float, float] | None:
    """Least and greatest change of the weight that keeps the plan optimal (no lower than
    ``-weight``: a weight is never negative); None if an LP does not settle."""
    m = cone.n_cols - 1
    rows = np.flatnonzero(dc)
    col = sp.csc_array((-sense * dc[rows], (rows, np.zeros(len(rows), dtype=int))),
                       shape=(cone.n_rows, 1))
    A = sp.hstack([cone.A[:, :m], col], format="csc")
    lower = cone.col_lower.copy()
    lower[m] = -weight
    lp = replace(cone, A=sp.csc_array(A), col_lower=lower)
    h = highs.load(lp)
    ends = []
    for objective in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
        h.changeObjectiveSense(objective)
        raw = highs.run(h, time_limit=time_limit)
        if raw.status == Status.UNBOUNDED and objective == highspy.ObjSense.kMaximize:
            ends.append(math.inf)
        elif raw.status == Status.OPTIMAL and raw.x is not None:
            ends.append(float(raw.x[m]))
        else:
            return None
    return ends[0], ends[1]


# ---------------------------------------------------------------------------------------------
# in words, and the analysis
# ---------------------------------------------------------------------------------------------


def not_ranged(objective: str) -> str:
    """Why an explanation under ``objective`` has no weight ranges."""
    if objective == "cost":
        return ("Weights value outcomes only under the outcome objective: under cost no "
                "weight moves the plan.")
    return "Weight ranges are given under the outcome objective only."


def _per(unit: str) -> str:
    return f"points an {unit}" if unit[:1].lower() in "aeiou" else f"points a {unit}"


def figures_apart(values: list[float]) -> list[str]:
    """The values to four significant figures, or more where that is what tells them apart
    (a range of 7.9189 to 8.0253 around 8 must not read '7.919 to 8.025 (now 8)' as equal)."""
    for digits in range(4, 10):
        shown = [num(v, digits) for v in values]
        if all((shown[a] == shown[b]) == (values[a] == values[b])
               for a in range(len(values)) for b in range(a)):
            return shown
    return [num(v) for v in values]


def range_text(name: str, unit: str, weight: float, frm: float, to: float | None) -> str:
    """'Mental health: the plan stands while its weight is between 6.2 and 11 points a person
    (now 8).' An end at the weight itself means another plan ties there."""
    per = _per(unit)
    now, low, high = figures_apart([weight, frm, weight if to is None else to])
    tie_up, tie_down = to is not None and to <= weight, frm >= weight and weight > 0
    if tie_up and tie_down:
        return (f"{name}: the plan stands only at its present weight, {now} {per}: another "
                "plan is as good there, and better at any other weight.")
    if to is None:
        span = (f"at any weight (now {now} {per})" if frm <= 0 else
                f"while its weight is at least {low} {per} (now {now})")
    elif frm <= 0:
        span = f"while its weight is at most {high} {per} (now {now})"
    else:
        span = f"while its weight is between {low} and {high} {per} (now {now})"
    tie = ("; another plan is as good at this weight, and better at any higher one" if tie_up
           else "; another plan is as good at this weight, and better at any lower one"
           if tie_down else "")
    return f"{name}: the plan stands {span}{tie}."


def _snap(end: float, weight: float) -> float:
    """An end within rounding of the weight is the weight (a tie, not a tiny range)."""
    return weight if abs(end - weight) <= 1e-9 * max(1.0, abs(weight)) else end


def weight_ranges(d: ModelData, plan: PlanLP,
                  time_limit: float | None = None) -> list[WeightRange]:
    """The range of each priority's weight over which the plan stays optimal (``outcome``
    objective only: under ``cost`` weights do not enter the objective, and the list is empty).

    ``plan`` is the plan LP as solved (its basic solution, before
    :func:`~hwbopt.analyses.plan_lp.settle_credit` moves savings credits off it).
    """
    if d.objective != "outcome":
        return []
    comp = plan.comp
    signs = plan_signs(plan)
    basis = factor(plan)
    cone = cone_lp(plan, signs)
    lab = words.labels(d.instance)
    out = []
    for k in d.PRIORITIES:
        w = float(d.weight[k])
        dc = direction(d, comp, k)
        b = basis_range(plan, basis, dc, signs) if basis is not None else None
        p = plan_range(cone, comp.sense, dc, w, time_limit) if dc.any() else \
            (-w, math.inf)  # the weight moves no column's cost: any weight keeps the plan
        b_from = max(w + b[0], 0.0) if b is not None else None
        b_to = w + b[1] if b is not None else None
        if p is None and b is None:
            continue  # neither settled: nothing honest to say
        # both are ranges over which the plan is optimal, so their hull is one too
        lo = min(x for x in (w + p[0] if p else None, b_from) if x is not None)
        hi = max(x for x in (w + p[1] if p else None, b_to) if x is not None)
        frm = _snap(max(lo, 0.0), w)
        to = None if math.isinf(hi) else _snap(hi, w)
        unit = _unit(d, k)
        name = lab.priority[k]
        out.append(WeightRange(
            k, name, unit, w, frm, to, b_from,
            None if b_to is None or math.isinf(b_to) else b_to,
            "plan" if p is not None else "basis", range_text(name, unit, w, frm, to)))
    return out


def _unit(d: ModelData, k: str) -> str:
    """One unit of ``k``'s outcome, as its instance names it: 'person'."""
    unit = next(p.unit for p in d.instance.priorities if p.id == k)
    return singular(unit)
