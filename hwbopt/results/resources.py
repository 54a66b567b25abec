"""Staff, estate and go/no-go decisions of a solved model, as tidy tables.

Tables (money in the instance's money unit):

- ``staff``: employer, role, year, available, recruited, released, in_post, deployed, idle,
  pay_bill, recruitment (recruitment and release costs).
- ``deployment``: employer, role, intervention, year, fte, cost, lead, integrated (the
  employer is not the intervention's lead: an integrated team).
- ``sites``: site, owner, locality, year, open, closed (closed this year), users (partners
  whose services use the site, ``;``-separated, owner first), running_cost, charges (paid to
  the owner by co-locating partners), closure_cost, receipt.
- ``space``: site, space_type, year, capacity (zero once closed), used.
- ``site_use``: site, intervention, space_type, year, used: which service uses which space.
- ``choices``: intervention, year, runs, starts, setup_cost.
- ``recharges``: payer, payee, kind (``staff`` or ``site``), year, amount: money that moves
  between partners for staff serving another partner's service or for shared sites.

Building them also adds each partner's staff and estate money to :class:`Flows`, which the
``budgets`` table of :mod:`hwbopt.results.tables` reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.results.solved import is_on, values

RESOURCE_COLUMNS: dict[str, list[str]] = {
    "staff": ["employer", "role", "year", "available", "recruited", "released", "in_post",
              "deployed", "idle", "pay_bill", "recruitment"],
    "deployment": ["employer", "role", "intervention", "year", "fte", "cost", "lead",
                   "integrated"],
    "sites": ["site", "owner", "locality", "year", "open", "closed", "users", "running_cost",
              "charges", "closure_cost", "receipt"],
    "space": ["site", "space_type", "year", "capacity", "used"],
    "site_use": ["site", "intervention", "space_type", "year", "used"],
    "choices": ["intervention", "year", "runs", "starts", "setup_cost"],
    "recharges": ["payer", "payee", "kind", "year", "amount"],
}

FLOW_COLUMNS = ["pay_bill", "recruitment", "staff_income", "site_costs", "receipts"]

Row = tuple[Any, ...]
Recharge = tuple[str, str, str, int, float]  # payer, payee, kind, year, amount


@dataclass
class Flows:
    """Money per (partner, year) and per (intervention, year) from staff and estate."""

    partner: dict[tuple[str, int], dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(FLOW_COLUMNS, 0.0)))
    staff_cost: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))
    setup_cost: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))


def extra_costs(d: ModelData, comp: Compiled, x: np.ndarray) -> Flows:
    """Staff and set-up costs each intervention's funders pay (needed before allocation)."""
    flows = Flows()
    for (e, r, i, y), v in values(comp, x, "deploy").items():
        flows.staff_cost[i, y] += d.staff[e, r, y].cost * v
    for (i, y), v in values(comp, x, "start").items():
        # start is fixed to 0 or 1 by the run binaries (models/choices.md); read it as such,
        # so solver noise such as 9e-16 is not reported as a start
        flows.setup_cost[i, y] += d.setup_cost[i] if is_on(v) else 0.0
    return flows


def resource_tables(
    d: ModelData, comp: Compiled, x: np.ndarray, flows: Flows, allocation: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The staff, estate and go/no-go tables (module docstring); adds their money to
    ``flows``. ``allocation`` says who pays for each intervention, to share out recharges."""
    # the solver's values, unclipped, so the independent checker sees a negative one
    # (display_tables in hwbopt.results.tables shows noise as zero and drops empty rows)
    deploy: dict[tuple[str, str, str, int], float] = values(comp, x, "deploy")
    use: dict[tuple[str, str, str, int], float] = values(comp, x, "use")
    runs = {k: is_on(v) for k, v in values(comp, x, "run").items()}
    staff_rows = _staff(d, comp, x, deploy, flows)
    deploy_rows, recharge_rows = _deployment(d, deploy, allocation)
    site_rows, space_rows = _estate(d, comp, x, use, flows, recharge_rows)
    choice_rows = [
        (i, y, runs.get((i, y), False), flows.setup_cost[i, y] > 0, flows.setup_cost[i, y])
        for i in d.CHOICES for y in d.YEARS
    ]
    recharges = _frame("recharges", recharge_rows)
    if len(recharges):
        recharges = recharges.groupby(["payer", "payee", "kind", "year"], as_index=False,
                                      sort=True)["amount"].sum()
    return {
        "staff": _frame("staff", staff_rows),
        "deployment": _frame("deployment", deploy_rows),
        "sites": _frame("sites", site_rows),
        "space": _frame("space", space_rows),
        "site_use": _frame("site_use", [(s, i, t, y, v) for (s, i, t, y), v in use.items()
                                        if v != 0]),
        "choices": _frame("choices", choice_rows),
        "recharges": recharges,
    }


def _frame(name: str, rows: list[Row] | list[Recharge]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=RESOURCE_COLUMNS[name])


def _staff(d: ModelData, comp: Compiled, x: np.ndarray,
           deploy: dict[tuple[str, str, str, int], float], flows: Flows) -> list[Row]:
    """Each employer's staff in each role and year; its pay bill, hiring and release costs,
    and the income of staff it deploys, into ``flows``."""
    recruit = values(comp, x, "recruit")
    release = values(comp, x, "release")
    in_post = values(comp, x, "in_post")
    deployed: dict[tuple[str, str, int], float] = defaultdict(float)
    for (e, r, _i, y), v in deploy.items():
        deployed[e, r, y] += v
    rows: list[Row] = []
    for e, r in d.STAFF:
        for y in d.YEARS:
            s = d.staff[e, r, y]
            post = in_post.get((e, r, y), 0.0)
            rec, rel = recruit.get((e, r, y), 0.0), release.get((e, r, y), 0.0)
            pay = s.cost * post
            hiring = s.recruit_cost * rec + s.release_cost * rel
            income = s.cost * deployed[e, r, y]
            rows.append((e, r, y, s.fte, rec, rel, post, deployed[e, r, y],
                         post - deployed[e, r, y], pay, hiring))
            f = flows.partner[e, y]
            f["pay_bill"] += pay
            f["recruitment"] += hiring
            f["staff_income"] += income
    return rows


def _deployment(d: ModelData, deploy: dict[tuple[str, str, str, int], float],
                allocation: pd.DataFrame) -> tuple[list[Row], list[Recharge]]:
    """Staff deployed to each intervention, and the recharges of staff serving another
    partner's service, from its payers in proportion to what each paid."""
    paid = allocation.groupby(["intervention", "year", "partner"])["money"].sum()
    payers: dict[tuple[str, int], list[tuple[str, float]]] = defaultdict(list)
    for (i, y, p), v in paid.items():
        payers[i, int(y)].append((p, float(v)))
    rows: list[Row] = []
    recharges: list[Recharge] = []
    for (e, r, i, y), v in deploy.items():
        if v == 0:
            continue
        cost = d.staff[e, r, y].cost * v
        rows.append((e, r, i, y, v, cost, d.lead[i], e != d.lead[i]))
        if v < 0:
            continue  # no recharge for a negative deployment (the checker reports it)
        total = sum(m for _, m in payers[i, y])
        for p, m in payers[i, y]:
            if p != e and total > 0:
                recharges.append((p, e, "staff", y, cost * m / total))
    return rows, recharges


def _estate(d: ModelData, comp: Compiled, x: np.ndarray,
            use: dict[tuple[str, str, str, int], float], flows: Flows,
            recharges: list[Recharge]) -> tuple[list[Row], list[Row]]:
    """Each site and its space by year: open or closing, its users, running costs shared by
    use (``by_use`` charging), closure costs and receipts; site money into ``flows`` and the
    co-location charges appended to ``recharges``. Site rows and space rows."""
    is_open = {k: is_on(v) for k, v in values(comp, x, "open").items()}
    types_at: dict[str, list[str]] = defaultdict(list)
    for s, t in d.SITE_SPACE:
        types_at[s].append(t)
    used: dict[tuple[str, str, int], float] = defaultdict(float)
    user_share: dict[tuple[str, str, int], float] = defaultdict(float)  # of the site used
    for (s, i, t, y), v in use.items():
        used[s, t, y] += v
        if v > 0:
            user_share[s, _lead(d, i), y] += v / (d.capacity[s, t] * len(types_at[s]))
    site_rows: list[Row] = []
    space_rows: list[Row] = []
    for s in d.SITES:
        info = d.site[s]
        for k, y in enumerate(d.YEARS):
            now = is_open.get((s, y), True)
            before = True if k == 0 else is_open.get((s, d.YEARS[k - 1]), True)
            closing = before and not now
            users = [info.owner] if now else []
            users += sorted({p for (ss, p, yy), v in user_share.items()
                             if ss == s and yy == y and v > 0 and p != info.owner})
            charges = 0.0
            if d.site_charging == "by_use":
                for (ss, p, yy), share in user_share.items():
                    if ss == s and yy == y and p != info.owner and share > 0:
                        c = info.running_cost * share
                        charges += c
                        flows.partner[p, y]["site_costs"] += c
                        recharges.append((p, info.owner, "site", y, c))
            running = info.running_cost if now else 0.0
            closure = info.closure_cost if closing else 0.0
            receipt = info.receipt if closing else 0.0
            f = flows.partner[info.owner, y]
            f["site_costs"] += running + closure - charges
            f["receipts"] += receipt
            site_rows.append((s, info.owner, info.locality, y, now, closing, ";".join(users),
                              running, charges, closure, receipt))
            for t in types_at[s]:
                space_rows.append((s, t, y, d.capacity[s, t] if now else 0.0, used[s, t, y]))
    return site_rows, space_rows


def _lead(d: ModelData, i: str) -> str:
    lead = d.lead[i]
    # validation refuses an intervention that needs space or staff and has no lead
    assert lead is not None, i
    return lead
