"""The compiled model as a function of the inputs a stress set varies. See ``models/stress.md``.

Two steps, both vectorised over a block of scenarios:

1. **inputs → derived numbers.** Each stress input names instance fields by path (the grammar of
   :mod:`hwbopt.paths`); the fields the engine can vary (:data:`hwbopt.batch.inputs.FIELDS`)
   are held as flat vectors (:func:`hwbopt.derived.fields`). A block's sampled values change
   copies of them (:func:`apply_inputs`), and :func:`hwbopt.derived.derive` computes the
   numbers the model is written in, as it does for the model builder: available and general
   money, required savings, pool bounds, need, unit costs, staff, site availability, targets.
2. **derived numbers → compiled arrays.** Every entry of the compiled arrays that a derived
   number reaches (a row bound, a column bound, an objective cost, a matrix coefficient) is
   listed once, from the component maps of :class:`hwbopt.compile.Compiled`, either as
   ``k × number`` (set) or ``base + k × (number − its base value)`` (delta, where the entry
   also holds constants the inputs do not touch).

A set entry is checked against the base model when the map is made, and tests compare the
arrays for sampled scenarios with a fresh build of each scenario's instance. Inputs the engine
cannot vary, or values that would change the model's structure, are rejected up front.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hwbopt.batch.inputs import Target
from hwbopt.compile import Compiled
from hwbopt.derived import Floats
from hwbopt.model.component import Reach
from hwbopt.model.data import ModelData
from hwbopt.model.names import reaching

# ---------------------------------------------------------------------------------------------
# step 1: inputs -> field vectors, for a block of scenarios at once (then hwbopt.derived)
# ---------------------------------------------------------------------------------------------


def apply_inputs(base: dict[str, Floats], targets: Sequence[Target],
                 values: Floats) -> dict[str, Floats]:
    """Field vectors for each scenario of a block (``values``: scenarios x inputs) from the
    instance's (``base``: a block of one, :func:`hwbopt.derived.fields`)."""
    n = values.shape[0]
    out = {k: np.repeat(v, n, axis=0) for k, v in base.items()}
    for col, t in enumerate(targets):
        v = values[:, col]
        for name, index in t.leaves:
            arr = out[name]
            at = (slice(None), *index) if isinstance(index, tuple) else (slice(None), index)
            if t.op == "value":
                arr[at] = v
            elif t.op == "scale":
                arr[at] = arr[at] * v
            else:
                arr[at] = arr[at] + v
    return out


# ---------------------------------------------------------------------------------------------
# step 2: derived numbers -> entries of the compiled arrays
# ---------------------------------------------------------------------------------------------


@dataclass
class EntryMap:
    """Entries of one compiled array, each ``k × number`` (set) or ``base + k × Δnumber``."""

    position: list[int] = field(default_factory=list)  # column, row, or A.data index
    source: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)  # derived number
    k: list[float] = field(default_factory=list)
    delta: list[bool] = field(default_factory=list)

    def add(self, position: int, source: str, at: tuple[int, ...], k: float,
            delta: bool = False) -> None:
        self.position.append(position)
        self.source.append((source, at))
        self.k.append(k)
        self.delta.append(delta)


@dataclass
class Compiled1:
    """One array's entry map in array form, ready for block evaluation."""

    position: np.ndarray
    k: np.ndarray
    delta: np.ndarray
    base: np.ndarray  # the entry's value in the base model
    theta_base: np.ndarray  # the number's value in the base model
    gather: dict[str, tuple[np.ndarray, np.ndarray]]  # source -> (entry slots, flat index)


class ParametricModel:
    """The maps of a compiled model for the derived numbers a stress set changes."""

    def __init__(self, comp: Compiled, d: ModelData, touched: set[str]) -> None:
        self.comp = comp
        self.d = d
        self.touched = touched
        self.A_index = _a_index(comp)
        self.maps = self._maps()

    def _maps(self) -> dict[str, EntryMap]:
        """Every entry the touched derived numbers reach, as each component declares it
        (the ``reach`` of its declaration in its part module)."""
        m: dict[str, EntryMap] = defaultdict(EntryMap)
        reach = Reach(self.comp, self.d, m, self.A_index)
        for add in reaching(self.touched):
            add(reach)
        return dict(m)

    def prepare(self, base_values: dict[str, np.ndarray]) -> dict[str, Compiled1]:
        """Array form of the maps, with the base model's numbers (``base_values``: one
        scenario, the instance itself). Checks every set entry against the base model."""
        out = {}
        base_arrays = {"col_lower": self.comp.col_lower, "col_upper": self.comp.col_upper,
                       "row_lower": self.comp.row_lower, "row_upper": self.comp.row_upper,
                       "c": self.comp.c, "A": self.comp.A.data}
        for name, em in self.maps.items():
            pos = np.asarray(em.position, dtype=np.int64)
            gather: dict[str, list[list[int]]] = defaultdict(lambda: [[], []])
            for slot, (src, at) in enumerate(em.source):
                gather[src][0].append(slot)
                gather[src][1].append(_flat(base_values, src, at))
            g = {src: (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
                 for src, (a, b) in gather.items()}
            theta = np.empty(len(pos))
            for src, (slots, flat) in g.items():
                theta[slots] = base_values[src].reshape(-1)[flat]
            k = np.asarray(em.k, dtype=float)
            delta = np.asarray(em.delta, dtype=bool)
            base = np.asarray(base_arrays[name], dtype=float)[pos]
            # Pyomo writes `a >= b` as `b - a <= 0`: the sign of a coefficient is the
            # compiler's choice, so it is taken from the base model; the size is the map's
            flip = ~delta & ~np.isclose(base, k * theta, rtol=1e-9, atol=1e-12) & np.isclose(
                base, -k * theta, rtol=1e-9, atol=1e-12)
            k = np.where(flip, -k, k)
            want = k * theta
            bad = ~delta & ~np.isclose(base, want, rtol=1e-9, atol=1e-12)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise AssertionError(
                    f"batch map of {name} entry {pos[j]} ({em.source[j]}): the model has "
                    f"{base[j]!r}, the map {want[j]!r}")
            out[name] = Compiled1(pos, k, delta, base, theta, g)
        return out


def _flat(values: dict[str, np.ndarray], src: str, at: tuple[int, ...]) -> int:
    """Flat index of ``values[src][0, *at]`` within one scenario's array."""
    return int(np.ravel_multi_index(at, values[src].shape[1:]))


def _a_index(comp: Compiled) -> dict[tuple[int, int], int]:
    """(row, column) -> index into ``comp.A.data`` (CSC)."""

    class _Lookup(dict[tuple[int, int], int]):
        def __missing__(self, key: tuple[int, int]) -> int:
            row, col = key
            lo, hi = comp.A.indptr[col], comp.A.indptr[col + 1]
            hits = np.flatnonzero(comp.A.indices[lo:hi] == row)
            if not len(hits):
                raise KeyError(f"no coefficient at row {comp.row_name(row)}, column "
                               f"{comp.col_name(col)}")
            value = int(lo + hits[0])
            self[key] = value
            return value

    return _Lookup()


def evaluate(prepared: dict[str, Compiled1], values: dict[str, np.ndarray]) -> dict[str,
                                                                                     np.ndarray]:
    """New values of every mapped entry, (scenarios, entries) per array."""
    out = {}
    for name, c1 in prepared.items():
        n = next(iter(values.values())).shape[0]
        theta = np.empty((n, len(c1.position)))
        for src, (slots, flat) in c1.gather.items():
            theta[:, slots] = values[src].reshape(n, -1)[:, flat]
        out[name] = np.where(c1.delta[None, :], c1.base[None, :] + c1.k * (theta - c1.theta_base),
                             c1.k * theta)
    return out


def needs_share(prepared: dict[str, Compiled1]) -> bool:
    """Whether any mapped entry reads the need shares (only the equity floor's do)."""
    return any("need_share" in c1.gather for c1 in prepared.values())
