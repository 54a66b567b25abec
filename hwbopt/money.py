"""Money each partner has each year, after cuts and required savings.

These few formulas define what "available" means everywhere in hwbopt (model, results,
validation). The independent checker in :mod:`hwbopt.check` re-derives them on its own.
"""

from __future__ import annotations

from hwbopt.schema import Instance, Partner


def cut_share(partner: Partner, years: tuple[int, ...]) -> dict[int, float]:
    """Cumulative cut in each year, as a share of the baseline.

    ``cut: {total: 0.28, over_years: 4}`` reaches 7%, 14%, 21%, 28% in the first four years of
    the horizon and stays at 28% after; ``cut_by_year`` gives the cumulative share directly.
    """
    if partner.cut_by_year is not None:
        return {y: partner.cut_by_year.get(y, 0.0) for y in years}
    if partner.cut is None:
        return dict.fromkeys(years, 0.0)
    spec = partner.cut
    return {
        y: spec.total * min(k + 1, spec.over_years) / spec.over_years for k, y in enumerate(years)
    }


def savings_share(partner: Partner, years: tuple[int, ...]) -> dict[int, float]:
    """Cumulative required savings (QIPP) as a share of the baseline: 1 - (1 - rate)^(k+1)."""
    rate = partner.savings_rate
    return {y: 1.0 - (1.0 - rate) ** (k + 1) for k, y in enumerate(years)}


def baselines(instance: Instance) -> dict[tuple[str, int], float]:
    return {(b.partner, b.year): b.baseline for b in instance.budgets}


def partner_money(instance: Instance) -> dict[tuple[str, int], dict[str, float]]:
    """Per (partner, year): baseline, cut, savings_required, available, fenced, general.

    ``available`` = baseline x (1 - cut) - savings_required; ``fenced`` is the part of it held in
    ring-fenced lines; ``general`` the rest, which funds the remit and pool contributions.
    """
    base = baselines(instance)
    years = instance.years
    out: dict[tuple[str, int], dict[str, float]] = {}
    for p in instance.partners:
        cuts = cut_share(p, years)
        saves = savings_share(p, years)
        fence_share = sum(r.share for r in p.ring_fenced)
        for y in years:
            b = base.get((p.id, y), 0.0)
            required = b * saves[y]
            available = max(b * (1.0 - cuts[y]) - required, 0.0)
            fenced = available * fence_share
            out[p.id, y] = {
                "baseline": b,
                "cut": b * cuts[y],
                "savings_required": required,
                "available": available,
                "fenced": fenced,
                "general": available - fenced,
            }
    return out
