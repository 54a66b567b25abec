"""Cooperative-game mathematics for ``hwbopt coalitions``: who adds what, and is the split stable.

The partners of a board are the **players**; a **coalition** is a bitmask (bit ``i`` set: player
``i`` is a member) and its **value** ``v(S)`` is what that group achieves pooling alone, worked
out elsewhere by optimisation. Here the values are plain numbers, ``v(∅) = 0``, and ``N`` is
the whole board. For an allocation ``x`` (one number per partner, ``x(S)`` its sum over ``S``):

- **Shapley value** (:func:`shapley`): each player's marginal contribution ``v(S ∪ i) − v(S)``
  averaged over every order in which the board could have formed, exactly:
  ``φ_i = Σ_{S ∌ i} |S|! (P−|S|−1)! / P! · (v(S ∪ i) − v(S))``, vectorised over the ``2^P``
  coalitions. :func:`shapley_range` bounds it when each ``v(S)`` is known only within a MIP's
  plan and proven bound (``φ`` is linear in ``v``); :func:`sampled_shapley` estimates it from
  random orders when there are too many partners to value every coalition.
- **Excess** ``e(S) = v(S) − x(S)``: what ``S`` would gain by leaving. ``S`` **blocks** ``x`` when
  its excess is positive (:func:`blocking`); the **core** is every efficient ``x`` (``x(N) =
  v(N)``) that no coalition blocks (:func:`in_core`).
- **Least core** (:func:`least_core`): the smallest ``ε`` for which some efficient ``x`` keeps
  every excess (but ``∅``'s and ``N``'s) at most ``ε``: one LP. ``ε ≤ 0``: the core is not
  empty. ``ε > 0``: any split leaves some group ``ε`` better off alone.
- **Nucleolus** (:func:`nucleolus`): the efficient ``x`` whose excesses, sorted from the
  largest, are lexicographically least: the least core, then the least core of what is left,
  by the sequential LPs of Maschler, Peleg & Shapley (1979). It is taken over efficient
  allocations (no ``x_i ≥ v({i})`` bound), strictly the *prenucleolus*; it equals Schmeidler's
  nucleolus whenever the core is not empty or the game is superadditive, and unlike it always
  exists, also when the core is empty or the partners are worth more apart.
- :func:`most_violated` looks for blocking coalitions with a budget of evaluations of ``v``;
  :func:`superadditivity_failures` lists the groups worth less together than apart.

The exact functions enumerate all ``2^P`` coalitions and take at most :data:`MAX_PLAYERS`
players. Tolerances are relative to the game's scale ``max |v(S)|`` (:attr:`Game.scale`); the
LPs are solved on ``v / scale`` so that HiGHS's absolute tolerances act as relative ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import highspy
import numpy as np
import scipy.sparse as sp

from hwbopt import highs

MAX_PLAYERS = 12  # 2^12 = 4096 coalitions: the LPs stay well under a second; above, sample
REL_TOL = 1e-9  # default tolerance on v, relative to max |v|: well above double rounding
# (~1e-16 of the largest value summed a dozen times), well below any difference a board reads
LP_TOL = 1e-9  # HiGHS's primal and dual feasibility tolerances on the scaled LPs (|v| ≤ 1):
# their 0/1 matrices are well conditioned, so a vertex is exact to far better than this
TIGHT = 1e-6  # a row is binding when its scaled slack is below this: 1000 × LP_TOL
DUAL_TOL = 1e-6  # a row dual this large (scaled LP) is positive. At a simplex vertex a nonzero
# dual is a ratio of determinants of 0/1 matrices of order ≤ 13, at least 1/12870 (Hadamard's
# bound for 0/1 matrices) ≈ 8e-5, while HiGHS's rounding is ~LP_TOL: 1e-6 separates the two
SPAN_TOL = 1e-9  # a 0/1 vector outside the span of k < 12 independent 0/1 vectors B lies at
# distance ≥ 1/sqrt(det Gram(B)) ≥ 12^-5.5 ≈ 1e-6 from it (Hadamard: det Gram ≤ ∏|b|² ≤ 12^11);
# rounding in the projection is ~1e-15: 1e-9 separates the two


# --------------------------------------------------------------------------------------------
# the game
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Game:
    """A game in characteristic form: ``values[mask] = v(S)`` for every coalition ``S``."""

    players: tuple[str, ...]
    values: np.ndarray  # float64, length 2^P; values[0] = v(∅) = 0

    def __post_init__(self) -> None:
        players = tuple(self.players)
        _check_players(players)
        if len(players) > MAX_PLAYERS:
            raise ValueError(f"a game valued on every coalition takes at most {MAX_PLAYERS} "
                             f"players, not {len(players)}; estimate with sampled_shapley")
        values = _values(self.values, len(players), "values")
        object.__setattr__(self, "players", players)
        object.__setattr__(self, "values", values)

    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def grand(self) -> int:
        """The mask of the whole board ``N``."""
        return (1 << self.n) - 1

    @property
    def scale(self) -> float:
        """``max |v(S)|`` (1 for the zero game): the unit of every relative tolerance."""
        return _scale(self.values)

    def value(self, mask: int) -> float:
        return float(self.values[mask])

    def members(self, mask: int) -> list[str]:
        return [p for i, p in enumerate(self.players) if mask >> i & 1]

    def mask_of(self, ids: Iterable[str]) -> int:
        index = {p: i for i, p in enumerate(self.players)}
        mask = 0
        for p in ids:
            if p not in index:
                raise ValueError(f"{p!r} is not a player of this game")
            mask |= 1 << index[p]
        return mask


def _check_players(players: Sequence[str]) -> None:
    if not players:
        raise ValueError("a game needs at least one player")
    if len(set(players)) != len(players):
        raise ValueError("players must be distinct")


def _values(values: np.ndarray, n: int, what: str) -> np.ndarray:
    """``values`` as a read-only float64 copy, checked: one per coalition, finite, v(∅) = 0."""
    out = np.array(values, dtype=np.float64)
    if out.shape != (1 << n,):
        raise ValueError(f"{what} must hold 2^{n} = {1 << n} numbers, one per coalition, "
                         f"not shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what} must be finite")
    if out[0] != 0.0:
        raise ValueError(f"{what}[0] is v(∅) and must be 0, not {out[0]!r}")
    out.flags.writeable = False
    return out


def _scale(values: np.ndarray) -> float:
    top = float(np.abs(values).max(initial=0.0))
    return top if top > 0.0 else 1.0


def _tol(game: Game, tol: float | None) -> float:
    return REL_TOL * game.scale if tol is None else float(tol)


def _exact(n: int) -> None:
    if n > MAX_PLAYERS:
        raise ValueError(f"exact game functions take at most {MAX_PLAYERS} players, not {n}")


def _allocation(x: np.ndarray, n: int) -> np.ndarray:
    out = np.asarray(x, dtype=np.float64)
    if out.shape != (n,) or not np.all(np.isfinite(out)):
        raise ValueError(f"an allocation must be {n} finite numbers, one per player")
    return out


def _sizes(n: int) -> np.ndarray:
    """``|S|`` for every mask ``S`` of ``n`` players."""
    sizes = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        sizes[1 << i: 1 << (i + 1)] = sizes[: 1 << i] + 1
    return sizes


def coalition_sums(x: np.ndarray) -> np.ndarray:
    """``x(S)`` for every mask ``S``: each new bit doubles the table, so ``O(2^P)``."""
    n = len(x)
    sums = np.zeros(1 << n, dtype=np.float64)
    for i in range(n):
        sums[1 << i: 1 << (i + 1)] = sums[: 1 << i] + x[i]
    return sums


def _incidence(masks: np.ndarray, n: int) -> np.ndarray:
    """The 0/1 matrix with row ``k`` the membership vector of ``masks[k]``."""
    return ((masks[:, None] >> np.arange(n)) & 1).astype(np.float64)


# --------------------------------------------------------------------------------------------
# Shapley value
# --------------------------------------------------------------------------------------------


def _weights(n: int) -> np.ndarray:
    """Shapley's weight of joining a coalition of each size s: ``s! (n−s−1)! / n!``, the share of
    orders in which the player arrives just after exactly those ``s`` others."""
    return np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)])


def _marginals(n: int, gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """``Σ_{S ∌ i} w(|S|) (gain[S ∪ i] − loss[S])`` per player ``i``: the Shapley value when
    ``gain`` and ``loss`` are both ``v``; its extremes when they are the ends of a box."""
    w = np.append(_weights(n), 0.0)[_sizes(n)]  # N itself never joins: its weight is unused
    masks = np.arange(1 << n)
    out = np.empty(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        out[i] = float(w[without] @ (gain[without | 1 << i] - loss[without]))
    return out


def shapley(game: Game) -> np.ndarray:
    """The exact Shapley value, one number per player; it sums to ``v(N)``."""
    return _marginals(game.n, game.values, game.values)


def shapley_range(players: Sequence[str], lower: np.ndarray,
                  upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least and greatest Shapley value of each player over every game with ``lower ≤ v ≤
    upper`` (each ``v(S)`` known only between a MIP's plan and its proven bound).

    ``φ_i`` is linear in ``v``: ``v(S ∪ i)`` enters with a positive weight and ``v(S)``, for
    ``S ∌ i``, with a negative one; so ``φ_i`` is least with the first at its lower ends and the
    second at its upper ends, and greatest the other way round. Each player's bounds are
    attained, but by different games: the players cannot all be at their extremes at once.
    """
    _check_players(players)
    n = len(players)
    _exact(n)
    lo = _values(lower, n, "lower")
    hi = _values(upper, n, "upper")
    if np.any(lo > hi):
        raise ValueError("lower must not exceed upper")
    return _marginals(n, lo, hi), _marginals(n, hi, lo)


class Sampled(NamedTuple):
    """A sampled Shapley value: the mean over random orders and its standard error."""

    mean: np.ndarray
    stderr: np.ndarray


def sampled_orders(n: int, samples: int, seed: int) -> np.ndarray:
    """The random orders :func:`sampled_shapley` uses: ``samples`` rows, each a uniformly random
    permutation of ``0 … n−1``, from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    orders: np.ndarray = rng.permuted(np.tile(np.arange(n), (samples, 1)), axis=1)
    return orders


def _prefixes(order: np.ndarray) -> Iterator[tuple[int, int]]:
    """Each player of ``order`` with the coalition it completes (itself and those before)."""
    mask = 0
    for i in order:
        mask |= 1 << int(i)
        yield int(i), mask


def sampled_coalitions(n: int, samples: int, seed: int) -> list[int]:
    """The distinct coalitions (not ``∅``) that :func:`sampled_shapley` with these arguments
    values, in the order it first asks for them: known from the seed alone, so they can be
    solved (in parallel, say) before it runs, and ``len`` of them is how many calls it makes."""
    seen: dict[int, None] = {}
    for order in sampled_orders(n, samples, seed):
        for _, mask in _prefixes(order):
            seen.setdefault(mask)
    return list(seen)


def sampled_shapley(players: Sequence[str], value: Callable[[int], float], samples: int,
                    seed: int) -> Sampled:
    """The Shapley value estimated from ``samples`` random orders (Castro, Gómez & Tejada 2009).

    In a uniformly random order of the players, player ``i``'s marginal contribution ``v(P_i ∪
    i) − v(P_i)`` (``P_i``: those before it) has expectation ``φ_i`` exactly; the estimate is
    its mean over the independent orders of :func:`sampled_orders`, unbiased, with standard
    error ``std / sqrt(samples)`` from the sample standard deviation (``ddof = 1``; about
    normal for many samples, so ±2 standard errors is roughly a 95% interval). Each order's
    contributions telescope to ``v(N)``, so the means sum to ``v(N)`` as well.

    ``value(mask)`` is called once per distinct coalition (the results are cached), never for
    ``∅`` (worth 0): for the coalitions of :func:`sampled_coalitions`, in that order.
    """
    _check_players(players)
    if samples < 2:
        raise ValueError("sampled_shapley needs at least 2 samples for a standard error")
    n = len(players)
    cache: dict[int, float] = {0: 0.0}
    contributions = np.empty((samples, n))
    for k, order in enumerate(sampled_orders(n, samples, seed)):
        before = 0.0
        for i, mask in _prefixes(order):
            if mask not in cache:
                cache[mask] = float(value(mask))
            contributions[k, i] = cache[mask] - before
            before = cache[mask]
    stderr = contributions.std(axis=0, ddof=1) / math.sqrt(samples)
    return Sampled(contributions.mean(axis=0), stderr)


# --------------------------------------------------------------------------------------------
# excess, blocking and the core
# --------------------------------------------------------------------------------------------


def excess(game: Game, x: np.ndarray) -> np.ndarray:
    """``v(S) − x(S)`` for every mask ``S``: what each coalition would gain by going alone."""
    out: np.ndarray = game.values - coalition_sums(_allocation(x, game.n))
    return out


def blocking(game: Game, x: np.ndarray, tol: float | None = None) -> list[tuple[int, float]]:
    """The coalitions (not ``∅``, not ``N``) that ``x`` gives less than they are worth alone by
    more than ``tol`` (default ``REL_TOL`` of the game's scale), with that shortfall, largest
    first (equal ones by mask). A ``v`` computed to a MIP gap wants a ``tol`` of that gap."""
    e = excess(game, x)[1: game.grand]
    masks = np.flatnonzero(e > _tol(game, tol)) + 1
    order = np.lexsort((masks, -e[masks - 1]))
    return [(int(m), float(e[m - 1])) for m in masks[order]]


def in_core(game: Game, x: np.ndarray, tol: float | None = None) -> bool:
    """Whether ``x`` is efficient (``|x(N) − v(N)| ≤ tol``) and no coalition blocks it."""
    t = _tol(game, tol)
    x = _allocation(x, game.n)
    return abs(float(x.sum()) - game.value(game.grand)) <= t and not blocking(game, x, t)


# --------------------------------------------------------------------------------------------
# least core and nucleolus
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Solved:
    x: np.ndarray  # the allocation, scaled
    eps: float  # the largest free excess, scaled
    slack: np.ndarray  # per free row: x(S) + eps − v(S)
    dual: np.ndarray  # per free row, HiGHS's sign: positive prices the row's lower bound


def _stage(n: int, free: np.ndarray, v: np.ndarray, fixed: np.ndarray,
           fixed_value: np.ndarray) -> _Solved:
    """Minimise ``ε`` over ``x`` with ``x(S) + ε ≥ v(S)`` for the ``free`` masks and ``x(S) =
    fixed_value`` for the ``fixed`` ones (``N`` among them); ``v`` is the scaled game.

    Columns ``x_0 … x_{n−1}, ε``, all free; the free rows first. The matrix is built sparse
    (CSC) from the membership bits: for P = 12 it has 4094 rows and under 30,000 entries.
    """
    masks = np.concatenate([free, fixed])
    # column i: the rows of the coalitions i belongs to; column ε: the free rows
    cols = [np.flatnonzero(masks >> i & 1) for i in range(n)] + [np.arange(len(free))]
    start = np.cumsum([0, *map(len, cols)])
    index = np.concatenate(cols)
    A = sp.csc_array((np.ones(len(index)), index, start), shape=(len(masks), n + 1))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n + 1
    lp.num_row_ = len(masks)
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.col_cost_ = np.concatenate([np.zeros(n), [1.0]])
    lp.col_lower_ = np.full(n + 1, -inf)
    lp.col_upper_ = np.full(n + 1, inf)
    lp.row_lower_ = np.concatenate([v[free], fixed_value])
    lp.row_upper_ = np.concatenate([np.full(len(free), inf), fixed_value])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    lp.a_matrix_.num_col_ = n + 1
    lp.a_matrix_.num_row_ = len(masks)
    h = highs.new_highs()
    # simplex, for a vertex: its duals are what the fixing rule (DUAL_TOL) reasons about
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("primal_feasibility_tolerance", LP_TOL)
    h.setOptionValue("dual_feasibility_tolerance", LP_TOL)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"the least-core LP of a {n}-player game ended "
                           f"{h.modelStatusToString(status)!r}, not optimal")
    solution = h.getSolution()
    col = np.asarray(solution.col_value, dtype=np.float64)
    activity = np.asarray(solution.row_value, dtype=np.float64)[: len(free)]
    dual = np.asarray(solution.row_dual, dtype=np.float64)[: len(free)]
    return _Solved(col[:n], float(col[n]), activity - v[free], dual)


def _proper(n: int) -> np.ndarray:
    return np.arange(1, (1 << n) - 1)


def least_core(game: Game) -> tuple[float, np.ndarray]:
    """The least-core ``ε`` and an allocation in the least core: the smallest ``ε`` such that
    some ``x`` with ``x(N) = v(N)`` has ``x(S) ≥ v(S) − ε`` for every ``S`` but ``∅`` and ``N``.

    ``ε ≤ 0`` (within tolerance) means the core is not empty. One LP over all ``2^P − 2``
    coalitions. A one-player game has no such coalition: ``ε = −inf`` and ``x = (v(N),)``.
    """
    _exact(game.n)
    if game.n == 1:
        return -math.inf, np.array([game.value(1)])
    s = game.scale
    v = game.values / s
    grand = np.array([game.grand])
    solved = _stage(game.n, _proper(game.n), v, grand, v[grand])
    return solved.eps * s, solved.x * s


class _Span:
    """An orthonormal basis of the span of the membership vectors fixed so far, kept to
    independent ones (with the value each fixes ``x(S)`` at), see ``SPAN_TOL``."""

    def __init__(self, n: int) -> None:
        self.q = np.zeros((n, 0))
        self.masks: list[int] = []
        self.targets: list[float] = []

    def residual(self, rows: np.ndarray) -> np.ndarray:
        """Each row's distance from the span (projected out twice: "twice is enough" for
        Gram–Schmidt to keep its accuracy when the distance is small)."""
        r = rows - (rows @ self.q) @ self.q.T
        r = r - (r @ self.q) @ self.q.T
        out: np.ndarray = np.linalg.norm(r, axis=1)
        return out

    def add(self, mask: int, target: float, n: int) -> bool:
        """Fix ``x(mask) = target`` if it is independent of what is fixed; whether it was."""
        row = _incidence(np.array([mask]), n)[0]
        r = row - self.q @ (self.q.T @ row)
        r = r - self.q @ (self.q.T @ r)
        norm = float(np.linalg.norm(r))
        if norm <= SPAN_TOL:
            return False
        self.q = np.column_stack([self.q, r / norm])
        self.masks.append(mask)
        self.targets.append(target)
        return True


def nucleolus(game: Game) -> tuple[np.ndarray, float]:
    """The nucleolus (over efficient allocations; see the module's note) and the least-core
    ``ε`` (the first stage's), by Maschler–Peleg–Shapley sequential LPs.

    Each stage minimises the largest excess ``ε_k`` among the coalitions still free, with those
    fixed earlier held at their excesses. A free coalition whose row has a strictly positive
    optimal dual is binding in *every* optimum (complementary slackness holds between any
    primal and any dual optimum), so its excess is fixed at ``ε_k``; the duals of the free rows
    sum to 1 (the dual constraint of ``ε``), so each stage fixes at least one. A free coalition
    whose membership vector lies in the span of the fixed ones (``N`` among them) has its
    ``x(S)`` settled by them and is dropped; so every stage adds an independent vector, and once
    they span ``R^P`` (at most ``P − 1`` stages) ``x`` is the unique solution of the fixed
    equations, which is what is returned (solved directly rather than read off the last LP).
    """
    _exact(game.n)
    n = game.n
    if n == 1:
        return np.array([game.value(1)]), -math.inf
    s = game.scale
    v = game.values / s
    span = _Span(n)
    span.add(game.grand, float(v[game.grand]), n)
    free = _proper(n)
    first = math.nan
    while len(span.masks) < n:
        solved = _stage(n, free, v, np.array(span.masks), np.array(span.targets))
        if math.isnan(first):
            first = solved.eps
        positive = solved.dual > DUAL_TOL
        if not positive.any():
            raise RuntimeError("nucleolus: no free coalition has a positive dual; the duals "
                               "of the free rows must sum to 1")
        if np.any(solved.slack[positive] > TIGHT):
            raise RuntimeError("nucleolus: HiGHS returned a positive dual on a slack row")
        order = np.argsort(-solved.dual[positive], kind="stable")  # the surest first
        for mask in free[positive][order]:
            span.add(int(mask), float(v[mask]) - solved.eps, n)
        free = free[span.residual(_incidence(free, n)) > SPAN_TOL]
    basis = _incidence(np.array(span.masks), n)
    x = np.linalg.solve(basis, np.array(span.targets))
    return x * s, first * s


# --------------------------------------------------------------------------------------------
# searching for blocking coalitions, and superadditivity
# --------------------------------------------------------------------------------------------


def most_violated(players: Sequence[str], value: Callable[[int], float], x: np.ndarray, *,
                  seed: int, evaluations: int, tol: float = 0.0) -> list[tuple[int, float]]:
    """Coalitions that block ``x`` (excess ``v(S) − x(S) > tol``), found by a local search that
    values at most ``evaluations`` coalitions; largest excess first.

    For boards with too many partners to value every coalition. The search values every
    single partner, then the groups of the partners whose ``x_i − v({i})`` is smallest (the
    least content, by that measure: the 2, 3, … of them), then climbs from each coalition
    valued so far, most violated first: it moves to the first neighbour (one partner added or
    dropped, else one swapped for an outsider; in an order drawn from
    ``numpy.random.default_rng(seed)``) whose excess is higher, until none is. Results are
    cached, so the budget counts distinct coalitions; ``value`` is never called for ``∅`` or
    ``N``. Deterministic for the seed.

    **This check is partial**: a local search can miss a blocking coalition (one reached only
    through coalitions of lower excess, or beyond the budget). An empty answer means none was
    found, not that ``x`` is in the core.
    """
    _check_players(players)
    n = len(players)
    x = _allocation(x, n)
    full = (1 << n) - 1
    rng = np.random.default_rng(seed)
    found: dict[int, float] = {}  # mask -> excess

    def excess_of(mask: int) -> float | None:
        """The excess of ``mask``; None once the budget is spent."""
        if mask not in found:
            if len(found) >= evaluations:
                return None
            share = sum(float(x[i]) for i in range(n) if mask >> i & 1)
            found[mask] = float(value(mask)) - share
        return found[mask]

    def climb(start: int, seen: set[int]) -> bool:
        """Hill-climb from ``start``; False once the budget is spent."""
        current = start
        while True:
            seen.add(current)
            inside = [i for i in range(n) if current >> i & 1]
            outside = [i for i in range(n) if not current >> i & 1]
            moves = [current ^ 1 << int(i) for i in rng.permutation(n)]  # add or drop i
            swaps = [current ^ (1 << i | 1 << j) for i in inside for j in outside]
            nxt = None
            for group in (moves, [swaps[int(k)] for k in rng.permutation(len(swaps))]):
                for mask in group:
                    if mask in (0, full):
                        continue
                    e = excess_of(mask)
                    if e is None:
                        return False
                    if e > found[current]:
                        nxt = mask
                        break
                if nxt is not None:
                    break
            if nxt is None:
                return True
            current = nxt

    singles = [1 << i for i in range(n) if (1 << i) != full]
    budget_left = all(excess_of(m) is not None for m in singles)
    if budget_left:
        # least content first: x_i − v({i}) is minus {i}'s excess
        content = sorted(range(n), key=lambda i: (-found[1 << i], i))
        prefix = 0
        for i in content[:-1]:
            prefix |= 1 << i
            if prefix & (prefix - 1) and excess_of(prefix) is None:
                budget_left = False
                break
    seen: set[int] = set()
    while budget_left:
        starts = [m for m in sorted(found, key=lambda m: (-found[m], m)) if m not in seen]
        if not starts:
            break
        budget_left = climb(starts[0], seen)
    hits = [(m, e) for m, e in found.items() if e > tol]
    return sorted(hits, key=lambda h: (-h[1], h[0]))


def superadditivity_failures(game: Game, tol: float | None = None,
                             limit: int | None = None) -> list[tuple[int, int, float]]:
    """Pairs of disjoint non-empty coalitions ``S, T`` worth less together than apart:
    ``v(S ∪ T) < v(S) + v(T) − tol`` (default ``REL_TOL`` of the game's scale), with the
    shortfall ``v(S) + v(T) − v(S ∪ T)``; each unordered pair once (``S < T``), largest first
    (then by ``S``, ``T``); the first ``limit`` of them if given.

    All ``3^P`` ways to put each player in ``S``, in ``T`` or in neither are enumerated as
    arrays (each player triples them), so P = 12's 531,441 pairs take a few tens of ms.
    """
    _exact(game.n)
    t = _tol(game, tol)
    S = np.zeros(1, dtype=np.int64)
    T = np.zeros(1, dtype=np.int64)
    for i in range(game.n):
        bit = 1 << i
        S = np.concatenate([S, S | bit, S])
        T = np.concatenate([T, T, T | bit])
    keep = (S > 0) & (S < T)  # T > S > 0: both non-empty, and each unordered pair once
    S, T = S[keep], T[keep]
    v = game.values
    short = v[S] + v[T] - v[S | T]
    bad = np.flatnonzero(short > t)
    bad = bad[np.lexsort((T[bad], S[bad], -short[bad]))]
    if limit is not None:
        bad = bad[:limit]
    return [(int(a), int(b), float(c)) for a, b, c in zip(S[bad], T[bad], short[bad],
                                                            strict=True)]
