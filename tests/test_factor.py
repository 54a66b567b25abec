"""The basis's factors, triangular part first (hwbopt.simplex.factor), against dense algebra
(numpy's LAPACK), which shares no code with them: ``Pr B Pc`` rebuilt from ``L`` and ``U``,
and solves either way with them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import hwbopt
from hwbopt.batch.setup import prepare
from hwbopt.simplex import factor


def _dense(f: factor.Factors, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``L``, ``U`` and the permutations as dense matrices, from the kernels' layout."""
    lp, li, lx, _, _, _, up, ui, ux, _, _, _, ud, perm_r, perm_c, inv_c = f.kernel
    assert np.array_equal(inv_c[perm_c], np.arange(m))
    low, upp = np.eye(m), np.diag(ud)
    for j in range(m):
        for k in range(lp[j], lp[j + 1]):
            low[li[k], j] += lx[k]
        for k in range(up[j], up[j + 1]):
            upp[ui[k], j] += ux[k]
    pr = np.zeros((m, m))
    pr[perm_r, np.arange(m)] = 1.0  # row i of B goes to position perm_r[i]
    pc = np.zeros((m, m))
    pc[np.arange(m), perm_c] = 1.0  # column j of B goes to position perm_c[j]
    return low, upp, pr, pc


def _basis(rng: np.random.Generator, m: int) -> sp.csc_array:
    """A basis as an LP's look: slack columns (−e_i), columns that are alone in some row,
    and a coupled part."""
    a = sp.lil_array((m, m))
    perm = rng.permutation(m)
    for j in range(m):
        kind = rng.uniform()
        if kind < 0.3:  # a slack
            a[perm[j], j] = -1.0
        else:
            rows = rng.choice(m, int(rng.integers(1, 4)), replace=False)
            for i in rows:
                a[i, j] = rng.normal()
            a[perm[j], j] = rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 4.0)
    return sp.csc_array(a.tocsc())


@pytest.mark.parametrize("seed", range(20))
def test_the_factors_rebuild_the_permuted_basis_and_solve_as_dense_algebra(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(3, 70))
    b = _basis(rng, m)
    dense = b.toarray()
    if abs(np.linalg.det(dense)) < 1e-8:
        assert factor.lu(b) is None or np.linalg.cond(dense) > 1e8
        return
    f = factor.lu(b)
    assert f is not None
    low, upp, pr, pc = _dense(f, m)
    assert np.allclose(np.tril(low), low) and np.allclose(np.triu(upp), upp)
    assert np.allclose(np.diag(low), 1.0)
    assert pr @ dense @ pc == pytest.approx(low @ upp, rel=1e-12, abs=1e-12)
    for _ in range(3):
        rhs = rng.normal(size=m) * (rng.uniform(size=m) < 0.4)
        assert f.solve(rhs) == pytest.approx(np.linalg.solve(dense, rhs), rel=1e-9, abs=1e-10)
        assert f.solve(rhs, "T") == pytest.approx(np.linalg.solve(dense.T, rhs), rel=1e-9,
                                                  abs=1e-10)
    both = rng.normal(size=(m, 2))
    assert f.solve(both) == pytest.approx(np.linalg.solve(dense, both), rel=1e-9, abs=1e-10)


def test_a_singular_basis_has_no_factors() -> None:
    b = sp.csc_array(np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]))
    assert factor.lu(b) is None
    empty_column = sp.csc_array(np.array([[1.0, 0.0], [3.0, 0.0]]))
    assert factor.lu(empty_column) is None


def test_a_small_row_singleton_is_left_to_the_bump() -> None:
    """A row singleton whose entry is far below its column's others would make large
    multipliers in L: SuperLU pivots on it by size instead."""
    b = sp.csc_array(np.array([[1e-6, 1.0], [1.0, 1.0]]))
    f = factor.lu(b)
    assert f is not None and f.bump == 2
    assert f.solve(np.array([1.0, 2.0])) == pytest.approx(np.linalg.solve(b.toarray(),
                                                                         [1.0, 2.0]))


def test_the_county_base_basis_is_mostly_triangular_and_its_factors_are_sparser() -> None:
    """The measure behind the module: on the county's base plan the bump is a small part of
    the basis, and L + U hold far fewer nonzeros than SuperLU's on the whole basis."""
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    spec = prepare(inst, inst.stress[0], 0, seed=7).spec
    m, n = spec.n_rows, spec.n_cols
    a = sp.csc_array((spec.A_data, spec.A_indices, spec.A_indptr), shape=(m, n))
    whole = sp.hstack([a, -sp.identity(m, format="csc")], format="csc")
    assert spec.basis is not None
    basic = np.flatnonzero(np.concatenate(spec.basis) == 1)
    b = sp.csc_array(whole[:, basic])
    f = factor.lu(b)
    assert f is not None and f.bump < m // 5
    superlu = spla.splu(b, permc_spec="COLAMD", diag_pivot_thresh=0.1)
    assert f.nnz < 0.8 * (superlu.L.nnz + superlu.U.nnz)
    rng = np.random.default_rng(0)
    rhs = rng.normal(size=m)
    assert b @ f.solve(rhs) == pytest.approx(rhs, rel=1e-9, abs=1e-9)
    assert b.T @ f.solve(rhs, "T") == pytest.approx(rhs, rel=1e-9, abs=1e-9)
