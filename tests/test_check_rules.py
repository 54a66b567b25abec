"""Every rule of the independent checker, broken alone.

Each case takes a real optimal plan (the tutorial, or a small instance solved here), tampers
with one thing — one decision, carried through the few cells that must follow it so that no
other rule breaks (more money for more activity, the outcome it changes) — and asserts that
``check_solution`` (or ``check_policies``) reports exactly that violation and nothing else.
Every untampered plan passes. ``test_every_rule_of_the_checker_has_a_case`` ties the cases to
the source: each ``bad.append`` in hwbopt/check.py must be matched by some case's message.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import solve_checked
from tiny import build

import hwbopt
from hwbopt.check import check_policies, check_solution
from hwbopt.schema import CapChange, ForbidChange, KeepOpen, MinPriorityShare, NoClosures, Protect

Tables = dict[str, pd.DataFrame]
CHECK_PY = Path(hwbopt.__file__).resolve().parent / "check.py"

# ---------------------------------------------------------------------------------------------
# the plans
# ---------------------------------------------------------------------------------------------


def _saturating(i: str) -> list[tuple[str, str, float, float]]:
    """A response that is full at a tenth of need: more activity changes no outcome."""
    return [(i, "health", 0.1, 1.0), (i, "health", 1.0, 0.0)]


def money_instance() -> hwbopt.Instance:
    """Three partners with room in their budgets. The NHS has two ring-fenced lines (therapy;
    meals) and pays for therapy; rehab is paid from a pool of the NHS and the council only; the
    NHS has no money in 2014, so puts nothing into the pool then; a charity buys meals and is
    no contributor."""
    return build(
        years=(2013, 2014),
        partners=[
            {"id": "nhs", "remit": ["therapy"],
             "ring_fenced": [{"id": "grant", "share": 0.1, "interventions": ["therapy"]},
                             {"id": "public_health", "share": 0.2,
                              "interventions": ["meals"]}]},
            {"id": "council", "remit": []},
            {"id": "charity", "remit": ["meals"]},
        ],
        interventions=[{"id": "therapy", "unit_cost": 1, "need": 150},
                       {"id": "rehab", "unit_cost": 2, "need": 100},
                       {"id": "meals", "unit_cost": 0.5, "need": 100}],
        responses=[("therapy", "health", 1, 1.0), ("rehab", "health", 1, 1.0),
                   ("meals", "health", 1, 1.0)],
        budgets={"nhs": [1000, 0], "council": 1000, "charity": 100},
        pools=[{"id": "bcf", "interventions": ["rehab"],
                "contributors": [{"partner": "nhs", "max_share": 0.2},
                                 {"partner": "council", "max_share": 0.3}]}],
    )


def activity_instance() -> hwbopt.Instance:
    """A growth limit, a reduction limit and an equity floor, on services whose outcome is
    full at a tenth of need (so activity can move without moving an outcome)."""
    return build(
        years=(2013, 2014),
        partners=[{"id": "board", "remit": ["grow", "shrink", "even"]}],
        interventions=[{"id": "grow", "unit_cost": 1, "max_growth": 0.5},
                       {"id": "shrink", "unit_cost": 1, "max_reduction": 0.5},
                       {"id": "even", "unit_cost": 1}],
        localities=["north", "south"],
        activity=[{"intervention": "grow", "locality": "north", "current": 10, "need": 100},
                  {"intervention": "shrink", "locality": "north", "current": 40, "need": 100},
                  {"intervention": "even", "locality": "north", "current": 40, "need": 100},
                  {"intervention": "even", "locality": "south", "current": 40, "need": 100}],
        responses=_saturating("grow") + _saturating("shrink") + _saturating("even"),
        budgets={"board": 10_000},
        settings={"equity_floor": 0.9},
    )


def staff_instance() -> hwbopt.Instance:
    """The least cost of 110 points a year: rehab in full (100, with 10 social workers and 10
    nurses: the council's 2 and 8 of the NHS's, in an integrated team) and nursing at 20 (the
    NHS's other 2 nurses); every nurse is paid £k 40. The council also employs clerks (4 a year,
    up to 2 recruited, half releasable) and porters (10, then 2) that no service needs and that
    cost more to release than to keep. Whole posts."""
    years = (2013, 2014)

    def line(employer, role, fte, cost, **kw):
        return [{"employer": employer, "role": role, "year": y, "fte": f, "cost_per_fte": cost,
                 **kw} for y, f in zip(range(years[0], years[1] + 1), fte, strict=True)]

    return build(
        years=years,
        settings={"whole_posts": True, "objective": "cost"},
        partners=[{"id": "nhs", "remit": ["nursing"]}, {"id": "council", "remit": ["rehab"]}],
        roles=[{"id": r} for r in ("nurse", "social_worker", "clerk", "porter")],
        interventions=[{"id": "rehab", "unit_cost": 1, "need": 100, "lead": "council"},
                       {"id": "nursing", "unit_cost": 1, "need": 80, "lead": "nhs"}],
        priorities=[{"id": "health", "measure": "m", "unit": "points", "target_type": "hard"}],
        responses=[("rehab", "health", 1, 1.0), ("nursing", "health", 1, 0.5)],
        targets=[("health", y, 110) for y in range(years[0], years[1] + 1)],
        budgets={"nhs": 10_000, "council": 10_000},
        staff=line("nhs", "nurse", (10, 10), 40, integrated=True, recruit_limit=1)
        + line("council", "nurse", (2, 2), 40)
        + line("council", "social_worker", (10, 10), 30)
        + line("council", "clerk", (4, 4), 20, recruit_limit=2, max_release=0.5,
               release_cost=1000)
        + line("council", "porter", (10, 2), 10, max_release=0.5, release_cost=1000),
        intervention_staff=[
            {"intervention": "rehab", "role": "nurse", "fte_per_unit": 0.1},
            {"intervention": "rehab", "role": "social_worker", "fte_per_unit": 0.1},
            {"intervention": "nursing", "role": "nurse", "fte_per_unit": 0.1},
        ],
    )


def estate_instance() -> hwbopt.Instance:
    """The least cost of 200 points a year: daycare in full (north, 10 rooms at the town hall)
    and clinic at 50 (south, 5 rooms: 3 at the shareable south hall, 2 at the NHS's south
    clinic). The council's depot (shareable) closes at once; its south office (not shareable)
    may not close and is empty; a burnt-out site is not available."""
    first, last = 2013, 2015
    return build(
        years=(first, last),
        settings={"objective": "cost"},
        localities=["north", "south"],
        partners=[{"id": "nhs", "remit": ["clinic"]}, {"id": "council", "remit": ["daycare"]}],
        space_types=[{"id": "room", "unit": "rooms"}, {"id": "desk", "unit": "desks"}],
        interventions=[{"id": "clinic", "unit_cost": 1, "lead": "nhs"},
                       {"id": "daycare", "unit_cost": 1, "lead": "council"}],
        activity=[{"intervention": "clinic", "locality": "south", "current": 0, "need": 100},
                  {"intervention": "daycare", "locality": "north", "current": 0, "need": 100}],
        priorities=[{"id": "health", "measure": "m", "unit": "points", "target_type": "hard"}],
        responses=[("clinic", "health", 1, 1.0), ("daycare", "health", 1, 1.5)],
        targets=[("health", y, 200) for y in range(first, last + 1)],
        budgets={"nhs": 1000, "council": 1000},
        sites=[
            {"id": "town_hall", "owner": "council", "locality": "north", "running_cost": 10,
             "shareable": True, "can_close": False},
            {"id": "south_hall", "owner": "council", "locality": "south", "running_cost": 5,
             "shareable": True, "can_close": False},
            {"id": "south_clinic", "owner": "nhs", "locality": "south", "running_cost": 5},
            {"id": "old_depot", "owner": "council", "locality": "south", "running_cost": 30,
             "closure_cost": 10, "shareable": True},
            {"id": "south_office", "owner": "council", "locality": "south", "running_cost": 1,
             "can_close": False},
            {"id": "burnt", "owner": "council", "locality": "north", "running_cost": 1,
             "available": False},
        ],
        site_capacity=[{"site": s, "space_type": "room", "capacity": c}
                       for s, c in (("town_hall", 12), ("south_hall", 3), ("south_clinic", 8),
                                    ("old_depot", 5), ("south_office", 5), ("burnt", 1))],
        intervention_space=[{"intervention": "clinic", "space_type": "room", "per_unit": 0.1},
                            {"intervention": "daycare", "space_type": "room", "per_unit": 0.1}],
    )


def knapsack_instance() -> hwbopt.Instance:
    """Three all-or-nothing services; the optimum funds B (50) and C (45), not A."""
    services = [("a", 60, 2.0), ("b", 50, 1.9), ("c", 45, 1.8)]
    return build(
        partners=[{"id": "board", "remit": [s for s, _, _ in services]}],
        interventions=[{"id": s, "unit_cost": 1, "need": n, "min_scale": n}
                       for s, n, _ in services],
        responses=[(s, "health", 1, e) for s, _, e in services],
        budgets={"board": 100},
    )


def alternatives_instance() -> hwbopt.Instance:
    """A and B are alternatives, C needs A: the optimum runs A and C."""
    return build(
        partners=[{"id": "board", "remit": ["a", "b", "c"]}],
        interventions=[{"id": i, "unit_cost": 1, "need": 50} for i in "abc"],
        responses=[("a", "health", 1, 2.0), ("b", "health", 1, 3.0), ("c", "health", 1, 2.5)],
        budgets={"board": 100},
        exclusive=[{"id": "model_of_care", "interventions": ["a", "b"]}],
        dependencies=[{"intervention": "c", "requires": "a"}],
    )


def dependency_instance() -> hwbopt.Instance:
    """B (2 points a unit) runs only if A does; A (£5k to set up) adds nothing itself. X (£100k
    to set up) is out of reach, so Y, which needs X, does not run either."""
    return build(
        partners=[{"id": "board", "remit": ["a", "b", "x", "y"]}],
        interventions=[{"id": "a", "unit_cost": 1, "need": 10, "setup_cost": 5},
                       {"id": "b", "unit_cost": 1, "need": 10},
                       {"id": "x", "unit_cost": 1, "need": 10, "setup_cost": 100},
                       {"id": "y", "unit_cost": 1, "need": 10}],
        responses=[("b", "health", 1, 2.0), ("x", "health", 1, 1.0), ("y", "health", 1, 1.0)],
        budgets={"board": 100},
        dependencies=[{"intervention": "b", "requires": "a"},
                      {"intervention": "y", "requires": "x"}],
    )


PLANS: dict[str, Callable[[], hwbopt.Instance]] = {
    "tutorial": lambda: hwbopt.load(hwbopt.shipped_instance("tutorial")),
    "money": money_instance,
    "activity": activity_instance,
    "staff": staff_instance,
    "estate": estate_instance,
    "knapsack": knapsack_instance,
    "alternatives": alternatives_instance,
    "dependency": dependency_instance,
}


@functools.cache
def solved(plan: str) -> tuple[hwbopt.Instance, hwbopt.Result]:
    inst = PLANS[plan]()
    result = solve_checked(inst, mip_gap=0)
    assert result.status == "optimal", result.message
    return inst, result


# ---------------------------------------------------------------------------------------------
# tampering
# ---------------------------------------------------------------------------------------------


def one(table: pd.DataFrame, **match) -> int:
    """The index of the one row matching every column value given."""
    mask = pd.Series(True, index=table.index)
    for col, value in match.items():
        mask &= table[col] == value
    found = table.index[mask]
    assert len(found) == 1, (match, table)
    return found[0]


def add_row(t: Tables, name: str, **values) -> None:
    """Append a row to a table; columns not given copy the table's first row."""
    table = t[name]
    row = {**table.iloc[0].to_dict(), **values} if len(table) else values
    t[name] = pd.concat([table, pd.DataFrame([row])], ignore_index=True)


def drop(t: Tables, name: str, **match) -> None:
    t[name] = t[name].drop(one(t[name], **match))


def set_cell(t: Tables, name: str, col: str, value, **match) -> None:
    t[name].loc[one(t[name], **match), col] = value


def shift(t: Tables, name: str, col: str, delta: float, **match) -> None:
    t[name].loc[one(t[name], **match), col] += delta


def set_activity(t: Tables, i: str, loc: str, y: int, value: float, unit_cost: float) -> None:
    """Change one activity and pay for it: the change in cost lands on the intervention's first
    allocation row that year (any of its funders; the checker adds them up)."""
    act = t["activity"]
    k = one(act, intervention=i, locality=loc, year=y)
    delta = (value - act.loc[k, "activity"]) * unit_cost
    act.loc[k, "activity"] = value
    alloc = t["allocation"]
    rows = alloc.index[(alloc.intervention == i) & (alloc.year == y)]
    alloc.loc[rows[0], "money"] += delta


@dataclass(frozen=True)
class Case:
    plan: str
    tamper: Callable[[Tables], None]
    expected: tuple[str, ...]
    objective_delta: float | None = None  # also check the objective, reported this much off
    policies: tuple = ()  # a policy case: check_policies with these rules


CASES: dict[str, Case] = {}


def case(name: str, plan: str, *expected: str, **kw) -> Callable:
    def register(tamper: Callable[[Tables], None]) -> Callable[[Tables], None]:
        assert name not in CASES, name
        CASES[name] = Case(plan, tamper, expected, **kw)
        return tamper
    return register


def untouched(t: Tables) -> None:
    """The plan as solved (the rule broken is elsewhere: a policy, the objective)."""


# ---- activity: need caps, change limits, equity floor ---------------------------------------

@case("activity row missing", "tutorial", "activity of befriending in all 2014 is missing")
def _(t):
    drop(t, "activity", intervention="befriending", year=2014)  # unfunded: nothing else moves


@case("activity above need", "tutorial",
      "activity of weight_management in all 2013 = 1240 outside [0, need 1200]")
def _(t):
    # beyond need a response curve adds nothing; the CCG has £k 12 to spare in 2013
    set_activity(t, "weight_management", "all", 2013, 1240, 0.25)


@case("growth limit", "activity", "grow in north grows to 20 in 2013, above 15")
def _(t):
    set_activity(t, "grow", "north", 2013, 20, 1)


@case("reduction limit", "activity", "shrink in north shrinks to 15 in 2013, below 20")
def _(t):
    set_activity(t, "shrink", "north", 2013, 15, 1)


@case("equity floor", "activity",
      "even in south 2013 covers 0.1 of need, below the equity floor 0.495")
def _(t):
    set_activity(t, "even", "north", 2013, 100, 1)  # south stays at 10 of its 100


# ---- money: funds, remits, pools, budgets -----------------------------------------------------

@case("negative money", "tutorial", "negative money -5 in allocation")
def _(t):
    match = {"partner": "nhs", "fund": "retained", "intervention": "talking_therapies",
             "year": 2013}
    shift(t, "allocation", "money", 5, **match)
    add_row(t, "allocation", **match, source="nhs", locality="all", money=-5.0, activity=0.0)


@case("retained money outside the remit", "tutorial",
      "council spends retained money on exercise_referral, outside its remit")
def _(t):
    set_cell(t, "allocation", "source", "nhs", partner="council", intervention="exercise_referral",
             year=2013)


@case("ring-fenced line funds another service", "money",
      "ring-fenced line nhs/public_health funds therapy, which it may not")
def _(t):
    k = one(t["allocation"], intervention="therapy", year=2013)
    t["allocation"].loc[k, ["fund", "source"]] = ["ring_fenced", "public_health"]


@case("pool funds another service", "money", "pool bcf funds therapy, which it may not")
def _(t):
    """The NHS's therapy paid through the pool, which receives the money for it."""
    alloc, pools = t["allocation"], t["pools"]
    k = one(alloc, intervention="therapy", year=2013)
    money = alloc.loc[k, "money"]
    nhs = one(pools, partner="nhs", year=2013)
    payer = "nhs" if pools.loc[nhs, "contributed"] + money <= 0.2 * 1000 else "council"
    pools.loc[one(pools, partner=payer, year=2013), "contributed"] += money
    alloc.loc[k, ["partner", "fund", "source"]] = [payer, "pooled", "bcf"]


@case("unknown fund", "tutorial", "unknown fund kind 'grant'")
def _(t):
    set_cell(t, "allocation", "fund", "grant", partner="council", intervention="exercise_referral",
             year=2013)


@case("pooled money of a partner outside the pool", "money",
      "pooled money of bcf in 2014 is attributed to charity, which is not a contributor")
def _(t):
    set_cell(t, "allocation", "partner", "charity", fund="pooled", year=2014)


@case("pooled money of a contributor that put nothing in", "money",
      "pooled money of bcf in 2014 is attributed to nhs, which put nothing into it that year")
def _(t):
    set_cell(t, "allocation", "partner", "nhs", fund="pooled", year=2014)


@case("cost not paid in full", "tutorial",
      "weight_management in 2013 costs 300 but 305 is paid for it")
def _(t):
    shift(t, "allocation", "money", 5, intervention="weight_management", year=2013)


@case("savings credit above what is avoided or required", "tutorial",
      "nhs is credited 41 of savings in 2013, but required 40 and avoided 300")
def _(t):
    set_cell(t, "budgets", "qipp_credit", 41.0, partner="nhs", year=2013)


@case("general money overspent", "tutorial", "nhs spends 988 of general money in 2013, above 980")
def _(t):
    set_cell(t, "budgets", "qipp_credit", 20.0, partner="nhs", year=2013)


@case("ring-fenced line overspent", "money",
      "ring-fenced line nhs/grant spends 150 in 2013, above 100")
def _(t):
    k = one(t["allocation"], intervention="therapy", year=2013)
    t["allocation"].loc[k, ["fund", "source"]] = ["ring_fenced", "grant"]


@case("pool share", "tutorial", "nhs puts 298 into bcf in 2013, outside shares [0, 0.3] of 960")
def _(t):
    shift(t, "pools", "contributed", 10, partner="nhs", year=2013)  # within the CCG's budget


@case("contribution from a partner outside the pool", "money",
      "charity contributes to bcf but is not a contributor")
def _(t):
    add_row(t, "pools", pool="bcf", partner="charity", year=2014, contributed=10.0, spent=0.0)


@case("pool spends more than it receives", "tutorial",
      "pool bcf spends 539.1 in 2013 but receives 529.1")
def _(t):
    shift(t, "pools", "contributed", -10, partner="council", year=2013)


# ---- outcomes, targets and the objective ------------------------------------------------------

@case("outcome missing", "tutorial", "outcome of obesity in 2014 is missing")
def _(t):
    drop(t, "outcomes", priority="obesity", year=2014)


@case("outcome misreported", "tutorial", "outcome of obesity in 2013 reported 281, recomputed 280")
def _(t):
    shift(t, "outcomes", "achieved", 1, priority="obesity", year=2013)


@case("hard target missed", "tutorial", "hard target of mental_health in 2013 missed: 120 < 150")
def _(t):
    """Half the talking therapies (and half their money): mental health falls by 100."""
    set_activity(t, "talking_therapies", "all", 2013, 200, 1.0)
    shift(t, "outcomes", "achieved", -100, priority="mental_health", year=2013)


case("objective misreported", "tutorial",
     "objective reported 10067.44, recomputed from the plan 10066.44", objective_delta=1)(untouched)


# ---- staff ------------------------------------------------------------------------------------

def clerks(t: Tables, year: int, col: str, value: float) -> None:
    """Set the clerks' recruitment or release in ``year`` and carry it into who is in post."""
    s = t["staff"]
    k = one(s, employer="council", role="clerk", year=year)
    delta = value - s.loc[k, col]
    s.loc[k, col] = value
    later = (s.employer == "council") & (s.role == "clerk") & (s.year >= year)
    s.loc[later, "in_post"] += delta if col == "recruited" else -delta


@case("staff row missing", "staff", "staff of council in clerk 2014 missing from the staff table")
def _(t):
    drop(t, "staff", employer="council", role="clerk", year=2014)


@case("negative release", "staff", "council clerk released -1 in 2013")
def _(t):
    clerks(t, 2013, "released", -1)


@case("whole posts", "staff", "council clerk recruited 0.5 in 2013: whole posts expected")
def _(t):
    clerks(t, 2013, "recruited", 0.5)


@case("recruitment limit", "staff", "council recruits 3 clerk in 2013, above the limit 2")
def _(t):
    clerks(t, 2013, "recruited", 3)


@case("release limit", "staff", "council releases 3 clerk in 2013, above 0.5 of 4")
def _(t):
    clerks(t, 2013, "released", 3)


@case("in post against available plus changes", "staff",
      "council has 5 clerk in post in 2014, but 4 available plus changes makes 4")
def _(t):
    shift(t, "staff", "in_post", 1, employer="council", role="clerk", year=2014)


@case("negative staff in post", "staff", "council has -3 porter in post in 2014, below none")
def _(t):
    """Half the porters released in 2013 (the limit), when only 2 remain available in 2014."""
    s = t["staff"]
    set_cell(t, "staff", "released", 5.0, employer="council", role="porter", year=2013)
    porters = (s.employer == "council") & (s.role == "porter")
    s.loc[porters, "in_post"] = [5.0, -3.0]


@case("deployment of staff no service needs", "staff",
      "council deploys clerk to rehab in 2013, which has no such staff or need")
def _(t):
    add_row(t, "deployment", employer="council", role="clerk", intervention="rehab", year=2013,
            fte=1.0, cost=20.0, lead="council", integrated=False)


@case("serving another lead without integrated working", "staff",
      "council's nurse serve nursing in 2014, led by nhs, without integrated working")
def _(t):
    """The council's 2 nurses swap places with 2 of the NHS's: every service keeps its nurses,
    every employer its deployment (both pay £k 40 an FTE)."""
    d = t["deployment"]
    set_cell(t, "deployment", "intervention", "nursing", employer="council", role="nurse",
             year=2014)
    d.loc[one(d, employer="nhs", role="nurse", intervention="nursing", year=2014), "fte"] -= 2
    d.loc[one(d, employer="nhs", role="nurse", intervention="rehab", year=2014), "fte"] += 2


@case("negative deployment", "staff", "negative deployment of nhs nurse to rehab in 2013")
def _(t):
    match = {"employer": "nhs", "role": "nurse", "intervention": "rehab", "year": 2013}
    shift(t, "deployment", "fte", 1, **match)
    add_row(t, "deployment", **match, fte=-1.0, cost=-40.0)


@case("deploying more than in post", "staff", "council deploys 3 nurse in 2013, with 2 in post")
def _(t):
    shift(t, "deployment", "fte", 1, employer="council", role="nurse", year=2013)
    shift(t, "deployment", "fte", -1, employer="nhs", role="nurse", intervention="rehab",
          year=2013)


@case("service short of staff", "staff", "nursing needs 2 FTE of nurse in 2013, gets 1")
def _(t):
    """One NHS nurse fewer on nursing, and its cost (her £k 40) not paid."""
    shift(t, "deployment", "fte", -1, employer="nhs", role="nurse", intervention="nursing",
          year=2013)
    shift(t, "allocation", "money", -40, intervention="nursing", year=2013)


# ---- estate -----------------------------------------------------------------------------------

def move_use(t: Tables, i: str, y: int, source: str, target: str, amount: float) -> None:
    """Move ``amount`` of room used by ``i`` from one site to another (a new row if needed)."""
    u = t["site_use"]
    u.loc[one(u, site=source, intervention=i, year=y), "used"] -= amount
    there = (u.site == target) & (u.intervention == i) & (u.year == y)
    if there.any():
        u.loc[there, "used"] += amount
    else:
        add_row(t, "site_use", site=target, intervention=i, space_type="room", year=y,
                used=amount)


@case("site row missing", "estate", "site old_depot in 2015 missing from the sites table")
def _(t):
    drop(t, "sites", site="old_depot", year=2015)


@case("site reopening", "estate", "site old_depot reopens in 2015 after closing")
def _(t):
    set_cell(t, "sites", "open", True, site="old_depot", year=2015)


@case("closing a site that may not close", "estate",
      "site south_office closes in 2015 but may not close")
def _(t):
    set_cell(t, "sites", "open", False, site="south_office", year=2015)


@case("using a site that is not available", "estate",
      "site burnt is open in 2013 but not available")
def _(t):
    set_cell(t, "sites", "open", True, site="burnt", year=2013)


@case("space a site does not have", "estate",
      "clinic uses desk at south_office in 2013, which has no such space or need")
def _(t):
    add_row(t, "site_use", site="south_office", intervention="clinic", space_type="desk",
            year=2013, used=1.0)


@case("co-location where it is not allowed", "estate",
      "clinic (led by nhs) uses south_office, owned by council, which does not allow co-location")
def _(t):
    move_use(t, "clinic", 2013, "south_hall", "south_office", 1)


@case("using a closed site", "estate", "clinic uses old_depot in 2014, after it closed")
def _(t):
    move_use(t, "clinic", 2014, "south_clinic", "old_depot", 1)


@case("a site hosting a service not offered in its locality", "estate",
      "daycare uses south_office in 2013, in south, where it is not offered")
def _(t):
    """Daycare (offered in the north only) also in the council's own empty south office."""
    add_row(t, "site_use", site="south_office", intervention="daycare", space_type="room",
            year=2013, used=1.0)


@case("negative use of space", "estate", "negative use of room at south_hall by clinic in 2013: -1")
def _(t):
    match = {"site": "south_hall", "intervention": "clinic", "year": 2013}
    add_row(t, "site_use", **match, space_type="room", used=-1.0)
    shift(t, "site_use", "used", 1, site="south_clinic", intervention="clinic", year=2013)


@case("space above capacity", "estate", "south_hall holds 4 of room in 2013, above its capacity 3")
def _(t):
    move_use(t, "clinic", 2013, "south_clinic", "south_hall", 1)


@case("activity without space in its locality", "estate",
      "clinic in south 2015 needs 5 of room, has 3 in open sites there")
def _(t):
    drop(t, "site_use", site="south_clinic", intervention="clinic", year=2015)


# ---- go/no-go ---------------------------------------------------------------------------------

@case("go/no-go decision missing", "knapsack", "go/no-go decision of c in 2013 missing")
def _(t):
    drop(t, "choices", intervention="c", year=2013)


@case("activity while not running", "knapsack",
      "b has activity 50 in 2013 but is reported as not running")
def _(t):
    set_cell(t, "choices", "runs", False, intervention="b", year=2013)


@case("below the minimum scale", "knapsack", "b runs at 30 in 2013, below its minimum scale 50")
def _(t):
    set_activity(t, "b", "all", 2013, 30, 1)
    shift(t, "outcomes", "achieved", -1.9 * 20, priority="health", year=2013)


@case("exclusive alternatives both running", "alternatives",
      "exclusive alternatives model_of_care both run in 2013: a, b")
def _(t):
    set_cell(t, "choices", "runs", True, intervention="b", year=2013)  # at no activity


@case("dependant running without the service it requires", "dependency",
      "y runs in 2013 without x")
def _(t):
    set_cell(t, "choices", "runs", True, intervention="y", year=2013)  # at no activity


@case("dependant active while the service it requires has no activity", "dependency",
      "b has activity 10 in 2013 but a, which it requires, has 0")
def _(t):
    """A reported as running (and setting up) with no activity: a run flag satisfies
    nothing."""
    set_activity(t, "a", "all", 2013, 0, 1)


# ---- policies (an option's rules, on the plan of the instance without them) ----------------

case("policy: protect", "tutorial",
     "protect: telecare in all runs 450 in 2013, below today's 800",
     "protect: telecare in all runs 380.96 in 2014, below today's 800",
     policies=(Protect(rule="protect", intervention="telecare"),))(untouched)
case("policy: forbid change", "tutorial",
     "forbid_change: reablement in all runs 300 in 2013, above today's 250",
     "forbid_change: reablement in all runs 300 in 2014, above today's 250",
     policies=(ForbidChange(rule="forbid_change", intervention="reablement"),))(untouched)
case("policy: cap change", "tutorial",
     "cap_change: talking_therapies in all moves from 350 to 400 in 2013, more than 10%",
     policies=(CapChange(rule="cap_change", intervention="talking_therapies",
                         max_change=0.1),))(untouched)
case("policy: keep open", "tutorial",
     "keep_open: site old_mill is closed in 2013", "keep_open: site old_mill is closed in 2014",
     policies=(KeepOpen(rule="keep_open", site="old_mill"),))(untouched)
case("policy: no closures", "tutorial",
     "no_closures: site old_mill is closed in 2013",
     "no_closures: site old_mill is closed in 2014",
     policies=(NoClosures(rule="no_closures"),))(untouched)
case("policy: least share for a priority", "tutorial",
     "min_priority_share: 600 of 1725 spent on mental_health in 2013, below 50%",
     "min_priority_share: 600 of 1690.48 spent on mental_health in 2014, below 50%",
     policies=(MinPriorityShare(rule="min_priority_share", priority="mental_health",
                                share=0.5),))(untouched)


# ---------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------


def copy(result: hwbopt.Result) -> Tables:
    return {k: v.copy() for k, v in result.tables.items()}


@pytest.mark.parametrize("plan", sorted(PLANS))
def test_every_untampered_plan_passes(plan: str) -> None:
    inst, result = solved(plan)
    assert check_solution(inst, result.tables, result.objective_kind, result.objective) == []


@pytest.mark.parametrize("name", list(CASES))
def test_one_rule_broken_is_reported_alone(name: str) -> None:
    c = CASES[name]
    inst, result = solved(c.plan)
    t = copy(result)
    c.tamper(t)
    objective = None if c.objective_delta is None else result.objective + c.objective_delta
    found = check_solution(inst, t, result.objective_kind, objective)
    if c.policies:
        assert found == []  # the plan obeys the instance; only the option's rule is broken
        found = check_policies(inst, t, c.policies)
    assert found == list(c.expected)


def appended_messages() -> list[tuple[int, re.Pattern]]:
    """(line, pattern) of every ``bad.append(...)`` in hwbopt/check.py: its f-string with every
    placeholder a wildcard."""
    out = []
    for node in ast.walk(ast.parse(CHECK_PY.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append" and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "bad"):
            continue
        (arg,) = node.args
        parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
        pattern = "".join(re.escape(p.value) if isinstance(p, ast.Constant) else ".+"
                          for p in parts)
        out.append((node.lineno, re.compile(pattern)))
    return out


def test_every_rule_of_the_checker_has_a_case() -> None:
    rules = appended_messages()
    assert len(rules) >= 50
    messages = [m for c in CASES.values() for m in c.expected]
    missing = [line for line, pattern in rules
               if not any(pattern.fullmatch(m) for m in messages)]
    assert missing == [], f"bad.append in check.py lines {missing} have no case here"
    stray = [m for m in messages if not any(p.fullmatch(m) for _, p in rules)]
    assert stray == []


def test_the_plans_are_the_ones_described() -> None:
    """The facts the cases rely on."""
    _, result = solved("money")
    pools = result.tables["pools"].set_index(["partner", "year"])
    assert pools.loc[("nhs", 2014), "contributed"] == 0
    _, result = solved("estate")
    use = result.tables["site_use"].set_index(["site", "year"])["used"]
    assert use[("south_hall", 2013)] == pytest.approx(3)
    assert use[("south_clinic", 2013)] == pytest.approx(2)
    sites = result.tables["sites"].set_index(["site", "year"])["open"]
    assert not sites[("old_depot", 2013)] and sites[("south_office", 2015)]
    _, result = solved("staff")
    staff = result.tables["staff"]
    assert (staff.recruited == 0).all() and (staff.released == 0).all()
    dep = result.tables["deployment"].set_index(["employer", "role", "intervention",
                                                  "year"])["fte"]
    assert dep[("nhs", "nurse", "nursing", 2014)] == pytest.approx(2)
    assert dep[("council", "nurse", "rehab", 2013)] == pytest.approx(2)
    _, result = solved("dependency")
    act = result.tables["activity"].set_index("intervention")["activity"]
    # A runs to let B run, and delivers: one unit (models/choices.md, dependency_activity)
    assert act["a"] == pytest.approx(1) and act["b"] == pytest.approx(10)
    assert act["x"] == 0 and act["y"] == 0
