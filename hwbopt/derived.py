"""The numbers the model is written in, derived from the instance's figures, vectorised.

Money per partner and year (baseline x (1 - cut) - required savings, its ring-fenced and general
parts), pool contribution bounds, need per offered intervention and locality, unit cost per
intervention, staff and site availability on the model's year grid, and targets: everything a
scenario can move. Each is an array with a leading scenario axis, computed from flat vectors of
the figures a scenario may change (:func:`fields`, one vector per field, in the instance's own
row order).

The model builder (:mod:`hwbopt.model.data`) evaluates this on the instance itself, a block of
one scenario; the stress engine (:mod:`hwbopt.batch`) on blocks of sampled scenarios. Formulas
are written in the order of operations the model has always used, so both agree to the bit.
The independent checker (:mod:`hwbopt.check`) re-derives the money on its own, on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hwbopt.schema import Instance, Partner

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# which groups of derived numbers each field feeds: the stress engine maps only the entries of
# the groups its inputs move
FEEDS: dict[str, tuple[str, ...]] = {
    "budget": ("money",), "cut_total": ("money",), "cut_over": ("money",),
    "cut_by_year": ("money",), "savings_rate": ("money",), "min_share": ("money",),
    "max_share": ("money",), "need": ("need",), "need_growth": ("need",),
    "unit_cost": ("cost",), "cost_growth": ("cost",), "fte": ("staff",),
    "recruit_limit": ("staff",), "available": ("sites",), "target": ("targets",),
}


@dataclass(frozen=True)
class Layout:
    """Index arrays that place the field vectors on the model's grids.

    Gathers that may miss (a budget or staff row the instance lacks) point one past the end
    of their vector, where :func:`_gather` reads zero.
    """

    years: Floats  # (Y,) year offsets t(y) = y - first year
    budget_at: Ints  # (P, Y) -> budgets row
    has_cut: Bools  # (P,) partners with cut: {total, over_years}
    has_cut_by_year: Bools  # (P,)
    fence_total: Floats  # (P,) ring-fenced share of available money
    contrib_partner: Ints  # (C,) pool contributor -> partner
    off_intervention: Ints  # (O,) activity row -> intervention
    n_interventions: int
    staff_at: Ints  # (S, Y) (employer, role) pair and year -> staff row
    site_can_close: Bools  # (sites,)
    target_t: Floats  # (targets,) each target's year offset


def layout(inst: Instance) -> Layout:
    """The instance's structure, which no scenario changes, as index arrays."""
    years = inst.years
    pidx = {p.id: k for k, p in enumerate(inst.partners)}
    budget_row = {(b.partner, b.year): k for k, b in enumerate(inst.budgets)}
    staff_row = {(r.employer, r.role, r.year): k for k, r in enumerate(inst.staff)}
    pairs = dict.fromkeys((r.employer, r.role) for r in inst.staff)
    iidx = {i.id: k for k, i in enumerate(inst.interventions)}
    return Layout(
        years=np.arange(len(years), dtype=np.float64),
        budget_at=_index([[budget_row.get((p.id, y), len(inst.budgets)) for y in years]
                          for p in inst.partners], (len(inst.partners), len(years))),
        has_cut=np.array([p.cut is not None for p in inst.partners], dtype=np.bool_),
        has_cut_by_year=np.array([p.cut_by_year is not None for p in inst.partners],
                                 dtype=np.bool_),
        # summed as Python floats, as the money has always been
        fence_total=np.array([sum(r.share for r in p.ring_fenced) for p in inst.partners],
                             dtype=np.float64),
        contrib_partner=_index([pidx[c.partner] for g in inst.pools for c in g.contributors],
                               (-1,)),
        off_intervention=_index([iidx[a.intervention] for a in inst.activity], (-1,)),
        n_interventions=len(inst.interventions),
        staff_at=_index([[staff_row.get((e, r, y), len(inst.staff)) for y in years]
                         for (e, r) in pairs], (len(pairs), len(years))),
        site_can_close=np.array([s.can_close for s in inst.sites], dtype=np.bool_),
        target_t=np.array([years.index(t.year) if t.year in years else -1
                           for t in inst.targets], dtype=np.float64),
    )


def _index(rows: list[list[int]] | list[int], shape: tuple[int, ...]) -> Ints:
    return np.array(rows, dtype=np.int64).reshape(shape)


def fields(inst: Instance) -> dict[str, Floats]:
    """The instance's figures that a scenario may change, as a block of one scenario.

    Vectors follow the instance's rows: budgets, partners, pool contributors (pool by pool),
    activity, interventions, staff, sites, targets. A cut a partner does not have is NaN.
    """
    years = inst.years
    partners = inst.partners
    by_year = np.full((len(partners), len(years)), np.nan)
    for p, partner in enumerate(partners):
        for y, share in (partner.cut_by_year or {}).items():
            if y in years:
                by_year[p, years.index(y)] = share
    contributors = [c for g in inst.pools for c in g.contributors]
    out = {
        "budget": [b.baseline for b in inst.budgets],
        "cut_total": [p.cut.total if p.cut else np.nan for p in partners],
        "cut_over": [p.cut.over_years if p.cut else np.nan for p in partners],
        "cut_by_year": by_year,
        "savings_rate": [p.savings_rate for p in partners],
        "min_share": [c.min_share for c in contributors],
        "max_share": [c.max_share for c in contributors],
        "need": [a.need for a in inst.activity],
        "need_growth": [i.need_growth for i in inst.interventions],
        "unit_cost": [i.unit_cost for i in inst.interventions],
        "cost_growth": [i.cost_growth for i in inst.interventions],
        "fte": [r.fte for r in inst.staff],
        "recruit_limit": [r.recruit_limit for r in inst.staff],
        "available": [float(s.available) for s in inst.sites],
        "target": [t.target for t in inst.targets],
    }
    return {k: np.asarray(v, dtype=np.float64)[None] for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# the formulas, each over (scenarios, partners or rows, years)
# ---------------------------------------------------------------------------------------------


def cut_shares(total: Floats, over: Floats, by_year: Floats, has_cut: Bools,
               has_cut_by_year: Bools, t: Floats) -> Floats:
    """Cumulative cut in each year as a share of the baseline, (n, P, Y).

    ``cut: {total: 0.28, over_years: 4}`` reaches 7%, 14%, 21%, 28% in the first four years of
    the horizon and stays at 28% after; ``cut_by_year`` gives the cumulative share directly
    (a year it leaves out: no cut).
    """
    # a scenario's over_years that is not a whole number >= 1 is flagged by derive(); it is
    # rounded here so the arithmetic stays defined
    m = np.where(has_cut, np.maximum(np.round(np.nan_to_num(over, nan=1.0)), 1.0), 1.0)
    steps = np.minimum(t[None, None, :] + 1.0, m[:, :, None])
    ramp = np.nan_to_num(total)[:, :, None] * steps / m[:, :, None]
    cut = np.where(has_cut[None, :, None], ramp, 0.0)
    out: Floats = np.where(has_cut_by_year[None, :, None], np.nan_to_num(by_year), cut)
    return out


def savings_shares(rate: Floats, t: Floats) -> Floats:
    """Cumulative required savings (QIPP) as a share of the baseline: 1 - (1 - rate)^(t+1)."""
    out: Floats = 1.0 - (1.0 - rate[:, :, None]) ** (t[None, None, :] + 1.0)
    return out


def grown(base: Floats, growth: Floats, t: Floats) -> Floats:
    """A figure growing at a yearly rate: base x (1 + growth)^t(y), (n, rows, Y). The powers
    are taken once when every scenario has the same rates (a batch that moves only money:
    the same numbers, at a fraction of the cost)."""
    rates = growth[:1] if _same_rows(growth) else growth
    out: Floats = base[:, :, None] * (1.0 + rates[:, :, None]) ** t[None, None, :]
    return out


def _same_rows(a: Floats) -> bool:
    """Whether every scenario (row) of ``a`` holds the same numbers, bit for bit."""
    bits = np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)
    return a.shape[0] > 1 and bool(np.all(bits == bits[:1]))


def _gather(vector: Floats, at: Ints) -> Floats:
    """``vector[:, at]``, reading zero where ``at`` points one past the end."""
    padded = np.concatenate([vector, np.zeros((vector.shape[0], 1))], axis=1)
    out: Floats = padded[:, at]
    return out


@dataclass
class Derived:
    """The model's numbers for a block, each (scenarios, ...), and what is invalid.

    ``values`` holds, per partner and year: ``baseline``, ``cut`` (money), ``required``
    (savings), ``available``, ``fenced``, ``general``; per pool contributor and year:
    ``contrib_lo``, ``contrib_hi``; per activity row and year: ``need``; per intervention and
    year: ``need_sum``, ``unit_cost``; per (employer, role) and year: ``fte``, ``recruit``;
    per site and year: ``open_lb``, ``open_ub``; per target: ``target``.
    """

    values: dict[str, Floats]
    invalid: list[str | None]  # per scenario: why its figures break the instance's rules


class _Flags:
    """Reasons per scenario why its figures break the instance's rules."""

    def __init__(self, n: int) -> None:
        self.why: list[list[str]] = [[] for _ in range(n)]

    def __call__(self, mask: Bools, text: str) -> None:
        for s in np.flatnonzero(mask):
            self.why[s].append(text)

    def reasons(self) -> list[str | None]:
        return ["; ".join(w) if w else None for w in self.why]


def derive(f: dict[str, Floats], lay: Layout) -> Derived:
    """Every derived number of a block of scenarios, from its field vectors (see
    :func:`fields`), and per scenario what breaks the instance's rules."""
    flag = _Flags(next(iter(f.values())).shape[0])
    values = {**_money(f, lay, flag), **_need(f, lay, flag), **_cost(f, lay, flag),
              **_staff(f, lay, flag), **_sites(f, lay), "target": f["target"]}
    return Derived(values, flag.reasons())


def _money(f: dict[str, Floats], lay: Layout, flag: _Flags) -> dict[str, Floats]:
    t = lay.years
    over = f["cut_over"]
    flag(np.any(lay.has_cut & ((over < 1) | (np.abs(over - np.round(over)) > 1e-9)), axis=1),
         "a cut's over_years must be a whole number of at least 1")
    cut = cut_shares(f["cut_total"], over, f["cut_by_year"], lay.has_cut, lay.has_cut_by_year,
                     t)
    rate = f["savings_rate"]
    save = savings_shares(rate, t)
    budget = _gather(f["budget"], lay.budget_at)  # (n, P, Y)
    flag(np.any((cut < 0) | (cut >= 1), axis=(1, 2)), "a cut outside 0..100%")
    flag(np.any((rate < 0) | (rate >= 1), axis=1), "a savings rate outside 0..100%")
    flag(np.any(cut + save >= 1.0, axis=(1, 2)), "cut plus savings of 100% or more")
    flag(np.any(budget < 0, axis=(1, 2)), "a negative budget")
    required = budget * save
    available = np.maximum(budget * (1.0 - cut) - required, 0.0)
    fenced = available * lay.fence_total[None, :, None]
    lo, hi = f["min_share"], f["max_share"]
    flag(np.any((lo < 0) | (hi > 1) | (lo > hi), axis=1),
         "a pool share outside 0..1, or a minimum above the maximum")
    pooled_min = np.zeros((lo.shape[0], len(lay.fence_total)))
    np.add.at(pooled_min.T, lay.contrib_partner, lo.T)  # by partner, on the transposed view
    flag(np.any(pooled_min + lay.fence_total[None, :] > 1 + 1e-12, axis=1),
         "ring-fenced plus minimum pool shares above 100%")
    contributed = available[:, lay.contrib_partner, :]  # (n, C, Y)
    return {
        "baseline": budget, "cut": budget * cut, "required": required, "available": available,
        "fenced": fenced, "general": available - fenced,
        "contrib_lo": lo[:, :, None] * contributed, "contrib_hi": hi[:, :, None] * contributed,
    }


def _need(f: dict[str, Floats], lay: Layout, flag: _Flags) -> dict[str, Floats]:
    growth = f["need_growth"][:, lay.off_intervention]
    flag(np.any(growth <= -1, axis=1), "need growth of -100% or less")
    flag(np.any(f["need"] < 0, axis=1), "a negative need")
    n = growth.shape[0]
    same = _same_rows(f["need"]) and _same_rows(growth)
    # the same need in every scenario (a batch that moves only money): summed once
    need = grown(f["need"][:1], growth[:1], lay.years) if same else \
        grown(f["need"], growth, lay.years)
    need_sum = np.zeros((need.shape[0], lay.n_interventions, len(lay.years)))
    np.add.at(need_sum.transpose(1, 0, 2), lay.off_intervention, need.transpose(1, 0, 2))
    if same:
        need, need_sum = np.repeat(need, n, axis=0), np.repeat(need_sum, n, axis=0)
    return {"need": need, "need_sum": need_sum}


def _cost(f: dict[str, Floats], lay: Layout, flag: _Flags) -> dict[str, Floats]:
    unit, growth = f["unit_cost"], f["cost_growth"]
    flag(np.any(unit <= 0, axis=1), "a unit cost of zero or less")
    flag(np.any(growth <= -1, axis=1), "cost growth of -100% or less")
    return {"unit_cost": grown(unit, growth, lay.years)}


def _staff(f: dict[str, Floats], lay: Layout, flag: _Flags) -> dict[str, Floats]:
    flag(np.any(f["fte"] < 0, axis=1) | np.any(f["recruit_limit"] < 0, axis=1),
         "negative staff or recruitment")
    return {"fte": _gather(f["fte"], lay.staff_at),
            "recruit": _gather(f["recruit_limit"], lay.staff_at)}


def _sites(f: dict[str, Floats], lay: Layout) -> dict[str, Floats]:
    """Site ``open`` bounds per year: 0..1 if available, fixed at 1 if it may not close."""
    available = f["available"] > 0.5  # (n, sites)
    fixed_open = available & ~lay.site_can_close[None, :]
    years = len(lay.years)
    return {"open_lb": np.repeat(fixed_open[:, :, None].astype(np.float64), years, axis=2),
            "open_ub": np.repeat(available[:, :, None].astype(np.float64), years, axis=2)}


def derive_block(f: dict[str, Floats], lay: Layout, *, need_share: bool = False,
                 known: dict[str, Floats] | None = None) -> Derived:
    """:func:`derive`, then the first year held at ``known`` (the instance's own derived
    numbers, :func:`hold_first_year`) if given, then the need shares if asked for."""
    derived = derive(f, lay)
    if known is not None:
        hold_first_year(derived.values, known, lay)
    if need_share:
        add_need_share(derived.values, lay)
    return derived


def hold_first_year(values: dict[str, Floats], base: dict[str, Floats], lay: Layout) -> None:
    """Put the instance's own first-year numbers (``base``, a block of one) back into a
    block's ``values``, in place: every per-year number's first year, and the targets of the
    first year. What a plan commits this year is decided knowing this year's budgets, need,
    staff and sites; a scenario is what the years after may bring (``hwbopt plan``, and
    ``hwbopt stress --hold-first-year``)."""
    for name, block in values.items():
        if name == "target":
            first = lay.target_t == 0
            block[:, first] = base[name][:, first]
        elif name != "need_share":  # recomputed from need (add_need_share)
            block[..., 0] = base[name][..., 0]


def add_need_share(values: dict[str, Floats], lay: Layout) -> None:
    """need_share[o, y] = need[o, y] / need of its intervention over every locality (the
    equity floor's coefficient); apart from :func:`derive` because few models need it."""
    need, need_sum = values["need"], values["need_sum"]
    total = need_sum[:, lay.off_intervention, :]
    values["need_share"] = np.divide(need, total, out=np.zeros_like(need), where=total > 0)


# ---------------------------------------------------------------------------------------------
# one partner at a time, for validation and the generator
# ---------------------------------------------------------------------------------------------


def _partner_shares(partner: Partner, years: tuple[int, ...]) -> tuple[Floats, Floats]:
    t = np.arange(len(years), dtype=np.float64)
    by_year = np.array([[(partner.cut_by_year or {}).get(y, 0.0) for y in years]])
    cut = cut_shares(np.array([[partner.cut.total if partner.cut else 0.0]]),
                     np.array([[partner.cut.over_years if partner.cut else 1.0]]),
                     by_year[None], np.array([partner.cut is not None]),
                     np.array([partner.cut_by_year is not None]), t)
    return cut[0, 0], savings_shares(np.array([[partner.savings_rate]]), t)[0, 0]


def cut_share(partner: Partner, years: tuple[int, ...]) -> dict[int, float]:
    """One partner's cumulative cut per year, as a share of the baseline (:func:`cut_shares`)."""
    return dict(zip(years, _partner_shares(partner, years)[0].tolist(), strict=True))


def savings_share(partner: Partner, years: tuple[int, ...]) -> dict[int, float]:
    """One partner's cumulative required savings per year (:func:`savings_shares`)."""
    return dict(zip(years, _partner_shares(partner, years)[1].tolist(), strict=True))
