"""A small cache of optimal bases for scenarios that move only bounds ("bunching").

When a scenario changes only row and column bounds (no cost, no matrix coefficient), every
optimal basis of an earlier scenario keeps its reduced costs and its duals: it is still optimal
for the new bounds as soon as the basic values it gives lie within their bounds. Checking that
is one sparse product and one triangular solve with the basis's LU factors, against a warm
simplex solve of milliseconds (Gassmann & Wallace 1996, Solving linear programs with multiple
right-hand sides).

The LP is held as HiGHS holds it: columns ``x`` and row activities ``r`` with ``A x − r = 0``,
each bounded. A basis picks ``m`` (rows) of the ``n + m`` variables; the rest sit at a bound
(HiGHS's status: 0 at lower, 2 at upper, 3 free at zero, 4 nonbasic). With the nonbasic values
``z_N`` fixed, the basic ones solve ``B z_B = −M_N z_N`` where ``M = [A | −I]``.

A hit is only a candidate: the engine certifies it exactly as it certifies a warm solve
(:func:`hwbopt.batch.certify.lp_optimal`) and falls back to the simplex if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SIZE = 12  # bases kept per chain: enough for a money workload's few regimes, cheap to scan
# A chain stops using its cache once the cache has missed GRACE times and answered fewer than
# half of the chain's scenarios (WORTH): factorising a basis costs about a warm solve (3–5 ms on
# the county), so a workload whose optimal basis changes with almost every scenario (the
# county's money workload: 32 distinct bases in a chain of 32 sorted by cut depth) must not
# pay it for every scenario. Decided within the chain alone, so results stay deterministic.
GRACE = 2
WORTH = 0.5
# a basic value may leave its bound by this much (relative to the bound) and still count as
# inside: HiGHS's own primal feasibility tolerance. The certificate decides in the end.
FEASIBILITY = 1e-7

_LOWER, _BASIC, _UPPER, _ZERO = 0, 1, 2, 3


@dataclass
class Entry:
    """One optimal basis, factorised, with the duals that stay optimal while it is feasible."""

    col_status: np.ndarray  # int8 per column (HiGHS's basis status)
    row_status: np.ndarray  # int8 per row
    basic_cols: np.ndarray  # indices of basic columns
    basic_rows: np.ndarray  # of rows whose activity is basic (not at a bound)
    tight_rows: np.ndarray  # of the others: as many as basic columns
    lu: spla.SuperLU  # of A[tight_rows, basic_cols]
    row_dual: np.ndarray
    A_tight: sp.csr_array  # A's tight rows, and its basic rows: sliced once, used per try
    A_basic: sp.csr_array


@dataclass
class Hit:
    x: np.ndarray
    row_dual: np.ndarray


def statuses(basic: np.ndarray, value: np.ndarray, lower: np.ndarray,
             upper: np.ndarray) -> np.ndarray:
    """HiGHS's basis statuses of one kind of variable (columns or rows) from which are basic
    and where the others sit: a nonbasic variable sits exactly at a bound, the nearer one (a
    free one at zero). Cheaper than ``Highs.getBasis``, whose statuses are Python objects."""
    with np.errstate(invalid="ignore"):
        nearer_lower = np.abs(value - lower) <= np.abs(value - upper)
    status = np.where(np.isfinite(lower) & (nearer_lower | ~np.isfinite(upper)), _LOWER,
                      np.where(np.isfinite(upper), _UPPER, _ZERO)).astype(np.int8)
    status[basic] = _BASIC
    return status


def _nonbasic(status: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """The values of the nonbasic variables (0 where basic) for these bounds; None when a
    nonbasic variable's bound has gone to infinity (the basis cannot hold it there)."""
    at_lower = (status == _LOWER) | ((status == 4) & np.isfinite(lower))
    at_upper = (status == _UPPER) | ((status == 4) & ~np.isfinite(lower) & np.isfinite(upper))
    value = np.where(at_lower, lower, np.where(at_upper, upper, 0.0))
    if not np.all(np.isfinite(value)):
        return None
    return value


def _inside(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        tol_lo = FEASIBILITY * np.maximum(1.0, np.abs(lower))
        tol_hi = FEASIBILITY * np.maximum(1.0, np.abs(upper))
        return bool(np.all(value >= lower - tol_lo) and np.all(value <= upper + tol_hi))


class BasisCache:
    """Recent optimal bases of one chain, most recently useful first."""

    def __init__(self, A: sp.csc_array, size: int = SIZE):
        self.A = sp.csc_array(A)
        self.A_rows = self.A.tocsr()  # for slicing rows
        self.size = size
        self.entries: list[Entry] = []
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0

    @property
    def active(self) -> bool:
        """Whether this chain still tries and grows the cache (see ``GRACE``)."""
        return self.misses < GRACE or self.hits >= WORTH * (self.hits + self.misses)

    def add(self, col_status: np.ndarray, row_status: np.ndarray, row_dual: np.ndarray) -> bool:
        """Factorise an optimal basis and keep it (the oldest goes when full); False when the
        basis is not square or is singular (then it is simply not kept).

        A row whose activity is basic only defines that activity, so the basis matrix
        ``[A_B | −I_R]`` is, up to those rows, ``A[tight rows, basic columns]``: the system
        factorised is the (smaller) square block of the rows at a bound."""
        basic_cols = np.flatnonzero(col_status == _BASIC)
        basic_rows = np.flatnonzero(row_status == _BASIC)
        tight_rows = np.flatnonzero(row_status != _BASIC)
        if len(basic_cols) != len(tight_rows):
            return False
        block = sp.csc_array(self.A_rows[tight_rows][:, basic_cols])
        try:
            lu = spla.splu(block)
        except RuntimeError:  # exactly singular: HiGHS's basis and our factorisation disagree
            return False
        self.entries.insert(0, Entry(col_status.copy(), row_status.copy(), basic_cols,
                                     basic_rows, tight_rows, lu,
                                     np.array(row_dual, dtype=float),
                                     sp.csr_array(self.A_rows[tight_rows]),
                                     sp.csr_array(self.A_rows[basic_rows])))
        del self.entries[self.size:]
        return True

    def solve(self, col_lower: np.ndarray, col_upper: np.ndarray, row_lower: np.ndarray,
              row_upper: np.ndarray) -> Hit | None:
        """The basic solution of the first cached basis that is primal feasible for these
        bounds (that basis moves to the front), or None."""
        for k, entry in enumerate(self.entries):
            hit = self._try(entry, col_lower, col_upper, row_lower, row_upper)
            if hit is not None:
                self.entries.insert(0, self.entries.pop(k))
                self.hits += 1
                return hit
        self.misses += 1
        return None

    def _try(self, e: Entry, col_lower: np.ndarray, col_upper: np.ndarray,
             row_lower: np.ndarray, row_upper: np.ndarray) -> Hit | None:
        x = _nonbasic(e.col_status, col_lower, col_upper)
        r = _nonbasic(e.row_status[e.tight_rows], row_lower[e.tight_rows],
                      row_upper[e.tight_rows])
        if x is None or r is None:
            return None
        # the tight rows at their bounds: A[T, B] x_B = r_T − A[T, N] x_N (x_B zero here)
        xb = e.lu.solve(r - e.A_tight @ x)
        if not np.all(np.isfinite(xb)):
            return None
        if not _inside(xb, col_lower[e.basic_cols], col_upper[e.basic_cols]):
            return None
        x[e.basic_cols] = xb
        activity = e.A_basic @ x  # the basic rows' activities
        if not _inside(activity, row_lower[e.basic_rows], row_upper[e.basic_rows]):
            return None
        return Hit(x, e.row_dual)
