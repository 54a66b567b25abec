"""Weight ranges in ``hwbopt explain``: each end agrees with re-solving at weights just inside
and just outside it; a range derived by hand; the basis's range inside the plan's; ties said
as ties; nothing under the cost objective.

A re-solve sets the weight through the instance (``priorities[k].weight``, as a scenario
would), builds the model afresh and solves it with the integer decisions fixed at the plan's,
as explain's plan LP has them. So the direction the weight moves the costs in
(:func:`hwbopt.analyses.weights.direction`) is checked too, not taken from the code under test.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace

import numpy as np
import pytest
from rich.console import Console
from tiny import build

import hwbopt
from hwbopt import highs
from hwbopt.analyses.explain import Explanation, explain
from hwbopt.analyses.weights import range_text
from hwbopt.compile import Compiled
from hwbopt.pipeline import build as build_model
from hwbopt.report.explain import WEIGHTS_TITLE, print_weights
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change, Instance

STEP = 1e-3  # "just inside" and "just outside" an end: this far from it, relative
TIE = 1e-7  # relative: objectives this close are equal (HiGHS's tolerances)


def priority(k: str, weight: float, **extra: object) -> dict[str, object]:
    return {"id": k, "measure": k, "unit": "people", "target_type": "soft", "weight": weight,
            **extra}


def two_priorities(weight_p: float = 5.0) -> Instance:
    """£k 100; ``a`` costs £k 2 a unit (need 30) and moves p by 1 a unit, ``b`` costs £k 1 (need
    100) and moves q by 1 a unit; weights p 5, q 2.

    Per £k, ``a`` is worth omega_p / 2 = 2.5 points and ``b`` omega_q = 2, so the plan funds
    ``a`` to its need (£k 60) and ``b`` with the rest (40 units): 5 x 30 + 2 x 40 = 230.

    - p: the plan stands while ``a`` is worth at least ``b`` per £k, omega_p / 2 >= 2, so for
      omega_p >= 4 with no upper end (more weight on p only confirms ``a``); below 4 ``b``
      takes all the money (100 units) and ``a`` none.
    - q: while omega_q <= omega_p / 2 = 2.5; above it ``b`` is funded to its need and ``a``
      gets the remaining £k 0. Down to omega_q = 0 nothing else wants the money ``b`` has,
      so the range is [0, 2.5].
    """
    return build(partners=[{"id": "board", "remit": ["a", "b"]}],
                 interventions=[{"id": "a", "unit_cost": 2.0, "need": 30},
                                {"id": "b", "unit_cost": 1.0, "need": 100}],
                 priorities=[priority("p", weight_p), priority("q", 2.0)],
                 responses=[("a", "p", 1.0, 1.0), ("b", "q", 1.0, 1.0)],
                 budgets={"board": 100.0})


def three_priorities() -> Instance:
    """Two discounted years, a soft target with a penalty, a falling response curve and an
    intervention moving two priorities: ranges no one derives by hand, checked by re-solves."""
    return build(partners=[{"id": "board", "remit": ["a", "b", "c"]}],
                 interventions=[{"id": "a", "unit_cost": 2.0, "need": 30},
                                {"id": "b", "unit_cost": 1.0, "need": 100},
                                {"id": "c", "unit_cost": 0.5, "need": 80}],
                 priorities=[priority("p", 5.0, shortfall_penalty=3.0), priority("q", 2.0),
                             priority("r", 1.0)],
                 responses=[("a", "p", 1.0, 1.0), ("b", "q", 0.5, 1.2), ("b", "q", 1.0, 0.5),
                            ("c", "p", 1.0, 0.2), ("c", "r", 1.0, 0.6)],
                 targets=[("p", 2013, 40.0), ("p", 2014, 45.0)],
                 budgets={"board": [90.0, 110.0]}, years=(2013, 2014),
                 settings={"discount_rate": 0.05})


@pytest.fixture(scope="module")
def tutorial() -> Instance:
    return hwbopt.load(hwbopt.shipped_instance("tutorial"))


@pytest.fixture(scope="module")
def tutorial_ex(tutorial: Instance) -> Explanation:
    return explain(tutorial)


# ---------------------------------------------------------------------------------------------
# re-solving at a weight
# ---------------------------------------------------------------------------------------------


def reweighted(inst: Instance, plan: Compiled, k: str, weight: float) -> Compiled:
    """The plan LP at ``k``'s weight set to ``weight`` in the instance: the costs of a fresh
    build, the plan LP's bounds (its integer decisions fixed)."""
    changed = apply_changes(inst, [Change(path=f"priorities[{k}].weight", value=weight)],
                            "test")
    comp = build_model(changed).compiled
    assert comp.col_index == plan.col_index and comp.row_index == plan.row_index
    return replace(comp, col_lower=plan.col_lower, col_upper=plan.col_upper,
                   integer=np.zeros(comp.n_cols, dtype=bool))


def at_weight(inst: Instance, plan: Compiled, x: np.ndarray, k: str,
              weight: float) -> tuple[float, float, np.ndarray]:
    """(the optimum, the old plan's objective, the new optimal plan) at ``weight``."""
    lp = reweighted(inst, plan, k, weight)
    raw = highs.solve_compiled(lp)
    assert raw.status == "optimal" and raw.objective is not None and raw.x is not None
    return raw.objective, float(lp.c @ x + lp.offset), raw.x


def check_ends(inst: Instance, ex: Explanation) -> int:
    """Every finite end of every range: just inside it the plan is still optimal (the optimum
    equals the old plan's objective at the new weight, and the re-solve returns the same
    activity); just outside, some other plan is strictly better. Returns the ends checked
    from outside (an end at weight 0 has no outside: weights are never negative)."""
    plan = ex.plan
    assert plan is not None
    x = highs.solve_compiled(plan).x  # the plan LP's solution, as explain ranged it
    assert x is not None
    activity = np.array(list(plan.cols("activity").values()))
    outside = 0
    for r in ex.weight_ranges:
        for end, side in ((r.valid_from, -1.0), (r.valid_to, 1.0)):
            if end is None:
                continue
            step = STEP * max(1.0, abs(end))
            inside = end - side * step
            if (inside - r.weight) * side >= -1e-12:  # the range reaches past the weight
                best, old, new = at_weight(inst, plan, x, r.priority, inside)
                assert best == pytest.approx(old, rel=TIE, abs=TIE), (r.priority, end, inside)
                np.testing.assert_allclose(new[activity], x[activity], rtol=1e-7, atol=1e-7)
            if end + side * step < 0:
                continue
            best, old, _ = at_weight(inst, plan, x, r.priority, end + side * step)
            assert best > old + TIE * max(1.0, abs(old)), (r.priority, end, best, old)
            outside += 1
    return outside


# ---------------------------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------------------------


def test_weight_ranges_agree_with_re_solves_tutorial(tutorial, tutorial_ex):
    ex = tutorial_ex
    assert ex.integers_fixed  # the tutorial's buildings are held as planned
    assert [r.priority for r in ex.weight_ranges] == ["older_people", "mental_health",
                                                       "obesity"]
    assert check_ends(tutorial, ex) >= 3


@pytest.mark.parametrize("make", [two_priorities, three_priorities])
def test_weight_ranges_agree_with_re_solves_tiny(make):
    inst = make()
    ex = explain(inst)
    assert not ex.integers_fixed and len(ex.weight_ranges) == len(inst.priorities)
    assert check_ends(inst, ex) >= 2


def test_two_priorities_hand_derived():
    """See :func:`two_priorities`: p from 4 with no upper end, q from 0 to 2.5."""
    ex = explain(two_priorities())
    assert ex.objective == pytest.approx(230.0, rel=1e-9)
    p, q = ex.weight_ranges
    assert (p.priority, p.weight, p.valid_to) == ("p", 5.0, None)
    assert p.valid_from == pytest.approx(4.0, rel=1e-9)
    assert (q.priority, q.weight, q.valid_from) == ("q", 2.0, 0.0)
    assert q.valid_to == pytest.approx(2.5, rel=1e-9)
    assert p.method == q.method == "plan"
    assert p.text == "p: the plan stands while its weight is at least 4 points a person (now 5)."
    assert q.text == "q: the plan stands while its weight is at most 2.5 points a person (now 2)."


def test_a_tie_is_an_end_at_the_weight_itself():
    """At omega_p = 4 ``a`` and ``b`` are worth the same per £k: whichever plan HiGHS returns
    is optimal at 4 only on one side, and the range ends at the weight itself."""
    inst = two_priorities(weight_p=4.0)
    ex = explain(inst)
    p = ex.weight_ranges[0]
    assert p.weight == 4.0 and 4.0 in (p.valid_from, p.valid_to)
    assert "another plan is as good at this weight" in p.text
    assert check_ends(inst, ex) >= 1


def test_the_basis_range_lies_within_the_plans(tutorial_ex):
    """The optimal basis's range is an inner bound of the plan's; at the tutorial's degenerate
    plan it is strictly inside for older people's independence (8.33 against 0)."""
    wider = 0
    for ex in (tutorial_ex, explain(three_priorities())):
        for r in ex.weight_ranges:
            assert r.basis_from is not None and r.basis_from >= r.valid_from - 1e-9
            if r.valid_to is not None:
                assert r.basis_to is not None and r.basis_to <= r.valid_to + 1e-9
            wider += r.basis_from > r.valid_from + 1e-6 or (
                r.valid_to is None and r.basis_to is not None)
    assert wider >= 1


def test_weight_ranges_in_the_summary(tutorial_ex):
    s = tutorial_ex.summary()
    assert [set(w) >= {"priority", "weight", "valid_from", "valid_to"}
            for w in s["weight_ranges"]] == [True] * 3
    json.dumps(s, allow_nan=False)  # an open end is null, never infinity
    assert any(w["valid_to"] is None for w in s["weight_ranges"])


def test_no_weight_ranges_under_cost(tutorial):
    ex = explain(tutorial, objective="cost")
    assert ex.weight_ranges == [] and ex.summary()["weight_ranges"] == []
    console = Console(record=True, width=80, highlight=False)
    print_weights(ex, console)
    assert "only under the outcome objective" in console.export_text()


def test_weight_section_fits_80_columns(tutorial_ex):
    console = Console(record=True, width=80, highlight=False)
    print_weights(tutorial_ex, console)
    lines = console.export_text().splitlines()
    assert lines[0] == WEIGHTS_TITLE and len(lines) >= 4
    assert max(len(line) for line in lines) <= 80
    assert all(line.startswith(" ") for line in lines[1:])


@pytest.mark.parametrize(("frm", "to", "says"), [
    (6.2, 11.0, "X: the plan stands while its weight is between 6.2 and 11 points a person "
                "(now 8)."),
    (0.0, None, "X: the plan stands at any weight (now 8 points a person)."),
    (7.99995, 8.00005, "between 7.99995 and 8.00005 points a person (now 8)"),
    (8.0, 8.0, "X: the plan stands only at its present weight, 8 points a person"),
    (6.0, 8.0, "better at any higher one."),
])
def test_range_text(frm, to, says):
    assert says in range_text("X", "person", 8.0, frm, to)


def test_the_report_has_a_weight_table(tutorial_ex, tmp_path):
    from hwbopt.report import write_report

    write_report(tutorial_ex, tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert ">How far each weight may move</h2>" in page
    mental = next(r for r in tutorial_ex.weight_ranges if r.priority == "mental_health")
    assert html.escape(mental.text) in page and "no limit" in page
