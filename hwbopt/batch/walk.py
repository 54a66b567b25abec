"""Scenarios that move only bounds, answered by the engine's own pivots (a parametric walk).

When a batch changes only row and column bounds of an LP (the ``money`` workload: cuts,
savings rates, pool shares), every optimal basis stays dual feasible from one scenario to the
next, since no cost or coefficient moves. From the previous scenario's optimal basis the bounds
are moved along the straight line to the next scenario's, ``b(t) = b₀ + t (b₁ − b₀)`` for
``t`` from 0 to 1, and the basis is kept optimal all along by the curve's own pivots
(:class:`hwbopt.simplex.pivots.Pivoter`: a primal ratio test gives where a basic value
meets its bound, a dual simplex pivot there gives the next basis; parametric right-hand-side
programming). At ``t = 1`` the basis is optimal for the new scenario: its values and duals are
the answer, which the engine certifies like any other (:func:`hwbopt.batch.certify.lp_optimal`,
which shares no code with the pivots) before it is reported.

This does without HiGHS's fixed cost of a run (2.2 ms on the county, against 62 µs a pivot:
``benchmarks/README.md``): the basis's factors and its eta file stay between scenarios. Any
doubt (a scenario past which the LP has no solution, a pivot too small, a bound that appears
or goes) hands the scenario to HiGHS's warm simplex, as before, and the walk starts again from
HiGHS's optimal basis.

Each chain starts from the base plan's basis, factorised once (:meth:`Walker.restart`), so a
scenario's answer depends only on its chain, as with HiGHS.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hwbopt.compile import Compiled
from hwbopt.simplex import kernels
from hwbopt.simplex.pivots import FEASIBLE, NOISE, SAME_T, Pivoter

MAX_STEPS = 200  # pieces along one scenario's line before HiGHS takes the scenario instead
# A chain stops walking once the walk has declined GRACE times and answered fewer scenarios
# than it declined: each decline costs a HiGHS solve and a factorisation of HiGHS's basis,
# which a workload the walk rarely answers must not pay for every scenario. Decided within
# the chain alone, so results stay deterministic.
GRACE = 3
# Measured on generated instances (money workload, one worker, no cold checks, ms a scenario,
# HiGHS alone against the walk, two rounds; benchmarks/README.md): with the basis's triangular
# part peeled first (hwbopt.simplex.factor) and the entering column solved hypersparse,
# 20,828 rows 14.9-16.9 against 2.8-3.2; 51,919 rows 47-54 against 18-19; 107k rows 132-144
# against 27-28 (2.7-5.3x faster walked). When the walk factorised its whole basis with
# SuperLU, it lost from about 30,000 rows (0.6x at 52k and 107k: a factorisation took 1.9 s
# at 107k), and this limit was 25,000. Past the largest LP measured, HiGHS alone answers.
# By size, not by a timing, so that the route (and with it the plan reported where the LP has
# several optima) is the same on every machine.
MAX_ROWS = 120_000


@dataclass
class Segment:
    """The bounds standing still at a scenario's, ``t`` from 0 to 1 (what :class:`Pivoter`
    needs of a line, :class:`hwbopt.simplex.pivots.Straight`; each walk then aims it
    at the next scenario's bounds, :meth:`Pivoter.aim`)."""

    moved: dict[str, np.ndarray]  # array -> the positions that may move
    start: dict[str, np.ndarray]  # their values
    lo: float = 0.0
    hi: float = 1.0
    degree: int = 1

    @property
    def affine(self) -> bool:
        return True

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def taylor(self, t: float) -> dict[str, np.ndarray]:
        """Each moved array's values at ``t`` and their rates (none), ``(2, moved)``."""
        return {k: np.vstack([v, np.zeros(len(v))]) for k, v in self.start.items()}


@dataclass
class Walked:
    """One scenario answered by the walk: the columns' values, the row duals (HiGHS's
    convention) and the pivots it took."""

    x: np.ndarray
    row_dual: np.ndarray
    pivots: int


class Walker:
    """The LP of a bounds-only batch (its integer decisions held), walked from scenario to
    scenario by its own pivots."""

    def __init__(self, comp: Compiled, cols: np.ndarray, rows: np.ndarray):
        """``comp``: the LP at the base plan's bounds; ``cols``, ``rows``: the columns and
        rows whose bounds the batch may move."""
        cols, rows = np.asarray(cols, dtype=np.int64), np.asarray(rows, dtype=np.int64)
        self.moved = {"col_lower": cols, "col_upper": cols, "row_lower": rows,
                      "row_upper": rows}
        self._cols, self._rows = cols, rows
        bounds = {"col_lower": comp.col_lower, "col_upper": comp.col_upper,
                  "row_lower": comp.row_lower, "row_upper": comp.row_upper}
        self.pv = Pivoter(comp, self._standing(bounds), noise=NOISE, feasible=FEASIBLE,
                          same=SAME_T)
        # the moved bounds flat, in the pivots' order (Pivoter._flat): positions over z =
        # (columns, rows), and which are lower bounds
        self.positions, self.is_lower = self.pv._flat[0], self.pv._flat[1]
        # which `to` reads array by array, in this order
        assert np.array_equal(self.positions, np.concatenate(
            [at + (comp.n_cols if name.startswith("row") else 0)
             for name, at in self.moved.items()]))
        self.base: dict[str, Any] | None = None
        # the last anchor walked to (restart) and the state there (None: the walk declined)
        self._anchor_key: Hashable | None = None
        self._anchor: dict[str, Any] | None = None
        self.walked = self.declined = 0  # in this chain (see GRACE)
        self._declined_now = False  # this scenario's walk declined (a failed reload after it
        # is the same scenario's trouble: counted once)

    def _standing(self, bounds: dict[str, np.ndarray]) -> Segment:
        return Segment(self.moved, {k: bounds[k][pos] for k, pos in self.moved.items()})

    @property
    def ready(self) -> bool:
        return self.pv.ready

    @property
    def active(self) -> bool:
        """Whether this chain still walks (see :data:`GRACE`)."""
        return self.declined < GRACE or self.walked >= self.declined

    def decline(self) -> None:
        """The scenario goes to HiGHS (the walk doubted it, or its answer failed the
        certificate): the walk stops until :meth:`reload`."""
        self.pv.ready = False
        self.declined += 1
        self._declined_now = True

    def start(self, basis: tuple[np.ndarray, np.ndarray]) -> bool:
        """Load the base plan's basis (HiGHS's statuses) at the base bounds, factorised, and
        keep that state for each chain's start; False if it is not optimal there (the batch
        then runs on HiGHS alone)."""
        status = np.concatenate([np.asarray(basis[0]), np.asarray(basis[1])])
        basic = np.flatnonzero(status == 1)
        ok = self.pv.load(basic, None, 0.0, given=status)
        self.base = self.pv.save() if ok else None
        return ok

    def restart(self, anchor: Hashable | None = None,
                bounds: Callable[[], dict[str, np.ndarray] | None] | None = None) -> bool:
        """Back to the base plan's basis and bounds (a chain's start), or to the base plan
        walked to the ``anchor`` scenario's ``bounds()``: kept, so the chains that share an
        anchor walk to it once. True if the walk now stands at the anchor; False at the
        base plan (no anchor, or the walk to it declined: each chain then starts there)."""
        self._fresh_chain()
        if self.base is None:
            return False
        self.pv.restore(self.base)
        if anchor is None or bounds is None:
            return False
        if anchor != self._anchor_key:
            # kept as unreachable until walked to (an error on the way leaves it so: the
            # chains then start from the base plan here as in a fresh worker, where the same
            # error comes again)
            self._anchor_key, self._anchor = anchor, None
            to = bounds()
            if to is not None and self.to(to) is not None:
                # saved with fresh factors; every process reaches the same state this way
                self._anchor = self.pv.save()
            self._fresh_chain()  # the walk to the anchor counts for no chain
        self.pv.restore(self._anchor if self._anchor is not None else self.base)
        return self._anchor is not None

    def _fresh_chain(self) -> None:
        """A chain's counts (GRACE) start at nothing."""
        self.walked = self.declined = 0
        self._declined_now = False

    def to(self, bounds: dict[str, np.ndarray]) -> Walked | None:
        """Walk to the scenario with these bounds (the four arrays, whole): its optimal
        values and duals, or None when the pivots decline (the caller solves with HiGHS and
        hands its basis on with :meth:`reload`). A bound infinite at both ends stays."""
        pv = self.pv
        self._declined_now = False
        # the moved bounds in the pivots' order (each array's positions in turn: _flat),
        # where they stand and their rates to the scenario's (fresh arrays: the line keeps
        # them)
        start, rate = np.empty(len(self.positions)), np.empty(len(self.positions))
        if not kernels.segment(bounds["col_lower"], bounds["col_upper"], bounds["row_lower"],
                               bounds["row_upper"], self._cols, self._rows, pv.n, pv.lower,
                               pv.upper, self.is_lower, start, rate):
            self.decline()  # a bound that appears or goes: not a move along a line
            return None
        before = pv.pivots
        if not pv.aim(start, rate) or pv.walk(MAX_STEPS) is None:
            self.decline()
            return None
        self.walked += 1
        return Walked(pv.z[0, : pv.n].copy(), pv.sense * pv.y, pv.pivots - before)

    def reload(self, basic: np.ndarray, x: np.ndarray, bounds: dict[str, np.ndarray]) -> bool:
        """Go on from an optimal basis HiGHS found for the scenario with these bounds
        (``basic``: HiGHS's basic variables, a column ``j`` as ``j`` and a row ``i`` as
        ``−1 − i``; ``x``: its columns' values); False if the pivots cannot take it."""
        basic = np.where(basic >= 0, basic, self.pv.n + (-1 - basic)).astype(np.int64)
        loaded = self.pv.load(basic, x, 0.0, line=self._standing(bounds))
        if not loaded and not self._declined_now:
            self.declined += 1
        self._declined_now = False
        return loaded


__all__ = ["GRACE", "MAX_ROWS", "MAX_STEPS", "Segment", "Walked", "Walker"]
