"""The compiled model as a function of the inputs a stress set varies. See ``models/stress.md``.

Two steps, both vectorised over a block of scenarios:

1. **inputs → derived numbers.** Each stress input names instance fields by path (the grammar of
   :mod:`hwbopt.scenarios`); the fields the engine can vary are held as flat vectors
   (``FIELDS``). A block's sampled values change copies of them, and the numbers the model is
   written in are derived from them exactly as :mod:`hwbopt.money` and
   :mod:`hwbopt.model.data` derive them: available and general money, required savings, pool
   bounds, need, unit costs, staff, site availability, targets.
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
from typing import Any

import numpy as np

from hwbopt.compile import Compiled
from hwbopt.errors import InstanceError, Problem
from hwbopt.model.data import ModelData
from hwbopt.scenarios import PathError, _leaves, instance_data, parse_path
from hwbopt.schema import Instance, StressInput

# the instance fields a stress input may name, and where the path grammar reaches them
FIELDS: dict[str, str] = {
    "budget": "budgets[...].baseline",
    "cut_total": "partners[...].cut.total",
    "cut_over": "partners[...].cut.over_years",
    "cut_by_year": "partners[...].cut_by_year[YEAR]",
    "savings_rate": "partners[...].savings_rate",
    "min_share": "pools[...].contributors[...].min_share",
    "max_share": "pools[...].contributors[...].max_share",
    "need": "activity[...].need",
    "need_growth": "interventions[...].need_growth",
    "unit_cost": "interventions[...].unit_cost",
    "cost_growth": "interventions[...].cost_growth",
    "fte": "staff[...].fte",
    "recruit_limit": "staff[...].recruit_limit",
    "available": "sites[...].available",
    "target": "targets[...].target",
}
# which derived numbers each field feeds
FEEDS: dict[str, tuple[str, ...]] = {
    "budget": ("money",), "cut_total": ("money",), "cut_over": ("money",),
    "cut_by_year": ("money",), "savings_rate": ("money",), "min_share": ("money",),
    "max_share": ("money",), "need": ("need",), "need_growth": ("need",),
    "unit_cost": ("cost",), "cost_growth": ("cost",), "fte": ("staff",),
    "recruit_limit": ("staff",), "available": ("sites",), "target": ("targets",),
}


@dataclass(frozen=True)
class Leaf:
    """A marker put in the instance's data where a field the engine can vary sits."""

    field: str
    index: Any


class StressError(InstanceError):
    """A stress set the batch engine cannot run (exit 2), located in instance.yaml."""


def marked_data(inst: Instance) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The instance's data with a :class:`Leaf` at each field the engine can vary, and the
    base value of every such field as flat vectors."""
    data = instance_data(inst)
    years = list(inst.years)
    P = len(inst.partners)
    base: dict[str, Any] = {
        "budget": [], "cut_total": np.full(P, np.nan), "cut_over": np.full(P, np.nan),
        "cut_by_year": np.full((P, len(years)), np.nan), "savings_rate": np.zeros(P),
        "min_share": [], "max_share": [], "need": [], "need_growth": [], "unit_cost": [],
        "cost_growth": [], "fte": [], "recruit_limit": [], "available": [], "target": [],
    }

    def mark(row: dict[str, Any], key: Any, name: str, index: Any) -> None:
        value = row[key]
        if isinstance(base[name], list):
            base[name].append(float(value))
        else:
            base[name][index] = float(value)
        row[key] = Leaf(name, index)

    for k, row in enumerate(data["budgets"]):
        mark(row, "baseline", "budget", k)
    for p, row in enumerate(data["partners"]):
        mark(row, "savings_rate", "savings_rate", p)
        if row.get("cut") is not None:
            mark(row["cut"], "total", "cut_total", p)
            mark(row["cut"], "over_years", "cut_over", p)
        if row.get("cut_by_year") is not None:
            for y in list(row["cut_by_year"]):
                mark(row["cut_by_year"], y, "cut_by_year", (p, years.index(int(y))))
    c = 0
    for pool in data["pools"]:
        for con in pool["contributors"]:
            mark(con, "min_share", "min_share", c)
            mark(con, "max_share", "max_share", c)
            c += 1
    for k, row in enumerate(data["activity"]):
        mark(row, "need", "need", k)
    for k, row in enumerate(data["interventions"]):
        for name in ("need_growth", "unit_cost", "cost_growth"):
            mark(row, name, name, k)
    for k, row in enumerate(data["staff"]):
        mark(row, "fte", "fte", k)
        mark(row, "recruit_limit", "recruit_limit", k)
    for k, row in enumerate(data["sites"]):
        mark(row, "available", "available", k)
    for k, row in enumerate(data["targets"]):
        mark(row, "target", "target", k)
    return data, {k: np.asarray(v, dtype=float) for k, v in base.items()}


@dataclass(frozen=True)
class Target:
    """Where one stress input's value goes: the fields it sets and how."""

    column: str
    op: str
    leaves: tuple[tuple[str, Any], ...]  # (field, index)


def resolve_inputs(inst: Instance, inputs: Sequence[StressInput], where: str) -> list[Target]:
    """Each input's fields, or a located error naming what the engine cannot vary."""
    data, _ = marked_data(inst)
    out, problems = [], []
    for k, spec in enumerate(inputs):
        leaves: list[tuple[str, Any]] = []
        for path in spec.targets:
            loc = f"{where}.inputs[{k}]." + ("path" if spec.path is not None else "paths")
            try:
                found = _leaves(data, parse_path(path), path)
            except PathError as exc:
                problems.append(Problem("instance.yaml", None, loc, str(exc)))
                continue
            for container, key in found:
                value = container[key]
                if not isinstance(value, Leaf):
                    problems.append(Problem("instance.yaml", None, loc, (
                        f"{path} cannot be varied by the batch engine, which changes numbers "
                        "only: stress inputs may name " + ", ".join(FIELDS.values()))))
                    break
                leaves.append((value.field, value.index))
        out.append(Target(spec.column, spec.op, tuple(leaves)))
    if problems:
        raise StressError(problems, source=where)
    return out


# ---------------------------------------------------------------------------------------------
# step 1: inputs -> derived numbers, for a block of scenarios at once
# ---------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """Index arrays that turn field vectors into the model's numbers (from ModelData)."""

    years: np.ndarray  # year offsets t(y)
    budget_at: np.ndarray  # (P, Y) -> budget row
    has_cut_by_year: np.ndarray  # (P,)
    has_cut: np.ndarray  # (P,)
    fence_total: np.ndarray  # (P,)
    contrib_partner: np.ndarray  # (C,) -> partner index
    off_row: np.ndarray  # (O,) OFFERED -> activity row
    off_intervention: np.ndarray  # (O,) -> intervention index
    staff_at: np.ndarray  # (S, Y) -> staff row
    site_can_close: np.ndarray  # (sites,)


def layout(d: ModelData) -> Layout:
    inst = d.instance
    Y = list(d.YEARS)
    pidx = {p: k for k, p in enumerate(d.PARTNERS)}
    budget_at = np.zeros((len(d.PARTNERS), len(Y)), dtype=np.int64)
    for k, b in enumerate(inst.budgets):
        budget_at[pidx[b.partner], Y.index(b.year)] = k
    act_row = {(a.intervention, a.locality or "all"): k for k, a in enumerate(inst.activity)}
    iidx = {i: k for k, i in enumerate(d.INTERVENTIONS)}
    staff_row = {(r.employer, r.role, r.year): k for k, r in enumerate(inst.staff)}
    return Layout(
        years=np.arange(len(Y), dtype=float),
        budget_at=budget_at,
        has_cut_by_year=np.array([p.cut_by_year is not None for p in inst.partners]),
        has_cut=np.array([p.cut is not None for p in inst.partners]),
        fence_total=np.array([sum(r.share for r in p.ring_fenced) for p in inst.partners]),
        contrib_partner=np.array([pidx[p] for (p, _g) in d.CONTRIBUTORS], dtype=np.int64),
        off_row=np.array([act_row[o] for o in d.OFFERED], dtype=np.int64),
        off_intervention=np.array([iidx[i] for (i, _l) in d.OFFERED], dtype=np.int64),
        staff_at=np.array([[staff_row[e, r, y] for y in Y] for (e, r) in d.STAFF],
                          dtype=np.int64).reshape(len(d.STAFF), len(Y)),
        site_can_close=np.array([d.site[s].can_close for s in d.SITES], dtype=bool),
    )


def apply_inputs(base: dict[str, np.ndarray], targets: Sequence[Target],
                 values: np.ndarray) -> dict[str, np.ndarray]:
    """Field vectors for each scenario of a block (``values``: scenarios x inputs)."""
    n = values.shape[0]
    out = {k: np.broadcast_to(v, (n, *v.shape)).copy() for k, v in base.items()}
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


@dataclass
class Derived:
    """The model's numbers for a block, each (scenarios, ...), and what is invalid."""

    values: dict[str, np.ndarray]
    invalid: list[str | None]  # per scenario: why its inputs break the instance's rules


def derive(f: dict[str, np.ndarray], lay: Layout, n_interventions: int) -> Derived:
    """The numbers the model is written in, from field vectors (see :mod:`hwbopt.money`)."""
    n = next(iter(f.values())).shape[0]
    t = lay.years
    why: list[list[str]] = [[] for _ in range(n)]

    def flag(mask: np.ndarray, text: str) -> None:
        for s in np.flatnonzero(mask):
            why[s].append(text)

    B = f["budget"][:, lay.budget_at]  # (n, P, Y)
    M = f["cut_over"]
    flag(np.any(lay.has_cut & ((M < 1) | (np.abs(M - np.round(M)) > 1e-9)), axis=1),
         "a cut's over_years must be a whole number of at least 1")
    Mr = np.where(lay.has_cut, np.maximum(np.round(M), 1.0), 1.0)
    ramp = np.minimum(t[None, None, :] + 1, Mr[:, :, None]) / Mr[:, :, None]
    cut = np.where(lay.has_cut[None, :, None],
                   np.nan_to_num(f["cut_total"])[:, :, None] * ramp, 0.0)
    cut = np.where(lay.has_cut_by_year[None, :, None], np.nan_to_num(f["cut_by_year"]), cut)
    sigma = f["savings_rate"]
    save = 1.0 - (1.0 - sigma[:, :, None]) ** (t[None, None, :] + 1)
    flag(np.any((cut < 0) | (cut >= 1), axis=(1, 2)), "a cut outside 0..100%")
    flag(np.any((sigma < 0) | (sigma >= 1), axis=1), "a savings rate outside 0..100%")
    flag(np.any(cut + save >= 1.0, axis=(1, 2)), "cut plus savings of 100% or more")
    flag(np.any(B < 0, axis=(1, 2)), "a negative budget")
    required = B * save
    available = np.maximum(B * (1.0 - cut) - required, 0.0)
    general = available * (1.0 - lay.fence_total[None, :, None])
    lo, hi = f["min_share"], f["max_share"]
    flag(np.any((lo < 0) | (hi > 1) | (lo > hi), axis=1),
         "a pool share outside 0..1, or a minimum above the maximum")
    if lo.shape[1]:
        pooled_min = np.zeros((n, len(lay.fence_total)))
        np.add.at(pooled_min, (slice(None), lay.contrib_partner), lo)
        flag(np.any(pooled_min + lay.fence_total[None, :] > 1 + 1e-12, axis=1),
             "ring-fenced plus minimum pool shares above 100%")
    a_c = available[:, lay.contrib_partner, :]  # (n, C, Y)

    growth = f["need_growth"][:, lay.off_intervention]
    flag(np.any(growth <= -1, axis=1), "need growth of -100% or less")
    flag(np.any(f["need"] < 0, axis=1), "a negative need")
    need = f["need"][:, lay.off_row][:, :, None] * (1.0 + growth[:, :, None]) ** t[None, None, :]
    need_sum = np.zeros((n, n_interventions, len(t)))
    np.add.at(need_sum, (slice(None), lay.off_intervention), need)

    u, g = f["unit_cost"], f["cost_growth"]
    flag(np.any(u <= 0, axis=1), "a unit cost of zero or less")
    flag(np.any(g <= -1, axis=1), "cost growth of -100% or less")
    unit_cost = u[:, :, None] * (1.0 + g[:, :, None]) ** t[None, None, :]

    fte = f["fte"][:, lay.staff_at] if lay.staff_at.size else np.zeros((n, 0, len(t)))
    recruit = f["recruit_limit"][:, lay.staff_at] if lay.staff_at.size else fte
    flag(np.any(f["fte"] < 0, axis=1) | np.any(f["recruit_limit"] < 0, axis=1),
         "negative staff or recruitment")

    avail_site = f["available"] > 0.5  # (n, sites)
    open_ub = np.repeat(avail_site[:, :, None].astype(float), len(t), axis=2)
    open_lb = np.repeat((avail_site & ~lay.site_can_close[None, :])[:, :, None].astype(float),
                        len(t), axis=2)
    values = {
        "general": general, "available": available, "required": required,
        "contrib_lo": lo[:, :, None] * a_c, "contrib_hi": hi[:, :, None] * a_c,
        "need": need, "need_sum": need_sum, "unit_cost": unit_cost,
        "fte": fte, "recruit": recruit, "open_lb": open_lb, "open_ub": open_ub,
        "target": f["target"],
    }
    return Derived(values, ["; ".join(w) if w else None for w in why])


# ---------------------------------------------------------------------------------------------
# step 2: derived numbers -> entries of the compiled arrays
# ---------------------------------------------------------------------------------------------

ARRAYS = ("col_lower", "col_upper", "row_lower", "row_upper", "c", "A")


@dataclass
class EntryMap:
    """Entries of one compiled array, each ``k × number`` (set) or ``base + k × Δnumber``."""

    position: list[int] = field(default_factory=list)  # column, row, or A.data index
    source: list[tuple[str, tuple]] = field(default_factory=list)  # derived number
    k: list[float] = field(default_factory=list)
    delta: list[bool] = field(default_factory=list)

    def add(self, position: int, source: str, at: tuple, k: float, delta: bool = False) -> None:
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

    def __init__(self, comp: Compiled, d: ModelData, touched: set[str]):
        self.comp = comp
        self.d = d
        self.touched = touched
        self.lay = layout(d)
        self.A_index = _a_index(comp)
        self.maps = self._maps()

    def _maps(self) -> dict[str, EntryMap]:
        comp, d = self.comp, self.d
        Y = list(d.YEARS)
        m: dict[str, EntryMap] = defaultdict(EntryMap)
        pidx = {p: k for k, p in enumerate(d.PARTNERS)}
        cidx = {pg: k for k, pg in enumerate(d.CONTRIBUTORS)}
        oidx = {o: k for k, o in enumerate(d.OFFERED)}
        iidx = {i: k for k, i in enumerate(d.INTERVENTIONS)}
        sidx = {s: k for k, s in enumerate(d.STAFF)}

        def a_entry(row: int, col: int) -> int:
            return self.A_index[row, col]

        if "money" in self.touched:
            for (p, y), r in comp.rows("budget").items():
                m["row_upper"].add(r, "general", (pidx[p], Y.index(y)), 1.0, delta=True)
            for (p, line, y), r in comp.rows("ring_fence").items():
                m["row_upper"].add(r, "available", (pidx[p], Y.index(y)),
                                   d.fence_share[p, line], delta=True)
            for (p, g, y), j in comp.cols("contribution").items():
                at = (cidx[p, g], Y.index(y))
                m["col_lower"].add(j, "contrib_lo", at, 1.0)
                m["col_upper"].add(j, "contrib_hi", at, 1.0)
            for (p, y), j in comp.cols("qipp_credit").items():
                m["col_upper"].add(j, "required", (pidx[p], Y.index(y)), 1.0)
        if "need" in self.touched:
            for (i, loc, y), j in comp.cols("activity").items():
                m["col_upper"].add(j, "need", (oidx[i, loc], Y.index(y)), 1.0)
            for (i, k, loc, y, s), j in comp.cols("segment").items():
                m["col_upper"].add(j, "need", (oidx[i, loc], Y.index(y)),
                                   d.segments[i, k][s].width)
            for (i, loc, y), r in comp.rows("growth_limit").items():
                m["row_upper"].add(r, "need", (oidx[i, loc], Y.index(y)), d.growth[i][1],
                                   delta=True)
            run = comp.cols("run")
            for (i, y), r in comp.rows("run_max").items():
                m["A"].add(a_entry(r, run[i, y]), "need_sum", (iidx[i], Y.index(y)), -1.0)
            full = comp.cols("piece_full")
            for (i, k, loc, y, s), r in comp.rows("piece_fill").items():
                m["A"].add(a_entry(r, full[i, k, loc, y, s]), "need",
                           (oidx[i, loc], Y.index(y)), -d.segments[i, k][s].width)
            for (i, k, loc, y, s), r in comp.rows("piece_order").items():
                m["A"].add(a_entry(r, full[i, k, loc, y, s]), "need",
                           (oidx[i, loc], Y.index(y)), -d.segments[i, k][s + 1].width)
            total = comp.cols("total_activity")
            for (i, loc, y), r in comp.rows("equity_floor").items():
                # -phi x need share: a ratio of two needs, so its own derived number
                m["A"].add(a_entry(r, total[i, y]), "need_share",
                           (oidx[i, loc], Y.index(y)), -(d.equity_floor or 0.0))
        if "cost" in self.touched:
            act = comp.cols("activity")
            for (i, y), r in comp.rows("funding").items():
                for loc in d.localities_of(i):
                    m["A"].add(a_entry(r, act[i, loc, y]), "unit_cost",
                               (iidx[i], Y.index(y)), 1.0)
            if d.objective == "cost":
                for (i, _loc, y), j in act.items():
                    m["c"].add(j, "unit_cost", (iidx[i], Y.index(y)), d.discount[y])
        if "staff" in self.touched:
            for (e, r_, y), r in comp.rows("staff_balance").items():
                at = (sidx[e, r_], Y.index(y))
                m["row_lower"].add(r, "fte", at, 1.0, delta=True)
                m["row_upper"].add(r, "fte", at, 1.0, delta=True)
            for (e, r_, y), r in comp.rows("release_limit").items():
                if y == Y[0]:
                    m["row_upper"].add(r, "fte", (sidx[e, r_], 0),
                                       d.staff[e, r_, y].max_release, delta=True)
            for (e, r_, y), j in comp.cols("recruit").items():
                m["col_upper"].add(j, "recruit", (sidx[e, r_], Y.index(y)), 1.0)
        if "sites" in self.touched:
            site = {s: k for k, s in enumerate(d.SITES)}
            for (s, y), j in comp.cols("open").items():
                m["col_lower"].add(j, "open_lb", (site[s], Y.index(y)), 1.0)
                m["col_upper"].add(j, "open_ub", (site[s], Y.index(y)), 1.0)
        if "targets" in self.touched:
            tidx = {(t.priority, t.year): k for k, t in enumerate(d.instance.targets)}
            for (k, y), r in comp.rows("target").items():
                m["row_lower"].add(r, "target", (tidx[k, y],), 1.0)
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


def _flat(values: dict[str, np.ndarray], src: str, at: tuple) -> int:
    """Flat index of ``values[src][0, *at]`` within one scenario's array."""
    return int(np.ravel_multi_index(at, values[src].shape[1:]))


def add_need_share(values: dict[str, np.ndarray], lay: Layout) -> None:
    """need_share[o, y] = need[o, y] / need of its intervention over every locality."""
    need, need_sum = values["need"], values["need_sum"]
    total = need_sum[:, lay.off_intervention, :]
    values["need_share"] = np.divide(need, total, out=np.zeros_like(need), where=total > 0)


def _a_index(comp: Compiled) -> dict[tuple[int, int], int]:
    """(row, column) -> index into ``comp.A.data`` (CSC)."""

    class _Lookup(dict):
        def __missing__(self, key):
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
