"""The curve's fast path: the pivots at each breakpoint done here, on the basis, without a
HiGHS run (parametric dual simplex; see ``models/curve.md``, "The fast path").

A HiGHS run per breakpoint costs a few milliseconds of fixed work (restarting its dual simplex
after the bounds change) for usually one pivot. Here the LP is held as ``[A | −I] z = 0`` over
``z = (x, r)``, ``r = A x`` the row activities, each within its column or row bounds; the basis
``B`` (``m`` of those columns) is factorised with SuperLU and then updated by the
Sherman–Morrison–Woodbury formula (each pivot adds one column to a small dense correction),
refactorised every :data:`REFACTOR` pivots. Every value is kept as Taylor coefficients in ``t``
(row 0 the values, row ``k`` the ``k``-th coefficient of their rates), so one update moves
values and rates together.

At a breakpoint ``a`` (where the last piece's ratio test stopped):

1. **leaving**: the basic value that leaves its bounds just past ``a`` (at its bound and
   moving out; of several, the one moving out fastest for its size);
2. **entering**: the row of the tableau for it (one transposed solve, ``ρ = B⁻ᵀ e_r``, then
   ``ρᵀ[A | −I]``) and the dual ratio test over the nonbasic values that can move the leaving
   one back inside (Harris's two passes; among the nearly tied, whose pivots are not far below
   the largest, the least ratio of a second, fixed cost: ties broken alike each time); the
   reduced costs and duals follow (``d −= θ α_r``, ``y += θ ρ``);
3. **update**: the entering column (one solve, ``α_q = B⁻¹ a_q``) moves the basic values and
   rates so that the leaving value sits on its bound with its bound's rate;
4. again while some basic value still leaves at ``a`` (a degenerate breakpoint); then the
   primal ratio test gives the new piece's end.

Anything doubtful makes :meth:`Pivoter.advance` return None, and the caller takes a HiGHS warm
re-solve for that step: no entering value (the LP has no solution past ``a``), a pivot too
small, or the pivot read from the row and from the column disagreeing, a basic value outside
its bounds after a refactorisation, more than :data:`MAX_DEGENERATE` pivots at one value, or a
singular basis. Each piece is then certified at its ends by
:func:`hwbopt.batch.certify.lp_optimal` (``hwbopt.analyses.curve``); one that fails is traced
again by HiGHS re-solves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

if TYPE_CHECKING:
    from hwbopt.analyses.curve import Line
    from hwbopt.compile import Compiled

LOWER, BASIC, UPPER, ZERO = 0, 1, 2, 3  # HiGHS's basis statuses (HighsBasisStatus)
REFACTOR = 64  # pivots between factorisations: the Woodbury correction grows by one each,
# and its cost per solve with it (measured on the county: 64 balances the two)
CORRECTION_FLOATS = 4_000_000  # the correction's two (pivots, rows) arrays hold at most this
# many numbers each (32 MB): fewer pivots between factorisations on a large model
MAX_DEGENERATE = 40  # pivots at one value of the input before the HiGHS re-solve takes over
PIVOT_REL, PIVOT_ABS = 1e-7, 1e-9  # a pivot smaller than this share of its row's largest
# entry, or absolutely, is not taken
DUAL_TOL = 1e-9  # Harris's relaxation of the reduced costs in the dual ratio test
STABLE = 1e-3  # a tied entering value's pivot is at least this share of the largest tied one
AGREE = 1e-7  # the pivot read from the row and from the column agree this closely
DUAL_FEASIBLE = 1e-7  # a reduced cost of the wrong sign beyond this share of its cost's size:
# not an optimal basis to start from
PIVOT_THRESHOLD = 0.1  # SuperLU's threshold partial pivoting: sparser factors, faster solves
# (measured on the county's bases) for a bounded growth


@dataclass
class Found:
    """One piece the pivots found: the basis is optimal on ``[lo, hi]``; ``x``: Taylor
    coefficients of the columns at ``lo`` (row 0 the values); ``dual``: row duals in HiGHS's
    convention (``d = c − Aᵀy`` in the model's own sense)."""

    lo: float
    hi: float
    x: np.ndarray  # (degree + 1, columns)
    dual: np.ndarray


class Pivoter:
    """The LP with the plan's integer decisions held, pivoted along the line by itself."""

    def __init__(self, comp: Compiled, line: Line, *, noise: float, feasible: float,
                 same: float):
        self.line, self.noise, self.feasible, self.same = line, noise, feasible, same
        n, m = comp.n_cols, comp.n_rows
        self.n, self.m, self.deg = n, m, line.degree
        a = sp.csc_array(comp.A)
        self.M = sp.hstack([a, -sp.identity(m, format="csc")], format="csc")
        self.A = sp.csr_array(a)
        self.AT = sp.csr_array(a.T)
        self.sense = int(comp.sense)
        self.cost = np.concatenate([self.sense * np.asarray(comp.c, dtype=float), np.zeros(m)])
        # a second cost, fixed, only to break the dual ratio test's ties alike each time (the
        # county's LP has hundreds of zero reduced costs: many optimal plans, and a choice among
        # them made afresh at each breakpoint makes the followed plan change its rates more
        # often: 648 pieces against 553 on the county's cut, 114 against 56 on a pool share)
        self.cost2 = np.random.default_rng(0).uniform(1.0, 2.0, n + m) * (1.0 + np.abs(self.cost))
        self.d2 = np.zeros(n + m)  # its reduced costs
        # bounds over z as Taylor coefficients at the current t; the moved ones from the
        # input's polynomial (exact for a straight input up to rounding: the certificate
        # checks the pieces against the engine's own formulas)
        self.lower = np.zeros((self.deg + 1, n + m))
        self.upper = np.zeros((self.deg + 1, n + m))
        self.lower[0] = np.concatenate([comp.col_lower, comp.row_lower])
        self.upper[0] = np.concatenate([comp.col_upper, comp.row_upper])
        offset = {"col_lower": 0, "col_upper": 0, "row_lower": n, "row_upper": n}
        self._moved = {name: pos + offset[name] for name, pos in line.moved.items()}
        self._at_lo = line.taylor(line.lo)  # a straight input's values and rates
        self.t = line.lo
        self._set_bounds(line.lo)
        self.lfin = np.isfinite(self.lower[0])
        self.ufin = np.isfinite(self.upper[0])
        self.movable = self.lower[0] < self.upper[0]
        # the basis and its state
        self.basic = np.zeros(m, dtype=np.int64)
        self._pos = np.zeros(n + m, dtype=np.int64)  # each basic value's basis position
        self.status = np.zeros(n + m, dtype=np.int8)
        self.z = np.zeros((self.deg + 1, n + m))  # Taylor coefficients of every value at t
        self.y = np.zeros(m)  # row duals of the minimisation
        self.d = np.zeros(n + m)  # reduced costs of the minimisation
        self.can_rise = np.zeros(n + m, dtype=bool)  # nonbasic, may move up from its bound
        self.can_fall = np.zeros(n + m, dtype=bool)
        self.check_lower = np.zeros(n + m, dtype=bool)  # basic with a finite lower bound
        self.check_upper = np.zeros(n + m, dtype=bool)
        self._lu: spla.SuperLU | None = None
        # the Woodbury correction, one row per replaced position p (rows: contiguous writes)
        self.refactor = min(REFACTOR, max(8, CORRECTION_FLOATS // max(m, 1)))
        self._w = np.zeros((self.refactor, m))  # B0⁻¹ (new column) − e_p
        self._r = np.zeros((self.refactor, m))  # B0⁻ᵀ e_p
        self._at: list[int] = []  # basis positions replaced since the factorisation
        self._atv = np.zeros(0, dtype=np.int64)  # the same, as an array
        self._cinv: np.ndarray = np.zeros((0, 0))  # C⁻¹, C = I + W[P]: the Woodbury core
        self._in_b0 = np.full(n + m, -1, dtype=np.int64)  # position in B0, or -1
        self._cols: dict[int, np.ndarray] = {}
        self._rows: dict[int, np.ndarray] = {}
        self.ready = False
        # where the last piece ends and the value (and side) that leaves its bounds there
        self._next: tuple[float, int, int] = (np.nan, -1, 0)
        self.pivots = 0
        self.factorisations = 0
        self.solves = 0  # SuperLU solves with the factors (the benchmark's account of the cost)

    # ---- bounds ---------------------------------------------------------------------------

    def _set_bounds(self, t: float) -> None:
        """The moved bounds' coefficients at ``t``."""
        if self.line.affine:
            s = t - self.line.lo
            for name, pos in self._moved.items():
                coef = self._at_lo[name]
                arr = self.lower if name.endswith("lower") else self.upper
                arr[0, pos] = coef[0] + coef[1] * s
                arr[1, pos] = coef[1]
            return
        tay = self.line.taylor(t)
        for name, pos in self._moved.items():
            arr = self.lower if name.endswith("lower") else self.upper
            arr[:, pos] = tay[name]

    def _on_bounds(self, cols: np.ndarray | slice) -> None:
        """Nonbasic values among ``cols`` onto their active bound (0 if free)."""
        st = self.status[cols]
        self.z[:, cols] = np.where(st == LOWER, self.lower[:, cols],
                                   np.where(st == UPPER, self.upper[:, cols],
                                            np.where(st == BASIC, self.z[:, cols], 0.0)))

    # ---- the factorisation ----------------------------------------------------------------

    def _factorise(self) -> bool:
        b = sp.csc_array(self.M[:, self.basic])
        try:
            lu = spla.splu(b, permc_spec="COLAMD", diag_pivot_thresh=PIVOT_THRESHOLD)
        except RuntimeError:  # singular
            self._lu = None
            return False
        self._lu = lu
        self._at, self._atv, self._cinv = [], np.zeros(0, dtype=np.int64), np.zeros((0, 0))
        # solves with the factors that need none: a column of the factorised basis (position
        # p: e_p), and columns and rows solved since (a value that left often comes back)
        self._in_b0[:] = -1
        self._in_b0[self.basic] = np.arange(self.m)
        self._cols = {}
        self._rows = {}
        self.factorisations += 1
        return True

    def _solve(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``B⁻¹ b`` and ``B0⁻¹ b`` (the factorised basis's, for the next update)."""
        assert self._lu is not None
        self.solves += 1
        return self._corrected(self._lu.solve(b))

    def _corrected(self, y0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``B⁻¹ b`` from ``y0 = B0⁻¹ b`` (Woodbury), and ``y0``."""
        k = len(self._at)
        if not k:
            return y0, y0
        return y0 - (self._cinv @ y0[self._atv]) @ self._w[:k], y0

    def _solve_column(self, var: int) -> tuple[np.ndarray, np.ndarray]:
        """``B⁻¹ a`` and ``B0⁻¹ a`` for the column of ``z`` value ``var``."""
        y0 = self._cols.get(var)
        if y0 is None:
            p = int(self._in_b0[var])
            if p >= 0:
                y0 = np.zeros(self.m)
                y0[p] = 1.0
            else:
                assert self._lu is not None
                col = np.zeros(self.m)  # the column of [A | −I], read off its storage
                span = slice(self.M.indptr[var], self.M.indptr[var + 1])
                col[self.M.indices[span]] = self.M.data[span]
                y0 = self._lu.solve(col)
                self.solves += 1
            self._cols[var] = y0
        return self._corrected(y0)

    def _solve_row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """``B⁻ᵀ e_r`` (row ``r`` of ``B⁻¹``) and ``B0⁻ᵀ e_r``."""
        r0 = self._rows.get(r)
        if r0 is None:
            assert self._lu is not None
            e = np.zeros(self.m)
            e[r] = 1.0
            r0 = self._rows[r] = self._lu.solve(e, trans="T")
            self.solves += 1
        k = len(self._at)
        if not k:
            return r0, r0
        return r0 - (self._cinv.T @ self._w[:k, r]) @ self._r[:k], r0

    def _replace(self, r: int, w0: np.ndarray, r0: np.ndarray) -> bool:
        """Position ``r`` of the basis takes the column whose ``B0⁻¹ a`` is ``w0``: one more
        column of the Woodbury correction ``C = I + W[P]`` (or a new one for a position
        replaced before), its inverse bordered by one row and column when it grows."""
        k = len(self._at)
        w = self._w
        if r in self._at:
            i = self._at.index(r)
            w[i] = w0
            w[i, r] -= 1.0
            try:
                cinv = np.linalg.inv(np.eye(k) + w[:k, self._atv].T)
            except np.linalg.LinAlgError:
                return False
        else:
            w[k] = w0
            w[k, r] -= 1.0
            self._r[k] = r0
            col, row, corner = w[k, self._atv], w[:k, r], 1.0 + w[k, r]
            u, v = self._cinv @ col, row @ self._cinv
            schur = corner - row @ u
            if abs(schur) < PIVOT_ABS:
                return False
            cinv = np.empty((k + 1, k + 1))
            cinv[:k, :k] = self._cinv + np.outer(u, v) / schur
            cinv[:k, k] = -u / schur
            cinv[k, :k] = -v / schur
            cinv[k, k] = 1.0 / schur
            self._at.append(r)
            self._atv = np.append(self._atv, r)
        self._cinv = cinv
        return bool(np.all(np.isfinite(cinv)))

    # ---- loading a basis ------------------------------------------------------------------

    def load(self, basic: np.ndarray, x: np.ndarray, t: float) -> bool:
        """Start from the basis ``basic`` (indices into ``z``: columns, then ``n`` + row) at
        ``t``, whose columns' values there are ``x`` (which bound each nonbasic value is on is
        read from them); False if it is not an optimal basis there (the caller re-solves)."""
        self.ready = False
        self._next = (np.nan, -1, 0)
        if len(basic) != self.m:
            return False
        self.t = t
        self._set_bounds(t)
        value = np.concatenate([x, self.A @ x])
        lo, hi = self.lower[0], self.upper[0]
        near_lo = np.where(self.lfin, np.abs(value - lo), np.inf)
        near_hi = np.where(self.ufin, np.abs(hi - value), np.inf)
        status = np.where(near_lo <= near_hi, LOWER, UPPER).astype(np.int8)
        status[~self.lfin & ~self.ufin] = ZERO
        status[basic] = BASIC
        self.status, self.basic = status, np.asarray(basic, dtype=np.int64).copy()
        self._pos[self.basic] = np.arange(self.m)
        if not (self._factorise() and self._refresh()):
            return False
        self.ready = True
        return True

    def _masks(self) -> None:
        st, mov = self.status, self.movable
        self.can_rise = mov & ((st == LOWER) | (st == ZERO))
        self.can_fall = mov & ((st == UPPER) | (st == ZERO))
        basic = st == BASIC
        self.check_lower = basic & self.lfin
        self.check_upper = basic & self.ufin

    def _refresh(self) -> bool:
        """Basic values, rates and duals afresh from the factorisation, and whether the basis
        is optimal at ``t``: dual feasible, and primal feasible within the allowance."""
        self._masks()
        self._on_bounds(slice(None))
        z = self.z
        z[:, self.basic] = 0.0
        sol, _ = self._solve(-(self.M @ z.T))  # (m, degree + 1)
        z[:, self.basic] = np.asarray(sol).T
        assert self._lu is not None
        self.y = self._lu.solve(self.cost[self.basic], trans="T")
        self.solves += 1
        self.d = d = self._reduced(self.cost, self.y)
        self.d2 = self._reduced(self.cost2)
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(d))):
            return False
        scale = DUAL_FEASIBLE * (1.0 + np.abs(self.cost))
        if np.any((self.can_rise & (d < -scale)) | (self.can_fall & (d > scale))):
            return False
        # within the allowance of its bounds, each basic value
        v, lo, hi = z[0], self.lower[0], self.upper[0]
        allow = self.feasible * (1.0 + np.abs(np.where(self.lfin, lo, 0.0))
                                 + np.abs(np.where(self.ufin, hi, 0.0)))
        return not bool(np.any((self.check_lower & (v < lo - allow))
                               | (self.check_upper & (v > hi + allow))))

    def _reduced(self, cost: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Reduced costs ``cost − [A | −I]ᵀ y`` of the factorised basis (``y``: unless
        given, ``B⁻ᵀ cost_B``); 0 on the basic values."""
        assert self._lu is not None
        if y is None:
            y = self._lu.solve(cost[self.basic], trans="T")
            self.solves += 1
        d = cost.copy()
        d[: self.n] -= self.AT @ y
        d[self.n:] += y
        d[self.basic] = 0.0
        return d

    # ---- moving along the line ------------------------------------------------------------

    def _move(self, t: float) -> None:
        """Every value's Taylor coefficients re-centred at ``t``; nonbasic ones on their
        bounds there."""
        s = t - self.t
        z = self.z
        if s != 0.0:
            for j in range(self.deg):  # a Taylor shift: one synthetic division per order
                for k in range(self.deg - 1, j - 1, -1):
                    z[k] += z[k + 1] * s
        self.t = t
        self._set_bounds(t)
        for name, pos in self._moved.items():  # exactly on the moved bounds (no drift)
            on = pos[self.status[pos] == (LOWER if name.endswith("lower") else UPPER)]
            self.z[:, on] = (self.lower if name.endswith("lower") else self.upper)[:, on]

    def _exits(self) -> tuple[float, int, int] | None:
        """The primal ratio test forward from ``t``: how far the basis stays feasible, and
        the basis position and side (-1 lower, +1 upper) of the value that leaves first
        (-1, 0: none leaves here); None when a value is already outside its bounds.

        A value whose distance to a bound is within the allowance (``feasible`` of its scale)
        and falling leaves here; any other leaves exactly where it meets its bound; rates
        below ``noise`` of its scale over the range are none (as ``curve._first_exit``)."""
        if self.deg > 1:
            return self._exits_curved()
        z0, z1 = self.z[0], self.z[1]
        lo0, up0 = self.lower[0], self.upper[0]
        gl, gu = z1 - self.lower[1], self.upper[1] - z1  # the distances' rates
        cl = np.nonzero(self.check_lower & (gl < 0))[0]
        cu = np.nonzero(self.check_upper & (gu < 0))[0]
        g0 = np.concatenate([z0[cl] - lo0[cl], up0[cu] - z0[cu]])
        g1 = np.concatenate([gl[cl], gu[cu]])
        scale = 1.0 + np.abs(np.concatenate([lo0[cl], up0[cu]])) + np.abs(g0)
        out = g1 < -self.noise / self.line.width * scale
        allow = self.feasible * scale
        if np.any(out & (g0 < -allow)):
            return None
        at = out & (g0 <= allow)
        if at.any():  # leaves here: the fastest for its size first
            k = int(np.argmax(np.where(at, -g1 / scale, -np.inf)))
        else:
            s = np.where(out, g0 / np.where(out, -g1, 1.0), np.inf)
            k = int(np.argmin(s)) if len(s) else -1
            if k < 0 or s[k] >= self.line.hi - self.t:
                return self.line.hi - self.t, -1, 0
            if s[k] > self.same:  # the piece's end, and which value leaves there
                var = int(cl[k]) if k < len(cl) else int(cu[k - len(cl)])
                self._next = (self.t + float(s[k]), var, -1 if k < len(cl) else 1)
                return float(s[k]), -1, 0
        # leaves here (or a sliver: its end is this value)
        var, side = (int(cl[k]), -1) if k < len(cl) else (int(cu[k - len(cl)]), 1)
        return 0.0, self._position(var), side

    def _exits_curved(self) -> tuple[float, int, int] | None:
        """:meth:`_exits` for an input that moves the bounds along a polynomial."""
        smax = self.line.hi - self.t
        best, leaving, reach = smax, (-1, 0), (-1, 0)
        lead_best = 0.0
        width = self.line.width
        powers = np.array([width ** (k + 1) for k in range(self.deg)])[:, None]
        for side, check, bound in ((-1, self.check_lower, self.lower),
                                   (1, self.check_upper, self.upper)):
            # the distance to the bound, g0 + g1 s + ...: positive inside
            g = (self.z[1:] - bound[1:]) if side < 0 else (bound[1:] - self.z[1:])
            cand = np.flatnonzero(check & np.any(g != 0, axis=0))
            if not len(cand):
                continue
            g0 = (self.z[0, cand] - bound[0, cand]) * -side
            gc = g[:, cand]
            scale = 1.0 + np.abs(bound[0, cand]) + np.abs(g0)
            gc = np.where(np.abs(gc) <= self.noise * scale / powers, 0.0, gc)
            allow = self.feasible * scale
            if np.any(g0 < -allow):
                return None
            lead = _leading(gc)
            at = (g0 <= allow) & (lead < 0)
            if at.any():  # leaves here: the fastest for its size first
                k = int(np.argmax(np.where(at, -lead / scale, -np.inf)))
                if -lead[k] / scale[k] > lead_best:
                    lead_best, leaving = float(-lead[k] / scale[k]), (int(cand[k]), side)
                continue
            # a value at its bound (and moving in) leaves where it comes back to it
            room = np.where(g0 > allow, g0, 0.0)
            exits = least_exits(np.vstack([room, gc]), best, 1e-14 * width)
            k = int(np.argmin(exits))
            if exits[k] < best:
                best, reach = float(exits[k]), (int(cand[k]), side)
        if leaving[0] < 0 and best <= self.same and reach[0] >= 0:
            leaving = reach  # a sliver: its end is this value
        if leaving[0] >= 0:
            return 0.0, int(self._position(leaving[0])), leaving[1]
        return best, -1, 0

    def _position(self, var: int) -> int:
        """Where the basic value ``var`` sits in the basis."""
        return int(self._pos[var])

    # ---- one pivot ------------------------------------------------------------------------

    def _pivot(self, r: int, side: int) -> bool:
        """The basic value at position ``r`` leaves to its lower (``side`` -1) or upper (+1)
        bound; the entering value from the dual ratio test. False: doubt."""
        n = self.n
        leave = int(self.basic[r])
        rho, r0 = self._solve_row(r)
        alpha = np.empty(n + self.m)
        alpha[:n] = self.AT @ rho
        alpha[n:] = -rho
        # z_p = β − Σ α_j z_j: to come back up to its lower bound, a value that may rise
        # needs α_j < 0 and one that may fall α_j > 0 (the reverse for an upper bound)
        nz = np.nonzero(alpha)[0]  # the row is sparse: the test and updates on its support
        a_nz = alpha[nz]
        tol = max(PIVOT_ABS, PIVOT_REL * float(np.max(np.abs(a_nz), initial=0.0)))
        up, down = (a_nz < -tol, a_nz > tol) if side < 0 else (a_nz > tol, a_nz < -tol)
        ok = (self.can_rise[nz] & up) | (self.can_fall[nz] & down)
        idx = nz[ok]
        if not len(idx):
            return False  # dual unbounded: no solution past here
        size = np.abs(a_nz[ok])
        dj = np.abs(self.d[idx])
        bound = float(np.min((dj + DUAL_TOL) / size))
        # of the nearly tied (with pivots not far below the largest among them), the least
        # ratio of the second cost: the same choice each time the same values tie
        near = dj / size <= bound
        near &= size >= STABLE * float(np.max(np.where(near, size, 0.0)))
        pick = int(np.argmin(np.where(near, np.abs(self.d2[idx]) / size, np.inf)))
        enter = int(idx[pick])
        theta = float(dj[pick] / size[pick]) * (1.0 if side > 0 else -1.0)
        aq, w0 = self._solve_column(enter)
        piv = float(aq[r])
        if abs(piv - alpha[enter]) > AGREE * max(1.0, abs(piv)) or abs(piv) < PIVOT_ABS:
            return False
        # duals: d −= θ α_r, y += θ ρ; the leaving value's reduced cost is −θ
        self.d[nz] -= theta * a_nz
        theta2 = float(self.d2[enter] / alpha[enter])  # the second cost's, alike
        self.d2[nz] -= theta2 * a_nz
        self.d2[leave], self.d2[enter] = -theta2, 0.0
        self.y += theta * rho
        self.d[leave], self.d[enter] = -theta, 0.0
        # values and rates: the leaving value onto its bound, the entering one moves instead
        target = self.lower if side < 0 else self.upper
        z = self.z
        delta = (z[:, leave] - target[:, leave]) / piv
        nz = np.nonzero(aq)[0]
        z[:, self.basic[nz]] -= delta[:, None] * aq[nz][None, :]
        z[:, enter] += delta
        z[:, leave] = target[:, leave]
        self.basic[r] = enter
        self._pos[enter] = r
        self.status[enter] = BASIC
        self.status[leave] = LOWER if side < 0 else UPPER
        self.can_rise[enter] = self.can_fall[enter] = False
        self.check_lower[enter], self.check_upper[enter] = self.lfin[enter], self.ufin[enter]
        self.check_lower[leave] = self.check_upper[leave] = False
        if side < 0:
            self.can_rise[leave] = self.movable[leave]
        else:
            self.can_fall[leave] = self.movable[leave]
        self.pivots += 1
        if r not in self._at and len(self._at) == self.refactor:  # the correction is full
            return self._factorise() and self._refresh()
        return self._replace(r, w0, r0)

    def advance(self, a: float) -> Found | None:
        """From the current basis, which stays optimal up to ``a``: the pivots at ``a`` and
        the next piece, ``[a, hi]``; None on any doubt (the caller re-solves with HiGHS)."""
        if not self.ready:
            return None
        self._move(a)
        at, var, side = self._next
        self._next = (np.nan, -1, 0)
        named = at == a and self.status[var] == BASIC  # the last ratio test named the value
        if named and not self._pivot(self._position(var), side):
            self.ready = False
            return None
        for _ in range(MAX_DEGENERATE):
            found = self._exits()
            if found is None:
                break
            reach, r, side = found
            if r < 0:
                return Found(a, a + reach, self.z[:, : self.n].copy(), self.sense * self.y)
            if not self._pivot(r, side):
                break
        self.ready = False
        return None

    def highs_status(self) -> tuple[np.ndarray, np.ndarray]:
        """The basis in HiGHS's statuses (column, row), int8."""
        return self.status[: self.n].copy(), self.status[self.n:].copy()


def _leading(g: np.ndarray) -> np.ndarray:
    """Each column's first nonzero coefficient (0 if none): how it leaves ``g0 = 0``."""
    if g.shape[0] == 1:
        row: np.ndarray = g[0]
        return row
    nz = g != 0
    first = np.argmax(nz, axis=0)
    out: np.ndarray = np.where(nz.any(axis=0), g[first, np.arange(g.shape[1])], 0.0)
    return out


def least_exits(coef: np.ndarray, smax: float, tiny: float) -> np.ndarray:
    """For each column of ``coef`` (ascending coefficients of ``g(s)``), the least root in
    (``tiny``, ``smax``) after which ``g`` turns negative; ``smax`` where there is none.

    Exact for the least of them (what the ratio tests use); one that cannot be the least may
    be given as ``smax``. The roots are the eigenvalues of the companion matrices, batched by
    degree, and only for the polynomials that may turn negative first: on a grid of quarterings
    of ``smax``, ``g0`` less the falling terms bounds each from below (no root before it
    stays positive) and ``g`` itself from above (a root before it turns negative); a
    root per polynomial with ``np.roots`` cost more than the rest of a curved piece's work."""
    k = coef.shape[1]
    out = np.full(k, smax)
    if not k:
        return out
    grid = smax * 0.25 ** np.arange(26)[:, None]  # (26, 1), descending
    low = _values(np.vstack([coef[:1], np.minimum(coef[1:], 0.0)]), grid.T.repeat(k, 0))
    high = _values(coef, grid.T.repeat(k, 0))  # (k, 26)
    safe = np.where(low > 0, grid.T, 0.0).max(axis=1)  # no root below this
    upper = float(np.where(high < 0, grid.T, np.inf).min(initial=smax))
    maybe = safe < upper
    exact = _exact_exits(coef[:, maybe], smax, tiny)
    if len(exact) and float(exact.min()) <= upper:
        out[maybe] = exact
        return out
    out[:] = _exact_exits(coef, smax, tiny)  # the bounds disagree with the roots: all of them
    return out


def _exact_exits(coef: np.ndarray, smax: float, tiny: float) -> np.ndarray:
    """:func:`least_exits` for every polynomial, from the roots."""
    k = coef.shape[1]
    out = np.full(k, smax)
    if not k:
        return out
    nonzero = coef != 0
    degree = np.where(nonzero.any(axis=0), coef.shape[0] - 1 - np.argmax(nonzero[::-1], axis=0),
                      0)
    for d in np.unique(degree[degree > 0]):
        cols = np.flatnonzero(degree == d)
        c = coef[: d + 1, cols]
        companion = np.zeros((len(cols), d, d))
        if d > 1:
            companion[:, np.arange(1, d), np.arange(d - 1)] = 1.0
        companion[:, :, -1] = -(c[:d] / c[d]).T
        roots = np.linalg.eigvals(companion)  # (cols, d)
        real = np.abs(roots.imag) <= 1e-12 * max(1.0, smax)
        r = np.where(real, roots.real, np.inf)
        inside = (r > tiny) & (r < smax)
        after = np.where(inside, r + np.maximum(1e-9 * np.abs(r), tiny), 0.0)
        value = _values(c, after)
        ok = inside & (value < 0)
        out[cols] = np.min(np.where(ok, r, smax), axis=1)
    return out


def _values(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``Σ_i c[i, k] s[k, j]^i``: polynomial ``k`` at its points ``s[k]``."""
    out = np.zeros_like(s)
    for i in range(c.shape[0] - 1, -1, -1):  # Horner
        out = out * s + c[i][:, None]
    return out


__all__ = ["Found", "Pivoter"]
