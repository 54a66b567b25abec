"""Scale benchmark: generate, load, build and solve the county and synthetic instances.

Run from the repository root (not part of ``pytest``)::

    python benchmarks/scale.py                                  # county, 10k, 100k
    python benchmarks/scale.py --sizes county,10k,100k,1m --out results.json
    python benchmarks/scale.py --sizes 1m --no-solve            # build time and memory only

Each size runs in a fresh Python process, so its peak memory (max RSS) is its own. For a
synthetic size (``10k``, ``250k``, ``1m``: a target number of variables) the instance comes
from :func:`hwbopt.generate.size_for_variables` and :func:`hwbopt.generate.generate_instance`
with ``--seed`` and is written to a temporary folder, then read back as a user's folder would
be. A size may also be given as ``LxIxPxYxS`` (localities, interventions, partners, years,
sites), e.g. ``--sizes 10x110x15x5x20,10x4420x15x5x20 --no-solve`` for a series that grows
one argument only. Recorded per size:

- ``generate_s`` (make the dict and write the folder), ``load_s`` (read and validate it);
- ``build_s`` as ``hwbopt.pipeline.build`` does it, split into ``data_s`` (index sets),
  ``model_s`` and ``compile_s`` (wall clock), ``build_cpu_s`` (this process's CPU seconds for
  the same work: on a machine other work shares, wall clock says as much about the others);
  ``build_us_per_col`` and ``build_us_per_nnz`` show whether it
  grows linearly. ``--route`` picks the build: ``arrays`` (the default, what
  ``hwbopt.pipeline.build`` uses: ``model_s`` declares every part into an
  ``hwbopt.model.algebra.ArrayModel``, ``compile_s`` orders its columns and makes the sparse
  matrix), ``pyomo`` (``model_s`` the Pyomo model, ``compile_s`` Pyomo's standard-form
  compiler and the arrays for HiGHS: the route before 2026-12-07) or ``both`` (each size
  twice, each in its own process; the pyomo route also checks that both give the same
  arrays, ``same_as_pyomo``);
- ``rss_build_mb`` (peak resident memory up to the end of the build) and ``rss_peak_mb``
  (including the solve);
- columns, rows, nonzeros and integer columns;
- the solve with ``--time-limit`` (600 s) and ``--mip-gap`` (1e-4): HiGHS seconds, the status
  hwbopt reports, the gap reached, and the wall time including result tables and the
  independent check (``solve_total_s``);
- with ``--relaxation HOW`` (``ipm``, ``ipm+crossover``, ``simplex``, ``pdlp``, ``hipo``: the
  options in ``RELAXATION``), the LP relaxation (integrality dropped) solved within
  ``--time-limit``: ``relaxation_s`` (wall) and ``relaxation_cpu_s`` (this process's
  processor seconds, every thread), the load average before and after, the status with the
  tolerances HiGHS reached it under (``relaxation_tolerances``), the objective, the largest
  primal and dual infeasibility and the iterations of each method; ``--highs-log FILE`` keeps
  HiGHS's own log (the time of each interior point iteration).

A table is printed and everything is written as JSON (``--out``, default
``benchmarks/results/scale-<date>.json``) with the machine, versions and git commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = "county,10k,100k"


def _rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


RELAXATION: dict[str, dict[str, Any]] = {  # HiGHS options per way of solving the LP relaxation
    # (--relaxation); what each was measured to do at 100k and 1M: benchmarks/README.md
    "ipm": {"solver": "ipm", "run_crossover": "off"},  # the optimum's value, to IPX's gap
    "ipm+crossover": {"solver": "ipm", "run_crossover": "on"},  # and a vertex with its basis
    "simplex": {"solver": "simplex"},
    "pdlp": {"solver": "pdlp"},  # first-order: matrix-vector products only, no factorisation
    # HiGHS's multithreaded interior point: only where highspy-extras loads (not with the
    # highspy 1.16.0 wheel); presolve off because its postsolve lost the duals at 100k
    "hipo": {"solver": "hipo", "run_crossover": "off", "presolve": "off"},
}
# The tolerances under which HiGHS calls the relaxation optimal, recorded beside its status
TOLERANCES = ("primal_feasibility_tolerance", "dual_feasibility_tolerance",
              "ipm_optimality_tolerance", "pdlp_optimality_tolerance")


def _cpu_s() -> float:
    """This process's processor seconds, every thread counted: on a shared machine wall clock
    says as much about the other work as about the solve."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def relaxation(comp: Any, how: str, time_limit: float, threads: int | None,
               highs_log: Path | None = None) -> dict[str, Any]:
    """The LP relaxation (integrality dropped) solved ``how``: seconds (wall and processor),
    status with the tolerances it was reached under, objective, iterations, and the machine's
    load average around it. ``highs_log`` keeps HiGHS's own log (per-iteration times)."""
    import highspy
    import numpy as np

    from hwbopt import highs
    from hwbopt.compile import Compiled

    lp = Compiled(**{**comp.__dict__, "integer": np.zeros_like(comp.integer), "_cols": {},
                     "_rows": {}})
    h = highs.load(lp, threads=threads)
    for option, value in RELAXATION[how].items():
        # a refused option (such as a solver this HiGHS was built without) would otherwise
        # leave HiGHS's default in place and time the wrong method
        if h.setOptionValue(option, value) != highspy.HighsStatus.kOk:
            raise SystemExit(f"--relaxation {how}: this HiGHS refuses {option}={value!r}")
    if highs_log is not None:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", str(highs_log))
    load_before, cpu = os.getloadavg()[0], _cpu_s()
    raw = highs.run(h, time_limit=time_limit)
    cpu = _cpu_s() - cpu
    return {"relaxation": how, "relaxation_options": RELAXATION[how],
            "relaxation_s": round(raw.seconds, 3), "relaxation_cpu_s": round(cpu, 1),
            "relaxation_load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "relaxation_status": str(raw.status), "relaxation_objective": raw.objective,
            "relaxation_tolerances": {name: h.getOptionValue(name)[1] for name in TOLERANCES},
            "relaxation_max_primal_infeasibility": highs.info(h, "max_primal_infeasibility"),
            "relaxation_max_dual_infeasibility": highs.info(h, "max_dual_infeasibility"),
            "relaxation_ipm_iterations": int(highs.info(h, "ipm_iteration_count")),
            "relaxation_simplex_iterations": int(highs.info(h, "simplex_iteration_count")),
            "relaxation_crossover_iterations": int(highs.info(h, "crossover_iteration_count")),
            "relaxation_pdlp_iterations": int(highs.info(h, "pdlp_iteration_count"))}


def run_one(size: str, seed: int, time_limit: float, mip_gap: float, solve: bool,
            threads: int | None, route: str = "arrays", relax: str | None = None,
            highs_log: Path | None = None) -> dict[str, Any]:
    """Measure one size in this process (the parent starts a fresh process for each)."""
    import hwbopt
    from hwbopt.compile import compile_model
    from hwbopt.generate import generate_instance, parse_count, size_for_variables
    from hwbopt.io.folder import instance_from_dict, read_folder, write_folder
    from hwbopt.model import build_model, model_data
    from hwbopt.model.build import build_arrays
    from hwbopt.pipeline import Built, solve_built

    out: dict[str, Any] = {"size": size, "route": route, "rss_start_mb": round(_rss_mb(), 1)}
    with tempfile.TemporaryDirectory(prefix="hwbopt-scale-") as tmp:
        if size == "county":
            folder = hwbopt.shipped_instance("county")
            out["generate_s"] = None
        else:
            if "x" in size:  # explicit sizes: localities x interventions x partners x years x sites
                names = ("localities", "interventions", "partners", "years", "sites")
                sizes = dict(zip(names, map(int, size.split("x")), strict=True))
            else:
                out["target"] = parse_count(size)
                sizes = size_for_variables(out["target"])
            out["args"] = {**sizes, "seed": seed}
            start = time.perf_counter()
            inst = instance_from_dict(generate_instance(**sizes, seed=seed))
            folder = write_folder(inst, Path(tmp) / "instance")
            out["generate_s"] = round(time.perf_counter() - start, 3)
            del inst
        start = time.perf_counter()
        inst, _ = read_folder(folder)
        out["load_s"] = round(time.perf_counter() - start, 3)
        out["activity_rows"] = len(inst.activity)

    start, cpu = time.perf_counter(), time.process_time()
    d = model_data(inst)
    t_data = time.perf_counter()
    model: Any = build_model(d) if route == "pyomo" else build_arrays(d)
    t_model = time.perf_counter()
    comp = compile_model(model) if route == "pyomo" else model.compiled()
    t_compile, cpu_build = time.perf_counter(), time.process_time() - cpu
    del model
    built = Built(d, comp, t_compile - start)
    out.update(
        data_s=round(t_data - start, 3),
        model_s=round(t_model - t_data, 3),
        compile_s=round(t_compile - t_model, 3),
        build_s=round(built.seconds, 3),
        build_cpu_s=round(cpu_build, 3),
        rss_build_mb=round(_rss_mb(), 1),
        cols=comp.n_cols,
        rows=comp.n_rows,
        nnz=int(comp.A.nnz),
        integers=int(comp.integer.sum()),
    )
    out["build_us_per_col"] = round(built.seconds / comp.n_cols * 1e6, 2)
    out["build_us_per_nnz"] = round(built.seconds / max(comp.A.nnz, 1) * 1e6, 3)
    if route == "pyomo":  # after the build's numbers: the array route gives the same arrays?
        out["same_as_pyomo"] = _same_arrays(comp, build_arrays(d).compiled())
    if relax is not None:
        out.update(relaxation(comp, relax, time_limit, threads, highs_log))
    if solve:
        start = time.perf_counter()
        result = solve_built(built, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
        out.update(
            status=result.status,
            solve_s=round(result.solve_seconds, 3),
            solve_total_s=round(time.perf_counter() - start, 3),
            gap=result.mip_gap,
            objective=result.objective,
            bound=result.bound,
            checked=result.checked,
            solved_within_limit=result.status == "optimal",
            message=result.message,
        )
    out["rss_peak_mb"] = round(_rss_mb(), 1)
    return out


def _same_arrays(a: Any, b: Any) -> bool:
    """Two compiled models equal in every array, dtype and name (bit for bit)."""
    import numpy as np

    if a.A.shape != b.A.shape or (a.sense, a.offset) != (b.sense, b.offset):
        return False
    for x, y in ((a.A.indptr, b.A.indptr), (a.A.indices, b.A.indices), (a.A.data, b.A.data),
                 (a.c, b.c), (a.row_lower, b.row_lower), (a.row_upper, b.row_upper),
                 (a.col_lower, b.col_lower), (a.col_upper, b.col_upper),
                 (a.integer, b.integer)):
        if x.dtype != y.dtype or not np.array_equal(x, y):
            return False
    return bool(a.col_component == b.col_component and a.col_index == b.col_index
                and a.row_component == b.row_component and a.row_index == b.row_index)


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
        info["memory_gb"] = round(kb / 1024 ** 2, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    for package in ("pyomo", "highspy", "numpy", "scipy"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = None
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=False).stdout.strip() or None
    except OSError:
        info["git_commit"] = None
    return info


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ("size", "route", "cols", "rows", "nnz", "ints", "gen s", "load s", "build s", "cpu s",
            "model s", "compile s", "us/col", "RSS MB", "status", "solve s", "gap")
    table: list[tuple[Any, ...]] = [head]
    for r in rows:
        if "error" in r:
            table.append((r["size"], r.get("route", ""), "error: " + r["error"][:60],
                          *[""] * (len(head) - 3)))
            continue
        gap = r.get("gap")
        table.append((
            r["size"], r.get("route", "pyomo"), _fmt(r["cols"], ","), _fmt(r["rows"], ","),
            _fmt(r["nnz"], ","),
            _fmt(r["integers"], ","), _fmt(r.get("generate_s"), ".1f"), _fmt(r["load_s"], ".2f"),
            _fmt(r["build_s"], ".1f"), _fmt(r.get("build_cpu_s"), ".1f"), _fmt(r["model_s"], ".1f"),
            _fmt(r["compile_s"], ".1f"),
            _fmt(r["build_us_per_col"], ".0f"), _fmt(r["rss_peak_mb"], ",.0f"),
            _fmt(r.get("status")), _fmt(r.get("solve_s"), ".1f"),
            "-" if gap is None else f"{gap:.2e}"))
    _print_rows(table)
    relaxed = [r for r in rows if "relaxation" in r]
    if relaxed:  # the LP relaxation's own table: how, wall and processor time, the end
        print()
        _print_rows([("size", "relaxation", "wall s", "cpu s", "load avg", "status",
                      "objective", "ipm it", "simplex it", "crossover it")] + [
            (r["size"], r["relaxation"], _fmt(r["relaxation_s"], ".1f"),
             _fmt(r.get("relaxation_cpu_s"), ".1f"),
             "-".join(f"{v:.1f}" for v in r.get("relaxation_load_avg", [])) or "-",
             r["relaxation_status"], _fmt(r["relaxation_objective"], ".10g"),
             r["relaxation_ipm_iterations"], r["relaxation_simplex_iterations"],
             r["relaxation_crossover_iterations"]) for r in relaxed])


def _print_rows(table: list[tuple[Any, ...]]) -> None:
    """Right-aligned columns, a rule under the first row (the heading)."""
    widths = [max(len(str(row[k])) for row in table) for k in range(len(table[0]))]
    for n, row in enumerate(table):
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help=f"comma-separated: county, variable targets such as 10k or 1m, or "
                         f"LxIxPxYxS (default {DEFAULT_SIZES})")
    ap.add_argument("--out", type=Path, default=None, help="JSON file to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--mip-gap", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: its own)")
    ap.add_argument("--no-solve", action="store_true", help="measure up to the build only")
    ap.add_argument("--route", choices=("arrays", "pyomo", "both"), default="arrays",
                    help="build straight into arrays (as hwbopt does), through Pyomo's model "
                         "and compiler, or both in turn (default arrays)")
    ap.add_argument("--size-timeout", type=float, default=4 * 3600.0,
                    help="seconds before one size's process is stopped")
    ap.add_argument("--relaxation", choices=sorted(RELAXATION), default=None,
                    help="also solve the LP relaxation this way, within --time-limit")
    ap.add_argument("--highs-log", type=Path, default=None,
                    help="keep HiGHS's log of the relaxation here (one size only)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = ap.parse_args(argv)

    if args.one:
        row = run_one(args.one, args.seed, args.time_limit, args.mip_gap, not args.no_solve,
                      args.threads, args.route, args.relaxation, args.highs_log)
        print("RESULT " + json.dumps(row))
        return 0

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    routes = ["pyomo", "arrays"] if args.route == "both" else [args.route]
    started = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    for size, route in ((s, r) for s in sizes for r in routes):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", size, "--seed",
               str(args.seed), "--time-limit", str(args.time_limit), "--mip-gap",
               str(args.mip_gap), "--route", route]
        if args.no_solve:
            cmd.append("--no-solve")
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        if args.relaxation is not None:
            cmd += ["--relaxation", args.relaxation]
        if args.highs_log is not None:
            cmd += ["--highs-log", str(args.highs_log.resolve())]
        print(f"[{dt.datetime.now():%H:%M:%S}] {size} ({route}) ...", flush=True)
        wall = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                  timeout=args.size_timeout, check=False)
        except subprocess.TimeoutExpired:
            rows.append({"size": size, "route": route,
                         "error": f"stopped after {args.size_timeout:g} s"})
            continue
        found = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not found:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append({"size": size, "route": route,
                         "error": f"exit {proc.returncode}: {tail}"})
            print(proc.stderr[-2000:], file=sys.stderr)
            continue
        row = json.loads(found[-1][len("RESULT "):])
        row["process_wall_s"] = round(time.perf_counter() - wall, 1)
        rows.append(row)
        print(f"    {json.dumps(row)}", flush=True)

    print()
    print_table(rows)
    report = {
        "benchmark": "hwbopt scale",
        "started": started.isoformat(timespec="seconds"),
        "machine": _machine(),
        "settings": {"seed": args.seed, "time_limit": args.time_limit, "mip_gap": args.mip_gap,
                     "threads": args.threads, "solve": not args.no_solve, "route": args.route,
                     "relaxation": args.relaxation,
                     "relaxation_options": RELAXATION.get(args.relaxation or "")},
        "results": rows,
    }
    out = args.out or ROOT / "benchmarks" / "results" / f"scale-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
