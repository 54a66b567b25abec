"""From an instance and a stress set to an :class:`EngineSpec`: the client's side of a batch.

The base plan is built, solved and checked through the normal pipeline; a mixed-integer plan's
integer decisions are then fixed (the fast LP path) unless ``mip`` asks for the full MIP per
scenario. Each stress input is resolved to the fields it varies, and tried at the edges of its
range: if any edge changes the model's structure (a need of zero drops rows, a savings rate of
zero drops a QIPP credit), the input is rejected with a located message instead of being
silently rebuilt.

With a saved plan (``hwbopt stress --plan DIR``, :func:`load_plan`) every first-stage column
(:func:`hwbopt.plan.stages.first_stage`) is fixed at the plan's value instead, the base plan is
the instance solved with them fixed, and the rest is re-optimised per scenario.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import scipy.sparse as sp

from hwbopt import highs
from hwbopt.batch import warm
from hwbopt.batch.engine import EngineSpec
from hwbopt.batch.inputs import StressError, Target, resolve_inputs
from hwbopt.batch.params import (
    Compiled1,
    ParametricModel,
    apply_inputs,
    evaluate,
    needs_share,
)
from hwbopt.batch.readback import response_of, spend_of
from hwbopt.batch.sample import extremes
from hwbopt.compile import Compiled, structure_key, with_bounds
from hwbopt.derived import (
    FEEDS,
    Derived,
    Layout,
    add_need_share,
    derive,
    derive_block,
    fields,
    layout,
)
from hwbopt.errors import InstanceError, Problem, UsageError
from hwbopt.model.component import STRESS_BINDING
from hwbopt.model.data import ModelData
from hwbopt.model.names import with_role
from hwbopt.pipeline import Built, build, result_from, solve_built
from hwbopt.results import Result
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change, Instance, StressSet
from hwbopt.status import Status
from hwbopt.validate import check_magnitudes

# rules whose binding a batch reports, per scenario
BINDING_FAMILIES = with_role(STRESS_BINDING)


@dataclass
class Prepared:
    spec: EngineSpec
    built: Built
    base: Result  # the base plan, as the normal pipeline reports it
    row_names: dict[int, str]  # names of the rows whose binding is reported
    row_texts: dict[int, str]  # the same rules in words
    decision_names: dict[int, str]  # the plan's integer decisions a scenario may change
    decision_texts: dict[int, str]
    stress: StressSet
    index: int  # the stress set's place in instance.yaml
    plan: SavedPlan | None = None  # the saved plan whose first stage every scenario holds


def pick_stress_set(inst: Instance, name: str | None) -> tuple[int, StressSet]:
    if not inst.stress:
        raise UsageError("the instance defines no stress sets: add one under 'stress' in "
                         "instance.yaml (see models/stress.md)")
    # without --set: the set settings.stress_set names, else the only one. Validation refuses
    # a default naming no set in the files; an instance whose sets were replaced in Python
    # (model_copy) may name one gone, and is then read as naming none
    default = inst.settings.stress_set
    if name is None and any(s.id == default for s in inst.stress):
        name = default
    if name is None:
        if len(inst.stress) > 1:
            raise UsageError("the instance defines several stress sets: choose one with --set "
                             f"({', '.join(s.id for s in inst.stress)}), or name a default "
                             "as settings.stress_set")
        return 0, inst.stress[0]
    for k, s in enumerate(inst.stress):
        if s.id == name:
            return k, s
    raise UsageError(f"unknown stress set '{name}': expected one of "
                     f"{', '.join(s.id for s in inst.stress)}")


# ---- a saved plan (hwbopt stress --plan DIR) ------------------------------------------------

PLAN_SUMMARY = "summary.json"
# how far a saved value may lie outside its column's bounds (the solver's tolerance; relative
# to the bound) and still be read as at the bound, or from a whole number for an integer
PLAN_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SavedPlan:
    """The first stage of a plan that ``hwbopt plan --out DIR`` saved (``DIR/summary.json``,
    key ``first_stage``), read and checked by :func:`load_plan`."""

    folder: Path
    values: dict[str, float]  # decision (the compiled model's column name) -> value
    place: dict[str, int]  # decision -> its position in first_stage, for messages
    objective: str | None  # the objective the plan was chosen for
    stress_set: str | None  # the stress set it was chosen over
    elsewhere: str | None = None  # the instance it was made on, when not this one

    @property
    def file(self) -> Path:
        return self.folder / PLAN_SUMMARY

    @property
    def digest(self) -> str:
        """sha256 of the first-stage values (decision by decision, in name order)."""
        text = json.dumps(sorted(self.values.items()), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def identity(self) -> dict[str, str]:
        """What ``run.json`` records of the plan (``--resume`` compares the hash)."""
        return {"path": str(self.folder), "sha256": self.digest}

    def where(self, name: str) -> str:
        return f"{name} (first_stage[{self.place[name]}] of {self.file})"

    def made_elsewhere(self) -> str:
        """A clause for messages: the plan was made on another instance (or "")."""
        return f"; the plan was made on another instance ({self.elsewhere})" \
            if self.elsewhere else ""


def load_plan(folder: str | Path, source: dict[str, Any] | None = None) -> SavedPlan:
    """The plan saved in ``folder`` (``hwbopt plan --out``), checked before any solve: a
    located :class:`UsageError` for a missing folder or summary, one another command wrote,
    unreadable JSON, or a first stage that is not a list of {decision, value} with finite
    values and no decision twice. ``source`` (the instance's files in provenance form,
    :func:`hwbopt.provenance.instance_provenance`) tells whether the plan was made on another
    instance (``elsewhere``); whether its decisions fit this instance's model is
    :func:`held_columns`'s to check."""
    folder = Path(folder)
    expected = "expected the folder `hwbopt plan --out` wrote"
    if not folder.exists():
        raise UsageError(f"--plan {folder}: no such folder ({expected})")
    if not folder.is_dir():
        raise UsageError(f"--plan {folder} is not a folder ({expected})")
    file = folder / PLAN_SUMMARY
    if not file.exists():
        raise UsageError(f"--plan {folder} holds no {PLAN_SUMMARY} ({expected})")
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"--plan {file}: cannot read it ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--plan {file} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--plan {file} is not a plan's summary (expected a JSON object)")
    kind = data.get("kind") or "solve"  # as hwbopt.outputs.result_owner reads a summary
    if kind != "plan":
        raise UsageError(f"--plan {file} holds the results of `hwbopt {kind}`, not of "
                         f"`hwbopt plan`: {expected}")
    rows = data.get("first_stage")
    if not isinstance(rows, list):
        raise UsageError(f"--plan {file} has no first_stage list: it is not a plan hwbopt "
                         "can test")
    if not rows:
        status, message = data.get("status"), data.get("message")
        raise UsageError(f"--plan {file} lists no first-stage decisions (the plan's status: "
                         f"{status}{': ' + str(message) if message else ''}): there is no "
                         "plan to test")
    values: dict[str, float] = {}
    place: dict[str, int] = {}
    for k, row in enumerate(rows):
        decision = row.get("decision") if isinstance(row, dict) else None
        if not isinstance(decision, str) or "value" not in row:
            raise UsageError(f"--plan {file}: first_stage[{k}] is not "
                             "{decision, text, value}")
        value = row["value"]
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            raise UsageError(f"--plan {file}: first_stage[{k}] ({decision}) has value "
                             f"{json.dumps(value)}, not a finite number")
        if decision in values:
            raise UsageError(f"--plan {file}: decision {decision} is listed twice in "
                             f"first_stage ([{place[decision]}] and [{k}])")
        values[decision], place[decision] = float(value), k
    options = (data.get("provenance") or {}).get("options") if \
        isinstance(data.get("provenance"), dict) else None
    objective = options.get("objective") if isinstance(options, dict) else None
    stress_set = data.get("stress_set")
    return SavedPlan(folder, values, place,
                     objective if isinstance(objective, str) else None,
                     stress_set if isinstance(stress_set, str) else None,
                     _elsewhere(data.get("provenance"), source))


def _elsewhere(made: Any, source: dict[str, Any] | None) -> str | None:
    """Where the plan was made, if its provenance names other instance files than
    ``source``'s (by their hash, as ``hwbopt.provenance`` records them); None if the same, or
    if either side does not say."""
    if not isinstance(made, dict) or source is None:
        return None
    sha, now = made.get("instance_sha256"), source.get("instance_sha256")
    if not isinstance(sha, str) or not sha or not now or sha == now:
        return None
    was = made.get("instance_source")
    was_text = str(was) if isinstance(was, str) and was else "an instance"
    here = source.get("instance_source")
    if isinstance(was, str) and was and isinstance(here, str) and \
            Path(was).resolve() == Path(here).resolve():
        return f"{was_text} as it was then: its files have changed since"
    return f"{was_text}, files hash {sha[:12]}…"


@dataclass(frozen=True)
class Held:
    """The compiled columns a saved plan fixes, and their values (integers rounded)."""

    mask: np.ndarray  # (columns,) bool: the instance's first-stage columns
    values: np.ndarray  # (columns,) the plan's value where ``mask``, else 0


def held_columns(plan: SavedPlan, comp: Compiled, d: ModelData) -> Held:
    """Each decision of ``plan`` as a first-stage column of ``comp`` (``d``: its model data),
    checked before any solve: every decision a column of this model and first stage here,
    every first-stage column of this model in the plan, whole numbers for integer columns
    (rounded) and values within the instance's own bounds (a value outside them by no more
    than the solver's tolerance is put on the bound)."""
    from hwbopt.plan.stages import FIRST_YEAR, first_stage, stage_of
    from hwbopt.words import quantity

    first = first_stage(comp, d.YEARS[0])
    names = [comp.col_name(j) for j in range(comp.n_cols)]
    column = {name: j for j, name in enumerate(names)}
    note = plan.made_elsewhere()

    def more(found: list[str]) -> str:
        return f" (and {len(found) - 1} more)" if len(found) > 1 else ""

    unknown = [name for name in plan.values if name not in column]
    if unknown:
        raise UsageError(f"--plan: decision {plan.where(unknown[0])} is not in this "
                         f"instance's model{more(unknown)}{note}")
    later = [name for name in plan.values if not first[column[name]]]
    if later:
        stage = stage_of(comp.col_component[column[later[0]]])
        why = "a year after the first" if stage == FIRST_YEAR else \
            "it adapts to each future: second stage"
        raise UsageError(f"--plan: decision {plan.where(later[0])} is not a first-stage "
                         f"decision of this instance ({why}){more(later)}{note}")
    missing = [names[j] for j in map(int, np.flatnonzero(first)) if names[j] not in plan.values]
    if missing:
        j = column[missing[0]]
        raise UsageError(f"--plan {plan.file} has no value for the first-stage decision "
                         f"{missing[0]} ({quantity(d, comp.col_component[j], comp.col_index[j])})"
                         f" of this instance{more(missing)}{note}")
    values = np.zeros(comp.n_cols)
    for name, value in plan.values.items():
        j = column[name]
        if comp.integer[j]:
            whole = round(value)
            if abs(value - whole) > PLAN_TOLERANCE:
                raise UsageError(f"--plan: decision {plan.where(name)} takes whole numbers; "
                                 f"the plan gives {value:g}")
            value = float(whole)
        lo, hi = float(comp.col_lower[j]), float(comp.col_upper[j])
        if value < lo - PLAN_TOLERANCE * max(1.0, abs(lo)) or \
                value > hi + PLAN_TOLERANCE * max(1.0, abs(hi)):
            words = quantity(d, comp.col_component[j], comp.col_index[j])
            raise UsageError(f"--plan {plan.folder}: the plan's commitments give no plan on "
                             f"the instance itself: {name} ({words}) is {value:,.6g}, outside "
                             f"its bounds here, {lo:,.6g} to {hi:,.6g}{note}")
        values[j] = min(max(value, lo), hi)
    return Held(first, values)


def _held_base(built: Built, plan: SavedPlan, held: Held, time_limit: float | None,
               mip_gap: float | None) -> Result:
    """The instance solved with the plan's first stage fixed, through the normal pipeline
    and its independent check: the base plan of a batch that tests a saved plan."""
    comp = built.compiled
    lower, upper = comp.col_lower.copy(), comp.col_upper.copy()
    lower[held.mask] = upper[held.mask] = held.values[held.mask]
    fixed = with_bounds(comp, col_lower=lower, col_upper=upper)
    gap = built.data.mip_gap if mip_gap is None else mip_gap
    raw = highs.solve_compiled(fixed, time_limit=time_limit, mip_gap=gap)
    base = result_from(built.data, fixed, raw, build_seconds=built.seconds,
                       time_limit=time_limit, mip_gap=gap)
    if base.status != Status.OPTIMAL or base.objective is None:
        other = built.data.objective
        chosen = f"; the plan was chosen for the objective {plan.objective}, this run's is " \
            f"{other}" if plan.objective not in (None, other) else ""
        raise UsageError(f"--plan {plan.folder}: the plan's commitments give no plan on the "
                         f"instance itself ({base.status}: {base.message or 'no plan'}); a "
                         f"stress batch starts from a plan{plan.made_elsewhere()}{chosen}")
    return base


def pattern_key(comp: Compiled) -> str:
    """Equal for two compiled models with the same rows, columns, sparsity and integrality."""
    h = hashlib.blake2b(digest_size=16)
    for arr in (np.asarray(comp.A.shape), comp.A.indptr, comp.A.indices, comp.integer):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update("\n".join(comp.row_component).encode())
    h.update("\n".join(comp.col_component).encode())
    return h.hexdigest()


def check_structure(inst: Instance, stress: StressSet, where: str, objective: str | None,
                    base: Built) -> None:
    """Every input at the edges of its range leaves the model's structure as it is. A check
    that passed before for the same instance, inputs and objective is not repeated
    (:func:`hwbopt.batch.warm.remembered`)."""
    want = pattern_key(base.compiled)
    key = _structure_check_key(inst, stress, objective, want)
    if warm.remembered(key):
        return
    table = np.asarray(stress.table_rows, dtype=float) if stress.table_rows else None
    problems = []
    for k, spec in enumerate(stress.inputs):
        column = table[:, k] if table is not None else None
        for value in extremes(spec, column):
            changes = [Change(path=p, **{spec.op: value}) for p in spec.targets]
            loc = f"{where}.inputs[{k}]"
            try:
                edge = apply_changes(inst, changes, loc, references=False)
            except InstanceError as exc:
                why = "; ".join(p.message for p in exc.problems[:2])
                problems.append(Problem("instance.yaml", None, loc, (
                    f"at {spec.op} {value:g} the instance breaks its own rules: {why}")))
                break
            unsafe = check_magnitudes(edge)
            if unsafe:
                problems.append(Problem("instance.yaml", None, loc, (
                    f"at {spec.op} {value:g} {unsafe[0].message} ({unsafe[0].file}"
                    + (f" row {unsafe[0].row}" if unsafe[0].row is not None else "")
                    + "): narrow the range")))
                break
            if pattern_key(build(edge, objective).compiled) != want:
                problems.append(Problem("instance.yaml", None, loc, (
                    f"at {spec.op} {value:g} the model changes its structure (rows or columns "
                    "appear or vanish, e.g. a need or savings rate of zero): the batch engine "
                    "changes numbers only; narrow the range or give the instance that "
                    "structure")))
                break
    if problems:
        raise StressError(problems, source=where)
    warm.remember(key)


def _structure_check_key(inst: Instance, stress: StressSet, objective: str | None,
                         pattern: str) -> str:
    from hwbopt import __version__
    from hwbopt.batch.store import instance_hash

    inputs = json.dumps([i.model_dump(mode="json") for i in stress.inputs], sort_keys=True)
    table = json.dumps(stress.table_rows) if stress.table_rows else ""
    text = "\n".join(["structure", __version__, instance_hash(inst), inputs, table,
                      str(objective), pattern])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Parametric:
    """A stress set's inputs as the compiled model's numbers: where each input goes
    (``targets``), the instance's figures it changes (``fields``, a block of one) on the
    model's grids (``layout``), and the entries of the compiled arrays the derived numbers
    reach (``prepared``, :meth:`hwbopt.batch.params.ParametricModel.prepare`)."""

    targets: list[Target]
    layout: Layout
    fields: dict[str, np.ndarray]
    prepared: dict[str, Compiled1]
    # the instance's own derived numbers when the first year is held at them
    # (:func:`hwbopt.derived.hold_first_year`), else None
    known: dict[str, np.ndarray] | None = None

    def entries(self, values: np.ndarray) -> tuple[Derived, dict[str, np.ndarray]]:
        """The derived numbers of a block of scenarios (``values``: scenarios × inputs) and
        the new value of every mapped entry of the compiled arrays, (scenarios, entries)
        per array."""
        derived = derive_block(apply_inputs(self.fields, self.targets, values), self.layout,
                               need_share=needs_share(self.prepared), known=self.known)
        return derived, evaluate(self.prepared, derived.values)


def parametric(inst: Instance, stress: StressSet, index: int, objective: str | None,
               built: Built, hold_first_year: bool = False) -> Parametric:
    """The parametric model of stress set ``index`` of ``inst`` over its built model: its
    inputs resolved (a located :class:`StressError` for one the engine cannot vary) and
    tried at the edges of their ranges (:func:`check_structure`). With ``hold_first_year``
    every scenario keeps the instance's first-year numbers
    (:func:`hwbopt.derived.hold_first_year`)."""
    where = f"stress[{index}]"
    targets = resolve_inputs(inst, stress.inputs, where)
    check_structure(inst, stress, where, objective, built)
    touched = {feed for t in targets for name, _ in t.leaves for feed in FEEDS[name]}
    lay, base_fields = layout(inst), fields(inst)
    base_derived = derive(base_fields, lay)
    add_need_share(base_derived.values, lay)
    prepared = ParametricModel(built.compiled, built.data, touched).prepare(base_derived.values)
    return Parametric(targets, lay, base_fields, prepared,
                      base_derived.values if hold_first_year else None)


Basis = highs.Basis


def _basis(comp: Compiled, lower: np.ndarray, upper: np.ndarray,
           integer: bool) -> tuple[Basis | None, float]:
    """Solve the model as the engine will hold it; its basis (LP) and objective."""
    fixed = Compiled(**{**comp.__dict__, "col_lower": lower, "col_upper": upper,
                        "integer": comp.integer if integer else np.zeros_like(comp.integer),
                        "_cols": {}, "_rows": {}})
    if integer:
        raw = highs.run(highs.load(fixed, threads=1), is_mip=True)
        basis = None
    else:  # warm from a kept basis, or by the method the size suits (hwbopt.batch.warm)
        raw, basis, _ = warm.solve_lp(fixed)
    if raw.status != Status.OPTIMAL or raw.objective is None:
        raise UsageError(f"the base plan with its integer decisions fixed does not solve "
                         f"({raw.status}); run hwbopt solve on the instance first")
    return basis, raw.objective


def _base_solved(base: Result) -> None:
    if base.status != "optimal" or base.objective is None:
        raise UsageError(f"the base plan is {base.status}: {base.message} — a stress batch "
                         "starts from an optimal plan")


T = TypeVar("T")


class Background(Generic[T]):
    """``fn()`` run in a daemon thread: a refused set-up (a bad input range) is reported at
    once, without waiting for the solve to end, and does not keep the process alive."""

    def __init__(self, fn: Callable[[], T]):
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hwbopt-base-solve",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def prepare(
    inst: Instance,
    stress: StressSet,
    index: int,
    *,
    seed: int,
    objective: str | None = None,
    mip: bool = False,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    hold_first_year: bool = False,
    plan: SavedPlan | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Prepared:
    """Build and solve the base plan and make the engine's spec.

    With ``plan`` (:func:`load_plan`) every first-stage column is fixed at the plan's value
    (checked against the model before any solve, :func:`held_columns`), the base plan is the
    instance solved with them fixed (a located :class:`UsageError` if that has no plan), and
    every scenario keeps the instance's first year (``hold_first_year``: the plan committed
    it knowing it). The integer columns left (second stage) are fixed at the base plan's
    values as without a plan, or free with ``mip``. ``on_step`` is told of each stage of the
    set-up as it starts, in words (a terminal's progress before the scenarios' bar)."""
    step = on_step or (lambda text: None)
    step("set-up: building the model")
    built = build(inst, objective)
    comp, d = built.compiled, built.data
    held = None
    basis: Basis | None = None
    if plan is None and not (comp.integer & (comp.col_lower < comp.col_upper)).any():
        # no integer decision is free (an LP, or every one fixed by its bounds): one LP solve
        # gives the plan and the scenarios' warm start. HiGHS releases the GIL while it
        # solves, so the inputs' ranges are tried meanwhile (on 100k: 16 s of model builds
        # beside a 22 s solve)
        solving = Background(lambda: warm.solve_lp(comp, time_limit))
        step("set-up: solving the base plan (HiGHS) and trying the inputs' ranges")
        par = parametric(inst, stress, index, objective, built, hold_first_year)
        raw, basis, _ = solving.result()
        base = result_from(d, comp, raw, build_seconds=built.seconds, time_limit=time_limit,
                           mip_gap=mip_gap)
    else:
        step("set-up: solving the base plan (HiGHS)")
        if plan is None:
            base = solve_built(built, time_limit=time_limit, mip_gap=mip_gap)
        else:
            hold_first_year = True
            held = held_columns(plan, comp, d)
            base = _held_base(built, plan, held, time_limit, mip_gap)
        _base_solved(base)
        step("set-up: compiling how the stress inputs reach the model")
        par = parametric(inst, stress, index, objective, built, hold_first_year)
    _base_solved(base)
    assert base.objective is not None  # _base_solved refuses a base plan without one
    targets, lay, base_fields, prepared = par.targets, par.layout, par.fields, par.prepared

    x = np.asarray(base.solution)
    lower, upper = comp.col_lower.copy(), comp.col_upper.copy()
    is_mip = bool(comp.integer.any())
    # the columns every scenario holds: the plan's integer decisions (unless mip) and, with a
    # saved plan, its first stage; the engine solves a MIP only if integers are left free
    fixed = comp.integer & (not mip)
    engine_mip = mip
    if held is not None:
        lower[held.mask] = upper[held.mask] = held.values[held.mask]
        fixed = fixed | held.mask
        engine_mip = mip and bool((comp.integer & ~fixed).any())
    if is_mip and not mip:
        rest = comp.integer if held is None else comp.integer & ~held.mask
        plan_int = np.round(x[rest])
        lower[rest] = upper[rest] = plan_int
    if basis is None:
        step("set-up: the base plan with its decisions held, the scenarios' warm start")
        basis, fixed_objective = _basis(comp, lower, upper, integer=is_mip and engine_mip)
    else:
        fixed_objective = base.objective
    if abs(fixed_objective - base.objective) > 1e-6 * max(1.0, abs(base.objective)):
        raise UsageError("the base plan with its integer decisions fixed solves to "
                         f"{fixed_objective:,.6g}, not the plan's {base.objective:,.6g}")

    a_rows = a_cols = np.zeros(0, dtype=np.int64)
    if "A" in prepared:
        pos = prepared["A"].position
        a_rows = comp.A.indices[pos].astype(np.int64)
        a_cols = (np.searchsorted(comp.A.indptr, pos, side="right") - 1).astype(np.int64)

    Y = list(d.YEARS)
    target_at = [(d.PRIORITIES.index(t.priority), Y.index(t.year), j)
                 for j, t in enumerate(inst.targets)]
    activity = _sum_matrix(comp, d.INTERVENTIONS, {"activity": 0})
    binding = np.array(sorted(r for name in BINDING_FAMILIES for r in comp.rows(name).values()),
                       dtype=np.int64)
    base_available = float(sum(m["available"] for m in d.money.values()))
    key = _spec_key(comp, stress, seed, mip, time_limit, hold_first_year, held)
    spec = EngineSpec(
        key=key, n_cols=comp.n_cols, n_rows=comp.n_rows, sense=comp.sense, c=comp.c,
        offset=comp.offset, constant=comp.constant, A_indptr=comp.A.indptr,
        A_indices=comp.A.indices,
        A_data=comp.A.data.astype(float), col_lower=lower, col_upper=upper,
        free_lower=comp.col_lower, free_upper=comp.col_upper, free_start=x,
        row_lower=comp.row_lower, row_upper=comp.row_upper, integer=comp.integer,
        mip=engine_mip, basis=basis, start=x if engine_mip else None, fields=base_fields,
        targets=targets,
        layout=lay, prepared=prepared, a_rows=a_rows,
        a_cols=a_cols, priorities=list(d.PRIORITIES), years=Y, response=response_of(d, comp),
        target_at=target_at,
        base_targets=np.array([t.target for t in inst.targets], dtype=float),
        partners=list(d.PARTNERS), spend=spend_of(d, comp), interventions=list(d.INTERVENTIONS),
        activity=activity, binding_rows=binding, base_available=base_available, seed=seed,
        time_limit=time_limit, mip_gap=d.mip_gap if mip_gap is None else mip_gap,
        known=par.known, fixed=None if held is None else fixed,
        clip=None if held is None else held.mask & _taken_away(comp),
    )
    from hwbopt.words import quantity, rule

    names = {int(r): comp.row_name(int(r)) for r in binding}
    texts = {int(r): rule(d, comp.row_component[int(r)], comp.row_index[int(r)])
             for r in binding}
    decisions = np.flatnonzero(comp.integer) if is_mip and not mip else np.zeros(0, dtype=int)
    if held is not None:
        decisions = np.flatnonzero(fixed)
    decision_names = {int(j): comp.col_name(int(j)) for j in decisions}
    decision_texts = {int(j): quantity(d, comp.col_component[int(j)], comp.col_index[int(j)])
                      for j in decisions}
    return Prepared(spec, built, base, names, texts, decision_names, decision_texts, stress,
                    index, plan)


def _sum_matrix(comp: Compiled, owners: Sequence[str],
                components: dict[str, int]) -> sp.csr_array:
    """(owner, column) = 1 where a column of ``components`` has the owner at that position."""
    at = {o: k for k, o in enumerate(owners)}
    rows, cols = [], []
    for name, pos in components.items():
        for idx, j in comp.cols(name).items():
            rows.append(at[idx[pos]])
            cols.append(j)
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(owners), comp.n_cols))


def _spec_key(comp: Compiled, stress: StressSet, seed: int, mip: bool,
              time_limit: float | None, hold_first_year: bool,
              held: Held | None = None) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(structure_key(comp).encode())
    for arr in (comp.col_lower, comp.col_upper, comp.row_lower, comp.row_upper, comp.c):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps([stress.model_dump(mode="json"), seed, mip, time_limit,
                         hold_first_year],
                        sort_keys=True).encode())
    if held is not None:  # a saved plan's first stage: which columns, at which values
        h.update(b"plan")
        h.update(np.ascontiguousarray(np.flatnonzero(held.mask)).tobytes())
        h.update(np.ascontiguousarray(held.values[held.mask]).tobytes())
    return h.hexdigest()


def _taken_away(comp: Compiled) -> np.ndarray:
    """Columns a future may take away from a saved plan (a lost site: closed by force)."""
    from hwbopt.plan.stages import taken_away_columns

    return taken_away_columns(comp)
