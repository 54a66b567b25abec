"""The MIP gap is relative to the part of the objective the plan controls.

Adding a constant to a priority's baseline and to each of its targets is the same problem,
shifted: the objective moves by exactly weight × constant × Σ discount, and the plan must be
as good as before. Before the fix HiGHS measured its gap against the whole objective, so a
large baseline let it stop 87 points short on the county (2.7e-4 of the controllable part).
"""

from __future__ import annotations

from functools import cache

import pytest

import hwbopt
from hwbopt.pipeline import build


def shifted(inst: hwbopt.Instance, priority: str, constant: float) -> hwbopt.Instance:
    priorities = tuple(p.model_copy(update={"baseline": p.baseline + constant})
                       if p.id == priority else p for p in inst.priorities)
    targets = tuple(t.model_copy(update={"target": t.target + constant})
                    if t.priority == priority else t for t in inst.targets)
    return inst.model_copy(update={"priorities": priorities, "targets": targets})


@cache
def solved(name: str) -> hwbopt.Result:
    return hwbopt.solve(hwbopt.load(hwbopt.shipped_instance(name)))


CASES = [("tutorial", c) for c in (1.0, 1e3, 1e6, 1e9, -5e5)] + [
    ("county", 1e6), ("county", 3e4)]


@pytest.mark.parametrize(("name", "constant"), CASES)
def test_shifting_a_baseline_moves_the_objective_exactly(name, constant):
    inst = hwbopt.load(hwbopt.shipped_instance(name))
    k = max(inst.priorities, key=lambda p: p.weight)  # the priority that weighs most
    base = solved(name)
    result = hwbopt.solve(shifted(inst, k.id, constant))
    assert base.status == result.status == "optimal"
    d = build(inst).data
    shift = k.weight * constant * sum(d.discount[y] for y in d.YEARS)
    movable = abs(base.objective - build(inst).compiled.constant)
    # both plans are within the asked gap of the same controllable optimum
    tol = 2 * base.gap_tolerance * movable + 1e-6 * max(1.0, movable) if base.gap_tolerance \
        else 1e-6 * max(1.0, movable)
    assert abs((result.objective - shift) - base.objective) <= tol, (
        result.objective - shift, base.objective)
    # the reported gap is relative to the controllable part, and within what was asked
    if result.gap_tolerance is not None:
        assert result.mip_gap <= result.gap_tolerance
        assert abs(result.bound - result.objective) <= \
            result.gap_tolerance * abs(result.objective - shift - build(inst).compiled.constant) \
            + 1e-6


def test_the_constant_is_the_weighted_baselines():
    """``Compiled.constant`` is what the objective is worth with every decision at nothing."""
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    inst = shifted(inst, inst.priorities[0].id, 100.0)
    d = build(inst).data
    want = sum(d.discount[y] * p.weight * p.baseline for p in inst.priorities for y in d.YEARS)
    assert build(inst).compiled.constant == pytest.approx(want, rel=1e-12)


def test_a_model_the_solver_cannot_take_is_refused_naming_the_rule():
    """The built model's own numbers are checked too (a safety net behind validation's figure
    ranges): a bound of 1e14 is refused before any solve, named in words and in the model."""
    from hwbopt.compile import with_bounds
    from hwbopt.errors import UsageError
    from hwbopt.pipeline import check_numbers

    b = build(hwbopt.load(hwbopt.shipped_instance("tutorial")))
    comp = b.compiled
    j = next(iter(comp.cols("activity").values()))
    upper = comp.col_upper.copy()
    upper[j] = 1e14
    with pytest.raises(UsageError, match="cannot take safely") as err:
        check_numbers(b.data, with_bounds(comp, col_upper=upper))
    assert comp.col_name(j) in str(err.value) and "activity of" in str(err.value)
    tiny = comp.A.copy()
    tiny.data[0] = 1e-13
    from dataclasses import replace

    with pytest.raises(UsageError, match="coefficient 1e-13"):
        check_numbers(b.data, replace(comp, A=tiny))
    check_numbers(b.data, comp)  # the shipped instance itself is fine
