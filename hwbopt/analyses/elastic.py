"""Why no plan exists: the phase-one elastic model and the irreducible conflict among hard rules.

See ``models/explain.md``. Built at the array level from :class:`~hwbopt.compile.Compiled`:

- every soft-able rule gets a named non-negative column ``slack[rule,index...]`` that lets it
  give: hard targets (``target``), change limits (``growth_limit``, ``reduction_limit``), the
  ``equity_floor``, minimum scale (``run_min``), and minimum pool contributions, whose lower
  bounds are restated as rows ``contribution_minimum[p,g,y]`` so they can bend;
- the phase-one objective ``phase_one`` minimises the sum of slacks, each divided by the size of
  its rule (``Slack.scale``), so every relaxation is weighed as a share of the rule it relaxes;
- every other rule stays hard.

If phase one itself has no solution, hard rules contradict each other; :func:`conflict` then
finds an irreducible set of them (HiGHS's IIS narrows the candidates of a linear model; a
deletion filter, which also works with integers, makes the set irreducible).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from hwbopt import highs, words
from hwbopt.compile import Compiled
from hwbopt.model.component import HARD, SOFT
from hwbopt.model.data import ModelData
from hwbopt.model.names import COMPONENTS, with_role
from hwbopt.status import Status

# rules that may give in phase one: constraint rows, and the contribution lower bounds
SOFT_ROWS = with_role(SOFT)
CONTRIBUTION_MINIMUM = "contribution_minimum"
SLACK = "slack"

# hard rules that can conflict: whole rows, and variable bounds that are board rules
HARD_ROWS = with_role(HARD)

SECONDS = 20.0  # per solve of a diagnosis; a mixed-integer one may take a while


@dataclass(frozen=True)
class Slack:
    """One relaxable rule: its slack column in the elastic model and the size of the rule."""

    col: int
    component: str  # the rule it relaxes: target, growth_limit, ..., contribution_minimum
    index: tuple[Any, ...]
    scale: float  # the rule's own size; the phase-one weight is 1 / scale

    @property
    def rule(self) -> str:
        return _name(self.component, self.index)


@dataclass(frozen=True)
class Member:
    """A hard rule that may belong to a conflict: rows and bounds dropped together.

    Dropping a member frees its rows (both bounds infinite), drops the upper bounds of
    ``col_upper`` and sets the lower bounds of ``col_lower`` to zero.
    """

    rule: str
    text: str
    kind: str  # "constraint", "upper bound" or "lower bound"
    rows: tuple[int, ...] = ()
    col_upper: tuple[int, ...] = ()
    col_lower: tuple[int, ...] = ()


@dataclass
class Elastic:
    """The phase-one model: the compiled model plus slack columns and restated rows."""

    comp: Compiled
    slacks: list[Slack]


@dataclass(frozen=True)
class Relaxation:
    rule: str
    component: str
    index: tuple[Any, ...]
    text: str
    amount: float
    unit: str
    share: float  # amount as a share of the rule's own size


@dataclass
class PhaseOne:
    status: str  # "optimal", "infeasible", "time_limit" (with or without a plan) or "error"
    relaxations: list[Relaxation]
    objective: float | None


def _name(component: str, index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    return f"{component}[{','.join(str(p) for p in parts)}]"


def _rule_scale(d: ModelData, component: str, index: tuple[Any, ...]) -> float:
    """The size a relaxation of the rule is measured against (never zero), as the rule's
    declaration gives it (a minimum contribution: the ``contribution`` column's)."""
    declared = COMPONENTS["contribution" if component == CONTRIBUTION_MINIMUM else component]
    if declared.size is None:
        raise KeyError(f"{component!r} is not a rule that can be relaxed")
    size = declared.size(d, index)
    return size if size > 0 else 1.0


def elastic_model(d: ModelData, comp: Compiled) -> Elastic:
    """Append a weighted slack to every soft-able rule; minimise their weighted total."""
    n, m = comp.n_cols, comp.n_rows
    soft_targets = set(comp.cols("shortfall"))  # soft targets already have a shortfall
    slack_entries: list[tuple[int, float]] = []  # (row, coefficient) of each slack column
    slacks: list[Slack] = []
    for component in SOFT_ROWS:
        for idx, r in comp.rows(component).items():
            if component == "target" and idx in soft_targets:
                continue
            # a >= row gains +slack; a <= row loses it (row orientation is whatever Pyomo wrote)
            coef = 1.0 if np.isfinite(comp.row_lower[r]) else -1.0
            slacks.append(Slack(n + len(slacks), component, idx,
                                _rule_scale(d, component, idx)))
            slack_entries.append((r, coef))

    # minimum pool contributions: the lower bound becomes a row that can bend
    col_lower = comp.col_lower.copy()
    new_rows: list[tuple[int, int]] = []  # (contribution column, slack column)
    new_lower: list[float] = []
    new_index: list[tuple[Any, ...]] = []
    for idx, j in comp.cols("contribution").items():
        if comp.col_lower[j] > 0:
            new_lower.append(comp.col_lower[j])
            col_lower[j] = 0.0
            col = n + len(slacks)
            slacks.append(Slack(col, CONTRIBUTION_MINIMUM, idx,
                                _rule_scale(d, CONTRIBUTION_MINIMUM, idx)))
            slack_entries.append((m + len(new_rows), 1.0))
            new_rows.append((j, col))
            new_index.append(idx)

    k, extra = len(slacks), len(new_rows)
    old = comp.A.tocoo()
    rows = [old.row, [r for r, _ in slack_entries], [m + q for q in range(extra)]]
    cols = [old.col, [s.col for s in slacks], [j for j, _ in new_rows]]
    vals = [old.data, [v for _, v in slack_entries], np.ones(extra)]
    A = sp.csc_array(sp.coo_array(
        (np.concatenate(vals), (np.concatenate(rows).astype(np.int64),
                                np.concatenate(cols).astype(np.int64))),
        shape=(m + extra, n + k)))

    c = np.zeros(n + k)
    for s in slacks:
        c[s.col] = 1.0 / s.scale
    el = Compiled(
        sense=1,
        c=c,
        offset=0.0,
        A=A,
        row_lower=np.concatenate([comp.row_lower, new_lower]),
        row_upper=np.concatenate([comp.row_upper, np.full(extra, np.inf)]),
        col_lower=np.concatenate([col_lower, np.zeros(k)]),
        col_upper=np.concatenate([comp.col_upper, np.full(k, np.inf)]),
        integer=np.concatenate([comp.integer, np.zeros(k, dtype=bool)]),
        col_component=[*comp.col_component, *[SLACK] * k],
        col_index=[*comp.col_index, *[(s.component, *s.index) for s in slacks]],
        row_component=[*comp.row_component, *[CONTRIBUTION_MINIMUM] * extra],
        row_index=[*comp.row_index, *new_index],
    )
    return Elastic(el, slacks)


def _relaxation_unit(d: ModelData, s: Slack) -> str:
    if s.component == CONTRIBUTION_MINIMUM:
        return d.instance.money_label
    return words.unit(d, s.component, s.index)


def _relaxation_text(d: ModelData, s: Slack, amount: float) -> str:
    component = "contribution" if s.component == CONTRIBUTION_MINIMUM else s.component
    return words.relaxation(d, component, s.index, amount)


def phase_one(d: ModelData, el: Elastic, time_limit: float | None = None) -> PhaseOne:
    """Solve the elastic model; every non-zero slack is a rule that must give, and by how much."""
    comp = el.comp
    raw = highs.run(highs.load(comp), time_limit=SECONDS if time_limit is None else time_limit,
                    is_mip=bool(comp.integer.any()))
    if raw.x is None:
        return PhaseOne(raw.status, [], None)
    out = []
    for s in el.slacks:
        amount = float(raw.x[s.col])
        if amount > 1e-7 * max(1.0, s.scale):
            out.append(Relaxation(s.rule, s.component, s.index, _relaxation_text(d, s, amount),
                                  amount, _relaxation_unit(d, s), amount / s.scale))
    return PhaseOne(raw.status, out, raw.objective)


# ---------------------------------------------------------------------------------------------
# conflicts among hard rules
# ---------------------------------------------------------------------------------------------


def members(d: ModelData, el: Elastic) -> list[Member]:
    """Every hard rule of the elastic model that could take part in a conflict."""
    comp = el.comp
    out: list[Member] = []
    for component in HARD_ROWS:
        for idx, r in comp.rows(component).items():
            out.append(Member(_name(component, idx), words.rule(d, component, idx),
                              "constraint", rows=(r,)))
    # need: the activity cap together with the response pieces it scales
    pieces: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for (i, _k, loc, y, _j), j in comp.cols("segment").items():
        if np.isfinite(comp.col_upper[j]):
            pieces[i, loc, y].append(j)
    for idx, j in comp.cols("activity").items():
        if np.isfinite(comp.col_upper[j]):
            out.append(Member(_name("activity", idx),
                              words.bound_rule(d, "activity", idx, "upper"), "upper bound",
                              col_upper=(j, *pieces.get(idx, ()))))
    for idx, j in comp.cols("contribution").items():
        if np.isfinite(comp.col_upper[j]):
            out.append(Member(_name("contribution", idx),
                              words.bound_rule(d, "contribution", idx, "upper"),
                              "upper bound", col_upper=(j,)))
    for idx, j in comp.cols("recruit").items():
        if np.isfinite(comp.col_upper[j]):
            out.append(Member(_name("recruit", idx),
                              words.bound_rule(d, "recruit", idx, "upper"), "upper bound",
                              col_upper=(j,)))
    for idx, j in comp.cols("open").items():
        if comp.col_lower[j] > 0:
            out.append(Member(_name("open", idx), words.bound_rule(d, "open", idx, "lower"),
                              "lower bound", col_lower=(j,)))
    return out


def system(el: Elastic, all_members: Sequence[Member], kept: Sequence[Member]) -> Compiled:
    """The elastic model with only the ``kept`` members of ``all_members`` in force.

    Everything that is not a member (the accounting rows, natural bounds, integrality, and the
    soft-able rules, whose slacks stay free) is always kept. The objective is zero: only
    feasibility is asked.
    """
    comp = el.comp
    keep = {m.rule for m in kept}
    row_lo, row_hi = comp.row_lower.copy(), comp.row_upper.copy()
    col_lo, col_hi = comp.col_lower.copy(), comp.col_upper.copy()
    for m in all_members:
        if m.rule in keep:
            continue
        idx = list(m.rows)
        row_lo[idx], row_hi[idx] = -np.inf, np.inf
        col_hi[list(m.col_upper)] = np.inf
        col_lo[list(m.col_lower)] = 0.0
    return replace(comp, c=np.zeros(comp.n_cols), constant=0.0, row_lower=row_lo,
                   row_upper=row_hi, col_lower=col_lo, col_upper=col_hi)


def feasible(comp: Compiled, time_limit: float = SECONDS) -> bool | None:
    """True or False when HiGHS proves it; None when it cannot tell in time."""
    raw = highs.run(highs.load(comp), time_limit=time_limit, is_mip=bool(comp.integer.any()))
    if raw.status == Status.INFEASIBLE:
        return False
    if raw.x is not None or raw.status == Status.UNBOUNDED:
        return True
    return None


def _iis_candidates(el: Elastic, all_members: list[Member],
                    time_limit: float) -> list[Member] | None:
    """Members touched by HiGHS's irreducible infeasible subsystem of the linear model."""
    comp = system(el, all_members, all_members)
    h = highs.load(comp)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyIrreducible))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        return None
    status, iis = h.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return None
    rows, cols = set(iis.row_index_), set(iis.col_index_)
    picked = [m for m in all_members
              if rows.intersection(m.rows) or cols.intersection(m.col_upper + m.col_lower)]
    return picked or None


def deletion_filter(candidates: Sequence[Member],
                    infeasible: Callable[[list[Member]], bool | None]) -> tuple[list[Member],
                                                                                   bool]:
    """An irreducible subset of ``candidates`` (which together must be infeasible).

    Drops members in chunks while the rest stays infeasible, halving the chunk when a drop
    makes it feasible, so a small conflict among many candidates costs O(k log n) solves.
    Invariant: ``kept + todo`` is infeasible. A member is kept only when dropping it (with
    everything still undecided) made the system feasible, so the result is irreducible —
    unless some solve could not decide, which the second value reports as False.
    """
    kept: list[Member] = []
    todo = list(candidates)
    chunk = max(1, len(todo) // 2)
    proven = True
    while todo:
        head, tail = todo[:chunk], todo[chunk:]
        answer = infeasible(kept + tail)
        if answer:
            todo = tail
            chunk = max(1, min(chunk, len(todo) // 2 or 1))
        elif chunk > 1:
            chunk = max(1, chunk // 2)
        else:
            proven = proven and answer is False
            kept.append(head[0])
            todo = tail
            chunk = max(1, len(todo) // 2)
    return kept, proven


@dataclass
class Conflict:
    members: list[Member]
    irreducible: bool  # proven: dropping any member makes the rest feasible
    method: str  # "iis+deletion_filter" or "deletion_filter"


def conflict(d: ModelData, el: Elastic, time_limit: float = SECONDS) -> Conflict:
    """An irreducible set of hard rules that cannot all hold (phase one being infeasible)."""
    everyone = members(d, el)

    def infeasible(kept: list[Member]) -> bool | None:
        ok = feasible(system(el, everyone, kept), time_limit)
        return None if ok is None else not ok

    method = "deletion_filter"
    candidates = everyone
    if not el.comp.integer.any():
        narrowed = _iis_candidates(el, everyone, time_limit)
        if narrowed is not None and infeasible(narrowed):
            candidates, method = narrowed, "iis+deletion_filter"
    if not infeasible(candidates):
        # the accounting rows alone conflict: nothing a board could relax
        return Conflict([], False, method)
    kept, proven = deletion_filter(candidates, infeasible)
    return Conflict(kept, proven, method)
