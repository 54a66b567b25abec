"""A plan's tables, as ``hwbopt plan --out`` writes them and its report reads them.

Beside the hedged plan's own tables on the instance (``hwbopt solve --out``'s, from
:attr:`hwbopt.plan.PlanResult.result`), four tables of the plan over the scenarios:

- ``plan_scenarios``: per scenario, its probability, its input values (``input.<name>``), and
  its value under the hedged plan, the mean-value plan and its own optimum (``hedged``,
  ``deterministic``, ``own``; penalties of broken rules counted);
- ``plan_first_stage``: every first-stage decision of the hedged plan (decision, text, value);
- ``plan_differences``: where the hedged and mean-value plans differ;
- ``plan_elastic``: every rule the hedged plan breaks in a scenario, by how much.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from hwbopt.plan import PlanResult

PLAN_TABLES = ("plan_scenarios", "plan_first_stage", "plan_differences", "plan_elastic")
_COLUMNS = {
    "plan_first_stage": ["decision", "text", "value"],
    "plan_differences": ["decision", "text", "hedged", "deterministic", "needed_share"],
    "plan_elastic": ["scenario", "rule", "text", "amount"],
}


def plan_tables(res: PlanResult) -> dict[str, pd.DataFrame]:
    """The four plan tables of ``res`` (module docstring); empty with their columns when the
    run found no plan."""
    S = len(res.probability)
    frame: dict[str, object] = {"scenario": np.arange(S, dtype=np.int64),
                                "probability": res.probability}
    for k, name in enumerate(res.inputs):
        frame[f"input.{name}"] = res.values[:, k] if res.values.size else np.zeros(S)
    for col, f in (("hedged", res.f_hedged), ("deterministic", res.f_deterministic),
                   ("own", res.f_ws)):
        frame[col] = np.full(S, np.nan) if f is None else f
    out = {"plan_scenarios": pd.DataFrame(frame)}
    for name, rows in (("plan_first_stage", res.first_stage),
                       ("plan_differences", res.differs_from_deterministic),
                       ("plan_elastic", res.elastic)):
        out[name] = pd.DataFrame(rows, columns=_COLUMNS[name])
    return out
