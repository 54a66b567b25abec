"""What a stress batch says: percentiles, probabilities, binding rules, cut-response curves.

Everything here reads the batch's Parquet results (``hwbopt.batch.store``) and its
``run.json``, never the model, so a summary can be made again from a folder alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from hwbopt.status import Status

# a plan reported (the second: with the plan's integer decisions changed)
SOLVED = (Status.OPTIMAL, Status.PLAN_INFEASIBLE)
Curve = list[dict[str, Any]]
BINS = 10  # cut-depth bins for response curves (equal numbers of scenarios)
CUT_FIRST_LEVEL = 0.9  # an intervention is "cut" once it falls below 90% of the plan


def _valid(results: pd.DataFrame) -> pd.DataFrame:
    """Scenarios whose inputs were valid: solved, or shown infeasible."""
    return results[results.status.isin([*SOLVED, Status.INFEASIBLE])]


def _solved(results: pd.DataFrame) -> pd.DataFrame:
    return results[results.status.isin(SOLVED)]


def target_probability(results: pd.DataFrame, meta: dict[str, Any]
                       ) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]]]:
    """Share of valid scenarios meeting every year's target of each priority, and each year's.

    An infeasible scenario meets no target: the plan cannot be carried out in it.
    """
    valid = _valid(results)
    overall: dict[str, float | None] = {}
    by_year: dict[str, dict[str, float | None]] = {}
    for k in meta["priorities"]:
        cols = [c for c in valid.columns if c.startswith(f"met.{k}.")]
        if not cols or not len(valid):
            continue
        met = valid[cols].fillna(False).astype(bool)
        overall[k] = float(met.all(axis=1).mean())
        by_year[k] = {c.rsplit(".", 1)[1]: float(met[c].mean()) for c in cols}
    return overall, by_year


def _bins(depth: pd.Series) -> pd.Series:
    if depth.nunique() <= 1:
        return pd.Series(0, index=depth.index)
    return pd.qcut(depth.rank(method="first"), q=min(BINS, len(depth)), labels=False)


def cut_response(results: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Curve]:
    """Per priority, by cut depth (equal-count bins): probability of meeting every year's
    target, and the median outcome over the horizon."""
    valid = _valid(results)
    if not len(valid):
        return {}
    bins = _bins(valid.cut_depth)
    out: dict[str, Curve] = {}
    for k in meta["priorities"]:
        cols = [c for c in valid.columns if c.startswith(f"met.{k}.")]
        curve = []
        for _b, group in valid.groupby(bins, sort=True):
            met = group[cols].fillna(False).astype(bool).all(axis=1) if cols else None
            outcome = pd.to_numeric(group[f"outcome.{k}"], errors="coerce")
            curve.append({
                "cut_depth": float(group.cut_depth.median()),
                "cut_depth_from": float(group.cut_depth.min()),
                "cut_depth_to": float(group.cut_depth.max()),
                "scenarios": len(group),
                "probability_met": None if met is None else float(met.mean()),
                "outcome_p50": None if outcome.isna().all() else float(outcome.median()),
            })
        out[k] = curve
    return out


def cut_first(results: pd.DataFrame, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Interventions in the order they are cut as cuts deepen: the median cut depth bin at
    which each falls below 90% of its activity in the plan (never: last)."""
    solved = _solved(results)
    if not len(solved):
        return []
    bins = _bins(solved.cut_depth)
    depth = solved.groupby(bins, sort=True).cut_depth.median()
    rows = []
    for i, base in meta["base_activity"].items():
        col = f"activity.{i}"
        if base <= 0 or col not in solved:
            continue
        ratio = (pd.to_numeric(solved[col]) / base).groupby(bins, sort=True).median()
        below = ratio[ratio < CUT_FIRST_LEVEL]
        rows.append({
            "intervention": i,
            "cut_depth": float(depth[below.index[0]]) if len(below) else None,
            "activity_at_deepest": float(ratio.iloc[-1]),
            "activity_at_mildest": float(ratio.iloc[0]),
        })
    rows.sort(key=lambda r: (r["cut_depth"] is None, r["cut_depth"] or 0.0,
                             r["activity_at_deepest"]))
    return rows


# ---------------------------------------------------------------------------------------------
# response to each drawn input: cut depth in the terms the user drew (a council's cut of 20-40%),
# not only as the change in all partners' money together
# ---------------------------------------------------------------------------------------------

INPUT = "input."  # prefix of a drawn input's column in the results


def drawn_inputs(results: pd.DataFrame) -> list[str]:
    """The drawn inputs (column names without the prefix) whose value differs between the
    valid scenarios, in the run's order."""
    valid = _valid(results)
    return [c[len(INPUT):] for c in results.columns
            if c.startswith(INPUT) and pd.to_numeric(valid[c], errors="coerce").nunique() > 1]


def _rank_correlation(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rank correlation (Pearson's on ranks; 0 where either is constant)."""
    both = pd.concat([pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")],
                     axis=1).dropna()
    if len(both) < 3 or both.iloc[:, 0].nunique() < 2 or both.iloc[:, 1].nunique() < 2:
        return 0.0
    ranks = both.rank()
    return float(np.corrcoef(ranks.iloc[:, 0], ranks.iloc[:, 1])[0, 1])


def input_influence(results: pd.DataFrame) -> list[dict[str, Any]]:
    """Each drawn input's rank correlation with the objective over the solved scenarios and
    with the money lost (``cut_depth``) over the valid ones, the strongest on the objective
    first: which of the inputs the user drew move the plan most."""
    solved, valid = _solved(results), _valid(results)
    found = [(c, _rank_correlation(solved[INPUT + c], solved.objective) if len(solved) else 0.0,
              _rank_correlation(valid[INPUT + c], valid.cut_depth) if len(valid) else 0.0)
             for c in drawn_inputs(results)]
    found.sort(key=lambda r: -abs(r[1]))
    return [{"input": c, "objective_correlation": o, "cut_depth_correlation": d}
            for c, o, d in found]


def _groups(values: pd.Series) -> pd.Series:
    """Equal-count groups of an input's values (as :func:`_bins`), or one group per value for
    an input drawn from a few values (a site available or not)."""
    if values.nunique() <= 3:
        order = sorted(values.unique())
        return values.map({v: n for n, v in enumerate(order)})
    return _bins(values)


def input_response(results: pd.DataFrame, meta: dict[str, Any], column: str
                   ) -> dict[str, Curve]:
    """Per priority, by the drawn input ``column`` (equal-count groups of its value): the
    probability of meeting every year's target, the median outcome over the horizon and the
    median money lost in each group (``value`` is the input's median in the group)."""
    valid = _valid(results)
    if not len(valid):
        return {}
    values = pd.to_numeric(valid[INPUT + column], errors="coerce")
    groups = _groups(values)
    out: dict[str, Curve] = {}
    for k in meta["priorities"]:
        cols = [c for c in valid.columns if c.startswith(f"met.{k}.")]
        curve = []
        for _g, group in valid.groupby(groups, sort=True):
            v = values[group.index]
            met = group[cols].fillna(False).astype(bool).all(axis=1) if cols else None
            outcome = pd.to_numeric(group.get(f"outcome.{k}"), errors="coerce") \
                if f"outcome.{k}" in group else pd.Series(dtype=float)
            curve.append({
                "value": float(v.median()), "value_from": float(v.min()),
                "value_to": float(v.max()), "scenarios": len(group),
                "probability_met": None if met is None else float(met.mean()),
                "outcome_p50": None if outcome.isna().all() else float(outcome.median()),
                "cut_depth": float(group.cut_depth.median()),
            })
        out[k] = curve
    return out


def cut_first_by_input(results: pd.DataFrame, meta: dict[str, Any], column: str,
                       deeper_when_higher: bool) -> dict[str, float | None]:
    """Per intervention, the drawn input's value (median of its group) at which the service
    first falls below 90% of its activity in the plan, groups taken from the mildest value of
    the input to the deepest (None: never)."""
    solved = _solved(results)
    if not len(solved):
        return {}
    values = pd.to_numeric(solved[INPUT + column], errors="coerce")
    groups = _groups(values if deeper_when_higher else -values)
    median = values.groupby(groups, sort=True).median()
    out: dict[str, float | None] = {}
    for i, base in meta["base_activity"].items():
        col = f"activity.{i}"
        if base <= 0 or col not in solved:
            continue
        ratio = (pd.to_numeric(solved[col]) / base).groupby(groups, sort=True).median()
        below = ratio[ratio < CUT_FIRST_LEVEL]
        out[i] = float(median[below.index[0]]) if len(below) else None
    return out


def binding_counts(results: pd.DataFrame | pa.Table) -> tuple[dict[int, int], int]:
    """How many solved scenarios each reported row binds in, and how many were solved.

    From an Arrow table (a part as it is read) the lists are counted flat, in numpy: the
    county's 20,000 scenarios bind about 470 rows each, and a Python loop over them took
    about 4 s of a 28 s ``hwbopt stress``."""
    if isinstance(results, pd.DataFrame):
        results = pa.Table.from_pandas(results[["status", "binding"]], preserve_index=False)
    status = results.column("status").to_numpy(zero_copy_only=False)
    solved = np.isin(status.astype(str), [str(s.value) for s in SOLVED])
    lists = results.column("binding").combine_chunks()
    if isinstance(lists, pa.ChunkedArray) or pa.types.is_null(lists.type):
        # an empty table, or no scenario with a list (every cell None)
        lists = pa.array([[]] * len(results), type=pa.list_(pa.int32()))
    offsets = lists.offsets.to_numpy()
    lengths = np.diff(offsets)[solved] if len(offsets) else np.zeros(0, dtype=np.int64)
    if not len(offsets):
        return {}, int(solved.sum())
    values = lists.values.to_numpy(zero_copy_only=False).astype(np.int64)
    starts = offsets[:-1][solved]
    # the values of the solved scenarios' lists, each list as it was (a row twice in one
    # list counts twice, as the loop did)
    take = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) \
        + np.arange(int(lengths.sum()))
    rows, counts = np.unique(values[take], return_counts=True)
    return {int(r): int(c) for r, c in zip(rows, counts, strict=True)}, int(solved.sum())


def binding(counts: dict[int, int], solved: int, meta: dict[str, Any],
            top: int | None = 25) -> Curve:
    """How often each rule binds, among solved scenarios, most often first."""
    if not solved:
        return []
    names, texts = meta["binding_names"], meta.get("binding_texts", {})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = [{"rule": names.get(str(r), str(r)), "text": texts.get(str(r), ""),
            "share": c / solved} for r, c in ranked]
    return out[:top] if top else out


def plan_changes(results: pd.DataFrame, meta: dict[str, Any],
                 top: int | None = 25) -> Curve:
    """How often each of the plan's integer decisions had to change, among solved scenarios,
    most often first."""
    solved = _solved(results)
    if not len(solved) or "changed" not in solved:
        return []
    counts: dict[int, int] = {}
    for cols in solved.changed:
        for j in cols if cols is not None else ():
            counts[int(j)] = counts.get(int(j), 0) + 1
    names, texts = meta.get("decision_names", {}), meta.get("decision_texts", {})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = [{"decision": names.get(str(j), str(j)), "text": texts.get(str(j), ""),
            "share": c / len(solved)} for j, c in ranked]
    return out[:top] if top else out


def load_results(out: str | Path, meta: dict[str, Any] | None = None
                 ) -> tuple[pd.DataFrame, dict[int, int], int]:
    """A run's results without the per-scenario binding lists (counted as they are read), so
    memory grows with the number of scenarios only by a few numbers each. Only the run's own
    parts are read (:func:`hwbopt.batch.store.good_parts`)."""
    from hwbopt.batch.store import frame_of, good_parts

    frames: list[pd.DataFrame] = []
    counts: dict[int, int] = {}
    solved = 0
    for table in good_parts(out, meta=meta):
        c, n = binding_counts(table)
        part = frame_of(table.drop_columns(["binding"]))
        for r, k in c.items():
            counts[r] = counts.get(r, 0) + k
        solved += n
        keep = [col for col in part.columns
                if col != "binding" and not col.startswith("spend.")]
        frames.append(part[keep])
    if not frames:
        return pd.DataFrame(columns=["scenario", "status", "objective", "cut_depth", "warm",
                                     "cold_checked", "cold_mismatch"]), counts, solved
    frame = pd.concat(frames, ignore_index=True).sort_values("scenario", kind="stable")
    return frame.reset_index(drop=True), counts, solved


def summarise(out: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """The measures of ``hwbopt stress --json`` (without timing and run details)."""
    results, counts, n_solved = load_results(out, meta)
    status = results.status if len(results) else pd.Series(dtype=str)
    solved = results[status.isin(SOLVED)]
    obj = pd.to_numeric(solved.objective, errors="coerce").dropna().to_numpy()
    pct = {}
    if len(obj):
        p5, p50, p95 = np.percentile(obj, [5, 50, 95])
        pct = {"p5": float(p5), "p50": float(p50), "p95": float(p95),
               "mean": float(obj.mean()), "min": float(obj.min()), "max": float(obj.max())}
    overall, by_year = target_probability(results, meta)
    return {
        "finished": len(results),
        "solved": int(status.isin(SOLVED).sum()),
        "plan_infeasible": int((status == Status.PLAN_INFEASIBLE).sum()),
        "certified": int(results.certified.astype(bool).sum())
        if len(results) and "certified" in results else 0,
        "infeasible": int((status == Status.INFEASIBLE).sum()),
        "failed": int((~status.isin([*SOLVED, Status.INFEASIBLE])).sum()),
        "objective_percentiles": pct,
        "target_probability": overall,
        "target_probability_by_year": by_year,
        "binding": binding(counts, n_solved, meta),
        "plan_changes": plan_changes(results, meta),
        "cut_first": cut_first(results, meta),
        "cut_response": cut_response(results, meta),
        # answered by the engine's own walk from the scenario before (hwbopt.batch.walk)
        "walked": int(results.pivoted.astype(bool).sum())
        if len(results) and "pivoted" in results else 0,
        "cold_checked": int(results.cold_checked.sum()) if len(results) else 0,
        "cold_mismatches": int(results.cold_mismatch.sum()) if len(results) else 0,
        "resolved_cold": int((status.isin(SOLVED) & ~results.warm.astype(bool)).sum())
        if len(results) else 0,
        "base_objective": meta.get("base_objective"),
    }
