"""The model's view of an instance: index sets and numbers, derived once.

Everything here is plain Python data (tuples and dicts keyed by ids and years) so the Pyomo
blocks stay short and the same numbers feed results and reports. Names follow ``models/``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from hwbopt.money import partner_money
from hwbopt.schema import Instance

ALL = "all"  # the one locality of an instance that declares none


@dataclass(frozen=True)
class Segment:
    """One linear piece of a response curve: ``width`` of need at ``effect`` per unit."""

    index: int
    width: float
    effect: float


@dataclass
class ModelData:
    instance: Instance
    objective: str
    YEARS: tuple[int, ...]
    PARTNERS: tuple[str, ...]
    POOLS: tuple[str, ...]
    PRIORITIES: tuple[str, ...]
    INTERVENTIONS: tuple[str, ...]
    LOCALITIES: tuple[str, ...]
    OFFERED: tuple[tuple[str, str], ...]  # (intervention, locality) with a row in activity
    RETAINED: tuple[tuple[str, str], ...]  # (partner, intervention) in the partner's remit
    FENCED: tuple[tuple[str, str, str], ...]  # (partner, line, intervention)
    LINES: tuple[tuple[str, str], ...]  # (partner, line)
    POOLED: tuple[tuple[str, str], ...]  # (pool, intervention)
    CONTRIBUTORS: tuple[tuple[str, str], ...]  # (partner, pool)
    SAVERS: tuple[str, ...]  # partners with a savings requirement
    LINEAR: tuple[tuple[str, str], ...]  # (intervention, priority) with a one-piece response
    CURVED: tuple[tuple[str, str], ...]  # (intervention, priority) with several pieces
    TARGETS: tuple[tuple[str, int], ...]  # (priority, year) with a target
    money: dict[tuple[str, int], dict[str, float]]
    fence_share: dict[tuple[str, str], float]
    share_bounds: dict[tuple[str, str], tuple[float, float]]
    unit_cost: dict[tuple[str, int], float]
    need: dict[tuple[str, str, int], float]
    current: dict[tuple[str, str], float]
    segments: dict[tuple[str, str], tuple[Segment, ...]]
    avoided: dict[tuple[str, str], float]  # (intervention, partner) -> saving per unit
    target: dict[tuple[str, int], float]
    hard: dict[str, bool]
    weight: dict[str, float]
    penalty: dict[str, float]
    baseline: dict[str, float]
    discount: dict[int, float]
    equity_floor: float | None
    growth: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    reduction: dict[str, float | None] = field(default_factory=dict)

    def localities_of(self, intervention: str) -> tuple[str, ...]:
        return self._by_intervention.get(intervention, ())

    def __post_init__(self) -> None:
        by: dict[str, list[str]] = defaultdict(list)
        for i, loc in self.OFFERED:
            by[i].append(loc)
        self._by_intervention = {i: tuple(v) for i, v in by.items()}

    def soft(self, k: str) -> bool:
        """Soft targets exist only under the outcome objective; ``cost`` makes every target hard."""
        return self.objective == "outcome" and not self.hard[k]


def model_data(inst: Instance, objective: str | None = None) -> ModelData:
    years = inst.years
    first = years[0]
    objective = objective or inst.settings.objective

    interventions = tuple(i.id for i in inst.interventions)
    localities = tuple(loc.id for loc in inst.localities) or (ALL,)
    offered = tuple((a.intervention, a.locality or ALL) for a in inst.activity)

    retained = tuple((p.id, i) for p in inst.partners for i in dict.fromkeys(p.remit))
    lines = tuple((p.id, r.id) for p in inst.partners for r in p.ring_fenced)
    fenced = tuple(
        (p.id, r.id, i) for p in inst.partners for r in p.ring_fenced
        for i in dict.fromkeys(r.interventions)
    )
    pooled = tuple((g.id, i) for g in inst.pools for i in dict.fromkeys(g.interventions))
    contributors = tuple((c.partner, g.id) for g in inst.pools for c in g.contributors)
    share_bounds = {
        (c.partner, g.id): (c.min_share, c.max_share) for g in inst.pools for c in g.contributors
    }
    fence_share = {(p.id, r.id): r.share for p in inst.partners for r in p.ring_fenced}

    unit_cost = {
        (i.id, y): i.unit_cost * (1.0 + i.cost_growth) ** (y - first)
        for i in inst.interventions for y in years
    }
    need_growth = {i.id: i.need_growth for i in inst.interventions}
    need = {
        (a.intervention, a.locality or ALL, y):
            a.need * (1.0 + need_growth[a.intervention]) ** (y - first)
        for a in inst.activity for y in years
    }
    current = {(a.intervention, a.locality or ALL): a.current for a in inst.activity}

    pieces: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in inst.responses:
        pieces[r.intervention, r.priority].append((r.upto_share, r.effect))
    segments: dict[tuple[str, str], tuple[Segment, ...]] = {}
    for key, segs in pieces.items():
        segs.sort()
        prev = 0.0
        out = []
        for j, (upto, effect) in enumerate(segs):
            out.append(Segment(j, upto - prev, effect))
            prev = upto
        segments[key] = tuple(out)
    linear = tuple(k for k, s in segments.items() if len(s) == 1)
    curved = tuple(k for k, s in segments.items() if len(s) > 1)

    money = partner_money(inst)
    savers = tuple(
        p.id for p in inst.partners
        if any(money[p.id, y]["savings_required"] > 0 for y in years)
    )

    return ModelData(
        instance=inst,
        objective=objective,
        YEARS=years,
        PARTNERS=tuple(p.id for p in inst.partners),
        POOLS=tuple(g.id for g in inst.pools),
        PRIORITIES=tuple(p.id for p in inst.priorities),
        INTERVENTIONS=interventions,
        LOCALITIES=localities,
        OFFERED=offered,
        RETAINED=retained,
        FENCED=fenced,
        LINES=lines,
        POOLED=pooled,
        CONTRIBUTORS=contributors,
        SAVERS=savers,
        LINEAR=linear,
        CURVED=curved,
        TARGETS=tuple((t.priority, t.year) for t in inst.targets),
        money=money,
        fence_share=fence_share,
        share_bounds=share_bounds,
        unit_cost=unit_cost,
        need=need,
        current=current,
        segments=segments,
        avoided={(a.intervention, a.partner): a.saving_per_unit for a in inst.avoided_costs},
        target={(t.priority, t.year): t.target for t in inst.targets},
        hard={p.id: p.target_type == "hard" for p in inst.priorities},
        weight={p.id: p.weight for p in inst.priorities},
        penalty={p.id: p.shortfall_penalty for p in inst.priorities},
        baseline={p.id: p.baseline for p in inst.priorities},
        discount={y: (1.0 + inst.settings.discount_rate) ** -(y - first) for y in years},
        equity_floor=inst.settings.equity_floor,
        growth={i.id: (i.max_growth, i.max_growth_of_need) for i in inst.interventions},
        reduction={i.id: i.max_reduction for i in inst.interventions},
    )
