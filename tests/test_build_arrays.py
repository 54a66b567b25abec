"""Building straight into arrays gives the very LP Pyomo's model and compiler give.

``hwbopt.pipeline.build`` no longer builds Pyomo components: the parts declare into an
``ArrayModel`` (``hwbopt.model.algebra``), which must give what ``compile_model(build_model(d))``
gives through Pyomo's ``LinearStandardFormCompiler``, array by array and bit for bit: the same
columns in the same order, the same rows, coefficients, bounds, costs and names. The reference
here is Pyomo's own expression system and writer, which share no code with the array route.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
from randinst import random_instance
from test_model_names import every_feature

import hwbopt
from hwbopt.compile import Compiled, compile_model
from hwbopt.generate import generate_instance
from hwbopt.model import build_compiled, build_model, model_data
from hwbopt.model.algebra import (
    ArrayModel,
    ModelError,
    constraint,
    objective,
    quicksum,
    var,
)
from hwbopt.pipeline import build


def assert_same(a: Compiled, b: Compiled) -> None:
    """Every array equal to the last bit and of the same type, every name in the same place."""
    assert (a.sense, a.offset) == (b.sense, b.offset)
    assert a.A.shape == b.A.shape
    for name in ("indptr", "indices", "data"):
        x, y = getattr(a.A, name), getattr(b.A, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integer"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
        # equal values with different signs of zero would still be a different LP file
        assert np.array_equal(np.signbit(x), np.signbit(y)), name
    assert a.col_component == b.col_component
    assert a.col_index == b.col_index
    assert a.row_component == b.row_component
    assert a.row_index == b.row_index


def both_routes(inst: Any, objective_name: str | None = None) -> tuple[Compiled, Compiled]:
    d = model_data(inst, objective_name)
    return compile_model(build_model(d)), build_compiled(d)


@pytest.mark.parametrize("objective_name", [None, "cost"])
@pytest.mark.parametrize("name", ["tutorial", "county"])
def test_shipped_instances_same_lp(name: str, objective_name: str | None) -> None:
    inst = hwbopt.load(hwbopt.shipped_instance(name))
    assert_same(*both_routes(inst, objective_name))


@pytest.mark.parametrize("objective_name", [None, "cost"])
def test_every_component_same_lp(objective_name: str | None) -> None:
    pyomo_route, arrays = both_routes(every_feature(), objective_name)
    assert_same(pyomo_route, arrays)
    assert len(set(arrays.row_component)) >= 25  # the instance really has every part


@pytest.mark.parametrize("seed", range(4))
def test_random_instances_same_lp(seed: int) -> None:
    inst = hwbopt.instance_from_dict(random_instance(
        seed, pool=True, exclusive_pair=True, dependency=True, n_go_no_go=2,
        n_nonconcave=1, n_sites=3, staff=True))
    for objective_name in (None, "cost"):
        assert_same(*both_routes(inst, objective_name))


def test_generated_instance_same_lp() -> None:
    inst = hwbopt.instance_from_dict(generate_instance(
        localities=3, interventions=12, partners=5, years=3, sites=6, seed=0))
    assert_same(*both_routes(inst))


def test_pipeline_build_is_the_array_route() -> None:
    """What every command solves: pipeline.build's compiled model is the Pyomo route's."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    built = build(inst)
    assert_same(compile_model(build_model(model_data(inst))), built.compiled)


# ---------------------------------------------------------------------------------------------
# the algebra against Pyomo's, on expressions the model does not (yet) write
# ---------------------------------------------------------------------------------------------


def _declare(m: Any) -> None:
    """Rows that exercise Pyomo's corner cases: 0 × x kept, 1 × x dropped, divisions, nested
    products, terms cancelling, a component first met on the right of a sum, a trivial row."""
    var(m, "x", [(k,) for k in range(4)], within=pyo.NonNegativeReals,
        bounds=lambda _m, k: (None, 10.0 + k))
    var(m, "y", [("a", 1), ("b", 2)], within=pyo.Binary)
    var(m, "z", [(0,)], bounds=(-3.0, 4.0))
    var(m, "unused", [(0,)])
    var(m, "free", [(0,)], within=pyo.Reals)
    x, y, z = m.x, m.y, m.z
    rows = {
        "zero_times": lambda m: 0.0 * x[0] + 1 * x[1] <= 5,
        "divided": lambda m: (x[0] + 3 * x[1]) / 7.0 + x[2] / 3.0 >= 0.1,
        "nested": lambda m: 0.3 * (0.7 * (x[0] - 0.1 * x[1]) + 1.9 * y["a", 1]) == z[0],
        "cancel": lambda m: x[0] + x[1] - x[0] <= 2 + x[3] * 0.5,
        "right_first": lambda m: m.free[0] + quicksum([x[2], 2.5 * x[3]]) >= -1.0,
        "trivial": lambda m: 0 * x[0] <= 1.0,
        "sums": lambda m: quicksum([x[0] + x[1], -(x[2] - x[3]), 4.0, y["b", 2]])
        <= quicksum([1.5 * z[0], 0.25]),
        "reversed": lambda m: 2 * x[1] + quicksum(x[k] for k in range(4)) >= 3.0,
    }
    for name, rule in rows.items():
        constraint(m, name, [(0,)], lambda m, _k, rule=rule: rule(m))
    objective(m, quicksum([1.1 * x[3], -(0.2 * y["b", 2]), 2.0 * m.free[0], 7.0]),
              pyo.maximize)


def test_algebra_matches_pyomo_corner_cases() -> None:
    pm = pyo.ConcreteModel()
    _declare(pm)
    am = ArrayModel()
    _declare(am)
    pyomo_route, arrays = compile_model(pm), am.compiled()
    assert_same(pyomo_route, arrays)
    assert "trivial" not in arrays.row_component  # no variable left: dropped, as Pyomo does
    assert "unused" not in arrays.col_component
    # the free column is met first (objective) although declared after x, y and z
    assert arrays.col_component[0] == "x" and "free" in arrays.col_component


def test_algebra_refuses_what_is_not_linear() -> None:
    m = ArrayModel()
    var(m, "x", [(0,), (1,)])
    with pytest.raises(ModelError, match="not linear"):
        constraint(m, "product", [(0,)], lambda m, _k: m.x[0] * m.x[1] <= 1)
    with pytest.raises(ModelError, match="not a linear relation"):
        constraint(m, "number", [(0,)], lambda m, _k: m.x[0] + 1)
    with pytest.raises(ModelError, match="never hold"):
        constraint(m, "impossible", [(0,)], lambda m, _k: 0 * m.x[0] >= 1.0)
    with pytest.raises(ModelError, match="already declared"):
        var(m, "x", [(2,)])
    with pytest.raises(ModelError, match="already declared"):
        var(m, "compiled", [(0,)])  # would hide the model's own method
