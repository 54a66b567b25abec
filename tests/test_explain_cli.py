"""``hwbopt explain`` as a user types it: tables, --json, --all, exit codes 0, 2 and 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_instance
from test_cli import Proc, json_only, no_traceback, run_parallel, same, shown

import hwbopt

CONTRACT = {"status", "binding", "marginal_values", "unfunded", "infeasibility", "weight_ranges"}


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def unreachable_copy(dest: Path) -> Path:
    """The tutorial with a hard mental-health target of 500 in 2013/14."""
    folder = copy_instance("tutorial", dest)
    _edit(folder, "targets.csv", "mental_health,2013,150", "mental_health,2013,500")
    return folder


def conflict_copy(dest: Path) -> Path:
    """The tutorial whose council keeps both buildings and its staff on £k 50 a year."""
    folder = copy_instance("tutorial", dest)
    _edit(folder, "sites.csv", "shareable\n", "shareable,can_close\n")
    _edit(folder, "sites.csv", ",false\n", ",false,false\n")
    _edit(folder, "budgets.csv", "council,2013,900", "council,2013,50")
    _edit(folder, "budgets.csv", "council,2014,900", "council,2014,50")
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Proc]:
    work = tmp_path_factory.mktemp("explain")
    tutorial = hwbopt.shipped_instance("tutorial")
    unreachable = unreachable_copy(work / "unreachable")
    conflict = conflict_copy(work / "conflict")
    return run_parallel({
        "text": ("explain", tutorial),
        "json": ("explain", tutorial, "--json"),
        "all": ("explain", tutorial, "--json", "--all"),
        "unreachable": ("explain", unreachable),
        "unreachable-json": ("explain", unreachable, "--json"),
        "conflict-json": ("explain", conflict, "--json"),
        "missing": ("explain", work / "no-such-board"),
        "time-limit-0": ("explain", tutorial, "--time-limit", "0"),
    })


def test_explain_prints_values_rules_and_unfunded(runs):
    proc = runs["text"]
    assert proc.returncode == 0, shown(proc)
    no_traceback(proc)
    out = proc.stdout
    for piece in ("Riverside tutorial — optimal", "Marginal values", "Rules at their limit",
                  "One more £k of general money for Riverside County Council in 2013/14",
                  "Riverside County Council budget, 2013/14 (£k 837 of general money): "
                  "fully spent", "Befriending", "fixed at its plan value",
                  "How far each weight may move",
                  "Mental health: the plan stands while its weight is at least 5 points a "
                  "person (now 8)."):
        assert piece in out, piece


def test_explain_json_contract(runs, tutorial):
    proc = runs["json"]
    assert proc.returncode == 0, shown(proc)
    s = json_only(proc)
    assert set(s) >= CONTRACT
    assert s["status"] == "optimal" and s["infeasibility"] is None
    assert s["integers_fixed"] is True
    for b in s["binding"]:
        assert {"constraint", "text"} <= set(b)
    for m in s["marginal_values"]:
        assert {"constraint", "text", "value", "valid_from", "valid_to"} <= set(m)
        assert m["value"] != 0
    (u,) = s["unfunded"]
    assert u["intervention"] == "befriending" and "required_improvement" in u
    assert [w["priority"] for w in s["weight_ranges"]] == ["older_people", "mental_health",
                                                           "obesity"]
    for w in s["weight_ranges"]:
        assert {"priority", "weight", "valid_from", "valid_to"} <= set(w)
    assert u["required_improvement"]["cheaper_by_percent"] > 0
    api = hwbopt.explain(tutorial).summary()
    # provenance differs by design: the date, and the instance's files the command line read
    assert set(s["provenance"]) == set(api["provenance"])
    assert s["provenance"]["instance_sha256"] and api["provenance"]["instance_sha256"] is None
    s.pop("provenance"), api.pop("provenance")
    assert same(s, api)


def test_explain_all_lists_zero_values(runs):
    some, every = json_only(runs["json"]), json_only(runs["all"])
    assert every["all_values"] is True
    assert len(every["marginal_values"]) > len(some["marginal_values"])
    assert any(m["value"] == 0 for m in every["marginal_values"])


def test_explain_infeasible_exits_3_with_the_smallest_relaxation(runs):
    proc = runs["unreachable"]
    assert proc.returncode == 3, shown(proc)
    no_traceback(proc)
    assert "Mental health target, 2013/14 must fall by" in proc.stdout
    s = json_only(runs["unreachable-json"])
    assert runs["unreachable-json"].returncode == 3
    assert s["status"] == "infeasible" and s["binding"] == s["marginal_values"] == []
    assert s["weight_ranges"] == []
    inf = s["infeasibility"]
    (r,) = inf["relaxations"]
    assert r["rule"] == "target[mental_health,2013]" and r["unit"] == "people"
    assert {"rule", "text", "amount"} <= set(r) and inf["conflict"] == []
    # every mental-health service at its need: talking therapies 400 x 0.5, befriending
    # 800 x 0.05 and exercise on referral 1,000 x 0.02 reach 200 + 40 + 20 = 260 of the 500
    assert r["amount"] == pytest.approx(240.0, rel=1e-9)


def test_explain_conflict_names_the_rules(runs):
    proc = runs["conflict-json"]
    assert proc.returncode == 3, shown(proc)
    s = json_only(proc)
    inf = s["infeasibility"]
    assert inf["relaxations"] == [] and inf["conflict"]
    assert inf["irreducible"] is True
    assert all({"rule", "text"} <= set(c) for c in inf["conflict"])
    assert any(c["rule"].startswith("budget[council,") for c in inf["conflict"])


@pytest.mark.parametrize("key", ["missing", "time-limit-0"])
def test_explain_usage_errors_exit_2(runs, key):
    proc = runs[key]
    assert proc.returncode == 2, shown(proc)
    no_traceback(proc)
    assert proc.stdout == ""
