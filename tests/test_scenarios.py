"""Scenario and option overrides: paths in the instance's own names, new instances, located errors.

Applying changes must never touch the instance it starts from, must change exactly what the path
names, and must report a path that names nothing (or a change that breaks a rule) with its
place in instance.yaml, through the CLI with exit 2.
"""

from __future__ import annotations

import pytest
import yaml
from conftest import copy_instance, run_cli

import hwbopt
from hwbopt.errors import InstanceError
from hwbopt.paths import parse_path
from hwbopt.scenarios import apply_changes, scenario_instance
from hwbopt.schema import Change


def changed(inst, *changes: tuple[str, str, object]):
    return apply_changes(inst, [Change(path=p, **{op: v}) for p, op, v in changes],
                         "scenarios[0].changes")


def test_paths_address_fields_rows_and_wildcards(tutorial):
    before = tutorial.model_dump()
    new = changed(tutorial,
                  ("partners[council].cut.total", "value", 0.35),
                  ("budgets[nhs].baseline", "scale", 0.9),
                  ("budgets[council,2014].baseline", "add", -100),
                  ("activity[*].need", "scale", 1.1),
                  ("pools[bcf].contributors[nhs].max_share", "value", 0.5),
                  ("settings.equity_floor", "value", 0.5),
                  ("interventions[telecare].unit_cost", "value", 0.6))
    council = next(p for p in new.partners if p.id == "council")
    assert council.cut.total == 0.35 and council.cut.over_years == 4
    budgets = {(b.partner, b.year): b.baseline for b in new.budgets}
    assert budgets == {("nhs", 2013): 900, ("nhs", 2014): 900, ("council", 2013): 900,
                       ("council", 2014): 800}
    old_need = {a.intervention: a.need for a in tutorial.activity}
    assert all(a.need == pytest.approx(1.1 * old_need[a.intervention]) for a in new.activity)
    assert new.pools[0].contributors[0].max_share == 0.5
    assert new.settings.equity_floor == 0.5
    assert next(i for i in new.interventions if i.id == "telecare").unit_cost == 0.6
    # the instance it started from is untouched, and is still the base scenario
    assert tutorial.model_dump() == before
    assert scenario_instance(tutorial, "base") is tutorial


def test_a_changed_instance_is_solved_like_one_written_by_hand(tutorial, tmp_path):
    new = changed(tutorial, ("partners[council].cut.total", "value", 0.35))
    folder = copy_instance("tutorial", tmp_path)
    text = (folder / "instance.yaml").read_text()
    (folder / "instance.yaml").write_text(text.replace("cut: {total: 0.28", "cut: {total: 0.35"))
    by_hand = hwbopt.load(folder)
    assert hwbopt.solve(new).objective == pytest.approx(hwbopt.solve(by_hand).objective,
                                                        rel=1e-9)


@pytest.mark.parametrize(("path", "words"), [
    ("partners[nobody].cut.total", "no partners entry with id 'nobody'"),
    ("partners[council].cutt", "unknown field 'cutt' of partners[council]"),
    ("partners[nhs].cut.total", "partners[nhs].cut is not set"),
    ("budgets[nhs,2030].baseline", "no budgets entry with year '2030'"),
    ("budgets[nhs,2013]", "name the field to change"),
    ("interventions.unit_cost", "select entries with interventions[ID]"),
    ("activity[a,b,c].need", "at most 2 keys"),
    ("budgets[nhs.baseline", "unbalanced '['"),
    ("nonsense", "unknown field 'nonsense'"),
])
def test_a_path_that_names_nothing_says_why(tutorial, path, words):
    with pytest.raises(InstanceError) as err:
        changed(tutorial, (path, "value", 1))
    problem = err.value.problems[0]
    assert problem.field == "scenarios[0].changes[0].path"
    assert words in problem.message


def test_scale_needs_a_number_and_a_change_must_keep_the_rules(tutorial):
    with pytest.raises(InstanceError, match="'scale' needs a number"):
        changed(tutorial, ("partners[council].name", "scale", 2))
    with pytest.raises(InstanceError, match=r"after these changes.*cut\.total"):
        changed(tutorial, ("partners[council].cut.total", "value", 1.2))


def test_exactly_one_operation_per_change():
    with pytest.raises(ValueError, match="exactly one of"):
        Change(path="settings.equity_floor", value=0.5, scale=2)
    with pytest.raises(ValueError, match="exactly one of"):
        Change(path="settings.equity_floor")
    assert Change(path="settings.equity_floor", value=None).value is None


def test_parse_path():
    steps = parse_path("pools[bcf].contributors[nhs].max_share")
    assert [(s.name, s.keys) for s in steps] == [("pools", ("bcf",)),
                                                 ("contributors", ("nhs",)),
                                                 ("max_share", None)]


def _with_yaml(folder, extra: dict) -> None:
    data = yaml.safe_load((folder / "instance.yaml").read_text())
    data.update(extra)
    (folder / "instance.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_bad_scenarios_and_options_exit_2_with_their_place(tmp_path):
    folder = copy_instance("tutorial", tmp_path)
    _with_yaml(folder, {
        "scenarios": [
            {"id": "deep", "changes": [{"path": "partners[council].cut.total", "value": 0.35}]},
            {"id": "typo", "changes": [{"path": "partners[councl].cut.total", "value": 0.35}]},
            {"id": "too_deep", "changes": [{"path": "partners[council].cut.total",
                                            "value": 1.5}]},
            {"id": "base", "changes": [{"path": "settings.equity_floor", "value": 0.2}]},
        ],
        "options": [
            {"id": "siloed", "policies": [{"rule": "no_closures"}]},
            {"id": "guard", "policies": [{"rule": "protect", "intervention": "nothing"},
                                         {"rule": "fix_contribution", "partner": "nhs",
                                          "pool": "bcf", "share": 0.1},
                                         {"rule": "keep_open", "site": "nowhere"},
                                         {"rule": "explode"}]},
        ],
    })
    proc = run_cli("validate", folder)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    err = proc.stderr
    assert "options[1].policies[3]" in err  # an unknown rule is a field error
    folder2 = copy_instance("tutorial", tmp_path / "b")
    _with_yaml(folder2, {
        "scenarios": [
            {"id": "typo", "changes": [{"path": "partners[councl].cut.total", "value": 0.35}]},
            {"id": "too_deep", "changes": [{"path": "partners[council].cut.total",
                                            "value": 1.5}]},
            {"id": "base", "changes": [{"path": "settings.equity_floor", "value": 0.2}]},
        ],
        "options": [
            {"id": "siloed", "policies": [{"rule": "no_closures"}]},
            {"id": "guard", "policies": [{"rule": "protect", "intervention": "nothing"},
                                         {"rule": "keep_open", "site": "nowhere"}]},
        ],
    })
    proc = run_cli("validate", folder2)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    err = proc.stderr
    assert "scenarios[2].id: 'base' is the built-in scenario" in err
    assert "options[0].id: 'siloed' is a built-in option" in err
    assert "options[1].policies[0].intervention: unknown intervention 'nothing'" in err
    assert "options[1].policies[1].site: unknown site 'nowhere'" in err
    # once the ids are right, each change is tried: every bad one is named with its place
    folder3 = copy_instance("tutorial", tmp_path / "c")
    _with_yaml(folder3, {
        "scenarios": [
            {"id": "typo", "changes": [{"path": "partners[councl].cut.total", "value": 0.35}]},
            {"id": "too_deep", "changes": [{"path": "partners[council].cut.total",
                                            "value": 1.5}]},
        ],
        "options": [{"id": "dearer", "changes": [{"path": "interventions[*].unit_cost",
                                                  "scale": -1}]}],
    })
    proc = run_cli("validate", folder3)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    err = proc.stderr
    assert "scenarios[0].changes[0].path: no partners entry with id 'councl'" in err
    assert "scenarios[1].changes: after these changes" in err and "cut.total" in err
    assert "options[0].changes: after these changes" in err and "unit_cost" in err


def test_an_instance_with_overrides_survives_a_dump_and_reload(tutorial):
    """Every key of a dumped change is present (unused ones null): it must read back."""
    again = hwbopt.Instance.model_validate(tutorial.model_dump())
    assert again == tutorial and again.scenarios and again.options and again.stress
    nulled = Change(path="settings.equity_floor", value=None)
    assert Change.model_validate(nulled.model_dump()).op == "value"


def test_a_normal_stress_input_with_one_bound_is_refused_not_a_crash() -> None:
    from pydantic import ValidationError

    from hwbopt.schema import StressInput

    spec = {"path": "partners[council].cut.total", "dist": "normal", "mean": 0.3, "sd": 0.05}
    for bound in ({"low": 0.2}, {"high": 0.4}):
        with pytest.raises(ValidationError, match="needs both low and high"):
            StressInput.model_validate({**spec, **bound})
    assert StressInput.model_validate({**spec, "low": 0.2, "high": 0.4}).low == 0.2
