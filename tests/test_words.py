"""The naming layer: every row and column of a model reads as a sentence, never as an index."""

from __future__ import annotations

import re

import pytest
from test_model_names import every_feature

import hwbopt
from hwbopt import words
from hwbopt.model.names import COMPONENTS
from hwbopt.pipeline import build

RAW = re.compile(r"\w\[[^\]]*\]|\(\s*'|\bNone\b|\bnan\b")  # budget[x,2013], ('a', 2013), ...


def no_raw_index(text: str, comp, position: int, kind: str) -> None:
    name = comp.row_name(position) if kind == "row" else comp.col_name(position)
    assert text and text.strip() == text, name
    assert not RAW.search(text), f"{name}: {text}"
    assert name not in text, f"{name}: {text}"
    assert " in all" not in text, f"{name}: the implicit locality 'all' leaked: {text}"
    index = comp.row_index[position] if kind == "row" else comp.col_index[position]
    for y in (v for v in (index if isinstance(index, tuple) else (index,))
              if isinstance(v, int) and v >= 1900):
        assert not re.search(rf"\b{y}\b(?!/)", text), f"{name}: bare year in: {text}"


@pytest.fixture(scope="module", params=["county", "every_feature", "tutorial"])
def built(request):
    inst = every_feature() if request.param == "every_feature" else hwbopt.load(
        hwbopt.shipped_instance(request.param))
    return build(inst)


def test_every_constraint_component_has_words():
    cons = {c.name for c in COMPONENTS.values() if c.kind == "con"}
    assert cons == set(words.CONSTRAINTS), cons ^ set(words.CONSTRAINTS)


def test_every_row_gets_a_sentence(built):
    d, comp = built.data, built.compiled
    for r in range(comp.n_rows):
        component, index = comp.row_component[r], comp.row_index[r]
        rule = words.rule(d, component, index)
        binding = words.sentence(d, component, index, words.State())
        for text in (rule, binding):
            no_raw_index(text, comp, r, "row")
        assert binding.startswith(rule.split(" in 20")[0].split(",")[0])
        assert words.unit(d, component, index)


def test_every_column_gets_words(built):
    d, comp = built.data, built.compiled
    for j in range(comp.n_cols):
        no_raw_index(words.quantity(d, comp.col_component[j], comp.col_index[j]), comp, j,
                     "col")


def test_bound_rules_read_as_rules(built):
    d, comp = built.data, built.compiled
    for component, side in words.BOUND_RULES:
        for idx, j in comp.cols(component).items():
            for binding in (False, True):
                no_raw_index(words.bound_rule(d, component, idx, side, binding), comp, j, "col")


def test_the_county_reads_as_the_board_would_say_it():
    b = build(hwbopt.load(hwbopt.shipped_instance("county")))
    d = b.data
    # baseline £k 15,940 less the third year's cut of 21% (28% over four years)
    assert words.sentence(d, "budget", ("county", 2013), words.State()) == (
        "Westshire County Council budget, 2013/14 (£k 12,592.6 of general money): fully spent")
    assert words.sentence(d, "growth_limit", ("reablement", "kingsbridge", 2012),
                          words.State()) == (
        "Home care reablement in Kingsbridge (county town) may grow at most 15% a year: "
        "at its limit in 2012/13")
    assert words.relaxation(d, "target", ("mental_health", 2013), 312) .startswith(
        "Mental health target, 2013/14 must fall by 312 people")


def test_a_budget_with_savings_credited_names_the_credit():
    """What a budget spends at its limit is its general money and any savings credited from
    avoided costs (models/money.md): the sentence says both."""
    d = build(hwbopt.load(hwbopt.shipped_instance("tutorial"))).data
    assert words.sentence(d, "budget", ("nhs", 2013), words.State(credit=40)) == (
        "Riverside CCG budget, 2013/14 (£k 960 of general money and £k 40 of savings credited "
        "from avoided costs): fully spent")
    assert words.rule(d, "budget", ("nhs", 2013)) == (
        "Riverside CCG budget, 2013/14 (£k 960 of general money)")


def test_a_dependency_reads_with_the_activity_it_requires():
    d = build(every_feature()).data
    assert words.sentence(d, "dependency_activity", ("c", "b", 2013), words.State()) == (
        "c runs only if b delivers at least 1 unit, 2013/14: holds")


@pytest.mark.parametrize(("value", "text"), [
    (312.0, "312"), (311.99999999, "312"), (1234.5, "1,234.5"), (0.0625, "0.0625"),
    (-0.0, "0"), (1e-12, "0.000000000001"), (2_500_000.0, "2,500,000"), (float("inf"),
                                                                         "unlimited")])
def test_numbers(value, text):
    assert words.num(value) == text


@pytest.mark.parametrize(("unit", "text"), [
    ("episode", "episodes"), ("user-year", "user-years"), ("person", "people"),
    ("people", "people"), ("FTE", "FTE"), ("desks", "desks"), ("family-year", "family-years"),
    ("person setting a quit date", "person setting a quit date"), ("therapy", "therapies")])
def test_plurals(unit, text):
    assert words.plural(unit) == text


# ---------------------------------------------------------------------------------------------
# the objective in a sentence, and each measure's direction
# ---------------------------------------------------------------------------------------------


def test_objective_sentence_states_every_weight_and_penalty():
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    text = words.objective_sentence(inst.priorities, "outcome", money_label="£k")
    assert "1 under-18 conception averted = 10 points" in text
    assert "1 older person helped to stay living at home = 8 points" in text
    assert "1 smoker quit at four weeks = 0.6 points" in text
    # soft targets' penalties in their own units; hard targets named as must-meet
    assert "10 points per conception for Teenage pregnancy" in text
    assert "6 points per person for Older people's independence" in text
    assert "The Mental health and Drugs and alcohol targets must be met in full" in text
    assert "(" not in text.split("1 older person")[1].split(";")[0]  # no parenthetical detail
    # every priority appears once, with its own weight
    for k in inst.priorities:
        assert f"= {words.num(k.weight)} point" in text


def test_objective_sentence_reads_the_labels_a_result_folder_carries():
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    from hwbopt.provenance import instance_labels
    as_labels = list(instance_labels(inst)["priorities"].values())
    for kind in ("outcome", "cost", "equity"):
        assert words.objective_sentence(as_labels, kind, money_label="£k") == \
            words.objective_sentence(inst.priorities, kind, money_label="£k")


def test_objective_sentence_for_cost_and_equity():
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    cost = words.objective_sentence(inst.priorities, "cost", money_label="£k")
    assert "least money, in £k" in cost and "every target" in cost and "points" not in cost
    equity = words.objective_sentence(inst.priorities, "equity")
    assert equity.startswith("The objective first lifts the worst-met target")
    assert "achieved ÷ target" in equity and "= 10 points" in equity
    local = words.objective_sentence(inst.priorities, "equity", equity_over="localities")
    assert "locality" in local
    discounted = words.objective_sentence(inst.priorities, discount_rate=0.035)
    assert "discounted at 3.5% a year" in discounted


def test_measured_states_the_direction_of_the_measure():
    inst = hwbopt.load(hwbopt.shipped_instance("county"))
    k = {p.id: p for p in inst.priorities}
    assert words.measured(48.57, k["teenage_pregnancy"]) == "+48.57 under-18 conceptions averted"
    assert words.measured(-1, k["teenage_pregnancy"]) == "−1 under-18 conception averted"
    assert words.measured(3, k["obesity"]).startswith("+3 people (adults losing 5%")
    assert words.measured(2, {"unit": "people", "measure": ""}) == "+2 people"
