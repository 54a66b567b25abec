"""Cooperative-game mathematics (hwbopt.analyses.games), each result against a route that
shares no code with the module: closed forms from the literature, the Shapley axioms, Shapley
by brute force over every order, least cores by scipy's ``linprog`` on a formulation written
here, the nucleolus by the textbook sequential LPs (which fix a coalition only when an LP
proves its excess cannot fall) and by lexicographic comparison against perturbed allocations,
and superadditivity by enumerating pairs."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.optimize import linprog

from hwbopt.analyses import games as g
from hwbopt.analyses.games import Game

# --------------------------------------------------------------------------------------------
# helpers written independently of the module: coalitions as frozensets of player indices
# --------------------------------------------------------------------------------------------


def names(p: int) -> tuple[str, ...]:
    return tuple(f"p{i}" for i in range(p))


def bits(mask: int, p: int) -> frozenset[int]:
    return frozenset(i for i in range(p) if mask & (1 << i))


def mask(members) -> int:
    return sum(1 << i for i in set(members))


def game_of(p: int, f: Callable[[frozenset[int]], float]) -> Game:
    """The game with ``v(S) = f(S)`` (``f(∅)`` is taken as 0)."""
    v = np.array([f(bits(m, p)) if m else 0.0 for m in range(2 ** p)])
    return Game(names(p), v)


@functools.cache
def incidence(p: int) -> np.ndarray:
    """Row m: the membership vector of coalition m."""
    return np.array([[1.0 if i in bits(m, p) else 0.0 for i in range(p)] for m in range(2 ** p)])


def excesses(game: Game, x: np.ndarray) -> np.ndarray:
    """v(S) − x(S) for the proper coalitions (not ∅, not N), in mask order."""
    p = len(game.players)
    return (game.values - incidence(p) @ x)[1: 2 ** p - 1]


def brute_shapley(game: Game) -> np.ndarray:
    """The average marginal contribution over all P! orders."""
    p = len(game.players)
    phi = np.zeros(p)
    orders = list(itertools.permutations(range(p)))
    for order in orders:
        m = 0
        for i in order:
            phi[i] += game.values[m | 1 << i] - game.values[m]
            m |= 1 << i
    return phi / len(orders)


def random_game(rng: np.random.Generator, p: int, kind: str) -> Game:
    """uniform: independent values (the core is usually empty); convex: ``(Σ_S a)^2``
    (supermodular, so the core is not empty); additive plus noise; symmetric: ``f(|S|)``."""
    a = rng.uniform(1, 10, p)
    if kind == "uniform":
        v = rng.uniform(0, 100, 2 ** p)
    elif kind == "convex":
        v = np.array([sum(a[i] for i in bits(m, p)) ** 2 for m in range(2 ** p)])
    elif kind == "noisy":
        v = np.array([sum(a[i] for i in bits(m, p)) for m in range(2 ** p)])
        v = v + rng.normal(0, 1, 2 ** p)
    elif kind == "symmetric":
        f = rng.uniform(0, 10, p + 1)
        v = np.array([f[len(bits(m, p))] for m in range(2 ** p)])
    else:
        raise AssertionError(kind)
    v[0] = 0.0
    return Game(names(p), v)


def lp_least_core(game: Game) -> float:
    """The least-core ε by scipy's linprog, formulated here: min ε over (x, ε) with
    −x(S) − ε ≤ −v(S) for proper S and x(N) = v(N)."""
    p = len(game.players)
    inc = incidence(p)
    proper = range(1, 2 ** p - 1)
    a_ub = np.array([[*(-inc[m]), -1.0] for m in proper])
    b_ub = np.array([-game.values[m] for m in proper])
    res = linprog(np.r_[np.zeros(p), 1.0], A_ub=a_ub, b_ub=b_ub,
                  A_eq=np.r_[np.ones(p), 0.0][None, :], b_eq=[game.values[-1]],
                  bounds=[(None, None)] * (p + 1), method="highs")
    assert res.status == 0
    return float(res.fun)


def textbook_nucleolus(game: Game) -> np.ndarray:
    """Sequential LPs fixing a coalition when a second LP shows its excess cannot fall below
    the stage's ε (its largest x(S) given every constraint and ε at its least): slow, exact."""
    p = len(game.players)
    v = game.values
    inc = incidence(p)
    fixed: dict[int, float] = {2 ** p - 1: 0.0}  # mask -> its excess
    bounds = [(None, None)] * (p + 1)

    def constraints(free):
        a_ub = np.array([[*(-inc[m]), -1.0] for m in free]) if free else None
        b_ub = np.array([-v[m] for m in free]) if free else None
        a_eq = np.array([[*inc[m], 0.0] for m in fixed])
        b_eq = np.array([v[m] - e for m, e in fixed.items()])
        return a_ub, b_ub, a_eq, b_eq

    while np.linalg.matrix_rank(inc[list(fixed)]) < p:
        free = [m for m in range(1, 2 ** p - 1) if m not in fixed]
        a_ub, b_ub, a_eq, b_eq = constraints(free)
        res = linprog(np.r_[np.zeros(p), 1.0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                      bounds=bounds, method="highs")
        assert res.status == 0
        eps = float(res.fun)
        pinned = [*bounds[:p], (eps, eps)]
        tight = []
        for m in free:
            top = linprog(np.r_[-inc[m], 0.0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                          bounds=pinned, method="highs")
            assert top.status == 0
            if v[m] + top.fun >= eps - 1e-7:  # even the largest x(S) leaves excess ε
                tight.append(m)
        assert tight
        for m in tight:
            fixed[m] = eps
    rows = list(fixed)
    x, *_ = np.linalg.lstsq(inc[rows], np.array([v[m] - fixed[m] for m in rows]), rcond=None)
    return x


def lex_not_smaller(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Whether the descending sort of ``b`` is not lexicographically smaller than ``a``'s."""
    a, b = np.sort(a)[::-1], np.sort(b)[::-1]
    for u, w in zip(a, b, strict=True):
        if abs(u - w) > tol:
            return w > u
    return True


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------


def test_glove_game() -> None:
    # one left glove (L) and two right (R1, R2); a pair is worth 1: v(S) = min(#left, #right).
    # In the orders L R R, R L R, R R L, ... L completes a pair unless it comes first (1/3 of
    # orders): φ_L = 2/3, and R1, R2 share the rest equally: 1/6 each. The core: x_L + x_Ri ≥
    # 1 for both i and x(N) = 1 force x_R1 = x_R2 = 0 (and x_Ri ≥ 0), so it is the point
    # (1, 0, 0); the least core's ε is 0 (x({L, R1}) + x({R2}) = 1 ≥ 1 − 2ε), its point too.
    game = game_of(3, lambda s: float(min(len(s & {0}), len(s & {1, 2}))))
    assert g.shapley(game) == pytest.approx([2 / 3, 1 / 6, 1 / 6])
    assert g.in_core(game, np.array([1.0, 0.0, 0.0]))
    eps, x = g.least_core(game)
    assert eps == pytest.approx(0.0, abs=1e-9) and x == pytest.approx([1, 0, 0], abs=1e-9)
    nu, first = g.nucleolus(game)
    assert nu == pytest.approx([1, 0, 0], abs=1e-9) and first == pytest.approx(0.0, abs=1e-9)
    # 0.9 / 0.05 / 0.05: both pairs {L, Ri} are given 0.95 of their 1
    x = np.array([0.9, 0.05, 0.05])
    assert not g.in_core(game, x)
    found = g.blocking(game, x, 1e-9)
    assert all(type(m) is int and type(e) is float for m, e in found)
    assert [m for m, _ in found] == [0b011, 0b101]
    assert [e for _, e in found] == pytest.approx([0.05, 0.05])


def test_majority_game() -> None:
    # v(S) = 1 when |S| ≥ 2: the three pair constraints x_i + x_j ≥ 1 − ε add up to 2 ≥ 3 − 3ε,
    # so ε ≥ 1/3 > 0 (the core is empty), attained only at (1/3, 1/3, 1/3), which is therefore
    # the least core, the nucleolus, and (by symmetry) the Shapley value
    game = game_of(3, lambda s: float(len(s) >= 2))
    eps, x = g.least_core(game)
    assert eps == pytest.approx(1 / 3) and x == pytest.approx([1 / 3] * 3)
    nu, first = g.nucleolus(game)
    assert nu == pytest.approx([1 / 3] * 3) and first == pytest.approx(1 / 3)
    assert g.shapley(game) == pytest.approx([1 / 3] * 3)
    assert not g.in_core(game, nu)
    found = g.blocking(game, nu)
    assert sorted(m for m, _ in found) == [0b011, 0b101, 0b110]
    assert [e for _, e in found] == pytest.approx([1 / 3] * 3)


def test_airport_game_shapley_is_littlechild_owen() -> None:
    # runway costs c = 8, 11, 13, 18 (sorted); a coalition pays for the longest it needs:
    # c(S) = max_{i∈S} c_i. Littlechild & Owen (1973): segment k (from c_{k−1} to c_k) is shared
    # equally by the P − k + 1 players who need it: φ_1 = 8/4 = 2, φ_2 = 2 + 3/3 = 3,
    # φ_3 = 3 + 2/2 = 4, φ_4 = 4 + 5/1 = 9 (total 18 = c(N))
    c = [8.0, 11.0, 13.0, 18.0]
    cost = game_of(4, lambda s: max(c[i] for i in s))
    assert g.shapley(cost) == pytest.approx([2, 3, 4, 9])
    # as a savings game v(S) = Σ_S c_i − c(S) the Shapley value is c_i − φ_i (linearity)
    savings = game_of(4, lambda s: sum(c[i] for i in s) - max(c[i] for i in s))
    assert g.shapley(savings) == pytest.approx(np.array(c) - [2, 3, 4, 9])


@pytest.mark.parametrize(("estate", "talmud"), [
    # claims d = 100, 200, 300 (Aumann & Maschler 1985). The Talmud rule: with the estate at
    # most half the claims (300), constrained equal awards on the half-claims 50, 100, 150;
    # above, each gets its half-claim and the losses are shared that way.
    # E = 100: equal thirds 33⅓ stay under every half-claim: (33⅓, 33⅓, 33⅓)
    (100.0, [100 / 3] * 3),
    # E = 200: thirds of 66⅔ exceed claimant 1's half-claim 50: it gets 50, and 2 and 3
    # share 150 equally, 75 each (under 100 and 150): (50, 75, 75)
    (200.0, [50.0, 75.0, 75.0]),
    # E = 300 = half the claims: exactly the half-claims (50, 100, 150)
    (300.0, [50.0, 100.0, 150.0]),
])
def test_bankruptcy_nucleolus_is_the_talmud_rule(estate: float, talmud: list[float]) -> None:
    # v(S) = max(0, E − d(N∖S)): what S is sure of once everyone else is paid in full
    d = [100.0, 200.0, 300.0]
    game = game_of(3, lambda s: max(0.0, estate - sum(d[i] for i in range(3) if i not in s)))
    nu, first = g.nucleolus(game)
    assert nu == pytest.approx(talmud)
    assert first <= 1e-9  # bankruptcy games are convex: the core is not empty
    assert g.in_core(game, nu)


# --------------------------------------------------------------------------------------------
# Shapley: axioms, brute force, ranges, sampling
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", range(2, 7))
def test_shapley_axioms_and_brute_force(p: int) -> None:
    rng = np.random.default_rng(100 + p)
    v = random_game(rng, p, "uniform")
    w = random_game(rng, p, "convex")
    phi = g.shapley(v)
    assert phi == pytest.approx(brute_shapley(v))  # every order, directly
    assert phi.sum() == pytest.approx(v.values[-1])  # efficiency
    total = Game(v.players, v.values + w.values)
    assert g.shapley(total) == pytest.approx(phi + g.shapley(w))  # additivity
    # symmetry: make players 0 and 1 interchangeable (v depends on S∖{0,1} and |S ∩ {0,1}|)
    f = rng.uniform(0, 100, (2 ** p, 3))
    sym = game_of(p, lambda s: f[mask(s - {0, 1}), len(s & {0, 1})])
    phi_sym = g.shapley(sym)
    assert phi_sym[0] == pytest.approx(phi_sym[1])
    # null player: the last player changes nothing (v(S ∪ i) = v(S))
    null = game_of(p, lambda s: f[mask(s - {p - 1}), 0] if s - {p - 1} else 0.0)
    assert g.shapley(null)[p - 1] == pytest.approx(0.0, abs=1e-9)


def test_shapley_range_contains_and_is_tight() -> None:
    rng = np.random.default_rng(7)
    for p in (2, 4, 6):
        mid = random_game(rng, p, "uniform").values
        width = rng.uniform(0, 5, 2 ** p)
        width[0] = 0.0
        lower, upper = mid - width, mid + width
        lo, hi = g.shapley_range(names(p), lower, upper)
        assert np.all(lo <= hi)
        for _ in range(50):
            v = lower + rng.uniform(0, 1, 2 ** p) * (upper - lower)
            phi = brute_shapley(Game(names(p), v))
            assert np.all(lo <= phi + 1e-9) and np.all(phi <= hi + 1e-9)
        # each player's least value is attained: its joins at the lower ends, others' upper
        for i in range(p):
            extreme = np.where([bool(m >> i & 1) for m in range(2 ** p)], lower, upper)
            extreme[0] = 0.0
            assert brute_shapley(Game(names(p), extreme))[i] == pytest.approx(lo[i])
        same = g.shapley_range(names(p), mid, mid)
        assert same[0] == pytest.approx(brute_shapley(Game(names(p), mid)))
        assert same[1] == pytest.approx(same[0])
    with pytest.raises(ValueError, match="exceed"):
        g.shapley_range(names(2), np.array([0, 1, 1, 1.0]), np.array([0, 0, 1, 1.0]))


def test_sampled_shapley() -> None:
    rng = np.random.default_rng(11)
    p = 8
    game = random_game(rng, p, "uniform")
    calls: list[int] = []

    def value(m: int) -> float:
        calls.append(m)
        return float(game.values[m])

    est = g.sampled_shapley(game.players, value, 2000, seed=5)
    mean, stderr = est  # unpacks as a pair
    assert mean is est.mean and stderr is est.stderr
    assert len(calls) == len(set(calls)) <= 2 ** p - 1  # once per coalition, never ∅
    assert 0 not in calls
    assert calls == g.sampled_coalitions(p, 2000, seed=5)  # known in advance from the seed
    orders = g.sampled_orders(p, 2000, seed=5)
    assert all(sorted(order) == list(range(p)) for order in orders)
    again = g.sampled_shapley(game.players, value, 2000, seed=5)
    assert np.array_equal(again.mean, est.mean) and np.array_equal(again.stderr, est.stderr)
    exact = brute_shapley(game)  # 8! = 40,320 orders
    assert np.all(np.abs(est.mean - exact) <= 3 * est.stderr)
    assert np.all(est.stderr > 0)
    assert est.mean.sum() == pytest.approx(game.values[-1])
    # every single draw is efficient: with two draws the mean of each is v(N), for any seed
    for seed in range(20):
        two = g.sampled_shapley(game.players, value, 2, seed=seed)
        assert two.mean.sum() == pytest.approx(game.values[-1], rel=1e-12)


# --------------------------------------------------------------------------------------------
# least core and nucleolus
# --------------------------------------------------------------------------------------------

KINDS = ["uniform", "convex", "noisy", "symmetric"]


@pytest.mark.parametrize("p", range(2, 7))
def test_least_core_by_brute_force(p: int) -> None:
    rng = np.random.default_rng(200 + p)
    for kind in KINDS:
        game = random_game(rng, p, kind)
        eps, x = g.least_core(game)
        tol = 1e-8 * game.scale
        assert x.sum() == pytest.approx(game.values[-1])
        assert excesses(game, x).max() <= eps + tol  # x is in the ε-core ...
        assert eps == pytest.approx(lp_least_core(game), abs=tol)  # ... and ε is least
        assert (eps <= tol) == g.in_core(game, x, tol)  # ε ≤ 0: a core point was returned


def check_nucleolus(game: Game, rng: np.random.Generator, draws: int) -> None:
    nu, first = g.nucleolus(game)
    p = len(game.players)
    tol = 1e-7 * game.scale
    assert nu.sum() == pytest.approx(game.values[-1])
    e = excesses(game, nu)
    assert e.max() == pytest.approx(first, abs=tol)  # the first stage is the least core
    assert first == pytest.approx(g.least_core(game)[0], abs=tol)
    # perturbations: efficient ones in random directions, and ones that keep the coalitions at
    # the least-core ε at it (directions orthogonal to them and to N: inside the least core
    # when small); none may be lexicographically smaller
    inc = incidence(p)[1: 2 ** p - 1]
    top = inc[e >= first - tol]
    _, sv, vt = np.linalg.svd(np.vstack([np.ones(p), top]))
    inside = vt[int((sv > 1e-9).sum()):]
    within = 0
    for k in range(draws):
        if k % 2 and len(inside):
            d = rng.normal(size=len(inside)) @ inside
        else:
            d = rng.normal(size=p)
            d -= d.mean()
        d *= game.scale * 10.0 ** rng.uniform(-5, -1) / np.abs(d).max()
        pe = excesses(game, nu + d)
        within += pe.max() <= first + tol
        assert lex_not_smaller(e, pe, 1e-9 * game.scale), (nu, d)
    if len(inside):
        assert within >= draws // 4


@pytest.mark.parametrize("p", range(2, 7))
def test_nucleolus_is_lexicographically_least(p: int) -> None:
    rng = np.random.default_rng(300 + p)
    for kind in KINDS:
        check_nucleolus(random_game(rng, p, kind), rng, 100)


def test_nucleolus_degenerate_games() -> None:
    rng = np.random.default_rng(17)
    cases = [
        game_of(5, lambda s: float(min(len(s & {0, 1}), len(s & {2, 3, 4})))),  # 2 left, 3 right
        game_of(4, lambda s: 0.0),  # the zero game
        game_of(4, lambda s: float(len(s) >= 3)),  # 3-of-4 majority
        game_of(5, lambda s: float(bool(s & {0}) and len(s) >= 3)),  # a veto player
        game_of(4, lambda s: float(len(s)) if len(s) != 2 else 5.0),  # pairs worth much
    ]
    expected = [[1, 1, 0, 0, 0], [0, 0, 0, 0], [0.25] * 4]
    for k, game in enumerate(cases):
        nu, _ = g.nucleolus(game)
        if k < len(expected):
            assert nu == pytest.approx(expected[k], abs=1e-9)
        assert nu == pytest.approx(textbook_nucleolus(game), abs=1e-6)
        check_nucleolus(game, rng, 100)


def test_nucleolus_against_the_textbook_route() -> None:
    rng = np.random.default_rng(23)
    for p, kind in [(3, "uniform"), (4, "uniform"), (4, "convex"), (4, "symmetric"),
                    (5, "noisy"), (5, "uniform")]:
        game = random_game(rng, p, kind)
        assert g.nucleolus(game)[0] == pytest.approx(textbook_nucleolus(game), abs=1e-6)


def test_nucleolus_at_board_scale() -> None:
    # values of order 1e5 with differences of order 1e2..1e4: the nucleolus is covariant, so
    # that of α v + b (b additive) is α ν(v) + b
    rng = np.random.default_rng(29)
    for p in (6, 9):
        game = random_game(rng, p, "noisy")
        b = rng.uniform(5e4, 1e5, p)
        big = Game(game.players, 1e3 * game.values + incidence(p) @ b)
        nu, first = g.nucleolus(big)
        small, small_first = g.nucleolus(game)
        assert nu == pytest.approx(1e3 * small + b, rel=1e-9, abs=1e-6 * big.scale)
        assert first == pytest.approx(1e3 * small_first, abs=1e-8 * big.scale)
    check_nucleolus(random_game(rng, 12, "uniform"), rng, 20)


def test_one_player_and_limits() -> None:
    solo = Game(("a",), np.array([0.0, 7.0]))
    assert g.shapley(solo) == pytest.approx([7.0])
    assert g.least_core(solo)[0] == -math.inf
    assert g.nucleolus(solo)[0] == pytest.approx([7.0])
    with pytest.raises(ValueError, match="12"):
        Game(names(13), np.zeros(2 ** 13))
    with pytest.raises(ValueError, match="12"):
        g.shapley_range(names(13), np.zeros(2 ** 13), np.zeros(2 ** 13))
    with pytest.raises(ValueError, match="v\\(∅\\)"):
        Game(names(2), np.array([1.0, 0, 0, 0]))
    with pytest.raises(ValueError, match="2\\^2"):
        Game(names(2), np.zeros(3))
    with pytest.raises(ValueError, match="distinct"):
        Game(("a", "a"), np.zeros(4))
    game = random_game(np.random.default_rng(1), 4, "uniform")
    assert game.mask_of(["p1", "p3"]) == 0b1010 and game.members(0b1010) == ["p1", "p3"]
    assert game.grand == 15 and game.n == 4 and game.value(5) == game.values[5]
    with pytest.raises(ValueError, match="not a player"):
        game.mask_of(["zz"])


# --------------------------------------------------------------------------------------------
# searches
# --------------------------------------------------------------------------------------------


def test_most_violated_finds_the_planted_coalition() -> None:
    # 15 partners; the five in B gain c·k² together (k of them), so B is worth 25c above its
    # members' stand-alone values a_i. The split gives each member of B 2.5c above a_i and every
    # other partner 1.25c: B's excess is c·k² − 2.5c·k = −1.5c, −c, 1.5c, 6c, 12.5c as it grows,
    # so it blocks (by 12.5c). The others look the least content (1.25c over standing alone,
    # against B's 1.5c), so the first guesses are groups of them, all with negative excess.
    rng = np.random.default_rng(3)
    p, c = 15, 40.0
    planted = {2, 5, 7, 11, 13}
    a = rng.uniform(10, 100, p)

    def v(s: frozenset[int]) -> float:
        return float(sum(a[i] for i in s) + c * len(s & planted) ** 2)

    x = np.array([a[i] + (2.5 * c if i in planted else 1.25 * c) for i in range(p)])
    assert x.sum() == pytest.approx(v(frozenset(range(p))))
    calls: list[int] = []

    def value(m: int) -> float:
        calls.append(m)
        return v(bits(m, p))

    found = g.most_violated(names(p), value, x, seed=1, evaluations=400)
    assert found[0][0] == mask(planted) and found[0][1] == pytest.approx(12.5 * c)
    assert all(type(m) is int and type(e) is float for m, e in found)
    assert len(calls) == len(set(calls)) <= 400  # each coalition valued once, within budget
    assert 0 not in calls and 2 ** p - 1 not in calls
    for m, e in found:  # every excess recomputed here; all positive, largest first
        assert e == pytest.approx(v(bits(m, p)) - sum(x[i] for i in bits(m, p)))
        assert e > 0
    assert [e for _, e in found] == sorted((e for _, e in found), reverse=True)
    assert g.most_violated(names(p), value, x, seed=1, evaluations=400) == found
    # not found by the first guesses alone (the 15 singles, then the 13 groups of the least
    # content): the search has to climb to it
    assert g.most_violated(names(p), value, x, seed=1, evaluations=2 * p - 2) == []
    calls.clear()
    g.most_violated(names(p), value, x, seed=1, evaluations=10)
    assert len(calls) == 10


def brute_failures(game: Game, tol: float) -> list[tuple[int, int, float]]:
    p = len(game.players)
    out = []
    for s in range(1, 2 ** p):
        for t in range(s + 1, 2 ** p):
            if s & t == 0:
                short = game.values[s] + game.values[t] - game.values[s | t]
                if short > tol:
                    out.append((s, t, short))
    return sorted(out, key=lambda r: (-r[2], r[0], r[1]))


def test_superadditivity_failures() -> None:
    rng = np.random.default_rng(31)
    for kind in KINDS:
        game = random_game(rng, 5, kind)
        got = g.superadditivity_failures(game, 1e-9)
        want = brute_failures(game, 1e-9)
        assert [(s, t) for s, t, _ in got] == [(s, t) for s, t, _ in want]
        assert [d for _, _, d in got] == pytest.approx([d for _, _, d in want])
    convex = random_game(rng, 5, "convex")
    assert g.superadditivity_failures(convex) == []
    big = random_game(rng, 12, "uniform")
    failures = g.superadditivity_failures(big, limit=100)  # 3^12 pairs, vectorised
    assert len(failures) == 100
    assert all(type(s) is int and type(t) is int and type(d) is float for s, t, d in failures)
    for s, t, d in failures:
        assert s & t == 0 and 0 < s < t
        assert d == pytest.approx(big.values[s] + big.values[t] - big.values[s | t])
    assert [d for *_, d in failures] == sorted((d for *_, d in failures), reverse=True)
