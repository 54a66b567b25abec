"""Drawing the scenarios of a stress set, and ordering them so neighbours are alike.

Scenario ``i`` draws its inputs, in order, from ``numpy.random.default_rng([i, seed])``: its
values depend on nothing but its index and the seed, so results do not depend on workers,
blocks or the order they run in. A set with a table takes row ``i`` of it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from hwbopt.schema import StressInput, StressSet


def _given(value: float | None) -> float:
    """A parameter the input's distribution needs (the schema makes sure it is given)."""
    if value is None:
        raise ValueError("a stress input lacks a parameter of its distribution")
    return float(value)


def _draw(rng: np.random.Generator, spec: StressInput) -> float:
    if spec.dist == "uniform":
        return float(rng.uniform(_given(spec.low), _given(spec.high)))
    if spec.dist == "triangular":
        low, high = _given(spec.low), _given(spec.high)
        if low == high:
            return low
        return float(rng.triangular(low, _given(spec.mode), high))
    if spec.dist == "normal":
        mean, sd = _given(spec.mean), _given(spec.sd)
        if spec.low is None:
            return float(rng.normal(mean, sd))
        low, high = spec.low, _given(spec.high)
        # cut to low..high by inverting the normal CDF between them: one draw, no rejection
        a = ndtr((low - mean) / sd)
        b = ndtr((high - mean) / sd)
        u = rng.uniform(a, b)
        return float(np.clip(mean + sd * ndtri(u), low, high))
    values = np.asarray(spec.values, dtype=float)
    if spec.weights:
        w = np.asarray(spec.weights, dtype=float)
        return float(values[rng.choice(len(values), p=w / w.sum())])
    return float(values[rng.integers(len(values))])


def draw(stress: StressSet, indices: np.ndarray) -> np.ndarray:
    """Input values of the scenarios ``indices``: one row per scenario, one column per input."""
    out = np.empty((len(indices), len(stress.inputs)), dtype=float)
    if stress.table_rows:
        table = np.asarray(stress.table_rows, dtype=float)
        return table[np.asarray(indices, dtype=np.int64)]
    for n, i in enumerate(indices):
        rng = np.random.default_rng([int(i), stress.seed])
        for k, spec in enumerate(stress.inputs):
            out[n, k] = _draw(rng, spec)
    return out


def extremes(spec: StressInput, column: np.ndarray | None = None) -> list[float]:
    """The values at the edges of an input's range, to test what the model does there."""
    if column is not None:
        return sorted({float(column.min()), float(column.max())})
    if spec.dist in ("uniform", "triangular"):
        return [_given(spec.low), _given(spec.high)]
    if spec.dist == "normal":
        if spec.low is not None:
            return [float(spec.low), _given(spec.high)]
        mean, sd = _given(spec.mean), _given(spec.sd)
        return [mean - 6 * sd, mean + 6 * sd]
    return sorted({float(v) for v in spec.values})


def neighbour_order(values: np.ndarray, bits: int = 10) -> np.ndarray:
    """A permutation that puts similar scenarios next to each other (a Hilbert curve through
    the inputs).

    Each input is scaled to its own range and cut into ``2**bits`` steps; the cells are
    visited along a Hilbert curve over up to six inputs, on which consecutive cells always
    share a face (a Z-order curve jumps at every power of two). So consecutive scenarios
    differ little and each warm start or walk is short: on the county's 20,000 ``money``
    scenarios the distance from one scenario to the next within a chain is a third shorter
    than along a Z-order curve (``models/stress.md``). Ties keep index order, so the order is
    deterministic.
    """
    n, d = values.shape
    if n == 0 or d == 0:
        return np.arange(n)
    dims = min(d, 60 // bits)
    v = values[:, :dims]
    lo, hi = v.min(axis=0), v.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.minimum(((v - lo) / span * (1 << bits)).astype(np.int64), (1 << bits) - 1)
    return np.argsort(hilbert_key(q, bits), kind="stable")


def hilbert_key(q: np.ndarray, bits: int) -> np.ndarray:
    """Each cell's place along the Hilbert curve through the grid of ``2**bits`` steps a side
    (``q``: one row of integer coordinates per point, at most ``63 // bits`` of them).

    Skilling's algorithm (J. Skilling, *Programming the Hilbert curve*, AIP Conf. Proc. 707,
    2004), over all points at once: the coordinates are turned into the curve's index in
    "transposed" form (``d`` numbers of ``bits`` bits), whose bits interleaved, most
    significant first, are the index."""
    x = [np.asarray(q[:, k], dtype=np.int64).copy() for k in range(q.shape[1])]
    d = len(x)
    top = 1 << (bits - 1)
    # undo the excess work of the inverse: reflect and swap low bits, level by level
    level = top
    while level > 1:
        low = level - 1
        for k in range(d):
            on = (x[k] & level) != 0
            x[0] = np.where(on, x[0] ^ low, x[0])  # invert the low bits of the first
            swap = np.where(on, 0, (x[0] ^ x[k]) & low)  # or exchange them with this one's
            x[0] ^= swap
            x[k] ^= swap
        level >>= 1
    # Gray encode
    for k in range(1, d):
        x[k] ^= x[k - 1]
    t = np.zeros_like(x[0])
    level = top
    while level > 1:
        t = np.where((x[d - 1] & level) != 0, t ^ (level - 1), t)
        level >>= 1
    key = np.zeros_like(x[0])
    for b in range(bits - 1, -1, -1):
        for k in range(d):
            key = (key << 1) | (((x[k] ^ t) >> b) & 1)
    return key
