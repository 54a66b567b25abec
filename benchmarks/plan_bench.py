"""`hwbopt plan` on the county: the extensive form against the decomposition, 1 and 2 workers.

Each run is the whole command as a user types it (a fresh process, timed by wall clock, its
peak memory read from ``/usr/bin/time -v``):

    hwbopt plan instances/county --scenarios S --method M --workers W --mip-gap G
                --time-limit T --json

The baseline is the extensive form (``--method extensive``) on the same scenarios; the
decomposition's ratio is its seconds over the baseline's. Reported per run: seconds, status,
the proven gap (the summary's ``gap``), RP and its bound, peak RSS, and seconds per scenario
(the target asks time to grow no faster than linearly in the scenarios). The issue's target:
1,000 county scenarios to a 1% proven gap in under 10 minutes on 2 cores. The file's
``target.verdict`` judges the last 1,000-scenario decomposition on 2 workers (``met``) and,
from the runs with its label, the seconds per scenario at each size (``linear``: never rising
from a size to a larger one by more than :data:`NOISE`, the spread of the same command run
again).

Run from the repository root (hours for every size; pick sizes)::

    python benchmarks/plan_bench.py --sizes 10,50 --methods extensive,decomposed
    python benchmarks/plan_bench.py --sizes 200,1000 --methods decomposed --workers 2 --append

Each decomposed run also records the summary's ``decomposition``: its rounds by phase, the
seconds spent in master solves and in scenario subproblems (the profile of where time goes),
and the master's cuts (added, deleted as slack, held at the end).

Before and after a change, in one sitting (the machine is shared: only runs measured side by
side compare), run the code before the change from a copy of it (``git archive HEAD | tar -x
-C DIR``, then this script from ``DIR``: it runs the ``hwbopt`` beside it) and label each::

    python DIR/benchmarks/plan_bench.py --sizes 50,200 --methods decomposed --workers 2 \
        --label before --out benchmarks/results/plan-master.json --append
    python benchmarks/plan_bench.py --sizes 50,200 --methods decomposed --workers 2 \
        --label after --out benchmarks/results/plan-master.json --append
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COUNTY = ROOT / "instances" / "county"
TARGET_SECONDS, TARGET_SIZE, TARGET_GAP = 600.0, 1000, 0.01
# how much one command's seconds vary when it is run again on the 2-core machine, quiet: the
# same code on 1,000 county scenarios took 406, 408 and 425 s (4.6%); on 200, 65 s traced
# and 75 s in this script an hour later. Two sizes' seconds per scenario closer than this
# are the same to the measurement (kept below the spread seen, so as not to excuse growth)
NOISE = 0.05


def run(size: int, method: str, workers: int, gap: float, limit: float,
        label: str | None = None) -> dict[str, Any]:
    """One ``hwbopt plan`` command: its summary's numbers, wall seconds and peak memory."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", "from hwbopt.cli import main; main()",
           "plan", str(COUNTY),
           "--scenarios", str(size), "--method", method, "--workers", str(workers),
           "--mip-gap", str(gap), "--time-limit", str(limit), "--json"]
    began = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          timeout=limit * 6 + 600)
    seconds = time.perf_counter() - began
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    out: dict[str, Any] = {"label": label, "scenarios": size, "method": method,
                           "workers": workers,
                           "mip_gap": gap, "time_limit": limit, "seconds": round(seconds, 2),
                           "exit": proc.returncode,
                           "peak_mb": round(int(rss.group(1)) / 1024, 1) if rss else None}
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        out["error"] = proc.stderr[-2000:]
        return out
    for key in ("status", "method", "rp", "bound", "gap", "eev", "ws", "vss", "evpi",
                "decomposition"):
        out[key] = summary.get(key)
    out["seconds_per_scenario"] = round(seconds / size, 3)
    return out


def growth(rows: list[dict[str, Any]], label: str | None) -> dict[str, Any]:
    """The target's second half, time growing no faster than linearly in the scenarios:
    seconds per scenario of the decomposition on 2 workers at each size, from the runs
    labelled as the judged one, and whether it never rises from a size to any larger one by
    more than NOISE (every pair, so no creep a little at each step)."""
    per = {r["scenarios"]: r["seconds"] / r["scenarios"] for r in rows
           if r["method"] == "decomposed" and r["workers"] == 2 and r.get("label") == label
           and r.get("seconds")}
    sizes = sorted(per)
    return {"seconds_per_scenario": {str(k): round(per[k], 3) for k in sizes},
            "linear": all(per[b] <= (1 + NOISE) * per[a] for a, b in combinations(sizes, 2)),
            "noise": NOISE}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,50,200,1000")
    ap.add_argument("--methods", default="extensive,decomposed")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--mip-gap", type=float, default=TARGET_GAP)
    ap.add_argument("--time-limit", type=float, default=TARGET_SECONDS)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "plan.json")
    ap.add_argument("--append", action="store_true",
                    help="keep the runs already in --out (a run of the same size, method and "
                         "workers is replaced): the sizes may be measured in several sittings "
                         "with their own methods and limits")
    ap.add_argument("--label", default=None,
                    help="a name for these runs (e.g. before/after a change): a run replaces "
                         "only one of the same size, method, workers and label")
    args = ap.parse_args()
    rows = []
    if args.append and args.out.exists():
        rows = json.loads(args.out.read_text(encoding="utf-8")).get("runs", [])
    for size in map(int, args.sizes.split(",")):
        for method in args.methods.split(","):
            # the extensive form is one HiGHS model: extra workers do not reach it
            for workers in ([1] if method == "extensive" else
                            list(map(int, args.workers.split(",")))):
                row = run(size, method, workers, args.mip_gap, args.time_limit, args.label)
                rows = [r for r in rows if (r["scenarios"], r["method"], r["workers"],
                                            r.get("label")) != (size, method, workers,
                                                                args.label)] + [row]
                print(json.dumps(row), flush=True)
    base = {(r["scenarios"], r.get("label")): r for r in rows if r["method"] == "extensive"}
    for r in rows:
        b = base.get((r["scenarios"], r.get("label")))
        if r["method"] == "decomposed" and b is not None and b["seconds"]:
            r["ratio_to_extensive"] = round(r["seconds"] / b["seconds"], 3)
    # the latest-labelled run (a file's last), so an "after" run is the one judged
    target = [r for r in rows if r["scenarios"] == TARGET_SIZE and r["method"] == "decomposed"
              and r["workers"] == 2][-1:]
    verdict = None
    if target:
        t = target[0]
        verdict = {"seconds": t["seconds"], "gap": t.get("gap"),
                   "met": bool(t["seconds"] <= TARGET_SECONDS and t.get("gap") is not None
                               and t["gap"] <= TARGET_GAP),
                   **growth(rows, t.get("label"))}
    report = {"date": time.strftime("%Y-%m-%d"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "target": {"scenarios": TARGET_SIZE, "seconds": TARGET_SECONDS,
                         "gap": TARGET_GAP, "workers": 2, "verdict": verdict},
              "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
