"""hwbopt: optimise how health and wellbeing boards pool money behind joint priorities.

The pipeline, each step a plain function::

    inst = hwbopt.load("instances/tutorial")       # validated, frozen Instance (or a .xlsx)
    deeper = inst.with_changes({"partners[council].cut.total": 0.35})   # a new, validated one
    result = hwbopt.solve(inst)                     # build, solve with HiGHS, check
    result.allocation, result.outcomes, result.budgets   # tidy pandas tables
    result.summary()                                # the JSON of `hwbopt solve --json`
    hwbopt.explain(inst).summary()                  # the JSON of `hwbopt explain --json`
    hwbopt.coalitions(inst).shapley                 # each partner's fair share of pooling
    hwbopt.frontier(inst, "outcome,cost").summary() # every efficient trade-off
    hwbopt.curve(inst, "partners[council].cut.total", 0, 0.5).summary()  # exact response
    hwbopt.alternatives(inst, slack=0.05).summary() # what can move within 5% of the optimum
    hwbopt.stress(inst, set="cuts_and_pressures", scenarios=20).scenarios   # a stress batch
    hwbopt.write_report(result, "board-paper/")     # report.html and report.xlsx

Every object has a short ``repr`` and, in a notebook, an HTML summary (:mod:`hwbopt.notebook`).
Names are imported on first use, so ``hwbopt validate`` does not pay for the solver stack.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def _skip_pyomos_scipy_preload() -> None:
    """Keep Pyomo from importing scipy.stats, scipy.integrate and scipy.spatial.

    Pyomo's deferred import of scipy carries a callback that imports those three with it, run
    when anything imports scipy (an import hook) or when Pyomo's own writer first touches scipy:
    1.3 to 1.9 s of every solving command's start (measured with ``python -X importtime`` and
    cProfile). hwbopt and Pyomo's standard-form writer use ``scipy.sparse``, and scipy loads
    any other submodule on first use, so the callback is narrowed to that. It must run before
    scipy is first imported; later (a user who imported scipy first) there is nothing left to
    save. ``pyomo.common.dependencies`` is Pyomo's light import layer (40 ms), not the solver
    stack.
    """
    import sys

    if "scipy" in sys.modules:
        return
    from pyomo.common.dependencies import DeferredImportCallbackFinder

    for indicator in getattr(DeferredImportCallbackFinder, "_callbacks", {}).pop("scipy", []):
        indicator._callback = _import_scipy_sparse


def _import_scipy_sparse(module: Any, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401


_skip_pyomos_scipy_preload()

_EXPORTS = {
    "HwbError": "hwbopt.errors",
    "InstanceError": "hwbopt.errors",
    "Problem": "hwbopt.errors",
    "UsageError": "hwbopt.errors",
    "Instance": "hwbopt.schema",
    "instance_from_dict": "hwbopt.io.folder",
    "load_instance": "hwbopt.io.instance",
    "read_instance": "hwbopt.io.instance",
    "write_instance": "hwbopt.io.instance",
    "read_folder": "hwbopt.io.folder",
    "write_folder": "hwbopt.io.folder",
    "read_workbook": "hwbopt.io.workbook",
    "write_workbook": "hwbopt.io.workbook",
    "write_report": "hwbopt.report",
    "shipped_instance": "hwbopt.shipped",
    "check_solution": "hwbopt.check",
    "Result": "hwbopt.results",
    "solve": "hwbopt.pipeline",
    "compare": "hwbopt.analyses.compare",
    "Comparison": "hwbopt.analyses.compare",
    "apply_changes": "hwbopt.scenarios",
    "scenario_instance": "hwbopt.scenarios",
    "explain": "hwbopt.analyses.explain",
    "coalitions": "hwbopt.analyses.coalitions",
    "frontier": "hwbopt.analyses.frontier",
    "curve": "hwbopt.analyses.curve",
    "Curve": "hwbopt.analyses.curve",
    "alternatives": "hwbopt.analyses.alternatives",
    "Alternatives": "hwbopt.analyses.alternatives",
    "Frontier": "hwbopt.analyses.frontier",
    "Coalitions": "hwbopt.analyses.coalitions",
    "Explanation": "hwbopt.analyses.explain",
    "with_changes": "hwbopt.scenarios",
    "stress": "hwbopt.api_stress",
    "StressRun": "hwbopt.api_stress",
}
_ALIASES = {"load": ("hwbopt.io.instance", "load_instance")}

__all__ = sorted([*_EXPORTS, *_ALIASES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _ALIASES:
        module, attr = _ALIASES[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module 'hwbopt' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
