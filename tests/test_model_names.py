"""The model, its names and models/ agree: a newcomer can find a constraint from its name."""

from __future__ import annotations

import re
from pathlib import Path

import pyomo.environ as pyo
from tiny import build

from hwbopt.model import build_model, model_data
from hwbopt.model.names import ARRAY_COMPONENTS, COMPONENTS, FAMILIES

MODELS = Path(__file__).resolve().parents[1] / "models"


def every_feature():
    """One tiny instance that makes every component of the model appear."""
    return build(
        years=(2013, 2014),
        partners=[
            {"id": "nhs", "savings_rate": 0.04, "remit": ["a"],
             "ring_fenced": [{"id": "grant", "share": 0.2, "interventions": ["b"]}]},
            {"id": "council", "remit": ["b"], "cut": {"total": 0.2, "over_years": 2}},
        ],
        interventions=[{"id": "a", "unit_cost": 1, "max_growth": 0.5, "max_reduction": 0.5,
                        "lead": "nhs", "min_scale": 5, "setup_cost": 3},
                       {"id": "b", "unit_cost": 2, "lead": "council"},
                       {"id": "c", "unit_cost": 1}],
        localities=["north", "south"],
        activity=[{"intervention": i, "locality": loc, "current": 5, "need": 50}
                  for i in ("a", "b", "c") for loc in ("north", "south")],
        priorities=[{"id": "p", "measure": "m", "unit": "u", "target_type": "soft",
                     "shortfall_penalty": 1},
                    {"id": "q", "measure": "m", "unit": "u", "target_type": "hard"}],
        responses=[("a", "p", 0.5, 2.0), ("a", "p", 1.0, 1.0), ("b", "q", 1, 1.0),
                   ("c", "p", 0.5, 0.5), ("c", "p", 1.0, 2.0)],
        budgets={"nhs": 100, "council": 100},
        targets=[("p", 2013, 10), ("q", 2014, 1)],
        pools=[{"id": "pool", "interventions": ["a", "b", "c"],
                "contributors": [{"partner": "nhs", "max_share": 0.5}]}],
        avoided=[("b", "nhs", 0.5)],
        settings={"equity_floor": 0.5},
        roles=[{"id": "nurse"}],
        staff=[{"employer": "nhs", "role": "nurse", "year": y, "fte": 5, "cost_per_fte": 1,
                "recruit_limit": 1, "integrated": True} for y in (2013, 2014)],
        intervention_staff=[{"intervention": "a", "role": "nurse", "fte_per_unit": 0.01},
                            {"intervention": "b", "role": "nurse", "fte_per_unit": 0.01}],
        space_types=[{"id": "room", "unit": "rooms"}],
        sites=[{"id": "clinic", "owner": "nhs", "locality": loc, "running_cost": 1,
                "shareable": True} for loc in ("north",)]
        + [{"id": "hall", "owner": "council", "locality": "south", "running_cost": 1}],
        site_capacity=[{"site": "clinic", "space_type": "room", "capacity": 10},
                       {"site": "hall", "space_type": "room", "capacity": 10}],
        intervention_space=[{"intervention": "b", "space_type": "room", "per_unit": 0.01}],
        exclusive=[{"id": "either", "interventions": ["a", "c"]}],
        dependencies=[{"intervention": "c", "requires": "b"}],
    )


def model_components():
    m = build_model(model_data(every_feature()))
    parts = list(m.component_objects((pyo.Var, pyo.Constraint, pyo.Objective)))
    empty = [c.local_name for c in parts if len(c) == 0]
    assert empty == [], f"every_feature() should exercise every component: {empty}"
    return m, {c.local_name for c in parts}


def test_every_component_is_named_and_every_name_is_built():
    _, names = model_components()
    assert names == set(COMPONENTS), (names ^ set(COMPONENTS))


def test_every_name_is_written_on_its_page():
    for c in COMPONENTS.values():
        text = (MODELS / c.page).read_text()
        assert re.search(rf"`{c.name}(\[|`)", text), f"{c.name} not on models/{c.page}"


def test_every_part_added_after_the_build_is_named_on_its_page():
    from hwbopt.analyses.compare import with_money_gap
    from hwbopt.compile import compile_model
    from hwbopt.model.policy import apply_policies
    from hwbopt.schema import CapChange, MinPriorityShare

    for c in ARRAY_COMPONENTS.values():
        text = (MODELS / c.page).read_text()
        assert re.search(rf"`{c.name}(\[|`)", text), f"{c.name} not on models/{c.page}"
        assert c.name not in COMPONENTS
    d = model_data(every_feature())
    comp = apply_policies(compile_model(build_model(d)), d, [
        CapChange(rule="cap_change", intervention="a", max_change=0.1),
        MinPriorityShare(rule="min_priority_share", priority="p", share=0.2)])
    comp, _ = with_money_gap(comp, 1.0)
    added = {*comp.row_component, *comp.col_component} - set(COMPONENTS)
    assert added == set(ARRAY_COMPONENTS)


def test_every_page_is_linked_from_the_index():
    index = (MODELS / "README.md").read_text()
    for page in {c.page for c in (*COMPONENTS.values(), *ARRAY_COMPONENTS.values())}:
        assert f"({page})" in index


def test_every_set_of_model_data_is_documented():
    from hwbopt.model.data import ModelData

    sets = [f for f in ModelData.__dataclass_fields__ if f.isupper()]
    index = (MODELS / "README.md").read_text()
    for s in sets:
        assert f"`{s}`" in index, s


def test_diagnosis_families_name_real_components():
    for f in FAMILIES:
        for name in (*f.rows, *f.col_lower, *f.col_upper):
            assert name in COMPONENTS, (f.key, name)


def test_export_style_names():
    """Rows are named component[index,...], e.g. budget[council,2013]."""
    from hwbopt.compile import compile_model

    m, _ = model_components()
    comp = compile_model(m)
    names = {comp.row_name(r) for r in range(comp.n_rows)}
    assert "budget[council,2013]" in names
    assert "funding[a,2014]" in names
    assert "staffing[a,nurse,2013]" in names and "site_capacity[clinic,room,2014]" in names


def test_every_feature_instance_solves_and_checks():
    from conftest import solve_checked

    result = solve_checked(every_feature())
    assert result.status == "optimal" and result.n_integer > 0
