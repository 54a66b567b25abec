"""The basis's LU factors, its triangular part first: what the pivots solve with
(:mod:`hwbopt.simplex.kernels`, ``Pr B Pc = L U``).

An LP's optimal basis is mostly triangular: slack columns, and structural columns that are
the only one left in some row. On the county's base basis (3,009 rows, 9,338 nonzeros) 1,757
columns are column singletons and about 1,050 row singletons once those are peeled, leaving a
*bump* of 201 × 201. SuperLU on the whole basis (COLAMD, threshold 0.1) does not look for
that: its ``L + U`` held 22,635 nonzeros, and every solve with the basis (two a pivot)
walked them all. Here the singletons are peeled first, as HiGHS's own factorisation does
(Suhl & Suhl 1990), and SuperLU factorises only the bump: ``L + U`` is the basis's own
nonzeros plus the bump's fill (10,628 on the county), and a factorisation costs 2.3 ms
instead of 5.4 (measured with :data:`ROW_PIVOT` 0.1: a bump of 472, 15,619 nonzeros, 3.4 ms).

Peeling, with positions in the order taken:

1. **column singletons**: a column with one entry in the rows not yet taken takes that row.
   Its row's other entries go to ``U`` (its row of ``U``); nothing below it needs
   eliminating, so ``L``'s column is the unit vector. Taking a row lowers the counts of the
   columns it meets, which may make new column singletons.
2. **row singletons**: a row with one entry in the columns not yet taken takes that column,
   if the entry is at least :data:`ROW_PIVOT` of the largest in that column among the rows
   left (the multipliers below it, ``L``'s column, are then at most 1/:data:`ROW_PIVOT`).
   Its row has nothing else left, so the elimination changes no entry but its column's.
3. **the bump**: what is left, exactly as it was (neither step changed an entry of it),
   factorised by SuperLU.

The two peels do not feed each other (a column singleton's column meets no other row still
there; a row singleton's row no other column), so each runs to its end in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit

from hwbopt.simplex import kernels

ROW_PIVOT = 0.01  # a row singleton's entry against its column's largest: multipliers up to 100
TINY_PIVOT = 1e-11  # a singleton's entry no larger than this share of the basis's largest is
# left to the bump, where SuperLU pivots by size
PIVOT_THRESHOLD = 0.1  # SuperLU's threshold partial pivoting on the bump: sparser factors,
# faster solves (measured on the county's bases) for a bounded growth


@njit(cache=True)
def _peel(ptr, idx, val, m, row_pivot, tiny):  # type: ignore[no-untyped-def]
    """The singletons of an ``m × m`` matrix by columns: each row's and column's position
    (−1: in the bump) and how many were taken."""
    nnz = ptr[m]
    # the matrix by rows too: each entry's column and value
    rptr = np.zeros(m + 1, dtype=np.int64)
    for k in range(nnz):
        rptr[idx[k] + 1] += 1
    for i in range(m):
        rptr[i + 1] += rptr[i]
    rcol = np.empty(nnz, dtype=np.int64)
    fill = rptr[:m].copy()
    for j in range(m):
        for k in range(ptr[j], ptr[j + 1]):
            q = fill[idx[k]]
            rcol[q] = j
            fill[idx[k]] += 1
    row_pos = np.full(m, -1, dtype=np.int64)
    col_pos = np.full(m, -1, dtype=np.int64)
    stack = np.empty(m, dtype=np.int64)
    step = 0
    # 1. column singletons
    count = np.empty(m, dtype=np.int64)
    top = 0
    for j in range(m - 1, -1, -1):  # taken from the top: the first column first
        count[j] = ptr[j + 1] - ptr[j]
        if count[j] == 1:
            stack[top] = j
            top += 1
    while top > 0:
        top -= 1
        j = stack[top]
        if col_pos[j] >= 0 or count[j] != 1:
            continue
        r, v = -1, 0.0
        for k in range(ptr[j], ptr[j + 1]):
            if row_pos[idx[k]] < 0:
                r, v = idx[k], val[k]
                break
        if r < 0 or abs(v) <= tiny:
            continue
        row_pos[r] = step
        col_pos[j] = step
        step += 1
        for q in range(rptr[r], rptr[r + 1]):
            j2 = rcol[q]
            if col_pos[j2] < 0:
                count[j2] -= 1
                if count[j2] == 1:
                    stack[top] = j2
                    top += 1
    # 2. row singletons, among the columns left
    for i in range(m):
        count[i] = 0
    for j in range(m):
        if col_pos[j] < 0:
            for k in range(ptr[j], ptr[j + 1]):
                count[idx[k]] += 1
    top = 0
    for i in range(m - 1, -1, -1):
        if row_pos[i] < 0 and count[i] == 1:
            stack[top] = i
            top += 1
    while top > 0:
        top -= 1
        r = stack[top]
        if row_pos[r] >= 0 or count[r] != 1:
            continue
        j = -1
        for q in range(rptr[r], rptr[r + 1]):
            if col_pos[rcol[q]] < 0:
                j = rcol[q]
                break
        if j < 0:
            continue
        v, big = 0.0, 0.0
        for k in range(ptr[j], ptr[j + 1]):
            if row_pos[idx[k]] < 0:
                big = max(big, abs(val[k]))
                if idx[k] == r:
                    v = val[k]
        if abs(v) <= tiny or abs(v) < row_pivot * big:
            continue
        row_pos[r] = step
        col_pos[j] = step
        step += 1
        for k in range(ptr[j], ptr[j + 1]):
            i = idx[k]
            if row_pos[i] < 0:
                count[i] -= 1
                if count[i] == 1:
                    stack[top] = i
                    top += 1
    return row_pos, col_pos, step


@dataclass
class Factors:
    """``Pr B Pc = L U`` in the layout the kernels take (:func:`kernels.factors`), with
    solves for the whole state (:meth:`solve`, no eta file) and the sizes."""

    kernel: tuple[np.ndarray, ...]
    nnz: int  # of L and U, diagonals included
    bump: int  # rows left to SuperLU

    def solve(self, b: np.ndarray, trans: str = "N") -> np.ndarray:
        """``B⁻¹ b`` (``trans`` "T": ``B⁻ᵀ b``), ``b`` of one or more columns."""
        m = self.kernel[13].shape[0]  # the row permutation's length
        etas = _NO_ETAS
        rhs = np.asarray(b, dtype=float)
        cols = rhs.reshape(m, -1)
        out = np.empty_like(cols)
        work, tmp, one = np.zeros(m), np.zeros(m), np.zeros(m)
        for c in range(cols.shape[1]):
            col = np.ascontiguousarray(cols[:, c])
            if trans == "T":
                kernels.btran(self.kernel, etas, col, one, work, tmp)
            else:
                kernels.ftran(self.kernel, etas, col, one, work)
            out[:, c] = one
        return out.reshape(rhs.shape)


_NO_ETAS = (np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(2, dtype=np.int64),
            np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(2, dtype=np.int64))


def lu(b: sp.csc_array) -> Factors | None:
    """The factors of the square basis ``b`` (by columns); None if it is singular."""
    m = b.shape[0]
    ptr = b.indptr.astype(np.int64)
    idx = b.indices.astype(np.int64)
    val = b.data.astype(float)
    tiny = TINY_PIVOT * (float(np.abs(val).max()) if len(val) else 1.0)
    row_pos, col_pos, p = _peel(ptr, idx, val, m, ROW_PIVOT, tiny)
    # the bump (rows and columns left), factorised by SuperLU and placed after the peeled
    rows_left = np.flatnonzero(row_pos < 0)
    cols_left = np.flatnonzero(col_pos < 0)
    parts_l: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    parts_u: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(rows_left) != len(cols_left):
        return None
    if len(rows_left):
        bump = sp.csc_array(b[rows_left][:, cols_left])
        try:
            f = spla.splu(bump, permc_spec="COLAMD", diag_pivot_thresh=PIVOT_THRESHOLD)
        except RuntimeError:  # singular
            return None
        row_pos[rows_left] = p + f.perm_r
        col_pos[cols_left] = p + f.perm_c
        for mat, parts in ((f.L, parts_l), (f.U, parts_u)):
            coo = sp.coo_array(mat)
            parts.append((coo.row.astype(np.int64) + p, coo.col.astype(np.int64) + p,
                          coo.data))
    # the peeled rows and columns: an entry on or above the diagonal is U's, one below it
    # L's, divided by its column's pivot (a row singleton's: its column is L's)
    rows = idx
    cols = np.repeat(np.arange(m, dtype=np.int64), np.diff(ptr))
    a, c = row_pos[rows], col_pos[cols]
    peeled = (a < p) | (c < p)
    upper = peeled & (a <= c)
    lower = peeled & (a > c)
    pivot = np.zeros(m)
    diag = peeled & (a == c)
    pivot[a[diag]] = val[diag]
    parts_u.append((a[upper], c[upper], val[upper]))
    parts_l.append((a[lower], c[lower], val[lower] / pivot[c[lower]]))
    low = _csc(parts_l, m)
    upp = _csc(parts_u, m)
    kernel = kernels.factors(low.indptr.astype(np.int64), low.indices.astype(np.int64),
                             low.data, upp.indptr.astype(np.int64),
                             upp.indices.astype(np.int64), upp.data, row_pos, col_pos)
    return Factors(kernel, int(low.nnz + upp.nnz), len(rows_left))


def _csc(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], m: int) -> sp.csc_array:
    row = np.concatenate([r for r, _, _ in parts])
    col = np.concatenate([c for _, c, _ in parts])
    data = np.concatenate([d for _, _, d in parts])
    return sp.csc_array((data, (row, col)), shape=(m, m))


__all__ = ["Factors", "lu"]
