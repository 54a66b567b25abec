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
"""

from __future__ import annotations

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
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)

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

    # ---- budgets: enough for the reference plan through primary routes, plus some -------
    theta = {iid: _u(rng, 0.05, 0.9) for iid in iids}

    def wanted(iid: str, y: int) -> float:
        u = cost_at(iid, y)
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
            need_a = max(need_a, (retained + pooled) / general)
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
    return out
