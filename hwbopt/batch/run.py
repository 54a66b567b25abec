"""Run a stress batch: sample, order, split into blocks, solve locally or on Dask, store, sum up.

Locally with one worker everything runs in this process. With more local workers, blocks go to
a process pool forked when the run begins, before the set-up solves anything
(:mod:`hwbopt.batch.pool`): the workers are ready in milliseconds, where a local Dask cluster
took seconds. On an existing cluster (``scheduler``) blocks go to Dask distributed: the engine
spec is scattered to every worker once and stays there. Either way a worker keeps one HiGHS
instance for the whole batch, and a block whose worker dies is run again. Results come back to
this process, which writes each block as it arrives, so nothing is held in memory and nothing
is written twice.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hwbopt.analyses.stress import summarise
from hwbopt.batch.cluster import dask_client
from hwbopt.batch.engine import (
    CHAIN,
    COLD_CHECK_RATE,
    ENGINE,
    SPAN,
    EngineSpec,
    rehearse,
    solve_block,
)
from hwbopt.batch.pool import LocalPool
from hwbopt.batch.sample import draw, neighbour_order
from hwbopt.batch.setup import Prepared, SavedPlan, load_plan, pick_stress_set, prepare
from hwbopt.batch.store import (
    RUN_FILE,
    claim,
    identity,
    instance_hash,
    load_run_file,
    open_run,
    settle_parts,
    write_part,
)
from hwbopt.errors import UsageError
from hwbopt.highs import highs_version
from hwbopt.io.folder import atomic_write_text
from hwbopt.provenance import instance_labels, run_provenance
from hwbopt.schema import Instance

if TYPE_CHECKING:  # rich is imported only when a bar is shown
    from rich.progress import Progress, TaskID

DEFAULT_BLOCK = 256  # scenarios per task: whole chains, enough to keep a worker busy
TASKS_PER_WORKER = 8  # at least: so the last tasks, finishing unevenly, leave no worker idle long


@dataclass
class Block:
    name: str
    chains: list[np.ndarray]
    values: list[np.ndarray]
    # each chain's anchor: the scenario (index, input values) a walking engine first walks
    # to from the base plan, shared by the SPAN chains around it (hwbopt.batch.engine.SPAN)
    anchors: list[tuple[int, np.ndarray]]

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chains)


def plan_blocks(values: np.ndarray, done: set[int], block_size: int) -> tuple[list[Block], int]:
    """Chains of the neighbour order not yet done, grouped into blocks of consecutive whole
    chains: a block named ``FIRST-LAST`` holds exactly chains FIRST to LAST (a done chain ends
    a block), which is what ``--resume`` checks a part against."""
    order = neighbour_order(values)
    chains = [order[k:k + CHAIN] for k in range(0, len(order), CHAIN)]
    anchors = [int(order[min(len(order) - 1, (c // SPAN * SPAN + SPAN // 2) * CHAIN)])
               for c in range(len(chains))]
    per_block = max(1, math.ceil(block_size / CHAIN))
    runs: list[list[tuple[int, np.ndarray]]] = []
    for c, ch in enumerate(chains):
        if set(ch.tolist()) <= done:
            continue
        if runs and runs[-1][-1][0] == c - 1 and len(runs[-1]) < per_block:
            runs[-1].append((c, ch))
        else:
            runs.append([(c, ch)])
    blocks = [Block(f"{group[0][0]:07d}-{group[-1][0]:07d}", [ch for _, ch in group],
                    [values[ch] for _, ch in group],
                    [(anchors[c], values[anchors[c]]) for c, _ in group]) for group in runs]
    return blocks, len(chains)


def auto_block(n: int, workers: int) -> int:
    """Scenarios per task: whole chains, at most ``DEFAULT_BLOCK``, and small enough that every
    worker gets about ``TASKS_PER_WORKER`` tasks (so a small batch still spreads evenly)."""
    per_worker = math.ceil(max(n, 1) / (TASKS_PER_WORKER * max(workers, 1)))
    return max(CHAIN, min(DEFAULT_BLOCK, math.ceil(per_worker / CHAIN) * CHAIN))


def _progress(enabled: bool, total: int, done: int) -> tuple[Progress, TaskID]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                        TextColumn("left"), TimeRemainingColumn(),
                        console=Console(stderr=True), disable=not enabled, transient=False)
    task = progress.add_task("scenarios", total=total, completed=done, rate="")
    return progress, task


def run_stress(
    inst: Instance,
    *,
    set_name: str | None = None,
    scenarios: int | None = None,
    seed: int | None = None,
    out: str | Path,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    block_size: int | None = None,
    mip: bool | None = None,
    hold_first_year: bool | None = None,
    objective: str | None = None,
    time_limit: float | None = None,
    cold_check: float | None = None,
    progress: bool = False,
    trim: bool = True,
    die_on: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    force: bool = False,
    plan: str | Path | SavedPlan | None = None,
    reuse_bases: bool = False,
    own_pivots: bool = True,
    exact_curve: bool = False,
) -> dict[str, Any]:
    """Solve every scenario of a stress set into ``out``; returns the summary (the JSON of
    ``hwbopt stress --json``). See the module docstring and ``models/stress.md``.

    ``exact_curve`` computes, once the batch is saved, the exact curve along the set's
    dominant input into ``out/exact_curve`` (:mod:`hwbopt.analyses.stress_curve`); the
    summary's ``exact_curve`` and ``exact_curve_reason`` say what it is, or why there is none.

    ``force`` starts afresh in an ``out`` that holds another run's files, clearing its parts
    (see :func:`hwbopt.batch.store.open_run`).

    ``source`` is the instance's files in provenance form
    (:func:`hwbopt.provenance.instance_provenance`), added to the summary's ``provenance``.

    ``plan`` is a plan ``hwbopt plan --out`` saved (its folder, or read by
    :func:`hwbopt.batch.setup.load_plan`): every scenario holds its first stage and the
    instance's first year (``hold_first_year``), re-optimising the rest; ``run.json`` records
    it (its folder and the hash of its values, which ``resume`` must match).

    ``mip``, ``hold_first_year`` and ``cold_check`` left as None mean False, False and
    ``COLD_CHECK_RATE``. With ``resume``, every option that makes the run what it is
    (``set_name``, ``scenarios``, ``seed``, ``objective``, ``mip``, ``hold_first_year``,
    ``time_limit``, ``cold_check``, ``plan``) left as None is read from ``out/run.json``, and
    one given with another value than the run's is refused (:func:`resume_settings`).

    ``reuse_bases=True`` tries a chain's earlier optimal bases before any simplex in
    bounds-only batches (:mod:`hwbopt.batch.bases`). It is off by default: measured side by
    side (``benchmarks/stress_bench.py --bases``) it answers only 5-24% of the county's money
    scenarios and runs at 0.85-0.99x the speed of the warm simplex alone.

    ``own_pivots=False`` answers every scenario of a bounds-only batch by HiGHS's warm
    simplex instead of the engine's own pivots (:mod:`hwbopt.batch.walk`): the same answers,
    certified alike, for the benchmark to measure the walk against.
    """
    start = time.perf_counter()
    out = Path(out)
    if resume and not force:
        given = resume_settings(out, {
            "set_name": set_name, "scenarios": scenarios, "seed": seed, "objective": objective,
            "mip": mip, "hold_first_year": hold_first_year, "time_limit": time_limit,
            "cold_check": cold_check, "plan": plan})
        set_name, scenarios, seed, objective = (given["set_name"], given["scenarios"],
                                                given["seed"], given["objective"])
        mip, hold_first_year, time_limit = (given["mip"], given["hold_first_year"],
                                            given["time_limit"])
        cold_check, plan = given["cold_check"], given["plan"]
    mip, hold_first_year = bool(mip), bool(hold_first_year)
    cold_check = COLD_CHECK_RATE if cold_check is None else cold_check
    k, stress = pick_stress_set(inst, set_name)
    if scenarios is not None and scenarios < 1:
        raise UsageError("--scenarios must be at least 1")
    if block_size is not None and block_size < 1:
        raise UsageError("--block-size must be at least 1")
    if not 0.0 <= cold_check <= 1.0:
        raise UsageError(f"--cold-check must be a share from 0 to 1, not {cold_check}")
    if stress.table_rows and scenarios is not None and scenarios > len(stress.table_rows):
        raise UsageError(f"stress set '{stress.id}' has a table of {len(stress.table_rows)} "
                         f"scenarios: --scenarios {scenarios} asks for more")
    stress = stress.model_copy(update={k2: v for k2, v in (("samples", scenarios),
                                                              ("seed", seed)) if v is not None})
    saved = plan if isinstance(plan, SavedPlan) or plan is None else load_plan(plan, source)
    if saved is not None:
        hold_first_year = True  # the plan committed the first year knowing it
    n = stress.size
    meta = {
        "hwbopt": _version(), "instance": inst.name, "instance_hash": instance_hash(inst),
        "stress_set": stress.id, "stress": stress.model_dump(mode="json",
                                                             exclude={"table_rows"}),
        "scenarios": n, "seed": stress.seed, "mip": mip, "hold_first_year": hold_first_year,
        "objective": objective,
        "chain": CHAIN, "engine": ENGINE, "time_limit": time_limit, "cold_check": cold_check,
    }
    if saved is not None:
        meta["plan"] = saved.identity()
    if workers is not None and workers < 1:
        raise UsageError("--workers must be at least 1")
    timing = {"setup": 0.0, "cluster": 0.0, "workers": 1.0}
    with contextlib.ExitStack() as stack:
        # local workers start now, before this process solves anything (hwbopt.batch.pool)
        pool = _local_pool(workers, scheduler, n, timing)
        if pool is not None:
            stack.enter_context(pool)
        # locked against another hwbopt while the run lasts
        created = stack.enter_context(claim(out))
        # refuses a wrong folder before any work
        resume = open_run(out, meta, resume, force, created=created)
        if pool is None and scheduler is None:
            # the batch runs in this process: its kernels load beside the set-up (HiGHS
            # solving in a thread leaves the GIL free), after every refusal of the folder,
            # and awaited before the run ends, so no thread is left inside numba as the
            # interpreter exits
            stack.callback(_rehearsing().join)
        from hwbopt.progress import Indicator

        # a spinner through the set-up (base plan, compile), gone before the scenarios' bar
        with Indicator(progress, "set-up") as setup:
            prep = prepare(inst, stress, k, seed=stress.seed, objective=objective, mip=mip,
                           time_limit=time_limit, hold_first_year=hold_first_year,
                           plan=saved, on_step=setup.step)
        meta.update(_meta_of(prep))
        if not resume:
            atomic_write_text(out / RUN_FILE, json.dumps(meta, indent=2) + "\n")
        values = draw(stress, np.arange(n))
        done = settle_parts(out, meta, values) if resume else set()
        if block_size is None:
            block_size = auto_block(n - len(done), pool.workers if pool is not None else
                                    (workers or 1) if scheduler is not None else 1)
        blocks, _ = plan_blocks(values, done, block_size)
        spec = prep.spec
        spec.cold_rate = cold_check
        spec.reuse_bases = reuse_bases  # no CLI option: it does not pay on the county
        spec.own_pivots = own_pivots  # no CLI option: off only to measure what it saves
        spec.run_id = str(meta.get("run_id") or "")  # each part carries it
        if die_on:
            spec.die_on = die_on
        bar, task = _progress(progress, n, len(done))
        solved_now = 0
        timing["setup"] = time.perf_counter() - start - timing["cluster"]
        batch_start = time.perf_counter()
        def starting(text: str) -> None:  # the cluster's start, named on the bar
            bar.update(task, description=f"scenarios ({text})" if text else "scenarios")

        with bar:
            for name, data, size in _execute(blocks, spec, pool, workers, scheduler, trim,
                                             timing, starting):
                write_part(out, name, data)
                solved_now += size
                elapsed = time.perf_counter() - batch_start
                bar.update(task, advance=size,
                           rate=f"{solved_now / max(elapsed, 1e-9):,.0f}/s")
        batch = time.perf_counter() - batch_start
        summary = {
            "scenarios": n,
            **summarise(out, meta),
        }
        seconds = time.perf_counter() - start
        summary.update({
            "seconds": round(seconds, 6),
            "scenarios_per_second": round(solved_now / seconds, 3) if seconds > 0 else None,
            "setup_seconds": round(timing["setup"], 6),
            "cluster_seconds": round(timing["cluster"], 6),
            "batch_seconds": round(batch, 6),
            "solved_this_run": solved_now,
            "out": str(out),
            "stress_set": stress.id,
            "seed": stress.seed,
            "workers": int(timing["workers"]),  # those that solved: 1 is this process
            "scheduler": scheduler,
            "mip": mip,
            "plan": None if saved is None else str(saved.folder),
            "instance": inst.name,
            "objective_kind": prep.base.objective_kind,
            "years": list(inst.years),
            "currency": inst.currency,
            "money_unit": inst.money_unit,
            "kind": "stress",
            "provenance": {**run_provenance(highs_version(), seed=stress.seed, options={
                "stress_set": stress.id, "scenarios": n, "objective": prep.base.objective_kind,
                "mip": mip, "time_limit": time_limit, "block_size": block_size,
                "cold_check": cold_check}),
                           **(source or {})},
            "labels": instance_labels(inst),
        })
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False)
                          + "\n")
        # the exact curve along a dominant input, after the batch's summary is saved (an
        # interrupt here loses nothing: --resume computes it)
        from hwbopt.analyses.stress_curve import add_exact_curve

        summary.update(add_exact_curve(
            inst, out, stress, meta, wanted=exact_curve, lower=prep.spec.col_lower,
            integer=prep.spec.integer, objective=objective, time_limit=time_limit,
            source=source, progress=progress))
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, allow_nan=False)
                          + "\n")
        return summary


# The options that make a run what it is, as run_stress names them: the key run.json records
# each under, and the option that sets it on the command line.
RECORDED = (("set_name", "stress_set", "--set"), ("scenarios", "scenarios", "--scenarios"),
            ("seed", "seed", "--seed"), ("objective", "objective", "--objective"),
            ("mip", "mip", "--mip"), ("hold_first_year", "hold_first_year", "--hold-first-year"),
            ("time_limit", "time_limit", "--time-limit"),
            ("cold_check", "cold_check", "--cold-check"))


def resume_settings(out: str | Path, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (run_stress's options, None where the user gave none) completed from the run
    ``out/run.json`` records, for ``--resume``: the run is finished as it was started, without
    its options typed again. An option given with another value than the run's is refused,
    naming the option and the run's value. Without a ``run.json`` (a run stopped while being
    set up, or no run at all) ``given`` comes back as it is: :func:`open_run` judges that."""
    out = Path(out)
    record = out / RUN_FILE
    if not record.exists() and not record.is_symlink():
        return dict(given)
    meta = load_run_file(out)
    settled = dict(given)
    for name, key, option in RECORDED:
        value = identity(key, meta)
        mine = given.get(name)
        if mine is None:
            settled[name] = value
        elif not _same(mine, value):
            raise UsageError(
                f"--resume: {_as_given(option, mine)} contradicts the run in {out}, which was "
                f"started {_as_recorded(option, value)} ({record}: {key} {json.dumps(value)}); "
                f"leave {option} out to finish that run, or choose another --out")
    recorded_plan = meta.get("plan")
    if given.get("plan") is None and isinstance(recorded_plan, dict):
        folder = Path(str(recorded_plan.get("path", "")))
        if not (folder / "summary.json").is_file():
            raise UsageError(f"--resume: the run in {out} tests the plan saved in {folder} "
                             f"({record}: plan), which is not there now: give --plan DIR "
                             "where that plan is")
        settled["plan"] = folder
    return settled


def _same(mine: Any, recorded: Any) -> bool:
    if isinstance(mine, bool) or isinstance(recorded, bool) or recorded is None:
        return bool(mine == recorded)
    if isinstance(mine, int | float) and isinstance(recorded, int | float):
        return float(mine) == float(recorded)
    return bool(mine == recorded)


def _as_given(option: str, value: Any) -> str:
    if isinstance(value, bool):
        return option if value else f"no {option}"
    return f"{option} {value}"


def _as_recorded(option: str, value: Any) -> str:
    if value is None or value is False:
        return f"without {option}"
    return f"with {option}" if value is True else f"with {option} {value}"


def _local_pool(workers: int | None, scheduler: str | None, n: int,
                timing: dict[str, float]) -> LocalPool | None:
    """The local workers of a run, started: ``workers`` of them, or without ``workers`` one
    per core up to one per chain of the batch; None when the run is solved in this process
    (one worker) or on a ``scheduler``'s cluster."""
    if scheduler is not None:
        return None
    count = workers if workers is not None else \
        min(os.cpu_count() or 1, math.ceil(n / CHAIN))
    if count <= 1:
        return None
    began = time.perf_counter()
    # each worker loads the walk's compiled kernels as it starts, beside this process's set-up
    # (0.26 s of a worker's first block on the county otherwise)
    pool = LocalPool(count, rehearse=rehearse).start()
    timing["cluster"] = time.perf_counter() - began
    return pool


def _rehearsing() -> threading.Thread:
    """:func:`rehearse` started in a thread (a head start only: an error in it is left for
    the batch to meet itself)."""
    def run() -> None:
        with contextlib.suppress(Exception):
            rehearse()

    thread = threading.Thread(target=run, name="hwbopt-rehearse", daemon=True)
    thread.start()
    return thread


def _execute(blocks: list[Block], spec: EngineSpec, pool: LocalPool | None, workers: int | None,
             scheduler: str | None, trim: bool, timing: dict[str, float],
             starting: Callable[[str], None] = lambda text: None,
             ) -> Iterator[tuple[str, bytes, int]]:
    """Each block's name, Parquet bytes and size, as it is solved: in this process (no
    ``pool`` and no ``scheduler``), on the local ``pool``, or on Dask at ``scheduler``."""
    if not blocks:
        return
    sizes = {b.name: b.size for b in blocks}
    if pool is not None:
        timing["workers"] = float(pool.workers)
        jobs = [(b.name, (spec, b.chains, b.values, b.anchors)) for b in blocks]
        for name, data in pool.run(solve_block, jobs):
            yield name, data, sizes[name]
        return
    if scheduler is None:
        for b in blocks:
            yield b.name, solve_block(spec, b.chains, b.values, b.anchors), b.size
        return
    from distributed import as_completed

    started = time.perf_counter()
    starting(f"connecting to {scheduler}")
    with dask_client(workers or 1, scheduler, trim) as client:
        timing["cluster"] = time.perf_counter() - started
        timing["workers"] = float(len(client.scheduler_info().get("workers", {})) or 1)
        starting("")
        shared = client.scatter(spec, broadcast=True, hash=False)
        futures = {client.submit(solve_block, shared, b.chains, b.values, b.anchors,
                                 pure=False,
                                 key=f"hwbopt-block-{b.name}-{spec.key[:8]}"): b
                   for b in blocks}
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]  # untyped
            b = futures.pop(fut)
            yield b.name, fut.result(), b.size
            fut.release()


def _meta_of(prep: Prepared) -> dict[str, Any]:
    spec = prep.spec
    act = prep.base.tables["activity"].groupby("intervention")["activity"].sum()
    return {
        "base_objective": prep.base.objective,
        "base_activity": {i: float(act.get(i, 0.0)) for i in spec.interventions},
        "priorities": spec.priorities,
        "partners": spec.partners,
        "interventions": spec.interventions,
        "years": spec.years,
        "inputs": [t.column for t in spec.targets],
        "binding_names": {str(r): name for r, name in prep.row_names.items()},
        "binding_texts": {str(r): text for r, text in prep.row_texts.items()},
        "decision_names": {str(j): name for j, name in prep.decision_names.items()},
        "decision_texts": {str(j): text for j, text in prep.decision_texts.items()},
    }


def _version() -> str:
    from hwbopt import __version__

    return __version__
