"""The Pyomo model, one module per part of ``models/``; :func:`build` assembles it."""

from hwbopt.model.build import build_model
from hwbopt.model.data import ModelData, model_data

__all__ = ["ModelData", "build_model", "model_data"]
