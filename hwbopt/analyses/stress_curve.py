"""The exact curve beside a stress batch's sampled response, when one drawn input dominates.

A stress report charts each target and the objective against each drawn input from groups of
scenarios: a sample, noisy and coarse. When one input moves the plan far more than the others,
that sampled response is close to a curve :func:`hwbopt.analyses.curve.curve` knows exactly:
the plan, its integer decisions held, as a piecewise-linear function of that one input with
every other input at the instance's own value. This module decides whether a run has such an
input (:func:`dominant_input`), finds the line the curve follows (:func:`follow`: the input's
path and the range the set draws it from) and computes it into the run's folder as
``exact_curve/`` in the ``hwbopt curve --out`` format (:func:`add_exact_curve`, called at
the end of :func:`hwbopt.batch.run.run_stress`). See ``models/stress.md``, "The exact curve".
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwbopt.analyses.stress import INPUT, SOLVED, input_influence
from hwbopt.errors import InstanceError, UsageError
from hwbopt.schema import Instance, StressInput, StressSet

DOMINANT = 0.8  # |rank correlation| with the objective the first input needs
OTHERS = 0.3  # |rank correlation| no other drawn input may pass
MIN_SOLVED = 10  # fewer solved scenarios: a rank correlation is noise
FOLDER = "exact_curve"  # the curve's folder inside the run's
FILE = f"{FOLDER}/summary.json"  # as the summary names it, relative to the run's folder
CURVE_KIND = "curve"  # the kind a curve's summary.json records (hwbopt.analyses.curve.KIND)


# ---------------------------------------------------------------------------------------------
# which input, and along which line
# ---------------------------------------------------------------------------------------------


def dominant_input(influence: list[dict[str, Any]], solved: int) -> tuple[str | None, str]:
    """The drawn input that dominates the objective (its column), or None; and why, in words.

    ``influence`` is :func:`hwbopt.analyses.stress.input_influence` (the inputs whose value
    varies, the strongest rank correlation with the objective first) over ``solved``
    scenarios. An input dominates when it is the only one drawn that varies, or when its
    rank correlation with the objective is at least :data:`DOMINANT` in size and every other
    input's at most :data:`OTHERS`: then the other inputs move the objective little beside
    it, and the curve along it with them at the instance's values runs through the cloud."""
    if solved < MIN_SOLVED:
        return None, (f"only {solved} solved scenario{'s' if solved != 1 else ''}: too few to "
                      f"tell which input moves the plan (at least {MIN_SOLVED})")
    if not influence:
        return None, "no drawn input varies between the scenarios"
    first = influence[0]
    rho = float(first["objective_correlation"])
    if len(influence) == 1:
        return str(first["input"]), (f"{first['input']} is the only drawn input that varies "
                                     f"(rank correlation {rho:+.2f} with the objective)")
    second = influence[1]
    rho2 = float(second["objective_correlation"])
    rule = f"(an input dominates at |ρ| ≥ {DOMINANT} with every other |ρ| ≤ {OTHERS})"
    if abs(rho) >= DOMINANT and abs(rho2) <= OTHERS:
        return str(first["input"]), (f"{first['input']} dominates: rank correlation "
                                     f"{rho:+.2f} with the objective, the next "
                                     f"({second['input']}) {rho2:+.2f} {rule}")
    return None, (f"no one drawn input dominates the objective: {first['input']} has rank "
                  f"correlation {rho:+.2f} with it and {second['input']} {rho2:+.2f} {rule}")


@dataclass(frozen=True)
class Along:
    """How the curve follows a drawn input: the path it moves and its range, in the path's
    own values (``lo``, ``hi``: what ``hwbopt curve --from --to`` takes) and as drawn
    (``drawn_lo``, ``drawn_hi``: a scale factor, an amount added or the value itself)."""

    column: str
    path: str
    op: str
    base: float | None  # the instance's own value at the path (None: several, or not a number)
    lo: float
    hi: float
    drawn_lo: float
    drawn_hi: float

    def drawn(self, value: float) -> float:
        """A value of the path as the set draws it (``op``: set, scale or add)."""
        return to_drawn(value, self.op, self.base)


def to_drawn(value: float, op: str, base: float | None) -> float:
    """The path's value ``value`` in the terms a stress input with ``op`` draws it: the value
    itself, the factor that scales ``base`` to it, or the amount added to ``base``."""
    if op == "scale" and base:
        return value / base
    if op == "add" and base is not None:
        return value - base
    return value


def _own_values(inst: Instance, path: str) -> list[Any]:
    from hwbopt.paths import PathError, instance_data, leaves, parse_path

    try:
        return [c[k] for c, k in leaves(instance_data(inst), parse_path(path), path)]
    except PathError:
        return []


def _drawn_range(spec: StressInput, drawn: np.ndarray, table: bool) -> tuple[float, float]:
    """The range the set draws the input from: its distribution's bounds where it has them
    (uniform, triangular, a normal cut to low..high, a discrete input's values), else the
    values the run drew (a table's rows, a normal without bounds)."""
    bounded = spec.dist in ("uniform", "triangular", "normal")  # a normal: if cut to bounds
    if not table and bounded and spec.low is not None and spec.high is not None:
        return float(spec.low), float(spec.high)
    if not table and spec.dist == "discrete" and spec.values:
        return float(min(spec.values)), float(max(spec.values))
    finite = drawn[np.isfinite(drawn)]
    if not len(finite):
        return math.nan, math.nan
    return float(finite.min()), float(finite.max())


def follow(inst: Instance, spec: StressInput, drawn: np.ndarray, table: bool) -> Along | str:
    """The line the exact curve follows for the drawn input ``spec`` (``drawn``: the values
    the run drew; ``table``: the set reads a table), or why it cannot: the curve moves one
    path, set to each value, so an input that shares its draw among several paths, or that
    scales or adds to several numbers at once, has none."""
    if spec.path is None:
        return (f"{spec.column} sets {len(spec.paths)} inputs at once (paths); the curve "
                "moves one")
    lo, hi = _drawn_range(spec, drawn, table)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        return f"{spec.column} is drawn from one value only"
    own = _own_values(inst, spec.path)
    numbers = [float(v) for v in own if isinstance(v, int | float) and not isinstance(v, bool)]
    base = numbers[0] if len(numbers) == 1 and len(own) == 1 else None
    if spec.op == "value":
        return Along(spec.column, spec.path, spec.op, base, lo, hi, lo, hi)
    if base is None:
        return (f"{spec.column} {'scales' if spec.op == 'scale' else 'adds to'} "
                f"{len(own)} numbers at once ({spec.path}); the curve sets one input to "
                "each value")
    ends = sorted((base * lo, base * hi) if spec.op == "scale" else (base + lo, base + hi))
    if not ends[0] < ends[1]:
        return f"{spec.column} scales {spec.path}, which is 0: it moves nothing"
    return Along(spec.column, spec.path, spec.op, base, ends[0], ends[1], lo, hi)


# ---------------------------------------------------------------------------------------------
# the curve in the run's folder
# ---------------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ours(folder: Path) -> dict[str, Any] | None:
    """The summary of a curve a stress run wrote into ``folder`` (None: no such folder, or
    one this module did not write: a user's files, another command's results)."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    data = _read_json(folder / "summary.json")
    if data is None or data.get("kind") != CURVE_KIND:
        return None
    stress = (data.get("provenance") or {}).get("stress")
    return data if isinstance(stress, dict) and stress.get("run_id") else None


def _free(folder: Path) -> str | None:
    """Make room for this run's curve at ``folder``: nothing there, or a curve an earlier
    stress run wrote (removed: a folder never mixes two curves); else why not."""
    if not folder.exists() and not folder.is_symlink():
        return None
    if _ours(folder) is None:
        return (f"{folder} holds files this run did not write: the exact curve is not written "
                "over them (move them away, or use another --out)")
    shutil.rmtree(folder)
    return None


def _reused(folder: Path, run_id: str, along: Along, kind: str) -> dict[str, Any] | None:
    """This run's entry for the curve already in ``folder`` (a resumed run that had finished
    it): the same run, input, range and objective. None: compute it again."""
    data = _ours(folder)
    if data is None:
        return None
    entry = dict((data.get("provenance") or {}).get("stress") or {})
    same = (entry.get("run_id") == run_id and data.get("input") == along.path
            and data.get("from") == along.lo and data.get("to") == along.hi
            and data.get("objective_kind") == kind and entry.get("input") == along.column)
    if not same:
        return None
    entry.pop("run_id", None)
    entry.update(seconds=0.0, reused=True, breakpoints=data.get("breakpoints") or [])
    return entry


def _holds_plan(cv: Any, lower: np.ndarray, integer: np.ndarray) -> bool | None:
    """Whether the curve holds the same integer decisions as the batch's scenarios (the plan
    at the instance's own values): the curve holds those optimal at the range's start."""
    if not cv.pieces or len(lower) != len(integer):
        return None
    x = cv.x_at(cv.lo)
    if len(x) != len(lower):
        return None
    return bool(np.array_equal(np.round(x[integer]), np.round(lower[integer])))


def _hold_at(along: Along) -> float | None:
    """The instance's own value of the input, where its plan is optimal, when the curve's
    range holds it (else the range's start: ``holds_plan`` then says whether it differs)."""
    base = along.base
    return base if base is not None and along.lo <= base <= along.hi else None


def _command(source: dict[str, Any], along: Along, objective: str | None,
             time_limit: float | None) -> str:
    """``hwbopt curve`` typed to give the same curve on its own."""
    where = shlex.quote(str(source.get("instance_source") or "INSTANCE"))
    words = [f"hwbopt curve {where}", f"--input {shlex.quote(along.path)}",
             f"--from {along.lo!r}", f"--to {along.hi!r}", "--mip-checks 0"]
    at = _hold_at(along)
    if at is not None:
        words.append(f"--hold-at {at!r}")
    if objective:
        words.append(f"--objective {objective}")
    if time_limit is not None:
        words.append(f"--time-limit {time_limit!r}")
    return " ".join(words)


def _influence(out: Path, stress: StressSet, meta: dict[str, Any]
               ) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The drawn inputs' rank correlations with the objective, and the columns of the run's
    results they come from (only the run's own parts, as the summary reads them)."""
    from hwbopt.batch import store

    columns = ["status", "objective", "cut_depth", *(INPUT + s.column for s in stress.inputs)]
    said = store.warn
    store.warn = lambda text: None  # the summary has warned of each part left out already
    try:
        frames = [store.frame_of(t) for t in store.good_parts(out, columns, meta=meta)]
    finally:
        store.warn = said
    if not frames:
        return [], pd.DataFrame(columns=columns)
    results = pd.concat(frames, ignore_index=True).sort_values("scenario", kind="stable")
    return input_influence(results), results.reset_index(drop=True)


def add_exact_curve(inst: Instance, out: str | Path, stress: StressSet, meta: dict[str, Any],
                    *, wanted: bool, lower: np.ndarray, integer: np.ndarray,
                    objective: str | None = None, time_limit: float | None = None,
                    source: dict[str, Any] | None = None, progress: bool = False
                    ) -> dict[str, Any]:
    """The summary keys ``dominant_input`` (the drawn input that dominates the objective, by
    its column; None), ``exact_curve`` (None, or what :data:`FILE` holds in brief) and
    ``exact_curve_reason`` (why there is none; None when there is one), for the finished
    run in ``out``: the curve along its dominant input is computed (``wanted``) into
    ``out/exact_curve`` in the ``hwbopt curve --out`` format, or reused from there when a
    resumed run had computed it already.

    ``lower`` and ``integer`` are the engine's column lower bounds and integer flags (the
    plan's integer decisions as every scenario holds them); ``meta`` is the run's record
    (``run.json``). A batch that does not hold the plan's integer decisions as the curve does
    (``mip``), or holds the first year (``hold_first_year``, a saved plan), has no exact
    curve: the curve would answer another question than the scenarios."""
    out = Path(out)
    folder = out / FOLDER
    run_id = str(meta.get("run_id") or "")
    influence, results = _influence(out, stress, meta)
    solved = int(results.status.isin(SOLVED).sum()) if "status" in results else 0
    column, why = dominant_input(influence, solved)

    def none(reason: str) -> dict[str, Any]:
        stale = _ours(folder)  # an earlier run's curve: gone, so it is never read as this one's
        if stale is not None and (stale.get("provenance") or {}).get("stress", {}).get(
                "run_id") != run_id:
            shutil.rmtree(folder)
        return {"dominant_input": column, "exact_curve": None, "exact_curve_reason": reason}

    if column is None:
        return none(why)
    if meta.get("mip"):
        return none(f"{why}; but the scenarios re-solve the plan's yes/no and whole-number "
                    "decisions (--mip), which the exact curve holds")
    if meta.get("hold_first_year") or meta.get("plan"):
        return none(f"{why}; but the scenarios hold the first year's figures, which the exact "
                    "curve moves")
    spec = next(s for s in stress.inputs if s.column == column)
    along = follow(inst, spec, pd.to_numeric(results[INPUT + column], errors="coerce")
                   .to_numpy(dtype=float), bool(stress.table))
    if isinstance(along, str):
        return none(f"{why}; but {along}")
    kind = str(objective or inst.settings.objective)
    entry = _reused(folder, run_id, along, kind)
    if entry is None and not wanted:
        return none(f"{why}; its exact curve was not asked for (--exact-curve adds it)")
    if entry is None:
        blocked = _free(folder)
        if blocked is not None:
            return none(f"{why}; but {blocked}")
        entry, failed = _computed(inst, folder, along, kind, run_id, lower, integer,
                                  objective, time_limit, source or {}, progress, influence,
                                  meta.get("base_objective"))
        if entry is None:
            return none(f"{why}; but {failed}")
    return {"dominant_input": column, "exact_curve": entry, "exact_curve_reason": None}


def _computed(inst: Instance, folder: Path, along: Along, kind: str, run_id: str,
              lower: np.ndarray, integer: np.ndarray, objective: str | None,
              time_limit: float | None, source: dict[str, Any], progress: bool,
              influence: list[dict[str, Any]], plan_objective: float | None
              ) -> tuple[dict[str, Any] | None, str]:
    """The curve written into ``folder`` and its entry in the run's summary; or None and
    why it cannot be had (the input moves more than limits, no plan at the range's start)."""
    from hwbopt.analyses.curve import curve, write_curve
    from hwbopt.progress import Indicator

    began = time.perf_counter()
    try:
        with Indicator(progress, f"exact curve along {along.column}"):
            # the decisions optimal at the instance's own value held: the plan the
            # scenarios hold, so the curve answers their question (holds_plan checks it)
            cv = curve(inst, along.path, along.lo, along.hi, objective=objective,
                       time_limit=time_limit, mip_checks=0, hold_at=_hold_at(along))
    except (UsageError, InstanceError) as exc:
        return None, f"the exact curve cannot follow it: {exc}"
    if not cv.pieces:
        return None, f"the exact curve has no plan: {cv.message}"
    rho = next(float(e["objective_correlation"]) for e in influence
               if e["input"] == along.column)
    # at the instance's own value the curve is the plan itself, when it holds the same
    # decisions: the two objectives side by side show whether it does, and by how much not
    end = cv.feasible_to if cv.feasible_to is not None else along.hi
    at_base = cv.objective_at(along.base) if along.base is not None and \
        along.lo <= along.base <= end else None
    entry: dict[str, Any] = {
        "input": along.column, "path": along.path, "op": along.op, "base_value": along.base,
        "from": along.lo, "to": along.hi, "drawn_from": along.drawn_lo,
        "drawn_to": along.drawn_hi, "objective_correlation": rho,
        "status": cv.status, "message": cv.message, "exact": bool(cv.exact),
        "affine": bool(cv.affine),
        "feasible_to": cv.feasible_to, "pieces": len(cv.pieces),
        "holds_plan": _holds_plan(cv, lower, integer), "objective_at_base": at_base,
        "plan_objective": plan_objective, "file": FILE, "reused": False,
        "command": _command(source, along, objective, time_limit),
    }
    cv.provenance.update(source)
    cv.provenance["stress"] = {**entry, "run_id": run_id}
    write_curve(cv, folder)
    entry["seconds"] = round(time.perf_counter() - began, 6)
    entry["breakpoints"] = [{"value": t, "objective": cv.objective_at(t)}
                            for t in cv.breakpoint_values]
    return entry, ""


__all__ = ["Along", "add_exact_curve", "dominant_input", "follow", "to_drawn"]
