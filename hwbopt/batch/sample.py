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
    """A permutation that puts similar scenarios next to each other (Z-order of the inputs).

    Each input is scaled to its own range and cut into ``2**bits`` steps; interleaving the
    bits of up to six inputs gives a space-filling curve, so consecutive scenarios differ
    little and each warm start is cheap. Ties keep index order, so the order is deterministic.
    """
    n, d = values.shape
    if n == 0 or d == 0:
        return np.arange(n)
    dims = min(d, 60 // bits)
    v = values[:, :dims]
    lo, hi = v.min(axis=0), v.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.minimum(((v - lo) / span * (1 << bits)).astype(np.int64), (1 << bits) - 1)
    code = np.zeros(n, dtype=np.int64)
    for b in range(bits - 1, -1, -1):
        for k in range(dims):
            code = (code << 1) | ((q[:, k] >> b) & 1)
    return np.argsort(code, kind="stable")
