"""The pivots in compiled code (numba): the solves with the basis, one dual simplex
pivot, the primal ratio tests (of a straight input and of a curved one) and the moves along
the line (``models/curve.md``, "The fast path").

:class:`hwbopt.simplex.pivots.Pivoter` keeps the state (the basis, every value's Taylor
coefficients, the duals) in numpy arrays and calls these kernels on them in place. A pivot in
numpy was a dozen array operations over all ``n + m`` values and two SuperLU solves with dense
right-hand sides, about 0.6 ms on the county; here it is one call that touches only the
nonzeros it needs (the leaving row's support, the entering column's): about 80 µs.

The basis ``B`` is held as the SuperLU factors of the last factorised basis ``B0``
(``Pr B0 Pc = L U``, ``L`` unit lower and ``U`` upper triangular, each by columns and by rows
so that a solve either way runs by columns and skips the zeros it meets) and an eta
file (the product form of the inverse): pivot ``k`` replaced basis position ``r_k`` with a
column whose ``B⁻¹ a`` was ``α``, so ``B⁻¹ = E_k⁻¹ ⋯ E_1⁻¹ B0⁻¹`` with ``E_k = I + (α − e_r)
e_rᵀ``. An eta keeps only ``α``'s nonzeros, so applying it costs what it holds.

Each kernel keeps the tests, tolerances and tie-breaks of the numpy it replaced, in the same
order (``tests/test_curve_kernels.py`` runs both on the same data); the curved ratio test takes
its roots by isolation and Newton's steps where numpy took eigenvalues (equal to 1e-12), and
:func:`least_exits` is the one root finder of both routes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# codes :func:`pivot` returns
DONE, DOUBT, FULL = 0, 1, 2  # pivoted; declined (state untouched); pivoted, eta file full
LOWER, BASIC, UPPER, ZERO = 0, 1, 2, 3  # HiGHS's basis statuses, as in pivots
TINY = 1e-14  # a value this small in a solve is taken as 0 (HiGHS's kHighsTiny, which its
# factor's solves drop the same way): without it three quarters of an eta's entries on the
# county are fill below 1e-12, down to 1e-85, which every later solve would carry


@njit(cache=True)
def _triangular(ptr, idx, val, diag, work, forward, tiny):  # type: ignore[no-untyped-def]
    """``work = T⁻¹ work`` in place, ``T`` triangular with its strict part by columns (``ptr,
    idx, val``) and its diagonal ``diag`` (empty: a unit diagonal): lower triangular solved
    ``forward``, upper backward. By columns, so a zero (or a value below ``tiny``, set to 0)
    costs nothing."""
    _triangular_from(ptr, idx, val, diag, work, forward, tiny, 0)


@njit(cache=True)
def _triangular_from(ptr, idx, val, diag, work, forward, tiny, start):  # type: ignore[no-untyped-def]
    """:func:`_triangular`'s pass from its step ``start`` on (a column ``start`` from the
    first: the last, backward): the steps before it done already."""
    m = work.shape[0]
    unit = diag.shape[0] == 0
    for q in range(start, m):
        j = q if forward else m - 1 - q
        v = work[j]
        if abs(v) > tiny:
            if not unit:
                v /= diag[j]
                work[j] = v
            for k in range(ptr[j], ptr[j + 1]):
                work[idx[k]] -= val[k] * v
        else:
            work[j] = 0.0


@njit(cache=True)
def ftran(lu, etas, b, out, work):  # type: ignore[no-untyped-def]
    """``out = B⁻¹ b`` (``b`` is left as it was): ``L U w = Pr b``, ``out = Pc w``, then the
    etas. Values below :data:`TINY` are dropped as they arise, as HiGHS's own solves do."""
    _ftran(lu, etas, b, out, work)
    _tight(out)


@njit(cache=True)
def _ftran(lu, etas, b, out, work):  # type: ignore[no-untyped-def]
    """:func:`ftran` but the last drop of values below :data:`TINY`."""
    lp, li, lx, _, _, _, up, ui, ux, _, _, _, ud, perm_r, perm_c, _ = lu
    m = b.shape[0]
    for i in range(m):
        work[perm_r[i]] = b[i]
    _triangular(lp, li, lx, ud[:0], work, True, TINY)  # L: unit lower
    _triangular(up, ui, ux, ud, work, False, TINY)  # U
    for j in range(m):
        out[j] = work[perm_c[j]]
    apply_etas(etas, out)


@njit(cache=True)
def _tight(out):  # type: ignore[no-untyped-def]
    """Values below :data:`TINY` to 0."""
    for i in range(out.shape[0]):
        if abs(out[i]) <= TINY:
            out[i] = 0.0


@njit(cache=True)
def apply_etas(etas, out):  # type: ignore[no-untyped-def]
    """``out = E_k⁻¹ ⋯ E_1⁻¹ out``, in place."""
    e_r, e_piv, e_ptr, e_idx, e_val, e_n = etas
    for k in range(e_n[0]):
        r = e_r[k]
        v = out[r] / e_piv[k]
        out[r] = v
        if v != 0.0:
            for q in range(e_ptr[k], e_ptr[k + 1]):
                out[e_idx[q]] -= e_val[q] * v


@njit(cache=True)
def btran(lu, etas, c, out, work, tmp):  # type: ignore[no-untyped-def]
    """``out = B⁻ᵀ c`` (``c`` is left as it was; ``tmp`` is scratch): the etas last first,
    then ``Uᵀ Lᵀ v = Pcᵀ c``, ``out = Pr⁻¹ v``."""
    tmp[:] = c
    _btran(lu, etas, work, tmp)
    perm_r = lu[13]
    for i in range(out.shape[0]):
        out[i] = work[perm_r[i]]


@njit(cache=True)
def _btran(lu, etas, work, tmp):  # type: ignore[no-untyped-def]
    """:func:`btran` of ``tmp`` (overwritten) into ``work`` in the factors' order: all but
    the last permutation."""
    _, _, _, ltp, lti, ltx, _, _, _, utp, uti, utx, ud, _, perm_c, _ = lu
    e_r, e_piv, e_ptr, e_idx, e_val, e_n = etas
    for k in range(e_n[0] - 1, -1, -1):
        r = e_r[k]
        s = tmp[r]
        for q in range(e_ptr[k], e_ptr[k + 1]):
            s -= e_val[q] * tmp[e_idx[q]]
        tmp[r] = s / e_piv[k]
    for j in range(tmp.shape[0]):
        work[perm_c[j]] = tmp[j]
    _triangular(utp, uti, utx, ud, work, True, TINY)  # Uᵀ: lower
    _triangular(ltp, lti, ltx, ud[:0], work, False, TINY)  # Lᵀ: unit upper


@njit(cache=True)
def _btran_unit(r, lu, etas, out, work, tmp, nz):  # type: ignore[no-untyped-def]
    """:func:`btran` of the unit vector ``e_r`` (the same operations), and where ``out`` is
    not 0, in order, into ``nz``: how many."""
    tmp[:] = 0.0
    tmp[r] = 1.0
    _btran(lu, etas, work, tmp)
    perm_r = lu[13]
    count = 0
    for i in range(out.shape[0]):
        v = work[perm_r[i]]
        out[i] = v
        if v != 0.0:
            nz[count] = i
            count += 1
    return count


@njit(cache=True)
def _ftran_nz(lu, etas, b, out, work, nz):  # type: ignore[no-untyped-def]
    """:func:`ftran` (the same operations), and where ``out`` is not 0, in order, into
    ``nz``: how many."""
    _ftran(lu, etas, b, out, work)
    return _tight_nz(out, nz)


@njit(cache=True)
def _tight_nz(out, nz):  # type: ignore[no-untyped-def]
    """:func:`_tight`, and where ``out`` is not 0 into ``nz``: how many."""
    count = 0
    for i in range(out.shape[0]):
        if abs(out[i]) <= TINY:
            out[i] = 0.0
        else:
            nz[count] = i
            count += 1
    return count


HYPER = 0.1  # a sparse solve that has met more than this share of the rows goes on dense:
# past it a heap costs more than the dense pass's skipped zeros (HiGHS too switches to its
# hyper-sparse solves below about a tenth)


@njit(cache=True)
def _push(heap, size, key):  # type: ignore[no-untyped-def]
    """``key`` onto the binary min-heap ``heap[:size]``: the new size."""
    q = size
    heap[q] = key
    while q > 0:
        parent = (q - 1) // 2
        if heap[parent] <= key:
            break
        heap[q] = heap[parent]
        q = parent
    heap[q] = key
    return size + 1


@njit(cache=True)
def _pop(heap, size):  # type: ignore[no-untyped-def]
    """The least key off the binary min-heap ``heap[:size]``, and the new size."""
    top = heap[0]
    size -= 1
    last = heap[size]
    q = 0
    while True:
        child = 2 * q + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= last:
            break
        heap[q] = heap[child]
        q = child
    heap[q] = last
    return top, size


@njit(cache=True)
def _sparse_triangular(ptr, idx, val, diag, work, forward, tiny, heap, size, mark, done,  # type: ignore[no-untyped-def]
                       limit):
    """:func:`_triangular` of a ``work`` that is 0 but where ``heap[:size]`` (its positions'
    keys, marked in ``mark``) says: the positions not 0 are taken in the dense pass's order
    (ascending ``forward``, else descending: the key of ``j`` is ``j``, else ``m − 1 − j``)
    from a heap, and only those, with the same operations, so the numbers are the same bit
    for bit. The positions left not 0 go to ``done``, in that order: how many; or, once
    :data:`HYPER`'s ``limit`` of positions have been met, the rest of the pass runs dense
    from where it stands and −1 is returned. ``mark`` is left all 0."""
    m = work.shape[0]
    unit = diag.shape[0] == 0
    met, count = size, 0
    while size > 0:
        key, size = _pop(heap, size)
        j = key if forward else m - 1 - key
        mark[j] = 0
        if met + ptr[j + 1] - ptr[j] > limit:  # wide: dense from j on
            while size > 0:
                key, size = _pop(heap, size)
                mark[key if forward else m - 1 - key] = 0
            _triangular_from(ptr, idx, val, diag, work, forward, tiny,
                             j if forward else m - 1 - j)
            return -1
        v = work[j]
        if abs(v) > tiny:
            if not unit:
                v /= diag[j]
                work[j] = v
            for k in range(ptr[j], ptr[j + 1]):
                i = idx[k]
                work[i] -= val[k] * v
                if mark[i] == 0:
                    mark[i] = 1
                    size = _push(heap, size, i if forward else m - 1 - i)
                    met += 1
            done[count] = j
            count += 1
        else:
            work[j] = 0.0
    return count


@njit(cache=True)
def _ftran_sparse(lu, etas, b_idx, b_val, out, work, nz, heap, done, mark):  # type: ignore[no-untyped-def]
    """:func:`_ftran_nz` of a right-hand side not 0 only at ``b_idx`` (values ``b_val``),
    the same operations in the same order, so the same numbers bit for bit, but each
    triangular solve visits only the positions that become not 0 (:func:`_sparse_triangular`:
    on the county an entering column's ``α_q`` has about 12 entries of 3,009, where the
    positions its solve could reach on the factors' pattern alone are about 360)."""
    lp, li, lx, _, _, _, up, ui, ux, _, _, _, ud, perm_r, perm_c, inv_c = lu
    m = out.shape[0]
    limit = max(1, int(HYPER * m))
    work[:] = 0.0
    size = 0
    for q in range(b_idx.shape[0]):
        p = perm_r[b_idx[q]]
        work[p] = b_val[q]
        if mark[p] == 0:
            mark[p] = 1
            size = _push(heap, size, p)
    count = _sparse_triangular(lp, li, lx, ud[:0], work, True, TINY, heap, size, mark, done,
                               limit)  # L: unit lower
    if count >= 0:
        size = 0
        for q in range(count):
            p = done[q]
            mark[p] = 1
            size = _push(heap, size, m - 1 - p)
        count = _sparse_triangular(up, ui, ux, ud, work, False, TINY, heap, size, mark, done,
                                   limit)  # U
    else:
        _triangular(up, ui, ux, ud, work, False, TINY)
    out[:] = 0.0
    if count >= 0:
        for q in range(count):
            p = done[q]
            out[inv_c[p]] = work[p]
    else:
        for j in range(m):
            out[j] = work[perm_c[j]]
    apply_etas(etas, out)
    return _tight_nz(out, nz)


@njit(cache=True)
def pivot(r, side, n, a_cols, a_rows, lu, etas, eta_cap, in_b0,  # type: ignore[no-untyped-def]
          basic, pos, status, can_rise, can_fall, check_lower, check_upper, lfin, ufin,
          movable, d, d2, y, z, lower, upper, scratch, support, tol_rel, tol_abs, dual_tol,
          stable, agree):
    """The basic value at position ``r`` leaves to its lower (``side`` −1) or upper (+1)
    bound; the entering value from the dual ratio test (Harris's two passes; of the nearly
    tied with pivots not far below the largest among them, the least ratio of the second
    cost ``d2``). Returns (code, entering value, how many of α_q's entries are not 0, which
    ``support[2]`` lists: the basis positions whose values moved): :data:`DOUBT` leaves every
    array as it was.

    ``z = (x, r)`` over ``[A | −I]``: ``A`` by columns and by rows in ``a_cols`` and
    ``a_rows`` (pointers, indices, values). ``scratch`` is four arrays of ``m`` (ρ, α_q and
    two work arrays) and one of ``n + m`` (the tableau row); ``support``
    seven of integers, ``n + m``, ``m``, ``m``, ``n + m``, ``m``, ``m`` and ``m`` long (where
    the row, ρ and α_q are not 0, the dual ratio test's candidates, and for
    :func:`_ftran_sparse` a heap, the positions it solved and their marks, all 0 between
    calls);
    ``in_b0``: each value's position in ``B0`` (−1: none), whose column
    there ``B0⁻¹`` takes to a unit vector exactly."""
    m = basic.shape[0]
    rho, aq, work, tmp, alpha = scratch
    support, rho_nz, aq_nz, cand, heap, done, mark = support
    a_ptr, a_idx, a_val = a_cols
    r_ptr, r_idx, r_val = a_rows
    leave = basic[r]
    # ρ = B⁻ᵀ e_r, the tableau row α = ρᵀ [A | −I]
    n_rho = _btran_unit(r, lu, etas, rho, work, tmp, rho_nz)
    # by the rows of A where ρ is not 0 (a quarter of them on the county: a third of the
    # work of a dot product per column)
    for j in range(n):
        alpha[j] = 0.0
    for q in range(n_rho):
        i = rho_nz[q]
        v = rho[i]
        for k in range(r_ptr[i], r_ptr[i + 1]):
            alpha[r_idx[k]] += r_val[k] * v
    largest = 0.0
    count = 0  # the row's support, in order (the passes below and the update run over it)
    for j in range(n):
        v = alpha[j]
        if v != 0.0:
            support[count] = j
            count += 1
            if abs(v) > largest:
                largest = abs(v)
    for q in range(n_rho):  # only the support is read: the rest of α is left as it was
        i = rho_nz[q]
        alpha[n + i] = -rho[i]
        support[count] = n + i
        count += 1
        if abs(rho[i]) > largest:
            largest = abs(rho[i])
    tol = max(tol_abs, tol_rel * largest)
    # z_p = β − Σ α_j z_j: to come back up to its lower bound, a value that may rise needs
    # α_j < 0 and one that may fall α_j > 0 (the reverse for an upper bound); the support
    # is narrowed to those
    bound = np.inf
    cands = 0
    for q in range(count):
        j = support[q]
        a = alpha[j]
        if side < 0:
            up, down = a < -tol, a > tol
        else:
            up, down = a > tol, a < -tol
        if (can_rise[j] and up) or (can_fall[j] and down):
            ratio = (abs(d[j]) + dual_tol) / abs(a)
            if ratio < bound:
                bound = ratio
            cand[cands] = j
            cands += 1
    if cands == 0:
        return DOUBT, -1, 0  # dual unbounded: no solution past here
    top = 0.0  # the largest pivot among the nearly tied
    for q in range(cands):
        j = cand[q]
        if abs(d[j]) / abs(alpha[j]) <= bound:
            top = max(top, abs(alpha[j]))
    enter, best = -1, np.inf
    for q in range(cands):
        j = cand[q]
        size = abs(alpha[j])
        if abs(d[j]) / size <= bound and size >= stable * top:
            key = abs(d2[j]) / size
            if key < best:
                best, enter = key, j
    if enter < 0:
        return DOUBT, -1, 0
    theta = abs(d[enter]) / abs(alpha[enter]) * (1.0 if side > 0 else -1.0)
    # α_q = B⁻¹ a_q, the entering column of [A | −I], and where it is not 0 (a column of B0:
    # the etas alone; else a solve that visits only what becomes not 0)
    p = in_b0[enter]
    if p >= 0:
        aq[:] = 0.0
        aq[p] = 1.0
        apply_etas(etas, aq)
        n_aq = _tight_nz(aq, aq_nz)
    elif enter < n:
        lo, hi = a_ptr[enter], a_ptr[enter + 1]
        n_aq = _ftran_sparse(lu, etas, a_idx[lo:hi], a_val[lo:hi], aq, work, aq_nz, heap,
                             done, mark)
    else:
        at = enter - n
        n_aq = _ftran_sparse(lu, etas, np.full(1, at), np.full(1, -1.0), aq, work, aq_nz,
                             heap, done, mark)
    piv = aq[r]
    if abs(piv - alpha[enter]) > agree * max(1.0, abs(piv)) or abs(piv) < tol_abs:
        return DOUBT, -1, 0
    # duals: d −= θ α_r, y += θ ρ; the leaving value's reduced cost is −θ
    theta2 = d2[enter] / alpha[enter]  # the second cost's, alike
    for q in range(count):
        j = support[q]
        d[j] -= theta * alpha[j]
        d2[j] -= theta2 * alpha[j]
    d2[leave], d2[enter] = -theta2, 0.0
    for q in range(n_rho):
        i = rho_nz[q]
        y[i] += theta * rho[i]
    d[leave], d[enter] = -theta, 0.0
    # values and rates: the leaving value onto its bound, the entering one moves instead
    deg1 = z.shape[0]
    for q in range(deg1):
        target = lower[q, leave] if side < 0 else upper[q, leave]
        delta = (z[q, leave] - target) / piv
        for p in range(n_aq):
            i = aq_nz[p]
            z[q, basic[i]] -= delta * aq[i]
        z[q, enter] += delta
        z[q, leave] = target
    basic[r] = enter
    pos[enter] = r
    status[enter] = BASIC
    status[leave] = LOWER if side < 0 else UPPER
    can_rise[enter] = False
    can_fall[enter] = False
    check_lower[enter], check_upper[enter] = lfin[enter], ufin[enter]
    check_lower[leave] = False
    check_upper[leave] = False
    if side < 0:
        can_rise[leave] = movable[leave]
    else:
        can_fall[leave] = movable[leave]
    # the eta of this pivot: α_q's nonzeros off position r, and its pivot
    e_r, e_piv, e_ptr, e_idx, e_val, e_n = etas
    k, start = e_n[0], e_ptr[e_n[0]]
    q = start
    for p in range(n_aq):  # the solve left no value below TINY
        i = aq_nz[p]
        if i != r:
            e_idx[q] = i
            e_val[q] = aq[i]
            q += 1
    e_r[k], e_piv[k], e_ptr[k + 1] = r, piv, q
    e_n[0] = k + 1
    e_n[1] = q
    if k + 1 >= e_r.shape[0] or q + m > eta_cap:
        return FULL, enter, n_aq
    return DONE, enter, n_aq


@njit(cache=True)
def exits(z, lower, upper, check_lower, check_upper, noise_rate, feasible, room, basic,  # type: ignore[no-untyped-def]
          rows, count):
    """The primal ratio test of a straight input from the current ``t`` (``room``: how far
    the line goes on). Returns (code, s, value, side): code −1, a value is already outside
    its bounds; 0, none leaves before ``s`` (``value`` −1) or ``value`` leaves at ``s`` past
    the allowance of its bound; 1, ``value`` leaves here, on ``side`` (−1 lower, +1 upper).

    Only basic values are checked (``check_lower`` and ``check_upper`` are false for the
    others), at the basis positions ``rows[:count]``: all of them, or any list that holds
    every one whose value or bounds move (a value that does not move never leaves, and the
    answer does not depend on the order the values are read in). Ties are broken as numpy's
    test did, in index order (the values with a finite lower bound that fall towards it
    first, then those with an upper bound, each by index; the first of equal candidates
    wins), by comparing (side, index) wherever the test's number is equal."""
    at_best, at_var, at_side = -np.inf, -1, 0
    s_best, s_var, s_side = np.inf, -1, 0
    for q in range(count):
        j = basic[rows[q]]
        for side in (-1, 1):
            if side < 0:
                if not check_lower[j]:
                    continue
                g1 = z[1, j] - lower[1, j]
                if not g1 < 0.0:
                    continue
                b0 = lower[0, j]
                g0 = z[0, j] - b0
            else:
                if not check_upper[j]:
                    continue
                g1 = upper[1, j] - z[1, j]
                if not g1 < 0.0:
                    continue
                b0 = upper[0, j]
                g0 = b0 - z[0, j]
            scale = 1.0 + abs(b0) + abs(g0)
            if not g1 < -noise_rate * scale:
                continue
            allow = feasible * scale
            if g0 < -allow:
                return -1, 0.0, -1, 0
            if g0 <= allow:
                rate = -g1 / scale
                if rate > at_best or (rate == at_best and _first(side, j, at_side, at_var)):
                    at_best, at_var, at_side = rate, j, side
            elif at_var < 0:  # once one leaves here, none further on matters
                s = g0 / -g1
                if s < s_best or (s == s_best and _first(side, j, s_side, s_var)):
                    s_best, s_var, s_side = s, j, side
    if at_var >= 0:
        return 1, 0.0, at_var, at_side
    if s_var < 0 or s_best >= room:
        return 0, room, -1, 0
    return 0, s_best, s_var, s_side


@njit(cache=True)
def _first(side, j, best_side, best_j):  # type: ignore[no-untyped-def]
    """Whether (``side``, ``j``) comes before the best so far in index order (lower bounds
    first, then by index): of equal candidates, the one numpy's test took."""
    return best_j < 0 or side < best_side or (side == best_side and j < best_j)


# codes :func:`walk_line` returns
WALK_END, WALK_DOUBT, WALK_FACTORISE = 0, 1, 2  # at the line's end; declined; eta file full


@njit(cache=True)
def walk_line(prog, lo, hi, same, noise_rate, feasible, max_steps, max_degenerate,  # type: ignore[no-untyped-def]
              moved, is_lower, start, rate, live, n, a_cols, a_rows, lu, etas, eta_cap, in_b0,
              basic, pos, status, can_rise, can_fall, check_lower, check_upper, lfin, ufin,
              movable, d, d2, y, z, lower, upper, scratch, support, tol_rel, tol_abs,
              dual_tol, stable, agree):
    """Along a straight line (``lo`` to ``hi``; its moved bounds ``moved``, ``is_lower``,
    ``start``, ``rate``) to its end, in one call: what
    :meth:`hwbopt.simplex.pivots.Pivoter._step` does piece after piece (the move to where
    the last piece ended, the pivot on the value its ratio test named, then ratio tests and
    pivots at that point until a piece goes on), with the same tests in the same order
    (:func:`move_line`, :func:`exits`, :func:`pivot`).

    ``prog`` carries the walk in and out (floats): where the piece starts, ``t``, the pieces
    crossed, the pivots at this point, whether a piece has started (1) or is to start at the
    first (0), the value the last ratio test named (where, which, its side) and, out only,
    the pivots taken. ``live``: two arrays of ``m`` (positions, and whether each is listed)
    where the walk keeps the basis positions whose value or bounds move (the rest never
    leave: :func:`exits` reads only these; on the county 280 of 3,009). Returns
    :data:`WALK_END`, :data:`WALK_DOUBT` (the caller re-solves), or :data:`WALK_FACTORISE`:
    the eta file is full; factorise and call again with ``prog`` as it is."""
    a, t = prog[0], prog[1]
    steps, k, phase = int(prog[2]), int(prog[3]), int(prog[4])
    next_at, next_var, next_side = prog[5], int(prog[6]), int(prog[7])
    pivots = 0
    code = WALK_DOUBT
    rows, listed = live
    count = 0
    for r in range(basic.shape[0]):
        j = basic[r]
        listed[r] = z[1, j] != 0.0 or lower[1, j] != 0.0 or upper[1, j] != 0.0
        if listed[r]:
            rows[count] = r
            count += 1
    while True:
        named = False
        if phase == 0:  # a piece starts at a: move there, then the value named there leaves
            move_line(z, lower, upper, status, a - t, a - lo, moved, is_lower, start, rate)
            t = a
            at, var, side = next_at, next_var, next_side
            next_at, next_var, next_side = np.nan, -1, 0
            phase, k = 1, 0
            named = at == a and status[var] == BASIC
        if not named:
            if k >= max_degenerate:
                break
            c, reach, var, side = exits(z, lower, upper, check_lower, check_upper,
                                        noise_rate, feasible, hi - t, basic, rows, count)
            if c < 0:
                break
            if c == 0 and (var < 0 or reach > same):  # the piece goes on to a + reach
                if var >= 0:  # its end, and which value leaves there
                    next_at, next_var, next_side = t + reach, var, side
                steps += 1
                end = a + reach
                if end >= hi - same:
                    move_line(z, lower, upper, status, hi - t, hi - lo, moved, is_lower,
                              start, rate)
                    t = hi
                    code = WALK_END
                    break
                if steps >= max_steps:
                    break
                a = end
                phase = 0
                continue
            # leaves here (or a sliver: its end is this value)
        r = pos[var]
        c, _, n_aq = pivot(r, side, n, a_cols, a_rows, lu, etas, eta_cap, in_b0, basic, pos,
                           status, can_rise, can_fall, check_lower, check_upper, lfin, ufin,
                           movable, d, d2, y, z, lower, upper, scratch, support, tol_rel,
                           tol_abs, dual_tol, stable, agree)
        if not named:  # as in _step: the named pivot does not count towards max_degenerate
            k += 1
        if c == DOUBT:
            break
        pivots += 1
        # the values that moved: the entering one at r, and where α_q is not 0
        aq_nz = support[2]
        for p in range(-1, n_aq):
            i = r if p < 0 else aq_nz[p]
            if not listed[i]:
                listed[i] = True
                rows[count] = i
                count += 1
        if c == FULL:
            code = WALK_FACTORISE
            break
    prog[0], prog[1], prog[2], prog[3], prog[4] = a, t, steps, k, phase
    prog[5], prog[6], prog[7], prog[8] = next_at, next_var, next_side, pivots
    return code


@njit(cache=True)
def taylor_shift(z, s):  # type: ignore[no-untyped-def]
    """Each column's Taylor coefficients (rows, ascending) re-centred ``s`` on: one synthetic
    division per order, in place."""
    deg = z.shape[0] - 1
    for j in range(deg):
        for k in range(deg - 1, j - 1, -1):
            for i in range(z.shape[1]):
                z[k, i] += z[k + 1, i] * s


@njit(cache=True)
def _transpose(ptr, idx, val, m):  # type: ignore[no-untyped-def]
    """The transpose of an ``m × m`` matrix by columns, by columns (a counting sort)."""
    count = np.zeros(m + 1, dtype=np.int64)
    for k in range(ptr[m]):
        count[idx[k] + 1] += 1
    for i in range(m):
        count[i + 1] += count[i]
    t_idx = np.empty(ptr[m], dtype=np.int64)
    t_val = np.empty(ptr[m])
    fill = count[:m].copy()
    for j in range(m):
        for k in range(ptr[j], ptr[j + 1]):
            q = fill[idx[k]]
            t_idx[q] = j
            t_val[q] = val[k]
            fill[idx[k]] += 1
    return count, t_idx, t_val


@njit(cache=True)
def _strict(ptr, idx, val, m):  # type: ignore[no-untyped-def]
    """A square matrix by columns without its diagonal, and the diagonal."""
    keep = np.empty(m + 1, dtype=np.int64)
    s_idx = np.empty(ptr[m], dtype=np.int64)
    s_val = np.empty(ptr[m])
    diag = np.zeros(m)
    q = 0
    keep[0] = 0
    for j in range(m):
        for k in range(ptr[j], ptr[j + 1]):
            if idx[k] == j:
                diag[j] += val[k]
            else:
                s_idx[q] = idx[k]
                s_val[q] = val[k]
                q += 1
        keep[j + 1] = q
    return keep, s_idx[:q].copy(), s_val[:q].copy(), diag


@njit(cache=True)
def factors(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, perm_r, perm_c):  # type: ignore[no-untyped-def]
    """SuperLU's ``L`` and ``U`` (by columns) in the layout :func:`ftran` and :func:`btran`
    take: each strict part by columns and by rows, ``U``'s diagonal, the permutations and
    the inverse of the column one."""
    m = perm_r.shape[0]
    lp, li, lx, _ = _strict(l_ptr, l_idx, l_val, m)
    up, ui, ux, ud = _strict(u_ptr, u_idx, u_val, m)
    ltp, lti, ltx = _transpose(lp, li, lx, m)
    utp, uti, utx = _transpose(up, ui, ux, m)
    inv_c = np.empty(m, dtype=np.int64)  # where each of U's columns goes back to
    for j in range(m):
        inv_c[perm_c[j]] = j
    return (lp, li, lx, ltp, lti, ltx, up, ui, ux, utp, uti, utx, ud,
            perm_r.astype(np.int64), perm_c.astype(np.int64), inv_c)


@njit(cache=True)
def aim(lower, upper, lfin, ufin, movable, status, d, z1, moved, m_ptr, m_idx, m_val, cols,  # type: ignore[no-untyped-def]
        basic, lu, etas, rhs, aq, work):
    """A new straight line from here (:meth:`hwbopt.simplex.pivots.Pivoter.aim`), its moved
    bounds already set (:func:`line_bounds`): False if a moved bound appears or goes (state
    untouched). Else each moved value that may now move is marked so, a held value the line
    opens put on the bound its reduced cost ``d`` allows, and the rates ``z1`` found afresh:
    nonbasic values follow their bounds', basic ones solve ``B z1_B = −M_N z1_N`` (``M``'s
    moved columns ``cols`` by columns in ``m_ptr, m_idx, m_val``)."""
    for q in range(moved.shape[0]):
        j = moved[q]
        if np.isfinite(lower[0, j]) != lfin[j] or np.isfinite(upper[0, j]) != ufin[j]:
            return False
    for q in range(moved.shape[0]):
        j = moved[q]
        now = lower[0, j] < upper[0, j] or lower[1, j] != upper[1, j]
        if now and not movable[j] and status[j] != BASIC:  # opened
            status[j] = LOWER if d[j] >= 0.0 else UPPER
        movable[j] = now
    z1[:] = 0.0
    for q in range(moved.shape[0]):
        j = moved[q]
        if status[j] == LOWER:
            z1[j] = lower[1, j]
        elif status[j] == UPPER:
            z1[j] = upper[1, j]
    rhs[:] = 0.0
    for c in range(cols.shape[0]):  # by columns, as SciPy's product would
        v = z1[cols[c]]
        for k in range(m_ptr[c], m_ptr[c + 1]):
            rhs[m_idx[k]] += m_val[k] * v
    for i in range(rhs.shape[0]):
        rhs[i] = -rhs[i]
    ftran(lu, etas, rhs, aq, work)
    for i in range(basic.shape[0]):
        z1[basic[i]] = aq[i]
    return True


@njit(cache=True)
def masks(status, movable, lfin, ufin, can_rise, can_fall, check_lower, check_upper):  # type: ignore[no-untyped-def]
    """Which nonbasic values may rise or fall from their bound, and which basic ones have a
    finite bound to check, from the statuses (in place: the pivots update them in turn)."""
    for j in range(status.shape[0]):
        st = status[j]
        free = st == ZERO
        can_rise[j] = movable[j] and (st == LOWER or free)
        can_fall[j] = movable[j] and (st == UPPER or free)
        basic = st == BASIC
        check_lower[j] = basic and lfin[j]
        check_upper[j] = basic and ufin[j]


@njit(cache=True)
def segment(col_lower, col_upper, row_lower, row_upper, cols, rows, n, lower, upper,  # type: ignore[no-untyped-def]
            is_lower, start, rate):
    """A walk's next line (:meth:`hwbopt.batch.walk.Walker.to`): the moved bounds where they
    stand now (``lower``, ``upper`` row 0 at ``cols`` and ``n`` + ``rows``, in the order
    column lower, column upper, row lower, row upper) into ``start``, and their rates to the
    scenario's bounds into ``rate``; False if a bound appears or goes (finite at one end
    only), when neither is usable."""
    q = 0
    for arr in range(4):
        at = cols if arr < 2 else rows
        shift = 0 if arr < 2 else n
        for k in range(at.shape[0]):
            i = at[k]
            if arr == 0:
                end = col_lower[i]
            elif arr == 1:
                end = col_upper[i]
            elif arr == 2:
                end = row_lower[i]
            else:
                end = row_upper[i]
            j = i + shift
            now = lower[0, j] if is_lower[q] else upper[0, j]
            if np.isfinite(end) != np.isfinite(now):
                return False
            start[q] = now
            rate[q] = end - now if np.isfinite(end) else 0.0
            q += 1
    return True


@njit(cache=True)
def line_bounds(lower, upper, at, moved, is_lower, start, rate):  # type: ignore[no-untyped-def]
    """The moved bounds of a straight input ``at`` from its start: ``start + rate · at``,
    rate ``rate``."""
    for q in range(moved.shape[0]):
        j = moved[q]
        arr = lower if is_lower[q] else upper
        arr[0, j] = start[q] + rate[q] * at
        arr[1, j] = rate[q]


@njit(cache=True)
def move_line(z, lower, upper, status, s, at, moved, is_lower, start, rate):  # type: ignore[no-untyped-def]
    """Along a straight input, ``s`` on (``at`` from the line's start): every value
    re-centred (``z₀ += z₁ s``), the moved bounds at their new values (``start + rate ·
    at``, rate ``rate``), and the nonbasic values on them put exactly there (no drift)."""
    if s != 0.0:
        for j in range(z.shape[1]):
            z[0, j] += z[1, j] * s
    line_bounds(lower, upper, at, moved, is_lower, start, rate)
    for q in range(moved.shape[0]):
        j = moved[q]
        if is_lower[q] and status[j] == LOWER:
            z[0, j], z[1, j] = lower[0, j], lower[1, j]
        elif not is_lower[q] and status[j] == UPPER:
            z[0, j], z[1, j] = upper[0, j], upper[1, j]


@njit(cache=True)
def move_curve(z, lower, upper, status, s, u0, half, ders, moved, is_lower):  # type: ignore[no-untyped-def]
    """Along an input that moves the bounds along a polynomial, ``s`` on: every value's Taylor
    coefficients re-centred (:func:`taylor_shift`), the moved bounds' coefficients at the new
    point ``u0`` (in the line's own variable ``u``; ``half`` the range's half-width, so the
    ``k``-th row is the ``k``-th derivative in ``t`` over ``k!``: :meth:`Line.taylor`'s
    formula, to rounding (powers by repeated products here), from its ``ders[k, i, q]``, the
    coefficient of ``uⁱ`` in the ``k``-th derivative over ``k!`` of moved bound ``q``), and
    the nonbasic values on them put exactly there."""
    deg = z.shape[0] - 1
    if s != 0.0:
        taylor_shift(z, s)
    powers = np.empty(deg + 1)
    scale = np.empty(deg + 1)
    for i in range(deg + 1):
        powers[i] = u0 ** i
        scale[i] = half ** -float(i)
    for q in range(moved.shape[0]):
        j = moved[q]
        arr = lower if is_lower[q] else upper
        for k in range(deg + 1):
            v = 0.0
            for i in range(deg + 1):
                v += ders[k, i, q] * powers[i]
            arr[k, j] = v * scale[k]
    for q in range(moved.shape[0]):
        j = moved[q]
        if is_lower[q] and status[j] == LOWER:
            for k in range(deg + 1):
                z[k, j] = lower[k, j]
        elif not is_lower[q] and status[j] == UPPER:
            for k in range(deg + 1):
                z[k, j] = upper[k, j]


@njit(cache=True)
def snapshot(z, n):  # type: ignore[no-untyped-def]
    """The first ``n`` values of ``z`` as a piece keeps them: the values (row 0, dense) and
    the rates (rows 1 on) of only the columns that move, with which those are. Most do not
    (on the county about one in seven), and a dense copy of every row for each piece cost
    more in fresh memory than its pivots."""
    deg = z.shape[0] - 1
    cols = np.empty(n, dtype=np.int64)
    count = 0
    for j in range(n):
        moving = False
        for k in range(1, deg + 1):
            if z[k, j] != 0.0:
                moving = True
                break
        cols[count] = j
        count += moving
    x0 = z[0, :n].copy()
    dx = np.empty((deg, count))
    for q in range(count):
        for k in range(deg):
            dx[k, q] = z[k + 1, cols[q]]
    return x0, cols[:count].copy(), dx


@njit(cache=True)
def _plan_at(x0, cols, dx, p, out):  # type: ignore[no-untyped-def]
    """``x0 + Σ_k dx[k] p[k]`` with the rates on ``cols`` only, into ``out``."""
    out[:] = x0
    for q in range(cols.shape[0]):
        v = 0.0
        for k in range(dx.shape[0]):
            v += dx[k, q] * p[k]
        out[cols[q]] += v


@njit(cache=True)
def same_lines(x0a, colsa, dxa, t0a, x0b, colsb, dxb, t0b, ts, tol):  # type: ignore[no-untyped-def]
    """Whether ``x0a + Σ_k dxa[k] (t − t0a)^(k+1)`` (rates on ``colsa``) and the same of ``b``
    agree at each of ``ts`` within ``tol`` (relative to ``1 + |b|``): :meth:`Piece.same_rates`,
    with :meth:`Piece.x`'s arithmetic, stopping at the first difference."""
    pa, pb = np.empty(dxa.shape[0]), np.empty(dxb.shape[0])
    a, b = np.empty(x0a.shape[0]), np.empty(x0b.shape[0])
    for q in range(ts.shape[0]):
        sa, sb = ts[q] - t0a, ts[q] - t0b
        for k in range(dxa.shape[0]):
            pa[k] = sa ** (k + 1)
        for k in range(dxb.shape[0]):
            pb[k] = sb ** (k + 1)
        _plan_at(x0a, colsa, dxa, pa, a)
        _plan_at(x0b, colsb, dxb, pb, b)
        for j in range(a.shape[0]):
            if not abs(a[j] - b[j]) <= tol * (1.0 + abs(b[j])):
                return False
    return True


@njit(cache=True)
def _horner(c, d, s):  # type: ignore[no-untyped-def]
    """``Σ_{i ≤ d} c[i] sⁱ`` (``c`` a row of coefficients, ascending)."""
    out = 0.0
    for i in range(d, -1, -1):
        out = out * s + c[i]
    return out


@njit(cache=True)
def _root(c, dc, d, lo, hi):  # type: ignore[no-untyped-def]
    """The root of ``f = Σ c[i] sⁱ`` (degree ``d``; ``dc`` its derivative's coefficients) in
    [``lo``, ``hi``], where ``f`` is monotone and changes sign: Newton's steps kept inside
    the bracket, halving it where a step would leave it or shrink it too little (``rtsafe``,
    Numerical Recipes §9.4), to the last bit."""
    if _horner(c, d, lo) < 0.0:
        neg, pos = lo, hi
    else:
        neg, pos = hi, lo
    x = 0.5 * (lo + hi)
    step_old = abs(hi - lo)
    step = step_old
    f = _horner(c, d, x)
    df = _horner(dc, d - 1, x)
    for _ in range(100):
        if ((x - pos) * df - f) * ((x - neg) * df - f) > 0.0 or abs(2.0 * f) > abs(step_old * df):
            step_old = step
            step = 0.5 * (pos - neg)
            x = neg + step
            if x == neg:
                break
        else:
            step_old = step
            step = f / df
            before = x
            x -= step
            if x == before:
                break
        if abs(step) <= 1e-16 * max(1.0, abs(x)):
            break
        f = _horner(c, d, x)
        if f == 0.0:
            break
        df = _horner(dc, d - 1, x)
        if f < 0.0:
            neg = x
        else:
            pos = x
    return x


@njit(cache=True)
def least_exit(c, smax, bound, tiny):  # type: ignore[no-untyped-def]
    """The least root in (``tiny``, ``bound``) after which ``g(s) = Σ c[i] sⁱ`` turns negative;
    ``smax`` if none (``bound`` ≤ ``smax``: a root past it cannot be the least of the ratio
    test). ``c[0] + c[1] s`` plus the falling higher terms bounds ``g`` from below, and is
    concave in ``s ≥ 0``: positive at 0 and at ``bound``, it is positive between, and there is
    no root. Otherwise the roots are isolated exactly: between consecutive roots of its
    derivative a polynomial is monotone, so each derivative's roots, from the straight line up,
    split [0, ``bound``] into pieces with at most one root each, found by :func:`_root`."""
    d = c.shape[0] - 1
    while d > 0 and c[d] == 0.0:
        d -= 1
    if d == 0:
        return smax
    low = c[0] + c[1] * bound
    for i in range(2, d + 1):
        if c[i] < 0.0:
            low += c[i] * bound ** i
    if c[0] > 0.0 and low > 0.0:
        return smax
    if d == 1:  # a straight line: exact
        if c[1] < 0.0:
            r = c[0] / -c[1]
            if tiny < r < bound:
                return r
        return smax
    der = np.zeros((d, d + 1))  # der[k]: the k-th derivative, degree d − k
    for i in range(d + 1):
        der[0, i] = c[i]
    for k in range(1, d):
        for i in range(d - k + 1):
            der[k, i] = der[k - 1, i + 1] * (i + 1)
    points = np.empty(d + 1)  # the roots of the derivative one up, ascending
    n_points = 0
    if der[d - 1, 1] != 0.0:  # the (d−1)-th derivative: a straight line
        r = -der[d - 1, 0] / der[d - 1, 1]
        if 0.0 < r < bound:
            points[0] = r
            n_points = 1
    found = np.empty(d + 1)
    for k in range(d - 2, -1, -1):
        dk = d - k
        n_found = 0
        left = 0.0
        f_left = _horner(der[k], dk, left)
        for q in range(n_points + 1):
            right = points[q] if q < n_points else bound
            f_right = _horner(der[k], dk, right)
            if k == 0:
                if f_left >= 0.0 > f_right:  # g turns negative in (left, right]
                    r = left if f_left == 0.0 else _root(der[0], der[1], d, left, right)
                    if r > tiny:
                        return r
            elif (f_left > 0.0 > f_right) or (f_left < 0.0 < f_right):
                found[n_found] = _root(der[k], der[k + 1], dk, left, right)
                n_found += 1
            left, f_left = right, f_right
        points[:n_found] = found[:n_found]
        n_points = n_found
    return smax


@njit(cache=True)
def least_exits(coef, smax, tiny):  # type: ignore[no-untyped-def]
    """:func:`least_exit` of each column of ``coef`` (ascending coefficients, one polynomial
    a column): the HiGHS route's ratio test (``curve._first_exit``) asks for all of them."""
    out = np.empty(coef.shape[1])
    c = np.empty(coef.shape[0])
    for j in range(coef.shape[1]):
        for i in range(coef.shape[0]):
            c[i] = coef[i, j]
        out[j] = least_exit(c, smax, smax, tiny)
    return out


@njit(cache=True)
def exits_curved(z, lower, upper, check_lower, check_upper, noise, feasible, smax,  # type: ignore[no-untyped-def]
                 width):
    """The ratio test of an input that moves the bounds along a polynomial
    (``Pivoter._exits_curved``, whose numpy it replaces step for step): returns (code, s,
    value, side, reach value, reach side). Code −1: a value is already outside its bounds;
    1: ``value`` leaves here on ``side`` (of the values at their bound and moving out, the
    fastest for its size); 0: none leaves here, the basis stays feasible for ``s``, where
    ``reach value`` meets its bound on ``reach side`` (−1: none, the line's end)."""
    deg = z.shape[0] - 1
    nm = z.shape[1]
    tiny = 1e-14 * width
    noise_at = np.empty(deg)  # a coefficient below noise_at[k-1] · scale moves its value by
    for k in range(deg):  # less than ``noise`` of its scale over the range: none
        noise_at[k] = noise / width ** (k + 1)
    coef = np.empty(deg + 1)
    best, reach_var, reach_side = smax, -1, 0
    lead_best, leave_var, leave_side = 0.0, -1, 0
    maybe = np.empty(nm, dtype=np.int64)  # the values whose root may come first
    reach_pow = np.empty(deg + 1)  # powers of the reach so far: the quick bound below
    for side in (-1, 1):
        check = check_lower if side < 0 else check_upper
        bound = lower if side < 0 else upper
        for k in range(deg + 1):
            reach_pow[k] = best ** k
        # one pass: the values at their bound and moving out (any: the side's roots are not
        # needed), and those whose distance may reach its bound before the reach so far
        at_best, at_var = -np.inf, -1
        n_maybe = 0
        for j in range(nm):
            if not check[j]:
                continue
            moving = False
            for k in range(1, deg + 1):
                if z[k, j] != bound[k, j]:
                    moving = True
                    break
            if not moving:
                continue
            g0 = (z[0, j] - bound[0, j]) * -side
            scale = 1.0 + abs(bound[0, j]) + abs(g0)
            allow = feasible * scale
            if g0 < -allow:
                return -1, 0.0, -1, 0, -1, 0
            lead = 0.0
            for k in range(1, deg + 1):
                g = (z[k, j] - bound[k, j]) * -side
                coef[k] = 0.0 if abs(g) <= noise_at[k - 1] * scale else g
                if lead == 0.0:
                    lead = coef[k]
            if g0 <= allow and lead < 0.0:
                if -lead / scale > at_best:
                    at_best, at_var = -lead / scale, j
                continue
            if at_var >= 0:
                continue
            # a value at its bound (and moving in) leaves where it comes back to it. g0 +
            # g1 s + the falling higher terms bound the distance from below; that bound is
            # concave in s, so positive at 0 and at the reach so far it is positive between:
            # no root before the reach
            coef[0] = g0 if g0 > allow else 0.0
            low = coef[0] + coef[1] * reach_pow[1]
            for k in range(2, deg + 1):
                if coef[k] < 0.0:
                    low += coef[k] * reach_pow[k]
            if coef[0] > 0.0 and low > 0.0:
                continue
            maybe[n_maybe] = j
            n_maybe += 1
        if at_var >= 0:
            if at_best > lead_best:
                lead_best, leave_var, leave_side = at_best, at_var, side
            continue
        side_max = best
        for q in range(n_maybe):
            j = maybe[q]
            g0 = (z[0, j] - bound[0, j]) * -side
            scale = 1.0 + abs(bound[0, j]) + abs(g0)
            coef[0] = g0 if g0 > feasible * scale else 0.0
            for k in range(1, deg + 1):
                g = (z[k, j] - bound[k, j]) * -side
                coef[k] = 0.0 if abs(g) <= noise_at[k - 1] * scale else g
            e = least_exit(coef, side_max, best, tiny)
            if e < best:
                best, reach_var, reach_side = e, j, side
    if leave_var >= 0:
        return 1, 0.0, leave_var, leave_side, reach_var, reach_side
    return 0, best, -1, 0, reach_var, reach_side
