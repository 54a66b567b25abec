"""``hwbopt.stress``: a stress batch from Python, its results as pandas DataFrames.

The batch runs on the engine ``hwbopt stress`` uses (:func:`hwbopt.batch.run.run_stress`):
the same draws for the same seed, the same warm-started solves, certificates and Parquet
results. The engine writes each block of scenarios to a folder as it finishes, so a run of
thousands never has to fit in memory; by default that folder is a temporary one, read back
into :class:`StressRun` and removed, and ``out=`` keeps it (``hwbopt report OUT`` then makes
the board paper, and ``resume=True`` finishes an interrupted run there).

``StressRun.tables`` holds ``scenarios`` (one row per scenario: its input values, status,
objective, outcome per priority, targets met, spend per partner, activity per intervention,
and the rules that bind, by name) and the tables the stress report draws
(``objective_distribution``, ``target_probability``, ``target_probability_by_year``,
``cut_response``, ``cut_first``, ``binding``, ``plan_changes``); :meth:`StressRun.summary`
is the JSON of ``hwbopt stress --json``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.batch.engine import COLD_CHECK_RATE
from hwbopt.errors import UsageError
from hwbopt.schema import Instance, StressSet

OUT_FILES = ("summary.json", "run.json")  # what a run writes at the top of its folder


@dataclass
class StressRun:
    """A finished stress batch: :meth:`summary` (the JSON of ``hwbopt stress --json``) and
    :attr:`tables` (DataFrames; each is an attribute too: ``run.scenarios``,
    ``run.target_probability``, …). ``out`` is the run's folder when it was kept (``None``:
    it ran in a temporary folder, now removed)."""

    summary_json: dict[str, Any] = field(repr=False)
    tables: dict[str, pd.DataFrame] = field(repr=False)
    instance: Instance = field(repr=False)
    stress_set: StressSet = field(repr=False)  # the set as run: its samples and seed
    set_index: int = 0  # the set's position in the instance's stress sets
    out: Path | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``hwbopt stress --json`` (``out`` is null for a run whose
        folder was temporary)."""
        return dict(self.summary_json)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def input_values(self, scenario: int) -> dict[str, float]:
        """The values scenario ``scenario`` (0, 1, …) drew, by input name (the ``input.NAME``
        columns of :attr:`scenarios`)."""
        n = int(self.summary_json.get("scenarios") or 0)
        if not 0 <= scenario < n:
            raise UsageError(f"scenario {scenario} is not in this run: it has scenarios 0 "
                             f"to {n - 1}")
        from hwbopt.batch.sample import draw

        row = draw(self.stress_set, np.array([scenario]))[0]
        return {spec.column: float(v) for spec, v in zip(self.stress_set.inputs, row,
                                                          strict=True)}

    def scenario_instance(self, scenario: int) -> Instance:
        """Scenario ``scenario`` as an instance of its own (the set's inputs applied, as the
        engine applies them): ``hwbopt.solve`` of it is that scenario's own optimum. A run
        with ``hold_first_year`` or a saved ``plan`` also held first-year figures or
        decisions the instance alone does not."""
        from hwbopt.batch.sample import draw
        from hwbopt.plan.scenarios import scenario_instance

        self.input_values(scenario)  # refuses a scenario the run does not have
        row = draw(self.stress_set, np.array([scenario]))[0]
        return scenario_instance(self.instance, self.stress_set, row, self.set_index)

    def __repr__(self) -> str:
        from hwbopt.notebook import stress_repr

        return stress_repr(self)

    def _repr_html_(self) -> str:
        from hwbopt.notebook import stress_html

        return stress_html(self)


def stress(
    inst: Instance,
    set: str | None = None,  # the CLI's --set (nothing here needs the builtin)
    scenarios: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    mip: bool = False,
    hold_first_year: bool = False,
    plan: str | Path | None = None,
    objective: str | None = None,
    time_limit: float | None = None,
    cold_check: float = COLD_CHECK_RATE,
    block_size: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> StressRun:
    """Solve every scenario of the stress set ``set`` of ``inst`` (``hwbopt stress``).

    ``set`` may be left out when the instance names a default (``settings.stress_set``) or
    has one stress set; ``scenarios`` and ``seed`` default to the set's own. ``workers``
    local processes (1: in this process, no Dask; more, from a script, need the usual ``if
    __name__ == "__main__":`` guard of any program that starts processes), or an existing
    Dask cluster at ``scheduler``. ``out`` keeps the run's folder (Parquet results,
    ``run.json``, ``summary.json``); ``resume`` finishes an interrupted run there and
    ``force`` starts afresh in a folder holding another run. The other options are the
    command's (``hwbopt stress --help``). Bad arguments raise
    :class:`hwbopt.errors.UsageError` before any solve.
    """
    if not isinstance(inst, Instance):
        raise UsageError(f"stress() takes an Instance (hwbopt.load(PATH) reads one), not "
                         f"{type(inst).__name__}")
    _chosen(inst, set)  # refuses a set no run can have, before any folder is touched
    if resume and out is None:
        raise UsageError("resume=True finishes a run kept in a folder: give its out=")
    options: dict[str, Any] = {
        "set_name": set, "scenarios": scenarios, "seed": seed, "resume": resume,
        "workers": workers, "scheduler": scheduler, "block_size": block_size, "mip": mip,
        "hold_first_year": hold_first_year, "objective": objective, "time_limit": time_limit,
        "cold_check": cold_check, "progress": progress, "force": force, "plan": plan}
    if out is not None:
        folder = _kept_folder(Path(out))
        return _run(inst, folder, options, kept=True)
    with tempfile.TemporaryDirectory(prefix="hwbopt-stress-") as tmp:
        return _run(inst, Path(tmp) / "run", options, kept=False)


def _chosen(inst: Instance, name: str | None) -> tuple[int, StressSet]:
    """The stress set a run of ``name`` solves (None: ``settings.stress_set``, or the only
    one), as the engine picks it; its refusals name this function's ``set=``, not the CLI's
    option."""
    from hwbopt.batch.setup import pick_stress_set

    try:
        return pick_stress_set(inst, name)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--set", "set=")) from None


def _kept_folder(folder: Path) -> Path:
    """``out`` checked as the CLI checks ``--out``: writable, and holding no other command's
    results (a stress run's own folder is the engine's to judge, with ``resume``/``force``)."""
    from hwbopt.outputs import check_folder, result_owner

    check_folder(folder, "out", OUT_FILES)
    owner = result_owner(folder)
    if owner is not None and owner["kind"] != "stress" and not (
            owner["kind"] is None and owner["file"] == "run.json"):
        made = f"`hwbopt {owner['kind']}`" if owner["kind"] else "something other than hwbopt"
        # force=True replaces a stress run's own files only: another command's results are
        # the user's to remove
        raise UsageError(f"out {folder} holds results {made} wrote: choose another folder "
                         "(nothing there is replaced, even with force=True)")
    return folder


def _run(inst: Instance, folder: Path, options: dict[str, Any], kept: bool) -> StressRun:
    from hwbopt.batch.run import run_stress

    summary = dict(run_stress(inst, out=folder, **options))
    tables = _tables(folder, summary)
    if not kept:
        summary["out"] = None
    index, chosen = _chosen(inst, options["set_name"])
    update = {"samples": summary["scenarios"], "seed": summary["seed"]}
    return StressRun(summary_json=summary, tables=tables, instance=inst,
                     stress_set=chosen.model_copy(update=update), set_index=index,
                     out=folder if kept else None)


def _tables(folder: Path, summary: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Every scenario's row of the Parquet results (rules and decisions by name, not by the
    model's row and column numbers) and the report's tables of the run."""
    from hwbopt.batch.store import load_run_file, read_results
    from hwbopt.report.sections import extra_tables

    meta = load_run_file(folder)
    scenarios = read_results(folder)
    for column, key in (("binding", "binding_names"), ("changed", "decision_names")):
        names = meta.get(key) or {}
        if column in scenarios:
            scenarios[column] = [
                [names.get(str(int(j)), str(int(j))) for j in cell]
                if cell is not None else [] for cell in scenarios[column]]
    return {"scenarios": scenarios, **extra_tables("stress", folder, summary)}
