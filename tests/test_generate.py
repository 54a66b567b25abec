"""``hwbopt generate``: synthetic instances of any size, valid, feasible and deterministic.

The command is run as a user types it (in subprocesses, started together), its refusals through
click's runner in this process; the rest works on small instances in-process. The reference
plan the generator sizes everything from (keep current activity) is checked to be feasible in
the instance as read back.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import run_cli, run_cli_here, solve_checked

import hwbopt
from hwbopt import highs
from hwbopt.errors import UsageError
from hwbopt.generate import (
    estimate_variables,
    generate_instance,
    instance_files,
    parse_count,
    size_for_variables,
    write_generated,
)
from hwbopt.io.folder import read_folder
from hwbopt.pipeline import build

Proc = subprocess.CompletedProcess[str]
SMALL = ("--localities", "3", "--interventions", "8", "--partners", "4", "--years", "2",
         "--sites", "4", "--seed", "7")
BAD = {
    "no-partners": (("--partners", "0"), "partners is 0"),
    "one-partner": (("--partners", "1"), "at least 2 partners"),
    "few-interventions": (("--interventions", "3"), "at least 4 interventions"),
    "no-years": (("--years", "0"), "at least one year"),
    "long-horizon": (("--years", "51"), "at most 50 years"),
    "no-sites": (("--sites", "0"), "at least one site"),
    "negative-localities": (("--localities", "-2"), "localities is -2"),
    "negative-seed": (("--seed", "-1"), "seed must be"),
    "text-size": (("--partners", "many"), "'many' is not a valid integer"),
    "variables-and-sizes": (("--variables", "10k", "--years", "3"), "not both"),
    "bad-variables": (("--variables", "lots"), "expected a count"),
    "too-large": (("--localities", "100000", "--interventions", "100000"), "at most"),
}


TYPED = ("text-size", "too-large")  # the refusals run in a subprocess


def shown(proc: Proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generate")


@pytest.fixture(scope="module")
def runs(work: Path) -> dict[str, Proc]:
    """The independent commands of this module, run once, several at a time."""
    clash = work / "clash"
    clash.mkdir()
    (clash / "instance.yaml").write_text("# my own board, do not touch\n", encoding="utf-8")
    # a file of its own: the jobs run at once, so none may point into another's folder
    a_file = work / "notes.txt"
    a_file.write_text("not a folder\n", encoding="utf-8")
    jobs: dict[str, tuple] = {
        "generate": ("generate", *SMALL, work / "small"),
        "clash": ("generate", *SMALL, clash),
        "file": ("generate", *SMALL, a_file),
    }
    # as typed: a value click refuses, and one that must be refused before any work (in this
    # process it would have no time limit if it were not)
    for key in TYPED:
        jobs[key] = ("generate", *BAD[key][0], work / key)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {key: pool.submit(run_cli, *args) for key, args in jobs.items()}
        done = {key: f.result() for key, f in futures.items()}
    # the refusals in this process: the same command and exit code, without an interpreter's
    # start each
    for key, (args, _) in BAD.items():
        if key not in TYPED:
            done[key] = run_cli_here("generate", *args, work / key)
    return done


# ---- the command as a user types it -----------------------------------------------------------


def test_generate_validate_solve(runs: dict[str, Proc], work: Path) -> None:
    made = runs["generate"]
    assert made.returncode == 0, shown(made)
    assert "wrote" in made.stdout and "hwbopt solve" in made.stdout
    folder = work / "small"
    assert sorted(p.name for p in folder.iterdir()) == sorted(instance_files())
    # the same files from another process (another hash seed) through the library
    again, _ = write_generated(work / "small-again", localities=3, interventions=8, partners=4,
                               years=2, sites=4, seed=7)
    assert _files(again) == _files(folder)

    valid = run_cli("validate", folder)
    assert valid.returncode == 0, shown(valid)
    assert valid.stdout.startswith("valid: Synthetic board 7")
    assert "8 interventions" in valid.stdout and "3 localities" in valid.stdout
    assert valid.stderr == "", shown(valid)  # no warnings either

    solved = run_cli("solve", folder, "--json")
    assert solved.returncode == 0, shown(solved)
    summary = json.loads(solved.stdout)
    assert summary["status"] == "optimal" and summary["checked"] is True
    assert summary["model"]["integer_variables"] > 0  # go/no-go, sites, thresholds
    assert summary["buildings"] and summary["staff"]
    hard = [t for t in summary["targets"] if t["hard"]]
    assert hard and all(t["met"] for t in hard)
    # and independently of the CLI: the checker re-derives every rule from the raw rows
    result = solve_checked(hwbopt.load(folder))
    assert result.status == "optimal"
    assert result.objective == pytest.approx(summary["objective"], rel=1e-6)


def test_refuses_to_overwrite_an_instance(runs: dict[str, Proc], work: Path) -> None:
    proc = runs["clash"]
    assert proc.returncode == 2, shown(proc)
    assert "already holds instance.yaml" in proc.stderr and "--force" in proc.stderr
    assert "Traceback" not in proc.stderr
    clash = work / "clash"
    assert (clash / "instance.yaml").read_text(encoding="utf-8") == \
        "# my own board, do not touch\n"
    assert [p.name for p in clash.iterdir()] == ["instance.yaml"]

    not_a_folder = runs["file"]
    assert not_a_folder.returncode == 2, shown(not_a_folder)
    assert "not a folder" in not_a_folder.stderr


def test_force_replaces_instance_files_only(tmp_path: Path) -> None:
    folder = tmp_path / "board"
    write_generated(folder, localities=2, interventions=5, partners=2, years=1, sites=2, seed=1)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="nothing was overwritten"):
        write_generated(folder, localities=2, interventions=5, partners=2, years=1, sites=2,
                        seed=2)
    assert hwbopt.load(folder).name == "Synthetic board 1"
    proc = run_cli("generate", "--localities", "2", "--interventions", "5", "--partners", "2",
                   "--years", "1", "--sites", "2", "--seed", "2", "--force", folder)
    assert proc.returncode == 0, shown(proc)
    assert hwbopt.load(folder).name == "Synthetic board 2"
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("key", list(BAD))
def test_bad_arguments_exit_2_with_a_message(runs: dict[str, Proc], work: Path, key: str
                                             ) -> None:
    proc = runs[key]
    assert proc.returncode == 2, shown(proc)
    assert BAD[key][1] in proc.stderr, shown(proc)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (work / key).exists()  # nothing written


# ---- the library ------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    sizes = {"localities": 4, "interventions": 30, "partners": 8, "years": 3, "sites": 7}
    a, _ = write_generated(tmp_path / "a", seed=11, **sizes)
    b, _ = write_generated(tmp_path / "b", seed=11, **sizes)
    c, _ = write_generated(tmp_path / "c", seed=12, **sizes)
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)
    assert generate_instance(seed=3) == generate_instance(seed=3)


def _reference_status(inst: hwbopt.Instance) -> str:
    """Solve with every activity fixed at its current level (the generator's reference plan)."""
    b = build(inst)
    comp = b.compiled
    lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
    for (i, loc, _), j in comp.cols("activity").items():
        lo[j] = hi[j] = b.data.current[i, loc]
    fixed = dataclasses.replace(comp, col_lower=lo, col_upper=hi, _cols={}, _rows={})
    return highs.solve_compiled(fixed, time_limit=30, mip_gap=1e-2).status


@pytest.mark.parametrize("sizes", [
    (1, 4, 2, 1, 1),  # the smallest instance
    (3, 6, 3, 3, 1),  # fewer sites than localities
    (5, 25, 7, 4, 10),  # county size (the defaults)
    (2, 40, 12, 6, 9),  # many partners: several of each kind
])
def test_valid_without_warnings_and_feasible(tmp_path: Path, sizes: tuple[int, ...]) -> None:
    names = ("localities", "interventions", "partners", "years", "sites")
    folder, _ = write_generated(tmp_path / "g", seed=5, **dict(zip(names, sizes, strict=True)))
    inst, warnings = read_folder(folder)
    assert warnings == []
    assert len(inst.localities) == sizes[0] and len(inst.interventions) == sizes[1]
    assert len(inst.partners) == sizes[2] and len(inst.years) == sizes[3]
    assert len(inst.sites) == sizes[4]
    assert _reference_status(inst) == "optimal"
    if sizes[1] <= 25:
        assert solve_checked(inst, time_limit=60).status == "optimal"


def test_every_entity_kind_is_present() -> None:
    inst = hwbopt.instance_from_dict(generate_instance(6, 30, 9, 4, 14, seed=2))
    partners = {p.id: p for p in inst.partners}
    kinds = {p.kind for p in inst.partners}
    assert {"nhs", "council", "public_health", "police", "fire", "voluntary"} <= kinds
    assert all(p.remit for p in inst.partners if p.kind != "housing")
    assert any(p.savings_rate > 0 for p in inst.partners)  # QIPP
    assert any(p.cut is not None for p in inst.partners)
    assert any(p.cut_by_year is not None for p in inst.partners)
    assert any(p.ring_fenced for p in inst.partners)
    assert inst.pools and all(g.contributors for g in inst.pools)
    assert any(c.min_share > 0 for g in inst.pools for c in g.contributors)
    types = {p.target_type for p in inst.priorities}
    assert types == {"hard", "soft"}
    assert {t.priority for t in inst.targets} == {p.id for p in inst.priorities}
    assert len(inst.localities) == 6 and all(loc.population for loc in inst.localities)

    rows = inst.interventions
    assert any(i.max_growth is not None for i in rows)
    assert any(i.max_reduction is not None for i in rows)
    assert any(i.max_growth_of_need > 0 for i in rows)
    assert any(i.min_scale > 0 and i.setup_cost == 0 for i in rows)  # a running service
    assert any(i.min_scale > 0 and i.setup_cost > 0 for i in rows)  # a new one
    assert inst.exclusive and inst.dependencies
    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in inst.responses:
        curves.setdefault((r.intervention, r.priority), []).append((r.upto_share, r.effect))
    shapes = [[e for _, e in sorted(c)] for c in curves.values()]
    assert any(len(s) > 2 and all(a >= b for a, b in itertools.pairwise(s))
               for s in shapes)  # concave, several pieces
    assert any(any(b > a for a, b in itertools.pairwise(s)) for s in shapes)  # threshold
    assert inst.avoided_costs
    assert {a.partner for a in inst.avoided_costs} & {p for p, v in partners.items()
                                                      if v.savings_rate > 0}

    assert inst.roles and inst.staff and inst.intervention_staff
    assert any(s.integrated for s in inst.staff) and any(not s.integrated for s in inst.staff)
    assert all(s.recruit_limit > 0 and s.max_release > 0 for s in inst.staff)
    assert inst.space_types and inst.site_capacity and inst.intervention_space
    sites = inst.sites
    assert len(sites) == 14 and {s.locality for s in sites} == {loc.id for loc in inst.localities}
    assert {s.owner for s in sites} <= set(partners) and len({s.owner for s in sites}) > 1
    assert any(s.shareable for s in sites) and any(not s.shareable for s in sites)
    assert any(not s.can_close for s in sites) and any(s.can_close for s in sites)
    needy = {r.intervention for r in inst.intervention_staff} | {
        r.intervention for r in inst.intervention_space}
    assert all(i.lead in partners for i in rows if i.id in needy)


def test_library_rejects_bad_sizes() -> None:
    with pytest.raises(UsageError, match="partners is 0"):
        generate_instance(partners=0)
    with pytest.raises(UsageError, match="whole number"):
        generate_instance(localities=2.5)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="1900-2200"):
        generate_instance(first_year=2199, years=5)
    with pytest.raises(UsageError):
        size_for_variables(10)


def test_counts_and_sizes() -> None:
    assert parse_count("10k") == 10_000 and parse_count("1M") == 1_000_000
    assert parse_count("2500") == 2500 and parse_count("0.1m") == 100_000
    with pytest.raises(UsageError):
        parse_count("-3")
    for target in (10_000, 100_000, 1_000_000):
        sizes = size_for_variables(target)
        assert abs(estimate_variables(**sizes) - target) < 0.01 * target
    # the estimate is close to the real count of columns
    sizes = size_for_variables(10_000)
    built = build(hwbopt.instance_from_dict(generate_instance(**sizes, seed=0)))
    assert 0.8 * 10_000 < built.compiled.n_cols < 1.25 * 10_000
