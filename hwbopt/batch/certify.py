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

Tolerances are relative (``REL``) to each row's or column's own magnitude. The LP certificate
runs compiled (numba), each check one pass over ``A`` by columns: a walked scenario of the
stress engine takes about a tenth of a millisecond to solve, and the certificate must stay a
small part of that (``benchmarks/stress_bench.py``, ``certification``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

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

    def by_columns(self) -> tuple[np.ndarray, ...]:
        """``A`` by columns (pointers, rows, values), as the kernels read it."""
        a = self.A if self.A.format == "csc" else sp.csc_array(self.A)
        return (a.indptr, a.indices, a.data)


def primal(p: Problem, x: np.ndarray) -> str | None:
    """Why ``x`` breaks a row, a bound or integrality; None when it obeys them all."""
    return _primal(p, x)[0]


def _primal(p: Problem, x: np.ndarray) -> tuple[str | None, np.ndarray]:
    """:func:`primal`, and the row activities ``A x`` it recomputed."""
    ax = np.empty(0)
    if x.shape != p.c.shape or not np.all(np.isfinite(x)):
        return "the solution has missing or non-finite values", ax
    args = (*p.by_columns(), x, p.col_lower, p.col_upper, p.row_lower, p.row_upper, REL)
    code, first, count, ax = _primal_rows(*args)
    if code == _COLUMNS:
        j = int(first)
        return (f"{int(count)} column(s) outside their bounds (column {j}: {x[j]:.10g} "
                f"not in [{p.col_lower[j]:.10g}, {p.col_upper[j]:.10g}])"), np.empty(0)
    if code == _ROWS:
        r = int(first)
        return (f"{int(count)} row(s) violated (row {r}: {ax[r]:.10g} not in "
                f"[{p.row_lower[r]:.10g}, {p.row_upper[r]:.10g}])"), np.empty(0)
    if p.integer.any():
        xi = x[p.integer]
        off = np.abs(xi - np.round(xi)) > REL * np.maximum(1.0, np.abs(xi))
        if off.any():
            return f"{int(off.sum())} integer decision(s) not integral", ax
    return None, ax


_FINE, _COLUMNS, _ROWS, _COSTS, _DUALS, _GAP, _NONFINITE, _INTEGRAL, _NO_DUALS = range(9)


@njit(cache=True)
def _outside(value, lower, upper, scale, rel):  # type: ignore[no-untyped-def]
    """Whether ``value`` leaves ``[lower, upper]`` by more than ``rel`` of ``scale`` (a value
    near a bound is as large as the bound, so the value's own magnitude serves as the
    scale)."""
    tol = rel * max(1.0, scale)
    return value < lower - tol or value > upper + tol


@njit(cache=True)
def _primal_rows(a_ptr, a_idx, a_val, x, col_lower, col_upper, row_lower, row_upper,  # type: ignore[no-untyped-def]
                 rel):
    """Every column within its bounds, then every row activity ``A x`` (recomputed, its
    tolerance scaled by ``|A| |x|``, the size of its terms, so cancellation among them is
    allowed for): (code, first offender, how many, ``A x``)."""
    n, m = x.shape[0], row_lower.shape[0]
    first, count = -1, 0
    for j in range(n):
        if _outside(x[j], col_lower[j], col_upper[j], abs(x[j]), rel):
            if first < 0:
                first = j
            count += 1
    ax = np.zeros(m)
    if count:
        return _COLUMNS, first, count, ax
    size = np.zeros(m)
    for j in range(n):
        v, w = x[j], abs(x[j])
        for k in range(a_ptr[j], a_ptr[j + 1]):
            i = a_idx[k]
            ax[i] += a_val[k] * v
            size[i] += abs(a_val[k]) * w
    for i in range(m):
        if _outside(ax[i], row_lower[i], row_upper[i], size[i], rel):
            if first < 0:
                first = i
            count += 1
    return (_ROWS if count else _FINE), first, count, ax


@njit(cache=True)
def _priced_bound(dual, value, lower, upper, sense, tol):  # type: ignore[no-untyped-def]
    """The bound a dual prices (lower or upper, by its sign in a minimisation; a dual within
    tolerance of zero prices the value itself), and whether the dual is infeasible (priced
    against a side without a finite bound: the value itself then)."""
    signed = sense * dual
    if signed > tol:
        return (lower, False) if np.isfinite(lower) else (value, True)
    if signed < -tol:
        return (upper, False) if np.isfinite(upper) else (value, True)
    return value, False


def objective(p: Problem, x: np.ndarray) -> float:
    return float(p.c @ x + p.offset)


def lp_optimal(p: Problem, x: np.ndarray, row_dual: np.ndarray | None) -> str | None:
    """Why ``x`` with ``row_dual`` is not a proven LP optimum; None when it is.

    HiGHS's sign convention: ``d = c − Aᵀy``; in a minimisation a positive dual prices a
    lower bound and a negative one an upper bound (the reverse when maximising). With ``d``
    recomputed, ``c x − (Σ y b + Σ d l) = Σ y (A x − b) + Σ d (x − l)`` for the priced bounds
    ``b`` and ``l``: the duality gap is the sum of the complementarity products, each of which
    must vanish. The primal checks (:func:`primal`'s, in its order and words) and the dual
    ones share one compiled pass over ``A`` (:func:`_lp_verdict`).
    """
    if x.shape != p.c.shape:
        return "the solution has missing or non-finite values"
    shaped = row_dual is not None and row_dual.shape == p.row_lower.shape
    y = row_dual if shaped else np.zeros(p.row_lower.shape)
    args = (*p.by_columns(), p.c, x, y, p.col_lower, p.col_upper, p.row_lower, p.row_upper,
            p.integer, p.sense, REL)
    code, first, count, value, gap, worst, term = _lp_verdict(*args)
    if code == _NONFINITE:
        return "the solution has missing or non-finite values"
    if code == _COLUMNS:
        j = int(first)
        return (f"{int(count)} column(s) outside their bounds (column {j}: {x[j]:.10g} "
                f"not in [{p.col_lower[j]:.10g}, {p.col_upper[j]:.10g}])")
    if code == _ROWS:
        r = int(first)
        return (f"{int(count)} row(s) violated (row {r}: {value:.10g} not in "
                f"[{p.row_lower[r]:.10g}, {p.row_upper[r]:.10g}])")
    if code == _INTEGRAL:
        return f"{int(count)} integer decision(s) not integral"
    if not shaped or code == _NO_DUALS:
        return "no valid row duals to certify optimality"
    if code == _COSTS:
        return f"{int(count)} reduced cost(s) of the wrong sign (column {int(first)}: {value:.6g})"
    if code == _DUALS:
        return f"{int(count)} row dual(s) of the wrong sign (row {int(first)}: {value:.6g})"
    primal_value = objective(p, x)
    if abs(gap) > REL * max(1.0, abs(primal_value)):
        return (f"duality gap {gap:.6g} at objective {primal_value:.10g} (no optimality "
                f"certificate; largest row term {term if worst >= 0 else 0:.3g} at row "
                f"{int(worst)})")
    return None


@njit(cache=True)
def _lp_verdict(a_ptr, a_idx, a_val, c, x, y, col_lower, col_upper, row_lower,  # type: ignore[no-untyped-def]
                row_upper, integer, sense, rel):
    """Every check of an LP answer in one pass over ``A`` by columns: the primal ones of
    :func:`_primal` (finite values, columns, rows with ``A x`` recomputed and its tolerance
    scaled by ``|A| |x|``, integrality) in that order, then the duals (finite; with
    ``d = c − Aᵀy``, every reduced cost and row dual of the sign its bound allows) and the
    duality gap (the sum of the complementarity products at the priced bounds). Returns
    (code, first offender, how many, its value (a row's ``A x`` for :data:`_ROWS`), the
    gap, the row of the largest row term and that term)."""
    n, m = x.shape[0], y.shape[0]
    ax = np.zeros(m)
    size = np.zeros(m)
    finite = True
    bad_first, bad_count = -1, 0  # columns outside their bounds
    col_first, col_count, cols = -1, 0, 0.0  # reduced costs of the wrong sign
    cost_value = 0.0
    for j in range(n):
        v, w = x[j], abs(x[j])
        if not np.isfinite(v):
            finite = False
        if _outside(v, col_lower[j], col_upper[j], w, rel):
            if bad_first < 0:
                bad_first = j
            bad_count += 1
        dot, scale = 0.0, 0.0
        for k in range(a_ptr[j], a_ptr[j + 1]):
            i = a_idx[k]
            a = a_val[k]
            ax[i] += a * v
            size[i] += abs(a) * w
            yi = y[i]
            dot += a * yi
            scale += abs(a) * abs(yi)
        dj = c[j] - dot
        tol = rel * max(1.0, max(abs(c[j]), scale))
        bound, bad = _priced_bound(dj, v, col_lower[j], col_upper[j], sense, tol)
        if bad:
            if col_first < 0:
                col_first = j
                cost_value = dj
            col_count += 1
        cols += dj * (v - bound)
    if not finite:
        return _NONFINITE, -1, 0, 0.0, 0.0, -1, 0.0
    if bad_count:
        return _COLUMNS, bad_first, bad_count, 0.0, 0.0, -1, 0.0
    row_bad, row_bad_count = -1, 0
    for i in range(m):
        if _outside(ax[i], row_lower[i], row_upper[i], size[i], rel):
            if row_bad < 0:
                row_bad = i
            row_bad_count += 1
    if row_bad_count:
        return _ROWS, row_bad, row_bad_count, ax[row_bad], 0.0, -1, 0.0
    off = 0
    for j in range(n):
        if integer[j] and abs(x[j] - np.rint(x[j])) > rel * max(1.0, abs(x[j])):
            off += 1
    if off:
        return _INTEGRAL, -1, off, 0.0, 0.0, -1, 0.0
    largest = 0.0
    for i in range(m):
        if not np.isfinite(y[i]):
            return _NO_DUALS, i, 1, 0.0, 0.0, -1, 0.0
        largest = max(largest, abs(y[i]))
    tol = rel * max(1.0, largest)
    row_first, row_count, rows = -1, 0, 0.0
    worst, worst_term = -1, 0.0
    for i in range(m):
        bound, bad = _priced_bound(y[i], ax[i], row_lower[i], row_upper[i], sense, tol)
        if bad:
            if row_first < 0:
                row_first = i
            row_count += 1
        term = y[i] * (ax[i] - bound)
        rows += term
        if worst < 0 or abs(term) > abs(worst_term):
            worst, worst_term = i, term
    if col_count:
        return _COSTS, col_first, col_count, cost_value, 0.0, -1, 0.0
    if row_count:
        return _DUALS, row_first, row_count, y[row_first], 0.0, -1, 0.0
    return _GAP, -1, 0, 0.0, rows + cols, worst, worst_term


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
