"""Both plans tested out of sample (``hwbopt plan --evaluate M``), and the hedged plan's
optimality gap estimated by the multiple-replication procedure (Mak, Morton & Wood 1999).

**Fresh futures.** M scenarios of the same stress set drawn from a seed stream of their own
(:func:`evaluation_seed`: scenario ``i`` is ``default_rng([i, evaluation_seed(seed)])``, so it
never repeats one the plan was chosen over), the first year held as the plan's. Each plan's
first stage is fixed and each future's recourse re-optimised (the same subproblems the plan
was solved with, rules elastic at the same prices): its value per future, their mean, and a
95% confidence interval ``mean ± t(0.975, M − 1)·sd/√M``.

**Optimality gap (MRP).** The first ``n_g·n`` fresh futures form ``n_g`` batches of ``n``
(``n`` the plan's own scenario count, fewer if M is short; ``n_g`` = :data:`BATCHES`, fewer if
M is short). For batch ``g``, the plan problem over its futures is solved (same method, risk
measure and gap): ``v_g`` is its proven bound (conservative: at least the batch's optimum),
and ``G_g = v_g − value of the hedged plan on the batch`` (mirrored for ``cost``) is never
negative up to the solver's gap. The estimate is the mean of ``G_g`` and its one-sided 95%
upper limit ``mean + t(0.95, n_g − 1)·sd/√n_g``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from hwbopt.plan import Risk
from hwbopt.plan.measures import gain, risk_value
from hwbopt.plan.recourse import Pool

Floats = npt.NDArray[np.float64]

# replications of the MRP: Mak, Morton & Wood use 10 to 30; each costs a plan solve
BATCHES = 10


def evaluation_seed(seed: int) -> int:
    """The seed of the fresh futures: a stream of its own, derived from the plan's seed (the
    same plan seed always gives the same fresh futures)."""
    return int(np.random.SeedSequence([int(seed), 0x0E7A1]).generate_state(1)[0])


def interval(values: Floats, level: float = 0.95) -> dict[str, float]:
    """Mean and two-sided ``level`` t-interval of equally likely values."""
    m = len(values)
    mean = float(np.mean(values))
    if m < 2:
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    half = float(stats.t.ppf(0.5 + level / 2, m - 1)) * float(np.std(values, ddof=1)) \
        / math.sqrt(m)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


@dataclass(frozen=True)
class Batch:
    """One MRP replication: the proven bound on the batch's own optimum and the hedged
    plan's value on it (both the risk measure, the instance's sense)."""

    bound: float
    hedged: float


def values_on(pool: Pool, z: Floats,
              value_of: Callable[[Floats], Floats]) -> tuple[Floats, Floats] | None:
    """Each future's value of the first stage ``z`` with its own recourse (``value_of``
    turns the plans, futures × columns, into values), and those plans; None if one could not
    be solved."""
    found = pool.fixed(z, exact=True)
    plans = [r.x for r in found if r.x is not None and r.value is not None]
    if len(plans) < len(found):
        return None
    x = np.vstack(plans)
    return value_of(x), x


def gap_estimate(batches: list[Batch], sense: int) -> dict[str, float]:
    """The MRP estimate and its one-sided 95% upper limit from the replications."""
    g = np.array([max(0.0, gain(b.bound, b.hedged, sense)) for b in batches])
    mean = float(g.mean())
    if len(g) < 2:
        return {"value": mean, "ci_high": mean}
    half = float(stats.t.ppf(0.95, len(g) - 1)) * float(np.std(g, ddof=1)) / math.sqrt(len(g))
    return {"value": mean, "ci_high": mean + half}


def batch_plan(m: int, plan_size: int) -> tuple[int, int]:
    """(replications, futures per replication) for M fresh futures."""
    n_g = max(2, min(BATCHES, m // 2))
    return n_g, max(1, min(plan_size, m // n_g))


def summary(m: int, seed: int, hedged: Floats, deterministic: Floats,
            batches: list[Batch], batch_size: int, sense: int, risk: Risk,
            p_equal: Floats) -> dict[str, Any]:
    """``out_of_sample`` of the JSON contract (plus how the estimate was made)."""
    return {
        "scenarios": m, "seed": seed,
        "hedged": {**interval(hedged),
                   "risk_value": risk_value(hedged, p_equal, risk, sense)},
        "deterministic": {**interval(deterministic),
                          "risk_value": risk_value(deterministic, p_equal, risk, sense)},
        "gap_estimate": {**gap_estimate(batches, sense), "batches": len(batches),
                         "batch_size": batch_size,
                         "replications": [{"bound": b.bound, "hedged": b.hedged}
                                          for b in batches]},
    }
