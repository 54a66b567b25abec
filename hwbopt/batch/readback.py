"""What a batch scenario reports, computed from its plan's decisions.

**Outcomes**, from activity through the response curves.

The model's ``outcome`` and ``segment`` variables are only as good as the objective's push on
them: under ``cost``, or for a priority of weight 0, the solver may fill a concave curve's
pieces out of order and leave ``outcome`` below what the activity achieves. So a scenario's
outcomes are computed here from its activity columns and its own need, exactly as
:func:`hwbopt.results.response_value` does for ``solve``: each piece ``j`` of a curve takes the
activity between ``start_j × need`` and ``end_j × need`` (the last piece takes the rest) at its
effect, and the outcome is the priority's baseline plus every piece's effect.

**Spend**, each partner's money into services and pools, with contributions *settled* as
:func:`hwbopt.results.settle_contributions` settles them for ``solve``: a pool may be paid more
than it spends (``pool_balance`` is an inequality), and nothing in the objective fixes how
much, so each pool's excess is handed back in proportion to what contributors put in above
their minimum (their column's lower bound in that scenario).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData


@dataclass(frozen=True)
class Response:
    """One entry per curve piece per (intervention, priority, locality, year)."""

    baseline: np.ndarray  # (K,)
    years: int
    col: np.ndarray  # activity column of the piece
    out: np.ndarray  # flat (priority, year) index of the outcome it adds to
    need: np.ndarray  # flat (offered row, year) index into a scenario's need
    start: np.ndarray  # share of need where the piece starts
    width: np.ndarray  # share of need it spans (inf for a curve's last piece)
    effect: np.ndarray

    def outcomes(self, x: np.ndarray, need: np.ndarray) -> np.ndarray:
        """(K, Y) outcomes of the plan ``x`` under a scenario's need (flat, offered × year);
        (S, K, Y) for S plans at once (``x`` (S, columns), ``need`` (S, offered × year))."""
        lead = x.shape[:-1]
        xs, needs = x.reshape(-1, x.shape[-1]), need.reshape(-1, need.shape[-1])
        if len(xs) != len(needs) or (len(self.col) and (self.col.max() >= xs.shape[1]
                                                        or self.need.max() >= needs.shape[1])):
            # the compiled loop reads without bounds checks
            raise ValueError(f"outcomes of {x.shape} plans under {need.shape} needs")
        gain = np.zeros((len(xs), len(self.baseline) * self.years))
        _gain(xs, needs, self.col, self.out, self.need, self.start, self.width, self.effect, gain)
        out: np.ndarray = self.baseline[:, None] + gain.reshape(*lead, len(self.baseline),
                                                                self.years)
        return out


@njit(cache=True)
def _gain(x, need, col, out, at, start, width, effect, gain):  # type: ignore[no-untyped-def]
    """Each plan's gain in each (priority, year): every piece takes the activity between
    ``start × need`` and ``(start + width) × need`` (a last piece, width inf, the rest) at
    its effect, summed in the pieces' order (one loop over scenarios and pieces: numpy's
    (scenarios × pieces) temporaries cost more in fresh memory than the sums)."""
    for s in range(x.shape[0]):
        for p in range(col.shape[0]):
            n = need[s, at[p]]
            take = max(x[s, col[p]], 0.0) - start[p] * n
            take = max(take, 0.0)
            if not np.isinf(width[p]):
                take = min(take, width[p] * n)
            gain[s, out[p]] += effect[p] * take


def _sum_by(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount(index, weights, size)`` along the last axis of ``weights``, for each of
    its leading rows at once (one bincount: row ``s``'s bins offset by ``s × size``), each
    bin summed in the same order as alone."""
    lead = weights.shape[:-1]
    rows = int(np.prod(lead))
    flat = (index[None, :] + size * np.arange(rows)[:, None]).ravel()
    out: np.ndarray = np.bincount(flat, weights=weights.reshape(-1), minlength=rows * size)
    return out.reshape(*lead, size)


def response_of(d: ModelData, comp: Compiled) -> Response:
    """The curve pieces of the model ``comp`` was built from (``d``)."""
    Y = list(d.YEARS)
    kidx = {k: n for n, k in enumerate(d.PRIORITIES)}
    oidx = {o: n for n, o in enumerate(d.OFFERED)}
    act = comp.cols("activity")
    rows: list[tuple[int, int, int, float, float, float]] = []
    for (i, k), segs in d.segments.items():
        for loc in d.localities_of(i):
            for t, y in enumerate(Y):
                j = act.get((i, loc, y))
                if j is None:  # no such column reached the solver: no activity, no outcome
                    continue
                start = 0.0
                for n, s in enumerate(segs):
                    width = np.inf if n == len(segs) - 1 else s.width
                    rows.append((j, kidx[k] * len(Y) + t,
                                 oidx[i, loc] * len(Y) + t, start, width, s.effect))
                    start += s.width
    cols: list[tuple[float, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 6
    return Response(
        baseline=np.array([d.baseline[k] for k in d.PRIORITIES], dtype=float),
        years=len(Y),
        col=np.asarray(cols[0], dtype=np.int64),
        out=np.asarray(cols[1], dtype=np.int64),
        need=np.asarray(cols[2], dtype=np.int64),
        start=np.asarray(cols[3], dtype=float),
        width=np.asarray(cols[4], dtype=float),
        effect=np.asarray(cols[5], dtype=float),
    )


@dataclass(frozen=True)
class Spend:
    """Each partner's spend over the horizon: retained and ring-fenced money, plus settled
    contributions to pools."""

    own: sp.csr_array  # (P, n_cols): retained and ring-fenced spend columns
    contribution: np.ndarray  # contribution columns
    contribution_partner: np.ndarray  # their partner
    contribution_group: np.ndarray  # their (pool, year)
    pooled: np.ndarray  # pooled spend columns
    pooled_group: np.ndarray  # their (pool, year)
    groups: int
    partners: int

    def by_partner(self, x: np.ndarray, col_lower: np.ndarray) -> np.ndarray:
        """(P,) spend of the plan ``x``, with contributions settled against the scenario's
        minimum contributions ``col_lower``; (S, P) for S plans at once (``x`` and
        ``col_lower`` (S, columns))."""
        return self.settled(x, col_lower[..., self.contribution])

    def settled(self, x: np.ndarray, minimum: np.ndarray) -> np.ndarray:
        """:meth:`by_partner` with the minimum contributions given at the contribution
        columns only (``minimum``: (contributions,), or (S, contributions))."""
        c = x[..., self.contribution]
        g = self.contribution_group
        room = np.maximum(c - minimum, 0.0)
        excess = _sum_by(g, c, self.groups) - _sum_by(self.pooled_group, x[..., self.pooled],
                                                      self.groups)
        room_g = _sum_by(g, room, self.groups)
        back = np.where(room_g > 0, np.clip(np.minimum(excess, room_g), 0.0, None), 0.0)
        share = np.divide(room, room_g[..., g], out=np.zeros_like(room),
                          where=room_g[..., g] > 0)
        settled = c - back[..., g] * share
        out: np.ndarray = (self.own @ x.T).T + _sum_by(self.contribution_partner, settled,
                                                       self.partners)
        return out


def spend_of(d: ModelData, comp: Compiled) -> Spend:
    pidx = {p: n for n, p in enumerate(d.PARTNERS)}
    group: dict[tuple[str, int], int] = {}
    rows, cols = [], []
    for name in ("spend_retained", "spend_fenced"):
        for idx, j in comp.cols(name).items():
            rows.append(pidx[idx[0]])
            cols.append(j)
    own = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(d.PARTNERS), comp.n_cols))
    contrib = [(j, pidx[p], group.setdefault((g, y), len(group)))
               for (p, g, y), j in comp.cols("contribution").items()]
    pooled = [(j, group.setdefault((g, y), len(group)))
              for (g, _i, y), j in comp.cols("spend_pooled").items()]
    return Spend(
        own=own,
        contribution=np.array([c[0] for c in contrib], dtype=np.int64),
        contribution_partner=np.array([c[1] for c in contrib], dtype=np.int64),
        contribution_group=np.array([c[2] for c in contrib], dtype=np.int64),
        pooled=np.array([c[0] for c in pooled], dtype=np.int64),
        pooled_group=np.array([c[1] for c in pooled], dtype=np.int64),
        groups=len(group),
        partners=len(d.PARTNERS),
    )
