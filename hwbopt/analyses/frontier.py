"""The Pareto frontier between two criteria: every efficient trade-off, each a certified plan.

``hwbopt frontier PATH --between A,B`` (``models/frontier.md``), A and B among ``outcome``,
``cost`` and ``equity`` (:mod:`hwbopt.analyses.criteria` puts all three on the columns of one
compiled model). Each criterion is written here as a value to *minimise*, ``f = sense × v @ x``
(outcome and equity turned round), so a plan is efficient when no plan has both ``f_A`` and
``f_B`` at least as low and one lower.

**The ends.** Each end is a lexicographic optimum: optimise A; then, with A held at that optimum
(a relative slack of :data:`HOLD`) by the criterion row of A, optimise B. A single-objective
optimum can be weakly efficient (the county's cheapest plan can be bought with very different
outcomes), and the second solve is what makes the end efficient. The criterion rows
(``criterion_bound[name]``, :func:`hwbopt.analyses.criteria.bounded`) are in the model from the
start, free, so holding a criterion changes only a row's bound.

**A linear model: the exact frontier, by NISE** (non-inferior set estimation, Cohon 1978; the
dichotomic search of Aneja and Nair 1979). In each criterion's range along the frontier
(scaled to [0, 1]) take two adjacent supported points L and R and minimise the weighted sum
whose weights are the normal of the segment L–R. Either the optimum lies strictly below the
segment — a new supported point, and the two segments on either side of it are searched in
turn — or it does not, which proves the whole segment L–R is on the frontier (the weighted sum
of any plan is no lower than the segment's). Every solve therefore finds a point or closes a
segment, and with ``K`` breakpoints the search takes ``2K - 3`` weighted solves after the four
of the ends. A weighted optimum with both weights above zero is always efficient, so only the
ends need the lexicographic clean-up. A point found strictly below its parent segment may
still fall on the line through its final neighbours (the weighted problem's optimal face was
an edge and the simplex stopped inside it): such points are not breakpoints and are dropped.
Between consecutive breakpoints every mixture of the two plans is a plan (the model is
linear), so the points are the whole frontier: ``exact: true``.

**A mixed-integer model: ε-constraint points.** The frontier is a set of separate plans, not
segments; ``--points N`` values of ε are spread evenly over B's range between its two
lexicographic ends, and for each A is optimised with B held at ε by its criterion row, then B
optimised with A held (so each point is efficient, not weakly efficient), each solve a proven
optimum within the MIP gap. The values of ε go from B's own optimum towards A's, so the plan of
the point before is feasible for the next (its B is within the looser bound) and is offered to
HiGHS as a starting plan; once A reaches its own optimum every later ε gives A's end, which is
not solved again. Points that coincide are reported once, and a point another point dominates
(possible within a MIP gap) is dropped. ``exact: false``.

**One model, warm.** The model is compiled once and loaded into HiGHS once; a solve changes only
the objective's coefficients (the weights) and the bounds of the criterion rows. An LP
re-solves from the last basis; a MIP starts from the last point's plan, with the options that
cut the county's solves most (:data:`hwbopt.analyses.coalitions.MIP_OPTIONS`).

**Every point is a plan**, certified like any solve: its values on the outcome model's own
columns go through :func:`hwbopt.pipeline.result_from` (tables, and the independent checker
against the instance). The run is ``optimal`` only if every point is a proven optimum and
passed the checker. Between consecutive points the largest changes in the plan are said in
words: activity by intervention over the horizon, each partner's spend on services, sites
opened or closed, go/no-go interventions started or stopped (:func:`plan_changes`).
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt import highs
from hwbopt.analyses.criteria import (
    BOUND,
    COST,
    EQUITY,
    NAMES,
    OUTCOME,
    Criteria,
    bounded,
    criteria,
    measure,
)
from hwbopt.compile import Compiled
from hwbopt.errors import UsageError
from hwbopt.model.phrases import labels, num
from hwbopt.pipeline import result_from
from hwbopt.results import Result
from hwbopt.schema import Instance, year_label
from hwbopt.status import EARLY, Status, check_limits

DEFAULT_POINTS = 11  # ε-constraint points of a mixed-integer frontier, both ends included
# Two points closer than this share of each criterion's range along the frontier are one
# point, and a weighted optimum must beat its segment by more than this to be a new
# breakpoint: a millionth of the range is far below anything a board reads, and far above
# the simplex's tolerances (1e-7 on rows and reduced costs, on values scaled to the range).
TOLERANCE = 1e-6
# A criterion held at its optimum in a lexicographic second solve may give this much (relative,
# at least this much absolutely): the first solve's plan stays feasible in the second whatever
# the rounding of the row's activity.
HOLD = 1e-9
MAX_BREAKPOINTS = 400  # NISE stops (the frontier then reported as not exact) beyond this
MAX_CHANGES = 5  # changes of each kind listed between consecutive points
SIGNIFICANT = 4  # significant figures of the amounts in the words of a change
UNITS = {OUTCOME: "points of weighted outcome", EQUITY: "share of its target met"}


def parse_between(text: str) -> tuple[str, str]:
    """``--between A,B``: two different criteria among outcome, cost and equity."""
    parts = [p.strip().lower() for p in str(text).split(",")]
    known = ", ".join(NAMES)
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"--between {text!r}: expected two criteria as A,B, such as "
                         f"outcome,cost (each one of {known})")
    unknown = [p for p in parts if p not in NAMES]
    if unknown:
        raise UsageError(f"--between {text!r}: unknown criterion {unknown[0]!r}: expected "
                         f"one of {known}")
    if parts[0] == parts[1]:
        raise UsageError(f"--between {text!r}: the two criteria are the same; a frontier "
                         f"trades two different ones (among {known})")
    return parts[0], parts[1]


# ---------------------------------------------------------------------------------------------
# one compiled model, loaded once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """One solve's plan on the engine's columns with the minimised criteria values."""

    x: np.ndarray
    fa: float
    fb: float
    raws: tuple[highs.RawSolution, ...]  # the solves that made it (one, or two: lexicographic)

    @property
    def status(self) -> str:
        """Optimal only when every solve that made it is a proven optimum."""
        for r in self.raws:
            if r.status != Status.OPTIMAL:
                return str(r.status)
        return str(Status.OPTIMAL)

    @property
    def message(self) -> str:
        return next((r.message for r in self.raws if r.message), "")


class _Engine:
    """The criteria's model in HiGHS, loaded once. A solve changes only the objective's
    coefficients and the bounds of the criterion rows (``criterion_bound[name]``)."""

    def __init__(self, c: Criteria, a: str, b: str, time_limit: float | None,
                 mip_gap: float, threads: int | None = None) -> None:
        self.c, self.a, self.b = c, a, b
        self.comp: Compiled = bounded(c, a)  # every criterion row free; objective replaced
        self.row = {name: r for name, r in self.comp.rows(BOUND).items()}
        self.h = highs.load(self.comp, threads)
        self.n = self.comp.n_cols
        self.every = np.arange(self.n, dtype=np.int32)
        self.is_mip = bool(self.comp.integer.any())
        self.time_limit, self.mip_gap = time_limit, mip_gap
        # each criterion as minimised: sense × coefficients (constants left out)
        self.g = {name: c.senses[name] * c.vectors[name] for name in NAMES}
        self.solves = 0
        self.seconds = 0.0

    def f(self, name: str, x: np.ndarray) -> float:
        """Criterion ``name`` as minimised, without its constant."""
        return float(self.g[name] @ x)

    def plan(self, x: np.ndarray, *raws: highs.RawSolution) -> _Plan:
        return _Plan(x, self.f(self.a, x), self.f(self.b, x), tuple(raws))

    def optimise(self, name: str) -> None:
        """The objective: criterion ``name`` alone. Its constant part is left out of what
        HiGHS is given (as every solve does: models/objective.md), so a MIP gap is relative to
        what the plan controls."""
        s = self.c.senses[name]
        self.h.changeColsCost(self.n, self.every, self.g[name])
        self.h.changeObjectiveOffset(s * (self.c.constants[name] - self.c.fixed[name]))
        self.h.constant = s * self.c.fixed[name]

    def weigh(self, wa: float, wb: float) -> None:
        """The objective: ``wa f_A + wb f_B``, rescaled so its largest coefficient is that of
        the larger criterion (the weights are fractions of each range, often tiny)."""
        cost = wa * self.g[self.a] + wb * self.g[self.b]
        top = float(np.abs(cost).max()) if self.n else 0.0
        scale = max(float(np.abs(self.g[self.a]).max()), float(np.abs(self.g[self.b]).max()))
        if top > 0 and scale > 0:
            cost = cost * (scale / top)
        self.h.changeColsCost(self.n, self.every, cost)
        self.h.changeObjectiveOffset(0.0)
        self.h.constant = 0.0

    def hold(self, name: str, f: float | None) -> None:
        """Hold criterion ``name`` at most ``f`` as minimised (None: free its row)."""
        r = self.row[name]
        lower, upper = -np.inf, np.inf
        if f is not None:
            if self.c.senses[name] == 1:
                upper = f
            else:
                lower = -f  # sense × v @ x <= f  <=>  v @ x >= -f
        highs.change_rows_bounds(self.h, np.array([r], dtype=np.int32), np.array([lower]),
                                 np.array([upper]))

    def solve(self, start: np.ndarray | None = None) -> highs.RawSolution:
        if self.is_mip:
            from hwbopt.analyses.coalitions import MIP_OPTIONS

            # options again each time: a fallback in highs.settle resets presolve
            for option, value in MIP_OPTIONS.items():
                self.h.setOptionValue(option, value)
            if start is not None:
                highs.start_from(self.h, start)
        raw = highs.run(self.h, time_limit=self.time_limit,
                        mip_gap=self.mip_gap if self.is_mip else None, is_mip=self.is_mip)
        self.solves += 1
        self.seconds += raw.seconds
        return raw

    def lexicographic(self, first: str, second: str,
                      start: np.ndarray | None = None) -> tuple[_Plan | None,
                                                                highs.RawSolution]:
        """Optimise ``first``, then ``second`` with ``first`` held at its optimum; the plan
        (None if the first solve found none) and the last solve's answer."""
        self.optimise(first)
        one = self.solve(start)
        if one.x is None:
            return None, one
        held = self.f(first, one.x)
        self.hold(first, held + HOLD * max(1.0, abs(held)))
        self.optimise(second)
        two = self.solve(one.x)
        self.hold(first, None)
        if two.x is None:  # the first solve's plan stands, with the second's status
            return self.plan(one.x, one, two), two
        return self.plan(two.x, one, two), two


# ---------------------------------------------------------------------------------------------
# the two methods
# ---------------------------------------------------------------------------------------------


@dataclass
class _Search:
    """What a method found: the efficient plans (A's end first) and how the search ended."""

    plans: list[_Plan]
    failed: highs.RawSolution | None = None  # a solve with no plan, which stopped the search
    truncated: bool = False  # NISE stopped at MAX_BREAKPOINTS
    own: _Plan | None = None  # the first solve of the outcome end: the instance's own plan
    dropped: int = 0  # ε-constraint points another point dominates (within the MIP gap)


def _ends(e: _Engine) -> tuple[_Search, _Plan | None, _Plan | None]:
    """Both lexicographic ends: B's first, so its plan starts A's (it is feasible there)."""
    zb, last = e.lexicographic(e.b, e.a)
    if zb is None:
        return _Search([], failed=last), None, None
    za, last = e.lexicographic(e.a, e.b, start=zb.x)
    if za is None:
        return _Search([], failed=last), None, None
    search = _Search([])
    search.own = (za if e.a == OUTCOME else zb if e.b == OUTCOME else None)
    if search.own is not None:  # its first solve, before the clean-up, is `hwbopt solve`'s
        first = search.own.raws[0]
        if first.x is not None:
            search.own = e.plan(first.x, first)
    return search, za, zb


def _same(p: _Plan, q: _Plan, ra: float, rb: float) -> bool:
    return abs(p.fa - q.fa) <= TOLERANCE * ra and abs(p.fb - q.fb) <= TOLERANCE * rb


def nise(e: _Engine) -> _Search:
    """The exact frontier of a linear model (module docstring)."""
    search, za, zb = _ends(e)
    if za is None or zb is None:
        return search
    ra, rb = zb.fa - za.fa, za.fb - zb.fb
    if ra <= TOLERANCE * max(1.0, abs(za.fa)) or rb <= TOLERANCE * max(1.0, abs(zb.fb)):
        search.plans = [za]  # one plan is best in both: no trade-off
        return search
    found = [za, zb]
    todo = [(za, zb)]
    while todo:
        left, right = todo.pop()
        if len(found) >= MAX_BREAKPOINTS:
            search.truncated = True
            break
        # the segment's normal, in each criterion's range along the frontier
        wa = (left.fb - right.fb) / rb
        wb = (right.fa - left.fa) / ra
        e.weigh(wa / ra, wb / rb)
        raw = e.solve()
        if raw.x is None:
            search.failed = raw
            break
        z = e.plan(raw.x, raw)
        below = wa * (left.fa - z.fa) / ra + wb * (left.fb - z.fb) / rb
        if below > TOLERANCE * (wa + wb) and not (_same(z, left, ra, rb)
                                                   or _same(z, right, ra, rb)):
            found.append(z)
            todo += [(z, right), (left, z)]  # left first: its basis is the nearer
        # else: no plan lies below the segment, which is therefore on the frontier
    found.sort(key=lambda p: (p.fa, -p.fb))
    search.plans = _breakpoints(found, ra, rb)
    return search


def _breakpoints(points: list[_Plan], ra: float, rb: float) -> list[_Plan]:
    """Points sorted along the frontier, without those on the segment of their neighbours."""
    out = list(points)
    k = 1
    while k < len(out) - 1:
        p, q, r = out[k - 1], out[k], out[k + 1]
        # q's distance from the chord p–r, in range units
        da, db = (r.fa - p.fa) / ra, (r.fb - p.fb) / rb
        cross = da * (q.fb - p.fb) / rb - db * (q.fa - p.fa) / ra
        if abs(cross) <= TOLERANCE * float(np.hypot(da, db)):
            del out[k]
        else:
            k += 1
    return out


def epsilon_points(e: _Engine, n: int) -> _Search:
    """ε-constraint points of a mixed-integer model (module docstring)."""
    search, za, zb = _ends(e)
    if za is None or zb is None:
        return search
    ra, rb = zb.fa - za.fa, za.fb - zb.fb
    if ra <= TOLERANCE * max(1.0, abs(za.fa)) or rb <= TOLERANCE * max(1.0, abs(zb.fb)):
        search.plans = [za]
        return search
    plans = [zb]
    prev = zb
    for k in range(1, n - 1):
        if prev.fa <= za.fa + TOLERANCE * ra:
            break  # A is at its optimum: every looser ε gives A's end again
        eps = zb.fb + rb * k / (n - 1)
        e.hold(e.b, eps + HOLD * max(1.0, abs(eps)))
        p, last = e.lexicographic(e.a, e.b, start=prev.x)
        e.hold(e.b, None)
        if p is None:
            search.failed = last
            break
        plans.append(p)
        prev = p
    plans.append(za)
    search.plans, search.dropped = _efficient(plans, ra, rb)
    return search


def _efficient(plans: list[_Plan], ra: float, rb: float) -> tuple[list[_Plan], int]:
    """The plans with coinciding ones reported once and dominated ones dropped, A's end
    first (a point within the MIP gap of its optimum may be beaten by a later one); and how
    many were dominated."""
    ta, tb = TOLERANCE * ra, TOLERANCE * rb
    out: list[_Plan] = []
    dominated = 0
    for p in sorted(plans, key=lambda p: (p.fa, p.fb)):
        if any(_same(p, q, ra, rb) for q in out):
            continue
        if any(q.fa <= p.fa + ta and q.fb <= p.fb + tb and (q.fa < p.fa - ta or q.fb < p.fb - tb)
               for q in plans if q is not p):
            dominated += 1
        else:
            out.append(p)
    return out, dominated


# ---------------------------------------------------------------------------------------------
# what changes between two plans, in words
# ---------------------------------------------------------------------------------------------


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b))


def _cleaned(a: float, b: float) -> tuple[float, float]:
    """Two amounts with the solver's noise (a millionth of the larger) shown as zero."""
    tiny = 1e-6 * max(1.0, abs(a), abs(b))
    return (0.0 if abs(a) <= tiny else a), (0.0 if abs(b) <= tiny else b)


def _n(v: float) -> str:
    return num(v, SIGNIFICANT)


def _years(years: Iterable[int], all_years: list[int], verb: str, never: str) -> str:
    """'open throughout', 'open from 2014/15', 'open until 2013/14', 'closed throughout'."""
    on = sorted(int(y) for y in years)
    if not on:
        return never
    if on == all_years:
        return f"{verb} throughout"
    if on == all_years[all_years.index(on[0]):]:
        return f"{verb} from {year_label(on[0])}"
    if on == all_years[:len(on)]:
        return f"{verb} until {year_label(on[-1])}"
    return f"{verb} in " + ", ".join(year_label(y) for y in on)


def plan_changes(inst: Instance, before: Result, after: Result,
                 limit: int = MAX_CHANGES) -> list[dict[str, Any]]:
    """The largest changes from one plan to another: go/no-go interventions started or stopped
    and sites opened or closed (every one), then the ``limit`` largest changes in activity by
    intervention over the horizon (ranked by the change in what it costs) and in each
    partner's spend on services. Each is {kind, name, text, before, after}: ``before`` and
    ``after`` are the years it runs or is open, the activity, or the money."""
    lab = labels(inst)
    years = sorted(int(y) for y in inst.years)
    out: list[dict[str, Any]] = []

    def yes_years(table: pd.DataFrame, key: str, flag: str) -> dict[str, set[int]]:
        if not len(table):
            return {}
        rows = table[table[flag].astype(bool)]
        got: dict[str, set[int]] = {str(k): set() for k in table[key]}
        for k, y in zip(rows[key], rows["year"], strict=True):
            got[str(k)].add(int(y))
        return got

    was, now = (yes_years(r.tables["choices"], "intervention", "runs") for r in (before, after))
    for i in sorted(set(was) | set(now)):
        a, b = was.get(i, set()), now.get(i, set())
        if a != b:
            name = lab.intervention.get(i, i)
            out.append({"kind": "start", "name": i, "before": len(a), "after": len(b),
                        "text": f"{name} {_years(b, years, 'runs', 'does not run')} (before: "
                                f"{_years(a, years, 'ran', 'did not run')})"})
    was, now = (yes_years(r.tables["sites"], "site", "open") for r in (before, after))
    for s in sorted(set(was) | set(now)):
        a, b = was.get(s, set()), now.get(s, set())
        if a != b:
            name = lab.site.get(s, s)
            out.append({"kind": "site", "name": s, "before": len(a), "after": len(b),
                        "text": f"{name} {_site_state(b, years)} (before: "
                                f"{_site_state(a, years)})"})
    out += _activity_changes(inst, before, after, limit)
    out += _spend_changes(inst, before, after, limit)
    return out


def _site_state(open_years: set[int], years: list[int]) -> str:
    closed = [y for y in years if y not in open_years]
    if not closed:
        return "open throughout"
    return _years(closed, years, "closed", "open throughout")


def _totals(table: pd.DataFrame, key: str, columns: list[str]) -> pd.DataFrame:
    if not len(table):
        return pd.DataFrame(columns=columns)
    return table.groupby(key)[columns].sum()


def _activity_changes(inst: Instance, before: Result, after: Result,
                      limit: int) -> list[dict[str, Any]]:
    lab = labels(inst)
    cols = ["activity", "money", "staff_cost", "setup_cost"]
    a = _totals(before.tables["activity"], "intervention", cols)
    b = _totals(after.tables["activity"], "intervention", cols)
    rows = []
    for i in sorted(set(a.index) | set(b.index)):
        x = a.loc[i] if i in a.index else pd.Series(0.0, index=cols)
        y = b.loc[i] if i in b.index else pd.Series(0.0, index=cols)
        act0, act1 = _cleaned(float(x["activity"]), float(y["activity"]))
        if not _differs(act0, act1):
            continue
        spent = float(y[cols[1:]].sum() - x[cols[1:]].sum())
        unit = lab.intervention_unit.get(str(i), "units")
        # 'up by' rather than 'more': an instance's unit may be a phrase ('brief intervention')
        word = "up" if act1 > act0 else "down"
        text = (f"{lab.intervention.get(str(i), str(i))}: {word} by {_n(abs(act1 - act0))} "
                f"{unit} over the horizon ({_n(act0)} → {_n(act1)})")
        rows.append((abs(spent), abs(act1 - act0), {"kind": "activity", "name": str(i),
                                                    "before": act0, "after": act1,
                                                    "text": text}))
    rows.sort(key=lambda r: (-r[0], -r[1]))
    return [r[2] for r in rows[:limit]]


def _spend_changes(inst: Instance, before: Result, after: Result,
                   limit: int) -> list[dict[str, Any]]:
    lab = labels(inst)
    a, b = before.spend_by_partner, after.spend_by_partner
    rows = []
    for p in [q.id for q in inst.partners]:
        s0, s1 = _cleaned(a.get(p, 0.0), b.get(p, 0.0))
        if not _differs(s0, s1):
            continue
        word = "more" if s1 > s0 else "less"
        m = inst.money_label
        text = (f"{lab.partner.get(p, p)}: {m} {_n(abs(s1 - s0))} {word} spent on services "
                f"over the horizon ({m} {_n(s0)} → {m} {_n(s1)})")
        rows.append((abs(s1 - s0), {"kind": "spend", "name": p, "before": s0, "after": s1,
                                    "text": text}))
    rows.sort(key=lambda r: -r[0])
    return [r[1] for r in rows[:limit]]


# ---------------------------------------------------------------------------------------------
# the answer
# ---------------------------------------------------------------------------------------------


@dataclass
class Point:
    """One point of the frontier: its criteria, its certified plan and what changed to get
    there from the point before."""

    values: dict[str, float]
    result: Result
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.result.status)

    @property
    def checked(self) -> bool:
        return bool(self.result.checked)


@dataclass
class Frontier:
    """The answer of ``hwbopt frontier``: :meth:`summary` is its JSON, :attr:`tables` its CSV
    files; each point's plan is a :class:`~hwbopt.results.Result` (``points[k].result``)."""

    instance: Instance
    between: tuple[str, str]
    exact: bool
    points: list[Point]
    status: str
    message: str
    plan: dict[str, Any] | None  # the instance's own plan (its objective's optimum), measured
    requested: int | None  # ε values asked for (a mixed-integer model)
    solves: int
    seconds: float
    units: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    across: list[dict[str, Any]] = field(default_factory=list)  # from one end to the other
    provenance: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)

    # a line, not every field and table (see hwbopt.notebook)
    def __repr__(self) -> str:
        from hwbopt.notebook import frontier_repr

        return frontier_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import frontier_html

        return frontier_html(self)

    def point_rows(self) -> list[dict[str, Any]]:
        a, b = self.between
        return [{a: p.values[a], b: p.values[b], "status": p.status, "checked": p.checked,
                 "changes": p.changes} for p in self.points]

    def summary(self) -> dict[str, Any]:
        inst = self.instance
        return {
            "status": self.status,
            "message": self.message,
            "instance": inst.name,
            "between": list(self.between),
            "exact": self.exact,
            "points": self.point_rows(),
            "plan": self.plan,
            "across": self.across,
            "units": self.units,
            "requested_points": self.requested,
            "solves": self.solves,
            "seconds": self.seconds,
            "warnings": self.warnings,
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "years": list(inst.years),
            "kind": "frontier",
            "provenance": self.provenance,
            "labels": self.labels,
        }

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        a, b = self.between
        rows = [{"point": k + 1, a: p.values[a], b: p.values[b], "status": p.status,
                 "checked": p.checked, "changes": "; ".join(c["text"] for c in p.changes)}
                for k, p in enumerate(self.points)]
        changes = [{"point": k + 1, "kind": c["kind"], "name": c["name"], "text": c["text"],
                    "before": c["before"], "after": c["after"]}
                   for k, p in enumerate(self.points) for c in p.changes]
        return {"frontier": pd.DataFrame(rows, columns=["point", a, b, "status", "checked",
                                                        "changes"]),
                "changes": pd.DataFrame(changes, columns=["point", "kind", "name", "text",
                                                          "before", "after"])}


def write_frontier(fr: Frontier, out: str | Path) -> Path:
    """``summary.json`` (the JSON of ``hwbopt frontier --json``), ``frontier.csv`` (a row per
    point), ``changes.csv`` (what changes at each point) and each point's plan in
    ``points/NN/`` as ``hwbopt solve --out`` writes it. An earlier run's points are removed
    first, so the folder never mixes two runs."""
    import json

    from hwbopt.io.folder import atomic_write_text
    from hwbopt.io.results import check_out_dir, write_result

    folder = check_out_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    points = folder / "points"
    if points.is_dir() and not points.is_symlink():
        shutil.rmtree(points)
    width = max(2, len(str(len(fr.points))))
    for k, p in enumerate(fr.points):
        write_result(p.result, points / f"{k + 1:0{width}d}")
    for name, table in fr.tables.items():
        atomic_write_text(folder / f"{name}.csv", table.to_csv(index=False))
    atomic_write_text(folder / "summary.json",
                      json.dumps(fr.summary(), indent=2, allow_nan=False) + "\n")
    return folder


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------


def _certify(c: Criteria, raw: highs.RawSolution, x: np.ndarray, *, time_limit: float | None,
             gap: float, status: str, message: str) -> Result:
    """The plan ``x`` (the engine's columns) as a Result of the outcome model: its tables, its
    outcome objective and the independent checker's verdict."""
    base = c.built.compiled
    x0 = x[:base.n_cols]
    objective = float(base.c @ x0 + base.offset)
    # the bound and gap HiGHS proved are of the frontier's criterion, not of this objective
    plan = replace(raw, status=Status(status), message=message, x=x0, objective=objective,
                   bound=None, mip_gap=None, row_activity=None, row_dual=None, col_dual=None)
    return result_from(c.built.data, base, plan, time_limit=time_limit, mip_gap=gap,
                       diagnose=False)


def _own_plan(inst: Instance, c: Criteria, search: _Search, e: _Engine,
              time_limit: float | None, gap: float) -> dict[str, Any] | None:
    """The instance's own plan — the optimum of its own objective, as ``hwbopt solve`` gives
    it — measured on both criteria; None if it has none."""
    from hwbopt.pipeline import build, solve_built

    kind = str(inst.settings.objective)
    a, b = e.a, e.b
    x: np.ndarray | None
    if kind == OUTCOME:
        if search.own is not None:  # the outcome end's first solve: no solve more
            x, status = search.own.x, search.own.status
        else:
            e.optimise(OUTCOME)
            raw = e.solve()
            x, status = raw.x, str(raw.status)
    elif kind == EQUITY:
        from hwbopt.analyses.criteria import solve_equity

        r = solve_equity(inst, time_limit, gap, check=False)
        x, status = r.solution, str(r.status)
    else:  # cost: every target hard, a model of its own; its plan put on these columns
        built = build(inst, COST)
        r = solve_built(built, time_limit=time_limit, mip_gap=gap, check=False)
        x, status = None, str(r.status)
        if r.solution is not None:
            home = {e.comp.col_name(j): j for j in range(c.comp.n_cols)}
            x = np.zeros(c.comp.n_cols)
            for j in range(built.compiled.n_cols):
                k = home.get(built.compiled.col_name(j))
                if k is not None:
                    x[k] = r.solution[j]
    if x is None:
        return None
    return {"objective": kind, a: measure(c, a, x[:c.comp.n_cols]),
            b: measure(c, b, x[:c.comp.n_cols]), "status": status}


def _overall(points: list[Point], search: _Search) -> tuple[str, str]:
    """Optimal only when every point is a proven optimum that passed the checker."""
    if search.failed is not None and not points:
        return str(search.failed.status), search.failed.message
    bad = [(k, p) for k, p in enumerate(points) if p.status != Status.OPTIMAL]
    if search.failed is not None:
        return str(search.failed.status), (
            f"the search stopped after {len(points)} points: {search.failed.message}")
    if not bad:
        return str(Status.OPTIMAL), ""
    order = [Status.ERROR, Status.INFEASIBLE, Status.UNBOUNDED, Status.TIME_LIMIT,
             Status.STOPPED]
    k, worst = min(bad, key=lambda kp: order.index(Status(kp[1].status))
                   if kp[1].status in order else len(order))
    more = f" ({len(bad)} points in all)" if len(bad) > 1 else ""
    return worst.status, f"point {k + 1} is not a proven, checked optimum{more}: " \
                         f"{worst.result.message}"


def frontier(
    instance: Instance,
    between: tuple[str, str] | str,
    *,
    points: int | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> Frontier:
    """The Pareto frontier between two criteria (module docstring, ``models/frontier.md``).

    ``between``: (A, B) or "A,B", among outcome, cost and equity. ``points``: ε values of a
    mixed-integer model, both ends included (default :data:`DEFAULT_POINTS`); a linear model
    gets its exact frontier whatever it says. ``time_limit`` bounds each solve; ``mip_gap``
    overrides the instance's ``settings.mip_gap``.
    """
    from hwbopt.provenance import instance_labels, run_provenance

    start = time.perf_counter()
    a, b = parse_between(",".join(between) if not isinstance(between, str) else between)
    check_limits(time_limit, mip_gap)
    if points is not None and points < 2:
        raise UsageError(f"--points {points}: a frontier needs at least its two ends")
    c = criteria(instance)
    if EQUITY in (a, b) and not c.has_equity:
        what = ("no locality has a population (heads of need)" if c.over == "localities" else
                "no target is above zero")
        raise UsageError(f"--between {a},{b}: equity is undefined for this instance: {what}")
    gap = c.built.data.mip_gap if mip_gap is None else mip_gap
    e = _Engine(c, a, b, time_limit, gap, threads)
    warnings: list[str] = []
    n = DEFAULT_POINTS if points is None else points
    if e.is_mip:
        search = epsilon_points(e, n)
    else:
        if points is not None:
            warnings.append("--points applies to a mixed-integer model: this one is linear, "
                            "so its frontier is exact, every breakpoint")
        search = nise(e)
    out: list[Point] = []
    for p in search.plans:
        raw = p.raws[-1]
        values = {a: measure(c, a, p.x), b: measure(c, b, p.x)}
        result = _certify(c, raw, p.x, time_limit=time_limit, gap=gap, status=p.status,
                          message=p.message)
        where = f"a point of the frontier between {a} and {b}: {a} {num(values[a])}, {b} " \
                f"{num(values[b])}"
        if result.status in EARLY:  # what was not proven is the criterion, not the objective
            result.message = f"{p.message}: {where}, not proven optimal"
        elif not result.message:
            result.message = where
        result.provenance.update(options={"objective": OUTCOME, "mip_gap": gap,
                                          "time_limit": time_limit, "between": [a, b]})
        out.append(Point(values, result))
    for before, after in itertools.pairwise(out):
        if before.result.objective is not None and after.result.objective is not None:
            after.changes = plan_changes(instance, before.result, after.result)
    across = (plan_changes(instance, out[0].result, out[-1].result)
              if len(out) > 1 and all(p.result.objective is not None for p in (out[0], out[-1]))
              else [])
    status, message = _overall(out, search)
    if not out and status == Status.INFEASIBLE:
        from hwbopt.pipeline import diagnose_infeasible

        message = diagnose_infeasible(c.built.compiled)
    if search.truncated:
        message = "; ".join(filter(None, [message, (
            f"the search stopped at {MAX_BREAKPOINTS} breakpoints: the frontier between them "
            "is not proven")]))
    if search.dropped:
        warnings.append(f"{search.dropped} ε-constraint point(s) proven only within the MIP "
                        "gap were beaten on both criteria by another point and are not listed")
    plan = _own_plan(instance, c, search, e, time_limit, gap) if out else None
    units = {name: UNITS.get(name, instance.money_label) for name in (a, b)}
    if c.over == "localities":
        units[EQUITY] = "weighted outcome per head of need"
    return Frontier(
        instance=instance, between=(a, b),
        exact=not e.is_mip and not search.truncated and search.failed is None,
        points=out, status=status, message=message, plan=plan,
        requested=n if e.is_mip else None, solves=e.solves,
        seconds=time.perf_counter() - start, units={k: v for k, v in units.items()
                                                    if k in (a, b)},
        warnings=warnings, across=across,
        provenance=run_provenance(highs.highs_version(), options={
            "between": [a, b], "points": n if e.is_mip else None, "mip_gap": gap,
            "time_limit": time_limit}),
        labels=instance_labels(instance))


__all__ = ["DEFAULT_POINTS", "Frontier", "Point", "frontier", "parse_between", "plan_changes",
           "write_frontier"]
