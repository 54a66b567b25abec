"""A solved model's money, activity and outcomes, as tidy pandas tables.

:func:`plan_tables` gives the solver's values as they are, for the independent checker;
:func:`display_tables` shows its noise as zero for a board (:func:`build_tables` does both).
Staff, estate and go/no-go tables come from :mod:`hwbopt.results.resources`.

Tables (money in the instance's money unit):

- ``allocation``: partner, fund (``retained``, ``ring_fenced`` or ``pooled``), source (the
  partner, line or pool the money comes from), intervention, locality, year, money, activity.
  Pooled money is attributed to contributors in proportion to what each put into the pool that
  year; money is split between localities in proportion to the activity bought there.
- ``outcomes``: priority, year, achieved, target, shortfall, met, hard.
- ``budgets``: partner, year, baseline, cut, savings_required, available, fenced, avoided_costs,
  qipp_credit, pooled, retained, spent, unspent.
- ``pools``: pool, partner, year, contributed, spent (attributed).
- ``avoided_costs``: from (who paid for the activity), to (who saves), intervention, year, amount.
- ``activity``: intervention, locality, year, current, activity, need, unit_cost, money.
- ``contributions``: intervention, priority, year, outcome (what the intervention adds to the
  priority's outcome that year, over every locality), weighted (outcome times the priority's
  weight). The outcome of a priority is its baseline plus these.
- ``benefits``: partner, year, contributed (to pools), avoided_costs (costs the plan's
  activity avoids for the partner, whoever paid for it), remit_funded_by_others (money other
  partners put into interventions in the partner's remit, pooled money counted as its
  contributors'), benefit (the sum of the last two: what lands in the partner's remit without
  coming from its own budget). Benefits of different partners overlap where remits do.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.compile import Compiled
from hwbopt.model.data import ModelData
from hwbopt.results.resources import (
    FLOW_COLUMNS,
    RESOURCE_COLUMNS,
    Flows,
    extra_costs,
    resource_tables,
)
from hwbopt.results.solved import values
from hwbopt.schema import Instance

TINY = 1e-12  # relative to the largest money flow of the plan

TABLE_COLUMNS: dict[str, list[str]] = {
    "allocation": ["partner", "fund", "source", "intervention", "locality", "year", "money",
                   "activity"],
    "outcomes": ["priority", "year", "achieved", "target", "shortfall", "met", "hard"],
    "budgets": ["partner", "year", "baseline", "cut", "savings_required", "available", "fenced",
                "avoided_costs", "qipp_credit", "pooled", "retained", "spent", "unspent",
                *FLOW_COLUMNS],
    "pools": ["pool", "partner", "year", "contributed", "spent"],
    "avoided_costs": ["from", "to", "intervention", "year", "amount"],
    "activity": ["intervention", "locality", "year", "current", "activity", "need", "unit_cost",
                 "money", "staff_cost", "setup_cost"],
    **RESOURCE_COLUMNS,
    "contributions": ["intervention", "priority", "year", "outcome", "weighted"],
    "benefits": ["partner", "year", "contributed", "avoided_costs", "remit_funded_by_others",
                 "benefit"],
}

Activity = dict[tuple[str, str, int], float]  # (intervention, locality, year)
ByYear = dict[tuple[str, int], float]  # (partner or intervention, year)
Shares = dict[tuple[str, int], list[tuple[str, float]]]  # (intervention, year): locality shares


def empty_tables() -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(columns=cols) for name, cols in TABLE_COLUMNS.items()}


def response_value(d: ModelData, i: str, k: str, act: float, need: float) -> float:
    """The concave piecewise-linear response of priority ``k`` to ``act`` units of ``i``."""
    total, left = 0.0, act
    for s in d.segments[i, k]:
        take = min(left, s.width * need) if s is not d.segments[i, k][-1] else left
        total += s.effect * take
        left -= take
        if left <= 0:
            break
    return total


def earned_credit(d: ModelData, act: Activity) -> ByYear:
    """Savings credited to each partner and year: its required savings, up to the costs the
    plan's activity avoids for it, ``min(S, avoided)`` (models/money.md, Reporting).

    Avoided costs count towards required savings whether or not the money they free is spent.
    The model's ``qipp_credit`` variable need only cover what the partner spends, so where its
    budget has room the solver's value is arbitrary; the credit earned is the figure a board
    signs, in the budgets table and in explanations alike.
    """
    avoided: ByYear = defaultdict(float)
    for (i, p), rate in d.avoided.items():
        for y in d.YEARS:
            avoided[p, y] += rate * sum(act.get((i, loc, y), 0.0) for loc in d.localities_of(i))
    return {(p, y): min(d.money[p, y]["savings_required"], avoided[p, y])
            for p in d.PARTNERS for y in d.YEARS}


def settle_contributions(
    d: ModelData, contrib: dict[tuple[str, str, int], float],
    pooled: dict[tuple[str, str, int], float],
) -> dict[tuple[str, str, int], float]:
    """Contributions as the pool uses them: nobody pays in more than the pool spends.

    A pool may hold money it does not spend (``pool_balance`` is an inequality), and nothing
    in the objective says how much of a non-binding contribution to make, so the solver's
    values above what the pool spends are arbitrary. Each such excess is handed back to the
    contributors in proportion to what they put in above their minimum share. The settled
    plan obeys every rule the solver's plan obeyed (it only lowers outgoings) and has the
    same objective.
    """
    out = dict(contrib)
    members = _members(d)
    for g in d.POOLS:
        for y in d.YEARS:
            spend = sum(v for (gg, _i, yy), v in pooled.items() if gg == g and yy == y)
            keys = [(p, g, y) for p in members[g]]
            floor = {k: d.contribution_bounds[k][0] for k in keys}
            room = {k: max(out.get(k, 0.0) - floor[k], 0.0) for k in keys}
            excess = sum(out.get(k, 0.0) for k in keys) - spend
            total = sum(room.values())
            if excess <= 0 or total <= 0:
                continue
            back = min(excess, total)
            for k in keys:
                out[k] = out.get(k, 0.0) - back * room[k] / total
    return out


def _members(d: ModelData) -> dict[str, list[str]]:
    """pool: its contributors."""
    members: dict[str, list[str]] = defaultdict(list)
    for p, g in d.CONTRIBUTORS:
        members[g].append(p)
    return members


def build_tables(d: ModelData, comp: Compiled, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """The tables as a board reads them: :func:`plan_tables`, then :func:`display_tables`."""
    return display_tables(plan_tables(d, comp, x))


def display_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Copies of the plan's tables with solver noise shown as the zero it is (``_clean``) and
    rows that carry nothing (no money, no staff, no space) dropped. Amounts beyond the noise,
    negative ones included, are shown as they are."""
    out = {name: _clean(t.copy()) for name, t in tables.items()}
    for name, col in (("allocation", "money"), ("deployment", "fte"), ("site_use", "used")):
        t = out[name]
        out[name] = t[t[col] != 0.0].reset_index(drop=True)
    return out


def plan_tables(d: ModelData, comp: Compiled, x: np.ndarray) -> dict[str, pd.DataFrame]:
    """The solver's plan as tables, its values unrounded and unclipped.

    This is what the independent checker reads (``hwbopt.check``): a negative activity or
    amount of money reaches it as the solver gave it. Only the split of money between
    localities, an attribution rather than a decision, uses activity clipped at zero.
    """
    act: Activity = values(comp, x, "activity")
    for i, loc in d.OFFERED:
        for y in d.YEARS:
            act.setdefault((i, loc, y), 0.0)
    # a response curve starts at zero activity, and a locality's share of money is a share
    pos = {key: max(v, 0.0) for key, v in act.items()}
    retained: dict[tuple[str, str, int], float] = values(comp, x, "spend_retained")
    fenced: dict[tuple[str, str, str, int], float] = values(comp, x, "spend_fenced")
    pooled: dict[tuple[str, str, int], float] = values(comp, x, "spend_pooled")
    contrib = settle_contributions(d, values(comp, x, "contribution"), pooled)
    shares = _locality_shares(d, pos)
    flows = extra_costs(d, comp, x)
    allocation = _allocation(d, act, shares, _intervention_costs(d, act, flows), retained,
                             fenced, pooled, contrib)
    activity = _activity(d, act, shares, flows)
    contributions = _contributions(d, pos)
    outcomes = _outcomes(d, contributions)
    avoided, avoided_to = _avoided_costs(d, act, allocation)
    # before the budgets: the staff and estate tables add their money to ``flows``
    resources = resource_tables(d, comp, x, flows, allocation)
    budgets = _budgets(d, act, retained, fenced, contrib, flows, avoided_to)
    pools = _pools(d, contrib, allocation)
    return {
        "allocation": allocation,
        "outcomes": outcomes,
        "budgets": budgets,
        "pools": pools,
        "avoided_costs": avoided,
        "activity": activity,
        **resources,
        "contributions": contributions,
        "benefits": benefit_table(d.instance, allocation, budgets, pools),
    }


def _locality_shares(d: ModelData, pos: Activity) -> Shares:
    """Where each intervention's activity ran, to split its money between localities."""
    shares: Shares = {}
    for i in d.INTERVENTIONS:
        places = d.localities_of(i)
        for y in d.YEARS:
            tot = sum(pos[i, loc, y] for loc in places)
            if tot > 0:
                shares[i, y] = [(loc, pos[i, loc, y] / tot) for loc in places
                                if pos[i, loc, y] > 0]
                continue
            # money without activity (a set-up cost paid for a go/no-go service run at zero:
            # never useful, but not forbidden): spread it over where it is offered, by need
            needs = {loc: d.need[i, loc, y] for loc in places}
            total_need = sum(needs.values())
            shares[i, y] = ([(loc, n / total_need) for loc, n in needs.items() if n > 0]
                            if total_need > 0 else
                            [(loc, 1.0 / len(places)) for loc in places])
    return shares


def _intervention_costs(d: ModelData, act: Activity, flows: Flows) -> ByYear:
    """What each intervention costs in a year: activity at unit cost, plus the staff and
    set-up costs its funders pay (models/money.md, funding)."""
    return {(i, y): (sum(d.unit_cost[i, y] * act[i, loc, y] for loc in d.localities_of(i))
                     + flows.staff_cost[i, y] + flows.setup_cost[i, y])
            for i in d.INTERVENTIONS for y in d.YEARS}


def _allocation(d: ModelData, act: Activity, shares: Shares, cost_of: ByYear,
                retained: dict[tuple[str, str, int], float],
                fenced: dict[tuple[str, str, str, int], float],
                pooled: dict[tuple[str, str, int], float],
                contrib: dict[tuple[str, str, int], float]) -> pd.DataFrame:
    """Every amount spent, by partner, fund and source, split between localities; pooled
    money attributed to the pool's contributors in proportion to what they put in."""
    rows: list[tuple[str, str, str, str, str, int, float, float]] = []
    # drop solver noise relative to the instance's own money scale (£, £k or £m alike)
    tiny = TINY * max([1e-300, *retained.values(), *fenced.values(), *pooled.values()])

    def emit(partner: str, fund: str, source: str, i: str, y: int, money: float) -> None:
        if abs(money) <= tiny:
            return  # noise either side of zero; a real negative amount is kept for the checker
        bought = money / cost_of[i, y] if cost_of[i, y] > 0 else 0.0
        for loc, share in shares[i, y]:
            rows.append((partner, fund, source, i, loc, y, money * share,
                         bought * act[i, loc, y]))

    for (p, i, y), v in retained.items():
        emit(p, "retained", p, i, y, v)
    for (p, r, i, y), v in fenced.items():
        emit(p, "ring_fenced", r, i, y, v)
    members = _members(d)
    for (g, i, y), v in pooled.items():
        paid = [(p, contrib.get((p, g, y), 0.0)) for p in members[g]]
        total = sum(max(a, 0.0) for _, a in paid)
        for p, a in paid:
            if total > 0 and a > 0:
                emit(p, "pooled", g, i, y, v * a / total)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["allocation"])


def _activity(d: ModelData, act: Activity, shares: Shares, flows: Flows) -> pd.DataFrame:
    """Activity by intervention, locality and year against the year before, with its money
    (staff and set-up costs split between localities as the money is)."""
    rows = []
    for (i, loc) in d.OFFERED:
        for k, y in enumerate(d.YEARS):
            prev = d.current[i, loc] if k == 0 else act[i, loc, d.YEARS[k - 1]]
            a = act[i, loc, y]
            share = dict(shares[i, y]).get(loc, 0.0)
            staff, setup = flows.staff_cost[i, y] * share, flows.setup_cost[i, y] * share
            rows.append((i, loc, y, prev, a, d.need[i, loc, y], d.unit_cost[i, y],
                         a * d.unit_cost[i, y] + staff + setup, staff, setup))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["activity"])


def _contributions(d: ModelData, pos: Activity) -> pd.DataFrame:
    """What each intervention adds to each priority's outcome, over every locality."""
    rows = []
    for (i, k) in d.segments:
        for y in d.YEARS:
            gain = sum(response_value(d, i, k, pos[i, loc, y], d.need[i, loc, y])
                       for loc in d.localities_of(i))
            rows.append((i, k, y, gain, d.weight[k] * gain))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["contributions"])


def _outcomes(d: ModelData, contributions: pd.DataFrame) -> pd.DataFrame:
    """Each priority's outcome (baseline plus contributions) against its target."""
    gains = contributions.groupby(["priority", "year"])["outcome"].sum()
    rows = []
    for k in d.PRIORITIES:
        for y in d.YEARS:
            achieved = d.baseline[k] + float(gains.get((k, y), 0.0))
            target = d.target.get((k, y))
            short = max(target - achieved, 0.0) if target is not None else 0.0
            rows.append((k, y, achieved, np.nan if target is None else target,
                         short, target is None or short <= 1e-6 * max(1.0, abs(target)),
                         d.hard[k] or d.objective == "cost"))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["outcomes"])


def _avoided_costs(d: ModelData, act: Activity, allocation: pd.DataFrame
                   ) -> tuple[pd.DataFrame, ByYear]:
    """Costs the plan's activity avoids, from its payers (in proportion to what each paid) to
    the partner that saves; and the total each partner saves each year."""
    avoided_to: ByYear = defaultdict(float)
    paid_by = allocation.groupby(["intervention", "year", "partner"])["money"].sum()
    rows = []
    for (i, saver), rate in d.avoided.items():
        for y in d.YEARS:
            saved = rate * sum(act[i, loc, y] for loc in d.localities_of(i))
            if saved <= 0.0:
                continue
            avoided_to[saver, y] += saved
            try:
                payers = paid_by.loc[(i, y)]
            except KeyError:
                continue
            total = float(payers.sum())
            for payer, money in payers.items():
                rows.append((payer, saver, i, y, saved * float(money) / total))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["avoided_costs"]), avoided_to


def _budgets(d: ModelData, act: Activity, retained: dict[tuple[str, str, int], float],
             fenced: dict[tuple[str, str, str, int], float],
             contrib: dict[tuple[str, str, int], float], flows: Flows,
             avoided_to: ByYear) -> pd.DataFrame:
    """Each partner's money and what it spent: pooled, retained (ring-fenced lines too), staff
    and estate, less staff income and receipts."""
    pooled_by: ByYear = defaultdict(float)
    for (p, _g, y), v in contrib.items():
        pooled_by[p, y] += v
    retained_by: ByYear = defaultdict(float)
    for (p, _i, y), v in retained.items():
        retained_by[p, y] += v
    for (p, _r, _i, y), v in fenced.items():
        retained_by[p, y] += v
    credit = earned_credit(d, act)
    rows = []
    for p in d.PARTNERS:
        for y in d.YEARS:
            mny = d.money[p, y]
            c = credit[p, y]  # earned, not the part the solver's credit variable drew on
            f = flows.partner[p, y]
            spent = (pooled_by[p, y] + retained_by[p, y] + f["pay_bill"] + f["recruitment"]
                     - f["staff_income"] + f["site_costs"] - f["receipts"])
            rows.append((p, y, mny["baseline"], mny["cut"], mny["savings_required"],
                         mny["available"], mny["fenced"], avoided_to[p, y], c,
                         pooled_by[p, y], retained_by[p, y], spent,
                         mny["available"] + c - spent,
                         *(f[col] for col in FLOW_COLUMNS)))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["budgets"])


def _pools(d: ModelData, contrib: dict[tuple[str, str, int], float],
           allocation: pd.DataFrame) -> pd.DataFrame:
    """What each contributor put into each pool, against the pool's spending attributed to
    it in ``allocation``."""
    attributed = allocation[allocation.fund == "pooled"].groupby(
        ["source", "partner", "year"])["money"].sum()
    rows = [
        (g, p, y, contrib.get((p, g, y), 0.0), float(attributed.get((g, p, y), 0.0)))
        for (p, g) in d.CONTRIBUTORS for y in d.YEARS
    ]
    pools = pd.DataFrame(rows, columns=TABLE_COLUMNS["pools"])
    return pools.sort_values(["pool", "partner", "year"], kind="stable").reset_index(drop=True)


def benefit_table(inst: Instance, allocation: pd.DataFrame, budgets: pd.DataFrame,
                  pools: pd.DataFrame) -> pd.DataFrame:
    """What each partner puts into pools against what lands in its remit from others.

    ``benefit`` = avoided costs the partner receives + money other partners spend on
    interventions in its remit (pooled money counted as its contributors', as in
    ``allocation``). See the module docstring.
    """
    remit = {p.id: set(p.remit) for p in inst.partners}
    rows = []
    for p in inst.partners:
        in_remit = allocation[allocation.intervention.isin(remit[p.id])
                              & (allocation.partner != p.id)]
        by_year = in_remit.groupby("year")["money"].sum()
        paid = pools[pools.partner == p.id].groupby("year")["contributed"].sum()
        mine = budgets[budgets.partner == p.id].set_index("year")["avoided_costs"]
        for y in inst.years:
            avoided = float(mine.get(y, 0.0))
            funded = float(by_year.get(y, 0.0))
            rows.append((p.id, y, float(paid.get(y, 0.0)), avoided, funded, avoided + funded))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS["benefits"])


def _clean(table: pd.DataFrame) -> pd.DataFrame:
    """Solver noise (4.5e-13, -0.0) shown as the zero it is, relative to the column's scale."""
    for col in table.columns:
        if table[col].dtype.kind == "f" and len(table):
            column: np.ndarray[Any, Any] = table[col].to_numpy(copy=True)
            scale = max(1.0, float(np.nanmax(np.abs(column))) if np.isfinite(column).any()
                        else 1.0)
            column[np.abs(column) <= 1e-9 * scale] = 0.0
            table[col] = column
    return table
