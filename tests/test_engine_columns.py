"""A block's answers as columns and Parquet (hwbopt.batch.engine: ``solve_columns``, ``_table``)
and the summary's count of binding rows (hwbopt.analyses.stress.binding_counts): what a
scenario with no answer reports, a read-back that fails for one scenario, and the counts
against the plain loop they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import hwbopt
from hwbopt.analyses.stress import SOLVED, binding_counts
from hwbopt.batch import engine as eng_mod
from hwbopt.batch.engine import Engine
from hwbopt.batch.sample import draw
from hwbopt.batch.setup import prepare
from hwbopt.schema import StressSet

MONEY = {"id": "money", "seed": 7, "samples": 16, "inputs": [
    {"path": "partners[council].cut.total", "dist": "uniform", "low": 0.20, "high": 0.40}]}


@pytest.fixture(scope="module")
def prepared():
    inst = hwbopt.load(hwbopt.shipped_instance("tutorial"))
    inst = inst.model_copy(update={"stress": (StressSet.model_validate(MONEY),)})
    stress = inst.stress[0]
    values = draw(stress.model_copy(update={"samples": 8}), np.arange(8))
    return prepare(inst, stress, 0, seed=stress.seed), values


def test_a_scenario_with_no_answer_is_null_in_the_parquet_as_it_was_through_pandas() -> None:
    columns = {"scenario": [0, 1], "status": ["optimal", "failed"],
               "objective": [1.5, None], "outcome.x": np.array([2.0, np.nan]),
               "binding": [np.array([3, 4], dtype=np.int32), eng_mod._NONE_BINDING],
               "changed": [[], [7]]}
    table = eng_mod._table(columns)
    through_pandas = pa.Table.from_pandas(pd.DataFrame(columns).drop(
        columns=["binding", "changed"]), preserve_index=False)
    for name in ("scenario", "status", "objective", "outcome.x"):
        assert table.column(name).to_pylist() == through_pandas.column(name).to_pylist()
        assert table.column(name).null_count == through_pandas.column(name).null_count
    assert str(table.schema.field("status").type) == "large_string"
    assert table.column("binding").to_pylist() == [[3, 4], []]
    assert table.column("changed").to_pylist() == [[], [7]]
    assert not eng_mod._NONE_BINDING.flags.writeable


def test_a_read_back_that_fails_for_every_scenario_leaves_nothing_half_written(
        prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    """One name too many among the spend columns: writing the chain's answers fails after
    the outcomes; each scenario is then read alone, fails alone, and reports nothing."""
    prep, values = prepared
    engine = Engine(prep.spec)
    names = engine._names()
    engine._columns = {**names, "spend": [*names["spend"], "spend.nobody"]}
    frame = pd.DataFrame(engine.solve_columns([np.arange(4)], [values[:4]]))
    assert (frame.status == "failed").all()
    assert frame.reason.str.startswith("IndexError").all()
    for name in names["outcome"] + names["spend"] + names["activity"]:
        assert frame[name].isna().all(), name
    for name in names["met"]:
        assert not frame[name].any(), name
    assert (frame.targets_met == 0).all() and all(len(b) == 0 for b in frame.binding)


def test_an_unanswered_scenario_does_not_share_its_lists(prepared) -> None:
    prep, values = prepared
    bad = values[:3].copy()
    bad[:, 0] = -0.5  # a negative cut: invalid inputs, not solved
    frame = pd.DataFrame(Engine(prep.spec).solve_columns([np.arange(3)], [bad]))
    assert (frame.status == "failed").all()
    cells = list(frame.changed)
    assert all(c == [] for c in cells) and len({id(c) for c in cells}) == 3
    assert eng_mod.FIELDS["changed"] == []


def _loop(frame: pd.DataFrame) -> tuple[dict[int, int], int]:
    """The count as the summary made it before: a Python loop over the solved scenarios'
    lists."""
    solved = frame[frame.status.isin(SOLVED)]
    counts: dict[int, int] = {}
    for rows in solved.binding:
        for r in rows if rows is not None else ():
            counts[int(r)] = counts.get(int(r), 0) + 1
    return counts, len(solved)


@pytest.mark.parametrize("seed", range(8))
def test_binding_counts_are_the_loops_on_frames_tables_and_slices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    status = rng.choice(["optimal", "plan_infeasible", "infeasible", "failed"], n)
    binding = [list(rng.integers(0, 12, int(rng.integers(0, 6)))) for _ in range(n)]
    frame = pd.DataFrame({"status": status, "binding": binding})
    assert binding_counts(frame) == _loop(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False) if n else \
        pa.table({"status": pa.array([], pa.string()),
                  "binding": pa.array([], pa.list_(pa.int32()))})
    assert binding_counts(table) == _loop(frame)
    if n > 3:  # a slice of a table, and a table of several chunks
        part = table.slice(2, n - 3)
        assert binding_counts(part) == _loop(frame.iloc[2:n - 1])
        chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])
        assert binding_counts(chunked) == _loop(frame)


def test_binding_counts_of_no_lists() -> None:
    none = pd.DataFrame({"status": ["optimal", "failed"], "binding": [None, None]})
    assert binding_counts(none) == ({}, 1)
    empty = pd.DataFrame({"status": pd.Series([], dtype=str),
                          "binding": pd.Series([], dtype=object)})
    assert binding_counts(empty) == ({}, 0)
