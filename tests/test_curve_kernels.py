"""The curve's compiled kernels (``hwbopt.simplex.kernels``) against routes that share
no code with them: dense solves with numpy's LAPACK for the basis solves and the product-form
updates, and the numpy ratio test the kernel replaced for the primal ratio test."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from hwbopt.simplex import factor
from hwbopt.simplex import kernels as K


def _basis(rng: np.random.Generator, m: int, per_column: float = 4.0) -> sp.csc_array:
    """A sparse, well-conditioned square matrix with some unit (slack-like) columns."""
    a = sp.random(m, m, density=per_column / m, random_state=rng, format="csc")
    a = a + sp.diags(rng.uniform(2.0, 5.0, m) * rng.choice([-1.0, 1.0], m))
    a = a.tolil()
    for j in rng.choice(m, m // 3, replace=False):  # slack columns: −e_i
        a[:, j] = 0.0
        a[j, j] = -1.0
    return sp.csc_array(a.tocsc())


def _factors(b: sp.csc_array) -> tuple[np.ndarray, ...]:
    lu = spla.splu(b, permc_spec="COLAMD", diag_pivot_thresh=0.1)
    low, upp = lu.L, lu.U
    out: tuple[np.ndarray, ...] = K.factors(low.indptr, low.indices, low.data, upp.indptr,
                                            upp.indices, upp.data, lu.perm_r, lu.perm_c)
    return out


def _etas(m: int, cap: int, slots: int = 16) -> tuple[np.ndarray, ...]:
    return (np.zeros(slots, dtype=np.int64), np.zeros(slots), np.zeros(slots + 1, dtype=np.int64),
            np.zeros(cap, dtype=np.int64), np.zeros(cap), np.zeros(2, dtype=np.int64))


def _add_eta(etas: tuple[np.ndarray, ...], r: int, alpha: np.ndarray) -> None:
    """The eta of replacing position ``r`` by a column whose ``B⁻¹ a`` is ``alpha``, as
    :func:`kernels.pivot` writes it."""
    e_r, e_piv, e_ptr, e_idx, e_val, e_n = etas
    k, q = int(e_n[0]), int(e_n[1])
    nz = [i for i in np.flatnonzero(alpha) if i != r]
    e_idx[q:q + len(nz)] = nz
    e_val[q:q + len(nz)] = alpha[nz]
    e_r[k], e_piv[k], e_ptr[k + 1] = r, alpha[r], q + len(nz)
    e_n[:] = (k + 1, q + len(nz))


@pytest.mark.parametrize("seed", range(6))
def test_solves_with_the_factors_and_the_etas_are_dense_solves_of_the_current_basis(
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(5, 80))
    b0 = _basis(rng, m)
    lu = _factors(b0)
    etas = _etas(m, 16 * m)
    work, tmp, out = np.zeros(m), np.zeros(m), np.zeros(m)
    dense = b0.toarray()
    for step in range(8):  # replace a column of the basis each step, as pivots do
        if step:
            r = int(rng.integers(m))
            col = np.zeros(m)
            col[rng.choice(m, 3, replace=False)] = rng.normal(size=3)
            col[r] += 3.0
            K.ftran(lu, etas, col, out, work)
            assert out == pytest.approx(np.linalg.solve(dense, col), rel=1e-9, abs=1e-12)
            _add_eta(etas, r, out.copy())
            dense[:, r] = col
        for _ in range(3):
            rhs = rng.normal(size=m) * (rng.uniform(size=m) < 0.3)
            K.ftran(lu, etas, rhs, out, work)
            assert out == pytest.approx(np.linalg.solve(dense, rhs), rel=1e-9, abs=1e-12)
            K.btran(lu, etas, rhs, out, work, tmp)
            assert out == pytest.approx(np.linalg.solve(dense.T, rhs), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_the_sparse_solve_is_the_dense_one_bit_for_bit(seed: int) -> None:
    """An entering column's solve visits only the positions that become not 0
    (``_ftran_sparse``) but does the dense solve's operations in its order: the same numbers
    and the same nonzeros, from a right-hand side of one entry to one that meets more than
    ``HYPER`` of the rows (then dense from there on); its marks are left at 0."""
    rng = np.random.default_rng(100 + seed)
    m = int(rng.integers(20, 400))
    b0 = _basis(rng, m, 1.0 + seed % 3)
    found = factor.lu(b0)
    assert found is not None
    lu = _factors(b0) if seed % 2 else found.kernel  # SuperLU's and the peeled
    etas = _etas(m, 16 * m)
    for _ in range(int(rng.integers(0, 6))):  # an eta file, as pivots leave it
        col = np.zeros(m)
        r = int(rng.integers(m))
        col[rng.choice(m, 2, replace=False)] = rng.normal(size=2)
        col[r] += 3.0
        out = np.zeros(m)
        K.ftran(lu, etas, col, out, np.zeros(m))
        _add_eta(etas, r, out)
    heap, done, mark = (np.zeros(m, dtype=np.int64) for _ in range(3))
    for k in (1, 1, 2, 3, 5, m // 3, m):
        idx = np.sort(rng.choice(m, min(k, m), replace=False)).astype(np.int64)
        val = rng.normal(size=len(idx))
        val[rng.uniform(size=len(idx)) < 0.1] = 1e-16  # below TINY: dropped alike
        dense = np.zeros(m)
        dense[idx] = val
        want, want_nz = np.full(m, np.nan), np.zeros(m, dtype=np.int64)
        count = K._ftran_nz(lu, etas, dense, want, np.zeros(m), want_nz)
        got, got_nz = np.full(m, np.nan), np.zeros(m, dtype=np.int64)
        n = K._ftran_sparse(lu, etas, idx, val, got, np.full(m, np.nan), got_nz, heap, done,
                            mark)
        assert not mark.any()
        assert n == count and np.array_equal(got_nz[:n], want_nz[:count])
        assert np.array_equal(got.view(np.int64), want.view(np.int64))  # bit for bit, the
        # signs of zeros included


@pytest.mark.parametrize("forward", [True, False])
def test_a_sparse_triangular_solve_that_goes_dense_midway_is_still_the_dense_one(
        forward: bool) -> None:
    """``_sparse_triangular`` with every limit: all sparse (the positions left not 0, in the
    pass's order), dense from the start, or dense from midway: the dense pass's numbers."""
    rng = np.random.default_rng(7)
    m = 60
    low = sp.random(m, m, density=2.0 / m, random_state=rng, format="csc")
    low = sp.tril(low, -1) if forward else sp.triu(low, 1)
    t = sp.csc_array(low)
    ptr, idx, val = t.indptr.astype(np.int64), t.indices.astype(np.int64), t.data
    diag = rng.uniform(1.0, 2.0, m)
    seeds = rng.choice(m, 3, replace=False)
    start = np.zeros(m)
    start[seeds] = rng.normal(size=3)
    want = start.copy()
    K._triangular(ptr, idx, val, diag, want, forward, K.TINY)
    outcomes = set()
    for limit in (m, 1, 5, 10, 20):
        work = start.copy()
        heap, done, mark = (np.zeros(m, dtype=np.int64) for _ in range(3))
        size = 0
        for p in seeds:
            mark[p] = 1
            size = K._push(heap, size, p if forward else m - 1 - p)
        count = K._sparse_triangular(ptr, idx, val, diag, work, forward, K.TINY, heap, size,
                                     mark, done, limit)
        assert np.array_equal(work.view(np.int64), want.view(np.int64)) and not mark.any()
        if count >= 0:
            order = np.sort(np.flatnonzero(want))
            assert np.array_equal(done[:count], order if forward else order[::-1])
        outcomes.add(count >= 0)
    assert outcomes == {True, False}


def test_a_value_below_tiny_is_dropped_and_nothing_larger() -> None:
    b0 = sp.csc_array(np.diag([1.0, 2.0, 4.0]))
    lu = _factors(b0)
    etas = _etas(3, 30)
    out, work = np.zeros(3), np.zeros(3)
    K.ftran(lu, etas, np.array([1e-15, 1e-13, 2.0]), out, work)
    assert out.tolist() == [0.0, 5e-14, 0.5]


def _exits_numpy(z: np.ndarray, lower: np.ndarray, upper: np.ndarray, check_lower: np.ndarray,
                 check_upper: np.ndarray, noise_rate: float, feasible: float,
                 room: float) -> tuple[int, float, int, int]:
    """The primal ratio test as numpy ran it before the kernel (``Pivoter._exits``)."""
    z0, z1 = z[0], z[1]
    gl, gu = z1 - lower[1], upper[1] - z1
    cl = np.nonzero(check_lower & (gl < 0))[0]
    cu = np.nonzero(check_upper & (gu < 0))[0]
    g0 = np.concatenate([z0[cl] - lower[0][cl], upper[0][cu] - z0[cu]])
    g1 = np.concatenate([gl[cl], gu[cu]])
    scale = 1.0 + np.abs(np.concatenate([lower[0][cl], upper[0][cu]])) + np.abs(g0)
    out = g1 < -noise_rate * scale
    allow = feasible * scale
    if np.any(out & (g0 < -allow)):
        return -1, 0.0, -1, 0
    at = out & (g0 <= allow)

    def which(k: int) -> tuple[int, int]:
        return (int(cl[k]), -1) if k < len(cl) else (int(cu[k - len(cl)]), 1)

    if at.any():
        k = int(np.argmax(np.where(at, -g1 / scale, -np.inf)))
        return (1, 0.0, *which(k))
    s = np.where(out, g0 / np.where(out, -g1, 1.0), np.inf)
    k = int(np.argmin(s)) if len(s) else -1
    if k < 0 or s[k] >= room:
        return 0, room, -1, 0
    return (0, float(s[k]), *which(k))


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_primal_ratio_test_is_the_numpy_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nm = int(rng.integers(1, 60))
    lower = np.vstack([rng.uniform(-5, 0, nm), rng.normal(size=nm) * (rng.uniform(size=nm) < .3)])
    upper = np.vstack([rng.uniform(0, 5, nm), rng.normal(size=nm) * (rng.uniform(size=nm) < .3)])
    z = np.vstack([rng.uniform(lower[0], upper[0]), rng.normal(size=nm)])
    on = rng.uniform(size=nm)
    z[0] = np.where(on < 0.15, lower[0], np.where(on < 0.3, upper[0], z[0]))  # at a bound
    z[1, rng.uniform(size=nm) < 0.2] = 0.0
    if seed % 5 == 0:  # ties: equal rates at equal distances
        z[0, :] = lower[0] + 1.0
        z[1, :] = lower[1] - 2.0
    if seed % 7 == 0:  # one value already outside
        z[0, 0] = lower[0, 0] - 1.0
        z[1, 0] = lower[1, 0] - 1.0
    check_lower = rng.uniform(size=nm) < 0.7
    check_upper = rng.uniform(size=nm) < 0.7
    args = (z, lower, upper, check_lower, check_upper, 1e-9, 1e-8, float(rng.uniform(0.1, 9)))
    want = _exits_numpy(*args)
    # the kernel reads the basic values in the basis's order, which is not the index order
    basic = rng.permutation(np.flatnonzero(check_lower | check_upper))
    every = np.arange(len(basic))
    code, s, var, side = K.exits(*args, basic, every, len(every))
    assert (int(code), int(var), int(side)) == want[:1] + want[2:]
    assert float(s) == want[1]
    # the walk reads only the positions whose value or bounds move, in any order, with or
    # without others among them: the same answer
    moving = ((z[1] != 0) | (lower[1] != 0) | (upper[1] != 0))[basic]
    for listed in (moving, moving | (rng.uniform(size=len(basic)) < 0.3)):
        rows = rng.permutation(every[listed])
        assert tuple(K.exits(*args, basic, rows, len(rows))) == (code, s, var, side)


@pytest.mark.parametrize("degree", [1, 2, 4])
def test_two_pieces_are_one_function_where_numpy_says_so(degree: int) -> None:
    """The compiled comparison behind ``Piece.same_rates`` against numpy's, each piece's
    plan from ``Piece.x``."""
    from hwbopt.analyses.curve import Piece

    rng = np.random.default_rng(11 + degree)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        # dense rates, some columns not moving (a piece keeps the moving ones only)
        dxa = rng.normal(size=(degree, n)) * (rng.uniform(size=n) < 0.6)
        a = Piece(0.1, 0.3, 0.1, rng.normal(size=n), dxa.copy(), np.zeros(0))
        assert np.array_equal(a.cols, np.flatnonzero(np.any(dxa != 0, axis=0)))
        # the same function written from another point (for a straight one), or another
        x0b = a.x(0.3) if degree == 1 else a.x0.copy()
        dxb = dxa.copy()
        if rng.uniform() < 0.5 or degree > 1:
            dxb[int(rng.integers(degree)), int(rng.integers(n))] += float(
                rng.choice([0.0, 1e-12, 1e-6, 1.0]))
        b = Piece(0.3, 0.5, 0.3 if degree == 1 else 0.1, x0b, dxb.copy(), np.zeros(0))
        ts = np.array([0.3, 0.3 + float(rng.uniform(0.001, 1.0))])
        # the reference: numpy over the dense rates
        xa = np.array([a.x0 + sum(dxa[k] * (t - a.t0) ** (k + 1) for k in range(degree))
                       for t in ts])
        xb = np.array([b.x0 + sum(dxb[k] * (t - b.t0) ** (k + 1) for k in range(degree))
                       for t in ts])
        assert np.allclose([a.x(t) for t in ts], xa, rtol=1e-14, atol=1e-14)
        want = bool(np.all(np.abs(xa - xb) <= 1e-9 * (1.0 + np.abs(xb))))
        assert K.same_lines(a.x0, a.cols, a.dx, a.t0, b.x0, b.cols, b.dx, b.t0, ts,
                            1e-9) is want
        assert a.same_rates(b, 0.3) is want


def _exits_curved_numpy(z: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                        check_lower: np.ndarray, check_upper: np.ndarray, noise: float,
                        feasible: float, smax: float, width: float
                        ) -> tuple[int, float, int, int, int, int]:
    """The curved ratio test as numpy ran it before the kernel (``Pivoter._exits_curved``),
    each polynomial's least exit from its roots by ``np.roots`` (the companion matrix's
    eigenvalues), a polynomial at a time."""

    deg = z.shape[0] - 1
    best, leaving, reach = smax, (-1, 0), (-1, 0)
    lead_best = 0.0
    powers = np.array([width ** (k + 1) for k in range(deg)])[:, None]
    for side, check, bound in ((-1, check_lower, lower), (1, check_upper, upper)):
        g = (z[1:] - bound[1:]) if side < 0 else (bound[1:] - z[1:])
        cand = np.flatnonzero(check & np.any(g != 0, axis=0))
        if not len(cand):
            continue
        g0 = (z[0, cand] - bound[0, cand]) * -side
        gc = g[:, cand]
        scale = 1.0 + np.abs(bound[0, cand]) + np.abs(g0)
        gc = np.where(np.abs(gc) <= noise * scale / powers, 0.0, gc)
        allow = feasible * scale
        if np.any(g0 < -allow):
            return -1, 0.0, -1, 0, -1, 0
        lead = np.array([next((v for v in col if v != 0), 0.0) for col in gc.T])
        at = (g0 <= allow) & (lead < 0)
        if at.any():
            k = int(np.argmax(np.where(at, -lead / scale, -np.inf)))
            if -lead[k] / scale[k] > lead_best:
                lead_best, leaving = float(-lead[k] / scale[k]), (int(cand[k]), side)
            continue
        room = np.where(g0 > allow, g0, 0.0)
        exits = np.array([_by_roots(c, best, 1e-14 * width)
                          for c in np.vstack([room, gc]).T])
        k = int(np.argmin(exits))
        if exits[k] < best:
            best, reach = float(exits[k]), (int(cand[k]), side)
    if leaving[0] >= 0:
        return 1, 0.0, leaving[0], leaving[1], reach[0], reach[1]
    return 0, best, -1, 0, reach[0], reach[1]


def _by_roots(c: np.ndarray, smax: float, tiny: float) -> float:
    """The least root of ``Σ c[i] sⁱ`` in (``tiny``, ``smax``) after which it is negative, by
    ``np.roots``; ``smax`` if none."""
    c = np.trim_zeros(c, "b")
    if len(c) < 2:
        return smax
    for r in np.sort([z.real for z in np.roots(c[::-1]) if abs(z.imag) <= 1e-12 * max(1, smax)]):
        if tiny < r < smax and np.polyval(c[::-1], r + max(1e-9 * abs(r), tiny)) < 0:
            return float(r)
    return smax


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_curved_ratio_test_is_the_numpy_one(seed: int) -> None:
    """Same verdict, same value and side; the reach to 1e-12 (roots by isolation and Newton's
    steps here, from eigenvalues there)."""
    rng = np.random.default_rng(100 + seed)
    nm, deg = int(rng.integers(1, 50)), int(rng.integers(2, 6))
    width = float(rng.uniform(0.05, 2.0))
    lower = np.vstack([rng.uniform(-5, 0, nm)] + [
        rng.normal(size=nm) * (rng.uniform(size=nm) < .3) * 10.0 ** -k for k in range(deg)])
    upper = np.vstack([rng.uniform(0, 5, nm)] + [
        rng.normal(size=nm) * (rng.uniform(size=nm) < .3) * 10.0 ** -k for k in range(deg)])
    z = np.vstack([rng.uniform(lower[0], upper[0])]
                  + [rng.normal(size=nm) * 3.0 * 10.0 ** -k for k in range(deg)])
    on = rng.uniform(size=nm)
    z[0] = np.where(on < 0.1, lower[0], np.where(on < 0.2, upper[0], z[0]))  # at a bound
    if seed % 3 == 0:  # nobody at a bound and moving out: the roots decide
        z[1] = np.where(z[0] == lower[0], np.abs(z[1]) + lower[1],
                        np.where(z[0] == upper[0], upper[1] - np.abs(z[1]), z[1]))
    check_lower = rng.uniform(size=nm) < 0.8
    check_upper = rng.uniform(size=nm) < 0.8
    args = (z, lower, upper, check_lower, check_upper, 1e-9, 1e-8,
            float(rng.uniform(0.01, 1.0)) * width, width)
    want = _exits_curved_numpy(*args)
    got = K.exits_curved(*args)
    assert (int(got[0]), int(got[2]), int(got[3]), int(got[4]), int(got[5])) == (
        want[0], want[2], want[3], want[4], want[5])
    assert float(got[1]) == pytest.approx(want[1], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", range(30))
def test_the_least_exit_of_a_polynomial_is_the_eigenvalue_one(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    d = int(rng.integers(1, 6))
    c = rng.normal(size=d + 1) * rng.uniform(0.01, 100.0, size=d + 1)
    c[0] = abs(c[0]) if seed % 4 else 0.0  # inside its bound, or on it
    smax = float(rng.uniform(0.01, 3.0))
    want = _by_roots(c, smax, 1e-14)
    assert K.least_exit(c, smax, smax, 1e-14) == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("degree", [1, 2, 4])
def test_a_pieces_snapshot_keeps_the_moving_columns_rates_only(degree: int) -> None:
    """``snapshot`` against numpy: the first ``n`` values, and the rates of exactly the
    columns with a nonzero rate."""
    rng = np.random.default_rng(3 + degree)
    for _ in range(20):
        n, m = int(rng.integers(1, 40)), int(rng.integers(0, 20))
        z = rng.normal(size=(degree + 1, n + m))
        z[1:] *= rng.uniform(size=n + m) < 0.3
        x0, cols, dx = K.snapshot(z, n)
        want = np.flatnonzero(np.any(z[1:, :n] != 0, axis=0))
        assert np.array_equal(x0, z[0, :n]) and np.array_equal(cols, want)
        assert np.array_equal(dx, z[1:, want])


def test_the_compiled_move_along_a_curved_input_is_line_taylors() -> None:
    """``move_curve`` against :meth:`Line.taylor` and :func:`taylor_shift`: the moved
    bounds' coefficients at the new point, and the nonbasic values on them exactly there."""
    from hwbopt.analyses.curve import Line

    rng = np.random.default_rng(5)
    degree, size = 4, 12
    coef = {"col_upper": rng.normal(size=(degree + 1, 3)),
            "row_lower": rng.normal(size=(degree + 1, 2))}
    moved = {"col_upper": np.array([1, 4, 7]), "row_lower": np.array([size + 0, size + 3])}
    line = Line("x", 0.2, 0.6, lambda ts: (None, {}), moved, {}, coef, degree, 0.0)
    for t0, t1 in ((0.2, 0.2), (0.25, 0.41), (0.3, 0.6)):
        z = rng.normal(size=(degree + 1, 2 * size))
        lower, upper = rng.normal(size=z.shape), rng.normal(size=z.shape)
        status = rng.integers(0, 3, size=2 * size).astype(np.int8)
        want_z, want_lo, want_up = z.copy(), lower.copy(), upper.copy()
        K.taylor_shift(want_z, t1 - t0)
        tay = line.taylor(t1)
        want_up[:, moved["col_upper"]] = tay["col_upper"]
        want_lo[:, moved["row_lower"]] = tay["row_lower"]
        for j in moved["col_upper"]:
            if status[j] == K.UPPER:
                want_z[:, j] = want_up[:, j]
        for j in moved["row_lower"]:
            if status[j] == K.LOWER:
                want_z[:, j] = want_lo[:, j]
        ders = line.derivatives()
        K.move_curve(z, lower, upper, status, t1 - t0, line.u(t1), line.width / 2.0,
                     np.ascontiguousarray(np.concatenate([ders["col_upper"],
                                                          ders["row_lower"]], axis=2)),
                     np.concatenate([moved["col_upper"], moved["row_lower"]]),
                     np.array([False] * 3 + [True] * 2))
        assert np.allclose(z, want_z, rtol=1e-13, atol=1e-13)
        assert np.allclose(lower, want_lo, rtol=1e-13, atol=1e-13)
        assert np.allclose(upper, want_up, rtol=1e-13, atol=1e-13)
