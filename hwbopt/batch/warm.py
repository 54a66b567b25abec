"""The base plan's LP, solved by the method that suits its size, with its optimal basis kept
beside the model's hash so the next batch of the same instance starts warm.

A stress batch starts from the base plan's optimal basis (every chain restarts from it). On a
large model that LP is most of the set-up, and which method solves it fastest depends on its
size. Measured on one thread (the generated instances' LPs, 2026-12-07, seconds, dual simplex
against interior point with crossover, which ends on a basis too): county 0.08-0.11 against
0.15-0.20; 10k 0.5 against 1.0; 30k 1.6-3.1 against 4.6-7.8; 50k 11.7-13.9 against
11.3-11.7; 100k 54 against 22. So the interior point method is chosen from ``IPM_COLUMNS``
columns up. A second run given the kept basis takes no pivots at all
(``benchmarks/stress_bench.py --setup``).

The kept bases live in ``$HWBOPT_CACHE`` (default ``$XDG_CACHE_HOME/hwbopt/bases``, else
``~/.cache/hwbopt/bases``; ``HWBOPT_CACHE=off`` keeps none), one small file per model, named by
a hash of every number of the LP (costs, matrix, bounds): a basis is only ever offered to the
very LP it was optimal for. Even then it is only a start: HiGHS re-solves from it and proves
the optimum, so a stale or damaged file costs time, never a wrong answer; one that cannot be
read is ignored. At most ``KEEP`` files are kept, the least recently used removed first.

The same folder remembers that a stress set's input ranges were tried at their edges and left
the model's structure as it is (:func:`hwbopt.batch.setup.check_structure`: a model build per
edge, 16 s on 100k), named by a hash of the instance, the set's inputs, the objective, the base
model's pattern and hwbopt's version: a second run of the same set skips the builds.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np

from hwbopt import highs
from hwbopt.compile import Compiled
from hwbopt.status import Status

IPM_COLUMNS = 50_000  # from this many columns up the base LP is solved by interior point
KEEP = 64  # files kept in the cache folder (bases and passed checks)
OFF = {"off", "0", "no", "none", "false"}


def cache_dir() -> Path | None:
    """Where bases are kept, or None when ``HWBOPT_CACHE`` turns the cache off."""
    chosen = os.environ.get("HWBOPT_CACHE")
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else Path(chosen)
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "hwbopt" / "bases"


def lp_hash(comp: Compiled) -> str:
    """A hash of every number of the LP (integrality aside: the LP's own basis is kept)."""
    h = hashlib.sha256()
    h.update(f"{comp.sense} {comp.n_rows} {comp.n_cols}".encode())
    for arr in (comp.c, comp.A.indptr, comp.A.indices, comp.A.data, comp.col_lower,
                comp.col_upper, comp.row_lower, comp.row_upper):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def kept_basis(comp: Compiled) -> highs.Basis | None:
    """The basis kept for this very LP, or None (none kept, cache off, unreadable, wrong
    shape)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{lp_hash(comp)}.npz"
    try:
        with np.load(path) as kept:
            cols, rows = kept["cols"].astype(np.int8), kept["rows"].astype(np.int8)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    if cols.shape != (comp.n_cols,) or rows.shape != (comp.n_rows,) or \
            not (np.all((cols >= 0) & (cols <= 4)) and np.all((rows >= 0) & (rows <= 4))):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept longest
    return cols, rows


def keep_basis(comp: Compiled, basis: highs.Basis) -> None:
    """Keep ``basis`` for this LP (best effort: a cache that cannot be written is skipped)."""
    folder = cache_dir()
    if folder is None:
        return
    path = folder / f"{lp_hash(comp)}.npz"
    tmp = folder / f".{path.stem}.{os.getpid()}.tmp.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, cols=basis[0], rows=basis[1])
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def remembered(key: str) -> bool:
    """Whether a check named by ``key`` (a hash of everything it depends on) has passed
    before; see :func:`remember`."""
    folder = cache_dir()
    if folder is None:
        return False
    path = folder / f"{key}.passed"
    if not path.is_file():
        return False
    with contextlib.suppress(OSError):
        os.utime(path)
    return True


def remember(key: str) -> None:
    """Note that the check named by ``key`` passed (best effort)."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.passed").touch()
        _prune(folder)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    kept = sorted((p for p in folder.iterdir() if p.suffix in (".npz", ".passed")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()


def solve_lp(comp: Compiled, time_limit: float | None = None
             ) -> tuple[highs.RawSolution, highs.Basis | None, str]:
    """Solve ``comp`` as an LP (integrality dropped: the caller has fixed every integer
    column) on one thread: from the kept basis when there is one, else by the method its size
    suits. Returns the solution, its optimal basis (None if not optimal) and how it was solved
    (``warm``, ``simplex`` or ``ipm``)."""
    lp = Compiled(**{**comp.__dict__, "integer": np.zeros_like(comp.integer), "_cols": {},
                     "_rows": {}})
    h = highs.load(lp, threads=1)
    start = kept_basis(lp)
    if start is not None:
        highs.set_basis(h, start)
        how = "warm"
    elif lp.n_cols >= IPM_COLUMNS:
        # interior point, then crossover to a vertex: the scenarios need a basis
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "on")
        how = "ipm"
    else:
        how = "simplex"
    raw = highs.run(h, time_limit=time_limit, is_mip=False)
    if raw.status != Status.OPTIMAL:
        return raw, None, how
    basis = highs.get_basis(h)
    if how != "warm":
        keep_basis(lp, basis)
    return raw, basis, how
