"""Where a batch's results live: a Parquet dataset written block by block, never lost.

``OUT/run.json`` records what the run is (instance hash, stress set, seed, options, version,
and a run id); ``OUT/scenarios/`` holds one Parquet file per finished block, named
``part-FIRST-LAST.parquet`` after the block's chains of the neighbour order, carrying the run id
in its metadata. Each is written to a hidden temporary file and renamed, so a file that exists
is complete. A folder holds one run:

- a new run refuses a folder that holds a run's files already (``run.json`` or parts), unless
  ``force`` (which clears the old parts);
- ``--resume`` checks every entry of ``scenarios/``: a part must be named as a block is, be a
  regular file that reads as Parquet, carry this run's id, hold exactly the scenarios of the
  chains its name says with this run's input values, and share no scenario with another part.
  Anything else is moved aside into ``OUT/quarantine/`` (never deleted) with a one-line
  warning, and its block is solved again; a hidden temporary part (a write cut short) is
  removed;
- reading results (the summary, ``hwbopt report``) uses only parts that pass the checks that
  need no instance (name, file, Parquet, run id, scenario range, no duplicates) and warns of
  the rest;
- a process writing to the folder holds an OS lock on ``OUT/.lock`` (released on exit or
  kill), so two cannot interleave.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hwbopt.errors import UsageError
from hwbopt.schema import Instance

if TYPE_CHECKING:
    import pyarrow as pa

RUN_FILE = "run.json"
PARTS = "scenarios"
QUARANTINE = "quarantine"
LOCK = ".lock"
FORMAT = 1  # run.json's layout; a newer one is refused
RUN_KEY = b"hwbopt.run"  # a part's Parquet metadata: the run id it belongs to
PART_NAME = re.compile(r"part-(\d{7})-(\d{7})\.parquet")
# write_part's temporary file (tempfile.mkstemp adds eight characters)
TEMP_NAME = re.compile(r"\.part-\d{7}-\d{7}\.[A-Za-z0-9_]{8}")
# what must match for --resume to finish the same run
IDENTITY = ("instance_hash", "stress_set", "stress", "scenarios", "seed", "mip", "objective",
            "chain", "engine", "time_limit", "cold_check", "hold_first_year", "plan")
# what a run written before a key joined IDENTITY had, so it can still be resumed (or is
# refused by name: "engine", hwbopt.batch.engine.ENGINE)
IDENTITY_DEFAULTS: dict[str, Any] = {"cold_check": 0.01, "hold_first_year": False,
                                     "plan": None, "engine": 1}


def identity(key: str, meta: dict[str, Any]) -> Any:
    """The value of ``key`` that --resume must match: a saved plan by the hash of its values
    (a copy of the same plan in another folder is the same plan), anything else as it is."""
    value = meta.get(key, IDENTITY_DEFAULTS.get(key))
    if key == "plan" and isinstance(value, dict):
        return value.get("sha256")
    return value
# what every run.json has
REQUIRED = ("instance_hash", "stress_set", "scenarios", "seed", "chain")


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


warn: Callable[[str], None] = _stderr  # where one-line warnings go (tests may replace it)


def instance_hash(inst: Instance) -> str:
    """sha256 of the validated instance (its content, not the formatting of its files)."""
    text = json.dumps(inst.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def claim(out: Path) -> Iterator[bool]:
    """Check ``out`` can hold a run, create it, and hold its lock while the body runs; yields
    whether the folder was created.

    A folder this call created is removed again if the body refuses it and leaves it empty.
    """
    if out.is_symlink() and not out.exists():
        raise UsageError(f"--out {out} is a broken symbolic link: choose another folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if (out / "instance.yaml").exists():
        raise UsageError(f"--out {out} holds an instance (instance.yaml): choose another folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") \
            from None
    lock = out / LOCK
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot open its lock file {lock} "
                         f"({exc.strerror or exc}); is the folder writable?") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UsageError(f"--out {out}: another hwbopt is writing to {out} (it holds "
                                 f"{lock}); wait for it to finish, or choose another folder") \
                    from None
            raise UsageError(f"--out {out}: cannot lock {lock} ({exc.strerror or exc})") \
                from None
        try:
            yield created
        except BaseException:
            if created and {p.name for p in out.iterdir()} <= {LOCK}:
                shutil.rmtree(out, ignore_errors=True)
            raise
    finally:
        os.close(fd)  # releases the lock (so does the process ending, however it ends)


def load_run_file(out: Path) -> dict[str, Any]:
    """``out/run.json``, checked to be a stress run's record this version can read."""
    path = out / RUN_FILE
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UsageError(f"{path} is not a regular file: {out} does not hold a stress run "
                         "hwbopt wrote")
    if not path.exists():
        raise UsageError(f"{out} holds no stress run ({RUN_FILE} missing)")
    try:
        raw = path.read_bytes()
        meta = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}): the run's record is damaged; "
                         "start the run again in another folder, or with --force") from None
    if not isinstance(meta, dict):
        raise UsageError(f"{path} is not a stress run's record (expected a JSON object)")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise UsageError(f"{path} is not a stress run's record (no {', '.join(missing)})")
    fmt = meta.get("format", 0)
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt > FORMAT:
        raise UsageError(f"{path} was written by another hwbopt (format {fmt!r}, version "
                         f"{meta.get('hwbopt', '?')}); this one reads format {FORMAT} or "
                         "older: finish it with that version, or choose another --out")
    n = meta.get("scenarios")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 \
            or not isinstance(meta.get("chain"), int) or meta["chain"] < 1:
        raise UsageError(f"{path} is not a stress run's record (scenarios and chain must be "
                         "positive whole numbers)")
    return meta


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    if not folder.exists() and not folder.is_symlink():
        return []
    if folder.is_symlink() or not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: this run's parts must be a folder of "
                         "their own")
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list it ({exc.strerror or exc})") from None


def open_run(out: Path, meta: dict[str, Any], resume: bool, force: bool = False,
             created: bool = False) -> bool:
    """Check ``out`` (locked by :func:`claim`; ``created`` if it made the folder) for this
    run, and start it; whether an earlier run is being resumed.

    ``resume``: ``out`` must hold the same run (``meta`` takes its run id); check its parts
    with :func:`settle_parts`. A folder that exists but holds neither ``run.json`` nor parts
    (a run stopped while it was being set up) starts afresh.

    Otherwise ``out`` must hold no run's files, unless ``force``, which clears the old parts
    (and the old run's record and summary); then ``meta`` gets a new run id, and the caller
    writes it as ``run.json`` before any part.
    """
    if resume and force:
        raise UsageError("--resume and --force: --resume finishes the run in --out, --force "
                         "starts it afresh; give one")
    run_file = out / RUN_FILE
    parts = out / PARTS
    if resume and not created and not run_file.exists() and not run_file.is_symlink() \
            and not _entries(parts):
        resume = False  # stopped before its record was written: nothing to mix with
    if resume:
        if not run_file.exists() and not run_file.is_symlink():
            raise UsageError(f"--resume: {out} holds no stress run to finish ({RUN_FILE} "
                             "missing)")
        old = load_run_file(out)
        differ = [k for k in IDENTITY if identity(k, old) != identity(k, meta)]
        if "engine" in differ:
            raise UsageError(f"--resume: {out} was started by another hwbopt (version "
                             f"{old.get('hwbopt', '?')}), which orders, starts or solves its "
                             "scenarios differently: finish it with that version, or start "
                             "it again in another --out (or with --force)")
        if differ:
            raise UsageError(f"--resume: {out} holds a different run ({run_file} differs in "
                             f"{', '.join(differ)}); use the same instance and options, or "
                             "another --out")
        for k in ("run_id", "format"):
            if k in old:
                meta[k] = old[k]
            else:
                meta.pop(k, None)
        _entries(parts)  # refuses a parts folder that is not one
        return True
    held = [e.name for e in _entries(parts)]
    if (run_file.exists() or run_file.is_symlink()) and not force:
        raise UsageError(f"--out {out} holds a stress run already ({run_file}): add --resume "
                         "to finish it, --force to start afresh, or choose another folder")
    if held and not force:
        raise UsageError(f"--out {out} holds results of an earlier run ({len(held)} entries in "
                         f"{parts}, and no {RUN_FILE}); they would be mixed with this run's: "
                         "add --force to clear them, or choose another folder")
    if force:
        if parts.is_symlink() or (parts.exists() and not parts.is_dir()):
            parts.unlink()
        elif parts.exists():
            shutil.rmtree(parts)
        for stale in (run_file, out / "summary.json"):
            if stale.is_symlink() or stale.is_file():
                stale.unlink()
    meta["run_id"] = uuid.uuid4().hex
    meta["format"] = FORMAT
    # run.json is written by the caller once the run is set up (before any part), so a run
    # refused while setting up leaves no record behind
    return False


def chains_of(values: np.ndarray, chain: int) -> list[np.ndarray]:
    """The run's chains: its neighbour order cut every ``chain`` scenarios (as plan_blocks)."""
    from hwbopt.batch.sample import neighbour_order

    order = neighbour_order(values)
    return [order[k:k + chain] for k in range(0, len(order), chain)]


def quarantine(out: Path, path: Path, reason: str) -> Path:
    """Move ``path`` aside into ``out/quarantine`` (never over another file); warn."""
    folder = out / QUARANTINE
    try:
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(f"{folder} is not a folder: cannot move {path} aside into it")
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        k = 0
        while target.exists() or target.is_symlink():
            k += 1
            target = folder / f"{path.name}.{k}"
        os.rename(path, target)
    except OSError as exc:
        raise UsageError(f"{path}: {reason}, and it cannot be moved aside into {folder} "
                         f"({exc.strerror or exc}); move it away and try again") from None
    warn(f"{path}: {reason}; moved to {target}, its scenarios are solved again")
    return target


def _read_part(path: Path, meta: dict[str, Any] | None,
               columns: list[str] | None) -> tuple[Any, str | None]:
    """The part's table (``columns`` and ``scenario``), or why it is not one of the run's."""
    import pyarrow.parquet as pq

    try:
        st = path.lstat()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    import stat

    if stat.S_ISLNK(st.st_mode):
        return None, "is a symbolic link, not a part hwbopt wrote"
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file"
    if st.st_size == 0:
        return None, "is empty (0 bytes)"
    try:
        with open(path, "rb") as fh:
            pf = pq.ParquetFile(fh)
            names = pf.schema_arrow.names
            if "scenario" not in names:
                return None, "holds no scenario column"
            want = None if columns is None else \
                list(dict.fromkeys(["scenario", *[c for c in columns if c in names]]))
            table = pf.read(columns=want, use_threads=False)  # ONE_THREAD
            metadata = pf.schema_arrow.metadata or {}
    except Exception as exc:  # pyarrow's errors are many: anything unreadable is set aside
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"is not readable as Parquet ({text[:120]})"
    run_id = (meta or {}).get("run_id")
    if run_id and metadata.get(RUN_KEY, b"").decode("utf-8", "replace") != run_id:
        return None, "was written by another run (its run id is not this run's)"
    scen = table.column("scenario")
    import pyarrow as pa

    if not pa.types.is_integer(scen.type) or scen.null_count:
        return None, "has a scenario column that is not whole numbers"
    s = np.asarray(scen.to_numpy(), dtype=np.int64)
    if not len(s):
        return None, "holds no scenarios"
    n = (meta or {}).get("scenarios")
    if isinstance(n, int) and (s.min() < 0 or s.max() >= n):
        return None, f"holds scenarios outside this run's 0 to {n - 1}"
    if len(np.unique(s)) != len(s):
        return None, "holds a scenario twice"
    return table, None


def settle_parts(out: Path, meta: dict[str, Any], values: np.ndarray) -> set[int]:
    """On ``--resume``: check every entry of ``out/scenarios`` (see the module docstring),
    move aside what fails, remove writes cut short; the scenarios the good parts hold."""
    parts = out / PARTS
    n = int(meta["scenarios"])
    chain = int(meta["chain"])
    chains = chains_of(values, chain)
    chain_of = np.empty(n, dtype=np.int64)
    for c, ch in enumerate(chains):
        chain_of[ch] = c
    sizes = np.array([len(ch) for ch in chains])
    inputs = list(meta.get("inputs") or [])
    seen = np.zeros(n, dtype=bool)
    strict = meta.get("format", 0) >= 1  # blocks written by this version name exact ranges
    for entry in _entries(parts):
        path = parts / entry.name
        if TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            path.unlink(missing_ok=True)  # a write cut short: its block runs again
            continue
        m = PART_NAME.fullmatch(entry.name)
        if not m:
            quarantine(out, path, "is not named as a part of a run (part-FIRST-LAST.parquet)")
            continue
        first, last = int(m.group(1)), int(m.group(2))
        if not first <= last < len(chains):
            quarantine(out, path, f"names chains {first} to {last}, but this run has chains 0 "
                       f"to {len(chains) - 1}")
            continue
        table, reason = _read_part(path, meta, ["scenario", *[f"input.{c}" for c in inputs]])
        if reason is None:
            s = np.asarray(table.column("scenario").to_numpy(), dtype=np.int64)
            reason = _chain_reason(s, chain_of, sizes, first, last, strict)
        if reason is None and inputs:
            for k, col in enumerate(inputs):
                name = f"input.{col}"
                if name not in table.column_names:
                    reason = f"holds no column {name}"
                    break
                got = np.asarray(table.column(name).to_numpy(zero_copy_only=False),
                                 dtype=float)
                if not np.array_equal(got, values[s, k], equal_nan=True):
                    reason = f"holds other values of {name} than this run's scenarios have"
                    break
        if reason is None and seen[s].any():
            reason = (f"holds scenarios another part holds too (e.g. scenario "
                      f"{int(s[seen[s]][0])})")
        if reason is not None:
            quarantine(out, path, reason)
            continue
        seen[s] = True
    return set(np.flatnonzero(seen).tolist())


def _chain_reason(s: np.ndarray, chain_of: np.ndarray, sizes: np.ndarray, first: int,
                  last: int, strict: bool) -> str | None:
    c = chain_of[s]
    held = np.bincount(c, minlength=len(sizes))
    used = np.flatnonzero(held)
    if (held[used] != sizes[used]).any():
        return "holds part of a chain, not whole chains"
    expected = np.arange(first, last + 1)
    if strict and not np.array_equal(used, expected):
        return f"does not hold exactly chains {first} to {last}, as its name says"
    if not strict and (used[0] != first or used[-1] != last):
        return f"does not hold chains {first} to {last}, as its name says"
    return None


def write_part(out: Path, name: str, data: bytes) -> Path:
    """One finished block, atomically: a hidden temporary file renamed into place."""
    folder = out / PARTS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-{name}.parquet"
    fd, tmp = tempfile.mkstemp(prefix=f".part-{name}.", dir=folder)
    try:
        from hwbopt.outputs import file_mode

        os.fchmod(fd, file_mode())  # mkstemp makes it owner-only; the user's umask decides
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def good_parts(out: str | Path, columns: list[str] | None = None,
               meta: dict[str, Any] | None = None) -> Iterator[Any]:
    """The run's parts as Arrow tables (``columns``, and ``scenario``), checked as far as the
    folder alone allows (name, regular file, Parquet, run id, scenario range, no scenario
    twice); warns of each entry left out (``--resume`` moves them aside)."""
    out = Path(out)
    parts = out / PARTS
    entries = _entries(parts)
    if not entries:
        return
    if meta is None:
        meta = load_run_file(out)
    seen: set[int] = set()
    for entry in entries:
        path = parts / entry.name
        if entry.name.startswith("."):
            continue  # a write cut short, or the system's: never a part
        if not PART_NAME.fullmatch(entry.name):
            warn(f"{path}: is not named as a part of a run; left out of the results")
            continue
        table, reason = _read_part(path, meta, columns)
        if reason is None:
            s = table.column("scenario").to_pylist()
            if seen.intersection(s):
                reason = "holds scenarios another part holds too"
        if reason is not None:
            warn(f"{path}: {reason}; left out of the results (hwbopt stress --resume moves "
                 "it aside and solves its scenarios again)")
            continue
        seen.update(s)
        yield table


# ONE_THREAD: parts are read and converted on this thread, not Arrow's pool. A pool started
# just before a command exits can still be tearing down at exit, and that aborts the process
# ("terminate called without an active exception", apache/arrow#34314): seen once in CI, as an
# interrupted stress run counted its saved parts and exited. A part is small: one thread reads
# and converts 20,000 county scenarios no slower (0.21 against 0.21-0.26 s; 0.06-0.08 against
# 0.13-0.16 s).


def frame_of(table: pa.Table) -> pd.DataFrame:
    """A part's table as a data frame, on this thread (ONE_THREAD)."""
    frame: pd.DataFrame = table.to_pandas(use_threads=False)
    return frame


def read_results(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every finished scenario of a run, sorted by scenario index (good parts only)."""
    frames = [frame_of(t) for t in good_parts(out, columns)]
    if not frames:
        return pd.DataFrame(columns=columns or ["scenario"])
    frame = pd.concat(frames, ignore_index=True)
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame.sort_values("scenario", kind="stable").reset_index(drop=True)


def done_scenarios(out: str | Path) -> set[int]:
    """The scenarios the run's good parts hold (see :func:`good_parts`)."""
    done: set[int] = set()
    for table in good_parts(out, ["scenario"]):
        done.update(table.column("scenario").to_pylist())
    return done
