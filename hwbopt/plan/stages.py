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

# first-stage columns a future can take away: a site lost in a future (``available`` false) is
# closed there by force, whatever the plan. The board's commitment is to keep a site open
# wherever it still stands; where it is lost, the commitment costs and gives nothing (no
# running cost, no capacity, no closure cost or receipt), instead of being a rule the plan
# breaks (which priced a future's loss as if the board had kept a lost building open).
# Used by the plan's scenarios (hwbopt.plan.scenarios.taken_away) and by stress --plan
TAKEN_AWAY = ("open",)


def taken_away_columns(comp: Compiled) -> Bools:
    """Per column of ``comp``: is it of a :data:`TAKEN_AWAY` component?"""
    names = np.asarray(comp.col_component, dtype=object)
    out: Bools = np.isin(names, TAKEN_AWAY)
    return out


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


__all__ = ["FIRST", "FIRST_YEAR", "SECOND", "TAKEN_AWAY", "first_stage", "stage_of",
           "taken_away_columns"]
