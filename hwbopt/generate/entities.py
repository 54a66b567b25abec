"""The entities of a synthetic instance, each drawn by a small function from one random stream.

:func:`hwbopt.generate.generate_instance` calls them in order, and the order is part
of the output: every draw comes from the same stream, so moving a step (or adding a draw inside
one) changes every instance generated after it. Each step returns the rows it writes and a
record of what the later steps need to know.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from hwbopt.generate.templates import (
    PARTNER_PLAN,
    PLACE_HEADS,
    PLACE_TAILS,
    PRIORITIES,
    ROLES,
    SERVICES,
    SITE_KINDS,
    SPACE_TYPES,
    TILT,
    Curve,
    Service,
)

Row = dict[str, Any]  # one table row or YAML entry, as hwbopt.instance_from_dict reads it
Pair = tuple[str, str]
T = TypeVar("T")


class Draw:
    """The instance's one random stream, ``numpy.random.default_rng(seed)``."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def u(self, lo: float, hi: float) -> float:
        """Uniform in [lo, hi)."""
        return float(self.rng.uniform(lo, hi))

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return bool(self.rng.random() < p)

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.rng.integers(len(items)))]


@dataclass(frozen=True)
class Horizon:
    first_year: int
    years: list[int]

    def growth(self, rate: float, y: int) -> float:
        """The factor ``rate`` compounds to from the first year to ``y``."""
        return (1.0 + rate) ** (y - self.first_year)

    def wage(self, role: str, y: int) -> float:
        """Cost per FTE of ``role`` in ``y``: 1% a year on the template's."""
        return round(ROLES[role][1] * 1.01 ** (y - self.first_year), 2)


def round_sig(x: float, digits: int = 3) -> float:
    """Round to ``digits`` significant figures (readable CSV cells)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - math.floor(math.log10(abs(x)))))


def round_up(x: float, step: float = 1.0) -> float:
    """Round up to a multiple of ``step`` (money and capacities: never below what is needed)."""
    return round(math.ceil(x / step - 1e-9) * step, 6)


def curve_value(pieces: Curve, need: float, act: float) -> float:
    """Outcome of ``act`` units on a curve of (upto_share, effect) pieces, filled in order."""
    total, start = 0.0, 0.0
    for upto, effect in pieces:
        end = upto * need
        if act <= start:
            break
        total += effect * (min(act, end) - start)
        start = end
    return total


# ---- partners --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partners:
    rows: list[Row]  # the YAML entries; remit and ring-fenced lines are added last
    ids: list[str]
    kind_of: dict[str, str]
    by_kind: dict[str, list[str]]

    def of_kind(self, kinds: Sequence[str]) -> list[str]:
        return [pid for k in kinds for pid in self.by_kind.get(k, ())]


def partners(draw: Draw, n: int, horizon: Horizon) -> Partners:
    """``n`` partners cycling through the plan (numbered from the second round on)."""
    rows: list[Row] = []
    by_kind: dict[str, list[str]] = defaultdict(list)
    for j in range(n):
        pid, name, kind, rule = PARTNER_PLAN[j % len(PARTNER_PLAN)]
        rep = j // len(PARTNER_PLAN)
        if rep:
            pid, name = f"{pid}_{rep + 1}", f"{name} {rep + 1}"
        rows.append({"id": pid, "name": name, "kind": kind, **_money_rule(draw, rule, horizon)})
        by_kind[kind].append(pid)
    return Partners(rows, [p["id"] for p in rows], {p["id"]: p["kind"] for p in rows}, by_kind)


def _money_rule(draw: Draw, rule: str, horizon: Horizon) -> Row:
    """A partner's cuts or required savings: QIPP, a cut of ``cutNN`` percent, or by year."""
    if rule == "qipp":
        return {"savings_rate": round_sig(draw.u(0.03, 0.05), 2)}
    if rule.startswith("cut"):
        return {"cut": {"total": round_sig(int(rule[3:]) / 100 * draw.u(0.9, 1.1), 2),
                        "over_years": min(4, len(horizon.years))}}
    if rule == "by_year":
        steps = np.cumsum(draw.rng.uniform(0.02, 0.04, size=len(horizon.years)))
        return {"cut_by_year": {y: round_sig(min(float(c), 0.3), 2)
                                for y, c in zip(horizon.years, steps, strict=True)}}
    return {}


# ---- localities ------------------------------------------------------------------------------


def localities(draw: Draw, n: int) -> list[Row]:
    """``n`` localities with invented names, populations of 60,000-250,000 and a need index."""
    return [{"id": lid, "name": name,
             "population": float(round(math.exp(draw.u(math.log(6e4), math.log(2.5e5))), -3)),
             "need_index": round_sig(draw.u(0.7, 1.35), 2)}
            for lid, name in _place_names(draw, n)]


def _place_names(draw: Draw, n: int) -> list[Pair]:
    """n distinct (id, name) pairs of invented English place names."""
    out: list[Pair] = []
    seen: set[str] = set()
    combos = [h + t for h in PLACE_HEADS for t in PLACE_TAILS]
    order = draw.rng.permutation(len(combos))
    for k in range(n):
        base = combos[order[k % len(combos)]]
        name = base if k < len(combos) else f"{base} {k // len(combos) + 1}"
        lid = name.lower().replace(" ", "_")
        assert lid not in seen
        seen.add(lid)
        out.append((lid, name))
    return out


# ---- interventions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Jitter:
    """How a copy of a template differs from it (the first of each template is exact)."""

    cost: float = 1.0
    need: float = 1.0
    effect: float = 1.0
    coverage: float = 1.0


@dataclass(frozen=True)
class Interventions:
    rows: list[Row]  # filled in by later steps (limits, unit costs, names of special parts)
    ids: list[str]
    row_of: dict[str, Row]
    template: dict[str, Service]
    jitter: dict[str, Jitter]
    lead: dict[str, str]
    remit: dict[str, list[str]]  # partner: the interventions in its remit


def interventions(draw: Draw, n: int, who: Partners) -> Interventions:
    """``n`` interventions cycling through the templates, each led by a partner whose remit
    holds it; now and then a second partner's remit holds it too."""
    rows: list[Row] = []
    template: dict[str, Service] = {}
    jitter: dict[str, Jitter] = {}
    lead: dict[str, str] = {}
    remit: dict[str, list[str]] = defaultdict(list)
    for j in range(n):
        t = SERVICES[j % len(SERVICES)]
        copy = j // len(SERVICES)
        iid = t.id if copy == 0 else f"{t.id}_{copy + 1}"
        template[iid] = t
        jitter[iid] = Jitter(draw.u(0.8, 1.25), draw.u(0.5, 1.5), draw.u(0.8, 1.25),
                             draw.u(0.8, 1.2)) if copy else Jitter()
        homes = who.of_kind(t.homes[:1]) or who.of_kind(t.homes) or who.of_kind(("council", "nhs"))
        lead[iid] = draw.pick(homes)
        remit[lead[iid]].append(iid)
        others = [p for p in who.of_kind(t.homes) if p != lead[iid]]
        if others and draw.chance(0.4):
            remit[draw.pick(others)].append(iid)
        rows.append({"id": iid, "name": t.name if copy == 0 else f"{t.name} {copy + 1}",
                     "unit": t.unit, "cost_growth": t.cost_growth,
                     "need_growth": t.need_growth, "max_growth": t.max_growth,
                     "max_growth_of_need": t.max_growth_of_need,
                     "max_reduction": t.max_reduction, "lead": lead[iid]})
    return Interventions(rows, [r["id"] for r in rows], {r["id"]: r for r in rows}, template,
                         jitter, lead, remit)


@dataclass(frozen=True)
class Parts:
    """The interventions with special parts, one of each per 25 interventions."""

    pairs: list[Pair]  # (running service, new model of care that may replace it): exclusive
    deps: list[Pair]  # (new pilot, running service it runs only with)
    new: set[str]  # not running yet: the alternatives and pilots
    nonconcave: set[str]  # a threshold or S-shaped first response
    min_scaled: set[str]  # running services with a minimum scale (go/no-go)


def special_parts(draw: Draw, ints: Interventions) -> Parts:
    """Pick the interventions with special parts, and name the new ones after them."""
    n = len(ints.ids)
    blocks = max(1, n // 25)
    perm = [ints.ids[k] for k in draw.rng.permutation(n)]
    pairs = [(perm[2 * b], perm[2 * b + 1]) for b in range(blocks)]
    deps = [(perm[2 * blocks + 2 * b], perm[2 * blocks + 2 * b + 1]) for b in range(blocks)]
    new = {alt for _, alt in pairs} | {pilot for pilot, _ in deps}
    running_choice = {run for run, _ in pairs} | {req for _, req in deps}
    rest = [i for i in perm if i not in new and i not in running_choice]
    nonconcave = set(perm[len(perm) - blocks:]) if 4 * blocks < n else {perm[-1]}
    min_scaled = set(rest[:blocks]) | {req for _, req in deps[:1]}
    for run, alt in pairs:
        ints.row_of[run]["max_reduction"] = None  # an alternative can replace it: it may close
        ints.row_of[alt]["name"] = f"{ints.row_of[run]['name']}: new model of care"
    for pilot, req in deps:
        ints.row_of[pilot]["name"] = f"{ints.row_of[pilot]['name']} (pilot alongside {req})"
    return Parts(pairs, deps, new, nonconcave, min_scaled)


# ---- activity and need -----------------------------------------------------------------------


def offered(draw: Draw, ints: Interventions, parts: Parts, lids: list[str],
            with_site: list[str]) -> dict[str, list[str]]:
    """Where each intervention runs: everywhere (where there is a site, if it needs space),
    except a tenth of the running services, which run in some of those places only."""
    out: dict[str, list[str]] = {}
    for iid in ints.ids:
        places = with_site if ints.template[iid].space else lids
        if iid not in parts.new and len(places) > 1 and draw.chance(0.1):
            k = max(1, round(len(places) * draw.u(0.3, 0.8)))
            pick = set(draw.rng.choice(len(places), size=k, replace=False).tolist())
            places = [p for n, p in enumerate(places) if n in pick]
        out[iid] = list(places)
    return out


@dataclass(frozen=True)
class Activity:
    rows: list[Row]
    offered: dict[str, list[str]]  # intervention: the localities where it runs
    need0: dict[Pair, float]  # (intervention, locality): need in the first year
    current: dict[Pair, float]
    total_current: dict[str, float]
    total_need0: dict[str, float]


def activity(draw: Draw, ints: Interventions, parts: Parts, where: dict[str, list[str]],
             locs: list[Row]) -> Activity:
    """Need from population and need index; current activity near the service's coverage
    (within ``TILT``, so every locality clears the equity floor), none for new services."""
    loc_of = {loc["id"]: loc for loc in locs}
    rows: list[Row] = []
    need0: dict[Pair, float] = {}
    cur: dict[Pair, float] = {}
    for iid in ints.ids:
        t, f = ints.template[iid], ints.jitter[iid]
        cov = min(t.coverage * f.coverage, 0.8)
        for lid in where[iid]:
            loc = loc_of[lid]
            n = t.need_per_100k * f.need * loc["population"] / 1e5 * loc["need_index"] \
                * draw.u(0.9, 1.1)
            n = max(float(round(n)), 1.0)
            c = 0.0 if iid in parts.new else float(math.floor(n * cov * (1 + draw.u(-TILT, TILT))))
            need0[iid, lid], cur[iid, lid] = n, c
            rows.append({"intervention": iid, "locality": lid, "current": c, "need": n})
    return Activity(rows, where, need0, cur,
                    {i: sum(cur[i, lid] for lid in where[i]) for i in ints.ids},
                    {i: sum(need0[i, lid] for lid in where[i]) for i in ints.ids})


def go_no_go(draw: Draw, ints: Interventions, parts: Parts, act: Activity) -> None:
    """Minimum scales: new services start at 40% of their growth limit or not at all (and pay
    a set-up cost); a few running services cannot run below a share of today's activity."""
    for iid in ints.ids:
        r = ints.row_of[iid]
        if iid in parts.new:
            r["max_growth_of_need"] = round_sig(draw.u(0.15, 0.3), 2)
            r["min_scale"] = float(math.floor(0.4 * r["max_growth_of_need"]
                                              * act.total_need0[iid]))
            r["setup_cost"] = round_sig(draw.u(50.0, 300.0), 2)
        elif iid in parts.min_scaled and act.total_current[iid] > 0:
            r["min_scale"] = float(math.floor(draw.u(0.3, 0.5) * act.total_current[iid]))


# ---- responses and priorities ----------------------------------------------------------------


def responses(draw: Draw, ints: Interventions, parts: Parts
              ) -> tuple[list[Row], dict[Pair, Curve]]:
    """Each intervention's response curves, scaled by its jitter; the first curve of a
    non-concave intervention becomes a threshold or an S-shape. Rows and (intervention,
    priority) curves."""
    rows: list[Row] = []
    curves: dict[Pair, Curve] = {}
    for iid in ints.ids:
        for k, (kid, template) in enumerate(ints.template[iid].responses):
            pieces = tuple((upto, round_sig(e * ints.jitter[iid].effect)) for upto, e in template)
            if iid in parts.nonconcave and k == 0:
                pieces = _nonconcave(draw, pieces[0][1])
            curves[iid, kid] = pieces
            rows.extend({"intervention": iid, "priority": kid, "upto_share": upto, "effect": e}
                        for upto, e in pieces)
    return rows, curves


def _nonconcave(draw: Draw, e: float) -> Curve:
    """A threshold (little benefit below critical mass) or an S-shape around effect ``e``."""
    if draw.chance(0.5):
        u0 = round_sig(draw.u(0.2, 0.4), 2)
        return ((u0, round_sig(0.3 * e)), (1.0, round_sig(1.3 * e)))
    u0 = round_sig(draw.u(0.15, 0.3), 2)
    return ((u0, round_sig(0.3 * e)), (round_sig(u0 + 0.4, 2), round_sig(1.4 * e)),
            (1.0, round_sig(0.5 * e)))


def priorities(curves: dict[Pair, Curve]) -> list[Row]:
    """The template priorities some intervention moves; soft ones with a shortfall penalty."""
    moved = {kid for (_, kid) in curves}
    rows: list[Row] = []
    for kid, (name, measure, unit, weight, hard, penalty) in PRIORITIES.items():
        if kid not in moved:
            continue
        pr: Row = {"id": kid, "name": name, "measure": measure, "unit": unit,
                   "weight": weight, "target_type": "hard" if hard else "soft"}
        if not hard:
            pr["shortfall_penalty"] = penalty
        rows.append(pr)
    return rows


# ---- staff -----------------------------------------------------------------------------------


def staff_needs(ints: Interventions) -> dict[Pair, float]:
    """FTE per unit of activity for each (intervention, role), from the template's staff share
    of the full cost; the rest of the full cost is the ``unit_cost`` written to the row."""
    fte_per_unit: dict[Pair, float] = {}
    for iid in ints.ids:
        t, f = ints.template[iid], ints.jitter[iid]
        full = t.cost * f.cost
        share = 0.0
        for rid, s in t.staff:
            fte_per_unit[iid, rid] = round_sig(s * full / ROLES[rid][1])
            share += s
        ints.row_of[iid]["unit_cost"] = round_sig(full * (1.0 - share))
    return fte_per_unit


@dataclass(frozen=True)
class Staffing:
    rows: list[Row]
    demand: dict[Pair, float]  # (employer, role): FTE the reference plan deploys
    fte: dict[Pair, float]  # (employer, role): staff in post


def staff(draw: Draw, who: Partners, ints: Interventions, act: Activity,
          fte_per_unit: dict[Pair, float], horizon: Horizon) -> Staffing:
    """Every lead employs the roles its services need, a little more than current activity
    needs; now and then another partner employs a role too, in an integrated team."""
    demand: dict[Pair, float] = defaultdict(float)
    for (iid, rid), q in fte_per_unit.items():
        demand[ints.lead[iid], rid] += q * act.total_current[iid]
    employs = sorted(demand, key=lambda k: (who.ids.index(k[0]), list(ROLES).index(k[1])))
    for rid in ROLES:
        if any(r == rid for _, r in employs) and draw.chance(0.6):
            cand = [p for p in who.ids if (p, rid) not in demand]
            if cand:
                employs.append((draw.pick(cand), rid))
    rows: list[Row] = []
    fte: dict[Pair, float] = {}
    for e, rid in employs:
        d = demand.get((e, rid), 0.0)
        fte[e, rid] = (round_up(d * draw.u(1.03, 1.12), 0.1) if d > 0
                       else float(round(draw.u(2, 15))))
        integrated = (e, rid) not in demand or draw.chance(0.4)
        limit = max(1.0, round_up(fte[e, rid] * draw.u(0.05, 0.15), 0.1))
        release = round_sig(draw.u(0.03, 0.1), 2)
        for y in horizon.years:
            w = horizon.wage(rid, y)
            rows.append({
                "employer": e, "role": rid, "year": y, "fte": fte[e, rid], "cost_per_fte": w,
                "recruit_limit": limit, "recruit_cost": round(0.1 * w, 2),
                "max_release": release, "release_cost": round(0.3 * w, 2),
                "integrated": integrated})
    return Staffing(rows, demand, fte)


# ---- sites and space -------------------------------------------------------------------------


def space_needs(draw: Draw, ints: Interventions) -> dict[Pair, float]:
    """Space per unit of activity for each (intervention, space type); copies are jittered."""
    return {(iid, st): round_sig(per * draw.u(0.9, 1.1) if ints.jitter[iid].cost != 1.0 else per)
            for iid in ints.ids for st, per in ints.template[iid].space}


@dataclass(frozen=True)
class Estate:
    rows: list[Row]  # running and closure costs are added with the capacities
    types_at: dict[str, list[str]]  # site: the space types it has
    sites_in: dict[str, list[str]]  # locality: its sites
    owner_of: dict[str, str]
    shareable: dict[str, bool]


def sites(draw: Draw, site_loc: list[str], locs: list[Row], who: Partners,
          ints: Interventions) -> Estate:
    """One site per entry of ``site_loc`` (its locality). A locality's first site is a
    council community hub with every space type; the others belong to partners drawn by how
    many space-needing services they lead, with space types their kind of site has."""
    loc_name = {loc["id"]: loc["name"] for loc in locs}
    owner_w = np.array([1.0 + sum(1 for i in ints.ids
                                  if ints.lead[i] == p and ints.template[i].space)
                        for p in who.ids])
    owner_w = owner_w / owner_w.sum()
    hub_owner = who.by_kind["council"][0]
    rows: list[Row] = []
    types_at: dict[str, list[str]] = {}
    sites_in: dict[str, list[str]] = defaultdict(list)
    name_count: dict[str, int] = defaultdict(int)
    for k, lid in enumerate(site_loc):
        if lid not in sites_in:
            owner, label, types = hub_owner, "community hub", list(SPACE_TYPES)
            shareable, can_close = True, False
        else:
            owner = who.ids[int(draw.rng.choice(len(who.ids), p=owner_w))]
            names, allowed = SITE_KINDS[who.kind_of[owner]]
            label = draw.pick(names)
            n_types = int(draw.rng.integers(1, len(allowed) + 1))
            types = sorted(draw.rng.choice(allowed, size=n_types, replace=False).tolist(),
                           key=list(SPACE_TYPES).index)
            shareable, can_close = draw.chance(0.5), not draw.chance(0.1)
        base = f"{loc_name[lid]} {label}"
        name_count[base] += 1
        sid = f"s{k + 1}_{lid}"
        types_at[sid] = types
        sites_in[lid].append(sid)
        rows.append({"id": sid, "name": base if name_count[base] == 1
                     else f"{base} {name_count[base]}", "owner": owner, "locality": lid,
                     "shareable": shareable, "can_close": can_close})
    return Estate(rows, types_at, sites_in, {r["id"]: r["owner"] for r in rows},
                  {r["id"]: r["shareable"] for r in rows})


@dataclass(frozen=True)
class SpaceUse:
    """The reference plan's space: each running service in its lead's own sites in the
    locality, else in the locality's shareable ones, split evenly."""

    by_site: dict[Pair, float]  # (site, space type)
    by_user: dict[tuple[str, str, str], float]  # (site, space type, lead)


def space_use(space_need: dict[Pair, float], act: Activity, ints: Interventions,
              estate: Estate) -> SpaceUse:
    by_site: dict[Pair, float] = defaultdict(float)
    by_user: dict[tuple[str, str, str], float] = defaultdict(float)
    for (iid, st), per in space_need.items():
        for lid in act.offered[iid]:
            amount = per * act.current[iid, lid]
            here = [s for s in estate.sites_in[lid] if st in estate.types_at[s]]
            own = [s for s in here if estate.owner_of[s] == ints.lead[iid]]
            hosts = own or [s for s in here if estate.shareable[s]]
            for s in hosts:
                by_site[s, st] += amount / len(hosts)
                by_user[s, st, ints.lead[iid]] += amount / len(hosts)
    return SpaceUse(by_site, by_user)


def capacities(draw: Draw, estate: Estate, use: SpaceUse) -> tuple[list[Row], dict[Pair, float]]:
    """Capacity of each site's space types, with headroom over the reference plan's use (a
    typical site's size where it has none); sets each site's running cost from them, and the
    closure cost and disposal receipt of sites that can close. Rows and (site, type) values."""
    rows: list[Row] = []
    capacity: dict[Pair, float] = {}
    for site in estate.rows:
        sid = site["id"]
        running = draw.u(15.0, 40.0)
        for st in estate.types_at[sid]:
            typical = SPACE_TYPES[st][3]
            used = use.by_site.get((sid, st), 0.0)
            if used > 0:
                k = round_up(used * draw.u(1.1, 1.4) + typical * draw.u(0.05, 0.2))
            else:
                k = round_up(typical * draw.u(0.5, 1.5))
            capacity[sid, st] = k
            rows.append({"site": sid, "space_type": st, "capacity": k})
            running += k * SPACE_TYPES[st][2] * draw.u(0.8, 1.2)
        site["running_cost"] = round_up(running)
        if site["can_close"]:
            site["closure_cost"] = round_up(running * draw.u(0.5, 1.5))
            site["disposal_receipt"] = round_up(running * draw.u(0.0, 4.0))
    return rows, capacity


# ---- targets and avoided costs ---------------------------------------------------------------


def targets(draw: Draw, prios: list[Row], curves: dict[Pair, Curve], ints: Interventions,
            act: Activity, horizon: Horizon) -> list[Row]:
    """A target per priority and year from what keeping current activity achieves: hard ones
    below it, soft ones above it and rising (shortfalls are possible and penalised)."""
    movers: dict[str, list[tuple[str, Curve]]] = defaultdict(list)
    for (i, k), pieces in curves.items():
        movers[k].append((i, pieces))
    rows: list[Row] = []
    for pr in prios:
        kid = pr["id"]
        hard = pr["target_type"] == "hard"
        ambition = draw.u(0.85, 0.95) if hard else draw.u(1.0, 1.1)
        for n, y in enumerate(horizon.years):
            gain = sum(curve_value(pieces, act.need0[i, lid]
                                   * horizon.growth(ints.row_of[i]["need_growth"], y),
                                   act.current[i, lid])
                       for i, pieces in movers[kid] for lid in act.offered[i])
            t = (math.floor(gain * ambition) if hard
                 else round_up(gain * ambition * (1.0 + 0.03 * n)))
            rows.append({"priority": kid, "year": y, "target": float(t)})
    return rows


def avoided_costs(draw: Draw, ints: Interventions, who: Partners) -> list[Row]:
    """Savings per unit landing on partners of the template's kinds (the lead if it is one),
    one row per partner."""
    rows: list[Row] = []
    for iid in ints.ids:
        seen: set[str] = set()
        for kind, saving in ints.template[iid].avoided:
            cand = who.by_kind.get(kind, [])
            if not cand:
                continue
            p = ints.lead[iid] if ints.lead[iid] in cand else draw.pick(cand)
            if p in seen:
                continue
            seen.add(p)
            rows.append({"intervention": iid, "partner": p,
                         "saving_per_unit": round_sig(saving * ints.jitter[iid].cost)})
    return rows
