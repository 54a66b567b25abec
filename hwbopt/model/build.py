"""Assemble the Pyomo model from its parts, in the order of ``models/``."""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.activity import add_activity
from hwbopt.model.data import ModelData
from hwbopt.model.money import add_money
from hwbopt.model.objective import add_objective
from hwbopt.model.outcomes import add_outcomes


def build_model(d: ModelData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=d.instance.name)
    add_activity(m, d)
    add_money(m, d)
    add_outcomes(m, d)
    add_objective(m, d)
    return m
