"""Fault injection, many trials: kill a stress run's worker, or its driver, at seeded random
points, resume, and compare with a clean run (see tests/faults.py).

    python benchmarks/fault_injection.py --trials 50 [--scenarios 128] [--seed 0]

Prints one line per trial and a table of trials and passes per kind of fault; exits 1 if any
trial's results differ from the clean run's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from faults import MODES, clean_run, trial


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--scenarios", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0, help="first trial's seed")
    ap.add_argument("--modes", default=",".join(MODES), help=f"some of {', '.join(MODES)}")
    args = ap.parse_args()
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # a killed worker's news
    modes = [m for m in args.modes.split(",") if m]
    table = {m: {"trials": 0, "killed": 0, "passed": 0} for m in modes}
    with tempfile.TemporaryDirectory(prefix="hwbopt-faults-") as tmp:
        work = Path(tmp)
        clean = clean_run(work / "clean", args.scenarios)
        for k in range(args.trials):
            mode = modes[k % len(modes)]
            seed = args.seed + k
            start = time.perf_counter()
            r = trial(mode, seed, work, args.scenarios, clean)
            row = table[mode]
            row["trials"] += 1
            row["killed"] += int(r["killed"])
            row["passed"] += int(r["ok"])
            print(f"{k + 1:4d} {mode:12s} seed {seed:5d} at {r['point']:14s} "
                  f"killed={r['killed']!s:5s} parts before resume {r['parts_before_resume']:3d} "
                  f"rows {r['rows']:5d} unique {r['unique']:5d} "
                  f"{'ok' if r['ok'] else 'DIFFERS'} ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    print(f"\n{'fault':12s} {'trials':>7s} {'killed':>7s} {'passed':>7s}")
    for mode, row in table.items():
        print(f"{mode:12s} {row['trials']:7d} {row['killed']:7d} {row['passed']:7d}")
    total = sum(r["trials"] for r in table.values())
    passed = sum(r["passed"] for r in table.values())
    print(f"{'all':12s} {total:7d} {sum(r['killed'] for r in table.values()):7d} {passed:7d}")
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
