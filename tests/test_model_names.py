"""The model, its names and models/ agree: a newcomer can find a constraint from its name."""

from __future__ import annotations

import re
from pathlib import Path

import pyomo.environ as pyo
from tiny import build

from hwbopt.model import build_model, model_data
from hwbopt.model import component as declared
from hwbopt.model.names import ARRAY_COMPONENTS, COMPONENTS, FAMILIES, PARTS, with_role

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
    from hwbopt.compile import compile_model
    from hwbopt.model.gap import with_money_gap
    from hwbopt.model.names import with_role
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
    comp, _ = with_money_gap(comp, 1.0, with_role("money_gap"))
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


# ---------------------------------------------------------------------------------------------
# declarations: each part module declares its components; everything else reads them
# ---------------------------------------------------------------------------------------------


def test_every_built_component_is_declared_in_full():
    _, built = model_components()
    for name in built:
        c = COMPONENTS[name]
        assert c.name == name and c.kind in ("var", "con", "obj") and c.meaning, name
        assert (MODELS / c.page).is_file(), (name, c.page)
        if c.kind == "con":
            assert callable(c.words), f"{name}: no words for the board"
        if c.kind == "var":
            assert callable(c.quantity), f"{name}: no words for the board"
    for c in ARRAY_COMPONENTS.values():
        assert c.kind in ("var", "con") and c.meaning and (MODELS / c.page).is_file(), c.name


def test_each_part_declares_its_components_on_its_own_page():
    """A newcomer finds a component's page from the module that builds it."""
    for part in PARTS:
        page = part.__name__.rsplit(".", 1)[1] + ".md"
        assert all(c.page == page for c in part.COMPONENTS), part.__name__


def test_roles_families_and_reach_are_well_formed():
    from hwbopt.derived import FEEDS

    groups = {g for gs in FEEDS.values() for g in gs}
    assert set(declared.DERIVED) == groups
    texts = [t for part in PARTS for t in part.FAMILIES]
    keys = {t.key for t in texts}
    assert len(keys) == len(texts) and len({t.place for t in texts}) == len(texts)
    for c in COMPONENTS.values():
        assert set(c.roles) <= set(declared.ROLES), c.name
        assert set(c.reach) <= groups, c.name
        assert c.family is None or c.family in keys, c.name
        assert c.relaxed == "row" if c.kind == "con" else c.relaxed in ("row", "lower", "upper")
        if c.roles:
            assert c.kind == "con", f"{c.name}: roles are for rules (rows)"
        if declared.SOFT in c.roles:
            assert c.relaxation and c.size, f"{c.name}: a soft rule says how far it gives"
        if declared.MARGINAL in c.roles:
            assert c.one_more, f"{c.name}: a marginal rule says what one more unit is"
    for role in declared.ROLES:
        places = [c.roles[role] for c in COMPONENTS.values() if role in c.roles]
        assert len(set(places)) == len(places), f"two rules share a place in {role}"
    assert all(f.rows or f.col_lower or f.col_upper for f in FAMILIES)


def test_the_lists_callers_use_are_read_from_the_declarations():
    from hwbopt.analyses import compare, elastic, explain
    from hwbopt.batch import setup

    assert with_role(declared.MARGINAL) == explain.MARGINAL_RULES
    assert with_role(declared.BINDING) == explain.BINDING_RULES
    assert with_role(declared.SOFT) == elastic.SOFT_ROWS
    assert with_role(declared.HARD) == elastic.HARD_ROWS
    assert with_role(declared.MONEY_GAP) == compare.GAP_ROWS
    assert with_role(declared.STRESS_BINDING) == setup.BINDING_FAMILIES


def test_listing_orders_are_as_users_see_them():
    """The order of each listing is visible (explain's tables, the conflict search, the
    diagnosis message): declarations keep it."""
    assert with_role("marginal") == ("budget", "ring_fence", "pool_balance", "staff_balance",
                                     "site_capacity", "target")
    assert with_role("binding") == (
        "budget", "ring_fence", "pool_balance", "qipp_credit_limit", "target", "staff_capacity",
        "release_limit", "site_capacity", "run_min", "growth_limit", "reduction_limit",
        "equity_floor")
    assert with_role("soft") == ("target", "growth_limit", "reduction_limit", "equity_floor",
                                 "run_min")
    assert with_role("hard") == ("budget", "ring_fence", "pool_balance", "staff_capacity",
                                 "release_limit", "site_capacity", "exclusive", "dependency",
                                 "dependency_activity")
    assert with_role("money_gap") == ("budget", "ring_fence", "pool_balance")
    assert [f.key for f in FAMILIES] == [
        "targets", "money", "need", "reduction_limit", "growth_limit", "pool_minimum",
        "equity_floor", "staff", "space", "min_scale", "choices"]
    assert FAMILIES[1].rows == ("budget", "ring_fence", "pool_balance")
    assert FAMILIES[2].col_upper == ("activity", "segment")
    assert FAMILIES[5].col_lower == ("contribution",)
