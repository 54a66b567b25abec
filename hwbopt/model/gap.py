"""The money gap: how far the status quo overspends, as columns on the compiled model.

See ``models/compare.md``. Component: ``money_gap``, added to the compiled arrays when
``compare`` evaluates today's activity under the cuts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from hwbopt.compile import Compiled, append_cols
from hwbopt.model.component import Component


def with_money_gap(comp: Compiled, weight: float,
                   rows_of: Sequence[str]) -> tuple[Compiled, list[int]]:
    """``comp`` plus a ``money_gap`` column on every row of the components ``rows_of`` (those
    declared where money may run out): money the rule would need on top of what it has,
    penalised by ``weight`` per unit. Returns the new model and the gap columns."""
    rows = [r for name in rows_of for r in comp.rows(name).values()]
    n = len(rows)
    cols = sp.csc_array((-np.ones(n), (np.array(rows, dtype=np.int64), np.arange(n))),
                        shape=(comp.n_rows, n))
    # the objective is sense * c: a gap always makes the plan worse
    cost = np.full(n, weight * comp.sense, dtype=float)
    # flat (rule, *its index), e.g. ("budget", "county", 2013): a name an LP file can carry
    indices = [(comp.row_component[r], *_as_tuple(comp.row_index[r])) for r in rows]
    first = comp.n_cols
    out = append_cols(comp, cols, cost, np.zeros(n), np.full(n, np.inf), "money_gap", indices)
    return out, list(range(first, first + n))


def _as_tuple(index: object) -> tuple[object, ...]:
    return index if isinstance(index, tuple) else (index,)


COMPONENTS = (
    Component("money_gap", "var", "compare.md",
              "money a rule would need on top of what it has (status quo)"),
)
