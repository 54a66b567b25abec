"""The deterministic equivalent ("extensive form") of a two-stage plan: one HiGHS model over
every scenario, assembled with numpy index arithmetic from the instance's compiled arrays.

Columns, in order: ``z``, the first-stage columns (one value for every scenario); per scenario
``s`` its second-stage columns ``x_s``; per scenario the elastic slack of its rules; per
scenario the slack of the first-stage bounds it may not allow; with CVaR, ``eta`` and ``u_s``.
A first-stage column enters each scenario's rows as ``z`` itself (nonanticipativity by
substitution: no copies and no equality rows, which HiGHS's presolve would only remove again).

**Complete recourse.** No first stage may make a scenario impossible, so these rules get
elastic slack in every scenario, at a price per unit (:class:`Elastic`): every row of a
component with a diagnosis family (:data:`hwbopt.model.names.FAMILIES`: targets, money,
change limits, minimum scale, space, staff, …) and every row with a first-stage column in it,
except rows of first-stage columns alone whose numbers no scenario changes (they bind ``z``
the same way in every future, so nothing forces them to give: a closed site stays closed, at
most one of two alternatives), and except definitions (:data:`DEFINITIONS`), which never give:
where a first stage can leave one unmet, the bound of the defined quantity that stands for the
rule gives instead (a response piece's capacity: the need). A first-stage column whose
bounds differ between scenarios (a site that may not be available), and such a second-stage
column on its giving side, takes the widest bounds, and each scenario's own bounds become a
row ``lb_s <= x_j + b+ - b- <= ub_s`` with slack.
The price of a unit of a row's slack is :data:`PENALTY` times the largest objective
coefficient, divided by the row's smallest coefficient when that is below 1 (a unit of the
row then moves a column by more than one unit); a column's bound's, as dear as giving the
dearest row the column is in by its coefficient there (a lost site kept open gives its whole
capacity). That is far above what any plan gains from a unit of any rule, so slack is used
only when no plan avoids it, and every unit used is reported.

**Objective**, in the instance's own sense (maximise ``outcome``, minimise ``cost``; ``σ`` =
``Compiled.sense``, +1 minimise and −1 maximise): ``(1 − λ)·Σ p_s f_s + λ·CVaR_α`` where
``f_s = c_s·x_s + offset + σ·(penalties of s's slack)`` is scenario ``s``'s own objective of its
own plan, the penalties counted against it. CVaR in the Rockafellar–Uryasev form: maximising,
``η − 1/(1−α) Σ p_s u_s`` with ``u_s >= η − f_s``; minimising, ``η + 1/(1−α) Σ p_s u_s``
with ``u_s >= f_s − η``; ``u_s >= 0``. Both written as ``u_s − σ f_s + σ η >= 0``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.model.names import FAMILIES
from hwbopt.plan import Risk
from hwbopt.plan.scenarios import Arrays
from hwbopt.status import Outcome, Status

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# price of one unit of elastic slack, in units of the largest objective coefficient (see the
# module docstring and models/plan.md)
PENALTY = 1e4
# HiGHS options for the extensive form: its RINS and RENS heuristics each solve a sub-MIP
# nearly as large as the whole, and it starts from a plan of every scenario anyway (the
# mean-value plan with its slack). County, 5 scenarios, 2 threads: 57 s with them, 43 s
# without, the same optimum.
EF_OPTIONS: dict[str, bool] = {"mip_heuristic_run_rins": False,
                               "mip_heuristic_run_rens": False}
# the smallest coefficient a row's price is scaled by (validation keeps figures above 1e-6)
SMALLEST = 1e-6
# a rule is reported as given (and its penalty counted) beyond this, relative to its limit:
# above HiGHS's feasibility tolerance (1e-7), so solver noise is never reported as slack
USED = 1e-6
# rows outside every family that only define a quantity: never elastic. Where a first stage
# can leave one unmet in some future (first-year activity above a smaller need), the bound of
# the defined quantity that stands for the rule gives instead, on that side: a response
# curve's pieces hold at most the need (``segment``'s upper bound, the need family's), and
# no more staff than are in post can be released (``in_post >= 0``)
DEFINITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "outcome_def": (),  # the outcome is free: whatever its activity makes it
    "segment_sum": (("segment", "upper"),),
    "total_activity_def": (),  # the total is at least 0 and unbounded above
    "staff_balance": (("in_post", "lower"),),
    "staffing": (),  # deploy is unbounded above: the staff rule is staff_capacity
    "start_def": (),
}


@dataclass(frozen=True)
class Elastic:
    """Which rules may give in a scenario, and the price per unit.

    ``rows`` are rows of the instance's compiled model; ``lower``/``upper`` say which of a
    row's sides is finite in some scenario (each finite side gets its own slack);
    ``bound_penalty`` (per column) prices a unit of a first-stage column outside a
    scenario's bounds, and ``bound_unit`` is the amount of the column one unit of its bound
    slack stands for.
    """

    rows: Ints
    lower: Bools
    upper: Bools
    penalty: Floats  # per unit of each row of ``rows``
    bound_penalty: Floats  # (columns,) per unit of the column outside its bounds
    # the row's amount one unit of its slack column stands for: its smallest coefficient when
    # below 1, so the slack's coefficient sits in the row's own range and every slack column
    # costs the same (PENALTY x max|c|): without this the CVaR rows, which carry every slack's
    # price, spanned 1e-3..1e8 and HiGHS reported a dual bound a feasible plan beat
    unit: Floats
    # (columns,) 1 / the most a unit of the column moves any row, in units of that row's
    # slack: one slack column of a bound then costs PENALTY x max|c| too
    bound_unit: Floats
    # (columns,) second-stage columns whose lower / upper bound gives instead of a definition
    # (:data:`DEFINITIONS`): each scenario's bound becomes a row with slack, as a first-stage
    # column's does
    loose_lower: Bools
    loose_upper: Bools


def elastic_of(comp: Compiled, first: Bools, blocks: list[Arrays]) -> Elastic:
    """The elastic rules over every scenario of ``blocks`` (the drawn ones and the mean), so
    every solve of a plan prices slack the same way."""
    rl = np.vstack([b.row_lower for b in blocks])
    ru = np.vstack([b.row_upper for b in blocks])
    a = np.vstack([b.a_data for b in blocks])
    c = np.vstack([b.c for b in blocks])
    rows_of_entry = comp.A.indices.astype(np.int64)
    col_of_entry = _entry_cols(comp)
    family = np.zeros(comp.n_rows, dtype=bool)
    for fam in FAMILIES:
        for name in fam.rows:
            family[list(comp.rows(name).values())] = True
    touches_first = np.zeros(comp.n_rows, dtype=bool)
    touches_first[rows_of_entry[first[col_of_entry]]] = True
    touches_second = np.zeros(comp.n_rows, dtype=bool)
    touches_second[rows_of_entry[~first[col_of_entry]]] = True
    varies = (rl != rl[0]).any(axis=0) | (ru != ru[0]).any(axis=0)
    varies[rows_of_entry[(a != a[0]).any(axis=0)]] = True
    # a row of first-stage columns alone whose numbers no scenario moves binds z the same way
    # in every future (a closed site stays closed, one of two alternatives): nothing forces
    # it to give, so it stays hard, even in a family
    settled = touches_first & ~touches_second & ~varies
    # definitions stay hard; where one holds a first-stage column, the bound that stands for
    # the rule it can break gives instead (DEFINITIONS)
    defined = np.zeros(comp.n_rows, dtype=bool)
    loose = {"lower": np.zeros(comp.n_cols, dtype=bool),
             "upper": np.zeros(comp.n_cols, dtype=bool)}
    components = set(comp.row_component)
    for name, gives in DEFINITIONS.items():
        if name not in components:
            continue
        which = np.asarray(list(comp.rows(name).values()), dtype=np.int64)
        defined[which] = True
        hit = np.zeros(comp.n_rows, dtype=bool)
        hit[which[touches_first[which] & ~settled[which]]] = True
        in_hit = hit[rows_of_entry]
        for col_name, side in gives:
            cols = np.zeros(comp.n_cols, dtype=bool)
            cols[list(comp.cols(col_name).values())] = True
            loose[side][col_of_entry[in_hit & cols[col_of_entry]]] = True
    keep = (family | (touches_first & ~defined)) & ~settled
    rows = np.flatnonzero(keep).astype(np.int64)
    finite_c = np.abs(c[np.isfinite(c)])
    cmax = float(finite_c.max()) if finite_c.size and finite_c.max() > 0 else 1.0
    # a unit of a row moves a column by 1/|coefficient|: the smallest coefficient is the most
    # a unit can be worth, so a row whose coefficients are all 1 or more is priced per unit,
    # and one with smaller coefficients dearer in proportion
    amin = np.full(comp.n_rows, np.inf)
    size = np.abs(a).min(axis=0)
    np.minimum.at(amin, rows_of_entry, np.where(size > 0, size, np.inf))
    scale = np.clip(amin[rows], SMALLEST, 1.0)
    # a unit of a column outside its bounds moves each of its rows by its coefficient there:
    # it is priced as dear as giving all of the dearest of those rows by as much (a site kept
    # open where it is lost gives its whole capacity, not one desk), so keeping a column
    # outside a future's bounds is never cheaper than the rules its value comes through
    ratio = np.ones(comp.n_cols)
    row_scale = np.clip(amin, SMALLEST, 1.0)
    np.maximum.at(ratio, col_of_entry, np.abs(a).max(axis=0) / row_scale[rows_of_entry])
    ratio = np.clip(ratio, 1.0, 1.0 / SMALLEST)
    return Elastic(rows=rows, lower=np.isfinite(rl[:, rows]).any(axis=0),
                   upper=np.isfinite(ru[:, rows]).any(axis=0),
                   penalty=PENALTY * cmax / scale, bound_penalty=PENALTY * cmax * ratio,
                   unit=scale, bound_unit=1.0 / ratio, loose_lower=loose["lower"] & ~first,
                   loose_upper=loose["upper"] & ~first)


def _entry_cols(comp: Compiled) -> Ints:
    """The column of each entry of ``comp.A.data`` (CSC)."""
    return np.repeat(np.arange(comp.n_cols, dtype=np.int64), np.diff(comp.A.indptr))


@dataclass(frozen=True)
class Shape:
    """Where each part of the extensive form lives: column and row offsets."""

    S: int  # scenarios
    n: int  # columns of the instance's model
    m: int  # rows of the instance's model
    first: Bools  # (n,) first-stage columns
    z_of: Ints  # (n,) position of a first-stage column in z (-1: second stage)
    r_of: Ints  # (n,) position of a second-stage column in x_s (-1: first stage)
    lower_slack: Ints  # elastic rows (their row in the model) with a lower-side slack
    upper_slack: Ints  # … with an upper-side slack
    bounded: Ints  # columns with a bound row per scenario (first stage, or loose: Elastic)
    cvar: bool

    @property
    def nF(self) -> int:
        return int(self.first.sum())

    @property
    def nR(self) -> int:
        return self.n - self.nF

    @property
    def nE(self) -> int:  # slack columns per scenario
        return len(self.lower_slack) + len(self.upper_slack)

    @property
    def nB(self) -> int:
        return len(self.bounded)

    @property
    def x0(self) -> int:
        return self.nF

    @property
    def e0(self) -> int:
        return self.nF + self.S * self.nR

    @property
    def b0(self) -> int:
        return self.e0 + self.S * self.nE

    @property
    def c0(self) -> int:
        return self.b0 + self.S * 2 * self.nB

    @property
    def n_cols(self) -> int:
        return self.c0 + (1 + self.S if self.cvar else 0)

    @property
    def n_rows(self) -> int:
        return self.S * (self.m + self.nB) + (self.S if self.cvar else 0)

    def colmap(self) -> Ints:
        """(S, n): the extensive form's column of each scenario's copy of each column."""
        s = np.arange(self.S, dtype=np.int64)[:, None]
        out: Ints = np.where(self.first[None, :], self.z_of[None, :],
                             self.x0 + s * self.nR + self.r_of[None, :])
        return out


def shape_of(comp: Compiled, first: Bools, arrays: Arrays, elastic: Elastic,
             fixed: Floats | None, cvar: bool, bounded: Ints | None = None) -> Shape:
    """Where the parts of the extensive form of ``arrays`` live. ``bounded`` (columns) says
    which columns get a bound row per scenario; by default the first-stage columns whose
    bounds differ between the scenarios of ``arrays`` (or that ``fixed`` puts outside a
    scenario's bounds) and the loose ones (:class:`Elastic`)."""
    n = comp.n_cols
    z_of = np.full(n, -1, dtype=np.int64)
    z_of[first] = np.arange(int(first.sum()))
    r_of = np.full(n, -1, dtype=np.int64)
    r_of[~first] = np.arange(int((~first).sum()))
    if bounded is None:
        lo, hi = arrays.col_lower[:, first], arrays.col_upper[:, first]
        needs_row = (lo != lo[0]).any(axis=0) | (hi != hi[0]).any(axis=0)
        if fixed is not None:
            v = fixed[first][None, :]
            tol = 1e-9 * np.maximum(1.0, np.abs(v))
            needs_row |= ((v < lo - tol) | (v > hi + tol)).any(axis=0)
        bounded = np.union1d(np.flatnonzero(first)[needs_row],
                             np.flatnonzero(elastic.loose_lower | elastic.loose_upper)
                             ).astype(np.int64)
    return Shape(S=arrays.size, n=n, m=comp.n_rows, first=first, z_of=z_of, r_of=r_of,
                 lower_slack=elastic.rows[elastic.lower], upper_slack=elastic.rows[elastic.upper],
                 bounded=bounded, cvar=cvar)


def _units(elastic: Elastic) -> Floats:
    """The row amount per unit of each slack column of one scenario (lower sides, then
    upper)."""
    out: Floats = np.concatenate([elastic.unit[elastic.lower], elastic.unit[elastic.upper]])
    return out


def _penalties(sh: Shape, elastic: Elastic) -> Floats:
    """Price per unit of each slack column of one scenario (lower sides, then upper)."""
    price = np.concatenate([elastic.penalty[elastic.lower], elastic.penalty[elastic.upper]])
    out: Floats = price * _units(elastic)
    return out


def _bound_prices(sh: Shape, elastic: Elastic) -> Floats:
    """Price of one slack column of each first-stage bound row (the same for its two
    sides)."""
    out: Floats = (elastic.bound_penalty * elastic.bound_unit)[sh.bounded]
    return out


def build_extensive(comp: Compiled, first: Bools, arrays: Arrays, probability: Floats,
                    risk: Risk, elastic: Elastic, fixed: Floats | None = None,
                    bounded: Ints | None = None) -> tuple[Compiled, Shape]:
    """The extensive form of the scenarios ``arrays`` (module docstring), with the first
    stage fixed at ``fixed`` (a whole plan's columns; its first-stage values are used) if
    given. Returns it as a :class:`Compiled` (no names) and where its parts live."""
    lam = risk.lam
    sh = shape_of(comp, first, arrays, elastic, fixed, cvar=lam > 0, bounded=bounded)
    sigma = comp.sense
    S, m = sh.S, sh.m
    s_idx = np.arange(S, dtype=np.int64)
    cmap = sh.colmap()
    rA = comp.A.indices.astype(np.int64)
    cA = _entry_cols(comp)
    rows, cols, data = [(s_idx[:, None] * m + rA[None, :]).ravel()], [cmap[:, cA].ravel()], \
        [arrays.a_data.ravel()]
    # elastic slack: + on a lower side (lifts the row to its lower bound), - on an upper side
    pen = _penalties(sh, elastic)
    nL = len(sh.lower_slack)
    slack_rows = np.concatenate([sh.lower_slack, sh.upper_slack])
    slack_sign = np.concatenate([np.ones(nL), -np.ones(len(sh.upper_slack))])
    slack_cols = sh.e0 + s_idx[:, None] * sh.nE + np.arange(sh.nE)[None, :]
    rows.append((s_idx[:, None] * m + slack_rows[None, :]).ravel())
    cols.append(slack_cols.ravel())
    data.append(np.tile(slack_sign * _units(elastic), S))
    # first-stage bounds that differ between scenarios: lb_s <= z_j + b+ - b- <= ub_s
    nB = sh.nB
    b_rows = S * m + s_idx[:, None] * nB + np.arange(nB)[None, :]  # (S, nB)
    b_plus = sh.b0 + s_idx[:, None] * 2 * nB + np.arange(nB)[None, :]
    b_minus = b_plus + nB
    z_b = cmap[:, sh.bounded]  # z for a first-stage column, each scenario's copy otherwise
    b_unit = elastic.bound_unit[sh.bounded]
    for cs, sign in ((z_b, np.ones(nB)), (b_plus, b_unit), (b_minus, -b_unit)):
        rows.append(b_rows.ravel())
        cols.append(cs.ravel())
        data.append(np.tile(sign, S))
    c_ef = np.zeros(sh.n_cols)
    weight = (1.0 - lam) * probability  # (S,)
    np.add.at(c_ef, cmap.ravel(), (weight[:, None] * arrays.c).ravel())
    c_ef[slack_cols.ravel()] = (weight[:, None] * sigma * pen[None, :]).ravel()
    b_price = _bound_prices(sh, elastic)
    c_ef[b_plus.ravel()] = c_ef[b_minus.ravel()] = (weight[:, None] * sigma
                                                    * b_price[None, :]).ravel()
    row_lower = [arrays.row_lower.ravel(), arrays.col_lower[:, sh.bounded].ravel()]
    row_upper = [arrays.row_upper.ravel(), arrays.col_upper[:, sh.bounded].ravel()]
    if sh.cvar:
        _add_cvar(sh, comp, arrays, probability, risk, elastic, cmap, slack_cols, b_plus,
                  b_minus, rows, cols, data, row_lower, row_upper, c_ef)
    values, at_row, at_col = np.concatenate(data), np.concatenate(rows), np.concatenate(cols)
    stored = values != 0  # a zero cost in a CVaR row is no coefficient
    A = sp.csc_array((values[stored], (at_row[stored], at_col[stored])),
                     shape=(sh.n_rows, sh.n_cols))
    col_lower, col_upper = _col_bounds(sh, arrays, elastic, fixed)
    integer = np.zeros(sh.n_cols, dtype=bool)
    integer[sh.z_of[first & comp.integer]] = True
    integer[cmap[:, ~first & comp.integer].ravel()] = True
    constant = comp.constant
    ef = Compiled(sense=sigma, c=c_ef, offset=(1.0 - lam) * (comp.offset - constant) + constant,
                  A=A, row_lower=np.concatenate(row_lower), row_upper=np.concatenate(row_upper),
                  col_lower=col_lower, col_upper=col_upper, integer=integer, col_component=[],
                  col_index=[], row_component=[], row_index=[], constant=constant)
    return ef, sh


def _add_cvar(sh: Shape, comp: Compiled, arrays: Arrays, probability: Floats, risk: Risk,
              elastic: Elastic, cmap: Ints, slack_cols: Ints, b_plus: Ints, b_minus: Ints,
              rows: list[Any], cols: list[Any], data: list[Any], row_lower: list[Floats],
              row_upper: list[Floats], c_ef: Floats) -> None:
    """``u_s − σ f̃_s + σ η >= 0`` per scenario, where ``f̃_s = f_s − constant`` (CVaR moves
    with a constant, so HiGHS sees only what the plan controls), and CVaR's objective terms."""
    S, sigma, lam = sh.S, comp.sense, risk.lam
    cvar_rows = sh.S * (sh.m + sh.nB) + np.arange(S, dtype=np.int64)
    eta, u = sh.c0, sh.c0 + 1 + np.arange(S, dtype=np.int64)
    # f_s's objective part: c_s over every column (first-stage ones sit at z), then penalties
    rows.append(np.repeat(cvar_rows, sh.n))
    cols.append(cmap.ravel())
    data.append((-sigma * arrays.c).ravel())
    pen = _penalties(sh, elastic)
    rows.append(np.repeat(cvar_rows, sh.nE))
    cols.append(slack_cols.ravel())
    data.append(np.tile(-pen, S))  # −σ·σ·penalty
    for b in (b_plus, b_minus):
        rows.append(np.repeat(cvar_rows, sh.nB))
        cols.append(b.ravel())
        data.append(np.tile(-_bound_prices(sh, elastic), S))
    rows += [cvar_rows, cvar_rows]
    cols += [u, np.full(S, eta)]
    data += [np.ones(S), np.full(S, float(sigma))]
    row_lower.append(np.full(S, sigma * (comp.offset - comp.constant)))
    row_upper.append(np.full(S, np.inf))
    c_ef[eta] = lam
    c_ef[u] = sigma * lam * probability / (1.0 - risk.alpha)


def _col_bounds(sh: Shape, arrays: Arrays, elastic: Elastic,
                fixed: Floats | None) -> tuple[Floats, Floats]:
    lower, upper = np.zeros(sh.n_cols), np.full(sh.n_cols, np.inf)
    first = sh.first
    if fixed is None:
        lower[:sh.nF] = arrays.col_lower[:, first].min(axis=0)
        upper[:sh.nF] = arrays.col_upper[:, first].max(axis=0)
    else:
        lower[:sh.nF] = upper[:sh.nF] = fixed[first]
    lower[sh.x0:sh.e0] = np.where(elastic.loose_lower[~first][None, :], -np.inf,
                                  arrays.col_lower[:, ~first]).ravel()
    upper[sh.x0:sh.e0] = np.where(elastic.loose_upper[~first][None, :], np.inf,
                                  arrays.col_upper[:, ~first]).ravel()
    if sh.cvar:
        lower[sh.c0] = -np.inf  # eta is free; u_s >= 0
    return lower, upper


@dataclass
class TwoStageSolution:
    """A solve of the extensive form: how it ended (:class:`hwbopt.status.Outcome`, objective
    and bound of the whole extensive form), and the plan: ``z`` (first-stage columns' values,
    as a whole column vector of the instance's model with the second stage 0) and ``x``
    (S × columns: each scenario's whole plan, first stage included)."""

    outcome: Outcome
    seconds: float
    z: Floats | None = None
    x: Floats | None = None

    @property
    def status(self) -> Status:
        return self.outcome.status

    @property
    def has_plan(self) -> bool:
        return self.x is not None


def start_of(ef: Compiled, sh: Shape, comp: Compiled, arrays: Arrays, elastic: Elastic,
             x: Floats) -> Floats:
    """The extensive form's columns for the plans ``x`` (S × columns, one first stage):
    each slack at exactly what its rule lacks, and with CVaR ``eta`` at the breakpoint that
    is best for the objective, so the point is feasible and as good as the plans are."""
    out = np.zeros(sh.n_cols)
    out[:sh.nF] = x[0, sh.first]
    out[sh.x0:sh.e0] = x[:, ~sh.first].ravel()
    cols = np.repeat(np.arange(comp.n_cols), np.diff(comp.A.indptr))
    act = np.zeros((sh.S, sh.m))
    for s in range(sh.S):
        act[s] = np.bincount(comp.A.indices, weights=arrays.a_data[s] * x[s, cols],
                             minlength=sh.m)
    with np.errstate(invalid="ignore"):
        lack = np.nan_to_num(arrays.row_lower[:, sh.lower_slack] - act[:, sh.lower_slack])
        over = np.nan_to_num(act[:, sh.upper_slack] - arrays.row_upper[:, sh.upper_slack])
        z = x[:, sh.bounded]
        below = np.nan_to_num(arrays.col_lower[:, sh.bounded] - z)
        above = np.nan_to_num(z - arrays.col_upper[:, sh.bounded])
    slack = np.hstack([np.maximum(lack, 0.0), np.maximum(over, 0.0)]) / _units(elastic)
    out[sh.e0:sh.b0] = slack.ravel()
    b_unit = np.tile(elastic.bound_unit[sh.bounded], 2)
    bound = np.hstack([np.maximum(below, 0.0), np.maximum(above, 0.0)]) / b_unit
    out[sh.b0:sh.c0] = bound.ravel()
    if sh.cvar:
        sigma = comp.sense
        f = np.einsum("sj,sj->s", arrays.c, x) + comp.offset - comp.constant + sigma * (
            slack @ _penalties(sh, elastic) + bound @ np.tile(_bound_prices(sh, elastic), 2))
        u_of = np.maximum(sigma * (f[None, :] - f[:, None]), 0.0)  # (eta candidate, s)
        k = int(np.argmin(ef.c[sh.c0] * f * sigma + (u_of * ef.c[sh.c0 + 1:][None, :]).sum(
            axis=1) * sigma)) if ef.c[sh.c0] else 0
        out[sh.c0] = f[k]
        out[sh.c0 + 1:] = u_of[k]
    return out


def solve_extensive(comp: Compiled, first: Bools, arrays: Arrays, probability: Floats,
                    risk: Risk, elastic: Elastic, *, fixed: Floats | None = None,
                    start: Floats | None = None, time_limit: float | None = None,
                    mip_gap: float | None = None,
                    threads: int | None = None) -> TwoStageSolution:
    """Build and solve the extensive form (:func:`build_extensive`); the status is HiGHS's,
    read through :func:`hwbopt.highs.run` (``optimal`` only within ``mip_gap``). ``start``:
    plans (S × columns, one first stage) HiGHS may start from (:func:`start_of`)."""
    began = time.perf_counter()
    fixed = _whole(comp, fixed)
    ef, sh = build_extensive(comp, first, arrays, probability, risk, elastic, fixed)
    h = highs.load(ef, threads=threads)
    if sh.S > 1:
        for option, value in EF_OPTIONS.items():
            h.setOptionValue(option, value)
    if start is not None and ef.integer.any():
        highs.start_from(h, start_of(ef, sh, comp, arrays, elastic, start))
    # h is this function's alone: a Ctrl-C need not wait for the solve (hwbopt.interrupt)
    raw = highs.run(h, time_limit=time_limit, mip_gap=mip_gap, is_mip=bool(ef.integer.any()),
                    abandonable=True)
    out = TwoStageSolution(outcome=raw, seconds=time.perf_counter() - began)
    if raw.x is None:
        return out
    X = raw.x
    x = np.empty((sh.S, sh.n))
    x[:, first] = X[:sh.nF][None, :]
    x[:, ~first] = X[sh.x0:sh.e0].reshape(sh.S, sh.nR)
    x[:, first & comp.integer] = np.round(x[:, first & comp.integer])
    out.x = x
    out.z = np.where(first, x[0], 0.0)
    return out


def _whole(comp: Compiled, fixed: Floats | None) -> Floats | None:
    """A fixed plan's integer columns at whole values (HiGHS leaves them within 1e-9)."""
    if fixed is None:
        return None
    out: Floats = np.where(comp.integer, np.round(fixed), fixed)
    return out
