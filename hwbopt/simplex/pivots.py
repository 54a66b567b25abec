"""Parametric dual simplex pivots on a kept basis, without a HiGHS run: the curve's fast path
(the pivots at each breakpoint; ``models/curve.md``, "The fast path") and the stress engine's
walk from one scenario's bounds to the next (:meth:`Pivoter.aim`, :meth:`Pivoter.walk`;
``hwbopt.batch.walk``, ``models/stress.md``, "The walk").

A HiGHS run per breakpoint costs a few milliseconds of fixed work (restarting its dual simplex
after the bounds change) for usually one pivot. Here the LP is held as ``[A | −I] z = 0`` over
``z = (x, r)``, ``r = A x`` the row activities, each within its column or row bounds; the basis
``B`` (``m`` of those columns) is factorised triangular part first (:mod:`factor`: singletons
peeled, SuperLU on the bump) and then updated in the product form of the inverse (each pivot
adds one sparse eta), refactorised every :data:`REFACTOR` pivots;
the solves and the pivots themselves run compiled (:mod:`hwbopt.simplex.kernels`),
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
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import scipy.sparse as sp

from hwbopt.simplex import factor, kernels

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
FEASIBLE = 1e-8  # a basic value may stray this share of its scale past a bound (see
# hwbopt.analyses.curve._first_exit): a hundredth of what the certificate allows
NOISE = 1e-9  # a rate that moves a value by less than this share over the range is zero
SAME_T = 1e-10  # two values of the input closer than this share of the range are one point
DUAL_FEASIBLE = 1e-7  # a reduced cost of the wrong sign beyond this share of its cost's size:
# not an optimal basis to start from


class Straight(Protocol):
    """What the pivots need of a straight line of bounds (:class:`hwbopt.analyses.curve.Line`
    of degree 1, or :class:`hwbopt.batch.walk.Segment`): the moved positions of each bound
    array, the range, and each moved bound's value and rate at a point."""

    lo: float
    hi: float
    degree: int
    moved: dict[str, np.ndarray]

    @property
    def affine(self) -> bool: ...

    @property
    def width(self) -> float: ...

    def taylor(self, t: float) -> dict[str, np.ndarray]: ...


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

    def __init__(self, comp: Compiled, line: Line | Straight, *, noise: float, feasible: float,
                 same: float):
        self.line: Line | Straight = line
        self.noise, self.feasible, self.same = noise, feasible, same
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
        names = list(self._moved)
        self._flat: tuple[np.ndarray, ...] = ()
        self._straight(line)
        # for the compiled move along a curved input (:meth:`_move`): the moved positions,
        # whether each is a lower bound, and their polynomials' derivatives (Line.derivatives)
        ders = cast("Line", line).derivatives() if self.deg > 1 else {}
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
        self._lu: factor.Factors | None = None
        self._factors: tuple[np.ndarray, ...] = ()  # its L, U and permutations, for the kernels
        # the eta file since the factorisation (kernels: the product form of B⁻¹)
        self.eta_cap = max(min(ETA_FLOATS, REFACTOR * m), 2 * m)
        self._etas = (np.zeros(REFACTOR, dtype=np.int64), np.zeros(REFACTOR),
                      np.zeros(REFACTOR + 1, dtype=np.int64),
                      np.zeros(self.eta_cap, dtype=np.int64), np.zeros(self.eta_cap),
                      np.zeros(2, dtype=np.int64))
        self._in_b0 = np.full(n + m, -1, dtype=np.int64)  # position in B0, or -1
        self._scratch = (np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(n + m))
        self._support = (np.zeros(n + m, dtype=np.int64), np.zeros(m, dtype=np.int64),
                         np.zeros(m, dtype=np.int64), np.zeros(n + m, dtype=np.int64),
                         np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64),
                         np.zeros(m, dtype=np.int64))
        self._a = tuple((mat.indptr.astype(np.int64), mat.indices.astype(np.int64),
                         mat.data.astype(np.float64)) for mat in (a, self.A))
        self.ready = False
        self._aimed: tuple[np.ndarray, ...] | None = None  # see :meth:`aim`
        self._walk_state = np.zeros(9)  # kernels.walk_line's progress (see :meth:`walk`)
        # the basis positions whose values move (kernels.walk_line keeps them; the ratio test
        # of a single step reads every position, _every)
        self._live = (np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.bool_))
        self._every = np.arange(m, dtype=np.int64)
        # where the last piece ends and the value (and side) that leaves its bounds there
        self._next: tuple[float, int, int] = (np.nan, -1, 0)
        self.pivots = 0
        self.factorisations = 0
        self.solves = 0  # solves with the factors (the benchmark's account of the cost)

    # ---- bounds ---------------------------------------------------------------------------

    def _straight(self, line: Line | Straight) -> None:
        """Follow ``line`` from its start; for a straight one, its moved bounds flat for the
        compiled move (:meth:`_move`): their positions, whether each is a lower bound, its
        value at the line's start and its rate."""
        self.line = line
        if self.deg != 1:
            return
        at_lo = line.taylor(line.lo)
        names = list(self._moved)
        self._flat = (
            np.concatenate([np.zeros(0), *(self._moved[k] for k in names)]).astype(np.int64),
            np.concatenate([np.zeros(0), *(np.full(len(self._moved[k]), k.endswith("lower"))
                                           for k in names)]).astype(bool),
            np.concatenate([np.zeros(0), *(at_lo[k][0] for k in names)]),
            np.concatenate([np.zeros(0), *(at_lo[k][1] for k in names)]),
        )

    def _set_bounds(self, t: float) -> None:
        """The moved bounds' coefficients at ``t``."""
        if self.deg == 1:
            kernels.line_bounds(self.lower, self.upper, t - self.line.lo, *self._flat)
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
        """The basis's factors afresh, its triangular part first (:mod:`factor`), and an
        empty eta file; False if the basis is singular."""
        found = factor.lu(sp.csc_array(self.M[:, self.basic]))
        self._lu = found
        if found is None:
            return False
        self._factors = found.kernel
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

    def load(self, basic: np.ndarray, x: np.ndarray | None, t: float,
             given: np.ndarray | None = None, line: Straight | None = None) -> bool:
        """Start from the basis ``basic`` (indices into ``z``: columns, then ``n`` + row) at
        ``t``, whose columns' values there are ``x`` (which bound each nonbasic value is on is
        read from them), or whose statuses are ``given`` (HiGHS's, over ``z``), on ``line``
        from now on if given; False if it is not an optimal basis there (the caller
        re-solves)."""
        self.ready = False
        self._next = (np.nan, -1, 0)
        if line is not None:
            self._straight(line)
        if len(basic) != self.m:
            return False
        self.t = t
        self._set_bounds(t)
        if np.any(np.isfinite(self.lower[0]) != self.lfin) or \
                np.any(np.isfinite(self.upper[0]) != self.ufin):
            return False  # a bound appeared or went since the start: another LP's shape
        if line is not None:  # a new line from here: which values can move, afresh
            self.movable = self.lower[0] < self.upper[0]
        if given is None:
            assert x is not None
            value = np.concatenate([x, self.A @ x])
            lo, hi = self.lower[0], self.upper[0]
            near_lo = np.where(self.lfin, np.abs(value - lo), np.inf)
            near_hi = np.where(self.ufin, np.abs(hi - value), np.inf)
            status = np.where(near_lo <= near_hi, LOWER, UPPER).astype(np.int8)
        else:  # HiGHS's "nonbasic" (4): on its finite bound, the lower first
            status = np.where(given == 4, np.where(self.lfin, LOWER, UPPER),
                              given).astype(np.int8)
        status[~self.lfin & ~self.ufin] = ZERO
        status[basic] = BASIC
        self.status, self.basic = status, np.asarray(basic, dtype=np.int64).copy()
        self._pos[self.basic] = np.arange(self.m)
        if not (self._factorise() and self._refresh()):
            return False
        self.ready = True
        return True

    def _masks(self) -> None:
        kernels.masks(self.status, self.movable, self.lfin, self.ufin, self.can_rise,
                      self.can_fall, self.check_lower, self.check_upper)

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
        kernels.move_curve(z, self.lower, self.upper, self.status, s,
                           cast("Line", self.line).u(t),
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
            self.noise / self.line.width, self.feasible, room, self.basic, self._every,
            len(self._every))
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
        (:func:`kernels.exits_curved`: each distance's least root after which it turns
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
        """:func:`kernels.pivot`'s arguments from ``n`` on: the state, as it is now
        (a factorisation and :meth:`_masks` replace some of its arrays)."""
        return (self.n, *self._a, self._factors, self._etas, self.eta_cap, self._in_b0,
                self.basic, self._pos, self.status, self.can_rise, self.can_fall,
                self.check_lower, self.check_upper, self.lfin, self.ufin, self.movable,
                self.d, self.d2, self.y, self.z, self.lower, self.upper, self._scratch,
                self._support, PIVOT_REL, PIVOT_ABS, DUAL_TOL, STABLE, AGREE)

    def _pivot(self, r: int, side: int) -> bool:
        """The basic value at position ``r`` leaves to its lower (``side`` -1) or upper (+1)
        bound; the entering value from the dual ratio test (:func:`kernels.pivot`).
        False: doubt (nothing changed)."""
        code, _, _ = kernels.pivot(r, side, *self._pivoting())
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
        hi = self._step(a)
        if hi is None:
            return None
        x, cols, dx = kernels.snapshot(self.z, self.n)
        return Found(a, hi, x, cols, dx, self.sense * self.y)

    def _step(self, a: float) -> float | None:
        """:meth:`advance` without the piece: where the next basis stops being optimal."""
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
                return a + reach
            if not self._pivot(r, side):
                break
        self.ready = False
        return None

    # ---- from one set of bounds to another (the stress engine: hwbopt.batch.walk) ---------

    def aim(self, start: np.ndarray, rate: np.ndarray) -> bool:
        """Follow a new straight line from here, of the same moved positions as the line
        before (``_flat[0]``, each a lower or an upper bound as ``_flat[1]``): their values at
        its start, ``start`` (where they are now), and their rates, over the same range. The
        basis stays; the rates are found afresh for the new direction (nonbasic values follow
        their bound's rate, basic ones solve ``B dz_B = −M_N dz_N``). False when the pivots
        cannot take it (the caller re-solves)."""
        assert self.deg == 1
        moved, is_lower = self._flat[0], self._flat[1]
        self._flat = (moved, is_lower, start, rate)
        self.t = self.line.lo
        self._set_bounds(self.t)
        self._next = (np.nan, -1, 0)
        if not self.ready:
            return False
        if self._aimed is None:  # the moved columns of [A | −I], once (the positions stay)
            cols = np.unique(moved)
            m_moved = sp.csc_array(self.M[:, cols])
            self._aimed = (cols, m_moved.indptr.astype(np.int64),
                           m_moved.indices.astype(np.int64), m_moved.data.astype(float))
        cols, m_ptr, m_idx, m_val = self._aimed
        _, aq, work, rhs, _ = self._scratch
        # a value held (equal bounds) at the start but not along the line may move; held, it
        # sat on either bound whatever its reduced cost: now it sits on the one its reduced
        # cost allows (the same value: its bounds are equal here), or the walk would start
        # dual infeasible. The rates: nonbasic values follow their bounds' (only moved
        # bounds have one), basic ones the solve with the basis (kernels.aim)
        if not kernels.aim(self.lower, self.upper, self.lfin, self.ufin, self.movable,
                           self.status, self.d, self.z[1], moved, m_ptr, m_idx, m_val, cols,
                           self.basic, self._factors, self._etas, rhs, aq, work):
            self.ready = False  # a bound that appears or goes: not a move along a line
            return False
        self.solves += 1
        self._masks()
        return True

    def walk(self, max_steps: int) -> int | None:
        """Along the line aimed at, to its end: the pieces crossed (the basis at the end is
        optimal there, and ``z``, ``y`` hold its values and duals), or None on any doubt or
        after ``max_steps`` pieces (the caller re-solves). Compiled, a call for the whole
        line (:func:`kernels.walk_line`: :meth:`_step`'s tests, piece after piece); back
        here only to factorise when the eta file is full."""
        assert self.deg == 1
        if not self.ready:
            return None
        prog = self._walk_state
        prog[:] = (self.line.lo, self.t, 0, 0, 0, *self._next, 0)
        moved, is_lower, start, rate = self._flat
        while True:
            code = kernels.walk_line(prog, self.line.lo, self.line.hi, self.same,
                                     self.noise / self.line.width, self.feasible, max_steps,
                                     MAX_DEGENERATE, moved, is_lower, start, rate,
                                     self._live, *self._pivoting())
            taken = int(prog[8])
            self.pivots += taken
            self.solves += 2 * taken
            self.t = float(prog[1])
            self._next = (float(prog[5]), int(prog[6]), int(prog[7]))
            if code == kernels.WALK_END:
                return int(prog[2])
            if code != kernels.WALK_FACTORISE or not (self._factorise() and self._refresh()):
                self.ready = False
                return None

    def save(self) -> dict[str, Any]:
        """The whole state (basis, factors, values, duals, bounds), to come back to with
        :meth:`restore` (the stress engine's chains each start from the base plan's)."""
        keep = ("basic", "_pos", "status", "z", "y", "d", "d2", "can_rise", "can_fall",
                "check_lower", "check_upper", "movable", "lower", "upper", "_in_b0")
        if self._etas[5][0] > 0 and not (self._factorise() and self._refresh()):
            self.ready = False  # saved with no eta: restoring then empties the eta file
        state: dict[str, Any] = {k: getattr(self, k).copy() for k in keep}
        state.update(t=self.t, ready=self.ready, _lu=self._lu, _factors=self._factors,
                     line=self.line, _flat=tuple(a.copy() for a in self._flat))
        return state

    def restore(self, state: dict[str, Any]) -> None:
        """Back to a state :meth:`save` gave (its arrays copied in: it can be restored again)."""
        for k, v in state.items():
            if isinstance(v, np.ndarray):
                getattr(self, k)[...] = v
        for k in ("t", "ready", "_lu", "_factors"):
            setattr(self, k, state[k])
        self._etas[5][:] = 0  # the saved state's factors had no eta
        self.line = state["line"]
        self._flat = tuple(a.copy() for a in state["_flat"])  # as aimed then, not the line's
        self._next = (np.nan, -1, 0)

    def highs_status(self) -> tuple[np.ndarray, np.ndarray]:
        """The basis in HiGHS's statuses (column, row), int8."""
        return self.status[: self.n].copy(), self.status[self.n:].copy()


__all__ = ["Found", "Pivoter"]
