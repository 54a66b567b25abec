"""The money side of a synthetic instance: how the reference plan pays for each intervention,
the pools, and budgets and ring-fenced shares sized so that the plan is affordable.

The reference plan keeps every running service at its current activity, staffed by its lead's
staff and housed in its lead's (or shareable) sites. Each step here follows
:mod:`hwbopt.generate.entities` in the same random stream.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from hwbopt.derived import cut_share, savings_share
from hwbopt.generate.entities import (
    Activity,
    Draw,
    Estate,
    Horizon,
    Interventions,
    Pair,
    Partners,
    Row,
    SpaceUse,
    Staffing,
    round_up,
)
from hwbopt.generate.templates import LINES, MONEY_HEADROOM, POOLS
from hwbopt.schema import Partner

Route = tuple[str, str | Pair]  # ("line", (holder, line)), ("pool", pool) or ("remit", partner)
ByYear = tuple[str, int]  # (partner or intervention, year)


@dataclass(frozen=True)
class Routes:
    primary: dict[str, Route]  # intervention: how the reference plan pays for it
    line_items: dict[Pair, list[str]]  # (holder, line): the interventions it may fund
    pool_items: dict[str, list[str]]  # pool: its interventions
    pool_group: dict[str, str]  # pool: its template in POOLS


def routes(draw: Draw, who: Partners, ints: Interventions) -> Routes:
    """Pools per 50 interventions of a template's pool group; ring-fenced lines with public
    health (a council without it). Each intervention is paid from its line, else mostly from
    its pool, else from its lead's remit; there is always one line and one pool."""
    line_holders = who.by_kind.get("public_health") or who.by_kind["council"][:1]
    primary: dict[str, Route] = {}
    line_items: dict[Pair, list[str]] = defaultdict(list)
    pool_items: dict[str, list[str]] = defaultdict(list)
    pool_group: dict[str, str] = {}
    for j, iid in enumerate(ints.ids):
        t, lead = ints.template[iid], ints.lead[iid]
        gid = ""
        if t.pool:
            gid = t.pool if j < 50 else f"{t.pool}_{j // 50 + 1}"
            pool_items[gid].append(iid)
            pool_group[gid] = t.pool
        if t.line and lead in line_holders:
            line_items[lead, t.line].append(iid)
            primary[iid] = ("line", (lead, t.line))
        elif t.pool and draw.chance(0.7):
            primary[iid] = ("pool", gid)
        else:
            primary[iid] = ("remit", lead)
    if not line_items:
        holder = line_holders[0]
        mine = ints.remit.setdefault(holder, [])
        if not mine:
            mine.append(ints.ids[0])
        line_items[holder, "treatment_budget"].append(mine[0])
    if not pool_items:
        pool_items["integrated_care"].append(ints.ids[0])
        pool_group["integrated_care"] = "integrated_care"
    return Routes(primary, line_items, pool_items, pool_group)


@dataclass(frozen=True)
class Pools:
    rows: list[Row]
    contributors: dict[str, list[Row]]  # pool: its contributor entries (written in rows)
    part: dict[Pair, float]  # (pool, partner): the part of the pool it usually pays
    min_share_of: dict[str, float]  # partner: its minimum shares added up


def pools(draw: Draw, who: Partners, paths: Routes) -> Pools:
    """Each pool with a partner of every contributor kind of its template (minimum and
    maximum shares from the template, capped so one partner's minimums stay within 30%)."""
    rows: list[Row] = []
    contrib: dict[str, list[Row]] = {}
    part: dict[Pair, float] = {}
    for gid, items in paths.pool_items.items():
        group = paths.pool_group[gid]
        cons: list[Row] = []
        for kind, lo, hi, usual in POOLS[group][1]:
            cand = who.by_kind.get(kind, [])
            if cand:
                cons.append({"partner": draw.pick(cand), "min_share": lo, "max_share": hi})
                part[gid, cons[-1]["partner"]] = usual * draw.u(0.8, 1.2)
        contrib[gid] = cons
        suffix = "" if gid == group else f" {gid.rsplit('_', 1)[1]}"
        rows.append({"id": gid, "name": POOLS[group][0] + suffix, "interventions": items,
                     "contributors": cons})
    _cap_min_shares(contrib)
    min_share_of: dict[str, float] = defaultdict(float)
    for cons in contrib.values():
        for c in cons:
            min_share_of[c["partner"]] += c["min_share"]
    return Pools(rows, contrib, part, min_share_of)


def _cap_min_shares(contrib: dict[str, list[Row]]) -> None:
    """Scale down the minimum shares of a partner whose minimums add up to over 30%."""
    total: dict[str, float] = defaultdict(float)
    for cons in contrib.values():
        for c in cons:
            total[c["partner"]] += c["min_share"]
    for cons in contrib.values():
        for c in cons:
            if total[c["partner"]] > 0.3:
                c["min_share"] = math.floor(c["min_share"] * 0.3 / total[c["partner"]]
                                            * 1000) / 1000


# ---- the reference plan's money -------------------------------------------------------------


def reference_cost(ints: Interventions, act: Activity, fte_per_unit: dict[Pair, float],
                   horizon: Horizon) -> dict[ByYear, float]:
    """(intervention, year): the cost of current activity, unit cost and staff."""
    roles_of: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (i, rid), q in fte_per_unit.items():
        roles_of[i].append((rid, q))

    def cost(iid: str, y: int) -> float:
        r = ints.row_of[iid]
        unit: float = r["unit_cost"] * horizon.growth(r["cost_growth"], y)
        staff = sum(q * horizon.wage(rid, y) for rid, q in roles_of[iid])
        return act.total_current[iid] * (unit + staff)

    return {(i, y): cost(i, y) for i in ints.ids for y in horizon.years}


def overheads(staffing: Staffing, estate: Estate, use: SpaceUse, capacity: dict[Pair, float],
              horizon: Horizon) -> dict[ByYear, float]:
    """(partner, year): staff in post beyond the plan's need, its own sites' running costs, and
    co-location charges it pays (charges it receives are left out: more headroom)."""
    extra: dict[ByYear, float] = defaultdict(float)
    for (e, rid), n in staffing.fte.items():
        for y in horizon.years:
            extra[e, y] += horizon.wage(rid, y) * (n - staffing.demand.get((e, rid), 0.0))
    running_of = {r["id"]: r["running_cost"] for r in estate.rows}
    for sid, owner in estate.owner_of.items():
        for y in horizon.years:
            extra[owner, y] += running_of[sid]
    charges: dict[str, float] = defaultdict(float)
    for (sid, st, p), used in use.by_user.items():
        if p != estate.owner_of[sid]:
            charges[p] += running_of[sid] * used / capacity[sid, st] / len(estate.types_at[sid])
    for p, ch in charges.items():
        for y in horizon.years:
            extra[p, y] += ch
    return extra


@dataclass(frozen=True)
class Needs:
    pooled: dict[tuple[str, str, int], float]  # (pool, partner, year): its part of the pool
    general: dict[ByYear, float]  # retained services, pool parts and overheads


def needs(who: Partners, ints: Interventions, paths: Routes, shared: Pools,
          ref: dict[ByYear, float], extra: dict[ByYear, float],
          horizon: Horizon) -> Needs:
    """What each partner pays in the reference plan each year, outside ring-fenced lines."""
    pooled: dict[tuple[str, str, int], float] = {}
    general: dict[ByYear, float] = {}
    for y in horizon.years:
        for gid, cons in shared.contributors.items():
            total = sum(ref[i, y] for i in paths.pool_items[gid]
                        if paths.primary[i] == ("pool", gid))
            weights = sum(shared.part[gid, c["partner"]] for c in cons)
            for c in cons:
                pooled[gid, c["partner"], y] = total * shared.part[gid, c["partner"]] / weights
        for p in who.ids:
            retained = sum(ref[i, y] for i in ints.ids if paths.primary[i] == ("remit", p))
            pool_parts = sum(v for (_, q, yy), v in pooled.items() if q == p and yy == y)
            general[p, y] = retained + pool_parts + extra[p, y]
    return Needs(pooled, general)


@dataclass(frozen=True)
class Money:
    lines_of: dict[str, list[str]]  # partner: its ring-fenced lines
    fence: dict[Pair, float]  # (partner, line): the share of its money fenced
    available: dict[ByYear, float]  # what the reference plan needs after cuts


def money(who: Partners, paths: Routes, shared: Pools, ref: dict[ByYear, float],
          need: Needs, horizon: Horizon) -> Money:
    """Ring-fenced shares a little above the lines' part of the plan's cost (at most 60% in
    all), and the money each partner needs: enough for its general spending beside its fenced
    and minimum pool shares, for each line, and for its part of each pool within its maximum
    share."""
    lines_of: dict[str, list[str]] = defaultdict(list)
    for p, line in paths.line_items:
        lines_of[p].append(line)
    fence: dict[Pair, float] = {}
    available: dict[ByYear, float] = {}
    for p in who.ids:
        fenced_cost = {(line, y): sum(ref[i, y] for i in paths.line_items[p, line]
                                      if paths.primary[i] == ("line", (p, line)))
                       for line in lines_of[p] for y in horizon.years}
        for line in lines_of[p]:
            share = max(
                fenced_cost[line, y] / (need.general[p, y] / (1 - shared.min_share_of[p])
                                        + sum(fenced_cost[ln, y] for ln in lines_of[p]) + 1e-9)
                for y in horizon.years)
            fence[p, line] = min(max(round_up(share * 1.02, 0.001), 0.02), 0.6 / len(lines_of[p]))
        free = 1.0 - sum(fence[p, ln] for ln in lines_of[p]) - shared.min_share_of[p]
        for y in horizon.years:
            a = need.general[p, y] / free
            for line in lines_of[p]:
                a = max(a, fenced_cost[line, y] / fence[p, line])
            for gid, cons in shared.contributors.items():
                for c in cons:
                    if c["partner"] == p:
                        a = max(a, need.pooled[gid, p, y] / c["max_share"])
            available[p, y] = a
    return Money(lines_of, fence, available)


def budgets(draw: Draw, who: Partners, cash: Money, horizon: Horizon) -> list[Row]:
    """One baseline per partner (the same every year), large enough after its cuts and
    required savings in every year, with a little headroom."""
    years = tuple(horizon.years)
    rows: list[Row] = []
    for row in who.rows:
        p = row["id"]
        partner = Partner.model_validate(dict(row))
        cuts, saves = cut_share(partner, years), savings_share(partner, years)
        base = max(cash.available[p, y] / (1.0 - cuts[y] - saves[y]) for y in years)
        if base <= 0:
            base = draw.u(200.0, 1000.0)
        base = round_up(base * draw.u(*MONEY_HEADROOM) + 1.0)
        rows.extend({"partner": p, "year": y, "baseline": base} for y in years)
    return rows


def settle_partners(who: Partners, ints: Interventions, paths: Routes, cash: Money) -> None:
    """Write each partner's remit and ring-fenced lines into its entry."""
    for row in who.rows:
        p = row["id"]
        if ints.remit.get(p):
            row["remit"] = list(dict.fromkeys(ints.remit[p]))
        if cash.lines_of.get(p):
            row["ring_fenced"] = [
                {"id": line, "name": LINES[line], "share": cash.fence[p, line],
                 "interventions": paths.line_items[p, line]} for line in cash.lines_of[p]]
