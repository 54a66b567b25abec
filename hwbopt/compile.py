"""Compile a Pyomo model to arrays HiGHS can load, with maps back to component names.

Pyomo's linear standard-form compiler does the expression walking; this module turns its
output into the column/row bound form HiGHS takes (``row_lower <= A x <= row_upper``) and
keeps, for every variable and constraint component, which column or row each index became.
Solve, results, explanations and batches all work on this one compiled form.

``hwbopt.pipeline.build`` makes the same :class:`Compiled` without Pyomo
(:func:`hwbopt.model.build_compiled`, bit for bit what :func:`compile_model` gives for
``build_model``'s Pyomo model); :func:`compile_model` remains for Pyomo models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

INF = float("inf")


@dataclass
class Compiled:
    """``sense * (c @ x + offset)`` optimised over ``row_lower <= A x <= row_upper`` and bounds."""

    sense: int  # +1 minimise, -1 maximise
    c: np.ndarray
    offset: float
    A: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    col_component: list[str]
    col_index: list[Any]
    row_component: list[str]
    row_index: list[Any]
    # The part of the objective no decision moves (``offset`` and what the model's data fixes,
    # such as priority baselines carried by outcome variables). HiGHS is given the objective
    # less this constant, so the MIP gap it enforces and reports is relative to the part the
    # plan controls; the constant is added back to every objective and bound read from it.
    constant: float = 0.0
    _cols: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False)
    _rows: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False)

    @property
    def n_cols(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def cols(self, component: str) -> dict[Any, int]:
        """{index: column} of a variable component (only indices that reached the solver)."""
        if not self._cols:
            for j, (name, idx) in enumerate(zip(self.col_component, self.col_index, strict=True)):
                self._cols.setdefault(name, {})[idx] = j
        return self._cols.get(component, {})

    def rows(self, component: str) -> dict[Any, int]:
        if not self._rows:
            for r, (name, idx) in enumerate(zip(self.row_component, self.row_index, strict=True)):
                self._rows.setdefault(name, {})[idx] = r
        return self._rows.get(component, {})

    def col_name(self, j: int) -> str:
        return _name(self.col_component[j], self.col_index[j])

    def row_name(self, r: int) -> str:
        return _name(self.row_component[r], self.row_index[r])


def _name(component: str, index: Any) -> str:
    if index is None:
        return component
    parts = index if isinstance(index, tuple) else (index,)
    return f"{component}[{','.join(str(p) for p in parts)}]"


def compile_model(model: pyo.ConcreteModel) -> Compiled:
    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    objectives = info.objectives
    if len(objectives) != 1:
        raise ValueError(f"expected one objective, found {len(objectives)}")
    sense = 1 if objectives[0].sense == pyo.minimize else -1

    n = len(info.columns)
    c = np.asarray(info.c.toarray()).ravel() if n else np.zeros(0)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0

    # mixed form gives one row per bound; a ranged constraint becomes two rows, merged here
    rhs = np.asarray(info.rhs, dtype=float)
    keep: list[int] = []
    lower: list[float] = []
    upper: list[float] = []
    row_component: list[str] = []
    row_index: list[Any] = []
    last = None
    for r, (con, kind) in enumerate(info.rows):
        if con is last:
            if kind == 1:
                upper[-1] = rhs[r]
            else:
                lower[-1] = rhs[r]
            continue
        last = con
        keep.append(r)
        lower.append(rhs[r] if kind in (0, -1) else -INF)
        upper.append(rhs[r] if kind in (0, 1) else INF)
        row_component.append(con.parent_component().local_name)
        row_index.append(con.index())
    A = info.A
    A = sp.csc_array(sp.csr_array(A)[keep, :]) if len(keep) != A.shape[0] else sp.csc_array(A)

    cols = info.columns
    col_lower = np.array([-INF if v.lb is None else v.lb for v in cols], dtype=float)
    col_upper = np.array([INF if v.ub is None else v.ub for v in cols], dtype=float)
    integer = np.array([v.is_integer() or v.is_binary() for v in cols], dtype=bool)
    return Compiled(
        sense=sense,
        c=c,
        offset=offset,
        A=A,
        row_lower=np.array(lower, dtype=float),
        row_upper=np.array(upper, dtype=float),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        col_component=[v.parent_component().local_name for v in cols],
        col_index=[v.index() for v in cols],
        row_component=row_component,
        row_index=row_index,
    )


# ---------------------------------------------------------------------------------------------
# Changing a compiled model without Pyomo: options, policies and elastic evaluations work here,
# so runs that differ only in numbers share one build (and one loaded HiGHS instance).
# ---------------------------------------------------------------------------------------------


def with_bounds(
    comp: Compiled,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    row_lower: np.ndarray | None = None,
    row_upper: np.ndarray | None = None,
    c: np.ndarray | None = None,
) -> Compiled:
    """A copy with some bounds (or costs) replaced; the structure and names are shared."""
    return replace(
        comp,
        col_lower=comp.col_lower if col_lower is None else col_lower,
        col_upper=comp.col_upper if col_upper is None else col_upper,
        row_lower=comp.row_lower if row_lower is None else row_lower,
        row_upper=comp.row_upper if row_upper is None else row_upper,
        c=comp.c if c is None else c,
        _cols=comp._cols,
        _rows=comp._rows,
    )


def append_rows(
    comp: Compiled,
    rows: sp.csr_array,
    lower: np.ndarray,
    upper: np.ndarray,
    component: str,
    indices: list[Any],
) -> Compiled:
    """``lower <= rows @ x <= upper`` added as rows named ``component[index]``."""
    if rows.shape[0] == 0:
        return comp
    return replace(
        comp,
        A=sp.csc_array(sp.vstack([sp.csr_array(comp.A), rows], format="csr")),
        row_lower=np.concatenate([comp.row_lower, lower]),
        row_upper=np.concatenate([comp.row_upper, upper]),
        row_component=[*comp.row_component, *([component] * rows.shape[0])],
        row_index=[*comp.row_index, *indices],
        _cols=comp._cols,
        _rows={},
    )


def append_cols(
    comp: Compiled,
    cols: sp.csc_array,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    component: str,
    indices: list[Any],
) -> Compiled:
    """Continuous columns named ``component[index]`` with objective coefficients ``cost``."""
    if cols.shape[1] == 0:
        return comp
    return replace(
        comp,
        A=sp.csc_array(sp.hstack([comp.A, cols], format="csc")),
        c=np.concatenate([comp.c, cost]),
        col_lower=np.concatenate([comp.col_lower, lower]),
        col_upper=np.concatenate([comp.col_upper, upper]),
        integer=np.concatenate([comp.integer, np.zeros(cols.shape[1], dtype=bool)]),
        col_component=[*comp.col_component, *([component] * cols.shape[1])],
        col_index=[*comp.col_index, *indices],
        _cols={},
        _rows=comp._rows,
    )


def structure_key(comp: Compiled) -> str:
    """Equal for two compiled models that differ only in bounds and objective costs."""
    h = hashlib.blake2b(digest_size=16)
    A = comp.A
    h.update(np.asarray(A.shape, dtype=np.int64).tobytes())
    for arr in (A.indptr, A.indices, A.data, comp.integer):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(str(comp.sense).encode())
    return h.hexdigest()
