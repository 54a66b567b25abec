"""Fault injection for stress runs: kill a worker, or the driver, at a chosen point; resume;
compare with a clean run. Used by tests/test_fault_injection.py (a few trials) and
benchmarks/fault_injection.py (many).

Each trial picks its point from a seeded generator, so a failing trial can be run again:

- ``worker``: two Dask workers; the engine's test hook (``die_on``) ends the worker that reaches
  a chosen scenario (once); Dask runs its block again elsewhere, and the run must finish whole.
- ``driver-hook``: one worker, so blocks are solved in the driver itself; the hook ends the
  driver (``os._exit``, no clean-up) on reaching a chosen scenario.
- ``driver-kill``: one worker; the driver is sent SIGKILL once a chosen number of parts is on
  disk (waiting on the folder, never a fixed sleep).

After a kill the run is finished with ``resume=True`` (other block sizes than the first
attempt) and its Parquet results must equal the clean run's, timing columns aside: every
scenario once, none lost, none twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hwbopt
from hwbopt.batch.run import run_stress
from hwbopt.batch.store import PART_NAME, PARTS, read_results

TIMING = ["solve_seconds", "certify_seconds"]
SET = "cuts_and_pressures"
MODES = ("worker", "driver-hook", "driver-kill")

DRIVER = """
import sys
import hwbopt
from hwbopt.batch.run import run_stress
folder, out, n, block, scenario, marker = sys.argv[1:]
die_on = {"scenario": int(scenario), "marker": marker} if int(scenario) >= 0 else None
run_stress(hwbopt.load(folder), set_name="cuts_and_pressures", scenarios=int(n), workers=1,
           block_size=int(block), out=out, die_on=die_on)
"""


def instance():
    return hwbopt.load(hwbopt.shipped_instance("tutorial"))


def clean_run(out: Path, n: int) -> pd.DataFrame:
    run_stress(instance(), set_name=SET, scenarios=n, out=out, workers=1, block_size=32)
    return read_results(out)


def parts(out: Path) -> list[Path]:
    folder = out / PARTS
    return [p for p in folder.iterdir() if PART_NAME.fullmatch(p.name)] if folder.is_dir() \
        else []


def _driver(out: Path, n: int, block: int, scenario: int, marker: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(hwbopt.shipped_instance("tutorial")), str(out),
         str(n), str(block), str(scenario), str(marker)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def trial(mode: str, seed: int, work: Path, n: int, clean: pd.DataFrame) -> dict:
    """One trial; returns what happened (``ok`` whether the results equal the clean run's)."""
    rng = np.random.default_rng(seed)
    out = work / f"{mode}-{seed}"
    marker = work / f"{mode}-{seed}.died"
    block = int(rng.choice([32, 64]))
    killed = False
    if mode == "worker":
        scenario = int(rng.integers(n))
        run_stress(instance(), set_name=SET, scenarios=n, out=out, workers=2, block_size=block,
                   die_on={"scenario": scenario, "marker": str(marker)})
        killed = marker.exists()
        point = f"scenario {scenario}"
    elif mode == "driver-hook":
        scenario = int(rng.integers(n))
        proc = _driver(out, n, block, scenario, marker)
        _, err = proc.communicate(timeout=600)  # a guard: the hook ends it
        killed = proc.returncode != 0
        if killed and not marker.exists():
            raise AssertionError(f"the driver failed on its own: {err[-2000:]}")
        point = f"scenario {scenario}"
    elif mode == "driver-kill":
        block = 32  # the most parts to choose among
        total = -(-n // block)
        at = int(rng.integers(total))  # parts on disk when it is killed (0: before any)
        proc = _driver(out, n, block, -1, marker)
        while proc.poll() is None and len(parts(out)) < at:
            time.sleep(0.005)  # waiting on the folder, not on the clock
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
        proc.communicate(timeout=600)
        point = f"{at} parts"
    else:
        raise ValueError(mode)
    before = len(parts(out))
    if mode != "worker":  # (killed before it made the folder: nothing to resume, run it)
        run_stress(instance(), set_name=SET, scenarios=n, out=out, workers=1,
                   block_size=int(rng.choice([32, 96])), resume=out.exists())
    got = read_results(out)
    ok = sorted(got.scenario) == list(range(n))
    if ok:
        try:
            pd.testing.assert_frame_equal(got.drop(columns=TIMING),
                                          clean.drop(columns=TIMING))
        except AssertionError:
            ok = False
    return {"mode": mode, "seed": seed, "point": point, "killed": killed,
            "parts_before_resume": before, "rows": len(got),
            "unique": int(got.scenario.nunique()), "ok": ok}
