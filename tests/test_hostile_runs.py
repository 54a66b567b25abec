"""A stress run folder, damaged as a hostile user (or a crash, or a file manager) would damage
it: every case is refused naming the file or folder (exit 2), or finished with the damage
moved aside into ``quarantine/`` and its scenarios solved again, so the Parquet results equal
a clean run's. Never "unexpected", never a traceback, never two runs mixed.

Commands run in this process (``click.testing.CliRunner``) on the tutorial's
``cuts_and_pressures`` set: 64 scenarios, two chains of 32, one part each.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import hwbopt
from hwbopt.batch.run import run_stress
from hwbopt.batch.store import LOCK, QUARANTINE, read_results
from hwbopt.cli import cli
from hwbopt.errors import UsageError

TIMING = ["solve_seconds", "certify_seconds"]
N = 64
P0, P1 = "part-0000000-0000000.parquet", "part-0000001-0000001.parquet"
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def tutorial() -> Path:
    return hwbopt.shipped_instance("tutorial")


def stress_args(out: Path, *extra: str, instance: Path | None = None) -> list[str]:
    return ["stress", str(instance or tutorial()), "--set", "cuts_and_pressures",
            "--scenarios", str(N), "--workers", "1", "--block-size", "32", "--quiet", "--json",
            "--out", str(out), *extra]


def invoke(args: list[str]):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    text = result.stdout + result.stderr
    assert "unexpected" not in text and "Traceback" not in text, text
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    inst = hwbopt.load(tutorial())
    for name, seed in (("clean", None), ("other", 5)):
        run_stress(inst, set_name="cuts_and_pressures", scenarios=N, seed=seed,
                   out=base / name, workers=1, block_size=32)
    assert sorted(p.name for p in (base / "clean" / "scenarios").iterdir()) == [P0, P1]
    return {"clean": base / "clean", "other": base / "other"}


@pytest.fixture
def run(tmp_path, runs) -> Path:
    """A private copy of the clean, finished run."""
    target = tmp_path / "run"
    shutil.copytree(runs["clean"], target)
    return target


def same_as_clean(folder: Path, runs: dict[str, Path]) -> None:
    got = read_results(folder)
    assert sorted(got.scenario) == list(range(N)), "every scenario exactly once"
    pd.testing.assert_frame_equal(got.drop(columns=TIMING),
                                  read_results(runs["clean"]).drop(columns=TIMING))


# ---- damage to the parts: --resume moves it aside and solves its scenarios again ----------

def _part(run: Path, name: str = P0) -> Path:
    return run / "scenarios" / name


def truncate(run, runs):
    p = _part(run)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return P0


def zero_bytes(run, runs):
    _part(run).write_bytes(b"")
    return P0


def garbage(run, runs):
    _part(run).write_bytes(os.urandom(5000))
    return P0


def text_file(run, runs):
    _part(run).write_text("scenario,status\n0,optimal\n")
    return P0


def only_magic(run, runs):
    _part(run).write_bytes(b"PAR1PAR1")
    return P0


def copy_beside(run, runs):
    shutil.copy(_part(run), _part(run, "part-0000000-0000000 (copy).parquet"))
    return "part-0000000-0000000 (copy).parquet"


def copy_bak(run, runs):
    shutil.copy(_part(run), _part(run, P0 + ".bak"))
    return P0 + ".bak"


def copy_upper(run, runs):
    shutil.copy(_part(run), _part(run, "part-0000000-0000000.PARQUET"))
    return "part-0000000-0000000.PARQUET"


def copy_short_name(run, runs):
    shutil.copy(_part(run), _part(run, "part-000000-000000.parquet"))
    return "part-000000-000000.parquet"


def copy_as_other_block(run, runs):
    shutil.copy(_part(run, P0), _part(run, P1))  # chain 0's scenarios under chain 1's name
    return P1


def copy_out_of_range(run, runs):
    shutil.copy(_part(run), _part(run, "part-0000005-0000005.parquet"))
    return "part-0000005-0000005.parquet"


def copy_reversed_name(run, runs):
    shutil.copy(_part(run), _part(run, "part-0000001-0000000.parquet"))
    return "part-0000001-0000000.parquet"


def copy_wide_name(run, runs):
    shutil.copy(_part(run), _part(run, "part-0000000-0000001.parquet"))  # names both chains
    return "part-0000000-0000001.parquet"


def other_runs_part(run, runs):
    shutil.copy(runs["other"] / "scenarios" / P0, _part(run))  # another seed, same name
    return P0


def other_runs_part_extra(run, runs):
    _part(run, P1).unlink()
    shutil.copy(runs["other"] / "scenarios" / P1, _part(run, P1))
    return P1


def _rewrite(run: Path, change: Callable[[pa.Table], pa.Table], keep_meta: bool = True,
             name: str = P0) -> str:
    p = _part(run, name)
    table = pq.read_table(p)
    new = change(table)
    if keep_meta:
        new = new.replace_schema_metadata(table.schema.metadata)
    pq.write_table(new, p)
    return name


def no_run_id(run, runs):
    return _rewrite(run, lambda t: t.replace_schema_metadata(None), keep_meta=False)


def wrong_run_id(run, runs):
    return _rewrite(run, lambda t: t.replace_schema_metadata({b"hwbopt.run": b"0" * 32}),
                    keep_meta=False)


def duplicated_rows(run, runs):
    return _rewrite(run, lambda t: pa.concat_tables([t, t.slice(0, 1)]))


def half_a_chain(run, runs):
    return _rewrite(run, lambda t: t.slice(0, 16))


def no_rows(run, runs):
    return _rewrite(run, lambda t: t.slice(0, 0))


def no_scenario_column(run, runs):
    return _rewrite(run, lambda t: t.drop_columns(["scenario"]))


def scenario_as_text(run, runs):
    return _rewrite(run, lambda t: t.set_column(
        t.schema.get_field_index("scenario"), "scenario",
        pa.array([str(v) for v in t.column("scenario").to_pylist()])))


def scenario_shifted(run, runs):
    return _rewrite(run, lambda t: t.set_column(
        t.schema.get_field_index("scenario"), "scenario",
        pa.array([v + 1000 for v in t.column("scenario").to_pylist()], pa.int64())))


def scenarios_swapped(run, runs):
    """Chain 0's rows relabelled with chain 1's scenario numbers: whole chains, wrong values."""
    s1 = pq.read_table(_part(run, P1)).column("scenario")
    return _rewrite(run, lambda t: t.set_column(t.schema.get_field_index("scenario"),
                                                "scenario", s1))


def input_changed(run, runs):
    def change(t):
        col = next(c for c in t.column_names if c.startswith("input."))
        vals = t.column(col).to_pylist()
        vals[3] = vals[3] * 1.5 + 1
        return t.set_column(t.schema.get_field_index(col), col, pa.array(vals))
    return _rewrite(run, change)


def input_dropped(run, runs):
    return _rewrite(run, lambda t: t.drop_columns(
        [next(c for c in t.column_names if c.startswith("input."))]))


def directory_named_as_part(run, runs):
    _part(run).unlink()
    _part(run).mkdir()
    (_part(run) / "x").write_text("x")
    return P0


def directory_extra(run, runs):
    (run / "scenarios" / "old").mkdir()
    return "old"


def symlink_to_copy(run, runs):
    outside = run.parent / "elsewhere.parquet"
    shutil.copy(_part(run), outside)
    _part(run).unlink()
    _part(run).symlink_to(outside)
    return P0


def broken_symlink(run, runs):
    _part(run).unlink()
    _part(run).symlink_to(run.parent / "missing.parquet")
    return P0


def fifo_named_as_part(run, runs):
    _part(run).unlink()
    os.mkfifo(_part(run))
    return P0


def stray_hidden_file(run, runs):
    (run / "scenarios" / ".DS_Store").write_bytes(b"\0\1")
    return ".DS_Store"


def stray_text_file(run, runs):
    (run / "scenarios" / "notes.txt").write_text("my notes")
    return "notes.txt"


def quarantine_name_taken(run, runs):
    (run / QUARANTINE).mkdir()
    (run / QUARANTINE / P0).write_text("set aside before")
    _part(run).write_bytes(b"")
    return P0


def both_truncated(run, runs):
    for name in (P0, P1):
        p = _part(run, name)
        p.write_bytes(p.read_bytes()[:100])
    return P1


def unreadable(run, runs):
    _part(run).chmod(0)
    return P0


PART_DAMAGE = [truncate, zero_bytes, garbage, text_file, only_magic, copy_beside, copy_bak,
               copy_upper, copy_short_name, copy_as_other_block, copy_out_of_range,
               copy_reversed_name, copy_wide_name, other_runs_part, other_runs_part_extra,
               no_run_id, wrong_run_id, duplicated_rows, half_a_chain, no_rows,
               no_scenario_column, scenario_as_text, scenario_shifted, scenarios_swapped,
               input_changed, input_dropped, directory_named_as_part, directory_extra,
               symlink_to_copy, broken_symlink, fifo_named_as_part, stray_hidden_file,
               stray_text_file, quarantine_name_taken, both_truncated,
               pytest.param(unreadable, marks=pytest.mark.skipif(
                   ROOT, reason="root reads a file of mode 000"))]


@pytest.mark.parametrize("damage", PART_DAMAGE)
def test_resume_sets_a_bad_part_aside_and_solves_it_again(run, runs, damage):
    name = damage(run, runs)
    result = invoke(stress_args(run, "--resume"))
    assert result.exit_code == 0, result.stderr
    assert name in result.stderr and "moved to" in result.stderr, result.stderr
    assert str(run / QUARANTINE) in result.stderr
    assert json.loads(result.stdout)["finished"] == N
    set_aside = list((run / QUARANTINE).iterdir())
    assert any(p.name.startswith(name) for p in set_aside), "moved aside, never deleted"
    assert sorted(p.name for p in (run / "scenarios").iterdir()) == [P0, P1]
    same_as_clean(run, runs)


def test_a_write_cut_short_is_removed_quietly(run, runs):
    cut = run / "scenarios" / ".part-0000000-0000000.ab_d1234"
    cut.write_bytes(_part(run).read_bytes()[:300])
    _part(run).unlink()
    result = invoke(stress_args(run, "--resume"))
    assert result.exit_code == 0, result.stderr
    assert not cut.exists() and not (run / QUARANTINE).exists()
    assert json.loads(result.stdout)["solved_this_run"] == 32
    same_as_clean(run, runs)


def test_a_missing_part_is_solved_again(run, runs):
    _part(run, P1).unlink()
    result = invoke(stress_args(run, "--resume"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["solved_this_run"] == 32
    same_as_clean(run, runs)


# ---- damage to the run's record, the folder, the lock: refused, exit 2 --------------------

def _run_json(run: Path) -> Path:
    return run / "run.json"


def rj_truncated(run):
    p = _run_json(run)
    p.write_text(p.read_text()[:200])


def rj_empty(run):
    _run_json(run).write_text("")


def rj_binary(run):
    _run_json(run).write_bytes(b"\xff\xfe\x00garbage")


def rj_list(run):
    _run_json(run).write_text("[1, 2, 3]\n")


def rj_missing_keys(run):
    _run_json(run).write_text(json.dumps({"hwbopt": "0.1.0"}))


def rj_future_format(run):
    meta = json.loads(_run_json(run).read_text())
    meta["format"] = 99
    _run_json(run).write_text(json.dumps(meta))


def rj_format_text(run):
    meta = json.loads(_run_json(run).read_text())
    meta["format"] = "two"
    _run_json(run).write_text(json.dumps(meta))


def rj_scenarios_text(run):
    meta = json.loads(_run_json(run).read_text())
    meta["scenarios"] = "lots"
    _run_json(run).write_text(json.dumps(meta))


def rj_directory(run):
    _run_json(run).unlink()
    _run_json(run).mkdir()


def rj_symlink(run):
    outside = run.parent / "run-elsewhere.json"
    shutil.copy(_run_json(run), outside)
    _run_json(run).unlink()
    _run_json(run).symlink_to(outside)


def rj_other_seed(run):
    meta = json.loads(_run_json(run).read_text())
    meta["seed"] = 5
    meta["stress"]["seed"] = 5
    _run_json(run).write_text(json.dumps(meta))


def rj_other_instance(run):
    meta = json.loads(_run_json(run).read_text())
    meta["instance_hash"] = "0" * 64
    _run_json(run).write_text(json.dumps(meta))


def rj_deleted(run):
    _run_json(run).unlink()


def parts_is_a_file(run):
    shutil.rmtree(run / "scenarios")
    (run / "scenarios").write_text("not a folder")


def parts_is_a_symlink(run):
    target = run.parent / "parts-elsewhere"
    (run / "scenarios").rename(target)
    (run / "scenarios").symlink_to(target)


def lock_is_a_directory(run):
    (run / LOCK).unlink(missing_ok=True)
    (run / LOCK).mkdir()


# (damage, text the message must hold: the file or folder it is about)
RESUME_REFUSED = [
    (rj_truncated, "run.json"), (rj_empty, "run.json"), (rj_binary, "run.json"),
    (rj_list, "run.json"), (rj_missing_keys, "run.json"), (rj_future_format, "run.json"),
    (rj_format_text, "run.json"), (rj_scenarios_text, "run.json"),
    (rj_directory, "run.json"), (rj_symlink, "run.json"),
    (rj_other_instance, "run.json"), (rj_deleted, "run.json"),
    (parts_is_a_file, "scenarios"), (parts_is_a_symlink, "scenarios"),
    (lock_is_a_directory, LOCK),
]


def _unchanged(run: Path) -> dict[str, bytes]:
    parts = run / "scenarios"
    return {p.name: p.read_bytes() for p in parts.iterdir() if p.is_file()} \
        if parts.is_dir() else {}


@pytest.mark.parametrize(("damage", "names"), RESUME_REFUSED,
                         ids=[d.__name__ for d, _ in RESUME_REFUSED])
def test_resume_refuses_a_damaged_run(run, damage, names):
    damage(run)
    before = _unchanged(run)
    result = invoke(stress_args(run, "--resume"))
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert str(run) in result.stderr and names in result.stderr, result.stderr
    assert _unchanged(run) == before, "nothing written or moved"


def test_resume_follows_the_record_and_sets_aside_parts_it_does_not_hold(run, runs):
    """--resume reads the seed from run.json: a record saying another seed than its parts
    were drawn with is followed, and the parts, whose inputs are not that seed's, are moved
    aside (never mixed in) and solved again; a seed typed against the record is refused."""
    rj_other_seed(run)
    before = _unchanged(run)
    typed = invoke(stress_args(run, "--resume", "--seed", "7"))
    assert typed.exit_code == 2, typed.stderr
    assert "--seed 7 contradicts" in typed.stderr and "with --seed 5" in typed.stderr
    assert _unchanged(run) == before, "nothing written or moved"
    result = invoke(stress_args(run, "--resume"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("moved to") == 2, result.stderr  # each part, with its reason
    assert json.loads(result.stdout)["solved_this_run"] == N
    assert sorted(p.name for p in (run / QUARANTINE).iterdir()) == [P0, P1]
    pd.testing.assert_frame_equal(read_results(run).drop(columns=TIMING),
                                  read_results(runs["other"]).drop(columns=TIMING))


NEW_RUN_REFUSED = [(rj_deleted, "scenarios"), (rj_truncated, "run.json"),
                   (rj_binary, "run.json"), (rj_directory, "run.json"),
                   (parts_is_a_file, "scenarios"), (lock_is_a_directory, LOCK)]


@pytest.mark.parametrize(("damage", "names"), NEW_RUN_REFUSED,
                         ids=[d.__name__ for d, _ in NEW_RUN_REFUSED])
def test_a_new_run_refuses_a_folder_holding_another(run, damage, names):
    """The issue's case first: run.json deleted, run again with another seed: refused, not
    128 rows of two seeds mixed."""
    damage(run)
    before = _unchanged(run)
    result = invoke(stress_args(run, "--seed", "5"))
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert str(run) in result.stderr and names in result.stderr, result.stderr
    assert _unchanged(run) == before


def test_resume_with_another_instance_is_refused(run, tmp_path):
    inst = tmp_path / "tutorial"
    shutil.copytree(tutorial(), inst)
    spec = yaml.safe_load((inst / "instance.yaml").read_text())
    spec["name"] = spec.get("name", "tutorial") + " (edited)"
    (inst / "instance.yaml").write_text(yaml.safe_dump(spec))
    result = invoke(stress_args(run, "--resume", instance=inst))
    assert result.exit_code == 2 and "instance_hash" in result.stderr and str(run) in \
        result.stderr, result.stderr


def test_resume_with_more_scenarios_is_refused(run):
    args = stress_args(run, "--resume")
    args[args.index("--scenarios") + 1] = str(2 * N)
    result = invoke(args)
    assert result.exit_code == 2 and "scenarios" in result.stderr and str(run) in result.stderr


def test_two_writers_on_one_folder_cannot_interleave(run):
    fd = os.open(run / LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as another hwbopt holds it
        before = _unchanged(run)
        for extra in (["--resume"], ["--seed", "5"]):
            result = invoke(stress_args(run, *extra))
            assert result.exit_code == 2, result.stderr
            assert f"another hwbopt is writing to {run}" in result.stderr, result.stderr
        assert _unchanged(run) == before
    finally:
        os.close(fd)
    result = invoke(stress_args(run, "--resume"))  # released: the run can be finished
    assert result.exit_code == 0, result.stderr


def test_the_lock_is_released_when_a_run_is_refused(tmp_path):
    out = tmp_path / "fresh"
    result = invoke(stress_args(out, "--resume"))
    assert result.exit_code == 2 and str(out) in result.stderr
    assert not out.exists(), "a folder made only to be refused is removed again"


def test_force_clears_the_old_parts(run, runs):
    """``force`` (the CLI's --force, wired by the CLI): a folder of parts without run.json is
    started afresh, never mixed."""
    (run / "run.json").unlink()
    inst = hwbopt.load(tutorial())
    with pytest.raises(UsageError, match="--force"):
        run_stress(inst, set_name="cuts_and_pressures", scenarios=N, seed=5, out=run,
                   workers=1, block_size=32)
    summary = run_stress(inst, set_name="cuts_and_pressures", scenarios=N, seed=5, out=run,
                         workers=1, block_size=32, force=True)
    assert summary["finished"] == N
    got = read_results(run)
    assert sorted(got.scenario) == list(range(N))
    pd.testing.assert_frame_equal(got.drop(columns=TIMING),
                                  read_results(runs["other"]).drop(columns=TIMING))
    with pytest.raises(UsageError, match="--resume and --force"):
        run_stress(inst, set_name="cuts_and_pressures", scenarios=N, seed=5, out=run,
                   workers=1, resume=True, force=True)


# ---- reading a damaged run: report and read_results use good parts only -------------------

REPORT_SKIPS = [truncate, zero_bytes, copy_beside, copy_as_other_block, other_runs_part,
                directory_named_as_part, broken_symlink]


@pytest.mark.parametrize("damage", REPORT_SKIPS)
def test_report_leaves_a_bad_part_out_and_names_it(run, runs, damage, tmp_path):
    name = damage(run, runs)
    result = invoke(["report", str(run), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.stderr
    assert name in result.stderr and "left out" in result.stderr, result.stderr
    got = read_results(run)
    assert got.scenario.is_unique and set(got.scenario) <= set(range(N))


@pytest.mark.parametrize("damage", [rj_truncated, rj_binary, rj_list])
def test_report_refuses_a_damaged_run_record(run, runs, damage, tmp_path):
    damage(run)
    result = invoke(["report", str(run), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 2, result.stderr
    assert str(run / "run.json") in result.stderr


def test_a_block_name_says_exactly_which_chains_it_holds():
    """plan_blocks never spans a chain already done, so a part's name gives its chains."""
    import numpy as np

    from hwbopt.batch.engine import CHAIN
    from hwbopt.batch.run import plan_blocks
    from hwbopt.batch.store import chains_of

    values = np.random.default_rng(0).uniform(size=(10 * CHAIN, 2))
    chains = chains_of(values, CHAIN)
    done = {int(s) for c in (2, 3, 7) for s in chains[c]}
    blocks, total = plan_blocks(values, done, 4 * CHAIN)
    assert total == 10
    assert [b.name for b in blocks] == ["0000000-0000001", "0000004-0000006",
                                        "0000008-0000009"]
    for b in blocks:
        first, last = (int(x) for x in b.name.split("-"))
        assert [c.tolist() for c in b.chains] == [chains[c].tolist()
                                                  for c in range(first, last + 1)]


def test_cli_force_starts_afresh_in_a_folder_of_old_parts(run, runs):
    """The issue's case with ``--force``: the old parts are cleared, never mixed."""
    (run / "run.json").unlink()
    result = invoke(stress_args(run, "--seed", "5", "--force"))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["finished"] == N
    pd.testing.assert_frame_equal(read_results(run).drop(columns=TIMING),
                                  read_results(runs["other"]).drop(columns=TIMING))
