"""The curve's fast path: the pivots at each breakpoint done here, on the basis, without a
HiGHS run (parametric dual simplex; see ``models/curve.md``, "The fast path").

A HiGHS run per breakpoint costs a few milliseconds of fixed work (restarting its dual simplex
after the bounds change) for usually one pivot. Here the LP is held as ``[A | −I] z = 0`` over
``z = (x, r)``, ``r = A x`` the row activities, each within its column or row bounds; the basis
``B`` (``m`` of those columns) is factorised with SuperLU and then updated in the product form
of the inverse (each pivot adds one sparse eta), refactorised every :data:`REFACTOR` pivots;
the solves and the pivots themselves run compiled (:mod:`hwbopt.analyses.curve_kernels`),
this class holding their state and deciding when to call them. Every value is kept as Taylor
coefficients in ``t`` (row 0 the values, row ``k`` the ``k``-th coefficient of their rates),
so one update moves values and rates together.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from hwbopt.analyses import curve_kernels as kernels

if TYPE_CHECKING:
    from hwbopt.analyses.curve import Line
    from hwbopt.compile import Compiled

LOWER, BASIC, UPPER, ZERO = 0, 1, 2, 3  # HiGHS's basis statuses (HighsBasisStatus)
REFACTOR = 128  # pivots between factorisations: each adds an eta that every later solve
# applies, and a factorisation costs about what 20 pivots do (measured on the county)
ETA_FLOATS = 4_000_000  # the eta file holds at most this many nonzeros (64 MB) on a large model
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
    """One piece the pivots found: the basis is optimal on ``[lo, hi]``; ``x``: the columns'
    values at ``lo``, ``dx`` the Taylor coefficients of the rates of those of ``cols`` (the
    others do not move); ``dual``: row duals in HiGHS's convention (``d = c − Aᵀy`` in the
    model's own sense)."""

    lo: float
    hi: float
    x: np.ndarray  # (columns,)
    cols: np.ndarray
    dx: np.ndarray  # (degree, len(cols))
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
        # the same, flat, for the compiled move along a straight input (:meth:`_move`): the
        # moved positions, whether each is a lower bound, its value at the start and its rate
        names = list(self._moved)
        self._flat = (
            np.concatenate([np.zeros(0), *(self._moved[k] for k in names)]).astype(np.int64),
            np.concatenate([np.zeros(0), *(np.full(len(self._moved[k]), k.endswith("lower"))
                                           for k in names)]).astype(bool),
            np.concatenate([np.zeros(0), *(self._at_lo[k][0] for k in names)]),
            np.concatenate([np.zeros(0), *(self._at_lo[k][1] for k in names)]),
        ) if self.deg == 1 else ()
        # for the compiled move along a curved input (:meth:`_move`): the moved positions,
        # whether each is a lower bound, and their polynomials' derivatives (Line.derivatives)
        ders = line.derivatives() if self.deg > 1 else {}
        self._curved: tuple[np.ndarray, ...] = (
            np.concatenate([np.zeros(0), *(self._moved[k] for k in names)]).astype(np.int64),
            np.concatenate([np.zeros(0, dtype=bool), *(np.full(len(self._moved[k]),
                                                               k.endswith("lower"))
                                                       for k in names)]),
            np.ascontiguousarray(np.concatenate([ders[k] for k in names], axis=2)),
        ) if ders else ()
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
        self._factors: tuple[np.ndarray, ...] = ()  # its L, U and permutations, for the kernels
        # the eta file since the factorisation (curve_kernels: the product form of B⁻¹)
        self.eta_cap = max(min(ETA_FLOATS, REFACTOR * m), 2 * m)
        self._etas = (np.zeros(REFACTOR, dtype=np.int64), np.zeros(REFACTOR),
                      np.zeros(REFACTOR + 1, dtype=np.int64),
                      np.zeros(self.eta_cap, dtype=np.int64), np.zeros(self.eta_cap),
                      np.zeros(2, dtype=np.int64))
        self._in_b0 = np.full(n + m, -1, dtype=np.int64)  # position in B0, or -1
        self._scratch = (np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m),
                         np.zeros(n + m))
        self._support = (np.zeros(n + m, dtype=np.int64), np.zeros(m, dtype=np.int64),
                         np.zeros(m, dtype=np.int64))
        self._a = tuple((mat.indptr.astype(np.int64), mat.indices.astype(np.int64),
                         mat.data.astype(np.float64)) for mat in (a, self.A))
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
        low, upp = lu.L, lu.U
        self._factors = kernels.factors(low.indptr, low.indices, low.data, upp.indptr,
                                        upp.indices, upp.data, lu.perm_r, lu.perm_c)
        self._etas[5][:] = 0  # an empty eta file
        # a column of the factorised basis (position p) solves to e_p: no solve needed
        self._in_b0[:] = -1
        self._in_b0[self.basic] = np.arange(self.m)
        self.factorisations += 1
        return True

    def _solve(self, b: np.ndarray) -> np.ndarray:
        """``B0⁻¹ b`` with the factors just made (no eta yet: the whole state is refreshed)."""
        assert self._lu is not None
        self.solves += 1
        out: np.ndarray = self._lu.solve(b)
        return out

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
        sol = self._solve(-(self.M @ z.T))  # (m, degree + 1)
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
        if self.deg == 1:  # a straight input: compiled
            kernels.move_line(z, self.lower, self.upper, self.status, s, t - self.line.lo,
                              *self._flat)
            self.t = t
            return
        moved, is_lower, ders = self._curved
        kernels.move_curve(z, self.lower, self.upper, self.status, s, self.line.u(t),
                           self.line.width / 2.0, ders, moved, is_lower)
        self.t = t

    def _exits(self) -> tuple[float, int, int] | None:
        """The primal ratio test forward from ``t``: how far the basis stays feasible, and
        the basis position and side (-1 lower, +1 upper) of the value that leaves first
        (-1, 0: none leaves here); None when a value is already outside its bounds.

        A value whose distance to a bound is within the allowance (``feasible`` of its scale)
        and falling leaves here; any other leaves exactly where it meets its bound; rates
        below ``noise`` of its scale over the range are none (as ``curve._first_exit``)."""
        if self.deg > 1:
            return self._exits_curved()
        room = self.line.hi - self.t
        code, reach, var, side = kernels.exits(
            self.z, self.lower, self.upper, self.check_lower, self.check_upper,
            self.noise / self.line.width, self.feasible, room)
        if code < 0:
            return None
        if code == 0:
            if var < 0:
                return float(reach), -1, 0
            if reach > self.same:  # the piece's end, and which value leaves there
                self._next = (self.t + float(reach), int(var), int(side))
                return float(reach), -1, 0
        # leaves here (or a sliver: its end is this value)
        return 0.0, self._position(int(var)), int(side)

    def _exits_curved(self) -> tuple[float, int, int] | None:
        """:meth:`_exits` for an input that moves the bounds along a polynomial
        (:func:`curve_kernels.exits_curved`: each distance's least root after which it turns
        negative)."""
        code, best, var, side, reach, reach_side = kernels.exits_curved(
            self.z, self.lower, self.upper, self.check_lower, self.check_upper, self.noise,
            self.feasible, self.line.hi - self.t, self.line.width)
        if code < 0:
            return None
        if code == 0 and best <= self.same and reach >= 0:
            var, side = reach, reach_side  # a sliver: its end is this value
        if code == 1 or var >= 0:
            return 0.0, self._position(int(var)), int(side)
        if reach >= 0:  # the piece's end, and which value leaves there (as :meth:`_exits`)
            self._next = (self.t + float(best), int(reach), int(reach_side))
        return float(best), -1, 0

    def _position(self, var: int) -> int:
        """Where the basic value ``var`` sits in the basis."""
        return int(self._pos[var])

    # ---- one pivot ------------------------------------------------------------------------

    def _pivoting(self) -> tuple[Any, ...]:
        """:func:`curve_kernels.pivot`'s arguments from ``n`` on: the state, as it is now
        (a factorisation and :meth:`_masks` replace some of its arrays)."""
        return (self.n, *self._a, self._factors, self._etas, self.eta_cap, self._in_b0,
                self.basic, self._pos, self.status, self.can_rise, self.can_fall,
                self.check_lower, self.check_upper, self.lfin, self.ufin, self.movable,
                self.d, self.d2, self.y, self.z, self.lower, self.upper, self._scratch,
                self._support, PIVOT_REL, PIVOT_ABS, DUAL_TOL, STABLE, AGREE)

    def _pivot(self, r: int, side: int) -> bool:
        """The basic value at position ``r`` leaves to its lower (``side`` -1) or upper (+1)
        bound; the entering value from the dual ratio test (:func:`curve_kernels.pivot`).
        False: doubt (nothing changed)."""
        code, _ = kernels.pivot(r, side, *self._pivoting())
        if code == kernels.DOUBT:
            return False
        self.pivots += 1
        self.solves += 2
        if code == kernels.FULL:
            return self._factorise() and self._refresh()
        return True

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
                x, cols, dx = kernels.snapshot(self.z, self.n)
                return Found(a, a + reach, x, cols, dx, self.sense * self.y)
            if not self._pivot(r, side):
                break
        self.ready = False
        return None

    def highs_status(self) -> tuple[np.ndarray, np.ndarray]:
        """The basis in HiGHS's statuses (column, row), int8."""
        return self.status[: self.n].copy(), self.status[self.n:].copy()


__all__ = ["Found", "Pivoter"]
