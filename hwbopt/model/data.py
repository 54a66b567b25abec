"""The model's view of an instance: index sets and numbers, derived once.

Everything here is plain Python data (tuples and dicts keyed by ids and years) so the Pyomo
blocks stay short and the same numbers feed results and reports. Names follow ``models/``.
Money, need and unit costs come from :mod:`hwbopt.derived`, evaluated on the instance itself,
the same code the stress engine evaluates on blocks of scenarios; staff, site and target
figures enter as the instance gives them (derived only lays them on the engine's grids).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from hwbopt.derived import derive, fields, layout
from hwbopt.schema import Instance

ALL = "all"  # the one locality of an instance that declares none


@dataclass(frozen=True)
class Segment:
    """One linear piece of a response curve: ``width`` of need at ``effect`` per unit."""

    index: int
    width: float
    effect: float


@dataclass(frozen=True)
class StaffLine:
    """One employer's staff in one role and year (``staff.csv``)."""

    fte: float
    cost: float
    recruit_limit: float
    recruit_cost: float
    max_release: float
    release_cost: float
    integrated: bool


@dataclass(frozen=True)
class Site:
    owner: str
    locality: str
    running_cost: float
    closure_cost: float
    receipt: float
    shareable: bool
    can_close: bool
    available: bool = True


@dataclass
class ModelData:
    instance: Instance
    objective: str
    YEARS: tuple[int, ...]
    PARTNERS: tuple[str, ...]
    POOLS: tuple[str, ...]
    PRIORITIES: tuple[str, ...]
    INTERVENTIONS: tuple[str, ...]
    OFFERED: tuple[tuple[str, str], ...]  # (intervention, locality) with a row in activity
    RETAINED: tuple[tuple[str, str], ...]  # (partner, intervention) in the partner's remit
    FENCED: tuple[tuple[str, str, str], ...]  # (partner, line, intervention)
    LINES: tuple[tuple[str, str], ...]  # (partner, line)
    POOLED: tuple[tuple[str, str], ...]  # (pool, intervention)
    CONTRIBUTORS: tuple[tuple[str, str], ...]  # (partner, pool)
    SAVERS: tuple[str, ...]  # partners with a savings requirement
    CURVED: tuple[tuple[str, str], ...]  # (intervention, priority) with several pieces
    TARGETS: tuple[tuple[str, int], ...]  # (priority, year) with a target
    # per (partner, year): baseline, cut, savings_required, available, fenced, general
    money: dict[tuple[str, int], dict[str, float]]
    fence_share: dict[tuple[str, str], float]
    share_bounds: dict[tuple[str, str], tuple[float, float]]
    # (partner, pool, year) -> money bounds on the contribution: each share x available money
    contribution_bounds: dict[tuple[str, str, int], tuple[float, float]]
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
    # staff (models/staff.md)
    ROLES: tuple[str, ...] = ()
    STAFF: tuple[tuple[str, str], ...] = ()  # (employer, role)
    STAFFED: tuple[tuple[str, str], ...] = ()  # (intervention, role) needing staff
    DEPLOY: tuple[tuple[str, str, str, int], ...] = ()  # (employer, role, intervention, year)
    staff: dict[tuple[str, str, int], StaffLine] = field(default_factory=dict)
    fte_per_unit: dict[tuple[str, str], float] = field(default_factory=dict)
    whole_posts: bool = False
    # estate (models/estate.md)
    SPACE_TYPES: tuple[str, ...] = ()
    SITES: tuple[str, ...] = ()
    SITE_SPACE: tuple[tuple[str, str], ...] = ()  # (site, space type) with capacity
    SPACE_NEED: tuple[tuple[str, str], ...] = ()  # (intervention, space type) needed
    USE: tuple[tuple[str, str, str], ...] = ()  # (site, intervention, space type) allowed
    site: dict[str, Site] = field(default_factory=dict)
    capacity: dict[tuple[str, str], float] = field(default_factory=dict)
    space_per_unit: dict[tuple[str, str], float] = field(default_factory=dict)
    site_charging: str = "by_use"
    # go/no-go (models/choices.md)
    CHOICES: tuple[str, ...] = ()  # interventions with a run/no-run decision
    EXCLUSIVE: tuple[tuple[str, tuple[str, ...]], ...] = ()
    DEPENDS: tuple[tuple[str, str], ...] = ()  # (intervention, required intervention)
    min_scale: dict[str, float] = field(default_factory=dict)
    setup_cost: dict[str, float] = field(default_factory=dict)
    running_before: dict[str, bool] = field(default_factory=dict)
    lead: dict[str, str | None] = field(default_factory=dict)
    # non-concave responses (models/outcomes.md)
    NONCONCAVE: tuple[tuple[str, str], ...] = ()
    mip_gap: float = 1e-4

    def localities_of(self, intervention: str) -> tuple[str, ...]:
        return self._by_intervention.get(intervention, ())

    def __post_init__(self) -> None:
        by: dict[str, list[str]] = defaultdict(list)
        for i, loc in self.OFFERED:
            by[i].append(loc)
        self._by_intervention = {i: tuple(v) for i, v in by.items()}

    def required_activity(self, j: str, y: int) -> float:
        """Least activity of ``j`` in year ``y`` that lets a service depending on it run,
        when ``j`` has no minimum scale (models/choices.md, ``dependency_activity``): one unit,
        or its whole need if less; a service with no need that year carries no dependant."""
        need = sum(self.need[j, loc, y] for loc in self.localities_of(j))
        return min(1.0, need) if need > 0 else 1.0

    def soft(self, k: str) -> bool:
        """Soft targets exist only under the outcome objective; ``cost`` makes every target hard."""
        return self.objective == "outcome" and not self.hard[k]


def model_data(inst: Instance, objective: str | None = None) -> ModelData:
    years = inst.years
    first = years[0]
    objective = objective or inst.settings.objective

    interventions = tuple(i.id for i in inst.interventions)
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

    derived = {k: v[0].tolist() for k, v in derive(fields(inst), layout(inst)).values.items()}
    unit_cost = {(i, y): c for i, row in zip(interventions, derived["unit_cost"], strict=True)
                 for y, c in zip(years, row, strict=True)}
    need = {(i, loc, y): n for (i, loc), row in zip(offered, derived["need"], strict=True)
            for y, n in zip(years, row, strict=True)}
    money = _money(inst, derived)
    contribution_bounds = {
        (p, g, y): (lo, hi)
        for (p, g), lows, highs in zip(contributors, derived["contrib_lo"], derived["contrib_hi"],
                                       strict=True)
        for y, lo, hi in zip(years, lows, highs, strict=True)
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
    curved = tuple(k for k, s in segments.items() if len(s) > 1)

    savers = tuple(
        p.id for p in inst.partners
        if any(money[p.id, y]["savings_required"] > 0 for y in years)
    )

    staff = {
        (r.employer, r.role, r.year): StaffLine(
            r.fte, r.cost_per_fte, r.recruit_limit, r.recruit_cost, r.max_release,
            r.release_cost, r.integrated)
        for r in inst.staff
    }
    staff_pairs = tuple(dict.fromkeys((r.employer, r.role) for r in inst.staff))
    fte_per_unit = {(r.intervention, r.role): r.fte_per_unit for r in inst.intervention_staff}
    lead = {i.id: i.lead for i in inst.interventions}
    deploy = tuple(
        (e, role, i, y)
        for (i, role) in fte_per_unit
        for (e, r) in staff_pairs if r == role
        for y in years
        if e == lead[i] or staff[e, role, y].integrated
    )

    sites = {
        s.id: Site(s.owner, s.locality or ALL, s.running_cost, s.closure_cost,
                   s.disposal_receipt, s.shareable, s.can_close, s.available)
        for s in inst.sites
    }
    capacity = {(c.site, c.space_type): c.capacity for c in inst.site_capacity}
    space_per_unit = {(r.intervention, r.space_type): r.per_unit
                      for r in inst.intervention_space}
    offered_set = set(offered)
    use = tuple(
        (sid, i, t)
        for sid, site in sites.items()
        for (i, t) in space_per_unit
        if (sid, t) in capacity and (i, site.locality) in offered_set
        and (site.owner == lead[i] or site.shareable)
    )

    in_group = {i for g in inst.exclusive for i in g.interventions}
    in_dependency = {x for d in inst.dependencies for x in (d.intervention, d.requires)}
    choices = tuple(
        i.id for i in inst.interventions
        if i.min_scale > 0 or i.setup_cost > 0 or i.id in in_group or i.id in in_dependency
    )
    current_total: dict[str, float] = defaultdict(float)
    for a in inst.activity:
        current_total[a.intervention] += a.current
    nonconcave = tuple(
        key for key in curved
        if any(b.effect > a.effect + 1e-12 for a, b in zip(segments[key], segments[key][1:],
                                                            strict=False))
    )

    return ModelData(
        instance=inst,
        objective=objective,
        YEARS=years,
        PARTNERS=tuple(p.id for p in inst.partners),
        POOLS=tuple(g.id for g in inst.pools),
        PRIORITIES=tuple(p.id for p in inst.priorities),
        INTERVENTIONS=interventions,
        OFFERED=offered,
        RETAINED=retained,
        FENCED=fenced,
        LINES=lines,
        POOLED=pooled,
        CONTRIBUTORS=contributors,
        SAVERS=savers,
        CURVED=curved,
        TARGETS=tuple((t.priority, t.year) for t in inst.targets),
        money=money,
        fence_share=fence_share,
        share_bounds=share_bounds,
        contribution_bounds=contribution_bounds,
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
        ROLES=tuple(r.id for r in inst.roles),
        STAFF=staff_pairs,
        STAFFED=tuple(fte_per_unit),
        DEPLOY=deploy,
        staff=staff,
        fte_per_unit=fte_per_unit,
        whole_posts=inst.settings.whole_posts,
        SPACE_TYPES=tuple(t.id for t in inst.space_types),
        SITES=tuple(sites),
        SITE_SPACE=tuple(capacity),
        SPACE_NEED=tuple(space_per_unit),
        USE=use,
        site=sites,
        capacity=capacity,
        space_per_unit=space_per_unit,
        site_charging=inst.settings.site_charging,
        CHOICES=choices,
        EXCLUSIVE=tuple((g.id, g.interventions) for g in inst.exclusive),
        DEPENDS=tuple((d.intervention, d.requires) for d in inst.dependencies),
        min_scale={i.id: i.min_scale for i in inst.interventions},
        setup_cost={i.id: i.setup_cost for i in inst.interventions},
        running_before={i: current_total[i] > 0 for i in choices},
        lead=lead,
        NONCONCAVE=nonconcave,
        mip_gap=inst.settings.mip_gap,
    )


def _money(inst: Instance, derived: dict[str, list[list[float]]]
           ) -> dict[tuple[str, int], dict[str, float]]:
    """Per (partner, year) the money the model is written in (see :mod:`hwbopt.derived`)."""
    keys = {"baseline": "baseline", "cut": "cut", "savings_required": "required",
            "available": "available", "fenced": "fenced", "general": "general"}
    return {
        (p.id, y): {name: derived[key][k][t] for name, key in keys.items()}
        for k, p in enumerate(inst.partners) for t, y in enumerate(inst.years)
    }
