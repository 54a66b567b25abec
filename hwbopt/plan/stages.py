"""Which compiled columns are first stage, read from the component declarations.

Each variable declares its ``stage`` beside the code that builds it
(:class:`hwbopt.model.component.Component`): ``first`` (every index: sites open, go/no-go
runs and starts, recruitment and release), ``first_year`` (the indices of the horizon's first
year: money and activity; the year is the last element of these indices), or ``second``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hwbopt.compile import Compiled
from hwbopt.model.component import FIRST, FIRST_YEAR, SECOND, STAGES, Component
from hwbopt.model.names import ARRAY_COMPONENTS, COMPONENTS

Bools = npt.NDArray[np.bool_]


def stage_of(name: str) -> str:
    """The declared stage of the variable component ``name``."""
    comp: Component | None = COMPONENTS.get(name) or ARRAY_COMPONENTS.get(name)
    if comp is None:
        raise KeyError(f"column component {name!r} is not declared in hwbopt.model.names")
    if comp.stage not in STAGES:
        raise ValueError(f"{name}: stage {comp.stage!r} is not one of {', '.join(STAGES)}")
    return comp.stage


def first_stage(comp: Compiled, first_year: int) -> Bools:
    """Per column of ``comp``: is it a first-stage decision? ``first_year`` is the horizon's
    first year (``ModelData.YEARS[0]``)."""
    stages = {name: stage_of(name) for name in dict.fromkeys(comp.col_component)}
    out = np.zeros(comp.n_cols, dtype=np.bool_)
    for j, (name, index) in enumerate(zip(comp.col_component, comp.col_index, strict=True)):
        stage = stages[name]
        if stage == FIRST:
            out[j] = True
        elif stage == FIRST_YEAR:
            out[j] = _year(index) == first_year
    return out


def _year(index: object) -> object:
    """The year of a ``first_year`` column: the last element of its index."""
    return index[-1] if isinstance(index, tuple) else index


__all__ = ["FIRST", "FIRST_YEAR", "SECOND", "first_stage", "stage_of"]
