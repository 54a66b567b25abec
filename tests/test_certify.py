"""The LP certificate, compiled (hwbopt.batch.certify), against the numpy code it replaced.

The reference below is that code, copied as it was (its tolerance scales from ``|A|``, which
the engine precomputed and now the kernels read from ``A`` in the same pass): same verdict,
same message, on optimal answers and on answers spoiled every way the certificate must catch.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from hwbopt.batch import certify

REL = certify.REL


def _outside(value, lower, upper, scale):
    tol = REL * np.maximum(1.0, scale)
    return (value < lower - tol) | (value > upper + tol)


def _primal_numpy(p: certify.Problem, x: np.ndarray):
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
    bad = _outside(ax, p.row_lower, p.row_upper, abs(p.A).tocsr() @ size)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        return (f"{int(bad.sum())} row(s) violated (row {r}: {ax[r]:.10g} not in "
                f"[{p.row_lower[r]:.10g}, {p.row_upper[r]:.10g}])"), ax
    return None, ax


def _priced(dual, value, lower, upper, sense, tol):
    signed = sense * dual
    at_lower = signed > tol
    at_upper = signed < -tol
    infeasible = (at_lower & ~np.isfinite(lower)) | (at_upper & ~np.isfinite(upper))
    bound = np.where(at_lower, lower, np.where(at_upper, upper, value))
    return np.where(infeasible, value, bound), infeasible


def _lp_optimal_numpy(p: certify.Problem, x: np.ndarray, row_dual):
    why, ax = _primal_numpy(p, x)
    if why:
        return why
    if row_dual is None or row_dual.shape != p.row_lower.shape \
            or not np.all(np.isfinite(row_dual)):
        return "no valid row duals to certify optimality"
    y = row_dual
    d = p.c - p.A.T.tocsr() @ y
    col_scale = np.maximum(1.0, np.maximum(np.abs(p.c), abs(p.A).T.tocsr() @ np.abs(y)))
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
    primal_value = certify.objective(p, x)
    if abs(gap) > REL * max(1.0, abs(primal_value)):
        worst = int(np.argmax(np.abs(rows))) if len(rows) else -1
        return (f"duality gap {gap:.6g} at objective {primal_value:.10g} (no optimality "
                f"certificate; largest row term {rows[worst] if worst >= 0 else 0:.3g} at row "
                f"{worst})")
    return None


def _case(seed: int) -> tuple[certify.Problem, np.ndarray, np.ndarray]:
    """A random LP (both senses, free and fixed columns, ranged rows), solved by HiGHS."""
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(5, 25)), int(rng.integers(5, 30))
    a = sp.random(m, n, density=0.3, random_state=seed, format="csc") * 4.0 - \
        sp.random(m, n, density=0.1, random_state=seed + 1, format="csc")
    a = sp.csc_array(a)
    col_lower = np.where(rng.uniform(size=n) < 0.1, -np.inf, 0.0)
    col_upper = rng.uniform(1.0, 5.0, n)
    col_upper[rng.uniform(size=n) < 0.1] = np.inf
    fixed = rng.uniform(size=n) < 0.1
    col_lower[fixed] = col_upper[fixed] = 0.5
    row_upper = rng.uniform(1.0, 10.0, m)
    row_lower = np.where(rng.uniform(size=m) < 0.3, -rng.uniform(0.0, 2.0, m), -np.inf)
    sense = int(rng.choice([1, -1]))
    c = rng.normal(size=n) * sense * -1.0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.sense_ = highspy.ObjSense.kMinimize if sense > 0 else highspy.ObjSense.kMaximize
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    h.passModel(lp)
    h.run()
    sol = h.getSolution()
    prob = certify.Problem(A=a, c=c, offset=0.0, sense=sense, col_lower=col_lower,
                           col_upper=col_upper, row_lower=row_lower, row_upper=row_upper,
                           integer=np.zeros(n, dtype=bool))
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return prob, np.zeros(n), np.zeros(m)
    return prob, np.asarray(sol.col_value), np.asarray(sol.row_dual)


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_certificate_gives_the_numpy_verdict(seed: int) -> None:
    prob, x, y = _case(seed)
    rng = np.random.default_rng(1000 + seed)
    n, m = len(x), len(y)
    spoiled = [
        (x, y),  # as solved: optimal (or, where HiGHS found none, zeros)
        (x + np.where(np.arange(n) == rng.integers(n), 3.0, 0.0), y),  # a column out
        (x * 1.5 + 0.5, y),  # rows and columns out
        (x, -y),  # duals of the wrong sign
        (x, y * 1.3),  # a duality gap
        (x, y + np.where(np.arange(m) == rng.integers(m), 0.7, 0.0)),
        (np.where(np.arange(n) == 0, np.nan, x), y),  # not finite
        (x, np.full(m, np.inf)),  # no valid duals
        (x, y[:-1]),  # of the wrong shape
    ]
    for xs, ys in spoiled:
        assert certify.lp_optimal(prob, xs, ys) == _lp_optimal_numpy(prob, xs, ys)
        assert certify.primal(prob, xs) == _primal_numpy(prob, xs)[0]


def test_an_optimal_answer_passes() -> None:
    passed = 0
    for seed in range(40):
        prob, x, y = _case(seed)
        if np.any(x):
            passed += certify.lp_optimal(prob, x, y) is None
    assert passed >= 20
