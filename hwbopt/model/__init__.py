"""The model, one module per part of ``models/``: :func:`build_model` assembles it as Pyomo
components, :func:`build_compiled` straight into the compiled arrays (the same LP).

Each part declares the components it builds beside its build code
(:mod:`hwbopt.model.component`); :mod:`hwbopt.model.names` collects the declarations.
"""

from hwbopt.model.build import build_compiled, build_model
from hwbopt.model.data import ModelData, model_data

__all__ = ["ModelData", "build_compiled", "build_model", "model_data"]
