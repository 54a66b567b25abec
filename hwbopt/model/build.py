"""Assemble the Pyomo model from its parts, in the order of ``models/``."""

from __future__ import annotations

import pyomo.environ as pyo

from hwbopt.model.activity import add_activity
from hwbopt.model.choices import add_choices
from hwbopt.model.data import ModelData
from hwbopt.model.estate import add_estate
from hwbopt.model.money import add_money
from hwbopt.model.objective import add_objective
from hwbopt.model.outcomes import add_outcomes
from hwbopt.model.staff import add_staff
from hwbopt.model.terms import Terms


def build_model(d: ModelData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name=d.instance.name)
    terms = Terms()
    add_activity(m, d)
    add_staff(m, d, terms)
    add_estate(m, d, terms)
    add_choices(m, d, terms)
    add_money(m, d, terms)
    add_outcomes(m, d)
    add_objective(m, d, terms)
    return m
