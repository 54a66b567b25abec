"""Assemble the model from its parts, in the order of ``models/``: as Pyomo components
(:func:`build_model`) or straight into the compiled arrays (:func:`build_compiled`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pyomo.environ as pyo

from hwbopt.compile import Compiled
from hwbopt.model.activity import add_activity
from hwbopt.model.algebra import ArrayModel, Model
from hwbopt.model.choices import add_choices
from hwbopt.model.data import ModelData
from hwbopt.model.estate import add_estate
from hwbopt.model.money import add_money
from hwbopt.model.objective import add_objective
from hwbopt.model.outcomes import add_outcomes
from hwbopt.model.staff import add_staff
from hwbopt.model.terms import Terms


def build_model(d: ModelData) -> pyo.ConcreteModel:
    """The Pyomo model (for Pyomo's writers and solvers; ``compile_model`` compiles it)."""
    m = pyo.ConcreteModel(name=d.instance.name)
    _add_parts(m, d)
    return m


def build_compiled(d: ModelData) -> Compiled:
    """The compiled model, built without Pyomo: the same arrays as
    ``compile_model(build_model(d))``, in a fraction of the time and memory."""
    with collector_paused():
        return build_arrays(d).compiled()


def build_arrays(d: ModelData) -> ArrayModel:
    """Every part's rows, declared into an :class:`ArrayModel` (``.compiled()`` finishes it)."""
    with collector_paused():
        m = ArrayModel(d.instance.name)
        _add_parts(m, d)
        return m


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: for work that makes many small objects and
    no reference cycles (refcounting still frees them), which the collector would otherwise
    walk, with every live object of the process, again and again for nothing (Pyomo's own
    writer pauses it the same way; so do the build here and the curve's trace)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _add_parts(m: Model, d: ModelData) -> None:
    terms = Terms()
    add_activity(m, d)
    add_staff(m, d, terms)
    add_estate(m, d, terms)
    add_choices(m, d, terms)
    add_money(m, d, terms)
    add_outcomes(m, d)
    add_objective(m, d, terms)
