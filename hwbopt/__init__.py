"""hwbopt: optimise how health and wellbeing boards pool money behind joint priorities.

The pipeline, each step a plain function::

    inst = hwbopt.load("instances/tutorial")       # validated, frozen Instance
    result = hwbopt.solve(inst)                     # build, solve with HiGHS, check
    result.allocation, result.outcomes, result.budgets   # tidy pandas tables
    result.summary()                                # the JSON of `hwbopt solve --json`
"""

from hwbopt.check import check_solution
from hwbopt.errors import HwbError, InstanceError, Problem, SolveError, UsageError
from hwbopt.io.folder import instance_from_dict, load_instance, read_folder, write_folder
from hwbopt.results import Result
from hwbopt.schema import Instance
from hwbopt.shipped import shipped_instance
from hwbopt.solve import solve

__version__ = "0.1.0"

load = load_instance

__all__ = [
    "HwbError",
    "Instance",
    "InstanceError",
    "Problem",
    "Result",
    "SolveError",
    "UsageError",
    "__version__",
    "check_solution",
    "instance_from_dict",
    "load",
    "load_instance",
    "read_folder",
    "shipped_instance",
    "solve",
    "write_folder",
]
