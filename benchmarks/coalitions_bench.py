"""`hwbopt coalitions`: the county's 128 coalitions; exact against sampled Shapley at 15 partners.

The targets of issue 16: the county (7 partners, 128 coalitions) valued in under 60 s on 2
cores with every plan certified (status ``optimal``); exact against sampled on a generated
instance of 15 partners, with the time per coalition.

**County.** ``hwbopt coalitions instances/county --json --workers W`` for W = 1 and 2, each
the whole command as a user types it (a fresh process, wall clock including the imports; peak
memory of the largest process from ``/usr/bin/time -v`` and of the whole process tree, summed,
sampled with psutil every 0.1 s). Reported: seconds, ``solves`` (coalitions actually solved;
the others are answered by a solved plan in which some members contribute nothing), seconds
per coalition and per solve, the ratio to the 60 s target, and whether the runs on 1 and 2
workers give the same Shapley shares. The baseline is the naive route, in this process: each
of the 128 coalitions solved cold by HiGHS with its default options (a new ``highspy.Highs``
each, the compiled model of ``hwbopt.pipeline.build`` as ``hwbopt.highs.to_highs_lp`` passes
it, ``mip_rel_gap`` 1e-6, non-members' contribution columns fixed at 0), no pruning, no
certificate; its values are checked against the command's (``--no-naive`` skips it: it takes
about 10 minutes).

**Generated, 15 partners.** ``hwbopt generate`` with ``--generated LxIxPxYxS`` (localities,
interventions, partners, years, sites), then ``hwbopt coalitions OUT --samples N --seed 0
--json`` as whole commands for each N of ``--samples``. The exact values of all 2^15
coalitions come from the engine's internal API in this process
(:func:`hwbopt.analyses.coalitions.solve_values`, as ``coalitions()`` calls it, on
``--exact-workers``), the exact Shapley shares from a routine of this file (the command stops
at 12 partners). For each N: the largest |sampled − exact| in units of the sampled standard
error, and the sampled command's coalition values checked against the exact ones.

The generated instance is ``1x100x15x1x1`` with seed 11 (one locality, 100 interventions, 15
partners, one year, one site: 4 pools, 10 contributors, 5 null players, about 1,060 columns
of which 27 integer, a MIP that HiGHS solves in about 0.15 s). A generated instance is
feasible by construction only with everyone pooling: on most seeds the siloed plan (nobody
pools) is infeasible, and then no coalition has a value (``hwbopt coalitions`` ends
``infeasible``). Of seeds 0–11 at this size only 5 and 11 have a siloed plan, and 11 the
larger value of pooling (5% of the objective; seed 5: 1%). With 150 interventions (6 pools,
12 contributors) seed 8 was feasible but pooling worth nothing (every value 0), and exact took
11 minutes.

Run from the repository root (about 25 minutes in all on 2 cores)::

    python benchmarks/coalitions_bench.py
    python benchmarks/coalitions_bench.py --only county --no-naive
    python benchmarks/coalitions_bench.py --only generated --samples 50,200 --exact-workers 2

``--only`` keeps the other part of an existing ``--out`` file, so the two may be measured in
separate sittings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "instances" / "county"
TARGET_SECONDS = 60.0  # the county's 128 coalitions, on 2 cores
DEFAULT_GENERATED = "1x100x15x1x1"  # with seed 11: see the module docstring
DEFAULT_SEED = 11
NAIVE_GAP = 1e-6  # the command's default gap (hwbopt.analyses.coalitions.DEFAULT_GAP)
AGREE = 1e-6  # relative agreement asked of Shapley shares and values


# ---------------------------------------------------------------------------------------------
# whole commands
# ---------------------------------------------------------------------------------------------


class TreePeak(threading.Thread):
    """The largest sum of resident memory over a process and its descendants, sampled."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.done = pid, every, 0, threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.done.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self.done.wait(self.every)


def command(args: list[str], timeout: float = 3600.0) -> dict[str, Any]:
    """One ``hwbopt`` command with ``--json``: wall seconds, peak memory, exit and its JSON."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", "from hwbopt.cli import main; main()",
           *args]
    load = os.getloadavg()[0]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    sampler = TreePeak(proc.pid)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - began
    sampler.done.set()
    sampler.join()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr)]
    out: dict[str, Any] = {"command": "hwbopt " + " ".join(args), "seconds": round(seconds, 2),
                           "cpu_seconds": round(sum(cpu), 2) if cpu else None,
                           "load_before": round(load, 2),
                           "load_after": round(os.getloadavg()[0], 2),
                           "exit": proc.returncode,
                           "peak_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
                           "peak_tree_mb": round(sampler.peak / 1024 ** 2, 1)}
    try:
        out["summary"] = json.loads(stdout)
    except json.JSONDecodeError:
        out["error"] = stderr[-2000:]
    return out


def by_mask(summary: dict[str, Any]) -> dict[int, float]:
    """The ``coalitions`` rows of a summary as {mask: value} (bits in the partners' order)."""
    index = {p: i for i, p in enumerate(summary["partners"])}
    return {sum(1 << index[p] for p in row["members"]): row["value"]
            for row in summary["coalitions"] if row["value"] is not None}


def largest_difference(a: dict[int, float], b: dict[int, float]) -> tuple[float, int]:
    """max |a − b| over the masks both hold, and how many they share."""
    common = a.keys() & b.keys()
    return max((abs(a[m] - b[m]) for m in common), default=0.0), len(common)


def exact_shapley(v: np.ndarray) -> np.ndarray:
    """φ_i = Σ_{S ∌ i} |S|! (n−|S|−1)! / n! · (v(S ∪ i) − v(S)) over all 2^n masks (``v[0]``
    = 0): ``games.shapley`` takes at most 12 players, this any number that fits in memory."""
    n = len(v).bit_length() - 1
    masks = np.arange(1 << n)
    size = np.zeros(1 << n, dtype=np.int64)
    for i in range(n):
        size += (masks >> i) & 1
    weight = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)] + [0.0])
    phi = np.empty(n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float(weight[size[without]] @ (v[without | (1 << i)] - v[without]))
    return phi


# ---------------------------------------------------------------------------------------------
# the county
# ---------------------------------------------------------------------------------------------


def naive_county(masks: list[int] | None = None) -> dict[str, Any]:
    """The 128 coalitions (or ``masks``) solved one by one, cold, HiGHS's defaults, no
    pruning, no certificate."""
    import highspy

    from hwbopt import highs
    from hwbopt.io.instance import read_instance
    from hwbopt.pipeline import build

    inst, _ = read_instance(COUNTY)
    start = time.perf_counter()
    comp = build(inst).compiled
    build_s = time.perf_counter() - start
    partners = [p.id for p in inst.partners]
    contribution = comp.cols("contribution")
    cols = [np.array([j for k, j in contribution.items() if k[0] == p], dtype=np.int64)
            for p in partners]
    lp = highs.to_highs_lp(comp)
    inf = highspy.kHighsInf
    sign = -1.0 if inst.settings.objective == "cost" else 1.0
    rows: list[dict[str, Any]] = []
    load, cpu = os.getloadavg()[0], time.process_time()
    start = time.perf_counter()
    todo = list(range(1 << len(partners))) if masks is None else masks
    for mask in todo:
        lo, hi = comp.col_lower.copy(), comp.col_upper.copy()
        for i, c in enumerate(cols):
            if not mask >> i & 1:
                lo[c], hi[c] = 0.0, 0.0
        lp.col_lower_ = np.where(np.isinf(lo), -inf, lo)
        lp.col_upper_ = np.where(np.isinf(hi), inf, hi)
        began = time.perf_counter()
        h = highs.new_highs()  # silent, otherwise HiGHS's defaults (both cores)
        h.setOptionValue("mip_rel_gap", NAIVE_GAP)
        h.passModel(lp)
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        objective = h.getInfoValue("objective_function_value")[1] + comp.constant
        rows.append({"mask": mask, "status": status, "objective": objective,
                     "seconds": time.perf_counter() - began})
        print(f"  naive {len(rows)}/{len(todo)}: {status}, "
              f"{rows[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    base = rows[0]["objective"]
    values = {r["mask"]: sign * (r["objective"] - base) for r in rows}
    per = [r["seconds"] for r in rows]
    return {"measured": time.strftime("%Y-%m-%d %H:%M"),
            "build_s": round(build_s, 3), "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "coalitions": len(rows), "solves": len(rows),
            "seconds_per_coalition": round(seconds / len(rows), 3),
            "slowest_s": round(max(per), 2), "fastest_s": round(min(per), 2),
            "statuses": sorted({r["status"] for r in rows}),
            "all_optimal": all(r["status"] == "Optimal" for r in rows),
            "grand_objective": rows[-1]["objective"],
            "values": {str(m): v for m, v in values.items()}}


def county(workers: list[int], naive: bool, repeat: int,
           earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole command on each worker count, ``repeat`` times in turn (1, 2, 1, 2, ...: a
    drift in the machine's speed reaches both alike); each row is its median run. Without
    ``naive``, the naive baseline ``earlier`` (from a previous run's file) is compared."""
    tries: dict[int, list[dict[str, Any]]] = {w: [] for w in workers}
    summaries: dict[int, list[dict[str, Any]]] = {w: [] for w in workers}
    for k in range(repeat):
        for w in workers:
            print(f"[{time.strftime('%H:%M:%S')}] county, {w} worker(s), run {k + 1} of "
                  f"{repeat} ...", file=sys.stderr, flush=True)
            r = command(["coalitions", str(COUNTY), "--json", "--workers", str(w)])
            s = r.pop("summary", None)
            if s is not None:
                summaries[w].append(s)
                r.update(status=s["status"], solves=s["solves"],
                         engine_seconds=round(s["seconds"], 2))
            tries[w].append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    runs: list[dict[str, Any]] = []
    for w in workers:
        ordered = sorted(tries[w], key=lambda r: r["seconds"])
        r = dict(ordered[(len(ordered) - 1) // 2])  # the median (the lower of two middles)
        r.update(workers=w, repeats=tries[w],
                 seconds_min=ordered[0]["seconds"], seconds_max=ordered[-1]["seconds"],
                 all_optimal=all(t.get("status") == "optimal" for t in tries[w]))
        if summaries[w]:
            s = summaries[w][0]
            n = len(s["coalitions"])
            r.update(message=s["message"], coalitions=n,
                     solves_share=round(s["solves"] / n, 3),
                     seconds_per_coalition=round(r["seconds"] / n, 3),
                     seconds_per_solve=round(r["seconds"] / s["solves"], 3),
                     grand_value=s["grand_value"], grand_objective=s["grand_objective"],
                     siloed_objective=s["siloed_objective"], shapley=s["shapley"])
        r.update(ratio_to_target=round(r["seconds"] / TARGET_SECONDS, 3),
                 target_met=bool(r["all_optimal"] and r["seconds"] <= TARGET_SECONDS))
        runs.append(r)
    every = [s for w in workers for s in summaries[w]]
    out: dict[str, Any] = {"target_seconds": TARGET_SECONDS, "runs": runs}
    if len(every) >= 2:
        # every run against the first: worker counts and repeats alike
        a = every[0]
        scale = max(abs(x) for x in a["shapley"].values()) or 1.0
        d_phi = max(abs(a["shapley"][p] - b["shapley"][p]) for b in every[1:]
                    for p in a["shapley"])
        d_v = max(largest_difference(by_mask(a), by_mask(b))[0] for b in every[1:])
        out["workers_agree"] = {"runs": len(every),
            "shapley_max_difference": d_phi, "relative_to_largest_share": d_phi / scale,
            "values_max_difference": d_v,
            "values_relative_to_grand_objective": d_v / abs(a["grand_objective"]),
            "agree": bool(d_phi <= AGREE * scale
                          and d_v <= AGREE * abs(a["grand_objective"]))}
    if every:
        # own Shapley routine against games.shapley on the county (7 players): a self-check
        from hwbopt.analyses import games

        s = every[0]
        values = by_mask(s)
        table = np.array([values[m] for m in range(1 << len(s["partners"]))])
        mine = exact_shapley(table)
        theirs = games.shapley(games.Game(tuple(s["partners"]), table))
        out["own_shapley_matches_games"] = bool(np.allclose(mine, theirs, rtol=1e-12,
                                                            atol=1e-9 * abs(table).max()))
    nv = None
    if naive:
        print(f"[{time.strftime('%H:%M:%S')}] county, naive loop (about 10 min) ...",
              file=sys.stderr, flush=True)
        nv = naive_county()
    elif earlier is not None:
        nv = dict(earlier, measured=earlier.get("measured", "in an earlier run"))
    if nv is not None:
        for r in runs:
            if r.get("seconds"):
                r["naive_ratio"] = round(nv["seconds"] / r["seconds"], 2)
        if every and "values" in nv:
            values = {int(m): v for m, v in nv["values"].items()}
            s = every[0]
            d, n = largest_difference(values, by_mask(s))
            nv["values_vs_command"] = {
                "compared": n, "max_difference": d,
                "relative_to_grand_objective": d / abs(s["grand_objective"]),
                "agree": bool(d <= AGREE * abs(s["grand_objective"]))}
        out["naive"] = nv
    return out


# ---------------------------------------------------------------------------------------------
# generated, 15 partners
# ---------------------------------------------------------------------------------------------


def exact_values(folder: Path, workers: int) -> dict[str, Any]:
    """All 2^P coalitions through the engine's internal API, as ``coalitions()`` runs them."""
    from dataclasses import replace

    from hwbopt.analyses.coalitions import (
        DEFAULT_GAP,
        Spec,
        coalition_values,
        overall,
        solve_values,
    )
    from hwbopt.io.instance import read_instance
    from hwbopt.pipeline import build
    from hwbopt.plan.recourse import cluster

    inst, _ = read_instance(folder)
    P = len(inst.partners)
    load, cpu = os.getloadavg()[0], time.process_time()
    start = time.perf_counter()
    is_mip = bool(build(inst).compiled.integer.any())
    spec = replace(Spec(inst, None, DEFAULT_GAP, None, f"bench-{time.time_ns()}"),
                   is_mip=is_mip)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            print(f"  exact: {done:,} of {total:,} coalitions valued, "
                  f"{last[0] - start:.0f} s", file=sys.stderr, flush=True)

    with cluster(workers) as (client, n):
        solved = solve_values(spec, range(1 << P), client, n, progress)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    values, _ = coalition_values(solved, inst.settings.objective)
    status, message = overall(solved, inst)
    solves = sum(s.source == m for m, s in solved.items())
    table = np.array([values.get(m, np.nan) for m in range(1 << P)])
    highs_s = sum(s.seconds for s in solved.values())
    return {"workers": workers, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
            "coalitions": len(solved),
            "solves": solves, "solves_share": round(solves / len(solved), 4),
            "seconds_per_coalition": seconds / len(solved),
            "seconds_per_solve": seconds / solves, "highs_seconds": round(highs_s, 2),
            "highs_share": round(highs_s / seconds, 3),
            "status": status, "message": message,
            "grand_objective": solved[(1 << P) - 1].objective,
            "partners": [p.id for p in inst.partners], "table": table}


def generated(size: str, seed: int, samples: list[int], workers: int,
              exact: bool) -> dict[str, Any]:
    from hwbopt.io.instance import read_instance
    from hwbopt.pipeline import build

    names = ("localities", "interventions", "partners", "years", "sites")
    sizes = dict(zip(names, map(int, size.split("x")), strict=True))
    out: dict[str, Any] = {"size": size, "args": {**sizes, "seed": seed}}
    with tempfile.TemporaryDirectory(prefix="hwbopt-coalitions-") as tmp:
        folder = Path(tmp) / "generated"
        gen = ["generate", str(folder), *[a for k, v in sizes.items()
                                          for a in (f"--{k}", str(v))], "--seed", str(seed)]
        subprocess.run([sys.executable, "-c", "from hwbopt.cli import main; main()", *gen],
                       check=True, capture_output=True, cwd=ROOT)
        out["generate"] = "hwbopt " + " ".join([gen[0], "OUT", *gen[2:]])
        inst, _ = read_instance(folder)
        comp = build(inst).compiled
        contributors = sorted({c.partner for g in inst.pools for c in g.contributors})
        out["instance"] = {
            "partners": len(inst.partners), "pools": len(inst.pools),
            "contributors": contributors,
            "null_players": [p.id for p in inst.partners if p.id not in contributors],
            "columns": comp.n_cols, "rows": comp.n_rows, "integer": int(comp.integer.sum()),
            "contribution_columns": len(comp.cols("contribution"))}
        print(f"[{time.strftime('%H:%M:%S')}] generated {size}: {json.dumps(out['instance'])}",
              file=sys.stderr, flush=True)
        runs = []
        for n in samples:
            print(f"[{time.strftime('%H:%M:%S')}] generated, --samples {n} ...",
                  file=sys.stderr, flush=True)
            r = command(["coalitions", str(folder), "--samples", str(n), "--seed", "0",
                         "--json", "--workers", str(workers)])
            r["command"] = r["command"].replace(str(folder), "OUT")
            s = r.pop("summary", None)
            r["samples"] = n
            if s is not None:
                from hwbopt.analyses.games import sampled_coalitions

                k = len(s["coalitions"])
                r.update(status=s["status"], message=s["message"], coalitions=k,
                         sampled_coalitions=len(set(sampled_coalitions(
                             len(s["partners"]), n, 0)) | {0, (1 << len(s["partners"])) - 1}),
                         solves=s["solves"], engine_seconds=round(s["seconds"], 2),
                         seconds_per_coalition=r["seconds"] / k,
                         seconds_per_solve=r["seconds"] / max(s["solves"], 1),
                         shapley=s["shapley"], shapley_stderr=s["shapley_stderr"],
                         values=by_mask(s), partners=s["partners"])
            runs.append(r)
            print(json.dumps({k: v for k, v in r.items()
                              if k not in ("shapley", "shapley_stderr", "values")}),
                  file=sys.stderr, flush=True)
        ex = None
        if exact:
            print(f"[{time.strftime('%H:%M:%S')}] generated, exact: all "
                  f"{1 << len(inst.partners):,} coalitions on {workers} worker(s) ...",
                  file=sys.stderr, flush=True)
            ex = exact_values(folder, workers)
    if ex is not None:
        table = ex.pop("table")
        partners = ex["partners"]
        phi = None if np.isnan(table).any() else exact_shapley(table)
        ex["complete"] = phi is not None
        ex["shapley"] = None if phi is None else {p: float(phi[i])
                                                  for i, p in enumerate(partners)}
        if phi is not None:
            ex["efficiency_error"] = float(phi.sum() - table[-1])
        grand = abs(ex["grand_objective"] or 1.0)
        for r in runs:
            values = r.pop("values", None)
            if phi is None or "shapley" not in r:
                continue
            exact_values_ = {m: float(table[m]) for m in range(len(table))}
            d, k = largest_difference(values, exact_values_)
            r["values_vs_exact"] = {"compared": k, "max_difference": d,
                                    "relative_to_grand_objective": d / grand,
                                    "agree": bool(d <= AGREE * grand)}
            z = {}
            for p in r["partners"]:
                diff = abs(r["shapley"][p] - phi[partners.index(p)])
                se = r["shapley_stderr"][p]
                # a share with no spread (a null player's: always 0) must be exact
                z[p] = diff / se if se > 0 else (0.0 if diff <= 1e-9 * grand else None)
            r["z"] = z
            r["exact_when_no_spread"] = None not in z.values()
            r["max_z"] = max(v for v in z.values() if v is not None)
            r["over_3_se"] = int(sum(v is None or v > 3 for v in z.values()))
            r["over_2_se"] = int(sum(v is None or v > 2 for v in z.values()))
            r["max_abs_error"] = max(abs(r["shapley"][p] - phi[partners.index(p)])
                                     for p in r["partners"])
        ex.pop("partners")
    for r in runs:
        r.pop("values", None)
        r.pop("partners", None)
    out["sampled"] = runs
    out["exact"] = ex
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    from hwbopt.highs import highs_version

    info: dict[str, Any] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version(), "highs": highs_version(),
                            "pyomo": version("pyomo"), "dask": version("dask")}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            info["cpu_model"] = next((ln.split(":", 1)[1].strip() for ln in fh
                                      if ln.startswith("model name")), None)
        with open("/proc/meminfo", encoding="utf-8") as fh:
            info["memory_gb"] = round(int(fh.readline().split()[1]) / 1024 ** 2, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["git_commit"] = commit()
    return info


def commit() -> str | None:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False).stdout.strip() or None


def _f(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    for n, row in enumerate([head, *rows]):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_county(c: dict[str, Any]) -> None:
    print("\nCounty: 7 partners, 128 coalitions (target: under 60 s on 2 cores, all optimal); "
          "hwbopt rows: the median of the runs")
    head = ("run", "seconds", "cpu s", "load", "status", "coalitions", "solves", "share",
            "s/coalition", "s/solve", "peak MB", "tree MB", "vs 60 s", "naive/this")
    rows = []
    for r in c["runs"]:
        rows.append((f"hwbopt, {r['workers']} worker{'s' if r['workers'] > 1 else ''}",
                     _f(r["seconds"], ".1f"), _f(r["cpu_seconds"], ".1f"),
                     _f(r["load_before"], ".1f"), _f(r.get("status")), _f(r.get("coalitions")),
                     _f(r.get("solves")), _f(r.get("solves_share"), ".2f"),
                     _f(r.get("seconds_per_coalition"), ".3f"),
                     _f(r.get("seconds_per_solve"), ".3f"), _f(r["peak_mb"], ".0f"),
                     _f(r["peak_tree_mb"], ".0f"),
                     f"{r['ratio_to_target']:.2f} {'✓' if r['target_met'] else '✗'}",
                     _f(r.get("naive_ratio"), ".2f")))
    nv = c.get("naive")
    if nv:
        rows.append(("naive (cold, defaults)", _f(nv["seconds"], ".1f"),
                     _f(nv["cpu_seconds"], ".1f"), _f(nv["load_before"], ".1f"),
                     "optimal" if nv["all_optimal"] else "/".join(nv["statuses"]),
                     _f(nv["coalitions"]), _f(nv["solves"]), "1.00",
                     _f(nv["seconds_per_coalition"], ".3f"),
                     _f(nv["seconds_per_coalition"], ".3f"), "-", "-",
                     f"{nv['seconds'] / TARGET_SECONDS:.2f}", "1.00"))
    table(head, rows)
    if "workers_agree" in c:
        a = c["workers_agree"]
        print(f"Shapley on 1 and 2 workers agree: {'yes' if a['agree'] else 'NO'} "
              f"(largest difference {a['shapley_max_difference']:.2e}, "
              f"{a['relative_to_largest_share']:.1e} of the largest share; values "
              f"{a['values_relative_to_grand_objective']:.1e} of the grand objective; "
              f"{a['runs']} runs)")
    if nv and "values_vs_command" in nv:
        a = nv["values_vs_command"]
        print(f"naive values equal the command's: {'yes' if a['agree'] else 'NO'} "
              f"({a['compared']} coalitions, largest difference {a['max_difference']:.3g}, "
              f"{a['relative_to_grand_objective']:.1e} of the grand objective)")
    if "own_shapley_matches_games" in c:
        print("this file's exact Shapley equals games.shapley on the county: "
              f"{'yes' if c['own_shapley_matches_games'] else 'NO'}")


def print_generated(g: dict[str, Any]) -> None:
    i = g["instance"]
    print(f"\nGenerated {g['size']} (LxIxPxYxS, seed {g['args']['seed']}): {i['partners']} "
          f"partners, {i['pools']} pools, {len(i['contributors'])} contributors, "
          f"{len(i['null_players'])} null players; {i['columns']:,} columns, "
          f"{i['integer']} integer")
    head = ("method", "seconds", "cpu s", "load", "status", "coalitions", "solves", "share",
            "ms/coalition", "ms/solve", "peak MB", "max |err|/se", "> 3 se", "values = exact")
    rows = []
    for r in g["sampled"]:
        a = r.get("values_vs_exact")
        rows.append((f"sampled {r['samples']}", _f(r["seconds"], ".1f"),
                     _f(r["cpu_seconds"], ".1f"), _f(r["load_before"], ".1f"),
                     _f(r.get("status")),
                     _f(r.get("coalitions"), ","), _f(r.get("solves"), ","),
                     _f(r["solves"] / r["coalitions"] if r.get("coalitions") else None, ".2f"),
                     _f(1000 * r["seconds_per_coalition"] if "coalitions" in r else None,
                        ".1f"),
                     _f(1000 * r["seconds_per_solve"] if "solves" in r else None, ".0f"),
                     _f(r["peak_mb"], ".0f"), _f(r.get("max_z"), ".2f"),
                     _f(r.get("over_3_se")), "-" if a is None else
                     ("yes" if a["agree"] else f"NO ({a['relative_to_grand_objective']:.1e})")))
    ex = g.get("exact")
    if ex:
        rows.append((f"exact ({ex['workers']} worker{'s' if ex['workers'] > 1 else ''})",
                     _f(ex["seconds"], ".1f"), _f(ex["cpu_seconds"], ".1f"),
                     _f(ex["load_before"], ".1f"), ex["status"], _f(ex["coalitions"], ","),
                     _f(ex["solves"], ","), _f(ex["solves_share"], ".3f"),
                     _f(1000 * ex["seconds_per_coalition"], ".1f"),
                     _f(1000 * ex["seconds_per_solve"], ".0f"), "-", "0", "0", "-"))
    table(head, rows)
    print("sampled: whole commands (imports, the search for blocking groups, which solves up "
          "to 60 more coalitions); exact: solve_values alone, in this process")
    if ex:
        print(f"exact: HiGHS {ex['highs_seconds']:.0f} s of {ex['seconds']:.0f} s "
              f"({100 * ex['highs_share']:.0f}%); the rest is mostly each plan's certificate "
              "(result tables and the independent check)")
    if ex and ex.get("shapley"):
        print("exact Shapley: " + ", ".join(f"{p} {v:,.1f}" for p, v in ex["shapley"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("county", "generated"), default=None,
                    help="measure one part; the other is kept from --out if it is there")
    ap.add_argument("--workers", default="1,2", help="county: worker counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="county: runs of each command, in turn; the median is reported")
    ap.add_argument("--no-naive", action="store_true",
                    help="skip the county's naive baseline (about 10 minutes): the one "
                         "already in --out, if any, is compared instead")
    ap.add_argument("--generated", default=DEFAULT_GENERATED,
                    help=f"LxIxPxYxS of the generated instance (default {DEFAULT_GENERATED})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help=f"hwbopt generate's seed (default {DEFAULT_SEED})")
    ap.add_argument("--samples", default="50,200,1000",
                    help="generated: --samples of each sampled command")
    ap.add_argument("--exact-workers", type=int, default=1,
                    help="generated: workers of the exact run and of the sampled commands")
    ap.add_argument("--no-exact", action="store_true", help="generated: sampled runs only")
    ap.add_argument("--out", type=Path,
                    default=ROOT / "benchmarks" / "results" / "coalitions.json")
    args = ap.parse_args()

    report: dict[str, Any] = {}
    if args.only and args.out.exists():
        report = json.loads(args.out.read_text(encoding="utf-8"))
    report.update(date=time.strftime("%Y-%m-%d"), machine=machine())
    # each part keeps its own start and commit: with --only, the parts of one file may come
    # from different sittings (and others may commit in between)
    if args.only in (None, "county"):
        started = {"started": time.strftime("%Y-%m-%d %H:%M"), "git_commit": commit()}
        earlier = None
        if args.out.exists():
            earlier = json.loads(args.out.read_text(encoding="utf-8")).get(
                "county", {}).get("naive")
        report["county"] = started | county(list(map(int, args.workers.split(","))),
                                            not args.no_naive, args.repeat, earlier)
    if args.only in (None, "generated"):
        started = {"started": time.strftime("%Y-%m-%d %H:%M"), "git_commit": commit()}
        report["generated"] = started | generated(args.generated, args.seed,
                                        list(map(int, args.samples.split(","))),
                                        args.exact_workers, not args.no_exact)
    m = report["machine"]
    print(f"\n{report['date']}, {m['cpus']} cores ({m.get('cpu_model')}), HiGHS {m['highs']}, "
          f"commit {(m['git_commit'] or '?')[:10]}")
    if "county" in report:
        print_county(report["county"])
    if "generated" in report:
        print_generated(report["generated"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, allow_nan=False, default=float) + "\n",
                        encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
