"""Exact cut-response curves (``hwbopt curve``): the plan as a function of one input along a
line. See ``models/curve.md``.

With the plan's integer decisions fixed at their values at the start of the range, the model
is a linear programme whose right-hand sides and bounds move with the input ``t``. While an
optimal basis stays primal feasible it stays optimal (the reduced costs do not depend on ``t``),
and on that interval every basic value is ``x_B(t) = B⁻¹ b(t)``: affine in ``t`` when the input
moves the limits affinely (a cut depth, a pool share), a polynomial when it compounds (a QIPP
rate). So the curve is traced piece by piece (parametric right-hand-side programming):

1. solve at the range's start with HiGHS and read the optimal basis;
2. the **direction**: the Taylor coefficients of the moving bounds at ``t``
   (:class:`Line`), put through the basis with HiGHS's own factors (``getBasisSolve``), give
   ``dx_B/dt`` (and higher orders); nonbasic columns and rows follow their active bound;
3. the **ratio test**: the largest interval around ``t`` on which every basic column and row
   stays within its (moving) bounds — a piece, on which everything is exact;
4. at the piece's end, the **fast path** (:mod:`hwbopt.simplex.pivots`): the dual
   simplex pivots there done on the basis by the curve itself (the leaving value from the
   ratio test, the entering one from a dual ratio test on its row of the tableau, the factors
   updated), and the next piece's direction and ratio test from the same numbers — no HiGHS
   run. On any doubt (no entering value, a tiny or inconsistent pivot, endless degenerate
   pivots) that step falls back to the route of steps 1–3: step just past the piece's end
   and re-solve warm with HiGHS (a few dual simplex pivots); a gap left between two pieces
   (several bases change at once) is filled by solving inside it.

Each piece's two ends are certified (:func:`hwbopt.batch.certify.lp_optimal`: primal values
within the bounds of that ``t``, the basis's duals feasible, no duality gap) from the engine's
own numbers; a piece of the fast path that fails is traced again by HiGHS re-solves alone, so
the fast path never makes the answer worse. Consecutive pieces with the same rates of change
are merged, so a breakpoint is a value where some activity, spend or outcome changes its rate.
Where integer decisions would change, :func:`curve` re-solves the mixed-integer model with them
free at every breakpoint and every piece's midpoint (at most ``mip_checks`` points) and marks
where that beats the curve.
"""

from __future__ import annotations

import bisect
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.polynomial.polynomial as npoly
import pandas as pd

from hwbopt import highs
from hwbopt.batch import certify
from hwbopt.batch.engine import WARM_OPTIONS
from hwbopt.batch.readback import Response, Spend, response_of, spend_of
from hwbopt.compile import Compiled, with_bounds
from hwbopt.errors import InstanceError, UsageError
from hwbopt.model.build import collector_paused
from hwbopt.schema import Instance, StressInput, StressSet
from hwbopt.simplex.kernels import least_exits, same_lines
from hwbopt.simplex.pivots import FEASIBLE, NOISE, SAME_T, Pivoter
from hwbopt.status import Status, check_limits

KIND = "curve"
MIP_CHECKS = 24  # default number of points the MIP is re-solved at, integers free
MAX_PIECES = 2000  # the trace stops (not exact) beyond this many bases
STEP = 1e-6  # first step past a piece's end, as a share of the range
GROW = 100.0  # the step grows by this until the basis changes (HiGHS's tolerances)
FIT_NODES = 16  # points the input's bounds are evaluated at to find their polynomial
MAX_DEGREE = 12
FIT_REL = 1e-10  # a fitted polynomial reproduces every node to this share of its scale
RESIDUAL, ROUNDING = 1e-6, 1e-8  # a direction's allowed miss on a held rule (_direction)
SNAP = 1e-5  # a target's or activity's root this close to a breakpoint (share of the range) is
# put on it (Curve._snapped)
SAMPLES = 16  # points inside each piece at which targets and activity are read
PRIMAL = 4  # HiGHS's simplex_strategy for its primal simplex (the first solve from a plan)
ARRAYS = ("col_lower", "col_upper", "row_lower", "row_upper")


# ---------------------------------------------------------------------------------------------
# the input as the compiled model's numbers
# ---------------------------------------------------------------------------------------------


@dataclass
class Line:
    """The bounds the input moves, as exact values at any ``t`` (the stress engine's maps,
    :class:`hwbopt.batch.setup.Parametric`) and as polynomials in ``t`` for their rates."""

    path: str
    lo: float
    hi: float
    entries: Callable[[np.ndarray], tuple[Any, dict[str, np.ndarray]]]
    moved: dict[str, np.ndarray]  # array -> positions that move with the input
    keep: dict[str, np.ndarray]  # array -> which of the mapped entries those are
    coef: dict[str, np.ndarray]  # array -> (degree+1, moved) coefficients in u
    degree: int
    fit_error: float  # worst relative misfit of the polynomial at the nodes
    _derivatives: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def affine(self) -> bool:
        return self.degree <= 1

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def u(self, t: float) -> float:
        """``t`` in the line's own variable, which runs from −1 to 1 over the range."""
        return (2.0 * t - self.lo - self.hi) / self.width

    def at(self, ts: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Derived numbers and new values of the moved entries at each ``t`` (exact: the
        engine's own formulas, not the polynomial)."""
        derived, entries = self.entries(np.asarray(ts, dtype=float).reshape(-1, 1))
        return derived.values, {k: entries[k][:, self.keep[k]] for k in self.moved}

    def derivatives(self) -> dict[str, np.ndarray]:
        """Per moved array, ``(k, i, moved)``: the coefficient of ``uⁱ`` in the ``k``-th
        derivative over ``k!`` of each moved entry's polynomial (computed once)."""
        if not self._derivatives:
            self._derivatives = {
                name: np.stack([np.vstack([npoly.polyder(a, m=k, axis=0) / math.factorial(k),
                                           np.zeros((k, *a.shape[1:]))]) if k else a
                                for k in range(self.degree + 1)])
                for name, a in self.coef.items()}
        return self._derivatives

    def taylor(self, t: float) -> dict[str, np.ndarray]:
        """(degree+1, moved) coefficients of each moved array in powers of ``s = t' - t``
        (compiled for the fast path: :func:`hwbopt.simplex.kernels.move_curve`)."""
        u0, half = self.u(t), self.width / 2.0
        powers = u0 ** np.arange(self.degree + 1)  # u0^i
        scale = half ** -np.arange(self.degree + 1.0)  # the k-th derivative in t, not u
        return {name: np.einsum("kie,i->ke", ders, powers) * scale[:, None]
                for name, ders in self.derivatives().items()}


def _line(inst: Instance, path: str, lo: float, hi: float, objective: str | None,
          built: Any) -> Line:
    """The input ``path`` from ``lo`` to ``hi`` as a :class:`Line`, or a :class:`UsageError`
    naming why the curve cannot follow it: a path the engine cannot vary, a range that breaks
    the instance's rules or changes the model's structure, an input that moves costs, matrix
    coefficients or integer decisions' bounds, or one that is not smooth along the range."""
    from hwbopt.batch.setup import parametric

    where = f"--input {path} --from {lo:g} --to {hi:g}"
    stress = StressSet(id="curve", inputs=(StressInput(path=path, op="value", dist="uniform",
                                                       low=lo, high=hi),), samples=1)
    try:
        par = parametric(inst, stress, 0, objective, built)
    except InstanceError as exc:
        why = "; ".join(p.message for p in exc.problems[:3])
        raise UsageError(f"{where}: {why}") from None
    comp: Compiled = built.compiled
    u = np.cos(np.pi * (np.arange(FIT_NODES) + 0.5) / FIT_NODES)[::-1]  # Chebyshev nodes
    ts = np.concatenate([[lo, hi], lo + (u + 1.0) * (hi - lo) / 2.0])
    derived, entries = par.entries(ts.reshape(-1, 1))
    bad = [(t, why) for t, why in zip(ts, derived.invalid, strict=True) if why]
    if bad:
        raise UsageError(f"{where}: at {bad[0][0]:g} the instance breaks its own rules: "
                         f"{bad[0][1]}")
    for name in ("c", "A"):
        if name in entries and np.any(entries[name] != entries[name][:1]):
            what = "objective costs" if name == "c" else "coefficients of the rules"
            raise UsageError(f"{where}: this input changes {what}, not only limits: the curve "
                             "needs an input that moves only limits (budgets, cuts, savings, "
                             "pool shares, staff, targets)")
    moved, keep, coef = {}, {}, {}
    degree, misfit = 0, 0.0
    uu = (2.0 * ts - lo - hi) / (hi - lo)
    for name in ARRAYS:
        if name not in entries:
            continue
        vals = entries[name]
        k = np.any(vals != vals[:1], axis=0)
        if not k.any():
            continue
        pos = par.prepared[name].position[k]
        if name.startswith("col") and comp.integer[pos].any():
            raise UsageError(f"{where}: this input moves the bounds of a yes/no or whole-number "
                             "decision; the curve needs an input that moves only the limits "
                             "of the linear model")
        fit, d, err = _fit(uu, vals[:, k])
        if fit is None:
            raise UsageError(f"{where}: the limits this input moves are not smooth along the "
                             "range (they jump or kink): narrow the range")
        moved[name], keep[name], coef[name] = pos, k, fit
        degree, misfit = max(degree, d), max(misfit, err)
    if not moved:
        raise UsageError(f"{where}: this input moves nothing in the model over the range")
    for name, a in coef.items():  # one degree for all: pad with zero coefficients
        coef[name] = np.vstack([a, np.zeros((degree + 1 - a.shape[0], a.shape[1]))])
    return Line(path, lo, hi, par.entries, moved, keep, coef, degree, misfit)


def _fit(u: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray | None, int, float]:
    """The lowest-degree polynomial in ``u`` through every node (columns of ``vals``)."""
    scale = np.maximum(1.0, np.abs(vals).max(axis=0))
    for d in range(1, MAX_DEGREE + 1):
        if d + 2 > len(u):
            break
        a = npoly.polyfit(u, vals, d)
        err = float((np.abs(npoly.polyval(u, a).T - vals) / scale).max())
        if err <= FIT_REL:
            return np.asarray(a).reshape(d + 1, -1), d, err
    return None, 0, math.inf


# ---------------------------------------------------------------------------------------------
# pieces: one optimal basis each, exact on its interval
# ---------------------------------------------------------------------------------------------


@dataclass
class Piece:
    """``x(t) = x0 + Σ_k dx[k-1] (t - t0)^k`` on ``[lo, hi]``, the rates ``dx`` kept for the
    columns ``cols`` only (those that move: given dense, ``(degree, columns)``, they are
    reduced to those); ``dual``: the basis's row duals."""

    lo: float
    hi: float
    t0: float
    x0: np.ndarray
    dx: np.ndarray  # (degree, len(cols))
    dual: np.ndarray
    # the basic columns (then n_cols + row) of a basis HiGHS found, to pivot on from; None
    # for one the curve's own pivots found (:mod:`hwbopt.simplex.pivots`)
    basis: np.ndarray | None = field(default=None, repr=False)
    fast: bool = False  # found by the curve's own pivots, not a HiGHS run
    cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def __post_init__(self) -> None:
        if self.dx.shape[1] != len(self.cols):  # dense: keep the moving columns' rates
            self.cols = np.flatnonzero(np.any(self.dx != 0.0, axis=0)).astype(np.int64)
            self.dx = np.ascontiguousarray(self.dx[:, self.cols])

    def x(self, t: float) -> np.ndarray:
        s = t - self.t0
        out = self.x0.copy()
        move = np.zeros(len(self.cols))
        for k in range(self.dx.shape[0]):
            move += self.dx[k] * s ** (k + 1)
        out[self.cols] += move
        return out

    def same_rates(self, other: Piece, t: float) -> bool:
        """Whether both give the same function of ``t`` (compared at ``t`` and one step on)."""
        ts = np.array([t, t + (self.hi - self.lo + other.hi - other.lo) / 2.0])
        # np.allclose(a, b, rtol=1e-9, atol=1e-9) of x(s) at both, compiled: once a piece
        return bool(same_lines(self.x0, self.cols, self.dx, self.t0, other.x0, other.cols,
                               other.dx, other.t0, ts, 1e-9))


class _Tracer:
    """One HiGHS instance holding the LP (integers fixed), moved along the line and re-solved
    warm; :meth:`piece_at` gives the basis optimal at a value and its exact interval."""

    def __init__(self, comp: Compiled, line: Line, start: np.ndarray | None = None):
        self.comp, self.line = comp, line
        self.start = start  # a plan at the range's start to begin the first solve from
        self.col_lower, self.col_upper = comp.col_lower.copy(), comp.col_upper.copy()
        self.row_lower, self.row_upper = comp.row_lower.copy(), comp.row_upper.copy()
        self.h = highs.load(comp, threads=1)
        self.h.setOptionValue("solver", "simplex")  # a basis to read, always
        # HiGHS's factors of the optimal basis are read after each solve: no presolve, whose
        # postsolved basis may leave none
        self.h.setOptionValue("presolve", "off")
        # a step past a breakpoint must show HiGHS the bound it crosses
        self.h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        for option, value in WARM_OPTIONS.items():  # devex: see hwbopt.batch.engine
            self.h.setOptionValue(option, value)
        self._basic: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64),
                                                      np.zeros(0, dtype=np.int64))
        self.A = comp.A
        self.Acsr = comp.A.tocsr()
        self.A_abs = abs(comp.A).tocsr()
        self.solves = 0
        self.iterations = 0
        self.first_iterations = 0  # the first solve's (cold at the range's start)
        self.first_seconds = 0.0
        self.residual = 0.0  # worst miss of a direction on the rules it must keep, as a
        # share of what is allowed (above 1: not proven)
        # the fast path: the pivots at each breakpoint done by the curve itself
        self.pivoter: Pivoter | None = None
        self._current: Piece | None = None  # the piece the pivoter's basis gave
        self._good: tuple[np.ndarray, np.ndarray] | None = None  # its basis, HiGHS's statuses
        self.fast_steps = 0  # pieces found by the curve's own pivots
        self.fallback_steps = 0  # steps the pivots declined, taken by HiGHS re-solves
        self.repaired = 0  # pieces of the fast path that failed the certificate, re-traced

    def use_pivots(self) -> None:
        """Take the fast path from here on (:mod:`hwbopt.simplex.pivots`)."""
        self.pivoter = Pivoter(self.comp, self.line, noise=NOISE, feasible=FEASIBLE,
                               same=SAME_T * self.line.width)

    def advance(self, prev: Piece, a: float) -> Piece | None:
        """The piece from ``a`` on by the curve's own pivots from the basis of ``prev``
        (optimal up to ``a``); None when they decline (the caller re-solves with HiGHS)."""
        pv = self.pivoter
        if pv is None:
            return None
        if prev is not self._current:
            self._current = None
            if prev.basis is None or not pv.load(prev.basis, prev.x(a), a):
                self.fallback_steps += 1
                return None
        found = pv.advance(a)
        if found is None:
            self.fallback_steps += 1
            self._current = None
            if self._good is not None:  # HiGHS re-solves from the last basis proven here
                highs.set_basis(self.h, self._good)
                self._good = None
            return None
        piece = Piece(found.lo, found.hi, found.lo, found.x, found.dx, found.dual, fast=True,
                      cols=found.cols)
        self._current, self._good = piece, pv.highs_status()
        self.fast_steps += 1
        return piece

    def move_to(self, t: float) -> None:
        _, vals = self.line.at(np.array([t]))
        arrays = {"col_lower": self.col_lower, "col_upper": self.col_upper,
                  "row_lower": self.row_lower, "row_upper": self.row_upper}
        for name, pos in self.line.moved.items():
            arrays[name][pos] = vals[name][0]
        cols = np.union1d(self.line.moved.get("col_lower", []),
                          self.line.moved.get("col_upper", [])).astype(np.int32)
        rows = np.union1d(self.line.moved.get("row_lower", []),
                          self.line.moved.get("row_upper", [])).astype(np.int32)
        if len(cols):
            self.h.changeColsBounds(len(cols), cols, self.col_lower[cols], self.col_upper[cols])
        if len(rows):
            highs.change_rows_bounds(self.h, rows, self.row_lower[rows], self.row_upper[rows])

    def _first_solve(self) -> None:
        """The solve at the range's start: from the plan given at the start (the mixed-integer
        optimum's, feasible and nearly optimal here), by the primal simplex (on the county 29
        simplex iterations, 3 ms; the dual simplex from it takes 768, 20 ms); or else cold,
        with presolve (1,754 iterations against 2,848 without, 38 ms). The later warm solves
        (after a move of the bounds: the dual simplex's case) read HiGHS's factors, which a
        presolved solve may not leave: then it is solved again without."""
        _, strategy = self.h.getOptionValue("simplex_strategy")
        if self.start is not None:
            highs.start_from(self.h, self.start)
            self.h.setOptionValue("simplex_strategy", PRIMAL)
        self.h.setOptionValue("presolve", "off" if self.start is not None else "on")
        highs.settle(self.h)
        self.h.setOptionValue("simplex_strategy", strategy)
        self.h.setOptionValue("presolve", "off")
        if self.h.getModelStatus() == highspy_optimal():
            ok, _ = self.h.getBasicVariables()  # type: ignore[attr-defined]
            if ok == highspy_ok():
                return
        self.h.clearSolver()
        highs.settle(self.h)

    def problem(self) -> certify.Problem:
        c = self.comp
        return certify.Problem(A=c.A, c=c.c, offset=c.offset, sense=c.sense,
                               col_lower=self.col_lower.copy(), col_upper=self.col_upper.copy(),
                               row_lower=self.row_lower.copy(), row_upper=self.row_upper.copy(),
                               integer=np.zeros(c.n_cols, dtype=bool))

    def piece_at(self, t: float) -> Piece | None:
        """The optimal basis at ``t`` and the interval it stays optimal on; None when the LP
        has no optimum there (infeasible with the plan's integer decisions held)."""
        self.move_to(t)
        if self.solves == 0:
            began = time.perf_counter()
            self._first_solve()
            self.first_seconds = time.perf_counter() - began
        else:
            highs.settle(self.h)
        self.solves += 1
        self.iterations += int(highs.info(self.h, "simplex_iteration_count"))
        if self.solves == 1:
            self.first_iterations = self.iterations
        if self.h.getModelStatus() != highspy_optimal():
            return None
        sol = self.h.getSolution()
        x0 = np.asarray(sol.col_value, dtype=float)
        dual = np.asarray(sol.row_dual, dtype=float)
        r0 = self.Acsr @ x0
        dx = self._direction(t, x0, r0)
        dr = np.asarray([self.Acsr @ d for d in dx]).reshape(len(dx), -1)
        line = self.line
        tay = line.taylor(t)
        n, m = self.comp.n_cols, self.comp.n_rows

        def moving(name: str, size: int) -> np.ndarray:
            out = np.zeros((line.degree, size))
            if name in tay:
                out[:, line.moved[name]] = tay[name][1:]
            return out

        col_b, row_b = self._basic
        fwd = min(self._limit(x0[col_b], dx[:, col_b], self.col_lower[col_b],
                              self.col_upper[col_b], moving("col_lower", n)[:, col_b],
                              moving("col_upper", n)[:, col_b], line.hi - t, +1),
                  self._limit(r0[row_b], dr[:, row_b], self.row_lower[row_b],
                              self.row_upper[row_b], moving("row_lower", m)[:, row_b],
                              moving("row_upper", m)[:, row_b], line.hi - t, +1))
        back = min(self._limit(x0[col_b], dx[:, col_b], self.col_lower[col_b],
                               self.col_upper[col_b], moving("col_lower", n)[:, col_b],
                               moving("col_upper", n)[:, col_b], t - line.lo, -1),
                   self._limit(r0[row_b], dr[:, row_b], self.row_lower[row_b],
                               self.row_upper[row_b], moving("row_lower", m)[:, row_b],
                               moving("row_upper", m)[:, row_b], t - line.lo, -1))
        return Piece(t - back, t + fwd, t, x0, dx, dual,
                     basis=np.concatenate([col_b, n + row_b]))

    def _direction(self, t: float, x0: np.ndarray, r0: np.ndarray) -> np.ndarray:
        """(degree, columns) Taylor coefficients of the plan at ``t`` under the current basis:
        nonbasic columns and rows follow their active bound, basic columns solve
        ``B dz = -A_N dx_N + E_N dr_N`` with HiGHS's factors (its basis matrix is
        ``[A_B | +E]`` for basic rows, whose values are the negated row activities)."""
        line, comp = self.line, self.comp
        tay = line.taylor(t)
        # highspy's stubs leave out the basis-factor calls; they exist at run time
        ok, basic = self.h.getBasicVariables()  # type: ignore[attr-defined]
        if ok != highspy_ok():
            raise RuntimeError("HiGHS gives no basis to trace the curve from")
        basic = np.asarray(basic, dtype=np.int64)
        is_col = basic >= 0
        self._basic = (basic[is_col], -basic[~is_col] - 1)
        # which bound each nonbasic value sits on, read from the values (reading HiGHS's
        # status objects one by one costs more than its warm solve)
        col_status = _status(x0, self.col_lower, self.col_upper, self._basic[0])
        row_status = _status(r0, self.row_lower, self.row_upper, self._basic[1])
        out = np.zeros((line.degree, comp.n_cols))
        for k in range(1, line.degree + 1):
            dx = np.zeros(comp.n_cols)
            dr = np.zeros(comp.n_rows)
            for name, status, target in (("col_lower", col_status, dx),
                                         ("col_upper", col_status, dx),
                                         ("row_lower", row_status, dr),
                                         ("row_upper", row_status, dr)):
                if name not in tay:
                    continue
                pos = line.moved[name]
                at = status[pos] == (0 if name.endswith("lower") else 2)
                target[pos[at]] = tay[name][k][at]
            rhs = -(self.A @ dx)
            nonbasic_rows = row_status != 1
            rhs[nonbasic_rows] += dr[nonbasic_rows]
            ok, z = self.h.getBasisSolve(rhs)  # type: ignore[attr-defined]
            if ok != highspy_ok():
                raise RuntimeError("HiGHS could not solve with its basis factors")
            z = np.asarray(z, dtype=float)
            dx[basic[is_col]] = z[is_col]
            # the rules held at their bound must follow it: a check on the solve
            got = (self.Acsr @ dx)[nonbasic_rows]
            # within a millionth of the row's terms, or rounding: a hundred-millionth of the
            # direction's largest term (the solve's error is relative to the whole system)
            size = (self.A_abs @ np.abs(dx))[nonbasic_rows] + np.abs(dr[nonbasic_rows])
            allowed = RESIDUAL * size + ROUNDING * float(np.max(size, initial=0.0)) + 1e-12
            self.residual = max(self.residual, float(np.max(
                np.abs(got - dr[nonbasic_rows]) / allowed, initial=0.0)))
            out[k - 1] = dx
        return out

    def _limit(self, v0: np.ndarray, dv: np.ndarray, lo0: np.ndarray, hi0: np.ndarray,
               dlo: np.ndarray, dhi: np.ndarray, smax: float, sign: int) -> float:
        """How far ``t`` may move (``sign`` +1 up, -1 down, at most ``smax``) before a basic
        value ``v0 + Σ dv s^k`` leaves its moving bounds ``[lo0 + Σ dlo s^k, hi0 + ...]``."""
        best = smax
        for g0, g, bound in ((v0 - lo0, dv - dlo, lo0), (hi0 - v0, dhi - dv, hi0)):
            ok = np.isfinite(g0)
            if not ok.any():
                continue
            best = min(best, _first_exit(g0[ok], g[:, ok], bound[ok], smax, sign,
                                         self.line.width))
        return max(best, 0.0)


def _status(value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
            basic: np.ndarray) -> np.ndarray:
    """HiGHS's basis status of each value: 1 basic, else 0 at its lower bound or 2 at its
    upper (the nearer; a fixed value counts as at its lower), 3 free at zero."""
    near_lo = np.where(np.isfinite(lower), np.abs(value - lower), np.inf)
    near_hi = np.where(np.isfinite(upper), np.abs(upper - value), np.inf)
    out = np.where(near_lo <= near_hi, 0, 2)
    out = np.where(np.isinf(near_lo) & np.isinf(near_hi), 3, out)
    out[basic] = 1
    return out


def highspy_optimal() -> Any:
    import highspy

    return highspy.HighsModelStatus.kOptimal


def highspy_ok() -> Any:
    import highspy

    return highspy.HighsStatus.kOk


def _first_exit(g0: np.ndarray, g: np.ndarray, bound: np.ndarray, smax: float, sign: int,
                width: float) -> float:
    """The least ``s`` in [0, smax] at which some ``g0 + Σ_k g[k-1] (sign·s)^k`` (a basic
    value's distance to a bound) turns negative; ``smax`` if none does. A value at its bound
    (within ``FEASIBLE`` of its scale, the certificate's kind of tolerance far inside it) may
    drift that far out first: without the allowance, a degenerate value drifting out at a
    rate HiGHS cannot see would end every piece where it starts."""
    if sign < 0:
        g = g * np.array([(-1.0) ** (k + 1) for k in range(g.shape[0])])[:, None]
    scale = 1.0 + np.abs(bound) + np.abs(g0)
    noise = NOISE * scale / np.array([width ** (k + 1) for k in range(g.shape[0])])[:, None]
    g = np.where(np.abs(g) <= noise, 0.0, g)
    # a value clearly inside its bounds leaves exactly where it meets one (an exact
    # breakpoint); one at its bound (degenerate, or left just outside by HiGHS's tolerance)
    # may drift the allowance out, at a rate too small for HiGHS to see
    allow = FEASIBLE * scale
    room = np.where(g0 > allow, g0, np.maximum(g0, 0.0) + allow)
    best = smax
    linear = ~np.any(g[1:] != 0, axis=0) if g.shape[0] > 1 else np.ones(len(g0), dtype=bool)
    down = linear & (g[0] < 0)
    if down.any():
        best = min(best, float(np.min(room[down] / -g[0][down])))
    curved = np.flatnonzero(~linear)
    if len(curved):  # the least root after which each turns negative, all at once
        exits = least_exits(np.vstack([room[curved], g[:, curved]]), best, 1e-14 * width)
        best = min(best, float(np.min(exits)))
    return best


def _trace(tr: _Tracer, warnings: list[str], start: float | None = None,
           stop: float | None = None) -> tuple[list[Piece], bool, float | None]:
    """:func:`_trace_pieces` with the cyclic garbage collector paused: a piece every 0.2 ms
    makes few objects and no cycles, but enough to set off the collector's full passes, which
    walk every live object of the process (on the county, after a build and a MIP, 200,000:
    a trace took 0.10–0.16 s with it running, 0.10–0.11 s paused)."""
    with collector_paused():
        return _trace_pieces(tr, warnings, start, stop)


def _trace_pieces(tr: _Tracer, warnings: list[str], start: float | None = None,
                  stop: float | None = None) -> tuple[list[Piece], bool, float | None]:
    """Pieces covering the range (or ``[start, stop]`` inside it) from its start, in order;
    whether every gap between them was closed; and the value past which the LP has no optimum
    (None: none in the range).

    From the covered end ``a``, the basis found furthest on is used; when none reaches past
    ``a``, the curve's own pivots at ``a`` give the next basis (the fast path, when the tracer
    has a pivoter); when they decline, the LP is solved at ``a + step``: a basis there that
    reaches back to ``a`` extends the cover (and if it ends at the probe itself, the next step
    is longer, so HiGHS sees the change); one that does not leaves a gap, and the next probe
    bisects it."""
    line = tr.line
    lo = line.lo if start is None else start
    hi = line.hi if stop is None else stop
    same = SAME_T * line.width
    found: list[Piece] = []
    chosen: list[Piece] = []
    if start is None:
        first = tr.piece_at(lo)
        if first is None:
            return [], False, lo
        found.append(first)
    # else a retrace from a breakpoint: the first probe is a step past it, as after any
    # piece (solved at the breakpoint itself HiGHS may give the basis that ends there, which
    # at its bound may drift the allowance on: a sliver that moves the breakpoint)
    a, step, closed, end = lo, STEP * line.width, True, None
    declined = math.nan  # the value the fast path last gave up at: HiGHS takes that step
    while a < hi - same:
        reach = [p for p in found if p.lo <= a + same and p.hi > a + same]
        if reach:
            best = max(reach, key=lambda p: p.hi)
            chosen.append(best)
            a, step = best.hi, STEP * line.width
            found = [p for p in found if p.hi > a + same]  # the rest can never reach further
            continue
        if tr.solves > 4 * MAX_PIECES or len(chosen) > MAX_PIECES:
            closed, end = False, a
            warnings.append(f"the trace stopped after {tr.solves} solves: the curve past "
                            f"{a:.6g} is not traced")
            break
        if chosen and a != declined:
            fast = tr.advance(chosen[-1], a)
            if fast is not None:
                found.append(fast)
                continue
            declined = a
        probe = min(a + step, line.hi)
        p = tr.piece_at(probe)
        if p is None:
            if step <= same:
                end = a
                warnings.append(f"past {a:.6g} the plan with its integer decisions held has no "
                                "solution: the curve ends there")
                break
            step /= 2.0  # the LP ends somewhere in (a, probe]: close in on it
            continue
        found.append(p)
        if p.lo <= a + same:
            if p.hi <= probe + same and probe < line.hi:
                step *= GROW
            continue
        if p.lo - a <= same * 1e3 or step <= same:
            # a sliver no basis could be proven on: drawn straight across, not exact
            closed = False
            warnings.append(f"between {a:.6g} and {p.lo:.6g} no basis could be proven "
                            "optimal: the curve is drawn straight across")
            p.lo = a
            continue
        step = (p.lo - a) / 2.0
    out = _contiguous(chosen, hi)
    if out and out[0].lo < lo:
        out[0].lo = lo
    return out, closed, end


def _contiguous(pieces: list[Piece], hi: float) -> list[Piece]:
    """Each piece from where the one before ends (bases are often proven on wider intervals
    than they are used on); a piece the one before covers whole is left out."""
    out: list[Piece] = []
    for p in pieces:
        if out:
            if p.hi <= out[-1].hi:
                continue
            p.lo = out[-1].hi
        out.append(p)
    if out:
        out[-1].hi = min(out[-1].hi, hi)
    return out


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Consecutive pieces that are one function of ``t`` (a degenerate change of basis) as one."""
    out: list[Piece] = []
    for p in pieces:
        if out and out[-1].same_rates(p, p.lo):
            out[-1].hi = p.hi
            out[-1].fast = out[-1].fast or p.fast
            continue
        out.append(p)
    return out


# ---------------------------------------------------------------------------------------------
# the answer
# ---------------------------------------------------------------------------------------------


@dataclass
class _Readers:
    """What a plan reports, from its decisions (as the stress engine reads a scenario)."""

    comp: Compiled
    d: Any
    response: Response
    spend: Spend
    activity: Any  # (interventions, columns)
    binding_rows: np.ndarray
    rule_text: Callable[[int], str]


@dataclass
class Curve:
    """The answer of ``hwbopt curve``: :meth:`summary` is its JSON, :attr:`tables` its CSV
    files; :meth:`x_at` gives the traced plan at any value of the input."""

    instance: Instance
    path: str
    lo: float
    hi: float
    status: str
    message: str
    pieces: list[Piece]
    exact: bool
    affine: bool
    feasible_to: float | None
    objective_kind: str
    readers: _Readers | None
    line: Line | None
    # the LP's column bounds with the plan's integer decisions held (where the input does
    # not move them), to keep rounding from putting a value a hair outside its bounds
    col_bounds: tuple[np.ndarray, np.ndarray] | None = None
    integer_checks: list[dict[str, Any]] = field(default_factory=list)
    checked_points: int = 0
    solves: int = 0
    iterations: int = 0
    first_iterations: int = 0  # of the first solve, cold at the range's start
    trace_seconds: float = 0.0
    first_solve_seconds: float = 0.0  # of the trace, the solve at the range's start
    start_plan: np.ndarray | None = field(default=None, repr=False)  # what that solve began
    # from: the mixed-integer optimum's plan (None: it was found elsewhere, the solve cold)
    fast_steps: int = 0  # pieces found by the curve's own pivots (the fast path)
    fallback_steps: int = 0  # steps they declined, taken by a HiGHS re-solve
    pivots: int = 0  # the curve's own pivots
    repaired: int = 0  # fast pieces that failed the certificate, retraced by HiGHS
    certify_seconds: float = 0.0  # the certificates of every piece, after the trace
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- the plan at any value ------------------------------------------------------------

    def piece_for(self, t: float) -> Piece:
        if not self.pieces:
            raise ValueError("the curve has no pieces")
        k = bisect.bisect_right([p.lo for p in self.pieces], t) - 1
        return self.pieces[min(max(k, 0), len(self.pieces) - 1)]

    def x_at(self, t: float) -> np.ndarray:
        """The traced plan (the compiled model's columns) at input value ``t``."""
        x = self.piece_for(t).x(t)
        if self.col_bounds is None or self.line is None:
            return x
        lower, upper = self.col_bounds[0].copy(), self.col_bounds[1].copy()
        _, vals = self.line.at(np.array([t]))
        for name, arr in (("col_lower", lower), ("col_upper", upper)):
            if name in vals:
                arr[self.line.moved[name]] = vals[name][0]
        return _clipped(x, lower, upper)

    def objective_at(self, t: float) -> float:
        assert self.readers is not None
        c = self.readers.comp
        return float(c.c @ self.x_at(t) + c.offset)

    def _derived(self, t: float) -> dict[str, np.ndarray]:
        assert self.line is not None
        derived, _ = self.line.at(np.array([t]))
        return {k: v[0] for k, v in derived.items()}

    def outcomes_at(self, t: float) -> np.ndarray:
        """(priorities, years) outcomes of the traced plan, through the response curves."""
        assert self.readers is not None
        need = self._derived(t)["need"].reshape(-1)
        return self.readers.response.outcomes(self.x_at(t), need)

    def targets_at(self, t: float) -> np.ndarray:
        return np.asarray(self._derived(t)["target"], dtype=float)

    def activity_at(self, t: float) -> np.ndarray:
        assert self.readers is not None
        return np.asarray(self.readers.activity @ self.x_at(t))

    def spend_at(self, t: float) -> np.ndarray:
        assert self.readers is not None and self.line is not None
        _, vals = self.line.at(np.array([t]))
        lower = self.readers.comp.col_lower.copy()
        if "col_lower" in vals:
            lower[self.line.moved["col_lower"]] = vals["col_lower"][0]
        return self.readers.spend.by_partner(self.x_at(t), lower)

    def available_at(self, t: float) -> float:
        return float(self._derived(t)["available"].sum())

    # ---- what the summary reports ---------------------------------------------------------

    @property
    def breakpoint_values(self) -> list[float]:
        if not self.pieces:
            return []
        return [self.pieces[0].lo, *[p.hi for p in self.pieces]]

    def _grid(self) -> dict[str, np.ndarray]:
        """The plan read at every piece's ends and :data:`SAMPLES` points inside each, in
        one block: ``t``, ``outcome`` (n, priorities, years), ``target`` (n, targets),
        ``activity`` (n, interventions)."""
        if "grid" in self._cache:
            return dict(self._cache["grid"])
        assert self.readers is not None and self.line is not None
        r = self.readers
        ts = np.unique(np.concatenate([np.linspace(p.lo, p.hi, SAMPLES + 2)
                                       for p in self.pieces]))
        derived, _ = self.line.at(ts)
        xs = np.array([self.x_at(float(t)) for t in ts])
        need = derived["need"].reshape(len(ts), -1)
        grid = {"t": ts,
                "outcome": r.response.outcomes(xs, need),
                "target": np.asarray(derived["target"], dtype=float).reshape(len(ts), -1),
                "activity": np.asarray((r.activity @ xs.T).T)}
        self._cache["grid"] = grid
        return dict(grid)

    def _first_drop(self, vals: np.ndarray,
                    f: Callable[[float], float]) -> tuple[bool, float | None]:
        """Whether ``f >= 0`` at the range's start (``vals``: ``f`` on the grid), and the
        value after which it first turns negative (a root of ``f``, refined from the grid);
        None if it never does."""
        from scipy.optimize import brentq

        ts = self._grid()["t"]
        if vals[0] < 0:
            return False, None
        below = np.flatnonzero(vals < 0)
        if not len(below):
            return True, None
        k = int(below[0])
        a, b = float(ts[k - 1]), float(ts[k])
        root = a if vals[k - 1] == 0 else float(
            brentq(f, a, b, xtol=1e-15 * max(1.0, abs(b)), rtol=1e-15))
        return True, self._snapped(root)

    def _snapped(self, t: float) -> float:
        """``t`` put on a breakpoint within :data:`SNAP` of the range: a root found with a
        tolerance (a target met within a millionth, an activity above a ten-millionth) lies
        that close to the breakpoint where it really happens (an activity falls to nothing
        only where its columns leave the basis, a shortfall starts where its column enters)."""
        bps = np.asarray(self.breakpoint_values)
        if not len(bps):
            return t
        k = int(np.argmin(np.abs(bps - t)))
        return float(bps[k]) if abs(bps[k] - t) <= SNAP * (self.hi - self.lo) else t

    def target_rows(self) -> list[dict[str, Any]]:
        if "targets" in self._cache:
            return list(self._cache["targets"])
        out: list[dict[str, Any]] = []
        if self.readers is None or not self.pieces:
            return out
        d = self.readers.d
        priorities, years = list(d.PRIORITIES), list(d.YEARS)
        end = self.pieces[-1].hi
        grid = self._grid()
        for j, tgt in enumerate(self.instance.targets):
            if tgt.year not in years or tgt.priority not in priorities:
                continue
            k, y = priorities.index(tgt.priority), years.index(tgt.year)

            # met as the stress engine counts it: within 1e-6 of the target (relative)
            def gap(t: float, k: int = k, y: int = y, j: int = j) -> float:
                target = float(self.targets_at(t)[j])
                return float(self.outcomes_at(t)[k, y] - target
                             + 1e-6 * max(1.0, abs(target)))

            target = grid["target"][:, j]
            vals = grid["outcome"][:, k, y] - target + 1e-6 * np.maximum(1.0, np.abs(target))
            met, drop = self._first_drop(vals, gap)
            out.append({"priority": tgt.priority, "year": int(tgt.year),
                        "target": float(target[0]),
                        "hard": bool(getattr(tgt, "hard", False)),
                        "met_at_from": met,
                        "last_met": (drop if drop is not None else end) if met else None,
                        "met_throughout": met and drop is None})
        self._cache["targets"] = out
        return list(out)

    def dropout_rows(self) -> list[dict[str, Any]]:
        """Interventions running at the range's start whose activity falls to nothing."""
        if "dropouts" in self._cache:
            return list(self._cache["dropouts"])
        out: list[dict[str, Any]] = []
        if self.readers is None or not self.pieces:
            return out
        d = self.readers.d
        act = self._grid()["activity"]
        for i, name in enumerate(d.INTERVENTIONS):
            thr = 1e-7 * max(1.0, abs(float(act[0, i])))
            if act[0, i] <= thr:
                continue

            def left(t: float, i: int = i, thr: float = thr) -> float:
                return float(self.activity_at(t)[i] - thr)

            _, at = self._first_drop(act[:, i] - thr, left)
            if at is not None:
                out.append({"intervention": name, "at": at})
        out.sort(key=lambda r: (r["at"], r["intervention"]))
        self._cache["dropouts"] = out
        return list(out)

    def piece_rows(self) -> list[dict[str, Any]]:
        if "pieces" in self._cache:
            return list(self._cache["pieces"])
        out = []
        r = self.readers
        for p in self.pieces:
            width = p.hi - p.lo
            o0, o1 = self.objective_at(p.lo), self.objective_at(p.hi)
            slope = (o1 - o0) / width if width > 0 else 0.0
            da = self.available_at(p.hi) - self.available_at(p.lo)
            money = (o1 - o0) / da if abs(da) > 1e-9 * max(1.0, abs(self.available_at(p.lo))) \
                else None
            binding: list[str] = []
            text: list[str] = []
            if r is not None and len(r.binding_rows):
                dual = p.dual[r.binding_rows]
                scale = 1e-9 * max(1.0, abs(o0))
                for row in r.binding_rows[np.abs(dual) > scale]:
                    binding.append(r.comp.row_name(int(row)))
                    text.append(r.rule_text(int(row)))
            out.append({"from": p.lo, "to": p.hi, "slope": slope, "money_value": money,
                        "objective_from": o0, "objective_to": o1, "binding": binding,
                        "binding_text": text})
        self._cache["pieces"] = out
        return list(out)

    def summary(self) -> dict[str, Any]:
        inst = self.instance
        return {
            "status": self.status,
            "message": self.message,
            "instance": inst.name,
            "input": self.path,
            "from": self.lo,
            "to": self.hi,
            "breakpoints": [{"value": t, "objective": self.objective_at(t)}
                            for t in self.breakpoint_values],
            "pieces": self.piece_rows(),
            "targets": self.target_rows(),
            "dropouts": self.dropout_rows(),
            "integer_changes": self.integer_checks,
            "integer_points_checked": self.checked_points,
            "exact": self.exact,
            "affine": self.affine,
            "feasible_to": self.feasible_to,
            "objective_kind": self.objective_kind,
            "solves": self.solves,
            "iterations": self.iterations,
            "trace_seconds": self.trace_seconds,
            "first_solve_seconds": self.first_solve_seconds,
            "fast_steps": self.fast_steps,
            "fallback_steps": self.fallback_steps,
            "pivots": self.pivots,
            "repaired_pieces": self.repaired,
            "certify_seconds": self.certify_seconds,
            "seconds": self.seconds,
            "warnings": self.warnings,
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "years": list(inst.years),
            "kind": KIND,
            "provenance": self.provenance,
            "labels": self.labels,
        }

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """``breakpoints``, ``pieces``, ``targets``, ``dropouts``, ``integer_changes`` and the
        plan at each breakpoint: ``outcomes``, ``spend`` and ``activity`` (long form)."""
        if "tables" in self._cache:
            return dict(self._cache["tables"])
        ts = self.breakpoint_values
        bps = pd.DataFrame({"value": ts, "objective": [self.objective_at(t) for t in ts]},
                           columns=["value", "objective"])
        pieces = pd.DataFrame(
            [{"from_value": p["from"], "to_value": p["to"], "slope": p["slope"],
              "money_value": p["money_value"], "binding": "; ".join(p["binding_text"])}
             for p in self.piece_rows()],
            columns=["from_value", "to_value", "slope", "money_value", "binding"])
        targets = pd.DataFrame(self.target_rows(),
                               columns=["priority", "year", "target", "hard", "met_at_from",
                                        "last_met", "met_throughout"])
        drops = pd.DataFrame(self.dropout_rows(), columns=["intervention", "at"])
        ints = pd.DataFrame([{**c, "changed": "; ".join(c["changed"])}
                             for c in self.integer_checks],
                            columns=["value", "objective", "curve_objective", "gain", "changed"])
        out = {"breakpoints": bps, "pieces": pieces, "targets": targets, "dropouts": drops,
               "integer_changes": ints}
        if self.readers is not None and ts:
            d = self.readers.d
            rows_o, rows_s, rows_a = [], [], []
            target_of = {(t.priority, t.year): j for j, t in enumerate(self.instance.targets)}
            for t in ts:
                o, tg = self.outcomes_at(t), self.targets_at(t)
                for k, pr in enumerate(d.PRIORITIES):
                    for y, yr in enumerate(d.YEARS):
                        j = target_of.get((pr, yr))
                        rows_o.append({"value": t, "priority": pr, "year": int(yr),
                                       "achieved": float(o[k, y]),
                                       "target": None if j is None else float(tg[j])})
                for p, name in enumerate(d.PARTNERS):
                    rows_s.append({"value": t, "partner": name,
                                   "spend": float(self.spend_at(t)[p])})
                act = self.activity_at(t)
                for i, name in enumerate(d.INTERVENTIONS):
                    rows_a.append({"value": t, "intervention": name, "activity": float(act[i])})
            out["outcomes"] = pd.DataFrame(rows_o, columns=["value", "priority", "year",
                                                            "achieved", "target"])
            out["spend"] = pd.DataFrame(rows_s, columns=["value", "partner", "spend"])
            out["activity"] = pd.DataFrame(rows_a, columns=["value", "intervention", "activity"])
        self._cache["tables"] = out
        return dict(out)


def write_curve(cv: Curve, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt curve --json``) and the tables as CSV files."""
    from hwbopt.io.folder import atomic_write_text
    from hwbopt.io.results import check_out_dir

    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in cv.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(cv.summary(), indent=2, allow_nan=False) + "\n")
    return folder


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------


def _bounds_at(comp: Compiled, line: Line, t: float) -> Compiled:
    """``comp`` with the moved bounds at input value ``t``."""
    _, vals = line.at(np.array([t]))
    arrays = {"col_lower": comp.col_lower.copy(), "col_upper": comp.col_upper.copy(),
              "row_lower": comp.row_lower.copy(), "row_upper": comp.row_upper.copy()}
    for name, pos in line.moved.items():
        arrays[name][pos] = vals[name][0]
    return with_bounds(comp, **arrays)


def _rule_words(text: str, row: int, line: Line) -> str:
    """A rule in words, without the instance's own figure when the input moves it (the words
    give the limit at the instance's value: '… budget, 2013/14 (£k 90 of general money)')."""
    moved = [line.moved.get(name, np.zeros(0, dtype=np.int64))
             for name in ("row_lower", "row_upper")]
    if any(row in m for m in moved) and text.endswith(")") and "(" in text:
        return text[:text.rindex("(")].rstrip()
    return text


def _clipped(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``x`` with values outside their bounds by rounding (a billionth of the plan's largest
    value: ``x0 + dx·s`` adds rates of up to millions over short pieces) put on the bound."""
    tol = 1e-9 * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    x = np.where((x < lower) & (x >= lower - tol), lower, x)
    out: np.ndarray = np.where((x > upper) & (x <= upper + tol), upper, x)
    return out


def _failures(tr: _Tracer, pieces: list[Piece]) -> list[tuple[int, str]]:
    """Each piece's plan at both its ends (and three inner points, for a curved input)
    checked as an LP optimum with the piece's duals, against the bounds of that value (from
    the engine's formulas, ``Line.at``, for every point in one call): the index of each piece
    that fails, and why."""
    points = [(k, float(t)) for k, p in enumerate(pieces)
              for t in ([p.lo, p.hi] if tr.line.affine else np.linspace(p.lo, p.hi, 5))]
    if not points:
        return []
    _, vals = tr.line.at(np.array([t for _, t in points]))
    comp = tr.comp
    base = {"col_lower": comp.col_lower, "col_upper": comp.col_upper,
            "row_lower": comp.row_lower, "row_upper": comp.row_upper}
    bad: list[tuple[int, str]] = []
    for i, (k, t) in enumerate(points):
        if bad and bad[-1][0] == k:
            continue  # one failure a piece is enough
        arrays = {name: a.copy() for name, a in base.items()}
        for name, pos in tr.line.moved.items():
            arrays[name][pos] = vals[name][i]
        prob = certify.Problem(
            A=comp.A, c=comp.c, offset=comp.offset, sense=comp.sense,
            col_lower=arrays["col_lower"], col_upper=arrays["col_upper"],
            row_lower=arrays["row_lower"], row_upper=arrays["row_upper"],
            integer=np.zeros(comp.n_cols, dtype=bool))
        x = _clipped(pieces[k].x(t), arrays["col_lower"], arrays["col_upper"])
        why = certify.lp_optimal(prob, x, pieces[k].dual)
        if why:
            bad.append((k, f"at {t:.6g}: {why}"))
    return bad


def _repair(tr: _Tracer, pieces: list[Piece], failures: list[tuple[int, str]],
            warnings: list[str]) -> tuple[list[Piece], bool]:
    """Pieces of the fast path that failed the certificate traced again by HiGHS re-solves
    alone (the route without the fast path), and whether every gap was closed; a piece HiGHS
    cannot retrace is kept as it was (and stays uncertified)."""
    redo = {k for k, _ in failures if pieces[k].fast}
    tr.pivoter = None
    out: list[Piece] = []
    closed = True
    for k, p in enumerate(pieces):
        if k not in redo:
            out.append(p)
            continue
        sub, ok, end = _trace(tr, warnings, p.lo, p.hi)
        if not sub or end is not None:
            out.append(p)
            continue
        tr.repaired += 1
        closed = closed and ok
        out.extend(sub)
    return _merge(out), closed


def _integer_checks(curve: Curve, free: Compiled, line: Line, plan: np.ndarray,
                    gap: float, time_limit: float | None, limit: int,
                    name_of: Callable[[int], str]) -> tuple[list[dict[str, Any]], int]:
    """The MIP re-solved with the integer decisions free at each breakpoint and each piece's
    midpoint (at most ``limit`` points, spread evenly): where its plan beats the curve's."""
    if limit <= 0 or not free.integer.any() or not curve.pieces:
        return [], 0
    ts = sorted({*curve.breakpoint_values, *((p.lo + p.hi) / 2 for p in curve.pieces)})
    if len(ts) > limit:
        pick = np.unique(np.round(np.linspace(0, len(ts) - 1, limit)).astype(int))
        ts = [ts[k] for k in pick]
    session = highs.Session(threads=1)
    cols = np.flatnonzero(free.integer)
    out = []
    for t in ts:
        raw = session.solve(_bounds_at(free, line, t), time_limit=time_limit, mip_gap=gap)
        if raw.x is None or raw.objective is None:
            continue
        on_curve = curve.objective_at(t)
        gain = (on_curve - raw.objective) * free.sense  # > 0: the free plan is better
        if gain > 1e-6 * max(1.0, abs(on_curve)):
            changed = cols[np.abs(np.round(raw.x[cols]) - plan[cols]) > 0.5]
            out.append({"value": t, "objective": raw.objective, "curve_objective": on_curve,
                        "gain": gain, "changed": [name_of(int(j)) for j in changed]})
    return out, len(ts)


def curve(
    instance: Instance,
    input: str,
    start: float,
    end: float,
    *,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    mip_checks: int = MIP_CHECKS,
    fast: bool = True,
    hold_at: float | None = None,
) -> Curve:
    """The exact response of the plan to the input at path ``input`` (the path language of
    named scenarios, e.g. ``partners[council].cut.total``) set to each value from ``start`` to
    ``end`` (module docstring, ``models/curve.md``). The plan's integer decisions are those of
    the mixed-integer optimum at ``start``; ``mip_checks`` points where they are re-solved free
    (0: none). ``time_limit`` bounds each MIP solve; ``mip_gap`` overrides the instance's.
    ``fast`` False: every breakpoint by a HiGHS re-solve, without the curve's own pivots (the
    same curve, slower: for comparison). ``hold_at`` (from ``start`` to ``end``; default
    ``start``) is the input's value whose mixed-integer optimum gives the integer decisions
    held: the instance's own value holds its plan, as a stress run's scenarios do."""
    from hwbopt.batch.setup import BINDING_FAMILIES, _sum_matrix
    from hwbopt.pipeline import build
    from hwbopt.provenance import instance_labels, run_provenance
    from hwbopt.words import quantity, rule

    began = time.perf_counter()
    check_limits(time_limit, mip_gap)
    if not (math.isfinite(start) and math.isfinite(end)) or not start < end:
        raise UsageError(f"--from {start:g} --to {end:g}: the range needs two finite values, "
                         "--from below --to")
    if mip_checks < 0:
        raise UsageError(f"--mip-checks {mip_checks}: expected 0 or more")
    built = build(instance, objective)
    comp, d = built.compiled, built.data
    kind = str(objective or instance.settings.objective)
    gap = d.mip_gap if mip_gap is None else mip_gap
    line = _line(instance, input, start, end, objective, built)
    options = {"input": input, "from": start, "to": end, "objective": kind, "mip_gap": gap,
               "time_limit": time_limit, "mip_checks": mip_checks, "hold_at": hold_at}

    def answer(status: str, message: str, **kw: Any) -> Curve:
        return Curve(instance=instance, path=input, lo=start, hi=end, status=status,
                     message=message, objective_kind=kind, line=line,
                     affine=line.affine, provenance=run_provenance(
                         highs.highs_version(), options=options),
                     labels=instance_labels(instance), **kw)

    # the integer decisions held: those of the mixed-integer optimum at the start (or at
    # ``hold_at``)
    at = start if hold_at is None else float(hold_at)
    if not (math.isfinite(at) and start <= at <= end):
        raise UsageError(f"--hold-at {at:g}: expected a value from --from {start:g} to "
                         f"--to {end:g}")
    base = highs.solve_compiled(_bounds_at(comp, line, at), time_limit=time_limit, mip_gap=gap)
    if base.status != Status.OPTIMAL or base.x is None:
        return answer(str(base.status), f"at {input} = {at:g} there is no proven optimal "
                      f"plan to take the integer decisions from: {base.message}", pieces=[],
                      exact=False, feasible_to=None, readers=None,
                      seconds=time.perf_counter() - began)
    plan = np.where(comp.integer, np.round(base.x), 0.0)
    lower = np.where(comp.integer, plan, comp.col_lower)
    upper = np.where(comp.integer, plan, comp.col_upper)
    lp = with_bounds(comp, col_lower=lower, col_upper=upper)
    lp = Compiled(**{**lp.__dict__, "integer": np.zeros(comp.n_cols, dtype=bool)})
    if at != start:  # decisions optimal elsewhere may leave no plan at the start
        opening = highs.solve_compiled(_bounds_at(lp, line, start), time_limit=time_limit)
        if opening.status != Status.OPTIMAL:
            return answer(str(opening.status), f"with the integer decisions of {input} = "
                          f"{at:g} held there is no proven optimal plan at {start:g} to start "
                          f"the curve from: {opening.message}", pieces=[], exact=False,
                          feasible_to=None, readers=None, seconds=time.perf_counter() - began)
    warnings: list[str] = []
    traced = time.perf_counter()
    # the mixed-integer optimum's plan starts the trace, where it was found
    tr = _Tracer(_bounds_at(lp, line, start), line, base.x if at == start else None)
    if fast:
        tr.use_pivots()
    raw_pieces, closed, end_at = _trace(tr, warnings)
    pieces = _merge(raw_pieces)
    pivots = tr.pivoter.pivots if tr.pivoter is not None else 0
    trace_seconds = time.perf_counter() - traced
    certified = time.perf_counter()
    failures = _failures(tr, pieces)
    retraced = 0.0
    if any(pieces[k].fast for k, _ in failures):  # the fast path's doubt: HiGHS retraces
        retrace = time.perf_counter()
        pieces, ok = _repair(tr, pieces, failures, warnings)
        closed = closed and ok
        retraced = time.perf_counter() - retrace
        failures = _failures(tr, pieces)
    trace_seconds += retraced
    uncertified = [why for _, why in failures]
    certify_seconds = time.perf_counter() - certified - retraced
    if uncertified:
        warnings.append(f"{len(uncertified)} piece(s) failed the optimality certificate, "
                        f"first {uncertified[0]}")
    if tr.residual > 1.0:
        warnings.append(f"a direction missed the rules it must keep by {tr.residual:.2g} "
                        "times what rounding allows: the pieces are not proven exact")
    if line.fit_error > FIT_REL:
        warnings.append("the limits the input moves were fitted only approximately")
    binding = np.array(sorted(r for name in BINDING_FAMILIES for r in comp.rows(name).values()),
                       dtype=np.int64)
    readers = _Readers(comp=comp, d=d, response=response_of(d, comp), spend=spend_of(d, comp),
                       activity=_sum_matrix(comp, d.INTERVENTIONS, {"activity": 0}),
                       binding_rows=binding,
                       rule_text=lambda r: _rule_words(rule(d, comp.row_component[r],
                                                            comp.row_index[r]), r, line))
    exact = closed and not uncertified and tr.residual <= 1.0
    message = ""
    if end_at is not None and pieces:
        message = (f"the plan with its integer decisions held has no solution past "
                   f"{input} = {end_at:.6g}: the curve covers {start:g} to {end_at:.6g}")
    cv = answer(str(Status.OPTIMAL), message, pieces=pieces, exact=exact and not uncertified,
                col_bounds=(lp.col_lower, lp.col_upper),
                feasible_to=end_at, readers=readers, solves=tr.solves,
                iterations=tr.iterations, first_iterations=tr.first_iterations,
                trace_seconds=trace_seconds, warnings=warnings, fast_steps=tr.fast_steps,
                fallback_steps=tr.fallback_steps, pivots=pivots, repaired=tr.repaired,
                certify_seconds=certify_seconds, first_solve_seconds=tr.first_seconds,
                start_plan=tr.start)
    if not pieces:
        cv.status = str(Status.INFEASIBLE)
        cv.message = f"the LP with the plan's integer decisions held has no optimum at {start:g}"
    cv.integer_checks, cv.checked_points = _integer_checks(
        cv, comp, line, plan, gap, time_limit, mip_checks,
        lambda j: quantity(d, comp.col_component[j], comp.col_index[j]))
    if cv.integer_checks:
        first = cv.integer_checks[0]
        warnings.append(f"with its yes/no and whole-number decisions free the plan does better "
                        f"at {len(cv.integer_checks)} of {cv.checked_points} points checked, "
                        f"first at {first['value']:.6g} (by {first['gain']:,.6g})")
    cv.seconds = time.perf_counter() - began
    return cv


__all__ = ["Curve", "Line", "Piece", "curve", "write_curve"]
