"""Random small instances for property tests.

``random_instance(seed, **knobs)`` returns an instance as one dict (the YAML fields plus every
table as a list of row dicts), ready for :func:`hwbopt.instance_from_dict`. Everything is drawn
from ``numpy.random.default_rng(seed)``, so a seed names an instance.

What the instances always have:

- a known feasible *reference plan*: every intervention keeps its current activity (or its
  need, if need falls below it), which obeys need caps, change limits and the equity floor;
  budgets are built from the reference plan's cost through each intervention's *primary*
  funding route, plus a random part of the cost of meeting all need, so money usually binds
  but never makes the instance infeasible;
- every intervention fundable by at least one route (a remit, a ring-fenced line or a pool)
  and moving at least one priority, all weights positive;
- unit costs, effects, needs, weights and budgets drawn from continuous distributions, so ties
  between interventions are measure-zero;
- soft targets with positive penalties, unless ``hard_targets`` asks for hard ones;
- now and then a locality with zero need, a response that turns harmful past a share of need,
  response rows out of order, and the same ring-fenced line id at two partners.

Knobs (all optional):

``unique_plan`` (default False)
    Avoid the model's *structural* alternate optima, so that activity and every partner's
    spend are unique at the optimum. Two symmetries make them non-unique otherwise:

    - an intervention offered in several localities has the same unit cost and the same effect
      per unit everywhere, so whenever it is the marginal buy the split of its activity between
      localities is free (an equity floor below 1 only narrows the range). With
      ``unique_plan`` such instances set ``equity_floor: 1``, which pins every locality's
      coverage to the area's, so the split is proportional to need;
    - money with several routes to one intervention (two remits, a remit and a pool, ...) or a
      pool with several contributors whose shares float can pay for the same plan in many
      ways. With ``unique_plan`` every intervention has exactly one route, and a pool has
      either one contributor or contributors with fixed shares (``min_share == max_share``).
``hard_targets`` (default False)
    Targets are set below what the reference plan achieves, and each priority is hard or soft
    at random: every target can then be met, so the instance is feasible under the ``cost``
    objective (which makes every target hard) as well.
``n_partners``, ``n_interventions``, ``n_years``, ``n_localities``
    Fix a size instead of drawing it (``n_localities=0`` declares no localities).
``pool`` (default: drawn)
    True or False to force a pool in or out.

Mixed-integer knobs (all off by default; an instance drawn without them is exactly the one
drawn before they existed, because everything they add comes from a second generator,
``default_rng([seed, 1])``). Each keeps the reference plan feasible: it still obeys every
new rule, and budgets grow to pay for its staff and buildings.

``exclusive_pair`` (default False)
    Two interventions become alternatives (an ``exclusive`` group); at most one of them has
    current activity.
``dependency`` (default False)
    One intervention requires another (``dependencies``); it has current activity only if
    the one it requires does.
``n_go_no_go`` (default 0)
    That many interventions get a minimum viable scale (at most the reference plan's activity
    when they run now) and/or a set-up cost.
``n_nonconcave`` (default 0)
    That many response curves are replaced by a threshold (two pieces, the second steeper) or
    an S-shape (three pieces, the middle steepest).
``n_sites`` (default 0)
    That many sites (owner, locality, running/closure cost, disposal receipt, shareable,
    ``can_close``) with capacities of one or two space types, and space needs for some
    interventions (given a ``lead``); every locality where the reference plan runs such an
    intervention has a site that may host it with room for it (adding a site where needed).
``staff`` (default False)
    One or two roles; staff rows for the leads of the interventions that need them (enough
    FTE for the reference plan), sometimes another employer in an integrated team, recruit
    limits, releases; ``whole_posts`` stays false, so staff add no integer variables.
``max_binaries`` (default: no limit)
    The most binary decisions the features above may add (a go/no-go intervention, or a site
    that may close, costs one per year; a non-concave curve one per piece but the last, per
    locality and year). Features that do not fit are left out, in the order listed, and sites
    that do not fit may not close.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

KINDS = ("nhs", "council", "public_health", "police", "fire", "voluntary", "housing", "other")
UNITS = ("episode", "user-year", "course", "participant", "visit", "place")
LINE_IDS = ("dfg", "bcf_social", "ph_grant", "ibcf")


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def response_value(pieces: list[tuple[float, float]], need: float, act: float) -> float:
    """A concave curve given as (upto_share, effect) pieces, evaluated at ``act`` units."""
    total, start = 0.0, 0.0
    for upto, effect in sorted(pieces):
        end = upto * need
        if act <= start:
            break
        total += effect * (min(act, end) - start)
        start = end
    return total


def random_instance(
    seed: int,
    *,
    unique_plan: bool = False,
    hard_targets: bool = False,
    n_partners: int | None = None,
    n_interventions: int | None = None,
    n_years: int | None = None,
    n_localities: int | None = None,
    pool: bool | None = None,
    exclusive_pair: bool = False,
    dependency: bool = False,
    n_go_no_go: int = 0,
    n_nonconcave: int = 0,
    n_sites: int = 0,
    staff: bool = False,
    max_binaries: int | None = None,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # everything the mixed-integer knobs add is drawn from here, so ``rng`` draws the same
    # numbers with or without them
    extra = _Extras(np.random.default_rng([seed, 1]), max_binaries)

    # ---- horizon -----------------------------------------------------------------------
    n_years = int(rng.integers(1, 4)) if n_years is None else n_years
    first = int(rng.integers(2013, 2021))
    years = list(range(first, first + n_years))

    # ---- interventions -----------------------------------------------------------------
    n_int = int(rng.integers(3, 8)) if n_interventions is None else n_interventions
    iids = [f"i{j}" for j in range(n_int)]
    interventions: list[dict[str, Any]] = []
    for iid in iids:
        row: dict[str, Any] = {
            "id": iid,
            "unit": str(rng.choice(UNITS)),
            "unit_cost": _logu(rng, 0.1, 5.0),
        }
        if rng.random() < 0.5:
            row["name"] = f"Intervention {iid.upper()}"
        if rng.random() < 0.3:
            row["cost_growth"] = _u(rng, -0.02, 0.06)
        nu = _u(rng, -0.05, 0.08) if rng.random() < 0.3 else 0.0
        if nu:
            row["need_growth"] = nu
        if rng.random() < 0.3:
            row["max_growth"] = _u(rng, 0.0, 0.5)
            if rng.random() < 0.5:
                row["max_growth_of_need"] = _u(rng, 0.0, 0.3)
        if rng.random() < 0.3:
            # a cut in need of nu a year stays reachable from the current level when
            # (1 - rho) <= (1 + nu), so the reference plan obeys the reduction limit
            row["max_reduction"] = _u(rng, max(0.0, -nu) + 0.01, 0.6)
        interventions.append(row)
    spec = {r["id"]: r for r in interventions}

    # ---- localities and activity --------------------------------------------------------
    n_loc = (int(rng.integers(1, 4)) if rng.random() < 0.45 else 0) \
        if n_localities is None else n_localities
    lids = [f"l{j}" for j in range(n_loc)]
    localities = []
    for lid in lids:
        loc: dict[str, Any] = {"id": lid}
        if rng.random() < 0.5:
            loc["name"] = f"Locality {lid}"
        if rng.random() < 0.5:
            loc["population"] = _logu(rng, 1e4, 3e5)
        localities.append(loc)
    offered: dict[str, list[str | None]] = {}
    for iid in iids:
        if not lids:
            offered[iid] = [None]
        else:
            k = int(rng.integers(1, len(lids) + 1))
            offered[iid] = sorted(rng.choice(lids, size=k, replace=False).tolist())
    spread = any(len(v) > 1 for v in offered.values())
    if unique_plan:
        equity_floor = 1.0 if spread else None
    else:
        equity_floor = _u(rng, 0.2, 0.95) if spread and rng.random() < 0.4 else None

    activity: list[dict[str, Any]] = []
    need0: dict[tuple[str, str | None], float] = {}
    cur0: dict[tuple[str, str | None], float] = {}
    for iid in iids:
        share = 0.0 if rng.random() < 0.15 else _u(rng, 0.05, 0.8)
        for lid in offered[iid]:
            # now and then a locality with no need at all (its activity is pinned to 0)
            need = 0.0 if rng.random() < 0.04 else _logu(rng, 30.0, 1500.0)
            # with an equity floor, current coverage is the same everywhere, so the
            # reference plan (current activity) meets the floor
            s = share if equity_floor is not None or share == 0.0 else _u(rng, 0.0, 0.8)
            cur = s * need
            need0[iid, lid] = need
            cur0[iid, lid] = cur
            row = {"intervention": iid, "current": cur, "need": need}
            if lid is not None:
                row["locality"] = lid
            activity.append(row)

    def need_at(iid: str, lid: str | None, y: int) -> float:
        return need0[iid, lid] * (1.0 + spec[iid].get("need_growth", 0.0)) ** (y - first)

    def cost_at(iid: str, y: int) -> float:
        r = spec[iid]
        return r["unit_cost"] * (1.0 + r.get("cost_growth", 0.0)) ** (y - first)

    # the reference plan: keep current activity, capped by need
    ref = {(i, lid, y): min(cur0[i, lid], need_at(i, lid, y))
           for i in iids for lid in offered[i] for y in years}

    # ---- go/no-go decisions (mixed-integer knobs) ---------------------------------------
    def stop(iid: str) -> None:
        """No current activity for ``iid``: the reference plan does not run it."""
        for row in activity:
            if row["intervention"] == iid:
                row["current"] = 0.0
        for lid in offered[iid]:
            cur0[iid, lid] = 0.0
            for y in years:
                ref[iid, lid, y] = 0.0

    def running(iid: str) -> bool:
        return sum(cur0[iid, lid] for lid in offered[iid]) > 0

    exclusive: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    r2 = extra.rng
    if exclusive_pair and n_int >= 2:
        a, b = r2.choice(iids, size=2, replace=False).tolist()
        if extra.choose([a, b], n_years):
            exclusive.append({"id": "alternatives", "interventions": [a, b]})
            if running(a) and running(b):
                stop(b)
            if r2.random() < 0.3:
                stop(a)
    if dependency and n_int >= 2:
        a, b = r2.choice(iids, size=2, replace=False).tolist()
        if extra.choose([a, b], n_years):
            dependencies.append({"intervention": a, "requires": b})
            if running(a) and not running(b):
                stop(a)
    for g in r2.permutation(iids).tolist()[:n_go_no_go]:
        if not extra.choose([g], n_years):
            continue
        ref_low = min(sum(ref[g, lid, y] for lid in offered[g]) for y in years)
        need_low = min(sum(need_at(g, lid, y) for lid in offered[g]) for y in years)
        scale = 0.0
        if r2.random() < 0.8:
            if ref_low > 0:
                scale = _u(r2, 0.3, 1.0) * ref_low
            elif not running(g) and need_low > 0:
                scale = _u(r2, 0.2, 0.9) * need_low
        if scale > 0:
            spec[g]["min_scale"] = scale
        if scale == 0 or r2.random() < 0.5:
            first_need = sum(need0[g, lid] for lid in offered[g])
            spec[g]["setup_cost"] = _u(r2, 0.05, 0.5) * spec[g]["unit_cost"] * max(
                first_need, 1.0)

    # ---- priorities and responses -------------------------------------------------------
    n_pri = int(rng.integers(2, 4))
    kids = [f"k{j}" for j in range(n_pri)]
    priorities = []
    for kid in kids:
        hard = hard_targets and rng.random() < 0.5
        pr: dict[str, Any] = {
            "id": kid,
            "measure": f"measure of {kid}",
            "unit": "people",
            "weight": _logu(rng, 0.2, 10.0),
            "target_type": "hard" if hard else "soft",
        }
        if rng.random() < 0.5:
            pr["baseline"] = _u(rng, 0.0, 200.0)
        if not hard:
            pr["shortfall_penalty"] = _logu(rng, 0.1, 20.0)
        if rng.random() < 0.5:
            pr["name"] = f"Priority {kid}"
        priorities.append(pr)

    responses: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for iid in iids:
        moved = rng.choice(kids, size=int(rng.integers(1, min(2, n_pri) + 1)), replace=False)
        for kid in moved.tolist():
            e0 = _logu(rng, 0.01, 1.0)
            r = rng.random()
            if r < 0.55:
                pieces = [(1.0, e0)]
            elif r < 0.9:
                # concave two-piece response: diminishing returns after a share of need,
                # sometimes turning harmful
                e1 = e0 * (_u(rng, 0.05, 0.9) if rng.random() < 0.85 else -_u(rng, 0.05, 0.5))
                pieces = [(_u(rng, 0.15, 0.85), e0), (1.0, e1)]
            else:
                u0 = _u(rng, 0.1, 0.5)
                e1 = e0 * _u(rng, 0.3, 0.9)
                pieces = [(u0, e0), (_u(rng, u0 + 0.05, 0.95), e1), (1.0, e1 * _u(rng, 0.1, 0.9))]
            curves[iid, kid] = pieces
            order = rng.permutation(len(pieces)) if rng.random() < 0.3 else range(len(pieces))
            for j in order:
                upto, effect = pieces[j]
                responses.append({"intervention": iid, "priority": kid, "upto_share": upto,
                                  "effect": effect})

    # ---- thresholds and S-shapes (mixed-integer knob) -------------------------------------
    for _ in range(n_nonconcave):
        plain = [key for key in curves if key not in extra.reshaped]
        if not plain:
            break
        iid, kid = plain[int(r2.integers(len(plain)))]
        per_piece = len(offered[iid]) * n_years
        n_pieces = 3 if r2.random() < 0.5 else 2
        if not extra.take((n_pieces - 1) * per_piece):
            n_pieces = 2
            if not extra.take(per_piece):
                continue
        extra.reshaped.add((iid, kid))
        top = _logu(r2, 0.05, 1.0)
        if n_pieces == 2:  # a threshold: little benefit below critical mass
            pieces = [(_u(r2, 0.2, 0.8), top * _u(r2, 0.0, 0.6)), (1.0, top)]
        else:  # an S-shape: slow, steep, then saturating
            u0 = _u(r2, 0.1, 0.5)
            pieces = [(u0, top * _u(r2, 0.0, 0.5)), (_u(r2, u0 + 0.1, 0.9), top),
                      (1.0, top * _u(r2, 0.05, 0.8))]
        curves[iid, kid] = pieces
        responses[:] = [r for r in responses if (r["intervention"], r["priority"]) != (iid, kid)]
        responses.extend({"intervention": iid, "priority": kid, "upto_share": u, "effect": e}
                         for u, e in pieces)

    def gain(kid: str, y: int, plan: dict | None) -> float:
        total = 0.0
        for (iid, k), pieces in curves.items():
            if k != kid:
                continue
            for lid in offered[iid]:
                n = need_at(iid, lid, y)
                total += response_value(pieces, n, n if plan is None else plan[iid, lid, y])
        return total

    base = {p["id"]: p.get("baseline", 0.0) for p in priorities}
    targets = []
    for kid in kids:
        for y in years:
            if rng.random() < 0.3:
                continue
            if hard_targets:
                achieved = base[kid] + gain(kid, y, ref)
                t = achieved - _u(rng, 0.02, 0.8) * (abs(achieved - base[kid]) + 1.0)
            else:
                t = base[kid] + _u(rng, 0.2, 1.1) * abs(gain(kid, y, None))
            targets.append({"priority": kid, "year": y, "target": t})

    # ---- partners, routes, pools --------------------------------------------------------
    n_par = int(rng.integers(2, 5)) if n_partners is None else n_partners
    pids = [f"p{j}" for j in range(n_par)]
    partners: list[dict[str, Any]] = []
    for j, pid in enumerate(pids):
        p: dict[str, Any] = {"id": pid, "kind": KINDS[j % len(KINDS)] if j < 2
                             else str(rng.choice(KINDS))}
        if rng.random() < 0.4:
            p["savings_rate"] = _u(rng, 0.01, 0.06)
        r = rng.random()
        if r < 0.3:
            p["cut"] = {"total": _u(rng, 0.02, 0.3), "over_years": int(rng.integers(1, 5))}
        elif r < 0.45:
            steps = np.cumsum(rng.uniform(0.0, 0.08, size=n_years))
            p["cut_by_year"] = {y: float(c) for y, c in zip(years, steps, strict=True)}
        if rng.random() < 0.5:
            p["name"] = f"Partner {pid}"
        partners.append(p)

    # special routes need at least one intervention each; keep one intervention for remits
    lines: list[tuple[int, str]] = []  # (partner index, line id)
    for j in range(n_par):
        if rng.random() < 0.3 and len(lines) < n_int - 2:
            lines.append((j, str(rng.choice(LINE_IDS))))
    want_pool = (rng.random() < 0.6) if pool is None else pool
    routes: list[tuple[str, Any]] = [("line", ln) for ln in lines]
    if want_pool:
        routes.append(("pool", "g0"))

    order = rng.permutation(n_int).tolist()
    primary: dict[str, tuple[str, Any]] = {}
    for slot, idx in enumerate(order):
        iid = iids[idx]
        if slot < len(routes):
            primary[iid] = routes[slot]
        else:
            r = rng.random()
            if routes and r < 0.25:
                primary[iid] = routes[int(rng.integers(len(routes)))]
            else:
                primary[iid] = ("remit", int(rng.integers(n_par)))

    remit: dict[int, list[str]] = defaultdict(list)
    line_items: dict[tuple[int, str], list[str]] = defaultdict(list)
    pool_items: list[str] = []
    for iid in iids:  # in intervention order, so lists come out in a stable order
        kind, where = primary[iid]
        if kind == "remit":
            remit[where].append(iid)
        elif kind == "line":
            line_items[where].append(iid)
        else:
            pool_items.append(iid)
    if not unique_plan:
        # extra, overlapping routes
        for iid in iids:
            for j in range(n_par):
                if rng.random() < 0.2 and iid not in remit[j]:
                    remit[j].append(iid)
            if want_pool and rng.random() < 0.2 and iid not in pool_items:
                pool_items.append(iid)
            for ln in lines:
                if rng.random() < 0.1 and iid not in line_items[ln]:
                    line_items[ln].append(iid)

    fence_share = {ln: _u(rng, 0.05, 0.3) for ln in lines}
    contributors: list[dict[str, Any]] = []
    if want_pool:
        n_con = int(rng.integers(1, n_par + 1))
        who = sorted(rng.choice(n_par, size=n_con, replace=False).tolist())
        fixed = unique_plan and n_con > 1
        for j in who:
            if fixed:
                s = _u(rng, 0.05, 0.3)
                contributors.append({"partner": pids[j], "min_share": s, "max_share": s})
            else:
                lo = _u(rng, 0.0, 0.15) if rng.random() < 0.4 else 0.0
                con: dict[str, Any] = {"partner": pids[j], "max_share": _u(rng, lo + 0.1, 0.6)}
                if lo:
                    con["min_share"] = lo
                contributors.append(con)
    con_of = {pids.index(c["partner"]): c for c in contributors}

    for j, p in enumerate(partners):
        if remit[j]:
            p["remit"] = list(remit[j])
        mine = [ln for ln in lines if ln[0] == j]
        if mine:
            p["ring_fenced"] = [
                {"id": ln[1], "share": fence_share[ln], "interventions": list(line_items[ln])}
                for ln in mine
            ]
    pools = []
    if want_pool:
        pools.append({"id": "g0", "name": "Pooled fund", "interventions": list(pool_items),
                      "contributors": contributors})

    # ---- staff and estate (mixed-integer knobs) -----------------------------------------
    # staff_unit: staff cost per unit of an intervention (at the dearest employer that may
    # serve it); extra_general: general money a partner needs for pay bills, running costs
    # and co-location charges in the reference plan
    staff_unit: dict[str, float] = defaultdict(float)
    extra_general: dict[tuple[str, int], float] = defaultdict(float)
    lead: dict[str, str] = {}

    def lead_of(iid: str) -> str:
        if iid not in lead:
            lead[iid] = pids[int(r2.integers(n_par))]
            spec[iid]["lead"] = lead[iid]
        return lead[iid]

    def peak(iid: str, lid: str | None) -> float:
        return max(ref[iid, lid, y] for y in years)

    roles: list[dict[str, Any]] = []
    staff_rows: list[dict[str, Any]] = []
    intervention_staff: list[dict[str, Any]] = []
    if staff:
        rids = [f"r{j}" for j in range(int(r2.integers(1, 3)))]
        roles = [{"id": r, "name": f"Role {r}"} for r in rids]
        wage = {r: _logu(r2, 5.0, 60.0) for r in rids}
        users: dict[str, list[tuple[str, float]]] = defaultdict(list)
        chosen = [i for i in iids if r2.random() < 0.5] or [iids[int(r2.integers(n_int))]]
        for iid in chosen:
            first_role = rids[int(r2.integers(len(rids)))]
            for r in rids:
                if r == first_role or r2.random() < 0.3:
                    q = _u(r2, 0.1, 0.6) * spec[iid]["unit_cost"] / wage[r]
                    users[r].append((iid, q))
                    intervention_staff.append({"intervention": iid, "role": r,
                                               "fte_per_unit": q})
        for r in rids:
            employers = list(dict.fromkeys(lead_of(i) for i, _ in users[r]))
            others = [p for p in pids if p not in employers]
            helper = others[int(r2.integers(len(others)))] \
                if others and r2.random() < 0.5 else None
            dearest = 0.0
            for e in employers + ([helper] if helper else []):
                w = wage[r] * _u(r2, 0.9, 1.1)
                dearest = max(dearest, w)
                own = [(i, q) for i, q in users[r] if lead[i] == e]
                base_fte = max(sum(q * sum(ref[i, lid, y] for lid in offered[i])
                                   for i, q in own) for y in years)
                base_fte = base_fte * _u(r2, 1.0, 1.3) + (_u(r2, 0.0, 3.0)
                                                         if r2.random() < 0.5 else 0.0)
                integrated = e == helper or r2.random() < 0.3
                row_extra: dict[str, Any] = {}
                if r2.random() < 0.6:
                    row_extra["recruit_limit"] = _u(r2, 0.0, 3.0)
                    row_extra["recruit_cost"] = w * _u(r2, 0.0, 0.5)
                if r2.random() < 0.5:
                    row_extra["max_release"] = _u(r2, 0.0, 0.3)
                    row_extra["release_cost"] = w * _u(r2, 0.0, 0.5)
                for y in years:
                    fte = base_fte * (_u(r2, 1.0, 1.1) if r2.random() < 0.3 else 1.0)
                    staff_rows.append({"employer": e, "role": r, "year": y, "fte": fte,
                                       "cost_per_fte": w, **row_extra,
                                       "integrated": integrated})
                    extra_general[e, y] += w * fte
            for i, q in users[r]:
                staff_unit[i] += dearest * q

    space_types: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    site_capacity: list[dict[str, Any]] = []
    intervention_space: list[dict[str, Any]] = []
    if n_sites:
        tids = ["t0"] + (["t1"] if r2.random() < 0.4 else [])
        space_types = [{"id": t, "unit": "rooms"} for t in tids]
        scale = float(np.mean([cost_at(i, first) * sum(need0[i, lid] for lid in offered[i])
                               for i in iids])) + 1.0

        def new_site(owner: str, lid: str | None, closable: bool) -> dict[str, Any]:
            running_cost = _u(r2, 0.05, 0.4) * scale
            site: dict[str, Any] = {
                "id": f"s{len(sites)}", "owner": owner, "running_cost": running_cost,
                "shareable": bool(r2.random() < 0.5),
                "can_close": bool(closable and extra.take(n_years)),
            }
            if lid is not None:
                site["locality"] = lid
            if r2.random() < 0.6:
                site["closure_cost"] = running_cost * _u(r2, 0.0, 2.0)
            if r2.random() < 0.5:
                site["disposal_receipt"] = running_cost * _u(r2, 0.0, 1.5)
            sites.append(site)
            return site

        for _ in range(n_sites):
            new_site(pids[int(r2.integers(n_par))],
                     lids[int(r2.integers(len(lids)))] if lids else None, r2.random() < 0.8)
        room: dict[tuple[str, str], float] = defaultdict(float)
        spaced = [i for i in iids if r2.random() < 0.5] or [iids[int(r2.integers(n_int))]]
        for iid in spaced:
            t = tids[int(r2.integers(len(tids)))]
            k = _u(r2, 0.001, 0.05)
            intervention_space.append({"intervention": iid, "space_type": t, "per_unit": k})
            owner = lead_of(iid)
            for lid in offered[iid]:
                here = [s for s in sites if s.get("locality") == lid]
                hosts = [s for s in here if s["owner"] == owner or s["shareable"]]
                if not hosts:
                    if peak(iid, lid) == 0 and r2.random() < 0.5:
                        continue  # nowhere to run it here, and the reference plan does not
                    if here and r2.random() < 0.7:
                        hosts = [here[int(r2.integers(len(here)))]]
                        hosts[0]["shareable"] = True
                    else:
                        hosts = [new_site(owner, lid, r2.random() < 0.5)]
                host = hosts[int(r2.integers(len(hosts)))]
                room[host["id"], t] += k * peak(iid, lid)
        for s in sites:
            mine = [t for t in tids if (s["id"], t) in room]
            if not mine:
                mine = [tids[int(r2.integers(len(tids)))]]
            for t in mine:
                site_capacity.append({"site": s["id"], "space_type": t, "capacity":
                                      room[s["id"], t] * _u(r2, 1.0, 1.5) + _u(r2, 0.5, 5.0)})
            for y in years:
                extra_general[s["owner"], y] += s["running_cost"]
                if s["shareable"]:
                    for p in set(lead.values()) - {s["owner"]}:
                        extra_general[p, y] += s["running_cost"]

    # ---- budgets: enough for the reference plan through primary routes, plus some -------
    theta = {iid: _u(rng, 0.05, 0.9) for iid in iids}

    def wanted(iid: str, y: int) -> float:
        u = cost_at(iid, y) + staff_unit.get(iid, 0.0)
        keep = sum(ref[iid, lid, y] for lid in offered[iid])
        room = sum(need_at(iid, lid, y) for lid in offered[iid]) - keep
        return u * (1.01 * keep + theta[iid] * max(room, 0.0))

    pool_weight = {j: _u(rng, 0.2, 1.0) for j in con_of}
    budgets = []
    for j, p in enumerate(partners):
        min_pool = con_of[j].get("min_share", 0.0) if j in con_of else 0.0
        fences = sum(fence_share[ln] for ln in lines if ln[0] == j)
        general = 1.0 - fences - min_pool
        for n, y in enumerate(years, start=1):
            need_a = 0.0
            retained = sum(wanted(i, y) for i in iids if primary[i] == ("remit", j))
            for ln in lines:
                if ln[0] == j:
                    f = sum(wanted(i, y) for i in iids if primary[i] == ("line", ln))
                    need_a = max(need_a, f / fence_share[ln])
            pooled = 0.0
            if j in con_of:
                total = sum(wanted(i, y) for i in iids if primary[i] == ("pool", "g0"))
                pooled = total * pool_weight[j] / sum(pool_weight.values())
                need_a = max(need_a, pooled / con_of[j]["max_share"])
            need_a = max(need_a, (retained + pooled + extra_general.get((p["id"], y), 0.0))
                         / general)
            if need_a <= 0.0:
                need_a = _logu(rng, 50.0, 2000.0)
            available = need_a * _u(rng, 1.0, 1.3)
            if "cut" in p:
                c = p["cut"]["total"] * min(n, p["cut"]["over_years"]) / p["cut"]["over_years"]
            else:
                c = p.get("cut_by_year", {}).get(y, 0.0)
            s = 1.0 - (1.0 - p.get("savings_rate", 0.0)) ** n
            budgets.append({"partner": p["id"], "year": y, "baseline": available / (1 - c - s)})

    avoided = []
    if rng.random() < 0.5:
        for iid in rng.choice(iids, size=int(rng.integers(1, 3)), replace=False).tolist():
            j = int(rng.integers(n_par))
            avoided.append({"intervention": iid, "partner": pids[j],
                            "saving_per_unit": spec[iid]["unit_cost"] * _u(rng, 0.05, 1.5)})

    settings: dict[str, Any] = {"objective": "outcome"}
    if rng.random() < 0.3:
        settings["discount_rate"] = _u(rng, 0.0, 0.06)
    if equity_floor is not None:
        settings["equity_floor"] = equity_floor

    out: dict[str, Any] = {
        "name": f"random instance {seed}",
        "description": "generated by tests/randinst.py",
        "currency": "GBP",
        "money_unit": str(rng.choice(["units", "thousands", "millions"])),
        "horizon": {"first_year": first, "last_year": years[-1]},
        "settings": settings,
        "partners": partners,
        "pools": pools,
        "priorities": priorities,
        "localities": localities,
        "interventions": interventions,
        "activity": activity,
        "responses": responses,
        "budgets": budgets,
        "targets": targets,
        "avoided_costs": avoided,
    }
    more = {"roles": roles, "staff": staff_rows, "intervention_staff": intervention_staff,
            "space_types": space_types, "sites": sites, "site_capacity": site_capacity,
            "intervention_space": intervention_space, "exclusive": exclusive,
            "dependencies": dependencies}
    out.update({k: v for k, v in more.items() if v})
    if sites and r2.random() < 0.3:
        settings["site_charging"] = "owner"
    return out


class _Extras:
    """The second random generator and the budget of binary decisions of the knobs."""

    def __init__(self, rng: np.random.Generator, max_binaries: int | None) -> None:
        self.rng = rng
        self.left = math.inf if max_binaries is None else max_binaries
        self.choices: set[str] = set()
        self.reshaped: set[tuple[str, str]] = set()

    def take(self, n: int) -> bool:
        """Spend ``n`` binaries if they fit."""
        if n > self.left:
            return False
        self.left -= n
        return True

    def choose(self, iids: list[str], n_years: int) -> bool:
        """Give these interventions a go/no-go decision (one binary a year) if they fit."""
        new = [i for i in iids if i not in self.choices]
        if not self.take(len(new) * n_years):
            return False
        self.choices.update(new)
        return True
