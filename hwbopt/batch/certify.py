"""An optimality certificate for one scenario's solution, from the scenario's own numbers.

HiGHS has open reports of warm-started solves that return a wrong objective after bound
changes, and of a wrong "optimal" from a supplied basis. So before a scenario's result is
written, the solution is checked here against the arrays the engine holds for that scenario
(never against HiGHS's own copy), with plain sparse algebra:

- **primal**: every row activity ``A x`` (recomputed) and every column within its bounds, and
  integer columns integral;
- **dual** (LP): with ``d = c − Aᵀy`` recomputed from the row duals HiGHS returns, every row
  and column dual has the sign its active bound allows (a dual on a side with no finite bound
  is infeasible), so the dual objective is a valid bound;
- **strong duality** (LP): primal and dual objectives agree, which with the two above proves
  optimality and, through complementary slackness, that each dual belongs to a binding rule;
- **objective** (MIP): the objective recomputed from ``x`` equals the one HiGHS reported, and
  lies within the asked gap of HiGHS's bound.

Tolerances are relative (``REL``) to each row's or column's own magnitude. Everything is
vectorised: two sparse products per scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

REL = 1e-6
MIP_ABS_GAP = 1e-6  # HiGHS's mip_abs_gap: a plan this close to its bound is optimal


@dataclass(frozen=True)
class Problem:
    """One scenario's LP or MIP as the engine holds it: ``sense · (c x + offset)`` optimised."""

    A: sp.csc_array
    c: np.ndarray
    offset: float
    sense: int  # +1 minimise, -1 maximise
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    integer: np.ndarray  # bool per column, for integrality
    A_abs: sp.csr_array | None = None  # |A| for tolerance scales (the base model's will do)
    AT: sp.csr_array | None = None  # Aᵀ sharing A's values, to save a transpose per call
    A_abs_T: sp.csr_array | None = None

    def magnitude(self) -> sp.csr_array:
        return abs(self.A).tocsr() if self.A_abs is None else self.A_abs

    def transposed(self) -> sp.csr_array:
        return self.A.T.tocsr() if self.AT is None else self.AT

    def magnitude_transposed(self) -> sp.csr_array:
        return self.magnitude().T.tocsr() if self.A_abs_T is None else self.A_abs_T


def _outside(value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
             scale: np.ndarray) -> np.ndarray:
    """Where ``value`` leaves ``[lower, upper]`` by more than ``REL`` of ``scale`` (a value near
    a bound is as large as the bound, so the value's own magnitude serves as the scale)."""
    tol = REL * np.maximum(1.0, scale)
    out: np.ndarray = (value < lower - tol) | (value > upper + tol)
    return out


def primal(p: Problem, x: np.ndarray) -> str | None:
    """Why ``x`` breaks a row, a bound or integrality; None when it obeys them all."""
    return _primal(p, x)[0]


def _primal(p: Problem, x: np.ndarray) -> tuple[str | None, np.ndarray]:
    """:func:`primal`, and the row activities ``A x`` it recomputed."""
    ax = np.empty(0)
    if x.shape != p.c.shape or not np.all(np.isfinite(x)):
        return "the solution has missing or non-finite values", ax
    size = np.abs(x)
    bad = _outside(x, p.col_lower, p.col_upper, size)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        return (f"{int(bad.sum())} column(s) outside their bounds (column {j}: {x[j]:.10g} "
                f"not in [{p.col_lower[j]:.10g}, {p.col_upper[j]:.10g}])"), ax
    ax = p.A @ x
    # a row's magnitude is the size of its terms, so cancellation among them is allowed for
    bad = _outside(ax, p.row_lower, p.row_upper, p.magnitude() @ size)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        return (f"{int(bad.sum())} row(s) violated (row {r}: {ax[r]:.10g} not in "
                f"[{p.row_lower[r]:.10g}, {p.row_upper[r]:.10g}])"), ax
    if p.integer.any():
        xi = x[p.integer]
        off = np.abs(xi - np.round(xi)) > REL * np.maximum(1.0, np.abs(xi))
        if off.any():
            return f"{int(off.sum())} integer decision(s) not integral", ax
    return None, ax


def objective(p: Problem, x: np.ndarray) -> float:
    return float(p.c @ x + p.offset)


def _priced(dual: np.ndarray, value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
            sense: int, tol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bound each dual prices (lower or upper, by its sign in a minimisation; a dual within
    tolerance of zero prices the value itself) and which duals are infeasible (priced against
    a side without a finite bound)."""
    signed = sense * dual
    at_lower = signed > tol
    at_upper = signed < -tol
    infeasible = (at_lower & ~np.isfinite(lower)) | (at_upper & ~np.isfinite(upper))
    bound = np.where(at_lower, lower, np.where(at_upper, upper, value))
    return np.where(infeasible, value, bound), infeasible


def lp_optimal(p: Problem, x: np.ndarray, row_dual: np.ndarray | None) -> str | None:
    """Why ``x`` with ``row_dual`` is not a proven LP optimum; None when it is.

    HiGHS's sign convention: ``d = c − Aᵀy``; in a minimisation a positive dual prices a
    lower bound and a negative one an upper bound (the reverse when maximising). With ``d``
    recomputed, ``c x − (Σ y b + Σ d l) = Σ y (A x − b) + Σ d (x − l)`` for the priced bounds
    ``b`` and ``l``: the duality gap is the sum of the complementarity products, each of which
    must vanish.
    """
    why, ax = _primal(p, x)
    if why:
        return why
    if row_dual is None or row_dual.shape != p.row_lower.shape \
            or not np.all(np.isfinite(row_dual)):
        return "no valid row duals to certify optimality"
    y = row_dual
    d = p.c - p.transposed() @ y
    col_scale = np.maximum(1.0, np.maximum(np.abs(p.c), p.magnitude_transposed() @ np.abs(y)))
    col_bound, col_bad = _priced(d, x, p.col_lower, p.col_upper, p.sense, REL * col_scale)
    row_bound, row_bad = _priced(y, ax, p.row_lower, p.row_upper, p.sense,
                                 REL * np.maximum(1.0, np.abs(y).max(initial=0.0)))
    if col_bad.any():
        j = int(np.flatnonzero(col_bad)[0])
        return f"{int(col_bad.sum())} reduced cost(s) of the wrong sign (column {j}: {d[j]:.6g})"
    if row_bad.any():
        r = int(np.flatnonzero(row_bad)[0])
        return f"{int(row_bad.sum())} row dual(s) of the wrong sign (row {r}: {y[r]:.6g})"
    rows = y * (ax - row_bound)
    cols = d * (x - col_bound)
    gap = float(rows.sum() + cols.sum())
    primal_value = objective(p, x)
    if abs(gap) > REL * max(1.0, abs(primal_value)):
        worst = int(np.argmax(np.abs(rows))) if len(rows) else -1
        return (f"duality gap {gap:.6g} at objective {primal_value:.10g} (no optimality "
                f"certificate; largest row term {rows[worst] if worst >= 0 else 0:.3g} at row "
                f"{worst})")
    return None


def mip_optimal(p: Problem, x: np.ndarray, reported: float, bound: float | None,
                gap: float, constant: float) -> str | None:
    """Why a MIP solution is not a proven optimum within ``gap``; None when it is.

    The objective is recomputed from ``x`` and must equal HiGHS's; HiGHS's bound must lie
    within ``gap`` of it, relative to the part of the objective the decisions move
    (``objective − constant``, as HiGHS was asked), or within HiGHS's absolute gap (1e-6).
    """
    why = primal(p, x)
    if why:
        return why
    value = objective(p, x)
    if abs(value - reported) > REL * max(1.0, abs(value)):
        return f"objective reported {reported:.10g}, recomputed from the plan {value:.10g}"
    if bound is None or not np.isfinite(bound):
        return "no proven bound"
    movable = abs(value - constant)
    open_gap = p.sense * (value - bound)  # how far the bound could still improve on the plan
    if open_gap > max(gap * movable, MIP_ABS_GAP) + REL * max(1.0, movable):
        return (f"objective {value:.10g} is {open_gap:.6g} from the bound {bound:.10g}, more "
                f"than the asked gap {gap:g}")
    return None
