"""From an instance and a stress set to an :class:`EngineSpec`: the client's side of a batch.

The base plan is built, solved and checked through the normal pipeline; a mixed-integer plan's
integer decisions are then fixed (the fast LP path) unless ``mip`` asks for the full MIP per
scenario. Each stress input is resolved to the fields it varies, and tried at the edges of its
range: if any edge changes the model's structure (a need of zero drops rows, a savings rate of
zero drops a QIPP credit), the input is rejected with a located message instead of being
silently rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hwbopt import highs
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
from hwbopt.compile import Compiled, structure_key
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
from hwbopt.model.names import with_role
from hwbopt.pipeline import Built, build, solve_built
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


def pick_stress_set(inst: Instance, name: str | None) -> tuple[int, StressSet]:
    if not inst.stress:
        raise UsageError("the instance defines no stress sets: add one under 'stress' in "
                         "instance.yaml (see models/stress.md)")
    if name is None:
        if len(inst.stress) > 1:
            raise UsageError("the instance defines several stress sets: choose one with --set "
                             f"({', '.join(s.id for s in inst.stress)})")
        return 0, inst.stress[0]
    for k, s in enumerate(inst.stress):
        if s.id == name:
            return k, s
    raise UsageError(f"unknown stress set '{name}': expected one of "
                     f"{', '.join(s.id for s in inst.stress)}")


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
    """Every input at the edges of its range leaves the model's structure as it is."""
    want = pattern_key(base.compiled)
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


Basis = tuple[np.ndarray, np.ndarray]  # (column, row) basis status


def _basis(comp: Compiled, lower: np.ndarray, upper: np.ndarray,
           integer: bool) -> tuple[Basis | None, float]:
    """Solve the model as the engine will hold it; its basis (LP) and objective."""
    fixed = Compiled(**{**comp.__dict__, "col_lower": lower, "col_upper": upper,
                        "integer": comp.integer if integer else np.zeros_like(comp.integer),
                        "_cols": {}, "_rows": {}})
    h = highs.load(fixed, threads=1)
    raw = highs.run(h, is_mip=integer)
    if raw.status != Status.OPTIMAL or raw.objective is None:
        raise UsageError(f"the base plan with its integer decisions fixed does not solve "
                         f"({raw.status}); run hwbopt solve on the instance first")
    if integer:
        return None, raw.objective
    b = h.getBasis()
    cols = np.array([int(s) for s in b.col_status], dtype=np.int8)
    rows = np.array([int(s) for s in b.row_status], dtype=np.int8)
    return (cols, rows), raw.objective


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
) -> Prepared:
    built = build(inst, objective)
    base = solve_built(built, time_limit=time_limit, mip_gap=mip_gap)
    if base.status != "optimal" or base.objective is None:
        raise UsageError(f"the base plan is {base.status}: {base.message} — a stress batch "
                         "starts from an optimal plan")
    par = parametric(inst, stress, index, objective, built, hold_first_year)
    targets, lay, base_fields, prepared = par.targets, par.layout, par.fields, par.prepared
    comp, d = built.compiled, built.data

    x = np.asarray(base.solution)
    lower, upper = comp.col_lower.copy(), comp.col_upper.copy()
    is_mip = bool(comp.integer.any())
    if is_mip and not mip:
        plan = np.round(x[comp.integer])
        lower[comp.integer] = upper[comp.integer] = plan
    basis, fixed_objective = _basis(comp, lower, upper, integer=is_mip and mip)
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
    key = _spec_key(comp, stress, seed, mip, time_limit, hold_first_year)
    spec = EngineSpec(
        key=key, n_cols=comp.n_cols, n_rows=comp.n_rows, sense=comp.sense, c=comp.c,
        offset=comp.offset, constant=comp.constant, A_indptr=comp.A.indptr,
        A_indices=comp.A.indices,
        A_data=comp.A.data.astype(float), col_lower=lower, col_upper=upper,
        free_lower=comp.col_lower, free_upper=comp.col_upper, free_start=x,
        row_lower=comp.row_lower, row_upper=comp.row_upper, integer=comp.integer, mip=mip,
        basis=basis, start=x if mip else None, fields=base_fields, targets=targets,
        layout=lay, prepared=prepared, a_rows=a_rows,
        a_cols=a_cols, priorities=list(d.PRIORITIES), years=Y, response=response_of(d, comp),
        target_at=target_at,
        base_targets=np.array([t.target for t in inst.targets], dtype=float),
        partners=list(d.PARTNERS), spend=spend_of(d, comp), interventions=list(d.INTERVENTIONS),
        activity=activity, binding_rows=binding, base_available=base_available, seed=seed,
        time_limit=time_limit, mip_gap=d.mip_gap if mip_gap is None else mip_gap,
        known=par.known,
    )
    from hwbopt.words import quantity, rule

    names = {int(r): comp.row_name(int(r)) for r in binding}
    texts = {int(r): rule(d, comp.row_component[int(r)], comp.row_index[int(r)])
             for r in binding}
    decisions = np.flatnonzero(comp.integer) if is_mip and not mip else np.zeros(0, dtype=int)
    decision_names = {int(j): comp.col_name(int(j)) for j in decisions}
    decision_texts = {int(j): quantity(d, comp.col_component[int(j)], comp.col_index[int(j)])
                      for j in decisions}
    return Prepared(spec, built, base, names, texts, decision_names, decision_texts, stress,
                    index)


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
              time_limit: float | None, hold_first_year: bool) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(structure_key(comp).encode())
    for arr in (comp.col_lower, comp.col_upper, comp.row_lower, comp.row_upper, comp.c):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps([stress.model_dump(mode="json"), seed, mip, time_limit,
                         hold_first_year],
                        sort_keys=True).encode())
    return h.hexdigest()
