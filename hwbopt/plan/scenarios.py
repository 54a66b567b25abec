"""The scenarios a plan is chosen over: drawn from a stress set exactly as ``hwbopt stress``
draws them, each as the compiled model's numbers.

Scenario ``i`` is row ``i`` of :func:`hwbopt.batch.sample.draw` (indices ``0..S-1``, the set's
seed unless one is given), so ``hwbopt plan --scenarios S`` and ``hwbopt stress --scenarios S``
see the same futures. Each scenario's arrays come through the stress engine's parametric maps
(:class:`hwbopt.batch.setup.Parametric`): one build of the instance, then only the entries the
inputs reach change. The **mean-value scenario** has the probability-weighted mean of the drawn
input values (what a plan for "the average future" assumes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from hwbopt.batch.readback import Response, response_of
from hwbopt.batch.sample import draw
from hwbopt.batch.setup import Parametric, parametric, pick_stress_set
from hwbopt.compile import Compiled
from hwbopt.errors import UsageError
from hwbopt.pipeline import Built, build
from hwbopt.plan.stages import taken_away_columns
from hwbopt.scenarios import apply_changes
from hwbopt.schema import Change, Instance, StressSet

# scenarios drawn when none are asked for and the set is larger: the extensive form grows
# with every scenario, and a stress set's own count (often thousands) is sized for the batch
# engine, not for one MIP
DEFAULT_SCENARIOS = 50


@dataclass(frozen=True)
class Arrays:
    """The compiled model's numbers in a block of scenarios, one row per scenario; the
    structure (``comp.A``'s CSC pattern, integrality, names) is the instance's."""

    c: np.ndarray  # (S, columns)
    a_data: np.ndarray  # (S, nonzeros), in comp.A.data's order
    row_lower: np.ndarray  # (S, rows)
    row_upper: np.ndarray
    col_lower: np.ndarray  # (S, columns)
    col_upper: np.ndarray
    need: np.ndarray  # (S, offered × years): the need the response curves are read with
    target: np.ndarray  # (S, targets): each target's level
    # (S, columns) first-stage columns a scenario takes away (:func:`taken_away`): a plan's
    # value there is inert, and the scenario's own plan reads them as 0 (the site closed)
    taken: np.ndarray | None = None
    @property
    def size(self) -> int:
        return int(self.c.shape[0])

    def take(self, rows: Sequence[int] | np.ndarray) -> Arrays:
        """The scenarios ``rows`` of the block, in that order."""
        at = np.asarray(rows, dtype=np.int64)
        return Arrays(self.c[at], self.a_data[at], self.row_lower[at], self.row_upper[at],
                      self.col_lower[at], self.col_upper[at], self.need[at], self.target[at],
                      None if self.taken is None else self.taken[at])

    def effective(self, x: np.ndarray) -> np.ndarray:
        """Plans ``x`` (S × columns) as each scenario has them: a column it takes away is 0
        (a lost site is closed, whatever the plan committed)."""
        if self.taken is None:
            return x
        return np.where(self.taken, 0.0, x)

    def compiled(self, comp: Compiled, s: int) -> Compiled:
        """Scenario ``s`` as a compiled model of its own (the instance's structure)."""
        A = sp.csc_array((self.a_data[s], comp.A.indices, comp.A.indptr), shape=comp.A.shape)
        return replace(comp, c=self.c[s], A=A, row_lower=self.row_lower[s],
                       row_upper=self.row_upper[s], col_lower=self.col_lower[s],
                       col_upper=self.col_upper[s], _cols=comp._cols, _rows=comp._rows)


@dataclass(frozen=True)
class Scenarios:
    """A stress set's first ``size`` scenarios, their probabilities, and their numbers."""

    instance: Instance
    built: Built  # the instance built once: structure, names, the base numbers
    stress: StressSet  # with the seed and count used
    index: int  # the set's place in instance.yaml
    values: np.ndarray  # (S, inputs): each scenario's input values
    probability: np.ndarray  # (S,), summing to 1
    arrays: Arrays
    mean_values: np.ndarray  # (1, inputs): the mean-value scenario's inputs
    mean: Arrays  # the mean-value scenario (a block of one)
    response: Response  # outcomes from activity, as the stress engine reads them
    inputs: list[str]  # the set's inputs' names, one per column of ``values``

    @property
    def size(self) -> int:
        return int(self.probability.shape[0])

    @property
    def comp(self) -> Compiled:
        return self.built.compiled

    def instance_of(self, s: int) -> Instance:
        """Scenario ``s`` as an instance of its own (for the independent checker)."""
        return scenario_instance(self.instance, self.stress, self.values[s], self.index)


def scenario_instance(inst: Instance, stress: StressSet, values: np.ndarray,
                      index: int = 0) -> Instance:
    """The instance with one scenario's input values applied, as ``check_structure`` and
    the stress engine's tests build it."""
    changes = [Change(path=p, **{spec.op: float(v)})
               for spec, v in zip(stress.inputs, values, strict=True) for p in spec.targets]
    return apply_changes(inst, changes, f"stress[{index}]", references=False)


def chosen_set(inst: Instance, stress_set: str | None, scenarios: int | None,
               seed: int | None) -> tuple[int, StressSet]:
    """The stress set with the count and seed a plan uses (``UsageError`` for a count no
    set can give)."""
    k, stress = pick_stress_set(inst, stress_set)
    if scenarios is not None and scenarios < 1:
        raise UsageError("--scenarios must be at least 1")
    if stress.table_rows and scenarios is not None and scenarios > len(stress.table_rows):
        raise UsageError(f"stress set '{stress.id}' has a table of {len(stress.table_rows)} "
                         f"scenarios: --scenarios {scenarios} asks for more")
    n = min(stress.size, DEFAULT_SCENARIOS) if scenarios is None else scenarios
    update: dict[str, int] = {"samples": n}
    if seed is not None:
        update["seed"] = seed
    return k, stress.model_copy(update=update)


def draw_scenarios(inst: Instance, *, stress_set: str | None = None,
                   scenarios: int | None = None, seed: int | None = None,
                   objective: str | None = None, built: Built | None = None,
                   hold_first_year: bool = True) -> Scenarios:
    """The first ``scenarios`` scenarios of ``stress_set`` (default: the set's count, at most
    :data:`DEFAULT_SCENARIOS`), drawn with ``seed`` (default: the set's), as arrays. Every
    scenario keeps the instance's own first-year figures (``models/plan.md``: the first year
    is known when the plan commits it); ``hold_first_year=False`` lets the inputs reach the
    first year too, for studies of the extensive form itself."""
    k, stress = chosen_set(inst, stress_set, scenarios, seed)
    built = built or build(inst, objective)
    par = parametric(inst, stress, k, objective, built, hold_first_year=hold_first_year)
    values = draw(stress, np.arange(stress.size))
    try:
        probability = np.asarray(stress.probabilities(stress.size), dtype=float)
    except ValueError as exc:
        raise UsageError(f"stress set '{stress.id}': {exc}") from None
    mean_values = (probability @ values)[None, :]
    comp, year = built.compiled, built.data.YEARS[0]
    arrays = arrays_of(comp, par, values, stress.id)
    mean = arrays_of(comp, par, mean_values, stress.id, mean=True)
    return Scenarios(
        instance=inst, built=built, stress=stress, index=k, values=values,
        probability=probability, arrays=taken_away(comp, arrays, arrays, year),
        mean_values=mean_values, mean=taken_away(comp, mean, arrays, year),
        response=response_of(built.data, built.compiled),
        inputs=[t.column for t in par.targets])


def taken_away(comp: Compiled, arrays: Arrays, every: Arrays, first_year: int) -> Arrays:
    """``arrays`` with each :data:`TAKEN_AWAY` column a scenario forbids (upper bound 0 where
    some scenario of ``every`` allows it) made inert in that scenario: its entries in rows
    with second-stage columns and its cost are 0, and its bounds are the widest of ``every``.
    Rows of first-stage columns alone (a closed site stays closed) keep binding it."""
    cols = np.flatnonzero(taken_away_columns(comp))
    if not len(cols):
        return arrays
    widest = every.col_upper[:, cols].max(axis=0)
    lost = (arrays.col_upper[:, cols] <= 0) & (widest > 0)[None, :]
    if not lost.any():
        return arrays
    from hwbopt.plan.stages import first_stage

    first = first_stage(comp, first_year)
    rows = comp.A.indices.astype(np.int64)
    entry_col = np.repeat(np.arange(comp.n_cols), np.diff(comp.A.indptr))
    mixed = np.zeros(comp.n_rows, dtype=bool)
    mixed[rows[~first[entry_col]]] = True
    a, c = arrays.a_data.copy(), arrays.c.copy()
    lo, hi = arrays.col_lower.copy(), arrays.col_upper.copy()
    taken = np.zeros(c.shape, dtype=bool)
    taken[:, cols] = lost
    for k, j in enumerate(cols):
        at = np.flatnonzero(lost[:, k])
        if not len(at):
            continue
        entries = np.arange(comp.A.indptr[j], comp.A.indptr[j + 1])
        entries = entries[mixed[rows[entries]]]
        a[np.ix_(at, entries)] = 0.0
        c[at, j] = 0.0
        lo[at, j] = every.col_lower[:, j].min()
        hi[at, j] = widest[k]
    return replace(arrays, a_data=a, c=c, col_lower=lo, col_upper=hi, taken=taken)


def arrays_of(comp: Compiled, par: Parametric, values: np.ndarray, set_id: str,
              mean: bool = False) -> Arrays:
    """The compiled arrays of a block of scenarios: the instance's, with every entry the
    inputs reach replaced (``UsageError`` naming a scenario whose inputs break the
    instance's rules)."""
    derived, entries = par.entries(values)
    for s, why in enumerate(derived.invalid):
        if why is not None:
            which = "the mean of its scenarios" if mean else f"its scenario {s}"
            raise UsageError(f"stress set '{set_id}': {which} breaks the instance's rules "
                             f"({why}): narrow the ranges of its inputs")
    n = values.shape[0]
    out = {}
    base = {"c": comp.c, "A": comp.A.data.astype(float), "row_lower": comp.row_lower,
            "row_upper": comp.row_upper, "col_lower": comp.col_lower,
            "col_upper": comp.col_upper}
    for name, arr in base.items():
        block = np.repeat(np.asarray(arr, dtype=float)[None, :], n, axis=0)
        if name in par.prepared:
            block[:, par.prepared[name].position] = entries[name]
        out[name] = block
    return Arrays(c=out["c"], a_data=out["A"], row_lower=out["row_lower"],
                  row_upper=out["row_upper"], col_lower=out["col_lower"],
                  col_upper=out["col_upper"], need=derived.values["need"].reshape(n, -1),
                  target=derived.values["target"].reshape(n, -1))
