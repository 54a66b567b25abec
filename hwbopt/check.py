"""The independent certificate: does a reported plan obey the instance?

This module reads only the instance data and the result tables. It shares no code with the
model (``hwbopt.model``), the derived numbers (``hwbopt.derived``) or the result builder: cut
trajectories, available money, need, unit costs and response curves are all re-derived here
from the raw instance fields, so a mistake in the model cannot hide itself.

``check_solution`` returns a list of violations in words; an empty list means every budget,
ring-fence, pool rule, remit, need cap, change limit, equity floor and target holds, and the
reported objective equals the one recomputed from the plan; and the staff, estate and go/no-go
rules hold (staff in post, co-location, sites serving their own locality, minimum scales,
alternatives, and dependencies on the required service's activity, not only its run flag).

Give it the solver's own values (``hwbopt.results.plan_tables``), not the tables as displayed:
display cleaning zeroes small values and drops empty rows, which could hide a negative amount.
Solver noise passes within the relative tolerance ``REL``.

A plan's scenario keeps the instance's own first year (``models/plan.md``): its figures reach
only the years after. ``check_solution(scenario, ..., first_year=instance)`` reads every
figure of the horizon's first year (money, need, unit costs, staff, site availability,
targets) from ``instance`` and those of later years from ``scenario``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import pandas as pd

from hwbopt.schema import (
    CapChange,
    ForbidChange,
    Instance,
    InterventionRow,
    KeepOpen,
    MinPriorityShare,
    NoClosures,
    Partner,
    Policy,
    Protect,
)

REL = 1e-6

Tables = dict[str, pd.DataFrame]
# amounts keyed by (partner or intervention, year); a missing key reads as 0
ByYear = defaultdict[tuple[str, int], float]
# net estate cost per payer and year: a service with no lead pays its share of a site to None,
# which no budget reads but the cost objective sums (as in the model)
ByPayer = defaultdict[tuple[str | None, int], float]


def _tol(*magnitudes: float) -> float:
    return REL * max([1.0, *[abs(m) for m in magnitudes]])


def _structure(inst: Instance) -> dict[str, set[Hashable]]:
    """What two instances must share for one to hold the other's first year."""
    return {
        "years": set(inst.years),
        "partners": {p.id for p in inst.partners},
        "ring-fenced lines": {(p.id, r.id) for p in inst.partners for r in p.ring_fenced},
        "budgets": {(b.partner, b.year) for b in inst.budgets},
        "pool contributors": {(g.id, c.partner) for g in inst.pools for c in g.contributors},
        "interventions": {i.id for i in inst.interventions},
        "activity": {(a.intervention, a.locality or "all") for a in inst.activity},
        "staff": {(r.employer, r.role, r.year) for r in inst.staff},
        "sites": {s.id for s in inst.sites},
        "targets": {(t.priority, t.year) for t in inst.targets},
    }


class _Years:
    """Which instance's figures hold in a year: ``first_year``'s in the horizon's first year,
    ``inst``'s in the years after (both ``inst`` when ``first_year`` is None).

    ``at(y)`` is that instance; ``intervention`` and ``partner`` look a row up in it, and
    ``need`` is each offered (intervention, locality)'s need in each year, grown from its
    year's figures. Rules linking years read each year's own figures through these.
    """

    def __init__(self, inst: Instance, first_year: Instance | None) -> None:
        if first_year is not None and first_year is not inst:
            mine, theirs = _structure(inst), _structure(first_year)
            differ = [name for name in mine if mine[name] != theirs[name]]
            if differ:
                raise ValueError(f"first_year must have the structure of the instance checked "
                                 f"(the same board, another year's figures): its "
                                 f"{', '.join(differ)} differ")
        self.years = list(inst.years)
        self.first = self.years[0]
        # indexed by "is a later year": 0 the first year's instance, 1 the later years'
        self._inst = (inst if first_year is None else first_year, inst)
        self._interventions = tuple({i.id: i for i in x.interventions} for x in self._inst)
        self._partners = tuple({p.id: p for p in x.partners} for x in self._inst)
        self.need: dict[tuple[str, str, int], float] = {}
        for y in self.years:
            for a in self(y).activity:
                growth = self.intervention(a.intervention, y).need_growth
                self.need[a.intervention, a.locality or "all", y] = (
                    a.need * (1.0 + growth) ** (y - self.first))

    def _later(self, year: int) -> int:
        return int(year != self.first)

    def __call__(self, year: int) -> Instance:
        return self._inst[self._later(year)]

    def intervention(self, i: str, year: int) -> InterventionRow:
        return self._interventions[self._later(year)][i]

    def partner(self, p: str, year: int) -> Partner:
        return self._partners[self._later(year)][p]


def _available(at: _Years) -> dict[tuple[str, int], tuple[float, float, float]]:
    """(available, required savings, fenced) per partner and year, from the raw fields of the
    year's instance."""
    out = {}
    for n, y in enumerate(at.years, start=1):
        base = {b.partner: b.baseline for b in at(y).budgets if b.year == y}
        for p in at(y).partners:
            if p.cut_by_year is not None:
                cut = p.cut_by_year[y]
            elif p.cut is not None:
                cut = p.cut.total * min(n, p.cut.over_years) / p.cut.over_years
            else:
                cut = 0.0
            required = base[p.id] * (1.0 - (1.0 - p.savings_rate) ** n)
            available = base[p.id] * (1.0 - cut) - required
            fenced = available * sum(line.share for line in p.ring_fenced)
            out[p.id, y] = (available, required, fenced)
    return out


def _response(points: list[tuple[float, float]], need: float, act: float) -> float:
    """Concave curve given as (upto_share, effect) pieces, evaluated at ``act`` units."""
    total, start = 0.0, 0.0
    for upto, effect in sorted(points):
        end = upto * need
        if act <= start:
            break
        total += effect * (min(act, end) - start)
        start = end
    return total


def _table(tables: Tables, name: str) -> pd.DataFrame:
    return tables.get(name, pd.DataFrame())


def _staff(inst: Instance, at: _Years, tables: Tables, units: ByYear,
           bad: list[str]) -> tuple[ByYear, ByYear]:
    """Staff rules; returns (staff cost per (intervention, year), net staff cost per partner).
    Each year's staff line (fte, recruit limit, …) is the year's instance's."""
    staff_cost: ByYear = defaultdict(float)
    net: ByYear = defaultdict(float)
    if not inst.staff:
        return staff_cost, net
    years = at.years
    line = {(r.employer, r.role, r.year): r for y in years for r in at(y).staff if r.year == y}
    lead = {i.id: i.lead for i in inst.interventions}
    per_unit = {(r.intervention, r.role): r.fte_per_unit for r in inst.intervention_staff}
    rows = {(r.employer, r.role, int(r.year)): r
            for r in _table(tables, "staff").itertuples(index=False)}
    whole = inst.settings.whole_posts
    for (e, role) in dict.fromkeys((r.employer, r.role) for r in inst.staff):
        cumulative, before = 0.0, None
        for y in years:
            s = line[e, role, y]
            r = rows.get((e, role, y))
            if r is None:
                bad.append(f"staff of {e} in {role} {y} missing from the staff table")
                continue
            rec, rel, post = float(r.recruited), float(r.released), float(r.in_post)
            if post < -_tol(post):
                bad.append(f"{e} has {post:g} {role} in post in {y}, below none")
            for what, v in (("recruited", rec), ("released", rel)):
                if v < -_tol(v):
                    bad.append(f"{e} {role} {what} {v:g} in {y}")
                if whole and abs(v - round(v)) > 1e-6:
                    bad.append(f"{e} {role} {what} {v:g} in {y}: whole posts expected")
            if rec > s.recruit_limit + _tol(s.recruit_limit):
                bad.append(f"{e} recruits {rec:g} {role} in {y}, above the limit "
                           f"{s.recruit_limit:g}")
            base = s.fte if before is None else before
            if rel > s.max_release * base + _tol(base):
                bad.append(f"{e} releases {rel:g} {role} in {y}, above {s.max_release:g} of "
                           f"{base:g}")
            cumulative += rec - rel
            if abs(post - (s.fte + cumulative)) > _tol(post):
                bad.append(f"{e} has {post:g} {role} in post in {y}, but {s.fte:g} available "
                           f"plus changes makes {s.fte + cumulative:g}")
            net[e, y] += s.cost_per_fte * post + s.recruit_cost * rec + s.release_cost * rel
            before = post
    deployed: defaultdict[tuple[str, str, int], float] = defaultdict(float)
    served: defaultdict[tuple[str, str, int], float] = defaultdict(float)
    for r in _table(tables, "deployment").itertuples(index=False):
        e, role, i, y, v = r.employer, r.role, r.intervention, int(r.year), float(r.fte)
        deployer = line.get((e, role, y))
        if deployer is None or (i, role) not in per_unit:
            bad.append(f"{e} deploys {role} to {i} in {y}, which has no such staff or need")
            continue
        if e != lead[i] and not deployer.integrated:
            bad.append(f"{e}'s {role} serve {i} in {y}, led by {lead[i]}, without integrated "
                       "working")
        if v < -_tol(v):
            bad.append(f"negative deployment of {e} {role} to {i} in {y}")
        deployed[e, role, y] += v
        served[i, role, y] += v
        staff_cost[i, y] += deployer.cost_per_fte * v
        net[e, y] -= deployer.cost_per_fte * v  # recharged to whoever pays for the service
    for (e, role, y), v in deployed.items():
        r = rows.get((e, role, y))
        post = float(r.in_post) if r is not None else 0.0
        if v > post + _tol(post):
            bad.append(f"{e} deploys {v:g} {role} in {y}, with {post:g} in post")
    for (i, role), k in per_unit.items():
        for y in years:
            need = k * units[i, y]
            if abs(served[i, role, y] - need) > _tol(need):
                bad.append(f"{i} needs {need:g} FTE of {role} in {y}, gets "
                           f"{served[i, role, y]:g}")
    return staff_cost, net


def _estate(inst: Instance, at: _Years, tables: Tables,
            act: dict[tuple[str, str, int], float], bad: list[str]) -> ByPayer:
    """Site and space rules; returns the net estate cost per partner and year. Whether a site
    is available in a year is the year's instance's figure."""
    net: ByPayer = defaultdict(float)
    if not inst.sites:
        return net
    years = at.years
    site = {s.id: s for s in inst.sites}
    available = {(s.id, y): s.available for y in years for s in at(y).sites}
    cap = {(c.site, c.space_type): c.capacity for c in inst.site_capacity}
    types: defaultdict[str, int] = defaultdict(int)
    for s_id, _t in cap:
        types[s_id] += 1
    lead = {i.id: i.lead for i in inst.interventions}
    per_unit = {(r.intervention, r.space_type): r.per_unit for r in inst.intervention_space}
    # a site serves its own locality: it hosts only services offered there (an instance
    # without localities has one, "all", for every site and every service)
    offered = {(a.intervention, a.locality or "all") for a in inst.activity}
    is_open = {(r.site, int(r.year)): bool(r.open)
               for r in _table(tables, "sites").itertuples(index=False)}
    for s in inst.sites:
        before = True
        for y in years:
            now = is_open.get((s.id, y))
            if now is None:
                bad.append(f"site {s.id} in {y} missing from the sites table")
                continue
            if now and not before:
                bad.append(f"site {s.id} reopens in {y} after closing")
            if not now and not s.can_close and available[s.id, y]:
                bad.append(f"site {s.id} closes in {y} but may not close")
            if now and not available[s.id, y]:
                bad.append(f"site {s.id} is open in {y} but not available")
            closing = before and not now
            net[s.owner, y] += (s.running_cost if now else 0.0) + (
                (s.closure_cost - s.disposal_receipt) if closing else 0.0)
            before = now
    used: defaultdict[tuple[str, str, int], float] = defaultdict(float)
    hosted: defaultdict[tuple[str, str, str, int], float] = defaultdict(float)
    for r in _table(tables, "site_use").itertuples(index=False):
        s_id, i, t, y, v = r.site, r.intervention, r.space_type, int(r.year), float(r.used)
        host = site.get(s_id)
        if host is None or (s_id, t) not in cap or (i, t) not in per_unit:
            bad.append(f"{i} uses {t} at {s_id} in {y}, which has no such space or need")
            continue
        loc = host.locality or "all"
        if (i, loc) not in offered:
            bad.append(f"{i} uses {s_id} in {y}, in {loc}, where it is not offered")
        if host.owner != lead[i] and not host.shareable:
            bad.append(f"{i} (led by {lead[i]}) uses {s_id}, owned by {host.owner}, which does "
                       "not allow co-location")
        if v < -_tol(v):
            bad.append(f"negative use of {t} at {s_id} by {i} in {y}: {v:g}")
        if v > _tol(v) and not is_open.get((s_id, y), True):
            bad.append(f"{i} uses {s_id} in {y}, after it closed")
        used[s_id, t, y] += v
        hosted[i, t, loc, y] += v
        if inst.settings.site_charging == "by_use" and lead[i] != host.owner:
            charge = host.running_cost * v / (cap[s_id, t] * types[s_id])
            net[lead[i], y] += charge
            net[host.owner, y] -= charge
    for (s_id, t, y), v in used.items():
        if v > cap[s_id, t] + _tol(cap[s_id, t]):
            bad.append(f"{s_id} holds {v:g} of {t} in {y}, above its capacity "
                       f"{cap[s_id, t]:g}")
    for (i, loc, y), a in act.items():
        for (ii, t), k in per_unit.items():
            if ii == i and abs(hosted[i, t, loc, y] - k * a) > _tol(k * a):
                bad.append(f"{i} in {loc} {y} needs {k * a:g} of {t}, has "
                           f"{hosted[i, t, loc, y]:g} in open sites there")
    return net


def _choices(inst: Instance, tables: Tables, units: ByYear, years: list[int],
             bad: list[str]) -> ByYear:
    """Go/no-go rules; returns the set-up cost paid per (intervention, year).

    The reported run decisions are checked against activity (activity only when running, and
    then at least the minimum scale); exclusivity, dependencies and set-up costs follow them.
    """
    setup: ByYear = defaultdict(float)
    grouped = {i for g in inst.exclusive for i in g.interventions}
    linked = {x for dep in inst.dependencies for x in (dep.intervention, dep.requires)}
    current: defaultdict[str, float] = defaultdict(float)
    for a in inst.activity:
        current[a.intervention] += a.current
    reported = {(r.intervention, int(r.year)): bool(r.runs)
                for r in _table(tables, "choices").itertuples(index=False)}
    runs = {}
    for i in inst.interventions:
        if not (i.min_scale > 0 or i.setup_cost > 0 or i.id in grouped or i.id in linked):
            continue
        before = current[i.id] > 0
        for y in years:
            if (i.id, y) not in reported:
                bad.append(f"go/no-go decision of {i.id} in {y} missing")
                continue
            on, v = reported[i.id, y], units[i.id, y]
            runs[i.id, y] = on
            if not on and v > _tol(0.0):
                bad.append(f"{i.id} has activity {v:g} in {y} but is reported as not running")
            if on and v < i.min_scale - _tol(i.min_scale):
                bad.append(f"{i.id} runs at {v:g} in {y}, below its minimum scale "
                           f"{i.min_scale:g}")
            if on and not before:
                setup[i.id, y] += i.setup_cost
            before = on
    for g in inst.exclusive:
        for y in years:
            running = [i for i in g.interventions if runs.get((i, y), False)]
            if len(running) > 1:
                bad.append(f"exclusive alternatives {g.id} both run in {y}: "
                           f"{', '.join(running)}")
    for dep in inst.dependencies:
        for y in years:
            if runs.get((dep.intervention, y)) and not runs.get((dep.requires, y)):
                bad.append(f"{dep.intervention} runs in {y} without {dep.requires}")
            # a required service reported as running with no activity satisfies nothing
            v, w = units[dep.intervention, y], units[dep.requires, y]
            if v > _tol(0.0) and w <= _tol(0.0):
                bad.append(f"{dep.intervention} has activity {v:g} in {y} but "
                           f"{dep.requires}, which it requires, has {w:g}")
    return setup


def _pool_payers(inst: Instance, alloc: pd.DataFrame,
                 pool_rows: dict[tuple[str, str, int], float], bad: list[str]) -> None:
    """Pooled money is attributed to whoever paid into the pool: a partner named on a pooled
    allocation row must be a contributor to that pool, and must have put money in that year."""
    members = {g.id: {c.partner for c in g.contributors} for g in inst.pools}
    for r in alloc.itertuples(index=False):
        if r.fund != "pooled" or r.source not in members:
            continue  # an unknown pool is reported with what it funds
        y, m = int(r.year), float(r.money)
        if r.partner not in members[r.source]:
            bad.append(f"pooled money of {r.source} in {y} is attributed to {r.partner}, "
                       "which is not a contributor")
        elif pool_rows.get((r.source, r.partner, y), 0.0) <= _tol(0.0) and abs(m) > _tol(m):
            bad.append(f"pooled money of {r.source} in {y} is attributed to {r.partner}, "
                       "which put nothing into it that year")


def check_solution(
    inst: Instance,
    tables: Tables,
    objective_kind: str,
    objective: float | None = None,
    *,
    first_year: Instance | None = None,
) -> list[str]:
    """Every rule of ``inst`` the plan in ``tables`` breaks, in words (see the module).

    ``first_year``: the instance whose figures hold in the horizon's first year (a plan's
    scenario keeps the instance's own first year); None: ``inst``'s. It must have the
    structure of ``inst`` (the same partners, interventions, sites, years, …), else
    ValueError.
    """
    bad: list[str] = []
    at = _Years(inst, first_year)
    years = at.years
    first = at.first
    alloc = tables["allocation"]
    activity = tables["activity"]
    budgets = tables["budgets"]
    pools = tables["pools"]
    outcomes = tables["outcomes"]

    # ---- activity: need caps and change limits --------------------------------------------
    act: dict[tuple[str, str, int], float] = {}
    for r in activity.itertuples(index=False):
        act[r.intervention, r.locality, int(r.year)] = float(r.activity)
    for a in inst.activity:
        loc = a.locality or "all"
        prev = a.current
        for y in years:
            cell = (a.intervention, loc, y)
            if cell not in act:
                bad.append(f"activity of {a.intervention} in {loc} {y} is missing")
                continue
            v = act[cell]
            intervention = at.intervention(a.intervention, y)
            need = at.need[cell]
            if v < -_tol(need) or v > need + _tol(need):
                bad.append(f"activity of {a.intervention} in {loc} {y} = {v:g} outside [0, "
                           f"need {need:g}]")
            if intervention.max_growth is not None:
                cap = ((1.0 + intervention.max_growth) * prev
                       + intervention.max_growth_of_need * need)
                if v > cap + _tol(cap):
                    bad.append(f"{a.intervention} in {loc} grows to {v:g} in {y}, above {cap:g}")
            if intervention.max_reduction is not None:
                floor = (1.0 - intervention.max_reduction) * prev
                if v < floor - _tol(floor):
                    bad.append(f"{a.intervention} in {loc} shrinks to {v:g} in {y}, below "
                               f"{floor:g}")
            prev = v

    # ---- money: every intervention paid in full, from a fund allowed to pay for it --------
    remit = {p.id: set(p.remit) for p in inst.partners}
    lines = {(p.id, r.id): set(r.interventions) for p in inst.partners for r in p.ring_fenced}
    pool_items = {g.id: set(g.interventions) for g in inst.pools}
    paid: ByYear = defaultdict(float)
    for r in alloc.itertuples(index=False):
        if r.money < -_tol(r.money):
            bad.append(f"negative money {r.money:g} in allocation")
        if r.fund == "retained":
            if r.source != r.partner or r.intervention not in remit.get(r.partner, ()):
                bad.append(f"{r.partner} spends retained money on {r.intervention}, "
                           "outside its remit")
        elif r.fund == "ring_fenced":
            if r.intervention not in lines.get((r.partner, r.source), ()):
                bad.append(f"ring-fenced line {r.partner}/{r.source} funds {r.intervention}, "
                           "which it may not")
        elif r.fund == "pooled":
            if r.intervention not in pool_items.get(r.source, ()):
                bad.append(f"pool {r.source} funds {r.intervention}, which it may not")
        else:
            bad.append(f"unknown fund kind {r.fund!r}")
        paid[r.intervention, int(r.year)] += float(r.money)
    units: ByYear = defaultdict(float)
    for (i, _loc, y), v in act.items():
        units[i, y] += v
    staff_cost, staff_net = _staff(inst, at, tables, units, bad)
    estate_net = _estate(inst, at, tables, act, bad)
    setup = _choices(inst, tables, units, years, bad)
    cost_total: ByYear = defaultdict(float)
    for (i, _loc, y), v in act.items():
        i_y = at.intervention(i, y)
        cost_total[i, y] += v * i_y.unit_cost * (1.0 + i_y.cost_growth) ** (y - first)
    for key, v in (*staff_cost.items(), *setup.items()):
        cost_total[key] += v
    for key in set(cost_total) | set(paid):
        cost, pay = cost_total.get(key, 0.0), paid.get(key, 0.0)
        if abs(cost - pay) > _tol(cost, pay):
            bad.append(f"{key[0]} in {key[1]} costs {cost:g} but {pay:g} is paid for it")

    # ---- budgets, ring-fences, QIPP credits, pools ---------------------------------------
    money = _available(at)
    rates: defaultdict[str, dict[str, float]] = defaultdict(dict)
    for saving in inst.avoided_costs:
        rates[saving.partner][saving.intervention] = saving.saving_per_unit
    contributed: ByYear = defaultdict(float)
    pool_rows: dict[tuple[str, str, int], float] = {}
    for r in pools.itertuples(index=False):
        contributed[r.partner, int(r.year)] += float(r.contributed)
        pool_rows[r.pool, r.partner, int(r.year)] = float(r.contributed)
    bounds = {(c.partner, g.id, y): (c.min_share, c.max_share) for y in years
              for g in at(y).pools for c in g.contributors}
    contributors = [(c.partner, g.id) for g in inst.pools for c in g.contributors]
    for pid, gid in contributors:
        for y in years:
            lo, hi = bounds[pid, gid, y]
            v = pool_rows.get((gid, pid, y), 0.0)
            avail = money[pid, y][0]
            if v < lo * avail - _tol(avail) or v > hi * avail + _tol(avail):
                bad.append(f"{pid} puts {v:g} into {gid} in {y}, outside shares [{lo:g}, "
                           f"{hi:g}] of {avail:g}")
    for (gid, pid, _y), v in pool_rows.items():
        if (pid, gid) not in contributors and abs(v) > _tol(v):
            bad.append(f"{pid} contributes to {gid} but is not a contributor")
    _pool_payers(inst, alloc, pool_rows, bad)
    general_spend: ByYear = defaultdict(float)
    line_spend: defaultdict[tuple[str, str, int], float] = defaultdict(float)
    pool_spend: ByYear = defaultdict(float)
    for r in alloc.itertuples(index=False):
        y = int(r.year)
        if r.fund == "retained":
            general_spend[r.partner, y] += float(r.money)
        elif r.fund == "ring_fenced":
            line_spend[r.partner, r.source, y] += float(r.money)
        elif r.fund == "pooled":
            pool_spend[r.source, y] += float(r.money)
    credit = {(r.partner, int(r.year)): float(r.qipp_credit) for r in budgets.itertuples()}
    for p in inst.partners:
        for y in years:
            available, required, fenced = money[p.id, y]
            avoided = sum(rate * units[i, y] for i, rate in rates[p.id].items())
            cr = credit.get((p.id, y), 0.0)
            if cr < -_tol(cr) or cr > min(required, avoided) + _tol(required, avoided):
                bad.append(f"{p.id} is credited {cr:g} of savings in {y}, but required "
                           f"{required:g} and avoided {avoided:g}")
            used = (general_spend[p.id, y] + contributed[p.id, y] + staff_net[p.id, y]
                    + estate_net[p.id, y])
            cap = available - fenced + cr
            if used > cap + _tol(cap, used):
                bad.append(f"{p.id} spends {used:g} of general money in {y}, above {cap:g}")
            for line in at.partner(p.id, y).ring_fenced:
                s = line_spend[p.id, line.id, y]
                lcap = line.share * available
                if s > lcap + _tol(lcap, s):
                    bad.append(f"ring-fenced line {p.id}/{line.id} spends {s:g} in {y}, above "
                               f"{lcap:g}")
    for pool in inst.pools:
        for y in years:
            inflow = sum(pool_rows.get((pool.id, c.partner, y), 0.0) for c in pool.contributors)
            if pool_spend[pool.id, y] > inflow + _tol(inflow):
                bad.append(f"pool {pool.id} spends {pool_spend[pool.id, y]:g} in {y} but "
                           f"receives {inflow:g}")

    # ---- equity floor ---------------------------------------------------------------------
    phi = inst.settings.equity_floor
    if phi:
        localities: defaultdict[str, list[str]] = defaultdict(list)
        for a in inst.activity:
            localities[a.intervention].append(a.locality or "all")
        for i, locs in localities.items():
            if len(locs) < 2:
                continue
            for y in years:
                total_need = sum(at.need[i, loc, y] for loc in locs)
                total_act = sum(act.get((i, loc, y), 0.0) for loc in locs)
                if total_need <= 0:
                    continue
                for loc in locs:
                    n = at.need[i, loc, y]
                    if n <= 0:
                        continue
                    lhs = act.get((i, loc, y), 0.0) / n
                    rhs = phi * total_act / total_need
                    if lhs < rhs - _tol(rhs):
                        bad.append(f"{i} in {loc} {y} covers {lhs:.4g} of need, below the "
                                   f"equity floor {rhs:.4g}")

    # ---- outcomes and targets -------------------------------------------------------------
    curves: defaultdict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for r in inst.responses:
        curves[r.intervention, r.priority].append((r.upto_share, r.effect))
    offered = [(a.intervention, a.locality or "all") for a in inst.activity]
    achieved: dict[tuple[str, int], float] = {}
    for k in inst.priorities:
        for y in years:
            v = k.baseline
            for (i, kk), pts in curves.items():
                if kk != k.id:
                    continue
                for ii, loc in offered:
                    if ii == i:
                        v += _response(pts, at.need[i, loc, y], act.get((i, loc, y), 0.0))
            achieved[k.id, y] = v
    reported = {(r.priority, int(r.year)): r for r in outcomes.itertuples(index=False)}
    for key, v in achieved.items():
        r = reported.get(key)
        if r is None:
            bad.append(f"outcome of {key[0]} in {key[1]} is missing")
        elif abs(float(r.achieved) - v) > _tol(v):
            bad.append(f"outcome of {key[0]} in {key[1]} reported {r.achieved:g}, "
                       f"recomputed {v:g}")
    hard = {k.id: k.target_type == "hard" or objective_kind == "cost" for k in inst.priorities}
    goal = {(t.priority, t.year): t.target for y in years for t in at(y).targets if t.year == y}
    shortfall: dict[tuple[str, int], float] = {}
    for t in inst.targets:
        key = (t.priority, t.year)
        v, target = achieved[key], goal[key]
        short = max(target - v, 0.0)
        shortfall[key] = short
        if hard[t.priority] and short > _tol(target):
            bad.append(f"hard target of {t.priority} in {t.year} missed: {v:g} < {target:g}")

    # ---- objective ------------------------------------------------------------------------
    if objective is not None:
        r = inst.settings.discount_rate
        disc = {y: (1.0 + r) ** -(y - first) for y in years}
        if objective_kind == "cost":
            recomputed = sum(disc[y] * c for (_i, y), c in cost_total.items())
            recomputed += sum(disc[y] * c for (_p, y), c in (*staff_net.items(),
                                                              *estate_net.items()))
        else:
            weight = {k.id: k.weight for k in inst.priorities}
            penalty = {k.id: k.shortfall_penalty for k in inst.priorities}
            recomputed = sum(disc[y] * weight[k] * v for (k, y), v in achieved.items())
            recomputed -= sum(disc[y] * penalty[k] * s for (k, y), s in shortfall.items()
                              if not hard[k])
        if abs(recomputed - objective) > _tol(recomputed, objective):
            bad.append(f"objective reported {objective:.10g}, recomputed from the plan "
                       f"{recomputed:.10g}")
    return bad


def check_policies(inst: Instance, tables: Tables, policies: Sequence[Policy]) -> list[str]:
    """Policy constraints of an option (``hwbopt.schema.Policy``), from the tables alone.

    ``fix_contribution`` is a pool share rule and is checked by :func:`check_solution` on the
    option's instance; the others are checked here.
    """
    bad: list[str] = []
    first = inst.horizon.first_year
    growth = {i.id: i.need_growth for i in inst.interventions}
    current = {(a.intervention, a.locality or "all"): a.current for a in inst.activity}
    need = {(a.intervention, a.locality or "all", y): a.need * (1.0 + growth[a.intervention])
            ** (y - first) for a in inst.activity for y in inst.years}
    act = {(r.intervention, r.locality, int(r.year)): float(r.activity)
           for r in _table(tables, "activity").itertuples(index=False)}
    is_open = {(r.site, int(r.year)): bool(r.open)
               for r in _table(tables, "sites").itertuples(index=False)}
    for rule in policies:
        kind = rule.rule
        # the classes narrow the rule for its fields; each has exactly one ``rule`` value
        if isinstance(rule, Protect | ForbidChange | CapChange):
            i = rule.intervention
            for (ii, loc, y), a in act.items():
                if ii != i:
                    continue
                level = min(current[i, loc], need[i, loc, y])
                if kind in ("protect", "forbid_change") and a < level - _tol(level):
                    bad.append(f"{kind}: {i} in {loc} runs {a:g} in {y}, below today's {level:g}")
                if kind == "forbid_change" and a > level + _tol(level):
                    bad.append(f"forbid_change: {i} in {loc} runs {a:g} in {y}, above today's "
                               f"{level:g}")
                if isinstance(rule, CapChange):
                    before = current[i, loc] if y == first else act[i, loc, y - 1]
                    if abs(a - before) > rule.max_change * before + _tol(before):
                        bad.append(f"cap_change: {i} in {loc} moves from {before:g} to {a:g} "
                                   f"in {y}, more than {rule.max_change:.0%}")
        elif isinstance(rule, KeepOpen | NoClosures):
            for (s, y), now in is_open.items():
                if (isinstance(rule, NoClosures) or s == rule.site) and not now:
                    bad.append(f"{kind}: site {s} is closed in {y}")
        elif isinstance(rule, MinPriorityShare):
            serving = {r.intervention for r in inst.responses
                       if r.priority == rule.priority and r.effect > 0}
            alloc = _table(tables, "allocation")
            for y in inst.years:
                rows = alloc[alloc.year == y] if len(alloc) else alloc
                total = float(rows["money"].sum()) if len(rows) else 0.0
                part = float(rows[rows.intervention.isin(serving)]["money"].sum()) \
                    if len(rows) else 0.0
                if part < rule.share * total - _tol(total):
                    bad.append(f"min_priority_share: {part:g} of {total:g} spent on "
                               f"{rule.priority} in {y}, below {rule.share:.0%}")
    return bad
